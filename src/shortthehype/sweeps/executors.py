"""Where chunks run: this process, local worker processes or dask.distributed; results collected as they finish."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shortthehype.errors import ParamError
from shortthehype.sweeps.chunks import Chunk, run_chunk
from shortthehype.sweeps.parts import PartStore
from shortthehype.sweeps.plan import Plan

__all__ = ["Collector", "execute", "refuse_inside_worker_start"]


class Collector:
    """Every chunk's rows, block sums and windows copied into arrays for the whole sweep as chunks finish.

    Nothing of a chunk is kept after its copy, so the peak memory is one copy
    of the results plus one chunk (no concatenation at the end).
    """

    def __init__(self, n: int, size: int, n_blocks: int) -> None:
        self.n = n
        self.size = size
        self.blocks_t = np.empty((n_blocks, 2, n))  # block-major, as the CSCV reads it
        self.windows = np.empty(n, dtype=object)
        self.columns: dict[str, np.ndarray] = {}
        self.categories: dict[str, pd.Index] = {}
        self.masks: dict[str, np.ndarray] = {}  # nullable bool/int columns: where the value is missing
        self.done: set[int] = set()
        self.finished = 0

    def keep(self, index: int, chunk: Chunk) -> None:
        rows = slice(index * self.size, index * self.size + len(chunk.ids))
        self.blocks_t[:, :, rows] = chunk.blocks.transpose(1, 2, 0)
        self.windows[rows] = chunk.windows
        for name in chunk.table.columns:
            column = chunk.table[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                categories = self.categories.setdefault(name, column.cat.categories)
                if not column.cat.categories.equals(categories):  # e.g. a part read back from disk
                    column = column.cat.set_categories(categories)
                values = column.cat.codes.to_numpy()
            elif isinstance(column.dtype, (pd.Int64Dtype, pd.BooleanDtype)):
                self.masks.setdefault(name, np.zeros(self.n, dtype=bool))[rows] = column.isna().to_numpy()
                values = column.to_numpy(dtype=column.dtype.numpy_dtype, na_value=0)
            else:
                values = column.to_numpy()
            if name not in self.columns:
                self.columns[name] = np.empty(self.n, dtype=values.dtype)
            self.columns[name][rows] = values
        self.done.add(index)
        self.finished += len(chunk.ids)

    def table(self) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name, values in self.columns.items():
            if name in self.categories:
                data[name] = pd.Categorical.from_codes(values, categories=self.categories[name])
            elif name in self.masks:
                masked = pd.arrays.BooleanArray if values.dtype == bool else pd.arrays.IntegerArray
                data[name] = masked(values, self.masks[name])
            else:
                data[name] = values
        return pd.DataFrame(data, copy=False)


def execute(
    plan: Plan,
    chunks: list[np.ndarray],
    done: dict[int, Chunk],
    store: PartStore | None,
    executor: str,
    scheduler: str | None,
    n_workers: int,
    progress: Callable[[int, int], None] | None,
    collector: Collector,
) -> None:
    """Run the chunks not in ``done`` (writing each to ``store``) and hand every chunk to ``collector``."""
    for index, chunk in done.items():
        collector.keep(index, chunk)
    done.clear()
    if progress is not None:
        progress(collector.finished, collector.n)
    todo = [i for i in range(len(chunks)) if i not in collector.done]

    def collect(index: int, chunk: Chunk) -> None:
        if store is not None:
            store.write(index, chunk)
        collector.keep(index, chunk)
        if progress is not None:
            progress(collector.finished, collector.n)

    if not todo:
        return
    with remembered_interrupt() as interrupted:

        def collect_and_stop(index: int, chunk: Chunk) -> None:
            collect(index, chunk)
            if interrupted():
                raise KeyboardInterrupt

        if executor == "dask":
            _execute_dask(plan, chunks, todo, scheduler, collect_and_stop)
        elif n_workers > 1 and len(todo) > 1 and _picklable(plan):
            _execute_processes(plan, chunks, todo, n_workers, collect_and_stop)
        else:
            for index in todo:
                collect_and_stop(index, run_chunk(plan, chunks[index]))


@contextmanager
def remembered_interrupt() -> Iterator[Callable[[], bool]]:
    """Within it, a Ctrl-C is also remembered: the function it gives says whether one came.

    Python raises KeyboardInterrupt wherever its main thread is when the
    signal arrives.  When that is a finalizer (``__del__``: numba's compiler
    runs many, as llvmlite frees its objects in them; pandas objects have
    them too), Python prints "Exception ignored" and goes on, and the sweep
    would run to its end and exit 0 as if nothing had been pressed.  The
    caller checks after each chunk and stops there.  Outside the main thread,
    or when SIGINT has another handler than Python's (ignored, or the
    caller's own), nothing is changed.
    """
    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield lambda: False
        return

    def remember(signum: int, frame: Any) -> None:
        pressed.append(signum)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def _picklable(plan: Plan) -> bool:
    try:
        pickle.loads(pickle.dumps(plan))
    except Exception:  # noqa: BLE001 - any failure means: run in this process
        return False
    return True


_UNGUARDED_SCRIPT = (
    "the sweep's worker processes stopped: a script that calls sweep() must do so under "
    "`if __name__ == \"__main__\":` (worker processes re-import it), or pass workers=1"
)


def refuse_inside_worker_start() -> None:
    """A worker process that re-imports a script calling sweep() at top level stops at once (the parent then says why).

    Without this the worker would run the whole sweep again and wait forever
    on worker processes of its own, and so would its parent.
    """
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise ParamError(_UNGUARDED_SCRIPT)


_WORKER_PLAN: Plan | None = None


def _init_worker(plan_file: str) -> None:
    import signal

    global _WORKER_PLAN
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops handing out chunks
    exit_with_parent()
    _WORKER_PLAN = pickle.loads(Path(plan_file).read_bytes())


def exit_with_parent(interval: float = 0.5) -> None:
    """Stop this worker process as soon as its parent is gone (killed with SIGKILL, say): no orphan keeps running."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:  # re-parented: the sweep that started us has died
                os._exit(1)

    threading.Thread(target=watch, name="shortthehype-parent-watch", daemon=True).start()


