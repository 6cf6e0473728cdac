"""Named defaults and tolerances shared across the package."""

from __future__ import annotations

#: Trading days per year used to annualise returns, volatility and ratios
#: (the empyrical convention).
ANNUALIZATION = 252
#: Start of the AI era: ChatGPT's launch (the demo's real-price window, the dotcom analogy's anchor).
AI_ERA_START = "2022-11-30"

#: The statistics of a backtest (``Result.stats()``, the JSON's ``metrics``; :func:`shortthehype.metrics.compute_stats`),
#: in display order.  The one list of statistic names: the kernels' columns below are a part of it.
STATS_KEYS: tuple[str, ...] = (
    "start_value",
    "end_value",
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration",
    "calmar",
    "omega",
    "tail_ratio",
    "value_at_risk",
    "cvar",
    "skew",
    "kurtosis",
    "best_day",
    "worst_day",
    "win_rate",
    "profit_factor",
    "avg_trade_return",
    "n_trades",
    "exposure",
    "turnover",
)
#: The statistics the batch and sweep kernels compute per portfolio, in the order of their output columns:
#: statistics of :data:`STATS_KEYS` (same names, same values), then ``status`` (0: solvent; else bankrupt).
KERNEL_STATS: tuple[str, ...] = (
    "end_value", "total_return", "cagr", "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "status",
)
N_KERNEL_STATS = len(KERNEL_STATS)

#: Day count of short borrow fees and cash interest: ACT/360, accrued on
#: calendar days between consecutive bars.
DAY_COUNT_BASIS = 360.0

#: Term of a 3-month Treasury bill in days: the bill-rate conversions (data/rates.py)
#: price a 91-day bill.
TBILL_DAYS = 91.0

#: Plausible annual cash rates (fractions): a rate series with a value outside is
#: refused as a unit or data error (FRED DTB3 ranged from -0.05 % to 17.14 %).
RATE_BOUNDS = (-0.05, 0.50)

#: A rates file may skip this many consecutive weekdays (bond-market holidays; FRED
#: DTB3 never skips more than 2); a longer run of missing weekdays is an error.
RATE_MAX_GAP_WEEKDAYS = 5

#: The cash rate of synthetic prices, which come without a bill-rate series: 3 %/yr
#: (ACT/360), the level of the synthetic market's bond drift.
SYNTHETIC_CASH_RATE = 0.03

#: Default starting capital of a backtest.
DEFAULT_INIT_CASH = 1_000_000.0

#: A one-day close-to-close move beyond this fraction (either way) is reported
#: as a data warning: it is the size of an unadjusted split.
SUSPICIOUS_MOVE = 0.45

#: Environment variables.
ENV_DATA_DIR = "SHORTTHEHYPE_DATA_DIR"
ENV_CACHE_DIR = "SHORTTHEHYPE_CACHE_DIR"
#: Set to 1 (the CLI's ``--allow-any-strategy-file``) to let a spec file run a Python file outside its own
#: directory and the strategy directories.
ENV_ANY_STRATEGY_FILE = "SHORTTHEHYPE_ALLOW_ANY_STRATEGY_FILE"

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

#: Returns whose spread is at most this times (1 + their magnitude) count as
#: identical (zero deviation) in the Sharpe, Sortino, volatility and
#: information ratios.  A simple return is a ratio minus 1, so its rounding
#: error is about 1e-16 whatever its size; such noise must not turn an
#: infinite or undefined ratio into an arbitrary finite number.
DISPERSION_TOL = 1.0e-12

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

#: A margin call needs equity below maintenance_margin x gross by more than this
#: fraction: a margin cut lands exactly on the requirement, and round-off must not
#: turn that into a new call.
MARGIN_TOLERANCE = 1e-9

#: Gross exposure counts as above ``max_gross`` at a close when gross / equity exceeds
#: it by more than this fraction: a gross-cap cut lands exactly on the limit, and
#: round-off must not turn that into a new cut.
GROSS_TOLERANCE = 1e-9

# --- backtest runner
#: A traded ticker whose data end at most this many bars before the latest
#: date has stale data (the backtest window is cut there); earlier, it has delisted.
STALE_DATA_BARS = 63

# --- a strategy kind's defaults live beside its parameters in strategies/<kind>.py;
# --- here only what a kernel or another module shares

