"""The look-ahead check: do a strategy's targets on bar t move when only data after t changes?

A strategy's target for bar t may use data up to bar t's close only.  The
check computes the targets once on the prices as they are, then again on
copies whose bars after a cut date are replaced by a different (seeded,
valid) future: every open, high, low and close after the cut is multiplied
by a random walk that starts with a jump up (x2), and again by one that
starts with a jump down (x0.5); the volume by another random factor.  The dates stay the same,
so rules that read the calendar (rebalance on the last trading day of a
month) are not disturbed.  Any target on or before the cut that differs
between the two runs was computed from data after it: look-ahead.  The cuts
are :data:`~shortthehype.constants.LOOKAHEAD_CUTS` evenly spaced bars; the
report names the earliest such target (date, ticker, both values, the cut).

A check that passes is evidence, not proof: a strategy could look ahead only
on dates none of the cuts test, or only through data the perturbation keeps
(the calendar itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shortthehype.constants import LOOKAHEAD_CUTS, LOOKAHEAD_RTOL, PRICE_FIELDS
from shortthehype.data.prices import Prices

__all__ = ["LookaheadReport", "check_lookahead"]


@dataclass(frozen=True)
class LookaheadReport:
    """What :func:`check_lookahead` found: ``date`` is None when no target moved."""

    cuts: tuple[pd.Timestamp, ...]
    date: pd.Timestamp | None = None
    ticker: str | None = None
    cut: pd.Timestamp | None = None
    before: float = float("nan")
    after: float = float("nan")

    @property
    def ok(self) -> bool:
        return self.date is None

    def message(self, where: str) -> str:
        """One line: the verdict with the evidence."""
        cuts = ", ".join(f"{c:%Y-%m-%d}" for c in self.cuts)
        if self.ok:
            return f"{where}: no look-ahead found: targets up to each cut date ({cuts}) ignore every later bar"
        return (
            f"{where}: look-ahead: the target for {self.ticker} on {self.date:%Y-%m-%d} changes from "
            f"{_show(self.before)} to {_show(self.after)} when only the prices after {self.cut:%Y-%m-%d} change"
        )


def _show(value: float) -> str:
    return "no order" if np.isnan(value) else f"{value:g}"


def check_lookahead(
    targets: Callable[[Prices], pd.DataFrame], prices: Prices, *, cuts: int = LOOKAHEAD_CUTS, seed: int = 0
) -> LookaheadReport:
    """Run ``targets(prices)`` on the prices and on copies with a different future after each cut; compare.

    Parameters
    ----------
    targets
        The strategy: prices -> target weights (rows = dates, NaN = no order).
    prices
        The prices the strategy reads (at least 3 bars).
    cuts
        Number of cut bars, evenly spaced strictly inside the index.
    seed
        Seed of the replacement futures.

    Returns
    -------
    LookaheadReport
        The earliest target, over all cuts, that moved; ``ok`` when none did.
    """
    index = prices.index
    n = len(index)
    positions = sorted({int(round(n * (k + 1) / (cuts + 1))) for k in range(cuts)} - {n - 1, n})
    positions = [p for p in positions if 0 <= p < n - 1]
    base = _aligned(targets(prices), index)
    rng = np.random.default_rng(seed)
    found: LookaheadReport | None = None
    checked = tuple(index[p] for p in positions)
    for position, level in ((p, level) for p in positions for level in _FUTURE_LEVELS):
        changed = _aligned(targets(_other_future(prices, position, level, rng)), index)
        columns = [c for c in base.columns if c in changed.columns]
        before = base[columns].to_numpy()[: position + 1]
        after = changed[columns].to_numpy()[: position + 1]
        differs = ~_same(before, after)
        extra = [c for c in changed.columns if c not in base.columns] + [c for c in base.columns if c not in changed.columns]
        if not differs.any() and not extra:
            continue
        if differs.any():
            row, column = np.argwhere(differs)[0]
            report = LookaheadReport(
                checked, index[row], str(columns[column]), index[position], float(before[row, column]), float(after[row, column])
            )
        else:
            report = LookaheadReport(checked, index[0], str(extra[0]), index[position])
        if found is None or report.date < found.date:  # type: ignore[operator]
            found = report
    return found if found is not None else LookaheadReport(checked)


def _aligned(weights: pd.DataFrame, index: pd.DatetimeIndex) -> pd.DataFrame:
    if isinstance(weights, pd.Series):
        weights = weights.to_frame()
    return weights.reindex(index).astype(np.float64)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    close = np.abs(a - b) <= 1e-12 + LOOKAHEAD_RTOL * np.maximum(np.abs(a), np.abs(b))
    return both_nan | close


#: Each cut is tested with a future that jumps up (x2) and one that jumps down (x0.5) before wandering off:
#: a rule comparing the next price with today's flips in one of them.
_FUTURE_LEVELS = (2.0, 0.5)


def _other_future(prices: Prices, position: int, level: float, rng: np.random.Generator) -> Prices:
    """``prices`` with every bar after ``position`` scaled by ``level`` times a random walk (OHLC together, so each bar stays valid)."""
    n_after = len(prices) - position - 1
    n_tickers = len(prices.tickers)
    walk = level * np.exp(np.cumsum(rng.normal(0.0, 0.05, size=(n_after, n_tickers)), axis=0))
    volume = rng.uniform(0.2, 5.0, size=(n_after, n_tickers))
    frames = {}
    for name in PRICE_FIELDS:
        values = getattr(prices, name).to_numpy(dtype=np.float64, copy=True)
        values[position + 1 :] *= volume if name == "volume" else walk
        frames[name] = pd.DataFrame(values, index=prices.index, columns=getattr(prices, name).columns)
    return Prices(**frames, source=prices.source, warnings=prices.warnings)
