"""Second derivatives through loops whose backward sweep records arrays (tests/cases_second_order.py):
reverse over reverse (a gradient-norm penalty, `jacobian(grad(f), mode="reverse")`) and forward over
reverse (`hessian`, `hvp`), for `w` of shapes (), (3,) and (2, 3) and loops running 0, 1 and 3 trips,
against central differences of the function and of its gradient."""
import math

import numpy as np
import pytest

import adjoint
import cases_second_order as cases

SHAPES = ((), (3,), (2, 3))
TRIPS = (0, 1, 3)
CASES = [(loss, shape, trips) for loss in cases.PENALTIES for shape in SHAPES for trips in TRIPS]
IDS = [f"{loss.__name__}-{shape}-{trips}" for loss, shape, trips in CASES]


def arguments(loss, shape, trips):
    """(w, the loop's rows or trip count) for a loss of cases_second_order."""
    rng = np.random.default_rng(10 * len(shape) + trips)
    w = rng.uniform(-0.9, 0.9, shape)
    w = float(w) if shape == () else w
    return w, (rng.uniform(-1, 1, (trips,) + shape) if loss is cases.loss_over_rows else trips)


@pytest.mark.parametrize("loss, shape, trips", CASES, ids=IDS)
def test_gradient_norm_penalty_through_a_loop_recording_arrays(loss, shape, trips):
    """grad of a function calling grad: the inner backward sweep pops arrays off its tape (down to
    an empty tape, whose cotangent must still have the rows' shape), and the outer one reverses that."""
    adjoint.check_grad(cases.PENALTIES[loss], *arguments(loss, shape, trips))


@pytest.mark.parametrize("loss, shape, trips", CASES, ids=IDS)
def test_hessians_through_a_loop_recording_arrays(loss, shape, trips):
    """Reverse over reverse, forward over reverse and hvp agree with differences of the gradient."""
    w, data = arguments(loss, shape, trips)
    expected = cases.hessian_by_differences(loss, w, data)
    for H in (adjoint.hessian(loss)(w, data), adjoint.jacobian(adjoint.grad(loss), mode="reverse")(w, data)):
        np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-6)
    v = np.linspace(0.5, 1.5, np.size(w)).reshape(shape)
    hv = adjoint.hvp(loss)(w, data, float(v) if shape == () else v)
    np.testing.assert_allclose(hv, np.tensordot(expected, v, axes=len(shape)), rtol=1e-5, atol=1e-6)


def test_a_tape_of_arrays_that_change_shape_differentiates_forward_over_reverse():
    w = np.array([0.3, -0.5])
    for trips in TRIPS:
        expected = cases.hessian_by_differences(cases.loss_growing, w, trips)
        np.testing.assert_allclose(adjoint.hessian(cases.loss_growing)(w, trips), expected, rtol=1e-5, atol=1e-6)


def test_a_tape_of_arrays_that_change_shape_is_refused_reverse_over_reverse():
    """Reverse mode stacks a list's cotangents, so the tape's items must have one shape: a clear
    error naming what works instead (was numpy's "could not broadcast")."""
    w = np.array([0.3, -0.5])
    adjoint.check_grad(cases.penalty_growing, w, 1, modes=("reverse",))  # one trip: one shape, fine
    with pytest.raises(adjoint.UnsupportedSyntax, match=r"items differ in shape \(here \(2,\) and \(3,\)\)"
                                                        r"(.|\n)*adjoint.hessian or adjoint.hvp"):
        adjoint.grad(cases.penalty_growing)(w, 3)


def squared_sums_of_unequal_pieces(x):
    return sum(np.sum(p) ** 2 for p in np.array_split(x, 3))


def mixed_unequal_pieces(x):
    a, b, c = np.array_split(x, 3)
    return np.sum(a * a) * np.sum(b) + np.sum(np.sin(c)) ** 2


@pytest.mark.parametrize("second", ["hessian", "hvp", "forward over reverse", "reverse over reverse"])
def test_second_derivatives_through_pieces_of_different_shapes(second):
    """np.array_split(x, 3) of 4 elements gives pieces of 2, 1 and 1: the tangent of their adjoints
    (one per piece, a ragged tuple) was broadcast as one array (numpy's "inhomogeneous shape")."""
    x = np.array([0.5, -1.0, 1.5, 2.0])
    by_hand = np.array([[2.0, 2, 0, 0], [2, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 2]])  # (x0 + x1)^2 + x2^2 + x3^2
    gradient = adjoint.grad(mixed_unequal_pieces)
    by_differences = np.array([(gradient(x + 1e-6 * e) - gradient(x - 1e-6 * e)) / 2e-6 for e in np.eye(4)])
    for f, expected in ((squared_sums_of_unequal_pieces, by_hand), (mixed_unequal_pieces, by_differences)):
        if second == "hvp":
            v = np.array([1.0, -0.5, 2.0, 0.3])
            np.testing.assert_allclose(adjoint.hvp(f)(x, v), expected @ v, rtol=1e-6, atol=1e-8)
            continue
        H = adjoint.hessian(f)(x) if second == "hessian" else \
            adjoint.jacobian(adjoint.grad(f), mode=second.split()[0])(x)
        np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-8)


