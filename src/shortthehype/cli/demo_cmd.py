"""``shortthehype demo``: the essay's question on the embedded synthetic bubble."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from shortthehype.cli import app, console, styled
from shortthehype.cli.options import DataOptions, data_options


@app.command()
def demo(
    seed: Annotated[Optional[int], typer.Option(help="Seed of the synthetic scenario (same seed, same numbers).")] = None,
    source: DataOptions.source = None,
    data_dir: DataOptions.data_dir = None,
    cache_dir: DataOptions.cache_dir = None,
    offline: DataOptions.offline = False,
    report_path: Annotated[
        Path, typer.Option("--report", help="Where to write the HTML report of the comparison ('-' for stdout).")
    ] = Path("shortthehype-demo.html"),
) -> None:
    """Run every essay strategy through a bubble and its crash and compare them.

    Runs offline on SYNTHETIC data by default (the essay's tickers mapped onto
    fictional ones); with --source csv --data-dir DIR (or --source yahoo) the
    shipped specs run unchanged on real prices from ChatGPT's launch on.
    """
    from shortthehype.cli.render import stats_table
    from shortthehype.demo import run_demo, windows_frame

    load = None
    if source is not None or data_dir is not None:
        load = data_options(source, data_dir, cache_dir, offline)
    about, runs = run_demo(seed=seed, load=load)
    console.print(about, highlight=False)
    console.print(stats_table({run.spec.name: run.stats for run in runs}, title="Demo comparison"))
    console.print(windows_frame(runs).to_string(index=False), highlight=False)
    for run in runs:
        for warning in run.warnings:
            console.print(styled(f"{run.spec.name}:", "yellow", " " + warning), highlight=False)
    from shortthehype.cli.report_cmd import write_outputs

    document = {"type": "compare", "runs": [run.to_dict() for run in runs]}
    write_outputs(document, report_path=report_path, png=None, format_="html")
