"""Honest trial counts: parameters that declare when they apply, entry dates that move the window,
sweeps that run each distinct effective combination once, and the warnings and views that say so."""

from __future__ import annotations

import json
import math

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import shortthehype.cli.backtest_cmd  # noqa: F401  (registers the commands on the app)
import shortthehype.cli.sweep_cmd  # noqa: F401
from shortthehype.cli import main
from shortthehype.data.load import load_prices
from shortthehype.errors import ParamError, SpecError
from shortthehype.params import Param, check_declarations, inactive_params
from shortthehype.runner import backtest
from shortthehype.spec import available_specs, load_spec, spec_from_mapping
from shortthehype.strategies.base import strategy_kinds
from shortthehype.sweeps import load_sweep, sweep

#: A short window keeps the invariance runs quick.
SHORT = {"start": "2023-01-03", "end": "2024-06-28"}
#: bubble-timer: few, small LPPLS windows (the parameter under test does not touch the fits).
QUICK_BUBBLES = {"evaluate_from": "2023-01-03", "window_max": "250", "step": "21"}
#: Settings a kind needs to trade inside SHORT (option-contracts: a purchase in the window) ...
KIND_BASE = {"option-contracts": {"entry": "2023-01-03"}}
#: ... and the setting each volatility source needs (a level, a file).
VOL_SOURCE_NEEDS = {
    "constant": {"vol_level": "0.5"},
    "csv": {"iv_file": str(Path(__file__).resolve().parents[2] / "shared" / "data" / "volatility" / "VXN.csv")},
}


# ---- declarations ------------------------------------------------------------------------------


def test_a_parameter_applies_when_all_its_conditions_hold_and_its_conditions_apply():
    params = (
        Param("instrument", "choice", "stock", "", choices=("stock", "puts")),
        Param("rebalance", "choice", "hold", "", choices=("hold", "keep_weights"), applies={"instrument": "stock"}),
        Param("freq", "choice", "monthly", "", choices=("monthly", "weekly"), applies={"rebalance": "keep_weights"}),
        Param("moneyness", "float", 0.9, "", applies={"instrument": ("puts",)}),
    )
    assert inactive_params(params, {"instrument": "stock", "rebalance": "hold"}) == {"freq", "moneyness"}
    assert inactive_params(params, {"instrument": "stock", "rebalance": "keep_weights"}) == {"moneyness"}
    # freq's own condition holds, but rebalance does not apply to puts: neither does freq
    assert inactive_params(params, {"instrument": "puts", "rebalance": "keep_weights"}) == {"rebalance", "freq"}
    assert params[2].describe_applies() == "rebalance = keep_weights"
    assert hash(params[3])  # declarations stay hashable


def test_declarations_naming_an_unknown_parameter_or_an_impossible_value_are_refused():
    mode = Param("mode", "choice", "a", "", choices=("a", "b"))
    with pytest.raises(SpecError, match=r"'x' applies when 'modee', which is not another parameter"):
        check_declarations((mode, Param("x", "int", 1, "", applies={"modee": "a"})), "kind 'k'")
    with pytest.raises(ParamError, match=r"'c' is not one of a, b"):
        check_declarations((mode, Param("x", "int", 1, "", applies={"mode": "c"})), "kind 'k'")
    with pytest.raises(ValueError, match=r"only a date can move the backtest window"):
        Param("entry", "int", 1, "", moves_window=True)


def test_every_built_in_declaration_is_consistent():
    for kind in strategy_kinds().values():
        check_declarations(kind.params, kind.name)


def _spec_of_kind(kind: str) -> str:
    return next(name for name, path in available_specs().items() if load_spec(path).kind.name == kind)


def _other_value(param: Param, value):
    """A different valid value of ``param`` (the invariance test changes it)."""
    if param.type == "bool":
        return not value
    if param.type == "int":
        return value + 21
    if param.type == "float":
        other = value / 2.0 if value else 0.05
        return other if param.minimum is None or other > param.minimum else (value + param.maximum) / 2.0
    if param.type == "date":
        return value - pd.Timedelta(days=30)
    if param.type == "ticker":
        return "QQQ" if value != "QQQ" else "SPY"
    if param.type == "tickers":
        return list(value)[:2]
    if param.type == "str":
        return "another-file.csv"  # never read: the parameter does not apply
    raise AssertionError(f"no other value for a {param.type} parameter")


