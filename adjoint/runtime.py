"""Helpers that generated derivative code calls.

Each is small, and each has its own derivative rules (in `rules/`), so that
generated code can itself be differentiated.
"""
import math

import numpy as np

from .errors import NonScalarOutput


def _weak(g, x):
    """A Python number `g` as an array of `x`'s float dtype (so a float32 gradient seeded with
    1.0 stays float32); anything else unchanged."""
    if type(g) in (float, int, bool) and isinstance(x, (np.ndarray, np.generic, Shape)):
        return np.asarray(g, dtype=_grad_dtype(x))
    return g


def _shape(x):
    try:
        return x.shape
    except AttributeError:  # a Python number (or a list)
        return np.shape(x)


def _ndim(x):
    try:
        return x.ndim
    except AttributeError:
        return np.ndim(x)


def unbroadcast(g, x):
    """Sum the gradient `g` down to the shape of `x`, undoing numpy broadcasting."""
    shape = _shape(x)
    g_shape = _shape(g)
    if g_shape == shape:
        return g
    extra = len(g_shape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
        g_shape = g_shape[extra:]
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and i < len(g_shape) and g_shape[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    if _shape(g) != shape:
        g = np.broadcast_to(_weak(g, x), shape)
    return g


def broadcast_like(t, ans):
    """Broadcast the tangent `t` to the shape of the value `ans` it belongs to."""
    shape = np.shape(ans)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(_weak(t, ans), shape)


def _expand_reduced(g, x, axis, keepdims):
    if axis is not None and not keepdims:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        ndim = _ndim(x)
        g = np.expand_dims(g, tuple(a % ndim for a in axes))
    return g


def repeat_to(g, x, axis=None, keepdims=False):
    """Spread the gradient of a reduction over `axis` back over the reduced axes of `x`."""
    return np.broadcast_to(_expand_reduced(_weak(g, x), x, axis, keepdims), _shape(x))


def select_extremum(g, x, ans, axis=None, keepdims=False):
    """Gradient of `max`/`min` along `axis`: the winners share it equally."""
    g = _expand_reduced(_weak(g, x), x, axis, keepdims)
    winners = x == _expand_reduced(ans, x, axis, keepdims)
    return g * winners / np.sum(winners, axis=axis, keepdims=True, dtype=_grad_dtype(x))


def _as_matrix_args(g, a, b):
    """Promote 1-d matmul operands to 2-d the way `np.matmul` does, with `g` to match."""
    a2 = a[np.newaxis, :] if np.ndim(a) == 1 else a
    b2 = b[:, np.newaxis] if np.ndim(b) == 1 else b
    g2 = g
    if np.ndim(a) == 1:
        g2 = np.expand_dims(g2, -2)
    if np.ndim(b) == 1:
        g2 = np.expand_dims(g2, -1)
    return g2, a2, b2


def matmul_vjp_left(g, a, b):
    """The gradient of `a @ b` with respect to `a`, for any ranks numpy accepts."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 2 and b_ndim == 2:  # the common cases first: no reshaping, no checks
        return g @ b.T
    if a_ndim == 2 and b_ndim == 1:
        return np.multiply.outer(g, b)
    if a_ndim == 0 or b_ndim == 0:
        return unbroadcast(g * b, a)
    if a_ndim == 1 and b_ndim == 1:
        return g * b
    g2, _, b2 = _as_matrix_args(g, a, b)
    a2 = a if a_ndim > 1 else Shape((1,) + _shape(a), None)
    return np.reshape(unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2), _shape(a))


def matmul_vjp_right(g, a, b):
    """The gradient of `a @ b` with respect to `b`."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 2 and b_ndim == 2:
        return a.T @ g
    if a_ndim == 2 and b_ndim == 1:
        return g @ a
    if a_ndim == 0 or b_ndim == 0:
        return unbroadcast(g * a, b)
    if a_ndim == 1 and b_ndim == 1:
        return g * a
    g2, a2, _ = _as_matrix_args(g, a, b)
    b2 = b if b_ndim > 1 else Shape(_shape(b) + (1,), None)
    return np.reshape(unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2), _shape(b))


def dot_vjp_left(g, a, b):
    """The gradient of `np.dot(a, b)` with respect to `a` (`np.dot` is `a @ b` unless both are 2-d or more
    and `b` has 3 dimensions or more: then it sums over a's last and b's second-to-last axis)."""
    if np.ndim(a) <= 1 or np.ndim(b) <= 2:
        return matmul_vjp_left(g, a, b)
    na, nb = np.ndim(a), np.ndim(b)
    return np.tensordot(g, b, axes=(list(range(na - 1, na + nb - 2)), [i for i in range(nb) if i != nb - 2]))


def dot_vjp_right(g, a, b):
    """The gradient of `np.dot(a, b)` with respect to `b`."""
    if np.ndim(a) <= 1 or np.ndim(b) <= 2:
        return matmul_vjp_right(g, a, b)
    na, nb = np.ndim(a), np.ndim(b)
    return np.moveaxis(np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1)))), 0, nb - 2)


