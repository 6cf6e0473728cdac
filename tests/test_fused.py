"""The fused sweep path of the kinds with a target kernel (fixed-weights, ai-basket, hype-hedge, dotcom-analog in
both modes, burry-short with stock and puts, bubble-timer, option-contracts): every row equals backtest() of its
spec bit for bit, and --path fused equals --path generic (rows, DSR, PBO)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shortthehype.core.fused_nb import window_rows_2d_nb
from shortthehype.engine import _target_rows
from shortthehype.errors import ParamError
from shortthehype.runner import backtest, prepare_window
from shortthehype.spec import load_spec
from shortthehype.sweeps import SWEEP_METRICS, is_empty_cell, sweep

#: Wider grids than the specs' [sweep] tables, sampled at random: every parameter the kernel takes and the
#: scalar costs.
WIDE = {
    "sixty-forty": {
        "weights.SPY": "-0.5:1.5:0.25",
        "weights.QQQ": "-0.5:1.5:0.25",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "fees": "0,0.001,0.01",
        "fixed_fees": "0,1",
        "slippage": "0,0.002",
        "borrow_fee": "0,0.03",
        "stop_loss": "0.05,0.2",
    },
    "static-hype-hedge": {
        "weights.NVDA": "-0.5:0.5:0.1",
        "weights.PLTR": "-0.5:0.5:0.1",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "slippage": "0,0.001",
        "trailing_stop": "0.1,0.3",
    },
    "ai-basket": {
        "weighting": "equal,inverse_vol,momentum",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "exposure": "0.5,1,1.6",
        "vol_window": "2:250:31",
        "momentum_window": "1:250:31",
        "momentum_tilt": "0:1:0.25",
        "trend_window": "0,2,10,50,100,200,250",
        "fees": "0,0.002",
        "slippage": "0,0.003",
    },
    "hype-hedge": {
        "market": "SPY,RSP,QQQ,BASKET",
        "split": "burry,equal",
        "beta_window": "5:252:21",
        "long_weight": "0.5,1,1.5",
        "gross_cap": "1,2,3",
        "rebalance": "daily,weekly,monthly,quarterly",
        "borrow_fee": "0,0.05",
        "slippage": "0,0.002",
    },
    "dotcom-analog": {
        "time_scale": "0.5:3:0.25",
        "lead_days": "0:300:30",
        "after_peak": "short,cash",
        "after_trough": "long,cash",
        "exposure": "0.5,1,1.5",
        "short_exposure": "0.5,1",
        "rebalance": "daily,weekly,monthly,quarterly,yearly,once",
        "ai_start": "2022-11-30,2023-06-01",
        "dotcom_peak": "2000-03-10,2000-09-01",
        "fees": "0,0.002",
    },
    "dotcom-analog-path": {
        "mode": "calendar,path",
        "window": "126,189",
        "scale_steps": "3,4",
        "rebalance": "weekly,monthly,quarterly",
        "lead_days": "0:300:60",
        "after_peak": "short,cash",
        "after_trough": "long,cash",
        "exposure": "0.5,1,1.5",
        "short_exposure": "0.5,1",
        "dotcom_peak": "1999-06-01,2000-03-10",
        "time_scale": "1,1.5,2",
        "slippage": "0,0.002",
    },
    "burry-short": {
        "split.PLTR": "0:2:0.5",
        "split.NVDA": "0.1,1",
        "exposure": "0.2:1.6:0.2",
        "entry": "2020-06-01,2021-01-04,2023-01-03,2024-01-02,2025-11-03,2026-06-01",
        "hold_days": "none,1,20,250",
        "rebalance": "hold,keep_weights",
        "rebalance_freq": "daily,weekly,monthly,quarterly",
        "borrow_fee": "0,0.05",
        "stop_loss": "none,0.1,0.5",
        "slippage": "0,0.002",
    },
    "bubble-timer": {
        "ticker": "AI-BASKET,NVDA,QQQ",
        "step": "10,21",
        "window_max": "90,120",
        "bubble_threshold": "0.05:0.5:0.05",
        "antibubble_threshold": "0.05,0.2,0.5",
        "hold": "0,5,21,63",
        "bubble_exposure": "-1,-0.5,0",
        "antibubble_exposure": "0,1,1.5",
        "neutral_exposure": "0.5,1",
        "rebalance": "weekly,monthly",
        "fees": "0,0.002",
    },
    "burry-puts": {  # option contracts: every parameter prices the contracts (one pricing per combination)
        "entry": "2025-09-02,2025-10-01,2025-10-15,2025-11-03,2025-12-01",
        "exit": "none,2026-03-02,2026-06-01",
        "skew_slope": "0:0.3:0.05",
        "skew_curvature": "0,0.045,0.1",
        "vol_window": "21,63,126",
        "iv_markup": "1,1.2,1.5",
        "fees": "0,0.0035",
        "slippage": "0,0.02",
    },
}
#: Engine settings fixed for a whole sweep that change the arithmetic (close execution, caps, interest, shares).
ENGINE_VARIANT = {
    "execution": "close",
    "max_gross": "1.2",
    "cash_rate": "0.02",
    "integer_shares": "true",
    "maintenance_margin": "0.3",
}
WINDOWS = {
    "sixty-forty": {"start": "2015-06-15", "end": "2019-12-31"},
    "static-hype-hedge": {"start": "2020-06-01", "end": "2023-12-29"},
    "ai-basket": {},
    "hype-hedge": {},
    "dotcom-analog": {},
    "dotcom-analog-path": {"mode": "path", "window": 126, "scale_steps": 3},
    "burry-puts": {},
    "burry-short": {},
    # small LPPLS windows from 2022 on keep the indicator cheap
    "bubble-timer": {"window_min": 60, "window_max": 120, "window_step": 30, "step": 10,
                     "evaluate_from": "2022-01-03", "start": "2022-06-01"},
}
#: The spec of a case named otherwise.
SPECS = {"dotcom-analog-path": "dotcom-analog"}
KINDS = list(WIDE)


@pytest.fixture(scope="module")
def prices(shared_prices_dir):
    from shortthehype.data.load import load_prices

    tickers = ["SPY", "QQQ", "RSP", "NVDA", "PLTR", "IXIC", *load_spec("ai-basket").tickers()]
    return load_prices(list(dict.fromkeys(tickers)), data_dir=shared_prices_dir)


def _overrides(row: pd.Series, grid_keys) -> dict:
    return {key: row[key].item() if isinstance(row[key], np.generic) else row[key]
            for key in grid_keys if not is_empty_cell(row[key])}


def _assert_rows_equal_backtest(result, spec, overrides, prices):
    """Every row against ``BacktestRun.stats`` of its combination."""
    for _, row in result.table.iterrows():
        combination = {**overrides, **_overrides(row, result.grid)}
        run = backtest(spec, overrides=combination, prices=prices)
        assert row["end_value"] == run.result.equity.iloc[-1], combination
        for key in SWEEP_METRICS[1:]:
            same = row[key] == run.stats[key] or (math.isnan(row[key]) and math.isnan(run.stats[key]))
            assert same, (key, combination, row[key], run.stats[key])
        assert row["bankrupt"] == run.result.bankrupt


def _assert_paths_equal(fused, generic):
    assert fused.mode == "fused" and generic.mode == "generic"
    pd.testing.assert_frame_equal(fused.table, generic.table)
    assert fused.dsr == generic.dsr
    assert (fused.pbo is None) == (generic.pbo is None) and fused.pbo_note == generic.pbo_note
    if fused.pbo is not None:
        assert fused.pbo.pbo == generic.pbo.pbo or (math.isnan(fused.pbo.pbo) and math.isnan(generic.pbo.pbo))


@pytest.mark.parametrize("case", KINDS)
def test_default_grid_fused_rows_equal_backtest_and_the_generic_path(prices, case):
    name, grid = SPECS.get(case, case), None
    fused = sweep(name, grid, overrides=WINDOWS[case], prices=prices, n_blocks=4, path="fused")
    generic = sweep(name, grid, overrides=WINDOWS[case], prices=prices, n_blocks=4, path="generic", workers=1)
    # time_scale applies to calendar mode only: path mode runs lead_days x after_peak; burry-short's stock
    # combinations are exposure x entry x rebalance, its puts entry x moneyness x tenor_days
    distinct = {"dotcom-analog-path": 4 * 2, "burry-short": 5 * 4 * 2 + 4 * 4 * 3}
    expected = distinct.get(case, math.prod(len(v) for v in fused.grid.values()))
    assert fused.n_run == expected and fused.grid.keys() == (grid or load_spec(name).sweep).keys()
    _assert_paths_equal(fused, generic)
    _assert_rows_equal_backtest(fused, name, WINDOWS[case], prices)


@pytest.mark.parametrize("case", KINDS)
@pytest.mark.parametrize("variant", ["defaults", "engine"], ids=["spec-engine", "close-capped-margin"])
def test_random_wide_grid_fused_rows_equal_backtest_and_the_generic_path(prices, case, variant):
    name = SPECS.get(case, case)
    overrides = {**WINDOWS[case], **(ENGINE_VARIANT if variant == "engine" else {})}
    n = 200 if variant == "defaults" else 60
    kwargs = dict(overrides=overrides, prices=prices, random=n, seed=13, n_blocks=4, force=True)
    fused = sweep(name, WIDE[case], path="fused", **kwargs)
    generic = sweep(name, WIDE[case], path="generic", workers=1, **kwargs)
    assert fused.n_run == n
    _assert_paths_equal(fused, generic)
    _assert_rows_equal_backtest(fused, name, overrides, prices)


#: burry-short's puts: the parameters the rolls depend on (one pricing per distinct set) and those they do not.
PUTS_WIDE = {
    "instrument": "stock,puts",
    "entry": "2023-01-03,2024-06-03,2025-11-03",
    "hold_days": "none,60",
    "moneyness": "0.7,1.0",
    "tenor_days": "91,365",
    "roll_days": "0,21",
    "skew_slope": "0,0.2",
    "vol_window": "21,63",
    "premium_budget": "0.01,0.05,0.2",
    "split.NVDA": "0,187",
    "slippage": "0.0005,0.02",
}


@pytest.mark.parametrize("variant", ["defaults", "engine"], ids=["spec-engine", "close-capped-margin"])
def test_burry_short_puts_fused_rows_equal_backtest_and_the_generic_path(prices, variant):
    """Rolled puts (derived instruments) on the fused path: 200 random combinations (60 with the engine variant)."""
    overrides = ENGINE_VARIANT if variant == "engine" else {}
    n = 200 if variant == "defaults" else 60
    kwargs = dict(overrides=overrides, prices=prices, random=n, seed=5, n_blocks=4, force=True)
    fused = sweep("burry-short", PUTS_WIDE, path="fused", **kwargs)
    generic = sweep("burry-short", PUTS_WIDE, path="generic", workers=1, **kwargs)
    assert fused.n_run == n and set(fused.table["instrument"]) == {"stock", "puts"}
    _assert_paths_equal(fused, generic)
    _assert_rows_equal_backtest(fused, "burry-short", overrides, prices)


def test_fused_groups_beyond_the_cache_are_recomputed_to_the_same_rows(prices, monkeypatch):
    """An options sweep prices a group per combination: with room for 2 groups, chunks recompute the rest."""
    import shortthehype.fused as fused_module

    # the budget varies slowest: each chunk of 4 meets groups the previous chunks priced and dropped
    grid = {"premium_budget": "0.02,0.05", "instrument": "puts", "moneyness": "0.7,0.8,0.9", "tenor_days": "91,182"}
    kwargs = dict(prices=prices, n_blocks=0, path="fused", chunk_size=4)
    roomy = sweep("burry-short", grid, **kwargs)
    monkeypatch.setattr(fused_module, "SWEEP_FUSED_GROUP_CACHE", 2)
    tight = sweep("burry-short", grid, **kwargs)
    pd.testing.assert_frame_equal(roomy.table, tight.table)


def test_fused_rows_of_a_bankrupt_leveraged_short_book_equal_backtest(prices):
    """Shorts at 3x through the 2020 rally: the engine's bankruptcy and close-out on the fused path."""
    grid = {"weights.SPY": "-3,-2", "weights.QQQ": "-1.5,0", "rebalance": "daily,monthly"}
    window = {"start": "2020-03-23", "end": "2021-12-31"}
    fused = sweep("sixty-forty", grid, overrides=window, prices=prices, n_blocks=0, path="fused")
    generic = sweep("sixty-forty", grid, overrides=window, prices=prices, n_blocks=0, path="generic", workers=1)
    _assert_paths_equal(fused, generic)
    _assert_rows_equal_backtest(fused, "sixty-forty", window, prices)


