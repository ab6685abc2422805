"""The numpy surface: helpers of the rules in rules/numpy_rules.py, python_rules.py and linalg_rules.py."""
import math

import numpy as np

from ..errors import NoDerivativeRule
from .core import Cotangents, _expand_reduced, _grad_dtype, _ndim, _shape, unbroadcast, zeros_grad

# Each helper that generated code may differentiate again has rules of its own in rules/runtime_rules.py.
# `i` is the item of a sequence argument a rule's contribution is for, or `slice(None)` when the
# sequence is one array (or one list value) as a whole.


def mT(x):
    """`x` with its last two axes swapped: the transpose of each matrix of a stack."""
    return np.swapaxes(x, -1, -2)


def clip_choice(x, a_min, a_max):
    """Where `np.clip(x, a_min, a_max)` takes each element from, as numpy computes it,
    `minimum(maximum(x, a_min), a_max)`: 0 for x, 1 for a_min, 2 for a_max. A tie goes to x (then
    to a_min); where a_min > a_max the result is a_max. A bound may be None."""
    below = False if a_min is None else np.less(x, a_min)
    choice = np.where(below, 1, 0)
    if a_max is not None:
        choice = np.where(np.greater(np.where(below, a_min, x), a_max), 2, choice)
    return choice


def flatten(x, order="C"):
    """`x.flatten()`: always a copy (np.ravel may return a view, which writing into would change `x`)."""
    return np.asarray(x).flatten(order)


def sinc_slope(x):
    """d/dx np.sinc(x) = (cos(pi x) - sinc(x)) / x, which is 0 at x = 0."""
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, 0.0, (np.cos(np.pi * safe) - np.sinc(safe)) / safe)


def polygamma(n, x):
    """The n-th derivative of the digamma function at the number `x` (n = 0: digamma itself)."""
    x = float(x)
    total = 0.0
    while x < 8.0:  # recurrence up to where the asymptotic series is accurate
        total += -1.0 / x if n == 0 else (-1) ** (n + 1) * math.factorial(n) / x ** (n + 1)
        x += 1.0
    # Bernoulli numbers B_2k for the asymptotic series
    bernoulli = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
    if n == 0:
        series = math.log(x) - 0.5 / x - sum(b / (2 * k * x ** (2 * k)) for k, b in enumerate(bernoulli, 1))
    else:
        sign = (-1) ** (n + 1)
        series = math.factorial(n - 1) / x ** n + math.factorial(n) / (2 * x ** (n + 1))
        series += sum(b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
                      for k, b in enumerate(bernoulli, 1))
        series *= sign
    return total + series


def digamma(x):
    """The digamma function psi = d/dx log gamma(x), at the number `x`."""
    return polygamma(0, x)


def uncumsum(g, x, axis=None):
    """The gradient of `np.cumsum(x, axis)`: sums of `g` from each position to the end."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(np.ravel(g)))), _shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


# np.cumprod: y[j] = x[0] ... x[j] along the axis. Where x has no zeros the derivatives are quotients
# (dy[j]/dx[i] = y[j] / x[i], i <= j); where it has, they are the recurrences forward mode and reverse mode
# would run through y[j] = y[j - 1] x[j], one step per element of the axis. The second derivative
# T[j, i, l] = d2 y[j] / dx[i] dx[l] (the product up to j without x[i] and x[l], i != l) is symmetric in
# i and l, so four maps cover both modes at both orders: J v, J^T g, T(v, w) and T^T(g, v).

def cumprod_tangent(x, v, axis=None):
    """J v, the tangent of `np.cumprod(x, axis)` along `v` (shaped like x)."""
    rows = _CumprodRows(x, axis)
    x, v = rows.x, rows.along(v)
    if np.all(np.not_equal(x, 0)):
        return rows.as_output(np.cumprod(x, -1) * np.cumsum(v / x, -1))
    return rows.as_output(_cumprod_tangent_rows(x, v))


def cumprod_cotangent(x, g, axis=None):
    """J^T g, the gradient of `np.cumprod(x, axis)` for its output's adjoint `g`."""
    rows = _CumprodRows(x, axis)
    x, g = rows.x, rows.along(g, output=True)
    if np.all(np.not_equal(x, 0)):
        return rows.as_input(_reverse_cumsum(g * np.cumprod(x, -1)) / x)
    return rows.as_input(_exclusive_cumprod(x) * _cumprod_backward(x, g))


