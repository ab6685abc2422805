"""Straight-line test functions with concrete arguments: the shared table for the derivative tests.

Each `Case` names a module-level function (adjoint reads its source), the
arguments to differentiate it at, and `wrt` (an index, a name or a tuple of
them). Inputs keep away from non-smooth points (ties in max/min/abs, integer
jumps of floor/mod) and from the edges of domains (log, sqrt, arcsin).
`check` holds extra keyword arguments for `check_grad` (only where the
function itself computes in float32, so finite differences need a larger step).

This module only describes cases; test modules import `CASES` (and `PENDING`,
cases that do not work yet) and decide which modes to check.
"""
import math
from typing import NamedTuple

import numpy as np


class Case(NamedTuple):
    name: str
    fn: object
    args: tuple
    wrt: object = 0
    check: dict = {}


rng = np.random.default_rng(0)


def signed(*shape, dtype=np.float64):
    """Values in +-[0.2, 1.2]: no zeros, so abs/sign/max are smooth there."""
    magnitude = rng.uniform(0.2, 1.2, shape)
    sign = rng.choice([-1.0, 1.0], shape)
    return (magnitude * sign).astype(dtype)


def positive(*shape, low=0.5, high=2.0, dtype=np.float64):
    return rng.uniform(low, high, shape).astype(dtype)


def unit(*shape):
    """Values in (-0.8, 0.8): inside the domains of arcsin, arctanh."""
    return rng.uniform(-0.8, 0.8, shape)


def distinct(*shape, low=-2.0, high=2.0):
    """Values at least 0.1 apart from each other (so maxima and minima are unique)."""
    n = int(np.prod(shape, dtype=int))
    values = np.linspace(low, high, n) + rng.uniform(-0.02, 0.02, n)
    return rng.permutation(values).reshape(shape)


# -- module globals and a helper that the tests read -----------------------------

SCALE = 1.5
OFFSET = np.array([0.25, -0.5, 1.0])
INDEX = np.array([0, 2, 2, 1, 0])


def helper(x, scale=2.0):
    return scale * np.sin(x) + x


def scaled_square(x, y=3.0):
    z = x * y
    return z * z


def make_closure(c, shift):
    def closure_read(x):
        return np.sum(c * x ** 2 + shift)
    return closure_read


closure_read = make_closure(np.array([1.0, -2.0, 0.5]), 0.75)


def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


# -- Python scalars: operators ----------------------------------------------------

def add_mul(x, y, z):
    return (x + y) * z


def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = sigmoid(s3)
    return L


def sub_div(x, y):
    return (x - y) / (x * y) - 3.0 / y


def int_poly(x, y):
    return x * x * y + 2 * x - y


def pow_active_exponent(x, y):
    return x ** y


def pow_const(x):
    return x ** 3 + 2.0 ** x + x ** -0.5


def mod_scalar(x, y):
    return x % y + x * (y % 1.5)


def neg_pos(x, y):
    return -x * y + (-(x - y)) + +y


def fanout(x):
    a = x * x
    b = a + x
    return a * b


# -- Python scalars: math ------------------------------------------------------------

def math_trig(x):
    return math.sin(x) * math.cos(x) + math.tan(x)


def math_exp_log(x):
    return math.exp(x) + math.log(x) + math.log1p(x) + math.sqrt(x)


def math_tanh_pow_hypot(x, y):
    return math.tanh(x) * math.pow(x, y) + math.hypot(x, y)


def math_inverse_trig(x):
    return math.asin(x) + math.acos(x) * 2.0 + math.atan(x)


def math_hyperbolic(x, y):
    return math.sinh(x) + math.cosh(x) + math.asinh(x) + math.acosh(y) + math.atanh(x / 2)


def math_misc(x):
    return math.expm1(x) + math.log2(x) + math.log10(x) + math.fabs(x - 3.0)


def math_angles_erf(x):
    return math.degrees(x) * math.radians(x) + math.erf(x) + math.erfc(x)


def math_two_args(x, y):
    return math.atan2(x, y) + math.log(x, y) + math.fmod(x, y)


