"""sweep(): grids, invalid combinations, generic path == backtest(), budgets, Parquet streaming and resume,
the dask executor, and the `sweep` / `results` commands."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shortthehype.cli.sweep_cmd  # noqa: F401  (registers the commands on the app)
from shortthehype.cli import main
from shortthehype.errors import DataError, ParamError, SpecError
from shortthehype.runner import backtest
from shortthehype.sweeps import SWEEP_METRICS, build_axes, load_sweep, parse_grid, sweep
from shortthehype.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
GENERIC_GRID = {"rebalance": ["weekly", "monthly", "quarterly"], "fees": "0:0.002:0.001"}
WINDOW = {"start": "2015-01-02", "end": "2017-12-29"}


@pytest.fixture(scope="module")
def prices(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ", "SPY"], data_dir=shared_prices_dir)


# ---- grids --------------------------------------------------------------------------------


def test_parse_grid_and_its_errors():
    assert parse_grid(["fast=2:100:1", " direction = long,longshort "]) == {"fast": "2:100:1", "direction": "long,longshort"}
    with pytest.raises(ParamError, match=r"--grid 'fast' is not key=values"):
        parse_grid(["fast"])
    with pytest.raises(ParamError, match=r"--grid 'fast' is given twice"):
        parse_grid(["fast=1,2", "fast=3"])


def test_combinations_decode_many_ids_as_one_at_a_time():
    from shortthehype.sweeps.plan import Plan

    spec = load_spec("ma-crossover")
    axes = build_axes(spec, {"fast": "2:10:4", "direction": "long,longshort", "fees": "0,0.001,0.002,0.003"})
    plan = Plan(spec=spec, prices=None, axes=axes, mode="fused", n_blocks=0)
    ids = np.asarray([23, 0, 5, 17, 5, 12], dtype=np.int64)
    assert plan.combinations(ids) == [tuple(plan.combination(int(i)).values()) for i in ids]
    assert plan.combinations(ids)[0] == (10, "longshort", 0.003)
    assert plan.combination(5) == {"fast": 2, "direction": "longshort", "fees": 0.001}
    empty = Plan(spec=spec, prices=None, axes=(), mode="fused", n_blocks=0)
    assert empty.combinations(np.zeros(2, dtype=np.int64)) == [(), ()]


def test_axes_are_typed_deduplicated_and_checked():
    spec = load_spec("ma-crossover")
    axes = build_axes(spec, {"fast": "2:10:4", "direction": "long,longshort,long", "fees": [0.001, "0.002"]})
    assert [(a.name, a.section, a.values) for a in axes] == [
        ("fast", "params", (2, 6, 10)),
        ("direction", "params", ("long", "longshort")),
        ("fees", "engine", (0.001, 0.002)),
    ]
    with pytest.raises(ParamError, match=r"cannot sweep unknown parameter 'fsat'; did you mean 'fast'"):
        build_axes(spec, {"fsat": "1,2"})
    with pytest.raises(ParamError, match=r"parameter 'direction': 'shrot' is not one of long, longshort"):
        build_axes(spec, {"direction": "long,shrot"})
    with pytest.raises(ParamError, match=r"parameter 'fast' must be >= 1, got 0"):
        build_axes(spec, {"fast": "0:4:2"})
    with pytest.raises(ParamError, match=r"'fast' is not a mapping, so 'fast.X' cannot be swept"):
        build_axes(spec, {"fast.X": "1,2"})
    with pytest.raises(ParamError, match="the grid is empty"):
        build_axes(spec, {})
    mapping = build_axes(load_spec("sixty-forty"), {"weights.spy": "0.2:0.6:0.2", "weights.QQQ": "0.4,0.5"})
    assert mapping[0].name == "weights.SPY" and mapping[0].values == (0.2, 0.4, 0.6) and mapping[1].name == "weights.QQQ"
    with pytest.raises(ParamError, match=r"'weights.SPY' appears twice in the grid"):
        build_axes(load_spec("sixty-forty"), {"weights.spy": "0.2", "weights.SPY": "0.3"})
    with pytest.raises(ParamError, match=r"sweeps both 'weights' and its entry 'weights.SPY'"):
        build_axes(load_spec("sixty-forty"), {"weights": ["SPY:1"], "weights.SPY": "0.3"})


def test_invalid_combinations_are_skipped_and_counted(prices):
    """The issue's classic grid: windows 2..100 both ways, fast >= slow invalid -> 4,851 backtests."""
    short = prices.between("2020-01-02", "2021-12-31")
    result = sweep("ma-crossover", {"fast": "2:100:1", "slow": "2:100:1"}, prices=short, n_blocks=0)
    assert (result.n_grid, result.n_invalid, result.n_run) == (9801, 4950, 4851)
    assert (result.table["fast"] < result.table["slow"]).all() and len(result.table) == 4851
    assert result.table["combination"].is_monotonic_increasing


