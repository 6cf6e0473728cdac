"""Report sections of a result's ``bootstrap`` intervals and ``factors`` exposures (HTML and Markdown).

A backtest document gets one table each; a comparison gets one table each
with a row per run.  Documents without these sections render nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shortthehype.report import formatting as fmt

__all__ = ["analysis_html", "analysis_markdown"]

_BOOT_KEYS = ("sharpe", "cagr", "max_drawdown")


def _interval(key: str, entry: Mapping[str, Any] | None) -> str:
    if not entry:
        return fmt.MISSING
    return f"{fmt.stat(key, entry.get('estimate'))} [{fmt.stat(key, entry.get('low'))}, {fmt.stat(key, entry.get('high'))}]"


def _boot_rows(documents: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]], str] | None:
    with_boot = [d for d in documents if isinstance(d.get("bootstrap"), Mapping)]
    if not with_boot:
        return None
    first = with_boot[0]["bootstrap"]
    vs = first.get("vs")
    headers = ["Strategy"] + [fmt.stat_label(k) for k in _BOOT_KEYS]
    if vs:
        headers += [f"{fmt.stat_label(k)} minus {vs['baseline']}" for k in _BOOT_KEYS]
        headers += [f"P(beats {vs['baseline']}) on {k.replace('_', ' ')}" for k in _BOOT_KEYS]
    rows = []
    for doc in with_boot:
        boot = doc["bootstrap"]
        row = [str(doc.get("strategy", "?"))] + [_interval(k, boot["metrics"].get(k)) for k in _BOOT_KEYS]
        if vs:
            diff = (boot.get("vs") or {}).get("metrics") or {}
            row += [_interval(k, diff.get(k)) for k in _BOOT_KEYS]
            row += [fmt.percent((diff.get(k) or {}).get("p_beat"), 1) for k in _BOOT_KEYS]
        rows.append(row)
    caption = (
        f"{first['confidence']:.0%} percentile intervals from {first['samples']:,} resamples of the daily returns by the "
        f"{first['method'].split(',')[0]}, mean block {first['block_length']:g} bars, seed {first['seed']}: estimate [low, high]."
    )
    if vs:
        caption += (
            f" Differences pair each resample with {vs['baseline']} on the same bars (their common dates); P(beats) is the "
            "share of resamples where the strategy's value is higher (for max drawdown: shallower)."
        )
    return headers, rows, caption


def _factor_rows(documents: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]], str] | None:
    with_factors = [d for d in documents if isinstance(d.get("factors"), Mapping)]
    if not with_factors:
        return None
    names: list[str] = []
    for doc in with_factors:
        for row in doc["factors"].get("loadings") or []:
            if row["factor"] not in names:
                names.append(row["factor"])
    headers = ["Strategy"] + [f"{n} (t)" for n in names] + ["Alpha, annual (t)", "R²", "Residual Sharpe", "Bars"]
    rows = []
    for doc in with_factors:
        factors = doc["factors"]
        if "note" in factors:
            rows.append([str(doc.get("strategy", "?")), str(factors["note"])] + [""] * (len(headers) - 2))
            continue
        by_name = {r["factor"]: r for r in factors["loadings"]}
        cells = [f"{by_name[n]['beta']:.3f} ({by_name[n]['t']:.2f})" if n in by_name else fmt.MISSING for n in names]
        rows.append(
            [str(doc.get("strategy", "?"))]
            + cells
            + [f"{fmt.percent(factors['alpha_annual'])} ({factors['alpha_t']:.2f})", f"{factors['r2']:.3f}",
               fmt.stat("sharpe", factors["residual_sharpe"]), f"{factors['bars']:,}"]
        )
    caption = (
        "Ordinary least squares of the strategy's daily returns on the factors' daily returns with an intercept "
        "(t-statistics in brackets, homoskedastic); the tech spread is QQQ's return minus SPY's. Residual Sharpe: "
        "the annualised Sharpe ratio of the returns less their factor part."
    )
    return headers, rows, caption


def analysis_html(documents: Sequence[Mapping[str, Any]]) -> str:
    """The bootstrap and factor sections of one or several result documents (empty without them)."""
    from shortthehype.report.html import e

    parts = []
    for key, title, built in (
        ("bootstrap", "Bootstrap intervals", _boot_rows(documents)),
        ("factors", "Factor exposures", _factor_rows(documents)),
    ):
        if built is None:
            continue
        headers, rows, caption = built
        head = "".join(f"<th>{e(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
        parts.append(
            f'<section id="sec-{key}"><h2>{e(title)}</h2><div class="scroll"><table id="{key}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div><p class="caption">{e(caption)}</p></section>'
        )
    return "".join(parts)


def analysis_markdown(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    """The same sections as Markdown lines."""
    from shortthehype.report.markdown import md, table

    out: list[str] = []
    for title, built in (("Bootstrap intervals", _boot_rows(documents)), ("Factor exposures", _factor_rows(documents))):
        if built is None:
            continue
        headers, rows, caption = built
        out += [f"## {title}", "", table([md(h) for h in headers], [[md(c) for c in row] for row in rows]), "", md(caption), ""]
    return out
