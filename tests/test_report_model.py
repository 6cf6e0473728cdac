"""The series a report derives from a result document (shortthehype.report.model).

Checked against hand computations, empyrical (a peer library) and slow
obviously-correct twins, plus the invariants that tie them to the document's
own statistics (worst drawdown = max_drawdown, compounded years = total return).
"""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from test_report_support import as_json, synthetic_run

from shortthehype.errors import DataError
from shortthehype.report.model import (
    backtest_view,
    compare_view,
    document_kind,
    drawdown_series,
    load_document,
    period_returns,
    rolling_ratios,
)

# ---- slow twins -------------------------------------------------------------------------------


def naive_drawdown(equity, start):
    out, peak, ruined = [], start, False
    for value in equity:
        if ruined or math.isnan(value):
            out.append(math.nan)
            continue
        if value <= 0:
            out.append(-1.0)
            ruined = True
            continue
        peak = max(peak, value)
        out.append(value / peak - 1.0)
    return np.array(out)


def naive_rolling(returns, window):
    """Sharpe (mean / sample std x sqrt(252)) and volatility of each full, complete window."""
    sharpe, vol = [], []
    for t in range(len(returns)):
        chunk = returns[max(0, t - window + 1) : t + 1]
        if len(chunk) < window or any(math.isnan(r) for r in chunk):
            sharpe.append(math.nan)
            vol.append(math.nan)
            continue
        mean = sum(chunk) / window
        std = math.sqrt(sum((r - mean) ** 2 for r in chunk) / (window - 1))
        sharpe.append(mean / std * math.sqrt(252) if std > 1e-12 * (1 + abs(mean)) else math.nan)
        vol.append(std * math.sqrt(252))
    return np.array(sharpe), np.array(vol)


# ---- drawdown ---------------------------------------------------------------------------------


def test_drawdown_by_hand_with_ruin():
    # start 100: peak 110 -> 99 is -10 %; 120 is a new peak; -5 is ruin (-100 %); nothing after ruin.
    got = drawdown_series(np.array([100.0, 110.0, 99.0, 120.0, -5.0, 50.0]), 100.0)
    np.testing.assert_allclose(got[:5], [0.0, 0.0, -0.1, 0.0, -1.0], rtol=0, atol=1e-15)
    assert math.isnan(got[5])


def test_drawdown_counts_the_start_value_as_a_peak():
    # execution="close" pays costs on the first bar: the first close is already below the start value.
    np.testing.assert_allclose(drawdown_series(np.array([99.0, 98.0, 101.0]), 100.0), [-0.01, -0.02, 0.0])


@pytest.mark.parametrize(
    "equity",
    [[100.0], [1.0, 1.0, 1.0], [5.0, 4.0, 3.0, 2.0], [10.0, 0.0, 10.0], [3.0, np.nan, 2.0], [-1.0, 2.0]],
)
def test_drawdown_matches_its_twin_on_edge_cases(equity):
    values = np.array(equity)
    np.testing.assert_allclose(drawdown_series(values, 4.0), naive_drawdown(values, 4.0), rtol=0, atol=1e-15)


def test_drawdown_series_is_empty_for_no_bars():
    assert drawdown_series(np.array([]), 1.0).shape == (0,)


# ---- period returns ---------------------------------------------------------------------------


