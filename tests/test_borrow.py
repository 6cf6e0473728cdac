"""core/borrow_nb.py: a borrowed argument is the same array (data, shape, strides), read and written in place."""

from __future__ import annotations

import numpy as np
from numba import njit

from shortthehype.core.borrow_nb import borrowed_nb
from shortthehype.enums import order_dt


@njit(cache=True)
def _write_through_borrowed_nb(values, records, out):
    values, records, out = borrowed_nb(values), borrowed_nb(records), borrowed_nb(out)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            values[i, j] += 1.0
    records[0]["size"] = 2.5
    out[0] = values.shape[0]
    out[1] = values.shape[1]
    out[2] = values.strides[0]
    out[3] = values.strides[1]
    return out.sum()


def test_a_borrowed_argument_is_the_same_array_written_in_place():
    values = np.arange(12.0).reshape(3, 4)
    records = np.zeros(2, dtype=order_dt)
    out = np.zeros(4)
    _write_through_borrowed_nb(values, records, out)
    assert values.tolist() == (np.arange(12.0).reshape(3, 4) + 1.0).tolist()
    assert records["size"].tolist() == [2.5, 0.0]
    assert out.tolist() == [3, 4, 32, 8]


def test_a_borrowed_strided_view_keeps_its_strides():
    base = np.arange(24.0).reshape(4, 6)
    view = base[::2, 1::2]  # non-contiguous: numba's 'A' layout
    out = np.zeros(4)
    _write_through_borrowed_nb(view, np.zeros(1, dtype=order_dt), out)
    assert out.tolist() == [2, 3, 96, 16]
    expected = np.arange(24.0).reshape(4, 6)
    expected[::2, 1::2] += 1.0
    assert base.tolist() == expected.tolist()


def test_borrowed_nb_refuses_what_is_not_an_array():
    import pytest
    from numba.core.errors import TypingError

    @njit
    def borrow_a_number(x):
        return borrowed_nb(x)

    with pytest.raises(TypingError):
        borrow_a_number(1.0)
