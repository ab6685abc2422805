"""Numerical conventions (docs/api.md, "Numerical conventions"): what the gradient is at a
non-smooth point, and the type a gradient comes back in. Each holds in both modes."""
import math

import numpy as np
import pytest

import adjoint

MODES = ["reverse", "forward"]


def absolute(x):
    return abs(x)


def summed_abs(x):
    return np.sum(np.abs(x))


def relu(x):
    return np.sum(np.maximum(x, 0.0))


def larger(a, b):
    return max(a, b)


def smaller(a, b):
    return min(a, b)


def largest(x):
    return np.max(x)


def smallest(x):
    return np.min(x)


def clipped(x):
    return np.sum(np.clip(x, -1.0, 1.0))


def square(x):
    return x * x


def root(x):
    return math.sqrt(x)


def summed_root(x):
    return np.sum(np.sqrt(x))


@pytest.mark.parametrize("mode", MODES)
def test_abs_has_slope_zero_at_zero(mode):
    assert adjoint.grad(absolute, mode=mode)(0.0) == 0.0
    np.testing.assert_array_equal(adjoint.grad(summed_abs, mode=mode)(np.array([0.0, 2.0, -2.0])), [0, 1, -1])


@pytest.mark.parametrize("mode", MODES)
def test_ties_go_to_the_first_argument(mode):
    # np.maximum(x, 0) at 0 is a tie: the slope of x, 1 (PyTorch and JAX's relu give 0 there)
    np.testing.assert_array_equal(adjoint.grad(relu, mode=mode)(np.array([0.0, 1.0, -1.0])), [1, 1, 0])
    assert adjoint.grad(larger, wrt=(0, 1), mode=mode)(1.0, 1.0) == (1.0, 0.0)
    assert adjoint.grad(smaller, wrt=(0, 1), mode=mode)(1.0, 1.0) == (1.0, 0.0)


@pytest.mark.parametrize("mode", MODES)
def test_reductions_share_the_gradient_among_tied_elements(mode):
    np.testing.assert_array_equal(adjoint.grad(largest, mode=mode)(np.array([1.0, 3.0, 3.0])), [0, 0.5, 0.5])
    np.testing.assert_array_equal(adjoint.grad(smallest, mode=mode)(np.array([1.0, 1.0, 3.0])), [0.5, 0.5, 0])


@pytest.mark.parametrize("mode", MODES)
def test_clip_passes_the_gradient_at_its_bounds(mode):
    np.testing.assert_array_equal(adjoint.grad(clipped, mode=mode)(np.array([-1.0, 1.0, 0.0, 2.0, -3.0])),
                                  [1, 1, 1, 0, 0])


def clipped_between(x, low, high):
    return np.sum(np.clip(x, low, high) * np.array([1.0, 2.0, 3.0, 4.0]))


def clipped_above(x, high):
    return np.clip(x, None, high) * 2.0


@pytest.mark.parametrize("mode", MODES)
def test_clip_with_crossed_bounds_follows_numpy(mode):
    """np.clip is minimum(maximum(x, low), high): where low > high it returns high, whose gradient
    that is (it went to low). A tie between low and high with x below goes to low, as before."""
    x, low, high = np.array([0.0, 0.0, 2.0, 0.5]), np.array([1.0, -1.0, 1.0, 1.0]), np.array([0.5, 1.0, 0.5, 1.0])
    assert np.array_equal(np.clip(x, low, high), [0.5, 0.0, 0.5, 1.0])
    gradients = adjoint.grad(clipped_between, wrt=(0, 1, 2), mode=mode)(x, low, high)
    for gradient, expected in zip(gradients, ([0, 2, 0, 0], [0, 0, 0, 4], [1, 0, 3, 0])):
        np.testing.assert_array_equal(gradient, expected)
    untied = high + np.array([0.0, 0.0, 0.0, 0.5])  # (away from the tie, finite differences see one side)
    assert adjoint.check_grad(clipped_between, x + 0.1, low, untied, wrt=(0, 1, 2), modes=(mode,)) < 1e-6
    assert adjoint.grad(clipped_above, wrt=(0, 1), mode=mode)(0.3, 0.5) == (2.0, 0.0)
    assert adjoint.grad(clipped_above, wrt=(0, 1), mode=mode)(0.7, 0.5) == (0.0, 2.0)


@pytest.mark.parametrize("mode", MODES)
def test_an_infinite_slope_is_inf_for_numpy_and_zero_division_for_python_floats(mode):
    with np.errstate(divide="ignore", invalid="ignore"):
        gradient = adjoint.grad(summed_root, mode=mode)(np.array([0.0, 4.0]))
    # forward mode pushes a one-hot tangent through the infinite slope: inf * 0 is nan elsewhere
    np.testing.assert_array_equal(gradient, [np.inf, 0.25] if mode == "reverse" else [np.inf, np.nan])
    with pytest.raises(ZeroDivisionError):   # Python's own float arithmetic, as `1 / 0.0` would
        adjoint.grad(root, mode=mode)(0.0)


