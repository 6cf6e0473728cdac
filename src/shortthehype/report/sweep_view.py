"""Reports of parameter sweeps and walk-forward analyses: view, figures, HTML and Markdown.

A *sweep document* is :meth:`shortthehype.sweeps.SweepResult.to_document`
(``type = "sweep"``): the sweep's metadata (:meth:`SweepResult.metadata`:
objective, grid, counts, ``dsr``, ``pbo``) plus its whole table, column by
column (``table.columns`` and ``table.data``; missing values are ``null``),
and optionally ``heatmap = {"x": name, "y": name}``, the two swept settings
the objective heatmap is drawn over.  A *walk-forward document* is
:meth:`shortthehype.walk_forward.WalkForwardResult.to_document`
(``type = "walkforward"``): its windows, the stitched out-of-sample equity and
its statistics.

What the report derives (everything else is printed as the document has it):

* **objective heatmap**: for each (x, y) pair of values, the *best* objective
  over the combinations with those two values (the maximum over every other
  swept setting; NaN objectives ignored); with one swept setting it is a line
  of the objective against it;
* **Sharpe distribution**: a histogram of the trials' finite ``sharpe``;
* **top-K table**: the ``REPORT_SWEEP_TOP`` rows with the highest objective
  (NaN last, ties in combination order), as :meth:`SweepResult.top` sorts.

Every user string (strategy, parameter names and values) is HTML-escaped, in
tables and in figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.constants import REPORT_SWEEP_TOP
from shortthehype.documents import float_list, python_scalar
from shortthehype.errors import DataError, ParamError, did_you_mean
from shortthehype.report import formatting as fmt
from shortthehype.report.figures import FIGURE_HEIGHT, PALETTE, Figure, base_layout, date_strings, esc, f8

__all__ = [
    "SweepView",
    "WalkForwardView",
    "objective_grid",
    "render_sweep_html",
    "render_sweep_markdown",
    "render_walkforward_html",
    "render_walkforward_markdown",
    "sweep_view",
    "walkforward_view",
]

#: Metric columns of the top-K table (every one is in the sweep table).
TOP_METRICS = ("total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "end_value")
#: Colour scale of the objective heatmap (low to high).
OBJECTIVE_COLORSCALE = "Viridis"
#: Bins of the Sharpe ratio histogram at most.
SHARPE_BINS = 40
#: Heatmap label of the combinations where the setting on that axis does not apply.
NOT_APPLICABLE = "n/a"


# ---- views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepView:
    """A sweep document with its table as a DataFrame and the chosen heatmap axes."""

    document: Mapping[str, Any]
    where: str
    table: pd.DataFrame
    params: tuple[str, ...]
    objective: str
    x: str | None
    y: str | None

    @property
    def name(self) -> str:
        return str(self.document.get("strategy", "strategy"))

    def top(self, k: int = REPORT_SWEEP_TOP) -> pd.DataFrame:
        """The ``k`` rows with the highest objective (NaN last, bankrupt runs after them; ties keep combination order)."""
        from shortthehype.ranking import rank_rows

        return rank_rows(self.table, self.objective).head(k)


def _choose_axis(name: str | None, params: Sequence[str], where: str, option: str) -> None:
    if name is not None and name not in params:
        raise ParamError(
            f"{where}: {option} {name!r} is not a swept setting (swept: {', '.join(params) or 'none'})"
            f"{did_you_mean(name, params)}"
        )


def sweep_view(document: Mapping[str, Any], where: str = "document", *, x: str | None = None, y: str | None = None) -> SweepView:
    """Validate a sweep document and pick the heatmap axes.

    ``x``/``y`` (else the document's ``heatmap``, else the first two swept
    settings) must be swept settings and differ.

    Raises
    ------
    DataError
        A key is missing or the table's columns are not aligned.
    ParamError
        ``x`` or ``y`` is not a swept setting, or both name the same one.
    """
    for key in ("objective", "grid", "table"):
        if key not in document:
            raise DataError(f"{where}: not a sweep result: the key {key!r} is missing")
    raw = document["table"]
    if not isinstance(raw, Mapping) or not isinstance(raw.get("columns"), list) or not isinstance(raw.get("data"), Mapping):
        raise DataError(f"{where}: table must be an object with 'columns' and 'data'")
    columns = [str(c) for c in raw["columns"]]
    data = raw["data"]
    lengths = {len(data.get(c) or []) for c in columns}
    if len(lengths) > 1 or any(c not in data for c in columns):
        raise DataError(f"{where}: table.data must hold one list per column, all of the same length")
    table = pd.DataFrame({c: list(data[c]) for c in columns}, columns=columns)
    objective = str(document["objective"])
    if objective not in table:
        raise DataError(f"{where}: the table has no column for the objective {objective!r}")
    for column in ("sharpe", objective):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(np.float64)
    params = tuple(str(p) for p in document["grid"])
    missing = [p for p in params if p not in table]
    if missing:
        raise DataError(f"{where}: the table has no column for the swept setting(s) {', '.join(missing)}")
    chosen = document.get("heatmap") or {}
    x = x if x is not None else chosen.get("x")
    y = y if y is not None else chosen.get("y")
    _choose_axis(x, params, where, "--x")
    _choose_axis(y, params, where, "--y")
    if x is not None and x == y:
        raise ParamError(f"{where}: --x and --y both name {x!r}; choose two different swept settings")
    rest = [p for p in params if p not in (x, y)]
    if x is None and rest:
        x = rest.pop(0)
    if y is None and rest:
        y = rest.pop(0)
    return SweepView(document=document, where=where, table=table, params=params, objective=objective, x=x, y=y)


def _axis_values(column: pd.Series) -> list[Any]:
    """The distinct values of a parameter column, numbers ascending, other values in order of appearance; None last."""
    values = list(dict.fromkeys(None if fmt.is_missing(v) else v for v in column.tolist()))
    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        present = sorted(present)
    return present + [None] * (len(present) < len(values))


def objective_grid(view: SweepView) -> tuple[list[Any], list[Any], np.ndarray]:
    """``(x values, y values, z)``: z[i, j] = best objective with y = y values[i] and x = x values[j] (NaN if none).

    With no ``y`` the grid has one row.
    """
    table = view.table
    xs = _axis_values(table[view.x]) if view.x else []
    ys = _axis_values(table[view.y]) if view.y else [None]
    z = np.full((len(ys), len(xs)), np.nan)
    x_pos = {repr(v): j for j, v in enumerate(xs)}
    y_pos = {repr(v): i for i, v in enumerate(ys)}
    objective = table[view.objective].to_numpy(dtype=np.float64)
    x_col = [None if fmt.is_missing(v) else v for v in table[view.x].tolist()] if view.x else []
    y_col = [None if fmt.is_missing(v) else v for v in table[view.y].tolist()] if view.y else [None] * len(table)
    for value, xv, yv in zip(objective, x_col, y_col):
        if not math.isfinite(value):
            continue
        i, j = y_pos[repr(yv)], x_pos[repr(xv)]
        if not value <= z[i, j]:  # NaN (empty) or a better value
            z[i, j] = value
    return xs, ys, z


@dataclass(frozen=True)
class WalkForwardView:
    """A walk-forward document with its windows as a DataFrame and its stitched equity."""

    document: Mapping[str, Any]
    where: str
    windows: pd.DataFrame
    params: tuple[str, ...]
    objective: str
    equity: pd.Series

    @property
    def name(self) -> str:
        return str(self.document.get("strategy", "strategy"))


def walkforward_view(document: Mapping[str, Any], where: str = "document") -> WalkForwardView:
    """Validate a walk-forward document.

    Raises
    ------
    DataError
        A key is missing, a window lacks a field, or the equity lists differ in length.
    """
    for key in ("objective", "windows", "equity"):
        if key not in document:
            raise DataError(f"{where}: not a walk-forward result: the key {key!r} is missing")
    windows = document["windows"]
    if not isinstance(windows, list) or not windows:
        raise DataError(f"{where}: windows must be a non-empty list")
    fields = ("train_start", "train_end", "test_start", "test_end", "params", "in_sample", "out_of_sample")
    rows = []
    for number, window in enumerate(windows, start=1):
        if not isinstance(window, Mapping) or any(f not in window for f in fields):
            raise DataError(f"{where}: window {number} must be an object with {', '.join(fields)}")
        rows.append({**window, "in_sample": fmt_float(window["in_sample"]), "out_of_sample": fmt_float(window["out_of_sample"])})
    frame = pd.DataFrame(rows)
    curve = document["equity"]
    if not isinstance(curve, Mapping) or len(curve.get("dates") or []) != len(curve.get("values") or []):
        raise DataError(f"{where}: equity must have 'dates' and 'values' lists of the same length")
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(curve["dates"], format="%Y-%m-%d"))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{where}: equity.dates must be YYYY-MM-DD strings ({exc})") from None
    equity = pd.Series([fmt_float(v) for v in curve["values"]], index=dates, dtype=np.float64)
    params = tuple(str(p) for p in (document.get("grid") or {}))
    return WalkForwardView(document=document, where=where, windows=frame, params=params,
                           objective=str(document["objective"]), equity=equity)


def fmt_float(value: Any) -> float:
    """A JSON number or null as a float (null -> NaN)."""
    return math.nan if value is None else float(value)


# ---- figures -------------------------------------------------------------------------------------


def _labels(values: Sequence[Any]) -> list[str]:
    return [NOT_APPLICABLE if v is None else esc(fmt.param_text(v)) for v in values]


def _nullable(z: np.ndarray) -> list[list[float | None]]:
    return [float_list(row) for row in z]


def heatmap_figure(view: SweepView) -> Figure | None:
    """The best objective over the two chosen settings (a line over one setting; None without any)."""
    if view.x is None:
        return None
    xs, ys, z = objective_grid(view)
    objective = esc(view.objective)
    if view.y is None:
        data = [{"type": "scatter", "mode": "lines+markers", "x": _labels(xs), "y": _nullable(z)[0],
                 "name": objective, "line": {"color": PALETTE[0]},
                 "hovertemplate": f"{esc(view.x)}=%{{x}}<br>{objective}=%{{y:.4f}}<extra></extra>"}]
        layout = base_layout(objective, hovermode="closest", xaxis={"type": "category", "title": {"text": esc(view.x)}})
        return Figure("heatmap", f"Best {view.objective} by {view.x}", data, layout,
                      caption=f"The highest {view.objective} over every other swept setting, for each value of {view.x}.")
    data = [{
        "type": "heatmap",
        "x": _labels(xs),
        "y": _labels(ys),
        "z": _nullable(z),
        "colorscale": OBJECTIVE_COLORSCALE,
        "colorbar": {"title": {"text": objective}},
        "hoverongaps": False,
        "hovertemplate": f"{esc(view.x)}=%{{x}}<br>{esc(view.y)}=%{{y}}<br>best {objective}=%{{z:.4f}}<extra></extra>",
    }]
    layout = base_layout(esc(view.y), hovermode="closest", height=max(FIGURE_HEIGHT, 22 * len(ys) + 120),
                     xaxis={"type": "category", "title": {"text": esc(view.x)}})
    layout["yaxis"]["type"] = "category"
    others = [p for p in view.params if p not in (view.x, view.y)]
    over = f" (the highest over {', '.join(others)})" if others else ""
    return Figure("heatmap", f"{view.objective} by {view.x} and {view.y}", data, layout,
                  caption=f"Each cell: the {view.objective} of the combination with those values{over}; blank: none ran "
                  f"or its objective is undefined; {NOT_APPLICABLE}: the setting does not apply. Choose the axes with --x and --y.")


def sharpe_figure(view: SweepView) -> Figure | None:
    values = view.table["sharpe"].to_numpy(dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    data = [{"type": "histogram", "x": [float(v) for v in values], "nbinsx": SHARPE_BINS, "name": "trials",
             "marker": {"color": PALETTE[0]}, "hovertemplate": "Sharpe %{x}<br>%{y} trial(s)<extra></extra>"}]
    layout = base_layout("trials", hovermode="closest", xaxis={"title": {"text": "annualised Sharpe ratio"}})
    best = view.top(1)
    if len(best) and math.isfinite(float(best["sharpe"].iloc[0])):
        b = float(best["sharpe"].iloc[0])
        layout["shapes"] = [{"type": "line", "x0": b, "x1": b, "yref": "paper", "y0": 0, "y1": 1,
                             "line": {"color": PALETTE[1], "dash": "dash"}}]
    return Figure("sharpe", "Distribution of the trials' Sharpe ratios", data, layout,
                  caption=f"{values.size:,} trial(s) with a finite Sharpe ratio; dashed: the best by {view.objective}.")


def walkforward_figures(view: WalkForwardView) -> list[Figure]:
    labels = [f"{i + 1}: {pd.Timestamp(d):%Y-%m-%d}" for i, d in enumerate(view.windows["test_start"])]
    objective = esc(view.objective)
    bars = [
        {"type": "bar", "name": "in sample", "x": labels, "y": f8(view.windows["in_sample"]), "marker": {"color": PALETTE[0]}},
        {"type": "bar", "name": "out of sample", "x": labels, "y": f8(view.windows["out_of_sample"]),
         "marker": {"color": PALETTE[1]}},
    ]
    layout = base_layout(objective, barmode="group",
                         xaxis={"type": "category", "tickangle": -45, "title": {"text": "window: test start", "standoff": 12}})
    figures = [Figure("insample", f"In-sample vs out-of-sample {view.objective} per window", bars, layout,
                      caption="In sample: the best combination on the training window; out of sample: the same "
                      "combination on the following test window.")]
    if len(view.equity):
        line = [{"type": "scatter", "mode": "lines", "name": "out of sample (stitched)", "x": date_strings(view.equity.index),
                 "y": f8(view.equity.to_numpy()), "line": {"color": PALETTE[0]}}]
        figures.append(Figure("equity", "Stitched out-of-sample equity", line, base_layout("equity"),
                              caption="Each test window traded with the parameters chosen on its training window."))
    return figures


# ---- HTML ----------------------------------------------------------------------------------------


def _param_cells(row: Mapping[str, Any], params: Sequence[str]) -> str:
    from shortthehype.report.html import e

    return "".join(f'<td data-param="{e(p)}">{e(_param_text(row[p]))}</td>' for p in params)


def _param_text(value: Any) -> str:
    """A parameter cell's text: empty where the parameter does not apply."""
    value = python_scalar(value)
    return "" if fmt.is_missing(value) else fmt.param_text(value)


