"""``shortthehype demo``: the essay's question on the embedded synthetic bubble."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from shortthehype.cli import app, console
from shortthehype.cli.options import DataOptions, data_options


@app.command()
def demo(
    seed: Annotated[Optional[int], typer.Option(help="Seed of the synthetic scenario (same seed, same numbers).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
) -> None:
    """Compare long, short and balanced portfolios through a bubble and its crash.

    Runs offline on SYNTHETIC data by default; with --source csv --data-dir DIR
    (or --source yahoo) the same portfolios run on real prices of PLTR, NVDA,
    AMD and SPY.
    """
    from shortthehype.cli.render import stats_table
    from shortthehype.demo import demo_tickers, run_demo, windows_frame

    prices = None
    if source is not None or data_dir is not None:
        from shortthehype.data.load import load_prices

        prices = load_prices(demo_tickers(), **data_options(source, data_dir, cache_dir, offline))
    about, runs = run_demo(prices, seed=seed)
    console.print(about, highlight=False)
    console.print(stats_table({portfolio.label: run.stats for portfolio, run in runs}, title="Demo comparison"))
    console.print(windows_frame(runs).to_string(index=False), highlight=False)
