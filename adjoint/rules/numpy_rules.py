"""Rules for numpy."""
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Attribute, Method

from .registry import RULES, binary, elementwise, methods, nondiff, same_as, structural, template, unary, without_rule

# -- elementwise, one argument: the derivative of f at x (`ans` is f(x)) ------
unary(np.sin,         "np.cos(x)")
unary(np.cos,         "-np.sin(x)")
unary(np.tan,         "1 + ans ** 2")
unary(np.arcsin,      "1 / np.sqrt(1 - x ** 2)")
unary(np.arccos,      "-1 / np.sqrt(1 - x ** 2)")
unary(np.arctan,      "1 / (1 + x ** 2)")
unary(np.sinh,        "np.cosh(x)")
unary(np.cosh,        "np.sinh(x)")
unary(np.tanh,        "1 - ans ** 2")
unary(np.arcsinh,     "1 / np.sqrt(x ** 2 + 1)")
unary(np.arccosh,     "1 / np.sqrt(x ** 2 - 1)")
unary(np.arctanh,     "1 / (1 - x ** 2)")
unary(np.exp,         "ans")
unary(np.exp2,        "ans * np.log(2)")
unary(np.expm1,       "ans + 1")
unary(np.log,         "1 / x")
unary(np.log2,        "1 / (x * np.log(2))")
unary(np.log10,       "1 / (x * np.log(10))")
unary(np.log1p,       "1 / (1 + x)")
unary(np.sqrt,        "0.5 / ans")
unary(np.cbrt,        "1 / (3 * ans ** 2)")
unary(np.square,      "2 * x")
unary(np.reciprocal,  "-ans ** 2")
unary(np.negative,    "-1")
unary(np.positive,    "1")
unary(np.abs,         "np.sign(x)")
unary(np.fabs,        "np.sign(x)")
unary(np.deg2rad,     "np.pi / 180")
unary(np.rad2deg,     "180 / np.pi")
unary(np.sinc,        "sinc_slope(x)")
same_as(np.absolute, np.abs)

# -- elementwise, two arguments -------------------------------------------------
binary(np.add,        x="1",               y="1")
binary(np.subtract,   x="1",               y="-1")
binary(np.multiply,   x="y",               y="x")
binary(np.divide,     x="1 / y",           y="-ans / y")
binary(np.power,      x="power_slope(x, y)", y="ans * log_or_zero(x)")
binary(np.maximum,    x="x >= y",          y="x < y")
binary(np.minimum,    x="x <= y",          y="x > y")
binary(np.fmax,       x="x >= y",          y="x < y")
binary(np.fmin,       x="x <= y",          y="x > y")
binary(np.hypot,      x="x / ans",         y="y / ans")
binary(np.logaddexp,  x="np.exp(x - ans)", y="np.exp(y - ans)")
binary(np.logaddexp2, x="2 ** (x - ans)",  y="2 ** (y - ans)")
binary(np.mod,        x="1",               y="-np.floor_divide(x, y)")
elementwise(np.arctan2, "y, x", y="x / (x ** 2 + y ** 2)", x="-y / (x ** 2 + y ** 2)")
same_as(np.true_divide, np.divide)
same_as(np.remainder, np.mod)
structural(np.where, "condition: const, x, y", broadcasting=True, out="elementwise",
           vjp=dict(x="np.where(condition, g, 0.0)", y="np.where(condition, 0.0, g)"),
           jvp=dict(x="np.where(condition, dx, 0.0)", y="np.where(condition, 0.0, dy)"))
elementwise(np.clip, "x, a_min, a_max", x="clip_choice(x, a_min, a_max) == 0",  # (a_min > a_max: a_max)
            a_min="clip_choice(x, a_min, a_max) == 1", a_max="clip_choice(x, a_min, a_max) == 2")
structural(np.nan_to_num, "x, copy=True, nan=0.0, posinf=None, neginf=None", out="like:x",  # nan, inf: replaced
           vjp=dict(x="g * np.isfinite(x)"), jvp=dict(x="dx * np.isfinite(x)"))

