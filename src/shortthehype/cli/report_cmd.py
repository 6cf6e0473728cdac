"""``shortthehype report``: HTML, Markdown and PNG reports from result JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from shortthehype.cli import app, console

FormatOption = Annotated[
    Optional[str],
    typer.Option("--format", "-f", help="html (self-contained page) or md (Markdown summary); default: from the output suffix, else html."),
]
PngOption = Annotated[Optional[Path], typer.Option("--png", help="Also write the main figures as PNG files into this directory.")]


@app.command()
def report(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="Result JSON from `backtest --json`, `compare --json` or `bubble --json`, a sweep's .parquet or a walk-forward JSON; "
            "several backtest results make a comparison."
        ),
    ],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Report file ('-' for stdout; default: the first result's name with .html or .md)."),
    ] = None,
    png: PngOption = None,
    format_: FormatOption = None,
    x: Annotated[Optional[str], typer.Option("--x", help="Sweep results (.parquet): the setting on the heatmap's x axis.")] = None,
    y: Annotated[Optional[str], typer.Option("--y", help="Sweep results (.parquet): the setting on the heatmap's y axis.")] = None,
) -> None:
    """Write the report of a backtest, a comparison, a sweep (.parquet), a walk-forward or a bubble indicator, from its result file."""
    from shortthehype.errors import ParamError
    from shortthehype.report import render, resolve_format, write_pngs, write_report
    from shortthehype.report.model import document_kind, load_document

    if (x or y) and not (len(results) == 1 and results[0].suffix.lower() == ".parquet"):
        raise ParamError("--x/--y choose the heatmap of one sweep's results file (.parquet)")
    documents = [(load_document(path, x=x, y=y), str(path)) for path in results]
    if len(documents) == 1:
        document, where = documents[0]
    else:
        runs: list[Any] = []
        for doc, path in documents:
            if document_kind(doc, path) == "compare":
                runs += doc if isinstance(doc, list) else doc["runs"]
            else:
                runs.append(doc)
        document, where = {"type": "compare", "runs": runs}, ", ".join(str(p) for p in results)
    fmt = resolve_format(format_, output)
    if output is not None and str(output) == "-":
        typer.echo(render(document, fmt, where=where), nl=False)
    else:
        target = output if output is not None else results[0].with_suffix(".md" if fmt == "md" else ".html")
        write_report(document, target, format=fmt, where=where)
        console.print(f"wrote {target}", highlight=False)
    if png is not None:
        paths = write_pngs(document, png, where=where)
        console.print(f"wrote {len(paths)} PNG figure(s) to {png}: " + ", ".join(p.name for p in paths), highlight=False)


def write_outputs(document: Any, *, report_path: Path | None, png: Path | None, format_: str | None, quiet: bool = False) -> None:
    """Write the report and PNGs that ``--report`` / ``--png`` ask for (shared by backtest and compare).

    The "wrote ..." lines go to stderr when ``quiet`` (stdout then carries JSON or Markdown).
    """
    from shortthehype.cli import err_console
    from shortthehype.report import render, write_pngs, write_report

    out = err_console if quiet else console
    if report_path is not None and str(report_path) == "-":
        typer.echo(render(document, format_ or "html"), nl=False)
    elif report_path is not None:
        write_report(document, report_path, format=format_)
        out.print(f"wrote {report_path}", highlight=False)
    if png is not None:
        paths = write_pngs(document, png)
        out.print(f"wrote {len(paths)} PNG figure(s) to {png}: " + ", ".join(p.name for p in paths), highlight=False)
