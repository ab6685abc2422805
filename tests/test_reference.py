"""The reference figures of DESIGN.md, exactly, and the gradient patterns every suite pins down:
add distributes, multiply swaps, max routes to the winner, fan-out sums."""
import ast
import math

import numpy as np
import pytest

import adjoint
from adjoint import runtime


# -- (x + y) * z ---------------------------------------------------------------

def add_mul(x, y, z):
    q = x + y
    f = q * z
    return f


def test_add_mul_value_and_gradients():
    value, grads = adjoint.value_and_grad(add_mul, wrt=(0, 1, 2))(-2.0, 5.0, -4.0)
    assert value == -12.0
    assert grads == (-4.0, -4.0, 3.0)
    assert all(type(g) is float for g in grads)


def test_add_mul_grad_alone():
    assert adjoint.grad(add_mul, wrt=("x", "y", "z"))(-2.0, 5.0, -4.0) == (-4.0, -4.0, 3.0)


# -- the sigmoid neuron -------------------------------------------------------

def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = sigmoid(s3)
    return L


NEURON_ARGS = (2.0, -1.0, -3.0, -2.0, -3.0)
NEURON_WRT = ("w0", "x0", "w1", "x1", "w2")


def neuron_by_hand(w0, x0, w1, x1, w2):
    """The lecture's hand derivation: dL/ds3 = (1 - L) L, then the add and multiply gates."""
    s3 = w0 * x0 + w1 * x1 + w2
    L = 1.0 / (1.0 + math.exp(-s3))
    grad_s3 = (1 - L) * L
    return L, (grad_s3 * x0, grad_s3 * w0, grad_s3 * x1, grad_s3 * w1, grad_s3)


def test_neuron_value_and_gradients_to_two_decimals():
    value, grads = adjoint.value_and_grad(neuron, wrt=NEURON_WRT)(*NEURON_ARGS)
    assert round(value, 2) == 0.73
    assert [round(g, 2) for g in grads] == [-0.20, 0.39, -0.39, -0.59, 0.20]


def test_neuron_matches_hand_derivation():
    value, grads = adjoint.value_and_grad(neuron, wrt=NEURON_WRT)(*NEURON_ARGS)
    hand_value, hand_grads = neuron_by_hand(*NEURON_ARGS)
    assert value == pytest.approx(hand_value, abs=1e-12)
    assert len(grads) == 5
    for got, expected in zip(grads, hand_grads):
        assert got == pytest.approx(expected, abs=1e-12)


def test_neuron_source_is_flat():
    """The generated gradient reads like the hand-written one: no loop, no stack, no helper."""
    d_neuron = adjoint.grad(neuron, wrt=NEURON_WRT)
    d_neuron(*NEURON_ARGS)
    text = adjoint.source(d_neuron, *NEURON_ARGS)
    tree = ast.parse(text)
    loops = [node for node in ast.walk(tree) if isinstance(node, (ast.For, ast.While, ast.comprehension))]
    assert not loops, text
    containers = [node for node in ast.walk(tree) if isinstance(node, (ast.List, ast.ListComp))]
    assert not containers, text
    for word in ("append", "pop", "stack", "[]"):
        assert word not in text, text
    helpers = {name for name in dir(runtime) if not name.startswith("_") and callable(getattr(runtime, name))}
    assert "as_grad" in helpers and "unbroadcast" in helpers  # the set is what we think it is
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & helpers, text
    named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not named & helpers, text
    # the inlined sigmoid is there, and the primal is computed once
    assert "math.exp" in text
    assert text.count("math.exp") == 1, text


# -- ReLU ----------------------------------------------------------------------

RELU_X = np.array([1.0, -2.0, 3.0, -1.0])
RELU_G = np.array([4.0, -1.0, 5.0, 9.0])
RELU_EXPECTED = np.array([4.0, 0.0, 5.0, 0.0])


def relu(x):
    return np.maximum(x, 0)


def relu_loss(x, G):
    return np.sum(relu(x) * G)


def test_relu_through_scalar_loss():
    g = adjoint.grad(relu_loss)(RELU_X, RELU_G)
    assert isinstance(g, np.ndarray) and g.dtype == np.float64
    np.testing.assert_array_equal(g, RELU_EXPECTED)


def test_relu_through_vjp():
    value, g = adjoint.vjp(relu)(RELU_X, RELU_G)
    np.testing.assert_array_equal(value, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(g, RELU_EXPECTED)


def test_relu_vjp_forms_no_jacobian():
    """Downstream gradient without a Jacobian: the source has no 4x4 (or any 2-d) intermediate."""
    vjp = adjoint.vjp(relu)
    vjp(RELU_X, RELU_G)
    text = adjoint.source(vjp, RELU_X, RELU_G)
    for word in ("eye", "outer", "diag", "jacobian", "@", "dot"):
        assert word not in text, text


# -- matmul --------------------------------------------------------------------

MM_X = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
MM_W = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
MM_G = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])


