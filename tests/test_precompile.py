"""``shortthehype precompile`` in processes: the engine's step first, beside the steps that do not call it, then
every other part; each once, errors surfaced, the one-process order kept with one worker."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from shortthehype import precompile as precompile_module
from shortthehype.errors import ParamError
from shortthehype.precompile import precompile


def mark(folder: str, name: str, seconds: float) -> None:
    """A stand-in step (spawned workers import it from this module): when it started and ended."""
    started = time.time()
    time.sleep(seconds)
    (Path(folder) / name).write_text(f"{started} {time.time()}")


def fail() -> None:
    raise ValueError("a part that fails")


def times(folder: Path) -> dict[str, tuple[float, float]]:
    out = {}
    for path in folder.iterdir():
        start, end = path.read_text().split()
        out[path.name] = (float(start), float(end))
    return out


@pytest.fixture
def steps(tmp_path, monkeypatch):
    folder = tmp_path / "marks"
    folder.mkdir()
    plan = (
        ("engine", functools.partial(mark, str(folder), "engine", 3.0)),  # long enough for a slow worker start
        ("after one", functools.partial(mark, str(folder), "after one", 0.1)),
        ("beside", functools.partial(mark, str(folder), "beside", 0.1)),
        ("after two", functools.partial(mark, str(folder), "after two", 0.1)),
    )
    monkeypatch.setattr(precompile_module, "PRECOMPILE_STEPS", plan)
    monkeypatch.setattr(precompile_module, "_WITHOUT_ENGINE", ("beside",))
    return folder


def test_parts_that_call_the_engine_start_after_its_step_and_the_others_beside_it(steps):
    reports = []
    precompile(lambda done, total, running: reports.append((done, total, running)), workers=2)
    ran = times(steps)
    assert sorted(ran) == ["after one", "after two", "beside", "engine"]
    engine_start, engine_end = ran["engine"]
    assert ran["beside"][0] < engine_end  # the LPPLS fits compile while the engine does
    assert ran["after one"][0] >= engine_end and ran["after two"][0] >= engine_end
    assert reports[0][:2] == (0, 4) and reports[-1] == (4, 4, "done")
    assert [done for done, _, _ in reports] == sorted(done for done, _, _ in reports)


def test_one_worker_runs_the_steps_here_in_order(steps):
    reports = []
    precompile(lambda done, total, running: reports.append((done, running)), workers=1)
    ran = times(steps)
    order = sorted(ran, key=lambda name: ran[name][0])
    assert order == ["engine", "after one", "beside", "after two"]
    assert reports == [(0, "engine"), (1, "after one"), (2, "beside"), (3, "after two"), (4, "done")]


def test_a_part_that_fails_fails_the_whole(steps, monkeypatch):
    plan = (*precompile_module.PRECOMPILE_STEPS[:3], ("broken", fail))
    monkeypatch.setattr(precompile_module, "PRECOMPILE_STEPS", plan)
    with pytest.raises(ValueError, match="a part that fails"):
        precompile(workers=2)


@pytest.mark.parametrize("workers", [0, -1, 1.5, True])
def test_workers_must_be_a_positive_integer(workers):
    with pytest.raises(ParamError, match="'workers' must be an integer >= 1"):
        precompile(workers=workers)


def test_the_steps_beside_the_engine_do_not_call_it(monkeypatch):
    """What compiles beside the engine's step must not need the engine (it would compile it a second time)."""
    import shortthehype.engine

    def refuse(*args, **kwargs):
        raise AssertionError("the engine was called")

    monkeypatch.setattr(shortthehype.engine, "simulate", refuse)
    steps = dict(precompile_module.PRECOMPILE_STEPS)
    for label in precompile_module._WITHOUT_ENGINE:
        steps[label]()
    monkeypatch.undo()
    with pytest.raises(AssertionError, match="the engine was called"):  # the stand-in bites on the engine's step
        monkeypatch.setattr(shortthehype.engine, "simulate", refuse)
        steps["engine, metrics and strategies"]()
