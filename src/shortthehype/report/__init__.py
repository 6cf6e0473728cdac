"""Reports of backtest results: self-contained HTML, static PNG figures and Markdown summaries.

Every report is rendered from a *result document*, the JSON that
``shortthehype backtest --json`` writes (:meth:`shortthehype.BacktestRun.to_dict`),
or from a comparison document (``{"runs": [...]}``, as ``compare --json``
writes, or a JSON list of results).  So ``shortthehype report RESULT.json``
and ``backtest --report`` produce the same file, and every number in a report
is in the JSON or derived from it by :mod:`shortthehype.report.model`.

Modules: ``model`` (validation and derived series), ``figures`` (plotly
figure specs), ``html`` (the page), ``static`` (PNG via matplotlib),
``markdown``; ``sweep_view`` (sweeps, walk-forward) and ``bubble_view``
(the LPPLS indicator of ``shortthehype bubble``) hold a result type's view,
figures and sections.  A new result type adds such a module and an entry in
the registry of document types (:data:`shortthehype.documents.DOCUMENT_TYPES`).
A strategy kind adds its own sections through its report hooks
(:class:`shortthehype.strategies.base.KindReport`).  Plotting libraries are
imported only when a report is made.

Every file is written atomically (:func:`write_atomically`): into a
temporary file next to the target, then renamed over it, so a reader never
sees a half-written report and a failed write leaves the old file intact.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from shortthehype.errors import ParamError, did_you_mean

__all__ = [
    "FORMATS",
    "SUFFIX_FORMATS",
    "check_report_path",
    "format_from_suffix",
    "render",
    "report_document",
    "resolve_format",
    "tearsheet",
    "write_atomically",
    "write_png",
    "write_pngs",
    "write_report",
]

#: Output formats of :func:`render` / :func:`write_report`.
FORMATS = ("html", "md")
#: File suffixes (lower case) and the format each one selects; ``png`` is the one-file figure of :func:`write_png`.
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".png": "png"}


def report_document(
    run: Any,
    *,
    prices_from: Any = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> dict[str, Any]:
    """The result document of a :class:`~shortthehype.BacktestRun` (or a bare ``Result``), as its JSON file will read back.

    :meth:`~shortthehype.BacktestRun.document`: ``run.to_dict()`` plus the
    sections of the strategy kind that need prices from before the window,
    loaded from ``prices_from`` (a :class:`~shortthehype.data.source.PriceSource`,
    or the loose keywords: the options the run was loaded with).
    """
    import json

    from shortthehype.data.source import PriceSource

    if not hasattr(run, "spec"):  # an engine Result from simulate(): no spec, no benchmark
        from shortthehype.runner import result_document

        return json.loads(json.dumps(result_document(run)))
    origin = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
    return run.document(origin)


def tearsheet(returns: Any, benchmark: Any = None, **options: Any) -> str:
    """The report of any returns series (HTML text); see :func:`shortthehype.report.notebook.tearsheet`."""
    from shortthehype.report.notebook import tearsheet as make_tearsheet

    return make_tearsheet(returns, benchmark, **options)


def resolve_format(fmt: str | None, path: str | os.PathLike[str] | None = None) -> str:
    """``fmt`` checked against :data:`FORMATS`; ``None`` means ``md`` for a ``.md``/``.markdown`` path, else ``html``.

    A ``.png`` path with no ``fmt`` is refused (ParamError): these reports
    are documents, their PNG figures are written by ``--png DIR``.
    """
    if fmt is None:
        suffix = Path(path).suffix.lower() if path is not None and str(path) != "-" else ""
        if SUFFIX_FORMATS.get(suffix) == "png":
            raise ParamError(f"--report {path}: a report is HTML or Markdown (.html, .md); write PNG figures with --png DIR")
        return "md" if SUFFIX_FORMATS.get(suffix) == "md" else "html"
    if fmt not in FORMATS:
        raise ParamError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}{did_you_mean(fmt, FORMATS)}")
    return fmt


def format_from_suffix(
    path: str | os.PathLike[str], *, option: str = "--report", formats: tuple[str, ...] = ("html", "md", "png")
) -> str:
    """The format ``path``'s suffix selects (:data:`SUFFIX_FORMATS`), strictly: any other suffix is an error.

    Raises
    ------
    ParamError
        The suffix selects none of ``formats`` (the message names ``option``
        and the suffixes that work).
    """
    suffix = Path(path).suffix.lower()
    fmt = SUFFIX_FORMATS.get(suffix)
    if fmt not in formats:
        known = ", ".join(s for s, f in SUFFIX_FORMATS.items() if f in formats)
        got = f"suffix {suffix!r}" if suffix else "no suffix"
        raise ParamError(f"{option} {path}: {got}; the format comes from the suffix: {known}")
    return fmt


def check_report_path(path: str | os.PathLike[str], *, option: str = "report path") -> Path:
    """``path`` as a Path, checked writable in principle: its directory exists and it is not itself a directory.

    Call it before a long computation so that a typo fails at once.
    """
    from shortthehype.files import check_writable

    return check_writable(path, option=option)


def write_atomically(path: str | os.PathLike[str], content: str | bytes | Callable[[BinaryIO], None], *, option: str = "report path") -> Path:
    """Write ``content`` to ``path`` atomically (:func:`shortthehype.files.write_atomically`); ParamError naming ``option``."""
    from shortthehype.files import write_atomically as write

    return write(path, content, option=option)


def render(document: Any, format: str = "html", *, where: str = "document") -> str:
    """Render a result or comparison document as an HTML page or a Markdown summary.

    Parameters
    ----------
    document : dict or list
        A backtest result document (``backtest --json``), a comparison
        (``{"runs": [...]}``), a list of result documents, a sweep /
        walk-forward document (``type`` = ``"sweep"`` / ``"walkforward"``,
        see :mod:`shortthehype.report.sweep_view`), a distribution study
        (``type`` = ``"distribution"``, see
        :mod:`shortthehype.report.distribution_view`), or a bubble indicator
        document (``bubble --json``, ``type`` = ``"bubble"``, see
        :mod:`shortthehype.report.bubble_view`).
    format : {"html", "md"}
        ``html``: one self-contained page (plotly.js embedded, works offline);
        ``md``: a Markdown summary (tables, no figures).
    where : str
        Name of the document's file, for error messages.

    Returns
    -------
    str
        The report; the same document always gives the same text.

    Raises
    ------
    DataError
        The document is not a backtest or comparison result, or is malformed
        (the message names ``where`` and the key).
    ParamError
        Unknown ``format``.
    """
    from shortthehype.documents import document_type

    fmt = resolve_format(format, None)
    return document_type(document, where).render(document, fmt, where)


def write_report(
    document: Any, path: str | os.PathLike[str], *, format: str | None = None, where: str = "document"
) -> Path:
    """Render ``document`` (see :func:`render`) and write it to ``path`` (UTF-8).

    ``format=None`` picks Markdown for a ``.md`` / ``.markdown`` path and HTML
    otherwise.  The parent directory must exist.  The file is replaced
    atomically (:func:`write_atomically`).  Returns the path written.
    """
    fmt = resolve_format(format, path)
    out = check_report_path(path)
    text = render(document, fmt, where=where)
    return write_atomically(out, text)


def write_png(document: Any, path: str | os.PathLike[str], *, where: str = "document", option: str = "report path") -> Path:
    """Write the one-file PNG report of a document that has one: the bubble indicator (both figures, one image).

    Other documents have several figures: :func:`write_pngs` writes them
    into a directory.  The file is replaced atomically.

    Raises
    ------
    ParamError
        ``document`` has no one-file PNG report, or the path cannot be written.
    DataError
        ``document`` is malformed.
    """
    from shortthehype.documents import document_type

    doc_type = document_type(document, where)
    write = doc_type.renderer("png")
    if write is None:
        raise ParamError(f"{option} {path}: only the bubble indicator has a one-file PNG report; write figures with --png DIR")
    out = check_report_path(path, option=option)
    return write(doc_type.make_view(document, where), out, option=option)


def write_pngs(document: Any, directory: str | os.PathLike[str], *, where: str = "document") -> list[Path]:
    """Write the main figures of a result or comparison document as PNG files into ``directory``.

    Returns the paths written (see :func:`shortthehype.report.static.write_backtest_pngs`).
    ``directory`` is created if needed; an existing file in its place is an error.
    """
    from shortthehype.documents import document_type
    from shortthehype.files import make_directory

    out = make_directory(directory, option="--png")
    doc_type = document_type(document, where)
    if doc_type.no_pngs is not None:
        raise ParamError(f"--png {out}: {doc_type.no_pngs}")
    if doc_type.png is not None:  # a one-image report: written into the directory under the type's name
        return [doc_type.renderer("png")(doc_type.make_view(document, where), out / f"{doc_type.name}.png", option="--png")]
    return doc_type.renderer("pngs")(doc_type.make_view(document, where), out)
