"""core/literals_nb.py: a constant handed on at run time shares the callee's compilation for its plain type."""

from __future__ import annotations

from numba import njit, types

from shortthehype.core.literals_nb import at_run_time_nb


@njit
def _flagged(x, flag):
    return x + 1.0 if flag else x


@njit
def _with_false(x):
    return _flagged(x, at_run_time_nb(False))


@njit
def _with_true(x):
    return _flagged(x, at_run_time_nb(True))


@njit
def _with_zero(x):
    return x + at_run_time_nb(0)


def test_constants_handed_on_at_run_time_keep_their_values_and_compile_the_callee_once():
    assert (_with_false(1.0), _with_true(1.0), _flagged(1.0, True)) == (1.0, 2.0, 2.0)
    assert _flagged.signatures == [(types.float64, types.boolean)]
    assert _with_zero(1.5) == 1.5


def test_no_kernel_passes_a_constant_where_it_would_compile_a_callee_again():
    """Every call in core/ of the engine (its ``record`` flag) and of the basket's targets (its ``weighting``) hands
    the value on at run time: one compilation of each (the engine's takes about 25 s) serves every caller instead
    of one more per constant."""
    import ast
    import inspect
    from pathlib import Path

    from shortthehype.core import simulate_nb, targets_nb

    watched = {f.__name__: list(inspect.signature(f.py_func).parameters).index(name)
               for f, name in ((simulate_nb.simulate_core_nb, "record"), (simulate_nb.simulate_accrued_nb, "record"),
                               (targets_nb.basket_side_targets_nb, "weighting"))}
    calls = 0
    for path in sorted(Path(simulate_nb.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
            if name in watched:
                value = node.args[watched[name]]
                constant = isinstance(value, ast.Constant) or (isinstance(value, ast.Name) and value.id.isupper())
                assert not constant, f"{path.name}:{node.lineno} passes {ast.unparse(value)} to {name}"
                calls += 1
    # the engine: simulate_arrays', its own, the batch's, the fused sweeps', ma-crossover's, the studies'; the basket's
    # targets: ai-basket's, dotcom-analog's, bubble-timer's
    assert calls >= 9
