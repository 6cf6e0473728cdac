"""A bounded store of the most recently used values that threads can share."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["RecentValues"]


class RecentValues:
    """The ``size`` most recently used values, by key (for results expensive to compute and asked for again).

    Threads may share a store: it changes under a lock, and ``compute`` runs
    outside it (two threads asking for the same new key may both compute it;
    both get the value stored first).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any], current: Callable[[Any], bool] | None = None) -> Any:
        """The value kept under ``key``, else ``compute()``, kept (the least recently used beyond ``size`` go).

        ``current(value)`` says whether a kept value still holds (for a key
        that cannot hold everything the value depends on, such as an
        object's identity); one that does not is computed again and replaced.
        """
        with self._lock:
            if key in self._values and (current is None or current(self._values[key])):
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            if key in self._values and (current is None or current(self._values[key])):
                value = self._values[key]  # another thread stored it first
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        with self._lock:  # another thread may be between adding a value and evicting the oldest
            return len(self._values)
