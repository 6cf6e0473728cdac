"""Entry-date studies: every row is a backtest with the same dates; the distribution table; bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from shortthehype.cli import main
from shortthehype.constants import STATS_KEYS
from shortthehype.errors import ParamError
from shortthehype.runner import backtest
from shortthehype.studies import entry_windows, rolling, summarise


def _same(a, b):
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("spec, first, last", [("burry-short", "2021-06-01", "2022-03-01"), ("ma-crossover", "2020-01-02", "2020-06-30")])
def test_every_row_equals_a_backtest_with_the_same_dates(shared_prices_dir, spec, first, last):
    study = rolling(spec, every="1m", hold="12m", first=first, last=last, source="csv", data_dir=shared_prices_dir)
    assert len(study.rows) >= 6
    for row in study.rows.to_dict(orient="records")[::2]:
        overrides = {"start": row["entry"], "end": row["exit"]}
        if spec == "burry-short":  # the entry date moves with the window (the spec enters on its start)
            overrides["entry"] = row["entry"]
        run = backtest(spec, overrides=overrides, source="csv", data_dir=shared_prices_dir)
        assert (run.start, run.end) == (row["entry"], row["exit"])
        assert all(_same(row[key], value) for key, value in run.stats.items()), spec
        assert row["final_equity"] == run.result.equity.iloc[-1]


def test_entries_are_the_first_trading_day_of_each_step_and_holds_end_on_or_before_the_anniversary():
    index = pd.bdate_range("2020-01-01", "2021-12-31")
    windows = entry_windows(index, pd.Timestamp("2020-02-01"), None, "1m", "12m")
    # 2020-02-01 is a Saturday: the first entry is Monday 2020-02-03, held to the last bar on or before 2021-02-03
    assert windows[0] == (pd.Timestamp("2020-02-03"), pd.Timestamp("2021-02-03"))
    assert windows[1][0] == pd.Timestamp("2020-03-02")
    assert windows[-1][0] == pd.Timestamp("2020-12-01")  # 2021-01-01 + 12m would pass 2021-12-31
    bars = entry_windows(index, pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-31"), "5d", "10d")
    assert [index.get_loc(a) for a, _ in bars] == [0, 5, 10, 15, 20]
    assert all(index.get_loc(b) - index.get_loc(a) == 10 for a, b in bars)


def test_summary_is_the_quantiles_of_the_rows():
    rows = pd.DataFrame({"total_return": [-0.5, 0.1, 0.2, np.nan, 0.4], "cagr": [1.0] * 5, "max_drawdown": [-0.1] * 5, "sharpe": [np.inf] * 5})
    summary = summarise(rows)
    assert summary.at["count", "total_return"] == 4
    assert summary.at["median", "total_return"] == pytest.approx(0.15)
    assert summary.at["q25", "total_return"] == pytest.approx(-0.05)  # linear between -0.5 and 0.1 at 0.75 of the way
    assert summary.at["share_positive", "total_return"] == 0.75 and summary.at["worst", "total_return"] == -0.5
    assert summary.at["count", "sharpe"] == 0 and math.isnan(summary.at["median", "sharpe"])


def test_rolling_cli_writes_parquet_json_and_report(capsys, tmp_path, shared_prices_dir):
    out, doc, page = tmp_path / "r.parquet", tmp_path / "r.json", tmp_path / "r.html"
    code = main(["rolling", "ma-crossover", "--every", "3m", "--hold", "6m", "--from", "2019-01-02", "--to", "2020-12-31",
                 "--source", "csv", "--data-dir", str(shared_prices_dir), "--out", str(out), "--json", str(doc), "--report", str(page)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "share > 0" in captured.out and "Sharpe" in captured.out
    rows = pq.read_table(out).to_pandas()
    document = json.loads(doc.read_text())
    assert len(rows) == 8 and document["rows"]["total_return"] == rows["total_return"].tolist()
    assert document["summary"]["total_return"]["median"] == pytest.approx(rows["total_return"].median())
    html = page.read_text()
    assert 'id="fig-by-run"' in html and 'id="fig-histogram"' in html and "sth-caveats" not in html


def test_rolling_cli_prints_the_distribution_as_csv_json_or_markdown(capsys, tmp_path, shared_prices_dir):
    """--format: stdout carries the table alone (raw fractions in CSV and JSON, keyed by statistic and metric);
    what else the command says goes to stderr."""
    args = ["rolling", "ma-crossover", "--every", "3m", "--hold", "6m", "--from", "2019-01-02", "--to", "2020-12-31",
            "--source", "csv", "--data-dir", str(shared_prices_dir)]
    doc = tmp_path / "r.json"
    assert main([*args, "--json", str(doc)]) == 0
    summary = json.loads(doc.read_text())["summary"]
    capsys.readouterr()
    assert main([*args, "--format", "json", "--out", str(tmp_path / "r.parquet")]) == 0
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert [r["statistic"] for r in records][:3] == ["count", "mean", "median"]
    median = next(r for r in records if r["statistic"] == "median")
    assert median["total_return"] == summary["total_return"]["median"] and median["sharpe"] == summary["sharpe"]["median"]
    assert "wrote" in captured.err and "wrote" not in captured.out
    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("statistic,total_return,") and len(lines) == 1 + 9 and lines[1].startswith("count,8,")
    assert main([*args, "--format", "md"]) == 0
    assert "| share > 0 |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "csv", "--json", "-"], "--format csv and --json - both print to stdout"),
        (["--format", "md", "--report", "-"], "--format md and --report - both print to stdout"),
        (["--format", "xml"], "--format must be one of table, csv, json, md"),
        (["--hold", "30y"], "--hold 30y: held from the first entry"),
        (["--every", "0m"], "'--every' is '0m'"),
        (["--from", "2020-01-01", "--to", "2019-01-01"], "is after --to"),
        (["--to", "2026-09-30"], "the latest entry that fits is"),
        (["--set", "start=2020-01-02"], "--set start"),
        (["--from", "someday"], "'start'"),
    ],
)
def test_bad_input_is_one_line(capsys, shared_prices_dir, args, message):
    code = main(["rolling", "ma-crossover", *args, "--source", "csv", "--data-dir", str(shared_prices_dir)])
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1


def test_a_study_whose_cash_earns_interest_notes_that_its_ratios_count_it(shared_prices_dir):
    kwargs = {"every": "1y", "hold": "1y", "first": "2010-01-04", "last": "2012-01-03", "source": "csv",
              "data_dir": shared_prices_dir}
    tbill = rolling("sixty-forty", **kwargs)
    assert [n for n in tbill.notes if "zero risk-free rate while cash earns interest" in n] == [
        "sixty-forty: the Sharpe, Sortino and omega ratios use a zero risk-free rate while cash earns interest "
        "(cash_rate): an entry that holds more cash scores that interest as return"
    ]
    assert tbill.to_document()["notes"] == list(tbill.notes)
    assert rolling("sixty-forty", overrides={"cash_rate": 0.0}, **kwargs).notes == ()


def test_rolling_on_synthetic_prices_is_labelled(shared_prices_dir):
    study = rolling({"kind": "fixed-weights", "params": {"weights": {"MKT": 1.0}}}, every="6m", hold="1y", source="synthetic")
    assert study.to_document()["synthetic"] is True
    with pytest.raises(ParamError):
        rolling("ma-crossover", hold="1y", first="2026-06-01", source="csv", data_dir=shared_prices_dir)


def test_report_command_renders_a_saved_study(capsys, tmp_path, shared_prices_dir):
    doc, page = tmp_path / "s.json", tmp_path / "s.md"
    assert main(["rolling", "sixty-forty", "--every", "1y", "--hold", "1y", "--from", "2010-01-04", "--to", "2014-01-02",
                 "--source", "csv", "--data-dir", str(shared_prices_dir), "--json", str(doc)]) == 0
    assert main(["report", str(doc), "-o", str(page)]) == 0
    capsys.readouterr()
    text = page.read_text()
    assert text.startswith("# sixty-forty: entry-date study") and "| share > 0 |" in text


# ---- the fused path: every entry in one kernel call -----------------------------------------------------------


def _both_paths(spec, **kwargs):
    fused = rolling(spec, path="fused", **kwargs)
    generic = rolling(spec, path="generic", **kwargs)
    pd.testing.assert_frame_equal(fused.rows, generic.rows, check_exact=True)
    assert fused.caveats == generic.caveats and fused.settings == generic.settings
    return fused


@pytest.mark.parametrize("spec", ["sixty-forty", "ai-basket", "hype-hedge", "static-hype-hedge", "dotcom-analog",
                                  "ma-crossover", "buy-and-hold-qqq", "my-idea"])
def test_the_fused_study_equals_one_backtest_per_entry_bit_for_bit(shared_prices_dir, spec):
    study = _both_paths(spec, every="2m", hold="9m", first="2023-01-03", last="2024-12-31", source="csv",
                        data_dir=shared_prices_dir)
    assert len(study.rows) == 12
    assert set(STATS_KEYS) <= set(study.rows) and "beta" in study.rows  # every spec here has a benchmark


def _market(seed=3, n=420):
    """Two tickers and a benchmark: X halts for a week, Y's data end early (a delisting inside later windows)."""
    from shortthehype.data.prices import Prices

    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2021-01-04", periods=n, name="date")
    close = pd.DataFrame(60 * np.exp(np.cumsum(rng.normal(0.0005, 0.03, (n, 3)), axis=0)), index=index,
                         columns=["X", "Y", "B"])
    close.iloc[150:156, 0] = np.nan
    close.iloc[300:, 1] = np.nan
    close.iloc[:40, 2] = np.nan  # the benchmark starts later than the strategy's tickers
    spread = np.abs(rng.normal(0.0, 0.01, (n, 3)))
    opens = close * (1 + rng.normal(0.0, 0.01, (n, 3)))
    return Prices(open=opens, high=np.maximum(opens, close) * (1 + spread), low=np.minimum(opens, close) * (1 - spread),
                  close=close, volume=close * 0 + 1e6)