@pytest.mark.parametrize("mode", MODES)
def test_integer_inputs_get_float_gradients(mode):
    gradient = adjoint.grad(square, mode=mode)(3)
    assert gradient == 6.0 and type(gradient) is float
    gradient = adjoint.grad(summed_abs, mode=mode)(np.array([1, -2]))
    assert gradient.dtype == np.float64
    np.testing.assert_array_equal(gradient, [1, -1])


@pytest.mark.parametrize("mode", MODES)
def test_float32_stays_float32(mode):
    gradient = adjoint.grad(summed_abs, mode=mode)(np.array([1, -2], dtype=np.float32))
    assert gradient.dtype == np.float32
    gradient = adjoint.grad(square, mode=mode)(np.float32(2.0))
    assert type(gradient) is np.float32 and gradient == 4.0


def squared_modulus(z):
    return np.sum(np.abs(z) ** 2)


def rotated(x):
    return np.sum(np.abs(x * (1.0 + 2.0j)) ** 2)


def turned(x):
    return x * 1j


def scalar_square(x):
    return x * x


Z = np.array([1.0 + 2.0j, -0.5 + 0.3j])
X = np.array([1.0, 2.0])


@pytest.mark.parametrize("derivative, what", [
    (lambda: adjoint.grad(squared_modulus)(Z), "is complex"),
    (lambda: adjoint.grad(squared_modulus, mode="forward")(Z), "is complex"),
    (lambda: adjoint.check_grad(squared_modulus, Z), "is complex"),
    (lambda: adjoint.jvp(squared_modulus)(Z, np.ones(2)), "z is complex"),
    (lambda: adjoint.vjp(squared_modulus)(Z, 1.0), "is complex"),
    (lambda: adjoint.hessian(squared_modulus)(Z), "is complex"),
    (lambda: adjoint.hvp(squared_modulus)(Z, np.ones(2)), "z is complex"),
    (lambda: adjoint.jacobian(squared_modulus, mode="reverse")(Z), "is complex"),
    (lambda: adjoint.grad(scalar_square)(1.0 + 2.0j), "is complex"),
    (lambda: adjoint.grad(scalar_square, mode="forward")(1.0 + 2.0j), "is complex"),
    (lambda: adjoint.grad(rotated)(X), "a value the derivative went through is complex"),
    (lambda: adjoint.grad(rotated, mode="forward")(X), "a value the derivative went through is complex"),
    (lambda: adjoint.check_grad(rotated, X), "a value the derivative went through is complex"),
    (lambda: adjoint.vjp(turned)(X, np.ones(2)), "the output is complex"),
    (lambda: adjoint.jacobian(turned)(X), "output is complex"),
    (lambda: adjoint.jvp(scalar_square)(X, 1j * np.ones(2)), "`d_x` is complex"),
    (lambda: adjoint.vjp(scalar_square)(X, 1j * np.ones(2)), "`cotangent` is complex"),
], ids=["grad", "grad forward", "check_grad", "jvp", "vjp", "hessian", "hvp", "jacobian", "number", "number forward",
        "complex constant", "complex constant forward", "check_grad of a complex constant", "complex output",
        "jacobian of a complex output", "complex tangent", "complex cotangent"])
def test_complex_numbers_are_refused(derivative, what):
    """The rules are those of real functions (no conjugates): the modes disagreed on complex inputs,
    and check_grad cast them to float. Every transform refuses them, and complex values on the way."""
    with pytest.raises(adjoint.InvalidArgument, match=what + r" \(complex(64|128)\)(.|\n)*real and imaginary parts"):
        derivative()


def piecewise(x):
    return np.sum(np.where(x < 0.5, x ** 2, np.sqrt(x - 1.0)))


def safe_piecewise(x):
    inside = x < 0.5
    return np.sum(np.where(inside, x ** 2, np.sqrt(np.where(inside, 1.0, x - 1.0))))


def test_the_double_where_trap_and_its_documented_fix():
    """docs/troubleshooting.md: the branch np.where does not pick is nan at 0.2, and reverse mode
    multiplies its zero cotangent by that branch's nan slope; computed on a safe input, both modes
    give 2 x below 0.5 and 1 / (2 sqrt(x - 1)) above it (second derivatives too: 2 and -1 / (4 (x - 1)^1.5))."""
    x = np.array([0.2, 2.0, 0.4, 5.0])
    expected = np.where(x < 0.5, 2 * x, 0.5 / np.sqrt(np.abs(x - 1.0)))
    with np.errstate(all="ignore"):
        assert np.isnan(adjoint.grad(piecewise)(x)[0])
        np.testing.assert_allclose(adjoint.grad(piecewise, mode="forward")(x), expected, rtol=1e-12)
    for mode in MODES:
        np.testing.assert_allclose(adjoint.grad(safe_piecewise, mode=mode)(x), expected, rtol=1e-12)
    curvature = np.where(x < 0.5, 2.0, -0.25 / np.abs(x - 1.0) ** 1.5)
    np.testing.assert_allclose(adjoint.hessian(safe_piecewise)(x), np.diag(curvature), rtol=1e-12, atol=1e-15)
    adjoint.check_grad(safe_piecewise, x)
