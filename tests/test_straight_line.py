"""Reverse mode on the straight-line case table: values against finite differences, shapes,
dtypes, and no mutation or aliasing of the inputs."""
import copy
import math

import numpy as np
import pytest

import adjoint
from adjoint import runtime as rt
from adjoint.check import numerical_grad
from cases_straight import CASES, PENDING

# Known failures whose cause lies outside the rules, runtime and optimiser: case name -> reason,
# per test, or in ALL_TESTS for the PENDING cases, which no test can run yet.
ALL_TESTS = {}
assert set(ALL_TESTS) == {case.name for case in PENDING}
EVERY = CASES + PENDING
XFAIL = {}


def params(cases, test):
    known = dict(ALL_TESTS, **XFAIL.get(test, {}))
    return [pytest.param(case, id=case.name,
                         marks=[pytest.mark.xfail(strict=True, reason=known[case.name])] if case.name in known else [])
            for case in cases]


def positions(case):
    names = case.fn.__code__.co_varnames[:case.fn.__code__.co_argcount]
    items = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def gradients(case, args=None):
    """The reverse-mode gradients of a case as a list, one per `wrt` position."""
    grads = adjoint.grad(case.fn, wrt=case.wrt)(*(case.args if args is None else args))
    return list(grads) if isinstance(case.wrt, tuple) else [grads]


def expected_dtype(x):
    dtype = np.result_type(x)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def test_table_is_large_and_names_are_unique():
    assert len(CASES) >= 75
    assert len({case.name for case in EVERY}) == len(EVERY)


@pytest.mark.parametrize("case", params(EVERY, "test_matches_finite_differences"))
def test_matches_finite_differences(case):
    assert np.all(np.isfinite(case.fn(*case.args)))
    # check_grad lets NaN through (NaN > tolerance is False): insist on finite gradients first
    for position, g in zip(positions(case), gradients(case)):
        assert np.all(np.isfinite(g)), f"argument {position}: {g}"
    adjoint.check_grad(case.fn, *case.args, wrt=case.wrt, modes=("reverse",), **case.check)


@pytest.mark.parametrize("case", params(EVERY, "test_shape_and_dtype_follow_input"))
def test_shape_and_dtype_follow_input(case):
    for position, g in zip(positions(case), gradients(case)):
        x = case.args[position]
        assert np.shape(g) == np.shape(x), f"argument {position}"
        if isinstance(x, (int, float)) and not isinstance(x, np.generic):
            assert type(g) is float, f"argument {position}: {type(g).__name__} for a Python {type(x).__name__}"
            continue
        assert isinstance(g, np.ndarray) == isinstance(x, np.ndarray), f"argument {position}: {type(g).__name__}"
        assert np.result_type(g) == expected_dtype(x), f"argument {position}: {np.result_type(g)}"


FLOAT32_CASES = [case for case in EVERY if any(np.result_type(case.args[p]) == np.float32 for p in positions(case))]


def test_there_are_float32_cases():
    assert len(FLOAT32_CASES) >= 5


@pytest.mark.parametrize("case", params(FLOAT32_CASES, "test_float32_gradients_stay_float32"))
def test_float32_gradients_stay_float32(case):
    for position, g in zip(positions(case), gradients(case)):
        if np.result_type(case.args[position]) == np.float32:
            assert np.result_type(g) == np.float32, f"argument {position}: {np.result_type(g)}"


@pytest.mark.parametrize("case", params(EVERY, "test_inputs_are_not_mutated"))
def test_inputs_are_not_mutated(case):
    originals = copy.deepcopy(case.args)
    args = copy.deepcopy(case.args)
    for arg in args:
        if isinstance(arg, np.ndarray):
            arg.flags.writeable = False  # writing to an input raises
    gradients(case, args)
    for arg, original in zip(args, originals):
        assert type(arg) is type(original)
        np.testing.assert_array_equal(arg, original)


@pytest.mark.parametrize("case", params(EVERY, "test_gradients_are_fresh_arrays"))
def test_gradients_are_fresh_arrays(case):
    """A gradient never is (or views) an argument or another gradient, so the caller may update it
    in place."""
    args = copy.deepcopy(case.args)
    arrays = [g for g in gradients(case, args) if isinstance(g, np.ndarray)]
    assert len({id(g) for g in arrays}) == len(arrays), "two gradients are one array"
    for g in arrays:
        assert g.flags.writeable and g.flags.owndata
        for arg in args:
            assert not np.shares_memory(g, arg), "a gradient aliases an argument"