def test_path_choice_and_its_errors(prices):
    short = {"start": "2023-01-03", "end": "2023-06-30"}
    with pytest.raises(ParamError, match=r"--path fused cannot run this sweep: the fused path does not sweep 'tickers'"):
        sweep("ai-basket", {"tickers": ["NVDA,MSFT", "AMD,TSM"]}, overrides=short, prices=prices, path="fused")
    with pytest.raises(ParamError, match=r"'weights.NVDA' adds a ticker to 'weights'"):
        sweep("sixty-forty", {"weights.NVDA": "0.1,0.2"}, overrides=short, prices=prices, path="fused")
    with pytest.raises(ParamError, match=r"the fused path does not sweep 'reference'"):
        sweep("dotcom-analog", {"reference": "IXIC,SPY"}, overrides={**short, "mode": "path"}, prices=prices,
              path="fused")
    with pytest.raises(ParamError, match=r"'split' changes the tickers of 'split'"):
        sweep("burry-short", {"split": ["PLTR=1", "TSLA=1"]}, overrides=short, prices=prices, path="fused")
    with pytest.raises(ParamError, match=r"kind 'python' has no fused kernel"):
        sweep("my-idea", None, overrides=short, prices=prices, path="fused")
    with pytest.raises(ParamError, match=r"unknown path 'fussed'; did you mean 'fused'"):
        sweep("sixty-forty", None, prices=prices, path="fussed")
    # a grid the kernel cannot take runs generic under auto
    auto = sweep("ai-basket", {"tickers": ["NVDA,MSFT", "AMD,TSM"]}, overrides=short, prices=prices, workers=1,
                 n_blocks=0)
    assert auto.mode == "generic"