# -- x ** n at x = 0, up to and past the order where the derivatives end ---------------------------

SCALE = np.array([1.0, 2.0, 3.0])


def cube(x):
    return x ** 3


def power_of(x, n):
    return x ** n


def numpy_power_of(x, n):
    return np.sum(np.power(x * SCALE, n))


def math_power_of(x):
    return math.pow(x, 2)


def first_power_of_scaled(x):
    return np.sum((x * SCALE) ** 1)


def nth_derivative(f, order, wrt=0):
    for _ in range(order):
        f = adjoint.grad(f, wrt=wrt)
    return f


def power_derivative(n, order, x):
    """d^order/dx^order x^n, by hand."""
    return math.perm(n, order) * x ** (n - order) if order <= n else 0.0


@pytest.mark.parametrize("x", [0.0, 0.5])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_derivatives_of_a_power_end_at_zero_not_nan(order, x):
    """pow's slope `n * x ** (n - 1)`, differentiated past order n, read `0 * x ** -1`: nan (an
    error for Python floats) at x = 0, where every one of them is 0. Constant and run-time exponents."""
    assert nth_derivative(cube, order)(x) == pytest.approx(power_derivative(3, order, x), abs=1e-12)
    for n in (0, 1, 2):
        assert nth_derivative(power_of, order)(x, n) == pytest.approx(power_derivative(n, order, x), abs=1e-12)
        expected = power_derivative(n, order, x) * np.sum(SCALE ** n)
        assert nth_derivative(numpy_power_of, order)(x, n) == pytest.approx(expected, abs=1e-12)
    assert nth_derivative(math_power_of, order)(x) == pytest.approx(power_derivative(2, order, x), abs=1e-12)


def test_hessian_of_a_first_power_at_zero():
    assert adjoint.hessian(first_power_of_scaled)(0.0) == 0.0
    assert adjoint.hvp(first_power_of_scaled)(0.0, 1.0) == 0.0
    assert adjoint.grad(power_of, wrt=0, mode="forward")(0.0, 0) == 0.0


def float_power(x, y):
    return x ** y


def test_derivatives_of_a_power_in_base_and_exponent():
    """By hand: x ** y differentiated in x and y, to the third order."""
    x, y = 1.5, 2.5
    log = math.log(x)
    H = adjoint.jacobian(adjoint.grad(float_power, wrt=(0, 1)), wrt=(0, 1))(x, y)
    np.testing.assert_allclose(H, [[y * (y - 1) * x ** (y - 2), x ** (y - 1) * (1 + y * log)],
                                   [x ** (y - 1) * (1 + y * log), x ** y * log ** 2]], rtol=1e-12)
    xxy = adjoint.grad(adjoint.grad(adjoint.grad(float_power, wrt=1), wrt=0), wrt=0)(x, y)
    assert xxy == pytest.approx(x ** (y - 2) * (2 * y - 1 + y * (y - 1) * log), rel=1e-12)
    xyy = adjoint.grad(adjoint.grad(adjoint.grad(float_power, wrt=0), wrt=1), wrt=1)(x, y)
    assert xyy == pytest.approx(x ** (y - 1) * (y * log ** 2 + 2 * log), rel=1e-12)


# -- the cotangent of a popped list, row by row -----------------------------------------------

def test_the_cotangent_of_a_popped_list_grows_a_row_a_trip():
    """grad of a gradient: the inner backward sweep pops its tape, so the outer one builds the tape's
    cotangent an item a trip. It writes one row into a buffer (pushed_cotangent), where the sum of two
    stacks of zeros the tape's length made the loop quadratic in its trips."""
    penalty = cases.PENALTIES[cases.loss_over_range]
    gradient = adjoint.grad(penalty)
    w = np.array([0.3, -0.5, 0.8])
    gradient(w, 4)
    text = adjoint.source(gradient)
    assert "pushed_cotangent(" in text and "last_cotangent(" not in text
    for trips in (0, 1, 4):
        adjoint.check_grad(penalty, w, trips)


def test_pushed_cotangent_keeps_every_version_it_handed_out():
    storage = [np.ones(2), 2 * np.ones(2), 3 * np.ones(2)]  # versions of a list, as the loop popped them
    xs = [adjoint.runtime.ListValue(storage, n) for n in (1, 2, 3)]
    one = adjoint.runtime.pushed_cotangent(np.zeros((0, 2)), np.array([1.0, 1.0]), xs[0])
    two = adjoint.runtime.pushed_cotangent(one, np.array([2.0, 2.0]), xs[1])
    three = adjoint.runtime.pushed_cotangent(two, np.array([3.0, 3.0]), xs[2])
    assert one.base is two.base is three.base  # the newest version grew into the rows after it
    other = adjoint.runtime.pushed_cotangent(two, np.array([-3.0, -3.0]), xs[2])  # not the newest: a copy
    assert other.base is not three.base
    np.testing.assert_array_equal(one, [[1, 1]])
    np.testing.assert_array_equal(two, [[1, 1], [2, 2]])
    np.testing.assert_array_equal(three, [[1, 1], [2, 2], [3, 3]])
    np.testing.assert_array_equal(other, [[1, 1], [2, 2], [-3, -3]])
