"""The backtest, strategies and demo commands, through the CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from shortthehype.runner import backtest
from shortthehype.cli import main


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backtest_prints_metrics_beside_the_benchmark(capsys, shared_prices_dir):
    code, out, err = run_cli(capsys, "backtest", "sixty-forty", "--source", "csv", "--data-dir", str(shared_prices_dir))
    assert code == 0, err
    assert "sixty-forty" in out and "SPY (buy & hold)" in out and "Sharpe ratio" in out


def test_backtest_json_is_the_run_and_matches_the_csv_closes(capsys, tmp_path, shared_prices_dir):
    path = tmp_path / "r.json"
    code, _, err = run_cli(
        capsys, "backtest", "buy-and-hold-qqq", "--source", "csv", "--data-dir", str(shared_prices_dir),
        "--start", "2020-01-02", "--end", "2020-12-31", "--set", "fees=0", "--set", "execution=close", "--json", str(path),
    )
    assert code == 0, err
    document = json.loads(path.read_text())
    assert document["strategy"] == "buy-and-hold-qqq" and document["start"] == "2020-01-02" and document["end"] == "2020-12-31"
    assert set(document) >= {"params", "metrics", "equity", "events", "final_equity", "engine"}
    assert document["engine"]["fees"] == 0 and document["engine"]["execution"] == "close"
    # Buying 100% QQQ at the first close with no costs: equity tracks QQQ's close exactly.
    qqq = pd.read_csv(shared_prices_dir / "QQQ.csv", index_col="date", parse_dates=True)["close"].loc["2020-01-02":"2020-12-31"]
    values = np.array(document["equity"]["values"])
    assert document["equity"]["dates"][0] == "2020-01-02" and len(values) == len(qqq)
    np.testing.assert_allclose(values, 1_000_000 * qqq.to_numpy() / qqq.iloc[0], rtol=1e-12)
    assert document["final_equity"] == values[-1]
    assert document["metrics"]["total_return"] == pytest.approx(qqq.iloc[-1] / qqq.iloc[0] - 1, rel=1e-12)


def test_json_numbers_equal_the_library_run(capsys, tmp_path, shared_prices_dir):
    path = tmp_path / "r.json"
    args = ["static-hype-hedge", "--source", "csv", "--data-dir", str(shared_prices_dir), "--end", "2023-12-29"]
    assert run_cli(capsys, "backtest", *args, "--json", str(path))[0] == 0
    run = backtest("static-hype-hedge", overrides={"end": "2023-12-29"}, source="csv", data_dir=shared_prices_dir)
    document = json.loads(path.read_text())
    for key, value in run.stats.items():
        if np.isnan(value):
            assert document["metrics"][key] is None, key
        else:
            assert document["metrics"][key] == pytest.approx(value, rel=1e-15, abs=0), key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backtest", "sixty-forty", "--set", "slipage=0.1"], "unknown parameter 'slipage'; did you mean 'slippage'?"),
        (["backtest", "sixty-forty", "--set", "fees=-1"], "parameter 'fees' must be >= 0"),
        (["backtest", "sixty-forty", "--set", "fees"], "--set 'fees' is not key=value"),
        (["backtest", "no-such-spec"], "no strategy spec named 'no-such-spec'"),
        (["backtest", "sixty-forty", "--set", "weights.ZZZZ=0.1"], "ZZZZ"),
        (["backtest", "sixty-forty", "--start", "2020-13-01"], "parameter 'start'"),
        (["strategies", "show", "sixty-fourty"], "did you mean 'sixty-forty'?"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_1(capsys, shared_prices_dir, args, message):
    code, out, err = run_cli(capsys, *args, *(["--source", "csv", "--data-dir", str(shared_prices_dir)] if args[0] == "backtest" else []))
    assert code == 1
    assert message in err and err.startswith("error:") and err.count("\n") == 1, err


def test_max_gross_without_scaling_is_refused(capsys, shared_prices_dir):
    code, _, err = run_cli(
        capsys, "backtest", "static-hype-hedge", "--set", "max_gross=1.1", "--set", "scale_gross=false",
        "--source", "csv", "--data-dir", str(shared_prices_dir),
    )
    assert code == 1 and "gross exposure 1.2 > max_gross 1.1 and scale_gross is false" in err


def test_strategies_list_shows_a_broken_spec_without_hiding_the_others(capsys, tmp_path, monkeypatch):
    (tmp_path / "broken.toml").write_text('name = "broken"\nkind = "no-such-kind"\n')
    monkeypatch.setenv("SHORTTHEHYPE_STRATEGIES_DIR", str(tmp_path))
    code, out, _ = run_cli(capsys, "strategies", "list")
    assert code == 0 and "broken" in out and "invalid" in out and "sixty-forty" in out


def test_strategies_list_and_show(capsys, monkeypatch):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 200)  # a wide terminal: check content, not wrapping
    code, out, _ = run_cli(capsys, "strategies", "list")
    assert code == 0 and "sixty-forty" in out and "fixed-weights" in out
    code, out, _ = run_cli(capsys, "strategies", "show", "static-hype-hedge")
    assert code == 0 and "borrow_fee" in out and "NVDA:0.005,PLTR:0.02" in out


def test_demo_runs_every_essay_strategy_offline_on_synthetic_data_and_says_so(capsys, monkeypatch, tmp_path):
    import shortthehype.cli
    from shortthehype.demo import DEMO_SPECS

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "demo")
    assert code == 0, err
    assert out.startswith("SYNTHETIC data") and out.count("SYNTHETIC") == 1 and "AIX" in out  # said once, first
    for name in DEMO_SPECS:
        assert name in out
    report = (tmp_path / "shortthehype-demo.html").read_text()
    assert f"wrote shortthehype-demo.html" in out and all(name in report for name in DEMO_SPECS)


def test_demo_dotcom_analog_maps_the_dotcom_peak_onto_the_synthetic_peak():
    from shortthehype.data.synthetic import Scenario
    from shortthehype.demo import synthetic_overrides

    scenario = Scenario()
    settings = synthetic_overrides(scenario)["dotcom-analog"]
    start, peak = pd.Timestamp(settings["ai_start"]), scenario.key_dates["peak"]
    mapped = pd.Timestamp("1995-08-09") + (peak - start) * float(settings["time_scale"])
    assert abs((mapped - pd.Timestamp("2000-03-10")).days) <= 1


def test_demo_on_real_prices_runs_the_specs_unchanged_from_chatgpt(shared_prices_dir):
    from shortthehype.demo import DEMO_SPECS, run_demo

    about, runs = run_demo(load={"source": "csv", "data_dir": shared_prices_dir})
    assert [r.spec.name for r in runs] == list(DEMO_SPECS)
    assert runs[0].start == pd.Timestamp("2022-11-30") and "csv prices" in about
    # one window for every column: ai-basket's TSM data end early, so every run ends there
    assert {(r.start, r.end) for r in runs} == {(runs[0].start, runs[0].end)}
    assert runs[0].end == pd.read_csv(shared_prices_dir / "TSM.csv", index_col="date", parse_dates=True).index[-1]
    alone = backtest("ma-crossover", overrides={"start": "2022-11-30", "end": runs[0].end}, source="csv", data_dir=shared_prices_dir)
    pd.testing.assert_series_equal(runs[-1].result.equity, alone.result.equity)


def test_subprocess_error_has_no_traceback(shared_prices_dir):
    completed = subprocess.run(
        [sys.executable, "-m", "shortthehype", "backtest", "sixty-forty", "--set", "execution=tomorrow",
         "--source", "csv", "--data-dir", str(shared_prices_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr and completed.stderr.count("\n") == 1
    assert "parameter 'execution'" in completed.stderr


def test_compare_runs_every_spec_on_the_latest_common_start(capsys, tmp_path, shared_prices_dir):
    from shortthehype.runner import compare

    runs = compare(["sixty-forty", "static-hype-hedge"], source="csv", data_dir=shared_prices_dir, overrides={"end": "2022-12-30"})
    # sixty-forty starts 2005-01-03, static-hype-hedge 2021-01-04: the common window starts at the later one
    assert [r.start for r in runs] == [pd.Timestamp("2021-01-04")] * 2
    assert [r.end for r in runs] == [pd.Timestamp("2022-12-30")] * 2
    alone = backtest("sixty-forty", overrides={"start": "2021-01-04", "end": "2022-12-30"}, source="csv", data_dir=shared_prices_dir)
    pd.testing.assert_series_equal(runs[0].result.equity, alone.result.equity)

    path = tmp_path / "c.json"
    code, out, err = run_cli(
        capsys, "compare", "sixty-forty", "buy-and-hold-qqq", "--start", "2020-01-02", "--end", "2020-06-30",
        "--source", "csv", "--data-dir", str(shared_prices_dir), "--json", str(path),
    )
    assert code == 0, err
    assert "sixty-forty" in out and "buy-and-hold-qqq" in out
    document = json.loads(path.read_text())
    assert [r["strategy"] for r in document["runs"]] == ["sixty-forty", "buy-and-hold-qqq"]
    assert {(r["start"], r["end"]) for r in document["runs"]} == {("2020-01-02", "2020-06-30")}


def test_compare_refuses_a_spec_given_twice(capsys, shared_prices_dir):
    code, _, err = run_cli(capsys, "compare", "sixty-forty", "sixty-forty", "--source", "csv", "--data-dir", str(shared_prices_dir))
    assert code == 1 and "'sixty-forty' is given twice" in err


def test_run_warnings_cover_the_window_only(shared_prices_dir):
    # AMD moved +52.3% on 2016-04-22 (a real move the loader warns about): a backtest whose window
    # excludes that day does not repeat the warning; one that includes it does.
    spec = {"kind": "fixed-weights", "params": {"weights": {"AMD": 0.5}, "rebalance": "monthly"}}
    later = backtest({**spec, "start": "2020-01-02"}, source="csv", data_dir=shared_prices_dir)
    assert not any("AMD 2016-04-22" in w for w in later.warnings)
    spanning = backtest({**spec, "start": "2016-01-04", "end": "2016-12-30"}, source="csv", data_dir=shared_prices_dir)
    assert [w for w in spanning.warnings if "2016-04-22" in w] == [
        "AMD 2016-04-22: one-day close-to-close move +52.3% exceeds ±45% (an unadjusted split?)"
    ]


def test_terminal_benchmark_column_is_the_buy_and_hold_statistics(capsys, monkeypatch, shared_prices_dir):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 200)
    code, out, err = run_cli(capsys, "backtest", "sixty-forty", "--end", "2010-12-31", "--source", "csv", "--data-dir", str(shared_prices_dir))
    assert code == 0, err
    run = backtest("sixty-forty", overrides={"end": "2010-12-31"}, source="csv", data_dir=shared_prices_dir)
    spy = pd.read_csv(shared_prices_dir / "SPY.csv", index_col="date", parse_dates=True)["close"].loc["2005-01-03":"2010-12-31"]
    stats = run.benchmark_stats()
    assert stats["total_return"] == pytest.approx(spy.iloc[-1] / spy.iloc[0] - 1, rel=1e-12)
    vol_line = next(line for line in out.splitlines() if "Annual volatility" in line)
    assert f"{stats['annual_volatility'] * 100:,.2f}%" in vol_line  # the benchmark column is no longer blank


def test_backtest_prints_window_warnings(capsys, monkeypatch, shared_prices_dir, tmp_path):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 200)
    spec = tmp_path / "amd.toml"
    spec.write_text('kind = "fixed-weights"\nstart = "2016-01-04"\nend = "2016-12-30"\n[params]\nweights = { AMD = 0.5 }\n')
    code, out, err = run_cli(capsys, "backtest", str(spec), "--source", "csv", "--data-dir", str(shared_prices_dir))
    assert code == 0, err
    assert "warning: AMD 2016-04-22: one-day close-to-close move +52.3% exceeds ±45%" in err


def test_compare_before_a_ticker_lists_and_each_run_warns_about_its_own_tickers(shared_prices_dir):
    from shortthehype.runner import compare

    # 2016: PLTR (in the AI basket) lists only in 2020 - its column is empty, not an error
    runs = compare(["sixty-forty", "ai-basket"], overrides={"start": "2016-01-04", "end": "2016-12-30"}, source="csv", data_dir=shared_prices_dir)
    sixty, basket = runs
    assert sixty.warnings == ()
    assert any(w.startswith("PLTR has no rows") for w in basket.warnings)
    assert any(w.startswith("AMD 2016-04-22") for w in basket.warnings)
    assert (basket.result.positions["PLTR"] == 0).all()