def test_no_valid_combination_is_an_error(prices):
    with pytest.raises(ParamError, match=r"none of the 4 combinations of the grid is valid for ma-crossover"):
        sweep("ma-crossover", {"fast": "50,60", "slow": "10,20"}, prices=prices)


def test_generic_sweep_rows_equal_backtest(prices):
    result = sweep("sixty-forty", GENERIC_GRID, overrides=WINDOW, prices=prices, workers=1, n_blocks=4, path="generic")
    assert result.mode == "generic" and result.n_run == 9 and result.n_invalid == 0
    assert list(result.table.columns) == ["combination", "rebalance", "fees", *SWEEP_METRICS, "bankrupt"]
    for _, row in result.table.iterrows():
        run = backtest("sixty-forty", overrides={**WINDOW, "rebalance": row["rebalance"], "fees": row["fees"]}, prices=prices)
        assert row["end_value"] == run.result.equity.iloc[-1]
        for key in SWEEP_METRICS[1:]:
            assert row[key] == run.stats[key], key
    # higher fees never help a fixed-weights portfolio
    by_fees = result.table.pivot(index="rebalance", columns="fees", values="end_value")
    assert (np.diff(by_fees.to_numpy(), axis=1) < 0).all()


def test_best_top_and_objectives(prices):
    result = sweep("sixty-forty", GENERIC_GRID, overrides=WINDOW, prices=prices, objective="max_drawdown", n_blocks=0)
    best = result.best
    assert best["max_drawdown"] == result.table["max_drawdown"].max()
    assert result.best_params == {"rebalance": best["rebalance"], "fees": best["fees"]}
    assert list(result.top(3)["max_drawdown"]) == sorted(result.table["max_drawdown"], reverse=True)[:3]
    assert list(result.top(2, by="annual_volatility", ascending=True)["annual_volatility"]) == sorted(
        result.table["annual_volatility"]
    )[:2]
    with pytest.raises(ParamError, match=r"cannot sort by 'sharp'; did you mean 'sharpe'"):
        result.top(3, by="sharp")
    with pytest.raises(ParamError, match=r"unknown objective 'sharp'; did you mean 'sharpe'"):
        sweep("sixty-forty", GENERIC_GRID, prices=prices, objective="sharp")


@pytest.mark.parametrize(
    "overrides, grid, said",
    [
        ({"cash_rate": "tbill"}, {"rebalance": "monthly,yearly"}, True),
        ({"cash_rate": 0.0}, {"rebalance": "monthly,yearly"}, False),
        ({"cash_rate": 0.0}, {"cash_rate": "0,0.02"}, True),
        ({"cash_rate": 0.03}, {"cash_rate": "0"}, False),  # the grid's value replaces the spec's
    ],
)
def test_a_sweep_whose_cash_earns_interest_says_its_ratios_count_it_as_return(prices, overrides, grid, said):
    result = sweep("sixty-forty", grid, overrides={**WINDOW, **overrides}, prices=prices, n_blocks=0)
    notes = [line for line in result.warnings if "zero risk-free rate while cash earns interest" in line]
    assert len(notes) == (1 if said else 0), result.warnings
    if said:  # kept with the results and shown by their reports
        from shortthehype.report import render

        document = result.to_document()
        assert document["warnings"] == list(result.warnings)
        assert notes[0] in render(document, "md") and "zero risk-free rate" in render(document, "html")


