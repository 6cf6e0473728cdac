"""``burry-short``: short NVDA and PLTR in the proportions of Burry's Q3-2025 13F, as stock or rolled puts.

Timing (every date is a *signal* date: targets are set at that bar's close and
the engine trades them at its next execution point, the next open by default):

* **Entry** on the first bar on or after ``entry`` (default the 13F filing
  date, 2025-11-03: the positions as of 2025-09-30 were public only then, so
  an earlier entry trades on information nobody had — look-ahead as a test of
  Burry's call, a fair question as "would this short have worked in 2021?").
* **Exit** on the first bar on or after ``exit``, or ``hold_days`` bars after
  the entry bar (one or the other); without either the position is held to
  the end of the data.  Before the entry and after the exit: flat (cash).

``instrument = "stock"``: target weight ``-exposure x split[t]`` per ticker
(``split`` normalised to sum 1).  ``rebalance = "hold"`` sets it once, at the
entry, and holds the shares (the weights drift with prices; a stop-loss exit is
final); ``"keep_weights"`` sets it again on the last trading day of every
``rebalance_freq`` period between entry and exit (and re-enters after a stop).
A ticker without a price when the entry trades (PLTR before 2020-09-30) cannot
be shorted: its weight stays in cash (the engine's rule), for good with
``hold``, until the next rebalance after it lists with ``keep_weights``.
Borrow fees and a stop-loss are the engine options ``borrow_fee`` and
``stop_loss``.

``instrument = "puts"``: a rolled long-put position per ticker, traded as the
synthetic slots ``<TICKER>_PUT_A`` / ``_PUT_B`` built by
:func:`shortthehype.option_pricing.roll_puts` (Black–Scholes with the volatility
model of :mod:`shortthehype.option_pricing`: an at-the-money level and a skew; the
rate is the run's cash rate unless ``risk_free`` is set).  This is a
hypothesis of its own, not Burry's trade: the trade as disclosed (fixed
strike and expiry, 50,000 contracts) is the ``burry-puts`` spec.  On each
contract's purchase decision the new slot's target is ``premium_budget x
split[t]`` (each roll spends the budget of the equity at that moment on a
fresh contract) and the old slot's is 0 (the old contract is sold); between
rolls no targets (the contracts are held); at the exit the last one is
sold.  A ticker's first contract waits until its volatility window exists.
When the underlying does not trade on the bar a roll or the exit executes (a
halt), the targets are set again on the halt's last bar, so they trade at the
first price after it (no look-ahead: the halt is known by then).  The
underlying columns are part of the traded prices with no targets, so
per-ticker engine options (``borrow_fee = {NVDA = ...}``) stay valid in both modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.core.targets_nb import BURRY_PUTS, BURRY_STOCK, burry_short_targets_nb
from shortthehype.data.prices import Prices, side_by_side
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared, choice_index
from shortthehype.option_pricing import VOL_MODEL_PARAMS, OptionContract, VolModel, same_rate
from shortthehype.params import Param, format_value
from shortthehype.schedule import calendar_dates, rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = ["BURRY_SHORT", "INSTRUMENTS", "REBALANCE_POLICIES", "entry_exit_bars", "normalized_split"]

#: The two names of Burry's Q3-2025 13F puts and their notional split
#: (PLTR puts on 5M shares ~ $912M, NVDA puts on 1M shares ~ $187M).
BURRY_TARGETS = {"PLTR": 912.0 / (912.0 + 187.0), "NVDA": 187.0 / (912.0 + 187.0)}
#: The 13F filing date: the Q3-2025 positions were public only from then.
BURRY_FILING_DATE = "2025-11-03"
#: burry-short defaults: gross short exposure (x equity) of the stock mode ...
BURRY_EXPOSURE = 0.8
#: ... and the rolled-put mode: premium spent per roll (fraction of equity),
#: strike / spot at purchase, tenor (calendar days) and roll (trading days
#: before expiry); the volatility model's defaults are option_pricing's.
PUT_PREMIUM_BUDGET = 0.05
PUT_MONEYNESS = 0.9
PUT_TENOR_DAYS = 182
PUT_ROLL_DAYS = 21

#: What is traded: the shares, or rolled long puts.
INSTRUMENTS = ("stock", "puts")
#: hold = enter once and hold the shares; keep_weights = trade back to the target weights every period.
REBALANCE_POLICIES = ("hold", "keep_weights")
#: Periods of the keep_weights policy (the last trading day of each).
REBALANCE_FREQS = ("daily", "weekly", "monthly", "quarterly")

PARAMS = (
    Param(
        "split",
        "weights",
        dict(BURRY_TARGETS),
        "Relative size of each short (normalised to sum 1); default Burry's 13F notional: PLTR 83%, NVDA 17%.",
        "relative",
        minimum=0.0,
    ),
    Param("exposure", "float", BURRY_EXPOSURE, "Gross short exposure of the stock mode; the rest is cash.", "x equity", minimum=0.0, exclusive_minimum=True, applies={"instrument": "stock"}),
    Param("entry", "date", pd.Timestamp(BURRY_FILING_DATE), "Signal date of the entry (trades at the next open); earlier than 2025-11-03 is look-ahead as a test of the 13F.", moves_window=True),
    Param("exit", "date", None, "Signal date of the exit (default: hold to the end of the data).", optional=True),
    Param("hold_days", "int", None, "Exit this many trading days after the entry bar instead of on a date.", "bars", minimum=1, optional=True),
    Param("instrument", "choice", "stock", "stock = short the shares; puts = rolled long puts priced with Black-Scholes.", choices=INSTRUMENTS),
    Param("rebalance", "choice", "hold", "Stock mode: hold = enter once and hold the shares; keep_weights = trade back to the targets every rebalance_freq.", choices=REBALANCE_POLICIES, applies={"instrument": "stock"}),
    Param("rebalance_freq", "choice", "monthly", "Period of keep_weights (last trading day of each).", choices=REBALANCE_FREQS, applies={"instrument": "stock", "rebalance": "keep_weights"}),
    Param("premium_budget", "float", PUT_PREMIUM_BUDGET, "Puts: premium spent on each roll (split across the tickers).", "fraction of equity", minimum=0.0, maximum=1.0, exclusive_minimum=True, applies={"instrument": "puts"}),
    Param("moneyness", "float", PUT_MONEYNESS, "Puts: strike / spot at the purchase decision (0.9 = 10% out of the money).", "ratio", minimum=0.0, exclusive_minimum=True, maximum=5.0, applies={"instrument": "puts"}),
    Param("tenor_days", "int", PUT_TENOR_DAYS, "Puts: time from purchase decision to expiry.", "calendar days", minimum=1, applies={"instrument": "puts"}),
    Param("roll_days", "int", PUT_ROLL_DAYS, "Puts: roll this many trading days before expiry (0 = at expiry).", "bars", minimum=0, applies={"instrument": "puts"}),
) + tuple(
    replace(param, applies=param.applies + (("instrument", ("puts",)),)) for param in VOL_MODEL_PARAMS
)


def normalized_split(params: Params) -> dict[str, float]:
    """The split scaled to sum 1 (the check guarantees a positive sum)."""
    split = params["split"]
    total = float(sum(split.values()))
    return {ticker: float(value) / total for ticker, value in split.items()}


def _tickers(params: Params) -> list[str]:
    return list(params["split"])


def _check(params: Params) -> None:
    split = params["split"]
    if not split or not sum(split.values()) > 0.0:
        raise SpecError(f"burry-short: parameter 'split' needs a positive total, got {format_value(split)}")
    if params["exit"] is not None and params["hold_days"] is not None:
        raise SpecError("burry-short: set 'exit' or 'hold_days', not both")
    if params["exit"] is not None and params["exit"] <= params["entry"]:
        raise SpecError(
            f"burry-short: exit {format_value(params['exit'])} must be after entry {format_value(params['entry'])}"
        )
    if params["instrument"] == "puts":
        if params["rebalance"] != "hold":
            raise SpecError(
                "burry-short: rebalance 'keep_weights' applies to instrument 'stock' only "
                "(puts are re-sized at each roll); use rebalance = 'hold'"
            )
        if params["roll_days"] * 7 >= params["tenor_days"] * 5:
            raise SpecError(
                f"burry-short: roll_days {params['roll_days']} trading days is not shorter than tenor_days "
                f"{params['tenor_days']} calendar days; lower roll_days or raise tenor_days"
            )


def entry_exit_bars(index: pd.DatetimeIndex, params: Params) -> tuple[int, int]:
    """Bar of the entry signal and bar of the exit signal (``len(index)`` when there is none)."""
    return _entry_exit_positions(calendar_dates(index).to_numpy(), params)


def _entry_exit_positions(dates: np.ndarray, params: Params) -> tuple[int, int]:
    """:func:`entry_exit_bars` on the bars' normalised dates (datetime64)."""
    n = len(dates)
    entry_bar = int(np.searchsorted(dates, pd.Timestamp(params["entry"]).to_datetime64(), side="left"))
    exit_bar = n
    if params["exit"] is not None:
        exit_bar = int(np.searchsorted(dates, pd.Timestamp(params["exit"]).to_datetime64(), side="left"))
    elif params["hold_days"] is not None:
        exit_bar = min(entry_bar + params["hold_days"], n)
    return entry_bar, max(exit_bar, min(entry_bar + 1, n))