def test_the_bars_of_many_windows_are_those_of_each_window_alone():
    """PreparedRun.windows_bars (vectorised) against window_bars one window at a time: ends before, at and after each
    ticker's last bar (stale or delisted), ends between bars and past the data, and a window too short to run."""
    from shortthehype.data.prices import Prices
    from shortthehype.errors import DataError
    from shortthehype.runner import prepare
    from shortthehype.spec import load_spec

    base = _market(seed=5)
    close = base.close.copy()
    close.iloc[380:, 0] = np.nan  # X ends 39 bars before the others (stale for later ends), Y at 300 (delisted)
    prices = Prices(open=close, high=close, low=close, close=close, volume=base.volume)
    prepared = prepare(load_spec({"kind": "fixed-weights", "params": {"weights": {"X": 0.6, "Y": 0.4}}}), prices)
    index = prices.index
    rng = np.random.default_rng(2)
    starts = [index[k] for k in rng.integers(0, 300, 400)]
    ends = [start + pd.Timedelta(days=int(d)) for start, d in zip(starts, rng.integers(3, 700, 400), strict=True)]
    # Y's last bar, the last bar that still cuts to it and the first that does not; X's; past the data; between bars
    ends[:6] = [index[299], index[299 + 63], index[299 + 64], index[379], index[-1] + pd.Timedelta(days=30),
                index[362] + pd.Timedelta(hours=12)]
    lo, hi = prepared.windows_bars(starts, ends)
    assert [(int(a), int(b)) for a, b in zip(lo, hi, strict=True)] == [prepared.window_bars(s, e) for s, e in zip(starts, ends, strict=True)]
    assert hi[:6].tolist() == [299, 299, 363, 379, 379, 299]
    with pytest.raises(DataError, match="fewer than two trading days") as many:
        prepared.windows_bars([index[10], index[20]], [index[30], index[20]])
    with pytest.raises(DataError, match="fewer than two trading days") as one:
        prepared.window_bars(index[20], index[20])
    assert str(many.value) == str(one.value)


