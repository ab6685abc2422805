"""The helpers of the derivative rules every program uses: broadcasting and reductions, products,
indexing, and the gradient's type and shape."""
import math

import numpy as np

from ..errors import InvalidArgument, NonScalarOutput, UnsupportedSyntax

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


# numbers without a shape (a 0-d value of each): what a loop over floats or array elements computes
_NUMBERS = frozenset([float, int, bool, np.float64, np.float32, np.float16, np.int64, np.int32])


def unbroadcast(g, x):
    """Sum the gradient `g` down to the shape of `x`, undoing numpy broadcasting (and spread it over
    the axes of `x` it lacks, or has length 1 along)."""
    if type(g) in _NUMBERS and type(x) in _NUMBERS:  # (both shaped (): the common case in loops)
        return g
    shape = _shape_unless_items(x)
    if shape is None:
        return _item_by_item(unbroadcast, g, x)
    g_shape = _shape(g)
    if g_shape == shape:
        return g
    extra = len(g_shape) - len(shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
        g_shape = g_shape[extra:]
    # (axes align from the right: `g` may have fewer, where it broadcasts against the others of `x`)
    offset = len(shape) - len(g_shape)
    stretched = tuple(i for i, n in enumerate(g_shape) if n != 1 and shape[i + offset] == 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    if _shape(g) != shape:
        g = np.broadcast_to(_weak(g, x), shape)
    return g


def _shape_unless_items(x):
    """The shape of `x`, or None for a tuple or list (of pieces of different shapes, say: np.array_split)."""
    try:
        return x.shape
    except AttributeError:
        return None if isinstance(x, (tuple, list)) else np.shape(x)


def broadcast_like(t, ans):
    """Broadcast the tangent `t` to the shape of the value `ans` it belongs to."""
    shape = _shape_unless_items(ans)
    if shape is None:
        return _item_by_item(broadcast_like, t, ans)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(_weak(t, ans), shape)


def _item_by_item(helper, t, items):
    """`helper(t, items)` for a tuple or list value (the adjoints of `np.array_split`'s pieces, say),
    which need not have one shape: one item at a time (a number `t` goes with each)."""
    parts = t if isinstance(t, (tuple, list)) else [t] * len(items)
    return Cotangents(helper(part, item) for part, item in zip(parts, items))


def _expand_reduced(g, x, axis, keepdims):
    """`g`, shaped like a reduction of `x` over `axis`, with the reduced axes put back (as length 1),
    so that it broadcasts against `x`. A number broadcasts as it is: the forward rules of max and min
    pass 1.0 for the gradient, which has no axis 1 to put back."""
    ndim = _ndim(x)
    if axis is not None and not keepdims and ndim > 0 and _ndim(g) > 0:  # (numpy reduces a 0-d value over axis 0 too)
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
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
    a2 = _new_axis(a, 0) if _ndim(a) == 1 else a
    b2 = _new_axis(b, 1) if _ndim(b) == 1 else b
    g2 = g
    if _ndim(a) == 1:
        g2 = np.expand_dims(g2, -2)
    if _ndim(b) == 1:
        g2 = np.expand_dims(g2, -1)
    return g2, a2, b2


def _new_axis(x, position):
    """`np.expand_dims`, for a `Shape` (a recorded operand of which only the shape was kept) too."""
    if isinstance(x, Shape):
        return Shape(x.shape[:position] + (1,) + x.shape[position:], x.dtype)
    return np.expand_dims(x, position)


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
        # a few output columns (`X.T @ g` for X 500 x 3073, g 500 x 10): the product the other way
        # round, transposed back, runs twice as fast with OpenBLAS (autograd's dot rule does that)
        return (g.T @ a).T if 8 * _shape(g)[1] <= _shape(a)[1] else a.T @ g
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
    if _ndim(a) <= 1 or _ndim(b) <= 2:
        return matmul_vjp_left(g, a, b)
    na, nb = _ndim(a), _ndim(b)
    return np.tensordot(g, b, axes=(list(range(na - 1, na + nb - 2)), [i for i in range(nb) if i != nb - 2]))


def dot_vjp_right(g, a, b):
    """The gradient of `np.dot(a, b)` with respect to `b`."""
    if _ndim(a) <= 1 or _ndim(b) <= 2:
        return matmul_vjp_right(g, a, b)
    na, nb = _ndim(a), _ndim(b)
    return np.moveaxis(np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1)))), 0, nb - 2)