def cumprod_curvature(x, v, w, axis=None):
    """T(v, w): the tangent of `cumprod_tangent(x, v, axis)` along `w` (symmetric in v and w)."""
    rows = _CumprodRows(x, axis)
    x, v, w = rows.x, rows.along(v), rows.along(w)
    if np.all(np.not_equal(x, 0)):
        a, b = v / x, w / x
        return rows.as_output(np.cumprod(x, -1) * (np.cumsum(a, -1) * np.cumsum(b, -1) - np.cumsum(a * b, -1)))
    dv, dw = _cumprod_tangent_rows(x, v), _cumprod_tangent_rows(x, w)
    out = np.empty(x.shape, np.result_type(x, v, w, float))
    previous = 0.0
    for j in range(x.shape[-1]):  # T(v, w)[j] = x[j] T(v, w)[j - 1] + (J v)[j - 1] w[j] + (J w)[j - 1] v[j]
        previous = x[..., j] * previous + (dv[..., j - 1] * w[..., j] + dw[..., j - 1] * v[..., j] if j else 0.0)
        out[..., j] = previous
    return rows.as_output(out)


def cumprod_curvature_cotangent(x, g, v, axis=None):
    """T^T(g, v): the gradient of `g . cumprod_tangent(x, v, axis)` with respect to x (`g` shaped like
    the output). By T's symmetry, also the tangent of `cumprod_cotangent(x, g, axis)` along `v`."""
    rows = _CumprodRows(x, axis)
    x, g, v = rows.x, rows.along(g, output=True), rows.along(v)
    if np.all(np.not_equal(x, 0)):
        weighted = g * np.cumprod(x, -1)
        return rows.as_input((_reverse_cumsum(weighted * np.cumsum(v / x, -1)) - v / x * _reverse_cumsum(weighted)) / x)
    # reverse mode through J v's recurrence a[j] = x[j] a[j - 1] + y[j - 1] v[j], y[j] = x[j] y[j - 1]
    a_bar = _cumprod_backward(x, g)
    y_bar = np.zeros(a_bar.shape, np.result_type(a_bar, v))
    for j in range(x.shape[-1] - 2, -1, -1):
        y_bar[..., j] = x[..., j + 1] * y_bar[..., j + 1] + v[..., j + 1] * a_bar[..., j + 1]
    tangent = _cumprod_tangent_rows(x, v)
    a_before = np.concatenate([np.zeros_like(tangent[..., :1]), tangent[..., :-1]], -1)  # a[j - 1]
    return rows.as_input(a_bar * a_before + y_bar * _exclusive_cumprod(x))


class _CumprodRows:
    """`x` with the axis of its cumulative product last (flattened if None), and the maps between that
    layout and the shapes of the input and of the output."""

    def __init__(self, x, axis):
        x = np.asarray(x)
        self.axis, self.shape = axis, x.shape
        self.x = np.ravel(x) if axis is None else np.moveaxis(x, axis, -1)

    def along(self, a, output=False):
        """`a`, shaped like the input (or, `output`, like the output), in the layout of `self.x`."""
        if self.axis is None:
            return np.ravel(np.broadcast_to(a, self.x.shape if output else self.shape))
        return np.moveaxis(np.broadcast_to(a, self.shape), self.axis, -1)

    def as_input(self, rows):
        return np.reshape(rows, self.shape) if self.axis is None else np.moveaxis(rows, -1, self.axis)

    def as_output(self, rows):
        return rows if self.axis is None else np.moveaxis(rows, -1, self.axis)


def _exclusive_cumprod(x):
    """y[j - 1] = x[0] ... x[j - 1] along the last axis (1 for j = 0)."""
    return np.cumprod(np.concatenate([np.ones_like(x[..., :1]), x[..., :-1]], -1), -1)


def _reverse_cumsum(a):
    return np.flip(np.cumsum(np.flip(a, -1), -1), -1)