# -- reductions -----------------------------------------------------------------
REDUCTION = "x, axis=None, keepdims=False"
structural(np.sum, REDUCTION, out="reduce",
           vjp=dict(x="repeat_to(g, x, axis, keepdims)"),
           jvp=dict(x="np.sum(dx, axis, keepdims=keepdims)"))
structural(np.mean, REDUCTION, out="reduce",
           vjp=dict(x="repeat_to(g, x, axis, keepdims) * (np.size(ans) / np.size(x))"),
           jvp=dict(x="np.mean(dx, axis, keepdims=keepdims)"))
structural(np.prod, REDUCTION, out="reduce",
           vjp=dict(x="repeat_to(g, x, axis, keepdims) * prod_others(x, axis)"),
           jvp=dict(x="np.sum(prod_others(x, axis) * dx, axis, keepdims=keepdims)"))
for extremum in (np.max, np.min):
    structural(extremum, REDUCTION, out="reduce",
               vjp=dict(x="select_extremum(g, x, ans, axis, keepdims)"),
               jvp=dict(x="np.sum(select_extremum(1.0, x, ans, axis, keepdims) * dx, axis, keepdims=keepdims)"))
same_as(np.amax, np.max)
same_as(np.amin, np.min)
STATISTIC = "x, axis=None, dtype=None, out=None, ddof=0, keepdims=False"
CENTRED, COUNT = "(x - np.mean(x, axis, keepdims=True))", "(np.size(x) / np.size(ans) - ddof)"
structural(np.var, STATISTIC, out="reduce",
           vjp=dict(x=f"repeat_to(g, x, axis, keepdims) * 2 * {CENTRED} / {COUNT}"),
           jvp=dict(x=f"2 * np.sum({CENTRED} * dx, axis, keepdims=keepdims) / {COUNT}"))
structural(np.std, STATISTIC, out="reduce",
           vjp=dict(x=f"repeat_to(g / ans, x, axis, keepdims) * {CENTRED} / {COUNT}"),
           jvp=dict(x=f"np.sum({CENTRED} * dx, axis, keepdims=keepdims) / (ans * {COUNT})"))
structural(np.cumsum, "x, axis=None, dtype=None",
           vjp=dict(x="uncumsum(g, x, axis)"), jvp=dict(x="np.cumsum(dx, axis)"))
structural(np.cumprod, "x, axis=None, dtype=None",  # (exact where x has zeros: no quotients there)
           vjp=dict(x="cumprod_cotangent(x, g, axis)"), jvp=dict(x="cumprod_tangent(x, dx, axis)"))
structural(np.trace, "x, offset=0, axis1=0, axis2=1, dtype=None",
           vjp=dict(x="untrace(g, x, offset, axis1, axis2)"), jvp=dict(x="np.trace(dx, offset, axis1, axis2)"))
structural(np.diff, "x, n=1, axis=-1",
           vjp=dict(x="undiff(g, n, axis)"), jvp=dict(x="np.diff(dx, n, axis)"))

# -- products -------------------------------------------------------------------
same_as(np.matmul, operator.matmul)
structural(np.dot, "x, y",
           vjp=dict(x="dot_vjp_left(g, x, y)", y="dot_vjp_right(g, x, y)"),
           jvp=dict(x="np.dot(dx, y)", y="np.dot(x, dy)"))
structural(np.outer, "x, y",
           vjp=dict(x="np.reshape(g @ np.ravel(y), np.shape(x))", y="np.reshape(np.ravel(x) @ g, np.shape(y))"),
           jvp=dict(x="np.outer(dx, y)", y="np.outer(x, dy)"))
structural(np.einsum, "subscripts, *operands",
           vjp=dict(operands="einsum_part(g, subscripts, operands, i)"),
           jvp=dict(operands="einsum_jvp(subscripts, operands, doperands)"))
structural(np.tensordot, "x, y, axes=2",  # an einsum whose spec follows from the ranks and `axes`
           vjp=dict(x="einsum_part(g, tensordot_spec(x, y, axes), [x, y], 0)",
                    y="einsum_part(g, tensordot_spec(x, y, axes), [x, y], 1)"),
           jvp=dict(x="np.tensordot(dx, y, axes)", y="np.tensordot(x, dy, axes)"))
