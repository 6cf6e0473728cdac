"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) driven by playwright.

Checks that a 25-year daily backtest report is under 5 MB, opens offline
without console errors or network requests, draws every figure with data,
sorts its tables and toggles its log scale, and that a hostile ticker name
stays text.  The page's own load time (navigation start to the last figure
drawn) is recorded, not asserted: it is printed, stored as the test property
``report_load_ms`` and written with the screenshot to the artifacts directory
(``$SHORTTHEHYPE_ARTIFACTS``, default ``out/test-artifacts`` in the checkout).

Without Chromium or playwright the tests skip on a developer machine and
fail when ``CI`` is set (CI installs both: see the Makefile's ``test`` target).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from test_report_support import EVIL, as_json, synthetic_run

from shortthehype.report import render, report_document
from shortthehype.runner import backtest

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SHORTTHEHYPE_ARTIFACTS", REPO_ROOT / "out" / "test-artifacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A report this size or larger fails (the issue's budget for a 25-year daily backtest).
MAX_REPORT_BYTES = 5_000_000


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the browser test: apt-get install chromium; pip install playwright)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    executable = os.environ.get("SHORTTHEHYPE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        _unavailable("no chromium executable on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_report(browser, path: Path):
    """Open a report file; returns (page, console errors, dialogs, requests) once the page script has finished."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-render-ms]", timeout=30_000)
    return page, errors, dialogs, requests


FIGURES_WITH_DATA = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(
    g => g.data && g.data.some(t => ['x', 'y', 'z'].some(k => t[k] && t[k].length > 0))
      && g.querySelector('.main-svg') !== null).length"""


@pytest.fixture(scope="module")
def long_report(shared_prices_dir, tmp_path_factory):
    """A 27-year daily long/short backtest (QQQ 1999-2026) with borrow, interest, trades: its HTML file."""
    run = backtest(
        "ma-crossover",
        overrides={"direction": "longshort", "borrow_fee": "0.01", "cash_rate": "0.02"},
        source="csv",
        data_dir=shared_prices_dir,
    )
    document = report_document(run, source="csv", data_dir=shared_prices_dir)
    path = tmp_path_factory.mktemp("browser") / "ma_crossover_27y.html"
    path.write_text(render(document), encoding="utf-8")
    return document, path


def test_long_report_renders_offline_in_chromium(browser, long_report, record_property):
    document, path = long_report
    years = (len(document["equity"]["dates"]) - 1) / 252
    size = path.stat().st_size
    assert years >= 25
    assert size < MAX_REPORT_BYTES, f"{size:,} bytes"
    page, errors, dialogs, requests = open_report(browser, path)
    try:
        assert errors == [] and dialogs == []
        assert requests == [path.as_uri()]  # nothing fetched: plotly.js and the data are in the file
        expected = len(json.loads(page.inner_text("#sth-figures"))["figures"])
        assert expected == 6
        assert page.get_attribute("body", "data-figures-rendered") == str(expected)
        assert page.evaluate(FIGURES_WITH_DATA) == expected
        load_ms = int(page.get_attribute("body", "data-render-ms"))
        record_property("report_load_ms", load_ms)
        record_property("report_bytes", size)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_browser_ma_crossover_27y.png"), full_page=True)
        (ARTIFACTS / "report_browser_load.json").write_text(
            json.dumps({"bars": len(document["equity"]["dates"]), "years": round(years, 1), "bytes": size, "load_ms": load_ms})
        )
        print(f"\n27-year report: {size:,} bytes, figures drawn {load_ms} ms after navigation start")
        assert (ARTIFACTS / "report_browser_ma_crossover_27y.png").stat().st_size > 100_000
    finally:
        page.close()


def test_tables_sort_and_the_log_scale_toggles(browser, long_report):
    _, path = long_report
    page, errors, _, _ = open_report(browser, path)
    try:
        pnl = "#trades thead th:nth-child(8)"
        values = "() => Array.from(document.querySelectorAll('#trades tbody tr td:nth-child(8)')).map(td => Number(td.dataset.value))"
        page.click(pnl)
        ascending = page.evaluate(values)
        assert ascending == sorted(ascending) and len(ascending) > 10
        assert page.get_attribute(pnl, "aria-sort") == "ascending"
        page.click(pnl)
        assert page.evaluate(values) == sorted(ascending, reverse=True)
        axis_type = "() => document.getElementById('fig-equity').layout.yaxis.type"
        assert page.evaluate(axis_type) == "log"  # 27 years of compounding open on a log scale
        page.locator("#fig-equity .updatemenu-button", has_text="Linear").click()
        page.wait_for_function(f"({axis_type})() === 'linear'")
        page.locator("#fig-equity .updatemenu-button", has_text="Log").click()
        page.wait_for_function(f"({axis_type})() === 'log'")
        assert errors == []
    finally:
        page.close()


def test_hostile_names_stay_text_in_the_browser(browser, tmp_path):
    ticker = EVIL.upper()
    document = as_json(synthetic_run(weights={ticker: 0.6, "BBB": -0.3}, name=EVIL, n_bars=400).to_dict())
    document["description"] = EVIL
    path = tmp_path / "evil.html"
    path.write_text(render(document), encoding="utf-8")
    page, errors, dialogs, _ = open_report(browser, path)
    try:
        assert dialogs == [] and errors == []
        assert page.inner_text("h1").startswith(EVIL)
        assert page.inner_text("p.description") == EVIL
        assert page.evaluate("() => document.querySelectorAll('body script').length") == 3  # ours; plotly's goes to head
        legend = page.evaluate("() => Array.from(document.querySelectorAll('#fig-equity .legendtext')).map(n => n.textContent)")
        assert EVIL in legend
        assert page.get_attribute("body", "data-figures-rendered") == "6"
    finally:
        page.close()