# --- options (core/options_nb.py, option_pricing.py)
#: Day count of an option's time to expiry: calendar days / 365 (ACT/365).
OPTION_DAY_COUNT = 365.0
#: A live (unexpired) synthetic put is never valued below this fraction of its
#: strike.  Listed puts trade at one cent at least, i.e. 1e-4 of a $100 strike;
#: the floor also keeps the number of contracts a premium buys finite when
#: Black-Scholes underflows to zero for a far out-of-the-money put.
PUT_VALUE_FLOOR = 1.0e-4
#: Suffixes of the two alternating put slots of an underlying (``PLTR_PUT_A``,
#: ``PLTR_PUT_B``): consecutive contracts live in alternate slots so that a roll
#: is a real sale of the old contract and a real purchase of the new one.
PUT_SLOT_SUFFIXES = ("_PUT_A", "_PUT_B")
#: A contract's roll decision comes at least this many bars after its purchase
#: decision (two, so that alternating slots never overlap).
PUT_MIN_HOLD_BARS = 2
#: The at-the-money volatility of :class:`shortthehype.option_pricing.VolModel`: realised-vol
#: window (trading days) and the implied-over-realised markup.
PUT_VOL_WINDOW = 63
PUT_IV_MARKUP = 1.2
#: Option contracts: shares per listed equity option contract.
CONTRACT_MULTIPLIER = 100
#: Volatility skew defaults: m(z) = 1 - slope z + curvature z^2, z = ln(K/F) / (atm sqrt(t)).
#: Chosen so that the PLTR 2027-01-15 $50 put, priced with the default at-the-money model
#: (63-day realised x 1.2), is within 11.3 % of the $1.84 Scion paid on every trading day of
#: October 2025 (a minimax fit of the relative price error to that one public quote, among
#: skews with curvature <= slope / 2; docs/calibrate_skew.py, docs/options.md): thin
#: evidence, stated as such.
VOL_SKEW_SLOPE = 0.10
VOL_SKEW_CURVATURE = 0.045
#: The multiplier m(z) is clipped to [floor, cap] so that a steep user skew never gives a
#: zero or absurd volatility far out in the wings.
VOL_SKEW_FLOOR = 0.25
VOL_SKEW_CAP = 4.0
#: hype-hedge: the smallest leg beta a hedge ratio is computed from: below it the
#: ratio long beta / short beta explodes (or flips sign), so no targets are set.
HEDGE_MIN_BETA = 0.1

# --- distributions: entry-date studies, Monte Carlo, bootstrap intervals, factor exposures
# --- (studies.py, montecarlo.py, bootstrap.py, factors.py, core/bootstrap_nb.py)

#: Quantiles of a study's distribution table, in its row order: median, quartiles, 5 % and 95 % points.
DISTRIBUTION_QUANTILES = (0.5, 0.25, 0.75, 0.05, 0.95)
#: ``rolling``: one entry a month, each held a year.
STUDY_DEFAULT_EVERY = "1m"
STUDY_DEFAULT_HOLD = "12m"
#: An entry-date study whose entries each have their own targets computes them this many bytes at a time.
STUDY_TARGETS_CHUNK_BYTES = 64 * 2**20
#: Stationary bootstrap (Politis & Romano 1994): expected block length in bars.  About a trading
#: month, long enough to keep volatility clustering and short momentum inside a block.
BOOTSTRAP_BLOCK_LENGTH = 21
#: Resamples of a bootstrap interval, and its two-sided confidence level.
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_CONFIDENCE = 0.95
#: Seed of the bootstrap's random numbers (numba's Mersenne Twister, seeded in the kernel).
BOOTSTRAP_SEED = 0
#: Factor tickers of every exposure regression: the market, and the tech spread (second minus first).
FACTOR_MARKET = "SPY"
FACTOR_TECH = "QQQ"
#: Monte Carlo: paths of ``montecarlo`` without --paths, and the seed without --seed.
MONTECARLO_DEFAULT_PATHS = 200
MONTECARLO_DEFAULT_SEED = 0
#: Monte Carlo runs in worker processes only when one process would take longer than this (timed on
#: a warm path): each spawned worker spends seconds importing and loading the kernels a path uses. On
#: the 2-core test machine 1,000 ma-crossover paths took 8.1 s in one process and 6.7 s in two workers.
MONTECARLO_PROCESS_MIN_SECONDS = 10.0
#: The fused Monte Carlo runs this many paths per kernel call (fewer where their arrays pass
#: STUDY_TARGETS_CHUNK_BYTES): enough to keep every thread busy, few enough to hold little memory.
MONTECARLO_BATCH_PATHS = 32

# --- reports (shortthehype.report: HTML, PNG and Markdown) ---
#: Returns in the rolling Sharpe ratio and volatility of a report (six months of trading days).
REPORT_ROLLING_WINDOW = 126
#: Rows of a report's trades or events table at most (the JSON keeps them all): beyond it the
#: trades with the largest |P&L| and the earliest events are shown, with a note.
REPORT_MAX_TABLE_ROWS = 1000

