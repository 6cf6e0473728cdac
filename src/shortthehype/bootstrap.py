"""Confidence intervals for Sharpe ratio, CAGR and max drawdown by the stationary block bootstrap.

One backtest's statistics are point estimates from one path.  Resampling its
daily returns in blocks (:mod:`shortthehype.core.bootstrap_nb`; Politis &
Romano 1994, expected block length :data:`BOOTSTRAP_BLOCK_LENGTH` bars)
gives their sampling distribution; the interval is its percentile interval
at :data:`BOOTSTRAP_CONFIDENCE`.  Against a baseline (``--vs SPEC``) both
return series are resampled with the same bars, over the dates both have,
and the difference strategy − baseline is bootstrapped, with the
probability that the strategy beats the baseline: the share of resamples
whose difference is above zero (for max drawdown, a shallower drawdown).

Caveats: the returns are those the statistics use (up to ruin); the Sharpe
ratio takes a zero risk-free rate; a resample of a path with a few huge
days can be much calmer or wilder than the path; intervals describe the
statistic's sampling noise, not model risk or look-ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import (
    ANNUALIZATION,
    BOOTSTRAP_BLOCK_LENGTH,
    BOOTSTRAP_CONFIDENCE,
    BOOTSTRAP_SAMPLES,
    BOOTSTRAP_SEED,
)
from shortthehype.errors import ParamError

__all__ = ["bootstrap_intervals", "bootstrap_section", "check_settings", "format_interval", "run_returns"]

METHOD = "stationary block bootstrap (Politis & Romano 1994), percentile intervals"


def run_returns(run: Any) -> pd.Series:
    """The per-bar returns a run's statistics use: from the equity (with ``init_cash`` first for ``execution="close"``), up to ruin."""
    from shortthehype.core.metrics_nb import equity_to_returns_1d_nb

    equity = run.result.equity
    values = equity.to_numpy(dtype=np.float64)
    dates = equity.index
    if run.result.execution == "close":
        values = np.concatenate(([run.result.init_cash], values))
        dates = dates.insert(0, dates[0] - pd.Timedelta(days=1))
    out = np.empty(max(len(values) - 1, 0))
    k = int(equity_to_returns_1d_nb(values, out))
    return pd.Series(out[:k], index=dates[1 : k + 1], name=run.spec.name)


