"""Rules for Python's operators, builtins and the `math` module."""
import builtins
import math
import operator

from .registry import binary, elementwise, nondiff, structural, unary

# -- operators (they broadcast like numpy's ufuncs) ---------------------------
binary(operator.add,      x="1",          y="1")
binary(operator.sub,      x="1",          y="-1")
binary(operator.mul,      x="y",          y="x")
binary(operator.truediv,  x="1 / y",      y="-ans / y")
binary(operator.pow,      x="power_slope(x, y)", y="ans * log_or_zero(x)")
binary(operator.mod,      x="1",          y="-(x // y)")
unary(operator.neg,       "-1")
unary(operator.pos,       "1")
structural(operator.matmul, "x, y",
           vjp=dict(x="matmul_vjp_left(g, x, y)", y="matmul_vjp_right(g, x, y)"),
           jvp=dict(x="dx @ y", y="x @ dy"))
structural(operator.getitem, "x, index: const",
           vjp=dict(x="unindex(g, x, index)"),
           jvp=dict(x="dx[index]"))

nondiff(operator.floordiv, operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
        operator.ne, operator.not_, operator.invert, operator.and_, operator.or_, operator.xor,
        operator.is_, operator.is_not, operator.lshift, operator.rshift)

# -- builtins ------------------------------------------------------------------
unary(builtins.abs,       "np.sign(x)")
unary(builtins.float,     "1", out="scalar")
binary(builtins.max,      x="x >= y",     y="x < y")
binary(builtins.min,      x="x <= y",     y="x > y")
# (a list of numbers known while compiling is added up as `start + a + b` instead: lower.py)
structural(builtins.sum, "x, start=0",
           vjp=dict(x="sum_cotangent(g, x)", start="unbroadcast(g, start)"),
           jvp=dict(x="broadcast_like(sum(dx), ans)", start="broadcast_like(dstart, ans)"))

nondiff(builtins.len, builtins.int, builtins.bool, builtins.round, builtins.range, builtins.isinstance,
        builtins.type)

# -- math: scalars only --------------------------------------------------------
S = "scalar"
unary(math.sin,    "math.cos(x)", out=S)
unary(math.cos,    "-math.sin(x)", out=S)
unary(math.tan,    "1 + ans ** 2", out=S)
unary(math.asin,   "1 / math.sqrt(1 - x ** 2)", out=S)
unary(math.acos,   "-1 / math.sqrt(1 - x ** 2)", out=S)
unary(math.atan,   "1 / (1 + x ** 2)", out=S)
unary(math.sinh,   "math.cosh(x)", out=S)
unary(math.cosh,   "math.sinh(x)", out=S)
unary(math.tanh,   "1 - ans ** 2", out=S)
unary(math.asinh,  "1 / math.sqrt(x ** 2 + 1)", out=S)
unary(math.acosh,  "1 / math.sqrt(x ** 2 - 1)", out=S)
unary(math.atanh,  "1 / (1 - x ** 2)", out=S)
unary(math.exp,    "ans", out=S)
unary(math.expm1,  "ans + 1", out=S)
unary(math.log1p,  "1 / (1 + x)", out=S)
unary(math.log2,   "1 / (x * math.log(2))", out=S)
unary(math.log10,  "1 / (x * math.log(10))", out=S)
unary(math.sqrt,   "0.5 / ans", out=S)
unary(math.fabs,   "(x > 0) - (x < 0)", out=S)
unary(math.degrees, "180 / math.pi", out=S)
unary(math.radians, "math.pi / 180", out=S)
unary(math.erf,    "2 / math.sqrt(math.pi) * math.exp(-x ** 2)", out=S)
unary(math.erfc,   "-2 / math.sqrt(math.pi) * math.exp(-x ** 2)", out=S)
binary(math.pow,   x="power_slope(x, y)", y="ans * log_or_zero(x)", out=S)
binary(math.hypot, x="x / ans", y="y / ans", out=S)
elementwise(math.atan2, "y, x", out=S, y="x / (x ** 2 + y ** 2)", x="-y / (x ** 2 + y ** 2)")
elementwise(math.log, "x, base=2.718281828459045", out=S, x="1 / (x * math.log(base))",
            base="-ans / (base * math.log(base))")
binary(math.fmod,  x="1", y="-math.trunc(x / y)", out=S)
binary(math.remainder, x="1", y="(ans - x) / y", out=S)     # x - n y with n the nearest integer to x / y
binary(math.copysign, x="math.copysign(1.0, x) * math.copysign(1.0, y)", y="0.0", out=S)
elementwise(math.ldexp, "x, i", out=S, x="2.0 ** i")
unary(math.gamma,  "ans * digamma(x)", out=S)
unary(math.lgamma, "digamma(x)", out=S)
if hasattr(math, "cbrt"):  # Python 3.11
    unary(math.cbrt, "1 / (3 * ans ** 2)", out=S)
    unary(math.exp2, "ans * math.log(2)", out=S)
# sequences of numbers; `i` is the item (`:` for all of an array)
structural(math.fsum, "xs: seq", out=S, vjp=dict(xs="broadcast_like(g, xs[i])"), jvp=dict(xs="math.fsum(dxs)"))
structural(math.prod, "xs: seq, start=1", out=S,
           vjp=dict(xs="g * start * prod_others(np.array(xs))[i]", start="g * math.prod(xs)"),
           jvp=dict(xs="start * np.sum(prod_others(np.array(xs)) * np.array(dxs))", start="dstart * math.prod(xs)"))
# (np.array of each point: a list of active numbers has a rule there, and not as np.subtract's argument)
STEP = "(np.array(p) - np.array(q))"
structural(math.dist, "p: seq, q: seq", out=S,
           vjp=dict(p=f"g * {STEP}[i] / ans", q=f"-g * {STEP}[i] / ans"),
           jvp=dict(p=f"np.sum({STEP} * np.array(dp)) / ans", q=f"-np.sum({STEP} * np.array(dq)) / ans"))
# (mantissa, exponent) and (fraction, integer part): the exponent and integer part are piecewise constant
structural(math.frexp, "x", vjp=dict(x="g[0] * 2.0 ** -ans[1]"), jvp=dict(x="(dx * 2.0 ** -ans[1], 0)"))
structural(math.modf, "x", vjp=dict(x="g[0]"), jvp=dict(x="(dx, 0.0)"))
# the float next to x towards y: it moves with x (piecewise constant in y)
elementwise(math.nextafter, "x, y: const", out=S, x="1")

nondiff(math.floor, math.ceil, math.trunc, math.isfinite, math.isnan, math.isinf,
        math.comb, math.factorial, math.gcd, math.lcm, math.isqrt, math.isclose, math.ulp,
        math.perm)
