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
from typing import TYPE_CHECKING, Any

import pandas as pd

from shortthehype.caveats import oracle_caveat
from shortthehype.constants import AI_ERA_START
from shortthehype.data.prices import Prices
from shortthehype.data.source import PriceSource
from shortthehype.runner import BacktestRun, compare

if TYPE_CHECKING:
    from shortthehype.spec import StrategySpec
    from shortthehype.strategies.base import StrategyKind

__all__ = [
    "DEMO_SPECS",
    "REAL_START",
    "label_oracle",
    "run_demo",
    "synthetic_overrides",
    "synthetic_settings",
    "synthetic_table",
    "windows_frame",
]

#: The specs the demo compares, in table order.
DEMO_SPECS = ("sixty-forty", "ai-basket", "dotcom-analog", "hype-hedge", "burry-short", "ma-crossover")

#: Start of the window on real prices: ChatGPT's launch, the essay's AI-era anchor.
REAL_START = AI_ERA_START

def synthetic_table(spec: StrategySpec) -> dict[str, Any] | None:
    """How ``spec``'s tickers map onto the synthetic market: its ``[synthetic]`` table, else that of the demo
    spec named like it or like its kind; None when there is none."""
    from shortthehype.spec import load_spec

    if spec.synthetic:
        return dict(spec.synthetic)
    for name in (spec.name, spec.kind.name):
        table = load_spec(name).synthetic if name in DEMO_SPECS else None
        if table:
            return dict(table)
    return None


def synthetic_settings(table: Mapping[str, Any], kind: StrategyKind, scenario: Any) -> dict[str, Any]:
    """``table`` (a spec's ticker mapping), then the timing ``kind`` takes from the scenario's key dates, if any."""
    timing = kind.synthetic_timing(scenario.key_dates) if kind.synthetic_timing is not None else {}
    return {**table, **timing}


def synthetic_overrides(scenario: Any) -> dict[str, dict[str, Any]]:
    """Per-spec settings that put each demo spec on the synthetic scenario (:func:`synthetic_settings`)."""
    from shortthehype.spec import load_spec

    specs = [load_spec(name) for name in DEMO_SPECS]
    return {spec.name: synthetic_settings(spec.synthetic, spec.kind, scenario) for spec in specs}


def label_oracle(run: BacktestRun) -> BacktestRun:
    """``run`` with the oracle caveat when its kind's synthetic timing uses hindsight (:attr:`StrategyKind.oracle_timing`)."""
    oracle = oracle_caveats(run.spec)
    return replace(run, caveats=run.caveats + oracle) if oracle else run


def oracle_caveats(spec: StrategySpec) -> tuple[str, ...]:
    """The oracle caveat of a spec run on a synthetic scenario, when its kind's timing uses hindsight (else none)."""
    how = spec.kind.oracle_timing
    return () if how is None else (oracle_caveat(spec.name, how),)


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
    about = synthetic.describe(scenario)  # the caveat line before it already says SYNTHETIC
    return about + _carry_line(runs), runs


def _carry_line(runs: list[BacktestRun]) -> str:
    """What cash earned in the runs (every demo spec earns the same bill rate), and what the ratios make of it."""
    labels = list(dict.fromkeys(run.rates.get("cash_rate", "") for run in runs))
    line = "\nCash earns " + "; ".join(labels) + "."
    if any("sharpe_risk_free" in run.rates for run in runs):
        line += " The Sharpe, Sortino and omega ratios use a zero risk-free rate: they count that interest as return."
    return line


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
