"""Static parts of the HTML page: style sheet, page script, and the embedded plotly.js.

plotly.js (from the ``plotly`` Python package, no network) is 4.8 MB
minified, which alone would nearly fill a report's 5 MB budget; it is
embedded gzip-compressed and base64-encoded (about 2 MB) and inflated in the
browser with the standard ``DecompressionStream`` (Chrome/Edge 80+, Firefox
113+, Safari 16.4+), then run as an inline script.  Nothing is fetched.
"""

from __future__ import annotations

import base64
import functools
import gzip

__all__ = ["PAGE_CSS", "PAGE_JS", "plotly_payload", "plotly_version"]


@functools.lru_cache(maxsize=1)
def plotly_payload() -> str:
    """plotly.min.js, gzip-compressed (deterministic: no timestamp) and base64-encoded."""
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


@functools.lru_cache(maxsize=1)
def plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


PAGE_CSS = """
:root { --ink: #1d1d1f; --muted: #666; --line: #e2e2e2; --accent: #1f4e79; --bad: #b03a2e; --good: #1e7b45; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 20px 48px; }
header.report { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { font-size: 18px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
p.description { margin: 0 0 12px; color: var(--muted); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin-top: 16px; }
.caption { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 8px 24px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
         vertical-align: middle; margin-left: 8px; }
.badge.ok { background: #e5f4ea; color: var(--good); }
.badge.bankrupt { background: #fbe3e0; color: var(--bad); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
table.kv th { font-weight: 500; color: var(--muted); width: 40%; }
table.metrics th[scope=row] { font-weight: 500; }
.neg { color: var(--bad); }
.scroll { max-height: 520px; overflow: auto; border: 1px solid var(--line); border-radius: 4px; }
.scroll thead th { position: sticky; top: 0; background: #fff; z-index: 1; box-shadow: 0 1px 0 var(--line); }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable::after { content: " \\2195"; color: #bbb; font-size: 11px; }
th.sortable[aria-sort=ascending]::after { content: " \\2191"; color: var(--accent); }
th.sortable[aria-sort=descending]::after { content: " \\2193"; color: var(--accent); }
.figure { min-height: 120px; }
.caveats { background: #fdecea; border: 2px solid #c62828; border-radius: 6px; padding: 8px 12px; margin: 0 0 12px; font-weight: 600; color: #8e1c1c; }
.caveats ul { margin: 0; padding-left: 18px; }
.warn { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: 8px 12px; margin: 8px 0 0; }
.warn ul { margin: 0; padding-left: 18px; }
#sth-status { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; text-align: center; }
code { font-size: 12px; background: #f0f1f3; padding: 0 4px; border-radius: 3px; }
@media print { body { background: #fff; } section, header.report { border: none; } .scroll { max-height: none; } }
"""

PAGE_JS = r"""
(function () {
  "use strict";
  function bytesOf(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function resolve(node, refs) {
    if (Array.isArray(node)) return node.map(function (v) { return resolve(v, refs); });
    if (node && typeof node === "object") {
      var keys = Object.keys(node);
      if (keys.length === 1 && keys[0] === "$ref") return refs[node["$ref"]];
      var out = {};
      keys.forEach(function (k) { out[k] = resolve(node[k], refs); });
      return out;
    }
    return node;
  }
  async function loadPlotly() {
    if (window.Plotly) return;
    if (typeof DecompressionStream === "undefined") throw new Error("this browser has no DecompressionStream");
    var packed = document.getElementById("sth-plotly").textContent.trim();
    var stream = new Blob([bytesOf(packed)]).stream().pipeThrough(new DecompressionStream("gzip"));
    var code = await new Response(stream).text();
    var script = document.createElement("script");
    script.textContent = code;
    document.head.appendChild(script);
  }
  async function drawFigures() {
    var status = document.getElementById("sth-status");
    var payload = JSON.parse(document.getElementById("sth-figures").textContent);
    if (!payload.figures.length) { if (status) status.remove(); return; }
    try {
      await loadPlotly();
      var done = 0;
      for (var i = 0; i < payload.figures.length; i++) {
        var fig = payload.figures[i];
        var data = resolve(fig.data, payload.refs);
        await Plotly.newPlot(document.getElementById(fig.id), data, fig.layout,
                             {displaylogo: false, responsive: true});
        done += 1;
      }
      document.body.setAttribute("data-figures-rendered", String(done));
      if (status) status.remove();
    } catch (err) {
      if (status) status.textContent = "The figures could not be drawn (" + err + "); a 2023 or later browser is needed.";
      console.error(err);
    } finally {
      document.body.setAttribute("data-render-ms", String(Math.round(performance.now())));
    }
  }
  function cellKey(row, column, numeric) {
    var cell = row.cells[column];
    if (!cell) return numeric ? -Infinity : "";
    var raw = cell.getAttribute("data-value");
    if (numeric) {
      var v = raw === null || raw === "" ? NaN : Number(raw);
      return isNaN(v) ? -Infinity : v;
    }
    return (raw === null ? cell.textContent : raw).toLowerCase();
  }
  function makeSortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      th.classList.add("sortable");
      th.setAttribute("tabindex", "0");
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellKey(a, column, numeric), y = cellKey(b, column, numeric);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  }
  document.querySelectorAll("table.sortable").forEach(makeSortable);
  drawFigures();
})();
"""
