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


def check_json_option(path: Path | None) -> None:
    """``--json PATH`` checked before the run (``-`` is stdout)."""
    if path is not None and str(path) != "-":
        from shortthehype.files import check_writable

        check_writable(path, option="--json")


def write_json(document: Any, path: Path) -> None:
    """``--json PATH``: the document written atomically (a failed write leaves any previous file intact)."""
    import json

    from shortthehype.files import write_atomically

    write_atomically(path, json.dumps(document, indent=1), option="--json")
