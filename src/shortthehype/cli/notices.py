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

__all__ = ["captured_warnings", "in_window", "print_warnings"]

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
