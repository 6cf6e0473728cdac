"""Sweep and walk-forward reports: numbers equal the document's, the heatmap is the best objective per cell,
user strings are escaped, --x/--y errors name the setting, the CLI writes them, and Chromium draws them."""

from __future__ import annotations

import base64
import html
import json
import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from test_report_browser import FIGURES_WITH_DATA, browser, open_report  # noqa: F401  (browser is a fixture)
from test_report_support import EVIL

import shortthehype.cli.sweep_cmd  # noqa: F401  (registers the commands on the app)
from shortthehype.cli import main
from shortthehype.constants import REPORT_SWEEP_TOP
from shortthehype.errors import DataError, ParamError
from shortthehype.report import render
from shortthehype.sweeps import sweep
from shortthehype.walk_forward import walkforward

GRID = {"fast": "5:30:5", "slow": "20:100:20", "direction": "long,longshort"}
WINDOW = {"start": "2010-01-04", "end": "2015-12-31"}


class Cells(HTMLParser):
    """Every ``td`` with a data-key (key, data-value, text) per table id, the figure payload, and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: dict[str, list[tuple[str, str, str]]] = {}
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.payload: dict | None = None
        self._table: list[str] = []
        self._td: dict | None = None
        self._text: list[str] = []
        self._script: str | None = None
        self._row: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table.append(attrs.get("id") or "")
        elif tag == "tr":
            self._row = {}
        elif tag == "td":
            self._td, self._text = attrs, []
        elif tag == "script":
            self._script, self._text = attrs.get("id"), []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table.pop()
        elif tag == "td" and self._td is not None:
            text = "".join(self._text)
            table = self._table[-1] if self._table else ""
            if "data-key" in self._td:
                self.cells.setdefault(table, []).append((self._td["data-key"], self._td["data-value"], text))
                if self._row is not None:
                    self._row[self._td["data-key"]] = self._td["data-value"]
            if "data-param" in self._td and self._row is not None:
                self._row["param:" + self._td["data-param"]] = text
            self._td = None
        elif tag == "tr" and self._row is not None:
            if self._row and self._table:
                self.rows.setdefault(self._table[-1], []).append(self._row)
            self._row = None
        elif tag == "script":
            if self._script == "sth-figures":
                self.payload = json.loads("".join(self._text))
            self._script = None

    def handle_data(self, data):
        self._text.append(data)


def parse(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    return parser


def decode(array) -> np.ndarray:
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype="<f8")
    return np.array([np.nan if v is None else v for v in array], dtype=np.float64)


def figure(cells: Cells, key: str) -> dict:
    return next(f for f in cells.payload["figures"] if f["id"] == f"fig-{key}")


@pytest.fixture(scope="module")
def prices(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ"], data_dir=shared_prices_dir)


@pytest.fixture(scope="module")
def sweep_document(prices):
    result = sweep("ma-crossover", GRID, overrides=WINDOW, prices=prices, n_blocks=4)
    return json.loads(json.dumps(result.to_document(x="slow", y="fast"), allow_nan=False))


@pytest.fixture(scope="module")
def walk_document(prices):
    result = walkforward("ma-crossover", {"fast": "5,10", "slow": "50,100"}, train="2y", test="1y", prices=prices,
                         overrides={"start": "2010-01-04", "end": "2016-12-30"}, n_blocks=4)
    return json.loads(json.dumps(result.to_document(), allow_nan=False))


def frame(document) -> pd.DataFrame:
    return pd.DataFrame(document["table"]["data"], columns=document["table"]["columns"])


# ---- sweep ----------------------------------------------------------------------------------------


def test_sweep_document_carries_the_whole_table(sweep_document):
    table = frame(sweep_document)
    assert sweep_document["type"] == "sweep" and len(table) == sweep_document["n_run"]
    # fast < slow is valid: 6 x 5 x 2 = 60 grid points, fast 20/25/30 >= slow 20 (3 x 2) invalid
    assert sweep_document["n_grid"] == 60 and sweep_document["n_invalid"] == 6 and len(table) == 54
    assert set(table["direction"]) == {"long", "longshort"}


def test_top_table_numbers_equal_the_document(sweep_document):
    table = frame(sweep_document).set_index("combination")
    cells = parse(render(sweep_document))
    rows = cells.rows["top"]
    assert len(rows) == REPORT_SWEEP_TOP
    objectives = [float(r["sharpe"]) for r in rows]
    assert objectives == sorted(objectives, reverse=True)
    assert objectives[0] == max(v for v in table["sharpe"] if v is not None)
    for row in rows:
        expected = table.loc[int(row["combination"])]
        assert row["param:fast"] == str(expected["fast"]) and row["param:direction"] == expected["direction"]
        for key in ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar", "end_value"):
            assert float(row[key]) == expected[key], key  # exact: data-value is the shortest round-trip repr


def test_dsr_and_pbo_equal_the_document(sweep_document):
    cells = dict((k, v) for k, v, _ in parse(render(sweep_document)).cells[""] if k.startswith(("dsr.", "pbo.")))
    for section in ("dsr", "pbo"):
        for key, value in sweep_document[section].items():
            if value is not None:
                assert float(cells[f"{section}.{key}"]) == value, (section, key)
    assert 0.0 <= sweep_document["dsr"]["dsr"] <= 1.0 and 0.0 <= sweep_document["pbo"]["pbo"] <= 1.0


def test_heatmap_is_the_best_objective_per_cell(sweep_document):
    table = frame(sweep_document)
    spec = figure(parse(render(sweep_document)), "heatmap")
    trace = spec["data"][0]
    assert trace["type"] == "heatmap"
    expected = table.groupby(["fast", "slow"])["sharpe"].max()  # the max over direction
    assert trace["x"] == ["20", "40", "60", "80", "100"] and trace["y"] == ["5", "10", "15", "20", "25", "30"]
    z = np.array([[np.nan if v is None else v for v in row] for row in trace["z"]])
    for i, fast in enumerate([5, 10, 15, 20, 25, 30]):
        for j, slow in enumerate([20, 40, 60, 80, 100]):
            if (fast, slow) in expected.index:
                assert z[i, j] == expected[(fast, slow)]
            else:
                assert math.isnan(z[i, j])  # fast >= slow never ran
    # other axes: chosen at render time; default: the first two swept settings
    other = parse(render({**sweep_document, "heatmap": None}))
    default = figure(other, "heatmap")["data"][0]
    assert default["x"] == ["5", "10", "15", "20", "25", "30"] and default["y"] == ["20", "40", "60", "80", "100"]


def test_sharpe_histogram_holds_every_finite_trial(sweep_document):
    values = decode(figure(parse(render(sweep_document)), "sharpe")["data"][0]["x"])  # a plain list: histograms bin it
    expected = np.array([v for v in frame(sweep_document)["sharpe"] if v is not None and math.isfinite(v)])
    np.testing.assert_array_equal(np.sort(values), np.sort(expected))


def test_one_swept_setting_draws_a_line(sweep_document):
    document = json.loads(json.dumps(sweep_document))
    document["grid"] = {"slow": document["grid"]["slow"]}
    document["heatmap"] = None
    trace = figure(parse(render(document)), "heatmap")["data"][0]
    assert trace["type"] == "scatter"
    table = frame(sweep_document)
    assert list(decode(trace["y"])) == list(table.groupby("slow")["sharpe"].max().to_numpy())


def test_axis_choices_are_checked(sweep_document):
    with pytest.raises(ParamError, match=r"r\.json: --x 'slwo' is not a swept setting .*did you mean 'slow'"):
        render({**sweep_document, "heatmap": {"x": "slwo", "y": None}}, where="r.json")
    with pytest.raises(ParamError, match=r"--x and --y both name 'fast'"):
        render({**sweep_document, "heatmap": {"x": "fast", "y": "fast"}})
    broken = {k: v for k, v in sweep_document.items() if k != "table"}
    with pytest.raises(DataError, match=r"s\.json: not a sweep result: the key 'table' is missing"):
        render(broken, where="s.json")


def test_user_strings_are_escaped(sweep_document):
    document = json.loads(json.dumps(sweep_document))
    document["strategy"] = EVIL
    data = document["table"]["data"]
    data["direction"] = [EVIL if v == "long" else v for v in data["direction"]]
    document["grid"]["direction"] = [EVIL, "longshort"]
    page = render(document)
    assert EVIL not in page and "<script>alert" not in page
    assert html.escape(EVIL) in page
    assert any(r.get("param:direction") == EVIL for r in parse(page).rows["top"])  # shown as text
    assert EVIL not in render(document, "md").replace("\\", "")  # Markdown: < and > are entities


def test_sweep_markdown_lists_the_top_rows(sweep_document):
    text = render(sweep_document, "md")
    assert text.startswith("# ma-crossover: sweep of 54 combinations")
    assert f"Deflated Sharpe Ratio of the best: {sweep_document['dsr']['dsr']:.3f}" in text
    assert text.count("\n| ") == REPORT_SWEEP_TOP + 1  # header + rows


# ---- walk-forward ---------------------------------------------------------------------------------


def test_walkforward_numbers_equal_the_document(walk_document):
    cells = parse(render(walk_document))
    rows = cells.rows["windows"]
    assert len(rows) == len(walk_document["windows"]) == 5
    for row, window in zip(rows, walk_document["windows"]):
        for key in ("in_sample", "out_of_sample", "dsr", "pbo", "n_trials"):
            number = next(v for k, v in row.items() if k.endswith("." + key))
            assert (number == "" and window[key] is None) or float(number) == window[key]
        assert row["param:fast"] == str(window["params"]["fast"])
    metrics = {k: v for k, v, _ in cells.cells["metrics"]}
    for key, value in walk_document["stats"].items():
        if key in metrics:
            assert float(metrics[key]) == value
    bars = figure(cells, "insample")["data"]
    assert list(decode(bars[0]["y"])) == [w["in_sample"] for w in walk_document["windows"]]
    assert list(decode(bars[1]["y"])) == [w["out_of_sample"] for w in walk_document["windows"]]
    equity = figure(cells, "equity")["data"][0]
    assert list(decode(equity["y"])) == walk_document["equity"]["values"]
    # the stitched curve compounds to the statistics' end value, and starts at init_cash
    assert walk_document["equity"]["values"][-1] == pytest.approx(walk_document["stats"]["end_value"], rel=1e-12)
    assert walk_document["equity"]["values"][0] == 1_000_000


def test_walkforward_markdown(walk_document):
    text = render(walk_document, "md")
    assert text.startswith("# ma-crossover: walk-forward, 5 windows")
    assert f"{walk_document['windows'][0]['train_start']} → {walk_document['windows'][0]['train_end']}" in text


# ---- CLI and browser ------------------------------------------------------------------------------


def test_cli_sweep_and_walkforward_write_reports(shared_prices_dir, tmp_path, capsys):
    out = tmp_path / "sweep.html"
    code = main([
        "sweep", "ma-crossover", "--grid", "fast=10,20", "--grid", "slow=50,100", "--grid", "direction=long,longshort",
        "--data-dir", str(shared_prices_dir), "--start", "2012-01-03", "--end", "2016-12-30", "--report", str(out),
        "--x", "direction", "--y", "slow",
    ])
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    trace = figure(parse(out.read_text(encoding="utf-8")), "heatmap")["data"][0]
    assert trace["x"] == ["long", "longshort"] and trace["y"] == ["50", "100"]
    bad = main([
        "sweep", "ma-crossover", "--grid", "fast=10,20", "--grid", "slow=50,100", "--data-dir", str(shared_prices_dir),
        "--start", "2012-01-03", "--end", "2016-12-30", "--report", str(tmp_path / "x.html"), "--x", "fats",
    ])
    assert bad == 1 and "--x 'fats' is not a swept setting" in capsys.readouterr().err
    results = tmp_path / "r.parquet"
    code = main([
        "sweep", "ma-crossover", "--grid", "fast=10,20", "--grid", "slow=50,100", "--data-dir", str(shared_prices_dir),
        "--start", "2012-01-03", "--end", "2016-12-30", "--out", str(results), "--report", str(tmp_path / "direct.html"),
    ])
    assert code == 0
    assert main(["report", str(results), "-o", str(tmp_path / "from_file.html")]) == 0
    direct, from_file = (parse((tmp_path / n).read_text(encoding="utf-8")) for n in ("direct.html", "from_file.html"))
    assert from_file.rows["top"] == direct.rows["top"] and len(direct.rows["top"]) == 4  # fast 10/20 x slow 50/100
    # report RESULTS.parquet --x/--y picks the heatmap axes; --png writes the sweep's figures
    chosen = tmp_path / "chosen.html"
    assert main(["report", str(results), "-o", str(chosen), "--x", "slow", "--y", "fast", "--png", str(tmp_path / "png")]) == 0
    trace = figure(parse(chosen.read_text(encoding="utf-8")), "heatmap")["data"][0]
    assert trace["x"] == ["50", "100"] and trace["y"] == ["10", "20"]
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == ["sweep_heatmap.png", "sweep_sharpe.png"]
    capsys.readouterr()
    assert main(["report", str(tmp_path / "direct.html"), "--x", "slow"]) == 1
    assert "--x/--y choose the heatmap of one sweep's results file (.parquet)" in capsys.readouterr().err
    md = tmp_path / "wf.md"
    code = main([
        "walkforward", "ma-crossover", "--grid", "fast=10,20", "--grid", "slow=50,100", "--train", "2y", "--test", "1y",
        "--data-dir", str(shared_prices_dir), "--start", "2010-01-04", "--end", "2015-12-31", "--blocks", "0",
        "--report", str(md),
    ])
    assert code == 0 and md.read_text(encoding="utf-8").startswith("# ma-crossover: walk-forward, 4 windows")


def test_walkforward_pngs(walk_document, tmp_path):
    from shortthehype.report import write_pngs

    paths = write_pngs(walk_document, tmp_path)
    assert [p.name for p in paths] == ["walkforward_windows.png", "walkforward_equity.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 10_000 for p in paths)


def test_sweep_and_walkforward_reports_render_in_chromium(browser, sweep_document, walk_document, tmp_path):  # noqa: F811
    for name, document, count in (("sweep", sweep_document, 2), ("walkforward", walk_document, 2)):
        path = tmp_path / f"{name}.html"
        path.write_text(render(document), encoding="utf-8")
        page, errors, dialogs, requests = open_report(browser, path)
        try:
            assert errors == [] and dialogs == []
            assert requests == [path.as_uri()]
            assert page.get_attribute("body", "data-figures-rendered") == str(count)
            assert page.evaluate(FIGURES_WITH_DATA) == count
        finally:
            page.close()
