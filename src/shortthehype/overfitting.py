"""Overfitting statistics of a parameter search: the Deflated Sharpe Ratio and the PBO.

Deflated Sharpe Ratio (Bailey & López de Prado, 2014, "The Deflated Sharpe
Ratio: Correcting for Selection Bias, Backtest Overfitting and
Non-Normality", Journal of Portfolio Management 40(5)):

* Sharpe ratios are **per period** (not annualised): ``SR = mean / std`` of
  the per-bar returns (``std`` with ddof 1).
* ``SR0 = sqrt(V) * ((1 - g) * Z(1 - 1/N) + g * Z(1 - 1/(N e)))`` is the
  expected maximum Sharpe ratio of ``N`` trials with no skill whose Sharpe
  ratios have variance ``V`` (``Z`` the standard normal quantile, ``g`` the
  Euler-Mascheroni constant).
* ``DSR = Phi((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR^2))``
  with ``T`` returns, their skewness and their **raw** kurtosis (3 for a
  normal distribution, not the excess kurtosis).  It is the probability that
  the selected strategy's true Sharpe ratio exceeds ``SR0``.

Probability of Backtest Overfitting (Bailey, Borwein, López de Prado & Zhu,
2015, "The Probability of Backtest Overfitting", Journal of Computational
Finance 20(4)), by combinatorially symmetric cross-validation (CSCV):

* the T x N matrix of the trials' per-bar returns is cut into S equal blocks
  of consecutive bars (S = 16 by default; the oldest ``T mod S`` bars are left
  out, as the blocks must be equal);
* for each of the C(S, S/2) ways to pick S/2 blocks as the in-sample set
  (the rest is out of sample), the trial with the best in-sample Sharpe ratio
  is found and its out-of-sample rank ``r`` among the N trials (average rank
  for ties, 1 = worst) gives ``w = r / (N + 1)`` and the logit
  ``log(w / (1 - w))``;
* PBO is the fraction of splits whose logit is <= 0 (the in-sample winner is
  at or below the out-of-sample median).

The performance measure of the CSCV is the per-period Sharpe ratio, whatever
objective a sweep optimises.  A trial whose returns have no variance on a set
ranks below every trial with a defined Sharpe ratio.  When ``N x C(S, S/2)``
exceeds ``PBO_MAX_EVALUATIONS`` a seeded random subset of the splits is used
(a Monte Carlo estimate of the same probability; the result says how many).

Caveats: PBO for i.i.d. noise trials is about 0.5, not 1 (in-sample and
out-of-sample halves are independent); it approaches 1 when the trials have
the same full-sample performance (as in the paper's experiments), because a
trial that did better in sample then did worse out of sample.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from shortthehype.constants import EULER_GAMMA, PBO_BLOCKS, PBO_MAX_EVALUATIONS
from shortthehype.errors import ParamError

__all__ = [
    "DeflatedSharpe",
    "PBOResult",
    "block_layout",
    "block_sums",
    "cscv_splits",
    "deflated_sharpe",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "pbo_from_block_sums",
    "pbo_from_block_sums_t",
]

_NORMAL = NormalDist()


# ---- deflated Sharpe ratio ------------------------------------------------------------------


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios with mean 0 and variance ``sharpe_variance``.

    ``sqrt(V) ((1 - g) Z(1 - 1/N) + g Z(1 - 1/(N e)))`` (Bailey & López de
    Prado 2014, eq. 6; per-period units if ``V`` is).  ``n_trials = 1`` gives 0
    (no selection); NaN if ``sharpe_variance`` is NaN.

    Raises
    ------
    ParamError
        ``n_trials < 1`` or a negative variance.
    """
    n = _positive_int("n_trials", n_trials)
    variance = float(sharpe_variance)
    if variance < 0:
        raise ParamError(f"parameter 'sharpe_variance' must be >= 0, got {variance:g}")
    if n == 1 or math.isnan(variance):
        return 0.0 if n == 1 else math.nan
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def probabilistic_sharpe_ratio(
    sharpe: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """Probability that the true per-period Sharpe ratio exceeds ``benchmark`` (Bailey & López de Prado 2012).

    ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurtosis - 1) / 4 SR^2))``
    with ``kurtosis`` the raw kurtosis (3 = normal).  NaN when ``sharpe`` is
    not finite, ``n_obs < 2`` or the variance term is not positive.
    """
    sr, skew_f, kurt_f, bench = float(sharpe), float(skew), float(kurtosis), float(benchmark)
    if not (math.isfinite(sr) and math.isfinite(bench) and math.isfinite(skew_f) and math.isfinite(kurt_f)):
        return math.nan
    if int(n_obs) < 2:
        return math.nan
    denominator = 1.0 - skew_f * sr + (kurt_f - 1.0) / 4.0 * sr * sr
    if not denominator > 0:
        return math.nan
    z = (sr - bench) * math.sqrt(int(n_obs) - 1) / math.sqrt(denominator)
    return _NORMAL.cdf(z)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The Deflated Sharpe Ratio of a selected trial and its ingredients (all Sharpe ratios per period)."""

    dsr: float  #: probability that the true Sharpe ratio exceeds ``expected_max``
    sharpe: float  #: the selected trial's per-period Sharpe ratio
    expected_max: float  #: SR0, the expected maximum Sharpe ratio of the trials under no skill
    n_trials: int  #: N, every trial run
    sharpe_variance: float  #: V, variance (ddof 1) of the trials' per-period Sharpe ratios
    n_obs: int  #: T, returns of the selected trial
    skew: float  #: skewness of the selected trial's returns
    kurtosis: float  #: raw kurtosis of the selected trial's returns (3 = normal)

    def to_dict(self) -> dict[str, float | int]:
        return {k: (int(v) if k in ("n_trials", "n_obs") else float(v)) for k, v in self.__dict__.items()}


def deflated_sharpe(
    sharpe: float, n_obs: int, n_trials: int, sharpe_variance: float, skew: float = 0.0, kurtosis: float = 3.0
) -> DeflatedSharpe:
    """Deflated Sharpe Ratio of the best of ``n_trials`` trials, with its ingredients.

    Parameters
    ----------
    sharpe
        Per-period (not annualised) Sharpe ratio of the selected trial.
    n_obs
        Number of returns it was measured on.
    n_trials
        Number of trials the selection was made from (every combination tried).
    sharpe_variance
        Variance of the trials' per-period Sharpe ratios.
    skew, kurtosis
        Skewness and **raw** kurtosis (3 = normal) of the selected trial's returns.

    Returns
    -------
    DeflatedSharpe
        ``dsr`` is NaN when any input is undefined (e.g. a Sharpe ratio of a
        flat equity curve) or fewer than 2 returns.
    """
    sr0 = expected_max_sharpe(n_trials, sharpe_variance)
    dsr = probabilistic_sharpe_ratio(sharpe, n_obs, skew, kurtosis, benchmark=sr0)
    return DeflatedSharpe(
        dsr=dsr,
        sharpe=float(sharpe),
        expected_max=sr0,
        n_trials=int(n_trials),
        sharpe_variance=float(sharpe_variance),
        n_obs=int(n_obs),
        skew=float(skew),
        kurtosis=float(kurtosis),
    )


def deflated_sharpe_ratio(
    sharpe: float, n_obs: int, n_trials: int, sharpe_variance: float, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """The Deflated Sharpe Ratio alone (see :func:`deflated_sharpe`)."""
    return deflated_sharpe(sharpe, n_obs, n_trials, sharpe_variance, skew, kurtosis).dsr


# ---- probability of backtest overfitting ----------------------------------------------------


@dataclass(frozen=True)
class PBOResult:
    """Outcome of the CSCV: the PBO, the logits of every split used, and how it was computed."""

    pbo: float  #: fraction of splits whose logit is <= 0
    logits: np.ndarray = field(repr=False)  #: one logit per split used
    n_trials: int  #: N
    n_blocks: int  #: S
    block_len: int  #: returns per block
    n_splits: int  #: splits used
    n_splits_total: int  #: C(S, S/2)

    @property
    def sampled(self) -> bool:
        """True when a random subset of the splits was used."""
        return self.n_splits < self.n_splits_total

    def to_dict(self) -> dict[str, float]:
        return {
            "pbo": float(self.pbo),
            "n_trials": self.n_trials,
            "n_blocks": self.n_blocks,
            "block_len": self.block_len,
            "n_splits": self.n_splits,
            "n_splits_total": self.n_splits_total,
            "logit_median": float(np.median(self.logits)) if len(self.logits) else math.nan,
        }


def block_layout(n_obs: int, n_blocks: int = PBO_BLOCKS) -> tuple[int, int]:
    """``(start, block_len)``: the first ``start = n_obs mod n_blocks`` returns are left out, the rest cut in equal blocks.

    Raises
    ------
    ParamError
        ``n_blocks`` is not an even number >= 2, or there are fewer than two
        returns per block.
    """
    s = _positive_int("n_blocks", n_blocks)
    if s < 2 or s % 2:
        raise ParamError(f"parameter 'n_blocks' must be an even number >= 2, got {n_blocks!r}")
    length = int(n_obs) // s
    if length < 2:
        raise ParamError(
            f"PBO needs at least 2 returns per block: {int(n_obs)} returns cannot be cut into {s} blocks "
            f"(use fewer blocks or a longer backtest)"
        )
    return int(n_obs) - s * length, length


def block_sums(returns: np.ndarray | pd.DataFrame, n_blocks: int = PBO_BLOCKS) -> np.ndarray:
    """Per trial and block, the sum and the sum of squares of the returns: ``(N, S, 2)``.

    ``returns`` is ``(T, N)`` (one column per trial); the blocks follow
    :func:`block_layout`.  NaN returns count as 0.
    """
    from shortthehype.core.sweep_nb import block_sums_nb

    values = _returns_matrix(returns)
    start, length = block_layout(values.shape[0], n_blocks)
    out = np.empty((values.shape[1], n_blocks, 2))
    for i in range(values.shape[1]):
        column = np.ascontiguousarray(np.nan_to_num(values[:, i], nan=0.0))
        block_sums_nb(column, column.shape[0], start, length, out[i])
    return out


def cscv_splits(n_blocks: int) -> np.ndarray:
    """Every in-sample set of the CSCV: ``(C(S, S/2), S/2)`` block numbers in lexicographic order."""
    return _cscv_splits(int(n_blocks)).copy()


@functools.lru_cache(maxsize=8)
def _cscv_splits(n_blocks: int) -> np.ndarray:
    return np.asarray(list(itertools.combinations(range(n_blocks), n_blocks // 2)), dtype=np.int64)


def pbo_from_block_sums(
    sums: np.ndarray,
    block_len: int,
    *,
    max_evaluations: float = PBO_MAX_EVALUATIONS,
    seed: int = 0,
) -> PBOResult:
    """The PBO from per-block return sums ``(N, S, 2)`` (see :func:`block_sums`).

    Parameters
    ----------
    sums
        Per trial and block: sum of returns, sum of squared returns.
    block_len
        Returns per block (>= 2).
    max_evaluations
        Cap on N x splits; above it a random subset of the pairs of
        complementary splits (seeded by ``seed``) is used, at least 50 pairs
        or all of them.  Logits are in the splits' lexicographic order.

    Returns
    -------
    PBOResult
        ``pbo`` is NaN with fewer than two trials.
    """
    sums = np.asarray(sums, dtype=np.float64)
    if sums.ndim != 3 or sums.shape[2] != 2:
        raise ParamError(f"block sums must have shape (n_trials, n_blocks, 2), got {sums.shape}")
    return pbo_from_block_sums_t(
        np.ascontiguousarray(sums.transpose(1, 2, 0)), block_len, max_evaluations=max_evaluations, seed=seed
    )


def pbo_from_block_sums_t(
    sums_t: np.ndarray,
    block_len: int,
    *,
    max_evaluations: float = PBO_MAX_EVALUATIONS,
    seed: int = 0,
) -> PBOResult:
    """:func:`pbo_from_block_sums` on block-major sums ``(S, 2, N)`` (C-contiguous; no copy is made)."""
    from shortthehype.core.sweep_nb import cscv_logits_nb

    import numba

    sums_t = np.ascontiguousarray(sums_t, dtype=np.float64)
    if sums_t.ndim != 3 or sums_t.shape[1] != 2:
        raise ParamError(f"block-major sums must have shape (n_blocks, 2, n_trials), got {sums_t.shape}")
    n_blocks, n_trials = sums_t.shape[0], sums_t.shape[2]
    block_layout(n_blocks * int(block_len), n_blocks)  # validates S and the block length
    splits = _cscv_splits(n_blocks)
    total = splits.shape[0]
    if n_trials < 2:
        return PBOResult(math.nan, np.empty(0), n_trials, n_blocks, int(block_len), 0, total)
    # lexicographic order puts the complement of split c at total - 1 - c: each pair is evaluated once
    pairs = np.arange(total // 2)
    if n_trials * total > max_evaluations:
        n_pairs = min(total // 2, max(50, int(max_evaluations // (2 * n_trials))))
        pairs = np.sort(np.random.default_rng(seed).choice(total // 2, size=n_pairs, replace=False))
    first = np.ascontiguousarray(splits[pairs])
    second = np.ascontiguousarray(splits[total - 1 - pairs])
    pair_logits = np.empty((len(pairs), 2))
    threads = max(1, min(numba.get_num_threads(), len(pairs)))
    cscv_logits_nb(sums_t, first, second, int(block_len), threads, pair_logits)
    order = np.concatenate([pairs, total - 1 - pairs])
    logits = np.concatenate([pair_logits[:, 0], pair_logits[:, 1]])[np.argsort(order, kind="stable")]
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        n_trials=n_trials,
        n_blocks=n_blocks,
        block_len=int(block_len),
        n_splits=int(len(logits)),
        n_splits_total=total,
    )


def probability_of_backtest_overfitting(
    returns: np.ndarray | pd.DataFrame,
    n_blocks: int = PBO_BLOCKS,
    *,
    max_evaluations: float = PBO_MAX_EVALUATIONS,
    seed: int = 0,
) -> PBOResult:
    """The PBO of the trials whose per-bar returns are the columns of ``returns`` ``(T, N)``.

    Parameters
    ----------
    returns
        Simple per-period returns, one column per trial (NaN counts as 0).
    n_blocks
        S, an even number of equal blocks (16 in the paper).
    max_evaluations, seed
        See :func:`pbo_from_block_sums`.

    Returns
    -------
    PBOResult

    Raises
    ------
    ParamError
        ``returns`` is not 2-D, ``n_blocks`` is odd or < 2, or there are fewer
        than 2 returns per block.
    """
    values = _returns_matrix(returns)
    _, length = block_layout(values.shape[0], n_blocks)
    return pbo_from_block_sums(block_sums(values, n_blocks), length, max_evaluations=max_evaluations, seed=seed)


# ---- helpers ----------------------------------------------------------------------------------


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise ParamError(f"parameter {name!r} must be an integer >= 1, got {value!r}")
    return int(value)


def _returns_matrix(returns: np.ndarray | pd.DataFrame) -> np.ndarray:
    values = returns.to_numpy(dtype=np.float64) if isinstance(returns, pd.DataFrame) else np.asarray(returns, dtype=np.float64)
    if values.ndim != 2:
        raise ParamError(f"returns must be a 2-D array (bars x trials), got {values.ndim} dimension(s)")
    return values
