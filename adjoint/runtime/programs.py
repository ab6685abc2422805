"""Whole programs: in-place updates and lists, as lowering emits them (see lower_data.py)."""
import weakref

import numpy as np

from .core import (Shape, _grad_dtype, _hits_each_element_once, _is_basic_index, _shape,
                   refuse_items_of_different_shapes, unbroadcast)

def setitem(x, index, v):
    """`x` after `x[index] = v`, as a new value: the functional form of an in-place update.

    The copy keeps `x` itself (a caller's array, a value the backward sweep reads) unchanged.
    """
    if isinstance(x, (ListValue, list)):
        items = list(x)
        items[index] = v
        return ListValue(items)
    out = np.array(x, copy=True)
    out[index] = v
    return out


def setitem_into(x, index, v):
    """`setitem(x, index, v)` written into `x` itself, for an array no one else holds (see
    optimize/inplace.py); a read-only `x` (a spread seed entering a loop) is copied first."""
    if type(x) is not np.ndarray or not x.flags.writeable:
        return setitem(x, index, v)
    x[index] = v
    return x


class ListValue:
    """A list built with `append` inside differentiated code.

    Each version is a value of its own: appending gives a new version that shares the storage
    (appending in a loop costs O(1)), while an older version, recorded for the backward sweep
    say, still holds only its own items. It reads like a list: `len`, indexing, slicing,
    iteration, `sum`, `np.stack`, `np.array`. Its derivatives are arrays stacked along a new first
    axis, so its items should have one shape.
    """

    __slots__ = ("_items", "_n")

    def __init__(self, items, n=None):
        self._items = items
        self._n = len(items) if n is None else n

    def __len__(self):
        return self._n

    def __iter__(self):
        items = self._items
        return (items[i] for i in range(self._n))

    def tolist(self):
        return self._items[:self._n]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ListValue(self.tolist()[index])
        try:
            i = index.__index__()
        except (AttributeError, TypeError):
            return np.asarray(self)[index]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("list index out of range")
        return self._items[i]

    @property
    def shape(self):
        # A version popped to empty still shares its storage, so its items' shape is known: the
        # cotangent of the empty list (`zeros_grad`) then has rows that meet those of older versions.
        items = self._items
        return (self._n,) + (_shape(items[0]) if items else ())

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return np.result_type(*self.tolist()) if self._n else np.dtype(float)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.tolist(), dtype=dtype)

    def __add__(self, other):
        return ListValue(self.tolist() + list(other))

    def __radd__(self, other):
        return ListValue(list(other) + self.tolist())

    def __eq__(self, other):
        return isinstance(other, (list, ListValue)) and self.tolist() == list(other)

    __hash__ = None

    def __repr__(self):
        return repr(self.tolist())


def refuse_changed_view(view, array, error):
    """Refuse an in-place change of `array` while `view` looks into it: Python's view would change
    too, which the derivative (whose updates are copies) cannot follow. Whether a value is a view
    depends on its shape (`x[0]` is one of a matrix, not of a vector), so it is asked at run time."""
    if isinstance(array, np.ndarray) and _shares_memory(view, array):
        raise error.with_traceback(None)


def refuse_array_write(value, error):
    """Refuse `value[i] = v` where `value` may be a list of views or a view: an item of a list is
    replaced (no array changes), an array that may be a view is refused."""
    if isinstance(value, np.ndarray):
        raise error.with_traceback(None)


def _shares_memory(view, array):
    """Does `view`, or an array in the list or tuple `view` (rows, the parts of a split), use
    `array`'s memory?"""
    if isinstance(view, np.ndarray):
        return np.may_share_memory(view, array)
    if isinstance(view, (list, tuple, ListValue)):
        return any(_shares_memory(item, array) for item in view)
    return False


def new_list(items):
    """A list made at run time from `items` (what `xs = []` becomes before a loop appends to it)."""
    return ListValue(list(items))


def list_append(xs, v):
    """The list `xs` with `v` appended, as a new version (see `ListValue`)."""
    if type(xs) is ListValue:
        if len(xs._items) == xs._n:  # the newest version: share the storage
            xs._items.append(v)
            return ListValue(xs._items, xs._n + 1)
        items = xs.tolist()
    else:
        items = list(xs)
    items.append(v)
    return ListValue(items)


def list_last(xs):
    """`xs[-1]`, what `xs.pop()` returns."""
    if not len(xs):
        raise IndexError("pop from empty list")
    return xs[-1]


def list_without_last(xs):
    """The list `xs` after `xs.pop()`, as a new version: for the newest version of a list built with
    `append`, one that shares the storage (popping in a loop costs O(1))."""
    if type(xs) is ListValue:
        return ListValue(xs._items, xs._n - 1)
    return ListValue(list(xs), len(xs) - 1)  # (the popped item stays in storage: see `ListValue.shape`)


