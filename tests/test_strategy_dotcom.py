"""``dotcom-analog``: calendar flips on hand-computed dates, the alignment kernel against a
brute-force twin, and path mode's decisions immune to the future."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from shortthehype.runner import backtest
from shortthehype.baskets import AI_BASKET
from shortthehype.constants import PRICE_FIELDS
from shortthehype.core.analog_nb import best_alignment_nb, best_alignments_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError, SpecError
from shortthehype.spec import load_spec
from shortthehype.strategies.dotcom_analog import PHASES, implied_phase, scale_grid

pytestmark = pytest.mark.filterwarnings("ignore::shortthehype.errors.DataWarning")


# ---- brute-force twin of the alignment search -----------------------------------------


def twin_interp(ref: list[float], p: float) -> float:
    lo = math.floor(p)
    frac = p - lo
    if frac == 0.0:
        return ref[lo]
    return ref[lo] * (1.0 - frac) + ref[lo + 1] * frac


def twin_error(path: list[float], ref: list[float], end: int, scale: float, normalize: bool) -> float | None:
    w = len(path)
    positions = [end - (w - 1 - i) * scale for i in range(w)]
    if positions[0] < 0 or end > len(ref) - 1:
        return None
    x = [twin_interp(ref, p) for p in positions]
    y_mean = sum(path) / w
    x_mean = sum(x) / w
    y = [v - y_mean for v in path]
    xd = [v - x_mean for v in x]
    if normalize:
        sy = math.sqrt(sum(v * v for v in y) / w)
        sx = math.sqrt(sum(v * v for v in xd) / w)
        if sy == 0.0 or sx == 0.0:
            return None
        y = [v / sy for v in y]
        xd = [v / sx for v in xd]
    return sum((a - b) ** 2 for a, b in zip(y, xd)) / w


def twin_search(path: list[float], ref: list[float], scales: list[float], normalize: bool):
    """Every (scale, end) in grid order; the first strict minimum wins."""
    if len(path) < 2 or len(ref) < 2 or any(not math.isfinite(v) for v in path):
        return -1, -1, math.nan
    best = (-1, -1, math.nan)
    for si, s in enumerate(scales):
        for end in range(len(ref)):
            err = twin_error(path, ref, end, s, normalize)
            if err is None:
                continue
            if best[0] < 0 or err < best[2]:
                best = (end, si, err)
    return best


CASES = [
    # (window, n_ref, scales)
    (2, 2, [1.0]),
    (2, 5, [0.5, 1.0, 3.0]),
    (3, 4, [1.0, 2.0]),  # scale 2 spans 5 bars: does not fit
    (5, 12, [0.7, 1.0, 1.3, 2.0]),
    (8, 30, [0.5, 0.8, 1.25, 1.6, 2.5, 3.7]),
    (13, 40, [1.0 / 3.0, 0.9, 2.2]),
    (4, 3, [1.0]),  # nothing fits
]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("window, n_ref, scales", CASES)
def test_alignment_kernel_matches_brute_force_twin(window, n_ref, scales, normalize):
    rng = np.random.default_rng(window * 100 + n_ref)
    for trial in range(5):
        path = np.cumsum(rng.normal(0, 0.1, window)) + rng.normal()
        ref = np.cumsum(rng.normal(0, 0.1, n_ref)) + 5.0
        end, si, err = best_alignment_nb(path, ref, n_ref, np.array(scales), normalize)
        t_end, t_si, t_err = twin_search(path.tolist(), ref.tolist(), scales, normalize)
        if t_end < 0:
            assert (end, si) == (-1, -1) and math.isnan(err)
            continue
        assert err == pytest.approx(t_err, rel=1e-9, abs=1e-12)
        # the kernel's pick is a minimiser of the twin's error (ties within round-off may differ)
        assert twin_error(path.tolist(), ref.tolist(), end, scales[si], normalize) == pytest.approx(t_err, rel=1e-9, abs=1e-12)


def test_alignment_kernel_edge_cases():
    ref = np.linspace(1.0, 2.0, 10)
    scales = np.array([1.0])
    nan_path = np.array([1.0, np.nan, 2.0])
    assert best_alignment_nb(nan_path, ref, 10, scales, False)[:2] == (-1, -1)
    assert best_alignment_nb(np.array([1.0]), ref, 10, scales, False)[:2] == (-1, -1)  # one bar: no shape
    flat = np.full(4, 3.0)
    assert best_alignment_nb(flat, ref, 10, scales, True)[:2] == (-1, -1)  # cannot normalise a flat path
    # a flat path against a straight line: every alignment has the same error, the earliest end wins
    end, si, err = best_alignment_nb(flat, ref, 10, scales, False)
    assert (end, si) == (3, 0)
    assert err == pytest.approx(np.var(ref[:4]), rel=1e-12)
    # only the first n_ref bars of the reference are read
    ref_nan_tail = np.concatenate([ref[:6], [np.nan] * 4])
    assert best_alignment_nb(np.array([1.0, 2.0, 1.5]), ref_nan_tail, 6, scales, False)[0] >= 2


def test_alignment_kernel_recovers_a_planted_alignment():
    rng = np.random.default_rng(3)
    ref = np.cumsum(rng.normal(0, 0.02, 400)) + 7.0
    window, end, scale = 60, 300, 1.5
    positions = end - (window - 1 - np.arange(window)) * scale
    path = np.interp(positions, np.arange(400), ref) - 2.3  # another level
    scales = np.array([1.0, 1.25, 1.5, 2.0])
    found_end, found_scale, err = best_alignment_nb(path, ref, 400, scales, False)
    assert (found_end, scales[found_scale]) == (end, scale)
    assert err < 1e-20 + 1e-12
    # amplitude differs: only the normalised fit still finds it exactly
    found_end, found_scale, err = best_alignment_nb(3.0 * path, ref, 400, scales, True)
    assert (found_end, scales[found_scale]) == (end, scale)
    assert err < 1e-12


def test_batch_kernel_equals_one_fit_per_bar_and_respects_reference_lengths():
    rng = np.random.default_rng(5)
    series = np.cumsum(rng.normal(0, 0.02, 300))
    ref = np.cumsum(rng.normal(0, 0.02, 200))
    bars = np.array([10, 49, 50, 120, 299], dtype=np.int64)
    ref_lens = np.array([200, 200, 80, 150, 200], dtype=np.int64)
    scales = scale_grid(0.5, 2.0, 4)
    ends = np.empty(5, dtype=np.int64)
    idx = np.empty(5, dtype=np.int64)
    errs = np.empty(5)
    best_alignments_nb(series, bars, 50, ref, ref_lens, scales, False, ends, idx, errs)
    assert (ends[0], idx[0]) == (-1, -1) and math.isnan(errs[0])  # 11 bars < window 50
    assert ends[1] >= 0  # bars 0..49: exactly one full window
    for k in range(1, 5):
        t = bars[k]
        expected = best_alignment_nb(series[t - 49 : t + 1], ref[: ref_lens[k]], ref_lens[k], scales, False)
        assert (ends[k], idx[k]) == expected[:2] and errs[k] == expected[2]
        assert ends[k] < ref_lens[k]


def test_scale_grid_is_geometric():
    np.testing.assert_allclose(scale_grid(0.5, 2.0, 3), [0.5, 1.0, 2.0], rtol=1e-14)
    np.testing.assert_allclose(scale_grid(1.5, 1.5, 1), [1.5])
    grid = scale_grid(0.5, 2.0, 7)
    np.testing.assert_allclose(grid[1:] / grid[:-1], 4.0 ** (1 / 6), rtol=1e-12)


# ---- the strategy on the shared prices -------------------------------------------------


@pytest.fixture(scope="module")
def prices(shared_prices_dir) -> Prices:
    from shortthehype.data.load import load_prices

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_prices(list(AI_BASKET) + ["IXIC", "QQQ"], end="2026-06-30", data_dir=shared_prices_dir)


def first_trading_day_on_or_after(index: pd.DatetimeIndex, ai_start: dt.date, dotcom_days: float, scale: float):
    """The first bar whose mapped dotcom date is at least ``dotcom_days`` past dotcom_start."""
    for date in index:
        if (date.date() - ai_start).days * scale >= dotcom_days:
            return date
    return None


def test_calendar_mode_flips_on_the_dates_computed_by_hand(prices):
    scale, lead = 2.5, 30
    start = dt.date(1995, 8, 9)
    turn_days = (dt.date(2000, 3, 10) - dt.timedelta(days=lead) - start).days  # 1645
    trough_days = (dt.date(2002, 10, 9) - start).days  # 2618
    index = prices.index
    short_from = first_trading_day_on_or_after(index, dt.date(2022, 11, 30), turn_days, scale)
    long_from = first_trading_day_on_or_after(index, dt.date(2022, 11, 30), trough_days, scale)
    # 1645 / 2.5 = 658 AI days after 2022-11-30 is 2024-09-18; 2618 / 2.5 = 1047.2 -> 1048 days: 2025-10-13
    assert short_from == pd.Timestamp("2024-09-18") and long_from == pd.Timestamp("2025-10-13")

    spec = load_spec("dotcom-analog").with_overrides({"time_scale": scale, "lead_days": lead})
    weights = spec.kind.target_weights(prices.select(spec.tickers()), spec.params)
    net = weights.sum(axis=1, min_count=1)
    first_short = net[net < 0].index[0]
    assert first_short == short_from
    assert weights.loc[short_from].to_numpy() == pytest.approx(-0.1)  # -1.0 over ten listed members
    assert (net.loc[:short_from].iloc[:-1].dropna() > 0).all()
    back_long = net[(net > 0) & (net.index > short_from)].index[0]
    assert back_long == long_from
    assert (net.loc[short_from:long_from].iloc[:-1].dropna() < 0).all()

    phases = implied_phase(prices, {"time_scale": scale, "lead_days": lead})
    assert phases.loc[short_from, "phase"] == "bust" and phases.shift(1).loc[short_from, "phase"] == "boom"
    assert phases.loc[long_from, "phase"] == "recovery"

    # end to end: short positions from the open after the flip
    run = backtest("dotcom-analog", overrides={"time_scale": scale, "lead_days": lead, "end": "2026-06-30"}, prices=prices)
    after = run.result.positions.index[run.result.positions.index.get_loc(short_from) + 1]
    assert (run.result.positions.loc[short_from] > 0).all()
    assert (run.result.positions.loc[after] < 0).all()


def test_calendar_mode_after_peak_cash_and_after_trough_cash(prices):
    weights = backtest(
        "dotcom-analog",
        overrides={"time_scale": 2.5, "after_peak": "cash", "after_trough": "cash", "end": "2026-06-30"},
        prices=prices,
    ).weights
    bust = weights.loc["2024-10-01":].dropna(how="all")
    assert (bust == 0.0).all().all() and len(bust) > 10


def test_implied_phase_labels_follow_the_anchors(prices):
    for params in ({"time_scale": 1.7, "lead_days": 45}, {"mode": "path", "window": 252}):
        frame = implied_phase(prices, params)
        assert list(frame.columns) == ["mapped_date", "phase", "error", "scale", "exposure"]
        lead = params.get("lead_days", 0)
        turn = pd.Timestamp("2000-03-10") - pd.Timedelta(days=lead)
        for date, row in frame.iloc[:: max(1, len(frame) // 200)].iterrows():
            m = row["mapped_date"]
            expected = (
                "pre" if m < pd.Timestamp("1995-08-09") else
                "boom" if m < turn else
                "bust" if m < pd.Timestamp("2002-10-09") else
                "recovery"
            )
            assert row["phase"] == expected, f"{date:%Y-%m-%d} maps to {m:%Y-%m-%d}"
            assert row["exposure"] == {"pre": 1.0, "boom": 1.0, "bust": -1.0, "recovery": 1.0}[expected]
        assert set(frame["phase"]) <= set(PHASES)


def test_path_mode_maps_onto_the_reference_and_fits_from_ai_start(prices):
    frame = implied_phase(prices, {"mode": "path"})
    assert frame.index[0] == pd.Timestamp("2022-11-30")  # a month end and ai_start
    assert (frame["mapped_date"] >= pd.Timestamp("1994-01-01")).all()
    assert (frame["mapped_date"] <= pd.Timestamp("2003-12-31")).all()
    ixic_dates = prices.close["IXIC"].dropna().index
    assert frame["mapped_date"].isin(ixic_dates).all()
    assert (frame["error"] >= 0).all() and frame["scale"].between(0.5, 2.0 + 1e-12).all()
    # the fit at one date, recomputed from the raw arrays by the brute-force kernel call
    date = frame.index[10]
    close = prices.close[list(AI_BASKET)]
    from shortthehype.strategies.ai_basket import basket_index

    series = np.log(basket_index(close).to_numpy())
    t = close.index.get_loc(date)
    ref = prices.close["IXIC"].loc["1994-01-01":"2003-12-31"].dropna()
    end, si, err = best_alignment_nb(series[t - 503 : t + 1], np.log(ref.to_numpy()), len(ref), scale_grid(0.5, 2.0, 7), False)
    assert frame.loc[date, "mapped_date"] == ref.index[end]
    assert frame.loc[date, "error"] == err


def _perturbed_after(prices: Prices, decision: pd.Timestamp, seed: int) -> Prices:
    close = prices.close.copy()
    future = close.index > decision
    rng = np.random.default_rng(seed)
    close.loc[future] = close.loc[future] * rng.uniform(0.8, 1.25, size=close.loc[future].shape)
    return Prices.from_close(close)


@pytest.mark.parametrize(
    "params, decision",
    [
        ({"mode": "path"}, "2024-05-31"),
        # a backtest set inside the dotcom era: the reference (1994-2003) must be cut at each decision date
        ({"mode": "path", "ai_start": "2000-06-01", "window": 252, "tickers": "MSFT,ORCL,AMD,NVDA,AMZN"}, "2001-09-28"),
    ],
)
def test_path_mode_decisions_ignore_the_future(prices, params, decision):
    decision = pd.Timestamp(decision)
    before = implied_phase(prices, params)
    after = implied_phase(_perturbed_after(prices, decision, 11), params)
    pd.testing.assert_frame_equal(before.loc[:decision], after.loc[:decision])
    assert not before.loc[decision:].iloc[1:].equals(after.loc[decision:].iloc[1:])  # the perturbation bites later

    spec = load_spec("dotcom-analog").with_overrides(params)
    w_before = spec.kind.target_weights(prices.select(spec.tickers()), spec.params)
    w_after = spec.kind.target_weights(_perturbed_after(prices, decision, 11).select(spec.tickers()), spec.params)
    pd.testing.assert_frame_equal(w_before.loc[:decision], w_after.loc[:decision])


def test_path_mode_in_the_dotcom_era_reads_the_reference_only_up_to_each_decision(prices):
    frame = implied_phase(prices, {"mode": "path", "ai_start": "2000-06-01", "window": 252, "tickers": "MSFT,ORCL,AMD"})
    dotcom = frame.loc[:"2003-12-31"]
    assert len(dotcom) > 30
    assert (dotcom["mapped_date"] <= dotcom.index.to_series()).all()


def test_spec_file_runs_end_to_end_in_both_modes(shared_prices_dir):
    run = backtest("strategies/dotcom_analog.toml", data_dir=shared_prices_dir)
    assert run.spec.params["mode"] == "calendar" and run.result.equity.iloc[-1] > 0
    path_run = backtest("dotcom-analog", overrides={"mode": "path"}, data_dir=shared_prices_dir)
    assert "IXIC" in path_run.spec.tickers() and "IXIC" not in path_run.weights.columns
    assert (path_run.result.positions < 0).any().any()  # the fits do call busts
    assert np.isfinite(path_run.result.equity).all()
    assert set(load_spec("dotcom-analog").sweep) == {"time_scale", "lead_days", "after_peak"}


def test_tickers_include_the_reference_only_in_path_mode():
    spec = load_spec("dotcom-analog")
    assert "IXIC" not in spec.tickers()
    assert spec.with_overrides({"mode": "path"}).tickers()[-1] == "IXIC"


def test_missing_reference_is_a_data_error_naming_it(prices):
    no_ixic = prices.select(list(AI_BASKET) + ["QQQ"])
    with pytest.raises(DataError, match=r"IXIC"):
        implied_phase(no_ixic, {"mode": "path"})
    with pytest.raises(DataError, match=r"IXIC has 0 close\(s\) between 1960-01-01 and 1961-01-01"):
        implied_phase(prices, {"mode": "path", "reference_start": "1960-01-01", "reference_end": "1961-01-01", "window": 20})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"dotcom_peak": "2003-01-01"}, r"dotcom_start < dotcom_peak < dotcom_trough"),
        ({"lead_days": 2000}, r"'lead_days' = 2000 reaches back past dotcom_start"),
        ({"scale_min": 3.0}, r"'scale_min' = 3 is above scale_max = 2"),
        ({"scale_steps": 1}, r"'scale_steps' = 1 needs scale_min = scale_max"),
        ({"mode": "path", "window": 6000}, r"'window' = 6000 at scale_min 0.5 spans"),
        ({"mode": "path", "tickers": "NVDA,IXIC"}, r"'reference' IXIC is also in the basket"),
        ({"reference_end": "1993-01-01"}, r"'reference_start' 1994-01-01 is not before reference_end 1993-01-01"),
    ],
)
def test_invalid_combinations_name_the_parameter(overrides, message):
    with pytest.raises(SpecError, match=message):
        load_spec("dotcom-analog").with_overrides(overrides)


def test_implied_phase_refuses_unknown_parameters(prices):
    with pytest.raises(ParamError, match=r"unknown parameter 'time_scal'.*did you mean 'time_scale'"):
        implied_phase(prices, {"time_scal": 2})


def test_a_path_mode_sweep_fits_only_the_sets_its_combinations_use(prices, monkeypatch):
    """A path-mode fit is computed when a combination first uses it: a random draw pays for the fits it draws."""
    import shortthehype.strategies.dotcom_analog as analog
    from shortthehype.sweeps import sweep

    fitted = []
    path_days = analog._path_days
    monkeypatch.setattr(analog, "_path_days", lambda close, p: fitted.append(p["window"]) or path_days(close, p))
    spec = load_spec("dotcom-analog").with_overrides({"mode": "path", "scale_steps": 3, "benchmark": None})
    grid = {"window": "40,50,60,70,80", "exposure": "0.5,1", "lead_days": "0,30"}  # 5 fits, 20 combinations
    prices = Prices(**{name: prices.field(name) for name in PRICE_FIELDS})  # nothing kept from earlier tests
    result = sweep(spec, grid, prices=prices, random=3, seed=2, n_blocks=0, workers=1, path="fused")
    used = set(result.table["window"].tolist())
    assert len(used) < 5 and set(fitted) == used
    row = result.table.iloc[0]
    run = backtest(spec, overrides={"window": int(row["window"]), "exposure": float(row["exposure"]),
                                    "lead_days": int(row["lead_days"])}, prices=prices)
    assert row["sharpe"] == run.stats["sharpe"]


def test_day_number_of_one_date_equals_the_index_version():
    """The per-combination day number (an ordinal) and the index's (date arithmetic) agree, before 1970 and
    with a time of day included."""
    from shortthehype.strategies.dotcom_analog import _day_number, _day_numbers

    rng = np.random.default_rng(3)
    stamps = pd.to_datetime(rng.integers(-2_000_000_000, 2_000_000_000, 200), unit="s")
    expected = _day_numbers(pd.DatetimeIndex(stamps))
    assert [_day_number(t) for t in stamps] == expected.tolist()
    assert _day_number(pd.Timestamp("1970-01-01 23:59")) == 0.0 and _day_number(pd.Timestamp("1969-12-31")) == -1.0


def test_runs_on_one_loaded_prices_fit_each_path_once(prices, monkeypatch):
    """A path-mode fit is kept with the loaded prices: generic runs that differ in other parameters (a generic
    sweep's, a study's) share it; other prices fit their own, with the same result."""
    import shortthehype.strategies.dotcom_analog as analog

    fitted = []
    path_days = analog._path_days
    monkeypatch.setattr(analog, "_path_days", lambda close, p: fitted.append(p["window"]) or path_days(close, p))
    prices = Prices(**{name: prices.field(name) for name in PRICE_FIELDS})
    spec = load_spec("dotcom-analog").with_overrides({"mode": "path", "scale_steps": 3, "benchmark": None})
    settings = [(45, 1.0, 0), (45, 0.5, 30), (55, 0.5, 30), (45, 1.5, 60), (55, 1.0, 0)]
    runs = [backtest(spec, overrides={"window": w, "exposure": e, "lead_days": d}, prices=prices) for w, e, d in settings]
    assert fitted == [45, 55]
    assert len({run.result.equity.iloc[-1] for run in runs}) > 1
    again = Prices(**{name: prices.field(name) for name in PRICE_FIELDS})
    fresh = backtest(spec, overrides={"window": 55, "exposure": 0.5, "lead_days": 30}, prices=again)
    assert fitted == [45, 55, 55] and fresh.result.equity.equals(runs[2].result.equity)


def _one_phase_notes(run) -> list[str]:
    return [line for line in run.warnings if line.startswith("every bar of the window")]


def _net_targets(run) -> pd.Series:
    """The basket's net target on every window bar that has one (the first bar carries the one in force)."""
    return run.weights.sum(axis=1, min_count=1).dropna()