#: What a DSR ingredient is, beside its key: the DSR works on per-bar Sharpe ratios, the rest of the report on annualised ones.
DSR_LABELS = {
    "sharpe": "sharpe (per bar, not annualised)",
    "expected_max": "expected_max (per bar)",
    "sharpe_variance": "sharpe_variance (per bar)",
}


def _kv(rows: Sequence[tuple[str, str, Any]], key_prefix: str, labels: Mapping[str, str] | None = None) -> str:
    from shortthehype.report.html import e

    body = []
    for key, text, value in rows:
        attr = f' class="num" data-value="{e(fmt.number_attr(value))}" data-key="{e(key_prefix + key)}"' if value is not None else ""
        body.append(f'<tr><th scope="row">{e((labels or {}).get(key, key))}</th><td{attr}>{e(text)}</td></tr>')
    return f'<table class="kv"><tbody>{"".join(body)}</tbody></table>'


def _stat_text(key: str, value: Any) -> str:
    """A DSR / PBO ingredient for display: counts with separators, ratios with 3 decimals, tiny values with 4 digits."""
    if value is None:
        return fmt.MISSING
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{float(value):.4g}" if 0 < abs(float(value)) < 0.01 else fmt.stat(key, value)


def _overfitting_section(document: Mapping[str, Any]) -> str:
    from shortthehype.report.html import e

    dsr = document.get("dsr") or {}
    pbo = document.get("pbo") or {}
    dsr_rows = [(k, _stat_text(k, v), v) for k, v in dsr.items()]
    pbo_rows = [(k, _stat_text(k, v), v) for k, v in pbo.items()]
    explain = (
        "Deflated Sharpe Ratio (Bailey & López de Prado): the probability that the best combination's true Sharpe "
        "ratio beats the expected maximum of as many skill-less trials (per-bar Sharpe ratios). PBO: the share of "
        "CSCV splits where the in-sample best is at or below the median out of sample."
    )
    note = f'<p class="caption">{e(document.get("pbo_note"))}</p>' if document.get("pbo_note") else ""
    return (
        '<section id="sec-overfitting"><h2>Overfitting: Deflated Sharpe Ratio and PBO</h2><div class="grid">'
        f'<div><h3>Deflated Sharpe Ratio</h3>{_kv(dsr_rows, "dsr.", DSR_LABELS) if dsr_rows else "<p>undefined</p>"}</div>'
        f'<div><h3>Probability of backtest overfitting</h3>{_kv(pbo_rows, "pbo.") if pbo_rows else "<p>not computed</p>"}</div>'
        f'</div><p class="caption">{e(explain)}</p>{note}</section>'
    )


