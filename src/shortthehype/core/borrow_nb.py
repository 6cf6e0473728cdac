"""Borrowed arrays: an argument a kernel reads and writes without numba counting references to it.

numba counts references to every array a jitted function holds: it
increments the count when a function receives an array and decrements it
when the function is done with it, each an atomic operation on shared
memory.  Its pruning pass removes the pairs it can prove redundant, but
not in a function whose paths finish with its arrays at different points
(early returns, arrays used on some branches only), and not in a function
inlined into its caller.  The engine's per-trade kernels are such
functions: before they borrowed their arguments, counting references cost
more than the accounting they do.

:func:`borrowed_nb` returns the same array (same data, shape and strides)
without its memory record, so numba's counting operations on it do
nothing.  The rule that makes it safe: a kernel borrows **its own array
arguments** on entry.  Its caller holds them for the whole call, so they
outlive every borrowed copy, as long as the kernel never returns or stores
one.
"""

from __future__ import annotations

from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["borrowed_nb"]


@intrinsic
def borrowed_nb(typingctx, array):
    """``array`` without its memory record: the same data, not reference-counted (see the module's rule)."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        borrowed = cgutils.create_struct_proxy(signature.return_type)(context, builder, value=args[0])
        borrowed.meminfo = cgutils.get_null_value(borrowed.meminfo.type)
        borrowed.parent = cgutils.get_null_value(borrowed.parent.type)
        return borrowed._getvalue()

    return array(array), codegen
