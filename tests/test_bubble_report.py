"""``shortthehype bubble --report``: the HTML, Markdown and PNG reports of the LPPLS confidence indicators.

The numbers a report shows are checked against the library call
(:func:`shortthehype.lppls.confidence_indicator` on the same closes and
settings) and against the ``--json`` document of the same run; the shaded
threshold runs against hand computations; the degenerate indicators (no
window fitted, all zero, no qualified fit, no evaluation date) must render
in every format.  A browser test (headless Chromium, skipped without it
outside CI, like ``test_report_browser``) checks that the figures draw.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from test_report_browser import FIGURES_WITH_DATA, browser, open_report  # noqa: F401  (browser: the fixture, shared)
from test_report_support import EVIL

import shortthehype.cli.bubble_cmd  # noqa: F401  (registers `bubble`)
from shortthehype.bubble import indicator_document
import shortthehype.cli.report_cmd  # noqa: F401  (registers `report`)
from shortthehype.cli import main
from shortthehype.baskets import AI_BASKET
from shortthehype.constants import BUBBLE_THRESHOLD
from shortthehype.errors import DataError, ParamError
from shortthehype.lppls import LPPLSFilters, LPPLSSearch, confidence_indicator, lppls_windows
from shortthehype.report import format_from_suffix, render, write_atomically, write_png, write_pngs
from shortthehype.report.bubble_view import bubble_figures, bubble_view, reproduce_command, threshold_runs

#: A short, coarse run: 16 evaluations x 4 windows fit in about a second.  The filters are loosened so that the
#: indicator takes several values (0, 25 %, ... 100 %) and some evaluations have no qualified fit (tc null).
START, END = "2023-06-01", "2024-08-30"
WINDOWS = (125, 200, 25)
STEP = 20
FILTERS = {"oscillations_min": 0.0, "damping_min": 0.0, "rel_err_max": 0.2, "omega": (2.0, 25.0), "m": (0.01, 1.2)}
FILTER_ARGS = ["--filter", "oscillations_min=0", "--filter", "damping_min=0", "--filter", "rel_err_max=0.2",
               "--filter", "omega=2,25", "--filter", "m=0.01,1.2"]
RUN_ARGS = ["--start", START, "--end", END, "--windows", "125:200:25", "--step", str(STEP), *FILTER_ARGS]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Cells(HTMLParser):
    """Every table cell (tag, attributes, text) by table id, header key-value rows, and script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[tuple[str, dict, str]]]] = {}
        self.kv: dict[str, str] = {}
        self.scripts: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self._table: list[str] = []
        self._cell: tuple[str, dict] | None = None
        self._script: dict | None = None
        self._code: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table.append(attrs.get("id") or attrs.get("class") or "")
            self.tables.setdefault(self._table[-1], [])
        elif tag == "tr" and self._table:
            self.tables[self._table[-1]].append([])
        elif tag in ("td", "th") and self._table:
            self._cell, self._text = (tag, attrs), []
        elif tag == "script":
            self._script, self._text = attrs, []
        elif tag == "code" and attrs.get("id"):
            self._code, self._text = attrs["id"], []

    def handle_endtag(self, tag):
        text = "".join(self._text)
        if tag == "table" and self._table:
            self._table.pop()
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table[-1]][-1].append((self._cell[0], self._cell[1], text))
            self._cell = None
        elif tag == "script" and self._script is not None:
            self.scripts[self._script.get("id", "page")] = text
            self._script = None
        elif tag == "code" and self._code is not None:
            self.codes[self._code] = text
            self._code = None

    def handle_data(self, data):
        self._text.append(data)

    def rows(self, table: str) -> list[list[tuple[str, dict, str]]]:
        return [row for row in self.tables[table] if row and row[0][0] == "td" or (row and row[0][1].get("scope") == "row")]

    def key_values(self, table: str = "kv") -> dict[str, str]:
        return {row[0][2]: row[1][2] for row in self.tables.get(table, []) if len(row) == 2}


def parse(text: str) -> Cells:
    page = Cells()
    page.feed(text)
    page.close()
    return page


def payload(text: str) -> dict:
    return json.loads(parse(text).scripts["sth-figures"])


