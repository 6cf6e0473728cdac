"""compare: one window after each spec's data limits, one benchmark, per-spec overrides; caveats of synthetic runs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shortthehype.cli import main
from shortthehype.errors import ParamError
from shortthehype.runner import backtest, compare


def _last_date(directory, ticker):
    return pd.read_csv(directory / f"{ticker}.csv", index_col="date", parse_dates=True).index[-1]


def test_compare_columns_share_start_and_end_after_each_specs_data_limits(shared_prices_dir):
    # ai-basket trades TSM, whose data stop before the others': on its own it ends there,
    # and so must every column of the comparison (sixty-forty alone runs to the last SPY date)
    tsm_end = _last_date(shared_prices_dir, "TSM")
    alone = backtest("sixty-forty", overrides={"start": "2022-11-30"}, source="csv", data_dir=shared_prices_dir)
    assert alone.end > tsm_end
    runs = compare(["sixty-forty", "ai-basket", "burry-short"], source="csv", data_dir=shared_prices_dir)
    assert {(r.start, r.end) for r in runs} == {(pd.Timestamp("2025-11-03"), tsm_end)}
    for run in runs:
        assert run.result.equity.index[0] == run.start and run.result.equity.index[-1] == tsm_end


def test_compare_measures_every_column_against_one_benchmark(shared_prices_dir):

    runs = compare(["ai-basket", "sixty-forty"], overrides={"end": "2024-12-31"}, source="csv", data_dir=shared_prices_dir)
    assert [r.spec.run["benchmark"] for r in runs] == ["QQQ", "QQQ"]  # the first spec's, for every column
    sixty = runs[1]
    qqq = pd.read_csv(shared_prices_dir / "QQQ.csv", index_col="date", parse_dates=True)["close"].reindex(sixty.result.equity.index)
    returns = sixty.result.equity.pct_change().to_numpy()[1:]
    bench = qqq.pct_change().to_numpy()[1:]
    assert sixty.stats["beta"] == pytest.approx(np.cov(returns, bench)[0, 1] / np.var(bench, ddof=1), rel=1e-9)
    chosen = compare(["ai-basket", "sixty-forty"], benchmark="SPY", overrides={"end": "2024-12-31"}, source="csv", data_dir=shared_prices_dir)
    assert [r.spec.run["benchmark"] for r in chosen] == ["SPY", "SPY"]


def test_compare_set_with_a_spec_name_overrides_that_spec_only(shared_prices_dir):
    runs = compare(
        ["sixty-forty", "buy-and-hold-qqq"],
        overrides={"sixty-forty.fees": "0.01", "slippage": "0.002", "end": "2020-12-31"},
        source="csv",
        data_dir=shared_prices_dir,
    )
    assert runs[0].spec.engine["fees"] == 0.01 and runs[1].spec.engine["fees"] != 0.01
    assert runs[0].spec.engine["slippage"] == runs[1].spec.engine["slippage"] == 0.002
    with pytest.raises(ParamError, match="unknown parameter 'nope'"):
        compare(["sixty-forty", "buy-and-hold-qqq"], overrides={"sixty-forty.nope": "1"}, source="csv", data_dir=shared_prices_dir)


def test_compare_cli_prints_one_benchmark_column(capsys, shared_prices_dir):
    code = main(["compare", "sixty-forty", "ai-basket", "--benchmark", "qqq", "--end", "2024-06-28",
                 "--source", "csv", "--data-dir", str(shared_prices_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "QQQ (buy & hold)" in out and "SPY (buy & hold)" not in out and "against QQQ" in out


def test_compare_names_each_specs_warnings_once(capsys, shared_prices_dir):
    """A run's own notes carry no spec name: compare prefixes it, once (it was printed twice for dotcom-analog)."""
    code = main(["compare", "dotcom-analog", "ai-basket", "--source", "csv", "--data-dir", str(shared_prices_dir)])
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: dotcom-analog: every bar of the window (2022-11-30 to " in err
    assert "dotcom-analog: dotcom-analog:" not in err


def test_demo_labels_synthetic_data_and_the_oracle_timed_analogy(tmp_path, capsys, monkeypatch):
    from shortthehype.caveats import SYNTHETIC_CAVEAT
    from shortthehype.demo import run_demo

    about, runs = run_demo()
    assert all(SYNTHETIC_CAVEAT in r.caveats for r in runs)
    assert about.endswith("Cash earns constant 3 %/yr (ACT/360): synthetic prices have no bill series. The Sharpe, "
                          "Sortino and omega ratios use a zero risk-free rate: they count that interest as return.")
    oracle = {r.spec.name for r in runs if any(c.startswith("ORACLE-TIMED") for c in r.caveats)}
    assert oracle == {"dotcom-analog"}
    document = runs[2].to_dict()
    assert document["synthetic"] is True and document["oracle_timed"] is True
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.index("SYNTHETIC data") < out.index("Demo comparison") and "ORACLE-TIMED: dotcom-analog" in out
    page = (tmp_path / "shortthehype-demo.html").read_text()
    banner = page.index('id="sth-caveats"')
    assert banner < page.index('id="sec-header"') and "ORACLE-TIMED" in page[banner : banner + 2000]


def test_real_prices_carry_no_caveat_and_synthetic_backtests_do(shared_prices_dir, tmp_path):
    from shortthehype.report import render

    real = backtest("sixty-forty", overrides={"end": "2010-12-31"}, source="csv", data_dir=shared_prices_dir)
    assert real.caveats == () and real.to_dict()["synthetic"] is False
    assert "sth-caveats" not in render(real.to_dict(), "html")
    synthetic = backtest({"kind": "fixed-weights", "params": {"weights": {"MKT": 1.0}}}, source="synthetic")
    document = json.loads(json.dumps(synthetic.to_dict()))
    assert document["caveats"] == ["SYNTHETIC data: generated prices of fictional tickers, not a market that happened."]
    assert render(document, "md").splitlines()[2].startswith("> **SYNTHETIC data")


def test_compare_vs_bootstraps_every_column_against_the_baseline(capsys, tmp_path, shared_prices_dir):
    path = tmp_path / "c.json"
    code = main(["compare", "sixty-forty", "ai-basket", "--end", "2024-12-31", "--vs", "buy-and-hold-qqq", "--samples", "200",
                 "--source", "csv", "--data-dir", str(shared_prices_dir), "--json", str(path)])
    assert code == 0, capsys.readouterr().err
    runs = json.loads(path.read_text())["runs"]
    assert all(r["bootstrap"]["vs"]["baseline"] == "buy-and-hold-qqq" for r in runs)
    assert all(r["factors"]["loadings"][0]["factor"] == "market (SPY)" for r in runs)
    assert {r["bootstrap"]["vs"]["bars"] for r in runs} == {len(runs[0]["equity"]["dates"]) - 1}


def test_sweeps_and_walk_forwards_on_synthetic_prices_say_so_everywhere(tmp_path):
    """A sweep or walk-forward on generated prices carries the synthetic caveat in its JSON, Parquet and reports."""
    from shortthehype.caveats import SYNTHETIC_CAVEAT
    from shortthehype.data import synthetic
    from shortthehype.report import render
    from shortthehype.sweeps import load_sweep, sweep
    from shortthehype.walk_forward import walkforward

    prices = synthetic.generate_prices(synthetic.Scenario())
    settings = {"ticker": "DATA", "benchmark": "MKT"}
    found = sweep("ma-crossover", {"fast": [10, 20], "slow": [50, 100]}, overrides=settings, prices=prices,
                  n_blocks=0, workers=1, out=tmp_path / "s.parquet")
    assert found.caveats == (SYNTHETIC_CAVEAT,)
    document = found.to_document()
    assert document["synthetic"] is True and document["caveats"] == [SYNTHETIC_CAVEAT]
    assert load_sweep(tmp_path / "s.parquet").caveats == (SYNTHETIC_CAVEAT,)
    assert 'id="sth-caveats"' in render(document, "html") and SYNTHETIC_CAVEAT in render(document, "md")
    walk = walkforward("ma-crossover", {"fast": [10, 20], "slow": [50, 100]}, train="2y", test="1y", overrides=settings,
                       prices=prices, n_blocks=0)
    walk_document = walk.to_document()
    assert walk_document["synthetic"] is True
    assert 'id="sth-caveats"' in render(walk_document, "html") and SYNTHETIC_CAVEAT in render(walk_document, "md")
    real = sweep("ma-crossover", {"fast": [10, 20]}, overrides={**settings}, prices=prices.__class__(
        **{f: getattr(prices, f) for f in ("open", "high", "low", "close", "volume")}, source="csv"), n_blocks=0, workers=1)
    assert real.caveats == () and real.to_document()["synthetic"] is False
