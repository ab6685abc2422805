"""Quickstart: a gradient, and the derivative code adjoint generated for it."""
import math

import numpy as np

import adjoint


def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = sigmoid(s3)
    return L


def tanh_energy(x):
    return np.sum(np.tanh(x) ** 2)


if __name__ == "__main__":
    d_neuron = adjoint.grad(neuron, wrt=("w0", "x0", "w1", "x1", "w2"))
    grads = d_neuron(2.0, -1.0, -3.0, -2.0, -3.0)
    print("neuron gradients:", ", ".join(f"{g:.2f}" for g in grads))
    print()
    print(adjoint.source(d_neuron))

    d_energy = adjoint.grad(tanh_energy)
    x = np.linspace(-1.0, 1.0, 5)
    print("d/dx sum(tanh(x)**2) at", x, "=", d_energy(x))
    print()
    print(adjoint.source(d_energy))
    print("largest error against finite differences:",
          adjoint.check_grad(tanh_energy, x))
