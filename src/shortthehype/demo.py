"""The demo: the essay's question on an embedded synthetic bubble, offline.

The default data are **synthetic** (see :mod:`shortthehype.data.synthetic`):
fictional tickers in a market that runs up in a bubble and then crashes by a
set depth.  The same portfolios can be run on real prices by passing a price
source; tickers are then mapped by role (hype names, market, safe asset).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shortthehype.runner import BacktestRun, backtest
from shortthehype.data.prices import Prices

#: Roles -> tickers on the synthetic scenario and on real prices.  On real
#: prices the short leg follows Burry's Q3-2025 13F notional split
#: (PLTR ~83%, NVDA ~17%); there is no bond ETF in the shared data, so the
#: "safe" leg of the balanced portfolio is cash there.
SYNTHETIC_ROLES = {"hype_main": "AIX", "hype_second": "GPU", "hype_third": "DATA", "market": "MKT", "safe": "BOND"}
REAL_ROLES = {"hype_main": "PLTR", "hype_second": "NVDA", "hype_third": "AMD", "market": "SPY", "safe": None}

#: Synthetic scenario dates: the bubble's peak and the window the demo covers.
SYNTHETIC_WINDOW = ("2023-01-03", "2026-12-31")
SYNTHETIC_ENTRY_AT_PEAK = "2025-07-01"
REAL_WINDOW = ("2023-01-03", None)
REAL_ENTRY = "2025-11-03"  # the 13F filing date: Burry's puts were public only then


@dataclass(frozen=True)
class DemoPortfolio:
    label: str
    spec: dict[str, Any]


def demo_portfolios(roles: Mapping[str, str | None], window: tuple[str, str | None], entry: str) -> list[DemoPortfolio]:
    """The portfolios the demo compares, as spec mappings over the given tickers."""
    start, end = window
    hype_main, hype_second, hype_third = roles["hype_main"], roles["hype_second"], roles["hype_third"]
    market, safe = roles["market"], roles["safe"]
    costs = {"fees": 0.0005, "slippage": 0.0005}
    short_costs = {**costs, "borrow_fee": {hype_main: 0.02, hype_second: 0.005}}
    burry = {hype_main: -0.80 * 0.83, hype_second: -0.80 * 0.17}
    balanced = {market: 0.6, safe: 0.4} if safe else {market: 0.6}

    def spec(name: str, weights: dict, rebalance: str, engine: dict, start_at: str) -> dict[str, Any]:
        return {
            "name": name,
            "kind": "fixed-weights",
            "benchmark": market,
            "start": start_at,
            **({"end": end} if end else {}),
            "params": {"weights": weights, "rebalance": rebalance},
            "engine": engine,
        }

    return [
        DemoPortfolio("market 60/40", spec("market-60-40", balanced, "monthly", costs, start)),
        DemoPortfolio(
            "long the hype",
            spec("long-hype", {hype_main: 1 / 3, hype_second: 1 / 3, hype_third: 1 / 3}, "monthly", costs, start),
        ),
        DemoPortfolio("short the hype early", spec("short-hype-early", burry, "once", short_costs, start)),
        DemoPortfolio("short the hype late", spec("short-hype-late", burry, "once", short_costs, entry)),
    ]


def run_demo(prices: Prices | None = None, *, seed: int | None = None) -> tuple[str, list[tuple[DemoPortfolio, BacktestRun]]]:
    """Run the demo portfolios; returns a description of the data and the runs.

    With ``prices=None`` the data are the embedded synthetic bubble scenario
    (generated with ``seed``); otherwise ``prices`` must hold the real-role
    tickers (PLTR, NVDA, AMD, SPY).
    """
    from shortthehype.data import synthetic

    if prices is None:
        scenario = synthetic.Scenario()
        kwargs = {} if seed is None else {"seed": seed}
        prices = synthetic.generate_prices(scenario, **kwargs)
        about = "SYNTHETIC data (fictional tickers, not real prices):\n" + synthetic.describe(scenario)
        portfolios = demo_portfolios(SYNTHETIC_ROLES, SYNTHETIC_WINDOW, SYNTHETIC_ENTRY_AT_PEAK)
    else:
        about = f"{prices.source} prices, {prices.index[0]:%Y-%m-%d} → {prices.index[-1]:%Y-%m-%d}"
        portfolios = demo_portfolios(REAL_ROLES, REAL_WINDOW, REAL_ENTRY)
    runs = [(portfolio, backtest(portfolio.spec, prices=prices)) for portfolio in portfolios]
    return about, runs


def demo_tickers() -> list[str]:
    """Tickers the demo needs on real prices."""
    return [t for t in REAL_ROLES.values() if t]


def windows_frame(runs: list[tuple[DemoPortfolio, BacktestRun]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "portfolio": [p.label for p, _ in runs],
            "start": [r.start.strftime("%Y-%m-%d") for _, r in runs],
            "end": [r.end.strftime("%Y-%m-%d") for _, r in runs],
            "final_equity": [float(r.result.equity.iloc[-1]) for _, r in runs],
        }
    )
