"""Primitives with user-written rules, for tests/test_custom_rules.py."""
import numpy as np

import adjoint


@adjoint.primitive
def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


adjoint.defvjp(logsumexp, lambda g, ans, x: g * np.exp(x - ans))
adjoint.defjvp(logsumexp, lambda dx, ans, x: np.sum(dx * np.exp(x - ans)))


def softmax_loss(scores, target):
    return logsumexp(scores) - np.sum(scores * target)


def scaled(a, b):
    return a * b


def scaled_vjp_a(g, ans, a, b):
    return g * b


def scaled_vjp_b(g, ans, a, b):
    product = g * a   # two statements: not inlinable, so generated code calls this function
    return product


adjoint.defvjp(scaled, scaled_vjp_a, scaled_vjp_b)
adjoint.defjvp(scaled, lambda da, ans, a, b: da * b, lambda db, ans, a, b: db * a)


def uses_scaled(a, b):
    return scaled(a, b) * a


def only_first(a, b):
    return a * a + np.sin(b)


adjoint.defvjp(only_first, lambda g, ans, a, b: 2.0 * g * a, None)


def stopped(x, y):
    return x * adjoint.stop_gradient(x * y) + y


@adjoint.primitive
def clipped(x):
    return min(max(x, -1.0), 1.0)


def uses_clipped(x):
    return 3.0 * clipped(x)


def doubled(v):
    return 2.0 * v


RULE_HELPER = doubled  # called by the rule of `tripled` below; a test rebinds it


def tripled(x):
    return 3.0 * x


adjoint.defvjp(tripled, lambda g, ans, x: RULE_HELPER(g) * 1.5)
