"""How report numbers and settings are written (shared by the HTML and Markdown reports).

Statistics are written the same way in the terminal table, the HTML and the
Markdown (:func:`stat`): fractions listed in :data:`shortthehype.metrics.PERCENT_KEYS` as percentages
with two decimals, counts as integers, other ratios with three decimals.
A missing value (JSON null, NaN) is an em dash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "BANKRUPT",
    "MISSING",
    "engine_settings",
    "is_missing",
    "money",
    "multiple",
    "number_attr",
    "param_text",
    "percent",
    "price",
    "quantity",
    "shows_row",
    "signed",
    "stat",
    "stat_label",
    "trial_counts",
    "window_text",
]

MISSING = "—"
#: What a ratio a bankrupt run does not have reads (instead of MISSING).
BANKRUPT = "bankrupt"


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def stat(key: str, value: Any, bankrupt: bool = False) -> str:
    """A statistic as every view shows it (``0.1234`` → ``12.34%`` for percentage keys).

    ``bankrupt``: the value belongs to a ruined account, whose undefined ratios read ``bankrupt``.
    """
    from shortthehype.metrics import BANKRUPT_UNDEFINED_KEYS, PERCENT_KEYS

    if is_missing(value):
        return BANKRUPT if bankrupt and key in BANKRUPT_UNDEFINED_KEYS else MISSING
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if key in PERCENT_KEYS:
        return f"{value * 100:,.2f}%"
    if key in ("n_trades", "max_drawdown_duration") or abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:,.3f}"


def shows_row(key: str, values: Sequence[Any], bankrupt: Sequence[bool]) -> bool:
    """A statistics table shows ``key`` when some column has a value, or a bankrupt column lacks a ratio."""
    from shortthehype.metrics import BANKRUPT_UNDEFINED_KEYS

    return any(not is_missing(v) for v in values) or (key in BANKRUPT_UNDEFINED_KEYS and any(bankrupt))


def stat_label(key: str) -> str:
    from shortthehype.metrics import STATS_LABELS

    return STATS_LABELS.get(key, key)


def money(value: Any) -> str:
    return MISSING if is_missing(value) else f"{float(value):,.2f}"


def price(value: Any) -> str:
    return MISSING if is_missing(value) else f"{float(value):,.4f}"


def quantity(value: Any) -> str:
    return MISSING if is_missing(value) else f"{float(value):,.2f}"


def multiple(value: Any) -> str:
    """A signed multiple (``-0.48x``: 48 % of the base lost)."""
    return MISSING if is_missing(value) else f"{float(value):+,.2f}x"


def signed(value: Any) -> str:
    return MISSING if is_missing(value) else f"{float(value):+.4f}"


def percent(value: Any, digits: int = 2) -> str:
    return MISSING if is_missing(value) else f"{float(value) * 100:,.{digits}f}%"


def number_attr(value: Any) -> str:
    """The exact number for a ``data-value`` attribute: Python's shortest round-trip repr ('' when missing)."""
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def engine_settings(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A run's engine settings as (name, text), each rate followed by what it was (``cash_rate used``)."""
    rates = document.get("rates") or {}
    engine = document.get("engine") or {}
    rows = []
    for name, value in engine.items():
        rows.append((str(name), param_text(value)))
        if name in rates:
            rows.append((f"{name} used", str(rates[name])))
    rows += [(str(name), str(text)) for name, text in rates.items() if name not in engine]  # e.g. sharpe_risk_free
    return rows


def param_text(value: Any) -> str:
    """A setting as a user would type it in a spec (``{'QQQ': 1.0}`` → ``QQQ: 1.0``)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {param_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(param_text(v) for v in value)
    return str(value)


def trial_counts(document: Mapping[str, Any]) -> str:
    """``"960 combinations requested: 240 invalid, 632 identical to another; 88 distinct trials run (30 of them bankrupt: ...)"``."""
    n_run = document.get("n_run", 0)
    text = f"{document.get('n_grid', 0):,} combinations requested: {document.get('n_invalid', 0):,} invalid"
    if document.get("n_duplicate"):
        text += f", {document['n_duplicate']:,} identical to another (a setting that does not apply, or an entry clamped to the window)"
    if document.get("random") is not None:
        text += f"; {n_run:,} distinct trials drawn at random and run"
    else:
        text += f"; {n_run:,} distinct trials run"
    if document.get("n_bankrupt"):  # files written before it was counted have none
        text += f" ({document['n_bankrupt']:,} of them bankrupt: ranked last, ratios undefined)"
    return text


def window_text(window: str) -> str:
    """A sweep's window key as words: ``"2005-01-03..2020-12-31/4026"`` -> ``"2005-01-03 → 2020-12-31 (4,026 returns)"``."""
    dates, _, count = window.partition("/")
    first, _, last = dates.partition("..")
    if not (count.isdigit() and last):
        return "backtest windows vary by combination" if window == "varies" else window
    return f"{first} → {last} ({int(count):,} returns)"
