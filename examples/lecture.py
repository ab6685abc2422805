"""The backprop lecture, computed by adjoint.

Every number printed here is one of the reference figures of the classic backpropagation
lecture: the circuit (x + y) z, the sigmoid neuron, ReLU and a matrix multiply. For the neuron
the gradient code adjoint generates is printed next to the flat code a person writes by hand.

    python examples/lecture.py
"""
import math

import numpy as np

import adjoint


# -- 1. A circuit: f(x, y, z) = (x + y) z ---------------------------------------------------

def circuit(x, y, z):
    q = x + y
    f = q * z
    return f


# -- 2. The sigmoid neuron --------------------------------------------------------------------

def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = sigmoid(s3)
    return L


# The gradient as the lecture writes it by hand, treating sigmoid as one gate whose local
# derivative is (1 - L) L. adjoint inlines `sigmoid` and differentiates through `exp` instead:
# its -L / t3 * t2 is the same (1 - L) L.
BY_HAND = """\
grad_L = 1.0
grad_s3 = grad_L * (1 - L) * L
grad_w2 = grad_s3
grad_s2 = grad_s3
grad_s0 = grad_s2
grad_s1 = grad_s2
grad_w1 = grad_s1 * x1
grad_x1 = grad_s1 * w1
grad_w0 = grad_s0 * x0
grad_x0 = grad_s0 * w0"""


# -- 3. ReLU, and 4. a matrix multiply ----------------------------------------------------------

def relu(x):
    return np.maximum(x, 0.0)


def matmul(X, W):
    return X @ W


# -- patterns of the backward pass ------------------------------------------------------------

def add_gate(x, y):
    return x + y


def multiply_gate(x, y):
    return x * y


def max_gate(x, y):
    return max(x, y)


def fan_out(x):
    a = x * 3.0     # x is used twice: its gradient is the sum of both uses
    b = x * 4.0
    return a + b


def side_by_side(left, right, left_title, right_title):
    left, right = left.splitlines(), right.splitlines()
    width = max(len(line) for line in left + [left_title]) + 4
    lines = [f"{left_title:<{width}}{right_title}", f"{'-' * len(left_title):<{width}}{'-' * len(right_title)}"]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        lines.append(f"{a:<{width}}{b}".rstrip())
    return "\n".join(lines)


def heading(text):
    print()
    print(text)
    print("=" * len(text))


def main():
    heading("1. f(x, y, z) = (x + y) z  at x = -2, y = 5, z = -4")
    d_circuit = adjoint.value_and_grad(circuit, wrt=("x", "y", "z"))
    f, (dx, dy, dz) = d_circuit(-2.0, 5.0, -4.0)
    print(f"f = {f:g}   df/dx = {dx:g}   df/dy = {dy:g}   df/dz = {dz:g}")
    print("the add gate hands -4 to both x and y; the multiply gate swaps: df/dz = q = 3")
    print()
    print(adjoint.source(d_circuit))

    heading("2. The sigmoid neuron at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3")
    names = ("w0", "x0", "w1", "x1", "w2")
    d_neuron = adjoint.value_and_grad(neuron, wrt=names)
    point = (2.0, -1.0, -3.0, -2.0, -3.0)
    L, grads = d_neuron(*point)
    print(f"output L = {L:.2f}")
    print("gradients:", "   ".join(f"{n}: {g:.2f}" for n, g in zip(names, grads)))
    print()
    generated = adjoint.source(d_neuron, *point)
    body = [line.strip() for line in generated.splitlines()[1:] if line.strip() and "return" not in line]
    forward = [line for line in body if not line.startswith("grad_")]
    backward = body[len(forward):]
    # the forward sweep first, then the backward sweep next to the hand-written one
    print(side_by_side("\n".join(body), "\n" * len(forward) + BY_HAND,
                       "generated: adjoint.source(d_neuron)", "by hand (DESIGN.md)"))
    print()
    print(f"{len(backward)} backward lines against {len(BY_HAND.splitlines())}: adjoint needs no "
          "grad_L = 1.0 and no copies like grad_s2 = grad_s3;")
    print("it differentiates sigmoid through its exp (grad_t3, grad_t1, grad_s3), where the hand-written")
    print("code uses the identity sigmoid' = (1 - L) L in one line.")
    error = adjoint.check_grad(neuron, *point, wrt=names)
    print()
    print(f"check_grad: largest difference from central finite differences {error:.1e}")

    heading("3. ReLU: x = [1, -2, 3, -1], upstream gradient [4, -1, 5, 9]")
    x = np.array([1.0, -2.0, 3.0, -1.0])
    upstream = np.array([4.0, -1.0, 5.0, 9.0])
    y, downstream = adjoint.vjp(relu)(x, upstream)
    print("relu(x)             =", y)
    print("downstream gradient =", downstream + 0.0)   # + 0.0 prints numpy's -0.0 as 0.0
    print("no 4 x 4 Jacobian was formed; the vector-Jacobian product is one line:")
    print()
    print(adjoint.source(adjoint.vjp(relu), x, upstream))

    heading("4. Y = X @ W, backward with vjp")
    X = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
    W = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
    dY = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])
    Y, (dX, dW) = adjoint.vjp(matmul, wrt=("X", "W"))(X, W, dY)
    print("dL/dX =")
    print(dX)
    print(f"dL/dX[0, 0] = {dX[0, 0]:g}   dL/dX[1, 2] = {dX[1, 2]:g}")
    print("dL/dX == dL/dY @ W.T:", np.allclose(dX, dY @ W.T))
    print("dL/dW == X.T @ dL/dY:", np.allclose(dW, X.T @ dY))

    heading("Patterns of the backward pass (at x = 3, y = -1)")
    print("add gate distributes:  ", adjoint.grad(add_gate, wrt=(0, 1))(3.0, -1.0))
    print("multiply gate swaps:   ", adjoint.grad(multiply_gate, wrt=(0, 1))(3.0, -1.0))
    print("max gate routes:       ", adjoint.grad(max_gate, wrt=(0, 1))(3.0, -1.0))
    print("fan-out sums (3 + 4):  ", adjoint.grad(fan_out)(3.0))


if __name__ == "__main__":
    main()