# --- bubble detection: LPPLS fits, the confidence indicator and bubble-timer
# --- (core/lppls_nb.py, lppls.py, strategies/bubble_timer.py, cli/bubble_cmd.py)
#: Nested windows of the confidence indicator (bars): for each date t2 the
#: model is fitted on the windows of LPPLS_WINDOW_MIN, +STEP, ..., MAX bars
#: ending at t2 (dt in [125, 750] trading days, the range of the DS LPPLS
#: confidence indicator of Sornette et al. 2015; 26 windows).
LPPLS_WINDOW_MIN = 125
LPPLS_WINDOW_MAX = 750
LPPLS_WINDOW_STEP = 25
#: Fewest bars a window may have: 7 parameters (A, B, C1, C2, tc, m, ω) need
#: several points each (the ``lppls`` package's smallest default window is 20).
LPPLS_MIN_BARS = 20
#: Search space of the nonlinear parameters: tc within t2 ± 0.2·dt (the
#: ``lppls`` package's and Sornette et al. 2015's search range; a tc inside
#: the window is allowed, |tc − t| is used), 0.01 ≤ m ≤ 1.2 and 2 ≤ ω ≤ 25
#: (the widest ranges of filter condition 1 of Sornette et al. 2015, Table 1),
#: so that the narrower qualification filters below are not boundary artefacts.
LPPLS_SEARCH_TC = (-0.2, 0.2)
LPPLS_SEARCH_M = (0.01, 1.2)
LPPLS_SEARCH_OMEGA = (2.0, 25.0)
#: Largest m and ω a search may use: far beyond the model's meaningful range
#: (m < 1, ω ~ 6-13), and inside the domain where the kernels' vectorised
#: exp and sin/cos are accurate (core/vecmath_nb.py).
LPPLS_SEARCH_M_LIMIT = 10.0
LPPLS_SEARCH_OMEGA_LIMIT = 1000.0
#: The coarse grid every search starts with: |tc − t2| geometric from
#: LPPLS_GRID_TC_FIRST bars by LPPLS_GRID_TC_RATIO (both sides of t2), m at
#: the centres of LPPLS_GRID_M_POINTS equal cells of its range, ω at the
#: centres of cells LPPLS_GRID_OMEGA_STEP wide.  The LPPLS_GRID_STARTS best
#: local minima of the grid (LPPLS_RANDOM_STARTS seeded uniform points and,
#: with LPPLS_WARM_START, the fit of the next shorter window ending on the
#: same bar) get LPPLS_EXPLORE_ITER Levenberg–Marquardt iterations each; the
#: best goes on to convergence, at most LPPLS_MAX_ITER iterations.
LPPLS_GRID_TC_FIRST = 0.5
LPPLS_GRID_TC_RATIO = 2.0
LPPLS_GRID_M_POINTS = 3
LPPLS_GRID_OMEGA_STEP = 1.0
LPPLS_GRID_STARTS = 2
LPPLS_RANDOM_STARTS = 0
LPPLS_EXPLORE_ITER = 8
LPPLS_MAX_ITER = 40
#: Nested fits kept on disk (``$SHORTTHEHYPE_CACHE_DIR/lppls``): the most recently used files, at most this
#: many and this many bytes in all (bubble-timer's default indicator is 1.3 MB, a daily indicator over 25 years
#: and 26 windows about 13 MB).
LPPLS_DISK_CACHE_FILES = 64
LPPLS_DISK_CACHE_BYTES = 256 * 2**20
#: Fewer nested fits than this are computed, never kept on disk: they take milliseconds, and a small call (such
#: as ``shortthehype precompile``'s) must reach the kernel.
LPPLS_DISK_CACHE_MIN_FITS = 1000
LPPLS_WARM_START = True
LPPLS_SEED = 0
#: Qualification filters of a fit (a fit counts toward the confidence
#: indicator when all hold): 0.1 ≤ m ≤ 0.9 and 6 ≤ ω ≤ 13 (the stylised
#: ranges of Johansen 2003 and Lin, Ren & Sornette 2014); tc − t2 within
#: [−0.05·dt, +0.1·dt], at least 2.5 oscillations ω/(2π)·ln|(tc−t1)/(tc−t2)|,
#: damping m|B| / (ω|C|) ≥ 0.8 with C = sqrt(C1² + C2²), and mean relative
#: price error |p − p̂|/p̂ ≤ 0.05 (filter condition 1 of Sornette et al. 2015,
#: Table 1, as implemented in Fantazzini's R package ``bubble``).
LPPLS_FILTER_M = (0.1, 0.9)
LPPLS_FILTER_OMEGA = (6.0, 13.0)
LPPLS_FILTER_TC = (-0.05, 0.1)
LPPLS_FILTER_OSCILLATIONS = 2.5
LPPLS_FILTER_DAMPING = 0.8
LPPLS_FILTER_REL_ERR = 0.05
#: The name under which ``bubble`` and ``bubble-timer`` take the AI basket:
#: the equal-weight, daily-rebalanced index of the listed members of AI_BASKET
#: (:func:`shortthehype.baskets.basket_index`).
BUBBLE_AI_BASKET = "ai-basket"
#: Level of the bubble / anti-bubble indicators (fraction of fitted windows) the bubble
#: report marks and bubble-timer acts on by default.
BUBBLE_THRESHOLD = 0.1