def prod_others(x, axis=None):
    """For each element of `x`, the product of the other elements along `axis` (all of them if None):
    the gradient of `np.prod`, also where `x` has zeros."""
    if np.all(np.not_equal(x, 0)):
        return np.prod(x, axis=axis, keepdims=True) / x
    rows, restore = _as_rows(np.asarray(x), axis)
    return restore(_prod_others_of_rows(rows))


def prod_others_tangent(x, w, axis=None):
    """`prod_others(x, axis)` moved along the tangent `w`: the sum over k != i of `w[k]` times the
    product of the elements other than i and k. It is symmetric in i and k, so with a cotangent
    for `w` it is also the cotangent of `x`. Exact where `x` has zeros (one pass per element of a
    row there; the quotient rule would give nan)."""
    x = np.asarray(x)
    w = np.broadcast_to(w, x.shape)
    if np.all(np.not_equal(x, 0)):
        return prod_others(x, axis) * (np.sum(w / x, axis, keepdims=True) - w / x)
    rows, restore = _as_rows(x, axis)
    weights, _ = _as_rows(w, axis)
    out = np.zeros(rows.shape, np.result_type(rows, weights, float))
    for k in range(rows.shape[-1]):
        without_k = rows.astype(out.dtype)
        without_k[..., k] = 1
        others = _prod_others_of_rows(without_k)
        others[..., k] = 0
        out += weights[..., k:k + 1] * others
    return restore(out)


def _as_rows(x, axis):
    """`x` with the elements along `axis` (all if None) as the last axis, and the inverse reshape."""
    ndim = x.ndim
    axes = tuple(range(ndim)) if axis is None else tuple(a % ndim for a in np.atleast_1d(axis))
    ends = tuple(range(ndim - len(axes), ndim))
    moved = np.moveaxis(x, axes, ends)
    rows = moved.reshape(moved.shape[:ndim - len(axes)] + (int(np.prod([x.shape[a] for a in axes])),))
    return rows, lambda r: np.moveaxis(r.reshape(moved.shape), ends, axes)