def _accepted(spec, overrides) -> bool:
    from shortthehype.errors import SpecError

    try:
        spec.with_overrides(overrides)
    except SpecError:
        return False
    return True


def _inactive_cases():
    """(kind, parameter, overrides under which it does not apply) for every declared condition."""
    cases = []
    for kind in sorted(strategy_kinds().values(), key=lambda k: k.name):
        for param in kind.params:
            if not param.applies:
                continue
            for name, allowed in param.applies:  # each condition failing alone
                condition = kind.param(name)
                if condition.type == "choice":
                    other = next(c for c in condition.choices if c not in allowed)
                else:
                    other = next(t for t in ("QQQ", "SPY") if t not in allowed)
                cases.append(pytest.param(kind.name, param.name, {name: other}, id=f"{kind.name}-{param.name}-{name}"))
    return cases


@pytest.mark.parametrize(("kind", "name", "base"), _inactive_cases())
def test_a_parameter_that_does_not_apply_cannot_change_the_backtest(shared_prices_dir, kind, name, base):
    needs = VOL_SOURCE_NEEDS.get(base.get("vol_source"), {})
    extra = {**(QUICK_BUBBLES if kind == "bubble-timer" else {}), **KIND_BASE.get(kind, {}), **needs}
    spec = load_spec(_spec_of_kind(kind)).with_overrides({**SHORT, **base, **extra})
    assert name in spec.inactive()
    param = spec.kind.param(name)
    if param.type == "choice":  # a value the kind's check accepts here
        others = [c for c in param.choices if c != spec.params[name] and _accepted(spec, {name: c})]
        if not others:  # the check pins it (burry-short puts: rebalance = hold): refused, never silently used
            return
        other = spec.with_overrides({name: others[0]})
    else:
        other = spec.with_overrides({name: _other_value(param, spec.params[name])})
    assert other.params[name] != spec.params[name]
    a = backtest(spec, data_dir=shared_prices_dir, source="csv").result.equity
    b = backtest(other, data_dir=shared_prices_dir, source="csv").result.equity
    assert a.index.equals(b.index) and np.array_equal(a.to_numpy(), b.to_numpy())


def test_the_declared_conditions_of_burry_short():
    spec = load_spec("burry-short")
    puts_only = {"premium_budget", "moneyness", "tenor_days", "roll_days", "risk_free", "vol_window", "iv_markup",
                 "vol_source", "vol_level", "iv_file", "skew_slope", "skew_curvature"}
    assert spec.inactive() == puts_only | {"rebalance_freq"}
    assert spec.with_overrides({"rebalance": "keep_weights"}).inactive() == puts_only
    other_sources = {"vol_level", "iv_file"}  # the default volatility source is realised
    assert spec.with_overrides({"instrument": "puts"}).inactive() == {"exposure", "rebalance", "rebalance_freq"} | other_sources


# ---- the window follows the entry ----------------------------------------------------------------


def test_an_entry_override_moves_the_window_start_unless_start_is_given_too():
    spec = load_spec("burry-short")  # start = entry = 2025-11-03 in the file
    moved = spec.with_overrides({"entry": "2024-01-02"})
    assert moved.run["start"] == moved.params["entry"] == pd.Timestamp("2024-01-02") and not moved.warnings()
    later = spec.with_overrides({"entry": "2026-01-05"})
    assert later.run["start"] == pd.Timestamp("2026-01-05")
    clamped = spec.with_overrides({"entry": "2024-01-02", "start": "2025-01-02"})
    assert clamped.run["start"] == clamped.params["entry"] == pd.Timestamp("2025-01-02")
    assert clamped.warnings() == [
        f"{spec.where}: entry 2024-01-02 is before the backtest's start 2025-01-02: moved to 2025-01-02 "
        "(nothing is decided before the window)"
    ]
    # a start given earlier (e.g. --set start=...) stays explicit for later overrides (a sweep's combinations)
    later_entry = spec.with_overrides({"start": "2025-01-02"}).with_overrides({"entry": "2021-01-04"})
    assert later_entry.run["start"] == later_entry.params["entry"] == pd.Timestamp("2025-01-02")
    inside = spec.with_overrides({"start": "2023-01-03", "entry": "2024-01-02"})
    assert inside.run["start"] == pd.Timestamp("2023-01-03") and inside.params["entry"] == pd.Timestamp("2024-01-02")