# --- values that cannot be meant (refused with a one-line error) ----
#: Largest gross leverage a target row may ask for: sum(|w|) <= this x equity.
MAX_LEVERAGE = 100.0
#: Largest proportional fee or slippage (a fraction of the traded notional).
MAX_COST_FRACTION = 0.5
#: Smallest price accepted: the smallest normal float64; below it prices are denormal
#: numbers whose products underflow, so nothing could ever trade.
MIN_PRICE = 2.2250738585072014e-308

# --- the look-ahead check (lookahead.py) ----
#: Cut dates of the look-ahead check, evenly spaced over the prices.
LOOKAHEAD_CUTS = 6
#: Two targets are the same when they differ by at most this, relatively (plus 1e-12 absolutely).
LOOKAHEAD_RTOL = 1e-9

# --- parameter sweeps, walk-forward, overfitting statistics (sweep.py, walkforward.py,
# --- overfitting.py, core/sweep_nb.py)
#: Euler-Mascheroni constant, in the expected maximum Sharpe ratio of the DSR.
EULER_GAMMA = 0.5772156649015329
#: Blocks of the combinatorially symmetric cross-validation (S in Bailey et al. 2015).
PBO_BLOCKS = 16
#: Cap on trials x splits evaluated by the CSCV; above it a seeded random subset of the
#: C(S, S/2) splits is used (about 2 s on two cores).
PBO_MAX_EVALUATIONS = 2.0e8
#: Objectives a sweep can maximise (columns of the sweep table; all "higher is better").
SWEEP_OBJECTIVES = ("sharpe", "cagr", "calmar", "sortino", "total_return", "max_drawdown")
#: Default objective of a sweep.
SWEEP_DEFAULT_OBJECTIVE = "sharpe"
#: A grid whose full product exceeds this many combinations is refused before it is
#: enumerated (unless forced).
SWEEP_MAX_GRID = 50_000_000
#: A sweep whose estimated run time exceeds this many seconds is refused (unless forced).
SWEEP_MAX_SECONDS = 3600.0
#: A sweep whose results would need more than this fraction of the machine's memory is
#: refused (unless forced).
SWEEP_MAX_MEMORY_FRACTION = 0.5
#: Bar x combinations per chunk of the fused sweep (a chunk is the unit of Parquet
#: streaming, progress and resume: about a second of work).
SWEEP_FUSED_CHUNK_WORK = 200_000_000
#: Groups of a fused sweep (one window, one set of derived instruments) whose prepared arrays a sweep
#: keeps at once: an options sweep prices a group per combination, so the oldest are dropped.
SWEEP_FUSED_GROUP_CACHE = 64
#: Largest chunk of the generic sweep (backtests per chunk).
SWEEP_GENERIC_CHUNK = 64
#: Estimated cost of one bar x combination of the fused kernel per thread (seconds), used
#: only by the refusal estimate.
SWEEP_FUSED_SECONDS_PER_BAR = 8.0e-9
#: Walk-forward window lengths: a number and a unit, e.g. "3y", "6m", "126d".  Unit ->
#: what it counts: "d" counts bars (trading days); the others are calendar lengths
#: (their values are pandas.DateOffset keywords).
WALKFORWARD_UNITS = {"d": "trading days", "w": "weeks", "m": "months", "y": "years"}
#: A generic sweep estimated to take less than this many seconds in one process runs
#: there (starting worker processes costs about a second each).
SWEEP_PROCESS_MIN_SECONDS = 5.0

# ---- reports of sweeps and walk-forward analyses ----
#: Rows of a sweep report's top-K table (the best combinations by the objective).
REPORT_SWEEP_TOP = 20

# ---- simple moving averages: windowed or vectorbt's cumulative arithmetic (signals.py, ma-crossover) ----
#: How a simple moving average is summed: "windowed" sums each window afresh (exact to
#: ~1e-16 relative); "cumulative" differences running sums as vectorbt does, reproducing
#: ``vbt.MA.run(close, window).ma`` bit for bit.
SMA_METHODS = ("windowed", "cumulative")
#: Default of ``rolling_mean(method=...)`` and of ma-crossover's ``sma``.
SMA_DEFAULT_METHOD = "windowed"

#: A first run (empty numba cache) prints how many kernels it has compiled at most once per this many seconds.
COMPILE_PROGRESS_SECONDS = 3.0

#: Every named default and tolerance above (all upper-case names).
__all__ = sorted(name for name in globals() if name.isupper())