#: Rolled puts kept per loaded price set (the most recent last): the traded prices, the targets and the
#: contracts of one run, or of one group of a sweep, ask for the same puts.
ROLLS_KEPT = 8


def _roll(prices: Prices, ticker: str, params: Params, entry_bar: int, exit_bar: int):
    from shortthehype.option_pricing import roll_puts

    rate = params["risk_free"]  # a number, None, or a dated series (compared by identity: it is not hashable)
    model = VolModel.from_params(params)
    key = (ticker, entry_bar, exit_bar, *(repr(params[name]) for name in _ROLL_PARAMS), model.file_state())
    index = prices.index

    def roll() -> tuple[Any, Any]:
        return rate, roll_puts(
            prices,
            ticker,
            moneyness=params["moneyness"],
            tenor_days=params["tenor_days"],
            roll_days=params["roll_days"],
            rate=rate,
            volatility=model,
            first=index[entry_bar] if entry_bar < len(index) else index[-1] + pd.Timedelta(days=1),
            stop=index[exit_bar] if exit_bar < len(index) else None,
        )

    return prices.recent(_ROLLS, key, roll, ROLLS_KEPT, lambda held: same_rate(held[0], rate))[1]


def _instruments(prices: Prices, params: Params) -> Prices:
    if params["instrument"] != "puts":
        return prices
    entry_bar, exit_bar = entry_exit_bars(prices.index, params)
    underlying = list(params["split"])
    rolled = [_roll(prices, ticker, params, entry_bar, exit_bar).prices for ticker in underlying]
    traded = side_by_side([prices.columns_of(underlying), *rolled], source=prices.source, warnings=prices.warnings)
    # the same bars and underlyings: the puts priced on either price set are the same, so they share the kept rolls
    traded.cached(_ROLLS, lambda: prices.recent_store(_ROLLS, ROLLS_KEPT))
    return traded