@pytest.mark.parametrize(
    "overrides, note",
    [
        # the defaults: 2022-11-30 + 1675 days (1995-08-09 -> 2000-03-10) is 2027-07-02; 2026-06-30 maps onto
        # 1995-08-09 + 1308 days = 1999-03-09
        (
            {"end": "2026-06-30"},
            "every bar of the window (2022-11-30 to 2026-06-30) maps into the boom of the dotcom cycle "
            "(1995-08-09 to 1999-03-09), so the strategy is long the basket at 1x equity throughout and this result "
            "does not test the analogy's timing (its turn, the peak 2000-03-10, maps onto 2027-07-02, after the window)",
        ),
        # at twice the speed 2025-06-02 is 915 AI days in (1830 dotcom days: 2000-08-12), 2025-12-30 is 1126 in
        # (2252: 2001-10-08); the turn maps onto 2022-11-30 + 837.5 -> 838 days = 2025-03-17
        (
            {"time_scale": 2.0, "short_exposure": 0.5, "start": "2025-06-02", "end": "2025-12-30"},
            "every bar of the window (2025-06-02 to 2025-12-30) maps into the bust of the dotcom cycle "
            "(2000-08-12 to 2001-10-08), so the strategy is short the basket at 0.5x equity throughout and this "
            "result does not test the analogy's timing (its turn, the peak 2000-03-10, maps onto 2025-03-17, before "
            "the window)",
        ),
        (
            {"time_scale": 2.0, "after_peak": "cash", "lead_days": 10, "start": "2025-06-02", "end": "2025-12-30"},
            "every bar of the window (2025-06-02 to 2025-12-30) maps into the bust of the dotcom cycle "
            "(2000-08-12 to 2001-10-08), so the strategy is in cash throughout and this result does not test the "
            "analogy's timing (its turn, 2000-02-29, the peak less lead_days, maps onto 2025-03-12, before the window)",
        ),
        # ai_start 2024-01-02 (+ 1675 days = 2028-08-03): the bars before it map before dotcom_start (pre), the later
        # ones into the boom; both are long
        (
            {"ai_start": "2024-01-02", "exposure": 1.5, "end": "2026-06-30"},
            "every bar of the window (2022-11-30 to 2026-06-30) maps into the time before the boom and "
            "the boom of the dotcom cycle (1994-07-07 to 1998-02-04), so the strategy is long the basket at 1.5x "
            "equity throughout and this result does not test the analogy's timing (its turn, the peak 2000-03-10, "
            "maps onto 2028-08-03, after the window)",
        ),
    ],
)
def test_a_window_in_phases_of_one_exposure_says_so_and_holds_that_exposure(prices, overrides, note):
    """The note a reader sees first when the window never changes position (the default calendar run is long the
    basket throughout, bit for bit ai-basket's equal-weight run): dates computed by hand, and what it says held
    is what the targets hold on every bar."""
    run = backtest("dotcom-analog", overrides=overrides, prices=prices)
    assert _one_phase_notes(run) == [note]
    held = _net_targets(run)
    expected = {"long": 1.0, "short": -1.0, "cash": 0.0}
    params = run.spec.params
    sign = "long" if "long the basket" in note else "short" if "short the basket" in note else "cash"
    size = params["exposure"] if sign == "long" else params["short_exposure"] if sign == "short" else 0.0
    assert held.to_numpy() == pytest.approx(expected[sign] * size, rel=1e-12, abs=1e-15)
    assert held.index[0] == run.weights.index[0]
    assert note in run.to_dict()["warnings"]


