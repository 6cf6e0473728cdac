"""The report sections of the result document (BacktestRun.to_dict): per-bar costs, benchmark, exposure, trades, analog."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_report_support import as_json, random_closes, synthetic_run

from shortthehype.data.prices import Prices
from shortthehype.runner import backtest
from shortthehype.spec import spec_from_mapping

ORIGINAL_KEYS = {
    "strategy", "kind", "description", "params", "engine", "tickers", "benchmark", "source", "warnings",
    "start", "end", "final_equity", "metrics", "costs", "equity", "events", "version",
}


def small_run(closes: pd.DataFrame, weights: dict[str, float], engine: dict, benchmark: str | None = None, **run):
    raw = {"name": "hand", "kind": "fixed-weights", "params": {"weights": weights, "rebalance": "once"}, "engine": engine, **run}
    if benchmark:
        raw["benchmark"] = benchmark
    return backtest(spec_from_mapping(raw), prices=Prices.from_close(closes))


def test_costs_per_bar_by_hand():
    # Friday, Monday, Tuesday. Short 5 shares at the first close (execution="close", 1000 of cash, weight -0.5):
    # cash 1500. Monday accrues 3 calendar days, Tuesday 1, both ACT/360, on Friday's/Monday's values.
    index = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09"], name="date")
    closes = pd.DataFrame({"X": [100.0, 100.0, 110.0]}, index=index)
    run = small_run(closes, {"X": -0.5}, {"init_cash": 1000.0, "execution": "close", "borrow_fee": 0.10, "cash_rate": 0.05})
    document = run.to_dict()
    interest_mon = 1500 * 0.05 * 3 / 360  # earned
    borrow_mon = 0.10 * 5 * 100 * 3 / 360
    cash_mon = 1500 + interest_mon - borrow_mon
    interest_tue = cash_mon * 0.05 * 1 / 360
    borrow_tue = 0.10 * 5 * 100 * 1 / 360  # on Monday's close, 100
    costs = document["cumulative_costs"]
    np.testing.assert_allclose(costs["borrow"], [0.0, borrow_mon, borrow_mon + borrow_tue], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(costs["interest"], [0.0, -interest_mon, -interest_mon - interest_tue], rtol=1e-12, atol=1e-12)
    assert costs["fees"] == [0.0, 0.0, 0.0] and costs["slippage"] == [0.0, 0.0, 0.0]
    assert document["exposure"]["short"] == pytest.approx([-500 / 1000, -500 / (1000 + interest_mon - borrow_mon),
                                                           -550 / (cash_mon + interest_tue - borrow_tue - 550)], rel=1e-12)
    assert document["orders"] == {"count": 1, "by_reason": {"rebalance": 1}}


def test_fees_and_slippage_land_on_the_bars_of_the_orders():
    run = synthetic_run(engine={"fees": 0.002, "slippage": 0.001, "fixed_fees": 1.5})
    document = run.to_dict()
    orders = run.result.orders
    fees = np.diff(np.concatenate(([0.0], document["cumulative_costs"]["fees"])))
    slippage = np.diff(np.concatenate(([0.0], document["cumulative_costs"]["slippage"])))
    per_bar = orders.groupby("date")[["fees", "slippage"]].sum().reindex(run.result.index, fill_value=0.0)
    np.testing.assert_allclose(fees, per_bar["fees"].to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(slippage, per_bar["slippage"].to_numpy(), rtol=1e-9, atol=1e-9)
    assert document["orders"]["count"] == len(orders)


@pytest.mark.parametrize(
    "weights, engine",
    [
        ({"AAA": 0.9, "BBB": -0.4}, {"fees": 0.001, "borrow_fee": 0.03, "cash_rate": 0.02}),  # borrow and interest earned
        ({"AAA": 1.6}, {"cash_rate": 0.02, "cash_rate_negative": 0.07}),  # levered: interest paid on negative cash
        ({"AAA": 1.2, "BBB": -0.9}, {"borrow_fee": 0.05, "cash_rate": 0.03, "cash_rate_negative": 0.06, "maintenance_margin": 0.5}),
        ({"AAA": 0.5, "BBB": -0.5}, {"borrow_fee": {"BBB": 0.04}}),  # per-ticker borrow, no interest
    ],
)
def test_cumulative_costs_end_at_the_engines_totals(weights, engine):
    run = synthetic_run(weights=weights, engine=engine)
    document = run.to_dict()
    for key, total in run.result.costs.items():
        series = document["cumulative_costs"][key]
        assert len(series) == len(document["equity"]["dates"])
        assert series[-1] == pytest.approx(total, rel=1e-9, abs=1e-9), key
    if not engine.get("cash_rate"):
        assert document["cumulative_costs"]["interest"] == [0.0] * len(run.result.index)


def test_benchmark_equity_and_statistics():
    closes = random_closes(["AAA", "BENCH"], 300, seed=2)
    closes.iloc[:40, 1] = np.nan  # the benchmark lists on bar 40
    run = small_run(closes, {"AAA": 1.0}, {"init_cash": 5000.0}, benchmark="BENCH")
    document = as_json(run.to_dict())
    bench = closes["BENCH"].to_numpy()
    expected = 5000.0 * bench / bench[40]
    assert document["benchmark_equity"][:40] == [None] * 40
    np.testing.assert_allclose(document["benchmark_equity"][40:], expected[40:], rtol=1e-15)
    stats, metrics = document["benchmark_metrics"], document["metrics"]
    for key in ("total_return", "cagr", "sharpe", "max_drawdown"):
        assert stats[key] == pytest.approx(metrics[f"benchmark_{key}"], rel=1e-12), key
    assert stats["exposure"] == 1.0 and stats["n_trades"] is None
    assert stats["start_value"] == 5000.0 and stats["end_value"] == pytest.approx(expected[-1], rel=1e-15)


def test_without_a_benchmark_the_sections_are_null():
    document = synthetic_run(benchmark=None).to_dict()
    assert document["benchmark_equity"] is None and document["benchmark_metrics"] is None


def test_original_keys_keep_their_values_and_the_new_series_match_the_result():
    run = synthetic_run()
    document = as_json(run.to_dict())
    assert ORIGINAL_KEYS <= set(document)
    assert document["type"] == "backtest" and document["status"] == "ok"
    assert document["final_equity"] == float(run.result.equity.iloc[-1])
    assert document["equity"]["values"] == [float(v) for v in run.result.equity]
    exposure = run.result.exposure
    for column in ("long", "short", "gross", "net"):
        assert document["exposure"][column] == [float(v) for v in exposure[column]]
    trades = run.result.trades
    assert len(document["trades"]) == len(trades) > 0
    first = document["trades"][0]
    assert set(first) == set(trades.columns)
    assert first["entry_date"] == f"{trades['entry_date'].iloc[0]:%Y-%m-%d}" and first["pnl"] == trades["pnl"].iloc[0]


# ---- dotcom-analog ----------------------------------------------------------------------------


def analog_prices() -> Prices:
    basket = random_closes(["AAA", "BBB"], 900, seed=5, start="2022-11-30")
    reference = random_closes(["IXIC"], 2600, seed=6, start="1994-01-03")
    return Prices.from_close(pd.concat([reference, basket], axis=1).sort_index())


def analog_run(**params):
    raw = {
        "name": "analog",
        "kind": "dotcom-analog",
        "params": {"tickers": ["AAA", "BBB"], "mode": "calendar", "time_scale": 1.5, "ai_start": "2022-11-30", **params},
        "start": "2022-11-30",
    }
    return backtest(spec_from_mapping(raw), prices=analog_prices())


def test_analog_section_calendar_mode_by_hand():
    run = analog_run()
    document = as_json(run.to_dict(history=analog_prices()))
    analog = document["analog"]
    dates = pd.to_datetime(analog["phase"]["dates"])
    assert list(dates) == list(run.prices.index)
    # mapped = dotcom_start + (date - ai_start) x 1.5, whole days
    expected = pd.Timestamp("1995-08-09") + pd.to_timedelta(np.floor((dates - pd.Timestamp("2022-11-30")).days * 1.5), unit="D")
    assert analog["phase"]["mapped_dates"] == [d.strftime("%Y-%m-%d") for d in expected]
    peak, trough = pd.Timestamp("2000-03-10"), pd.Timestamp("2002-10-09")
    phases = ["boom" if m < peak else "bust" if m < trough else "recovery" for m in expected]
    assert analog["phase"]["phases"] == phases
    assert analog["anchors"] == {"ai_start": "2022-11-30", "dotcom_start": "1995-08-09", "dotcom_peak": "2000-03-10",
                                 "dotcom_trough": "2002-10-09"}
    reference = analog_prices().close["IXIC"]
    reference = reference[(reference.index >= "1994-01-01") & (reference.index <= "2003-12-31")].dropna()
    assert analog["reference"]["dates"][0] == "1994-01-03" and analog["reference"]["values"] == list(reference)
    basket = np.array(analog["basket"]["values"])
    assert basket[0] == 1.0 and len(basket) == len(run.prices.index)


def test_analog_section_without_history():
    document = analog_run().to_dict()
    assert document["analog"]["reference"] is None and "IXIC was not loaded" in document["analog"]["note"]
    assert document["analog"]["phase"] is not None  # calendar mode needs only the window's dates
    path = analog_run(mode="path", window=60).to_dict()["analog"]
    assert path["phase"] is None and path["note"].startswith("path mode")


def test_analog_section_path_mode_with_history():
    run = analog_run(mode="path", window=60, scale_steps=3)
    analog = as_json(run.to_dict(history=analog_prices()))["analog"]
    assert analog["mode"] == "path" and analog["reference"] is not None
    dates = pd.to_datetime(analog["phase"]["dates"])
    assert dates.min() >= run.start and dates.max() <= run.end
    assert set(analog["phase"]["phases"]) <= {"pre", "boom", "bust", "recovery", "unknown"}
    assert all(s is None or 0.5 <= s <= 2.0 for s in analog["phase"]["scales"])
    assert not math.isnan(run.stats["sharpe"])


def test_a_notebook_report_has_the_sections_the_cli_report_has():
    """``run.report()`` / ``to_html()`` read the kind's history from the prices the run was prepared from."""
    from shortthehype.report import render

    for params in ({}, {"mode": "path", "window": 60, "scale_steps": 3}):
        run = analog_run(**params)
        document = run.document()
        assert document == as_json(run.to_dict(history=analog_prices()))
        assert document["analog"]["reference"] is not None and document["analog"]["phase"] is not None
        assert run.to_html() == render(document, "html")


