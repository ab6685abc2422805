"""Which operations may return memory of their arguments (views), so that lowering can refuse, or
check when the code runs, a change in place that Python would show through another name.

numpy decides view or copy by shapes and flags known only when the code runs (`x[0]` is a view of
a matrix, a number of a vector), so these tables say "may": the checks made when the derivative
runs (`runtime.refuse_changed_view`) ask numpy whether the memory is shared.
"""
import builtins
import operator

import numpy as np

from . import runtime as rt
from .ir import Attribute, Const, Method, Pack, hashable


def _present(*names):
    """The numpy functions among `names` this numpy has (`np.unstack` is new in 2.1, say)."""
    found = []
    for name in names:
        owner = np
        for part in name.split("."):
            owner = getattr(owner, part, None)
        if owner is not None:
            found.append(owner)
    return found


# The result may look into the first argument: reshaping, transposing, flipping, splitting (a list
# of views), conversions that keep an array as it is, and iterating an array into a list (its rows).
_VIEWS_OF_FIRST = {operator.getitem, np.transpose, np.reshape, np.ravel, np.squeeze, np.expand_dims,
                   np.swapaxes, np.moveaxis, np.broadcast_to, np.asarray, np.asanyarray, np.ascontiguousarray,
                   np.asfortranarray, np.require, np.diagonal, np.diag, np.real, np.imag, np.flip, np.fliplr,
                   np.flipud, np.rot90, rt.mT, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, builtins.list,
                   builtins.tuple,
                   *_present("unstack", "matrix_transpose", "permute_dims", "asmatrix",
                             "lib.stride_tricks.as_strided", "lib.stride_tricks.sliding_window_view")}
# The result may look into any argument (`np.atleast_1d(a, b)` is a view of each; `max(a, b)` is one
# of them).
_VIEWS_OF_EVERY = {np.atleast_1d, np.atleast_2d, np.atleast_3d, np.broadcast_arrays, builtins.max, builtins.min}
# Those of them that return a Python list of views: assigning an item replaces it (`parts[0] = v`),
# which changes no array.
_LISTS_OF_VIEWS = {np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, builtins.list, np.broadcast_arrays}
_VIEW_ATTRIBUTES = {"T", "mT", "real", "imag", "flat", "base"}
# (`conj` of a real array is the array itself)
_VIEW_METHODS = {"view", "reshape", "ravel", "squeeze", "transpose", "swapaxes", "diagonal", "conj", "conjugate",
                 "__array__"}


def viewed(fn, args, kwargs=()):
    """The arguments whose memory `fn(*args, **kwargs)` may share (an empty tuple: none)."""
    if not args:
        return ()
    if isinstance(fn, Attribute):
        return args[:1] if fn.name in _VIEW_ATTRIBUTES else ()
    if isinstance(fn, Method):
        if fn.name in _VIEW_METHODS or fn.name == "astype" and _copy_may_be_skipped(kwargs):
            return args[:1]
        return ()
    if not hashable(fn):
        return ()
    if fn is operator.getitem and isinstance(args[0], Pack):  # a tuple's or a list's item known now
        return ()
    if fn is operator.getitem and len(args) > 1 and _fancy(args[1]):  # `y[[0, 1]]`: always a copy
        return ()
    if fn in _VIEWS_OF_FIRST:
        return args[:1]
    if fn in _VIEWS_OF_EVERY:
        return tuple(args)
    if fn is np.nan_to_num and _argument(args, kwargs, 1, "copy", True) is not True:
        return args[:1]  # `copy=False` replaces nan and inf in place and returns the array itself
    if _copy_may_be_skipped(kwargs):  # any function told it need not copy may return its argument
        return tuple(args) if fn is np.meshgrid else args[:1]
    if fn is np.diff and _argument(args, kwargs, 1, "n", 1) in (0, None):  # zero differences: the array itself
        return args[:1]
    if fn is np.einsum and len(args) == 2:  # one operand: a transpose or a diagonal is a view
        return args[1:]
    return ()


def _fancy(index):
    """Does an index written as a list (`[0, 1]`, alone or beside slices: `y[[0, 1], :]`) make numpy
    index by arrays, which copies?"""
    if isinstance(index, Pack) and index.kind == "list":
        return True
    return isinstance(index, Pack) and index.kind == "tuple" and any(_fancy(item) for item in index.items)


def _copy_may_be_skipped(kwargs):
    """`copy=False` (numpy 1) or `copy=None` (numpy 2) lets numpy return the array itself."""
    for key, value in kwargs:
        if key == "copy":
            return not (isinstance(value, Const) and value.value is True)
    return False


def _argument(args, kwargs, position, name, default):
    """The value of a parameter known while compiling, or None when it is computed at run time
    (and may be anything)."""
    value = args[position] if len(args) > position else dict(kwargs).get(name, Const(default))
    return value.value if isinstance(value, Const) else None


def returns_list_of_views(fn):
    """Does `fn` return a Python list whose items may be views (the parts of `np.split`)?"""
    return hashable(fn) and fn in _LISTS_OF_VIEWS
