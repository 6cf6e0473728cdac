"""``shortthehype data ...``: through ``shortthehype.cli.main`` (capsys) and as a real subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fixtures.data.shared_facts import README_TABLE
from fixtures.data.yahoo_replay import YahooReplay

from shortthehype.cli import main
from shortthehype.data import yahoo
from shortthehype.data.catalog import Catalog

HEADER = "date,open,high,low,close,volume\n"
SCRIPT = Path(sys.executable).parent / "shortthehype"


def table_rows(text: str) -> dict[str, list[str]]:
    """Cells of each rich table row, keyed by the first cell."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) > 1 and cells[0] and not set(cells[0]) <= set("━─┃"):
            rows[cells[0]] = cells[1:]
    return rows


def small_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "csv"
    directory.mkdir()
    (directory / "AAA.csv").write_text(HEADER + "".join(f"2024-01-{d:02d},10,11,9,{10 + d / 100},100\n" for d in range(2, 13)))
    (directory / "BBB.csv").write_text(HEADER + "2024-01-03,20,21,19,20,5\n2024-01-04,20,41,19,40,5\n")
    return directory


@pytest.fixture
def replay(monkeypatch):
    import yfinance

    fake = YahooReplay()
    monkeypatch.setattr(yfinance, "download", fake)
    monkeypatch.setattr(yahoo, "_market_today", lambda: pd.Timestamp("2024-10-01"))
    return fake


# --------------------------------------------------------------------------- list


def test_list_csv_prints_every_shared_ticker_with_its_true_range(shared_prices_dir, capsys):
    assert main(["data", "list", "--source", "csv", "--data-dir", str(shared_prices_dir)]) == 0
    rows = table_rows(capsys.readouterr().out)
    for ticker, (first, last, count) in README_TABLE.items():
        assert rows[ticker] == [first, last, str(count)], ticker