def decode(array) -> np.ndarray:
    assert array["dtype"] == "f8"
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype="<f8")


def nullable(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def day(value) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


# ---- the CLI on the real IXIC closes ------------------------------------------------------------


@pytest.fixture(scope="module")
def ixic(shared_prices_dir, tmp_path_factory):
    """One ``bubble IXIC --json --report`` run, and the library's indicator for the same closes and settings."""
    from shortthehype.data.load import load_prices

    out = tmp_path_factory.mktemp("bubble")
    code = main(["bubble", "IXIC", "--source", "csv", "--data-dir", str(shared_prices_dir), *RUN_ARGS,
                 "--json", str(out / "ixic.json"), "--report", str(out / "ixic.html")])
    assert code == 0
    close = load_prices("IXIC", end=END, source="csv", data_dir=shared_prices_dir).close["IXIC"].dropna()
    frame = confidence_indicator(close, windows=lppls_windows(*WINDOWS), start=START, end=END, step=STEP,
                                 filters=LPPLSFilters(**FILTERS))
    assert (frame["bubble"] > 0).any() and (frame["bubble"] == 0).any() and frame["bubble_tc"].isna().any(), (
        "the fixture needs an indicator that is zero on some dates and positive on others")
    document = json.loads((out / "ixic.json").read_text())
    return {"dir": out, "html": (out / "ixic.html").read_text(encoding="utf-8"), "document": document, "frame": frame,
            "close": close}


def test_html_report_is_self_contained(ixic):
    text = ixic["html"]
    assert text.startswith("<!DOCTYPE html>") and len(text.encode()) < 5_000_000
    outside = re.sub(r'(<script type="application/octet-stream" id="sth-plotly">)[^<]*', r"\1", text)
    assert "http://" not in outside and "https://" not in outside
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", outside)
    assert text.lower().count("<script") == 3  # figure data, embedded plotly, page script


def test_evaluations_table_equals_the_library_and_the_json(ixic):
    frame, document = ixic["frame"], ixic["document"]
    rows = parse(ixic["html"]).rows("evaluations")
    assert len(rows) == len(frame) == len(document["dates"])
    for row, (date, expected), json_index in zip(rows, frame.iterrows(), range(len(frame))):
        cells = [(attrs.get("data-value"), text) for _, attrs, text in row]
        assert cells[0][0] == f"{date:%Y-%m-%d}" == document["dates"][json_index]
        for position, column in ((1, "price"), (2, "bubble"), (3, "antibubble"), (4, "n_fits")):
            assert float(cells[position][0]) == expected[column] == document[column][json_index]  # exact: repr round-trips
        assert cells[2][1] == f"{expected['bubble'] * 100:.1f}%"
        for position, column in ((5, "bubble_tc"), (6, "antibubble_tc")):
            assert (cells[position][0] or None) == day(expected[column]) == document[column][json_index]


def test_latest_and_peak_rows(ixic):
    frame = ixic["frame"]
    rows = {row[0][2]: row for row in parse(ixic["html"]).rows("latest")}
    latest = {attrs.get("data-key"): (attrs.get("data-value"), text) for _, attrs, text in rows["latest"][1:]}
    last = frame.iloc[-1]
    assert rows["latest"][1][2] == f"{frame.index[-1]:%Y-%m-%d}"
    assert float(latest["latest.bubble"][0]) == last["bubble"] and float(latest["latest.price"][0]) == last["price"]
    assert latest["latest.bubble_tc"][1] == (day(last["bubble_tc"]) or "—")
    peak = frame.index[int(np.argmax(frame["bubble"].to_numpy()))]  # the first of the highest values
    assert rows["peak bubble"][1][2] == f"{peak:%Y-%m-%d}"
    if not (frame["antibubble"] > 0).any():
        assert rows["peak anti-bubble"][1][2] == "never above 0"


def test_figures_carry_the_indicator_exactly(ixic):
    frame, document, close = ixic["frame"], ixic["document"], ixic["close"]
    data = payload(ixic["html"])
    figures = {f["id"]: f for f in data["figures"]}
    assert list(figures) == ["fig-indicator", "fig-tc"]
    assert data["refs"]["dates"] == document["dates"]
    history = close.loc[frame.index[0] : frame.index[-1]]
    assert data["refs"]["history"] == [f"{d:%Y-%m-%d}" for d in history.index]  # every trading day, not only evaluations
    price, bubble, anti = figures["fig-indicator"]["data"]
    np.testing.assert_array_equal(decode(price["y"]), history.to_numpy())
    np.testing.assert_array_equal(decode(bubble["y"]), frame["bubble"].to_numpy())
    np.testing.assert_array_equal(decode(anti["y"]), nullable(document["antibubble"]))
    assert bubble["yaxis"] == anti["yaxis"] == "y2"
    layout = figures["fig-indicator"]["layout"]
    assert layout["yaxis"]["type"] == "log" and layout["yaxis2"]["range"] == [0, 1] and layout["yaxis2"]["overlaying"] == "y"
    bands = [s for s in layout["shapes"] if s["type"] == "rect"]
    runs = threshold_runs(frame.index, frame["bubble"].to_numpy(), BUBBLE_THRESHOLD)
    runs += threshold_runs(frame.index, frame["antibubble"].to_numpy(), BUBBLE_THRESHOLD)
    assert [(s["x0"], s["x1"]) for s in bands] == [(f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}") for a, b in runs if a != b]
    assert any(s["yref"] == "y2" and s["y0"] == BUBBLE_THRESHOLD for s in layout["shapes"])  # the threshold line
    reference, tc_bubble, tc_anti = figures["fig-tc"]["data"]
    assert reference["x"] == reference["y"] == {"$ref": "dates"}
    assert tc_bubble["y"] == document["bubble_tc"] == [day(v) for v in frame["bubble_tc"]]
    assert tc_anti["y"] == document["antibubble_tc"]
    assert figures["fig-tc"]["layout"]["yaxis"]["type"] == "date"


def test_every_figure_is_a_valid_plotly_figure(ixic):
    import plotly.graph_objects as go

    from shortthehype.report.figures import resolve

    data = payload(ixic["html"])
    for spec in data["figures"]:
        figure = resolve(spec, data["refs"])
        go.Figure(data=figure["data"], layout=figure["layout"])  # raises on an invalid property


def test_header_lists_every_setting(ixic):
    document = ixic["document"]
    page = parse(ixic["html"])
    header = page.key_values()
    assert header["Series"] == "IXIC" and header["Data source"] == "csv"
    assert header["Windows"] == "125:200:25 bars (4 nested windows)"
    assert header["Evaluation range"].startswith(f"{document['dates'][0]} → {END} ({len(document['dates'])} evaluations, every 20 bars")
    assert header["Thresholds"] == f"bubble ≥ {BUBBLE_THRESHOLD * 100:.1f}%, anti-bubble ≥ {BUBBLE_THRESHOLD * 100:.1f}%"
    assert header["Engine version"] == f"shortthehype {document['version']}" and header["Computed"] == document["generated_at"]
    settings = {row[0][2]: row[1][2] for row in page.tables["kv settings"]}  # filters, then search settings
    filters = {row[0][2]: row[1][2] for row in page.tables["kv settings"][: len(document["filters"])]}
    assert filters == {"m": "0.01, 1.2", "omega": "2.0, 25.0", "tc": "-0.05, 0.1", "oscillations_min": "0.0",
                       "damping_min": "0.0", "rel_err_max": "0.2"}
    for key, value in document["search"].items():
        assert key in settings
    assert "How to read this" in ixic["html"] and "not a forecast" in ixic["html"]


def test_reproduce_command_recomputes_the_same_document(ixic, capsys, shared_prices_dir):
    command = parse(ixic["html"]).codes["reproduce"]
    args = command.split()
    assert args[:3] == ["shortthehype", "bubble", "IXIC"]
    code, out, err = run_cli(capsys, *args[1:], "--data-dir", str(shared_prices_dir), "--json", "-")
    assert code == 0, err
    again = json.loads(out)
    for key in ("dates", "bubble", "antibubble", "n_fits", "bubble_tc", "antibubble_tc", "filters", "windows", "step"):
        assert again[key] == ixic["document"][key], key


def test_report_command_renders_the_json_to_the_same_bytes(ixic, capsys):
    out = ixic["dir"]
    code, stdout, err = run_cli(capsys, "report", str(out / "ixic.json"), "-o", str(out / "again.html"))
    assert code == 0, err
    assert (out / "again.html").read_text(encoding="utf-8") == ixic["html"]  # the report is a function of the JSON


def test_png_and_markdown_variants(capsys, tmp_path, shared_prices_dir, ixic):
    data = ["--source", "csv", "--data-dir", str(shared_prices_dir)]
    code, out, err = run_cli(capsys, "bubble", "IXIC", *data, *RUN_ARGS, "--report", str(tmp_path / "b.png"))
    assert code == 0, err
    assert f"wrote {tmp_path / 'b.png'}" in out
    png = (tmp_path / "b.png").read_bytes()
    assert png[:8] == PNG_SIGNATURE and int.from_bytes(png[16:20], "big") == 1320
    code, out, err = run_cli(capsys, "bubble", "IXIC", *data, *RUN_ARGS, "--json", "-", "--report", str(tmp_path / "b.md"))
    assert code == 0, err
    assert json.loads(out)["dates"] == ixic["document"]["dates"]  # stdout stays pure JSON ...
    assert f"wrote {tmp_path / 'b.md'}" in err  # ... the path goes to stderr
    text = (tmp_path / "b.md").read_text()
    frame = ixic["frame"]
    last = frame.iloc[-1]
    assert text.startswith("# LPPLS bubble indicator: IXIC\n")
    assert (f"| latest | {frame.index[-1]:%Y-%m-%d} | {last['price']:,.2f} | {last['bubble'] * 100:.1f}% | "
            f"{last['antibubble'] * 100:.1f}% | {int(last['n_fits'])} |") in text
    assert "| rel\\_err\\_max | 0.2 |" in text or "| rel_err_max | 0.2 |" in text
    assert "## How to read this" in text


def test_ai_basket_report_lists_its_members(capsys, tmp_path, shared_prices_dir):
    # the members' whole history is loaded (and validated): AMD's real +52 % day on 2016-04-22 is in the document,
    # but the terminal warns only about the span the fits used (2024), never with Python's warning format
    code, out, err = run_cli(
        capsys, "bubble", "ai-basket", "--source", "csv", "--data-dir", str(shared_prices_dir), "--start", "2024-11-01",
        "--end", "2024-12-31", "--windows", "125:150:25", "--step", "40", "--report", str(tmp_path / "ai.html"),
        "--json", str(tmp_path / "ai.json"),
    )
    assert code == 0, err
    document = json.loads((tmp_path / "ai.json").read_text())
    assert any("AMD 2016-04-22" in w for w in document["warnings"])
    assert "AMD 2016-04-22" not in out + err and "DataWarning" not in err
    first_dates = {}
    for ticker in AI_BASKET:  # read the CSVs directly: the first date with a close
        raw = pd.read_csv(shared_prices_dir / f"{ticker}.csv")
        first_dates[ticker] = str(raw.loc[raw["close"].notna(), "date"].iloc[0])[:10]
    assert document["members"] == first_dates
    header = parse((tmp_path / "ai.html").read_text()).key_values()
    assert header["Series"] == "AI basket (ai-basket)"
    assert header["Members"] == "equal-weight, daily-rebalanced index of 10: " + ", ".join(
        f"{t} (from {d})" for t, d in first_dates.items())
    assert "<h1>LPPLS bubble indicator: AI basket</h1>" in (tmp_path / "ai.html").read_text()


@pytest.mark.parametrize(
    "report, message",
    [
        ("{tmp}/out.txt", "--report {tmp}/out.txt: suffix '.txt'; the format comes from the suffix: .html, .htm, .md, .markdown, .png"),
        ("{tmp}/out", "--report {tmp}/out: no suffix; the format comes from the suffix"),
        ("-", "--report - : the report is a file"),
        ("{tmp}/missing/out.html", "--report {tmp}/missing/out.html: the directory {tmp}/missing does not exist"),
        ("{tmp}/adir.html", "--report {tmp}/adir.html: is a directory"),
    ],
)
def test_report_option_errors_come_first_and_name_the_option(capsys, tmp_path, shared_prices_dir, report, message):
    (tmp_path / "adir.html").mkdir()
    # an unknown ticker too: the --report check must come before the (long) load and fits
    code, out, err = run_cli(capsys, "bubble", "NOPE", "--source", "csv", "--data-dir", str(shared_prices_dir),
                             "--report", report.format(tmp=tmp_path))
    assert code == 1
    assert err.replace("\n", "").startswith("error: " + message.format(tmp=tmp_path))
    assert err.strip().count("\n") == 0


def test_format_from_suffix():
    assert [format_from_suffix(p) for p in ("a.html", "a.HTM", "a.md", "a.markdown", "b.PNG")] == ["html", "html", "md", "md", "png"]
    with pytest.raises(ParamError, match=r"^-o x\.png: suffix '\.png'; the format comes from the suffix: \.html, \.htm$"):
        format_from_suffix("x.png", option="-o", formats=("html",))


# ---- degenerate indicators ----------------------------------------------------------------------


def hand_document(bubble, antibubble, n_fits, bubble_tc=None, antibubble_tc=None, **extra) -> dict:
    """A bubble document from a hand-made indicator frame (what ``bubble --json`` writes for it)."""
    n = len(bubble)
    index = pd.bdate_range("2024-01-02", periods=n, name="date")
    frame = pd.DataFrame(
        {
            "price": 100.0 + np.arange(n, dtype=float),
            "bubble": bubble,
            "antibubble": antibubble,
            "n_fits": n_fits,
            "bubble_tc": pd.to_datetime(pd.Series(bubble_tc or [None] * n, dtype=object)).to_numpy(),
            "antibubble_tc": pd.to_datetime(pd.Series(antibubble_tc or [None] * n, dtype=object)).to_numpy(),
        },
        index=index,
    )
    history = pd.Series(100.0 + np.arange(n, dtype=float), index=index)
    document = indicator_document(
        extra.pop("name", "TEST"), frame, [125, 150], 1, LPPLSFilters(), LPPLSSearch(), source="csv", history=history,
        generated_at="2024-01-31T00:00:00Z", **extra,
    )
    return json.loads(json.dumps(document))


DEGENERATE = {
    "no window fitted": hand_document([np.nan] * 4, [np.nan] * 4, [0] * 4),
    "all zero": hand_document([0.0] * 4, [0.0] * 4, [2] * 4),
    "no evaluation": hand_document([], [], []),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
def test_degenerate_indicators_render_in_every_format(case, tmp_path):
    document = DEGENERATE[case]
    text = render(document)
    page = parse(text)
    if case == "no evaluation":
        assert "No evaluation date in the range." in text and payload(text)["figures"] == []
        assert page.key_values()["Evaluation range"] == "no evaluation date in the range"
    else:
        figures = payload(text)["figures"]
        assert [f["id"] for f in figures] == ["fig-indicator"]  # no tc figure without a qualified fit ...
        assert "No qualified fit on any evaluation date" in text  # ... but a sentence in its place
        assert not [s for s in figures[0]["layout"]["shapes"] if s["type"] == "rect"]  # nothing shaded
        assert "Bubble indicator never at or above 10.0%" in text
        rows = {row[0][2]: row for row in page.rows("latest")}
        assert rows["peak bubble"][1][2] == rows["peak anti-bubble"][1][2] == "never above 0"
        shown = [cells[2][2] for cells in page.rows("evaluations")]
        assert shown == (["—"] * 4 if case == "no window fitted" else ["0.0%"] * 4)
        assert all(cells[2][1]["data-value"] == ("" if case == "no window fitted" else "0.0") for cells in page.rows("evaluations"))
    markdown = render(document, "md")
    assert markdown.startswith("# LPPLS bubble indicator: TEST")
    assert ("No evaluation date in the range." in markdown) == (case == "no evaluation")
    path = write_png(document, tmp_path / "d.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert [p.name for p in write_pngs(document, tmp_path / "figs")] == ["bubble.png"]


def test_no_window_fitted_through_the_cli(capsys, tmp_path, shared_prices_dir):
    """PLTR's first months: no history of 125 bars yet, so no fit, NaN indicators, null JSON values."""
    code, out, err = run_cli(
        capsys, "bubble", "PLTR", "--source", "csv", "--data-dir", str(shared_prices_dir), "--start", "2020-10-01",
        "--end", "2020-12-31", "--windows", "125:150:25", "--step", "10", "--json", str(tmp_path / "p.json"),
        "--report", str(tmp_path / "p.html"),
    )
    assert code == 0, err
    document = json.loads((tmp_path / "p.json").read_text())
    assert set(document["n_fits"]) == {0} and set(document["bubble"]) == {None}
    text = (tmp_path / "p.html").read_text()
    assert [f["id"] for f in payload(text)["figures"]] == ["fig-indicator"]
    assert np.isnan(decode(payload(text)["figures"][0]["data"][1]["y"])).all()


# ---- derived values ----------------------------------------------------------------------------


def test_threshold_runs_by_hand():
    dates = pd.bdate_range("2024-01-01", periods=7)
    values = [0.05, 0.1, 0.3, np.nan, 0.2, 0.09, 0.2]
    # at or above 0.1: positions 1-2 (until the next evaluation, 3), 4 (until 5), 6 (the last: a single date)
    assert threshold_runs(dates, values, 0.1) == [(dates[1], dates[3]), (dates[4], dates[5]), (dates[6], dates[6])]
    assert threshold_runs(dates, values, 0.5) == []
    assert threshold_runs(dates[:0], [], 0.1) == []
    assert threshold_runs(dates[:2], [1.0, 1.0], 1.0) == [(dates[0], dates[1])]


def test_single_date_runs_are_lines_and_threshold_lines_are_drawn():
    document = hand_document([0.0, 0.0, 0.5], [0.2, 0.0, 0.0], [2, 2, 2],
                             bubble_tc=[None, None, "2024-02-01"], antibubble_tc=["2024-01-20", None, None],
                             thresholds={"bubble": 0.4, "antibubble": 0.15})
    view = bubble_view(document)
    figures, refs = bubble_figures(view)
    shapes = figures[0].layout["shapes"]
    assert {"type": "line", "x0": "2024-01-04", "x1": "2024-01-04"}.items() <= shapes[0].items()  # bubble: last date only
    assert {"type": "rect", "x0": "2024-01-02", "x1": "2024-01-03"}.items() <= shapes[1].items()  # anti-bubble: first date
    assert sorted(s["y0"] for s in shapes if s.get("yref") == "y2") == [0.15, 0.4]
    assert [f.key for f in figures] == ["indicator", "tc"]
    markdown = render(document, "md")
    assert "- Bubble indicator at or above 40.0%: 2024-01-04" in markdown
    assert "- Anti-bubble indicator at or above 15.0%: 2024-01-02 → 2024-01-03" in markdown


def test_documents_are_validated_with_one_line_errors():
    document = hand_document([0.0, 0.0], [0.0, 0.0], [1, 1])
    broken = dict(document, bubble=[0.0])
    with pytest.raises(DataError, match=r"^b\.json: bubble must be a list of 2 values aligned with dates, got 1 values$"):
        render(broken, where="b.json")
    with pytest.raises(DataError, match=r"^b\.json: not a bubble indicator document: the key 'n_fits' is missing$"):
        render({k: v for k, v in document.items() if k != "n_fits"}, where="b.json")
    with pytest.raises(DataError, match=r"^b\.json: thresholds\.bubble must be a number in \(0, 1\], got 2$"):
        render(dict(document, thresholds={"bubble": 2}), where="b.json")
    with pytest.raises(DataError, match=r"^b\.json: bubble_tc must hold YYYY-MM-DD dates or nulls"):
        render(dict(document, bubble_tc=["soon", None]), where="b.json")
    with pytest.raises(ParamError, match=r"x\.png: only the bubble indicator has a one-file PNG report"):
        write_png({"type": "sweep"}, "x.png")
    older = {k: v for k, v in document.items() if k not in ("type", "history", "thresholds", "members", "generated_at")}
    assert "LPPLS bubble indicator: TEST" in render(older)  # documents written before the report still render


def test_reproduce_command_only_when_the_cli_can_recompute():
    document = hand_document([0.0, 0.0], [0.0, 0.0], [1, 1])
    assert reproduce_command(bubble_view(document)) == (
        "shortthehype bubble TEST --source csv --start 2024-01-02 --end 2024-01-03 --windows 125:150:25 --step 1 "
        "--filter m=0.1,0.9 --filter omega=6.0,13.0 --filter tc=-0.05,0.1 --filter oscillations_min=2.5 "
        "--filter damping_min=0.8 --filter rel_err_max=0.05"
    )
    other_search = dict(document, search=dict(document["search"], seed=7))
    assert reproduce_command(bubble_view(other_search)) is None  # the command has no option for the search


def test_long_evaluation_tables_keep_the_latest_rows(monkeypatch):
    import shortthehype.report.bubble_view as bv

    monkeypatch.setattr(bv, "REPORT_MAX_TABLE_ROWS", 2)
    document = hand_document([0.0, 0.1, 0.2], [0.0, 0.0, 0.0], [1, 1, 1])
    text = render(document)
    assert [cells[0][2] for cells in parse(text).rows("evaluations")] == ["2024-01-03", "2024-01-04"]
    assert "showing the latest 2 of 3 evaluations; the JSON has all" in text
    assert payload(text)["refs"]["dates"] == document["dates"]  # the figures keep every evaluation


# ---- escaping ---------------------------------------------------------------------------------


def test_hostile_strings_stay_text(capsys, tmp_path, ixic):
    """Tickers are validated by the loaders, but a JSON file can say anything: `report` must escape it all."""
    document = dict(ixic["document"], series=EVIL, source=EVIL, warnings=[EVIL], members={EVIL: "2020-01-02"})
    (tmp_path / "evil.json").write_text(json.dumps(document))
    code, out, err = run_cli(capsys, "report", str(tmp_path / "evil.json"), "-o", str(tmp_path / "evil.html"))
    assert code == 0, err
    text = (tmp_path / "evil.html").read_text()
    assert EVIL not in text and text.lower().count("<script") == 3
    page = parse(text)
    header = page.key_values()
    assert header["Series"] == EVIL and header["Data source"] == EVIL and EVIL in header["Members"]
    assert EVIL in page.codes["reproduce"]  # shown as text (shell-quoted)
    names = [t.get("name") for f in payload(text)["figures"] for t in f["data"]]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in names  # plotly reads entities as text
    markdown = render(document, "md")
    fence = re.search(r"^(`{3,})\n.*?\n\1$", markdown, flags=re.M | re.S)
    outside_code = markdown.replace(fence.group(0), "") if fence else markdown
    assert EVIL not in outside_code and "<" not in outside_code.replace("&lt;", "")


# ---- atomic writes ----------------------------------------------------------------------------


def test_write_atomically_replaces_whole_files_only(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    write_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask

    def half_then_fail(handle):
        handle.write(b"half a rep")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomically(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "new ✓"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no temporary file left behind
    with pytest.raises(ParamError, match=r"^--report .*nowhere/r\.md: the directory .*nowhere does not exist"):
        write_atomically(tmp_path / "nowhere" / "r.md", "x", option="--report")


# ---- the browser -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["ixic", "no window fitted"])
def test_report_draws_in_chromium(browser, ixic, tmp_path, case):
    """Headless Chromium opens the page offline, with no console error, and draws every figure with data."""
    if case == "ixic":
        path, expected = ixic["dir"] / "ixic.html", 2
    else:
        path, expected = tmp_path / "nothing.html", 1
        path.write_text(render(DEGENERATE[case]), encoding="utf-8")
    page, errors, dialogs, requests = open_report(browser, path)
    try:
        assert errors == [] and dialogs == []
        assert requests == [path.as_uri()]  # nothing fetched
        assert page.get_attribute("body", "data-figures-rendered") == str(expected)
        assert page.evaluate(FIGURES_WITH_DATA) == expected
        assert page.evaluate("() => document.getElementById('fig-indicator').layout.yaxis2.range") == [0, 1]
        assert page.evaluate("() => document.getElementById('fig-indicator').layout.yaxis.type") == "log"
    finally:
        page.close()
