"""The one ranking of sweep rows that every view uses: solvent runs by the metric, NaN after, bankrupt last.

A bankrupt run's ratios are undefined (NaN), but its other columns
(``total_return``, ``max_drawdown``) are numbers; sorting by them alone could
still put a ruined account above a solvent one, so ``bankrupt`` is the first
sort key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rank_rows"]


def rank_rows(table: pd.DataFrame, column: str, *, ascending: bool = False) -> pd.DataFrame:
    """``table`` sorted by ``column`` (NaN last, ties in table order), bankrupt rows after all the others."""
    ordered = table.sort_values(column, ascending=ascending, na_position="last", kind="stable")
    if "bankrupt" not in ordered.columns:
        return ordered
    bankrupt = ordered["bankrupt"].fillna(False).to_numpy(dtype=bool)
    return ordered.iloc[np.argsort(bankrupt, kind="stable")]