def math_log_base_default(x):
    return math.log(x) * math.log(x, 10)


# -- Python scalars: builtins -------------------------------------------------------

def builtin_abs_max_min(x, y):
    return abs(x) * max(x, y) + min(x, y) - abs(y)


def builtin_sum_float(x, y):
    return sum([x, y, x * y]) + float(x) * 2.0


def builtin_sum_rows(x):
    return np.sum(sum(x) ** 2)


def builtin_max_three(x, y, z):
    return max(x, y, z) * min(x, y)


def fmod_divisor(x, y):
    return math.fmod(x, y)


# -- statements -----------------------------------------------------------------------

def tuple_unpack(x, y):
    a, b = x * 2.0, y + 1.0
    a, b = b, a
    c, d = np.sin(a), np.cos(b)
    return c * d


def unpack_array(x):
    a, b, c = x
    return a * b + c


def reassign(x):
    y = x * 2.0
    y = np.sin(y)
    y = y * x
    x = y + x
    return np.sum(x)


def augmented(x, y):
    s = x
    s += y
    s *= x
    s -= 1.0
    s /= y
    s **= 2
    return s


def augmented_array(x, y):
    s = x * y
    s += y
    s *= x
    s -= 1.0
    s /= y
    s **= 2
    return np.sum(s)


def keyword_calls(x):
    return np.sum(np.sum(x, axis=0, keepdims=True) * np.mean(x, axis=1, keepdims=True)) + \
        np.sum(np.clip(x, a_min=-0.5, a_max=0.7))


def globals_read(x):
    return np.sum(SCALE * x + OFFSET * x ** 2)


def inline_default(x):
    return np.sum(helper(x) * helper(x, scale=0.5)) + scaled_square(np.sum(x)) + scaled_square(x[0], y=x[1])


# -- numpy scalars and 0-d arrays -------------------------------------------------------

def np_scalar(x):
    return np.sin(x) * x + np.exp(x)


def zero_d(x):
    return np.tanh(x) * x ** 2


def float32_scalar(x, y):
    return x * y + np.sqrt(x)


def np_int_scalar(x):
    return np.exp(x / 4) * x


def mixed_scalars(x, y):
    return x * y


def np_scalar_maximum_twice(x):
    return np.maximum(x, 0.5) + np.maximum(x, 0.2)


def np_scalar_minus_maximum(x, y):
    return x - np.maximum(x, y)


# -- numpy elementwise ----------------------------------------------------------------

def np_trig(x):
    return np.sum(np.sin(x) * np.cos(x) + np.tan(x))


def np_exp_log(x):
    return np.sum(np.exp(x) + np.log(x) + np.log1p(x) + np.expm1(x) + np.sqrt(x))


def np_square_tanh(x):
    return np.sum(np.square(x) * np.tanh(x) + np.sinh(x) - np.cosh(x))


def np_inverse_trig(x):
    return np.sum(np.arcsin(x) * np.arctan(x))


def np_abs_negative_reciprocal(x):
    return np.sum(np.abs(x) + np.negative(x) * np.reciprocal(x) + np.reciprocal(x))


def np_more_unary(x):
    return np.sum(np.arccos(x / 2) + np.arcsinh(x) + np.arctanh(x / 2) + np.exp2(x) + np.cbrt(x + 2.0)
                  + np.log2(x + 2.0) + np.log10(x + 2.0) + np.deg2rad(x) * np.rad2deg(x) + np.fabs(x))


def np_maximum_minimum(x, y):
    return np.sum(np.maximum(x, y) * np.minimum(x, y) + np.maximum(x, 0.0))


def np_where(x, y):
    return np.sum(np.where(x > 0, x * y, np.exp(y)))


def np_clip(x):
    return np.sum(np.clip(x, -0.5, 0.7) ** 2)


def np_power(x, y):
    return np.sum(np.power(x, y) + np.power(x, 2))


def np_binary_ufuncs(x, y):
    return np.sum(np.add(x, y) * np.subtract(x, y) / np.divide(x, y) + np.multiply(x, y)
                  + np.hypot(x, y) + np.logaddexp(x, y) + np.arctan2(x, y) + np.mod(x, y))


