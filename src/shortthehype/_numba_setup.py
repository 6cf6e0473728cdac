"""Point numba's on-disk cache at a writable directory.

Every kernel is compiled with ``cache=True`` so that a new process loads
machine code instead of recompiling (seconds).  numba writes its cache next to
the source file by default; when the package is installed read-only (a system
site-packages, a container image) we redirect it to
``$SHORTTHEHYPE_CACHE_DIR/numba`` (default ``~/.cache/shortthehype/numba``).
An explicit ``NUMBA_CACHE_DIR`` always wins.  This module must be imported
before any kernel module; ``shortthehype/__init__.py`` does so first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shortthehype.constants import DEFAULT_CACHE_DIR, ENV_CACHE_DIR

PACKAGE_DIR = Path(__file__).resolve().parent


def _directory_is_writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def numba_cache_dir() -> Path | None:
    """The directory numba should cache into, or None for numba's default (in-tree)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    if all(_directory_is_writable(PACKAGE_DIR / sub) for sub in ("core",)):
        return None
    base = Path(os.environ.get(ENV_CACHE_DIR) or DEFAULT_CACHE_DIR).expanduser()
    return base / "numba"


def _usable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return _directory_is_writable(directory)


def configure_numba_cache() -> None:
    """Point numba at :func:`numba_cache_dir`; an unusable one (read-only, not creatable) falls back to a temporary directory.

    Never raises: a cache that cannot be written costs compile time, not the command.
    """
    cache_dir = numba_cache_dir()
    if cache_dir is None:
        return
    if not _usable(cache_dir):
        import tempfile

        cache_dir = Path(tempfile.gettempdir()) / f"shortthehype-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        if not _usable(cache_dir):
            return
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir)
    if "numba" in sys.modules:  # numba read its config already: update it in place
        import numba

        numba.config.CACHE_DIR = str(cache_dir)


configure_numba_cache()


def kernels_cached() -> bool:
    """Whether numba's on-disk cache already holds the engine's kernels (a later run loads instead of compiling)."""
    pattern = "simulate_nb.*.nbi"
    cache_dir = numba_cache_dir()
    if cache_dir is not None:
        return cache_dir.is_dir() and any(cache_dir.rglob(pattern))
    return any((PACKAGE_DIR / "core" / "__pycache__").glob(pattern))
