"""Point numba's on-disk cache at a writable directory keyed by the kernels' source.

Every kernel is compiled with ``cache=True`` so that a new process loads
machine code instead of recompiling (seconds).  numba invalidates a cached
function only when *its own* source file changes: a kernel that calls (or
inlines) a kernel of another file that changed would keep running the old
machine code.  So the cache lives in
``$SHORTTHEHYPE_CACHE_DIR/numba/<fingerprint>`` (default
``~/.cache/shortthehype/numba/...``), where the fingerprint hashes the source
of every kernel module (``core/*.py``): any change to any kernel, an upgrade
included, starts a fresh cache.  An explicit ``NUMBA_CACHE_DIR`` always wins.
This module must be imported before any kernel module;
``shortthehype/__init__.py`` does so first.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from shortthehype.constants import DEFAULT_CACHE_DIR, ENV_CACHE_DIR

PACKAGE_DIR = Path(__file__).resolve().parent


def _directory_is_writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def kernel_fingerprint() -> str:
    """A short hash of every kernel module's source (``core/*.py``): the key of the numba cache."""
    digest = hashlib.sha256()
    for path in sorted((PACKAGE_DIR / "core").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def numba_cache_dir() -> Path | None:
    """The directory numba should cache into (``NUMBA_CACHE_DIR`` when set)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    base = Path(os.environ.get(ENV_CACHE_DIR) or DEFAULT_CACHE_DIR).expanduser()
    return base / "numba" / kernel_fingerprint()


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

        user = os.getuid() if hasattr(os, "getuid") else "user"
        cache_dir = Path(tempfile.gettempdir()) / f"shortthehype-numba-{user}" / kernel_fingerprint()
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
    return cache_dir is not None and cache_dir.is_dir() and any(cache_dir.rglob(pattern))
