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

    _tidy_help_types()


def _tidy_help_types() -> None:
    """Help shows what to type: nothing after a flag (typer writes ``<bool>``), ``<str>`` for a repeatable option.

    Typer 0.29 prints the Python type of every option; a flag takes no value and
    a repeatable option takes one string each time (its help says "repeatable").
    """
    from typer.core import TyperOption

    if getattr(TyperOption, "_shortthehype_tidy", False):
        return
    original = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: object) -> str | None:
        if self.is_flag:
            return None
        text = original(self, ctx)  # type: ignore[arg-type]
        return text.replace("<list[str]>", "<str>") if text else text

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
    TyperOption._shortthehype_tidy = True  # type: ignore[attr-defined]


#: Commands whose first run compiles numba kernels (seconds to a minute).
COMPILING_COMMANDS = frozenset({"backtest", "compare", "demo", "sweep", "walkforward", "bubble"})


def _note_first_compile() -> None:
    """Say why a first run is slow (numba compiling and caching its kernels), once, on stderr."""
    from shortthehype._numba_setup import kernels_cached

    if not kernels_cached():
        err_console.print(
            "compiling numba kernels, first run only (up to a minute; `shortthehype precompile` does it ahead)...",
            highlight=False,
        )


def _print_version(value: bool) -> None:
    if value:
        from shortthehype import __version__

        console.print(f"shortthehype {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
) -> None:
    """Backtest the AI-bubble thesis: strategies, sweeps and reports on daily prices."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and ``python -m shortthehype``; returns the exit code."""
    from rich.markup import escape

    _register_commands()
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in COMPILING_COMMANDS and not {"--help", "-h"} & set(args):
        _note_first_compile()
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