def _prod_others_of_rows(rows):
    """Products of the other elements of each row, by prefix and suffix products (no division)."""
    ones = np.ones_like(rows[..., :1])
    before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(rows, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return before * after


def untranspose(g, axes=None):
    """Undo `np.transpose(x, axes)` on the gradient."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(g) for a in axes]))


def unindex(g, x, index):
    """The gradient of `x[index]`: `g` scattered into zeros shaped like `x`."""
    if isinstance(x, (tuple, list)):  # a call's tuple of results (np.split, np.linalg.eigh)
        return _item_cotangents(g, x, index)
    out = np.zeros(_shape(x), dtype=_sum_dtype(g, x))
    try:
        if _is_basic_index(index):
            out[index] = g
        else:
            _add_into(out, index, g)
    except ValueError:
        refuse_items_of_different_shapes(x)
        raise
    return out


def refuse_items_of_different_shapes(xs, first=0, last=None):
    """Refuse a list built at run time whose items `xs[first]` and `xs[last]` (any two, if None)
    differ in shape: reverse mode's cotangent of a list is its items' cotangents stacked."""
    if isinstance(xs, np.ndarray) or not hasattr(xs, "tolist") or len(xs) < 2:
        return
    shapes = [_shape(xs[first])] + ([_shape(xs[last])] if last is not None else [_shape(item) for item in xs])
    other = next((shape for shape in shapes if shape != shapes[0]), None)
    if other is not None:
        raise UnsupportedSyntax(
            f"adjoint does not support, in reverse mode, a list built at run time whose items differ in shape "
            f"(here {shapes[0]} and {other}): its gradient is the stack of its items' gradients.\n"
            "A loop that records arrays whose shape changes from trip to trip makes such a list when its gradient "
            "is differentiated again in reverse mode (grad of grad, jacobian(grad(f), mode='reverse')): use "
            "adjoint.hessian or adjoint.hvp (forward over reverse) for those second derivatives. Otherwise, give "
            "the list's items one shape.")


def add_at(total, g, x, index):
    """`total + unindex(g, x, index)`, for a `total` nobody else holds (see optimize/accumulate.py)."""
    if type(index) is int and type(total) is np.ndarray and type(x) is np.ndarray and total.shape == x.shape \
            and (type(g) is float and total.dtype.kind == "f" or type(g) is np.float64 and total.dtype == _FLOAT):
        try:
            total[index] += g  # one element of a loop's total (xs[t]): no test below needed
            return total
        except ValueError:  # (read-only, as numpy refuses before writing: see below)
            pass
    # (a total that `unbroadcast` spread over axes its gradient lacked is a read-only broadcast of
    # it, one element standing for a whole row: it is added to as a new array)
    if isinstance(x, (tuple, list)) or not isinstance(total, np.ndarray) or total.shape != _shape(x) or not (
            type(g) is np.ndarray and g.dtype == total.dtype or np.result_type(total, g) == total.dtype) \
            or not total.flags.writeable:
        return total + unindex(g, x, index)
    _add_into(total, index, g)
    return total


def _add_into(out, index, g):
    """`out[index] += g`, each element named by `index` getting every contribution meant for it."""
    if _is_basic_index(index) or _hits_each_element_once(index):
        out[index] += g
    else:
        np.add.at(out, index, g)


def _is_basic_index(index):
    if type(index) is slice or type(index) is int:
        return True
    items = index if isinstance(index, tuple) else (index,)
    return all(item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice)) for item in items)


def _hits_each_element_once(index):
    """Does a fancy index name no element twice? Then `+=` adds each contribution, as np.add.at
    does, and is many times faster. Known when an integer index array is strictly increasing from
    0 or more and the others have its length (`x[np.arange(n), labels]`)."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item for item in items if isinstance(item, np.ndarray)]
    if len(arrays) != len(items) or not all(a.ndim == 1 and a.dtype.kind in "iu" for a in arrays):
        return False
    n = len(arrays[0])  # (an increasing array of negative and positive indices can name one twice)
    return all(len(a) == n for a in arrays) and any(n < 2 or a[0] >= 0 and bool(np.all(a[1:] > a[:-1]))
                                                     for a in arrays)


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


def power_slope(x, y, k=1):
    """The k-th derivative of x ** y in x, y (y - 1) ... (y - k + 1) x ** (y - k), and 0 where that
    product is 0 (an integer y below k): there x ** y is a polynomial of degree under k, while
    `0 * x ** (y - k)` would be nan (or an error, for Python numbers) at x = 0. Its own derivative
    in x is the (k + 1)-th, so the derivatives of x ** n end at 0 from order n + 1 on."""
    factor = falling_factorial(y, k)
    if isinstance(factor, np.ndarray) and factor.ndim:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(factor == 0, zeros_grad(x), factor * x ** (y - k))
    if factor == 0:
        return zeros_grad(x)
    return factor * x ** (y - k)


def falling_factorial(y, k):
    """y (y - 1) ... (y - k + 1), for numbers and arrays `y`."""
    factor = y
    for i in range(1, k):
        factor = factor * (y - i)
    return factor


def falling_slope(y, k):
    """The derivative in y of y (y - 1) ... (y - k + 1): the sum, over each factor, of the others' product."""
    total = 0
    for skipped in range(k):
        product = 1
        for i in range(k):
            if i != skipped:
                product = product * (y - i)
        total = total + product
    return total


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
    """Refuse a non-scalar output where `grad` needs a scalar (`value` may be a `Shape`: the output's
    shape, computed without its elements)."""
    if isinstance(value, (tuple, list)) or _ndim(value) != 0:
        raise NonScalarOutput(
            f"a gradient (grad, hessian, hvp) needs a scalar output, but {where} returns {described_output(value)}.\n"
            + SCALAR_OUTPUT_ADVICE[isinstance(value, (tuple, list))])


SCALAR_OUTPUT_ADVICE = {  # for an array, for a tuple or a list
    False: "Reduce it to a scalar (e.g. np.sum), or use adjoint.vjp or adjoint.jacobian for non-scalar outputs.",
    True: "Return the one scalar to differentiate (an item, or e.g. the sum of them), or use adjoint.vjp or "
          "adjoint.jacobian, which differentiate a function that returns a tuple."}


def described_output(value):
    """`a tuple of 2 values`, `a value of shape (3,)`: what a function returned, for a message."""
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__ if type(value) in (tuple, list) else 'tuple'} of {len(value)} values"
    return f"a value of shape {_shape(value)}"


