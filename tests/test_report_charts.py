"""Static and interactive charts: one palette for HTML and PNG, PNG legends beside the data, a readable exposure axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_report_support import as_json, synthetic_run

from shortthehype.report import figures, static
from shortthehype.report.model import backtest_view


def _hex(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def test_exposure_axis_keeps_the_usual_range_when_equity_nears_zero():
    index = pd.bdate_range("2024-01-01", periods=200)
    usual = pd.DataFrame({"long": 1.0, "short": -0.5, "gross": 1.5, "net": 0.5}, index=index)
    assert figures.exposure_range(usual) is None  # ordinary charts keep plotly's automatic range
    blown = usual.copy()
    blown.iloc[-1] = [60.0, -60.0, 120.0, 0.0]  # the last bar before a ruin: 6,000 % of a tiny equity
    lo, hi = figures.exposure_range(blown)
    # 1st..99th percentile of the values with zero, padded by 10 %: -0.5 .. 1.5 -> -0.7 .. 1.7
    assert lo == pytest.approx(-0.7) and hi == pytest.approx(1.7)


def test_bankrupt_exposure_chart_says_how_far_it_went():
    run = synthetic_run()
    document = as_json(run.to_dict())
    document["exposure"]["gross"][-1] = 60.0
    view = backtest_view(document)
    figure = figures.exposure_figure(view, {"$ref": "dates"})
    assert "range" in figure.layout["yaxis"] and "6,000%" in figure.caption


def _pixels(path) -> set[tuple[int, int, int]]:
    from matplotlib.image import imread

    image = (imread(path)[:, :, :3] * 255).round().astype(int)
    return {tuple(p) for p in image.reshape(-1, 3)}


def test_png_and_html_draw_a_walk_forward_with_the_same_colours(tmp_path, shared_prices_dir):
    import shortthehype as sth
    from shortthehype.report import sweep_view

    walk = sth.walkforward("ma-crossover", {"fast": [10, 20], "slow": [50, 100]}, train="2y", test="1y", source="csv",
                           data_dir=shared_prices_dir, overrides={"start": "2012-01-03", "end": "2016-12-30"}, n_blocks=0,
                           workers=1)
    view = sweep_view.walkforward_view(walk.to_document())
    html_colors = [trace["marker"]["color"] for trace in sweep_view.walkforward_figures(view)[0].data]
    (bars, _) = static.write_walkforward_pngs(view, tmp_path)
    pixels = _pixels(bars)
    assert all(_hex(color) in pixels for color in html_colors)
    assert _hex("#4c72b0") not in pixels  # the PNG's former blue


def test_png_legends_sit_beside_the_axes():
    from matplotlib.figure import Figure

    view = backtest_view(as_json(synthetic_run().to_dict()))
    for draw in (static._draw_equity, static._draw_drawdown, static._draw_exposure):
        fig = Figure(figsize=static.PNG_SIZE, dpi=static.PNG_DPI, layout="constrained")
        ax = fig.subplots()
        draw(ax, view)
        fig.canvas.draw()
        legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert legend.x0 >= axes.x1, draw.__name__  # right of the plot area: never on the data


def test_png_comparison_marks_identical_runs(tmp_path):
    from shortthehype.report.model import compare_view

    first = as_json(synthetic_run(name="first", seed=5).to_dict())
    twin = dict(first, strategy="twin")
    other = as_json(synthetic_run(name="other", seed=6).to_dict())
    view = compare_view({"type": "compare", "runs": [first, twin, other]})
    assert figures.identical_runs(view) == [["first", "twin"]]
    paths = static.write_compare_pngs(view, tmp_path)
    assert [p.name for p in paths] == ["growth.png", "drawdown.png", "rolling_sharpe.png"]