def test_two_gradients_are_two_arrays():
    """Asking twice for one argument's gradient (or two values that get one gradient) gives two
    arrays: updating one in place must not change the other."""
    first, second = adjoint.grad(square_sum, wrt=(0, 0))(np.ones(2))
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(second, [2.0, 2.0])


def square_sum(x):
    return np.sum(x * x)


# -- runtime helpers the generated code calls ------------------------------------------


def test_python_number_seeds_keep_float32():
    x32 = np.ones((2, 3), np.float32)
    assert rt.repeat_to(1.0, x32).dtype == np.float32
    assert rt.unbroadcast(1.0, x32).dtype == np.float32
    assert rt.broadcast_like(1.0, x32).dtype == np.float32
    assert rt.select_extremum(1.0, np.arange(6, dtype=np.float32), np.float32(5)).dtype == np.float32
    assert rt.repeat_to(1.0, np.arange(3)).dtype == np.float64  # integers get float gradients


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
def test_prod_others_with_zeros(axis):
    x = np.arange(1.0, 25.0).reshape(2, 3, 4) / 7
    x[0, 1, 2] = x[1, 2, 0] = x[1, 2, 3] = 0.0
    expected = np.empty_like(x)
    for index in np.ndindex(x.shape):
        y = x.copy()
        y[index] = 1.0
        expected[index] = np.broadcast_to(np.prod(y, axis=axis, keepdims=True), x.shape)[index]
    np.testing.assert_allclose(rt.prod_others(x, axis), expected, rtol=1e-12)
    assert rt.prod_others(2.5) == 1.0


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
def test_prod_others_tangent_with_zeros(axis, zeros):
    """The tangent of prod_others against its definition, sum over k != i of w[k] * prod(x without
    i and k), by brute force; one, two and three zeros in a row included (the quotient rule gave nan)."""
    rng = np.random.default_rng(zeros)
    x = rng.uniform(0.5, 1.5, (2, 3, 4))
    x.flat[[5, 17, 20][:zeros]] = 0.0
    w = rng.normal(size=x.shape)
    expected = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        for k in np.ndindex(x.shape):
            if i == k:
                continue
            y = x.copy()
            y[i] = y[k] = 1.0
            product = np.broadcast_to(np.prod(y, axis=axis, keepdims=True), x.shape)
            # k counts only if it is in i's row along `axis`: its product then leaves k out
            row = np.zeros(x.shape, bool)
            row[k] = True
            if np.broadcast_to(np.any(row, axis=axis, keepdims=True), x.shape)[i]:
                expected[i] += w[k] * product[i]
    np.testing.assert_allclose(rt.prod_others_tangent(x, w, axis), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("zeros", [[1], [1, 3]])
def test_hessian_of_a_product_with_zeros_is_finite_and_right(zeros):
    x = np.array([0.7, 1.3, -0.4, 1.1])
    x[zeros] = 0.0
    H = adjoint.hessian(product_of)(x)
    expected = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i, j] = np.prod(np.delete(x, [i, j]))
    np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-15)


def product_of(x):
    return np.prod(x)


def cumprod_derivatives(x, axis):
    """The first and second derivatives of np.cumprod(x, axis) by their definition: d y[o] / d x[i] is
    y[o] with x[i] set to 1 if x[i] is one of its factors (else 0), d2 y[o] / d x[i] d x[l] the same
    with x[i] and x[l] set to 1 (i != l)."""
    y = np.cumprod(x, axis)
    factors = {}  # (o, i): is x[i] a factor of y[o]?
    for i in np.ndindex(x.shape):
        unit = np.zeros(x.shape)
        unit[i] = 1.0
        counted = np.cumsum(unit, axis)
        for o in np.ndindex(y.shape):
            factors[o, i] = counted[o] > 0
    J, T = np.zeros(y.shape + x.shape), np.zeros(y.shape + x.shape + x.shape)
    for (o, i), factor in factors.items():
        if factor:
            z = x.copy()
            z[i] = 1.0
            J[o + i] = np.cumprod(z, axis)[o]
            for l in np.ndindex(x.shape):
                if l != i and factors[o, l]:
                    z2 = z.copy()
                    z2[l] = 1.0
                    T[o + i + l] = np.cumprod(z2, axis)[o]
    return J, T


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
def test_cumprod_helpers_with_zeros(axis, zeros):
    """J v, J^T g, T(v, w) and T^T(g, v) of np.cumprod against its derivatives by definition, with
    zeros in a row included (the quotient rule gave nan)."""
    rng = np.random.default_rng(zeros)
    x = rng.uniform(0.5, 1.5, (2, 3, 2))
    x.flat[[3, 7, 8][:zeros]] = 0.0
    J, T = cumprod_derivatives(x, axis)
    n_in, n_out = x.ndim, np.ndim(J) - x.ndim
    v, w, g = rng.normal(size=x.shape), rng.normal(size=x.shape), rng.normal(size=J.shape[:n_out])
    inputs = list(range(n_in))
    close = dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rt.cumprod_tangent(x, v, axis), np.tensordot(J, v, n_in), **close)
    np.testing.assert_allclose(rt.cumprod_cotangent(x, g, axis), np.tensordot(g, J, n_out), **close)
    np.testing.assert_allclose(rt.cumprod_curvature(x, v, w, axis),
                               np.tensordot(np.tensordot(T, w, n_in), v, n_in), **close)
    T_v = np.tensordot(T, v, (list(range(n_out, n_out + n_in)), inputs))  # T[o, l] contracted over i
    np.testing.assert_allclose(rt.cumprod_curvature_cotangent(x, g, v, axis), np.tensordot(g, T_v, n_out), **close)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("zeros", [[1], [1, 4]])