@pytest.mark.parametrize(
    "engine",
    [
        {"execution": "next_open", "fees": 0.001, "slippage": 0.002, "cash_rate": 0.03, "borrow_fee": 0.02},
        {"execution": "close", "stop_loss": 0.08, "trailing_stop": 0.15, "fixed_fees": 5.0},
        {"execution": "next_close", "max_gross": 1.5, "maintenance_margin": 0.35, "integer_shares": True},
        {"execution": "next_open", "cash_rate": 0.02, "cash_rate_negative": 0.06, "take_profit": 0.3},
    ],
)
def test_the_fused_study_equals_the_generic_one_under_every_engine_rule(engine):
    spec = {"kind": "fixed-weights", "benchmark": "B", "params": {"weights": {"X": 1.6, "Y": -0.9}, "rebalance": "weekly"},
            "engine": engine}
    study = _both_paths(spec, every="10d", hold="120d", prices=_market())
    assert len(study.rows) > 20 and study.rows["n_trades"].gt(0).any()
    assert study.rows["bars"].max() == 121 and study.rows["bars"].min() < 121  # Y's early end cuts the windows near it


def test_windows_that_go_bankrupt_or_see_no_benchmark_price_match_the_generic_path():
    from shortthehype.data.prices import Prices

    prices = _market(seed=11)
    gap = {name: prices.field(name).copy() for name in ("open", "high", "low", "close", "volume")}
    for name in ("open", "high", "low", "close"):
        gap[name].iloc[200:, 0] *= 0.6  # X gaps down 40 % overnight: 4x long is wiped out
    prices = Prices(**gap)
    crash = {"kind": "fixed-weights", "params": {"weights": {"X": 4.0}, "rebalance": "daily"},
             "engine": {"execution": "next_open"}}
    study = _both_paths(crash, every="15d", hold="60d", prices=prices)
    assert study.rows["sharpe"].isna().any()  # a ruined window: its ratios are undefined, as in a backtest
    early = {"kind": "fixed-weights", "benchmark": "B", "params": {"weights": {"X": 1.0}}}
    with pytest.raises(ParamError, match="benchmark has no price") as fused:
        rolling(early, every="5d", hold="20d", first="2021-01-04", prices=prices, path="fused")
    with pytest.raises(ParamError, match="benchmark has no price") as generic:
        rolling(early, every="5d", hold="20d", first="2021-01-04", prices=prices, path="generic")
    assert str(fused.value) == str(generic.value)


