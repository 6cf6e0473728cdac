"""Monte Carlo over synthetic bubble paths: bit-identical for a seed across processes, scenario ranges, labels, bad input."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.cli import main
from shortthehype.errors import ParamError
from shortthehype.montecarlo import DEFAULT_RANGES, montecarlo, parse_scenario, path_scenario

SRC = Path(__file__).resolve().parents[1] / "src"

_DIGEST = """
import hashlib, sys
import numpy as np
from shortthehype.montecarlo import montecarlo
rows = montecarlo("burry-short", paths=3, seed=7, workers=int(sys.argv[1]), path=sys.argv[2]).rows
numeric = rows.select_dtypes("number").to_numpy(dtype=np.float64)
dates = rows[["peak", "trough", "entry", "exit"]].to_numpy().astype("datetime64[us]").astype(np.int64)
print(hashlib.sha256(numeric.tobytes() + dates.tobytes()).hexdigest())
"""


def _digest(rows: pd.DataFrame) -> str:
    numeric = rows.select_dtypes("number").to_numpy(dtype=np.float64)
    dates = rows[["peak", "trough", "entry", "exit"]].to_numpy().astype("datetime64[us]").astype(np.int64)
    return hashlib.sha256(numeric.tobytes() + dates.tobytes()).hexdigest()


def test_a_seed_gives_bit_identical_rows_in_other_processes_and_with_workers():
    here = _digest(montecarlo("burry-short", paths=3, seed=7, workers=1).rows)
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for workers, path in (("1", "generic"), ("2", "fused")):
        completed = subprocess.run([sys.executable, "-c", _DIGEST, workers, path], capture_output=True, text=True, env=env,
                                   timeout=600)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.strip() == here


def test_path_p_does_not_depend_on_the_number_of_paths_and_seeds_differ():
    three = montecarlo("ma-crossover", paths=3, seed=2, workers=1).rows
    five = montecarlo("ma-crossover", paths=5, seed=2, workers=1).rows
    pd.testing.assert_frame_equal(three, five.iloc[:3])
    other = montecarlo("ma-crossover", paths=3, seed=3, workers=1).rows
    assert not three["peak"].equals(other["peak"])


def test_scenario_draws_stay_in_their_ranges_and_fixed_values_hold():
    ranges, fixed = parse_scenario({"crash_depth": "0.5:0.6", "recovery_drift": "0.02"})
    assert ranges["crash_depth"] == (0.5, 0.6) and fixed == {"recovery_drift": 0.02}
    for path in range(30):
        market = path_scenario(ranges, fixed, 0, path)
        assert 0.5 <= market.crash_depth <= 0.6 and market.recovery_drift == 0.02
        assert 120 <= market.crash_days <= 500 and 0.8 <= market.run_up <= 2.5
        assert pd.Timestamp(DEFAULT_RANGES["peak"][0]) <= market.key_dates["peak"] <= pd.Timestamp("2027-07-02")


def test_rows_are_backtests_on_the_paths_markets():
    from shortthehype.data.synthetic import generate_prices
    from shortthehype.demo import synthetic_overrides
    from shortthehype.runner import backtest

    study = montecarlo("burry-short", paths=2, seed=4, workers=1)
    row = study.rows.iloc[1]
    market = path_scenario(DEFAULT_RANGES, {}, 4, 1)
    settings = {**synthetic_overrides(market)["burry-short"], "start": market.key_dates["bubble_start"]}
    run = backtest("burry-short", overrides=settings, prices=generate_prices(market, seed=4, path=1))
    assert row["total_return"] == run.stats["total_return"]
    # a path that ruins the account has no Sharpe ratio in either (a bankrupt run's ratios are undefined)
    assert row["sharpe"] == run.stats["sharpe"] or (np.isnan(row["sharpe"]) and np.isnan(run.stats["sharpe"]))
    assert row["peak"] == market.key_dates["peak"]
    assert study.to_document()["synthetic"] is True and study.to_document()["oracle_timed"] is False


def test_dotcom_analog_is_labelled_oracle_timed_in_every_output(capsys, tmp_path):
    page = tmp_path / "mc.html"
    code = main(["montecarlo", "dotcom-analog", "--paths", "2", "--workers", "1", "--report", str(page)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("SYNTHETIC data") and "ORACLE-TIMED: dotcom-analog" in out
    html = page.read_text()
    assert html.index('id="sth-caveats"') < html.index('id="sec-header"') and "ORACLE-TIMED" in html


@pytest.mark.parametrize(
    "args, message",
    [
        (["--paths", "0"], "--paths must be an integer >= 1"),
        (["--scenario", "peek=2026-01-01"], "did you mean 'peak'"),
        (["--scenario", "crash_depth=lots"], "--scenario crash_depth=lots"),
        (["--scenario", "recovery_drift=0.1:0.2"], "only peak, run_up, crash_depth, crash_days"),
        (["--scenario", "peak"], "not key=value"),
        (["--path", "sideways"], "--path 'sideways': expected one of auto, fused, generic"),
    ],
)
def test_bad_input_is_one_line(capsys, args, message):
    code = main(["montecarlo", "ma-crossover", "--workers", "1", *args])
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1


def test_the_choice_of_worker_processes_is_timed_on_a_warm_path(monkeypatch):
    """The first path loads the kernels (seconds in a fresh process): timing it would spawn workers for a short run."""
    import time

    import shortthehype.montecarlo as mc

    real_run, estimates = mc._Job._run, []

    def slow_first(job, path_range):
        if path_range.start == 0:
            time.sleep(0.5)
        return real_run(job, path_range)

    def record(workers, serial_seconds):
        estimates.append(serial_seconds)
        return 1

    monkeypatch.setattr(mc._Job, "_run", slow_first)
    monkeypatch.setattr(mc, "_worker_count", record)
    rows = montecarlo("ma-crossover", paths=5, seed=2).rows
    assert rows["path"].tolist() == [0, 1, 2, 3, 4]
    assert len(estimates) == 2 and estimates[1] < 0.5  # 3 paths at a warm path's pace, not at the first's


def test_a_spec_without_a_synthetic_mapping_is_refused():
    with pytest.raises(ParamError, match="no mapping of its tickers"):
        montecarlo({"kind": "fixed-weights", "params": {"weights": {"SPY": 1.0}}}, paths=1)


# ---- the fused path: batches of paths in one kernel call -------------------------------------------------------


def _both_paths(spec, **kwargs):
    fused = montecarlo(spec, path="fused", workers=1, **kwargs)
    generic = montecarlo(spec, path="generic", workers=1, **kwargs)
    pd.testing.assert_frame_equal(fused.rows, generic.rows, check_exact=True)
    assert fused.caveats == generic.caveats
    assert fused.settings == generic.settings
    return fused


@pytest.mark.parametrize("spec", ["sixty-forty", "ai-basket", "hype-hedge", "dotcom-analog", "burry-short", "ma-crossover"])
def test_the_fused_path_gives_the_generic_rows_bit_for_bit(spec):
    study = _both_paths(spec, paths=4, seed=11)
    assert study.rows["path"].tolist() == [0, 1, 2, 3] and study.rows["total_return"].nunique() == 4


def test_the_fused_path_with_a_benchmark_costs_and_stops_gives_the_generic_rows():
    study = _both_paths("ai-basket", paths=3, seed=5,
                        overrides={"benchmark": "MKT", "fees": 0.001, "slippage": 0.0005, "stop_loss": 0.2})
    assert study.rows["benchmark_total_return"].notna().all()


def test_batches_of_any_size_give_the_same_rows(monkeypatch):
    import shortthehype.montecarlo as mc

    whole = montecarlo("hype-hedge", paths=5, seed=3, workers=1, path="fused").rows
    calls = []
    real = mc._Job._run_batch
    monkeypatch.setattr(mc._Job, "_run_batch", lambda job, batch: calls.append(len(batch.paths)) or real(job, batch))
    for setting, value, expected in (("STUDY_TARGETS_CHUNK_BYTES", 1, [1, 1, 1, 1, 1]), ("MONTECARLO_BATCH_PATHS", 3, [1, 1, 3])):
        calls.clear()
        with monkeypatch.context() as patch:
            patch.setattr(mc, setting, value)
            rows = montecarlo("hype-hedge", paths=5, seed=3, workers=1, path="fused").rows
        assert calls == expected
        pd.testing.assert_frame_equal(rows, whole, check_exact=True)


def test_a_path_the_kernel_leaves_to_the_pandas_layer_is_run_there(monkeypatch):
    """A path whose inputs the pandas layer refuses (WINDOW_ELSEWHERE) gets its row from backtest(), not the kernel."""
    import shortthehype.study_windows as sw
    from shortthehype.core.windows_nb import WINDOW_ELSEWHERE

    generic = montecarlo("burry-short", paths=4, seed=9, workers=1, path="generic").rows
    real = sw.run_windows
    left = []

    def leave_the_last(histories, market_of, sets, set_of, los, his, out):
        real(histories, market_of, sets, set_of, los, his, out)
        if len(los) > 1:  # the first two paths run alone; the next two in one call
            out.status[-1] = WINDOW_ELSEWHERE
            out.stats[-1] = np.nan
            left.append(len(los))

    monkeypatch.setattr(sw, "run_windows", leave_the_last)
    fused = montecarlo("burry-short", paths=4, seed=9, workers=1, path="fused").rows
    assert left == [2]
    pd.testing.assert_frame_equal(fused, generic, check_exact=True)


def test_the_command_takes_the_path(capsys, tmp_path):
    rows = {}
    for path in ("fused", "generic"):
        out = tmp_path / f"{path}.parquet"
        code = main(["montecarlo", "ai-basket", "--paths", "3", "--seed", "2", "--workers", "1", "--path", path,
                     "--out", str(out)])
        assert code == 0 and "SYNTHETIC" in capsys.readouterr().out
        rows[path] = pd.read_parquet(out)
    pd.testing.assert_frame_equal(rows["fused"], rows["generic"], check_exact=True)


def test_options_take_the_fused_path_and_what_it_cannot_take_falls_back_under_auto():
    puts = _both_paths("burry-short", paths=3, seed=1, overrides={"instrument": "puts"})
    assert puts.rows["total_return"].nunique() == 3
    unscaled = {"max_gross": 1.0, "scale_gross": False}
    with pytest.raises(ParamError, match=r"^--path fused: scale_gross = false checks each run's targets; use --path"):
        montecarlo("sixty-forty", paths=2, workers=1, path="fused", overrides=unscaled)
    auto = montecarlo("sixty-forty", paths=2, seed=1, workers=1, path="auto", overrides=unscaled)
    generic = montecarlo("sixty-forty", paths=2, seed=1, workers=1, path="generic", overrides=unscaled)
    pd.testing.assert_frame_equal(auto.rows, generic.rows, check_exact=True)


def test_paths_whose_cash_earns_interest_note_that_their_ratios_count_it():
    """The synthetic market's cash earns its constant 3 %/yr: the study says what its ratios make of it."""
    note = ("ma-crossover: the Sharpe, Sortino and omega ratios use a zero risk-free rate while cash earns interest "
            "(cash_rate): a path that holds more cash scores that interest as return")
    assert note in montecarlo("ma-crossover", paths=2, seed=2, workers=1).notes
    free = montecarlo("ma-crossover", paths=2, seed=2, workers=1, overrides={"cash_rate": 0.0})
    assert not [line for line in free.notes if "risk-free" in line]


def test_paths_wiped_out_are_counted_in_a_note():
    """The note counts exactly the paths whose backtest equity touched zero (seed 0: 3 of 8)."""
    from shortthehype.data.synthetic import generate_prices
    from shortthehype.demo import synthetic_overrides
    from shortthehype.runner import backtest

    study = montecarlo("burry-short", paths=8, seed=0, workers=1)
    wiped = 0
    for p in range(8):
        market = path_scenario(DEFAULT_RANGES, {}, 0, p)
        settings = {**synthetic_overrides(market)["burry-short"], "start": market.key_dates["bubble_start"]}
        run = backtest("burry-short", overrides=settings, prices=generate_prices(market, seed=0, path=p))
        wiped += bool((run.result.equity <= 0.0).any())
    assert 0 < wiped < 8
    assert f"{wiped} of 8 paths were wiped out (equity at or below zero on some bar): the Sharpe ratio is undefined for " \
           f"them, so its column summarises the other {8 - wiped}; total return, CAGR and max drawdown count every path" \
           in study.notes
