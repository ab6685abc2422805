"""User-defined primitives and rules (adjoint.primitive, defvjp, defjvp) and stop_gradient."""
import types

import numpy as np
import pytest

import adjoint
import custom_rules_helpers as h

SCORES = np.array([0.5, -1.0, 2.0, 0.25])
TARGET = np.array([0.0, 0.0, 1.0, 0.0])


def test_logsumexp_rule_in_both_modes():
    adjoint.check_grad(h.softmax_loss, SCORES, TARGET, modes=("reverse", "forward"))
    probabilities = np.exp(SCORES) / np.sum(np.exp(SCORES))
    np.testing.assert_allclose(adjoint.grad(h.softmax_loss)(SCORES, TARGET), probabilities - TARGET, rtol=1e-12)


def test_primitive_is_called_not_inlined_and_its_rule_reads_like_a_builtin():
    gradient = adjoint.grad(h.softmax_loss)
    source = adjoint.source(gradient, SCORES, TARGET)
    assert "logsumexp(" in source and "np.max" not in source
    assert "np.exp(" in source and "lambda" not in source   # the rule's expression, inlined
    tangent = adjoint.source(adjoint.jvp(h.softmax_loss), SCORES, TARGET, SCORES)
    assert "np.sum(" in tangent and "np.exp(" in tangent


def test_rule_given_by_functions_inlined_or_called():
    assert adjoint.grad(h.uses_scaled, wrt=(0, 1))(1.5, 2.0) == pytest.approx((2 * 1.5 * 2.0, 1.5 * 1.5))
    adjoint.check_grad(h.uses_scaled, 1.5, 2.0, wrt=(0, 1))
    source = adjoint.source(adjoint.grad(h.uses_scaled, wrt=(0, 1)), 1.5, 2.0)
    assert "scaled_vjp_a" not in source   # a one-line `def`: inlined
    assert "scaled_vjp_b(" in source       # two statements: called


def test_argument_without_a_rule_refuses_to_differentiate():
    assert adjoint.grad(h.only_first)(3.0, 1.0) == pytest.approx(6.0)
    with pytest.raises(adjoint.NoDerivativeRule, match="only_first.*`b`"):
        adjoint.grad(h.only_first, wrt=1)(3.0, 1.0)


def test_too_many_rules_is_an_invalid_argument():
    with pytest.raises(adjoint.InvalidArgument, match="1 parameters|1 parameter"):
        adjoint.defvjp(h.logsumexp, lambda g, ans, x: g, lambda g, ans, x: g)


def test_stop_gradient_makes_a_constant():
    x, y = 1.5, -2.0
    dx, dy = adjoint.grad(h.stopped, wrt=(0, 1))(x, y)
    assert dx == pytest.approx(x * y) and dy == pytest.approx(1.0)
    fx, fy = adjoint.grad(h.stopped, wrt=(0, 1), mode="forward")(x, y)
    assert (fx, fy) == pytest.approx((dx, dy))


def test_second_order_through_a_user_rule():
    d2 = adjoint.hessian(h.softmax_loss)(SCORES, TARGET)
    p = np.exp(SCORES) / np.sum(np.exp(SCORES))
    np.testing.assert_allclose(d2, np.diag(p) - np.outer(p, p), atol=1e-12)


def test_a_rule_registered_again_replaces_the_derivative_already_running():
    """The dispatcher carries the first derivative's body itself: a new rule must reach it too."""
    adjoint.defvjp(h.clipped, lambda g, ans, x: g * 1.0)
    d = adjoint.grad(h.uses_clipped)
    assert d(0.5) == d(0.5) == 3.0  # (the second call runs the body written into the dispatcher)
    adjoint.defvjp(h.clipped, lambda g, ans, x: g * (-1.0 < x < 1.0) * 2.0)
    assert d(0.5) == 6.0 and d(2.0) == 0.0


# -- a rule reading its module's globals ---------------------------------------------------------

GAIN = 3.0
SETTINGS = types.ModuleType("rule_settings")  # a module of the user's, read as `SETTINGS.OFFSET`
SETTINGS.OFFSET = 0.5


def doubled(v):
    return 2.0 * v


RULE_HELPER = doubled


@adjoint.primitive
def amplified(x):
    return GAIN * x + SETTINGS.OFFSET * x


adjoint.defvjp(amplified, lambda g, ans, x: RULE_HELPER(g) * (GAIN + SETTINGS.OFFSET) / 2.0)
adjoint.defjvp(amplified, lambda d, ans, x: RULE_HELPER(d) * (GAIN + SETTINGS.OFFSET) / 2.0)


def squared_amplified(x):
    return amplified(x) ** 2


def reads_a_module_attribute(x):
    return SETTINGS.OFFSET * x ** 3


def test_a_rule_reads_the_globals_of_its_module_as_they_are_when_it_runs():
    """A copy of the module's globals taken when the rule was given kept `GAIN` at 3 for good."""
    global GAIN, RULE_HELPER
    reverse, forward = adjoint.grad(squared_amplified), adjoint.grad(squared_amplified, mode="forward")
    hessian = adjoint.hessian(squared_amplified)
    assert reverse(1.0) == forward(1.0) == pytest.approx(2 * 3.5 ** 2)
    assert hessian(1.0) == pytest.approx(2 * 3.5 ** 2)
    try:
        GAIN, SETTINGS.OFFSET = 5.0, 1.0
        assert reverse(1.0) == forward(1.0) == pytest.approx(2 * 6.0 ** 2)
        assert hessian(1.0) == pytest.approx(2 * 6.0 ** 2)
        assert adjoint.grad(squared_amplified)(1.0) == pytest.approx(2 * 6.0 ** 2)
        adjoint.check_grad(squared_amplified, 0.7)
        RULE_HELPER = lambda v: v + v   # noqa: E731 - a helper the rule calls, rebound: compiled again
        assert reverse(1.0) == forward(1.0) == pytest.approx(2 * 6.0 ** 2)
    finally:
        GAIN, SETTINGS.OFFSET, RULE_HELPER = 3.0, 0.5, doubled
    assert reverse(1.0) == pytest.approx(2 * 3.5 ** 2)


def test_a_number_read_as_an_attribute_of_a_module_is_read_when_the_derivative_runs():
    gradient, hessian = adjoint.grad(reads_a_module_attribute), adjoint.hessian(reads_a_module_attribute)
    assert gradient(2.0) == pytest.approx(6.0) and hessian(2.0) == pytest.approx(6.0)
    try:
        SETTINGS.OFFSET = 2.0
        assert gradient(2.0) == pytest.approx(24.0) and hessian(2.0) == pytest.approx(24.0)
        assert adjoint.grad(reads_a_module_attribute, mode="forward")(2.0) == pytest.approx(24.0)
    finally:
        SETTINGS.OFFSET = 0.5


def squared_tripled(x):
    return h.tripled(x) ** 2   # a primitive read as an attribute of its module


def test_a_helper_called_by_the_rule_of_another_modules_primitive_is_guarded():
    gradient = adjoint.grad(squared_tripled)
    assert gradient(1.0) == 18.0
    try:
        h.RULE_HELPER = lambda v: 0.0 * v
        assert gradient(1.0) == 0.0
    finally:
        h.RULE_HELPER = h.doubled
    assert gradient(1.0) == 18.0
