"""Shared fixtures.

The real-data test set lives in ``../shared/data/prices`` next to the checkout
(override with ``SHORTTHEHYPE_SHARED_DATA``).  CI always has it, so when ``CI``
is set and the directory is missing the tests that need it fail instead of
skipping; on a developer machine without it they skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_PRICES = Path(os.environ.get("SHORTTHEHYPE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data" / "prices"))


@pytest.fixture(scope="session")
def shared_prices_dir() -> Path:
    """Directory of the real daily price CSVs (one file per ticker)."""
    if not SHARED_PRICES.is_dir() or not any(SHARED_PRICES.glob("*.csv")):
        message = f"real price data not found at {SHARED_PRICES}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must have ../shared/data/prices)")
        pytest.skip(message)
    return SHARED_PRICES


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real price catalog."""
    monkeypatch.setenv("SHORTTHEHYPE_CACHE_DIR", str(tmp_path_factory.mktemp("catalog")))
    monkeypatch.delenv("SHORTTHEHYPE_DATA_DIR", raising=False)