def _cumprod_tangent_rows(x, v):
    """J v along the last axis without dividing: a[j] = x[j] a[j - 1] + y[j - 1] v[j]."""
    before = _exclusive_cumprod(x)
    out = np.empty(np.broadcast_shapes(x.shape, v.shape), np.result_type(x, v, float))
    previous = 0.0
    for j in range(x.shape[-1]):
        previous = x[..., j] * previous + before[..., j] * v[..., j]
        out[..., j] = previous
    return out


def _cumprod_backward(x, g):
    """The adjoints of y along the last axis for y's adjoint g: r[j] = g[j] + x[j + 1] r[j + 1]."""
    out = np.empty(np.broadcast_shapes(x.shape, g.shape), np.result_type(x, g, float))
    following = 0.0
    for j in range(x.shape[-1] - 1, -1, -1):
        following = g[..., j] + (x[..., j + 1] * following if j + 1 < x.shape[-1] else 0.0)
        out[..., j] = following
    return out


def _float_zeros(shape, g):
    return np.zeros(shape, dtype=np.result_type(g, 1.0))


def undiagonal(g, x, offset=0, axis1=0, axis2=1):
    """The gradient of `np.diagonal(x, offset, axis1, axis2)`: `g` on that diagonal, zeros elsewhere."""
    shape = _shape(x)
    ndim = len(shape)
    a1, a2 = axis1 % ndim, axis2 % ndim
    rest = [n for k, n in enumerate(shape) if k not in (a1, a2)]
    out = _float_zeros(rest + [shape[a1], shape[a2]], g)
    length = np.shape(g)[-1]
    rows = np.arange(length) + max(-offset, 0)
    out[..., rows, rows + offset] = g
    return np.moveaxis(out, (-2, -1), (a1, a2))


def untrace(g, x, offset=0, axis1=0, axis2=1):
    """The gradient of `np.trace(x, offset, axis1, axis2)`: `g` along that diagonal."""
    shape = _shape(x)
    n, m = shape[axis1], shape[axis2]
    length = max(0, min(n - max(-offset, 0), m - max(offset, 0)))
    g = np.expand_dims(g, -1)
    return undiagonal(np.broadcast_to(g, np.shape(g)[:-1] + (length,)), x, offset, axis1, axis2)


def undiag(g, x, k=0):
    """The gradient of `np.diag(x, k)`: of the diagonal it builds (x 1-d) or the one it takes (x 2-d)."""
    if _ndim(x) == 1:
        return np.diag(g, k)
    return undiagonal(g, x, k, 0, 1)


def unrepeat(g, x, repeats, axis=None):
    """The gradient of `np.repeat(x, repeats, axis)`: the copies of each element summed."""
    shape = _shape(x)
    if axis is None:
        n = int(np.prod(shape, dtype=int))
        owner = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
        out = _float_zeros(n, g)
        np.add.at(out, owner, g)
        return np.reshape(out, shape)
    axis = axis % len(shape)
    n = shape[axis]
    owner = np.repeat(np.arange(n), np.broadcast_to(repeats, (n,)))
    moved = np.moveaxis(g, axis, 0)
    out = _float_zeros((n,) + moved.shape[1:], g)
    np.add.at(out, owner, moved)
    return np.moveaxis(out, 0, axis)


def untile(g, x, reps):
    """The gradient of `np.tile(x, reps)`: the tiles summed."""
    shape = _shape(x)
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    d = max(len(shape), len(reps))
    padded = (1,) * (d - len(shape)) + tuple(shape)
    reps = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(reps, padded) for n in pair])
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * d, 2))), shape)


_COPYING_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def unpad(g, x, pad_width, mode="constant"):
    """The gradient of `np.pad(x, pad_width, mode)` for the modes that pad with constants or copies."""
    shape = _shape(x)
    if mode == "constant":
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (len(shape), 2))
        return g[tuple(slice(before, before + n) for (before, _), n in zip(widths, shape))]
    if mode in _COPYING_PAD_MODES:  # each padded element is a copy of one element of x: add up the copies
        size = int(np.prod(shape, dtype=int))
        source = np.pad(np.arange(size).reshape(shape), pad_width, mode)
        return np.bincount(source.ravel(), weights=np.ravel(g), minlength=size).reshape(shape)
    raise NoDerivativeRule(f"adjoint has no derivative of np.pad with mode={mode!r}. Use mode 'constant' or one "
                           f"of {', '.join(map(repr, _COPYING_PAD_MODES))}, or pad outside the differentiated code.")