@pytest.mark.parametrize("overrides", [{}, {"rebalance": "keep_weights", "rebalance_freq": "weekly", "stop_loss": 0.3,
                                        "hold_days": 40}])
def test_a_study_that_moves_the_entry_dates_gives_each_entry_its_own_targets_on_the_fused_path(shared_prices_dir,
                                                                                                overrides):
    study = _both_paths("burry-short", every="1m", hold="6m", first="2021-06-01", last="2023-06-01", source="csv",
                        data_dir=shared_prices_dir, overrides=overrides)
    assert len(study.rows) == 25 and study.rows["total_return"].nunique() == 25


@pytest.mark.parametrize("spec, overrides", [("burry-short", {"instrument": "puts"}),
                                             ("burry-puts", {"contracts.nvda.enabled": True})])
def test_options_priced_from_each_entry_take_the_fused_path_one_history_per_entry(shared_prices_dir, spec, overrides):
    study = _both_paths(spec, every="1m", hold="3m", source="csv", data_dir=shared_prices_dir, overrides=overrides)
    assert len(study.rows) > 10 and study.rows["total_return"].nunique() == len(study.rows)


def test_entries_whose_inputs_differ_from_the_first_run_generic_beside_the_kernel(shared_prices_dir, monkeypatch):
    """In a chunk of entries each with its own history, one the kernel cannot share runs on the generic path."""
    import shortthehype.study_windows as sw

    generic = rolling("burry-puts", every="1m", hold="3m", source="csv", data_dir=shared_prices_dir, path="generic")
    real = sw.History.same_terms
    asked = []

    def every_third_differs(history, other):
        asked.append(1)
        return real(history, other) and len(asked) % 3 != 0

    monkeypatch.setattr(sw.History, "same_terms", every_third_differs)
    for chunk_bytes in (sw.STUDY_TARGETS_CHUNK_BYTES, 1):  # every entry in one kernel call; one entry per call
        monkeypatch.setattr(sw, "STUDY_TARGETS_CHUNK_BYTES", chunk_bytes)
        asked.clear()
        fused = rolling("burry-puts", every="1m", hold="3m", source="csv", data_dir=shared_prices_dir, path="fused")
        assert len(asked) >= 6
        pd.testing.assert_frame_equal(fused.rows, generic.rows, check_exact=True)


def test_the_fused_path_says_why_it_cannot_run_and_auto_falls_back(shared_prices_dir):
    unscaled = {"kind": "fixed-weights", "params": {"weights": {"X": 1.6, "Y": -0.9}}, "scale_gross": False,
                "engine": {"max_gross": 3.0}}
    with pytest.raises(ParamError, match=r"^--path fused: scale_gross = false checks each run's targets; use --path"):
        rolling(unscaled, every="10d", hold="120d", prices=_market(), path="fused")
    auto = rolling(unscaled, every="10d", hold="120d", prices=_market(), path="auto")
    generic = rolling(unscaled, every="10d", hold="120d", prices=_market(), path="generic")
    pd.testing.assert_frame_equal(auto.rows, generic.rows, check_exact=True)
    with pytest.raises(ParamError, match="--path 'sideways': expected one of auto, fused, generic"):
        rolling("ma-crossover", path="sideways", source="csv", data_dir=shared_prices_dir)
    code = main(["rolling", "burry-short", "--every", "3m", "--hold", "6m", "--from", "2021-06-01", "--to",
                 "2021-12-31", "--set", "instrument=puts", "--path", "fused", "--source", "csv", "--data-dir",
                 str(shared_prices_dir)])
    assert code == 0


