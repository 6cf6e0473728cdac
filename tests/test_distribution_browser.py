"""Reports of distribution studies, bootstrap/factor sections and caveat banners, in a real browser (see test_report_browser)."""

from __future__ import annotations

import json

from test_report_browser import FIGURES_WITH_DATA, browser, open_report  # noqa: F401  (browser is a fixture)

from shortthehype.report import render


def test_entry_date_study_and_monte_carlo_reports_render(browser, tmp_path, shared_prices_dir):  # noqa: F811
    from shortthehype.montecarlo import montecarlo
    from shortthehype.studies import rolling

    studies = {
        "rolling": rolling("ma-crossover", every="3m", hold="1y", first="2015-01-02", source="csv", data_dir=shared_prices_dir),
        "montecarlo": montecarlo("dotcom-analog", paths=3, workers=1),
    }
    for name, study in studies.items():
        path = tmp_path / f"{name}.html"
        path.write_text(render(json.loads(json.dumps(study.to_document()))), encoding="utf-8")
        page, errors, dialogs, requests = open_report(browser, path)
        try:
            assert errors == [] and dialogs == [] and requests == [path.as_uri()]
            assert page.evaluate(FIGURES_WITH_DATA) == 2
            assert page.inner_text("#distribution").count("\n") >= 9  # header and nine statistics
            banner = page.query_selector("#sth-caveats")
            if name == "montecarlo":
                assert banner is not None and "SYNTHETIC" in banner.inner_text() and "ORACLE-TIMED" in banner.inner_text()
                first = page.evaluate("() => Array.from(document.querySelector('main').children).filter(c => c.id !== 'sth-status')[0].id")
                assert first == "sth-caveats"  # above everything (but the drawing-status line)
            else:
                assert banner is None
        finally:
            page.close()


def test_backtest_report_with_bootstrap_and_factors_renders(browser, tmp_path, shared_prices_dir, capsys):  # noqa: F811
    from shortthehype.cli import main

    path = tmp_path / "hedge.html"
    assert main(["backtest", "hype-hedge", "--vs", "buy-and-hold-qqq", "--samples", "200", "--source", "csv",
                 "--data-dir", str(shared_prices_dir), "--report", str(path)]) == 0
    capsys.readouterr()
    page, errors, _, _ = open_report(browser, path)
    try:
        assert errors == []
        assert "P(beats buy-and-hold-qqq)" in page.inner_text("#bootstrap")
        assert "tech spread (QQQ - SPY)" in page.inner_text("#factors")
    finally:
        page.close()
