"""Forward mode, jvp/vjp/jacobian, comparing the modes, and higher derivatives."""
import math

import numpy as np
import pytest

import adjoint
from adjoint.check import numerical_jacobian

# -- functions under test ------------------------------------------------------


def power(a, b):
    return a ** b


def array_power(a, b):
    return np.sum(np.power(a, b))


def r3_to_r4(x):
    return np.array([x[0] * x[1], np.sin(x[2]), x[0] ** 2 + x[2], x[1] * x[2] * 3.0])


def r3_to_r4_jacobian(x):
    return np.array([
        [x[1], x[0], 0.0],
        [0.0, 0.0, math.cos(x[2])],
        [2 * x[0], 0.0, 1.0],
        [0.0, 3 * x[2], 3 * x[1]],
    ])


def matmul(X, W):
    return X @ W


def quadratic_form(x, A):
    return x @ A @ x


def smooth(x):
    return np.sum(np.exp(0.3 * x) * np.sin(x)) + np.prod(np.cos(x))


def loss(W):
    return np.sum(np.tanh(W) ** 2)


def gradient_penalty(W):
    return np.sum(adjoint.grad(loss)(W) ** 2)


def forward_gradient_penalty(W):
    return np.sum(adjoint.grad(loss, mode="forward")(W) ** 2)


def hvp_penalty(W, V):
    return np.sum(adjoint.hvp(loss)(W, V) ** 2)


def cubic(x):
    return x * x * x + math.sin(x)


def two_inputs(x, y):
    return np.sum(np.tanh(x) * y) + np.sum(y ** 2)


def tuple_output(x, y):
    return x * y, np.sin(x) + y


def wide(x):
    return np.sum(np.sin(x) ** 2)


def tall(a):
    return np.sin(a * np.arange(30.0))


X_FIG = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
W_FIG = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
G_FIG = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])

# -- the straight-line table in both modes -----------------------------------------

from cases_straight import CASES, solve_energy  # noqa: E402  (the table shared with the reverse-mode tests)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_forward_mode_agrees_with_reverse_and_finite_differences(case):
    adjoint.check_grad(case.fn, *case.args, wrt=case.wrt, modes=("forward",), **case.check)
    forward = adjoint.grad(case.fn, wrt=case.wrt, mode="forward")(*case.args)
    reverse = adjoint.grad(case.fn, wrt=case.wrt)(*case.args)
    for f, r in zip(forward if isinstance(case.wrt, tuple) else (forward,),
                    reverse if isinstance(case.wrt, tuple) else (reverse,)):
        assert np.shape(f) == np.shape(r)
        np.testing.assert_allclose(f, r, rtol=1e-4 if np.result_type(r) == np.float32 else 1e-10, atol=1e-6)


# -- the exponent of a ** b ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_power_wrt_exponent(mode):
    got = adjoint.grad(power, wrt=1, mode=mode)(2.0, 3.0)
    assert got == pytest.approx(8.0 * math.log(2.0), rel=1e-12)
    assert got != 0.0
    a = np.array([0.5, 1.5, 2.5])
    b = np.array([1.5, 2.0, 0.5])
    np.testing.assert_allclose(adjoint.grad(array_power, wrt=1, mode=mode)(a, b), a ** b * np.log(a), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_power_at_zero_base_has_finite_exponent_derivative(mode):
    assert adjoint.grad(power, wrt=1, mode=mode)(0.0, 2.0) == 0.0


# -- jvp / vjp / jacobian --------------------------------------------------------------


def test_jvp_is_value_and_directional_derivative():
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    value, tangent = adjoint.jvp(r3_to_r4)(x, v)
    np.testing.assert_allclose(value, r3_to_r4(x))
    np.testing.assert_allclose(tangent, r3_to_r4_jacobian(x) @ v, rtol=1e-12)


def test_jvp_with_tuple_wrt_takes_one_tangent_each():
    x, y = np.array([0.2, 0.4]), np.array([1.0, -2.0])
    vx, vy = np.array([1.0, 0.5]), np.array([-1.0, 3.0])
    value, tangent = adjoint.jvp(two_inputs, wrt=(0, 1))(x, y, vx, vy)
    expected = np.sum((1 - np.tanh(x) ** 2) * y * vx) + np.sum((np.tanh(x) + 2 * y) * vy)
    assert value == pytest.approx(two_inputs(x, y))
    assert tangent == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_r3_to_r4_against_hand_derivation(mode):
    x = np.array([0.3, -0.7, 1.1])
    J = adjoint.jacobian(r3_to_r4, mode=mode)(x)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(J, r3_to_r4_jacobian(x), rtol=1e-12, atol=1e-15)


def test_jacobian_modes_are_identical_and_shaped_out_by_in():
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    W = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    forward = adjoint.jacobian(matmul, wrt=(0, 1), mode="forward")(x, W)
    reverse = adjoint.jacobian(matmul, wrt=(0, 1), mode="reverse")(x, W)
    assert forward[0].shape == (2, 4, 2, 3) and forward[1].shape == (2, 4, 3, 4)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f, r, rtol=0, atol=1e-15)
    np.testing.assert_allclose(forward[0], numerical_jacobian(matmul, [x, W], 0), atol=1e-7)


