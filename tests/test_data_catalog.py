"""The on-disk catalog: round trip, metadata, atomic writes under crashes, locking, import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.data import catalog as catalog_module
from shortthehype.data.catalog import Catalog, resolve_cache_dir
from shortthehype.data.load import load_prices
from shortthehype.errors import DataError

HEADER = "date,open,high,low,close,volume\n"


def make_frame(n: int = 5, start: str = "2024-01-02", base: float = 100.0) -> pd.DataFrame:
    """A valid canonical frame: n business days, closes base, base+1, ..."""
    index = pd.DatetimeIndex(pd.bdate_range(start, periods=n).to_numpy(), name="date").as_unit("us")
    close = base + np.arange(n, dtype=np.float64)
    return pd.DataFrame(
        {"open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close, "volume": np.full(n, 1000.0)},
        index=index,
    )


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------- round trip and metadata


def test_write_then_read_round_trips_exactly(tmp_path):
    cat = Catalog(tmp_path)
    frame = make_frame()
    meta = cat.write("nvda", frame, source="yahoo", requested_start=None)
    back, meta2 = cat.read("NVDA")
    pd.testing.assert_frame_equal(back, frame)
    assert meta == meta2
    assert (meta.ticker, meta.source, meta.rows) == ("NVDA", "yahoo", 5)
    assert (meta.first, meta.last) == (pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-08"))
    assert meta.requested_start is None and meta.complete_through == pd.Timestamp("2024-01-08")
    fetched = pd.Timestamp(meta.fetched_at)
    assert fetched.tzinfo is not None and abs(pd.Timestamp.now(tz="UTC") - fetched) < pd.Timedelta(minutes=5)
    assert (tmp_path / "NVDA.parquet").is_file()


def test_metadata_is_readable_by_plain_pyarrow(tmp_path):
    import json

    import pyarrow.parquet as pq

    Catalog(tmp_path).write("NVDA", make_frame(), source="csv", requested_start=pd.Timestamp("2024-01-02"), origin="/x/NVDA.csv")
    record = json.loads(pq.read_schema(tmp_path / "NVDA.parquet").metadata[b"shortthehype"])
    assert record["first"] == "2024-01-02" and record["last"] == "2024-01-08" and record["rows"] == 5
    assert record["source"] == "csv" and record["origin"] == "/x/NVDA.csv" and record["requested_start"] == "2024-01-02"


def test_index_and_stock_of_the_same_letters_are_two_entries(tmp_path):
    """^DJT (Dow Transports) and DJT (a stock) are different tickers: each gets its own file and its own prices."""
    cat = Catalog(tmp_path)
    cat.write("^DJT", make_frame(base=18000.0), source="yahoo", requested_start=None)
    with pytest.raises(DataError, match="DJT is not in the price catalog"):
        cat.read("DJT")  # the index never answers for the stock
    cat.write("DJT", make_frame(base=30.0), source="yahoo", requested_start=None)
    assert cat.read("DJT")[0]["close"].iloc[0] == 30.0
    assert cat.read("^DJT")[0]["close"].iloc[0] == 18000.0
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["DJT.parquet", "^DJT.parquet"]
    assert cat.tickers() == ["DJT", "^DJT"]


def test_older_caret_less_index_file_is_read_for_the_index_only(tmp_path):
    """A file IXIC.parquet written for ^IXIC by an older version still serves ^IXIC, never IXIC; a new write replaces it."""
    import pyarrow.parquet as pq

    cat = Catalog(tmp_path)
    cat.write("^IXIC", make_frame(), source="yahoo", requested_start=None)
    os.replace(tmp_path / "^IXIC.parquet", tmp_path / "IXIC.parquet")  # the older layout
    assert cat.read_meta("^IXIC").ticker == "^IXIC"
    with pytest.raises(DataError, match="IXIC is not in the price catalog"):
        cat.read("IXIC")
    cat.write("^IXIC", make_frame(7), source="yahoo", requested_start=None)
    assert [p.name for p in tmp_path.glob("*.parquet")] == ["^IXIC.parquet"]
    assert pq.read_metadata(tmp_path / "^IXIC.parquet").num_rows == 7


def test_a_flipped_bit_in_a_catalog_file_is_an_error_or_harmless_never_a_different_price(tmp_path):
    """Flip one bit at many positions of a catalog file: each read raises DataError or gives the original frame."""
    cat = Catalog(tmp_path)
    frame = make_frame(40)
    cat.write("NVDA", frame, source="yahoo", requested_start=None)
    path = tmp_path / "NVDA.parquet"
    original = path.read_bytes()
    caught = 0
    for position in range(4, len(original) - 8, 5):  # the PAR1 magic numbers at both ends are not data
        raw = bytearray(original)
        raw[position] ^= 1 << (position % 8)
        path.write_bytes(bytes(raw))
        try:
            back, _ = cat.read("NVDA")
        except DataError as exc:
            assert "NVDA.parquet" in str(exc) and "\n" not in str(exc)
            caught += 1
            continue
        pd.testing.assert_frame_equal(back, frame)
    assert caught > 0


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTTHEHYPE_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("SHORTTHEHYPE_CACHE_DIR")
    assert resolve_cache_dir() == Path("~/.cache/shortthehype").expanduser()


def test_write_refuses_an_invalid_frame_and_keeps_the_old_file(tmp_path):
    cat = Catalog(tmp_path)
    cat.write("NVDA", make_frame(), source="yahoo", requested_start=None)
    before = (tmp_path / "NVDA.parquet").read_bytes()
    bad = make_frame()
    bad.iloc[2, bad.columns.get_loc("low")] = 1e9
    with pytest.raises(DataError, match=r"NVDA \(to be stored\): high .* < low .* on 2024-01-04"):
        cat.write("NVDA", bad, source="yahoo", requested_start=None)
    assert (tmp_path / "NVDA.parquet").read_bytes() == before


def test_summaries_come_from_metadata(tmp_path):
    cat = Catalog(tmp_path)
    cat.write("NVDA", make_frame(7), source="yahoo", requested_start=None)
    cat.write("^GSPC", make_frame(3, start="1990-01-02"), source="csv", requested_start=None)
    (tmp_path / "BROKEN.parquet").write_bytes(b"not parquet")
    infos = {info.ticker: info for info in cat.summaries()}
    assert infos["NVDA"].rows == 7 and infos["NVDA"].source == "yahoo"
    assert infos["^GSPC"].first == pd.Timestamp("1990-01-02") and infos["^GSPC"].rows == 3
    assert "BROKEN.parquet is damaged" in infos["BROKEN"].error


# --------------------------------------------------------------------------- reading errors


def test_missing_ticker_names_the_catalog_and_suggests(tmp_path):
    cat = Catalog(tmp_path)
    cat.write("NVDA", make_frame(), source="yahoo", requested_start=None)
    with pytest.raises(DataError) as info:
        cat.read("NVDX")
    message = str(info.value)
    assert str(tmp_path) in message and "NVDX" in message and "did you mean 'NVDA'?" in message
    assert "shortthehype data fetch NVDX" in message


def test_missing_catalog_says_how_to_fill_it(tmp_path):
    with pytest.raises(DataError, match=r"NVDA is not in the catalog: the price catalog .* does not exist; run 'shortthehype data fetch NVDA'"):
        Catalog(tmp_path / "none").read("NVDA")


def test_garbage_file_is_reported_unreadable(tmp_path):
    (tmp_path / "NVDA.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(DataError, match=r"NVDA.parquet is damaged .*re-fetch or re-import its ticker to replace it"):
        Catalog(tmp_path).read("NVDA")


def test_parquet_without_our_metadata_is_refused(tmp_path):
    make_frame().to_parquet(tmp_path / "NVDA.parquet")
    with pytest.raises(DataError, match="has no shortthehype metadata"):
        Catalog(tmp_path).read("NVDA")


def test_files_are_validated_when_read(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cat = Catalog(tmp_path)
    cat.write("NVDA", make_frame(), source="yahoo", requested_start=None)
    import json

    record = json.loads(pq.read_schema(tmp_path / "NVDA.parquet").metadata[b"shortthehype"])
    tampered = make_frame()
    tampered.iloc[1, tampered.columns.get_loc("close")] = -3.0
    table = pa.Table.from_pandas(tampered)

    def store(record: dict) -> None:
        metadata = {**table.schema.metadata, b"shortthehype": json.dumps(record).encode()}
        pq.write_table(table.replace_schema_metadata(metadata), tmp_path / "NVDA.parquet")

    store(record)  # the record's checksum is of the original data
    with pytest.raises(DataError, match=r"NVDA.parquet is damaged \(checksum mismatch"):
        cat.read("NVDA")
    store({k: v for k, v in record.items() if k != "checksum"})  # a file of an older version: no checksum
    with pytest.raises(DataError, match=r"catalog file .*NVDA.parquet: non-positive close -3 on 2024-01-03"):
        cat.read("NVDA")


# --------------------------------------------------------------------------- atomic writes


CRASH_PREAMBLE = """
import os, signal, sys
import numpy as np, pandas as pd
from shortthehype.data.catalog import Catalog
index = pd.DatetimeIndex(pd.bdate_range("2024-01-02", periods=50), name="date").as_unit("us")
close = 500.0 + np.arange(50.0)
new = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0}, index=index)
cat = Catalog(sys.argv[1])
"""


def test_process_killed_between_write_and_rename_leaves_the_old_file(tmp_path):
    cat = Catalog(tmp_path)
    old = make_frame()
    cat.write("NVDA", old, source="yahoo", requested_start=None)
    code = CRASH_PREAMBLE + """
