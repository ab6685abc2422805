"""Optimisation passes on derivative IR, run in a fixed order."""
from .accumulate import accumulate_in_place
from .copyprop import propagate_copies, substitute_in_return
from .cse import eliminate_common_subexpressions, without_common_subexpressions
from .dce import eliminate_dead_code
from .fuse import fuse_temporaries
from .inplace import memory_sharers, write_in_place
from .shapeonly import compute_shapes_only
from .shapes import may_be_arrays
from .simplify import simplify


def optimize(function, scalar_params=(), float_params=()):
    """Simplify, propagate copies, simplify what that exposes, merge common subexpressions, add
    gradients scattered into fresh arrays in place, drop dead code, then compute only the shape of
    values read only for their shape."""
    for _ in range(2):
        simplify(function, scalar_params, float_params, final=False)
        propagate_copies(function)
    simplify(function, scalar_params, float_params)
    eliminate_common_subexpressions(function)
    accumulate_in_place(function)
    eliminate_dead_code(function)
    compute_shapes_only(function, scalar_params)
    return function


__all__ = ["optimize", "accumulate_in_place", "compute_shapes_only", "simplify", "propagate_copies", "substitute_in_return",
           "eliminate_dead_code", "fuse_temporaries", "write_in_place", "memory_sharers", "may_be_arrays", "eliminate_common_subexpressions", "without_common_subexpressions"]