def test_random_draws_valid_combinations_reproducibly(prices):
    short = prices.between("2019-01-02", "2020-12-31")
    grid = {"fast": "2:40:1", "slow": "2:40:1"}
    a = sweep("ma-crossover", grid, prices=short, random=25, seed=3, n_blocks=0)
    b = sweep("ma-crossover", grid, prices=short, random=25, seed=3, n_blocks=0)
    c = sweep("ma-crossover", grid, prices=short, random=25, seed=4, n_blocks=0)
    assert a.n_run == 25 and (a.table["fast"] < a.table["slow"]).all()
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table["combination"].equals(c.table["combination"])
    everything = sweep("ma-crossover", grid, prices=short, n_blocks=0).table.set_index("combination")
    pd.testing.assert_frame_equal(a.table.set_index("combination"), everything.loc[a.table["combination"]])
    with pytest.raises(ParamError, match="'random' must be an integer >= 1"):
        sweep("ma-crossover", grid, prices=short, random=0)


def test_overfitting_statistics_are_reported(prices):
    later = prices.between("2005-01-03", None)
    result = sweep("ma-crossover", {"fast": "5:50:5", "slow": "20:200:20"}, prices=later)
    assert result.dsr is not None and result.pbo is not None and not result.pbo_note
    assert result.dsr.n_trials == result.n_run and 0.0 <= result.dsr.dsr <= 1.0
    sharpes = result.table["sharpe"] / math.sqrt(252)
    assert result.dsr.sharpe == pytest.approx(sharpes.max(), rel=1e-15)
    assert result.dsr.sharpe_variance == pytest.approx(sharpes.var(ddof=1), rel=1e-12)
    best = backtest("ma-crossover", overrides=result.best_params, prices=later)
    assert result.dsr.kurtosis == pytest.approx(best.stats["kurtosis"] + 3.0)
    assert result.pbo.n_trials == result.n_run and result.pbo.n_splits == 12870 and 0.0 <= result.pbo.pbo <= 1.0


def test_pbo_is_skipped_with_a_note_when_windows_differ(prices):
    result = sweep("sixty-forty", {"start": "2015-01-02,2016-01-04"}, prices=prices, workers=1)
    assert result.pbo is None and "varies the backtest window" in result.pbo_note
    assert result.dsr is not None


def test_budget_refusals_name_the_estimate_and_force_runs(prices, monkeypatch):
    import shortthehype.sweeps.plan as plan_module
    import shortthehype.sweeps.run as run_module

    short = prices.between("2020-01-02", "2020-12-31")
    monkeypatch.setattr(plan_module, "SWEEP_MAX_SECONDS", 1e-9)
    with pytest.raises(ParamError, match=r"the sweep's 4 combinations would take about 0 s .* pass --force"):
        sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, prices=short)
    assert sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, prices=short, force=True, n_blocks=0).n_run == 4
    monkeypatch.setattr(run_module, "SWEEP_MAX_GRID", 3)
    with pytest.raises(ParamError, match=r"the grid has 4 combinations \(more than 3\)"):
        sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, prices=short)
    monkeypatch.setattr(run_module, "SWEEP_MAX_GRID", 10**9)
    monkeypatch.setattr(plan_module, "SWEEP_MAX_MEMORY_FRACTION", 1e-12)
    with pytest.raises(ParamError, match=r"4 result rows would need about .* GiB"):
        sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, prices=short)


def test_the_estimate_leaves_out_what_the_first_backtest_of_a_process_loads(prices, monkeypatch):
    """The first backtest of a process loads the compiled kernels (seconds on a busy machine, minutes when they
    compile): the budget is estimated from the second, not from the first times the whole grid."""
    import shortthehype.sweeps.chunks as chunks_module
    from shortthehype.sweeps.chunks import calibrate
    from shortthehype.sweeps.grid import build_axes
    from shortthehype.sweeps.plan import Plan

    spec = load_spec("sixty-forty")
    plan = Plan(spec=spec, prices=prices, axes=build_axes(spec, GENERIC_GRID), mode="generic", n_blocks=0)
    seconds = iter([1.0, 0.002, 0.002])
    original = chunks_module.run_one

    def run_one(*args, **kwargs):
        original(*args, **kwargs)
        time.sleep(next(seconds))

    monkeypatch.setattr(chunks_module, "run_one", run_one)
    assert calibrate(plan, np.arange(3)) < 0.5
    seconds = iter([0.3])
    assert calibrate(plan, np.arange(1)) >= 0.3  # one combination: nothing else to time