def test_a_spec_file_entry_before_its_start_is_clamped_with_a_note():
    spec = spec_from_mapping(
        {"kind": "burry-short", "start": "2025-11-03", "params": {"entry": "2023-01-03", "instrument": "puts"}}
    )
    assert spec.params["entry"] == pd.Timestamp("2025-11-03")
    assert spec.warnings() == [
        "spec: entry 2023-01-03 is before the backtest's start 2025-11-03: moved to 2025-11-03 "
        "(nothing is decided before the window)"
    ]


def test_a_moved_window_starts_on_the_entry_bar(shared_prices_dir):
    run = backtest("burry-short", overrides={"entry": "2024-01-02"}, data_dir=shared_prices_dir, source="csv")
    pltr = pd.read_csv(shared_prices_dir / "PLTR.csv", index_col="date", parse_dates=["date"])
    assert run.start == pltr.index[pltr.index >= "2024-01-02"][0]
    orders = run.result.orders
    assert orders["date"].min() == pltr.index[pltr.index > "2024-01-02"][0]  # traded at the next open


def test_puts_entered_before_the_window_are_never_bought_from_a_contract_decided_before_it(shared_prices_dir):
    """Entry 2023-01-03 in a window from 2025-11-03: every put held is priced from the window's start on.

    A contract's price series starts on its decision bar, so a put slot whose
    first price precedes the window would hold a contract decided before it
    (bought on the window's first bar at a price from a stale schedule).
    """
    overrides = {"instrument": "puts", "entry": "2023-01-03", "start": "2025-11-03"}
    run = backtest("burry-short", overrides=overrides, data_dir=shared_prices_dir, source="csv")
    history = load_prices(["PLTR", "NVDA"], data_dir=shared_prices_dir, source="csv")
    traded = run.spec.kind.traded_prices(history, run.spec.params)
    held = [t for t in run.result.positions.columns if "_PUT_" in t and (run.result.positions[t] != 0).any()]
    assert held
    for slot in held:
        assert traded.close[slot].first_valid_index() >= pd.Timestamp("2025-11-03"), slot
    # and the run is the one entering on the window's first day
    same = backtest("burry-short", overrides={"instrument": "puts", "start": "2025-11-03"}, data_dir=shared_prices_dir, source="csv")
    assert np.array_equal(run.result.equity.to_numpy(), same.result.equity.to_numpy())


# ---- sweeps count distinct trials ------------------------------------------------------------------

BURRY_GRID = {
    "instrument": "stock,puts",
    "exposure": "0.4,0.8",
    "moneyness": "0.8,0.9",
    "rebalance": "hold,keep_weights",
    "entry": "2021-01-04,2023-01-03",
}


@pytest.fixture(scope="module")
def burry_sweep(shared_prices_dir):
    """The grid above with an explicit start: 32 combinations, of which 6 differ.

    puts x keep_weights is invalid (8 of 32).  Both entries are before the
    start, so both are clamped to it (one entry).  Stock: moneyness does not
    apply -> exposure x rebalance = 4 trials.  Puts: exposure and rebalance do
    not apply -> moneyness = 2 trials.
    """
    return sweep("burry-short", BURRY_GRID, overrides={"start": "2025-01-02"}, data_dir=shared_prices_dir,
                 source="csv", n_blocks=4, workers=1)