def test_monthly_and_yearly_returns_match_empyrical():
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2019-12-02", "2022-03-15")
    returns = pd.Series(rng.normal(0.0005, 0.01, len(index)), index=index)
    monthly = period_returns(returns, "M")
    expected = empyrical.aggregate_returns(returns, "monthly")
    np.testing.assert_allclose(monthly.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert list(monthly.index) == list(expected.index)
    yearly = period_returns(returns, "Y")
    np.testing.assert_allclose(yearly.to_numpy(), empyrical.aggregate_returns(returns, "yearly").to_numpy(), rtol=1e-12)


def test_period_returns_by_hand_and_missing_months():
    index = pd.DatetimeIndex(["2024-01-30", "2024-01-31", "2024-02-01", "2024-03-01"])
    returns = pd.Series([0.10, -0.10, np.nan, 0.05], index=index)
    monthly = period_returns(returns, "M")
    assert monthly[(2024, 1)] == pytest.approx(1.1 * 0.9 - 1)  # -1 %
    assert math.isnan(monthly[(2024, 2)])  # no defined return: missing, not 0
    assert monthly[(2024, 3)] == pytest.approx(0.05)
    assert period_returns(returns, "Y")[2024] == pytest.approx(1.1 * 0.9 * 1.05 - 1)


# ---- rolling ratios ---------------------------------------------------------------------------


def test_rolling_ratios_match_empyrical():
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0004, 0.012, 400)
    sharpe, vol = rolling_ratios(returns, 126)
    np.testing.assert_allclose(sharpe[125:], np.asarray(empyrical.roll_sharpe_ratio(returns, 126)), rtol=1e-10)
    np.testing.assert_allclose(vol[125:], np.asarray(empyrical.roll_annual_volatility(returns, 126)), rtol=1e-10)
    assert np.isnan(sharpe[:125]).all() and np.isnan(vol[:125]).all()