def _joined_piece(shape, how, axis):
    """The shape `how` gives an item before it is concatenated, and the axis it is concatenated along."""
    if how == "concatenate":
        return ((int(np.prod(shape, dtype=int)),), 0) if axis is None else (shape, axis)
    if how == "stack":
        at = axis % (len(shape) + 1)
        return shape[:at] + (1,) + shape[at:], at
    if how == "hstack":
        shape = shape or (1,)
        return shape, 0 if len(shape) == 1 else 1
    if how == "vstack":
        return ((1,) * (2 - len(shape)) + shape if len(shape) < 2 else shape), 0
    if how == "column_stack":
        return ((shape[0] if shape else 1, 1) if len(shape) < 2 else shape), 1
    raise ValueError(f"unknown way of joining arrays: {how!r}")


def _join(parts, how, axis):
    if how == "concatenate":
        return np.concatenate(parts, axis)
    if how == "stack":
        return np.stack(parts, axis)
    return getattr(np, how)(parts)


def _item_shapes(xs):
    if isinstance(xs, (list, tuple)):
        return [_shape(x) for x in xs]
    shape = _shape(xs)  # one array: its items are its rows
    return [tuple(shape[1:])] * shape[0]


def unjoin(g, xs, i, how="concatenate", axis=0):
    """The part of the gradient of `np.concatenate(xs, axis)` (`how`: or of np.stack, np.hstack,
    np.vstack, np.column_stack) that belongs to `xs[i]`."""
    shapes = _item_shapes(xs)
    pieces = [_joined_piece(tuple(s), how, axis) for s in shapes]
    if how == "concatenate" and axis is None:
        g = np.ravel(g)
    at = pieces[0][1] % max(np.ndim(g), 1) if pieces else 0
    bounds = np.cumsum([0] + [shape[at] for shape, _ in pieces])

    def part(k):
        return np.reshape(g[(slice(None),) * at + (slice(bounds[k], bounds[k + 1]),)], shapes[k])
    if not isinstance(i, slice):
        return part(i)
    parts = [part(k) for k in range(len(shapes))]
    if isinstance(xs, (list, tuple)):
        return Cotangents(parts)
    return np.reshape(np.stack(parts), _shape(xs)) if parts else np.zeros(_shape(xs))


def rejoin(v, xs, i, how="concatenate", axis=0):
    """The adjoint of `unjoin`: `v`, the part of `xs[i]`, joined with zeros for the other items."""
    shapes = _item_shapes(xs)
    if isinstance(i, slice):
        parts = list(v)
    else:
        parts = [_float_zeros(s, v) for s in shapes]
        parts[i] = v
    return _join(parts, how, axis)


def unsort(g, x, axis=-1):
    """The gradient of `np.sort(x, axis)`: `g` sent back to where each element came from."""
    order = np.argsort(x, axis=axis, kind="stable")
    if axis is None:
        out = _float_zeros(np.size(order), g)
        out[order] = g
        return np.reshape(out, _shape(x))
    out = _float_zeros(_shape(x), g)
    np.put_along_axis(out, order, g, axis)
    return out


def undiff(g, n=1, axis=-1):
    """The gradient of `np.diff(x, n, axis)`: the adjoint of a difference is minus a difference."""
    for _ in range(n):
        g = -np.diff(g, 1, axis, prepend=0, append=0)
    return g


def select_mask(condlist, i):
    """Where `np.select(condlist, choices)` takes choice `i`: its condition holds and no earlier one does."""
    taken = np.zeros(np.broadcast_shapes(*[np.shape(c) for c in condlist]), dtype=bool)
    masks = []
    for condition in condlist:
        masks.append(np.logical_and(condition, np.logical_not(taken)))
        taken = np.logical_or(taken, condition)
    return np.array(masks) if isinstance(i, slice) else masks[i]