def prod_others(x, axis=None):
    """For each element of `x`, the product of the other elements along `axis` (all of them if None):
    the gradient of `np.prod`, also where `x` has zeros."""
    if np.all(np.not_equal(x, 0)):
        return np.prod(x, axis=axis, keepdims=True) / x
    x = np.asarray(x)
    ndim = x.ndim
    axes = tuple(range(ndim)) if axis is None else tuple(a % ndim for a in np.atleast_1d(axis))
    ends = tuple(range(ndim - len(axes), ndim))
    moved = np.moveaxis(x, axes, ends)
    rows = moved.reshape(moved.shape[:ndim - len(axes)] + (int(np.prod([x.shape[a] for a in axes])),))
    ones = np.ones_like(rows[..., :1])
    before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(rows, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return np.moveaxis((before * after).reshape(moved.shape), ends, axes)


def untranspose(g, axes=None):
    """Undo `np.transpose(x, axes)` on the gradient."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(g) for a in axes]))


def unindex(g, x, index):
    """The gradient of `x[index]`: `g` scattered into zeros shaped like `x`."""
    out = np.zeros(_shape(x), dtype=np.result_type(g, _grad_dtype(x), 1.0))
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice)) for item in items)


def unconcatenate(g, xs, i, axis=0):
    """The part of the gradient of `np.concatenate(xs, axis)` that belongs to `xs[i]`."""
    if axis is None:  # the inputs were flattened
        start = sum(np.size(x) for x in xs[:i])
        return np.reshape(g[start:start + np.size(xs[i])], np.shape(xs[i]))
    axis = axis % np.ndim(g)
    start = sum(np.shape(x)[axis] for x in xs[:i])
    stop = start + np.shape(xs[i])[axis]
    return g[(slice(None),) * axis + (slice(start, stop),)]


def unstack(g, i, axis=0):
    """The part of the gradient of `np.stack(xs, axis)` that belongs to `xs[i]`."""
    return np.take(g, i, axis=axis)


def log_or_zero(x):
    """`log(x)` where x != 0 and 0 where x == 0: the factor in d(x**y)/dy, which is 0 at x = 0."""
    if type(x) in (float, int, bool):  # a Python number stays one
        return math.log(x) if x > 0 else 0.0 if x == 0 else math.nan
    if np.ndim(x) == 0:
        return np.log(x) if x != 0 else 0.0 * x
    return np.log(np.where(x == 0, 1, x))


def cast_like(v, ref):
    """`v` with the dtype of `ref` (a no-op for Python numbers)."""
    dtype = getattr(ref, "dtype", None)
    if dtype is None or getattr(v, "dtype", None) == dtype:
        return v
    return np.asarray(v).astype(dtype)


def stop_gradient(x):
    """`x` itself, but no derivative flows through it: adjoint treats the result as a constant."""
    return x


def expect_scalar(value, where):
    """Refuse a non-scalar output where `grad` needs a scalar."""
    if np.ndim(value) != 0:
        raise NonScalarOutput(
            f"grad needs a scalar output, but {where} returns a value of shape {np.shape(value)}.\n"
            "Reduce it to a scalar (e.g. np.sum), or use adjoint.vjp or adjoint.jacobian for non-scalar outputs.")


class Shape:
    """What a loop records of an array whose shape and dtype are all the backward sweep reads."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = shape, dtype, len(shape)


def shape_only(x):
    """`x` without its data, for code that reads only its shape and dtype (`Shape` for an array)."""
    if type(x) is np.ndarray and x.ndim > 0:
        return Shape(x.shape, x.dtype)
    return x


def zeros_grad(x):
    """The gradient of an input nothing depends on: zeros of its shape and float dtype."""
    if isinstance(x, (int, float)) or x is None:  # None: a name not assigned on the path taken
        return 0.0
    return np.zeros(_shape(x), dtype=_grad_dtype(x))


def _grad_dtype(x):
    dtype = x.dtype if isinstance(x, (np.ndarray, np.generic, Shape)) else np.result_type(x)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(float)


def as_grad(g, x):
    """The gradient handed to the user: the shape and float dtype of `x`, a fresh writable array."""
    if isinstance(x, (int, float)):
        return g if type(g) is float else float(g)
    dtype = _grad_dtype(x)
    shape = np.shape(x)
    if isinstance(x, np.generic):  # a numpy scalar stays one
        return np.asarray(g, dtype=dtype).reshape(())[()]
    if type(g) is np.ndarray and g.shape == shape and g.dtype == dtype and g.flags.writeable and g.base is None:
        return g
    return np.array(np.broadcast_to(g, shape), dtype=dtype)


# -- whole programs: in-place updates and lists (emitted by lowering; see lower.py) ----------------

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
        return (self._n,) + (_shape(self._items[0]) if self._n else ())

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


def stack_list(xs, axis=0):
    """`np.stack(xs, axis)` of a list built at run time."""
    return np.stack(list(xs), axis)


def list_cotangent(g, axis=0):
    """The derivative of `stack_list(xs, axis)` wrt `xs`: the items stacked along the first axis."""
    return np.moveaxis(g, axis, 0) if axis != 0 else g