@pytest.mark.parametrize(
    "returns, window",
    [
        ([0.01, -0.02, 0.03], 5),  # shorter than the window
        ([0.01, -0.02, 0.03, 0.0], 2),  # tiny window
        ([0.01, np.nan, 0.03, 0.02, -0.01, 0.04], 3),  # a gap blanks every window holding it
        ([0.0, 0.0, 0.0, 0.0], 3),  # no dispersion: Sharpe undefined, volatility 0
        ([0.01, 0.01, 0.01, 0.01], 2),  # constant nonzero: infinite Sharpe is shown as missing
        ([0.02, -1.0, np.nan, np.nan], 2),  # ruin, then undefined returns
    ],
)
def test_rolling_ratios_match_their_twin_on_edge_cases(returns, window):
    values = np.array(returns, dtype=np.float64)
    sharpe, vol = rolling_ratios(values, window)
    twin_sharpe, twin_vol = naive_rolling(list(values), window)
    np.testing.assert_allclose(sharpe, twin_sharpe, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(vol, twin_vol, rtol=1e-12, atol=1e-15)


# ---- the view of a real document -------------------------------------------------------------


@pytest.fixture(scope="module")
def document():
    return as_json(synthetic_run().to_dict())


def test_view_reproduces_the_documents_statistics(document):
    view = backtest_view(document)
    metrics = document["metrics"]
    assert np.nanmin(view.drawdown.to_numpy()) == pytest.approx(metrics["max_drawdown"], rel=1e-12)
    assert np.prod(1 + view.yearly.to_numpy()) - 1 == pytest.approx(metrics["total_return"], rel=1e-11)
    assert np.nanprod(1 + view.monthly.to_numpy()) - 1 == pytest.approx(metrics["total_return"], rel=1e-11)
    # full-sample Sharpe of the per-bar returns = the document's (the first return, vs the start value, is 0 here)
    assert empyrical.sharpe_ratio(view.returns.to_numpy()[1:]) == pytest.approx(metrics["sharpe"], rel=1e-10)
    assert view.final_equity == document["final_equity"] == view.equity.iloc[-1]


def test_view_first_return_is_against_the_start_value():
    run = synthetic_run(engine={"fees": 0.01, "execution": "close"})
    document = as_json(run.to_dict())
    view = backtest_view(document)
    # execution="close" trades on the first bar and pays fees there: the first return is negative.
    assert document["metrics"]["start_value"] == 1_000_000.0
    assert view.returns.iloc[0] == pytest.approx(document["equity"]["values"][0] / 1_000_000.0 - 1, rel=1e-15)
    assert view.returns.iloc[0] < 0
    assert np.nanmin(view.drawdown.to_numpy()) == pytest.approx(document["metrics"]["max_drawdown"], rel=1e-12)


def test_benchmark_series_are_buy_and_hold(document):
    view = backtest_view(document)
    bench = view.benchmark_equity.to_numpy()
    np.testing.assert_allclose(bench / bench[0], np.cumprod(1 + np.nan_to_num(view.benchmark_returns.to_numpy())), rtol=1e-12)
    assert np.nanmin(view.benchmark_drawdown) == pytest.approx(document["benchmark_metrics"]["max_drawdown"], rel=1e-12)
    assert view.benchmark_yearly.add(1).prod() - 1 == pytest.approx(document["metrics"]["benchmark_total_return"], rel=1e-11)


def test_metric_rows_take_the_benchmark_column_from_benchmark_metrics(document):
    view = backtest_view(document)
    rows = {key: (own, other) for key, own, other in view.metric_rows(["sharpe", "beta", "n_trades"])}
    assert rows["sharpe"] == (document["metrics"]["sharpe"], document["benchmark_metrics"]["sharpe"])
    assert rows["beta"][0] == document["metrics"]["beta"] and math.isnan(rows["beta"][1])  # relative: no benchmark value


def test_a_document_from_before_the_report_sections_still_makes_a_view(document):
    old = {k: v for k, v in document.items() if k not in ("benchmark_equity", "exposure", "cumulative_costs", "trades", "orders",
                                                          "benchmark_metrics", "type", "status")}
    view = backtest_view(old)
    assert view.exposure is None and view.costs is None and view.trades is None and view.benchmark_equity is None
    assert any("before exposure" in note for note in view.notes)
    rows = dict((k, o) for k, _, o in view.metric_rows(["sharpe"]))
    assert rows["sharpe"] == document["metrics"]["benchmark_sharpe"]  # falls back to the benchmark_* keys


# ---- validation -------------------------------------------------------------------------------


def test_document_kinds(document):
    assert document_kind(document) == "backtest"
    assert document_kind({"runs": [document]}) == "compare"
    assert document_kind([document, document]) == "compare"
    with pytest.raises(DataError, match=r"r\.json: no report for result documents of type 'sweep'"):
        document_kind({"type": "sweep"}, "r.json")
    with pytest.raises(DataError, match=r"r\.json: not a backtest result: the key\(s\) equity are missing"):
        document_kind({"metrics": {}}, "r.json")
    with pytest.raises(DataError, match=r"r\.json: expected a JSON object"):
        document_kind("text", "r.json")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["equity"].update(dates=["2024-13-45"] * len(d["equity"]["dates"])), r"equity\.dates must be YYYY-MM-DD"),
        (lambda d: d["equity"]["values"].pop(), r"equity\.values must be a list of \d+ numbers aligned"),
        (lambda d: d["equity"]["values"].__setitem__(3, None), r"equity\.values has a missing value at \d{4}-\d\d-\d\d"),
        (lambda d: d["exposure"]["net"].pop(), r"exposure\.net must be a list of \d+ numbers"),
        (lambda d: d["cumulative_costs"].__setitem__("fees", "x"), r"cumulative_costs\.fees must be a list"),
        (lambda d: d.__setitem__("trades", {"a": 1}), r"trades must be a list of objects"),
        (lambda d: d["metrics"].__setitem__("start_value", -1), r"metrics\.start_value must be > 0"),
        (lambda d: d["equity"].update(dates=[], values=[]), r"equity\.dates is empty"),
    ],
)
def test_malformed_documents_are_refused_with_the_file_and_key(document, change, message):
    broken = as_json(document)
    change(broken)
    with pytest.raises(DataError, match=r"^result\.json: " + message):
        backtest_view(broken, "result.json")


def test_a_statistic_that_is_not_a_number_is_refused(document):
    broken = as_json(document)
    broken["metrics"]["sharpe"] = "high"
    with pytest.raises(DataError, match=r"^r\.json: statistic 'sharpe' must be a number or null, got 'high'"):
        backtest_view(broken, "r.json").metric_rows(["sharpe"])


def test_compare_view_names_the_bad_run(document):
    broken = as_json(document)
    broken["equity"]["values"] = broken["equity"]["values"][:-1]
    with pytest.raises(DataError, match=r"^c\.json run 2 \(test-book\): equity\.values"):
        compare_view({"runs": [document, broken]}, "c.json")
    with pytest.raises(DataError, match=r"c\.json: a comparison needs a non-empty list"):
        compare_view({"runs": []}, "c.json")


def test_load_document_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match=r"missing\.json: no such result file"):
        load_document(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match=r"bad\.json: not a JSON result file \(line 1, column 2"):
        load_document(bad)