def untake(g, x, indices, axis=None):
    """The gradient of `np.take(x, indices, axis)`: `g` added up at the indices it was taken from."""
    out = _float_zeros(_shape(x), g)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    axis = axis % out.ndim
    k = np.ndim(indices)
    np.add.at(np.moveaxis(out, axis, 0), indices, np.moveaxis(g, list(range(axis, axis + k)), list(range(k))))
    return out


def untake_along_axis(g, x, indices, axis=-1):
    """The gradient of `np.take_along_axis(x, indices, axis)`."""
    out = _float_zeros(_shape(x), g)
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    g = np.asarray(g)
    where = list(np.indices(g.shape, sparse=True))
    where[axis % g.ndim] = np.broadcast_to(indices, g.shape)
    np.add.at(out, tuple(where), g)
    return out


# einsum: specs are made explicit (`ij,jk->ik`, ellipses spelt out) so a gradient is one more einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_terms(spec, shapes):
    """The input subscripts and the output subscript of `np.einsum(spec, ...)`, ellipses spelt out."""
    if not isinstance(spec, str):
        raise NoDerivativeRule("adjoint differentiates np.einsum with a subscripts string only: write "
                               "np.einsum('ij,jk->ik', a, b) rather than the interleaved form.")
    spec = spec.replace(" ", "")
    inputs, arrow, out = spec.partition("->")
    terms = inputs.split(",")
    free = [c for c in _LETTERS if c not in spec]
    widths = [len(shape) - (len(t) - 3) for t, shape in zip(terms, shapes) if "..." in t]
    ellipsis = "".join(free[:max(widths, default=0)])
    terms = [t.replace("...", ellipsis[len(ellipsis) - (len(shape) - (len(t) - 3)):]) if "..." in t else t
             for t, shape in zip(terms, shapes)]
    if arrow:
        out = out.replace("...", ellipsis)
    else:
        letters = "".join(terms)
        out = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis))
    return terms, out


def einsum_part(g, spec, ops, k):
    """The gradient of `np.einsum(spec, *ops)` with respect to `ops[k]`, for the output's adjoint `g`."""
    shapes = [_shape(op) for op in ops]
    terms, out = _einsum_terms(spec, shapes)
    sizes = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            sizes[c] = max(sizes.get(c, 1), n)
    target = terms[k]
    unique = "".join(dict.fromkeys(target))
    others = [t for j, t in enumerate(terms) if j != k]
    reachable = set(out).union(*others)
    kept = "".join(c for c in unique if c in reachable)
    part = np.einsum(",".join([out] + others) + "->" + kept, g, *[op for j, op in enumerate(ops) if j != k])
    if kept != unique:  # letters of ops[k] alone were summed over: each element gets the same adjoint
        part = np.expand_dims(part, [p for p, c in enumerate(unique) if c not in kept])
        part = np.broadcast_to(part, [sizes[c] for c in unique])
    if unique != target:  # a repeated letter takes a diagonal: put the adjoint on that diagonal
        spelt, eyes, subscripts = list(target), [], []
        for p, c in enumerate(target):
            if c in target[:p]:
                fresh = next(x for x in _LETTERS if x not in spec and x not in spelt and x not in subscripts)
                spelt[p] = fresh
                eyes.append(np.eye(sizes[c]))
                subscripts.append(c + fresh)
        part = np.einsum(",".join([unique] + subscripts) + "->" + "".join(spelt), part, *eyes)
    return unbroadcast(part, ops[k])


def _with_item(ops, k, value):
    return [value if j == k else op for j, op in enumerate(ops)]


def einsum_jvp(spec, ops, dops):
    """The tangent of `np.einsum(spec, *ops)`: it is linear in each operand."""
    return sum(np.einsum(spec, *_with_item(ops, k, d)) for k, d in enumerate(dops))


def einsum_with(spec, ops, k, value):
    """`np.einsum(spec, *ops)` with `value` in place of `ops[k]`."""
    return np.einsum(spec, *_with_item(ops, k, value))


