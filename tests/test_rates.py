"""Carry: bill-rate conversions, the rates loader and its checks, dated cash rates in the engine, the CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from fixtures.data.yahoo_replay import YahooReplay, load_recorded

from shortthehype.cli import main
from shortthehype.constants import SYNTHETIC_CASH_RATE
from shortthehype.data.prices import Prices
from shortthehype.data.rates import (
    bill_yield,
    continuous_rate,
    load_rate,
    rate_on_bars,
    read_rate_file,
    resolve_engine_rates,
)
from shortthehype.engine import simulate
from shortthehype.errors import DataError, DataWarning, ParamError
from shortthehype.runner import backtest


# ---- conversions ---------------------------------------------------------------------------


def test_bill_yield_of_a_four_percent_discount_by_hand():
    # A 91-day bill at a 4.00 % discount costs 100 (1 - 0.04 x 91/360) = 100 - 1.011111 = 98.988889
    # and pays 100: it earns 1.011111 / 98.988889 = 1.021429 % in 91 days, i.e. 1.021429 % x 360/91
    # = 4.040858 % a year, ACT/360 simple.
    price = 100 * (1 - 0.04 * 91 / 360)
    by_hand = (100 / price - 1) * 360 / 91
    assert by_hand == pytest.approx(0.04040858, abs=5e-9)
    assert bill_yield(0.04) == pytest.approx(by_hand, rel=1e-14)
    assert bill_yield(0.0) == 0.0
    np.testing.assert_allclose(bill_yield(np.array([0.04, 0.0])), [by_hand, 0.0], rtol=1e-14)


def test_continuous_rate_grows_like_the_bill():
    # The bill above grows by 100 / 98.988889 = 1.0102144 in 91 days; continuously over 91/365
    # of a year that is ln(1.0102144) x 365/91 = 0.0101626 x 4.010989 = 4.0762 %.
    growth = 1 / (1 - 0.04 * 91 / 360)
    assert continuous_rate(bill_yield(0.04)) == pytest.approx(math.log(growth) * 365 / 91, rel=1e-13)
    assert continuous_rate(bill_yield(0.04)) == pytest.approx(0.040762, abs=5e-7)
    rates = np.array([-0.001, 0.0, 0.02, 0.17])
    np.testing.assert_allclose(np.exp(continuous_rate(rates) * 91 / 365), 1 + rates * 91 / 360, rtol=1e-14)


# ---- the loader on the shared DTB3 file ------------------------------------------------------


def test_dtb3_on_the_shared_data(shared_prices_dir):
    rates = load_rate("tbill", data_dir=shared_prices_dir)  # csv prices: tbill is FRED DTB3
    assert rates.name == "DTB3"
    # facts of ../shared/data/README.md: 18,184 rows, 1954-01-04..2026-10-08, min -0.05 %, max 17.14 %
    assert len(rates) == 18184 and rates.index[0] == pd.Timestamp("1954-01-04") and rates.index[-1] == pd.Timestamp("2026-10-08")
    assert rates.iloc[0] == pytest.approx(0.0133 / (1 - 0.0133 * 91 / 360), rel=1e-14)  # 1.33 % on 1954-01-04
    assert rates.max() == pytest.approx(0.1714 / (1 - 0.1714 * 91 / 360), rel=1e-14)
    assert rates.min() == pytest.approx(-0.0005 / (1 + 0.0005 * 91 / 360), rel=1e-14)
    assert load_rate("DTB3", data_dir=shared_prices_dir).equals(rates)


# ---- bad rate files: one line naming the file -------------------------------------------------


def _rates_dir(tmp_path, rows: list[str], header: str = "date,rate"):
    prices = tmp_path / "prices"
    prices.mkdir()
    (tmp_path / "rates").mkdir()
    path = tmp_path / "rates" / "DTB3.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return prices, path


GOOD = ["2024-01-02,5.20", "2024-01-03,5.21", "2024-01-04,5.19"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["2024-01-02,5.20", "2024-01-03,.", "2024-01-04,5.19"], "cannot parse rate '.' on 2024-01-03 (line 3)"),
        (["2024-01-02,5.20", "2024-01-03,", "2024-01-04,5.19"], "cannot parse rate an empty cell on 2024-01-03"),
        (["2024-01-02,5.20", "2024-01-03,520", "2024-01-04,5.19"], "rate 520.0000% on 2024-01-03 (line 3) is outside"),
        (["2024-01-02,5.20", "2024-01-03,-7", "2024-01-04,5.19"], "is outside the plausible -5%..50%"),
        (["2024-01-03,5.20", "2024-01-02,5.21", "2024-01-04,5.19"], "date out of order 2024-01-02 (line 3) after 2024-01-03"),
        (["2024-01-02,5.20", "2024-01-02,5.21", "2024-01-04,5.19"], "duplicate date 2024-01-02 (line 3)"),
        (["2024-01-02,5.20", "2024-01-11,5.21"], "no rate for 6 weekdays between 2024-01-02 and 2024-01-11"),
        (["01/02/2024,5.20"], "cannot parse date '01/02/2024' at line 2"),
    ],
    ids=["dot", "empty", "percent-twice", "negative", "unsorted", "duplicate", "gap", "date"],
)
def test_bad_rate_files_are_one_line_errors_naming_the_file(tmp_path, rows, message):
    prices, path = _rates_dir(tmp_path, rows)
    with pytest.raises(DataError) as err:
        load_rate("DTB3", data_dir=prices)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text


def test_holidays_within_the_gap_limit_and_fred_headers_are_fine(tmp_path):
    # 2024-01-12 (Fri) .. 2024-01-16 (Tue): Monday (a bond-market holiday) missing is normal
    prices, path = _rates_dir(tmp_path, ["2024-01-12,5.20", "2024-01-16,5.22"], header="observation_date,DTB3")
    rates = read_rate_file(path)
    np.testing.assert_allclose(rates.to_numpy(), bill_yield(np.array([0.052, 0.0522])), rtol=1e-15)


def test_missing_rates_file_names_where_it_looked(tmp_path):
    (tmp_path / "prices").mkdir()
    with pytest.raises(DataError, match=r"no rates file for DTB3: looked for .*rates/DTB3\.csv"):
        load_rate("tbill", data_dir=tmp_path / "prices")


def test_rate_names_are_checked():
    with pytest.raises(ParamError, match=r"unknown rate series 'DTB4'; did you mean 'DTB3'"):
        load_rate("DTB4", source="csv", data_dir=".")
    with pytest.raises(ParamError, match=r"rate series \^IRX is read with source yahoo or cache, not 'csv'"):
        load_rate("^IRX", source="csv", data_dir=".")
    with pytest.raises(ParamError, match="source 'synthetic' has no bill-rate series"):
        load_rate("tbill", source="synthetic")


# ---- ^IRX through the Yahoo source (recorded responses, no network) ---------------------------


def _irx_response(percent: float) -> pd.DataFrame:
    """A recorded yfinance frame re-labelled as ^IRX with every price at ``percent``."""
    frame = load_recorded("NVDA.parquet")
    frame.columns = pd.MultiIndex.from_tuples([(p, "^IRX") for p, _ in frame.columns], names=frame.columns.names)
    for column in frame.columns:
        frame[column] = 0.0 if column[0] == "Volume" else percent
    return frame


def test_irx_with_the_yahoo_source_and_its_catalog(tmp_path, monkeypatch):
    import yfinance

    replay = YahooReplay(responses={"^IRX": _irx_response(4.0)})
    monkeypatch.setattr(yfinance, "download", replay)
    rates = load_rate("tbill", source="yahoo", cache_dir=tmp_path)
    assert rates.name == "^IRX" and [c["ticker"] for c in replay.calls] == ["^IRX"]
    np.testing.assert_allclose(rates.to_numpy(), bill_yield(0.04), rtol=1e-15)
    cached = load_rate("tbill", source="cache", cache_dir=tmp_path)  # the catalog only, no download
    assert cached.equals(rates) and len(replay.calls) == 1
    prices = Prices.from_frames({"X": _flat_frame(rates.index[:5])}, source="cache", origin=str(tmp_path))
    options, labels, notes = resolve_engine_rates({"cash_rate": "tbill"}, prices)
    assert options["cash_rate"].equals(rates) and labels["cash_rate"].startswith("^IRX: Yahoo ^IRX") and notes == []


def test_a_catalog_rate_rewritten_after_a_run_is_read_again(tmp_path, monkeypatch):
    """A rate read from the catalog is kept per process and with loaded prices until its catalog file changes: a
    fetch that rewrites ^IRX is seen by the next run, on the same prices, without reading it on every run."""
    import yfinance

    from shortthehype.data import load as load_module
    from shortthehype.data.yahoo import fetch_ticker

    monkeypatch.setattr(yfinance, "download", YahooReplay(responses={"^IRX": _irx_response(4.0)}))
    rates = load_rate("tbill", source="yahoo", cache_dir=tmp_path)
    days = rates.index[-5:]
    prices = Prices.from_frames({"X": _flat_frame(days)}, source="cache", origin=str(tmp_path))
    spec = {"name": "cash", "kind": "fixed-weights", "params": {"weights": {"X": 0.0}}, "engine": {"cash_rate": "tbill"}}
    before = backtest(spec, prices=prices).stats["end_value"]
    reads = []
    real_load_prices = load_module.load_prices
    monkeypatch.setattr(load_module, "load_prices", lambda *a, **k: reads.append(a) or real_load_prices(*a, **k))
    assert backtest(spec, prices=prices).stats["end_value"] == before and load_rate("tbill", source="cache", cache_dir=tmp_path).equals(rates)
    assert reads == []  # kept: the catalog is not read again
    monkeypatch.setattr(yfinance, "download", YahooReplay(responses={"^IRX": _irx_response(8.0)}))
    fetch_ticker("^IRX", cache_dir=tmp_path, refresh=True)
    np.testing.assert_allclose(load_rate("tbill", source="cache", cache_dir=tmp_path).to_numpy(), bill_yield(0.08), rtol=1e-15)
    after = backtest(spec, prices=prices).stats["end_value"]
    fresh = backtest(spec, prices=Prices.from_frames({"X": _flat_frame(days)}, source="cache", origin=str(tmp_path)))
    assert after == fresh.stats["end_value"] and after > before
    assert "^IRX" in fresh.rates["cash_rate"]


def _flat_frame(index: pd.DatetimeIndex, price: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame({f: price for f in ("open", "high", "low", "close", "volume")}, index=index)


# ---- dated rates in the engine ----------------------------------------------------------------

DAYS = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"])
FLAT = pd.DataFrame({"X": [100.0] * 5}, index=DAYS)
STEP = pd.Series([0.036, 0.072], index=pd.DatetimeIndex(["2024-01-02", "2024-01-04"]))  # 3.6 %, then 7.2 %


def test_two_step_dated_rate_accrues_by_hand():
    result = simulate(FLAT, pd.DataFrame({"X": [0.0]}, index=DAYS[:1]), init_cash=1000.0, cash_rate=STEP)
    # bar 1: 1 day at bar 0's 3.6 %: 1000 x 0.036/360 = 0.1;  bar 2: 1 day at bar 1's rate (still 3.6 %);
    # bar 3: 1 day at bar 2's 7.2 % (observed on 2024-01-04); bar 4: Fri -> Mon, 3 days at 7.2 %.
    expected = [1000.0]
    for days, rate in ((1, 0.036), (1, 0.036), (1, 0.072), (3, 0.072)):
        expected.append(expected[-1] * (1 + rate * days / 360))
    assert expected[1] == pytest.approx(1000.1) and expected[3] == pytest.approx(1000.20001 * 1.0002)
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-14)
    assert -result.costs["interest"] == pytest.approx(expected[-1] - 1000.0, rel=1e-12)


def test_a_constant_series_equals_the_number():
    weights = pd.DataFrame({"X": [0.5]}, index=DAYS[:1])
    closes = pd.DataFrame({"X": [100.0, 101.0, 99.0, 102.0, 103.0]}, index=DAYS)
    by_number = simulate(closes, weights, cash_rate=0.05, borrow_fee=0.01)
    by_series = simulate(closes, weights, cash_rate=pd.Series(0.05, index=DAYS[:1]), borrow_fee=0.01)
    assert by_series.equity.equals(by_number.equity)


def test_short_sale_proceeds_earn_the_cash_rate_by_hand():
    result = simulate(FLAT, pd.DataFrame({"X": [-0.5]}, index=DAYS[:1]), init_cash=1000.0, execution="close",
                      cash_rate=0.036)
    # bar 0's close: 5 shares sold short at 100, cash 1000 + 500 = 1500; equity 1500 - 500 = 1000.
    # bar 1: the 1500 of cash earn 1 day at 3.6 %: 1500 x 0.036/360 = 0.15.
    assert result.cash.iloc[0] == pytest.approx(1500.0)
    assert result.equity.iloc[1] == pytest.approx(1000.15, rel=1e-14)


def test_no_look_ahead_a_rate_change_on_a_bar_pays_only_from_that_bar_on():
    closes = pd.DataFrame({"X": np.linspace(100.0, 110.0, 5)}, index=DAYS)
    weights = pd.DataFrame({"X": [-0.4]}, index=DAYS[:1])
    base = pd.Series(0.03, index=DAYS)
    run = simulate(closes, weights, cash_rate=base)
    for k in range(len(DAYS)):
        changed = base.copy()
        changed.iloc[k] = 0.30
        other = simulate(closes, weights, cash_rate=changed)
        np.testing.assert_array_equal(other.equity.to_numpy()[: k + 1], run.equity.to_numpy()[: k + 1])
        if k + 1 < len(DAYS):
            assert other.equity.iloc[k + 1] > run.equity.iloc[k + 1]


def test_window_coverage_is_one_warning_with_the_fallback():
    late = pd.Series([0.05, 0.04], index=pd.DatetimeIndex(["2024-01-04", "2024-01-05"]))
    values, notes = rate_on_bars(late, DAYS)
    np.testing.assert_array_equal(values, [0.05, 0.05, 0.05, 0.04, 0.04])  # first value carried back
    assert notes == [
        "parameter 'cash_rate' covers 2024-01-04..2024-01-05, not the whole window 2024-01-02..2024-01-08: "
        "2024-01-02..2024-01-03 uses its first value 5.0000%"
    ]
    long = pd.date_range("2024-01-02", periods=30, freq="B")
    early = pd.Series(0.05, index=long[:3])
    _, notes = rate_on_bars(early, long)
    assert len(notes) == 1 and f"{long[8]:%Y-%m-%d}..{long[-1]:%Y-%m-%d} uses its last value 5.0000%" in notes[0]
    with pytest.warns(DataWarning) as caught:
        simulate(FLAT, pd.DataFrame({"X": [0.0]}, index=DAYS[:1]), cash_rate=late)
    assert len(caught) == 1 and "uses its first value" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate(FLAT, pd.DataFrame({"X": [0.0]}, index=DAYS[:1]), cash_rate=STEP)  # covers the window: silent


def test_bad_rate_series_and_names_in_simulate():
    weights = pd.DataFrame({"X": [0.0]}, index=DAYS[:1])
    with pytest.raises(ParamError, match="parameter 'cash_rate' is the series name 'tbill'"):
        simulate(FLAT, weights, cash_rate="tbill")
    with pytest.raises(DataError, match=r"parameter 'cash_rate_negative': rate on 2024-01-03 is missing"):
        simulate(FLAT, weights, cash_rate_negative=pd.Series([0.01, np.nan], index=DAYS[:2]))
    with pytest.raises(DataError, match="rate 400.0000% on 2024-01-02 is outside"):
        simulate(FLAT, weights, cash_rate=pd.Series([4.0], index=DAYS[:1]))


# ---- resolution with the price source -------------------------------------------------------


def test_tbill_with_synthetic_and_in_memory_prices():
    synthetic = Prices.from_close(FLAT, source="synthetic")
    options, labels, notes = resolve_engine_rates({"cash_rate": "tbill"}, synthetic)
    assert options["cash_rate"] == SYNTHETIC_CASH_RATE and "synthetic prices have no bill series" in labels["cash_rate"]
    assert labels["cash_rate_negative"] == "same as cash_rate" and notes == []
    options, labels, notes = resolve_engine_rates({"cash_rate": "tbill"}, Prices.from_close(FLAT))
    assert options["cash_rate"] == 0.0 and len(notes) == 1 and "come without a rate series: cash earns 0" in notes[0]


def test_backtest_reports_the_rate_and_its_coverage(tmp_path):
    prices_dir, _ = _rates_dir(tmp_path, ["2024-01-04,3.6", "2024-01-05,3.6", "2024-01-08,3.6"])
    _flat_frame(DAYS).rename_axis("date").to_csv(prices_dir / "X.csv")
    spec = {"name": "cash", "kind": "fixed-weights", "params": {"weights": {"X": 0.0}}, "engine": {"cash_rate": "tbill"}}
    run = backtest(spec, source="csv", data_dir=prices_dir)
    assert run.rates["cash_rate"].startswith("DTB3: FRED DTB3") and str(prices_dir.parent / "rates" / "DTB3.csv") in run.rates["cash_rate"]
    assert [w for w in run.warnings if "covers" in w] == [
        "parameter 'cash_rate' (series DTB3) covers 2024-01-04..2024-01-08, not the whole window 2024-01-02..2024-01-08: "
        "2024-01-02..2024-01-03 uses its first value 3.6331%"
    ]
    document = run.to_dict()
    assert document["rates"]["cash_rate"] == run.rates["cash_rate"] and document["engine"]["cash_rate"] == "tbill"


def test_a_rate_file_rewritten_after_a_run_is_read_again(tmp_path):
    """Rates read for loaded prices are kept with them, with the file's version: a rewritten file is read again by
    the engine and by the option pricing."""
    import os

    from shortthehype.data.load import load_prices
    from shortthehype.runner import _kind_params, resolve_spec

    prices_dir, path = _rates_dir(tmp_path, [f"{day:%Y-%m-%d},3.6" for day in DAYS])
    _flat_frame(DAYS).rename_axis("date").to_csv(prices_dir / "X.csv")
    prices = load_prices(["X"], source="csv", data_dir=prices_dir)
    spec = {"name": "cash", "kind": "fixed-weights", "params": {"weights": {"X": 0.0}}, "engine": {"cash_rate": "tbill"}}
    puts = resolve_spec("burry-puts")
    before = backtest(spec, prices=prices).stats["end_value"]
    rate_before = _kind_params(puts, prices)["risk_free"]
    assert backtest(spec, prices=prices).stats["end_value"] == before  # kept
    stat = path.stat()
    path.write_text("\n".join(["date,rate", *(f"{day:%Y-%m-%d},7.2" for day in DAYS)]) + "\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new version even within the clock's tick
    after = backtest(spec, prices=prices).stats["end_value"]
    fresh = backtest(spec, prices=load_prices(["X"], source="csv", data_dir=prices_dir)).stats["end_value"]
    assert after == fresh and after > before
    rate_after = _kind_params(puts, prices)["risk_free"]
    assert rate_after.iloc[-1] > rate_before.iloc[-1]


# ---- the CLI --------------------------------------------------------------------------------


def _cli_json(capsys, tmp_path, shared_prices_dir, rate: str) -> dict:
    path = tmp_path / f"{rate}.json"
    code = main([
        "backtest", "burry-short", "--source", "csv", "--data-dir", str(shared_prices_dir), "--set", f"cash_rate={rate}",
        "--json", str(path),
    ])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "cash_rate: " in out
    return json.loads(path.read_text())


def test_cash_rate_from_the_command_line(capsys, tmp_path, shared_prices_dir):
    none = _cli_json(capsys, tmp_path, shared_prices_dir, "0")
    four = _cli_json(capsys, tmp_path, shared_prices_dir, "0.04")
    tbill = _cli_json(capsys, tmp_path, shared_prices_dir, "tbill")
    assert four["engine"]["cash_rate"] == 0.04 and four["rates"]["cash_rate"] == "constant 4 %/yr (ACT/360)"
    assert tbill["engine"]["cash_rate"] == "tbill" and tbill["rates"]["cash_rate"].startswith("DTB3: ")
    # the short's proceeds and the idle cash earn interest: more equity, and interest earned in the costs
    assert four["final_equity"] > none["final_equity"] and tbill["final_equity"] > none["final_equity"]
    assert four["costs"]["interest"] < 0 and none["costs"]["interest"] == 0
    code = main(["backtest", "burry-short", "--source", "csv", "--data-dir", str(shared_prices_dir), "--set", "cash_rate=tbil"])
    _, err = capsys.readouterr()
    assert code == 1 and "unknown rate series 'tbil'" in err and len(err.strip().splitlines()) == 1


def test_a_run_whose_cash_earns_interest_says_its_ratios_count_it_as_return(tmp_path):
    """The Sharpe, Sortino and omega ratios use a zero risk-free rate: with interest on cash the run says so, with
    the mean rate over its window (here the bill rate of each bar, by hand), in its rates, JSON and report."""
    from shortthehype.report.formatting import engine_settings

    prices_dir, _ = _rates_dir(tmp_path, ["2024-01-02,3.6", "2024-01-03,3.6", "2024-01-04,7.2", "2024-01-08,7.2"])
    _flat_frame(DAYS).rename_axis("date").to_csv(prices_dir / "X.csv")
    spec = {"name": "cash", "kind": "fixed-weights", "params": {"weights": {"X": 0.0}}, "engine": {"cash_rate": "tbill"}}
    run = backtest(spec, source="csv", data_dir=prices_dir)
    bill = lambda d: d / (1 - d * 91 / 360)  # noqa: E731 - the discount rate as ACT/360 simple, as data/rates.py
    per_bar = [bill(0.036), bill(0.036), bill(0.072), bill(0.072), bill(0.072)]  # 2024-01-05 carries 01-04's rate
    assert len(run.prices) == len(per_bar)
    expected = sum(per_bar) / len(per_bar) * 100
    note = run.rates["sharpe_risk_free"]
    assert note.startswith(f"0 in the Sharpe, Sortino and omega ratios, while cash earned {expected:.2f} %/yr")
    assert run.stats["sharpe"] > 3  # the cash alone: what the note warns of
    document = run.to_dict()
    assert document["rates"]["sharpe_risk_free"] == note
    assert ("sharpe_risk_free", note) in engine_settings(document)
    free = backtest({**spec, "engine": {"cash_rate": 0.0}}, source="csv", data_dir=prices_dir)
    assert "sharpe_risk_free" not in free.rates and "sharpe_risk_free" not in free.to_dict()["rates"]
