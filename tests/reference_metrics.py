"""Slow, obviously-correct pure-Python twins of the metric kernels that empyrical does not cover.

Each twin follows the written definition step by step on Python lists, with
no attempt at speed, so that the numba kernels in
``shortthehype.core.metrics_nb`` can be compared with them on edge cases.
Metrics that empyrical-reloaded or scipy define are compared with those
libraries directly in ``test_metrics.py`` instead.
"""

from __future__ import annotations

import math
import statistics

NAN = float("nan")


def isnan(x: float) -> bool:
    return x != x


def equity_to_returns(equity: list[float]) -> tuple[list[float], int]:
    """Per-bar returns; at the first equity <= 0 the return is -1 and the rest NaN."""
    n = len(equity)
    if n < 2:
        return [], 0
    if equity[0] <= 0:
        return [NAN] * (n - 1), 0
    out: list[float] = []
    for i in range(1, n):
        if equity[i] <= 0:
            out.append(-1.0)
            out.extend([NAN] * (n - 1 - i))
            return out, i
        out.append(equity[i] / equity[i - 1] - 1.0)
    return out, n - 1


def price_returns(prices: list[float]) -> list[float]:
    """Return from the last known price to this one; NaN where the price or a previous one is missing."""
    out: list[float] = []
    last = None
    for p in prices:
        if isnan(p):
            out.append(NAN)
            continue
        out.append(NAN if last is None else p / last - 1.0)
        last = p
    return out


def equity_curve(returns: list[float]) -> list[float]:
    """Equity starting at 1 before the first return; a NaN return leaves it unchanged."""
    curve = [1.0]
    for r in returns:
        curve.append(curve[-1] if isnan(r) else curve[-1] * (1.0 + r))
    return curve


def drawdown_positions(returns: list[float]) -> tuple[float, int, int, int]:
    """(depth, peak, trough, recovery) of the deepest drawdown, by brute force over the curve."""
    if not returns:
        return NAN, -1, -1, -1
    curve = equity_curve(returns)
    depth, trough = 0.0, -1
    for i in range(len(curve)):
        peak_value = max(curve[: i + 1])
        dd = (curve[i] - peak_value) / peak_value
        if dd < depth:
            depth, trough = dd, i
    if trough < 0:
        return 0.0, -1, -1, -1
    peak_value = max(curve[: trough + 1])
    peak = max(j for j in range(trough + 1) if curve[j] >= peak_value)
    later = [j for j in range(trough + 1, len(curve)) if curve[j] >= peak_value]
    recovery = later[0] if later else -1
    return depth, peak, trough, recovery


def longest_drawdown(returns: list[float]) -> tuple[float, int, int]:
    """(duration, peak, end) of the longest spell below the running peak, from its peak to its recovery."""
    if not returns:
        return NAN, -1, -1
    curve = equity_curve(returns)
    last = len(curve) - 1
    under = [curve[i] < max(curve[: i + 1]) for i in range(len(curve))]
    best = (0.0, -1, -1)
    i = 0
    while i <= last:
        if not under[i]:
            i += 1
            continue
        start = i
        while i <= last and under[i]:
            i += 1
        peak = start - 1
        end = i if i <= last else last
        if end - peak > best[0]:
            best = (float(end - peak), peak, end)
    return best


def win_rate(values: list[float]) -> float:
    valid = [x for x in values if not isnan(x)]
    if not valid:
        return NAN
    return sum(1 for x in valid if x > 0) / len(valid)


def profit_factor(values: list[float]) -> float:
    gains = sum(x for x in values if not isnan(x) and x > 0)
    losses = -sum(x for x in values if not isnan(x) and x < 0)
    return gains / losses if losses > 0 else NAN


def mean(values: list[float]) -> float:
    valid = [x for x in values if not isnan(x)]
    return statistics.fmean(valid) if valid else NAN


def exposure(values: list[float]) -> float:
    valid = [x for x in values if not isnan(x)]
    if not valid:
        return NAN
    return sum(1 for x in valid if x != 0) / len(valid)


def annual_turnover(values: list[float], periods_per_year: float) -> float:
    return mean(values) * periods_per_year


def correlation(a: list[float], b: list[float]) -> float:
    """Pearson correlation of the pairs where both exist (statistics.correlation)."""
    pairs = [(x, y) for x, y in zip(a, b) if not isnan(x) and not isnan(y)]
    if len(pairs) < 2:
        return NAN
    xs, ys = zip(*pairs)
    if len(set(xs)) == 1 or len(set(ys)) == 1:  # a constant side: undefined
        return NAN
    return statistics.correlation(xs, ys)


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of sorted values, q in [0, 100]."""
    n = len(sorted_values)
    if n == 0:
        return NAN
    h = (n - 1) * q / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (h - lo)
