"""``python`` kind: the worked example against an independent computation, the spec
integration (declared parameters are typed, overridable and sweepable), and the errors
a user file can cause, each named in one line."""

from __future__ import annotations

import csv
import math
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype.errors import ParamError, SpecError
from shortthehype.runner import backtest
from shortthehype.spec import load_spec
from shortthehype.strategies.user_python import load_user_strategy, python_kind

pytestmark = pytest.mark.filterwarnings("ignore::shortthehype.errors.DataWarning")

STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"
EXAMPLE_DEFAULTS = {"long_ticker": "QQQ", "hype_ticker": "NVDA", "lookback": 20, "threshold": 0.25, "short_weight": 0.5}


def read_closes(path: Path) -> dict[str, float]:
    with path.open() as handle:
        return {row["date"]: float(row["close"]) for row in csv.DictReader(handle)}


def independent_example_targets(data_dir: Path, lookback: int, threshold: float, short_weight: float):
    """my_idea.py's rule recomputed from the CSV files with plain loops: {date: (qqq, nvda)}."""
    qqq, nvda = read_closes(data_dir / "QQQ.csv"), read_closes(data_dir / "NVDA.csv")
    dates = sorted(set(qqq) | set(nvda))
    hype_closes = [nvda.get(d, math.nan) for d in dates]
    rows, previous = {}, None
    for t, date in enumerate(dates):
        hyped = False
        if t >= lookback:
            now, then = hype_closes[t], hype_closes[t - lookback]
            if not (math.isnan(now) or math.isnan(then)):
                hyped = now / then - 1.0 > threshold
        if hyped != previous:
            rows[pd.Timestamp(date)] = (0.0, -short_weight) if hyped else (1.0, 0.0)
        previous = hyped
    return rows


@pytest.fixture(scope="module")
def example_prices(shared_prices_dir):
    from shortthehype.data.load import load_prices

    return load_prices(["QQQ", "NVDA"], data_dir=shared_prices_dir)


def example_params(**changes):
    return {"file": "my_idea.py", "function": "target_weights", **EXAMPLE_DEFAULTS, **changes}


@pytest.mark.parametrize("lookback, threshold, short_weight", [(20, 0.25, 0.5), (5, 0.1, 1.0), (60, 0.5, 0.25)])
def test_example_targets_equal_an_independent_computation(shared_prices_dir, example_prices, lookback, threshold, short_weight):
    kind = python_kind("my_idea.py", STRATEGIES)
    params = example_params(lookback=lookback, threshold=threshold, short_weight=short_weight)
    kind.check(params)
    assert kind.tickers(params) == ["QQQ", "NVDA"]
    weights = kind.target_weights(example_prices, params).dropna(how="all")
    expected = independent_example_targets(shared_prices_dir, lookback, threshold, short_weight)
    assert list(weights.index) == list(expected)
    np.testing.assert_array_equal(weights[["QQQ", "NVDA"]].to_numpy(), np.array(list(expected.values())))
    assert len(expected) > 4