def check_settings(samples: int, block_length: float, confidence: float = BOOTSTRAP_CONFIDENCE) -> None:
    """ParamError unless ``samples`` >= 100, ``block_length`` >= 1 bar and 0 < ``confidence`` < 1."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 100:
        raise ParamError(f"bootstrap samples must be an integer >= 100, got {samples!r}")
    if not np.isfinite(block_length) or block_length < 1:
        raise ParamError(f"bootstrap block length must be >= 1 bar, got {block_length!r}")
    if not 0 < confidence < 1:
        raise ParamError(f"bootstrap confidence must be between 0 and 1, got {confidence!r}")


def bootstrap_intervals(
    returns: pd.Series,
    baseline: pd.Series | None = None,
    *,
    baseline_name: str | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    block_length: float = BOOTSTRAP_BLOCK_LENGTH,
    confidence: float = BOOTSTRAP_CONFIDENCE,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Bootstrap intervals of a return series' Sharpe, CAGR and max drawdown (and of its difference to a baseline).

    Parameters
    ----------
    returns, baseline : Series
        Per-bar simple returns on dates (see :func:`run_returns`).  With a
        baseline both are restricted to their common dates and resampled
        together.
    samples, block_length, confidence, seed
        Number of resamples (>= 100), expected block length in bars (>= 1;
        1 is the i.i.d. bootstrap), two-sided level, and the seed.

    Returns
    -------
    dict
        ``method, samples, block_length, confidence, seed, bars`` and
        ``metrics``: ``{sharpe|cagr|max_drawdown: {estimate, low, high}}``;
        with a baseline also ``vs``: ``{baseline, bars, metrics: {key:
        {estimate, low, high, p_beat}}}`` where ``estimate`` is strategy −
        baseline on the common dates.

    Raises
    ------
    ParamError
        Bad settings, fewer than 2 returns, or no common dates with the baseline.
    """
    from shortthehype.core.bootstrap_nb import BOOTSTRAP_METRICS, bootstrap_metrics_nb

    check_settings(samples, block_length, confidence)
    series = [returns]
    if baseline is not None:
        common = returns.index.intersection(baseline.index)
        if len(common) < 2:
            raise ParamError(f"--vs {baseline_name or baseline.name}: fewer than two common dates with {returns.name}")
        series = [returns.loc[common], baseline.loc[common]]
    matrix = np.ascontiguousarray(np.column_stack([s.to_numpy(dtype=np.float64) for s in series]))
    if matrix.shape[0] < 2:
        raise ParamError(f"{returns.name}: fewer than two returns to bootstrap")
    lo_q, hi_q = (1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0
    estimates = _point_estimates(matrix)
    draws = bootstrap_metrics_nb(matrix, int(samples), float(block_length), float(ANNUALIZATION), int(seed))

    def interval(values: np.ndarray, estimate: float) -> dict[str, float]:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return {"estimate": estimate, "low": float("nan"), "high": float("nan")}
        return {"estimate": estimate, "low": float(np.quantile(finite, lo_q)), "high": float(np.quantile(finite, hi_q))}

    document: dict[str, Any] = {
        "method": METHOD,
        "samples": int(samples),
        "block_length": float(block_length),
        "confidence": float(confidence),
        "seed": int(seed),
        "bars": int(len(returns)),
        "metrics": {},
    }
    if baseline is None:
        document["metrics"] = {
            key: interval(draws[:, 0, j], estimates[0, j]) for j, key in enumerate(BOOTSTRAP_METRICS)
        }
        return document
    own = bootstrap_intervals(returns, samples=samples, block_length=block_length, confidence=confidence, seed=seed)
    document["metrics"] = own["metrics"]
    vs: dict[str, Any] = {"baseline": baseline_name or str(baseline.name), "bars": int(matrix.shape[0]), "metrics": {}}
    for j, key in enumerate(BOOTSTRAP_METRICS):
        diff = draws[:, 0, j] - draws[:, 1, j]
        entry = interval(diff, estimates[0, j] - estimates[1, j])
        finite = diff[np.isfinite(diff)]
        entry["p_beat"] = float((finite > 0).mean()) if finite.size else float("nan")
        vs["metrics"][key] = entry
    document["vs"] = vs
    return document


def _point_estimates(matrix: np.ndarray) -> np.ndarray:
    """(n_series, 3): the metrics of each column as it is (no resampling)."""
    from shortthehype.core import metrics_nb as nb

    ann = float(ANNUALIZATION)
    return np.array(
        [[nb.sharpe_ratio_1d_nb(c, 0.0, ann), nb.cagr_1d_nb(c, ann), nb.max_drawdown_1d_nb(c)] for c in np.ascontiguousarray(matrix.T)]
    )


def bootstrap_section(run: Any, baseline: Any | None = None, **options: Any) -> dict[str, Any]:
    """The ``bootstrap`` section of a run's JSON: :func:`bootstrap_intervals` of its returns (and against ``baseline``, a run)."""
    base = None if baseline is None else run_returns(baseline)
    name = None if baseline is None else baseline.spec.name
    return bootstrap_intervals(run_returns(run), base, baseline_name=name, **options)


def format_interval(key: str, entry: Mapping[str, Any]) -> str:
    """``estimate [low, high]`` as the statistic is written."""
    from shortthehype.report.formatting import stat

    return f"{stat(key, entry.get('estimate'))} [{stat(key, entry.get('low'))}, {stat(key, entry.get('high'))}]"
