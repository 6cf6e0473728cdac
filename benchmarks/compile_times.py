"""What a machine's first run compiles: ``shortthehype precompile`` (in one process) with numba's compile events timed per function.

Run it with an empty numba cache (else nothing compiles)::

    NUMBA_CACHE_DIR=$(mktemp -d) python benchmarks/compile_times.py

Prints the whole precompile's wall time, then every function numba compiled
more than once (one compilation per distinct argument types: literal
constants, read-only arrays) and the engine's compilations, each inclusive of
the functions it compiled first.
"""

from __future__ import annotations

import collections
import time

from numba.core import event


class CompileTimer(event.Listener):
    """Seconds of each compilation, by function."""

    def __init__(self) -> None:
        self.started: dict[tuple[int, str], float] = {}
        self.seconds: dict[str, list[float]] = collections.defaultdict(list)

    def on_start(self, ev: event.Event) -> None:
        self.started[id(ev.data["dispatcher"]), str(ev.data["args"])] = time.perf_counter()

    def on_end(self, ev: event.Event) -> None:
        started = self.started.pop((id(ev.data["dispatcher"]), str(ev.data["args"])), time.perf_counter())
        self.seconds[ev.data["dispatcher"].py_func.__qualname__].append(time.perf_counter() - started)


def main() -> None:
    timer = CompileTimer()
    event.register("numba:compile", timer)
    tic = time.perf_counter()
    from shortthehype.precompile import precompile

    precompile(None, workers=1)  # in this process: the listener sees every compilation
    print(f"shortthehype precompile: {time.perf_counter() - tic:.1f} s")
    engine = ("simulate_core_nb", "simulate_accrued_nb")
    shown = sorted(((sum(s), name, s) for name, s in timer.seconds.items() if len(s) > 1 or name in engine), reverse=True)
    for total, name, seconds in shown:
        print(f"  {name}: {len(seconds)} compilation(s), {' + '.join(f'{s:.1f}' for s in seconds)} = {total:.1f} s")


if __name__ == "__main__":
    main()
