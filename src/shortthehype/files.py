"""Every file the package writes goes through here: atomic replacement, checksums, retried reads.

Atomic writes (:func:`write_atomically`)
    The content goes to a temporary file in the target's directory
    (``.<name>.<pid>-<random>.tmp``), is flushed and fsynced, then renamed
    over the target with ``os.replace`` (atomic on POSIX and Windows), and the
    directory is fsynced so that the rename survives a power cut.  A process
    killed at any point leaves the old file or the new one, never a torn one.
    A full disk, a read-only or missing directory, or a directory in the
    target's place is one :class:`~shortthehype.errors.ShortTheHypeError`
    line naming the option and the path; the previous file is left intact and
    the temporary file removed.  Temporary files of the same target left by a
    killed writer (older than :data:`STALE_TEMP_SECONDS`) are removed by the
    next write.

Checksums (:func:`frame_checksum`)
    A SHA-256 over a DataFrame's values, index and column names, stored in
    the file's own metadata by the writer and recomputed by the reader: a
    flipped bit anywhere in the data is caught instead of read as a number.

Reads of files that another process may be replacing (:func:`read_bytes_retrying`)
    read the whole file through one open file descriptor (one consistent
    version) and retry a few times when the file is momentarily missing or
    unreadable.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from shortthehype.errors import ParamError, ShortTheHypeError

__all__ = [
    "STALE_TEMP_SECONDS",
    "check_writable",
    "frame_checksum",
    "fsync_directory",
    "make_directory",
    "read_bytes_retrying",
    "remove_stale_temps",
    "write_atomically",
    "write_temp",
]

#: A temporary file of a target older than this is a leftover of a killed writer.
STALE_TEMP_SECONDS = 3600.0
#: Attempts and pause of :func:`read_bytes_retrying`.
_READ_ATTEMPTS = 5
_READ_PAUSE = 0.05

Content = str | bytes | Callable[[BinaryIO], None]


def _temp_glob(target: Path) -> str:
    return f".{target.name}.*.tmp"


def remove_stale_temps(target: Path, *, max_age: float = STALE_TEMP_SECONDS) -> int:
    """Remove ``target``'s temporary files older than ``max_age`` seconds (0: all); returns how many."""
    removed = 0
    now = time.time()
    try:
        candidates = list(target.parent.glob(_temp_glob(target)))
    except OSError:
        return 0
    for stale in candidates:
        try:
            if now - stale.stat().st_mtime >= max_age:
                stale.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def check_writable(path: str | os.PathLike[str], *, option: str = "output") -> Path:
    """``path`` as a Path, checked before a long computation: its directory exists and is writable, it is no directory.

    Raises
    ------
    ParamError
        The message names ``option``, the path and what is wrong.
    """
    out = Path(path)
    problem = _place_problem(out)
    if problem is None and not os.access(out.parent, os.W_OK | os.X_OK):
        problem = f"the directory {out.parent} is not writable"
    if problem is not None:
        raise ParamError(f"{option} {out}: {problem}")
    return out


def _place_problem(target: Path) -> str | None:
    """Why no file can be written at ``target`` (a directory there, no parent directory), or None."""
    if target.is_dir():
        return "is a directory; give a file name"
    if not target.parent.is_dir():
        return f"the directory {target.parent} does not exist"
    return None


