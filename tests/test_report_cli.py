"""``shortthehype report`` and ``backtest --report/--png/--format`` through the CLI entry point."""

from __future__ import annotations

import json

import pytest

import shortthehype.cli.report_cmd  # noqa: F401  (registers `report`; cli/commands.py imports it too)
from shortthehype.cli import main

WINDOW = ["--start", "2020-01-02", "--end", "2021-12-31"]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def data(shared_prices_dir):
    return ["--source", "csv", "--data-dir", str(shared_prices_dir)]


def test_backtest_report_equals_report_from_its_json(capsys, tmp_path, data):
    code, out, err = run_cli(
        capsys, "backtest", "static-hype-hedge", *data, *WINDOW, "--json", str(tmp_path / "r.json"),
        "--report", str(tmp_path / "direct.html"), "--png", str(tmp_path / "png"),
    )
    assert code == 0, err
    assert f"wrote {tmp_path / 'direct.html'}" in out.replace("\n", "") and "PNG figure(s)" in out
    code, out, err = run_cli(capsys, "report", str(tmp_path / "r.json"), "-o", str(tmp_path / "again.html"))
    assert code == 0, err
    direct = (tmp_path / "direct.html").read_bytes()
    assert direct == (tmp_path / "again.html").read_bytes()  # the report is made from the JSON, both ways
    assert direct.startswith(b"<!DOCTYPE html>") and len(direct) < 5_000_000
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "costs.png", "drawdown.png", "equity.png", "exposure.png", "monthly_returns.png", "rolling.png"]
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["type"] == "backtest" and len(document["cumulative_costs"]["borrow"]) == len(document["equity"]["dates"])


def test_report_defaults_and_markdown(capsys, tmp_path, data):
    assert run_cli(capsys, "backtest", "sixty-forty", *data, *WINDOW, "--json", str(tmp_path / "a.json"))[0] == 0
    code, out, err = run_cli(capsys, "report", str(tmp_path / "a.json"))
    assert code == 0 and (tmp_path / "a.html").exists(), err  # default: next to the result
    code, out, err = run_cli(capsys, "report", str(tmp_path / "a.json"), "-o", "-", "--format", "md")
    assert code == 0 and out.startswith("# sixty-forty: backtest report") and "| Sharpe ratio |" in out
    code, out, err = run_cli(capsys, "report", str(tmp_path / "a.json"), "-o", str(tmp_path / "a.md"))
    assert code == 0 and (tmp_path / "a.md").read_text() == render_md(tmp_path / "a.json")


def render_md(path) -> str:
    from shortthehype.report import render

    return render(json.loads(path.read_text()), "md")


def test_backtest_format_md_prints_markdown_instead_of_the_table(capsys, data):
    code, out, err = run_cli(capsys, "backtest", "sixty-forty", *data, *WINDOW, "--format", "md")
    assert code == 0, err
    assert out.startswith("# sixty-forty: backtest report") and "┃" not in out  # no rich table


def test_several_results_make_a_comparison(capsys, tmp_path, data):
    for name in ("sixty-forty", "buy-and-hold-qqq"):
        assert run_cli(capsys, "backtest", name, *data, *WINDOW, "--json", str(tmp_path / f"{name}.json"))[0] == 0
    code, out, err = run_cli(
        capsys, "report", str(tmp_path / "sixty-forty.json"), str(tmp_path / "buy-and-hold-qqq.json"),
        "-o", str(tmp_path / "cmp.html"), "--png", str(tmp_path / "cmp"),
    )
    assert code == 0, err
    text = (tmp_path / "cmp.html").read_text()
    assert "Comparison of 2 strategies" in text and 'id="fig-growth"' in text
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["drawdown.png", "growth.png", "rolling_sharpe.png"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "{tmp}/missing.json"], "error: {tmp}/missing.json: no such result file"),
        (["report", "{tmp}/bad.json"], "error: {tmp}/bad.json: not a JSON result file"),
        (["report", "{tmp}/sweep.json"], "error: {tmp}/sweep.json: not a sweep result: the key 'objective' is missing"),
        (["report", "{tmp}/sweep.json", "--format", "pdf"], "error: unknown report format 'pdf': expected one of html, md"),
        (["backtest", "sixty-forty", "--format", "html"], "error: --format html writes a file: add --report PATH"),
        (["backtest", "sixty-forty", "--json", "-", "--format", "md"], "error: --json - and --format md both print to stdout"),
    ],
)
def test_errors_are_one_line_naming_the_culprit(capsys, tmp_path, args, message):
    (tmp_path / "bad.json").write_text("{oops")
    (tmp_path / "sweep.json").write_text('{"type": "sweep"}')
    code, out, err = run_cli(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert code == 1
    assert err.replace("\n", "").startswith(message.format(tmp=tmp_path))
    assert err.strip().count("\n") == 0  # one line


def test_compare_report_equals_report_from_its_json(capsys, tmp_path, data):
    code, out, err = run_cli(
        capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, *WINDOW, "--json", str(tmp_path / "c.json"),
        "--report", str(tmp_path / "cmp.html"), "--png", str(tmp_path / "figs"),
    )
    assert code == 0, err
    assert run_cli(capsys, "report", str(tmp_path / "c.json"), "-o", str(tmp_path / "again.html"))[0] == 0
    assert (tmp_path / "cmp.html").read_bytes() == (tmp_path / "again.html").read_bytes()
    assert "Comparison of 2 strategies" in (tmp_path / "cmp.html").read_text()
    assert json.loads((tmp_path / "c.json").read_text())["type"] == "compare"
    code, out, err = run_cli(capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, *WINDOW, "--report", str(tmp_path / "c.md"))
    assert code == 0 and (tmp_path / "c.md").read_text().startswith("# Comparison of 2 strategies"), err
