"""Strategy specs: loading, validation messages, overrides, sweep ranges."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from shortthehype.errors import ParamError, SpecError
from shortthehype.spec import (
    available_specs,
    expand_range,
    load_spec,
    parse_assignments,
    resolve_spec_path,
    spec_from_mapping,
)

REPO = Path(__file__).resolve().parents[1]

MINIMAL = {"kind": "fixed-weights", "params": {"weights": {"SPY": 0.6, "QQQ": 0.4}}}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_every_shipped_spec_loads():
    paths = sorted((REPO / "strategies").glob("*.toml"))
    assert paths, "strategies/ must ship example specs"
    for path in paths:
        spec = load_spec(path)
        assert spec.name and spec.description, path
        assert spec.tickers()


def test_spec_by_name_and_defaults_filled():
    spec = load_spec("sixty-forty")
    assert spec.path == (REPO / "strategies" / "sixty_forty.toml").resolve() or spec.path.name == "sixty_forty.toml"
    assert spec.params == {"weights": {"SPY": 0.6, "QQQ": 0.4}, "rebalance": "monthly"}
    assert spec.engine["fees"] == 0.0005 and spec.engine["execution"] == "next_open"
    assert spec.run["start"] == pd.Timestamp("2005-01-03") and spec.run["end"] is None
    assert spec.sweep["rebalance"] == ["weekly", "monthly", "quarterly", "yearly"]
    assert "sixty-forty" in available_specs()


def test_overrides_cover_params_engine_run_and_mapping_items():
    spec = spec_from_mapping(MINIMAL).with_overrides(
        {"fees": "0.001", "rebalance": "weekly", "weights.spy": "0.5", "start": "2020-01-02", "execution": "close"}
    )
    assert spec.engine["fees"] == 0.001 and spec.engine["execution"] == "close"
    assert spec.params["rebalance"] == "weekly"
    assert spec.params["weights"] == {"SPY": 0.5, "QQQ": 0.4}
    assert spec.run["start"] == pd.Timestamp("2020-01-02")


def test_unknown_override_suggests_a_name():
    with pytest.raises(ParamError, match=r"unknown parameter 'slipage'; did you mean 'slippage'\?"):
        spec_from_mapping(MINIMAL).with_overrides({"slipage": "0.1"})
    with pytest.raises(ParamError, match=r"'rebalance' is not a mapping"):
        spec_from_mapping(MINIMAL).with_overrides({"rebalance.x": "1"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('kind = "fixed-weights"\nbogus = 1\n', r"s\.toml: unknown key 'bogus'"),
        ('name = "x"\n', r"s\.toml: missing key 'kind'"),
        ('kind = "fixed-wieghts"\n', r"unknown strategy kind 'fixed-wieghts'; did you mean 'fixed-weights'"),
        ('kind = "fixed-weights"\n[params]\nweight = {A=1}\n', r"unknown key 'weight' in \[params\]; did you mean 'weights'"),
        ('kind = "fixed-weights"\n[params]\nweights = {A=1}\n[engine]\nfees = -1\n', r"s\.toml: parameter 'fees' must be >= 0"),
        ('kind = "fixed-weights"\n[params]\nweights = {A="x"}\n', r"s\.toml: parameter 'weights'"),
        ('kind = "fixed-weights"\n[params]\nrebalance = "monthly"\n', r"s\.toml: fixed-weights needs parameter 'weights'"),
        ('kind = "fixed-weights"\nstart = "2020-01-02"\nend = "2019-01-02"\n[params]\nweights = {A=1}\n', r"start 2020-01-02 is after end 2019-01-02"),
        ('kind = "fixed-weights"\n[params]\nweights = {A=1}\n[sweep]\nfee = [0.1]\n', r"\[sweep\] names unknown parameter 'fee'; did you mean 'fees'"),
        ('kind = = "x"\n', r"s\.toml: not valid TOML"),
    ],
)
def test_invalid_specs_give_one_line_errors(tmp_path, text, message):
    with pytest.raises((SpecError, ParamError), match=message) as info:
        load_spec(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_missing_spec_name_and_file():
    with pytest.raises(SpecError, match=r"no strategy spec named 'sixty-fourty'; did you mean 'sixty-forty'"):
        resolve_spec_path("sixty-fourty")
    with pytest.raises(SpecError, match=r"nope\.toml: spec file not found"):
        load_spec("nope.toml")


def test_sweep_ranges_include_stop():
    assert expand_range("2:10:2") == ["2", "4", "6", "8", "10"]
    assert expand_range("0:0.3:0.1") == ["0.0", "0.1", "0.2", "0.3"]
    assert len(expand_range("2:100:1")) == 99
    spec = spec_from_mapping({**MINIMAL, "sweep": {"fees": "0:0.002:0.001", "rebalance": "weekly,monthly"}})
    assert spec.sweep == {"fees": [0.0, 0.001, 0.002], "rebalance": ["weekly", "monthly"]}
    with pytest.raises(ParamError, match=r"sweep range of 'fees': step must be > 0"):
        spec_from_mapping({**MINIMAL, "sweep": {"fees": "0:1:0"}})


def test_parse_assignments():
    assert parse_assignments(["a=1", " b = x=y "]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ParamError, match=r"--set 'fees' is not key=value"):
        parse_assignments(["fees"])


def test_every_builtin_kind_registers_under_its_mapped_name():
    from shortthehype.strategies.base import BUILTIN_KINDS, strategy_kinds

    assert sorted(strategy_kinds()) == sorted(BUILTIN_KINDS)


def test_a_synthetic_table_maps_the_spec_onto_the_synthetic_market_and_names_only_known_settings():
    spec = spec_from_mapping({**MINIMAL, "synthetic": {"weights": "MKT:0.6,BOND:0.4", "benchmark": "MKT"}})
    assert spec.synthetic == {"weights": "MKT:0.6,BOND:0.4", "benchmark": "MKT"}
    assert spec.with_overrides(spec.synthetic).tickers() == ["MKT", "BOND"]
    with pytest.raises(SpecError, match=r"\[synthetic\] names unknown parameter 'weigths'.*did you mean 'weights'"):
        spec_from_mapping({**MINIMAL, "synthetic": {"weigths": "MKT:1"}})
    with pytest.raises(SpecError, match=r"\[synthetic\] must be a table"):
        spec_from_mapping({**MINIMAL, "synthetic": "MKT"})