def ramp_wave(a):
    return np.sin(a * np.arange(5.0))


def scaled_by_params(params, a):
    return np.sin(a * params["w"]) + params["b"]


def test_the_jacobian_of_a_number_is_one_pass_with_the_tangent_written_in():
    J = adjoint.jacobian(ramp_wave)  # mode "auto": one input, so forward mode
    for a in (0.3, 2):  # a float, then an int: each its own specialisation
        np.testing.assert_allclose(J(a), np.arange(5.0) * np.cos(a * np.arange(5.0)), rtol=1e-14)
        assert J(a).dtype == np.float64
    text = adjoint.source(J)
    assert "d_a" not in text and "1.0 *" not in text  # the seed folded away: no one-hot pass
    np.testing.assert_allclose(adjoint.jacobian(ramp_wave, mode="reverse")(0.3), J(0.3), rtol=1e-14)
    slope = adjoint.jacobian(half_cube)(2.0)
    assert slope == 6.0 and type(slope) is float  # 3 a^2 / 2


def half_cube(a):
    return a ** 3 / 2.0


def test_jacobians_wrt_a_number_next_to_a_dict_agree_in_both_modes():
    # forward mode used to return the value, not the derivative, when another argument was a dict
    params = {"w": np.array([0.0, 1.0, 2.0]), "b": np.ones(3)}
    expected = params["w"] * np.cos(0.3 * params["w"])
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(adjoint.jacobian(scaled_by_params, wrt=1, mode=mode)(params, 0.3), expected,
                                   rtol=1e-14)
    total = adjoint.grad(summed_by_params, wrt=1, mode="forward")(params, 0.3)
    assert total == pytest.approx(np.sum(expected), rel=1e-14)


def layer_of(params, x):
    return np.tanh(params["W"] @ x + params["b"])


class Affine:
    def __init__(self, w, b):
        self.w, self.b, self.name = w, b, "affine"


def affine_of(model, x):
    return model.w * x + model.b


def weighted_sum(ws, x):
    return ws[0] * x + ws[1] * x ** 2


def two_outputs_of(params, x):
    return params["W"] @ x, np.sum(params["b"] * x[:2])


PARAMS = {"W": np.linspace(-0.5, 0.5, 6).reshape(2, 3), "b": np.array([0.1, -0.2])}
X3 = np.array([0.3, -0.7, 1.1])