def test_window_rows_equal_prepare_window_and_the_engine_rows():
    """The kernel's window rows against the pandas path they replace, on random sparse targets."""
    rng = np.random.default_rng(5)
    index = pd.bdate_range("2020-01-01", periods=60)
    for trial in range(200):
        k = int(rng.integers(1, 4))
        targets = np.where(rng.random((60, k)) < 0.15, rng.normal(size=(60, k)), np.nan)
        lo, hi = sorted(int(v) for v in rng.choice(60, size=2, replace=False))
        if hi - lo < 1:
            continue
        for mode, shift in (("close", 0), ("next_open", 1)):
            frame = pd.DataFrame(targets, index=index, columns=[f"T{j}" for j in range(k)])
            window, windowed = prepare_window(frame, index, index[lo], index[hi])
            expected_bar, expected_w = _target_rows(windowed, list(frame.columns), window, mode)
            row_bar = np.empty(hi - lo + 2, dtype=np.int64)
            row_w = np.empty((hi - lo + 2, k))
            n = window_rows_2d_nb(targets, lo, hi, shift, row_bar, row_w)
            np.testing.assert_array_equal(row_bar[:n], expected_bar)
            np.testing.assert_array_equal(row_w[:n], expected_w)


def test_a_repeated_sweep_reads_the_prepared_arrays_kept_with_the_prices_and_new_prices_compute_them_again(prices,
                                                                                                          monkeypatch):
    """hype-hedge's rolling betas, computed when a sweep group prepares its arrays, are kept with the loaded prices."""
    from shortthehype.constants import PRICE_FIELDS
    from shortthehype.data.prices import Prices
    from shortthehype.strategies import hype_hedge

    computed = []
    original = hype_hedge._betas

    def counted(*args, **kwargs):
        if len(args[2]) > 1:  # a sweep's stack (a single backtest of the sweep asks for its own window)
            computed.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(hype_hedge, "_betas", counted)
    grid = {"market": "SPY,RSP", "beta_window": "40,63,126", "gross_cap": "1,2"}
    first = sweep("hype-hedge", grid, prices=prices, workers=1, n_blocks=0, path="fused")
    assert computed == [[40, 63, 126]] * 2  # once per market
    again = sweep("hype-hedge", grid, prices=prices, workers=1, n_blocks=0, path="fused")
    assert len(computed) == 2
    pd.testing.assert_frame_equal(again.table, first.table)
    drawn = sweep("hype-hedge", grid, prices=prices, workers=1, n_blocks=0, path="fused", random=5, seed=2)
    assert len(computed) == 2 and drawn.n_run == 5  # another draw from the same grid: its groups' first members differ
    frames = {name: prices.field(name).copy() for name in PRICE_FIELDS}
    frames["close"]["SPY"] = frames["close"]["SPY"] * np.where(np.arange(len(prices.index)) % 2, 1.01, 1.0)
    fresh = Prices(**frames)
    moved = sweep("hype-hedge", grid, prices=fresh, workers=1, n_blocks=0, path="fused")
    assert len(computed) == 4
    assert not moved.table["sharpe"].equals(first.table["sharpe"])