structural(np.inner, "x, y",
           vjp=dict(x="einsum_part(g, inner_spec(x, y), [x, y], 0)", y="einsum_part(g, inner_spec(x, y), [x, y], 1)"),
           jvp=dict(x="np.inner(dx, y)", y="np.inner(x, dy)"))
structural(np.kron, "x, y",
           vjp=dict(x="kron_vjp_left(g, x, y)", y="kron_vjp_right(g, x, y)"),
           jvp=dict(x="np.kron(dx, y)", y="np.kron(x, dy)"))
# g . (x × y) = x . (y × g) = y . (g × x), 2-vectors as 3-vectors in the plane z = 0 (cross_cotangent)
structural(np.cross, "x, y, axisa=-1, axisb=-1, axisc=-1, axis=None",
           vjp=dict(x="cross_cotangent(g, y, x, axisb, axisc, axisa, axis)",
                    y="-cross_cotangent(g, x, y, axisa, axisc, axisb, axis)"),
           jvp=dict(x="np.cross(dx, y, axisa, axisb, axisc, axis)", y="np.cross(x, dy, axisa, axisb, axisc, axis)"))

# -- shape ----------------------------------------------------------------------
structural(np.transpose, "x, axes=None",
           vjp=dict(x="untranspose(g, axes)"), jvp=dict(x="np.transpose(dx, axes)"))
