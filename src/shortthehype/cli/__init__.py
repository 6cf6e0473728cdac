"""The ``shortthehype`` command line: a thin typer layer over the library.

Commands parse their options, call the library, and render with rich.  The
only exception caught is the library's own :class:`ShortTheHypeError`, printed
as one line with exit code 1; anything else is a bug and keeps its traceback.
Heavy modules are imported inside the commands so that ``--help`` and the
fast commands start quickly.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from shortthehype.errors import ShortTheHypeError

app = typer.Typer(
    name="shortthehype",
    help="Backtest the AI-bubble thesis: strategies, sweeps and reports on daily prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# soft_wrap: one-line messages (paths, errors) are never broken across lines; tables still fit the terminal
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _register_commands() -> None:
    from shortthehype.cli import commands  # noqa: F401  (registers on `app`)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and ``python -m shortthehype``; returns the exit code."""
    from rich.markup import escape

    _register_commands()
    try:
        app(args=argv, prog_name="shortthehype")  # standalone: click handles usage errors and --help
    except ShortTheHypeError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
