"""Adding a strategy kind touches only its module: a fixture kind with its own document field and report sections.

``tests/fixtures/kinds/leader_kind.py`` registers ``leader-fixture`` and is
its own report hooks module; the backtest document, the HTML and Markdown
reports and the PNGs carry its additions although the runner, the report
package and the CLI never name it.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shortthehype import backtest
from shortthehype.data.prices import Prices
from shortthehype.report import render, write_pngs

FIXTURE_KINDS = Path(__file__).parent / "fixtures" / "kinds"


@pytest.fixture
def leader_kind(monkeypatch):
    """The fixture kind, registered for one test (importing its module registers it)."""
    from shortthehype.strategies.base import unregister

    monkeypatch.syspath_prepend(str(FIXTURE_KINDS))
    module = importlib.import_module("leader_kind")
    yield module
    unregister("leader-fixture")
    sys.modules.pop("leader_kind", None)


def _prices() -> Prices:
    """AAA rises 1 % a day for 20 bars (+22.02 %), BBB falls 0.5 % a day (-9.54 %)."""
    index = pd.bdate_range("2024-01-02", periods=21)
    steps = np.arange(21, dtype=np.float64)
    close = pd.DataFrame({"AAA": 100.0 * 1.01**steps, "BBB": 50.0 * 0.995**steps}, index=index)
    return Prices.from_close(close)


SPEC = {"name": "leader-demo", "kind": "leader-fixture", "params": {"tickers": ["AAA", "BBB"]}, "engine": {"execution": "close"}}


def test_the_fixture_kind_runs_and_adds_its_document_field(leader_kind):
    run = backtest(SPEC, prices=_prices())
    document = json.loads(json.dumps(run.to_dict()))
    assert document["kind"] == "leader-fixture"
    assert document["leader"]["ticker"] == "AAA"
    assert document["leader"]["return"] == pytest.approx(1.01**20 - 1.0, rel=1e-12)
    # equal weights bought at the first close and held: equity = cash/2 in each, marked to market
    expected = 0.5 * document["engine"]["init_cash"] * (1.01**20 + 0.995**20)
    assert document["final_equity"] == pytest.approx(expected, rel=1e-9)


def test_the_fixture_kind_has_its_markdown_section_and_html_figure(leader_kind, tmp_path):
    run = backtest(SPEC, prices=_prices())
    document = json.loads(json.dumps(run.to_dict()))
    md = render(document, "md")
    assert "## Leader" in md and "AAA rose 22.02% over the window." in md
    assert md.index("## Leader") < md.index("## Trades")
    page = render(document, "html")
    assert '<section id="sec-leader"><h2>Leader: AAA</h2>' in page
    paths = write_pngs(document, tmp_path)
    assert (tmp_path / "leader.png") in paths and (tmp_path / "leader.png").stat().st_size > 0


def test_a_document_of_a_kind_without_hooks_has_no_such_section(leader_kind):
    spec = {"name": "plain", "kind": "fixed-weights", "params": {"weights": {"AAA": 0.5, "BBB": 0.5}, "rebalance": "once"}}
    document = json.loads(json.dumps(backtest(spec, prices=_prices()).to_dict()))
    assert "leader" not in document
    assert "## Leader" not in render(document, "md")
