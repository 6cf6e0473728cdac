"""Command-line options shared by the commands: where prices come from, output formats, ``--set``, analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer


class DataOptions:
    source = Annotated[
        Optional[str],
        typer.Option(help="Price source: csv, yahoo, cache or synthetic (default: csv when a data dir is set, else yahoo)."),
    ]
    data_dir = Annotated[
        Optional[Path], typer.Option(help="Directory of <TICKER>.csv files (default: $SHORTTHEHYPE_DATA_DIR).")
    ]
    cache_dir = Annotated[
        Optional[Path], typer.Option(help="Price catalog directory (default: $SHORTTHEHYPE_CACHE_DIR or ~/.cache/shortthehype).")
    ]
    offline = Annotated[bool, typer.Option("--offline", help="Read the local catalog only; never download.")]


TableFormat = Annotated[str, typer.Option("--format", help="How tables are printed: table (terminal), csv, json or md.")]


def run_overrides(assignments: list[str] | None, start: str | None, end: str | None) -> dict[str, str]:
    """``--set key=value`` items plus ``--start``/``--end``, as spec overrides."""
    from shortthehype.spec import parse_assignments

    overrides = parse_assignments(assignments or [])
    if start is not None:
        overrides["start"] = start
    if end is not None:
        overrides["end"] = end
    return overrides


class AnalysisOptions:
    """Bootstrap intervals and factor exposures (backtest, compare)."""

    bootstrap = Annotated[
        bool,
        typer.Option("--bootstrap", help="Stationary block-bootstrap 95% intervals of Sharpe, CAGR and max drawdown."),
    ]
    vs = Annotated[
        Optional[str],
        typer.Option("--vs", help="Baseline spec, run over the same window: bootstrap the difference and the probability of beating it."),
    ]
    block_length = Annotated[float, typer.Option("--block-length", help="Bootstrap: expected block length in bars (1 = i.i.d.).")]
    samples = Annotated[int, typer.Option("--samples", help="Bootstrap: number of resamples.")]
    seed = Annotated[int, typer.Option("--bootstrap-seed", help="Bootstrap: seed of the resampling (same seed, same intervals).")]
    factors = Annotated[
        Optional[str],
        typer.Option("--factors", help="Extra factor tickers (A,B) beside the market (SPY) and the tech spread (QQQ - SPY); prints the exposures."),
    ]
    exposures = Annotated[bool, typer.Option("--exposures", help="Print the factor exposures (they are always in the JSON and the report).")]


def analysis_request(bootstrap: bool, vs: str | None, block_length: float, samples: int, seed: int, factors: str | None) -> dict[str, Any]:
    """The keyword arguments of :func:`shortthehype.analysis.analysis_sections` from the command-line options (checked)."""
    from shortthehype.bootstrap import check_settings

    check_settings(samples, block_length)
    extra = tuple(t.strip().upper() for t in (factors or "").split(",") if t.strip())
    return {"bootstrap": bootstrap, "vs": vs, "block_length": block_length, "samples": samples, "seed": seed, "extra_factors": extra}


def check_output_options(*, json_path: Path | None = None, report_path: Path | None = None) -> None:
    """``--json PATH`` and ``--report PATH`` checked before the run: a writable directory, not a directory (``-`` is stdout)."""
    from shortthehype.files import check_writable

    for option, path in (("--json", json_path), ("--report", report_path)):
        if path is not None and str(path) != "-":
            check_writable(path, option=option)


def write_json(document: Any, path: Path) -> None:
    """``--json PATH``: the document written atomically (a failed write leaves any previous file intact)."""
    import json

    from shortthehype.files import write_atomically

    write_atomically(path, json.dumps(document, indent=1), option="--json")
