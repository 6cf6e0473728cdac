"""The on-disk price catalog: one Parquet file per ticker.

Layout of the catalog directory (``cache_dir`` argument, else
``$SHORTTHEHYPE_CACHE_DIR``, else ``~/.cache/shortthehype``)::

    NVDA.parquet        canonical OHLCV frame + metadata (see CatalogMeta)
    ^DJT.parquet        the index ^DJT: files are named by the exact ticker, so the
                        Dow Transports never answer for the stock DJT
    .NVDA.lock          per-ticker lock file (filelock)

Every file records the ticker it holds, and a reader checks it: a file is
served only for that ticker.  Two older layouts are still read: a file
``IXIC.parquet`` written for ``^IXIC`` by earlier versions (its record says
``^IXIC``), and a ticker imported from ``IXIC.csv`` (source ``csv``), which is
also served for ``^IXIC`` because CSV file names drop the caret.

Safety:

* **Atomic writes.**  A new version is written to a temporary file in the same
  directory, flushed and fsynced, then moved over the old one with
  ``os.replace`` (atomic on POSIX and Windows).  A process killed at any point
  leaves either the old file or the new one, never a torn file; a stale
  temporary file left by a killed writer is removed by the next writer
  (:func:`shortthehype.files.write_atomically`).
* **Checksums.**  The metadata record holds a SHA-256 of the frame and of the
  record itself; a reader recomputes it, so a flipped bit is an error naming
  the file instead of a wrong price.
* **Readers never see a half-replaced file.**  A file is read whole through one
  descriptor (one version), retried if a concurrent replace makes the open fail.
* **One writer per ticker.**  Every read-modify-write of a ticker (a fetch,
  an import) holds that ticker's ``filelock`` lock, across processes; readers
  take no lock (they always see a complete file).  Waiting longer than
  :data:`~shortthehype.constants.CATALOG_LOCK_TIMEOUT` is an error.
* **Validated both ways.**  Frames are validated before they are written and
  again when read, by :func:`shortthehype.data.validate.check_ohlcv`.
* **Imports are all or nothing.**  ``data import`` validates every CSV,
  writes every new file as a temporary file next to its target, records the
  renames still to do in a journal, and only then renames them into place.  A
  failure or a full disk before the journal leaves the catalog unchanged; a
  process killed during the renames leaves the journal, and the next reader
  or writer of the catalog finishes them first, so every ticker is seen at
  its new version.

Metadata lives in the Parquet key-value metadata under ``shortthehype``
(JSON): the ticker as fetched (``^IXIC``), the source (``yahoo`` or ``csv``),
``fetched_at`` (UTC, ISO 8601), first/last date and row count, and for the
incremental Yahoo update ``requested_start`` (earliest start ever asked of the
source, ``null`` = full history) and ``complete_through`` (last day the source
was asked for; later days are fetched next time).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from shortthehype.constants import CATALOG_LOCK_TIMEOUT, DEFAULT_CACHE_DIR, ENV_CACHE_DIR
from shortthehype.data.csv_source import csv_files, read_csv_file
from shortthehype.data.validate import SeriesInfo, check_ohlcv, normalize_ticker, standardize_frame, ticker_stem
from shortthehype.errors import DataError, ParamError, did_you_mean
from shortthehype.files import frame_checksum, fsync_directory, read_bytes_retrying, remove_stale_temps, write_atomically, write_temp

__all__ = ["Catalog", "CatalogMeta", "resolve_cache_dir"]

#: Key of our record in the Parquet key-value metadata.
_META_KEY = b"shortthehype"
#: Version of the on-disk layout; a reader refuses files from a newer version.
_FORMAT_VERSION = 1
_SUFFIX = ".parquet"
#: An import's journal: the renames still to do (``.import-<pid>-<thread>.journal``).
_JOURNAL_PREFIX = ".import-"
_JOURNAL_SUFFIX = ".journal"

_lock_guard = threading.Lock()


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The catalog directory: ``cache_dir``, else ``$SHORTTHEHYPE_CACHE_DIR``, else ``~/.cache/shortthehype``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get(ENV_CACHE_DIR) or DEFAULT_CACHE_DIR).expanduser()


def _iso(day: pd.Timestamp | None) -> str | None:
    return None if day is None else str(pd.Timestamp(day).date())


def _day(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text)


@dataclass(frozen=True)
class CatalogMeta:
    """The metadata record stored with each catalog file.

    ``requested_start`` is ``None`` when the full history was requested;
    ``complete_through`` is the last day the source was asked for (it can be
    later than ``last`` when the source had no newer rows, e.g. a delisting).
    """

    ticker: str
    source: str
    fetched_at: str
    first: pd.Timestamp
    last: pd.Timestamp
    rows: int
    requested_start: pd.Timestamp | None
    complete_through: pd.Timestamp
    origin: str | None = None
    format_version: int = _FORMAT_VERSION
    checksum: str | None = None

    def to_json(self) -> bytes:
        record = asdict(self)
        for key in ("first", "last", "requested_start", "complete_through"):
            record[key] = _iso(record[key])
        return json.dumps(record, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes, origin: str) -> CatalogMeta:
        try:
            record = json.loads(raw)
            version = int(record.get("format_version", 0))
            if version > _FORMAT_VERSION:
                raise DataError(f"{origin} was written by a newer shortthehype (format {version}); upgrade to read it")
            return cls(
                ticker=record["ticker"],
                source=record["source"],
                fetched_at=record["fetched_at"],
                first=pd.Timestamp(record["first"]),
                last=pd.Timestamp(record["last"]),
                rows=int(record["rows"]),
                requested_start=_day(record.get("requested_start")),
                complete_through=pd.Timestamp(record["complete_through"]),
                origin=record.get("origin"),
                format_version=version,
                checksum=record.get("checksum"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{origin} has a corrupt metadata record ({type(exc).__name__}: {exc}); re-fetch or re-import it") from None


class Catalog:
    """The price catalog in directory ``root`` (see module docstring); cheap to construct.

    Parameters
    ----------
    root
        Catalog directory; ``None`` resolves it with :func:`resolve_cache_dir`.
        It is created on the first write; reading a missing catalog raises a
        ``DataError`` that says how to fill it.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_cache_dir(root)

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    # -- paths and locks ---------------------------------------------------------------

    def path(self, ticker: str) -> Path:
        """File of ``ticker``, named by the exact ticker (``^IXIC`` → ``^IXIC.parquet``)."""
        return self.root / f"{normalize_ticker(ticker)}{_SUFFIX}"

    def _fallback_path(self, ticker: str) -> Path | None:
        """The caret-less file an index may be stored in by an older version or a CSV import (``^IXIC`` → ``IXIC.parquet``)."""
        stem = ticker_stem(ticker)
        return self.root / f"{stem}{_SUFFIX}" if stem != ticker else None

    def version(self, ticker: str) -> tuple[tuple[int, int] | None, ...]:
        """The modification time and size of each file that may hold ``ticker`` (None where there is none).

        It changes whenever the entry is written: a value derived from the entry can be kept under it.
        """
        ticker = normalize_ticker(ticker)
        fallback = self._fallback_path(ticker)
        states: list[tuple[int, int] | None] = []
        for path in (self.path(ticker), *(() if fallback is None else (fallback,))):
            try:
                state = os.stat(path)
            except OSError:
                states.append(None)
                continue
            states.append((state.st_mtime_ns, state.st_size))
        return tuple(states)

    def stems(self) -> list[str]:
        """Sorted file stems of the stored files (the tickers, except for older caret-less index files)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name[: -len(_SUFFIX)] for p in self.root.iterdir() if p.name.endswith(_SUFFIX) and not p.name.startswith("."))

    def tickers(self) -> list[str]:
        """The stored tickers, as their files' records name them (unreadable files left out)."""
        return sorted({info.ticker for info in self.summaries() if info.error is None})

    def has(self, ticker: str) -> bool:
        return self._locate(normalize_ticker(ticker)) is not None

    def _locate(self, ticker: str) -> tuple[Path, bytes, CatalogMeta] | None:
        """The file holding ``ticker``, its bytes (one version) and its record; None when it is not stored."""
        try:
            self._recover()
        except (DataError, OSError):
            pass  # e.g. a read-only catalog: read it as it is
        exact = self.path(ticker)
        found = self._load_file(exact)
        if found is not None:
            raw, meta = found
            if meta.ticker == ticker:
                return exact, raw, meta
            if meta.ticker != f"^{ticker}":  # not an older caret-less index file: the record is wrong
                raise DataError(
                    f"catalog file {exact} records ticker {meta.ticker!r}, not {ticker}: it is damaged or was renamed; "
                    f"re-fetch or re-import {ticker} to replace it"
                )
        fallback = self._fallback_path(ticker)
        found = self._load_file(fallback) if fallback is not None else None
        if found is not None:
            raw, meta = found
            if meta.ticker == ticker or (meta.ticker == ticker_stem(ticker) and meta.source == "csv"):
                return fallback, raw, meta  # type: ignore[return-value]
        return None

    def _load_file(self, path: Path) -> tuple[bytes, CatalogMeta] | None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            raw = read_bytes_retrying(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"catalog file {path} cannot be read ({exc.strerror or exc})") from None
        try:
            metadata = pq.read_schema(pa.BufferReader(raw)).metadata or {}
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
            raise DataError(
                f"catalog file {path} is damaged ({type(exc).__name__}); re-fetch or re-import its ticker to replace it"
            ) from None
        if _META_KEY not in metadata:
            raise DataError(f"catalog file {path} has no shortthehype metadata; re-fetch or re-import its ticker to replace it")
        return raw, CatalogMeta.from_json(metadata[_META_KEY], str(path))

    @contextmanager
    def lock(self, ticker: str) -> Iterator[None]:
        """Hold ``ticker``'s inter-process lock (re-entrant within a process)."""
        import filelock

        stem = normalize_ticker(ticker)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the price catalog directory {self.root}: {exc.strerror or exc}") from None
        lock_path = self.root / f".{stem}.lock"
        with _lock_guard:
            lock = filelock.FileLock(lock_path, is_singleton=True)
        try:
            lock.acquire(timeout=CATALOG_LOCK_TIMEOUT)
        except filelock.Timeout:
            raise DataError(
                f"catalog entry {stem} is locked by another process for over {CATALOG_LOCK_TIMEOUT:g}s ({lock_path}); try again"
            ) from None
        except OSError as exc:
            raise DataError(f"cannot write to the price catalog {self.root}: {exc.strerror or exc} ({lock_path})") from None
        try:
            yield
        finally:
            lock.release()

    # -- reading -----------------------------------------------------------------------

    def _missing(self, ticker: str) -> DataError:
        stems = self.stems()
        if not stems:
            where = f"the price catalog {self.root} is empty" if self.root.is_dir() else f"the price catalog {self.root} does not exist"
            return DataError(
                f"{ticker} is not in the catalog: {where}; run 'shortthehype data fetch {ticker}' or 'shortthehype data import DIR'"
            )
        return DataError(
            f"{ticker} is not in the price catalog {self.root}; run 'shortthehype data fetch {ticker}' first"
            f"{did_you_mean(ticker_stem(ticker), stems)}"
        )

    def read_meta(self, ticker: str) -> CatalogMeta:
        """The metadata record of ``ticker``."""
        ticker = normalize_ticker(ticker)
        found = self._locate(ticker)
        if found is None:
            raise self._missing(ticker)
        return found[2]

    def read(self, ticker: str) -> tuple[pd.DataFrame, CatalogMeta]:
        """The validated canonical frame of ``ticker`` and its metadata.

        Raises
        ------
        DataError
            The ticker is not stored (with close matches), or its file is
            damaged (unreadable, checksum mismatch), lacks metadata or fails
            validation.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        ticker = normalize_ticker(ticker)
        found = self._locate(ticker)
        if found is None:
            raise self._missing(ticker)
        path, raw, meta = found
        try:
            frame = pq.read_table(pa.BufferReader(raw)).to_pandas()
        except Exception as exc:  # noqa: BLE001
            raise DataError(
                f"catalog file {path} is damaged ({type(exc).__name__}); re-fetch or re-import {ticker} to replace it"
            ) from None
        if meta.checksum is not None and _checksum(frame, meta) != meta.checksum:
            raise DataError(
                f"catalog file {path} is damaged (checksum mismatch: its data changed after it was written); "
                f"re-fetch or re-import {ticker} to replace it"
            )
        origin = f"catalog file {path}"
        frame, _ = check_ohlcv(standardize_frame(frame, origin), origin)
        return frame, meta

    def read_optional(self, ticker: str) -> tuple[pd.DataFrame, CatalogMeta] | None:
        """Like :meth:`read`, but ``None`` when the ticker is not stored."""
        if self._locate(normalize_ticker(ticker)) is None:
            return None
        return self.read(ticker)

    # -- writing -----------------------------------------------------------------------

    def write(
        self,
        ticker: str,
        frame: pd.DataFrame,
        *,
        source: str,
        requested_start: pd.Timestamp | None,
        complete_through: pd.Timestamp | None = None,
        origin: str | None = None,
    ) -> CatalogMeta:
        """Validate ``frame`` and store it atomically as ``ticker``'s new version.

        ``complete_through`` defaults to the frame's last date.  Takes the
        ticker's lock (re-entrant, so callers doing read-modify-write hold it
        around the whole sequence).  On any failure the old file is untouched
        and the temporary file removed (an ``OSError`` such as a full disk
        becomes a ``DataError``).
        """
        ticker = normalize_ticker(ticker)
        self._recover()
        with self.lock(ticker):
            final, tmp = self._stage(ticker, frame, source, requested_start, complete_through, origin)
            self._commit([(ticker, final, tmp)])
        return self.read_meta(ticker)

    def _stage(
        self,
        ticker: str,
        frame: pd.DataFrame,
        source: str,
        requested_start: pd.Timestamp | None,
        complete_through: pd.Timestamp | None,
        origin: str | None,
    ) -> tuple[Path, Path]:
        """Validate ``frame`` and write it, whole and fsynced, to a temporary file next to ``ticker``'s file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame, _ = check_ohlcv(frame, f"{ticker} (to be stored)")
        meta = CatalogMeta(
            ticker=ticker,
            source=source,
            fetched_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            first=frame.index[0],
            last=frame.index[-1],
            rows=len(frame),
            requested_start=requested_start,
            complete_through=frame.index[-1] if complete_through is None else max(complete_through, frame.index[-1]),
            origin=origin,
        )
        table = pa.Table.from_pandas(frame, preserve_index=True)
        meta = replace(meta, checksum=_checksum(table.to_pandas(), meta))
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: meta.to_json()})
        final = self.path(ticker)
        remove_stale_temps(final, max_age=0)  # we hold the ticker's lock: no temp file of it is live
        staged = write_temp(final, lambda handle: pq.write_table(table, handle), option="catalog file", error=DataError)
        return final, staged

    def _commit(self, staged: list[tuple[str, Path, Path]]) -> None:
        """Rename staged files into place (and drop a caret-less older file of the same index).

        Several files are listed first in a journal, so that a process killed
        between two renames is completed by the next catalog user (:meth:`_recover`).
        """
        journal = None
        if len(staged) > 1:
            journal = self.root / f"{_JOURNAL_PREFIX}{os.getpid()}-{threading.get_ident()}{_JOURNAL_SUFFIX}"
            entries = [[ticker, final.name, tmp.name] for ticker, final, tmp in staged]
            write_atomically(journal, json.dumps(entries), option="catalog journal", error=DataError)
        for position, (ticker, final, tmp) in enumerate(staged):
            try:
                os.replace(tmp, final)
            except OSError as exc:
                for _, _, left in staged[position:]:
                    left.unlink(missing_ok=True)
                if journal is not None:
                    journal.unlink(missing_ok=True)
                raise DataError(f"cannot write catalog file {final}: {exc.strerror or exc}; the old version is unchanged") from None
            fallback = self._fallback_path(ticker)
            if fallback is not None and fallback.is_file():
                try:
                    older = self._load_file(fallback)
                except DataError:
                    older = None
                if older is not None and older[1].ticker == ticker:
                    fallback.unlink(missing_ok=True)
        if journal is not None:
            journal.unlink(missing_ok=True)
        fsync_directory(self.root)

    def _recover(self) -> None:
        """Finish the renames of an import that was killed between two of them (its journal lists what is left)."""
        try:
            journals = sorted(self.root.glob(f"{_JOURNAL_PREFIX}*{_JOURNAL_SUFFIX}"))
            for journal in journals:
                remove_stale_temps(journal)  # a journal's own temporary file, left by a kill while it was written
        except OSError:
            return
        for journal in journals:
            try:
                entries = json.loads(journal.read_text())
                tickers = sorted({str(entry[0]) for entry in entries})
            except (OSError, ValueError, TypeError, IndexError):
                journal.unlink(missing_ok=True)  # torn journals cannot exist (atomic writes): a stray file
                continue
            with contextlib.ExitStack() as locks:
                for ticker in tickers:  # waits while the import that wrote it is still running
                    locks.enter_context(self.lock(ticker))
                if not journal.is_file():
                    continue
                for _, final_name, tmp_name in entries:
                    tmp = self.root / str(tmp_name)
                    if tmp.is_file():
                        os.replace(tmp, self.root / str(final_name))
                journal.unlink(missing_ok=True)
                fsync_directory(self.root)

    # -- listing and import ------------------------------------------------------------

    def summaries(self) -> list[SeriesInfo]:
        """One :class:`SeriesInfo` per stored file, from metadata only; a bad file gets ``error`` set."""
        infos = []
        for stem in self.stems():
            path = self.root / f"{stem}{_SUFFIX}"
            try:
                found = self._load_file(path)
            except DataError as exc:
                infos.append(SeriesInfo(stem, None, None, 0, str(path), "?", error=str(exc)))
                continue
            if found is None:  # replaced or removed since the listing
                continue
            meta = found[1]
            infos.append(SeriesInfo(meta.ticker, meta.first, meta.last, meta.rows, str(path), meta.source, meta.fetched_at))
        return infos

    def import_csv_dir(self, directory: str | os.PathLike[str]) -> list[SeriesInfo]:
        """Validate every ``*.csv`` in ``directory``, then store each as a ticker (named by its file stem).

        All files are validated before anything is written: if any is invalid,
        a ``DataError`` names it (and how many others failed) and the catalog is
        unchanged.

        Returns
        -------
        list of SeriesInfo
            One per imported ticker.
        """
        from shortthehype.data.csv_source import resolve_data_dir

        directory = resolve_data_dir(directory, name="the import directory")
        frames: dict[str, tuple[pd.DataFrame, Path]] = {}
        errors: list[str] = []
        for path in csv_files(directory).values():
            try:
                ticker = normalize_ticker(path.stem)  # "^IXIC.csv" holds ^IXIC, "IXIC.csv" holds IXIC
            except ParamError:
                errors.append(f"{path}: file name {path.stem!r} is not a ticker")
                continue
            try:
                frames[ticker] = (read_csv_file(path)[0], path)
            except DataError as exc:
                errors.append(str(exc))
        if errors:
            more = f" (and {len(errors) - 1} more invalid file(s))" if len(errors) > 1 else ""
            raise DataError(f"{errors[0]}{more}; nothing was imported")
        tickers = sorted(frames)
        self._recover()
        with contextlib.ExitStack() as locks:
            for ticker in tickers:  # sorted: two imports never wait on each other in a cycle
                locks.enter_context(self.lock(ticker))
            staged: list[tuple[str, Path, Path]] = []
            try:
                for ticker in tickers:
                    frame, path = frames[ticker]
                    final, tmp = self._stage(ticker, frame, "csv", frame.index[0], None, str(path.resolve()))
                    staged.append((ticker, final, tmp))
            except BaseException:
                for _, _, tmp in staged:
                    tmp.unlink(missing_ok=True)
                raise
            self._commit(staged)
        infos = []
        for ticker in tickers:
            meta = self.read_meta(ticker)
            infos.append(SeriesInfo(meta.ticker, meta.first, meta.last, meta.rows, str(self.path(ticker)), "csv", meta.fetched_at))
        return infos


def _checksum(frame: pd.DataFrame, meta: CatalogMeta) -> str:
    """Checksum of a stored frame and of its record (the record without its checksum)."""
    return frame_checksum(frame, replace(meta, checksum=None, fetched_at="").to_json())