def test_second_derivatives_of_a_cumulative_product_with_zeros(axis, zeros):
    """Forward over reverse (hessian, hvp) and reverse over reverse, against the definition."""
    x = np.array([[0.7, 1.3, -0.4], [1.1, -0.9, 0.6]])
    x.flat[zeros] = 0.0
    weights = np.linspace(0.5, 1.5, np.cumprod(x, axis).size).reshape(np.cumprod(x, axis).shape)
    J, T = cumprod_derivatives(x, axis)
    expected = np.tensordot(weights, T, weights.ndim)
    f = weighted_cumprod_along_rows if axis == -1 else weighted_cumprod_down if axis == 0 else weighted_cumprod
    for H in (adjoint.hessian(f)(x, weights), adjoint.jacobian(adjoint.grad(f), mode="reverse")(x, weights)):
        np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-14)
    v = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    np.testing.assert_allclose(adjoint.hvp(f)(x, weights, v), np.tensordot(expected, v, 2), rtol=1e-12, atol=1e-14)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(adjoint.grad(f, mode=mode)(x, weights), np.tensordot(weights, J, weights.ndim),
                                   rtol=1e-12, atol=1e-14)


def weighted_cumprod(x, weights):
    return np.sum(weights * np.cumprod(x))


def weighted_cumprod_down(x, weights):
    return np.sum(weights * np.cumprod(x, axis=0))


def weighted_cumprod_along_rows(x, weights):
    return np.sum(weights * x.cumprod(-1))


def test_log_or_zero_keeps_python_floats():
    assert type(rt.log_or_zero(2.0)) is float and rt.log_or_zero(0.0) == 0.0 and math.isnan(rt.log_or_zero(-1.0))
    np.testing.assert_allclose(rt.log_or_zero(np.array([0.0, 1.0, np.e])), [0.0, 0.0, 1.0])


def test_as_grad_keeps_numpy_scalars_scalar():
    g = rt.as_grad(np.array(2.0, np.float32), np.float32(1.0))
    assert isinstance(g, np.float32)
    assert type(rt.as_grad(np.float64(2.0), 3)) is float


# -- the gradient checker itself ---------------------------------------------------------


def sqrt_fn(x):
    return np.sqrt(x)


def float32_pair(x, y):
    return x * y + np.sqrt(x)


def test_check_grad_rejects_nan():
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(adjoint.GradientMismatch):
        adjoint.check_grad(sqrt_fn, 0.0, modes=("reverse",))  # inf against NaN


def test_check_grad_float32_scalars_default_step():
    adjoint.check_grad(float32_pair, np.float32(1.3), np.float32(-0.4), wrt=(0, 1), modes=("reverse",))


def bilinear(x, A):
    return np.sum((x @ A) ** 2)


def test_check_grad_perturbs_a_transposed_argument():
    """A transposed (Fortran-ordered) argument was copied by `reshape(-1)`, so the finite
    differences perturbed the copy and came out zero: a false mismatch."""
    x, A = np.array([0.3, 1.5, -0.7]), np.array([[0.5, 2.0, -1.0], [1.5, 0.2, 0.7]]).T
    adjoint.check_grad(bilinear, x, A, wrt=(0, 1))
    np.testing.assert_allclose(numerical_grad(bilinear, [x, A], 1), 2 * np.outer(x, x @ A), rtol=1e-7)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b


def structured_loss(params, layers, x):
    h = np.tanh(x @ params["W"] + params["b"])
    for layer in layers:
        h = np.tanh(h @ layer.W + layer.b)
    return np.sum(h ** 2) * params["scale"]


