"""Second derivatives through loops whose backward sweep records arrays (tests/cases_second_order.py):
reverse over reverse (a gradient-norm penalty, `jacobian(grad(f), mode="reverse")`) and forward over
reverse (`hessian`, `hvp`), for `w` of shapes (), (3,) and (2, 3) and loops running 0, 1 and 3 trips,
against central differences of the function and of its gradient."""
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
