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
from rich.text import Text

from shortthehype.errors import ShortTheHypeError

app = typer.Typer(
    name="shortthehype",
    help="Backtest the AI-bubble thesis: strategies, sweeps and reports on daily prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# soft_wrap: one-line messages (paths, errors) are never broken across lines; tables still fit the terminal.
# markup/emoji off: text from users (spec names, tickers, messages, SQL results) is printed as given, never
# interpreted ("x[/oops]" stays, ":100:" is no emoji); the CLI's own styles are Text objects (``styled``).
console = Console(soft_wrap=True, markup=False, emoji=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


def styled(label: str, style: str, text: str = "") -> Text:
    """``label`` in ``style`` followed by plain ``text``; nothing in either is parsed as rich markup."""
    return Text.assemble((label, style), text)


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
        from shortthehype.cli.notices import watch_compilation
        from shortthehype.constants import COMPILE_PROGRESS_SECONDS

        err_console.print(
            "compiling numba kernels, first run only (up to a minute; `shortthehype precompile` does it ahead)...",
            highlight=False,
        )
        watch_compilation(err_console, COMPILE_PROGRESS_SECONDS)


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


def was_interrupted(exc: BaseException) -> bool:
    """True for Ctrl-C, also when numba wraps it (``SystemError: CPUDispatcher(...) returned a result with an exception set``)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script and ``python -m shortthehype``; returns the exit code.

    ``--debug`` (anywhere on the command line, or ``SHORTTHEHYPE_DEBUG=1``)
    prints the traceback behind a one-line error, e.g. of an exception raised
    in a user's strategy file.  ``--allow-any-strategy-file`` lets spec files
    run Python files outside their own directory and the strategy directories.
    """
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("SHORTTHEHYPE_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    from shortthehype.constants import ENV_ANY_STRATEGY_FILE

    allowed_before = os.environ.get(ENV_ANY_STRATEGY_FILE)
    if "--allow-any-strategy-file" in args:  # an environment variable, so that worker processes inherit it
        os.environ[ENV_ANY_STRATEGY_FILE] = "1"
        args = [a for a in args if a != "--allow-any-strategy-file"]
    _register_commands()
    if args and args[0] in COMPILING_COMMANDS and not {"--help", "-h"} & set(args):
        _note_first_compile()
    try:
        return _run(args, debug)
    finally:
        if allowed_before is None:
            os.environ.pop(ENV_ANY_STRATEGY_FILE, None)
        else:
            os.environ[ENV_ANY_STRATEGY_FILE] = allowed_before


def _run(args: list[str], debug: bool) -> int:
    try:
        # not standalone: a usage error comes here, to be one line like every other error
        code = app(args=args, prog_name="shortthehype", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors: an unknown option, a missing argument, a bad value
        if type(exc).__name__ == "NoArgsIsHelpError":  # no command at all: the help, as click prints it
            console.print(exc.format_message(), highlight=False, markup=False)
            return int(exc.exit_code)
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        message = " ".join(exc.format_message().split()).rstrip(".") + hint
        err_console.print(styled("error:", "bold red", " " + message), highlight=False, soft_wrap=True)
        return int(getattr(exc, "exit_code", 2))
    except typer.Abort:
        err_console.print("aborted", highlight=False)
        return 1
    except ShortTheHypeError as exc:
        if debug:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        err_console.print(styled("error:", "bold red", " " + " ".join(str(exc).split())), highlight=False, soft_wrap=True)
        return 1
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    except (KeyboardInterrupt, SystemError) as exc:
        if not was_interrupted(exc):
            raise
        err_console.print("interrupted", highlight=False)
        return 130
    return code if isinstance(code, int) else 0  # a command's typer.Exit(code), else None: success


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
