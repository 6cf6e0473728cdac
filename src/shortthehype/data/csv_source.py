"""The ``csv`` source: a directory with one ``<TICKER>.csv`` file per ticker.

File names are matched case-insensitively on their stem, and Yahoo index
tickers lose their caret (``^IXIC`` reads ``IXIC.csv``).  A file holds either
``date,open,high,low,close[,volume]`` (any case, any column order, extra
columns ignored) or Yahoo's export ``Date,Open,High,Low,Close,Adj Close,Volume``
(then prices are adjusted by ``Adj Close / Close``).  Every check lives in
:mod:`shortthehype.data.validate`; this module only reads text and reports
file-level problems (missing directory, no CSVs, unknown ticker, empty file).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from shortthehype.constants import ENV_DATA_DIR
from shortthehype.data.validate import SeriesInfo, parse_price_table, series_info, ticker_stem
from shortthehype.errors import DataError, ParamError, did_you_mean

__all__ = ["csv_files", "find_csv", "list_csv_dir", "read_csv_file", "resolve_data_dir"]


def resolve_data_dir(data_dir: str | os.PathLike[str] | None, *, name: str = "data_dir") -> Path:
    """The CSV directory: ``data_dir``, else ``$SHORTTHEHYPE_DATA_DIR``; it must exist.

    Raises
    ------
    ParamError
        Neither is set.
    DataError
        The directory does not exist or is not a directory (the message says
        where the path came from).
    """
    if data_dir is not None:
        path, how = Path(data_dir), name
    elif os.environ.get(ENV_DATA_DIR):
        path, how = Path(os.environ[ENV_DATA_DIR]), f"${ENV_DATA_DIR}"
    else:
        raise ParamError(f"source 'csv' needs a directory of <TICKER>.csv files: pass data_dir (--data-dir) or set {ENV_DATA_DIR}")
    path = path.expanduser()
    if not path.exists():
        raise DataError(f"data directory {path} does not exist (from {how})")
    if not path.is_dir():
        raise DataError(f"data directory {path} is not a directory (from {how})")
    return path


def csv_files(directory: Path) -> dict[str, Path]:
    """``{STEM: path}`` of the ``*.csv`` files in ``directory`` (stems upper-cased without a caret, suffix any case).

    Raises
    ------
    DataError
        No CSV file in the directory, or two files whose names differ only
        in case (``nvda.csv`` and ``NVDA.csv``).
    """
    files: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() != ".csv" or path.name.startswith(".") or not path.is_file():
            continue
        stem = ticker_stem(path.stem.upper())  # "^IXIC.csv" and "IXIC.csv" both hold ^IXIC
        if stem in files:
            raise DataError(f"{directory}: files {files[stem].name} and {path.name} are the same ticker; keep one")
        files[stem] = path
    if not files:
        raise DataError(f"data directory {directory} contains no *.csv files")
    return files


def find_csv(directory: Path, ticker: str, files: dict[str, Path] | None = None) -> Path:
    """Path of ``ticker``'s file in ``directory``; ``DataError`` with close matches if there is none."""
    files = csv_files(directory) if files is None else files
    stem = ticker_stem(ticker)
    if stem in files:
        return files[stem]
    raise DataError(f"no price file for {ticker} in {directory} (looked for {stem}.csv){did_you_mean(stem, files)}")


def read_csv_file(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate one price file; return the canonical frame and warning lines.

    Blank lines are skipped (line numbers in messages stay those of the
    file); ``null``, ``NaN`` and empty cells are missing values.  A UTF-8 byte
    order mark is ignored.

    Raises
    ------
    DataError
        The file is empty or unreadable, malformed as CSV, or fails any check
        of :func:`shortthehype.data.validate.parse_price_table`.
    """
    origin = str(path)
    try:
        if path.stat().st_size == 0:
            raise DataError(f"{origin} is empty (expected a header line and one row per day)")
        table = _read_plain_csv(path)
        if table is None:
            with warnings.catch_warnings():
                # A row longer than the header would otherwise be silently cut (index_col=False).
                warnings.simplefilter("error", pd.errors.ParserWarning)
                table = pd.read_csv(path, dtype=str, skip_blank_lines=False, encoding="utf-8-sig", index_col=False)
    except FileNotFoundError:
        raise DataError(f"price file {origin} does not exist") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{origin} is empty (expected a header line and one row per day)") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{origin}: malformed CSV ({reason})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {origin}: {type(exc).__name__}: {exc}".replace("\n", " ")) from None
    lines = np.arange(2, len(table) + 2)
    blank = table.isna().all(axis=1).to_numpy()
    if blank.any():
        table = table.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    return parse_price_table(table, origin, lines=lines)


#: The cells pandas' reader takes as missing by default (``pandas._libs.parsers.STR_NA_VALUES``; a test holds them equal).
PANDAS_MISSING_CELLS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
)


def _read_plain_csv(path: Path) -> pd.DataFrame | None:
    """The table of strings ``pd.read_csv(path, dtype=str, ...)`` gives, read by pyarrow; None where the two could differ.

    pyarrow's reader is 3-4x faster on a price file.  It takes only a plain
    header (unique, non-empty names that pyarrow reads as a split on commas
    does, ``\\n`` or ``\\r\\n`` line ends) and rows with the header's number
    of fields (a blank line is a row of missing cells in both); anything else
    (a ragged row, text that is not UTF-8) goes to pandas' reader, whose
    errors this module words.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    with path.open("rb") as handle:
        first = handle.readline()
    try:
        header = first.decode("utf-8-sig").removesuffix("\n").removesuffix("\r")
    except UnicodeDecodeError:
        return None
    names = header.split(",")
    if "" in names or len(set(names)) != len(names):
        return None
    try:
        table = pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=list(PANDAS_MISSING_CELLS),
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, OSError):
        return None
    if table.column_names != names:
        return None
    return table.to_pandas()


def list_csv_dir(directory: Path) -> list[SeriesInfo]:
    """One :class:`SeriesInfo` per CSV file, read and validated; a bad file gets ``error`` set instead of raising."""
    infos = []
    for stem, path in csv_files(directory).items():
        try:
            frame, _ = read_csv_file(path)
        except DataError as exc:
            infos.append(SeriesInfo(stem, None, None, 0, str(path), "csv", error=str(exc)))
            continue
        infos.append(series_info(frame, stem, str(path), "csv"))
    return infos
