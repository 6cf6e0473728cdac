"""Run a piece of work in many threads at once, switching between them as often as Python allows."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


def errors_in_threads(work: Callable[[int], None], n_threads: int = 8) -> list[str]:
    """``work(thread)`` in ``n_threads`` threads together; the errors any of them raised."""
    errors: list[str] = []

    def run(thread: int) -> None:
        try:
            work(thread)
        except Exception as error:  # every error of every thread is reported
            errors.append(repr(error))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(t,)) for t in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return errors