def last_cotangent(g, xs):
    """The derivative of `list_last(xs)` wrt `xs`: `g` in the last row of a stack of zeros."""
    refuse_items_of_different_shapes(xs, 0, -1)  # (the stack below would give the others the last one's shape)
    out = np.zeros((len(xs),) + np.shape(g), np.result_type(g, float))
    out[-1] = g
    return out


def without_last_cotangent(g, xs):
    """The derivative of `list_without_last(xs)` wrt `xs`: `g`'s rows, then a row of zeros."""
    refuse_items_of_different_shapes(xs, 0, -1)
    out = np.zeros((len(xs),) + np.shape(xs[-1]), np.result_type(g, float))
    if len(xs) > 1:  # (`g` of an empty list that never held an item is shaped (0,): nothing to write)
        out[:-1] = g
    return out


def pushed_cotangent(g, last, xs):
    """`without_last_cotangent(g, xs) + last_cotangent(last, xs)`: the cotangent of the list `xs`
    from `g`, that of `xs` without its last item, and `last`, that of the item. The backward sweep
    of a loop that pops `xs` (a derivative differentiated again) builds it an item a trip: its rows
    go into one buffer with room for every item `xs`'s storage has held, and each version is a view
    of the rows so far. Only the newest view grows, into rows no version holds (O(1) a trip, where
    the stack of zeros plus the sum cost O(trips), so the loop O(trips²))."""
    refuse_items_of_different_shapes(xs, 0, -1)
    n = len(xs)
    buffer = g.base if type(g) is np.ndarray else None
    newest = _newest_views.get(id(buffer)) if buffer is not None else None
    if newest is not None and newest() is g and len(g) == n - 1 and len(buffer) >= n:
        buffer[n - 1] = last
    else:
        storage = len(xs._items) if type(xs) is ListValue else 0
        buffer = np.zeros((max(n, storage, 2 * n),) + np.shape(last), np.result_type(g, last, float))
        weakref.finalize(buffer, _newest_views.pop, id(buffer), None)
        if n > 1:
            buffer[:n - 1] = g
        buffer[n - 1] = last
    view = buffer[:n]
    _newest_views[id(buffer)] = weakref.ref(view)
    return view


_newest_views = {}  # id of a buffer of pushed_cotangent's (while it lives) -> its newest view


def sum_cotangent(g, xs):
    """The gradient of `sum(xs, start)` with respect to the list (or array) `xs`: `g` for each item, summed
    to the items' shape where `start` broadcast them, stacked (the gradient of a list built at run time)."""
    shape = _shape(xs)
    return np.broadcast_to(unbroadcast(g, Shape(shape[1:], _grad_dtype(g))), shape)


def index_of_max(xs):
    """The position of the item `max(xs)` returns: the first of the largest, as Python picks it (its
    gradient goes there)."""
    return max(range(len(xs)), key=xs.__getitem__)


def index_of_min(xs):
    """The position of the item `min(xs)` returns: the first of the smallest."""
    return min(range(len(xs)), key=xs.__getitem__)


def stack_list(xs, axis=0):
    """`np.stack(xs, axis)` of a list built at run time."""
    return np.stack(list(xs), axis)


def list_cotangent(g, axis=0):
    """The derivative of `stack_list(xs, axis)` wrt `xs`: the items stacked along the first axis."""
    return np.moveaxis(g, axis, 0) if axis != 0 else g


def _integral(x):
    dtype = getattr(x, "dtype", None)
    return dtype is not None and dtype.kind in "biu"


def item_cotangent(g, index, x):
    """The cotangent of `v` in `x[index] = v`: `g[index]`, or zeros if `x` holds integers (`v` was truncated)."""
    item = g[index]
    if _integral(x):
        return np.zeros(np.shape(item))
    if type(item) is np.ndarray and item.base is not None:  # a copy of a view, the size of the item: `g` may
        item = item.copy()                                   # then be zeroed in place (optimize/inplace.py)
    return kept_writes(item, index, x)


def kept_writes(v, index, x):
    """`v`, shaped like `x[index]`, with zeros where `x[index] = v` wrote an element twice and a later
    write replaced this one: only the write that stays in `x` has a derivative."""
    if _is_basic_index(index) or _hits_each_element_once(index):
        return v
    shape = np.shape(v)
    order = np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)
    writer = np.full(_shape(x), -1, dtype=np.intp)
    writer[index] = order  # numpy writes in the order it wrote `v`, so the last writer stays
    kept = writer[index] == order
    return v if kept.all() else np.where(kept, v, 0.0)


def item_tangent(dv, x):
    """The tangent that `x[index] = v` stores: `dv`, or zeros if `x` holds integers."""
    return 0.0 * dv if _integral(x) else dv