structural(np.reshape, "x, shape",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.reshape(dx, shape)"))
structural(np.ravel, "x",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.ravel(dx)"))
structural(rt.flatten, "x",  # (order='F' is read as a transpose's flatten by lowering: read_in_order)
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="flatten(dx)"))
structural(np.squeeze, "x, axis=None",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.squeeze(dx, axis)"))
structural(np.expand_dims, "x, axis",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.expand_dims(dx, axis)"))
structural(np.concatenate, "xs: seq, axis=0",
           vjp=dict(xs="unjoin(g, xs, i, 'concatenate', axis)"), jvp=dict(xs="np.concatenate(dxs, axis)"))
structural(np.stack, "xs: seq, axis=0",
           vjp=dict(xs="unjoin(g, xs, i, 'stack', axis)"), jvp=dict(xs="np.stack(dxs, axis)"))
for join in (np.hstack, np.vstack, np.column_stack):
    structural(join, "xs: seq",
               vjp=dict(xs=f"unjoin(g, xs, i, {join.__name__!r})"), jvp=dict(xs=f"np.{join.__name__}(dxs)"))
structural(np.append, "x, values, axis=None",
           vjp=dict(x="unjoin(g, [x, values], 0, 'concatenate', axis)",
                    values="unjoin(g, [x, values], 1, 'concatenate', axis)"),
           jvp=dict(x="np.append(dx, zeros_grad(values), axis)", values="np.append(zeros_grad(x), dvalues, axis)"))
structural(np.array, "xs: seq",
           vjp=dict(xs="g[i]"), jvp=dict(xs="np.array(dxs)"))
structural(np.copy, "x", vjp=dict(x="g"), jvp=dict(x="np.copy(dx)"), out="like:x")
structural(np.asarray, "x, dtype=None, order=None, copy=None", vjp=dict(x="cast_like(g, x)"), jvp=dict(x="cast_like(np.asarray(dx), ans)"),
           out="like:x")
# a list of pieces: its adjoint holds one adjoint per piece (zeros for the pieces nobody used)
for split in (np.split, np.array_split):
    structural(split, "x, indices_or_sections, axis=0",
               vjp=dict(x="np.concatenate(g, axis)"), jvp=dict(x=f"np.{split.__name__}(dx, indices_or_sections, axis)"))
for promote in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    structural(promote, "x", vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x=f"np.{promote.__name__}(dx)"))
structural(np.swapaxes, "x, axis1, axis2",
           vjp=dict(x="np.swapaxes(g, axis1, axis2)"), jvp=dict(x="np.swapaxes(dx, axis1, axis2)"))
structural(np.moveaxis, "x, source, destination",
           vjp=dict(x="np.moveaxis(g, destination, source)"), jvp=dict(x="np.moveaxis(dx, source, destination)"))
structural(np.broadcast_to, "x, shape",
           vjp=dict(x="unbroadcast(g, x)"), jvp=dict(x="np.broadcast_to(dx, shape)"))
structural(np.repeat, "x, repeats, axis=None",
           vjp=dict(x="unrepeat(g, x, repeats, axis)"), jvp=dict(x="np.repeat(dx, repeats, axis)"))
structural(np.tile, "x, reps",
           vjp=dict(x="untile(g, x, reps)"), jvp=dict(x="np.tile(dx, reps)"))
structural(np.roll, "x, shift, axis=None", out="like:x",
           vjp=dict(x="np.roll(g, np.negative(shift), axis)"), jvp=dict(x="np.roll(dx, shift, axis)"))
structural(np.flip, "x, axis=None", out="like:x",
           vjp=dict(x="np.flip(g, axis)"), jvp=dict(x="np.flip(dx, axis)"))
structural(np.fliplr, "x", out="like:x", vjp=dict(x="np.fliplr(g)"), jvp=dict(x="np.fliplr(dx)"))
structural(np.flipud, "x", out="like:x", vjp=dict(x="np.flipud(g)"), jvp=dict(x="np.flipud(dx)"))
structural(np.diag, "x, k=0", vjp=dict(x="undiag(g, x, k)"), jvp=dict(x="np.diag(dx, k)"))
structural(np.diagonal, "x, offset=0, axis1=0, axis2=1",
           vjp=dict(x="undiagonal(g, x, offset, axis1, axis2)"), jvp=dict(x="np.diagonal(dx, offset, axis1, axis2)"))
structural(np.tril, "x, k=0", out="like:x", vjp=dict(x="np.tril(g, k)"), jvp=dict(x="np.tril(dx, k)"))
structural(np.triu, "x, k=0", out="like:x", vjp=dict(x="np.triu(g, k)"), jvp=dict(x="np.triu(dx, k)"))
structural(np.pad, "x, pad_width, mode='constant', constant_values=0",
           vjp=dict(x="unpad(g, x, pad_width, mode)"), jvp=dict(x="np.pad(dx, pad_width, mode)"))

# -- arrays made from numbers ------------------------------------------------------
# (an integer dtype truncates the values: `item_tangent` of an integer result is zero, no derivative)
FILLED = dict(vjp=dict(fill_value="unbroadcast(item_tangent(g, ans), fill_value)"),
              jvp=dict(fill_value="cast_like(broadcast_like(item_tangent(dfill_value, ans), ans), ans)"))
structural(np.full, "shape: const, fill_value, dtype=None, order='C'", **FILLED)
structural(np.full_like, "x: const, fill_value, dtype=None, order='K', subok=True, shape=None", **FILLED)
# linear in (start, stop): the tangent is the linspace of the tangents (with the step's, for `retstep`)
LINSPACE = "num, endpoint, retstep, dtype, axis"
structural(np.linspace, "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0",
           vjp=dict(start="unbroadcast(linspace_cotangent(item_tangent(g, ans), num, endpoint, retstep, axis, 0), start)",
                    stop="unbroadcast(linspace_cotangent(item_tangent(g, ans), num, endpoint, retstep, axis, 1), stop)"),
           jvp=dict(start=f"item_tangent(np.linspace(dstart, zeros_grad(stop), {LINSPACE}), ans)",
                    stop=f"item_tangent(np.linspace(zeros_grad(start), dstop, {LINSPACE}), ans)"))
RULES[np.linspace].joint_jvp = template(f"item_tangent(np.linspace(dstart, dstop, {LINSPACE}), ans)")
# start + k step: the stop (and the length) only decide how many values there are
structural(np.arange, "start, stop: const = None, step=None, dtype=None",
           vjp=dict(start="np.sum(g * arange_slope(ans, stop, 'start'))", step="np.sum(g * arange_slope(ans, stop, 'step'))"),
           jvp=dict(start="dstart * arange_slope(ans, stop, 'start')", step="dstep * arange_slope(ans, stop, 'step')"))
# counts are piecewise constant, but sums of weights are linear in them
structural(np.bincount, "x: const, weights=None, minlength=0",
           vjp=dict(weights="g[x]"), jvp=dict(weights="np.bincount(x, dweights, minlength)"))
# x2 where x1 is 0 exactly (an array of data with zeros, say): its derivative there is 1
elementwise(np.heaviside, "x: const, y", y="x == 0")

# -- choosing and sorting elements -----------------------------------------------
structural(np.sort, "x, axis=-1, kind=None",
           vjp=dict(x="unsort(g, x, axis)"), jvp=dict(x="np.take_along_axis(dx, np.argsort(x, axis, kind='stable'), axis)"))
structural(np.take, "x, indices, axis=None",
           vjp=dict(x="untake(g, x, indices, axis)"), jvp=dict(x="np.take(dx, indices, axis)"))
structural(np.take_along_axis, "x, indices, axis=-1",
           vjp=dict(x="untake_along_axis(g, x, indices, axis)"), jvp=dict(x="np.take_along_axis(dx, indices, axis)"))
structural(np.select, "condlist: const, choicelist: seq, default=0",
           vjp=dict(choicelist="unbroadcast(g * select_mask(condlist, i), choicelist[i])",
                    default="unbroadcast(np.where(np.any(condlist, axis=0), 0.0, g), default)"),
           jvp=dict(choicelist="broadcast_like(np.select(condlist, dchoicelist, 0.0), ans)",
                    default="broadcast_like(np.where(np.any(condlist, axis=0), 0.0, ddefault), ans)"))

# -- no derivative ----------------------------------------------------------------
nondiff(np.floor, np.ceil, np.round, np.rint, np.trunc, np.sign, np.floor_divide,
        np.argmax, np.argmin, np.argsort, np.nonzero, np.shape, np.ndim, np.size,
        np.zeros, np.ones, np.empty, np.eye, np.identity,
        np.zeros_like, np.ones_like, np.empty_like,
        np.isfinite, np.isnan, np.isinf, np.equal, np.not_equal, np.less, np.less_equal,
        np.greater, np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
        np.all, np.any, np.count_nonzero, np.result_type, np.issubdtype,
        np.searchsorted, np.digitize, np.isclose, np.allclose, np.array_equal,
        np.signbit, np.fix, np.tri, np.indices, np.diag_indices, np.tril_indices, np.triu_indices,
        np.unravel_index, np.ravel_multi_index, np.argwhere, np.flatnonzero)

# counts are piecewise constant, but the bin edges move with the data's range, and with density=True or
# weights so do the values: no constant (which would be silently wrong) and no rule yet
without_rule(np.histogram, "its counts are piecewise constant, but its bin edges move with the data's minimum and "
             "maximum, and its values with `weights` and, for density=True, with the edges",
             "If only the counts are used, wrap the data in adjoint.stop_gradient(...); for weights, sum them per bin "
             "with np.bincount(np.digitize(data, edges), weights), which has a rule.")

# -- array methods and what they mean ---------------------------------------------
methods(packs_varargs=("reshape", "transpose"),
        sum=np.sum, mean=np.mean, prod=np.prod, max=np.max, min=np.min, dot=np.dot,
        reshape=np.reshape, transpose=np.transpose, squeeze=np.squeeze, ravel=np.ravel,
        flatten=rt.flatten, copy=np.copy, clip=np.clip, argmax=np.argmax, argmin=np.argmin,
        argsort=np.argsort, any=np.any, all=np.all, round=np.round, nonzero=np.nonzero,
        cumsum=np.cumsum, cumprod=np.cumprod, var=np.var, std=np.std, trace=np.trace, diagonal=np.diagonal,
        repeat=np.repeat, swapaxes=np.swapaxes, take=np.take)

# -- attributes and methods kept as written -------------------------------------
nondiff(Attribute("shape"), Attribute("ndim"), Attribute("size"), Attribute("dtype"))
structural(Method("astype"), "x, dtype", out="like:x",  # (to integers, known only when it runs: no derivative)
           vjp=dict(x="cast_like(item_tangent(g, ans), x)"), jvp=dict(x="cast_like(item_tangent(dx, ans), ans)"))