def as_seed(seed, value, name, of):
    """The tangent or cotangent `name` the user passed for `value` (described as `of`), shaped like it:
    a list becomes an array (`seed * 2` must not repeat it), a shape that differs is an
    InvalidArgument naming the one needed. Only arrays and numbers are checked (not a tuple some
    call returned)."""
    if type(seed) is np.ndarray and type(value) is np.ndarray and seed.shape == value.shape \
            and seed.dtype.kind != "c" != value.dtype.kind:
        return seed
    if not isinstance(value, (np.ndarray, np.generic, int, float, complex)):
        return seed
    if np.iscomplexobj(value):
        raise _complex_refused(np.result_type(value), of)
    if isinstance(seed, (list, tuple)):
        try:
            seed = np.asarray(seed)
        except ValueError:  # (rows of different lengths)
            raise InvalidArgument(f"`{name}` is a list numpy cannot make an array of; pass an array shaped like "
                                  f"{of}, {np.shape(value)}") from None
    if np.iscomplexobj(seed):
        raise _complex_refused(np.result_type(seed), f"`{name}`")
    if np.shape(seed) != np.shape(value):
        raise InvalidArgument(f"`{name}` must have the shape of {of}, {np.shape(value)}, not {np.shape(seed)}")
    return seed


def refuse_outside_change(value, error):
    """Refuse `x op= e` on an array or list read out of a global or captured object, which Python
    would change in place (a number is rebound: nothing outside changes)."""
    if isinstance(value, (np.ndarray, list)):
        raise error.with_traceback(None)


class Shape:
    """An array's shape and dtype without its data: what a loop records of an array whose shape and
    dtype are all the backward sweep reads, and what is computed of a value read only for them."""

    __slots__ = ("shape", "dtype", "ndim")

    def __init__(self, shape, dtype):
        self.shape, self.dtype, self.ndim = shape, dtype, len(shape)

    @property
    def size(self):
        return math.prod(self.shape)


def _dtype_of(x):
    """What `np.result_type` reads of an operand: its dtype (a list's, as numpy would make it an array)."""
    if isinstance(x, Shape):
        return x.dtype
    return np.asarray(x).dtype if isinstance(x, (list, tuple)) else x


def broadcast_shape(*operands):
    """The shape and dtype (a `Shape`) of an elementwise operation on `operands`, for a value of which
    the derivative reads only those: its elements are not computed. The dtype is numpy's for the
    operands together (`np.result_type`); a float function of small integers (np.exp of int8, float16)
    is then said to be float64, which only makes a gradient's intermediate values more precise."""
    shapes = [_shape(x) for x in operands]
    first = shapes[0]
    if all(shape == first for shape in shapes):
        shape = first
    else:
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:  # the error numpy gives for the operation itself
            np.add(*(np.lib.stride_tricks.as_strided(np.zeros(1), shape, (0,) * len(shape)) for shape in shapes))
            raise
    return Shape(shape, np.result_type(*[_dtype_of(x) for x in operands]))


def matmul_shape(a, b):
    """The shape and dtype (a `Shape`) of `a @ b`, for a product of which the derivative reads only
    those: it is not computed."""
    shape_a, shape_b = _shape(a), _shape(b)
    dtype = np.result_type(_dtype_of(a), _dtype_of(b))
    if len(shape_a) >= 1 and len(shape_b) >= 1:
        left = shape_a if len(shape_a) > 1 else (1,) + shape_a
        right = shape_b if len(shape_b) > 1 else shape_b + (1,)
        if left[-1] == right[-2]:
            try:
                batch = np.broadcast_shapes(left[:-2], right[:-2])
            except ValueError:
                batch = None
            if batch is not None:
                shape = batch + (left[-2],) * (len(shape_a) > 1) + (right[-1],) * (len(shape_b) > 1)
                return Shape(shape, dtype)
    # the error numpy gives for the product itself (on stand-ins without data: nothing to multiply)
    stand_ins = [np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape, (0,) * len(shape))
                 for shape in (shape_a, shape_b)]
    return shape_only(stand_ins[0] @ stand_ins[1])


