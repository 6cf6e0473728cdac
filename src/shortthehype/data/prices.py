"""The ``Prices`` container: aligned wide OHLCV frames for a set of tickers."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import PRICE_FIELDS
from shortthehype.errors import DataError
from shortthehype.kept import RecentValues

__all__ = ["Prices", "side_by_side"]


@dataclass(frozen=True)
class Prices:
    """Daily OHLCV prices of several tickers on one calendar.

    Each of ``open, high, low, close, volume`` is a DataFrame indexed by a
    sorted, unique ``DatetimeIndex`` of trading days (the union of every
    ticker's days) with one float64 column per ticker.  A ticker has NaN before
    it lists and after it delists: gaps are never forward-filled, because a NaN
    price means "cannot trade", not "price unchanged".

    ``source`` names where the data came from (``csv``, ``yahoo``, ``cache``,
    ``synthetic``, ``frame``); ``origin`` the directory they were read from
    (the CSV directory, the catalog; None otherwise), where a run looks for the
    matching interest-rate series; ``warnings`` holds one line per suspicious
    fact found while loading (e.g. a split-sized one-day move).

    Prices are values.  Their arrays are read-only (writing a value in place
    raises); a change that pandas makes by replacing arrays (assigning a whole
    column, ``prices.close /= 2``, a new index) empties what was derived from the
    prices (:meth:`cached`), so no run ever reads a result of the old values.
    """

    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    source: str = "frame"
    warnings: tuple[str, ...] = field(default_factory=tuple)
    origin: str | None = None

    def __repr__(self) -> str:
        if len(self.close.index) == 0:
            return f"Prices({len(self.tickers)} tickers, no dates, source {self.source})"
        shown = ", ".join(self.tickers[:8]) + (", ..." if len(self.tickers) > 8 else "")
        return (
            f"Prices({shown}; {len(self.close.index):,} days {self.close.index[0]:%Y-%m-%d}..{self.close.index[-1]:%Y-%m-%d}, "
            f"source {self.source}, {len(self.warnings)} warning(s))"
        )

    def __post_init__(self) -> None:
        index, columns = self.close.index, self.close.columns
        for name in PRICE_FIELDS:
            frame = getattr(self, name)
            if not frame.index.equals(index) or not frame.columns.equals(columns):
                raise DataError(f"Prices.{name} is not aligned with Prices.close (index or columns differ)")
        if not isinstance(index, pd.DatetimeIndex):
            raise DataError("Prices index must be a DatetimeIndex of trading days")
        if not index.is_monotonic_increasing or not index.is_unique:
            raise DataError("Prices index must be sorted and unique")
        self._freeze()

    @property
    def tickers(self) -> list[str]:
        columns = self.close.columns  # asked for many times a run: kept with the (immutable) columns it reads
        held = self.__dict__.get("_tickers")
        if held is None or held[0] is not columns:
            held = self.__dict__["_tickers"] = (columns, tuple(str(c) for c in columns))
        return list(held[1])

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.close.index)

    def field(self, name: str) -> pd.DataFrame:
        if name not in PRICE_FIELDS:
            raise DataError(f"unknown price field {name!r}; expected one of {', '.join(PRICE_FIELDS)}")
        return getattr(self, name)

    def select(self, tickers: Iterable[str]) -> Prices:
        """The same prices restricted to ``tickers`` (in that order); rows where none trade are dropped.

        Computed once per set of tickers (see :meth:`cached`): a run, a sweep
        or a study selects the same tickers of one loaded data set many times.
        """
        wanted = list(tickers)
        columns = self._positions(wanted)
        memo = self._memo()
        key = ("select", *wanted)
        held = memo.get(key)
        if held is None or not held[0]._unchanged(held[1]):  # a selection changed in place is made again
            selected = self._select(columns)
            held = memo[key] = (selected, selected._state())
        return held[0]

    def _select(self, columns: np.ndarray) -> Prices:
        keep = ~np.isnan(self.close.to_numpy(dtype=np.float64)[:, columns]).all(axis=1)
        return self._rows(keep, columns)

    def columns_of(self, tickers: Iterable[str]) -> Prices:
        """The same dates, only ``tickers`` (in that order): unlike :meth:`select`, no row is dropped."""
        wanted = list(tickers)
        if wanted == self.tickers:
            return self
        return self._rows(slice(None), self._positions(wanted))

    def _positions(self, wanted: list[str]) -> np.ndarray:
        """The column positions of ``wanted``; DataError naming those that are not in these prices."""
        positions = self.close.columns.get_indexer(wanted)
        if (positions < 0).any():
            missing = [t for t, k in zip(wanted, positions) if k < 0]
            raise DataError(f"ticker(s) not in these prices: {', '.join(missing)}")
        return positions

    def between(self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None) -> Prices:
        """Rows with ``start <= date <= end`` (either bound optional)."""
        index = self.index
        lo = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
        hi = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), side="right"))
        return self._rows(slice(lo, hi))

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``, computed once per ``key`` for these prices (what is derived from a loaded data set).

        What is derived from the prices (a selection, the loader's notes
        restricted to a window, each ticker's last valid date) holds as long as
        the frames are unchanged, and is computed again after any change (see
        the class).
        """
        memo = self._memo()
        if key not in memo:
            # threads sharing the prices may both compute it: every one of them gets the value stored first
            return memo.setdefault(key, compute())
        return memo[key]

    def _memo(self) -> dict[Hashable, Any]:
        """What is derived from these prices: emptied when a frame changed since it was derived (see the class)."""
        held = self.__dict__.get("_derived")
        if held is None or not self._unchanged(held[0]):
            if held is not None:
                self._freeze(copy_writeable=False)  # the arrays pandas put in
            held = self.__dict__["_derived"] = (self._state(), {})
        return held[1]

    def _state(self) -> tuple[Any, ...]:
        """The objects whose identity changes with any change pandas allows to a read-only frame."""
        # pandas keeps no version number of a frame.  Every change made in place that does not write into the
        # (read-only) arrays gives the frame a new block manager (in-place arithmetic) or gives its manager new
        # blocks (a column assigned, inserted or dropped, a sort in place) or a new axis (an index, a rename)
        return tuple((frame, frame._mgr, frame._mgr.blocks, *frame._mgr.axes) for frame in self._frames())

    def _unchanged(self, state: tuple[Any, ...]) -> bool:
        for frame, (held, manager, blocks, columns, index) in zip(self._frames(), state):
            if frame is not held or frame._mgr is not manager:
                return False
            if manager.blocks is not blocks or manager.axes[0] is not columns or manager.axes[1] is not index:
                return False
        return True

    def _freeze(self, copy_writeable: bool = True) -> None:
        """Make every array of the frames read-only: a value written in place raises instead of going unseen.

        With ``copy_writeable`` (new prices) a frame with a writeable array, perhaps the caller's, is first
        replaced by a shallow copy: its own array objects over the same data, which pandas copies before the
        caller's frame writes to it.  Without (a change detected), the prices' own frames are frozen as they are.
        """
        for name, frame in zip(PRICE_FIELDS, self._frames()):
            if copy_writeable and any(array.flags.writeable for array in _arrays(frame)):
                frame = frame.copy(deep=False)
                object.__setattr__(self, name, frame)
            _read_only(frame)

    def _frames(self) -> tuple[pd.DataFrame, ...]:
        """The frames in :data:`PRICE_FIELDS` order."""
        return self.open, self.high, self.low, self.close, self.volume

    def recent(self, name: Hashable, key: Hashable, compute: Callable[[], Any], kept: int,
               current: Callable[[Any], bool] | None = None) -> Any:
        """``compute()``, kept among the ``kept`` most recent values stored under ``name`` for these prices.

        For what is derived per parameter set (prepared indicators, rolled
        puts, a converted rate series): the runs of a study or a sweep ask for
        the same few again and again, and the store never grows past ``kept``.
        ``current(value)`` says whether a kept value still holds (a key that
        cannot hold everything it depends on, such as an object's identity).
        Threads may share the prices (see :class:`~shortthehype.kept.RecentValues`).
        """
        return self.recent_store(name, kept).get(key, compute, current)

    def recent_store(self, name: Hashable, kept: int) -> RecentValues:
        """The store of :meth:`recent` under ``name`` (created to keep ``kept`` values), e.g. to share with price
        sets whose values under ``name`` are the same: ``other.cached(name, lambda: prices.recent_store(name, kept))``."""
        return self.cached(name, lambda: RecentValues(kept))

    def __getstate__(self) -> dict[str, Any]:
        # derived values do not travel
        return {k: v for k, v in self.__dict__.items() if k not in ("_derived", "_tickers")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._freeze()  # unpickled arrays are writeable

    def _rows(self, keep: np.ndarray | slice, columns: np.ndarray | None = None) -> Prices:
        """These prices on the rows ``keep`` (a mask or a slice) and the columns at positions ``columns``, built from arrays."""
        index = self.index[keep]
        labels = self.close.columns if columns is None else self.close.columns[columns]
        frames = {}
        for name in PRICE_FIELDS:
            frame = getattr(self, name)
            values = frame.to_numpy()
            if values.dtype != np.float64:  # mixed column dtypes: let pandas keep each column's own
                frame = frame if columns is None else frame.iloc[:, columns]
                frames[name] = frame.loc[keep]
                continue
            values = values if columns is None else values[:, columns]
            frames[name] = _read_only(pd.DataFrame(values[keep], index=index, columns=labels))  # ours: no copy
        return self._with(frames)

    def _with(self, frames: Mapping[str, pd.DataFrame]) -> Prices:
        return Prices(**frames, source=self.source, warnings=self.warnings, origin=self.origin)

    @classmethod
    def from_frames(
        cls,
        per_ticker: Mapping[str, pd.DataFrame],
        *,
        source: str = "frame",
        warnings: Iterable[str] = (),
        origin: str | None = None,
    ) -> Prices:
        """Align per-ticker OHLCV frames (DatetimeIndex, columns ``open..volume``) on the union of their dates."""
        if not per_ticker:
            raise DataError("no tickers to align")
        index = pd.DatetimeIndex([])
        for frame in per_ticker.values():
            index = index.union(frame.index)
        index = pd.DatetimeIndex(index, name="date")
        for ticker, frame in per_ticker.items():
            if not frame.index.is_unique:
                day = frame.index[frame.index.duplicated()][0]
                raise DataError(f"{ticker}: duplicate date {pd.Timestamp(day).date()} (one row per day)")
        rows = [index.get_indexer(frame.index) for frame in per_ticker.values()]
        columns = pd.Index(list(per_ticker), name="ticker")
        wide = {}
        for name in PRICE_FIELDS:
            values = np.full((len(per_ticker), len(index)), np.nan)  # a reindex per column costs 0.2 ms
            for j, frame in enumerate(per_ticker.values()):
                values[j, rows[j]] = frame[name].to_numpy(dtype=np.float64)
            wide[name] = pd.DataFrame(values.T, index=index, columns=columns)
        return cls(**wide, source=source, warnings=tuple(warnings), origin=origin)

    @classmethod
    def from_close(cls, close: pd.DataFrame, *, source: str = "frame") -> Prices:
        """Prices from closes alone: open, high and low are set equal to the close, volume to NaN.

        Convenient for tests and for strategies on close-only series; with
        ``execution="next_open"`` the "open" is then the close.
        """
        close = close.astype(np.float64)
        volume = pd.DataFrame(np.nan, index=close.index, columns=close.columns)
        return cls(open=close, high=close, low=close, close=close, volume=volume, source=source)


def side_by_side(parts: Sequence[Prices], *, source: str = "frame", warnings: Iterable[str] = ()) -> Prices:
    """The columns of ``parts``, price sets on the same dates, as one price set (in the order given).

    Built from the arrays (a column selection and a concatenation in pandas
    cost a millisecond per field); a field whose columns mix dtypes is left
    to pandas, which keeps each column's own.
    """
    index = parts[0].index
    for part in parts[1:]:
        if part.index is not index and not part.index.equals(index):
            raise DataError("cannot put prices side by side: they are not on the same dates")
    columns = pd.Index([ticker for part in parts for ticker in part.close.columns], name="ticker")
    frames = {}
    for name in PRICE_FIELDS:
        values = [part.field(name).to_numpy() for part in parts]
        if all(v.dtype == np.float64 for v in values):
            frames[name] = _read_only(pd.DataFrame(np.concatenate(values, axis=1), index=index, columns=columns))
        else:
            frame = pd.concat([part.field(name) for part in parts], axis=1)
            frame.columns.name = "ticker"
            frames[name] = frame
    return Prices(**frames, source=source, warnings=tuple(warnings))


def _rebind_only(self: Prices, name: str, value: Any) -> None:
    """Prices' fields cannot be assigned, except to the object they hold: ``prices.close /= 2`` changes the frame
    in place (seen by :meth:`Prices.cached`), then assigns it back to the field, which must not fail."""
    if name in PRICE_FIELDS and getattr(self, name, None) is value:
        return
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


# set after the dataclass is made: a frozen dataclass may not define its own __setattr__
Prices.__setattr__ = _rebind_only  # type: ignore[method-assign,assignment]


def _arrays(frame: pd.DataFrame) -> list[np.ndarray]:
    """The numpy arrays holding ``frame``'s values."""
    return [block.values for block in frame._mgr.blocks if isinstance(block.values, np.ndarray)]


def _read_only(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, its arrays made read-only."""
    for array in _arrays(frame):
        array.flags.writeable = False
    return frame
