"""Named defaults and tolerances shared across the package."""

from __future__ import annotations

#: Trading days per year used to annualise returns, volatility and ratios
#: (the empyrical convention).
ANNUALIZATION = 252

#: Day count of short borrow fees and cash interest: ACT/360, accrued on
#: calendar days between consecutive bars.
DAY_COUNT_BASIS = 360.0

#: Default starting capital of a backtest.
DEFAULT_INIT_CASH = 1_000_000.0

#: A one-day close-to-close move beyond this fraction (either way) is reported
#: as a data warning: it is the size of an unadjusted split.
SUSPICIOUS_MOVE = 0.45

#: Environment variables.
ENV_DATA_DIR = "SHORTTHEHYPE_DATA_DIR"
ENV_CACHE_DIR = "SHORTTHEHYPE_CACHE_DIR"

#: Default directory of the on-disk price catalog (Parquet, one file per ticker).
DEFAULT_CACHE_DIR = "~/.cache/shortthehype"

#: OHLCV fields, in the order the loaders and kernels use them.
PRICE_FIELDS = ("open", "high", "low", "close", "volume")

# --- data layer (sources, catalog, validation) -------------------------------

#: Resolution of every date index the data layer returns (pandas 3 parses ISO
#: date strings to microseconds; Parquet and yfinance give other units, so each
#: source converts once at its boundary and loaders agree exactly).
DATE_UNIT = "us"

#: An open or close outside [low, high] by more than this fraction of the
#: price is reported as a data warning (tolerates float round-off only).
OHLC_RANGE_RTOL = 1e-6

#: Two downloads of the same day's adjusted close that differ by more than
#: this fraction mean Yahoo re-adjusted the history (a new dividend or split):
#: the catalog then re-downloads the ticker's whole history.  Far below the
#: smallest real adjustment (NVDA's $0.01 quarterly dividend is ~5e-5) and far
#: above float32 round-off (~6e-8).
YAHOO_OVERLAP_RTOL = 1e-6

#: Time zone whose calendar date decides which daily bars are complete: a bar
#: dated today (New York time) may still be live, so it is never stored.
MARKET_TIMEZONE = "America/New_York"

#: Seconds a yfinance request may take before it is abandoned.
YAHOO_TIMEOUT = 30.0

#: Seconds to wait for another process that holds a catalog entry's lock.
CATALOG_LOCK_TIMEOUT = 120.0

# --- synthetic market generator (data/synthetic.py, core/synthetic_nb.py) ---

#: Seed of ``load_synthetic`` / ``load_prices(source="synthetic")`` when none is
#: given: synthetic data is reproducible by default, like a file.
SYNTHETIC_DEFAULT_SEED = 0

#: A user correlation matrix may be off symmetric / unit-diagonal by this much,
#: and its smallest eigenvalue may be this far below zero (round-off), and
#: still count as a valid (positive semi-definite) correlation matrix.
SYNTHETIC_CORR_TOL = 1e-10

#: Paths drawn and simulated per batch by ``generate_paths`` (bounds the memory
#: of the random inputs to about that of this many output paths).
SYNTHETIC_PATH_CHUNK = 64

# --- metrics (shortthehype.metrics, core/metrics_nb.py) ---------------------

#: Tail probability of the historical value at risk and conditional value at
#: risk (empyrical's default cutoff): the 5 % worst periods.
VAR_CUTOFF = 0.05

#: Percentiles (0-100) whose absolute values form the tail ratio (empyrical).
TAIL_RATIO_UPPER_PCT = 95.0
TAIL_RATIO_LOWER_PCT = 5.0

#: A benchmark return variance below this makes beta undefined (NaN), as in
#: empyrical's ``beta_aligned``.
BETA_MIN_VARIANCE = 1.0e-30

# --- simulation engine (engine.py, core/simulate_nb.py) ---

#: Execution modes of :func:`shortthehype.simulate`: when a target set on bar t trades.
EXECUTION_MODES = ("next_open", "next_close", "close")

#: Default execution mode: a target set on bar t's close trades at bar t+1's open.
DEFAULT_EXECUTION = "next_open"

#: An order whose size is at most this fraction of max(|current|, |target|) shares is
#: floating-point noise, not a trade, and is skipped.
ORDER_SIZE_TOLERANCE = 1e-12

#: Rebalance buys are filled in full when they need at most this fraction of the
#: portfolio value more cash than is available (round-off, not a shortfall).
CASH_TOLERANCE = 1e-12

#: Returns whose spread is at most this times (1 + their magnitude) count as
#: identical (zero deviation) in the Sharpe, Sortino, volatility and
#: information ratios.  A simple return is a ratio minus 1, so its rounding
#: error is about 1e-16 whatever its size; such noise must not turn an
#: infinite or undefined ratio into an arbitrary finite number.
DISPERSION_TOL = 1.0e-12
