"""What the terminal shows: every table whole at 80 columns, --format csv|json|md, --report -, help, --version, warnings.

Output is captured the way a pipe or an 80-column terminal sees it: the
console is set to 80 columns and the text written to a file, then read back.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import shortthehype
import shortthehype.spec
from shortthehype.cli import main
from shortthehype.cli.render import Cell, Column, Grid, grid_text, terminal_layout


@pytest.fixture
def narrow(monkeypatch):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 80)
    monkeypatch.setattr(shortthehype.cli.err_console, "width", 80)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory, shared_prices_dir):
    out = tmp_path_factory.mktemp("sweep") / "r.parquet"
    code = main(["sweep", "ma-crossover", "--grid", "fast=10:30:10", "--grid", "slow=50:150:50", "--start", "2012-01-03",
                 "--end", "2018-12-31", "--source", "csv", "--data-dir", str(shared_prices_dir), "--out", str(out),
                 "--blocks", "0", "--workers", "1"])
    assert code == 0
    return out


def table_commands(shared: str, results: str) -> list[list[str]]:
    data = ["--source", "csv", "--data-dir", shared]
    return [
        ["strategies", "list"],
        *(["strategies", "show", name] for name in shortthehype.spec.available_specs()),
        ["backtest", "burry-short", "--start", "2025-01-02", *data],
        ["backtest", "burry-puts", *data],  # the option contracts table, one column per contract
        ["compare", "sixty-forty", "ai-basket", "hype-hedge", "dotcom-analog", "static-hype-hedge", *data],
        ["results", "show", results],
        ["results", "sql", "SELECT * FROM results ORDER BY sharpe DESC", "--file", results],
        ["walkforward", "ma-crossover", "--grid", "fast=10,20", "--grid", "slow=50,100", "--train", "2y", "--test", "1y",
         "--start", "2012-01-03", "--end", "2017-12-29", "--blocks", "0", "--workers", "1", *data],
        ["data", "list", "--data-dir", shared],
        ["data", "show", "NVDA", "--data-dir", shared],
        ["bubble", "QQQ", "--start", "2024-06-03", "--end", "2024-12-31", "--windows", "125:150:25", "--step", "40", *data],
    ]


@pytest.mark.slow
def test_every_table_is_whole_at_80_columns(capsys, narrow, tmp_path, shared_prices_dir, sweep_file):
    for args in table_commands(str(shared_prices_dir), str(sweep_file)):
        code, out, err = run_cli(capsys, *args)
        assert code == 0, (args, err)
        written = tmp_path / "out.txt"
        written.write_text(out)
        text = written.read_text()
        assert "┃" in text, args  # a table was printed
        assert "…" not in text, (args, [line for line in text.splitlines() if "…" in line])
        table_lines = [line for line in text.splitlines() if any(c in line for c in "┃│┏┗┡└")]
        assert max(len(line) for line in table_lines) <= 80, args  # prose lines are never broken, tables fit


def test_narrow_layout_splits_columns_and_never_cuts_a_value():
    grid = Grid([Column("metric"), *(Column(f"strategy-number-{i}", right=True) for i in range(6))], title="t")
    grid.add_row("Sharpe ratio", *(f"{i}.123" for i in range(6)))
    parts = terminal_layout(grid, 60)
    assert len(parts) > 1  # six 17-character headers cannot share 60 columns
    from rich.console import Console

    console = Console(file=io.StringIO(), width=60)
    for part in parts:
        console.print(part)
    text = console.file.getvalue()
    assert "…" not in text and all(f"strategy-number-{i}" in text for i in range(6)) and text.count("Sharpe ratio") == len(parts)
    wide = Grid([Column("name"), Column("value")])
    wide.add_row("x", "v" * 100)  # a value wider than the terminal: one line per column instead
    console = Console(file=io.StringIO(), width=60)
    for part in terminal_layout(wide, 60):
        console.print(part, soft_wrap=True)
    assert "v" * 100 in console.file.getvalue()


def test_wrapping_columns_break_between_words_and_after_commas():
    grid = Grid([Column("setting"), Column("sweep", wrap=True)])
    grid.add_row("entry", "2021-01-04,2023-01-03,2024-01-02,2025-11-03")
    from rich.console import Console

    console = Console(file=io.StringIO(), width=30)
    for part in terminal_layout(grid, 30):
        console.print(part)
    text = console.file.getvalue()
    for date in ("2021-01-04", "2023-01-03", "2024-01-02", "2025-11-03"):
        assert date in text


def test_formats_of_a_grid():
    grid = Grid([Column("metric"), Column("a", right=True)], key="stats")
    grid.add_row(Cell("Sharpe ratio", "sharpe"), Cell("1.235", 1.2345))
    grid.add_row(Cell("CAGR (%)", "cagr"), Cell("—", None))
    assert list(csv.reader(io.StringIO(grid_text([grid], "csv")))) == [["metric", "a"], ["sharpe", "1.2345"], ["cagr", ""]]
    assert json.loads(grid_text([grid], "json")) == [{"metric": "sharpe", "a": 1.2345}, {"metric": "cagr", "a": None}]
    assert grid_text([grid], "md").splitlines() == ["| metric | a |", "|---|---:|", "| Sharpe ratio | 1.235 |", "| CAGR (%) | — |"]


def test_compare_csv_and_json_carry_the_raw_statistics(capsys, shared_prices_dir):
    from shortthehype.runner import compare

    data = ["--source", "csv", "--data-dir", str(shared_prices_dir), "--end", "2012-12-31"]
    code, out, err = run_cli(capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, "--format", "csv")
    assert code == 0, err
    rows = {row["metric"]: row for row in csv.DictReader(io.StringIO(out))}
    runs = compare(["sixty-forty", "buy-and-hold-qqq"], overrides={"end": "2012-12-31"}, source="csv", data_dir=shared_prices_dir)
    for run in runs:
        assert float(rows["sharpe"][run.spec.name]) == run.stats["sharpe"]
        assert float(rows["max_drawdown"][run.spec.name]) == run.stats["max_drawdown"]
    code, out, err = run_cli(capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, "--format", "json")
    records = {r["metric"]: r for r in json.loads(out)}
    assert records["cagr"]["sixty-forty"] == runs[0].stats["cagr"]
    code, out, _ = run_cli(capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, "--format", "md")
    assert out.splitlines()[2].startswith("| metric | sixty-forty | buy-and-hold-qqq |")


def test_results_sql_csv_is_the_query_result(capsys, sweep_file):
    import duckdb

    code, out, err = run_cli(capsys, "results", "sql", "SELECT fast, slow, sharpe FROM results ORDER BY fast, slow",
                             "--file", str(sweep_file), "--format", "csv")
    assert code == 0, err
    expected = duckdb.sql(f"SELECT fast, slow, sharpe FROM '{sweep_file}' ORDER BY fast, slow").fetchall()
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["fast", "slow", "sharpe"]
    assert [(int(a), int(b), float(c)) for a, b, c in rows[1:]] == [(a, b, c) for a, b, c in expected]


def test_unknown_format_is_one_line(capsys):
    code, out, err = run_cli(capsys, "strategies", "list", "--format", "xml")
    assert code == 1 and err.strip() == "error: --format must be one of table, csv, json, md (got 'xml')"


def test_report_dash_prints_only_the_document(capsys, shared_prices_dir):
    data = ["--source", "csv", "--data-dir", str(shared_prices_dir), "--end", "2008-12-31"]
    code, out, err = run_cli(capsys, "backtest", "sixty-forty", *data, "--report", "-")
    assert code == 0, err
    assert out.lstrip().lower().startswith("<!doctype html") and out.rstrip().endswith("</html>")
    assert "┃" not in out and "Sharpe ratio" in err  # the table went to stderr
    code, out, err = run_cli(capsys, "compare", "sixty-forty", "buy-and-hold-qqq", *data, "--report", "-", "--format", "md")
    assert code == 0, err
    assert out.startswith("# Comparison of 2 strategies") and "┃" not in out


def test_help_texts_and_version():
    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "shortthehype", *args], capture_output=True, text=True,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", **_python_env()})
        assert done.returncode == 0, done.stderr
        return done.stdout

    for command in ("sweep", "walkforward"):
        text = run(command, "--help")
        assert "spec's [sweep] table" in text and "<bool>" not in text and "<list[str]>" not in text
    assert run("--version").strip() == f"shortthehype {shortthehype.__version__}"


def _python_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME", "SHORTTHEHYPE_CACHE_DIR", "NUMBA_CACHE_DIR")}


def test_sweep_warnings_are_formatted_and_only_about_its_window(capsys, shared_prices_dir):
    # AMD's real +52 % day (2016-04-22) is in the loaded history but outside the sweep's 2019-2020 window
    data = ["--source", "csv", "--data-dir", str(shared_prices_dir)]
    code, out, err = run_cli(capsys, "sweep", "ai-basket", "--grid", "rebalance=monthly,quarterly", "--start", "2019-01-02",
                             "--end", "2020-12-31", "--blocks", "0", "--workers", "1", *data)
    assert code == 0, err
    assert "AMD 2016-04-22" not in out + err and "DataWarning" not in err and "sweeps.py" not in err
    code, out, err = run_cli(capsys, "sweep", "ai-basket", "--grid", "rebalance=monthly,quarterly", "--start", "2016-01-04",
                             "--end", "2016-12-30", "--blocks", "0", "--workers", "1", *data)
    assert code == 0, err
    assert "warning: AMD 2016-04-22: one-day close-to-close move" in err and "DataWarning" not in err


def test_bankruptcy_events_print_their_dates(capsys, tmp_path, shared_prices_dir):
    spec = tmp_path / "bust.toml"
    spec.write_text('kind = "fixed-weights"\nstart = "2023-01-03"\nend = "2023-12-29"\n[params]\nweights = { NVDA = -3.0 }\n'
                    'rebalance = "once"\n')
    code, out, err = run_cli(capsys, "backtest", str(spec), "--source", "csv", "--data-dir", str(shared_prices_dir))
    assert code == 0, err
    from shortthehype.runner import backtest

    events = backtest(str(spec), source="csv", data_dir=shared_prices_dir).result.events
    assert len(events)
    for row in events.itertuples():
        assert f"{row.date:%Y-%m-%d} {row.kind}" in out


def test_sweep_report_dash_prints_only_the_document(capsys, shared_prices_dir):
    code, out, err = run_cli(capsys, "sweep", "sixty-forty", "--grid", "rebalance=weekly,monthly", "--end", "2008-12-31",
                             "--blocks", "0", "--workers", "1", "--source", "csv", "--data-dir", str(shared_prices_dir),
                             "--report", "-")
    assert code == 0, err
    assert out.lstrip().lower().startswith("<!doctype html") and "┃" not in out and "top 2 by sharpe" in err


def test_compile_progress_prints_a_line_every_few_seconds_of_compiling():
    from types import SimpleNamespace

    from rich.console import Console

    from shortthehype.cli.notices import CompileProgress

    buffer = io.StringIO()
    times = iter([0.0, 1.0, 2.0, 3.5, 4.0, 7.0, 7.5])
    progress = CompileProgress(Console(file=buffer, width=200), every=3.0, clock=lambda: next(times))
    end = SimpleNamespace(is_start=False, is_end=True)
    for _ in range(6):
        progress.notify(SimpleNamespace(is_start=True, is_end=False))
        progress.notify(end)
    assert buffer.getvalue().splitlines() == [
        "  ... 3 kernels compiled so far (4 s)",  # 3.5 s after the start, rounded
        "  ... 5 kernels compiled so far (7 s)",
    ]


def test_a_first_run_says_it_compiles_and_shows_progress(tmp_path, shared_prices_dir):
    """With an empty numba cache, a backtest prints the first-run note and progress lines on stderr."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SHORTTHEHYPE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "shortthehype", "backtest", "sixty-forty", "--source", "csv", "--data-dir",
         str(shared_prices_dir)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("compiling numba kernels, first run only")
    assert any(line.startswith("  ... ") and "kernels compiled so far" in line for line in lines)
    assert "Total return" in result.stdout
