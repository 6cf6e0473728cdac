"""Warnings as every command prints them: one line each on stderr, about the run's own window and tickers.

Data warnings reach the CLI two ways: as lines a result carries (``run.warnings``,
``prices.warnings``) and as :class:`~shortthehype.errors.DataWarning` raised
while a long command loads its prices.  :func:`captured_warnings` collects the
second kind (so Python never prints them with a source line in the middle of a
progress bar) and :func:`print_warnings` prints both the same way, dropping
one-day moves dated outside the window the command actually ran on.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.text import Text

__all__ = ["CompileProgress", "captured_warnings", "in_window", "print_warnings", "watch_compilation"]

#: A dated one-day-move line from the loader: ``"AMD 2016-04-22: one-day close-to-close move ..."``.
_DATED_MOVE = re.compile(r"^(?P<ticker>\S+) (?P<date>\d{4}-\d{2}-\d{2}): one-day close-to-close move")


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect the DataWarnings raised inside the block as lines (in order, without repeats)."""
    from shortthehype.errors import DataWarning

    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        yield lines
    for item in caught:
        if issubclass(item.category, DataWarning):
            line = str(item.message)
            if line not in lines:
                lines.append(line)
        else:  # not ours: let Python show it as it would have
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)


def in_window(lines: Iterable[str], start: Any, end: Any, tickers: Sequence[str] | None = None) -> list[str]:
    """``lines`` without one-day moves dated outside ``start..end`` (or of tickers not in ``tickers``)."""
    import pandas as pd

    first, last = pd.Timestamp(start), pd.Timestamp(end)
    kept = []
    for line in lines:
        match = _DATED_MOVE.match(line)
        if match:
            if not first <= pd.Timestamp(match["date"]) <= last:
                continue
            if tickers is not None and match["ticker"] not in tickers:
                continue
        kept.append(line)
    return kept


def print_warnings(lines: Iterable[str], *, about: str | None = None) -> None:
    """Each line as ``warning: [about: ]line`` on stderr (yellow in a terminal; never parsed as markup)."""
    from shortthehype.cli import err_console

    prefix = f"{about}: " if about else ""
    for line in dict.fromkeys(lines):
        err_console.print(Text.assemble(("warning: ", "yellow"), prefix + line), highlight=False, soft_wrap=True)


class CompileProgress:
    """numba's compile events as progress lines on stderr: the kernels compiled so far, every few seconds.

    numba announces each function it compiles (``"numba:compile"`` events);
    a first run compiles dozens.  One line per ``every`` seconds of
    compiling keeps a first run from looking hung without a live display
    (which would fight a command's own progress bar).
    """

    def __init__(self, out: Any, every: float, clock: Any = None) -> None:
        import time

        self.out = out
        self.every = every
        self.clock = clock or time.monotonic
        self.started = self.last = self.clock()
        self.compiled = 0

    def on_start(self, event: Any) -> None:
        return None

    def on_end(self, event: Any) -> None:
        self.compiled += 1
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self.out.print(
                Text(f"  ... {self.compiled} kernels compiled so far ({now - self.started:,.0f} s)"), highlight=False
            )

    def notify(self, event: Any) -> None:
        if event.is_start:
            self.on_start(event)
        elif event.is_end:
            self.on_end(event)


def watch_compilation(out: Any, every: float) -> CompileProgress:
    """Register a :class:`CompileProgress` with numba for the rest of the process; returns it."""
    from numba.core import event

    progress = CompileProgress(out, every)
    event.Listener.register(CompileProgress)  # numba checks isinstance(listener, Listener)
    event.register("numba:compile", progress)
    return progress