def _columns(params: Params) -> list[str]:
    """The traded columns: the tickers, then in puts mode each ticker's two put slots."""
    from shortthehype.option_pricing import put_slots

    split = list(params["split"])
    if params["instrument"] != "puts":
        return split
    return split + [slot for ticker in split for slot in put_slots(ticker)]


def _put_rolls(prices: Prices, params: Params) -> np.ndarray:
    """Puts mode: per bar and column 1 where a contract is bought, 0 where one is sold, NaN elsewhere."""
    index = prices.index
    n = len(index)
    entry_bar, exit_bar = entry_exit_bars(index, params)
    columns = _columns(params)
    values = np.full((n, len(columns)), np.nan)
    if entry_bar >= n:
        return values
    for ticker in params["split"]:
        contracts = _roll(prices, ticker, params, entry_bar, exit_bar).contracts
        slots = [columns.index(slot) for slot in contracts["slot"]]
        rows: dict[int, dict[int, float]] = {}
        for k, decided in enumerate(contracts["decision"]):
            row = rows.setdefault(index.get_loc(decided), {})
            row[slots[k]] = 1.0
            if k > 0:
                row[slots[k - 1]] = 0.0
        if slots and exit_bar < n:
            rows.setdefault(exit_bar, {})[slots[-1]] = 0.0
        trading = np.isfinite(prices.close[ticker].to_numpy(dtype=np.float64))
        for bar, row in rows.items():
            # a target whose execution bar is a halt is repeated on the halt's last bar, so that it
            # trades at the first price after it (the halt is known at that bar's close)
            retry = bar
            while retry + 1 < n and not trading[retry + 1]:
                retry += 1
            for target_bar in {bar, retry}:
                for column, mark in row.items():
                    values[target_bar, column] = mark
    return values


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """The keep_weights calendars and, in puts mode, the rolls on ``prices`` (the traded prices with the slots)."""
    index = prices.index
    n = len(index)
    calendar_of = choice_index(choices["rebalance_freq"])
    calendars = np.stack([rebalance_mask(index, frequency) for frequency in calendar_of])
    rolls = _put_rolls(prices, params) if params["instrument"] == "puts" else np.empty((0, 0))
    dates = calendar_dates(index).to_numpy()
    bars: dict[tuple[Any, ...], tuple[int, int]] = {}  # a sweep's combinations share a few entries and exits

    def encode(p: Params) -> tuple[list[int], list[float]]:
        split = normalized_split(p)
        if p["instrument"] == "puts":
            purchase = [p["premium_budget"] * share for share in split.values()]
            return [BURRY_PUTS, 0, 0, 0], [0.0] * len(split) + [weight for weight in purchase for _ in range(2)]
        dated = (p["entry"], p["exit"], p["hold_days"])
        if dated not in bars:
            bars[dated] = _entry_exit_positions(dates, p)
        entry_bar, exit_bar = bars[dated]
        if entry_bar >= n:
            entry_bar = exit_bar = -1
        row = calendar_of[p["rebalance_freq"]] if p["rebalance"] == "keep_weights" else -1
        return [BURRY_STOCK, entry_bar, exit_bar, row], [-p["exposure"] * split[t] for t in split]

    return Prepared((calendars, rolls), encode)