def test_failures_name_the_combination(prices):
    with pytest.raises(DataError, match=r"sweep combination start=2030-01-02: fewer than two trading days"):
        sweep("sixty-forty", {"start": "2016-01-04,2030-01-02"}, prices=prices, force=True, workers=1)


# ---- Parquet streaming and resume ---------------------------------------------------------


def test_out_file_round_trips_with_metadata(prices, tmp_path):
    out = tmp_path / "r.parquet"
    result = sweep("sixty-forty", GENERIC_GRID, overrides=WINDOW, prices=prices, out=out, chunk_size=2, workers=1, n_blocks=4)
    assert out.is_file() and not (tmp_path / "r.parquet.parts").exists()
    loaded = load_sweep(out)
    pd.testing.assert_frame_equal(loaded.table, result.table, check_dtype=False)
    assert loaded.dsr == result.dsr
    assert loaded.pbo.pbo == result.pbo.pbo and loaded.n_run == 9 and loaded.grid == {
        "rebalance": ["weekly", "monthly", "quarterly"],
        "fees": [0.0, 0.001, 0.002],
    }
    import pyarrow.parquet as pq

    assert pq.ParquetFile(out).num_row_groups == 5  # one per chunk of 2


def test_in_process_interruption_then_resume_equals_one_run(prices, tmp_path):
    grid = {"fast": "5:50:5", "slow": "20:200:20", "direction": "long,longshort"}
    kwargs = dict(prices=prices.between("2010-01-04", None), chunk_size=30, n_blocks=4)
    whole = sweep("ma-crossover", grid, out=tmp_path / "whole.parquet", **kwargs)

    calls = []

    def stop_after_two_chunks(done, total):
        calls.append(done)
        if len(calls) == 3:  # the initial call, then two chunks
            raise KeyboardInterrupt

    out = tmp_path / "part.parquet"
    with pytest.raises(KeyboardInterrupt):
        sweep("ma-crossover", grid, out=out, progress=stop_after_two_chunks, **kwargs)
    parts = tmp_path / "part.parquet.parts"
    assert len(list(parts.glob("part-*.parquet"))) == 2 and not out.exists()
    with pytest.raises(ParamError, match=r"an unfinished sweep is there; pass --resume"):
        sweep("ma-crossover", grid, out=out, **kwargs)
    with pytest.raises(ParamError, match=r"differs from this one"):
        sweep("ma-crossover", {**grid, "direction": "long"}, out=out, resume=True, **kwargs)
    seen = []
    resumed = sweep("ma-crossover", grid, out=out, resume=True, progress=lambda d, t: seen.append(d), **kwargs)
    assert seen[0] == 60  # the two saved chunks count as done
    pd.testing.assert_frame_equal(resumed.table, whole.table)
    assert resumed.dsr == whole.dsr and resumed.pbo.pbo == whole.pbo.pbo
    _assert_same_file(out, tmp_path / "whole.parquet")
    again = sweep("ma-crossover", grid, out=out, resume=True, **kwargs)  # finished: read back, not re-run
    pd.testing.assert_frame_equal(again.table, whole.table, check_dtype=False)
    with pytest.raises(ParamError, match="--resume needs --out"):
        sweep("ma-crossover", grid, resume=True, **kwargs)


def _assert_same_file(a: Path, b: Path) -> None:
    import pyarrow.parquet as pq

    first, second = pq.read_table(a), pq.read_table(b)
    assert first.equals(second)  # the data, every bit
    meta_a = json.loads(first.schema.metadata[b"shortthehype.sweeps"])
    meta_b = json.loads(second.schema.metadata[b"shortthehype.sweeps"])
    meta_a.pop("seconds"), meta_b.pop("seconds")
    assert meta_a == meta_b


