"""RecentValues: the bounded store of recently used values behind the LPPLS and analog fits."""

from __future__ import annotations

from shortthehype.kept import RecentValues
from threads import errors_in_threads


def test_keeps_the_most_recently_used_values_and_computes_each_key_once_while_kept():
    store = RecentValues(2)
    computed = []

    def value(key):
        return store.get(key, lambda: computed.append(key) or key * 10)

    assert [value(1), value(2), value(1)] == [10, 20, 10]
    assert computed == [1, 2]
    assert value(3) == 30 and len(store) == 2  # 2 was the least recently used: it goes
    assert value(1) == 10 and computed == [1, 2, 3]
    assert value(2) == 20 and computed == [1, 2, 3, 2]


def test_a_kept_value_that_no_longer_holds_is_computed_again_and_replaced():
    store = RecentValues(2)
    rate = {"now": 1}
    computed = []

    def value(key):
        return store.get(key, lambda: computed.append(key) or (rate["now"], key * 10), lambda held: held[0] == rate["now"])

    assert [value(1), value(1)] == [(1, 10), (1, 10)] and computed == [1]
    rate["now"] = 2
    assert value(1) == (2, 10) and computed == [1, 1]
    assert value(1) == (2, 10) and computed == [1, 1] and len(store) == 1  # the new value replaced the stale one


def test_threads_sharing_a_store_get_their_own_values_without_errors():
    store = RecentValues(2)

    def work(thread: int) -> None:
        for i in range(5000):
            key = (thread * 7 + i) % 5
            assert store.get(key, lambda: key * 10) == key * 10
            assert len(store) <= 2

    errors = errors_in_threads(work)
    assert not errors, errors[:3]
