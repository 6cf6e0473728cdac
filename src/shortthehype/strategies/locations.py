"""Where strategy specs and user strategy files are looked up by name."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV_STRATEGIES_DIR", "strategy_dirs"]

#: Environment variable naming an extra directory searched for specs by name.
ENV_STRATEGIES_DIR = "SHORTTHEHYPE_STRATEGIES_DIR"


def strategy_dirs() -> list[Path]:
    """Directories searched for specs by name, in order.

    ``$SHORTTHEHYPE_STRATEGIES_DIR``, then ``./strategies`` in the working
    directory, then the built-in specs: the package's ``builtin_strategies``
    data (an installed wheel) or the ``strategies/`` directory of the source
    checkout (an editable install or ``PYTHONPATH=src``).
    """
    dirs: list[Path] = []
    if os.environ.get(ENV_STRATEGIES_DIR):
        dirs.append(Path(os.environ[ENV_STRATEGIES_DIR]).expanduser())
    dirs.append(Path.cwd() / "strategies")
    dirs.append(Path(__file__).resolve().parents[1] / "builtin_strategies")
    dirs.append(Path(__file__).resolve().parents[3] / "strategies")
    unique: list[Path] = []
    for directory in dirs:
        if directory.is_dir() and directory.resolve() not in [d.resolve() for d in unique]:
            unique.append(directory)
    return unique