def make_directory(path: str | os.PathLike[str], *, option: str = "output") -> Path:
    """Create directory ``path`` (and its parents) if needed and check it is writable; one-line ParamError otherwise."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ParamError(f"{option} {out}: a file of that name exists; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParamError(f"{option} {out}: cannot create the directory ({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ParamError(f"{option} {out}: the directory is not writable")
    return out


def write_atomically(
    path: str | os.PathLike[str],
    content: Content,
    *,
    option: str = "output",
    shown: str | os.PathLike[str] | None = None,
    error: type[ShortTheHypeError] = ParamError,
) -> Path:
    """Write ``content`` to ``path`` atomically (see the module docstring) and return the path.

    ``content`` is text (written as UTF-8), bytes, or a function that writes
    to the binary file handle it is given (``figure.savefig``,
    ``pyarrow.parquet.write_table``).  The file gets the usual permissions
    (0666 less the umask).  ``shown`` is the path messages name (default ``path``).

    Raises
    ------
    ParamError (or ``error``)
        The file cannot be written: the message names ``option``, the path and
        the reason (no space left, permission denied, no such directory, is a
        directory); an existing ``path`` is unchanged.
    """
    out = Path(path)
    name = out if shown is None else Path(shown)
    tmp = write_temp(out, content, option=option, shown=name, error=error)
    try:
        os.replace(tmp, out)
    except OSError as exc:
        _discard(tmp)
        raise error(f"{option} {name}: cannot write the file ({exc.strerror or exc}); any previous file is unchanged") from None
    except BaseException:
        _discard(tmp)
        raise
    fsync_directory(out.parent)
    return out


def write_temp(
    target: Path,
    content: Content,
    *,
    option: str = "output",
    shown: str | os.PathLike[str] | None = None,
    error: type[ShortTheHypeError] = ParamError,
) -> Path:
    """The first half of :func:`write_atomically`: ``content`` written and fsynced to a new temporary file next to ``target``.

    The caller renames it over ``target`` (``os.replace``) or deletes it.
    Stale temporary files of ``target`` are removed first.
    """
    name = target if shown is None else Path(shown)
    problem = _place_problem(target)
    if problem is not None:
        raise error(f"{option} {name}: {problem}")
    remove_stale_temps(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        _discard(tmp)
        raise error(f"{option} {name}: cannot write the file ({exc.strerror or exc}); any previous file is unchanged") from None
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except OSError:
        pass


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_bytes_retrying(path: Path, *, attempts: int = _READ_ATTEMPTS, pause: float = _READ_PAUSE) -> bytes:
    """The whole of ``path`` read through one descriptor, retried while the file is briefly missing or unreadable.

    A writer replaces files by rename, so one ``open`` always sees one whole
    version; the retry covers the instant a concurrent replace or a network
    file system makes an ``open`` fail.  The last ``OSError`` is re-raised.
    """
    for attempt in range(attempts):
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def frame_checksum(frame: pd.DataFrame, *extra: bytes) -> str:
    """SHA-256 (hex) of a frame's column names, index and values, plus ``extra`` bytes.

    Computed from the values themselves (numbers and dates as their 64-bit
    patterns, every NaN as one pattern, text and categories as UTF-8), never
    from a library's hash function, so it stays the same across pandas
    versions and a Parquet round trip.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(str(c) for c in frame.columns).encode())
    digest.update(_value_bytes(pd.Series(frame.index)))
    for name in frame.columns:
        digest.update(_value_bytes(frame[name]))
    for item in extra:
        digest.update(item)
    return digest.hexdigest()


def _value_bytes(column: pd.Series) -> bytes:
    """The bytes a column's checksum covers: 64-bit patterns of numbers and dates, UTF-8 of anything else."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) or dtype.kind not in "biufmM":
        return "\x1f".join("\x00" if pd.isna(v) else str(v) for v in column.astype(object)).encode()
    values = column.to_numpy()
    if dtype.kind == "M":
        values = values.astype("datetime64[ns]").view(np.int64)
    elif dtype.kind == "m":
        values = values.astype("timedelta64[ns]").view(np.int64)
    elif dtype.kind == "b":
        values = values.astype(np.int64)
    elif dtype.kind in "iu":
        values = values.astype(np.int64)
    else:  # one bit pattern for every NaN: kernels make NaNs with other sign bits than a file gives back
        values = np.where(np.isnan(values), np.nan, values.astype(np.float64))
    return np.ascontiguousarray(values, dtype=np.float64 if dtype.kind == "f" else np.int64).tobytes()