os.replace = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)  # die at the rename
cat.write("NVDA", new, source="yahoo", requested_start=None)
"""
    result = run_python(code, str(tmp_path))
    assert result.returncode == -9, result.stderr
    stale = list(tmp_path.glob(".NVDA.parquet.*.tmp"))
    assert len(stale) == 1, "the complete new version was written to a temp file, never renamed"
    back, _ = cat.read("NVDA")
    pd.testing.assert_frame_equal(back, old)
    cat.write("NVDA", make_frame(6), source="yahoo", requested_start=None)
    assert not list(tmp_path.glob(".NVDA.parquet.*.tmp")), "the next writer removes stale temp files"


def test_process_killed_mid_write_leaves_the_old_file(tmp_path):
    cat = Catalog(tmp_path)
    old = make_frame()
    cat.write("NVDA", old, source="yahoo", requested_start=None)
    code = CRASH_PREAMBLE + """
import pyarrow.parquet as pq
def torn_write(table, where, **kwargs):
    where.write(b"PAR1" + bytes(64))  # half a file ...
    where.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # ... then the power goes
pq.write_table = torn_write
cat.write("NVDA", new, source="yahoo", requested_start=None)
"""
    result = run_python(code, str(tmp_path))
    assert result.returncode == -9, result.stderr
    back, _ = cat.read("NVDA")
    pd.testing.assert_frame_equal(back, old)


def test_killed_at_a_random_moment_while_rewriting_the_file_never_tears_it(tmp_path):
    cat = Catalog(tmp_path)
    small = make_frame()
    cat.write("NVDA", small, source="yahoo", requested_start=None)
    code = CRASH_PREAMBLE + """
