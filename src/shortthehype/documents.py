"""Result documents: the JSON every result is saved as and every report is rendered from.

One sanitizer (:func:`json_safe`) turns a document into plain JSON values:
NaN and infinities become null, numpy scalars Python numbers, mappings and
sequences are walked.  :data:`DOCUMENT_TYPES` is the registry of document
types: for each, how to recognise it, where its report view and renderers
live (imported only when a report is made) and what PNG figures it has.  The
report package dispatches on :func:`document_type` through this registry, so
a new result type adds one entry here and its view module.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.errors import DataError

__all__ = [
    "DOCUMENT_TYPES",
    "DocumentType",
    "document_kind",
    "document_type",
    "float_list",
    "json_safe",
    "python_scalar",
]


def json_safe(value: Any) -> Any:
    """``value`` for JSON: NaN and inf as None, numpy scalars as Python numbers, timestamps as ``YYYY-MM-DD``,
    mappings and sequences walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return json_safe(value.item())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return value


def float_list(values: Any) -> list[float | None]:
    """A float array as a JSON list (non-finite values become null)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def python_scalar(value: Any) -> Any:
    """A numpy number or bool as the Python one (NaN stays NaN); anything else unchanged (dates too)."""
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        return value.item()
    return value


def _resolve(reference: str) -> Callable[..., Any]:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class DocumentType:
    """A type of result document and its report: ``"module:function"`` references, imported on use.

    ``view`` checks a document and returns its view (``view(document, where)``);
    ``html`` / ``markdown`` render a view as text; ``pngs`` writes a view's
    figures into a directory (``pngs(view, directory)``), ``png`` one image
    (``png(view, path, option=...)``); ``no_pngs`` is the reason a type has
    no PNG figures (None when it has them).
    """

    name: str
    view: str
    html: str
    markdown: str
    pngs: str | None = None
    png: str | None = None
    no_pngs: str | None = None

    def make_view(self, document: Any, where: str) -> Any:
        return _resolve(self.view)(document, where)

    def render(self, document: Any, fmt: str, where: str) -> str:
        """The ``html`` or ``md`` report of ``document``."""
        return _resolve(self.markdown if fmt == "md" else self.html)(self.make_view(document, where))

    def renderer(self, attribute: str) -> Callable[..., Any] | None:
        reference = getattr(self, attribute)
        return None if reference is None else _resolve(reference)


_REPORT = "shortthehype.report"

#: Document type name -> its report (the ``type`` key of the JSON; a comparison may be a bare list).
DOCUMENT_TYPES: dict[str, DocumentType] = {
    doc.name: doc
    for doc in (
        DocumentType(
            "backtest",
            f"{_REPORT}.model:backtest_view",
            f"{_REPORT}.html:render_backtest_html",
            f"{_REPORT}.markdown:render_backtest_markdown",
            pngs=f"{_REPORT}.static:write_backtest_pngs",
        ),
        DocumentType(
            "compare",
            f"{_REPORT}.model:compare_view",
            f"{_REPORT}.html:render_compare_html",
            f"{_REPORT}.markdown:render_compare_markdown",
            pngs=f"{_REPORT}.static:write_compare_pngs",
        ),
        DocumentType(
            "sweep",
            f"{_REPORT}.sweep_view:sweep_view",
            f"{_REPORT}.sweep_view:render_sweep_html",
            f"{_REPORT}.sweep_view:render_sweep_markdown",
            pngs=f"{_REPORT}.static:write_sweep_pngs",
        ),
        DocumentType(
            "walkforward",
            f"{_REPORT}.sweep_view:walkforward_view",
            f"{_REPORT}.sweep_view:render_walkforward_html",
            f"{_REPORT}.sweep_view:render_walkforward_markdown",
            pngs=f"{_REPORT}.static:write_walkforward_pngs",
        ),
        DocumentType(
            "distribution",
            f"{_REPORT}.distribution_view:check_distribution",
            f"{_REPORT}.distribution_view:render_distribution_html",
            f"{_REPORT}.distribution_view:render_distribution_markdown",
            no_pngs="a distribution study has no PNG figures; write its HTML report with --report",
        ),
        DocumentType(
            "bubble",
            f"{_REPORT}.bubble_view:bubble_view",
            f"{_REPORT}.bubble_view:render_bubble_html",
            f"{_REPORT}.bubble_view:render_bubble_markdown",
            png=f"{_REPORT}.static:write_bubble_png",
        ),
    )
}


def document_type(document: Any, where: str = "document") -> DocumentType:
    """The registered type of ``document``.

    A document names its type in ``type`` (an older bubble document says
    ``kind = "lppls-confidence"`` instead); a backtest document written
    before that key existed is recognised by ``equity`` and ``metrics``, a
    comparison by ``runs`` or by being a JSON list of backtest documents.

    Raises
    ------
    DataError
        ``document`` is not a JSON object or list, names an unknown type, or
        is a backtest document without its required keys (one line naming
        ``where`` and what is wrong).
    """
    if isinstance(document, Mapping):
        name = document.get("type")
        if name is None and document.get("kind") == "lppls-confidence":
            name = "bubble"
        if name in DOCUMENT_TYPES and name not in ("backtest", "compare"):
            return DOCUMENT_TYPES[name]
    return DOCUMENT_TYPES[document_kind(document, where)]


def document_kind(document: Any, where: str = "document") -> str:
    """``"backtest"`` or ``"compare"``; raises :class:`DataError` for anything else.

    A backtest document has ``equity`` and ``metrics`` (and ``type`` =
    ``"backtest"`` from version 0.1 on); a comparison is ``{"runs": [...]}``
    or a JSON list of backtest documents.  Other ``type`` values (sweeps,
    walk-forward) are named in the error.
    """
    if isinstance(document, list):
        return "compare"
    if not isinstance(document, Mapping):
        raise DataError(f"{where}: expected a JSON object (a backtest result) or a list of them, got {type(document).__name__}")
    kind = document.get("type")
    if kind == "compare" or (kind is None and "runs" in document):
        return "compare"
    if kind in (None, "backtest") and "equity" in document and "metrics" in document:
        return "backtest"
    if kind not in (None, "backtest"):
        raise DataError(f"{where}: no report for result documents of type {str(kind)!r} (expected a backtest or a comparison)")
    missing = [key for key in ("equity", "metrics") if key not in document]
    raise DataError(f"{where}: not a backtest result: the key(s) {', '.join(missing)} are missing")