def matmul_loss(X, W, G):
    return np.sum((X @ W) * G)


def matmul(X, W):
    return X @ W


def test_matmul_through_scalar_loss():
    dX, dW = adjoint.grad(matmul_loss, wrt=("X", "W"))(MM_X, MM_W, MM_G)
    assert dX[0, 0] == 0.0
    assert dX[1, 2] == -30.0
    np.testing.assert_allclose(dX, MM_G @ MM_W.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dW, MM_X.T @ MM_G, rtol=0, atol=1e-12)
    assert dX.shape == MM_X.shape and dW.shape == MM_W.shape


def test_matmul_through_vjp():
    value, (dX, dW) = adjoint.vjp(matmul, wrt=(0, 1))(MM_X, MM_W, MM_G)
    np.testing.assert_array_equal(value, MM_X @ MM_W)
    assert dX[0, 0] == 0.0
    assert dX[1, 2] == -30.0
    np.testing.assert_allclose(dX, MM_G @ MM_W.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dW, MM_X.T @ MM_G, rtol=0, atol=1e-12)


# -- gradient patterns ---------------------------------------------------------

def add_gate(x, y):
    return x + y


def mul_gate(x, y):
    return x * y


def max_gate(x, y):
    return max(x, y)


def np_max_gate(x, y):
    return np.maximum(x, y)


def scaled_max(x, y, g):
    return g * max(x, y)


def max_of_three(x, y, z, g):
    return g * max(x, y, z)


def min_of_list(x, y, z, g):
    return g * min([x, y, z])


def fan_out(x):
    a = x * 2.0
    b = np.sin(x)
    c = x ** 2
    return a + b + c


def fan_out_total(x):
    return np.sum(fan_out(x))


def test_add_distributes():
    vjp = adjoint.vjp(add_gate, wrt=(0, 1))
    _, (gx, gy) = vjp(3.0, -7.0, 2.5)
    assert (gx, gy) == (2.5, 2.5)


def test_mul_swaps():
    _, (gx, gy) = adjoint.vjp(mul_gate, wrt=(0, 1))(3.0, -4.0, 2.0)
    assert gx == -4.0 * 2.0
    assert gy == 3.0 * 2.0


def test_builtin_max_routes_whole_gradient_to_winner():
    d = adjoint.grad(scaled_max, wrt=(0, 1))
    assert d(4.0, 2.0, 5.0) == (5.0, 0.0)
    assert d(-1.0, 3.0, 5.0) == (0.0, 5.0)
    _, (gx, gy) = adjoint.vjp(max_gate, wrt=(0, 1))(4.0, 2.0, -3.0)
    assert (gx, gy) == (-3.0, 0.0)


@pytest.mark.parametrize("args, expected", [
    ((4.0, 2.0, 3.0), (5.0, 0.0, 0.0)), ((1.0, 2.0, -3.0), (0.0, 5.0, 0.0)), ((1.0, 2.0, 3.0), (0.0, 0.0, 5.0)),
    ((2.0, 2.0, 1.0), (5.0, 0.0, 0.0)),   # a tie: the first winner takes it all, like max() returns it
])
def test_max_of_many_routes_whole_gradient_to_winner(args, expected):
    assert adjoint.grad(max_of_three, wrt=(0, 1, 2))(*args, 5.0) == expected
    negated = tuple(-a for a in args)
    assert adjoint.grad(min_of_list, wrt=(0, 1, 2))(*negated, 5.0) == expected


def test_np_maximum_routes_whole_gradient_to_winner():
    x = np.array([1.0, 5.0, -2.0, 0.5])
    y = np.array([2.0, 3.0, -4.0, 0.25])
    g = np.array([10.0, 20.0, 30.0, 40.0])
    _, (gx, gy) = adjoint.vjp(np_max_gate, wrt=(0, 1))(x, y, g)
    np.testing.assert_array_equal(gx, [0.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(gy, [10.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gx + gy, g)  # the whole gradient, once


def test_fan_out_sums_its_gradients():
    x = 0.7
    g = adjoint.grad(fan_out)(x)
    assert g == pytest.approx(2.0 + math.cos(x) + 2 * x, abs=1e-15)


def test_fan_out_accumulates_without_zero_buffers():
    d = adjoint.grad(fan_out_total)
    x = np.array([0.3, -1.2])
    np.testing.assert_allclose(d(x), 2.0 + np.cos(x) + 2 * x, rtol=1e-12, atol=1e-14)
    text = adjoint.source(d, x)
    assert "zeros" not in text, text
