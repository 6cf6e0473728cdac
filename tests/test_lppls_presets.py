"""LPPLS filter presets: each preset's conditions by hand, rejection counts, and the bubble command's outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from shortthehype.cli import main
from shortthehype.lppls import FILTER_PRESETS, FIT_FIELDS, LPPLSFilters, qualification_counts, qualify


def _record(**values: float) -> np.ndarray:
    """A bubble fit of a 201-bar window (dt = 200): O = 8/(2π)·ln(210/10) = 3.88, D = 0.5·1/(8·0.01) = 6.25."""
    base = dict(tc=10.0, m=0.5, omega=8.0, a=5.0, b=-1.0, c1=0.006, c2=0.008, ssr=0.3, rel_err=0.02, n=201.0)
    base.update(values)
    return np.array([base[f] for f in FIT_FIELDS])


@pytest.mark.parametrize(
    "change, qualified_under",
    [
        ({}, {"project", "lppls", "sornette2015", "gds2019"}),
        ({"omega": 14.0}, {"lppls", "sornette2015", "gds2019"}),  # project: ω <= 13
        ({"omega": 20.0}, {"sornette2015", "gds2019"}),  # lppls: ω < 15
        ({"m": 1.1}, {"sornette2015"}),  # only Sornette et al. (2015) allow m up to 1.2
        ({"rel_err": 0.08}, {"lppls", "gds2019"}),  # no error condition in these two
        ({"tc": 21.0}, {"lppls", "sornette2015"}),  # tc - t2 = 0.105 dt: within 0.11 dt and lppls' 0.5 dt
        ({"tc": 60.0, "omega": 14.0}, {"lppls"}),  # 0.3 dt after t2: only lppls' ±0.5 dt (O = 14/(2π)·ln(260/60) = 3.27)
        ({"tc": 170.0, "omega": 14.0, "n": 801.0}, {"lppls"}),  # dt = 800: within lppls' cap of 252·252/365.25 = 174 bars
        ({"tc": 180.0, "omega": 14.0, "n": 801.0}, set()),  # past it (and past every other preset's tc range)
        ({"b": -0.09}, {"lppls", "gds2019"}),  # D = 0.5·0.09/(8·0.01) = 0.5625: >= 0.5, < 0.8
        ({"b": -0.07}, set()),  # D = 0.4375
    ],
)
def test_each_preset_qualifies_by_its_published_conditions(change, qualified_under):
    record = _record(**change)
    assert {name for name, preset in FILTER_PRESETS.items() if qualify(record, preset.filters)} == qualified_under


def test_counts_say_how_many_qualified_and_what_each_condition_rejected():
    records = np.stack([
        _record(),  # qualified bubble
        _record(b=1.0),  # qualified anti-bubble
        _record(m=0.95, omega=14.0),  # fails m and omega
        _record(rel_err=0.2),  # fails the error
        np.full(len(FIT_FIELDS), np.nan),  # no fit: not counted
    ])
    counts = qualification_counts(records, LPPLSFilters())
    assert counts["fits"] == 4 and counts["qualified"] == 2
    assert counts["qualified_bubble"] == 1 and counts["qualified_antibubble"] == 1
    assert counts["rejected"] == {"m": 1, "omega": 1, "tc": 0, "oscillations": 0, "damping": 0, "rel_err": 1}


def test_bubble_filters_preset_and_sensitivity(capsys, monkeypatch, shared_prices_dir):
    import shortthehype.cli

    monkeypatch.setattr(shortthehype.cli.console, "width", 250)
    args = ["bubble", "IXIC", "--data-dir", str(shared_prices_dir), "--start", "2000-01-03", "--end", "2000-03-31",
            "--windows", "125:225:50", "--step", "20"]
    assert main([*args, "--filters", "sornette2015", "--sensitivity"]) == 0
    out = capsys.readouterr().out
    assert "filters sornette2015:" in out and "rejected by m" in out
    assert all(name in out for name in FILTER_PRESETS)
    assert main([*args, "--filters", "lppls", "--filter", "omega=2,20", "--sensitivity", "--json", "-"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["preset"] == "lppls" and document["filters"]["omega"] == [2.0, 20.0]
    assert document["filters"]["rel_err_max"] is None
    assert set(document["sensitivity"]) == set(FILTER_PRESETS)
    counts = document["qualification"]
    assert counts["fits"] == sum(document["n_fits"])
    # the sensitivity's own preset row recomputes the default indicator exactly
    project = document["sensitivity"]["project"]
    assert project["qualification"]["fits"] == counts["fits"]
    code = main([*args, "--filters", "nope"])
    err = capsys.readouterr().err
    assert code == 1 and "--filters 'nope' is unknown" in err and err.count("\n") == 1


def test_reproduce_command_names_the_preset(shared_prices_dir, capsys):
    from shortthehype.report.bubble_view import bubble_view, reproduce_command

    args = ["bubble", "IXIC", "--data-dir", str(shared_prices_dir), "--source", "csv", "--start", "2000-03-01",
            "--end", "2000-03-31", "--windows", "125:150:25", "--step", "10", "--filters", "gds2019", "--json", "-"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    command = reproduce_command(bubble_view(document))
    assert "--filters gds2019" in command and "rel_err_max" not in command  # the preset has no error condition
    assert main(command.split()[1:] + ["--data-dir", str(shared_prices_dir), "--json", "-"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["bubble"] == document["bubble"] and again["filters"] == document["filters"]


def test_bubble_on_synthetic_prices_is_labelled(capsys, tmp_path):
    page = tmp_path / "b.md"
    assert main(["bubble", "MKT", "--source", "synthetic", "--windows", "125:150:25", "--step", "40", "--report", str(page)]) == 0
    assert capsys.readouterr().out.startswith("SYNTHETIC data")
    assert page.read_text().splitlines()[2].startswith("> **SYNTHETIC data")
