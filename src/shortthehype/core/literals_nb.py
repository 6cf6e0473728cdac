"""A constant passed as a value known only at run time: one compilation of the function it is passed to.

numba types a constant written in a jitted function (``False``, ``0``) as a
literal of that value, and compiles a function it is passed to once per
literal value, besides the compilation for the plain type that calls from
Python use.  The engine takes about 25 s to compile, and each literal
``record`` flag cost one more compilation on a machine's first run.
:func:`at_run_time_nb` hands the same value on typed as its plain type.
"""

from __future__ import annotations

from numba.core import types
from numba.extending import intrinsic

__all__ = ["at_run_time_nb"]


@intrinsic
def at_run_time_nb(typingctx, value):
    """``value`` typed as its plain type (``bool`` for ``False``), so the callee's compilation for it is shared."""
    plain = types.unliteral(value)

    def codegen(context, builder, signature, args):
        return context.cast(builder, args[0], signature.args[0], signature.return_type)

    return plain(value), codegen
