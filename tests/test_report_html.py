"""The HTML, Markdown and PNG reports: numbers equal the JSON's, strings are escaped, output is self-contained."""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import plotly.graph_objects as go
import pytest
from test_report_support import EVIL, as_json, synthetic_run

from shortthehype.report.formatting import stat as format_stat
from shortthehype.errors import DataError, ParamError
from shortthehype.report import render, resolve_format, write_pngs, write_report
from shortthehype.report.figures import resolve
from shortthehype.report.markdown import md
from shortthehype.report.static import label


class Page(HTMLParser):
    """Collects what the tests look at: metric cells, header values, script elements, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metrics: dict[str, list[tuple[str, str]]] = {}  # key -> [(data-value, text)] per column
        self.headings: list[str] = []
        self.kv: dict[str, tuple[str | None, str]] = {}
        self.scripts: list[tuple[dict, str]] = []
        self.tags: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self._text: list[str] = []
        self._row_label: str | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._stack.append((tag, dict(attrs)))
        self._text = []

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, attrs = self._stack.pop()
            if open_tag == tag:
                break
        text = "".join(self._text)
        if tag == "script":
            self.scripts.append((attrs, text))
        elif tag == "td" and "data-key" in attrs:
            self.metrics.setdefault(attrs["data-key"], []).append((attrs["data-value"], text))
        elif tag == "th" and attrs.get("scope") == "col":
            self.headings.append(text)
        elif tag == "th" and attrs.get("scope") == "row":
            self._row_label = text
        elif tag == "td" and self._row_label is not None:
            self.kv[self._row_label] = (attrs.get("data-value"), text)
            self._row_label = None
        self._text = []

    def handle_data(self, data):
        self._text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def document():
    return as_json(synthetic_run(n_bars=700).to_dict())


@pytest.fixture(scope="module")
def page_html(document):
    return render(document)


def test_metrics_table_equals_the_json(document, page_html):
    page = parse(page_html)
    metrics, bench = document["metrics"], document["benchmark_metrics"]
    shown = 0
    for key, value in metrics.items():
        if key.startswith("benchmark_"):
            continue  # shown in the benchmark column, from benchmark_metrics
        cells = page.metrics.get(key)
        if value is None and (bench.get(key) is None):
            assert cells is None, key  # rows without any value are left out
            continue
        (own_value, own_text), (bench_value, bench_text) = cells
        if value is None:
            assert own_value == "" and own_text == "—"
        else:
            assert float(own_value) == value, key  # exact: the attribute is the shortest round-trip repr
            assert own_text == format_stat(key, value), key  # rounded as in the terminal table
        other = bench.get(key)
        assert (bench_value == "" and bench_text == "—") if other is None or key in ("beta", "alpha", "correlation", "information_ratio") \
            else float(bench_value) == other, key
        shown += 1
    assert shown >= 20


def test_header_numbers_equal_the_json(document, page_html):
    page = parse(page_html)
    final_value, final_text = page.kv["Final equity"]
    assert float(final_value) == document["final_equity"]
    assert final_text == f"{document['final_equity']:,.2f}"
    fees_value, _ = page.kv["Fees paid"]
    assert float(fees_value) == document["costs"]["fees"]
    assert page.kv["Period"][1].startswith(f"{document['start']} → {document['end']}")
    assert page.kv["Engine version"][1] == f"shortthehype {document['version']}"
    assert page.kv["borrow_fee"][1] == "0.03"


def figure_payload(page_html: str) -> dict:
    page = parse(page_html)
    (payload,) = [text for attrs, text in page.scripts if attrs.get("id") == "sth-figures"]
    return json.loads(payload)


def decode(array) -> np.ndarray:
    assert array["dtype"] == "f8"
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype="<f8")


def test_figures_carry_the_json_series_exactly(document, page_html):
    payload = figure_payload(page_html)
    figures = {f["id"]: f for f in payload["figures"]}
    assert set(figures) == {"fig-equity", "fig-drawdown", "fig-monthly", "fig-rolling", "fig-exposure", "fig-costs"}
    assert payload["refs"]["dates"] == document["equity"]["dates"]
    equity, benchmark = figures["fig-equity"]["data"]
    assert equity["x"] == {"$ref": "dates"}
    np.testing.assert_array_equal(decode(equity["y"]), np.array(document["equity"]["values"]))
    np.testing.assert_array_equal(decode(benchmark["y"]), np.array(document["benchmark_equity"], dtype=float))
    costs = {t["name"]: decode(t["y"]) for t in figures["fig-costs"]["data"]}
    for key in ("fees", "slippage", "borrow", "interest"):
        np.testing.assert_array_equal(costs[key], np.array(document["cumulative_costs"][key]))
    exposure = {t["name"]: decode(t["y"]) for t in figures["fig-exposure"]["data"]}
    np.testing.assert_array_equal(exposure["short"], np.array(document["exposure"]["short"], dtype=float))


def test_every_figure_is_a_valid_plotly_figure(page_html):
    payload = figure_payload(page_html)
    for spec in payload["figures"]:
        figure = resolve(spec, payload["refs"])
        go.Figure(data=figure["data"], layout=figure["layout"])  # plotly's schema validation raises on a bad property


def test_page_is_self_contained_and_deterministic(document, page_html):
    assert render(document) == page_html  # no timestamps: same document, same bytes
    outside_payload = re.sub(r'(<script type="application/octet-stream" id="sth-plotly">)[^<]*', r"\1", page_html)
    assert "http://" not in outside_payload and "https://" not in outside_payload
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", outside_payload)
    page = parse(page_html)
    (packed,) = [text for attrs, text in page.scripts if attrs.get("id") == "sth-plotly"]
    plotly_js = gzip.decompress(base64.b64decode(packed)).decode("utf-8")
    from plotly.offline import get_plotlyjs

    assert plotly_js == get_plotlyjs()  # the embedded library is plotly's own bundle, whole


def test_user_strings_are_escaped_everywhere(tmp_path):
    ticker = EVIL.upper()  # tickers are upper-cased by the spec
    run = synthetic_run(weights={ticker: 0.5, "BBB": -0.5}, name=EVIL, benchmark=None, n_bars=300)
    document = as_json(run.to_dict())
    document["description"] = EVIL
    document["warnings"] = [EVIL]
    document["source"] = EVIL
    document["events"] = [{"date": document["start"], "kind": "margin_call", "ticker": EVIL, "detail": EVIL}]
    text = render(document)
    assert EVIL not in text and ticker not in text
    assert text.lower().count("<script") == 3  # figure data, plotly payload, page script: nothing injected
    page = parse(text)
    assert page.kv["Tickers"][1] == f"{ticker}, BBB"  # shown as text
    assert page.kv["Data source"][1] == EVIL
    assert EVIL in page.headings  # the metrics column heading
    payload = figure_payload(text)
    names = [t["name"] for f in payload["figures"] for t in f["data"] if "name" in t]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in names  # plotly reads entities as text
    markdown = render(document, "md")
    assert EVIL not in markdown and ticker not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "<" not in markdown.replace("&lt;", "")  # no raw HTML at all in the summary


def test_markdown_summary_has_the_json_numbers(document):
    text = render(document, "md")
    metrics = document["metrics"]
    assert f"| Sharpe ratio | {format_stat('sharpe', metrics['sharpe'])} | {format_stat('sharpe', document['benchmark_metrics']['sharpe'])} |" in text
    assert f"| Final equity | {document['final_equity']:,.2f} |" in text
    years = re.findall(r"^\| (\d{4}) \| (-?[\d.,]+)% \|", text, flags=re.M)
    growth = np.prod([1 + float(r.replace(",", "")) / 100 for _, r in years])
    assert growth - 1 == pytest.approx(metrics["total_return"], abs=len(years) * 1e-4)  # 2-decimal rounding per year
    assert "| init_cash | 1000000.0 |" in text


def test_markdown_escaping():
    assert md("a|b") == "a\\|b" and md("_x_") == "\\_x\\_" and md("init_cash") == "init_cash"
    assert md("<b>") == "&lt;b&gt;" and md("a & b") == "a & b" and md("&amp;") == "&amp;amp;"
    assert md("line\nbreak") == "line break"


def test_comparison_report_has_one_column_per_run(document):
    other = as_json(synthetic_run(n_bars=700, name="second", weights={"AAA": 1.0}).to_dict())
    text = render({"runs": [document, other]})
    assert render([document, other]) == text
    page = parse(text)
    assert page.metrics["sharpe"][0][0] == repr(document["metrics"]["sharpe"])
    assert page.metrics["sharpe"][1][0] == repr(other["metrics"]["sharpe"])
    assert float(page.metrics["sharpe"][2][0]) == document["benchmark_metrics"]["sharpe"]  # BENCH (buy & hold)
    assert [h for h in page.headings if h in ("test-book", "second", "BENCH (buy & hold)")] == ["test-book", "second", "BENCH (buy & hold)"]
    ids = [f["id"] for f in figure_payload(text)["figures"]]
    assert ids == ["fig-growth", "fig-drawdown", "fig-rolling", "fig-yearly"]
    markdown = render({"runs": [document, other]}, "md")
    assert "| Metric | test-book | second | BENCH (buy & hold) |" in markdown


def test_old_documents_render_with_a_note(document):
    old = {k: v for k, v in document.items() if k not in ("exposure", "cumulative_costs", "trades", "orders")}
    text = render(old)
    assert "written before exposure, cost and trade series were recorded" in text
    assert {f["id"] for f in figure_payload(text)["figures"]} == {"fig-equity", "fig-drawdown", "fig-monthly", "fig-rolling"}


class Rows(HTMLParser):
    """The body rows of one table: a list of cells, each the data-value attribute if any, else the text."""

    def __init__(self, table_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.inside = attrs.get("id") == self.table_id
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = [attrs.get("data-value"), ""]

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(self.cell[0] if self.cell[0] is not None else self.cell[1])
            self.cell = None


def table_rows(text: str, table_id: str) -> list[list[str]]:
    parser = Rows(table_id)
    parser.feed(text)
    return [row for row in parser.rows if row]


def test_trades_table_equals_the_json(document, page_html):
    rows = table_rows(page_html, "trades")
    assert len(rows) == len(document["trades"]) > 0
    for row, trade in zip(rows, document["trades"]):
        assert row[:4] == [trade["ticker"], trade["direction"], trade["entry_date"], trade["exit_date"]]
        assert [float(v) for v in row[4:11]] == [trade[k] for k in ("size", "entry_price", "exit_price", "pnl", "return", "fees", "borrow")]
        assert row[11] == trade["status"]


def test_trade_rows_are_capped_at_the_largest_pnl(document, monkeypatch):
    import shortthehype.report.html as html_module

    many = as_json(document)
    many["trades"] = [dict(document["trades"][0], pnl=float(p)) for p in (5.0, -50.0, 1.0, 20.0)]
    monkeypatch.setattr(html_module, "REPORT_MAX_TABLE_ROWS", 2)
    text = render(many)
    assert [float(row[7]) for row in table_rows(text, "trades")] == [-50.0, 20.0]  # kept in their order
    assert "showing the 2 of 4 with the largest |pnl|; the JSON has all" in text


def test_write_report_picks_the_format_from_the_suffix(document, tmp_path):
    assert write_report(document, tmp_path / "r.md").read_text().startswith("# test-book: backtest report")
    assert write_report(document, tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert resolve_format(None, "x.MARKDOWN") == "md" and resolve_format("html", "x.md") == "html"
    with pytest.raises(ParamError, match=r"--report x\.PNG: .*--png DIR"):
        resolve_format(None, "x.PNG")  # an HTML document in a .png file would be silently wrong
    with pytest.raises(ParamError, match=r"unknown report format 'htm'.*did you mean 'html'"):
        resolve_format("htm")
    with pytest.raises(ParamError, match=r"report path .*nowhere/r\.html: the directory .*nowhere does not exist"):
        write_report(document, tmp_path / "nowhere" / "r.html")
    with pytest.raises(DataError, match=r"r\.json: no report for result documents of type 'mystery'"):
        render({"type": "mystery"}, where="r.json")
    with pytest.raises(DataError, match=r"r\.json: not a walk-forward result: the key 'objective' is missing"):
        render({"type": "walkforward"}, where="r.json")


def test_pngs_are_written(document, tmp_path):
    paths = write_pngs(document, tmp_path / "figs")
    assert [p.name for p in paths] == ["equity.png", "drawdown.png", "monthly_returns.png", "rolling.png", "exposure.png", "costs.png"]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width == 1320 and height >= 264  # 11 in x 120 dpi
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParamError, match=r"--png .*file: a file of that name exists"):
        write_pngs(document, tmp_path / "file")
    other = as_json(synthetic_run(n_bars=300, name="second").to_dict())
    assert [p.name for p in write_pngs([document, other], tmp_path / "cmp")] == ["growth.png", "drawdown.png", "rolling_sharpe.png"]


def test_matplotlib_labels_are_literal():
    assert label("$NVDA$") == r"\$NVDA\$"  # no mathtext
    assert label("_hidden") == "\u200b_hidden"  # a leading underscore would drop the legend entry
    assert label("a\\b") == "a\\\\b"


def test_a_one_bar_document_renders(document):
    tiny = as_json(document)
    for key in ("values",):
        tiny["equity"][key] = tiny["equity"][key][:1]
    tiny["equity"]["dates"] = tiny["equity"]["dates"][:1]
    tiny["benchmark_equity"] = tiny["benchmark_equity"][:1]
    for section in ("exposure", "cumulative_costs"):
        tiny[section] = {k: v[:1] for k, v in tiny[section].items()}
    text = render(tiny)
    assert "Drawing the figures" in text and not math.isnan(float(parse(text).kv["Final equity"][0]))


def test_events_table_equals_the_json():
    run = synthetic_run(weights={"AAA": 1.6, "BBB": -0.9}, engine={"maintenance_margin": 0.6}, n_bars=300)
    document = as_json(run.to_dict())
    assert document["events"], "the margin rule must fire in this fixture"
    rows = table_rows(render(document), "events")
    assert rows == [[e["date"], e["kind"], e["ticker"] or "", e["detail"]] for e in document["events"]]