def einsum_part_jvp(v, spec, ops, dops, k):
    """The tangent of `einsum_part(v, spec, ops, k)` for tangents `dops` of the operands."""
    parts = [einsum_part(v, spec, _with_item(ops, j, d), k) for j, d in enumerate(dops) if j != k]
    if not parts:  # one operand: einsum_part reads only its shape
        return zeros_grad(ops[k])
    return sum(parts[1:], parts[0])


def einsum_part_other(g, v, spec, ops, k, i):
    """The gradient of `einsum_part(v, spec, ops, k)` with respect to `ops[i]` (its adjoint is `g`)."""
    if isinstance(i, slice):
        return Cotangents(einsum_part_other(g, v, spec, ops, k, j) for j in range(len(ops)))
    if i == k:  # einsum_part reads only the shape of ops[k]
        return zeros_grad(ops[k])
    return einsum_part(v, spec, _with_item(ops, k, g), i)


def tensordot_spec(a, b, axes=2):
    """`np.tensordot(a, b, axes)` as an einsum spec."""
    na, nb = _ndim(a), _ndim(b)
    if np.ndim(axes) == 0:
        axes = (list(range(na - axes, na)), list(range(axes)))
    left, right = ([axes[0]] if np.ndim(axes[0]) == 0 else list(axes[0])), \
        ([axes[1]] if np.ndim(axes[1]) == 0 else list(axes[1]))
    sa, sb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for p, q in zip(left, right):
        sb[q % nb] = sa[p % na]
    summed = set(sa[p % na] for p in left)
    out = [c for c in sa if c not in summed] + [c for c in sb if c not in summed]
    return "".join(sa) + "," + "".join(sb) + "->" + "".join(out)


def inner_spec(a, b):
    """`np.inner(a, b)` as an einsum spec: a sum over the last axes (a product if one is a number)."""
    na, nb = _ndim(a), _ndim(b)
    sa, sb = _LETTERS[:na], _LETTERS[na:na + nb]
    if na and nb:
        sb = sb[:-1] + sa[-1]
        return f"{sa},{sb}->{sa[:-1]}{sb[:-1]}"
    return f"{sa},{sb}->{sa}{sb}"


def _kron_layout(g, a, b):
    sa, sb = _shape(a), _shape(b)
    d = max(len(sa), len(sb))
    sa, sb = (1,) * (d - len(sa)) + tuple(sa), (1,) * (d - len(sb)) + tuple(sb)
    blocks = np.reshape(g, [n for pair in zip(sa, sb) for n in pair])
    la, lb = _LETTERS[:d], _LETTERS[d:2 * d]
    return blocks, sa, sb, la, lb, "".join(x + y for x, y in zip(la, lb))


def kron_vjp_left(g, a, b):
    """The gradient of `np.kron(a, b)` with respect to `a`."""
    blocks, sa, sb, la, lb, lg = _kron_layout(g, a, b)
    return np.reshape(np.einsum(f"{lg},{lb}->{la}", blocks, np.reshape(b, sb)), _shape(a))


def kron_vjp_right(g, a, b):
    """The gradient of `np.kron(a, b)` with respect to `b`."""
    blocks, sa, sb, la, lb, lg = _kron_layout(g, a, b)
    return np.reshape(np.einsum(f"{lg},{la}->{lb}", blocks, np.reshape(a, sa)), _shape(b))


def _norm_axes(x, ord, axis):
    """The reduced axes of `np.linalg.norm(x, ord, axis)` and whether it is a matrix norm."""
    ndim = _ndim(x)
    if axis is None:
        return tuple(range(ndim)), ndim == 2 and ord is not None
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(a % ndim for a in axes), len(axes) == 2


def _norm_power(ord):
    return 2.0 if ord in (None, "fro") else float(ord)