def test_example_spec_declares_the_files_parameters(shared_prices_dir):
    spec = load_spec("my-idea")
    assert spec.kind.name == "python"
    assert spec.params == {"file": "my_idea.py", "function": "target_weights", **EXAMPLE_DEFAULTS}
    assert spec.sweep["threshold"] == pytest.approx([0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
    assert spec.sweep["lookback"] == [10, 20, 40, 60]
    changed = spec.with_overrides({"threshold": "0.3", "lookback": "40"})
    assert changed.params["threshold"] == 0.3 and changed.params["lookback"] == 40
    with pytest.raises(ParamError, match=r"unknown parameter 'treshold'.*did you mean 'threshold'"):
        spec.with_overrides({"treshold": "0.3"})
    with pytest.raises(ParamError, match=r"'lookback' must be >= 1, got 0"):
        spec.with_overrides({"lookback": "0"})
    with pytest.raises(SpecError, match=r"my_idea.py: long_ticker and hype_ticker are both NVDA"):
        spec.with_overrides({"long_ticker": "NVDA"})
    with pytest.raises(SpecError, match=r"parameter 'file' is 'other.py' but this spec was built for 'my_idea.py'"):
        spec.with_overrides({"file": "other.py"})


def test_example_spec_runs_end_to_end_on_the_shared_data(shared_prices_dir):
    run = backtest("strategies/my_idea.toml", overrides={"threshold": 0.3}, data_dir=shared_prices_dir)
    assert run.spec.name == "my-idea" and run.start == pd.Timestamp("2019-01-02")
    expected = independent_example_targets(shared_prices_dir, 20, 0.3, 0.5)
    traded = run.weights.dropna(how="all").iloc[1:]  # the first row is the target in force at start
    assert list(traded.index) == [d for d in expected if d > pd.Timestamp("2019-01-02")]
    assert (run.result.positions["NVDA"] < 0).any() and run.result.costs["borrow"] > 0
    by_name = backtest("my-idea", overrides={"threshold": 0.3}, data_dir=shared_prices_dir)
    assert by_name.result.equity.iloc[-1] == run.result.equity.iloc[-1]


# ---- user files and their errors ------------------------------------------------------


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


GOOD = """
    '''Long everything equally, once.'''
    TICKERS = ["QQQ", "NVDA"]

    def target_weights(prices, params):
        import pandas as pd
        first_common = prices.close.dropna().index[:1]  # the first day both trade
        return pd.DataFrame({"QQQ": [0.5], "NVDA": [0.5]}, index=first_common)
"""


def test_a_file_without_params_runs_from_a_mapping_spec(tmp_path, example_prices):
    path = write(tmp_path, "plain.py", GOOD)
    run = backtest({"name": "plain", "kind": "python", "params": {"file": str(path)}}, prices=example_prices)
    assert run.spec.params["function"] == "target_weights"
    rows = run.weights.dropna(how="all")  # one row, reindexed onto every date
    assert rows.index.tolist() == [pd.Timestamp("1999-03-10")] and rows.iloc[0].tolist() == [0.5, 0.5]
    assert (run.result.positions.iloc[-1] > 0).all()


def test_a_spec_file_finds_the_strategy_next_to_it(tmp_path, example_prices):
    write(tmp_path, "tilt.py", """
        from shortthehype.params import Param
        PARAMS = (Param("qqq_weight", "float", 0.7, "QQQ's share", minimum=0.0, maximum=1.0),)
        def tickers(params):
            return ["qqq", "nvda"]
        def weights_fn(prices, params):
            import pandas as pd
            w = params["qqq_weight"]
            return pd.DataFrame({"QQQ": [w], "NVDA": [1 - w]}, index=prices.index[:1])
    """)
    spec_path = write(tmp_path, "tilt.toml", """
        name = "tilt"
        kind = "python"
        [params]
        file = "tilt.py"
        function = "weights_fn"
        qqq_weight = 0.6
        [sweep]
        qqq_weight = "0.5:0.9:0.2"
    """)
    spec = load_spec(spec_path)
    assert spec.tickers() == ["QQQ", "NVDA"]  # upper-cased
    assert spec.kind.summary == "User strategy tilt.py"  # no docstring
    assert spec.sweep["qqq_weight"] == pytest.approx([0.5, 0.7, 0.9])
    run = backtest(spec, overrides={"qqq_weight": 0.8}, prices=example_prices)
    assert run.weights.iloc[0].to_numpy() == pytest.approx([0.8, 0.2])
    with pytest.raises(ParamError, match=r"'qqq_weight' must be <= 1, got 1.5"):
        spec.with_overrides({"qqq_weight": 1.5})


@pytest.mark.parametrize(
    "source, message",
    [
        ("def target_weights(prices, params)\n    return None\n", r"bad.py:1: syntax error"),
        ("import no_such_module_xyz\n", r"bad.py:1: importing it raised ModuleNotFoundError: No module named 'no_such_module_xyz'"),
        ("TICKERS = ['QQQ']\n", None),  # imports fine; the missing function is reported when it is called
        ("def target_weights(prices, params):\n    pass\n", r"bad.py: define TICKERS = \[...\] or def tickers\(params\)"),
        ("TICKERS = 'QQQ'\ndef target_weights(p, q):\n    pass\n", r"bad.py: TICKERS must be a list of ticker symbols, got str"),
        (
            "from shortthehype.params import Param\nPARAMS = (Param('fees', 'float', 0.0, 'x'),)\nTICKERS = ['QQQ']\n",
            r"bad.py: parameter 'fees' in PARAMS clashes with a built-in setting",
        ),
        (
            "from shortthehype.params import Param\nPARAMS = (Param('x', 'int', 1, 'a'), Param('x', 'int', 2, 'b'))\nTICKERS = ['QQQ']\n",
            r"bad.py: parameter 'x' is declared twice in PARAMS",
        ),
        ("PARAMS = [{'name': 'x'}]\nTICKERS = ['QQQ']\n", r"bad.py: PARAMS holds \{'name': 'x'\}, which is not a shortthehype.params.Param"),
        ("TICKERS = ['QQQ']\ncheck = 3\n", r"bad.py: check must be a function check\(params\)"),
    ],
)
def test_broken_files_give_one_line_errors_naming_the_file(tmp_path, source, message):
    path = write(tmp_path, "bad.py", source)
    if message is None:
        kind = python_kind(path)
        with pytest.raises(SpecError, match=r"bad.py defines no function 'target_weights'"):
            kind.target_weights(None, {"file": str(path), "function": "target_weights"})
        return
    with pytest.raises(SpecError, match=message) as info:
        load_user_strategy(path)
    assert "\n" not in str(info.value)


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(SpecError, match=r"strategy file 'nowhere.py' not found \(searched .*"):
        load_user_strategy("nowhere.py", tmp_path)
    with pytest.raises(SpecError, match=r"parameter 'file' = 'idea.txt' is not a Python file"):
        load_user_strategy("idea.txt", tmp_path)
    with pytest.raises(SpecError, match=r"kind 'python' needs parameter 'file'"):
        load_spec({"name": "x", "kind": "python"})


def test_bad_return_values_are_named(tmp_path, example_prices):
    path = write(tmp_path, "ret.py", """
        import pandas as pd
        TICKERS = ["QQQ", "NVDA"]
        def as_list(prices, params):
            return [1.0]
        def wrong_ticker(prices, params):
            return pd.DataFrame({"NVDQ": [1.0]}, index=prices.index[:1])
        def wrong_date(prices, params):
            return pd.DataFrame({"QQQ": [1.0]}, index=[pd.Timestamp("2020-01-04")])  # a Saturday
        def wrong_index(prices, params):
            return pd.DataFrame({"QQQ": [1.0]})
        def targt_weights(prices, params):
            return None
        def failing_check(params):
            pass
    """)
    kind = python_kind(path)
    cases = {
        "as_list": r"ret.py: as_list\(\) returned list; it must return a DataFrame",
        "wrong_ticker": r"ret.py: wrong_ticker\(\) returned weights for 'NVDQ', which is not among its tickers; did you mean 'NVDA'",
        "wrong_date": r"ret.py: wrong_date\(\) returned a row dated 2020-01-04, which is not a date of the prices",
        "wrong_index": r"ret.py: wrong_index\(\) returned rows indexed by RangeIndex",
        "target_weights": r"ret.py defines no function 'target_weights'; did you mean 'targt_weights'",
    }
    for function, message in cases.items():
        with pytest.raises(SpecError, match=message):
            kind.target_weights(example_prices, {"file": str(path), "function": function})


def test_user_check_value_error_becomes_a_spec_error(tmp_path):
    path = write(tmp_path, "checked.py", """
        TICKERS = ["QQQ"]
        def check(params):
            raise ValueError("window too short for this idea")
        def target_weights(prices, params):
            return None
    """)
    kind = python_kind(path)
    with pytest.raises(SpecError, match=r"checked.py: window too short for this idea"):
        kind.check({"file": str(path), "function": "target_weights"})


def test_an_edited_file_is_imported_again(tmp_path):
    path = write(tmp_path, "edit.py", "TICKERS = ['QQQ']\n")
    assert load_user_strategy(path).tickers({}) == ["QQQ"]
    path.write_text("TICKERS = ['NVDA', 'AMD']\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load_user_strategy(path).tickers({}) == ["NVDA", "AMD"]