def _top_section(view: SweepView) -> str:
    from shortthehype.report.html import e, num_cell

    top = view.top()
    metrics = [m for m in TOP_METRICS if m in view.table]
    if view.objective not in metrics:
        metrics.insert(0, view.objective)
    head = "<th scope=\"col\" class=\"num\" data-type=\"number\">#</th>"
    head += "".join(f'<th scope="col">{e(p)}</th>' for p in view.params)
    head += "".join(f'<th scope="col" class="num" data-type="number">{e(fmt.stat_label(m))}</th>' for m in metrics)
    rows = []
    for _, row in top.iterrows():
        combination = python_scalar(row["combination"]) if "combination" in row else None
        cells = num_cell(str(combination), combination, "combination") + _param_cells(row, view.params)
        cells += "".join(num_cell(fmt.stat(m, row[m]), python_scalar(row[m]), m) for m in metrics)
        rows.append(f"<tr>{cells}</tr>")
    title = f"Top {len(top)} of {len(view.table):,} by {view.objective}"
    return (
        f'<section id="sec-top"><h2>{e(title)}</h2><div class="scroll"><table class="sortable records" id="top">'
        f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _sweep_header(view: SweepView) -> str:
    from shortthehype.report.html import e, kv_table

    doc = view.document
    counts = [
        ("Strategy kind", str(doc.get("kind", "")), None),
        ("Objective", view.objective, None),
        ("Combinations requested", f"{doc.get('n_grid', 0):,}", doc.get("n_grid")),
        ("Invalid skipped", f"{doc.get('n_invalid', 0):,}", doc.get("n_invalid")),
        ("Identical to another (not run)", f"{doc.get('n_duplicate', 0):,}", doc.get("n_duplicate", 0)),
        ("Distinct trials run", f"{doc.get('n_run', len(view.table)):,}", doc.get("n_run")),
        *([("Bankrupt (ranked last, ratios undefined)", f"{doc['n_bankrupt']:,}", doc["n_bankrupt"])]
          if "n_bankrupt" in doc else []),
        ("Backtest window", fmt.window_text(str(doc.get("window", ""))), None),
        ("Path", str(doc.get("mode", "")), None),
        ("Engine version", f"shortthehype {doc.get('version', '?')}", None),
    ]
    grid = doc.get("grid") or {}
    best = doc.get("best") or {}
    return (
        f'<header class="report" id="sec-header"><h1>{e(view.name)}: sweep of {len(view.table):,} combinations</h1>'
        f'<div class="grid"><div><h3>Sweep</h3>{kv_table(counts)}</div>'
        f'<div><h3>Grid</h3>{kv_table((str(k), fmt.param_text(v), None) for k, v in grid.items())}</div>'
        f'<div><h3>Best by {e(view.objective)}</h3>{kv_table((str(k), fmt.param_text(v), None) for k, v in best.items())}</div>'
        "</div></header>"
    )


def render_sweep_html(view: SweepView) -> str:
    """The HTML report of a sweep: header, objective heatmap, Sharpe distribution, DSR/PBO, top-K table."""
    from shortthehype.report.html import caveats_banner, figure_section, page, warnings_block

    figures = [f for f in (heatmap_figure(view), sharpe_figure(view)) if f is not None]
    body = [caveats_banner(view.document), _sweep_header(view), warnings_block(view.document.get("warnings") or [], "Warnings")]
    body += [figure_section(f) for f in figures]
    body += [_overfitting_section(view.document), _top_section(view)]
    return page(f"{view.name}: sweep", body, figures, {}, str(view.document.get("version", "")))


def _windows_section(view: WalkForwardView) -> str:
    from shortthehype.report.html import e, num_cell

    head = "".join(f'<th scope="col">{e(h)}</th>' for h in ("#", "Train", "Test", *view.params))
    head += "".join(f'<th scope="col" class="num" data-type="number">{e(h)}</th>'
                    for h in (f"in-sample {view.objective}", f"out-of-sample {view.objective}", "trials", "DSR", "PBO"))
    rows = []
    for number, w in enumerate(view.windows.to_dict(orient="records"), start=1):
        params = w["params"] or {}
        cells = f"<td>{number}</td><td>{e(w['train_start'])} → {e(w['train_end'])}</td><td>{e(w['test_start'])} → {e(w['test_end'])}</td>"
        cells += "".join(f'<td data-param="{e(p)}">{e(fmt.param_text(params.get(p)))}</td>' for p in view.params)
        cells += num_cell(fmt.stat(view.objective, w["in_sample"]), w["in_sample"], f"w{number}.in_sample")
        cells += num_cell(fmt.stat(view.objective, w["out_of_sample"]), w["out_of_sample"], f"w{number}.out_of_sample")
        trials = w.get("n_trials")
        cells += num_cell("" if trials is None else f"{trials:,}", trials, f"w{number}.n_trials")
        cells += num_cell(fmt.stat("dsr", w.get("dsr")), w.get("dsr"), f"w{number}.dsr")
        cells += num_cell(fmt.stat("pbo", w.get("pbo")), w.get("pbo"), f"w{number}.pbo")
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<section id="sec-windows"><h2>Windows</h2><div class="scroll"><table class="sortable records" id="windows">'
        f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def render_walkforward_html(view: WalkForwardView) -> str:
    """The HTML report of a walk-forward: settings, in- vs out-of-sample per window, stitched equity and statistics."""
    from shortthehype.report.html import caveats_banner, e, figure_section, kv_table, metrics_table, page, warnings_block
    from shortthehype.report.model import report_metric_keys

    doc = view.document
    kind = "anchored" if doc.get("anchored") else "rolling"
    settings = [
        ("Objective", view.objective, None),
        ("Windows", f"{kind}: {doc.get('train', '')} training / {doc.get('test', '')} test", None),
        (f"Mean in-sample {view.objective}", fmt.stat(view.objective, doc.get("in_sample_mean")), doc.get("in_sample_mean")),
        (f"Mean out-of-sample {view.objective}", fmt.stat(view.objective, doc.get("out_of_sample_mean")),
         doc.get("out_of_sample_mean")),
        ("Engine version", f"shortthehype {doc.get('version', '?')}", None),
    ]
    grid = doc.get("grid") or {}
    header = (
        f'<header class="report" id="sec-header"><h1>{e(view.name)}: walk-forward, {len(view.windows)} windows</h1>'
        f'<div class="grid"><div><h3>Walk-forward</h3>{kv_table(settings)}</div>'
        f'<div><h3>Grid</h3>{kv_table((str(k), fmt.param_text(v), None) for k, v in grid.items())}</div></div></header>'
    )
    stats = doc.get("stats") or {}
    keys = [k for k in report_metric_keys() if k in stats]
    metrics = (f'<section id="sec-metrics"><h2>Stitched out-of-sample statistics</h2>'
               f'{metrics_table([("out of sample", stats)], keys)}</section>')
    figures = walkforward_figures(view)
    body = [caveats_banner(doc), header, warnings_block(doc.get("notes") or [], "Notes"), metrics]
    body += [figure_section(f) for f in figures] + [_windows_section(view)]
    return page(f"{view.name}: walk-forward", body, figures, {}, str(doc.get("version", "")))


# ---- Markdown ------------------------------------------------------------------------------------


def render_sweep_markdown(view: SweepView) -> str:
    from shortthehype.report.markdown import caveat_lines, md, table

    doc = view.document
    lines = [f"# {md(view.name)}: sweep of {len(view.table):,} combinations", "", *caveat_lines(doc),
             f"Objective: {md(view.objective)}; {md(fmt.trial_counts(doc))}.", ""]
    lines += [f"- warning: {md(line)}" for line in doc.get("warnings") or []] + ([""] if doc.get("warnings") else [])
    dsr, pbo = doc.get("dsr") or {}, doc.get("pbo") or {}
    lines += ["## Overfitting", "", f"- Deflated Sharpe Ratio of the best: {fmt.stat('dsr', dsr.get('dsr'))}",
              f"- PBO: {fmt.stat('pbo', pbo.get('pbo'))}"]
    if doc.get("pbo_note"):
        lines.append(f"- note: {md(doc['pbo_note'])}")
    metrics = [m for m in TOP_METRICS if m in view.table]
    top = view.top()
    rows = [[md(_param_text(r[p])) for p in view.params] + [fmt.stat(m, r[m]) for m in metrics]
            for _, r in top.iterrows()]
    lines += ["", f"## Top {len(top)} by {md(view.objective)}", "",
              table([md(p) for p in view.params] + [fmt.stat_label(m) for m in metrics], rows,
                    [False] * len(view.params) + [True] * len(metrics)), ""]
    return "\n".join(lines)


def render_walkforward_markdown(view: WalkForwardView) -> str:
    from shortthehype.report.markdown import caveat_lines, md, table

    headers = ["Train", "Test", *(md(p) for p in view.params), f"in-sample {md(view.objective)}",
               f"out-of-sample {md(view.objective)}", "DSR", "PBO"]
    rows = []
    for w in view.windows.to_dict(orient="records"):
        params = w["params"] or {}
        rows.append([f"{w['train_start']} → {w['train_end']}", f"{w['test_start']} → {w['test_end']}",
                     *(md(fmt.param_text(params.get(p))) for p in view.params), fmt.stat(view.objective, w["in_sample"]),
                     fmt.stat(view.objective, w["out_of_sample"]), fmt.stat("dsr", w.get("dsr")), fmt.stat("pbo", w.get("pbo"))])
    stats = view.document.get("stats") or {}
    stat_rows = [[md(fmt.stat_label(k)), fmt.stat(k, v)] for k, v in stats.items()]
    return "\n".join([
        f"# {md(view.name)}: walk-forward, {len(view.windows)} windows", "", *caveat_lines(view.document),
        *[f"- note: {md(note)}" for note in view.document.get("notes") or []], *([""] if view.document.get("notes") else []),
        table(headers, rows, [False, False] + [False] * len(view.params) + [True] * 4), "",
        "## Stitched out-of-sample statistics", "", table(["Metric", "Value"], stat_rows, [False, True]), "",
    ])