#: Parameters the rolled puts depend on (each distinct set is priced once per sweep).
_PUT_PARAMS = (
    "moneyness", "tenor_days", "roll_days", *(param.name for param in VOL_MODEL_PARAMS), "entry", "exit", "hold_days",
)
#: What a roll's key holds besides the ticker, its entry and exit bars and the pricing rate.
_ROLL_PARAMS = ("moneyness", "tenor_days", "roll_days", *(p.name for p in VOL_MODEL_PARAMS if p.name != "risk_free"))
#: The key of the kept rolls in :meth:`Prices.cached`.
_ROLLS = ("burry-short rolls",)


def _instrument_key(params: Params) -> tuple[Any, ...]:
    """What a combination trades: the shares, or puts rolled with these parameters."""
    if params["instrument"] != "puts":
        return ("stock",)
    return ("puts", *(params[name] for name in _PUT_PARAMS))


#: The kind's target kernel in both modes, shared by ``backtest()`` and the fused sweep; the puts are
#: priced once per distinct set of the parameters they depend on.
FUSED = FusedTargets(
    params=("split", "exposure", "instrument", "rebalance", "rebalance_freq", "premium_budget", *_PUT_PARAMS),
    columns=_columns,
    prepare=_prepare,
    targets_nb=burry_short_targets_nb,
    sweep_nb="burry_short_sweep_nb",
    instruments=_instrument_key,
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


def _contracts(prices: Prices, params: Params) -> list[OptionContract]:
    """The rolled puts as contracts (puts mode; none in stock mode), for the run's option records."""
    if params["instrument"] != "puts":
        return []
    entry_bar, exit_bar = entry_exit_bars(prices.index, params)
    out = []
    for ticker in params["split"]:
        rolled = _roll(prices, ticker, params, entry_bar, exit_bar)
        table = rolled.contracts
        for k, row in enumerate(table.itertuples()):
            reuse = table["decision"].iloc[k + 2] if k + 2 < len(table) else None
            out.append(
                OptionContract(
                    name=f"{ticker} roll {k + 1}",
                    ticker=ticker,
                    option_type="put",
                    strike=float(row.strike),
                    expiry=row.expiry,
                    symbol=row.slot,
                    decision=row.decision,
                    settlement=None if pd.isna(row.settlement) else row.settlement,
                    exit=None if pd.isna(row.roll) else row.roll,
                    contracts=None,
                    premium_budget=params["premium_budget"],
                    multiplier=100,
                    prices=rolled.prices,
                    last=None if reuse is None else prices.index[prices.index.get_loc(reuse) - 1],
                )
            )
    return out


BURRY_SHORT = register(
    StrategyKind(
        name="burry-short",
        summary="Short NVDA/PLTR in Burry's 13F proportions from an entry date, as stock or as rolled Black-Scholes puts.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=("split", "exit", "hold_days", "entry", "instrument", "rebalance", "roll_days", "tenor_days"),
        instruments=_instruments,
        contracts=_contracts,
        entry_dates=("entry", "exit"),
        fused=FUSED,
    )
)