def float32_elementwise(x):
    return np.sum(np.exp(x) * x - np.log(x))


def int_array(x, y):
    return np.sum(x * y ** 2)


# -- operators on arrays -------------------------------------------------------------

def array_arith(x, y):
    return np.sum((x + y) * (x - y) / y)


def array_pow_active(x, y):
    return np.sum(x ** y)


def array_pow_scalar_exponent(x, p):
    return np.sum(x ** p)


def array_mod(x, y):
    return np.sum(x % y + y % 1.5)


def array_neg(x):
    return np.sum(-x * x)


# -- broadcasting ------------------------------------------------------------------------

def bcast_scalar_array(s, x):
    return np.sum(s * x + x / s)


def bcast_array_scalar(x, s):
    return np.sum(x * s - s ** 2 * x)


def bcast_col_row(a, b):
    return np.sum((a * b) ** 2 + a - b)


def bcast_matrix_vector(A, v):
    return np.sum(np.sin(A - v) * v)


def bcast_3d_2d(a, b):
    return np.sum(a * b + np.exp(b) / a)


def bcast_np_scalar_array(s, x):
    return np.sum(x * s + s)


def bcast_float32(A, v):
    return np.sum((A + v) ** 2)


def bcast_where(x, y):
    return np.sum(np.where(x > 0, x, y))


# -- matmul ---------------------------------------------------------------------------

def matmul_vec_vec(x, y):
    return x @ y


def matmul_mat_vec(A, x):
    return np.sum(np.sin(A @ x))


def matmul_vec_mat(x, A):
    return np.sum((x @ A) ** 2)


def matmul_mat_mat(X, W):
    return np.sum(np.tanh(X @ W))


def matmul_batched(A, B):
    return np.sum((A @ B) ** 2)


def matmul_batched_batched(A, B):
    return np.sum(np.sin(A @ B))


def matmul_batched_vec(A, x):
    return np.sum((A @ x) ** 2)


def np_matmul_fn(A, B):
    return np.sum(np.matmul(A, B) ** 2)


def quadratic_form(x, A):
    return x @ A @ x


# -- products --------------------------------------------------------------------------

def np_dot(x, A):
    return np.sum(np.dot(A, x) ** 2) + np.dot(x, x)


def np_dot_tensor(A, B):
    return np.sum(np.sin(np.dot(A, B)))


def np_outer(x, y):
    return np.sum(np.outer(x, y) ** 2)


# -- reductions ---------------------------------------------------------------------------

def reduce_sum_axis(x):
    return np.sum(np.sum(x, axis=1) ** 2) + np.sum(np.sum(x, axis=(0, 2), keepdims=True) ** 3)


def reduce_mean(x):
    return np.mean(x ** 2) + np.sum(np.mean(x, axis=0) ** 2) + np.sum(np.mean(x, axis=-1, keepdims=True) * x)


def reduce_prod(x):
    return np.prod(x) + np.sum(np.prod(x, axis=0) ** 2) + np.sum(np.prod(x, axis=1, keepdims=True))


def reduce_max_min(x):
    return np.max(x) * np.min(x) + np.sum(np.max(x, axis=0) ** 2) + np.sum(np.min(x, axis=1, keepdims=True) * x)


def reduce_prod_zeros(x):
    return np.prod(x[1:]) + np.sum(np.prod(x, axis=1) ** 2) + np.sum(np.prod(x, axis=0, keepdims=True) * x)


def reduce_amax_amin(x):
    return np.amax(x ** 2) - np.amin(x)


# -- shape ------------------------------------------------------------------------------

def np_transpose(x):
    return np.sum(np.transpose(x) * np.arange(6.0).reshape(3, 2)) + np.sum(np.transpose(x, (2, 0, 1))[0] ** 2)


def np_transpose_negative_axes(x):
    return np.sum(np.transpose(x, (-1, 0, 1)) * np.arange(24.0).reshape(4, 2, 3))


