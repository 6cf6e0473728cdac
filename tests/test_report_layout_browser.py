"""Charts that read right, measured in Chromium: ratio axes without SI suffixes, nothing under plotly's toolbar,
category labels drawn whole (not clipped by the figure's edge, not under the axis title).

Uses the browser fixture of ``test_report_browser`` (Debian's chromium through playwright; skips without it
on a developer machine, fails in CI).
"""

from __future__ import annotations

import re

import numpy as np
from test_report_browser import browser, open_report  # noqa: F401  (the fixture)
from test_report_support import as_json, synthetic_run

import shortthehype as sth
from shortthehype.report import render, write_report

#: A tick label that ends in an SI prefix (500m, 2k, 1.5M ...).
SI_SUFFIX = re.compile(r"^-?[\d.,]+\s?[yzafpnµumkMGTPEZY]$")

RECTS = """(selector) => Array.from(document.querySelectorAll(selector)).map(el => {
    const r = el.getBoundingClientRect();
    return {x0: r.left, x1: r.right, y0: r.top, y1: r.bottom, text: el.textContent};
}).filter(r => r.x1 > r.x0 && r.y1 > r.y0)"""


def _overlap(a: dict, b: dict) -> bool:
    return a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5 and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5


def _rects(page, selector: str) -> list[dict]:
    return page.evaluate(RECTS, selector)


def _compare_document(tmp_path):
    """Two runs whose growth of 1 spans 0.2 to 5 (log scale, ratios below 1) and a third identical to the second."""
    low = as_json(synthetic_run(name="falls", seed=3).to_dict())
    high = as_json(synthetic_run(name="rises", seed=4).to_dict())
    for document, end in ((low, 0.2), (high, 5.0)):
        values = np.asarray(document["equity"]["values"], dtype=float)
        ramp = np.geomspace(1.0, end, len(values))
        document["equity"]["values"] = list(values[0] * ramp * (values / values[0]) ** 0.01)
    twin = as_json(high)
    twin["strategy"] = "rises-again"
    return {"type": "compare", "runs": [low, high, twin]}


def test_ratio_axes_have_no_si_suffix_and_identical_series_are_named(browser, tmp_path):  # noqa: F811
    document = _compare_document(tmp_path)
    path = tmp_path / "compare.html"
    write_report(document, path)
    page, errors, _, _ = open_report(browser, path)
    assert not errors, errors
    labels = [r["text"] for r in _rects(page, "#fig-growth .ytick text")]
    assert labels and not [t for t in labels if SI_SUFFIX.match(t.strip())], labels
    assert "0.5" in labels or "0.2" in labels  # the ratios below 1 are labelled as numbers
    assert "rises and rises-again have identical equity" in page.inner_text("body")
    page.close()


def _check_nothing_under_the_toolbar(page) -> None:
    figures = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => g.id)")
    assert figures
    for figure in figures:
        page.hover(f"#{figure} .nsewdrag", position={"x": 5, "y": 5})  # the toolbar shows on hover
        (bar,) = _rects(page, f"#{figure} .modebar")
        things = [*_rects(page, f"#{figure} .updatemenu-button"), *_rects(page, f"#{figure} .legendtext"),
                  *_rects(page, f"#{figure} .xtick text"), *_rects(page, f"#{figure} .x2tick text"),
                  *_rects(page, f"#{figure} .gtitle")]
        covered = [t["text"] for t in things if _overlap(bar, t)]
        assert not covered, (figure, covered)
        title = page.evaluate(f"() => document.getElementById('{figure}').closest('section, figure, div.figure')?.querySelector('h2, h3')?.getBoundingClientRect().bottom")
        if title is not None:
            assert title <= bar["y0"] + 0.5, figure  # the heading sits above the figure, never under its toolbar


def test_toolbar_covers_no_button_legend_or_header(browser, tmp_path, shared_prices_dir):  # noqa: F811
    run = sth.backtest("sixty-forty", source="csv", data_dir=shared_prices_dir)
    path = tmp_path / "backtest.html"
    path.write_text(render(as_json(run.to_dict()), "html"))
    page, errors, _, _ = open_report(browser, path)
    assert not errors, errors
    _check_nothing_under_the_toolbar(page)
    page.close()
    compare = tmp_path / "compare.html"
    write_report(_compare_document(tmp_path), compare)
    page, errors, _, _ = open_report(browser, compare)
    _check_nothing_under_the_toolbar(page)
    page.close()


def _inside(rect: dict, box: dict) -> bool:
    return rect["x0"] >= box["x0"] - 0.5 and rect["x1"] <= box["x1"] + 0.5 and rect["y0"] >= box["y0"] - 0.5 and rect["y1"] <= box["y1"] + 0.5


def test_category_labels_are_drawn_whole(browser, tmp_path, shared_prices_dir):  # noqa: F811
    entries = ["2021-01-04", "2023-01-03", "2024-01-02", "2025-11-03"]
    result = sth.sweep("burry-short", {"exposure": [0.4, 0.8], "entry": entries}, source="csv",
                       data_dir=shared_prices_dir, n_blocks=0, workers=1)
    sweep_path = tmp_path / "sweep.html"
    write_report(result.to_document(x="exposure", y="entry"), sweep_path)
    page, errors, _, _ = open_report(browser, sweep_path)
    assert not errors, errors
    (svg,) = _rects(page, "#fig-heatmap")
    labels = _rects(page, "#fig-heatmap .ytick text")
    assert sorted(r["text"] for r in labels) == entries
    assert all(_inside(r, svg) for r in labels), labels
    assert "1999-" not in page.inner_text("#sec-header") and "/" not in page.inner_text("#sec-header .kv td")
    page.close()

    walk = sth.walkforward("ma-crossover", {"fast": [10, 20], "slow": [50, 100]}, train="1y", test="6m", source="csv",
                           data_dir=shared_prices_dir, overrides={"start": "2010-01-04", "end": "2016-12-30"}, n_blocks=0,
                           workers=1)
    walk_path = tmp_path / "walk.html"
    write_report(walk.to_document(), walk_path)
    page, errors, _, _ = open_report(browser, walk_path)
    assert not errors, errors
    (svg,) = _rects(page, "#fig-insample")
    labels = _rects(page, "#fig-insample .xtick text")
    assert len(labels) == len(walk.windows) and all(re.fullmatch(r"\d+: \d{4}-\d{2}-\d{2}", r["text"]) for r in labels)
    assert all(_inside(r, svg) for r in labels), labels
    (title,) = _rects(page, "#fig-insample .xtitle")
    assert not [r["text"] for r in labels if _overlap(r, title)]
    page.close()


def test_sweep_report_names_per_bar_sharpe_and_writes_the_window_in_words(shared_prices_dir):
    result = sth.sweep("sixty-forty", {"rebalance": ["weekly", "monthly"]}, overrides={"end": "2008-12-31"}, source="csv",
                       data_dir=shared_prices_dir, n_blocks=0)
    text = render(result.to_document(), "html")
    assert "sharpe (per bar, not annualised)" in text
    dates, _, count = result.window.partition("/")
    first, _, last = dates.partition("..")
    assert f"{first} → {last} ({int(count):,} returns)" in text and result.window not in text
