"""The demo: every essay strategy through a bubble and its crash.

By default the data are **synthetic** (:mod:`shortthehype.data.synthetic`):
fictional tickers in a market that runs up in a bubble from 2023 to a
mid-2025 peak and then crashes 78%.  Each shipped essay spec runs with its
tickers mapped onto the scenario's by role (hype names AIX/GPU/DATA, market
MKT, bond BOND).  With real prices the same specs run unchanged over the AI
era, from ChatGPT's launch on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from shortthehype.caveats import oracle_caveat
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.runner import BacktestRun, compare
from shortthehype.strategies.dotcom_analog import AI_START, DOTCOM_PEAK, DOTCOM_START

__all__ = [
    "DEMO_SPECS",
    "ORACLE_TIMED_KINDS",
    "REAL_START",
    "label_oracle",
    "run_demo",
    "synthetic_overrides",
    "windows_frame",
]

#: The specs the demo compares, in table order.
DEMO_SPECS = ("sixty-forty", "ai-basket", "dotcom-analog", "hype-hedge", "burry-short", "ma-crossover")

#: Start of the window on real prices: ChatGPT's launch, the essay's AI-era anchor.
REAL_START = AI_START

_HYPE = "AIX,GPU,DATA"
_SHORT_BORROW = "AIX:0.02,GPU:0.005"


def synthetic_overrides(scenario: Any) -> dict[str, dict[str, str]]:
    """Per-spec settings that map the essay's tickers onto the synthetic scenario's.

    ``dotcom-analog`` anchors the AI era at the scenario's bubble start and
    scales time so that the mapped dotcom peak falls on the scenario's peak:
    what the analogy pays when its timing is right.
    """
    key = scenario.key_dates
    bubble_start, peak = key["bubble_start"], key["peak"]
    scale = (pd.Timestamp(DOTCOM_PEAK) - pd.Timestamp(DOTCOM_START)).days / (peak - bubble_start).days
    day = bubble_start.strftime("%Y-%m-%d")
    return {
        "sixty-forty": {"weights": "MKT:0.6,BOND:0.4", "benchmark": "MKT"},
        "ai-basket": {"tickers": _HYPE, "benchmark": "MKT"},
        "dotcom-analog": {"tickers": _HYPE, "benchmark": "MKT", "ai_start": day, "time_scale": f"{scale:.6f}"},
        "hype-hedge": {
            "market": "MKT",
            "reference": "MKT",
            "shorts": "AIX,GPU",
            "split": "equal",
            "borrow_fee": _SHORT_BORROW,
            "benchmark": "MKT",
        },
        "burry-short": {"split": "AIX:912,GPU:187", "borrow_fee": _SHORT_BORROW, "benchmark": "MKT"},
        "ma-crossover": {"ticker": "DATA", "benchmark": "MKT"},
    }


#: Kinds whose synthetic mapping (:func:`synthetic_overrides`) sets their timing from the scenario's own peak.
ORACLE_TIMED_KINDS = {"dotcom-analog": "is timed by construction: its time scale puts the mapped dotcom peak on the scenario's peak"}


def label_oracle(run: BacktestRun) -> BacktestRun:
    """``run`` with the oracle caveat when :func:`synthetic_overrides` timed its kind with hindsight."""
    how = ORACLE_TIMED_KINDS.get(run.spec.kind.name)
    if how is None:
        return run
    return replace(run, caveats=run.caveats + (oracle_caveat(run.spec.name, how),))


def run_demo(
    prices: Prices | None = None, *, seed: int | None = None, load: PriceSource | Mapping[str, Any] | None = None
) -> tuple[str, list[BacktestRun]]:
    """Run the demo; returns a description of the data and one run per spec.

    With ``prices=None`` and ``load=None`` the data are the embedded synthetic
    scenario (generated with ``seed``).  ``load`` (a :class:`PriceSource`, or a
    mapping of its fields) says where to load prices from to run the specs
    unchanged on real prices from ``REAL_START``.
    """
    if load is not None or prices is not None:
        origin = load if isinstance(load, PriceSource) or load is None else PriceSource(**load)
        runs = compare(list(DEMO_SPECS), overrides={"start": REAL_START}, prices=prices, prices_from=origin)
        first = runs[0]
        about = f"{first.prices.source} prices, {first.start:%Y-%m-%d} → {first.end:%Y-%m-%d} (the AI era)"
        return about + _carry_line(runs), runs
    from shortthehype.data import synthetic

    scenario = synthetic.Scenario()
    prices = synthetic.generate_prices(scenario, **({} if seed is None else {"seed": seed}))
    overrides = synthetic_overrides(scenario)
    start = scenario.key_dates["bubble_start"].strftime("%Y-%m-%d")
    runs = [
        label_oracle(compare([name], overrides={**overrides[name], "start": start}, prices=prices)[0])
        for name in DEMO_SPECS
    ]
    about = "SYNTHETIC data (fictional tickers, not real prices):\n" + synthetic.describe(scenario)
    return about + _carry_line(runs), runs


def _carry_line(runs: list[BacktestRun]) -> str:
    """What cash earned in the runs (every demo spec earns the same bill rate)."""
    labels = list(dict.fromkeys(run.rates.get("cash_rate", "") for run in runs))
    return "\nCash earns " + "; ".join(labels) + "."


def windows_frame(runs: list[BacktestRun]) -> pd.DataFrame:
    """Window and final equity of each run (for the lines under the table)."""
    return pd.DataFrame(
        {
            "strategy": [r.spec.name for r in runs],
            "start": [r.start.strftime("%Y-%m-%d") for r in runs],
            "end": [r.end.strftime("%Y-%m-%d") for r in runs],
            "final_equity": [round(float(r.result.equity.iloc[-1]), 2) for r in runs],
        }
    )