CLI = "import sys, shortthehype.cli.sweep_cmd; from shortthehype.cli import main; sys.exit(main(sys.argv[1:]))"


def test_interrupted_subprocess_resumes_to_the_uninterrupted_result(shared_prices_dir, tmp_path):
    """Ctrl-C a running `shortthehype sweep --out`, then `--resume`: the file equals an uninterrupted run's."""
    args = [
        "sweep", "sixty-forty", "--grid", "fees=0:0.0099:0.0001", "--grid", "rebalance=weekly,monthly",
        "--start", "2008-01-02", "--end", "2016-12-30", "--data-dir", str(shared_prices_dir),
        "--chunk-size", "4", "--workers", "1", "--blocks", "4", "--path", "generic",
    ]
    env = {**os.environ, "COLUMNS": "200"}
    # the uninterrupted run first: it also compiles whatever the kernel cache lacks, so the run interrupted below
    # has its chunks' worth of work left when Ctrl-C comes (during a compilation it stops only after the chunk)
    reference = tmp_path / "reference.parquet"
    whole = subprocess.run(
        [sys.executable, "-c", CLI, *args, "--out", str(reference)], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "sweep.parquet"
    parts = tmp_path / "sweep.parquet.parts"
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, *args, "--out", str(out)], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ctrl-C as in a terminal: a test run started in the background has SIGINT ignored, and Python keeps an
        # ignored SIGINT ignored in every process it starts
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(parts.glob("part-*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    saved = len(list(parts.glob("part-*.parquet")))
    assert 1 <= saved < 50 and not out.exists()
    assert f"{saved} finished chunk(s) kept in {parts}" in " ".join(stderr.split())
    resumed = subprocess.run(
        [sys.executable, "-c", CLI, *args, "--out", str(out), "--resume"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert out.is_file() and not parts.exists()
    _assert_same_file(out, reference)


# ---- dask --------------------------------------------------------------------------------


def test_dask_executor_equals_the_local_one(prices):
    import distributed
    short = prices.between("2012-01-03", "2016-12-30")
    fused_grid = {"fast": "5:40:5", "slow": "20:120:20", "direction": "long,longshort"}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for spec, grid, path in (("sixty-forty", GENERIC_GRID, "generic"), ("ma-crossover", fused_grid, "auto")):
            local = sweep(spec, grid, prices=short, chunk_size=4, workers=1, n_blocks=4, path=path)
            remote = sweep(spec, grid, prices=short, chunk_size=4, executor="dask", scheduler=cluster.scheduler_address,
                           n_blocks=4, path=path)
            pd.testing.assert_frame_equal(local.table, remote.table)
            assert local.pbo.pbo == remote.pbo.pbo and local.dsr == remote.dsr
    with pytest.raises(ParamError, match=r"unknown executor 'spark'"):
        sweep("sixty-forty", GENERIC_GRID, prices=short, executor="spark")


# ---- the commands -------------------------------------------------------------------------


def test_sweep_command_prints_the_table_and_the_overfitting_statistics(shared_prices_dir, tmp_path, capsys, monkeypatch):
    import duckdb  # noqa: F401  (a dependency: results sql must be tested, never skipped)
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)  # rich reads COLUMNS only when the console is made
    out = tmp_path / "r.parquet"
    code = main([
        "sweep", "ma-crossover", "--grid", "fast=10:50:10", "--grid", "slow=50:200:50", "--top", "3",
        "--data-dir", str(shared_prices_dir), "--start", "2005-01-03", "--out", str(out),
    ])
    captured = capsys.readouterr()
    text = captured.out
    assert code == 0
    assert "20 combinations requested: 1 invalid; 19 distinct trials run" in text  # fast 50 = slow 50
    assert "top 3 by sharpe" in text and "Deflated Sharpe ratio of the best:" in text
    assert "Probability of backtest overfitting:" in text and f"wrote {out} (19 rows)" in text
    assert "zero risk-free rate while cash earns interest" in captured.err  # the spec's cash earns the bill rate
    assert main(["results", "show", str(out), "--top", "2", "--sort", "max_drawdown"]) == 0
    shown = capsys.readouterr()
    assert "top 2 by max_drawdown" in shown.out and "Deflated Sharpe ratio" in shown.out
    assert "zero risk-free rate while cash earns interest" in shown.err  # kept with the results file
    table = pd.read_parquet(out)
    assert main(["results", "sql", "SELECT count(*) AS n, max(sharpe) AS best FROM results", "--file", str(out)]) == 0
    sql = capsys.readouterr().out
    assert " 19 " in sql and f"{table['sharpe'].max():,.6g}" in sql
    assert main(["results", "sql", "SELECT fast FROM results WHERE slow = 200 ORDER BY fast", "--file", str(out)]) == 0
    assert "10" in capsys.readouterr().out
    escaped = str(out).replace("'", "''")
    assert main(["results", "sql", f"SELECT fast FROM '{escaped}'", "--file", str(out)]) == 1  # only the view
    assert "SQL error" in capsys.readouterr().err


def test_command_errors_are_one_line_naming_the_culprit(shared_prices_dir, tmp_path, capsys):
    assert main(["sweep", "ma-crossover", "--grid", "fsat=1,2", "--data-dir", str(shared_prices_dir)]) == 1
    err = capsys.readouterr().err.strip()
    assert "unknown parameter 'fsat'; did you mean 'fast'" in err and len(err.splitlines()) == 1
    assert main(["results", "show", str(tmp_path / "missing.parquet")]) == 1
    assert "missing.parquet: sweep results file not found" in capsys.readouterr().err
    assert main(["results", "sql", "SELEC 1"]) == 1
    assert "results sql needs --file" in capsys.readouterr().err
    (tmp_path / "plain.parquet").write_bytes(b"not parquet")
    assert main(["results", "show", str(tmp_path / "plain.parquet")]) == 1
    assert "plain.parquet: not a readable Parquet file" in capsys.readouterr().err


def test_worker_processes_equal_one_process_for_a_python_strategy_file(shared_prices_dir, monkeypatch):
    """The generic path in two spawned workers (the spec's kind is rebuilt from its file there)."""
    import shortthehype.sweeps.executors as module
    from shortthehype.data.load import load_prices

    pools = []
    original = module._execute_processes
    monkeypatch.setattr(module, "_execute_processes", lambda *a: pools.append(a[3]) or original(*a))

    prices = load_prices(["QQQ", "NVDA"], data_dir=shared_prices_dir).between("2018-01-02", "2021-12-31")
    grid = {"lookback": [10, 20, 40], "threshold": "0.15:0.35:0.1"}
    one = sweep("strategies/my_idea.toml", grid, prices=prices, workers=1, chunk_size=2, n_blocks=4)
    two = sweep("strategies/my_idea.toml", grid, prices=prices, workers=2, chunk_size=2, n_blocks=4)
    assert one.n_run == 9 and one.mode == "generic" and pools == [2]
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.pbo.pbo == two.pbo.pbo


def test_a_plan_that_cannot_be_written_for_the_workers_is_a_one_line_error_and_leaves_nothing(
    shared_prices_dir, monkeypatch, tmp_path
):
    import errno
    import pickle
    import tempfile

    from shortthehype.data.load import load_prices

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(pickle, "dump", full)
    prices = load_prices(["QQQ", "NVDA"], data_dir=shared_prices_dir).between("2018-01-02", "2019-12-31")
    with pytest.raises(ParamError) as info:
        sweep("strategies/my_idea.toml", {"lookback": [10, 20]}, prices=prices, workers=2, chunk_size=1, n_blocks=0)
    message = str(info.value)
    assert "the sweep's plan for its worker processes" in message and "No space left on device" in message
    assert "\n" not in message and list(tmp_path.iterdir()) == []


def test_ticker_is_swept_by_the_fused_kernel(prices):
    window = {"start": "2012-01-03", "end": "2015-12-31"}
    result = sweep("ma-crossover", {"ticker": "QQQ,SPY", "fast": "10,30", "slow": "50,100"}, overrides=window,
                   prices=prices, n_blocks=4)
    assert result.mode == "fused" and result.n_run == 8 and result.pbo is not None  # same bars for both tickers
    for _, row in result.table.iterrows():
        combination = {"ticker": row["ticker"], "fast": int(row["fast"]), "slow": int(row["slow"])}
        run = backtest("ma-crossover", overrides={**window, **combination}, prices=prices)
        assert row["end_value"] == run.result.equity.iloc[-1] and row["sharpe"] == run.stats["sharpe"], combination


def test_the_package_exports_the_functions(prices):
    import shortthehype
    from shortthehype.sweeps import SweepResult

    short = prices.between("2020-01-02", "2020-12-31")
    result = shortthehype.sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, prices=short, n_blocks=0)
    assert isinstance(result, SweepResult) and result.n_run == 4
    assert shortthehype.walkforward.__name__ == "walkforward"


def test_a_mapping_entry_and_a_date_are_swept_like_set(prices):
    result = sweep("sixty-forty", {"weights.SPY": "0.3,0.6", "end": "2016-12-30,2017-12-29"},
                   overrides={"start": "2015-01-02"}, prices=prices, workers=1, n_blocks=0)
    assert list(result.table.columns[:3]) == ["combination", "weights.SPY", "end"]
    assert result.table["end"].dtype.kind == "M"
    for _, row in result.table.iterrows():
        run = backtest("sixty-forty", overrides={"start": "2015-01-02", "weights.SPY": row["weights.SPY"],
                                                 "end": row["end"]}, prices=prices)
        assert row["end_value"] == run.result.equity.iloc[-1] and row["sharpe"] == run.stats["sharpe"]
    assert result.best_params["end"] in (pd.Timestamp("2016-12-30"), pd.Timestamp("2017-12-29"))


@pytest.mark.parametrize(
    ("name", "grid"),
    [
        ("sixty-forty", {"weights.SPY": "-0.5:1.5:0.5", "weights.TLT": "0,0.5", "rebalance": "monthly,once"}),
        ("ma-crossover", {"fast": "5,20,50", "slow": "5,20,50", "direction": "long,longshort"}),
        ("ma-crossover", {"fast": "5,20,50", "slow": "20,50", "start": "2015-01-02,2016-01-04"}),
        ("burry-short", {"instrument": "stock,puts", "moneyness": "0.8,0.9", "entry": "2024-01-02,2024-06-03"}),
        # a swept mapping is coerced once per value of its entries: values it refuses (negative, all zero) included
        ("burry-short", {"split.PLTR": "-1,0,0.5", "exposure": "0.4,0.8", "split.NVDA": "0,1",
                         "rebalance": "hold,keep_weights"}),
        # kinds whose check reads a few parameters: combinations of the others inherit the verdict
        ("burry-short", {"instrument": "stock,puts", "rebalance": "hold,keep_weights", "exposure": "0.4,0.8",
                         "roll_days": "20,200", "hold_days": "none,20", "borrow_fee": "0,0.02"}),
        ("ai-basket", {"trend_window": "0,1,50", "vol_window": "20,60", "weighting": "equal,inverse_vol"}),
        ("bubble-timer", {"window_min": "60,200", "window_max": "120,250", "hold": "0,5"}),
        ("dotcom-analog", {"lead_days": "0,300,900", "scale_min": "1,1.5", "scale_max": "1.2,2", "exposure": "0.5,1"}),
        ("hype-hedge", {"market": "SPY,QQQ,BASKET", "split": "burry,equal", "beta_window": "60,120"}),
    ],
)
def test_valid_combinations_are_those_a_spec_accepts_as_overrides(name, grid):
    """valid_ids's shortcuts agree with the definition: the spec accepts the combination as overrides."""
    import itertools

    from shortthehype.sweeps.grid import valid_ids

    spec = load_spec(name)
    axes = build_axes(spec, grid)
    shape = tuple(len(a.values) for a in axes)
    expected = []
    for flat, values in enumerate(itertools.product(*(a.values for a in axes))):
        try:
            spec.with_overrides({a.name: v for a, v in zip(axes, values)})
        except (ParamError, SpecError):
            continue
        expected.append(flat)
    assert valid_ids(spec, axes, shape).tolist() == expected


@pytest.mark.parametrize(
    ("name", "grid"),
    [
        ("burry-short", {"instrument": "stock,puts", "moneyness": "0.8,0.9", "exposure": "0.4,0.8",
                         "rebalance": "hold,keep_weights", "entry": "2024-01-02,2024-06-03"}),
        ("burry-short", {"entry": "2020-01-02,2021-01-04", "hold_days": "none,20", "rebalance_freq": "daily,weekly"}),
        # axes that are never conditional between and after the conditional ones
        ("burry-short", {"borrow_fee": "0,0.02,0.05", "entry": "2020-01-02,2021-01-04,2024-01-02", "fees": "0,0.001",
                         "rebalance": "hold,keep_weights", "split.PLTR": "1,2", "rebalance_freq": "daily,weekly"}),
    ],
)
@pytest.mark.parametrize("subset", [False, True])
def test_distinct_keeps_the_first_combination_of_each_effective_setting(name, grid, subset):
    """``distinct`` equals the plain definition, the first id per distinct row: of the whole grid (read off the
    conditional axes' sub-grid) and of a part of it (one integer key per combination)."""
    from shortthehype.sweeps.grid import distinct, effective_grid, effective_positions, valid_ids

    spec = load_spec(name).with_overrides({"start": "2021-01-04"})
    axes = build_axes(spec, grid)
    shape = tuple(len(a.values) for a in axes)
    ids = valid_ids(spec, axes, shape)
    if "borrow_fee" in grid:  # a grid without invalid combinations: distinct() reads the whole grid off the sub-grid
        assert len(ids) == math.prod(shape)
    if subset:
        ids = ids[np.random.default_rng(3).random(len(ids)) < 0.6]
    effective = effective_grid(spec, axes)
    rows = np.stack(effective_positions(effective, ids, shape), axis=1)
    first: dict[tuple[int, ...], int] = {}
    for combo_id, row in zip(ids.tolist(), map(tuple, rows.tolist())):
        first.setdefault(row, combo_id)
    assert len(first) < len(ids)  # the grid has duplicates to remove
    assert distinct(effective, ids, shape).tolist() == sorted(first.values())


def _params_read(function, seen=None) -> set[str]:
    """The literal keys ``function`` reads from ``params`` (``params["x"]``, ``params.get("x")``), following the calls
    it makes to functions of its own module that receive ``params``."""
    import ast
    import inspect
    import sys
    import textwrap

    seen = set() if seen is None else seen
    if function in seen:
        return set()
    seen.add(function)
    module = sys.modules[function.__module__]
    read = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "params":
            assert isinstance(node.slice, ast.Constant), f"{function.__name__}: a computed parameter name"
            read.add(node.slice.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "params":
                assert func.attr == "get" and isinstance(node.args[0], ast.Constant), ast.dump(node)
                read.add(node.args[0].value)
            elif isinstance(func, ast.Name) and any(isinstance(a, ast.Name) and a.id == "params" for a in node.args):
                callee = getattr(module, func.id, None)
                assert inspect.isfunction(callee), f"{function.__name__} passes params to {func.id}"
                read |= _params_read(callee, seen)
    return read


def test_every_kind_declares_every_parameter_its_check_reads():
    """``check_reads`` lets a sweep check one combination of those parameters' values only: it must list every
    parameter the check reads, on every branch (read from the check's source and the helpers it passes them to)."""
    from shortthehype.spec import available_specs

    kinds = {spec.kind.name: spec.kind for spec in map(load_spec, available_specs()) if spec.kind.check_reads is not None}
    assert {"ai-basket", "bubble-timer", "burry-short", "dotcom-analog", "fixed-weights", "hype-hedge",
            "ma-crossover"} <= set(kinds)
    for name, kind in kinds.items():
        read = _params_read(kind.check)
        assert read and read <= set(kind.check_reads), (name, sorted(read - set(kind.check_reads)))
