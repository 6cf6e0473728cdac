"""``python``: a strategy written as a Python file next to its spec.

A spec names the file and, optionally, the function::

    kind = "python"

    [params]
    file = "my_idea.py"          # relative to the spec's directory
    function = "target_weights"  # the default
    threshold = 0.25             # a parameter the file declares

The file is an ordinary module:

``PARAMS`` (optional)
    A sequence of :class:`shortthehype.params.Param`: the strategy's own
    parameters.  They become parameters of the spec exactly like a built-in
    kind's: typed, bounded, documented, settable with ``--set threshold=0.3``
    and sweepable in ``[sweep]``.  Names may not clash with ``file``,
    ``function``, the engine options or the run settings.
``tickers(params) -> list[str]`` or ``TICKERS = [...]``
    The series to load (the traded ones and any used only for signals).
``target_weights(prices, params) -> DataFrame`` (or the name in ``function``)
    Target weights: rows = dates of ``prices``, columns = traded tickers,
    NaN = no order.  The row for bar t may use data up to bar t's close only
    (the engine trades it at t+1's open by default).  Rows may be a subset of
    the dates; missing ones mean "no order".
``check(params)`` (optional)
    Raise :class:`shortthehype.SpecError` (or ``ValueError``) with a one-line
    message for invalid combinations; called on every spec load and override.

Trust and safety: a spec file may name a Python file only under its own
directory or a strategy directory (``--allow-any-strategy-file`` lifts
this); ``target_weights`` receives a read-only copy of the prices (changing
them is an error naming the file); any exception or ``sys.exit`` in the
file becomes one :class:`~shortthehype.errors.UserCodeError` line with the
file and line (:func:`call_user`).

The spec loader asks this kind to :func:`specialize` itself on the spec's
raw ``[params]`` table (it imports the file and adds its ``PARAMS``); without
that step (a spec given only ``file`` and ``function``) the kind still works
for files that declare no ``PARAMS``.  A file is imported once per
modification: editing it and re-running picks up the change.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.data.prices import Prices
from shortthehype.errors import SpecError, UserCodeError, did_you_mean
from shortthehype.params import ENGINE_PARAMS, RUN_PARAMS, Param
from shortthehype.strategies.base import Params, StrategyKind, register

__all__ = [
    "PYTHON_KIND",
    "UserStrategy",
    "call_user",
    "changed_field",
    "load_user_strategy",
    "python_kind",
    "read_only_copy",
    "specialize",
    "user_code_error",
]

#: Default function a ``python`` strategy file must define.
USER_STRATEGY_FUNCTION = "target_weights"

PARAMS = (
    Param(
        "file", "str", None,
        "Python file of the strategy, relative to the spec's directory (it must lie under it or a strategy directory).",
        optional=True,
    ),
    Param("function", "str", USER_STRATEGY_FUNCTION, "Name of the function in the file that returns the target weights."),
)

_RESERVED = {p.name for p in PARAMS} | {p.name for p in ENGINE_PARAMS} | {p.name for p in RUN_PARAMS}


@dataclass(frozen=True)
class UserStrategy:
    """A strategy file, imported and checked."""

    path: Path
    module: ModuleType
    params: tuple[Param, ...]
    tickers: Callable[[Params], Sequence[str]]
    check: Callable[[Params], None] | None

    @property
    def summary(self) -> str:
        doc = (self.module.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else f"User strategy {self.path.name}"

    def function(self, name: str) -> Callable[[Prices, Params], pd.DataFrame]:
        candidate = getattr(self.module, name, None)
        if not callable(candidate):
            functions = [k for k, v in vars(self.module).items() if callable(v) and not k.startswith("_")]
            raise SpecError(
                f"{self.path.name} defines no function {name!r}{did_you_mean(name, functions)} "
                f"(set parameter 'function' to the one that returns the target weights)"
            )
        return candidate


# ---- loading ----------------------------------------------------------------------------

_MODULES: dict[tuple[str, int, int], UserStrategy] = {}


def _resolve_file(file: str, base_dir: Path | None) -> Path:
    path = Path(file).expanduser()
    if path.suffix != ".py":
        raise SpecError(f"parameter 'file' = {file!r} is not a Python file (expected a name ending in .py)")
    if path.is_absolute():
        candidates = [path]
    else:
        from shortthehype.strategies.locations import strategy_dirs

        roots = ([base_dir] if base_dir is not None else []) + [Path.cwd()] + strategy_dirs()
        candidates = [root / path for root in roots]
    for candidate in candidates:
        if candidate.is_file():
            resolved = candidate.resolve()
            if base_dir is not None:
                _check_trusted(file, resolved, base_dir)
            return resolved
    searched = ", ".join(dict.fromkeys(str(c.parent) for c in candidates))
    raise SpecError(f"strategy file {file!r} not found (searched {searched})")


def _check_trusted(file: str, resolved: Path, base_dir: Path) -> None:
    """A spec file may run Python files under its own directory or a strategy directory only (unless explicitly allowed).

    A spec is data someone may hand you; the code it names should sit next
    to it, not anywhere on the disk (``/any/path.py``, ``../x.py``).
    """
    import os

    from shortthehype.constants import ENV_ANY_STRATEGY_FILE
    from shortthehype.strategies.locations import strategy_dirs

    if os.environ.get(ENV_ANY_STRATEGY_FILE, "") not in ("", "0"):
        return
    roots = [base_dir.resolve()] + [d.resolve() for d in strategy_dirs()]
    if any(resolved.is_relative_to(root) for root in roots):
        return
    raise SpecError(
        f"parameter 'file' = {file!r} is {resolved}, outside the spec's directory {base_dir.resolve()} and the strategy "
        f"directories; move it there, or pass --allow-any-strategy-file to run it"
    )


def load_user_strategy(file: str | Path, base_dir: str | Path | None = None) -> UserStrategy:
    """Import a strategy file and check what it declares.

    Parameters
    ----------
    file : str or Path
        The ``.py`` file; a relative path is looked up in ``base_dir`` (the
        spec's directory), the working directory and the strategy
        directories, in that order.
    base_dir : str or Path, optional
        Directory of the spec that names the file.

    Returns
    -------
    UserStrategy
        The module with its parameters, tickers function and check.  The
        import is cached until the file changes (modification time or size).

    Raises
    ------
    SpecError
        The file is missing, does not import (the message names the line of a
        syntax error, or the exception raised while importing), or declares
        ``PARAMS`` / ``TICKERS`` / ``tickers`` / ``check`` wrongly.
    """
    path = _resolve_file(str(file), Path(base_dir) if base_dir is not None else None)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _MODULES:
        return _MODULES[key]
    module = _import(path)
    strategy = UserStrategy(
        path=path,
        module=module,
        params=_declared_params(path, module),
        tickers=_declared_tickers(path, module),
        check=_declared_check(path, module),
    )
    _MODULES[key] = strategy
    return strategy


def _import(path: Path) -> ModuleType:
    digest = hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
    name = f"shortthehype_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        _restore(name, previous)
        raise SpecError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001  (any failure of user code becomes one line naming the file)
        _restore(name, previous)
        raise user_code_error(path, "importing it", exc) from exc
    return module


def user_code_error(path: Path, what: str, exc: BaseException) -> UserCodeError:
    """One line for an exception (or ``sys.exit``) raised by user code: ``file:line: what raised Type: message``.

    The line is the deepest frame of the traceback inside ``path`` (the
    call into the file when no frame is).  The CLI shows the full traceback
    with ``--debug``.
    """
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    where = f"{path}:{line}" if line is not None else str(path)
    if isinstance(exc, SystemExit):
        return UserCodeError(f"{where}: {what} called sys.exit({exc.code!r})")
    text = " ".join(str(exc).split())
    return UserCodeError(f"{where}: {what} raised {type(exc).__name__}{': ' + text if text else ''}")


def call_user(strategy: UserStrategy, what: str, function: Callable[..., Any], *args: Any) -> Any:
    """Call a function of the user's file; any exception or ``sys.exit`` becomes a one-line :class:`UserCodeError`.

    A :class:`SpecError` the file raises on purpose keeps its message (prefixed with the file name).
    """
    try:
        return function(*args)
    except UserCodeError:
        raise
    except SpecError as exc:
        raise SpecError(f"{strategy.path.name}: {exc}") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise user_code_error(strategy.path, what, exc) from exc


def _restore(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _declared_params(path: Path, module: ModuleType) -> tuple[Param, ...]:
    declared = getattr(module, "PARAMS", ())
    if isinstance(declared, (str, bytes)) or not isinstance(declared, Sequence):
        raise SpecError(f"{path.name}: PARAMS must be a list or tuple of shortthehype.params.Param")
    names: set[str] = set()
    for item in declared:
        if not isinstance(item, Param):
            raise SpecError(f"{path.name}: PARAMS holds {item!r}, which is not a shortthehype.params.Param")
        if item.name in _RESERVED:
            raise SpecError(
                f"{path.name}: parameter {item.name!r} in PARAMS clashes with a built-in setting; rename it"
            )
        if item.name in names:
            raise SpecError(f"{path.name}: parameter {item.name!r} is declared twice in PARAMS")
        names.add(item.name)
    return tuple(declared)


def _declared_tickers(path: Path, module: ModuleType) -> Callable[[Params], Sequence[str]]:
    function = getattr(module, "tickers", None)
    if callable(function):
        return function
    constant = getattr(module, "TICKERS", None)
    if constant is None:
        raise SpecError(f"{path.name}: define TICKERS = [...] or def tickers(params) naming the series to load")
    if isinstance(constant, str) or not isinstance(constant, Sequence):
        raise SpecError(f"{path.name}: TICKERS must be a list of ticker symbols, got {type(constant).__name__}")
    fixed = list(constant)
    return lambda params: fixed


def _declared_check(path: Path, module: ModuleType) -> Callable[[Params], None] | None:
    check = getattr(module, "check", None)
    if check is None:
        return None
    if not callable(check):
        raise SpecError(f"{path.name}: check must be a function check(params)")
    return check


# ---- the kind ---------------------------------------------------------------------------


def _user_tickers(strategy: UserStrategy, params: Params) -> list[str]:
    tickers = call_user(strategy, "tickers()", strategy.tickers, params)
    if isinstance(tickers, str) or not isinstance(tickers, Sequence) or not tickers:
        raise SpecError(f"{strategy.path.name}: tickers must be a non-empty list of ticker symbols, got {tickers!r}")
    out: list[str] = []
    for ticker in tickers:
        if not isinstance(ticker, str) or not ticker.strip():
            raise SpecError(f"{strategy.path.name}: ticker {ticker!r} is not a ticker symbol")
        symbol = ticker.strip().upper()
        if symbol not in out:
            out.append(symbol)
    return out


def _user_check(strategy: UserStrategy, params: Params) -> None:
    if strategy.check is None:
        return
    try:
        strategy.check(params)
    except SpecError as exc:
        raise SpecError(f"{strategy.path.name}: {exc}") from None
    except ValueError as exc:
        raise SpecError(f"{strategy.path.name}: {' '.join(str(exc).split()) or 'invalid parameters'}") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001
        raise user_code_error(strategy.path, "check()", exc) from exc


def _user_weights(strategy: UserStrategy, prices: Prices, params: Params) -> pd.DataFrame:
    name = params["function"]
    function = strategy.function(name)
    given = read_only_copy(prices)
    weights = call_user(strategy, f"{name}()", function, given, params)
    where = f"{strategy.path.name}: {name}()"
    changed = changed_field(prices, given)
    if changed is not None:
        raise SpecError(
            f"{where} modified the prices it was given (prices.{changed}); they are read-only: "
            f"work on a copy, e.g. px = prices.close.copy()"
        )
    if isinstance(weights, pd.Series):
        weights = weights.to_frame()
    if not isinstance(weights, pd.DataFrame):
        raise SpecError(f"{where} returned {type(weights).__name__}; it must return a DataFrame of target weights")
    if not isinstance(weights.index, pd.DatetimeIndex):
        raise SpecError(f"{where} returned rows indexed by {type(weights.index).__name__}; index them by the prices' dates")
    if not weights.index.is_unique:
        raise SpecError(f"{where} returned a date twice ({weights.index[weights.index.duplicated()][0]:%Y-%m-%d})")
    outside = weights.index.difference(prices.index)
    if len(outside):
        raise SpecError(f"{where} returned a row dated {outside[0]:%Y-%m-%d}, which is not a date of the prices")
    columns = [str(c) for c in weights.columns]
    unknown = [c for c in columns if c not in prices.tickers]
    if unknown:
        raise SpecError(
            f"{where} returned weights for {unknown[0]!r}, which is not among its tickers{did_you_mean(unknown[0], prices.tickers)}"
        )
    try:
        weights = weights.astype("float64")
    except (TypeError, ValueError):
        raise SpecError(f"{where} returned weights that are not numbers (NaN = no order)") from None
    weights.columns = columns
    return weights.reindex(prices.index)


def read_only_copy(prices: Prices) -> Prices:
    """A copy of ``prices`` whose arrays refuse writes (``ValueError: assignment destination is read-only``)."""
    from shortthehype.constants import PRICE_FIELDS

    frames = {}
    for name in PRICE_FIELDS:
        values = getattr(prices, name).to_numpy(dtype="float64", copy=True)
        values.flags.writeable = False
        frame = pd.DataFrame(values, index=prices.index.copy(), columns=getattr(prices, name).columns.copy(), copy=False)
        frames[name] = frame
    return Prices(**frames, source=prices.source, warnings=prices.warnings)


def changed_field(original: Prices, given: Prices) -> str | None:
    """The first price field the strategy changed in ``given`` (values, dates or tickers), or None."""
    from shortthehype.constants import PRICE_FIELDS

    for name in PRICE_FIELDS:
        before, after = getattr(original, name), getattr(given, name)
        if not (after.index.equals(before.index) and after.columns.equals(before.columns)):
            return name
        if not np.array_equal(after.to_numpy(dtype="float64"), before.to_numpy(dtype="float64"), equal_nan=True):
            return name
    return None


def python_kind(file: str | Path, base_dir: str | Path | None = None) -> StrategyKind:
    """The ``python`` kind specialised to one strategy file: its parameters are ``file``, ``function`` and the file's ``PARAMS``.

    ``check`` refuses a ``file`` other than the one the kind was built from
    (the file's parameters would not match), so ``--set file=...`` is an
    error; ``--set function=...`` picks another function of the same file.
    """
    strategy = load_user_strategy(file, base_dir)
    declared = str(file)

    def check(params: Params) -> None:
        if params.get("file") != declared:
            raise SpecError(
                f"parameter 'file' is {params.get('file')!r} but this spec was built for {declared!r}; "
                f"a different file declares different parameters, so write a spec for it"
            )
        _user_check(strategy, params)

    return StrategyKind(
        name="python",
        summary=strategy.summary,
        params=PARAMS + strategy.params,
        tickers=lambda params: _user_tickers(strategy, params),
        target_weights=lambda prices, params: _user_weights(strategy, prices, params),
        check=check,
        source_files=_source_files,
    )


def _source_files(params: Params, spec_path: Path | None) -> list[Path]:
    """The strategy file (its text decides the targets, so a sweep's resume fingerprints it)."""
    if not params.get("file"):
        return []
    return [load_user_strategy(params["file"], spec_path.parent if spec_path is not None else None).path]


def specialize(raw_params: Mapping[str, Any], spec_path: Path | None) -> StrategyKind:
    """The kind a spec with ``kind = "python"`` uses, given its raw ``[params]`` table and its file.

    Without ``file`` the generic kind is returned (its check then asks for one).
    """
    file = raw_params.get("file")
    if file is None:
        return PYTHON_KIND
    if not isinstance(file, str):
        raise SpecError(f"parameter 'file' must be a file name, got {file!r}")
    return python_kind(file, spec_path.parent if spec_path is not None else None)


# The generic kind: parameters ``file`` and ``function`` only; it loads the file
# when asked for tickers or targets (relative to the working directory and the
# strategy directories), so a file without PARAMS runs even without specialisation.


def _generic_strategy(params: Params) -> UserStrategy:
    return load_user_strategy(params["file"])


def _generic_check(params: Params) -> None:
    if params.get("file") is None:
        raise SpecError("kind 'python' needs parameter 'file' (e.g. file = \"my_idea.py\")")


PYTHON_KIND = register(
    StrategyKind(
        name="python",
        summary="A strategy written as a Python file: its target_weights(prices, params) and PARAMS.",
        params=PARAMS,
        tickers=lambda params: _user_tickers(_generic_strategy(params), params),
        target_weights=lambda prices, params: _user_weights(_generic_strategy(params), prices, params),
        check=_generic_check,
        specialize=specialize,
        source_files=_source_files,
    )
)
