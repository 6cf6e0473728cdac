"""PriceSource: one value for where prices come from, accepted by the library beside the loose keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

from shortthehype import PriceSource, backtest
from shortthehype.errors import ParamError


def test_from_options_and_loose_keywords_make_the_same_value(tmp_path):
    made = PriceSource.from_options("csv", str(tmp_path), None, False)
    assert made == PriceSource("csv", tmp_path) == PriceSource.coerce(source="csv", data_dir=tmp_path)
    assert made.options() == {"source": "csv", "data_dir": Path(tmp_path), "cache_dir": None, "offline": False}
    assert PriceSource.coerce() == PriceSource()


def test_both_a_price_source_and_a_loose_keyword_is_refused(tmp_path):
    with pytest.raises(ParamError, match="either prices_from or data_dir, offline"):
        PriceSource.coerce(PriceSource("csv", tmp_path), data_dir=tmp_path, offline=True)
    with pytest.raises(ParamError, match="prices_from must be a PriceSource, got dict"):
        PriceSource.coerce({"source": "csv"})  # type: ignore[arg-type]


def test_backtest_loads_the_same_prices_either_way(shared_prices_dir):
    loose = backtest("sixty-forty", data_dir=shared_prices_dir, overrides={"start": "2020-01-02", "end": "2020-12-31"})
    bundled = backtest("sixty-forty", prices_from=PriceSource("csv", shared_prices_dir),
                       overrides={"start": "2020-01-02", "end": "2020-12-31"})
    assert loose.prices.source == bundled.prices.source
    assert list(loose.result.equity.to_numpy()) == list(bundled.result.equity.to_numpy())
