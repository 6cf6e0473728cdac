"""What a result must say before its numbers: synthetic data and oracle-timed strategies.

A backtest on generated prices, or a strategy whose timing was set from
information only known afterwards (the demo's dotcom analogy, scaled so that
its mapped peak falls on the scenario's own peak), can look like a real
result.  Each such run carries *caveats*: one-line texts that the terminal
prints first, the JSON holds under ``caveats`` (with the booleans
``synthetic`` and ``oracle_timed``), and every report shows at its top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ORACLE_PREFIX", "SYNTHETIC_CAVEAT", "caveat_fields", "data_caveats", "document_caveats", "oracle_caveat"]

#: The caveat of every result computed on generated prices.
SYNTHETIC_CAVEAT = "SYNTHETIC data: generated prices of fictional tickers, not a market that happened."

#: How every oracle caveat starts (see :func:`oracle_caveat`).
ORACLE_PREFIX = "ORACLE-TIMED"


def data_caveats(source: str) -> tuple[str, ...]:
    """The caveats a price source implies (generated prices are labelled synthetic)."""
    return (SYNTHETIC_CAVEAT,) if source == "synthetic" else ()


def oracle_caveat(strategy: str, how: str) -> str:
    """The caveat of a strategy timed with hindsight; ``how`` says what it was told."""
    return f"{ORACLE_PREFIX}: {strategy} {how} — what it pays when its timing is right, not a forecast."


def caveat_fields(caveats: Iterable[str]) -> dict[str, Any]:
    """The JSON keys of a result's caveats: ``caveats`` (list), ``synthetic`` and ``oracle_timed`` (booleans)."""
    lines = list(dict.fromkeys(caveats))
    return {
        "caveats": lines,
        "synthetic": SYNTHETIC_CAVEAT in lines,
        "oracle_timed": any(line.startswith(ORACLE_PREFIX) for line in lines),
    }


def document_caveats(document: Any) -> list[str]:
    """Every caveat of a result document, of a comparison's runs, or of a distribution study, in order, once each."""
    found: list[str] = []
    if isinstance(document, Mapping):
        found += [str(line) for line in document.get("caveats") or []]
        runs = document.get("runs")
    else:
        runs = document
    if isinstance(runs, list):
        for run in runs:
            if isinstance(run, Mapping):
                found += [str(line) for line in run.get("caveats") or []]
    return list(dict.fromkeys(found))
