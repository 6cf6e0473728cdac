"""The analysis sections of backtest and comparison documents: bootstrap intervals and factor exposures.

:func:`analysis_sections` computes, for each run, the ``bootstrap`` section
(:mod:`shortthehype.bootstrap`, with a baseline spec run over the same
window when one is given) and the ``factors`` section
(:mod:`shortthehype.factors`).  Factor prices are loaded with the runs' data
options; runs on synthetic data have no real market to regress on, so their
section says so instead.  The default factors (SPY, QQQ) missing from the
data give a note; a ticker the user named without prices is an error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from shortthehype.constants import BOOTSTRAP_BLOCK_LENGTH, BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED
from shortthehype.data.source import PriceSource
from shortthehype.errors import ShortTheHypeError

__all__ = ["analysis_sections", "baseline_run"]


def baseline_run(vs: str, runs: Sequence[Any], prices_from: PriceSource | None = None) -> Any:
    """The ``--vs`` spec backtested over the window of ``runs[0]`` (a comparison's runs share one window)."""
    from shortthehype.runner import backtest

    first = runs[0]
    return backtest(vs, overrides={"start": first.start, "end": first.end}, prices_from=prices_from or PriceSource())


def _factors(runs: Sequence[Any], extra: Sequence[str], prices_from: PriceSource) -> list[dict[str, Any]]:
    from shortthehype.bootstrap import run_returns
    from shortthehype.factors import factor_exposures, factor_returns, factor_tickers

    sections: list[dict[str, Any] | None] = [None] * len(runs)
    real = [i for i, run in enumerate(runs) if run.prices.source != "synthetic"]
    for i, run in enumerate(runs):
        if i not in real:
            sections[i] = {"note": "synthetic data: no real market to measure factor exposures against"}
    if not real:
        return sections  # type: ignore[return-value]
    end = max(runs[i].end for i in real)
    try:
        prices = prices_from.load(factor_tickers(extra), end=end, quiet=True)
        for i in real:
            run = runs[i]
            sections[i] = factor_exposures(run_returns(run), factor_returns(prices, run.result.equity.index, extra))
    except ShortTheHypeError as exc:
        if extra:
            raise type(exc)(f"--factors {','.join(extra)}: {exc}") from None
        for i in real:
            sections[i] = {"note": f"not computed: {exc}"}
    return sections  # type: ignore[return-value]


def analysis_sections(
    runs: Sequence[Any],
    *,
    factors: bool = True,
    extra_factors: Sequence[str] = (),
    bootstrap: bool = False,
    vs: str | None = None,
    samples: int = BOOTSTRAP_SAMPLES,
    block_length: float = BOOTSTRAP_BLOCK_LENGTH,
    seed: int = BOOTSTRAP_SEED,
    prices_from: PriceSource | None = None,
    source: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
) -> list[dict[str, Any]]:
    """One dict per run with its ``factors`` and/or ``bootstrap`` sections, to merge into its document.

    ``vs`` (a spec) implies ``bootstrap``: the baseline is backtested over the
    runs' window and each run's differences to it are bootstrapped.  The
    factor and baseline prices are loaded from ``prices_from`` (or the loose
    ``source``, ``data_dir``, ``cache_dir``, ``offline``).
    """
    from shortthehype.bootstrap import bootstrap_section

    load = PriceSource.coerce(prices_from, source=source, data_dir=data_dir, cache_dir=cache_dir, offline=offline)
    out: list[dict[str, Any]] = [{} for _ in runs]
    if factors or extra_factors:
        for section, factor in zip(out, _factors(runs, extra_factors, load), strict=True):
            section["factors"] = factor
    if bootstrap or vs is not None:
        baseline = baseline_run(vs, runs, load) if vs is not None else None
        for section, run in zip(out, runs, strict=True):
            section["bootstrap"] = bootstrap_section(run, baseline, samples=samples, block_length=block_length, seed=seed)
    return out