def _reference_windows(index, first, last, every, hold):
    """The entry-date rule written as a loop, one entry at a time (the definition the vectorised one must match)."""
    from shortthehype.studies import _offset
    from shortthehype.walk_forward import parse_length

    step, length = parse_length(every, "--every"), parse_length(hold, "--hold")
    windows = []
    first_position = int(index.searchsorted(first, side="left"))
    for k in range(len(index) + 1):
        if step[1] == "d":
            position = first_position + step[0] * k
        else:
            position = int(index.searchsorted(first + _offset((step[0] * k, step[1])), side="left"))
        if position >= len(index) or (last is not None and index[position] > last):
            break
        if length[1] == "d":
            stop = position + length[0]
        else:
            stop = int(index.searchsorted(index[position] + _offset(length), side="right")) - 1
        if stop >= len(index) or (length[1] != "d" and index[position] + _offset(length) > index[-1]):
            if not windows:
                return "hold"
            if last is not None:
                return "to"
            break
        if stop <= position:
            return "short"
        windows.append((index[position], index[stop]))
    return windows or "none"


@pytest.mark.parametrize("every", ["1d", "3d", "1w", "2w", "1m", "5m", "1y"])
@pytest.mark.parametrize("hold", ["1d", "20d", "1w", "1m", "6m", "13m", "2y"])
def test_entry_windows_follow_the_rule_entry_by_entry(every, hold):
    rng = np.random.default_rng(len(every) * 7 + len(hold))
    days = pd.bdate_range("2018-01-01", "2021-06-30")
    index = days[rng.random(len(days)) > 0.05]  # holidays and gaps
    messages = {"hold": "held from the first entry", "to": "the latest entry that fits", "none": "no trading day"}
    for first, last in [(index[0], None), (pd.Timestamp("2019-02-28"), pd.Timestamp("2019-12-31")),
                        (pd.Timestamp("2020-02-29"), None), (pd.Timestamp("2021-06-01"), None)]:
        expected = _reference_windows(index, first, last, every, hold)
        if isinstance(expected, list):
            assert entry_windows(index, first, last, every, hold) == expected
        else:
            with pytest.raises(ParamError, match=messages[expected]):
                entry_windows(index, first, last, every, hold)


def test_targets_computed_a_chunk_of_entries_at_a_time_give_the_same_rows(shared_prices_dir, monkeypatch):
    import shortthehype.study_windows as study_windows

    kwargs = dict(every="1m", hold="6m", first="2021-06-01", last="2022-06-01", source="csv", data_dir=shared_prices_dir)
    whole = rolling("burry-short", path="fused", **kwargs)
    monkeypatch.setattr(study_windows, "STUDY_TARGETS_CHUNK_BYTES", 1)  # one entry a chunk
    chunked = rolling("burry-short", path="fused", **kwargs)
    pd.testing.assert_frame_equal(chunked.rows, whole.rows, check_exact=True)
    assert len(whole.rows) == 13


def test_the_values_a_kind_is_prepared_for_are_each_counted_once():
    from shortthehype.study_windows import _distinct

    rate = pd.Series([0.01, 0.02])
    same_looking = pd.Series([0.01, 0.02])  # equal values, another object: kept apart, never compared by repr
    nested = {"a": {"x": 1}}
    values = [pd.Timestamp("2021-01-04"), pd.Timestamp("2021-01-04"), None, None, 0.5, 0.5, {"X": 1.0}, {"X": 1.0},
              rate, rate, same_looking, nested, nested, {"a": {"x": 1}}]
    kept = _distinct(values)
    assert kept[:4] == [pd.Timestamp("2021-01-04"), None, 0.5, {"X": 1.0}]
    assert len(kept) == 8 and kept[4] is rate and kept[5] is same_looking and kept[6] is nested
    assert kept[7] == {"a": {"x": 1}} and kept[7] is not nested


