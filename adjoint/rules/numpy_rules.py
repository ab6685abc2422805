"""Rules for numpy."""
import operator

import numpy as np

from ..ir import Attribute, Method

from .registry import binary, elementwise, methods, nondiff, same_as, structural, unary

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
same_as(np.absolute, np.abs)

# -- elementwise, two arguments -------------------------------------------------
binary(np.add,        x="1",               y="1")
binary(np.subtract,   x="1",               y="-1")
binary(np.multiply,   x="y",               y="x")
binary(np.divide,     x="1 / y",           y="-ans / y")
binary(np.power,      x="y * x ** (y - 1)", y="ans * log_or_zero(x)")
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
elementwise(np.clip, "x, a_min, a_max", x="ans == x", a_min="x < a_min", a_max="x > a_max")

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

# -- products -------------------------------------------------------------------
same_as(np.matmul, operator.matmul)
structural(np.dot, "x, y",
           vjp=dict(x="dot_vjp_left(g, x, y)", y="dot_vjp_right(g, x, y)"),
           jvp=dict(x="np.dot(dx, y)", y="np.dot(x, dy)"))
structural(np.outer, "x, y",
           vjp=dict(x="np.reshape(g @ np.ravel(y), np.shape(x))", y="np.reshape(np.ravel(x) @ g, np.shape(y))"),
           jvp=dict(x="np.outer(dx, y)", y="np.outer(x, dy)"))

# -- shape ----------------------------------------------------------------------
structural(np.transpose, "x, axes=None",
           vjp=dict(x="untranspose(g, axes)"), jvp=dict(x="np.transpose(dx, axes)"))
structural(np.reshape, "x, shape",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.reshape(dx, shape)"))
structural(np.ravel, "x",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.ravel(dx)"))
structural(np.squeeze, "x, axis=None",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.squeeze(dx, axis)"))
structural(np.expand_dims, "x, axis",
           vjp=dict(x="np.reshape(g, np.shape(x))"), jvp=dict(x="np.expand_dims(dx, axis)"))
structural(np.concatenate, "xs: seq, axis=0",
           vjp=dict(xs="unconcatenate(g, xs, i, axis)"), jvp=dict(xs="np.concatenate(dxs, axis)"))
structural(np.stack, "xs: seq, axis=0",
           vjp=dict(xs="unstack(g, i, axis)"), jvp=dict(xs="np.stack(dxs, axis)"))
structural(np.array, "xs: seq",
           vjp=dict(xs="g[i]"), jvp=dict(xs="np.array(dxs)"))
structural(np.copy, "x", vjp=dict(x="g"), jvp=dict(x="np.copy(dx)"), out="like:x")

# -- no derivative ----------------------------------------------------------------
nondiff(np.floor, np.ceil, np.round, np.rint, np.trunc, np.sign, np.floor_divide,
        np.argmax, np.argmin, np.argsort, np.nonzero, np.shape, np.ndim, np.size,
        np.zeros, np.ones, np.empty, np.eye, np.arange, np.linspace, np.identity,
        np.zeros_like, np.ones_like, np.empty_like,
        np.isfinite, np.isnan, np.isinf, np.equal, np.not_equal, np.less, np.less_equal,
        np.greater, np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
        np.all, np.any, np.count_nonzero, np.result_type, np.issubdtype)

# -- array methods and what they mean ---------------------------------------------
methods(packs_varargs=("reshape", "transpose"),
        sum=np.sum, mean=np.mean, prod=np.prod, max=np.max, min=np.min, dot=np.dot,
        reshape=np.reshape, transpose=np.transpose, squeeze=np.squeeze, ravel=np.ravel,
        flatten=np.ravel, copy=np.copy, clip=np.clip, argmax=np.argmax, argmin=np.argmin,
        argsort=np.argsort, any=np.any, all=np.all, round=np.round, nonzero=np.nonzero)

# -- attributes and methods kept as written -------------------------------------
nondiff(Attribute("shape"), Attribute("ndim"), Attribute("size"), Attribute("dtype"))
structural(Method("astype"), "x, dtype", out="like:x",
           vjp=dict(x="cast_like(g, x)"), jvp=dict(x="cast_like(dx, ans)"))
