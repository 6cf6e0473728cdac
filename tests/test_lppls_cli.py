"""``shortthehype bubble`` through the CLI entry point."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import shortthehype.cli.bubble_cmd as bubble_cmd  # registers the command
from shortthehype.bubble import indicator_document
from shortthehype.cli import main
from shortthehype.errors import ParamError


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bubble_json_matches_the_library(capsys, tmp_path, shared_prices_dir):
    from shortthehype.data.load import load_prices
    from shortthehype.lppls import confidence_indicator, lppls_windows

    path = tmp_path / "b.json"
    args = ["bubble", "IXIC", "--data-dir", str(shared_prices_dir), "--start", "2000-01-03", "--end", "2000-03-31"]
    code, out, err = run_cli(capsys, *args, "--windows", "125:225:50", "--step", "20", "--json", str(path))
    assert code == 0, err
    assert "IXIC" in out and "monthly maximum" in out and "bubble" in out
    document = json.loads(path.read_text())
    assert document["series"] == "IXIC" and document["windows"] == [125, 175, 225] and document["step"] == 20
    assert document["end"] == "2000-03-31" and document["dates"][-1] == "2000-03-31"
    close = load_prices("IXIC", end="2000-03-31", source="csv", data_dir=shared_prices_dir).close["IXIC"]
    expected = confidence_indicator(close, windows=lppls_windows(125, 225, 50), start="2000-01-03", end="2000-03-31", step=20)
    assert document["dates"] == [d.strftime("%Y-%m-%d") for d in expected.index]
    np.testing.assert_allclose(document["bubble"], expected["bubble"].to_numpy())
    assert document["n_fits"] == expected["n_fits"].tolist() == [3] * len(expected)
    assert document["filters"]["rel_err_max"] == 0.05


def test_bubble_json_to_stdout_and_filter_overrides(capsys, shared_prices_dir):
    code, out, err = run_cli(
        capsys, "bubble", "IXIC", "--data-dir", str(shared_prices_dir), "--start", "2000-03-01", "--end", "2000-03-10",
        "--windows", "125:150:25", "--step", "5", "--filter", "rel_err_max=0.2", "--filter", "m=0.05,0.95", "--json", "-",
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["filters"]["rel_err_max"] == 0.2 and document["filters"]["m"] == [0.05, 0.95]
    assert len(document["dates"]) == 2


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--windows", "125-750"], "--windows '125-750' is not MIN:MAX:STEP"),
        (["--windows", "10:100:5"], "smallest window 10 bars is below 20"),
        (["--filter", "rel_err=0.1"], "--filter 'rel_err' is unknown; did you mean 'rel_err_max'?"),
        (["--filter", "m=0.5"], "--filter m needs a pair low,high"),
        (["--step", "0"], "--step must be >= 1 bar"),
        (["--start", "2001-01-01", "--end", "2000-01-01"], "--start 2001-01-01 is after --end 2000-01-01"),
        (["--end", "2000-13-01"], "--end: parameter 'end'"),
    ],
)
def test_bubble_errors_are_one_line_and_name_the_option(capsys, shared_prices_dir, extra, message):
    code, out, err = run_cli(capsys, "bubble", "IXIC", "--data-dir", str(shared_prices_dir), *extra)
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1


def test_unknown_ticker_names_it(capsys, shared_prices_dir):
    code, _, err = run_cli(capsys, "bubble", "NOPE", "--data-dir", str(shared_prices_dir), "--source", "csv")
    assert code == 1 and "NOPE" in err


def test_parsers_and_sparkline():
    assert bubble_cmd.parse_windows("125:750:25") == (125, 750, 25)
    assert bubble_cmd.parse_windows("100:200") == (100, 200, 25)
    with pytest.raises(ParamError):
        bubble_cmd.parse_windows("1:2:3:4")
    assert bubble_cmd.sparkline([0.0, 0.5, 1.0, np.nan], top=1.0) == "▁▅█ "
    assert bubble_cmd.sparkline([], top=1.0) == ""
    # buckets show their maximum
    assert bubble_cmd.sparkline([0.0, 1.0, 0.0, 0.0], width=2, top=1.0) == "█▁"


def test_indicator_document_turns_nan_and_nat_into_null():
    frame = pd.DataFrame(
        {
            "price": [1.0, 2.0],
            "bubble": [np.nan, 0.5],
            "antibubble": [np.nan, 0.0],
            "n_fits": [0, 2],
            "bubble_tc": pd.to_datetime([None, "2024-02-01"]),
            "antibubble_tc": pd.to_datetime([None, None]),
        },
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"]),
    )
    from shortthehype.lppls import LPPLSFilters, LPPLSSearch

    document = indicator_document("X", frame, [125], 1, LPPLSFilters(), LPPLSSearch())
    assert document["bubble"] == [None, 0.5] and document["bubble_tc"] == [None, "2024-02-01"]
    assert document["antibubble_tc"] == [None, None]
    json.dumps(document)  # serialisable