def test_a_sweep_runs_each_distinct_effective_combination_once(burry_sweep):
    result = burry_sweep
    assert (result.n_grid, result.n_invalid, result.n_duplicate, result.n_run) == (32, 8, 18, 6)
    assert result.n_distinct == 6 and len(result.table) == 6
    assert result.dsr.n_trials == 6 and result.pbo.n_trials == 6
    table = result.table
    assert (table["entry"] == pd.Timestamp("2025-01-02")).all()
    stock = table[table["instrument"] == "stock"]
    puts = table[table["instrument"] == "puts"]
    assert len(stock) == 4 and stock["moneyness"].isna().all()
    assert sorted(zip(stock["exposure"], stock["rebalance"].astype(str))) == [
        (0.4, "hold"), (0.4, "keep_weights"), (0.8, "hold"), (0.8, "keep_weights")
    ]
    assert len(puts) == 2 and puts["exposure"].isna().all() and puts["rebalance"].isna().all()
    assert sorted(puts["moneyness"]) == [0.8, 0.9]


def test_each_distinct_row_equals_its_backtest(burry_sweep, shared_prices_dir):
    for _, row in burry_sweep.table.iterrows():
        settings = {k: row[k] for k in BURRY_GRID if not pd.isna(row[k])}
        run = backtest("burry-short", overrides={**settings, "start": "2025-01-02"}, data_dir=shared_prices_dir, source="csv")
        assert row["end_value"] == run.stats["end_value"] and row["sharpe"] == pytest.approx(run.stats["sharpe"], rel=1e-12, nan_ok=True)


def test_without_an_explicit_start_each_entry_is_its_own_window(shared_prices_dir):
    grid = {"instrument": "stock,puts", "moneyness": "0.8,0.9", "entry": "2025-06-02,2025-11-03"}
    result = sweep("burry-short", grid, data_dir=shared_prices_dir, source="csv", n_blocks=4, workers=1)
    # stock: 2 entries; puts: 2 entries x 2 moneyness
    assert (result.n_grid, result.n_invalid, result.n_duplicate, result.n_run, result.dsr.n_trials) == (8, 0, 2, 6, 6)
    assert result.window == "varies" and result.pbo is None and "varies the backtest window" in result.pbo_note


def test_random_draws_among_distinct_combinations(shared_prices_dir):
    grid = {"instrument": "stock,puts", "moneyness": "0.7,0.8,0.9"}
    result = sweep("burry-short", grid, random=10, seed=1, overrides=SHORT | {"entry": "2023-01-03", "start": "2023-01-03"},
                   data_dir=shared_prices_dir, source="csv", n_blocks=0, workers=1)
    assert result.n_run == 4 and result.dsr.n_trials == 4  # stock once + 3 puts, not 10 draws of 6


def test_the_results_file_keeps_the_empty_cells_and_the_counts(burry_sweep, shared_prices_dir, tmp_path):
    out = tmp_path / "r.parquet"
    written = sweep("burry-short", BURRY_GRID, overrides={"start": "2025-01-02"}, data_dir=shared_prices_dir,
                    source="csv", n_blocks=4, workers=1, chunk_size=4, out=out)
    loaded = load_sweep(out)
    assert loaded.n_duplicate == 18 and loaded.n_run == 6
    pd.testing.assert_frame_equal(loaded.table, written.table)
    pd.testing.assert_frame_equal(written.table, burry_sweep.table)
    assert loaded.table["moneyness"].isna().sum() == 4 and loaded.table["rebalance"].isna().sum() == 2
    best = loaded.best_params
    assert all(not pd.isna(v) for v in best.values())


def test_the_sweep_document_and_reports_show_empty_cells_and_the_counts(burry_sweep, tmp_path):
    from shortthehype.report import render

    document = json.loads(json.dumps(burry_sweep.to_document(x="moneyness", y="instrument")))
    data = document["table"]["data"]
    assert data["moneyness"].count(None) == 4 and data["exposure"].count(None) == 2
    assert document["n_duplicate"] == 18
    counts = "32 combinations requested: 8 invalid, 18 identical to another"
    html = render(document, "html")
    assert "Combinations requested" in html and "Identical to another (not run)" in html
    assert "Distinct trials run" in html and '"n/a"' in html
    markdown = render(document, "md")
    assert counts in markdown and "6 distinct trials run" in markdown
    assert "| nan" not in markdown and "None" not in markdown


