"""Bad input, table-driven: every case exits with code 1, prints exactly one line naming the culprit, no traceback.

Each row is (id, files to write, command line, text the one line must contain).  Files are written into
a fresh directory ``W`` (``{W}`` in paths and arguments is replaced by it); every case gets a small valid
CSV data directory ``{W}/data`` (SPY and QQQ, 300 business days from 2020) to point ``--data-dir`` at.
The cases cover CSV files, spec files, user strategy files, command-line arguments and result files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shortthehype.cli import main

from fixtures.data.tiny_prices import HEADER, csv_text as _csv

GOOD = {"data/SPY.csv": _csv(seed=1), "data/QQQ.csv": _csv(base=200.0, seed=2)}
D = ["--source", "csv", "--data-dir", "{W}/data"]
ROWS = "2020-01-02,10,11,9,10,100\n2020-01-03,10,11,9,10,100\n"
SIXTY = 'name = "s"\nkind = "fixed-weights"\n[params]\nweights = { SPY = 0.6, QQQ = 0.4 }\n'


def _spec(body: str, name: str = "bad.toml") -> dict[str, str]:
    return {name: body}


def _user(py: str, extra: str = "") -> dict[str, str]:
    return {"u.py": py, "u.toml": f'name = "u"\nkind = "python"\n{extra}[params]\nfile = "u.py"\n'}


OK_PY = 'TICKERS = ["SPY"]\n'
BODY = "def target_weights(prices, params):\n"


def _sweep_doc(meta: object) -> dict[str, str]:
    return {"make_parquet": json.dumps(meta) if not isinstance(meta, str) else meta}


CASES: list[tuple[str, dict[str, str], list[str], str]] = [
    # ---- CSV price files -------------------------------------------------------------------------
    ("csv-missing-close", {"data/SPY.csv": "date,open,high,low,volume\n2020-01-02,1,1,1,1\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-bad-date", {"data/SPY.csv": HEADER + "2020-13-45,1,1,1,1,1\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-duplicate-date", {"data/SPY.csv": HEADER + ROWS + "2020-01-03,10,11,9,10,100\n"}, ["data", "show", "SPY", *D], "2020-01-03"),
    ("csv-negative-price", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,11,9,-5,100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-zero-price", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,11,0,10,100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-nan-close", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,11,9,nan,100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-inf-close", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,11,9,inf,100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-denormal-price", {"data/SPY.csv": HEADER + "2020-01-02,1e-320,1e-320,1e-320,1e-320,1\n2020-01-03,1e-320,1e-320,1e-320,1e-320,1\n"},
     ["data", "show", "SPY", *D], "smallest normal"),
    ("csv-high-below-low", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,8,9,10,100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-empty", {"data/SPY.csv": ""}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-header-only", {"data/SPY.csv": HEADER}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-negative-volume", {"data/SPY.csv": HEADER + ROWS + "2020-01-06,10,11,9,10,-100\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-not-utf8", {"data/SPY.csv": b"date,open,high,low,close,volume\n2020-01-02,\xff\xfe,1,1,1,1\n"}, ["data", "show", "SPY", *D], "SPY.csv"),
    ("csv-unknown-ticker", {}, ["data", "show", "NOPE", *D], "NOPE"),
    ("csv-empty-directory", {"empty/readme.txt": "x"}, ["data", "list", "--data-dir", "{W}/empty"], "empty"),
    ("csv-missing-directory", {}, ["data", "list", "--data-dir", "{W}/nowhere"], "nowhere"),
    ("csv-import-bad-file", {"imp/AAA.csv": HEADER + "2020-01-02,1,1,1,-1,1\n"}, ["data", "import", "{W}/imp"], "AAA.csv"),
    ("csv-import-bad-name", {"imp/two words.csv": HEADER + ROWS}, ["data", "import", "{W}/imp"], "two words"),
    ("csv-import-same-ticker-twice", {"imp/aaa.csv": HEADER + ROWS, "imp/AAA.csv": HEADER + ROWS}, ["data", "import", "{W}/imp"], "same ticker"),
    ("csv-backtest-missing-ticker", _spec('name = "m"\nkind = "fixed-weights"\n[params]\nweights = { ZZZZ = 1.0 }\n'),
     ["backtest", "{W}/bad.toml", *D], "ZZZZ"),
    ("csv-window-without-data", {}, ["backtest", "{W}/../s.toml", *D, "--start", "2031-01-02"], "2031"),
    ("data-fetch-invalid-symbol", {}, ["data", "fetch", "A B"], "A B"),
    # ---- spec files ------------------------------------------------------------------------------
    ("spec-not-toml", _spec("name = \n"), ["backtest", "{W}/bad.toml", *D], "bad.toml"),
    ("spec-not-utf8", {"bad.toml": b'name = "\xff\xfe"\nkind = "fixed-weights"\n'}, ["backtest", "{W}/bad.toml", *D], "not UTF-8"),
    ("spec-missing-kind", _spec('name = "x"\n'), ["backtest", "{W}/bad.toml", *D], "'kind'"),
    ("spec-unknown-kind", _spec('kind = "fixed-wieghts"\n'), ["backtest", "{W}/bad.toml", *D], "fixed-wieghts"),
    ("spec-unknown-top-key", _spec(SIXTY + 'colour = "red"\n'), ["backtest", "{W}/bad.toml", *D], "colour"),
    ("spec-unknown-param", _spec(SIXTY.replace("[params]\n", "[params]\nrebalanse = 'monthly'\n")), ["backtest", "{W}/bad.toml", *D], "rebalanse"),
    ("spec-unknown-engine-key", _spec(SIXTY + "[engine]\nfeez = 0.1\n"), ["backtest", "{W}/bad.toml", *D], "feez"),
    ("spec-weights-not-mapping", _spec('kind = "fixed-weights"\n[params]\nweights = "abc"\n'), ["backtest", "{W}/bad.toml", *D], "weights"),
    ("spec-fees-absurd", _spec(SIXTY + "[engine]\nfees = 2.0\n"), ["backtest", "{W}/bad.toml", *D], "fees"),
    ("spec-slippage-absurd", _spec(SIXTY + "[engine]\nslippage = 0.9\n"), ["backtest", "{W}/bad.toml", *D], "slippage"),
    ("spec-leverage-absurd", _spec('kind = "fixed-weights"\n[params]\nweights = { SPY = 1e300 }\n'), ["backtest", "{W}/bad.toml", *D], "leverage"),
    ("spec-start-after-end", _spec(SIXTY.replace("[params]", 'start = 2021-01-04\nend = 2020-06-01\n[params]')), ["backtest", "{W}/bad.toml", *D], "2021-01-04"),
    ("spec-params-not-table", _spec('kind = "fixed-weights"\nparams = 3\n'), ["backtest", "{W}/bad.toml", *D], "[params]"),
    ("spec-sweep-unknown", _spec(SIXTY + "[sweep]\nfoo = [1, 2]\n"), ["backtest", "{W}/bad.toml", *D], "foo"),
    ("spec-bad-rebalance", _spec(SIXTY.replace("[params]\n", "[params]\nrebalance = 'fortnightly'\n")), ["backtest", "{W}/bad.toml", *D], "rebalance"),
    ("spec-bad-date", _spec('start = "2020-02-30"\n' + SIXTY), ["backtest", "{W}/bad.toml", *D], "start"),
    ("spec-max-gross-negative", _spec(SIXTY + "[engine]\nmax_gross = -1\n"), ["backtest", "{W}/bad.toml", *D], "max_gross"),
    ("spec-margin-above-one", _spec(SIXTY + "[engine]\nmaintenance_margin = 2\n"), ["backtest", "{W}/bad.toml", *D], "maintenance_margin"),
    ("spec-init-cash-zero", _spec(SIXTY + "[engine]\ninit_cash = 0\n"), ["backtest", "{W}/bad.toml", *D], "init_cash"),
    ("spec-stop-loss-negative", _spec(SIXTY + "[engine]\nstop_loss = -1\n"), ["backtest", "{W}/bad.toml", *D], "stop_loss"),
    ("spec-fees-unknown-ticker", _spec(SIXTY + "[engine]\nfees = { NVDA = 0.01 }\n"), ["backtest", "{W}/bad.toml", *D], "NVDA"),
    ("spec-nested-too-deep", _spec("x = " + "[" * 5000 + "]" * 5000 + "\n"), ["backtest", "{W}/bad.toml", *D], "bad.toml"),
    ("spec-markup-name-shown-literally", _spec('name = "x[/oops]"\nkind = "nope"\n'), ["backtest", "{W}/bad.toml", *D], "nope"),
    ("spec-not-found", {}, ["backtest", "{W}/missing.toml", *D], "missing.toml"),
    ("spec-unknown-name", {}, ["backtest", "sixty-fourty", *D], "sixty-fourty"),
    ("spec-show-unknown", {}, ["strategies", "show", "no-such-spec"], "no-such-spec"),
    ("spec-python-no-file", _spec('kind = "python"\n'), ["backtest", "{W}/bad.toml", *D], "'file'"),
    ("spec-python-not-py", _spec('kind = "python"\n[params]\nfile = "x.txt"\n'), ["backtest", "{W}/bad.toml", *D], "x.txt"),
    ("spec-python-missing-file", _spec('kind = "python"\n[params]\nfile = "gone.py"\n'), ["backtest", "{W}/bad.toml", *D], "gone.py"),
    ("spec-python-outside-dir", {"sub/bad.toml": 'kind = "python"\n[params]\nfile = "../u.py"\n', "u.py": OK_PY},
     ["strategies", "show", "{W}/sub/bad.toml"], "--allow-any-strategy-file"),
    ("spec-python-absolute-path", {"sub/bad.toml": 'kind = "python"\n[params]\nfile = "/etc/hostname.py"\n'},
     ["strategies", "show", "{W}/sub/bad.toml"], "hostname.py"),
    # ---- user strategy files ---------------------------------------------------------------------
    ("user-syntax-error", _user("def target_weights(prices, params)\n"), ["backtest", "{W}/u.toml", *D], "u.py:1"),
    ("user-import-error", _user("import no_such_module_xyz\n"), ["backtest", "{W}/u.toml", *D], "u.py:1"),
    ("user-exit-at-import", _user("import sys\nsys.exit(2)\n"), ["backtest", "{W}/u.toml", *D], "u.py:2"),
    ("user-raises", _user(OK_PY + BODY + "    raise RuntimeError('boom')\n"), ["backtest", "{W}/u.toml", *D], "u.py:3"),
    ("user-raises-deeper", _user(OK_PY + "def helper():\n    return {}['x']\n" + BODY + "    return helper()\n"),
     ["backtest", "{W}/u.toml", *D], "u.py:3"),
    ("user-sys-exit", _user("import sys\n" + OK_PY + BODY + "    sys.exit(3)\n"), ["backtest", "{W}/u.toml", *D], "sys.exit(3)"),
    ("user-tickers-raises", _user("def tickers(params):\n    raise ValueError('no')\n" + BODY + "    pass\n"), ["backtest", "{W}/u.toml", *D], "u.py:2"),
    ("user-check-raises", _user(OK_PY + "def check(params):\n    raise KeyError('k')\n" + BODY + "    pass\n"), ["backtest", "{W}/u.toml", *D], "u.py:3"),
    ("user-returns-none", _user(OK_PY + BODY + "    return None\n"), ["backtest", "{W}/u.toml", *D], "u.py"),
    ("user-returns-int-index", _user("import pandas as pd\n" + OK_PY + BODY + "    return pd.DataFrame({'SPY': [1.0]})\n"),
     ["backtest", "{W}/u.toml", *D], "u.py"),
    ("user-unknown-column", _user(OK_PY + BODY + "    return prices.close.rename(columns={'SPY': 'SPX'}) * 0 + 1\n"),
     ["backtest", "{W}/u.toml", *D], "SPX"),
    ("user-text-weights", _user(OK_PY + BODY + "    return (prices.close * 0).astype(str) + 'x'\n"), ["backtest", "{W}/u.toml", *D], "not numbers"),
    ("user-infinite-weights", _user(OK_PY + BODY + "    return prices.close * 0 + float('inf')\n"), ["backtest", "{W}/u.toml", *D], "SPY"),
    ("user-leverage", _user(OK_PY + BODY + "    return prices.close * 0 + 500.0\n"), ["backtest", "{W}/u.toml", *D], "leverage"),
    ("user-edits-prices", _user(OK_PY + BODY + "    px = prices.close\n    px /= px.iloc[0]\n    return px * 0 + 1\n"),
     ["backtest", "{W}/u.toml", *D], "read-only"),
    ("user-writes-array", _user(OK_PY + BODY + "    prices.close.to_numpy()[0, 0] = 1.0\n    return prices.close * 0 + 1\n"),
     ["backtest", "{W}/u.toml", *D], "u.py:3"),
    ("user-looks-ahead", _user(OK_PY + BODY + "    c = prices.close\n    return (c.shift(-1) > c).astype(float)\n"),
     ["backtest", "{W}/u.toml", "--check-lookahead", *D], "look-ahead"),
    ("user-looks-ahead-check", _user(OK_PY + BODY + "    c = prices.close\n    return c * 0 + (c.iloc[-1] > c.iloc[0])\n"),
     ["strategies", "check", "{W}/u.toml", *D], "look-ahead"),
    ("user-no-tickers", _user(BODY + "    pass\n"), ["backtest", "{W}/u.toml", *D], "TICKERS"),
    ("user-params-clash", _user("from shortthehype.params import Param\nPARAMS = (Param('fees', 'float', 0.0, 'x'),)\n" + OK_PY),
     ["backtest", "{W}/u.toml", *D], "fees"),
    ("user-missing-function", _user(OK_PY), ["backtest", "{W}/u.toml", *D], "target_weights"),
    ("user-recursion", _user(OK_PY + "def f(n):\n    return f(n + 1)\n" + BODY + "    return f(0)\n"), ["backtest", "{W}/u.toml", *D], "RecursionError"),
    # ---- command-line arguments ------------------------------------------------------------------
    ("set-unknown", {}, ["backtest", "{W}/../s.toml", *D, "--set", "feez=0.1"], "feez"),
    ("set-no-equals", {}, ["backtest", "{W}/../s.toml", *D, "--set", "fees"], "fees"),
    ("set-not-number", {}, ["backtest", "{W}/../s.toml", *D, "--set", "fees=abc"], "fees"),
    ("set-negative-fees", {}, ["backtest", "{W}/../s.toml", *D, "--set", "fees=-1"], "fees"),
    ("set-nan", {}, ["backtest", "{W}/../s.toml", *D, "--set", "fees=nan"], "fees"),
    ("set-inf", {}, ["backtest", "{W}/../s.toml", *D, "--set", "slippage=inf"], "slippage"),
    ("set-huge-int", {}, ["backtest", "ma-crossover", *D, "--set", "slow=99999999999999999999999"], "slow"),
    ("set-weights-no-colon", {}, ["backtest", "{W}/../s.toml", *D, "--set", "weights=SPY"], "weights"),
    ("set-bad-date", {}, ["backtest", "{W}/../s.toml", *D, "--set", "start=2020-13-01"], "start"),
    ("set-leverage", {}, ["backtest", "{W}/../s.toml", *D, "--set", "weights=SPY:1e300"], "leverage"),
    ("set-fees-absurd", {}, ["backtest", "{W}/../s.toml", *D, "--set", "fees=2.0"], "fees"),
    ("set-bool", {}, ["backtest", "{W}/../s.toml", *D, "--set", "integer_shares=maybe"], "integer_shares"),
    ("set-mapping-entry-of-scalar", {}, ["backtest", "{W}/../s.toml", *D, "--set", "rebalance.SPY=1"], "rebalance"),
    ("set-execution", {}, ["backtest", "{W}/../s.toml", *D, "--set", "execution=tomorrow"], "execution"),
    ("start-bad", {}, ["backtest", "{W}/../s.toml", *D, "--start", "yesterday"], "start"),
    ("grid-infinite", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=1:inf:1"], "1:inf:1"),
    ("grid-too-large", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=1:300000000:1"], "fast"),
    ("grid-stop-below-start", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=5:1:1"], "fast"),
    ("grid-zero-step", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=1:5:0"], "fast"),
    ("grid-nan-step", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=1:5:nan"], "fast"),
    ("grid-no-equals", {}, ["sweep", "ma-crossover", *D, "--grid", "fast"], "fast"),
    ("grid-twice", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=2,3", "--grid", "fast=4"], "fast"),
    ("grid-unknown", {}, ["sweep", "ma-crossover", *D, "--grid", "fsat=2,3"], "fsat"),
    ("grid-bad-value", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=2,x"], "fast"),
    ("sweep-objective", {}, ["sweep", "ma-crossover", *D, "--objective", "profit"], "profit"),
    ("sweep-top-negative", {}, ["sweep", "ma-crossover", *D, "--top", "-1"], "--top"),
    ("sweep-scheduler-without-dask", {}, ["sweep", "ma-crossover", *D, "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    ("sweep-scheduler-malformed", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=2,3", "--executor", "dask", "--scheduler", "::bad::"],
     "::bad::"),
    ("sweep-executor", {}, ["sweep", "ma-crossover", *D, "--executor", "spark"], "spark"),
    ("sweep-blocks-odd", {}, ["sweep", "ma-crossover", *D, "--blocks", "3"], "n_blocks"),
    ("sweep-random-zero", {}, ["sweep", "ma-crossover", *D, "--random", "0"], "random"),
    ("sweep-chunk-size-zero", {}, ["sweep", "ma-crossover", *D, "--grid", "fast=2,3", "--chunk-size", "0"], "chunk_size"),
    ("sweep-resume-without-out", {}, ["sweep", "ma-crossover", *D, "--resume"], "--out"),
    ("sweep-out-missing-dir", {}, ["sweep", "ma-crossover", *D, "--out", "{W}/nowhere/r.parquet"], "nowhere"),
    ("sweep-out-is-directory", {"outdir/keep": ""}, ["sweep", "ma-crossover", *D, "--out", "{W}/outdir"], "outdir"),
    ("sweep-report-missing-dir", {}, ["sweep", "ma-crossover", *D, "--report", "{W}/nowhere/r.html"], "nowhere"),
    ("walkforward-report-png", {}, ["walkforward", "ma-crossover", *D, "--report", "{W}/r.png"], "r.png"),
    ("walkforward-train", {}, ["walkforward", "ma-crossover", *D, "--train", "3q"], "3q"),
    ("walkforward-test-zero", {}, ["walkforward", "ma-crossover", *D, "--test", "0m"], "0m"),
    ("json-missing-dir", {}, ["backtest", "{W}/../s.toml", *D, "--json", "{W}/nowhere/r.json"], "nowhere"),
    ("json-onto-directory", {"jdir/keep": ""}, ["backtest", "{W}/../s.toml", *D, "--json", "{W}/jdir"], "jdir"),
    ("json-under-a-file", {"afile": "x"}, ["backtest", "{W}/../s.toml", *D, "--json", "{W}/afile/r.json"], "afile"),
    ("report-png-suffix", {}, ["backtest", "{W}/../s.toml", *D, "--report", "{W}/r.png"], "r.png"),
    ("report-missing-dir", {}, ["backtest", "{W}/../s.toml", *D, "--report", "{W}/nowhere/r.html"], "nowhere"),
    ("report-format", {}, ["backtest", "{W}/../s.toml", *D, "--report", "{W}/r.html", "--format", "xml"], "xml"),
    ("png-onto-file", {"afile": "x"}, ["backtest", "{W}/../s.toml", *D, "--png", "{W}/afile"], "afile"),
    ("png-under-a-file", {"afile": "x"}, ["backtest", "{W}/../s.toml", *D, "--png", "{W}/afile/figs"], "afile"),
    ("md-and-json-stdout", {}, ["backtest", "{W}/../s.toml", *D, "--json", "-", "--format", "md"], "stdout"),
    ("bubble-windows", {}, ["bubble", "SPY", *D, "--windows", "a:b:c"], "windows"),
    ("compare-unknown", {}, ["compare", "{W}/../s.toml", "nope-spec", *D], "nope-spec"),
    # ---- result files --------------------------------------------------------------------------
    ("report-missing-file", {}, ["report", "{W}/none.json"], "none.json"),
    ("report-not-json", {"r.json": "{not json"}, ["report", "{W}/r.json"], "r.json"),
    ("report-nested-json", {"r.json": "[" * 100000 + "]" * 100000}, ["report", "{W}/r.json"], "r.json"),
    ("report-list-of-numbers", {"r.json": "[1, 2, 3]"}, ["report", "{W}/r.json"], "r.json"),
    ("report-not-utf8", {"r.json": b"\xff\xfe{}"}, ["report", "{W}/r.json"], "r.json"),
    ("report-trade-without-direction", {"make_trade_doc": ""}, ["report", "{W}/r.json", "--format", "md", "-o", "-"], "direction"),
    ("report-plain-parquet", {"make_plain_parquet": ""}, ["report", "{W}/p.parquet"], "p.parquet"),
    ("results-missing", {}, ["results", "show", "{W}/none.parquet"], "none.parquet"),
    ("results-not-parquet", {"p.parquet": "hello"}, ["results", "show", "{W}/p.parquet"], "p.parquet"),
    ("results-empty-file", {"p.parquet": ""}, ["results", "show", "{W}/p.parquet"], "p.parquet"),
    ("results-metadata-not-json", _sweep_doc("{oops"), ["results", "show", "{W}/p.parquet"], "p.parquet"),
    ("results-metadata-missing-keys", _sweep_doc({"strategy": "x"}), ["results", "show", "{W}/p.parquet"], "p.parquet"),
    ("results-metadata-a-list", _sweep_doc([1, 2]), ["results", "show", "{W}/p.parquet"], "p.parquet"),
    ("results-top-negative", {"make_results": ""}, ["results", "show", "{W}/r.parquet", "--top", "-2"], "--top"),
    ("results-sort-unknown", {"make_results": ""}, ["results", "show", "{W}/r.parquet", "--sort", "sharpy"], "sharpy"),
    ("results-flipped-value", {"make_results": "flip"}, ["results", "show", "{W}/r.parquet"], "checksum"),
    ("sql-no-file", {}, ["results", "sql", "SELECT 1"], "--file"),
    ("sql-parser-error", {"make_results": ""}, ["results", "sql", "SELEC 1", "--file", "{W}/r.parquet"], "SQL error"),
    ("sql-reads-system-file", {"make_results": ""}, ["results", "sql", "SELECT * FROM read_csv('/etc/passwd')", "--file", "{W}/r.parquet"],
     "/etc/passwd"),
    ("sql-copy-to", {"make_results": ""}, ["results", "sql", "COPY results TO '{W}/x.csv'", "--file", "{W}/r.parquet"], "x.csv"),
    ("sql-install", {"make_results": ""}, ["results", "sql", "INSTALL httpfs", "--file", "{W}/r.parquet"], "SQL error"),
    ("sql-attach", {"make_results": ""}, ["results", "sql", "ATTACH '{W}/x.db'", "--file", "{W}/r.parquet"], "x.db"),
    ("sql-unlock", {"make_results": ""}, ["results", "sql", "SET enable_external_access = true", "--file", "{W}/r.parquet"], "SQL error"),
]


def _make_results(where: Path, data_dir: Path) -> Path:
    from shortthehype.sweeps import sweep

    out = where / "r.parquet"
    sweep("ma-crossover", {"fast": "2,3", "slow": "10,20"}, out=out, source="csv", data_dir=data_dir, n_blocks=0,
          overrides={"ticker": "SPY", "cash_rate": 0.0})  # the shipped spec's T-bill has no rates file here
    return out


def _write(case_dir: Path, files: dict[str, str | bytes]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, content in files.items():
        if name == "make_parquet":  # a Parquet file with sweep metadata of our choosing
            table = pa.table({"combination": [0], "sharpe": [1.0]})
            table = table.replace_schema_metadata({b"shortthehype.sweeps": content.encode()})
            pq.write_table(table, case_dir / "p.parquet")
        elif name == "make_plain_parquet":
            pq.write_table(pa.table({"a": [1]}), case_dir / "p.parquet")
        elif name == "make_trade_doc":
            from shortthehype.runner import backtest

            run = backtest(case_dir.parent / "s.toml", source="csv", data_dir=case_dir / "data", overrides={"rebalance": "monthly"})
            document = json.loads(json.dumps(run.to_dict()))
            assert document["trades"], "the fixture run must have trades"
            del document["trades"][0]["direction"]
            (case_dir / "r.json").write_text(json.dumps(document))
        elif name == "make_results":
            out = _make_results(case_dir, case_dir / "data")
            if content == "flip":  # change one stored Sharpe ratio, keep the file valid Parquet
                table = pq.read_table(out)
                sharpe = table.column("sharpe").to_numpy().copy()
                sharpe[0] += 1.0
                table = table.set_column(table.schema.get_field_index("sharpe"), "sharpe", pa.array(sharpe))
                pq.write_table(table, out)
        else:
            path = case_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_1_naming_the_culprit(case, tmp_path, capsys):
    name, files, argv, expected = case
    (tmp_path / "s.toml").write_text(SIXTY)  # a valid spec beside every case directory
    case_dir = tmp_path / "w"
    case_dir.mkdir()
    _write(case_dir, GOOD)
    _write(case_dir, files)
    capsys.readouterr()
    args = [a.replace("{W}", str(case_dir)) for a in argv]
    code = main(args)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 1, f"exit code {code}; stderr: {captured.err}"
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == 1, f"expected one line, got: {captured.err}"
    assert lines[0].startswith("error: ")
    assert expected.replace("{W}", str(case_dir)) in lines[0], lines[0]


def test_the_table_has_at_least_100_cases():
    assert len(CASES) >= 100
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["backtest", "sixty-forty", "--bogus"], "error: No such option: --bogus (see `shortthehype backtest --help`)"),
        (["backtest"], "error: Missing argument 'spec' (see `shortthehype backtest --help`)"),
        (["bubble", "QQQ", "--step", "x"], "error: Invalid value for '--step': "),
        (["precompile", "--workers", "0"], "error: Invalid value for '--workers': "),
        (["nosuch"], "error: No such command 'nosuch' (see `shortthehype --help`)"),
        (["strategies", "lst"], "error: No such command 'lst'. Did you mean 'list'? (see `shortthehype strategies --help`)"),
    ],
)
def test_a_malformed_command_line_is_one_line_exit_2_naming_the_option(argv, expected, capsys):
    """Usage errors (click's) are one line too, with the conventional exit code 2 and where to read the usage."""
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith(expected), captured.err
    assert "Traceback" not in captured.err + captured.out and "╭" not in captured.err


def test_help_and_version_still_print_and_succeed(capsys):
    assert main(["backtest", "--help"]) == 0
    assert "Usage: shortthehype backtest" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("shortthehype ")
    assert main([]) == 2  # no command: the help, as click prints it
    assert "Usage: shortthehype" in capsys.readouterr().out