def by_differences_per_leaf(fn, structure, rest):
    """Central-difference Jacobians of `fn(structure, *rest)` wrt each leaf of a dict or list `structure`."""
    keys = structure.keys() if isinstance(structure, dict) else range(len(structure))

    def wrt_leaf(key):
        def moved(leaf):
            copy = dict(structure) if isinstance(structure, dict) else list(structure)
            copy[key] = leaf
            return fn(copy, *rest)
        return numerical_jacobian(moved, [structure[key]], 0)
    found = {key: wrt_leaf(key) for key in keys}
    return found if isinstance(structure, dict) else [found[k] for k in keys]


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_wrt_a_dict_list_or_object_has_its_structure_in_both_modes(mode):
    """A Jacobian wrt a structured argument is that structure of Jacobians, one per leaf shaped
    `output.shape + leaf.shape` (an object's as a dict, as grad gives it); reverse mode gave an
    object array of per-row dicts, forward mode refused."""
    J = adjoint.jacobian(layer_of, mode=mode)(PARAMS, X3)
    expected = by_differences_per_leaf(layer_of, PARAMS, (X3,))
    assert type(J) is dict and list(J) == ["W", "b"] and J["W"].shape == (2, 2, 3) and J["W"].dtype == np.float64
    for key in J:
        np.testing.assert_allclose(J[key], expected[key], rtol=1e-6, atol=1e-8)
    J_params, J_x = adjoint.jacobian(layer_of, wrt=(0, 1), mode=mode)(PARAMS, X3)
    np.testing.assert_allclose(J_params["b"], expected["b"], rtol=1e-6)
    np.testing.assert_allclose(J_x, numerical_jacobian(lambda x: layer_of(PARAMS, x), [X3], 0), rtol=1e-6)
    J = adjoint.jacobian(affine_of, mode=mode)(Affine(np.array([1.0, 2.0]), 0.5), np.array([3.0, -1.0]))
    assert list(J) == ["w", "b"]  # (the string attribute has no derivative: no entry)
    np.testing.assert_allclose(J["w"], np.diag([3.0, -1.0]))
    np.testing.assert_allclose(J["b"], [1.0, 1.0])
    ws = [np.array([0.5, -1.0]), 2.0]
    J = adjoint.jacobian(weighted_sum, mode=mode)(ws, np.array([3.0, -1.0]))
    expected = by_differences_per_leaf(weighted_sum, ws, (np.array([3.0, -1.0]),))
    assert type(J) is list and len(J) == 2
    for got, want in zip(J, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_forward_jacobian_of_a_tuple_output_wrt_a_dict_is_one_structure_per_output():
    (first, second) = adjoint.jacobian(two_outputs_of, mode="forward")(PARAMS, X3)
    np.testing.assert_allclose(first["W"], numerical_jacobian(lambda W: W @ X3, [PARAMS["W"]], 0), atol=1e-8)
    np.testing.assert_allclose(first["b"], np.zeros((2, 2)))
    np.testing.assert_allclose(second["b"], X3[:2])
    text = adjoint.source(adjoint.jacobian(two_outputs_of), PARAMS, X3)  # the passes, over the leaves
    assert "def column_two_outputs_of(params_W, params_b, x, d_params_W):" in text


def summed_by_params(params, a):
    return np.sum(scaled_by_params(params, a))


def test_reverse_jacobian_of_a_scalar_output_is_the_gradient_even_when_shapes_change():
    J = adjoint.jacobian(smooth, mode="reverse")
    grad = adjoint.grad(smooth)
    for x in (np.array([0.2, -0.4]), np.array([0.2, -0.4, 0.9]), np.array([1.5])):
        np.testing.assert_allclose(J(x), grad(x), rtol=1e-14)
    elementwise = adjoint.jacobian(tanh_of, mode="reverse")
    assert elementwise(np.array(0.3)) == pytest.approx(1 - np.tanh(0.3) ** 2)  # a 0-d array: a scalar output
    x = np.array([0.1, 0.5])  # the same argument types, an array output: the Jacobian, not a gradient
    np.testing.assert_allclose(elementwise(x), np.diag(1 - np.tanh(x) ** 2), rtol=1e-14)


def tanh_of(x):
    return np.tanh(x)


def test_forward_grad_of_a_number_runs_the_slope_and_shows_it():
    d = adjoint.grad(half_cube, mode="forward")
    assert d(2.0) == 6.0 and type(d(2.0)) is float
    text = adjoint.source(d)
    assert text == adjoint.source(d, 2.0) and "def derivative_half_cube(a)" in text and "d_a" not in text


def test_forward_grad_of_a_number_refuses_an_array_output():
    with pytest.raises(adjoint.NonScalarOutput, match="shape \\(5,\\)"):
        adjoint.grad(ramp_wave, mode="forward")(0.3)


def test_auto_mode_runs_the_function_once_per_argument_shapes_to_choose():
    J = adjoint.jacobian(r3_to_r4)
    x = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(J(x), r3_to_r4_jacobian(x), rtol=1e-12)
    assert J.modes == {((np.ndarray, (3,)),): "forward"}  # 3 inputs, 4 outputs
    J(x + 1.0)
    assert len(J.modes) == 1


def test_vjp_on_matrix_multiply_figures():
    value, (dX, dW) = adjoint.vjp(matmul, wrt=(0, 1))(X_FIG, W_FIG, G_FIG)
    np.testing.assert_allclose(value, X_FIG @ W_FIG)
    assert dX[0, 0] == 0.0
    assert dX[1, 2] == -30.0
    np.testing.assert_allclose(dX, G_FIG @ W_FIG.T)
    np.testing.assert_allclose(dW, X_FIG.T @ G_FIG)


def test_vjp_of_tuple_output_takes_tuple_cotangent():
    value, (gx, gy) = adjoint.vjp(tuple_output, wrt=(0, 1))(0.5, 2.0, (1.0, 10.0))
    assert value == pytest.approx(tuple_output(0.5, 2.0))
    assert gx == pytest.approx(2.0 + 10.0 * math.cos(0.5))
    assert gy == pytest.approx(0.5 + 10.0)


# -- higher order ----------------------------------------------------------------------


def test_hessian_of_quadratic_form_is_a_plus_a_transpose():
    A = np.array([[1.0, 2.0, 0.5], [-1.0, 3.0, 4.0], [0.0, 2.0, -2.0]])
    H = adjoint.hessian(quadratic_form)(np.array([0.1, 0.2, 0.3]), A)
    np.testing.assert_allclose(H, A + A.T, rtol=0, atol=1e-14)


def test_hvp_equals_hessian_times_vector():
    x = np.array([0.2, -0.4, 0.9, 1.3])
    v = np.array([1.0, -2.0, 0.5, 0.25])
    H = adjoint.hessian(smooth)(x)
    np.testing.assert_allclose(adjoint.hvp(smooth)(x, v), H @ v, rtol=1e-12)
    grad = adjoint.grad(smooth)
    np.testing.assert_allclose(H, numerical_jacobian(grad, [x], 0), atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def mixed(x, y):
    return np.sum(x * x) * y + np.sin(y)


def pair_of_outputs(x, y):
    return x * y, np.sum(x) * y * y


def test_hessian_wrt_several_arguments_is_a_tuple_of_blocks():
    """`hessian(f, wrt=(0, 1))[i][j]` is the block d2f / d arg_i d arg_j (the Jacobian of a
    gradient wrt two arguments: a function returning a tuple)."""
    x, y = np.array([1.0, 2.0]), 2.0
    (xx, xy), (yx, yy) = adjoint.hessian(mixed, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(xx, 2 * y * np.eye(2), rtol=0, atol=1e-14)  # by hand
    np.testing.assert_allclose(xy, 2 * x, rtol=0, atol=1e-14)
    np.testing.assert_allclose(yx, 2 * x, rtol=0, atol=1e-14)
    assert yy == pytest.approx(-np.sin(y), abs=1e-14) and isinstance(yy, float)


@pytest.mark.parametrize("mode", ["forward", "auto"])
def test_jacobian_of_a_tuple_output_is_one_per_output(mode):
    x, y = np.array([1.0, -2.0, 0.5]), 1.5
    (ax, ay), (bx, by) = adjoint.jacobian(pair_of_outputs, wrt=(0, 1), mode=mode)(x, y)
    np.testing.assert_allclose(ax, y * np.eye(3), rtol=0, atol=1e-14)
    np.testing.assert_allclose(ay, x, rtol=0, atol=1e-14)
    np.testing.assert_allclose(bx, np.full(3, y * y), rtol=0, atol=1e-14)
    assert by == pytest.approx(2 * np.sum(x) * y, abs=1e-14)
    first, second = adjoint.jacobian(pair_of_outputs, mode=mode)(x, y)
    np.testing.assert_allclose(first, ax)
    np.testing.assert_allclose(second, bx)


def test_jacobian_of_a_tuple_output_in_reverse_mode_says_to_use_forward():
    with pytest.raises(adjoint.InvalidArgument, match="mode='forward'"):
        adjoint.jacobian(pair_of_outputs, mode="reverse")(np.ones(2), 1.0)


def softmax_cross_entropy(X, labels):
    """The classifier's loss, with each row shifted by its maximum first (as written for stability)."""
    shifted = X - np.max(X, axis=1)[:, None]
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probabilities[np.arange(X.shape[0]), labels])


def softmax_cross_entropy_keepdims(X, labels):
    shifted = X - np.max(X, axis=1, keepdims=True)
    return np.mean(np.log(np.sum(np.exp(shifted), axis=1)) - shifted[np.arange(X.shape[0]), labels])


def maxpool_energy(x):
    """2x2 max pooling of a 4x4 image, then a smooth function of the pooled values."""
    pooled = np.max(np.max(np.reshape(x, (2, 2, 2, 2)), axis=3), axis=1)
    return np.sum(np.tanh(pooled) ** 2) + np.sum(x ** 3) / 10


def extremes(x):
    """max and min with and without an axis, keepdims, methods and the amax/amin spellings."""
    return (np.sum(np.max(x, axis=1) ** 2) + np.sum(np.min(x, -1) * x[:, 0])
            + np.sum(np.amax(x, 0, keepdims=True) * x) + np.amin(x) ** 3 + np.sum(x.max(axis=0) ** 3)
            + np.sum(x.min(1) * np.sin(x[:, 1])))


SOFTMAX_LOSSES = [softmax_cross_entropy, softmax_cross_entropy_keepdims]


def distinct_values(*shape, seed=5):
    """Values at least ~0.1 apart: each maximum and minimum is attained once."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(-2.0, 2.0, n) + rng.uniform(-0.02, 0.02, n)).reshape(shape)


@pytest.mark.parametrize("f", SOFTMAX_LOSSES + [extremes])
def test_max_and_min_along_an_axis_in_forward_mode(f):
    """The forward rule of np.max(x, axis=1) spread the number 1.0 over the reduced axis, which a
    number does not have (numpy's AxisError)."""
    X = distinct_values(4, 3)
    args = (X, np.array([0, 2, 1, 1])) if f in SOFTMAX_LOSSES else (X,)
    adjoint.check_grad(f, *args, modes=("forward", "reverse"))


@pytest.mark.parametrize("f", SOFTMAX_LOSSES)
def test_hessian_of_softmax_cross_entropy_is_the_derivative_of_its_gradient(f):
    X, labels = distinct_values(4, 3), np.array([0, 2, 1, 1])
    H = adjoint.hessian(f)(X, labels)
    expected = numerical_jacobian(adjoint.grad(f), [X, labels], 0)
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-8)
    # by hand: one row's block is (diag(p) - p p^T) / rows; rows do not mix
    shifted = np.exp(X - np.max(X, axis=1, keepdims=True))
    p = shifted / np.sum(shifted, axis=1, keepdims=True)
    for i in range(4):
        np.testing.assert_allclose(H[i, :, i, :], (np.diag(p[i]) - np.outer(p[i], p[i])) / 4, rtol=1e-10, atol=1e-14)
    V = distinct_values(4, 3, seed=6)
    np.testing.assert_allclose(adjoint.hvp(f)(X, labels, V), np.einsum("ijkl,kl->ij", H, V), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("f", [extremes, maxpool_energy])
def test_second_derivatives_through_max_and_min(f):
    """hessian (forward over reverse), hvp, and the gradient of a gradient in both modes, each against
    finite differences of the gradient."""
    x = distinct_values(4, 4)
    expected = numerical_jacobian(adjoint.grad(f), [x], 0).reshape(16, 16)
    np.testing.assert_allclose(adjoint.hessian(f)(x).reshape(16, 16), expected, rtol=1e-6, atol=1e-7)
    V = distinct_values(4, 4, seed=7)
    np.testing.assert_allclose(adjoint.hvp(f)(x, V).ravel(), expected @ V.ravel(), rtol=1e-6, atol=1e-7)
    gradient = adjoint.grad(f)

    def along_v(x):
        return np.sum(V * gradient(x))
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(adjoint.grad(along_v, mode=mode)(x).ravel(), expected.T @ V.ravel(),
                                   rtol=1e-6, atol=1e-7)


def summed_gram(A):
    return np.einsum('ij->', A @ A.T)


@pytest.mark.parametrize("second", ["hvp", "hessian", "reverse over reverse"])
def test_second_derivatives_of_a_one_operand_einsum(second):
    """einsum('ij->', A @ A.T) = sum_k (sum_i A[i, k])^2, so (H V)[i, k] = 2 sum_j V[j, k]. The tangent
    of a one-operand einsum's gradient was the number 0, which the matmul behind it refused."""
    A, V = np.arange(6.0).reshape(2, 3) / 10, np.array([[1.0, -2.0, 0.5], [0.3, 1.0, 2.0]])
    expected = np.broadcast_to(2 * np.sum(V, axis=0), (2, 3))
    if second == "hvp":
        result = adjoint.hvp(summed_gram)(A, V)
    else:
        H = adjoint.hessian(summed_gram)(A) if second == "hessian" else \
            adjoint.jacobian(adjoint.grad(summed_gram), mode="reverse")(A)
        result = np.tensordot(H, V, 2)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


SOLVE_SHAPES = [((3, 3), (3,)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 2)), ((2, 3, 3), (1, 3, 2)),
                ((3, 3), (2, 3, 2)), ((2, 1, 3, 3), (4, 3, 1))]


@pytest.mark.parametrize("a_shape, b_shape", SOLVE_SHAPES)
def test_hessian_of_a_batched_solve(a_shape, b_shape):
    """Each block of the Hessian of solve_energy (np.linalg.solve of a stack of matrices, with `b` a
    vector, a matrix or a stack broadcast against it) against finite differences of the gradient."""
    rng = np.random.default_rng(11)
    A, b = rng.normal(size=a_shape) + 3 * np.eye(3), rng.normal(size=b_shape)
    blocks = adjoint.hessian(solve_energy, wrt=(0, 1))(A, b)
    for i in range(2):
        gradient = adjoint.grad(solve_energy, wrt=i)
        for j in range(2):
            np.testing.assert_allclose(blocks[i][j], numerical_jacobian(gradient, [A, b], j), rtol=1e-6, atol=1e-7)


def distance_of_numbers(x, y):
    return math.dist([x, y], [1.0, 2.0])


def distance_between(p, q):
    return math.dist(p, q)


def distance_to_a_list(p, y):
    return math.dist(p, [y, 2.0 * y, 1.0])


def distance_hessian(p, q):
    """By hand: d2|p - q| / dp2 = (I - u u^T) / |p - q| for the unit vector u along p - q."""
    r = math.dist(p, q)
    u = (np.asarray(p) - np.asarray(q)) / r
    return (np.eye(len(u)) - np.outer(u, u)) / r


def test_second_derivatives_of_math_dist():
    """Its rules subtracted the points with np.subtract, which has no rule for a list of active numbers."""
    block = distance_hessian([0.3, -0.7], [1.0, 2.0])
    H = adjoint.hessian(distance_of_numbers, wrt=(0, 1))(0.3, -0.7)
    np.testing.assert_allclose(np.array(H), block, rtol=1e-12)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(adjoint.grad(adjoint.grad(distance_of_numbers), wrt=(0, 1), mode=mode)(0.3, -0.7),
                                   block[0], rtol=1e-12)
    p, q = np.array([0.3, -0.7, 1.2]), np.array([1.0, 2.0, -0.5])
    (pp, pq), (qp, qq) = adjoint.hessian(distance_between, wrt=(0, 1))(p, q)
    block = distance_hessian(p, q)
    for got, sign in ((pp, 1), (pq, -1), (qp, -1), (qq, 1)):
        np.testing.assert_allclose(got, sign * block, rtol=1e-12, atol=1e-15)
    y = 0.4
    (pp, py), (yp, yy) = adjoint.hessian(distance_to_a_list, wrt=(0, 1))(p, y)
    np.testing.assert_allclose(pp, distance_hessian(p, [y, 2 * y, 1.0]), rtol=1e-12, atol=1e-15)
    gradient = adjoint.grad(distance_to_a_list, wrt=(0, 1))
    np.testing.assert_allclose(py, numerical_jacobian(lambda p, y: gradient(p, y)[0], [p, y], 1), rtol=1e-6)
    assert yy == pytest.approx(float(numerical_jacobian(lambda p, y: gradient(p, y)[1], [p, y], 1)), rel=1e-6)


def pseudo_inverse_energy(A):
    P = np.linalg.pinv(A)
    return np.sum(np.sin(P) * P) + np.sum(P @ A)


@pytest.mark.parametrize("shape", [(3, 2), (2, 4), (2, 3, 2)])
def test_second_derivatives_of_the_pseudo_inverse(shape):
    """Its rules called pinv_vjp, which had no rule of its own: the Hessian of a tall, a wide and a
    stack of full-rank matrices against finite differences of the gradient, and reverse over reverse."""
    A = np.random.default_rng(12).normal(size=shape)
    n = A.size
    expected = numerical_jacobian(adjoint.grad(pseudo_inverse_energy), [A], 0).reshape(n, n)
    np.testing.assert_allclose(adjoint.hessian(pseudo_inverse_energy)(A).reshape(n, n), expected, rtol=1e-6, atol=1e-7)
    V = np.random.default_rng(13).normal(size=shape)
    gradient = adjoint.grad(pseudo_inverse_energy)

    def along_v(A):
        return np.sum(V * gradient(A))
    np.testing.assert_allclose(adjoint.grad(along_v)(A).ravel(), expected.T @ V.ravel(), rtol=1e-6, atol=1e-7)


def spectral_norm_energy(A):
    return np.linalg.norm(A, 2) * np.sum(A)


def smallest_singular_value_squared(A):
    return np.linalg.norm(A, -2) ** 2


def nuclear_norm_energy(A):
    return np.linalg.norm(A, "nuc") * np.sum(A ** 2)


def norms_of_a_stack(A):
    """Matrix norms of the slices A[:, j, :], their axes given (and kept)."""
    return (np.sum(np.linalg.norm(A, "nuc", axis=(0, 2)) ** 2) + np.sum(np.linalg.norm(A, 2, axis=(2, 0), keepdims=True) * A)
            + np.sum(np.linalg.norm(A, 1, axis=(0, 2)) ** 2) + np.sum(np.linalg.norm(A, -np.inf, axis=(0, 2)) * A[0, :, 0]))


MATRIX_NORM_CASES = [(spectral_norm_energy, (3, 3)), (spectral_norm_energy, (3, 2)), (spectral_norm_energy, (2, 4)),
                     (smallest_singular_value_squared, (3, 3)), (smallest_singular_value_squared, (4, 2)),
                     (nuclear_norm_energy, (3, 3)), (nuclear_norm_energy, (2, 4)), (norms_of_a_stack, (3, 2, 4))]


@pytest.mark.parametrize("f, shape", MATRIX_NORM_CASES, ids=[f"{f.__name__}-{shape}" for f, shape in MATRIX_NORM_CASES])
def test_second_derivatives_of_matrix_norms(f, shape):
    """The 2-norm, -2 and nuclear norms (from the singular value decomposition) and the piecewise-linear
    1 and inf norms raised a bare NotImplementedError at second order: their Hessians against finite
    differences of the gradient, symmetric, and reverse over reverse."""
    A = np.random.default_rng(14).normal(size=shape)
    n = A.size
    expected = numerical_jacobian(adjoint.grad(f), [A], 0).reshape(n, n)
    H = adjoint.hessian(f)(A).reshape(n, n)
    np.testing.assert_allclose(H, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12)
    V = np.random.default_rng(15).normal(size=shape)
    gradient = adjoint.grad(f)

    def along_v(A):
        return np.sum(V * gradient(A))
    np.testing.assert_allclose(adjoint.grad(along_v)(A).ravel(), expected.T @ V.ravel(), rtol=1e-6, atol=1e-7)


def test_hessian_of_the_nuclear_norm_by_hand():
    """At a diagonal matrix with singular values s, the nuclear norm's Hessian takes the direction E to
    the matrix (E_jk - E_kj) / (s_j + s_k) off the diagonal and 0 on it."""
    s = np.array([3.0, 2.0, 0.5])
    E = np.random.default_rng(16).normal(size=(3, 3))
    expected = (E - E.T) / (s[:, None] + s[None, :])
    np.testing.assert_allclose(adjoint.hvp(nuclear_norm)(np.diag(s), E), expected, rtol=1e-12, atol=1e-15)


def nuclear_norm(A):
    return np.linalg.norm(A, "nuc")


def test_second_derivative_by_composition():
    d2 = adjoint.grad(adjoint.grad(cubic))
    assert d2(0.7) == pytest.approx(6 * 0.7 - math.sin(0.7), rel=1e-12)
    assert "for " not in adjoint.source(d2) and "while" not in adjoint.source(d2)


def test_gradient_norm_penalty_differentiates():
    W = np.array([[0.1, -0.3, 0.7], [0.5, 0.2, -0.9]])
    adjoint.check_grad(gradient_penalty, W)
    dL = 2 * np.tanh(W) * (1 - np.tanh(W) ** 2)
    assert gradient_penalty(W) == pytest.approx(np.sum(dL ** 2))


def test_a_forward_mode_gradient_and_an_hvp_inside_a_differentiated_function():
    W = np.array([[0.1, -0.3, 0.7], [0.5, 0.2, -0.9]])
    V = np.array([[1.0, 0.5, -0.2], [0.3, -0.7, 0.4]])
    assert adjoint.check_grad(forward_gradient_penalty, W) < 1e-6  # differentiated as reverse-mode code
    assert np.allclose(adjoint.grad(forward_gradient_penalty)(W), adjoint.grad(gradient_penalty)(W), rtol=1e-12)
    assert adjoint.check_grad(hvp_penalty, W, V, wrt=(0, 1)) < 1e-6


# -- compare ------------------------------------------------------------------------------


def test_compare_reports_both_modes_and_the_expected_winner():
    report = adjoint.compare(wide, np.linspace(0.0, 1.0, 60), budget=0.05)
    assert report.modes["forward"].passes == 60 and report.modes["reverse"].passes == 1
    assert report.mode_difference < 1e-12 and report.fd_error < 1e-6
    assert report.faster == "reverse"
    text = str(report)
    assert "forward" in text and "reverse" in text and "passes" in text
    data = report.as_dict()
    assert data["modes"]["reverse"]["passes"] == 1 and data["inputs"] == 60 and data["outputs"] == 1

    report = adjoint.compare(tall, 0.3, budget=0.05)
    assert report.modes["forward"].passes == 1 and report.modes["reverse"].passes == 30
    assert report.faster == "forward"


# -- the generated tangent code ---------------------------------------------------------------


def test_tangent_code_is_flat_readable_and_deterministic():
    first = adjoint.source(adjoint.jvp(two_inputs, wrt=(0, 1)))
    again = adjoint.source(adjoint.jvp(two_inputs, wrt=(0, 1)))
    assert first == again
    assert "def jvp_two_inputs(x, y, d_x, d_y):" in first
    assert "for " not in first and "while " not in first and "append" not in first
    compile(first, "<tangent>", "exec")


def scalar_for_long_inputs(x):
    if x.shape[0] > 2:
        return np.sum(x ** 2)
    return x ** 2


def test_a_jacobian_remembers_its_shortcut_only_while_the_output_stays_a_scalar():
    """A reverse-mode Jacobian of a scalar output answers with the gradient next time; an output of
    another shape from arguments of the same types goes back to one pass per output element."""
    jacobian = adjoint.jacobian(scalar_for_long_inputs, mode="reverse")
    long, short = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0])
    np.testing.assert_allclose(jacobian(long), 2 * long)
    np.testing.assert_allclose(jacobian(long), 2 * long)
    np.testing.assert_allclose(jacobian(short), np.diag(2 * short))
    np.testing.assert_allclose(jacobian(long), 2 * long)
    forward = adjoint.jacobian(cubic, mode="forward")
    assert forward(0.7) == pytest.approx(3 * 0.7 ** 2 + math.cos(0.7)) == forward(0.7)