def test_burry_short_stock_rows_read_from_the_window_equal_those_of_the_whole_history():
    """The stock kernel writes rows only from the last one it sets at or before the window's first bar: what the
    window reader sees in a buffer full of another combination's values equals the whole history's rows."""
    from shortthehype.core.targets_nb import BURRY_STOCK, burry_short_targets_nb

    rng = np.random.default_rng(11)
    n, k = 80, 2
    calendars = rng.random((2, n)) < 0.1
    data = (calendars, np.empty((0, 0)))
    cases = [(-1, -1)] + [tuple(sorted(int(v) for v in rng.choice(n + 1, size=2, replace=False))) for _ in range(150)]
    for trial, (entry, exit_bar) in enumerate(cases):
        ip = np.array([BURRY_STOCK, entry, exit_bar, trial % 3 - 1], dtype=np.int64)
        fp = rng.normal(size=k)
        whole = np.empty((n, k))
        burry_short_targets_nb(data, ip, fp, 0, whole)
        for lo in (0, max(entry, 0), max(entry - 1, 0), min(entry + 5, n - 2), int(rng.integers(0, n - 1))):
            windowed = np.full((n, k), 7.0)  # what an earlier combination left in the buffer
            burry_short_targets_nb(data, ip, fp, lo, windowed)
            rows = []
            for targets in (whole, windowed):
                row_bar, row_w = np.empty(n + 1, dtype=np.int64), np.empty((n + 1, k))
                m = window_rows_2d_nb(targets, lo, n - 1, 1, row_bar, row_w)
                rows.append((row_bar[:m], row_w[:m]))
            np.testing.assert_array_equal(rows[1][0], rows[0][0], err_msg=f"entry {entry}, exit {exit_bar}, lo {lo}")
            np.testing.assert_array_equal(rows[1][1], rows[0][1], err_msg=f"entry {entry}, exit {exit_bar}, lo {lo}")


def test_precompile_sweeps_every_mapped_essay_spec_on_its_fused_path():
    """``shortthehype precompile`` compiles each kind's fused driver: its sweeps must take the fused path."""
    from shortthehype.precompile import synthetic_sweeps
    from shortthehype.sweeps import build_axes
    from shortthehype.sweeps.plan import choose_path

    _, sweeps = synthetic_sweeps()
    kinds = {spec.kind.name for spec, _ in sweeps}
    assert {"fixed-weights", "ai-basket", "dotcom-analog", "hype-hedge", "burry-short", "ma-crossover"} <= kinds
    for spec, grid in sweeps:
        assert choose_path(spec, build_axes(spec, grid), "auto") == "fused", spec.name