def norm_grad(x, ans, ord=None, axis=None, keepdims=False):
    """d np.linalg.norm(x, ord, axis, keepdims) / dx, shaped like `x` (`ans` is the norm)."""
    x = np.asarray(x)
    axes, matrix = _norm_axes(x, ord, axis)
    norm = _expand_reduced(ans, x, None if axis is None else axes, keepdims)
    if not matrix or ord in (None, "fro"):
        p = _norm_power(ord)
        if p == 2:
            return x / norm
        if p in (np.inf, -np.inf):  # the extreme elements share it
            winners = np.abs(x) == norm
            return np.sign(x) * winners / np.sum(winners, axis=axes, keepdims=True)
        if p == 0:
            return np.zeros_like(x, dtype=_grad_dtype(x))
        return np.sign(x) * (np.abs(x) / norm) ** (p - 1)
    m = np.moveaxis(x, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        u, s, vh = np.linalg.svd(m, full_matrices=False)
        if ord == 2:
            u, vh = u[..., :, :1], vh[..., :1, :]
        elif ord == -2:
            u, vh = u[..., :, -1:], vh[..., -1:, :]
        grad = u @ vh
    elif ord in (1, -1, np.inf, -np.inf):  # the largest (smallest) column (row) sum of |x| wins
        along = -2 if ord in (1, -1) else -1
        sums = np.sum(np.abs(m), axis=along, keepdims=True)
        extreme = np.max if ord in (1, np.inf) else np.min
        winners = sums == extreme(sums, axis=(-1, -2), keepdims=True)
        grad = np.sign(m) * winners / np.sum(winners, axis=(-1, -2), keepdims=True)
    else:
        raise NoDerivativeRule(f"adjoint has no derivative of np.linalg.norm with ord={ord!r}.")
    return np.moveaxis(grad, (-2, -1), axes)


def _smooth_power(x, ord, axis):
    """The p of a norm whose gradient sign(x) |x|^(p-1) / norm^(p-1) is smooth in x and the norm (the
    vector p-norms; Frobenius: p = 2), or None: the gradient of the other norms is piecewise constant
    (p = 0, 1, +-inf; the matrix 1 and inf norms) or not elementwise (the matrix 2, -2 and nuclear norms)."""
    axes, matrix = _norm_axes(x, ord, axis)
    p = _norm_power(ord) if not matrix or ord in (None, "fro") else None
    return None if p in (0, 1, np.inf, -np.inf) else p


def norm_curvature(v, x, ans, ord=None, axis=None, keepdims=False):
    """The derivative of norm_grad(x, ans, ...) along `v`, holding `ans` fixed: v (p - 1) |x|^(p-2) / ans^(p-1)
    for p-norms. It is a Hessian, so symmetric: the same map turns a cotangent of norm_grad into one of x."""
    axes, matrix = _norm_axes(x, ord, axis)
    if matrix and ord in (2, -2, "nuc"):
        moved = np.moveaxis(np.asarray(x), axes, (-2, -1))
        direction = np.moveaxis(np.broadcast_to(v, _shape(x)), axes, (-2, -1))
        return np.moveaxis(_singular_value_curvature(direction, moved, ord), (-2, -1), axes)
    p = _smooth_power(x, ord, axis)
    if p is None:
        return np.zeros(_shape(x), dtype=np.result_type(v, _grad_dtype(x)))
    norm = _expand_reduced(ans, x, None if axis is None else axes, keepdims)
    return v * (p - 1) * np.abs(x) ** (p - 2) / norm ** (p - 1)


def norm_grad_ans(x, ans, ord=None, axis=None, keepdims=False):
    """d norm_grad(x, ans, ...) / d ans elementwise: (1 - p) norm_grad / ans (0 where norm_grad does not read ans)."""
    p = _smooth_power(x, ord, axis)
    if p is None:
        return np.zeros(_shape(x), dtype=_grad_dtype(x))
    norm = _expand_reduced(ans, x, None if axis is None else _norm_axes(x, ord, axis)[0], keepdims)
    return (1 - p) * norm_grad(x, ans, ord, axis, keepdims) / norm


def _singular_value_curvature(w, m, ord):
    """The Hessian of the matrix 2-norm (ord=2: the largest singular value), of the smallest singular value
    (ord=-2) or of the nuclear norm (their sum) at the matrices `m`, along `w`.

    With m = U S V^T (full decomposition) and singular values s_j, padded with zeros to each side's
    length, take the direction in the singular bases, e = U^T w V. The derivative of s_k's gradient
    u_k v_k^T is U r V^T, where r has its k-th column (s_k e_jk + s_j e_kj) / (s_k^2 - s_j^2) and its k-th
    row (s_k e_kj + s_j e_jk) / (s_k^2 - s_j^2), j != k, and zeros elsewhere. Summed over k (the nuclear
    norm), r_jk = (e_jk - e_kj) / (s_j + s_k). So: s_k distinct from the other singular values (and from 0
    for a matrix that is not square) for the 2-norm and -2, full rank for the nuclear norm."""
    u, s, vh = np.linalg.svd(m)
    rows, cols = m.shape[-2:]
    e = mT(u) @ w @ mT(vh)
    s_rows, s_cols = _zero_padded(s, rows), _zero_padded(s, cols)
    e_t = _zero_padded(_zero_padded(mT(e), cols), rows, axis=-2)  # e_t[j, k] = e[k, j], 0 outside e
    if ord == "nuc":
        r = (e - e_t) / (s_rows[..., :, None] + s_cols[..., None, :])
    else:
        k = 0 if ord == 2 else min(rows, cols) - 1
        s_k = s[..., k:k + 1]
        r = np.zeros_like(e)
        r[..., :, k] = _off_k(s_k * e[..., :, k] + s_rows * e_t[..., :, k], s_k ** 2 - s_rows ** 2, k)
        r[..., k, :] = _off_k(s_k * e[..., k, :] + s_cols * e_t[..., k, :], s_k ** 2 - s_cols ** 2, k)
    return u @ r @ vh


def _zero_padded(v, length, axis=-1):
    """`v` cut, or padded with zeros, to `length` along `axis`."""
    v = np.take(v, np.arange(min(length, np.shape(v)[axis])), axis=axis)
    widths = [(0, 0)] * np.ndim(v)
    widths[axis] = (0, length - np.shape(v)[axis])
    return np.pad(v, widths)


def _off_k(numerator, gaps, k):
    """numerator / gaps, with 0 at position k of the last axis (where the gap is 0 itself)."""
    at_k = np.arange(np.shape(gaps)[-1]) == k
    return np.where(at_k, 0.0, numerator / np.where(at_k, 1.0, gaps))


# np.linalg.solve(a, b) reads `b` as one vector (a stack of them, with a's batch) when it is 1-d, and as
# a stack of matrices otherwise (numpy 1 read it as vectors when b.ndim == a.ndim - 1 instead). Its rules
# are written for matrices: a vector is a matrix of one column there.
_SOLVE_READS_ONLY_1D_AS_VECTOR = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _solves_vectors(a, b):
    return _ndim(b) == (1 if _SOLVE_READS_ONLY_1D_AS_VECTOR else _ndim(a) - 1)


def to_columns(v, a, b):
    """`v` (shaped like `b`, or like the solution of np.linalg.solve(a, b)) as a stack of matrices:
    with a last axis of length 1 where solve reads `b` as a vector."""
    return np.expand_dims(v, -1) if _solves_vectors(a, b) else v


def from_columns(v, a, b):
    """The inverse of `to_columns`: a stack of one-column matrices back as vectors, where `b` is one."""
    return v[..., 0] if _solves_vectors(a, b) else v


# symmetric-matrix functions (np.linalg.cholesky, eigh) read the lower triangle only

def tril_half(x):
    """The lower triangle of each matrix of `x`, its diagonal halved."""
    lower = np.tril(x)
    return lower - 0.5 * lower * np.eye(np.shape(x)[-1])


def from_lower(x):
    """The symmetric matrix whose lower triangle is that of `x`: what cholesky and eigh see of `x`."""
    return np.tril(x) + mT(np.tril(x, -1))


def to_lower(g):
    """The adjoint of `from_lower`: a gradient wrt the symmetric matrix, as one wrt `x`."""
    return tril_half(g + mT(g))


def diag_embed(v):
    """The diagonal matrices (a stack of them) with `v` on their diagonals."""
    return np.expand_dims(v, -1) * np.eye(np.shape(v)[-1])


def eigh_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it, for eigenvalues `w`."""
    eye = np.eye(np.shape(w)[-1], dtype=bool)
    gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, gaps))
