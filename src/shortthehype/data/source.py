"""Where prices come from: one value for the source, its directories and offline mode.

Every function that loads prices (``backtest``, ``compare``, ``rolling``,
``montecarlo``, ``check_lookahead``, ``walkforward``, ``sweep``, the bubble
indicator) takes a :class:`PriceSource` as ``prices_from``; the notebook API
keeps the loose keywords ``source``, ``data_dir``, ``cache_dir`` and
``offline`` and builds one from them (:meth:`PriceSource.coerce`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shortthehype.errors import DataWarning, ParamError

__all__ = ["PriceSource"]


@dataclass(frozen=True)
class PriceSource:
    """The arguments of :func:`shortthehype.load_prices` that say where prices come from.

    ``source`` None picks the default (``csv`` when ``data_dir`` or
    ``$SHORTTHEHYPE_DATA_DIR`` is set, else ``yahoo``); ``data_dir`` is the
    ``csv`` directory, ``cache_dir`` the catalog of ``yahoo``/``cache``;
    ``offline`` reads the catalog only.
    """

    source: str | None = None
    data_dir: Path | None = None
    cache_dir: Path | None = None
    offline: bool = False

    def __post_init__(self) -> None:
        for name in ("data_dir", "cache_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(os.fspath(value)))

    @classmethod
    def from_options(
        cls,
        source: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool = False,
    ) -> PriceSource:
        """The price source of a command's ``--source``, ``--data-dir``, ``--cache-dir`` and ``--offline`` options."""
        return cls(source, data_dir, cache_dir, bool(offline))  # type: ignore[arg-type]

    @classmethod
    def coerce(
        cls,
        prices_from: PriceSource | None = None,
        *,
        source: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        offline: bool = False,
    ) -> PriceSource:
        """``prices_from``, or one built from the loose keywords of the notebook API.

        Raises
        ------
        ParamError
            Both ``prices_from`` and a loose keyword are given.
        """
        loose = {"source": source, "data_dir": data_dir, "cache_dir": cache_dir, "offline": offline or None}
        if prices_from is None:
            return cls.from_options(source, data_dir, cache_dir, offline)
        given = [name for name, value in loose.items() if value is not None]
        if given:
            raise ParamError(f"give either prices_from or {', '.join(given)}, not both")
        if not isinstance(prices_from, PriceSource):
            raise ParamError(f"prices_from must be a PriceSource, got {type(prices_from).__name__}")
        return prices_from

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`shortthehype.load_prices`."""
        return {"source": self.source, "data_dir": self.data_dir, "cache_dir": self.cache_dir, "offline": self.offline}

    def load(self, tickers: Any, start: object = None, end: object = None, *, quiet: bool = False, **options: object) -> Any:
        """:func:`shortthehype.load_prices` from this source; ``quiet`` drops the loader's DataWarnings
        (a backtest reports those of its window itself)."""
        from shortthehype.data.load import load_prices

        if not quiet:
            return load_prices(tickers, start, end, **self.options(), **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            return load_prices(tickers, start, end, **self.options(), **options)
