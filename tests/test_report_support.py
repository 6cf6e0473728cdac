"""Builders shared by the report tests (no tests here).

``synthetic_run`` backtests a small long/short book on seeded random-walk
closes through the real pipeline (spec -> runner -> engine -> to_dict), so
every report section has data: a benchmark, shorts paying borrow, cash
earning (and, when levered, paying) interest, trades and events.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.data.prices import Prices
from shortthehype.runner import BacktestRun, backtest
from shortthehype.spec import spec_from_mapping

EVIL = "<script>alert(1)</script>"


def random_closes(tickers: list[str], n_bars: int, seed: int = 7, start: str = "2015-01-02") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range(start, periods=n_bars, name="date")
    steps = rng.normal(0.0003, 0.015, size=(n_bars, len(tickers)))
    return pd.DataFrame(100.0 * np.exp(np.cumsum(steps, axis=0)), index=index, columns=tickers)


def synthetic_run(
    *,
    n_bars: int = 800,
    weights: dict[str, float] | None = None,
    engine: dict[str, Any] | None = None,
    name: str = "test-book",
    benchmark: str | None = "BENCH",
    seed: int = 7,
    rebalance: str = "monthly",
) -> BacktestRun:
    weights = weights or {"AAA": 0.9, "BBB": -0.4}
    tickers = list(dict.fromkeys(list(weights) + ([benchmark] if benchmark else [])))
    closes = random_closes(tickers, n_bars, seed=seed)
    raw: dict[str, Any] = {
        "name": name,
        "kind": "fixed-weights",
        "description": "A synthetic long/short book for the report tests.",
        "params": {"weights": weights, "rebalance": rebalance},
        "engine": engine if engine is not None else {"fees": 0.001, "slippage": 0.0005, "borrow_fee": 0.03, "cash_rate": 0.02},
    }
    if benchmark:
        raw["benchmark"] = benchmark
    spec = spec_from_mapping(raw)
    return backtest(spec, prices=Prices.from_close(closes, source="synthetic"))


def as_json(document: Any) -> Any:
    """The document as its JSON file reads back."""
    return json.loads(json.dumps(document))