def test_a_run_on_passed_prices_without_the_history_loads_nothing_and_says_what_is_missing():
    prices = analog_prices().select(["AAA", "BBB"])
    raw = {"name": "analog", "kind": "dotcom-analog", "start": "2022-11-30",
           "params": {"tickers": ["AAA", "BBB"], "mode": "calendar", "time_scale": 1.5, "ai_start": "2022-11-30"}}
    run = backtest(spec_from_mapping(raw), prices=prices)
    assert run.prices_from is None
    assert run.document()["analog"]["reference"] is None and "IXIC was not loaded" in run.document()["analog"]["note"]


def test_a_notebook_run_gives_every_figure_of_its_report_as_plotly_figures():
    """``run.figures()``: the report's figures, in its order, the kind's own (dotcom-analog's) included."""
    import plotly.graph_objects as go

    from shortthehype.report.figures import backtest_figures
    from shortthehype.report.model import backtest_view

    run = analog_run(mode="path", window=60, scale_steps=3)
    figures = run.figures()
    report, _ = backtest_figures(backtest_view(run.document()), 126)
    assert list(figures) == [f.key for f in report]
    assert {"equity", "drawdown", "exposure", "analog", "phase"} <= set(figures)
    assert all(isinstance(f, go.Figure) for f in figures.values())
    analog = figures["analog"]
    assert analog.layout.title.text.startswith("Dotcom analogy")
    assert len(analog.data) >= 2  # the basket over the Nasdaq path
    equity = figures["equity"].data[0]
    np.testing.assert_allclose(np.asarray(equity.y, dtype=float), run.result.equity.to_numpy())
    assert pd.DatetimeIndex(equity.x).equals(run.result.equity.index)
