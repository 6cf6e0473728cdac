"""What a sweep found (:class:`SweepResult`), and its Parquet file read back (:func:`load_sweep`)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import KERNEL_STATS
from shortthehype.documents import json_safe, python_scalar
from shortthehype.errors import DataError, ParamError, did_you_mean
from shortthehype.overfitting import DeflatedSharpe, PBOResult
from shortthehype.params import json_value
from shortthehype.ranking import rank_rows

__all__ = [
    "PARQUET_METADATA_KEY", "SWEEP_METRICS", "SweepResult", "is_empty_cell", "load_sweep",
    "results_metadata",
]

#: Metric columns of a sweep table, in order: the kernels' statistics (names as in the backtest's statistics).
SWEEP_METRICS = KERNEL_STATS[:-1]
#: Key of the sweep's settings in the Parquet file's metadata.
PARQUET_METADATA_KEY = b"shortthehype.sweeps"


@dataclass
class SweepResult:
    """Everything a sweep found: one table row per combination run, the best, the overfitting statistics.

    ``table`` has the ``combination`` number (position in the grid, last key
    fastest), one column per swept setting, the :data:`SWEEP_METRICS` and
    ``bankrupt``, sorted by combination.  ``dsr``/``pbo`` are None when no
    combination has a defined objective.
    """

    spec_name: str
    kind: str
    table: pd.DataFrame
    objective: str
    grid: dict[str, list[Any]]
    n_grid: int  #: size of the full grid (product of the value counts)
    n_invalid: int  #: combinations the strategy declared invalid (skipped)
    n_run: int  #: distinct combinations backtested (the trials the DSR and PBO count)
    mode: str  #: "fused" or "generic"
    seconds: float
    dsr: DeflatedSharpe | None = None
    pbo: PBOResult | None = None
    pbo_note: str = ""
    random: int | None = None
    seed: int | None = None
    window: str = ""
    path: Path | None = None
    fingerprint: str = ""
    #: valid combinations identical to another once the parameters that do not apply are left out and entry
    #: dates are clamped to the window (not run again)
    n_duplicate: int = 0
    #: settings fixed for the whole sweep that have no effect, or were adjusted to the window (one line each)
    warnings: tuple[str, ...] = ()
    #: what a reader must know first (synthetic prices), see :mod:`shortthehype.caveats`
    caveats: tuple[str, ...] = ()

    @property
    def n_distinct(self) -> int:
        """Distinct effective combinations of the grid (``n_run`` unless ``random`` drew fewer)."""
        return self.n_grid - self.n_invalid - self.n_duplicate

    def __repr__(self) -> str:
        best = self.best
        found = "no defined objective" if best is None else f"best {self.objective} {best[self.objective]:.4g} at {self.best_params}"
        return f"SweepResult({self.spec_name!r}, {self.n_run:,} of {self.n_grid:,} combinations, {found})"

    def plot(self, x: str | None = None, y: str | None = None) -> Any:
        """A plotly heatmap of the best objective over two swept settings (a line over one); default: the first two."""
        from shortthehype.report.notebook import sweep_figure

        return sweep_figure(self.to_document(x=x, y=y))

    @property
    def parameter_columns(self) -> list[str]:
        return list(self.grid)

    @property
    def best(self) -> pd.Series | None:
        """The solvent row with the highest objective (NaN objectives and bankrupt runs never win), or None."""
        values = self.table[self.objective].where(~self._bankrupt())
        if values.notna().sum() == 0:
            return None
        return self.table.loc[values.idxmax()]

    def _bankrupt(self) -> pd.Series:
        if "bankrupt" not in self.table.columns:
            return pd.Series(False, index=self.table.index)
        return self.table["bankrupt"].astype(bool)

    @property
    def best_params(self) -> dict[str, Any]:
        """The best combination as a setting -> value mapping (for ``backtest(..., overrides=...)``).

        Parameters that do not apply to it (empty in the table) are left out.
        """
        best = self.best
        if best is None:
            return {}
        return {name: python_scalar(best[name]) for name in self.grid if not is_empty_cell(best[name])}

    def top(self, k: int = 10, by: str | None = None, ascending: bool = False) -> pd.DataFrame:
        """The ``k`` best rows by ``by`` (default: the objective); NaN last, bankrupt runs after every solvent one."""
        column = by or self.objective
        if column not in self.table.columns:
            raise ParamError(f"cannot sort by {column!r}{did_you_mean(column, self.table.columns)}")
        if isinstance(k, bool) or int(k) < 0:
            raise ParamError(f"--top must be an integer >= 0, got {k!r}")
        return rank_rows(self.table, column, ascending=ascending).head(int(k))

    def metadata(self) -> dict[str, Any]:
        """The JSON document stored in the Parquet file (everything but the table)."""
        from shortthehype import __version__

        from shortthehype.caveats import caveat_fields

        return json_safe(
            {
                **caveat_fields(self.caveats),
                "strategy": self.spec_name,
                "kind": self.kind,
                "objective": self.objective,
                "grid": {k: [json_value(v) for v in vs] for k, vs in self.grid.items()},
                "n_grid": self.n_grid,
                "n_invalid": self.n_invalid,
                "n_duplicate": self.n_duplicate,
                "n_run": self.n_run,
                "n_bankrupt": int(self._bankrupt().sum()),
                "mode": self.mode,
                "seconds": self.seconds,
                "random": self.random,
                "seed": self.seed,
                "window": self.window,
                "dsr": self.dsr.to_dict() if self.dsr else None,
                "pbo": self.pbo.to_dict() if self.pbo else None,
                "pbo_note": self.pbo_note,
                "warnings": list(self.warnings),
                "best": {k: json_value(v) for k, v in self.best_params.items()},
                "fingerprint": self.fingerprint,
                "version": __version__,
            }
        )


    def to_document(self, *, x: str | None = None, y: str | None = None) -> dict[str, Any]:
        """The sweep as a report document: :meth:`metadata`, ``type = "sweep"`` and the whole table.

        ``table`` is ``{"columns": [...], "data": {column: [values]}}`` (missing
        values are null, categories their values); ``heatmap`` names the two
        swept settings of the report's objective heatmap (None: the first two).
        Render it with :func:`shortthehype.report.render`.
        """
        data = {}
        for name in self.table.columns:
            column = self.table[name]
            values = column.astype(object).tolist() if isinstance(column.dtype, pd.CategoricalDtype) else column.tolist()
            data[str(name)] = [
                None if is_empty_cell(v) else json_value(v) if isinstance(v, (list, dict, tuple)) else v for v in values
            ]
        return json_safe(
            {
                "type": "sweep",
                **self.metadata(),
                "heatmap": {"x": x, "y": y},
                "table": {"columns": [str(c) for c in self.table.columns], "data": data},
            }
        )


def is_empty_cell(value: Any) -> bool:
    """An empty table cell (None, NaN, NaT, pd.NA): the parameter does not apply to that combination."""
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def load_sweep(path: str | os.PathLike[str]) -> SweepResult:
    """Read a sweep's Parquet file (written by :func:`sweep` with ``out=``) back into a :class:`SweepResult`.

    The overfitting statistics come from the file's metadata (``pbo.logits``
    is not stored: it is empty).
    """
    import pyarrow.parquet as pq

    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: sweep results file not found")
    try:
        parquet = pq.ParquetFile(file)
        raw = (parquet.schema_arrow.metadata or {}).get(PARQUET_METADATA_KEY)
        table = parquet.read().to_pandas()
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        message = " ".join(str(exc).split())
        raise DataError(f"{file}: not a readable Parquet file ({type(exc).__name__}: {message})") from None
    if raw is None:
        raise DataError(f"{file}: not a shortthehype sweep results file (no sweep metadata)")
    try:
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
        return _sweep_from_metadata(meta, table, file)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{file}: the sweep metadata is damaged ({type(exc).__name__}: {exc})") from None


def _sweep_from_metadata(meta: dict[str, Any], table: pd.DataFrame, file: Path) -> SweepResult:
    if meta.get("checksum") is not None:
        from shortthehype.files import frame_checksum

        if frame_checksum(table) != meta["checksum"]:
            raise DataError(f"{file}: the results are damaged (checksum mismatch: the rows changed after they were written)")
    dsr = DeflatedSharpe(**{k: (math.nan if v is None else v) for k, v in meta["dsr"].items()}) if meta.get("dsr") else None
    pbo = None
    if meta.get("pbo"):
        p = meta["pbo"]
        pbo = PBOResult(
            pbo=math.nan if p["pbo"] is None else p["pbo"], logits=np.empty(0), n_trials=p["n_trials"],
            n_blocks=p["n_blocks"], block_len=p["block_len"], n_splits=p["n_splits"], n_splits_total=p["n_splits_total"],
        )
    return SweepResult(
        spec_name=meta["strategy"], kind=meta["kind"], table=table, objective=meta["objective"], grid=meta["grid"],
        n_grid=meta["n_grid"], n_invalid=meta["n_invalid"], n_run=meta["n_run"], mode=meta["mode"],
        seconds=meta["seconds"] or 0.0, dsr=dsr, pbo=pbo, pbo_note=meta.get("pbo_note", ""),
        random=meta.get("random"), seed=meta.get("seed"), window=meta.get("window", ""), path=file,
        fingerprint=meta.get("fingerprint", ""), n_duplicate=meta.get("n_duplicate", 0),
        caveats=tuple(meta.get("caveats") or ()), warnings=tuple(meta.get("warnings") or ()),
    )


def results_metadata(result: SweepResult) -> dict[str, Any]:
    """The JSON record of a results file: :meth:`SweepResult.metadata` plus the checksum of its rows."""
    from shortthehype.files import frame_checksum

    return {**result.metadata(), "checksum": frame_checksum(result.table)}
