"""Errors the library raises on purpose.

Every error a user can cause (bad file, unknown ticker, invalid parameter) is a
subclass of :class:`ShortTheHypeError` whose message is one line that names the
offending file, ticker or parameter and says what is wrong.  The CLI catches
exactly this base class and prints the message; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DataWarning",
    "DownloadError",
    "ParamError",
    "ShortTheHypeError",
    "ShortTheHypeWarning",
    "SpecError",
    "UserCodeError",
    "did_you_mean",
]


class ShortTheHypeError(Exception):
    """Base class of every user-facing error; the message is one line."""


class DataError(ShortTheHypeError):
    """Price data cannot be read, parsed or trusted."""


class DownloadError(DataError):
    """A download from a remote source failed; the catalog is left untouched."""


class SpecError(ShortTheHypeError):
    """A strategy spec file is malformed or refers to unknown things."""


class UserCodeError(SpecError):
    """A user's strategy file raised (or exited): the message names the file and line; the cause keeps the traceback."""


class ParamError(ShortTheHypeError):
    """A parameter value is invalid (wrong type, out of range, unknown name)."""


class ShortTheHypeWarning(UserWarning):
    """Base class of warnings about suspicious but usable input."""


class DataWarning(ShortTheHypeWarning):
    """Price data looks suspicious (e.g. a split-sized one-day move)."""


def did_you_mean(name: str, candidates: object) -> str:
    """A ``"; did you mean 'a' or 'b'?"`` suffix for a misspelt ``name``, or ``""`` if nothing is close."""
    import difflib

    matches = difflib.get_close_matches(str(name), sorted({str(c) for c in candidates}), n=3, cutoff=0.6)  # type: ignore[attr-defined]
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"