def np_reshape(x):
    return np.sum(np.reshape(x, (3, 2)) * np.arange(6.0).reshape(3, 2)) + np.sum(np.ravel(x) ** 3)


def np_squeeze_expand(x):
    y = np.expand_dims(x, 0)
    z = np.squeeze(y * 2.0)
    return np.sum(z * x + np.squeeze(np.expand_dims(x, axis=2), axis=2))


def np_concatenate(x, y):
    return np.sum(np.concatenate([x, y]) ** 2 * np.arange(1.0, 6.0))


def np_concatenate_flat(A, b):
    return np.sum(np.concatenate([A, b], axis=None) * np.arange(10.0))


def np_array_of_scalars(x, y):
    return np.sum(np.array([x, y * x, 2.0]) ** 2)


def np_concatenate_axis(A, B):
    return np.sum(np.sin(np.concatenate((A, B), axis=1)))


def np_stack(x, y):
    return np.sum(np.stack([x, y * x, y]) ** 2) + np.sum(np.stack([x, y], axis=1)[0])


# -- array methods and attributes ---------------------------------------------------

def method_sum(x):
    return x.sum() + (x.sum(axis=0) ** 2).sum()


def method_mean_keepdims(x):
    return (x * x.mean(axis=1, keepdims=True)).sum()


def method_dot(x, y):
    return x.dot(y) * 2.0


def method_T(A):
    return np.sum(A.T @ A)


def method_reshape_varargs(x):
    return np.sum(x.reshape(2, 3) * np.array([1.0, 2.0, 3.0]))


def method_reshape_tuple(x):
    return np.sum(x.reshape((3, 2)) ** 2 * np.array([1.0, -1.0]))


def shape_constant(x):
    n = x.shape[0]
    return np.sum(x) / n + x.size * np.sum(x ** 2) + len(x)


def method_astype_f32(x):
    return np.sum(x.astype(np.float32) ** 2)


def method_astype_f64(x):
    return np.sum(np.sin(x.astype(np.float64)))


def method_misc(x):
    return x.prod() + x.max() + x.min() + x.mean() + np.sum(x.transpose() ** 2) + np.sum(x.ravel() * x.flatten()) \
        + np.sum(x.copy() * x.clip(-0.5, 0.5)) + np.sum(x.squeeze())


# -- indexing ------------------------------------------------------------------------------

def index_first_last(x):
    return x[0] * x[-1]


def index_slices(x):
    return np.sum(x[1:3] ** 2) + np.sum(x[::2] * 3.0)


def index_newaxis(x):
    return np.sum(x[:, None] * x[None, :])


def index_repeated(x):
    return np.sum(x[INDEX] ** 2)


def index_rows_cols(X):
    rows = np.array([0, 1, 1])
    cols = np.array([2, 0, 2])
    return np.sum(X[rows, cols] ** 3)


def index_row(X):
    return np.sum(X[1, :] * X[0]) + np.sum(X[:, 1])


def index_ellipsis(X):
    return np.sum(np.sin(X[..., 0]) * X[..., -1])


def index_mask(x):
    return np.sum(x[x > 0] ** 2)


def index_list(x):
    return np.sum(x[[0, 2, 2]] ** 3)


def index_matrix_element(X):
    return X[1, 2] * X[0, 0] + X[-1, -1]


# -- values without derivatives act as constants -------------------------------------------

def nondiff_floor(x):
    return np.sum(np.floor(x) * x)


def nondiff_argmax(x):
    i = np.argmax(x)
    return x[i] * np.sum(x)


def nondiff_comparison(x):
    return np.sum((x > 0) * x ** 2)


def nondiff_sign_round(x):
    return np.sum(np.sign(x) * x + np.round(x) * x)


def nondiff_shape_arith(x):
    n = x.shape[0] * x.shape[1] - 1
    return np.sum(x) * n + np.sum(np.zeros_like(x) + x) / (x.ndim + 1)


def nondiff_scalar(x, y):
    k = math.floor(x)
    return (x - k) * y + (x > y) * x


