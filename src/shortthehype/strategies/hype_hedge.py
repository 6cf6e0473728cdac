"""``hype-hedge``: long the broad market, short NVDA + PLTR, beta-neutral on a trailing window.

The market risk of the two legs cancels, so what is left is the "hype
premium": the return of the hyped names over what their market beta explains.

Definitions (every value on a decision bar t uses closes up to t's only; the
targets trade at the engine's next execution point):

* **Betas**: β_i on bar t is the OLS slope (with intercept: cov / var) of
  ticker i's daily simple returns on the ``reference`` index's over the last
  ``beta_window`` returns ending at t (:func:`shortthehype.signals.rolling_beta`).
  A window with a missing price on either side gives NaN (no partial windows).
* **Long leg**: ``market`` (a ticker, weight ``long_weight``), or with
  ``market = "BASKET"`` the ``basket`` tickers that have a close and a β on t,
  equally weighted (``long_weight / m`` each; the others 0).  β_long is the
  weighted mean of the members' betas — the exact β of the fixed-weight leg,
  because covariance is linear in the weights.
* **Short leg**: the ``shorts`` in proportions s_j (``split = "burry"``: the
  13F notional split restricted to the shorts and renormalised; ``"equal"``:
  1/k); β_short = Σ s_j β_j.
* **Hedge ratio**: short notional S = long_weight x β_long / β_short, so the
  portfolio's β is long_weight β_long − S β_short = 0.  When long_weight + S
  exceeds ``gross_cap`` both legs are scaled by gross_cap / (long_weight + S)
  (still β-neutral, less invested).  The cap holds between rebalances too: it
  is the engine's ``max_gross`` (the tighter of the two when the spec sets
  one), so a close above it — the short leg rallied, the long leg fell — is
  traded back to it at the next execution point, both legs cut by one factor.
* **Decisions** are taken on the rebalance calendar (``rebalance``: the
  first bar, then the last trading day of each period).
* **A leg without prices** on a decision bar (a short not listed yet or no
  more, no long-leg ticker trading): targets 0 everywhere — a one-legged
  book is no hedge.
* **Missing or unusable β** (not enough history — PLTR has none before
  2020-09-30 plus ``beta_window`` days —, a missing price inside the window,
  or β_long or β_short below ``HEDGE_MIN_BETA``): the decision is skipped, no
  targets on that bar, so the previous hedge stays in force (flat before the
  first valid one) until the next decision bar with valid betas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.baskets import AI_BASKET
from shortthehype.core.targets_nb import hype_hedge_targets_nb
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.fused import FusedTargets, Prepared, choice_index
from shortthehype.params import Param
from shortthehype.schedule import rebalance_mask
from shortthehype.strategies.base import Params, StrategyKind, register
from shortthehype.strategies.burry_short import BURRY_TARGETS

__all__ = ["BASKET", "HYPE_HEDGE", "hedge_betas", "short_split"]

#: hype-hedge defaults: trailing window of the betas (trading days), long leg
#: (x equity) and cap on long + short (x equity); the smallest leg beta is constants.HEDGE_MIN_BETA.
HEDGE_BETA_WINDOW = 126
HEDGE_LONG_WEIGHT = 1.0
HEDGE_GROSS_CAP = 2.0

#: The ``market`` value that makes the long leg the ``basket`` instead of one ticker.
BASKET = "BASKET"
#: Splits of the short leg.
SPLITS = ("burry", "equal")
#: Rebalance calendars (last trading day of each period).
HEDGE_REBALANCE = ("daily", "weekly", "monthly", "quarterly")

_DEFAULT_SHORTS = [t for t in BURRY_TARGETS]
_DEFAULT_BASKET = [t for t in AI_BASKET if t not in BURRY_TARGETS]

PARAMS = (
    Param("market", "ticker", "SPY", "Long leg: a broad-market ticker (SPY, RSP, ...) or BASKET for the basket tickers."),
    Param("basket", "tickers", _DEFAULT_BASKET, "Long leg when market = BASKET, equal-weighted (default: the AI basket without the shorts).", applies={"market": BASKET}),
    Param("shorts", "tickers", _DEFAULT_SHORTS, "Short leg."),
    Param("split", "choice", "burry", "Short-leg proportions: burry = the 13F notional split (83/17), equal = 1/k.", choices=SPLITS),
    Param("reference", "ticker", "SPY", "Index the betas are measured against (loaded, not traded unless it is the market)."),
    Param("beta_window", "int", HEDGE_BETA_WINDOW, "Daily simple returns in each trailing OLS beta.", "bars", minimum=5),
    Param("long_weight", "float", HEDGE_LONG_WEIGHT, "Long-leg notional.", "x equity", minimum=0.0, exclusive_minimum=True),
    Param("gross_cap", "float", HEDGE_GROSS_CAP, "Cap on long + short notional, held on every bar: targets are scaled to it, and drift above it is traded back at the next execution (the engine's max_gross).", "x equity", minimum=0.0, exclusive_minimum=True),
    Param("rebalance", "choice", "monthly", "How often the hedge is re-estimated and traded (last trading day of each period).", choices=HEDGE_REBALANCE),
)


def _long_tickers(params: Params) -> list[str]:
    return list(params["basket"]) if params["market"] == BASKET else [params["market"]]


def _traded(params: Params) -> list[str]:
    return _long_tickers(params) + list(params["shorts"])


def _tickers(params: Params) -> list[str]:
    return list(dict.fromkeys(_traded(params) + [params["reference"]]))


def short_split(params: Params) -> dict[str, float]:
    """Proportions of the short leg (sum 1)."""
    shorts = list(params["shorts"])
    if params["split"] == "equal":
        return {t: 1.0 / len(shorts) for t in shorts}
    total = sum(BURRY_TARGETS[t] for t in shorts)
    return {t: BURRY_TARGETS[t] / total for t in shorts}


def _check(params: Params) -> None:
    shorts = list(params["shorts"])
    longs = _long_tickers(params)
    overlap = [t for t in shorts if t in longs]
    if overlap:
        raise SpecError(f"hype-hedge: {', '.join(overlap)} cannot be in both the long leg and 'shorts'")
    if params["reference"] == BASKET:
        raise SpecError("hype-hedge: 'reference' must be an index ticker (e.g. SPY), not BASKET")
    if params["split"] == "burry":
        unknown = [t for t in shorts if t not in BURRY_TARGETS]
        if unknown:
            raise SpecError(
                f"hype-hedge: split 'burry' has no 13F weight for {', '.join(unknown)} "
                f"(only {', '.join(BURRY_TARGETS)}); use split = 'equal'"
            )


def hedge_betas(prices: Prices, params: Params) -> pd.DataFrame:
    """Trailing β of every traded ticker on the reference (rows = dates, NaN = not enough data)."""
    traded = _traded(params)
    return pd.DataFrame(_betas(prices, params, [params["beta_window"]])[0], index=prices.index, columns=traded)


def _betas(prices: Prices, params: Params, windows: Sequence[int], first: int = 0) -> np.ndarray:
    """β of the traded tickers on the reference for each of ``windows``: ``(windows, bars, traded)``, NaN before ``first``."""
    from shortthehype.signals import rolling_betas

    close = prices.close
    return rolling_betas(close[_traded(params)], close[params["reference"]], windows, first)


def _prepare(prices: Prices, params: Params, choices: Mapping[str, Sequence[Any]]) -> Prepared:
    """Closes of the traded tickers, the calendars, and every ticker's betas once per distinct window."""
    traded = _traded(params)
    close = np.ascontiguousarray(prices.close[traded].to_numpy(dtype=np.float64))
    calendar_of = choice_index(choices["rebalance"])
    calendars = np.stack([rebalance_mask(prices.index, frequency) for frequency in calendar_of])
    beta_of = choice_index(choices["beta_window"])
    n_long = len(_long_tickers(params))
    # the targets read a beta only on bars where every short has a price: none before the last short lists
    shorts_trade = np.isfinite(close[:, n_long:]).all(axis=1)
    first = int(np.argmax(shorts_trade)) if shorts_trade.any() else len(close)
    betas = _betas(prices, params, list(beta_of), first)  # rows in beta_of's order

    def encode(p: Params) -> tuple[list[int], list[float]]:
        split = short_split(p)
        return [calendar_of[p["rebalance"]], beta_of[p["beta_window"]], n_long], [
            p["long_weight"], p["gross_cap"], *(split[t] for t in p["shorts"])
        ]

    return Prepared((close, calendars, betas), encode)


#: The kind's target kernel, shared by ``backtest()`` and the fused sweep; ``market`` changes the tickers
#: traded, so a sweep over it runs the kernel once per market.
FUSED = FusedTargets(
    params=("market", "split", "beta_window", "long_weight", "gross_cap", "rebalance"),
    columns=_traded,
    prepare=_prepare,
    targets_nb=hype_hedge_targets_nb,
    sweep_nb="hype_hedge_sweep_nb",
    layout=("market",),
)


def _target_weights(prices: Prices, params: Params) -> pd.DataFrame:
    return FUSED.targets(prices, params)


HYPE_HEDGE = register(
    StrategyKind(
        name="hype-hedge",
        summary="Long the market (or a basket), short NVDA+PLTR sized beta-neutral on a trailing window: the hype premium.",
        params=PARAMS,
        tickers=_tickers,
        target_weights=_target_weights,
        check=_check,
        check_reads=("shorts", "basket", "market", "reference", "split"),
        engine_limits=lambda params: {"max_gross": params["gross_cap"]},
        fused=FUSED,
    )
)
