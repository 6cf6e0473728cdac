"""The on-disk parts of a sweep with ``out=``: one file per finished chunk, verified on resume; the fingerprint."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.errors import ParamError
from shortthehype.params import json_value
from shortthehype.spec import StrategySpec
from shortthehype.sweeps.chunks import Chunk
from shortthehype.sweeps.plan import Plan
from shortthehype.sweeps.result import PARQUET_METADATA_KEY, SweepResult, json_safe, results_metadata

__all__ = ["PartStore", "fingerprint"]


def fingerprint(plan: Plan, ids: np.ndarray) -> str:
    """A hash of everything that decides the sweep's rows: spec (and a strategy file's text), grid, prices, combinations.

    Never anything that depends on timing or the machine (the chunk size is a
    storage detail: a resume reuses the stored one).
    """
    spec = plan.spec
    document = {
        "kind": spec.kind.name,
        "values": {k: json_value(v) for k, v in spec.values().items()},
        "axes": [[a.name, [json_value(v) for v in a.values]] for a in plan.axes],
        "n_blocks": plan.n_blocks,
        "mode": plan.mode,
    }
    digest = hashlib.sha256(json.dumps(json_safe(document), sort_keys=True, default=str).encode())
    digest.update(np.ascontiguousarray(ids).tobytes())
    prices = plan.prices
    digest.update(json.dumps([str(c) for c in prices.close.columns]).encode())
    digest.update(np.asarray(prices.close.index.strftime("%Y-%m-%d").tolist(), dtype="U10").tobytes())
    for frame in (prices.open, prices.high, prices.low, prices.close):
        digest.update(np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).tobytes())
    strategy_file = _strategy_file(spec)
    if strategy_file is not None:
        digest.update(strategy_file.read_bytes())
    return digest.hexdigest()


def _strategy_file(spec: StrategySpec) -> Path | None:
    """The Python file of a ``python`` spec (its text decides the results too), else None."""
    if spec.kind.name != "python" or not spec.params.get("file"):
        return None
    from shortthehype.strategies.user_python import load_user_strategy

    return load_user_strategy(spec.params["file"], spec.path.parent if spec.path is not None else None).path


#: Key of a part's Parquet metadata: one checksum over the sweep's fingerprint, the chunk's ids, its rows and arrays.
_PART_KEY = b"shortthehype.part"


class PartStore:
    """``<out>.parts/``: one Parquet file (rows) and one .npz (block sums, windows) per finished chunk.

    ``manifest.json`` holds the fingerprint and the chunk size; each part's
    Parquet metadata holds one checksum over the sweep's fingerprint, the ids
    its chunk must hold, its rows, block sums and windows.  A resume keeps a
    part only when its ids and that checksum match, and recomputes any other
    (truncated, damaged, copied from another chunk or another sweep).  One
    process at a time works on a parts directory (``<out>.parts.lock``).
    """

    def __init__(self, out: Path, fingerprint: str) -> None:
        self.out = out
        self.dir = out.with_name(out.name + ".parts")
        self.manifest = self.dir / "manifest.json"
        self.fingerprint = fingerprint
        self.chunks: list[np.ndarray] = []
        self._lock: Any = None

    def stored_chunk_size(self) -> int | None:
        """The chunk size of the unfinished sweep in the parts directory (None if there is none or it is unreadable)."""
        try:
            stored = json.loads(self.manifest.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("fingerprint") != self.fingerprint:
            return None
        size = stored.get("chunk_size")
        return size if isinstance(size, int) and not isinstance(size, bool) and size >= 1 else None

    def open(self, resume: bool, chunks: list[np.ndarray]) -> dict[int, Chunk]:
        """Lock the parts directory, check or create it, and return the verified finished chunks."""
        import filelock

        from shortthehype.files import write_atomically

        self.chunks = chunks
        if self.dir.exists() and not resume:
            raise ParamError(
                f"{self.dir}: an unfinished sweep is there; pass --resume to complete it, or delete the directory"
            )
        lock = filelock.FileLock(self.out.with_name(self.out.name + ".parts.lock"))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise ParamError(f"{self.out}: another process is running this sweep; wait for it or stop it") from None
        except OSError as exc:
            raise ParamError(f"--out {self.out}: cannot create files there ({exc.strerror or exc})") from None
        self._lock = lock
        if self.dir.exists():
            try:
                stored = json.loads(self.manifest.read_text())
            except (OSError, ValueError):
                stored = None  # a full disk or a kill before the manifest: the parts carry their own fingerprint
            if isinstance(stored, dict) and stored.get("fingerprint") != self.fingerprint:
                raise ParamError(
                    f"{self.dir}: the unfinished sweep there differs from this one (spec, grid or prices); "
                    f"run the same command to resume, or delete the directory"
                )
        else:
            try:
                self.dir.mkdir()
            except OSError as exc:
                raise ParamError(f"--out {self.out}: cannot create {self.dir} ({exc.strerror or exc})") from None
        size = len(chunks[0]) if chunks else 0
        write_atomically(
            self.manifest, json.dumps({"fingerprint": self.fingerprint, "chunk_size": size, "n_chunks": len(chunks)}),
            option="--out",
        )
        return {i: chunk for i in range(len(chunks)) if (chunk := self._read(i)) is not None}

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _paths(self, index: int) -> tuple[Path, Path]:
        return self.dir / f"part-{index:06d}.parquet", self.dir / f"part-{index:06d}.npz"

    def _checksum(self, index: int, table: pd.DataFrame, blocks: np.ndarray, windows: np.ndarray) -> str:
        from shortthehype.files import frame_checksum

        return frame_checksum(
            table, self.fingerprint.encode(), np.ascontiguousarray(self.chunks[index]).tobytes(),
            np.ascontiguousarray(blocks, dtype=np.float64).tobytes(), "\x1f".join(str(w) for w in windows).encode(),
        )

    def _read(self, index: int) -> Chunk | None:
        """Part ``index`` if it is whole and is what that chunk must hold; a bad part is deleted (it is recomputed)."""
        import pyarrow.parquet as pq

        table_path, arrays_path = self._paths(index)
        if not table_path.is_file():
            return None
        try:
            parquet = pq.ParquetFile(table_path)
            recorded = (parquet.schema_arrow.metadata or {}).get(_PART_KEY, b"")
            table = parquet.read().to_pandas()
            with np.load(arrays_path, allow_pickle=False) as arrays:
                blocks, windows = arrays["blocks"], arrays["windows"].astype(object)
            ids = table["combination"].to_numpy()
            good = (
                recorded.decode() == self._checksum(index, table, blocks, windows)
                and np.array_equal(ids, self.chunks[index])
                and len(blocks) == len(windows) == len(ids)
            )
        except Exception:  # noqa: BLE001 - a truncated, empty or foreign file of any kind: recompute the chunk
            good = False
        if not good:
            table_path.unlink(missing_ok=True)
            arrays_path.unlink(missing_ok=True)
            return None
        return Chunk(ids=ids, table=table, blocks=blocks, windows=windows)

    def write(self, index: int, chunk: Chunk) -> None:
        """Write a finished chunk atomically: the arrays first, then the rows (whose file marks the chunk done)."""
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        from shortthehype.files import write_atomically

        table_path, arrays_path = self._paths(index)
        windows = np.asarray(chunk.windows, dtype=str)
        buffer = io.BytesIO()
        np.savez(buffer, blocks=chunk.blocks, windows=windows)
        write_atomically(arrays_path, buffer.getvalue(), option="--out")
        table = pa.Table.from_pandas(chunk.table, preserve_index=False)
        checksum = self._checksum(index, table.to_pandas(), chunk.blocks, windows.astype(object))
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _PART_KEY: checksum.encode()})
        write_atomically(table_path, lambda handle: pq.write_table(table, handle), option="--out")

    def finish(self, result: SweepResult) -> None:
        """Merge the parts into ``out`` (one row group per chunk; metadata and checksum), atomically; remove the parts."""
        import pyarrow.parquet as pq

        from shortthehype.files import write_atomically

        schema = pq.read_schema(self._paths(0)[0])
        metadata = {k: v for k, v in (schema.metadata or {}).items() if k != _PART_KEY}
        metadata[PARQUET_METADATA_KEY] = json.dumps(results_metadata(result)).encode()
        schema = schema.with_metadata(metadata)

        def merge(handle: Any) -> None:
            with pq.ParquetWriter(handle, schema) as writer:
                for index in range(len(self.chunks)):
                    writer.write_table(pq.read_table(self._paths(index)[0]).cast(schema))

        write_atomically(self.out, merge, option="--out")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.close()
        self.out.with_name(self.out.name + ".parts.lock").unlink(missing_ok=True)
