"""Small functions the command-line tests (tests/test_cli.py) run `python -m adjoint` on."""
import math

import numpy as np

import adjoint


def f(x, y, z):
    """The lecture's (x + y) z."""
    q = x + y
    return q * z


def neuron(w0, x0, w1, x1, w2):
    """The lecture's sigmoid neuron."""
    s = w0 * x0 + w1 * x1 + w2
    return 1.0 / (1.0 + math.exp(-s))


def layer(x, W):
    return np.sum(np.tanh(W @ x) ** 2)


def scaled(x, n=3):
    """A parameter with a default keeps it: only `x` gets an input and a gradient."""
    return n * np.sum(x ** 2)


def pendulum(k, theta0):
    theta = theta0
    omega = 0.0
    for _ in range(20):
        alpha = -k * math.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
    return theta * theta + omega * omega


def squares(x):
    return sum({v * v for v in x})   # a set comprehension: adjoint refuses it (UnsupportedSyntax)


def cube(x):
    return x ** 3


# Deliberately wrong rules (the derivative of x**3 is 3x**2): `check` must catch them.
adjoint.defvjp(cube, lambda g, ans, x: 2 * g * x * x)
adjoint.defjvp(cube, lambda d, ans, x: 2 * d * x * x)


def wrong(x):
    return cube(x) + x


def loop_count(x, n):
    """`n` is an int the loop counts to: `--value n=3` passes it as one, and it is not differentiated."""
    for _ in range(n):
        x = math.sin(x)
    return x


def power(x, n):
    """Recursion bounded by an int: `show --value n=3` shows the code for n = 3, unrolled."""
    return 1.0 if n == 0 else x * power(x, n - 1)