def shape_only(x):
    """`x` without its data, for code that reads only its shape and dtype (`Shape` for an array)."""
    if type(x) is np.ndarray and x.ndim > 0:
        return Shape(x.shape, x.dtype)
    return x


def zeros_grad(x):
    """The gradient of an input nothing depends on: zeros of its shape and float dtype."""
    if isinstance(x, (int, float)) or x is None:  # None: a name not assigned on the path taken
        return 0.0
    if isinstance(x, (tuple, list)):  # a call's tuple of results
        return Cotangents(zeros_grad(item) for item in x)
    return np.zeros(_shape(x), dtype=_grad_dtype(x))


def _grad_dtype(x):
    dtype = x.dtype if isinstance(x, (np.ndarray, np.generic, Shape)) else np.result_type(x)
    if dtype.kind == "f":
        return dtype
    if dtype.kind == "c":
        raise _complex_refused(dtype)
    return _FLOAT  # (integers and booleans get float gradients)


_FLOAT = np.dtype(float)


def _complex_refused(dtype, what="an argument, output or value being differentiated"):
    """The error for a complex number where adjoint differentiates: its rules are those of real
    functions (they do not conjugate), so a derivative through complex values would be wrong."""
    return InvalidArgument(
        f"{what} is complex ({dtype}), and adjoint differentiates real numbers and arrays only: its rules are "
        "those of real functions. Pass the real and imaginary parts as separate real arguments and compute "
        "with them (|z|^2 = re**2 + im**2); a complex constant inside the function makes its values complex too.")


def _sum_dtype(g, x):
    """The dtype of the gradient `g` of `x` once added into zeros: `np.result_type(g, x's, 1.0)`."""
    dtype = _grad_dtype(x)
    if type(g) is np.ndarray and g.dtype == dtype or type(g) is float and dtype.kind == "f":
        return dtype
    return np.result_type(g, dtype, 1.0)


def as_grad(g, x):
    """The gradient handed to the user: the shape and float dtype of `x`, a fresh writable array."""
    if type(x) is np.ndarray:  # the usual case first, without the helpers' tests
        dtype, shape = (x.dtype if x.dtype.kind == "f" else _grad_dtype(x)), x.shape
    elif isinstance(x, (int, float)):
        if type(g) is float:
            return g
        if type(g) is not np.float64:  # (what numpy functions of a float give: no test needed)
            _refuse_complex_gradient(g)
        return float(g)
    else:
        dtype = _grad_dtype(x)
        if isinstance(x, np.generic):  # a numpy scalar stays one
            _refuse_complex_gradient(g)
            return np.asarray(g, dtype=dtype).reshape(())[()]
        shape = _shape(x)
    if type(g) is np.ndarray and g.shape == shape and (g.dtype is dtype or g.dtype == dtype) and g.base is None \
            and g.flags.writeable:
        return g
    _refuse_complex_gradient(g)
    return np.array(np.broadcast_to(g, shape), dtype=dtype)


def _refuse_complex_gradient(g):
    """A complex derivative of a real value: complex values were met on the way (a complex constant)."""
    if type(g) is complex or getattr(g, "dtype", _FLOAT).kind == "c":
        raise _complex_refused(np.result_type(g), "a value the derivative went through")


class Cotangents(tuple):
    """The adjoint of a tuple or list a call returns (np.split, np.linalg.eigh): one adjoint per item.
    Adjoints add item by item, where tuples would concatenate."""

    __slots__ = ()
    __array_ufunc__ = None  # `array + cotangents` comes to __radd__

    def __add__(self, other):
        return Cotangents(a + b for a, b in zip(self, other))

    __radd__ = __add__

    def __neg__(self):
        return Cotangents(-a for a in self)


def _item_cotangents(g, xs, index):
    """`unindex` of a tuple or list value: `g` for the items `index` picks, zeros for the others."""
    parts = [zeros_grad(x) for x in xs]
    if isinstance(index, slice):
        for k, part in zip(range(len(parts))[index], g):
            parts[k] = part
    else:
        parts[index] = g
    return Cotangents(parts)