def test_list_defaults_to_the_env_data_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SHORTTHEHYPE_DATA_DIR", str(small_dir(tmp_path)))
    assert main(["data", "list"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows["AAA"] == ["2024-01-02", "2024-01-12", "11"] and rows["BBB"] == ["2024-01-03", "2024-01-04", "2"]


def test_list_csv_with_an_invalid_file_lists_it_and_fails(tmp_path, capsys):
    directory = small_dir(tmp_path)
    (directory / "BAD.csv").write_text(HEADER + "2024-01-02,10,9,11,10,1\n")
    assert main(["data", "list", "--data-dir", str(directory)]) == 1
    captured = capsys.readouterr()
    assert table_rows(captured.out)["BAD"][0] == "invalid"
    err = captured.err.strip().splitlines()
    assert any("BAD.csv: high 9 < low 11 on 2024-01-02" in line for line in err)
    assert err[-1].startswith("error: 1 of 3 price file(s)")


def test_list_cache_shows_source_and_fetch_time(tmp_path, capsys):
    Catalog(tmp_path / "cat").import_csv_dir(small_dir(tmp_path))
    assert main(["data", "list", "--source", "cache", "--cache-dir", str(tmp_path / "cat")]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows["AAA"][:4] == ["2024-01-02", "2024-01-12", "11", "csv"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rows["AAA"][4])


def test_list_of_an_empty_catalog(tmp_path, capsys):
    assert main(["data", "list", "--cache-dir", str(tmp_path / "none")]) == 0
    assert "is empty" in capsys.readouterr().out


def test_list_with_an_unknown_source(tmp_path, capsys):
    assert main(["data", "list", "--source", "synthetic"]) == 1
    assert capsys.readouterr().err.strip() == "error: data list --source must be csv or cache (got 'synthetic')"


# --------------------------------------------------------------------------- show


def test_show_prints_summary_and_both_ends(tmp_path, capsys):
    assert main(["data", "show", "aaa", "--data-dir", str(small_dir(tmp_path)), "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "AAA  source csv  2024-01-02..2024-01-12  11 rows" in out
    assert "last close 10.1200 on 2024-01-12; lowest 10.0200 on 2024-01-02; highest 10.1200 on 2024-01-12" in out
    rows = table_rows(out)
    assert list(rows) == ["2024-01-02", "2024-01-03", "⋮", "2024-01-11", "2024-01-12"]
    assert rows["2024-01-03"] == ["10.0000", "11.0000", "9.0000", "10.0300", "100"]


def test_show_range_and_warnings(tmp_path, capsys):
    assert main(["data", "show", "BBB", "--data-dir", str(small_dir(tmp_path)), "--end", "2024-01-04"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "warning: BBB 2024-01-04: one-day close-to-close move +100.0% exceeds ±45% (an unadjusted split?)"


def test_show_unknown_ticker_is_one_error_line(tmp_path, capsys):
    assert main(["data", "show", "AAB", "--data-dir", str(small_dir(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no price file for AAB") and "did you mean 'AAA'?" in err


def test_show_from_the_catalog_offline(tmp_path, capsys):
    Catalog(tmp_path / "cat").import_csv_dir(small_dir(tmp_path))
    assert main(["data", "show", "AAA", "--offline", "--cache-dir", str(tmp_path / "cat"), "--rows", "0"]) == 0
    out = capsys.readouterr().out
    assert "AAA  source cache  2024-01-02..2024-01-12  11 rows" in out and "┃" not in out


# --------------------------------------------------------------------------- fetch and import


def test_fetch_reports_each_ticker_and_fails_if_any_failed(tmp_path, capsys, replay):
    rc = main(["data", "fetch", "nvda", "zzzz", "^ixic", "--cache-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 1
    assert "NVDA: new, 188 new row(s); 188 rows 2024-01-02..2024-09-30" in captured.out
    assert "^IXIC: new, 252 new row(s); 252 rows 2000-01-03..2000-12-29" in captured.out
    assert "ZZZZ: failed: yahoo download of ZZZZ failed: yfinance returned no rows" in captured.err
    assert captured.err.strip().splitlines()[-1] == "error: 1 of 3 ticker(s) failed to fetch: ZZZZ"
    assert Catalog(tmp_path).stems() == ["NVDA", "^IXIC"]
    assert [c["ticker"] for c in replay.calls] == ["NVDA", "ZZZZ", "^IXIC"]


def test_fetch_again_is_up_to_date(tmp_path, capsys, replay):
    assert main(["data", "fetch", "NVDA", "--cache-dir", str(tmp_path)]) == 0
    assert main(["data", "fetch", "NVDA", "--cache-dir", str(tmp_path)]) == 0
    assert "NVDA: up to date, 0 new row(s)" in capsys.readouterr().out
    assert len(replay.calls) == 1


def test_fetch_with_a_bad_date_downloads_nothing(tmp_path, capsys, replay):
    assert main(["data", "fetch", "NVDA", "--start", "2024-13-01", "--cache-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == "error: --start='2024-13-01' is not a date: expected YYYY-MM-DD"
    assert replay.calls == []


def test_import_copies_validated_files(tmp_path, capsys):
    assert main(["data", "import", str(small_dir(tmp_path)), "--cache-dir", str(tmp_path / "cat")]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert rows["AAA"] == ["2024-01-02", "2024-01-12", "11"] and rows["BBB"] == ["2024-01-03", "2024-01-04", "2"]
    assert Catalog(tmp_path / "cat").stems() == ["AAA", "BBB"]


def test_import_of_a_bad_directory_changes_nothing(tmp_path, capsys):
    directory = small_dir(tmp_path)
    (directory / "CCC.csv").write_text("")
    assert main(["data", "import", str(directory), "--cache-dir", str(tmp_path / "cat")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "CCC.csv is empty" in err and "nothing was imported" in err
    assert Catalog(tmp_path / "cat").stems() == []


@pytest.mark.parametrize("command", [[], ["list"], ["show"], ["fetch"], ["import"]])
def test_help_everywhere(command, capsys):
    assert main(["data", *command, "--help"]) == 0
    assert re.search(r"Usage: .*data " + " ".join(command), capsys.readouterr().out)


# --------------------------------------------------------------------------- real process


def test_subprocess_error_is_one_line_with_exit_code_1(tmp_path):
    result = subprocess.run(
        [str(SCRIPT), "data", "show", "NOPE", "--data-dir", str(small_dir(tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no price file for NOPE in ")


def test_subprocess_acceptance_list_of_the_shared_data(shared_prices_dir):
    result = subprocess.run(
        [str(SCRIPT), "data", "list", "--source", "csv", "--data-dir", str(shared_prices_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert {t: tuple(rows[t]) for t in README_TABLE} == {t: (f, l, str(n)) for t, (f, l, n) in README_TABLE.items()}


def test_messages_with_brackets_are_printed_verbatim(tmp_path, capsys):
    directory = tmp_path / "csv"
    directory.mkdir()
    (directory / "ODD.csv").write_text(HEADER + "2024-01-02,12,11,9,10,1\n")
    assert main(["data", "show", "ODD", "--data-dir", str(directory)]) == 0
    assert "1 row(s) with open or close outside [low, high], first on 2024-01-02 (line 2)" in capsys.readouterr().err