def test_the_fused_ma_crossover_path_is_untouched(shared_prices_dir):
    result = sweep("ma-crossover", {"fast": "5,10", "slow": "20,30"}, overrides={"start": "2015-01-02", "end": "2016-12-30"},
                   data_dir=shared_prices_dir, n_blocks=0)
    assert result.mode == "fused" and result.n_duplicate == 0 and result.n_run == 4
    assert str(result.table["fast"].dtype) == "int64"


# ---- the command line ------------------------------------------------------------------------------


def test_set_of_a_parameter_that_does_not_apply_warns_in_one_line(shared_prices_dir, capsys):
    args = ["backtest", "burry-short", "--data-dir", str(shared_prices_dir), "--source", "csv"]
    assert main(args + ["--set", "moneyness=0.8"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning: ")
    assert lines[0].endswith("moneyness has no effect: it applies only when instrument = puts (here instrument = stock)")
    assert main(args + ["--set", "moneyness=0.8", "--set", "instrument=puts"]) == 0
    assert "has no effect" not in capsys.readouterr().err


def test_sweep_command_counts_requested_and_distinct_trials(shared_prices_dir, capsys, monkeypatch):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)
    code = main([
        "sweep", "burry-short", "--grid", "instrument=stock,puts", "--grid", "moneyness=0.8,0.9", "--set", "exposure=0.5",
        "--start", "2025-01-02", "--data-dir", str(shared_prices_dir), "--source", "csv", "--blocks", "0", "--workers", "1",
    ])
    captured = capsys.readouterr()
    assert code == 0
    assert "4 combinations requested: 0 invalid, 1 identical to another" in captured.out
    assert "3 distinct trials run" in captured.out and "best of 3 skill-less trials" in captured.out
    assert "has no effect" not in captured.err  # exposure applies to the stock rows of the grid


def test_strategies_show_says_when_a_parameter_applies(capsys, monkeypatch):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 400)
    assert main(["strategies", "show", "burry-short"]) == 0
    out = capsys.readouterr().out
    assert "Applies only when instrument = puts." in out
    assert "Applies only when instrument = stock and rebalance = keep_weights." in out
    assert "0.9 (does not apply)" in out
    assert "Moves the backtest's start with it unless start is set too." in out


def test_dsr_deflates_by_the_distinct_trials_only(burry_sweep):
    """The DSR's expected maximum grows with N: with 6 distinct trials it is the closed form at N = 6."""
    from scipy.stats import norm

    dsr = burry_sweep.dsr
    per_bar = burry_sweep.table["sharpe"].to_numpy() / math.sqrt(252)
    finite = per_bar[np.isfinite(per_bar)]  # a bankrupt trial has no Sharpe ratio: it still counts as a trial
    assert len(per_bar) == 6 and dsr.sharpe_variance == pytest.approx(np.var(finite, ddof=1), rel=1e-12)
    gamma = 0.5772156649015329
    n = 6
    expected = math.sqrt(dsr.sharpe_variance) * (
        (1 - gamma) * norm.ppf(1 - 1 / n) + gamma * norm.ppf(1 - 1 / (n * math.e))
    )
    assert dsr.expected_max == pytest.approx(expected, rel=1e-12)


def test_a_python_strategy_file_can_declare_when_its_parameters_apply(tmp_path, capsys):
    source = (
        "from shortthehype.params import Param\n"
        "PARAMS = (Param('mode', 'choice', 'flat', 'x', choices=('flat', 'tilted')),\n"
        "          Param('tilt', 'float', 0.5, 'x', applies={'mode': VALUE}))\n"
        "TICKERS = ['QQQ']\n"
        "def target_weights(prices, params):\n"
        "    raise AssertionError('not run')\n"
    )
    (tmp_path / "idea.py").write_text(source.replace("VALUE", "'tilted'"))
    (tmp_path / "idea.toml").write_text('kind = "python"\n[params]\nfile = "idea.py"\n')
    spec = load_spec(tmp_path / "idea.toml")
    assert spec.inactive() == {"tilt"} and spec.with_overrides({"mode": "tilted"}).inactive() == set()
    (tmp_path / "idea.py").write_text(source.replace("VALUE", "'tilded'"))
    assert main(["strategies", "show", str(tmp_path / "idea.toml")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "'tilded' is not one of flat, tilted" in err and "Traceback" not in err