def _worker_chunk(ids: np.ndarray) -> Chunk:
    assert _WORKER_PLAN is not None
    return run_chunk(_WORKER_PLAN, ids)


def _execute_processes(
    plan: Plan, chunks: list[np.ndarray], todo: list[int], n_workers: int, collect: Callable[[int, Chunk], None]
) -> None:
    import multiprocessing
    import shutil
    import tempfile
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from shortthehype.files import write_atomically

    # the plan (prices included) goes to the workers through a file, not the spawn pipe: a worker that dies
    # while starting (a script without a __main__ guard) must not leave the parent blocked writing megabytes into it
    folder = tempfile.mkdtemp(prefix="shortthehype-sweep-")
    try:
        plan_file = str(write_atomically(Path(folder) / "plan.pickle", lambda stream: pickle.dump(plan, stream),
                                         option="the sweep's plan for its worker processes"))
        pool = ProcessPoolExecutor(
            max_workers=min(n_workers, len(todo)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(plan_file,),
        )
        try:
            pending = {pool.submit(_worker_chunk, chunks[i]): i for i in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = pending.pop(future)
                    collect(index, future.result())
        except BrokenProcessPool:
            raise ParamError(_UNGUARDED_SCRIPT) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _execute_dask(
    plan: Plan, chunks: list[np.ndarray], todo: list[int], scheduler: str | None, collect: Callable[[int, Chunk], None]
) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ParamError("--executor dask needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except Exception as exc:  # noqa: BLE001 - a bad address raises ValueError/TypeError, a dead one OSError
            message = " ".join(str(exc).split())
            raise ParamError(f"cannot reach the dask scheduler at {scheduler!r} ({type(exc).__name__}: {message})") from None
    else:
        try:
            cluster = LocalCluster(
                n_workers=min(os.cpu_count() or 1, len(todo)), threads_per_worker=1, processes=True,
                dashboard_address=None,
            )
        except RuntimeError as exc:
            raise ParamError(
                f"could not start a local dask cluster ({exc}); a script that calls sweep() must do so under "
                "`if __name__ == \"__main__\":` (dask's worker processes re-import it)"
            ) from None
        client = Client(cluster)
    try:
        shared = client.scatter(plan, broadcast=True)
        futures = {client.submit(run_chunk, shared, chunks[i], pure=False): i for i in todo}
        for future, chunk in as_completed(list(futures), with_results=True):
            collect(futures[future], chunk)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