def test_precompile_runs_a_study_on_the_fused_path():
    """``shortthehype precompile`` compiles the study kernel: its workload must take the fused path (fused raises otherwise)."""
    from shortthehype.precompile import PRECOMPILE_STEPS, STUDY_WORKLOAD

    step = dict(PRECOMPILE_STEPS)["entry-date studies"]
    step()
    study = rolling(STUDY_WORKLOAD, every="6m", hold="1y", source="synthetic", path="auto")
    assert len(study.rows) >= 4 and study.to_document()["synthetic"] is True


def test_the_study_kernel_compiles_once_for_real_and_synthetic_data_and_monte_carlo(shared_prices_dir):
    """What precompile compiles is what every study runs: pandas' read-only arrays (real prices, dated rates, a
    benchmark) and a Monte Carlo batch reach the kernel with the precompiled workload's types."""
    from shortthehype.core.windows_nb import window_stats_nb
    from shortthehype.montecarlo import montecarlo
    from shortthehype.precompile import STUDY_WORKLOAD

    rolling(STUDY_WORKLOAD, every="6m", hold="1y", source="synthetic", path="fused")
    rolling("ma-crossover", every="6m", hold="1y", source="csv", data_dir=shared_prices_dir, path="fused",
            overrides={"benchmark": "QQQ"})
    rolling("burry-short", every="6m", hold="1y", source="csv", data_dir=shared_prices_dir, path="fused")
    montecarlo("ai-basket", paths=3, workers=1, path="fused", overrides={"benchmark": "MKT"})
    assert len(window_stats_nb.signatures) == 1


def test_windows_engine_options_compare_series_by_identity_and_the_rest_by_value():
    from shortthehype.study_windows import _same_options

    rate = pd.Series([0.01, 0.02])
    options = {"fees": {"X": 0.001}, "cash_rate": rate, "max_gross": 2.0}
    assert _same_options(options, {"fees": {"X": 0.001}, "cash_rate": rate, "max_gross": 2.0})
    assert not _same_options(options, {**options, "max_gross": 1.5})
    assert not _same_options(options, {**options, "cash_rate": rate.copy()})  # never an ambiguous Series comparison
    assert not _same_options(options, {"fees": {"X": 0.001}, "cash_rate": rate})


def test_entries_wiped_out_are_counted_in_a_note_and_left_out_of_the_sharpe_column(shared_prices_dir):
    """burry-short's 80 % short is wiped out from many entries (equity at or below zero on some bar, even where it
    recovers by the exit): the note counts exactly the entries whose backtest equity touched zero."""
    study = rolling("burry-short", every="1m", hold="12m", first="2022-10-01", last="2023-09-01", source="csv",
                    data_dir=shared_prices_dir)
    wiped = []
    for row in study.rows.to_dict(orient="records"):
        run = backtest("burry-short", overrides={"start": row["entry"], "end": row["exit"], "entry": row["entry"]},
                       source="csv", data_dir=shared_prices_dir)
        wiped.append(bool((run.result.equity <= 0.0).any()))
    n, k = len(wiped), sum(wiped)
    assert 0 < k < n and any(w and e > 0 for w, e in zip(wiped, study.rows["final_equity"]))  # one recovered by the exit
    assert study.notes[0] == (
        f"{k} of {n} entries were wiped out (equity at or below zero on some bar): the Sharpe ratio is undefined for "
        f"them, so its column summarises the other {n - k}; total return, CAGR and max drawdown count every entry"
    )
    assert study.summary().loc["count", "sharpe"] == n - k and study.summary().loc["count", "total_return"] == n


def test_a_run_without_dispersion_is_not_wiped_out():
    from shortthehype.studies import wiped_out_note

    rows = pd.DataFrame({"sharpe": [np.nan, np.nan, 0.4, 1.2], "max_drawdown": [-1.0, -0.2, -1.0, -0.1]})
    # no dispersion (NaN Sharpe, drawdown above -100 %), all but 1e-16 of the peak lost (a Sharpe ratio): not wiped out
    assert wiped_out_note(rows, "path", "paths") == (
        "1 of 4 paths were wiped out (equity at or below zero on some bar): the Sharpe ratio is undefined for them, so "
        "its column summarises the other 3; total return, CAGR and max drawdown count every path",
    )
    assert wiped_out_note(rows.iloc[1:], "path", "paths") == ()