@pytest.mark.parametrize(
    "overrides",
    [{"time_scale": 1.5, "end": "2026-06-30"}, {"mode": "path", "end": "2026-06-30"}],
)
def test_a_window_that_changes_position_has_no_one_phase_note(prices, overrides):
    run = backtest("dotcom-analog", overrides=overrides, prices=prices)
    assert _one_phase_notes(run) == []
    assert _net_targets(run).nunique() > 1


def test_a_path_mode_window_in_one_phase_reads_the_fits_that_traded(prices):
    """Path mode: the note comes from the fit the targets came from (its phases on the window's bars), and the
    window's targets hold the exposure it names."""
    params = {"mode": "path"}
    phases = implied_phase(prices, params)
    bust = phases["phase"].eq("bust")
    # the longest run of consecutive bust decisions: a window from its first decision to the bar before the next
    # decision (not bust), so one bar more on either side would see another phase
    runs = (bust != bust.shift()).cumsum()[bust]
    longest = runs.value_counts().idxmax()
    dates = runs[runs == longest].index
    after = phases.index[phases.index > dates[-1]]
    assert len(dates) >= 2 and len(after) and phases.loc[after[0], "phase"] != "bust"
    end = prices.index[prices.index.get_loc(after[0]) - 1]
    run = backtest("dotcom-analog", overrides={**params, "start": dates[0], "end": end}, prices=prices)
    assert run.weights.index[0] == dates[0] and run.weights.index[-1] == end
    [note] = _one_phase_notes(run)
    mapped = phases.loc[dates, "mapped_date"]
    assert "maps into the bust of the dotcom cycle" in note and "short the basket at 1x equity" in note
    first, last = f"{mapped.min():%Y-%m-%d}", f"{mapped.max():%Y-%m-%d}"
    assert f"of the dotcom cycle ({first})" in note if first == last else f"({first} to {last})" in note
    assert "maps onto" not in note  # path mode has no fixed calendar for the turn
    assert _net_targets(run).to_numpy() == pytest.approx(-1.0, rel=1e-12)
