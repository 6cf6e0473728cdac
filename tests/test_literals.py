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


def test_no_kernel_passes_the_engine_a_constant_record_flag():
    """Every call of the engine in core/ hands its ``record`` flag on at run time: one compilation of the engine
    (about 25 s) serves backtests, batches, sweeps and studies instead of one more per constant."""
    import ast
    import inspect
    from pathlib import Path

    from shortthehype.core import simulate_nb

    engines = {f.__name__: list(inspect.signature(f.py_func).parameters).index("record")
               for f in (simulate_nb.simulate_core_nb, simulate_nb.simulate_accrued_nb)}
    calls = 0
    for path in sorted(Path(simulate_nb.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node.func, "id", getattr(node.func, "attr", None)) if isinstance(node, ast.Call) else None
            if name in engines:
                record = node.args[engines[name]]
                assert not isinstance(record, ast.Constant), f"{path.name}:{node.lineno} passes record={record.value}"
                calls += 1
    assert calls >= 6  # simulate_arrays', the engine's own, the batch's, the fused sweeps', ma-crossover's, the studies'