def nondiff_unused_input(x, y):
    return np.sum(x ** 2) + np.floor(y)


# -- combinations ---------------------------------------------------------------------------

def softmax_cross_entropy(W, x):
    z = W @ x
    z = z - np.max(z)
    p = np.exp(z) / np.sum(np.exp(z))
    return -np.log(p[1])


def logistic_loss(w, X, y):
    z = X @ w
    return np.mean(np.log1p(np.exp(-y * z)))


def layer_norm(x):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5)
    return np.sum(y * np.arange(4.0))


def mlp(W1, b1, W2, x):
    h = np.tanh(W1 @ x + b1)
    out = W2 @ h
    return np.sum(out ** 2)


def solve_energy(A, b):
    """A linear solve whose `b` numpy (>= 2) reads as a vector when it is 1-d and as a stack of
    matrices otherwise, broadcast against A's stack either way."""
    x = np.linalg.solve(A, b)
    return np.sum(np.sin(x) * x)


def well_conditioned(*shape):
    """Square matrices (a stack of them) far from singular."""
    return rng.normal(size=shape) + 3 * np.eye(shape[-1])


# -- the table ---------------------------------------------------------------------------

V3 = signed(3)
M23 = signed(2, 3)

CASES = [
    # Python scalars and operators
    Case("add_mul", add_mul, (-2.0, 5.0, -4.0), (0, 1, 2)),
    Case("neuron", neuron, (2.0, -1.0, -3.0, -2.0, -3.0), ("w0", "x0", "w1", "x1", "w2")),
    Case("sub_div", sub_div, (1.3, -0.7), (0, 1)),
    Case("int_poly", int_poly, (3, 2), (0, 1)),
    Case("int_float_mixed", int_poly, (3, 0.5), (0, 1)),
    Case("pow_active_exponent", pow_active_exponent, (1.7, 2.3), (0, 1)),
    Case("pow_const", pow_const, (1.3,)),
    Case("mod_scalar", mod_scalar, (7.3, 2.1), (0, 1)),
    Case("neg_pos", neg_pos, (0.8, -1.1), (0, 1)),
    Case("fanout", fanout, (1.4,)),
    # math
    Case("math_trig", math_trig, (0.6,)),
    Case("math_exp_log", math_exp_log, (1.3,)),
    Case("math_tanh_pow_hypot", math_tanh_pow_hypot, (1.2, 0.7), (0, 1)),
    Case("math_inverse_trig", math_inverse_trig, (0.35,)),
    Case("math_hyperbolic", math_hyperbolic, (0.4, 1.6), (0, 1)),
    Case("math_misc", math_misc, (1.7,)),
    Case("math_angles_erf", math_angles_erf, (0.45,)),
    Case("math_two_args", math_two_args, (3.7, 1.6), (0, 1)),
    Case("math_log_base_default", math_log_base_default, (2.5,)),
    # builtins
    Case("builtin_abs_max_min", builtin_abs_max_min, (-0.8, 1.3), (0, 1)),
    Case("builtin_abs_max_min_swapped", builtin_abs_max_min, (1.3, -0.8), (0, 1)),
    Case("builtin_sum_float", builtin_sum_float, (0.3, -1.2), (0, 1)),
    Case("builtin_sum_rows", builtin_sum_rows, (signed(2, 3),)),
    Case("fmod_divisor", fmod_divisor, (3.7, 1.6), (0, 1)),
    # statements
    Case("tuple_unpack", tuple_unpack, (0.3, 0.9), (0, 1)),
    Case("unpack_array", unpack_array, (V3,)),
    Case("reassign", reassign, (signed(3),)),
    Case("augmented", augmented, (0.7, 1.9), (0, 1)),
    Case("augmented_array", augmented_array, (positive(3), positive(2, 3)), (0, 1)),
    Case("keyword_calls", keyword_calls, (np.array([[-0.9, 0.3, 0.8], [0.1, -0.3, 1.1]]),)),
    Case("globals_read", globals_read, (signed(3),)),
    Case("closure_read", closure_read, (signed(3),)),
    Case("inline_default", inline_default, (signed(3),)),
    # numpy scalars and 0-d arrays
    Case("np_float64_scalar", np_scalar, (np.float64(0.7),)),
    # eps: finite differences pass a Python float for a scalar wrt, which float32 operands outrank (NEP 50)
    Case("np_float32_scalar", float32_scalar, (np.float32(1.3), np.float32(-0.4)), (0, 1), dict(eps=1e-3)),
    Case("np_int_scalar", np_int_scalar, (3,)),
    Case("mixed_python_numpy_scalars", mixed_scalars, (2.0, np.float64(3.0)), (0, 1)),
    Case("np_scalar_maximum_twice", np_scalar_maximum_twice, (np.float64(0.7),)),
    Case("np_scalar_minus_maximum", np_scalar_minus_maximum, (np.float64(0.7), np.float64(0.2)), (0, 1)),
    Case("zero_d_array", zero_d, (np.array(0.3),)),
    Case("np_scalar_on_0d", np_scalar, (np.array(-0.6),)),
    Case("zero_d_product", mixed_scalars, (np.array(0.3), np.array(-1.4)), (0, 1)),
    # numpy elementwise
    Case("np_trig", np_trig, (unit(2, 3),)),
    Case("np_exp_log", np_exp_log, (positive(3),)),
    Case("np_square_tanh", np_square_tanh, (signed(2, 3, 4),)),
    Case("np_inverse_trig", np_inverse_trig, (unit(3),)),
    Case("np_abs_negative_reciprocal", np_abs_negative_reciprocal, (signed(2, 3),)),
    Case("np_more_unary", np_more_unary, (signed(3),)),
    Case("np_maximum_minimum", np_maximum_minimum, (distinct(2, 3), distinct(2, 3) + 0.05), (0, 1)),
    Case("np_maximum_broadcast", np_maximum_minimum, (distinct(2, 3), distinct(3) + 0.05), (0, 1)),
    Case("np_where", np_where, (signed(2, 3), signed(2, 3)), (0, 1)),
    Case("np_clip", np_clip, (np.array([-0.9, -0.3, 0.2, 0.65, 0.75, 1.1]),)),
    Case("np_power", np_power, (positive(3), signed(3)), (0, 1)),
    Case("np_binary_ufuncs", np_binary_ufuncs, (np.array([[2.3, 2.9, 2.5], [2.7, 2.2, 3.0]]),  # x / y: 0.2+ from ints
                                                 np.array([[0.9, 0.7, 0.6], [1.0, 0.8, 0.65]])), (0, 1)),
    Case("float32_elementwise", float32_elementwise, (positive(2, 3, dtype=np.float32),)),
    Case("int_array", int_array, (np.array([1, -2, 3]), positive(3)), (0, 1)),
    # operators on arrays
    Case("array_arith", array_arith, (signed(2, 3), positive(2, 3)), (0, 1)),
    Case("array_pow_active", array_pow_active, (positive(2, 3), signed(2, 3)), (0, 1)),
    Case("array_pow_scalar_exponent", array_pow_scalar_exponent, (positive(3), 1.7), (0, 1)),
    Case("array_mod", array_mod, (np.array([3.3, 3.5, 3.7]), np.array([1.4, 1.3, 1.2])), (0, 1)),
    Case("array_neg", array_neg, (signed(2, 3, 4),)),
    # broadcasting
    Case("bcast_scalar_array", bcast_scalar_array, (1.3, signed(2, 3)), (0, 1)),
    Case("bcast_array_scalar", bcast_array_scalar, (signed(3), -0.7), (0, 1)),
    Case("bcast_col_row", bcast_col_row, (signed(3, 1), signed(1, 4)), (0, 1)),
    Case("bcast_matrix_vector", bcast_matrix_vector, (signed(2, 3), signed(3)), (0, 1)),
    Case("bcast_3d_2d", bcast_3d_2d, (positive(4, 1, 3), signed(2, 3)), (0, 1)),
    Case("bcast_np_scalar_array", bcast_np_scalar_array, (np.float64(0.6), signed(2, 3)), (0, 1)),
    Case("bcast_0d_array", bcast_np_scalar_array, (np.array(0.6), signed(3)), (0, 1)),
    Case("bcast_float32", bcast_float32, (signed(2, 3, dtype=np.float32), signed(3, dtype=np.float32)), (0, 1)),
    Case("bcast_mixed_precision", bcast_float32, (signed(2, 3, dtype=np.float32), signed(3)), (0, 1)),
    Case("bcast_where", bcast_where, (signed(2, 3), signed(3)), (0, 1)),
    # matmul
    Case("matmul_vec_vec", matmul_vec_vec, (signed(3), signed(3)), (0, 1)),
    Case("matmul_mat_vec", matmul_mat_vec, (signed(2, 3), signed(3)), (0, 1)),
    Case("matmul_vec_mat", matmul_vec_mat, (signed(2), signed(2, 3)), (0, 1)),
    Case("matmul_mat_mat", matmul_mat_mat, (signed(2, 3), signed(3, 4)), (0, 1)),
    Case("matmul_batched", matmul_batched, (signed(4, 2, 3), signed(3, 5)), (0, 1)),
    Case("matmul_batched_batched", matmul_batched_batched, (signed(2, 3, 4), signed(2, 4, 2)), (0, 1)),
    Case("matmul_batched_broadcast", matmul_batched_batched, (signed(2, 1, 3, 4), signed(3, 4, 2)), (0, 1)),
    Case("matmul_batched_vec", matmul_batched_vec, (signed(2, 3, 4), signed(4)), (0, 1)),
    Case("matmul_vec_batched", matmul_vec_mat, (signed(3), signed(2, 3, 4)), (0, 1)),
    Case("np_matmul_fn", np_matmul_fn, (signed(2, 3), signed(3, 2)), (0, 1)),
    Case("quadratic_form", quadratic_form, (signed(3), signed(3, 3)), (0, 1)),
    Case("matmul_float32", matmul_mat_mat, (signed(2, 3, dtype=np.float32), signed(3, 4, dtype=np.float32)), (0, 1)),
    # products
    Case("np_dot", np_dot, (signed(3), signed(2, 3)), (0, 1)),
    Case("np_dot_tensor", np_dot_tensor, (signed(2, 3), signed(4, 3, 2)), (0, 1)),
    Case("np_dot_tensor_3d", np_dot_tensor, (signed(2, 2, 3), signed(4, 3, 2)), (0, 1)),
    Case("np_outer", np_outer, (signed(3), signed(4)), (0, 1)),
    # reductions
    Case("reduce_sum_axis", reduce_sum_axis, (signed(2, 3, 4),)),
    Case("reduce_mean", reduce_mean, (signed(2, 3),)),
    Case("reduce_prod", reduce_prod, (signed(2, 3),)),
    Case("reduce_max_min", reduce_max_min, (distinct(2, 3),)),
    Case("reduce_prod_zeros", reduce_prod_zeros, (np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.2, 0.7, -0.9]]),)),
    Case("reduce_max_float32", reduce_max_min, (distinct(2, 3).astype(np.float32),)),
    Case("reduce_amax_amin", reduce_amax_amin, (distinct(3, 2) + 2.5,)),
    # shape
    Case("np_transpose", np_transpose, (signed(2, 3, 4),)),
    Case("np_transpose_negative_axes", np_transpose_negative_axes, (signed(2, 3, 4),)),
    Case("np_reshape", np_reshape, (signed(2, 3),)),
    Case("np_squeeze_expand", np_squeeze_expand, (signed(2, 3),)),
    Case("np_concatenate", np_concatenate, (signed(2), signed(3)), (0, 1)),
    Case("np_concatenate_axis", np_concatenate_axis, (signed(2, 3), signed(2, 2)), (0, 1)),
    Case("np_concatenate_flat", np_concatenate_flat, (signed(2, 3), signed(4)), (0, 1)),
    Case("np_array_of_scalars", np_array_of_scalars, (1.3, 0.4), (0, 1)),
    Case("np_stack", np_stack, (signed(3), signed(3)), (0, 1)),
    # methods and attributes
    Case("method_sum", method_sum, (signed(2, 3),)),
    Case("method_mean_keepdims", method_mean_keepdims, (signed(2, 3),)),
    Case("method_dot", method_dot, (signed(3), signed(3)), (0, 1)),
    Case("method_T", method_T, (signed(2, 3),)),
    Case("method_reshape_varargs", method_reshape_varargs, (signed(6),)),
    Case("method_reshape_tuple", method_reshape_tuple, (signed(2, 3),)),
    Case("shape_constant", shape_constant, (signed(4),)),
    Case("method_astype_f32", method_astype_f32, (signed(3),), 0, dict(eps=1e-3, rtol=1e-4, atol=1e-5)),
    Case("method_astype_f64", method_astype_f64, (signed(3, dtype=np.float32),)),
    Case("method_misc", method_misc, (distinct(2, 3) / 2.0,)),
    # indexing
    Case("index_first_last", index_first_last, (signed(4),)),
    Case("index_slices", index_slices, (signed(5),)),
    Case("index_newaxis", index_newaxis, (signed(3),)),
    Case("index_repeated", index_repeated, (signed(3),)),
    Case("index_rows_cols", index_rows_cols, (signed(2, 3),)),
    Case("index_row", index_row, (signed(2, 3),)),
    Case("index_ellipsis", index_ellipsis, (signed(2, 3, 4),)),
    Case("index_mask", index_mask, (signed(6),)),
    Case("index_list", index_list, (signed(3),)),
    Case("index_matrix_element", index_matrix_element, (signed(2, 3),)),
    Case("index_float32", index_slices, (signed(5, dtype=np.float32),)),
    # values without derivatives
    Case("nondiff_floor", nondiff_floor, (np.array([0.3, 1.4, -0.6, 2.7]),)),
    Case("nondiff_argmax", nondiff_argmax, (distinct(4),)),
    Case("nondiff_comparison", nondiff_comparison, (signed(2, 3),)),
    Case("nondiff_sign_round", nondiff_sign_round, (np.array([0.3, 1.2, -0.7, -1.8]),)),
    Case("nondiff_shape_arith", nondiff_shape_arith, (signed(2, 3),)),
    Case("nondiff_scalar", nondiff_scalar, (2.3, 1.1), (0, 1)),
    Case("nondiff_unused_input", nondiff_unused_input, (signed(3), 0.4), (0, 1)),
    # combinations
    Case("softmax_cross_entropy", softmax_cross_entropy, (signed(3, 4), signed(4)), (0, 1)),
    Case("logistic_loss", logistic_loss, (signed(3), signed(5, 3), np.array([1.0, -1.0, 1.0, 1.0, -1.0])), (0, 1)),
    Case("layer_norm", layer_norm, (signed(2, 4),)),
    Case("mlp", mlp, (signed(4, 3), signed(4), signed(2, 4), signed(3)), (0, 1, 2, 3)),
    Case("builtin_max_three", builtin_max_three, (0.4, 1.7, -0.3), (0, 1, 2)),
    # np.linalg.solve of a stack of matrices: b one vector, one matrix or a stack broadcast against it
    Case("solve_stack_vector", solve_energy, (well_conditioned(2, 3, 3), signed(3)), (0, 1)),
    Case("solve_stack_shared_matrix", solve_energy, (well_conditioned(2, 3, 3), signed(3, 2)), (0, 1)),
    Case("solve_stack_broadcast_matrix", solve_energy, (well_conditioned(2, 3, 3), signed(1, 3, 2)), (0, 1)),
    Case("solve_matrix_over_stack", solve_energy, (well_conditioned(3, 3), signed(2, 3, 2)), (0, 1)),
    Case("solve_stacks_broadcast", solve_energy, (well_conditioned(2, 1, 3, 3), signed(4, 3, 1)), (0, 1)),
]

# Cases that do not work yet (the reverse-mode tests say why and expect them to fail); kept apart
# so that every entry of CASES is expected to work.
PENDING = []