flag = sys.argv[2]
versions = [new, cat.read("NVDA")[0]]  # alternate a 50-row and the 5-row version until killed
i = 0
while True:
    cat.write("NVDA", versions[i % 2], source="yahoo", requested_start=None)
    if i == 3:
        open(flag, "w").close()
    i += 1
"""
    for attempt in range(3):
        flag = tmp_path / f"started{attempt}"
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(tmp_path), str(flag)], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.005 * (attempt + 1))
        proc.kill()
        proc.wait()
        proc.stderr.close()
        back, meta = cat.read("NVDA")
        assert len(back) in (5, 50) and meta.rows == len(back)
        if len(back) == 5:
            pd.testing.assert_frame_equal(back, small)


def test_os_error_at_rename_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    cat = Catalog(tmp_path)
    old = make_frame()
    cat.write("NVDA", old, source="yahoo", requested_start=None)

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(catalog_module.os, "replace", full_disk)
    with pytest.raises(DataError, match=r"cannot write catalog file .*NVDA.parquet: No space left on device; the old version is unchanged"):
        cat.write("NVDA", make_frame(9), source="yahoo", requested_start=None)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(cat.read("NVDA")[0], old)
    assert not list(tmp_path.glob(".NVDA.parquet.*"))


# --------------------------------------------------------------------------- locking


APPENDER = """
import sys
import pandas as pd
from shortthehype.data.catalog import Catalog
cat = Catalog(sys.argv[1])
for _ in range(int(sys.argv[2])):
    with cat.lock("NVDA"):  # read-modify-write: without the lock, updates would be lost
        frame, meta = cat.read("NVDA")
        day = frame.index[-1] + pd.offsets.BDay(1)
        row = frame.iloc[[-1]].copy()
        row.index = pd.DatetimeIndex([day], name="date").as_unit("us")
        cat.write("NVDA", pd.concat([frame, row]), source="yahoo", requested_start=None)
