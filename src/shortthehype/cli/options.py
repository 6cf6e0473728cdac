"""Options shared by every command that loads prices."""

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


def data_options(source: str | None, data_dir: Path | None, cache_dir: Path | None, offline: bool) -> dict[str, Any]:
    return {"source": source, "data_dir": data_dir, "cache_dir": cache_dir, "offline": offline}


def run_overrides(assignments: list[str] | None, start: str | None, end: str | None) -> dict[str, str]:
    """``--set key=value`` items plus ``--start``/``--end``, as spec overrides."""
    from shortthehype.spec import parse_assignments

    overrides = parse_assignments(assignments or [])
    if start is not None:
        overrides["start"] = start
    if end is not None:
        overrides["end"] = end
    return overrides


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
