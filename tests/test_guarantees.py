"""The smaller guarantees: look-ahead check, read-only prices, trust boundaries, one-line user errors, output text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fixtures.data.tiny_prices import write_price_dir
from shortthehype.cli import main, was_interrupted
from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError
from shortthehype.lookahead import check_lookahead
from shortthehype.runner import backtest


def walk(n: int = 400) -> Prices:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return Prices.from_close(pd.DataFrame({"SPY": close}, index=pd.bdate_range("2019-01-01", periods=n)))


# ---- the look-ahead check ----------------------------------------------------------------------


def test_a_causal_strategy_passes_the_look_ahead_check():
    def momentum(prices: Prices) -> pd.DataFrame:
        close = prices.close
        return (close > close.rolling(20).mean()).astype(float).where(close.rolling(20).count() == 20)

    report = check_lookahead(momentum, walk())
    assert report.ok and len(report.cuts) == 6


def test_a_one_bar_peek_is_caught_at_the_first_cut():
    prices = walk()

    def peek(p: Prices) -> pd.DataFrame:
        close = p.close
        return (close.shift(-1) > close).astype(float)

    report = check_lookahead(peek, prices)
    assert not report.ok
    first_cut = report.cuts[0]
    # the target on a cut date reads the next close, which is the first thing the check changes
    assert report.date == first_cut and report.cut == first_cut and report.ticker == "SPY"
    assert "look-ahead" in report.message("x.py") and f"{first_cut:%Y-%m-%d}" in report.message("x.py")


def test_normalising_by_the_last_price_is_caught_on_the_first_bar():
    def last_price(p: Prices) -> pd.DataFrame:
        close = p.close
        return (close / close.iloc[-1]).clip(upper=1.0)

    report = check_lookahead(last_price, walk())
    assert not report.ok and report.date == walk().index[0]


def test_every_shipped_fixed_weights_spec_passes(shared_prices_dir):
    from shortthehype.runner import check_lookahead as check_spec

    for name in ("sixty-forty", "ma-crossover"):
        assert check_spec(name, source="csv", data_dir=shared_prices_dir).ok, name


# ---- read-only prices --------------------------------------------------------------------------


def _user_spec(tmp_path, body: str) -> str:
    (tmp_path / "u.py").write_text('TICKERS = ["SPY"]\ndef target_weights(prices, params):\n' + body)
    spec = tmp_path / "u.toml"
    spec.write_text('name = "u"\nkind = "python"\n[params]\nfile = "u.py"\n')
    return str(spec)


def test_a_strategy_cannot_change_the_prices_the_engine_simulates(tmp_path):
    prices = walk()
    honest = backtest(_user_spec(tmp_path, "    return prices.close * 0 + 1.0\n"), prices=prices)
    sneaky = tmp_path / "s"
    sneaky.mkdir()
    with pytest.raises(SpecError, match=r"u.py: target_weights\(\) modified the prices it was given \(prices.close\)"):
        backtest(_user_spec(sneaky, "    px = prices.close\n    px /= px.iloc[0]\n    return px * 0 + 1.0\n"), prices=prices)
    assert prices.close["SPY"].equals(walk().close["SPY"])  # the caller's prices are untouched
    assert honest.result.equity.iloc[-1] == pytest.approx(1e6 * prices.close["SPY"].iloc[-1] / prices.close["SPY"].iloc[1], rel=1e-9)


# ---- one-line errors from user code, --debug ---------------------------------------------------


def test_an_exception_in_user_code_is_one_line_and_debug_adds_the_traceback(tmp_path, capsys):
    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    spec = _user_spec(tmp_path, "    return helper()\ndef helper():\n    raise KeyError('x')\n")
    assert main(["backtest", spec, "--source", "csv", "--data-dir", str(data)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path / 'u.py'}:5: target_weights() raised KeyError: 'x'"
    assert main(["backtest", spec, "--source", "csv", "--data-dir", str(data), "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and 'u.py", line 5, in helper' in err and err.strip().endswith("KeyError: 'x'")


def test_ctrl_c_wrapped_by_numba_counts_as_an_interrupt():
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as inner:
            raise SystemError("CPUDispatcher(<function f>) returned a result with an exception set") from inner
    except SystemError as outer:
        assert was_interrupted(outer)
    assert not was_interrupted(SystemError("a real bug"))


# ---- trust boundaries and printed text ---------------------------------------------------------


def test_listing_specs_runs_no_strategy_code(tmp_path, monkeypatch, capsys):
    specs = tmp_path / "strategies"
    specs.mkdir()
    marker = tmp_path / "ran"
    (specs / "u.py").write_text(f"open({str(marker)!r}, 'w').close()\nTICKERS = ['SPY']\n")
    (specs / "u.toml").write_text('name = "u[/oops]"\nkind = "python"\n[params]\nfile = "u.py"\n')
    monkeypatch.setenv("SHORTTHEHYPE_STRATEGIES_DIR", str(specs))
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["strategies", "list"]) == 0
    out = capsys.readouterr().out
    assert not marker.exists(), "strategies list imported a strategy file"
    assert "u[/oops]" in out  # a name is printed as written, never read as rich markup


def test_hints_and_names_are_never_emoji_or_markup(tmp_path, capsys):
    bad = tmp_path / "x.toml"
    bad.write_text('name = "x:100:[bold]"\nkind = "nope:thumbs_up:"\n')
    assert main(["backtest", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nope:thumbs_up:" in err and "👍" not in err


def test_an_explicit_flag_allows_a_strategy_file_outside_the_spec_directory(tmp_path, capsys):
    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "u.py").write_text('TICKERS = ["SPY"]\ndef target_weights(prices, params):\n    return prices.close * 0 + 1.0\n')
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "u.toml"
    spec.write_text('name = "u"\nkind = "python"\n[params]\nfile = "../code/u.py"\n')
    args = ["backtest", str(spec), "--source", "csv", "--data-dir", str(data)]
    assert main(args) == 1
    assert "outside the spec's directory" in capsys.readouterr().err
    assert main([*args, "--allow-any-strategy-file"]) == 0


def test_a_non_utf8_spec_in_the_strategies_directory_breaks_nothing_else(tmp_path, monkeypatch, capsys):
    specs = tmp_path / "strategies"
    specs.mkdir()
    (specs / "latin.toml").write_bytes(b'name = "caf\xe9"\nkind = "fixed-weights"\n')
    monkeypatch.setenv("SHORTTHEHYPE_STRATEGIES_DIR", str(specs))
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["strategies", "list"]) == 0
    out = capsys.readouterr().out
    assert "latin" in out and "not UTF-8" in out and "sixty-forty" in out
    assert main(["strategies", "show", "sixty-forty"]) == 0


def test_a_toml_offset_datetime_is_its_calendar_date(tmp_path):
    data = write_price_dir(tmp_path / "data", {"SPY": 100.0})
    spec = tmp_path / "s.toml"
    spec.write_text('kind = "fixed-weights"\nstart = 2020-03-02T23:30:00-05:00\n[params]\nweights = { SPY = 1.0 }\n')
    run = backtest(str(spec), source="csv", data_dir=data)
    assert run.start == pd.Timestamp("2020-03-02")


def test_an_unwritable_numba_cache_directory_does_not_stop_a_command(tmp_path):
    import os
    import subprocess
    import sys

    blocked = tmp_path / "file"
    blocked.write_text("x")  # a file where the cache directory should be: it can never be created
    env = {**os.environ, "NUMBA_CACHE_DIR": str(blocked / "numba")}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from shortthehype.cli import main; sys.exit(main(['strategies', 'list']))"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


def test_the_checksum_survives_a_parquet_round_trip_and_catches_one_ulp(tmp_path):
    from shortthehype.files import frame_checksum

    negative_nan = np.frombuffer(np.uint64(0xFFF8000000000000).tobytes(), dtype=np.float64)[0]  # 0/0 in a kernel
    frame = pd.DataFrame({
        "x": [1.5, negative_nan, -0.25],
        "n": np.array([1, 2, 3], dtype=np.int64),
        "flag": [True, False, True],
        "day": pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"]).as_unit("us"),
        "label": pd.Categorical(["a", "b", "a"], categories=["b", "a"]),
    })
    frame.to_parquet(tmp_path / "f.parquet")
    back = pd.read_parquet(tmp_path / "f.parquet")
    assert frame_checksum(back) == frame_checksum(frame)
    nudged = frame.copy()
    nudged.loc[0, "x"] = np.nextafter(1.5, 2.0)
    assert frame_checksum(nudged) != frame_checksum(frame)