"""


def test_two_processes_appending_under_the_lock_lose_no_update(tmp_path):
    cat = Catalog(tmp_path)
    cat.write("NVDA", make_frame(1), source="yahoo", requested_start=None)
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(APPENDER), str(tmp_path), "12"], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    frame, meta = cat.read("NVDA")
    assert len(frame) == 1 + 2 * 12 and meta.rows == 25
    assert frame.index.is_unique and frame.index.is_monotonic_increasing


def test_lock_held_elsewhere_times_out_with_a_clear_error(tmp_path, monkeypatch):
    holder = """
import sys, time
from shortthehype.data.catalog import Catalog
with Catalog(sys.argv[1]).lock("NVDA"):
    print("locked", flush=True)
    time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(holder), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        monkeypatch.setattr(catalog_module, "CATALOG_LOCK_TIMEOUT", 0.2)
        with pytest.raises(DataError, match=r"catalog entry NVDA is locked by another process for over 0.2s"):
            Catalog(tmp_path).write("NVDA", make_frame(), source="yahoo", requested_start=None)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert not (tmp_path / "NVDA.parquet").exists()


def test_lock_is_reentrant_within_a_process(tmp_path):
    cat = Catalog(tmp_path)
    with cat.lock("NVDA"), Catalog(tmp_path).lock("nvda"):
        cat.write("NVDA", make_frame(), source="yahoo", requested_start=None)
    assert cat.has("NVDA")


# --------------------------------------------------------------------------- import


def write_csvs(directory: Path) -> None:
    directory.mkdir()
    (directory / "AAA.csv").write_text(HEADER + "2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,11.5,10,11,200\n")
    (directory / "IXIC.csv").write_text(HEADER + "2024-01-03,5000,5100,4900,5050,0\n2024-01-04,5050,5060,4990,5000,0\n")


def test_import_then_cache_load_equals_csv_load(tmp_path):
    write_csvs(tmp_path / "csv")
    cat = Catalog(tmp_path / "catalog")
    infos = cat.import_csv_dir(tmp_path / "csv")
    assert sorted(info.ticker for info in infos) == ["AAA", "IXIC"]
    from_csv = load_prices(["AAA", "^IXIC"], data_dir=tmp_path / "csv")
    from_cache = load_prices(["AAA", "^IXIC"], source="cache", cache_dir=tmp_path / "catalog")
    for field in ("open", "high", "low", "close", "volume"):
        pd.testing.assert_frame_equal(from_csv.field(field), from_cache.field(field))
    assert from_cache.source == "cache"
    meta = cat.read_meta("AAA")
    assert meta.source == "csv" and meta.origin == str((tmp_path / "csv" / "AAA.csv").resolve())
    assert meta.requested_start == pd.Timestamp("2024-01-02")
    assert load_prices(None, source="cache", cache_dir=tmp_path / "catalog").tickers == ["AAA", "IXIC"]


def test_import_is_all_or_nothing(tmp_path):
    write_csvs(tmp_path / "csv")
    (tmp_path / "csv" / "BAD.csv").write_text(HEADER + "2024-01-02,10,11,9,-1,100\n")
    (tmp_path / "csv" / "WORSE.csv").write_text("")
    cat = Catalog(tmp_path / "catalog")
    with pytest.raises(DataError) as info:
        cat.import_csv_dir(tmp_path / "csv")
    message = str(info.value)
    assert "BAD.csv: non-positive close -1 on 2024-01-02" in message
    assert "(and 1 more invalid file(s)); nothing was imported" in message
    assert cat.stems() == []


def test_import_of_a_missing_directory(tmp_path):
    with pytest.raises(DataError, match=r"data directory .*nope does not exist \(from the import directory\)"):
        Catalog(tmp_path / "catalog").import_csv_dir(tmp_path / "nope")


def test_cache_source_with_empty_catalog(tmp_path):
    with pytest.raises(DataError, match=r"the price catalog .* is empty"):
        load_prices(None, source="cache", cache_dir=tmp_path)