def bisected_root(p):
    """sqrt(p["a"]) found by bisection: piecewise constant in `a`, so its derivative is 0 almost
    everywhere, while finite differences see the root move."""
    x = 1.0
    for i in range(40):
        if x * x > p["a"]:
            x = x - 0.5 ** (i + 1)
        else:
            x = x + 0.5 ** (i + 1)
    return x * p["a"] + np.sum(p["b"] ** 2)


def test_check_grad_takes_dicts_lists_and_objects():
    rng = np.random.default_rng(3)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4), "scale": 1.5, "name": "first"}
    layers = [Affine(rng.normal(size=(4, 4)), rng.normal(size=4)), Affine(rng.normal(size=(4, 2)), 0.1)]
    x = rng.normal(size=(5, 3))
    assert adjoint.check_grad(structured_loss, params, layers, x, wrt=(0, 1)) < 1e-7


def test_check_grad_names_the_leaf_of_a_structure_that_disagrees():
    params = {"a": 2.0, "b": np.array([1.0, -2.0])}
    with pytest.raises(adjoint.GradientMismatch, match=r"wrt 0\['a'\] is 1\.41421"):
        adjoint.check_grad(bisected_root, params, modes=("reverse",))


@adjoint.primitive
def cube_with_reverse_rule_only(x):
    return x ** 3


adjoint.defvjp(cube_with_reverse_rule_only, lambda g, ans, x: g * 3.0 * x ** 2)


def test_check_grad_takes_one_mode_as_a_string():
    """`modes="reverse"` is one mode (was read letter by letter: "unknown mode 'r'")."""
    assert adjoint.check_grad(cube_with_reverse_rule_only, 1.3, modes="reverse") < 1e-6
    with pytest.raises(adjoint.NoDerivativeRule):  # forward mode needs the jvp rule it has not got
        adjoint.check_grad(cube_with_reverse_rule_only, 1.3, modes="forward")
    with pytest.raises(adjoint.InvalidArgument, match="unknown mode 'sideways'"):
        adjoint.check_grad(cube_with_reverse_rule_only, 1.3, modes="sideways")
    with pytest.raises(adjoint.InvalidArgument, match="checks nothing"):
        adjoint.check_grad(cube_with_reverse_rule_only, 1.3, modes=())


def repeated_product(x, n):
    s = x
    for i in range(n):
        s = s * x
    return s * n


def counted_in_a_dict(x, sizes):
    total = 0.0
    for i in range(sizes["n"]):
        total = total + x * sizes["w"]
    return total


def test_check_grad_refuses_an_int_used_as_a_count_naming_it():
    """Finite differences make the int a float, which `range` refuses: an InvalidArgument saying the
    parameter is an int used as one (was a TypeError from `range`). An int used as a number is checked."""
    for wrt in (1, "n", (0, 1)):
        with pytest.raises(adjoint.InvalidArgument) as info:
            adjoint.check_grad(repeated_product, 1.1, 3, wrt=wrt)
        message = str(info.value)
        assert "`n` of repeated_product is the int 3" in message and "leave it out of wrt" in message, message
    assert adjoint.check_grad(repeated_product, 1.1, 3) < 1e-6
    with pytest.raises(adjoint.InvalidArgument, match="`sizes` of counted_in_a_dict holds an int"):
        adjoint.check_grad(counted_in_a_dict, 1.5, {"n": 3, "w": 2.0}, wrt=1)
    assert adjoint.check_grad(counted_in_a_dict, 1.5, {"n": 3, "w": 2.0}) < 1e-6


class Scaled:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, x, y):
        return self.scale * x * y ** 2


def test_check_grad_of_a_bound_method_reads_wrt_names_as_grad_does():
    """`self` is not a parameter (a name was looked up among the code's names, `self` included)."""
    loss = Scaled(2.0).loss
    assert adjoint.check_grad(loss, 1.5, 2.0, wrt="y") < 1e-6
    assert adjoint.check_grad(loss, 1.5, 2.0, wrt=("y", -2)) < 1e-6
    with pytest.raises(adjoint.InvalidArgument, match="no parameter 'self'"):
        adjoint.check_grad(loss, 1.5, 2.0, wrt="self")


def with_default(x, y=2.0):
    return x * y ** 2


def test_check_grad_wrt_a_parameter_left_to_its_default():
    assert adjoint.grad(with_default, wrt=1)(1.5) == pytest.approx(6.0)  # d(x y^2)/dy = 2 x y
    assert adjoint.check_grad(with_default, 1.5, wrt=1) < 1e-6
    assert adjoint.check_grad(Scaled(2.0).loss, 1.5, 2.0, wrt=(0, 1)) < 1e-6
