"""Factor exposures: what a strategy's daily returns load on.

The strategy's per-bar returns (those its statistics use) are regressed by
ordinary least squares, with an intercept, on the returns of the market
(:data:`FACTOR_MARKET`, SPY), the tech spread (:data:`FACTOR_TECH` − market,
QQQ − SPY: long the Nasdaq-100, short the S&P 500) and any tickers the user
names, over the bars where every series has a return.  A beta-neutral hedge
can still be a large bet on the spread, which a single beta does not show.

Reported: each loading with its classical t-statistic (homoskedastic
standard errors), the intercept as annualised alpha (× 252) with its
t-statistic, R² (centred), and the residual (alpha) Sharpe ratio: the
annualised Sharpe ratio of the returns less the factor part, ``alpha +
residual``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import ANNUALIZATION, FACTOR_MARKET, FACTOR_TECH
from shortthehype.data.prices import Prices
from shortthehype.errors import DataError, ParamError

__all__ = ["factor_exposures", "factor_returns", "factor_tickers", "regress"]

METHOD = "OLS of per-bar returns on factor returns with an intercept; classical t-statistics"


def factor_tickers(extra: Sequence[str] = ()) -> list[str]:
    """The tickers the factors need: market, tech, then ``extra`` (upper case, once each)."""
    return list(dict.fromkeys([FACTOR_MARKET, FACTOR_TECH] + [t.strip().upper() for t in extra if t.strip()]))


def factor_returns(prices: Prices, dates: pd.DatetimeIndex, extra: Sequence[str] = ()) -> pd.DataFrame:
    """Per-bar returns of the factors on ``dates`` (a return spans the previous date of ``dates``).

    Columns: ``market (SPY)``, ``tech spread (QQQ - SPY)``, then one per extra
    ticker.  A factor ticker without a price on any of ``dates`` is a
    DataError naming it.
    """
    columns = {}
    closes = {}
    for ticker in factor_tickers(extra):
        if ticker not in prices.tickers or prices.close[ticker].reindex(dates).notna().sum() < 2:
            raise DataError(
                f"factor {ticker}: no prices between {dates[0]:%Y-%m-%d} and {dates[-1]:%Y-%m-%d}"
            )
        closes[ticker] = prices.close[ticker].reindex(dates).astype(np.float64)
    market, tech = closes[FACTOR_MARKET].pct_change(fill_method=None), closes[FACTOR_TECH].pct_change(fill_method=None)
    columns[f"market ({FACTOR_MARKET})"] = market
    columns[f"tech spread ({FACTOR_TECH} - {FACTOR_MARKET})"] = tech - market
    for ticker in factor_tickers(extra)[2:]:
        columns[ticker] = closes[ticker].pct_change(fill_method=None)
    return pd.DataFrame(columns, index=dates)


def regress(y: np.ndarray, x: np.ndarray) -> dict[str, Any]:
    """OLS of ``y`` (n,) on ``x`` (n, k) with an intercept: coefficients, t-statistics, R², residual Sharpe.

    Returns ``coef`` (k + 1, intercept first), ``t`` (NaN where the
    standard error is 0 or undefined), ``r2``, ``residual_sharpe`` and ``n``.
    Raises ParamError with fewer than k + 2 observations.
    """
    n, k = x.shape
    if n < k + 2:
        raise ParamError(f"factor regression: {n} bars for {k} factors; needs at least {k + 2}")
    design = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coef
    dof = n - (k + 1)
    sigma2 = float(residuals @ residuals) / dof
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sigma2 * np.linalg.pinv(design.T @ design)
        se = np.sqrt(np.diag(cov))
        t = np.where(se > 0, coef / se, np.nan)
    centred = y - y.mean()
    sst = float(centred @ centred)
    r2 = 1.0 - float(residuals @ residuals) / sst if sst > 0 else math.nan
    alpha_part = coef[0] + residuals
    std = alpha_part.std(ddof=1)
    residual_sharpe = float(alpha_part.mean() / std * math.sqrt(ANNUALIZATION)) if std > 0 else math.nan
    return {"coef": coef, "t": t, "r2": r2, "residual_sharpe": residual_sharpe, "n": n}


def factor_exposures(returns: pd.Series, factors: pd.DataFrame) -> dict[str, Any]:
    """The ``factors`` section of a result: :func:`regress` of ``returns`` on ``factors`` over their common finite bars."""
    frame = pd.concat([returns.rename("strategy"), factors], axis=1, join="inner").dropna()
    fit = regress(frame["strategy"].to_numpy(dtype=np.float64), frame[factors.columns].to_numpy(dtype=np.float64))
    return {
        "method": METHOD,
        "bars": int(fit["n"]),
        "start": frame.index[0].strftime("%Y-%m-%d"),
        "end": frame.index[-1].strftime("%Y-%m-%d"),
        "loadings": [
            {"factor": str(name), "beta": float(fit["coef"][i + 1]), "t": float(fit["t"][i + 1])}
            for i, name in enumerate(factors.columns)
        ],
        "alpha_annual": float(fit["coef"][0] * ANNUALIZATION),
        "alpha_t": float(fit["t"][0]),
        "r2": float(fit["r2"]),
        "residual_sharpe": fit["residual_sharpe"],
    }
