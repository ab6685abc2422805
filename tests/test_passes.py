"""One test per optimisation pass: lower a small function and take its derivative's IR, run the pass on
its own, assert what the pass removed, then compile the IR as it is after the pass and check its gradient
against finite differences (and the whole pipeline with adjoint.check_grad)."""
import math
import operator
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import adjoint
from adjoint import codegen
from adjoint import runtime as rt
from adjoint.check import numerical_grad
from adjoint.compare import peak_bytes
from adjoint.runtime.core import _hits_each_element_once as hits_each_element_once
from adjoint.forward import forward
from adjoint.ir import (Apply, Assign, Const, Function, Loop, Pack, Phi, Return, Var, all_statements,
                        statement_expressions, statement_uses, walk)
from adjoint.optimize import (accumulate_in_place, compute_shapes_only, eliminate_common_subexpressions, eliminate_dead_code, fuse_temporaries,
                              optimize, propagate_copies, simplify, without_common_subexpressions, write_in_place)
from adjoint.record import record
from adjoint.reverse import reverse
from adjoint.transform import ensure_fresh_outputs, lowered


# -- helpers -----------------------------------------------------------------------------------------

def gradient_ir(fn, wrt=(0,), primal_cse=False):
    """(primal, reverse-mode IR of `fn`) straight out of the transform, before any optimisation."""
    primal = lowered(fn)
    if primal_cse:
        primal = without_common_subexpressions(primal)
    return primal, reverse(primal, wrt, seed="one")


def tangent_ir(fn, wrt=(0,)):
    primal = lowered(fn)
    return primal, forward(primal, wrt)


def simplified(function, scalar_params=()):
    """What `optimize` does before its last passes: simplify and propagate copies, twice, then simplify."""
    for _ in range(2):
        simplify(function, scalar_params, scalar_params, final=False)
        propagate_copies(function)
    simplify(function, scalar_params, scalar_params)
    return function


def compiled(fn, primal, function, scalar_params=()):
    """The IR as it stands, recorded and compiled: (Python function, its source)."""
    record(function, scalar_params)
    ensure_fresh_outputs(function, scalar_params)
    text, bindings = codegen.generate(function, "derivative", len(primal.params), primal.reserved, primal.visible)
    return codegen.compile_function(text, "derivative", bindings, fn.__globals__, "test pass"), text


def assert_gradient(fn, primal, function, args, wrt=(0,), scalar_params=()):
    """The IR after the pass still computes the gradient (finite differences), and so does adjoint."""
    derivative, text = compiled(fn, primal, function, scalar_params)
    grads = derivative(*args)
    for position, got in zip(wrt, grads):
        np.testing.assert_allclose(got, numerical_grad(fn, list(args), position), rtol=1e-5, atol=1e-6,
                                   err_msg=text)
    adjoint.check_grad(fn, *args, wrt=wrt)
    return text


def statements(function):
    return [stmt for stmt in all_statements(function.body) if isinstance(stmt, Assign)]


def calls(function, fn):
    """How many times the IR applies `fn` (nested expressions included)."""
    return sum(1 for stmt in all_statements(function.body) for expr in statement_expressions(stmt)
               for node in walk(expr) if isinstance(node, Apply) and node.fn is fn)


def defined(function):
    return {stmt.target for stmt in statements(function) if stmt.target is not None}


def adjoints_of(function, hint):
    """The derivative values of primal values with this hint (`grad_<hint>`)."""
    return [v for v in defined(function) if v.of is not None and v.prefix == "grad_" and v.of.hint == hint]


def primal_values(function, hint):
    return [v for v in defined(function) if v.of is None and v.hint == hint]


def reads_of_copies(function):
    """Statements that read a variable defined as a plain copy (`a = b`)."""
    copies = {stmt.target for stmt in statements(function) if isinstance(stmt.expr, (Var, Const))}
    return [stmt for stmt in all_statements(function.body[:-1]) if set(statement_uses(stmt)) & copies]


# -- dead-code elimination --------------------------------------------------------------------------

def chain(x, y):
    product = x * y
    wave = np.sin(product)
    scaled = wave * 3.0
    return scaled + y


def test_dce_drops_adjoints_nobody_needs_and_primal_values_the_backward_sweep_does_not_read():
    primal, function = gradient_ir(chain, wrt=(0,))
    simplified(function, function.params)
    # after simplification the adjoints of `scaled` and `wave` are constants nobody reads, and the
    # forward sweep still computes `wave` and `scaled`, which no rule of the backward sweep reads
    assert adjoints_of(function, "scaled") and adjoints_of(function, "wave")
    assert calls(function, np.sin) == 1
    before = len(statements(function))
    eliminate_dead_code(function)
    assert not adjoints_of(function, "scaled") and not adjoints_of(function, "wave")
    assert calls(function, np.sin) == 0                # the cos rule reads `product`, not `wave`
    assert not primal_values(function, "scaled")
    assert primal_values(function, "product")          # ... which stays
    assert len(statements(function)) <= before - 5
    assert_gradient(chain, primal, function, (0.7, -1.3), scalar_params=function.params)


def with_unused_loop(x, n):
    total = x
    for i in range(n):
        total = total + 0.5 * i        # nothing here reads x: no adjoint loop needs to run
    return total * x


def test_dce_drops_a_backward_loop_that_carries_nothing():
    primal, function = gradient_ir(with_unused_loop, wrt=(0,))
    simplified(function, function.params)
    loops_before = sum(1 for stmt in all_statements(function.body) if isinstance(stmt, Loop))
    eliminate_dead_code(function)
    loops_after = sum(1 for stmt in all_statements(function.body) if isinstance(stmt, Loop))
    assert loops_after < loops_before
    assert_gradient(with_unused_loop, primal, function, (0.7, 4), scalar_params=function.params)


# -- constant folding -------------------------------------------------------------------------------

def cube_log(x):
    return x ** 3 + math.log10(x)


def test_constant_folding_evaluates_operations_on_constants():
    primal, function = gradient_ir(cube_log)
    # the rules instantiate `power_slope(x, 3)` (x ** 3's slope) and `1 / (x * math.log(10))`
    assert calls(function, math.log) == 1
    assert calls(function, rt.power_slope) == 1
    simplified(function, function.params)
    assert calls(function, math.log) == 0
    assert calls(function, rt.power_slope) == 0  # `3 * x ** 2`: the exponent 3 - 1 folded
    constants = [node.value for stmt in statements(function) for node in walk(stmt.expr) if isinstance(node, Const)]
    assert math.log(10) in constants and 2 in constants
    eliminate_dead_code(function)
    text = assert_gradient(cube_log, primal, function, (1.7,), scalar_params=function.params)
    assert "math.log(10)" not in text and "3 - 1" not in text


# -- copy propagation -------------------------------------------------------------------------------

def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    return 1.0 / (1.0 + math.exp(-s3))


def test_copy_propagation_makes_uses_read_the_source_of_a_copy():
    primal, function = gradient_ir(neuron, wrt=(0, 1, 2, 3, 4))
    simplify(function, function.params, function.params, final=False)
    # the adjoints of sums are copies (`grad_s2 = grad_s3`), and later statements read them
    assert len(reads_of_copies(function)) >= 3
    propagate_copies(function)
    assert reads_of_copies(function) == []
    before = len(statements(function))
    eliminate_dead_code(function)                       # the copies themselves are dead now
    assert len(statements(function)) < before
    assert not adjoints_of(function, "s2") and not adjoints_of(function, "s0")
    assert_gradient(neuron, primal, function, (2.0, -1.0, -3.0, -2.0, -3.0), wrt=(0, 1, 2, 3, 4),
                    scalar_params=function.params)


# -- algebraic simplification -----------------------------------------------------------------------

def identities(x, y):
    t = x * 1.0
    u = t + 0.0
    return u * y + 0.0 * x


def _identity_operations(function):
    """`a * 1`, `1 * a`, `a + 0`, `0 + a`, `a * 0`, `0 * a` anywhere in the IR."""
    found = []
    for stmt in statements(function):
        for node in walk(stmt.expr):
            if isinstance(node, Apply) and node.fn in (operator.mul, operator.add):
                values = [a.value for a in node.args if isinstance(a, Const) and not isinstance(a.value, bool)]
                if any(v in (0, 1) if node.fn is operator.mul else v == 0 for v in values):
                    found.append(node)
    return found


def test_simplification_removes_products_with_one_sums_with_zero_and_products_with_zero():
    primal, function = gradient_ir(identities, wrt=(0, 1))
    assert len(_identity_operations(function)) >= 4   # x * 1.0, t + 0.0, 0.0 * x, and grad * 1.0 in the rules
    simplified(function, function.params)
    assert _identity_operations(function) == []
    # the adjoint of `0.0 * x` is known to be zero: what it feeds is folded, nothing is added
    eliminate_dead_code(function)
    assert calls(function, operator.add) == 0 and calls(function, operator.mul) == 0
    assert_gradient(identities, primal, function, (0.8, -1.1), wrt=(0, 1), scalar_params=function.params)


def same_shapes(x, y):
    return np.sum(np.sin(x) * np.cos(x)) + np.sum(x * y)


def test_simplification_drops_unbroadcast_where_shapes_provably_agree():
    primal, function = gradient_ir(same_shapes, wrt=(0, 1))
    before = calls(function, rt.unbroadcast)
    simplified(function)
    eliminate_dead_code(function)
    # sin(x) and cos(x) have the shape of x: their adjoints need no unbroadcast; x and y may differ
    # (y may broadcast against x), so the two adjoints of `x * y` keep theirs
    assert before >= 4 and calls(function, rt.unbroadcast) == 2
    x, y = np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4)
    text = assert_gradient(same_shapes, primal, function, (x, y), wrt=(0, 1))
    assert text.count("unbroadcast(") == 2


def weighted_exp(A, B):
    return np.sum(np.exp(A) * B)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((3, 4), (4,)),
                                              ((2, 1, 3), (4, 1))])
def test_the_gradient_of_a_sum_of_products_does_not_compute_the_product(shape_a, shape_b):
    """d/dA np.sum(exp(A) * B) was `unbroadcast(repeat_to(1.0, t1 * B) * B, t1) * t1`: the product
    `t1 * B` computed only for its shape, then the seed spread over it and multiplied by B again.
    `B` spans every axis along which the product is longer than `A`, so summing `B` down to A's
    shape (or spreading it where A is longer) is the same: `unbroadcast(B, A) * np.exp(A)`, as a
    gradient written by hand, and `exp(A)` is read once, so it is written into its reader."""
    primal, function = gradient_ir(weighted_exp, wrt=(0, 1))
    optimized = simplified(function)
    eliminate_common_subexpressions(optimized)
    eliminate_dead_code(optimized)
    assert calls(optimized, rt.repeat_to) == 0
    # the product is not computed: exp(A), unbroadcast(t1, B) for B, unbroadcast(B, A) * t1 for A
    assert calls(optimized, operator.mul) == 1 and calls(optimized, np.exp) == 1
    rng = np.random.default_rng(2)
    A, B = rng.random(shape_a), rng.random(shape_b)
    text = assert_gradient(weighted_exp, primal, optimized, (A, B), wrt=(0, 1))
    source = adjoint.source(adjoint.grad(weighted_exp), A, B)
    assert "grad_A = unbroadcast(B, A) * np.exp(A)" in source, source
    hessian = adjoint.hessian(weighted_exp)(A, B).reshape(A.size, A.size)
    np.testing.assert_allclose(hessian, np.diag(np.broadcast_to(rt.unbroadcast(B, A) * np.exp(A), A.shape).ravel()),
                               rtol=1e-12)


def test_unbroadcast_spreads_a_gradient_with_fewer_axes_than_the_value():
    """`unbroadcast(B, A)` with B shaped (4,) and A (3, 1): the sum of each row of the (3, 4) product."""
    g, x = np.arange(4.0), np.zeros((3, 1))
    np.testing.assert_array_equal(rt.unbroadcast(g, x), np.full((3, 1), 6.0))
    np.testing.assert_array_equal(rt.unbroadcast(g, np.zeros((2, 4))), np.broadcast_to(g, (2, 4)))
    np.testing.assert_array_equal(rt.unbroadcast(np.ones((2, 1, 4)), np.zeros((3, 1))), np.full((3, 1), 8.0))


def sum_of_products(A, B):
    return np.sum(A @ B * 2.0) + np.sum(np.sin(A) + np.cos(B[0]))


def test_a_value_read_only_for_its_shape_is_not_computed():
    """`A @ B * 2.0` and `sin(A) + cos(B[0])` are read by the gradient only where the seed is spread
    over their shape (`repeat_to`): their shapes come from their operands' (`matmul_shape`,
    `broadcast_shape`), the matrices are not multiplied."""
    primal, function = gradient_ir(sum_of_products, wrt=(0, 1))
    simplified(function)
    eliminate_common_subexpressions(function)
    eliminate_dead_code(function)
    assert calls(function, operator.matmul) == 1 and calls(function, np.sin) == 2  # (and -sin(B[0]))
    # the product, the scaled product, sin(A), cos(B[0]) and their sum
    assert compute_shapes_only(function) == 5
    assert calls(function, operator.matmul) == 0 and calls(function, rt.matmul_shape) == 1
    assert calls(function, np.sin) == 1 and calls(function, np.cos) == 1 and calls(function, rt.broadcast_shape) == 4
    rng = np.random.default_rng(4)
    A, B = rng.random((3, 4)), rng.random((4, 4))
    assert_gradient(sum_of_products, primal, function, (A, B), wrt=(0, 1))
    source = adjoint.source(adjoint.grad(sum_of_products, wrt=(0, 1)), A, B)
    assert "@" not in source and "np.sin(A)" not in source and "matmul_shape(A, B)" in source
    # a shape numpy refuses is refused as numpy refuses the operation itself
    with pytest.raises(ValueError, match="mismatch in its core dimension"):
        adjoint.grad(sum_of_products, wrt=(0, 1))(A, rng.random((5, 4)))
    shape = rt.broadcast_shape(np.ones((3, 1), np.float32), 2.0, rt.Shape((4,), np.dtype(np.float32)))
    assert shape.shape == (3, 4) and shape.dtype == np.float32 and shape.size == 12
    with pytest.raises(ValueError, match="could not be broadcast together"):
        rt.broadcast_shape(np.ones(3), np.ones(4))
    assert rt.matmul_shape(np.ones((2, 5, 3)), np.ones(3)).shape == (2, 5)


def elementwise_output(A, B):
    return np.exp(A) * B


def contraction(A, B):
    return np.einsum("ij,ij->", A, B)


def test_grad_checks_an_output_it_cannot_prove_scalar_from_its_shape_alone():
    """grad refuses a non-scalar output, and checks it from the output's shape (computed from the
    operands' shapes: the elements are not computed); an einsum with an empty output is scalar."""
    A, B = np.ones((2, 3)), np.ones(3)
    source = adjoint.source(adjoint.grad(elementwise_output), A, B)
    assert "expect_scalar(broadcast_shape(" in source and "np.exp(A) * B" not in source
    with pytest.raises(adjoint.NonScalarOutput, match=r"shape \(2, 3\)"):
        adjoint.grad(elementwise_output)(A, B)
    assert adjoint.grad(elementwise_output)(np.float64(0.5), 2.0) == pytest.approx(2 * np.exp(0.5))
    source = adjoint.source(adjoint.grad(contraction), A, A)
    assert "expect_scalar" not in source
    adjoint.check_grad(contraction, A, A + 1.0, wrt=(0, 1))


def reciprocals(x, y):
    return 1.0 / x + np.sum(1 / y)


def test_the_gradient_of_a_reciprocal_squares_it_instead_of_dividing_again():
    primal, function = gradient_ir(reciprocals, wrt=(0, 1))
    before = calls(function, operator.truediv)
    simplified(function)
    eliminate_dead_code(function)
    # `1 / x` is needed anyway; its derivative `-(1 / x) / x` becomes `-(r * r)` for r = 1 / x
    assert before == 4 and calls(function, operator.truediv) == 2
    y = np.array([0.5, -2.0, 3.0])
    assert_gradient(reciprocals, primal, function, (0.7, y), wrt=(0, 1))


# -- accumulation without zero buffers -------------------------------------------------------------

def fan_out(x):
    y = np.sin(x)
    return np.sum(x * y + y * y + x)


def test_accumulation_assigns_the_first_contribution_and_adds_the_others():
    primal, function = gradient_ir(fan_out)
    # x and y are each read three times: their adjoints accumulate, without zero-filled buffers
    assert calls(function, rt.zeros_grad) == 0 and calls(function, np.zeros_like) == 0
    grad_x = adjoints_of(function, "x")
    assert len(grad_x) == 3                           # first contribution, then two additions
    first = next(stmt for stmt in statements(function) if stmt.target in grad_x)
    assert not any(isinstance(node, Var) and node in grad_x for node in walk(first.expr))
    optimized = simplified(function)
    eliminate_dead_code(optimized)
    text = assert_gradient(fan_out, primal, optimized, (np.linspace(-1, 1, 5),))
    assert "zeros" not in text


def loop_accumulator(w, x):
    h = x
    for _ in range(3):
        h = np.tanh(w * h)
    return h


def test_only_accumulators_that_live_across_trips_start_at_zero_and_scalar_ones_start_at_zero_point_zero():
    primal, function = gradient_ir(loop_accumulator)
    # `w` is read on every trip: its adjoint is the one value that starts at zero before the loop
    assert calls(function, rt.zeros_grad) == 1
    simplified(function, function.params)
    assert calls(function, rt.zeros_grad) == 0        # w is a float: its zero is 0.0, not a helper call
    eliminate_dead_code(function)
    text = assert_gradient(loop_accumulator, primal, function, (0.9, 0.4), scalar_params=function.params)
    assert "zeros" not in text


def neighbours(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_slices_dropping_as_many_elements_share_a_shape_so_spreads_and_unbroadcasts_go():
    primal, function = gradient_ir(neighbours)
    assert calls(function, rt.unbroadcast) >= 4
    optimized = simplified(function)
    eliminate_dead_code(optimized)
    # x[1:] and x[:-1] both have n - 1 elements, so every elementwise value has one shape: no
    # unbroadcast is left, and the seed `repeat_to(1.0, ...)` folds into the scalar factors
    assert calls(optimized, rt.unbroadcast) == 0 and calls(optimized, rt.repeat_to) == 0
    assert_gradient(neighbours, primal, optimized, (np.linspace(-1, 1.5, 7),))


def test_scatters_add_into_a_fresh_total_in_place():
    primal, function = gradient_ir(neighbours, primal_cse=True)
    optimized = simplified(function)
    eliminate_dead_code(optimized)
    assert calls(optimized, rt.unindex) == 2 and calls(optimized, rt.add_at) == 0
    accumulate_in_place(optimized)
    eliminate_dead_code(optimized)
    # the second scatter adds into the first one's array instead of allocating one more
    assert calls(optimized, rt.unindex) == 1 and calls(optimized, rt.add_at) == 1
    assert_gradient(neighbours, primal, optimized, (np.linspace(-1, 1.5, 7),))


def test_a_total_read_twice_is_not_added_into():
    x, g = Var("x"), Var("g")
    first, second, total = Var("first"), Var("second"), Var("total")
    ends = Pack("slice", [Const(1), Const(None), Const(None)]), Pack("slice", [Const(None), Const(-1), Const(None)])
    body = [Assign(first, Apply(rt.unindex, (g, x, ends[0]))), Assign(second, Apply(rt.unindex, (g, x, ends[1]))),
            Assign(total, Apply(operator.add, (first, second))), Return(Pack("tuple", [total, first]))]
    function = accumulate_in_place(Function("f", [x, g], body, None))
    # `first` is also returned: adding into it would change that output too
    assert calls(function, rt.add_at) == 0
    body[-1] = Return(total)
    assert calls(accumulate_in_place(Function("f", [x, g], body, None)), rt.add_at) == 1


def test_a_product_read_by_nothing_later_is_added_into():
    """`total = unbroadcast(g * mask, x)` is a new array once the other reader of `g * mask` has run."""
    x, g, mask, index = Var("x"), Var("g"), Var("mask"), Const((np.arange(2), np.array([1, 0])))
    product, total, other, summed = Var("product"), Var("total"), Var("other"), Var("summed")
    body = [Assign(product, Apply(operator.mul, (g, mask))),
            Assign(total, Apply(rt.unbroadcast, (product, x))),
            Assign(other, Apply(np.sum, (product,))),
            Assign(summed, Apply(operator.add, (total, Apply(rt.unindex, (other, x, index))))),
            Return(summed)]
    function = accumulate_in_place(Function("f", [x, g, mask], list(body), None))
    assert calls(function, rt.add_at) == 1
    body[3], body[2] = body[2], Assign(summed, Apply(operator.add, (total, Apply(rt.unindex, (g, x, index)))))
    body[3] = Assign(other, Apply(np.sum, (product,)))  # `product` read after the addition
    body[-1] = Return(Pack("tuple", [summed, other]))
    assert calls(accumulate_in_place(Function("f", [x, g, mask], list(body), None)), rt.add_at) == 0
    # a view of the product taken before the addition, read after it, would see the change
    view = Var("view")
    body = [Assign(product, Apply(operator.mul, (g, mask))),
            Assign(total, Apply(rt.unbroadcast, (product, x))),
            Assign(view, Apply(operator.getitem, (product, Const(0)))),
            Assign(summed, Apply(operator.add, (total, Apply(rt.unindex, (g, x, index))))),
            Return(Pack("tuple", [summed, view]))]
    assert calls(accumulate_in_place(Function("f", [x, g, mask], body, None)), rt.add_at) == 0


@pytest.mark.parametrize("index, g, once", [
    ((np.arange(4), np.array([2, 0, 2, 1])), np.arange(1.0, 5.0), True),   # x[np.arange(n), labels]
    (np.array([0, 2, 3]), np.ones((3, 3)), True),
    (np.array([0, 2, 2]), np.ones((3, 3)), False),
    ((np.array([1, 1]), np.array([0, 0])), np.array([1.0, 2.0]), False),
    (np.array([-1, 0, 3]), np.ones((3, 3)), False)])   # -1 is row 3
def test_a_fancy_scatter_adds_with_plus_equals_only_where_no_element_is_named_twice(index, g, once):
    assert hits_each_element_once(index) is once
    expected = np.zeros((4, 3))
    np.add.at(expected, index, g)
    np.testing.assert_array_equal(rt.unindex(g, np.zeros((4, 3)), index), expected)
    np.testing.assert_array_equal(rt.add_at(np.ones((4, 3)), g, np.zeros((4, 3)), index), expected + 1.0)


@pytest.mark.parametrize("index, g", [(0, 2.0), (1, np.array([1.0, 2.0, 3.0])), (np.array([0, 0]), np.ones((2, 3)))])
def test_add_at_adds_to_a_spread_total_as_a_new_array(index, g):
    """`unbroadcast` spreads a gradient over the axes it lacks as a read-only broadcast: a total
    accumulate.py takes for new may be one, and one element of it stands for a whole column."""
    row = np.array([0.5, -1.0, 0.25])
    total = rt.unbroadcast(row, np.zeros((2, 3)))
    expected = np.broadcast_to(row, (2, 3)) + rt.unindex(g, np.zeros((2, 3)), index)
    np.testing.assert_array_equal(rt.add_at(total, g, np.zeros((2, 3)), index), expected)
    np.testing.assert_array_equal(row, [0.5, -1.0, 0.25])
    number = rt.unbroadcast(np.float64(0.5), np.zeros(3))  # a number spread over a vector
    np.testing.assert_array_equal(rt.add_at(number, np.float64(2.0), np.zeros(3), 1), [0.5, 2.5, 0.5])


def filtered(a, xs):
    h = 0.0
    s = 0.0
    for t in range(xs.shape[0]):
        h = a * h + xs[t]
        s = s + h * h
    return s


def flagged(w, xs, flags):
    s = 0.0
    for t in range(xs.shape[0]):
        if flags[t]:
            s = s + w * xs[t] ** 2
        else:
            s = s + w
    return s


def by_element(w, X):
    s = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            s = s + w * X[i, j] ** 2
    return s


def by_row(W, xs):
    s = 0.0
    for x in xs:
        s = s + np.sum(np.tanh(W @ x))
    return s


def mirrored(xs):
    s = np.sum(xs[:2])
    for t in range(xs.shape[0]):
        s = s + xs[t] * xs[xs.shape[0] - 1 - t]
    return s


RNG = np.random.default_rng(5)


@pytest.mark.parametrize("fn, args, wrt, scalars", [
    (filtered, (0.5, RNG.random(6)), (0, 1), 1),
    (flagged, (0.7, RNG.random(6), np.array([True, False, True, True, False, True])), (0, 1), 1),  # a branch
    (by_element, (0.7, RNG.random((3, 4))), (0, 1), 1),           # a loop in a loop
    (by_row, (RNG.random((2, 3)), RNG.random((5, 3))), (0, 1), 0),  # `for x in xs`: a row per trip
    (mirrored, (RNG.random(5),), (0,), 0)])                        # two scatters per trip, one before the loop
def test_a_loop_adds_each_trips_scatter_into_the_gradient_total_in_place(fn, args, wrt, scalars):
    """The gradient of `xs` read at one index per trip is a total the backward loop carries: adding
    `unindex(g, xs, t)` to it as a new array costs a full-size array per trip (quadratic). The total
    starts as `zeros_grad(xs)`, read by nothing but the loop, and each trip reads it once, to add: it
    is added into in place."""
    primal, function = gradient_ir(fn, wrt=wrt, primal_cse=True)
    scalar_params = function.params[:scalars]
    optimized = simplified(function, scalar_params)
    eliminate_common_subexpressions(optimized)
    eliminate_dead_code(optimized)
    scatters = calls(optimized, rt.unindex)
    assert scatters >= 1 and calls(optimized, rt.add_at) == 0
    accumulate_in_place(optimized)
    eliminate_dead_code(optimized)
    assert calls(optimized, rt.unindex) == 0 and calls(optimized, rt.add_at) == scatters
    text = assert_gradient(fn, primal, optimized, args, wrt=wrt, scalar_params=scalar_params)
    assert re.search(r"^ +grad_(xs|X)\w* = add_at\(grad_(xs|X), ", text, re.M), text


def test_the_gradient_of_a_long_loop_over_elements_costs_time_linear_in_its_length():
    """At 80,000 elements the gradient took 420 times the function's time (each trip built a zeros
    array of 80,000); now each trip adds one element. Four times the length takes about four times
    as long (quadratic would be sixteen)."""
    derivative = adjoint.grad(filtered, wrt=(0, 1))
    short, long = (np.random.default_rng(0).random(n) * 0.01 for n in (4000, 16000))
    derivative(0.5, short)

    def seconds(xs):
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            derivative(0.5, xs)
            best = min(best, time.perf_counter() - start)
        return best

    assert seconds(long) < 8 * seconds(short)
    assert "unindex" not in adjoint.source(derivative)


def _summing_loop(total_init, body_extra=(), extra_exits=()):
    """`for i in range(n): total = total + unindex(g, x, i)`, in IR, with `total` entering as
    `total_init` (an expression), and `body_extra` statements reading the loop's values."""
    x, g, n = Var("x"), Var("g"), Var("n")
    header, following, out, index = Var("total"), Var("total"), Var("total"), Var("i")
    body = [Assign(following, Apply(operator.add, (header, Apply(rt.unindex, (g, x, index)))))]
    body += [stmt(header, following) for stmt in body_extra]
    carried = [Phi(header, (total_init(x, g), following))] + [phi for phi, _ in extra_exits]
    exits = [(out, header)] + [exit for _, exit in extra_exits]
    loop = Loop("for", carried, body, exits, index=index, bounds=(Const(0), n, Const(1)))
    return Function("f", [x, g, n], [loop, Return(Pack("tuple", [out] + [o for o, _ in exits[1:]]))], None)


def test_a_loop_total_is_added_into_only_if_no_one_else_can_hold_it():
    def scatters(function):
        return calls(accumulate_in_place(function), rt.add_at)

    # a new array of zeros, read by nothing but the loop: added into
    fresh = _summing_loop(lambda x, g: Apply(rt.zeros_grad, (x,)))
    assert scatters(fresh) == 1
    text, bindings = codegen.generate(fresh, "f", 3, set(), {})
    run = codegen.compile_function(text, "f", bindings, {}, "test pass")
    np.testing.assert_array_equal(run(np.zeros(4), 2.0, 3)[0], [2.0, 2.0, 2.0, 0.0])
    # an argument (the caller's array) entering the loop: never changed
    assert scatters(_summing_loop(lambda x, g: x)) == 0
    # a view of the total kept across trips would see the next trip's addition
    kept = Var("kept")
    kept_header, kept_out = Var("kept"), Var("kept")
    view = _summing_loop(lambda x, g: Apply(rt.zeros_grad, (x,)),
                         [lambda header, following: Assign(kept, Apply(operator.getitem, (header, Const(0))))],
                         [(Phi(kept_header, (Const(0.0), kept)), (kept_out, kept_header))])
    assert scatters(view) == 0
    # the new total also read by something that keeps it (a list): the next trip would change it
    listed = Var("listed")
    keeps = _summing_loop(lambda x, g: Apply(rt.zeros_grad, (x,)),
                          [lambda header, following: Assign(listed, Pack("list", [following]))],
                          [(Phi(kept_header, (Const(0.0), listed)), (kept_out, kept_header))])
    assert scatters(keeps) == 0


def test_hvp_does_not_compute_the_gradient_itself():
    source = adjoint.source(adjoint.hvp(neighbours), np.ones(5), np.ones(5))
    # forward over reverse gives the gradient and its tangent; hvp returns the tangent only
    assert "return as_grad(d_" in source and "\n    grad_x = " not in source
    x, v = np.linspace(-1, 1.5, 5), np.cos(np.arange(5.0))
    np.testing.assert_allclose(adjoint.hvp(neighbours)(x, v), adjoint.hessian(neighbours)(x) @ v, rtol=1e-10)


# -- common-subexpression elimination -------------------------------------------------------------

def energy(x):
    return np.sum(np.tanh(x) ** 2)


def test_cse_reuses_the_primal_square_in_the_tanh_rule():
    primal, function = gradient_ir(energy)
    optimized = simplified(function)
    # the forward sweep squares tanh(x); the tanh rule `1 - ans ** 2` squares it again
    assert calls(optimized, operator.pow) == 2
    eliminate_common_subexpressions(optimized)
    assert calls(optimized, operator.pow) == 1
    assert optimized.cse_reused == 1                 # `1 - t1 ** 2` reads the forward sweep's square
    eliminate_dead_code(optimized)
    assert_gradient(energy, primal, optimized, (np.linspace(-1, 1, 5),))


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_cse_on_the_primal_gives_a_repeated_slice_one_adjoint():
    primal = lowered(rosenbrock)
    slices = sum(1 for stmt in statements(primal) if isinstance(stmt.expr, Apply) and stmt.expr.fn is operator.getitem)
    assert slices == 3                                # x[1:], x[:-1], x[:-1]
    merged = without_common_subexpressions(primal)
    assert sum(1 for stmt in statements(merged)
               if isinstance(stmt.expr, Apply) and stmt.expr.fn is operator.getitem) == 2
    assert len(statements(lowered(rosenbrock))) == len(statements(primal))   # the cached SSA is left alone
    plain = simplified(reverse(primal, (0,), seed="one"))
    eliminate_dead_code(plain)
    _, function = gradient_ir(rosenbrock, primal_cse=True)
    simplified(function)
    eliminate_dead_code(function)
    # one `unindex` (a zero-filled array and a scatter) per distinct slice, not per use
    assert calls(plain, rt.unindex) == 3 and calls(function, rt.unindex) == 2
    assert_gradient(rosenbrock, merged, function, (np.linspace(-1, 1.5, 6),))


def inverse_trig(x):
    return math.asin(x) + math.acos(x) * 2.0


def test_cse_hoists_an_operation_repeated_inside_two_rules():
    primal, function = gradient_ir(inverse_trig)
    simplified(function, function.params)
    eliminate_dead_code(function)
    # `1 / math.sqrt(1 - x ** 2)` and `-1 / math.sqrt(1 - x ** 2)`: nested, in two statements
    assert calls(function, math.sqrt) == 2
    eliminate_common_subexpressions(function)
    assert calls(function, math.sqrt) == 1 and calls(function, operator.pow) == 1
    assert function.cse_hoisted == 1
    assert_gradient(inverse_trig, primal, function, (0.3,), scalar_params=function.params)


def solve_energy(A, b):
    return np.sum(np.linalg.solve(A, b) ** 2)


def test_cse_hoists_an_operation_met_once_inside_a_returned_value():
    """The gradients of A and b both solve with A transposed; grad_b is returned as a view of that
    solve, grad_A only reads it: one solve of them, and still two distinct outputs."""
    primal, function = gradient_ir(solve_energy, wrt=(0, 1))
    simplified(function)
    eliminate_dead_code(function)
    assert calls(function, np.linalg.solve) == 3
    eliminate_common_subexpressions(function)
    assert calls(function, np.linalg.solve) == 2 and function.cse_hoisted == 1
    A, b = np.array([[2.0, 0.5], [0.3, 1.5]]), np.array([1.0, -1.0])
    assert_gradient(solve_energy, primal, function, (A, b))


def shapes_and_transposes(W, x):
    a = W.T @ x
    b = W.T @ (x * 2.0)
    return np.sum(a * b) / W.shape[0] + np.sum(a) / W.shape[0]


def test_cse_merges_repeated_attribute_reads_and_transposes():
    primal = lowered(shapes_and_transposes)
    merged = without_common_subexpressions(primal)
    assert calls(primal, np.transpose) == 2 and calls(merged, np.transpose) == 1
    shape = adjoint.ir.Attribute("shape")
    assert calls(primal, shape) == 2 and calls(merged, shape) == 1
    assert merged.cse_removed == 3                    # the second W.T, W.shape and W.shape[0]
    _, function = gradient_ir(shapes_and_transposes, wrt=(0, 1), primal_cse=True)
    simplified(function)
    eliminate_dead_code(function)
    W, x = np.arange(6.0).reshape(3, 2) / 5, np.array([0.5, -1.0, 2.0])
    assert_gradient(shapes_and_transposes, merged, function, (W, x), wrt=(0, 1))


def per_branch(x, c):
    if c > 0:
        y = np.sin(x) * 2.0
    else:
        y = np.sin(x) * 3.0
    return np.sum(np.sin(x) * y)


def test_cse_does_not_reuse_a_value_from_a_branch_outside_it():
    primal = lowered(per_branch)
    merged = without_common_subexpressions(primal)
    # neither branch's sin(x) is available in the other branch or after the `if`
    assert calls(primal, np.sin) == 3 and calls(merged, np.sin) == 3
    x = np.linspace(-1, 1, 4)
    for c in (1.0, -1.0):
        _, function = gradient_ir(per_branch, wrt=(0,), primal_cse=True)
        simplified(function)
        eliminate_common_subexpressions(function)
        eliminate_dead_code(function)
        assert_gradient(per_branch, merged, function, (x, c))


def in_loop(x, n):
    total = 0.0
    for _ in range(n):
        total = total + np.cos(x) * np.sin(x)
    return np.sum(total * np.sin(x))


def test_cse_does_not_reuse_a_value_of_a_loop_body_after_the_loop():
    primal = lowered(in_loop)
    merged = without_common_subexpressions(primal)
    # the sin(x) after the loop cannot read the loop body's; with nothing before the loop, both stay
    assert calls(primal, np.sin) == 2 and calls(merged, np.sin) == 2
    _, function = gradient_ir(in_loop, primal_cse=True)
    optimized = simplified(function)
    eliminate_common_subexpressions(optimized)
    eliminate_dead_code(optimized)
    assert_gradient(in_loop, merged, optimized, (np.linspace(-1, 1, 3), 3))


def hoisted_before_loop(x, n):
    s = np.sin(x)
    total = s
    for _ in range(n):
        total = total * np.sin(x)
    return np.sum(total)


def test_cse_reuses_a_value_from_before_a_loop_inside_it():
    primal = lowered(hoisted_before_loop)
    merged = without_common_subexpressions(primal)
    assert calls(primal, np.sin) == 2 and calls(merged, np.sin) == 1
    _, function = gradient_ir(hoisted_before_loop, primal_cse=True)
    simplified(function)
    eliminate_common_subexpressions(function)
    eliminate_dead_code(function)
    text = assert_gradient(hoisted_before_loop, merged, function, (np.linspace(-1, 1, 3), 3))
    assert text.count("np.sin(") == 1


def noisy(x):
    a = np.random.uniform(0.0, 1.0)
    b = np.random.uniform(0.0, 1.0)
    return x * (a - b + 1.0)


def test_cse_never_merges_calls_it_does_not_know_to_be_deterministic():
    primal = lowered(noisy)
    merged = without_common_subexpressions(primal)
    assert calls(merged, np.random.uniform) == 2 and merged.cse_removed == 0
    np.random.seed(0)
    assert adjoint.grad(noisy)(1.0) != 1.0           # merged, a - b would be 0 and the gradient 1


calls_made = []


@adjoint.primitive
def counted(x):
    calls_made.append(x)
    return 2.0 * x


adjoint.defvjp(counted, lambda g, ans, x: 2.0 * g)
adjoint.defjvp(counted, lambda dx, ans, x: 2.0 * dx)


def twice_counted(x):
    return counted(x) * counted(x)


def test_cse_keeps_each_call_of_a_user_primitive():
    primal = lowered(twice_counted)
    assert calls(without_common_subexpressions(primal), counted) == 2
    del calls_made[:]
    adjoint.grad(twice_counted)(1.5)
    assert len(calls_made) == 2
    adjoint.check_grad(twice_counted, 1.5)


def same_twice(x):
    a = np.tanh(x)
    b = np.tanh(x)
    return a, b


def test_cse_does_not_make_two_outputs_one_object():
    primal = lowered(same_twice)
    merged = without_common_subexpressions(primal)
    assert calls(merged, np.tanh) == 2
    value, _ = adjoint.vjp(same_twice)(np.ones(3), (np.ones(3), np.ones(3)))
    assert value[0] is not value[1]


def test_cse_output_does_not_depend_on_hashing():
    """The same function compiles to the same text in processes with different hash seeds."""
    script = ("import sys, numpy as np; sys.path.insert(0, 'tests'); import adjoint; "
              "from test_passes import shapes_and_transposes as f, rosenbrock as r; "
              "print(adjoint.source(adjoint.grad(f, wrt=(0, 1)), np.ones((3, 2)), np.ones(3))); "
              "print(adjoint.source(adjoint.hvp(r), np.ones(4), np.ones(4)))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    texts = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        texts.add(subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True,
                                 text=True, check=True).stdout)
    assert len(texts) == 1


def test_cse_in_forward_over_reverse_merges_the_tangent_of_a_repeated_value():
    hvp = adjoint.hvp(rosenbrock)
    text = adjoint.source(hvp, np.ones(6), np.ones(6))
    assert len(re.findall(r"\bx\[:-1\]", text)) == 1 and text.count("d_x[:-1]") == 1
    x, v = np.linspace(-1, 1.5, 6), np.cos(np.arange(6.0))
    eps = 1e-6
    grad = adjoint.grad(rosenbrock)
    expected = (grad(x + eps * v) - grad(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp(x, v), expected, rtol=1e-5, atol=1e-6)


def test_cse_in_tangent_code():
    primal, function = tangent_ir(inverse_trig)
    simplified(function, function.params)
    eliminate_dead_code(function)
    assert calls(function, math.sqrt) == 2
    eliminate_common_subexpressions(function)
    assert calls(function, math.sqrt) == 1
    derivative, text = compiled(inverse_trig, primal, function, function.params)
    value, tangent = derivative(0.3, 1.0)
    assert value == inverse_trig(0.3)
    assert tangent == pytest.approx(numerical_grad(inverse_trig, [0.3], 0), rel=1e-6)
    adjoint.check_grad(inverse_trig, 0.3)


def normalized(h, w):
    mu = np.mean(h, axis=0)
    var = np.var(h, axis=0)
    return np.sum((h - mu) / np.sqrt(var + 1e-5) * w)


def test_cse_merges_the_variance_rules_mean_with_the_users():
    """The rule of np.var reads `h - np.mean(h, 0, keepdims=True)`; the user computed
    `mu = np.mean(h, axis=0)`. Calls are keyed by their parameters (`0` and `axis=0` are one
    argument), and a reduction keeping its dimensions is the one at hand with them put back:
    `np.expand_dims(mu, 0)`, not a second mean."""
    primal, function = gradient_ir(normalized, wrt=(0, 1), primal_cse=True)
    simplified(function)
    assert calls(function, np.mean) == 2
    eliminate_common_subexpressions(function)
    eliminate_dead_code(function)
    assert calls(function, np.mean) == 1 and calls(function, np.expand_dims) == 1
    rng = np.random.default_rng(6)
    h, w = rng.standard_normal((5, 3)), rng.standard_normal(3)
    assert_gradient(normalized, primal, function, (h, w), wrt=(0, 1))
    source = adjoint.source(adjoint.grad(normalized, wrt=(0, 1)), h, w)
    assert source.count("np.mean(") == 1 and "np.expand_dims(mu, 0)" in source, source


def test_cse_keys_a_call_by_its_parameters():
    h, first, second, third = Var("h"), Var("first"), Var("second"), Var("third")
    body = [Assign(first, Apply(np.mean, (h, Const(0)))),
            Assign(second, Apply(np.mean, (h,), (("axis", Const(0)), ("keepdims", Const(False))))),
            Assign(third, Apply(np.mean, (h,), (("keepdims", Const(True)), ("axis", Const(1))))),
            Return(Pack("tuple", [Apply(operator.add, (first, second)), third]))]
    function = eliminate_common_subexpressions(Function("f", [h], body, None))
    assert function.cse_removed == 1 and calls(function, np.mean) == 2


def test_cse_never_merges_an_array_that_add_at_changes_in_place():
    """`add_at(total, ...)` adds into `total` (optimize/accumulate.py makes it for totals nobody else
    holds): a second `unindex` equal to the total must stay a separate array."""
    g, x = Var("g"), Var("x")
    total, same, added, summed = Var("total"), Var("same"), Var("added"), Var("summed")
    index = Const(slice(None, 2))
    body = [Assign(total, Apply(rt.unindex, (g, x, index))),
            Assign(same, Apply(rt.unindex, (g, x, index))),
            Assign(added, Apply(rt.add_at, (total, g, x, index))),
            Assign(summed, Apply(np.sum, (same,))),
            Return(Pack("tuple", [summed, Apply(np.sum, (added,))]))]
    function = eliminate_common_subexpressions(Function("f", [g, x], body, None))
    assert function.cse_removed == 0 and calls(function, rt.unindex) == 2
    text, bindings = codegen.generate(function, "f", 2, set(), {})
    run = codegen.compile_function(text, "f", bindings, {}, "test pass")
    assert run(np.ones(2), np.zeros(4)) == (2.0, 4.0)


# -- item assignments written in place --------------------------------------------------------------

def diffuse(u, D):
    for step in range(3):
        lapu = u[2:] - 2 * u[1:-1] + u[:-2]
        u = u.copy()
        u[1:-1] = u[1:-1] + D * lapu
    return np.sum(u ** 2)


def squares(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = x[i] ** 2
    return np.sum(out * out)


def in_place_ir(fn, wrt=(0,), scalars=0):
    """The IR of fn's gradient as transform.py has it before `write_in_place`: recorded, folded."""
    primal, function = gradient_ir(fn, wrt=wrt, primal_cse=True)
    scalar_params = function.params[:scalars] if scalars else ()
    optimize(function, scalar_params, scalar_params)
    record(function, scalar_params)
    ensure_fresh_outputs(function, scalar_params)
    fuse_temporaries(function)
    return primal, function, scalar_params


def run_ir(fn, primal, function, scalar_params, args):
    text, bindings = codegen.generate(function, "derivative", len(primal.params), primal.reserved, primal.visible)
    return codegen.compile_function(text, "derivative", bindings, fn.__globals__, "test pass")(*args), text


@pytest.mark.parametrize("fn, args, scalars, writes", [(diffuse, (np.linspace(0, 1, 9) ** 2, 0.1), 0, 1),
                                                       (squares, (np.linspace(-1, 2, 6),), 0, 2)])
def test_an_item_assignment_into_a_new_array_nobody_else_reads_writes_in_place(fn, args, scalars, writes):
    """`u = u.copy(); u[1:-1] = ...` copied u twice per step (np.copy, then setitem's own copy), and
    `out[i] = ...` in a loop copied `out` on every trip: the copy keeps the old version valid for a
    later read, but here the old version is read only before the assignment (`u[1:-1]`), or only for
    its shape (the tape keeps `shape_only(u)`), and `out` enters the loop as new zeros."""
    primal, function, scalar_params = in_place_ir(fn, scalars=scalars)
    forward = [stmt for stmt in all_statements(function.body) if isinstance(stmt, Loop) and stmt.tag is not None][0]
    copies = sum(1 for stmt in forward.body if isinstance(stmt, Assign) and isinstance(stmt.expr, Apply)
                 and stmt.expr.fn is rt.setitem)
    assert copies == 1 and calls(function, rt.setitem_into) == 0
    assert write_in_place(function) == writes  # (squares: its backward sweep zeroes `g[i]` in place too)
    assert not any(isinstance(stmt, Assign) and isinstance(stmt.expr, Apply) and stmt.expr.fn is rt.setitem
                   for stmt in forward.body)
    (grad,), text = run_ir(fn, primal, function, scalar_params, args)
    np.testing.assert_allclose(grad, numerical_grad(fn, list(args), 0), rtol=1e-6, atol=1e-8, err_msg=text)
    assert "setitem_into(" in adjoint.source(adjoint.grad(fn), *args)
    adjoint.check_grad(fn, *args)


def read_old_version(u):
    v = u * 2.0
    s = np.sum(np.sin(v))        # its gradient reads cos(v): the version before the assignment
    v[0] = 0.0
    return s + np.sum(v ** 2)


def recorded_whole(x):
    out = np.zeros(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        out[i] = x[i] ** 2
        s = s + np.sum(out * x)  # the backward sweep reads each trip's `out`: the tape keeps each
    return s


def into_argument(u):
    u[0] = 2.0 * u[1]
    return np.sum(u ** 2)


@pytest.mark.parametrize("fn, copy", [(read_old_version, "setitem(v, 0, 0.0)"),
                                      (recorded_whole, "out = setitem(out, i, "),
                                      (into_argument, "setitem(u, 0, ")])
def test_an_item_assignment_copies_where_an_older_version_is_still_read(fn, copy):
    u = np.linspace(0.3, 1.2, 5)
    primal, function, scalar_params = in_place_ir(fn)
    write_in_place(function)
    (grad,), text = run_ir(fn, primal, function, scalar_params, (u.copy(),))
    assert copy in text and copy.replace("setitem(", "setitem_into(") not in text, text
    np.testing.assert_allclose(grad, numerical_grad(fn, [u.copy()], 0), rtol=1e-6, atol=1e-8, err_msg=text)
    argument = u.copy()
    adjoint.grad(fn)(argument)
    np.testing.assert_array_equal(argument, u)  # (the caller's array never changes)


def test_setitem_into_writes_into_the_array_and_copies_a_read_only_one():
    x = np.zeros(4)
    assert rt.setitem_into(x, 1, 2.0) is x and x[1] == 2.0
    spread = np.broadcast_to(np.asarray(1.0), (3,))
    written = rt.setitem_into(spread, 0, 5.0)
    np.testing.assert_array_equal(written, [5.0, 1.0, 1.0])
    np.testing.assert_array_equal(spread, [1.0, 1.0, 1.0])
    assert rt.setitem_into(np.float64(1.0), (), 3.0) == 3.0


def diffuse_penalty(u):
    return np.sum(adjoint.grad(diffuse)(u, 0.1) ** 2)


def test_generated_code_writing_in_place_is_read_back_as_item_assignments():
    """A function calling the gradient of `diffuse` differentiates its generated code, where
    `setitem_into` is read as `setitem`: its own pass decides again what may be written in place."""
    u = np.linspace(0, 1, 7) ** 2
    adjoint.check_grad(diffuse_penalty, u)
    hessian = adjoint.hessian(squares)(np.linspace(-1, 2, 5))
    np.testing.assert_allclose(hessian, np.diag(12 * np.linspace(-1, 2, 5) ** 2), rtol=1e-10, atol=1e-12)


# -- folding single-use temporaries -----------------------------------------------------------------

def sigmoid_neuron(w, x, b):
    s = w * x + b
    return 1.0 / (1.0 + math.exp(-s))


def test_fuse_writes_temporaries_read_once_into_their_reader_and_cancels_signs():
    primal, function = gradient_ir(sigmoid_neuron, wrt=(0, 1, 2))
    optimize(function, function.params, function.params)
    record(function, function.params)
    before = [stmt.target for stmt in statements(function)]
    fuse_temporaries(function)
    after = [stmt.target for stmt in statements(function)]
    assert len(after) < len(before) - 4
    assert {v.hint for v in after if v.prefix is None} >= {"s"}  # the user's names keep their lines
    assert calls(function, operator.neg) == 1  # `exp(-s)`; the rules' two other signs cancel
    text = assert_gradient(sigmoid_neuron, primal, function, (0.3, -1.2, 0.4), wrt=(0, 1, 2),
                           scalar_params=function.params)
    assert "s = w * x + b" in text and "math.exp(-s)" in text


def test_fuse_keeps_each_tape_pop_on_its_own_line():
    """A pop has an effect (the next pop reads the value before): never moved into an expression."""
    def f(x, n):
        y = x
        for _ in range(n):
            y = np.sin(y * 1.5) * np.cos(y)
        return np.sum(y * y)

    x = np.array([0.3, -0.2, 0.5])
    adjoint.check_grad(f, x, 4)
    source = adjoint.source(adjoint.grad(f), x, 4)
    pops = re.findall(r"^ +\w+ = (tape_\w*)\.pop\(\)$", source, re.M)
    assert len(pops) == source.count(".pop()") == 4 and len(set(pops)) == 4


def test_fuse_leaves_calls_with_effects_in_place():
    g, x, total, scattered, out = Var(""), Var("x"), Var(""), Var(""), Var("")
    index = Const(slice(None, 2))
    body = [Assign(total, Apply(rt.unindex, (g, x, index))),
            Assign(scattered, Apply(rt.add_at, (total, g, x, index))),
            Assign(out, Apply(np.sum, (scattered,))),
            Return(out)]
    function = fuse_temporaries(Function("f", [g, x], body, None))
    (changed,), (result,) = function.body[:-1], function.body[-1:]
    assert changed.target is scattered and changed.expr.fn is rt.add_at  # a line of its own
    assert result.value.fn is np.sum and result.value.args[0] is scattered


def mean_hinge(W, X):
    margins = np.maximum(0.0, X @ W + 1.0)
    return (np.sum(margins) - X.shape[0]) / X.shape[0]


def test_an_output_known_to_be_scalar_is_not_computed_just_to_check_it():
    """`x.shape[0]` is a number, so the output is: the check that grad's output is scalar, and the
    value it would read (the margins' sum), are dropped."""
    W, X = np.full((3, 2), 0.1), np.arange(12.0).reshape(4, 3) / 10
    source = adjoint.source(adjoint.grad(mean_hinge), W, X)
    assert "expect_scalar" not in source and "np.sum" not in source
    adjoint.check_grad(mean_hinge, W, X)


def tanh_of_product(A, B):
    return np.sum(np.tanh(A @ B))


def test_the_gradient_of_a_product_with_few_output_columns():
    """`A.T @ g` is computed as `(g.T @ A).T` when B has few columns (runtime.matmul_vjp_right):
    the same numbers, returned as a fresh writable array."""
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((6, 40)), rng.standard_normal((40, 3))
    adjoint.check_grad(tanh_of_product, A, B, wrt=(0, 1))
    grad_B = adjoint.grad(tanh_of_product, wrt=1)(A, B)
    g = 1 - np.tanh(A @ B) ** 2
    np.testing.assert_allclose(grad_B, A.T @ g, rtol=1e-12)
    assert grad_B.flags.writeable and grad_B.base is None and grad_B.shape == B.shape


# -- lifetimes: arrays deleted after their last use ----------------------------------------------


def three_layer(W1, W2, W3, X):
    h1 = np.tanh(X @ W1)
    h2 = np.tanh(h1 @ W2)
    return np.sum(np.tanh(h2 @ W3) ** 2)


def three_layer_by_hand(W1, W2, W3, X):
    h1 = np.tanh(X @ W1)
    h2 = np.tanh(h1 @ W2)
    h3 = np.tanh(h2 @ W3)
    grad_pre3 = 2.0 * h3 * (1.0 - h3 ** 2)
    grad_pre2 = (grad_pre3 @ W3.T) * (1.0 - h2 ** 2)
    grad_pre1 = (grad_pre2 @ W2.T) * (1.0 - h1 ** 2)
    return X.T @ grad_pre1, h1.T @ grad_pre2, h2.T @ grad_pre3


def _three_layer_inputs():
    rng = np.random.default_rng(3)
    return tuple(rng.standard_normal((50, 50)) * 0.1 for _ in range(3)) + (rng.standard_normal((400, 50)),)


def test_arrays_are_deleted_after_their_last_use_so_the_peak_memory_is_below_the_hand_written():
    args = _three_layer_inputs()
    d = adjoint.grad(three_layer, wrt=(0, 1, 2))
    for got, expected in zip(d(*args), three_layer_by_hand(*args)):
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    text = adjoint.source(d)
    lines = text.splitlines()
    deleted = [(i, name.strip()) for i, line in enumerate(lines) if line.strip().startswith("del ")
               for name in line.strip()[4:].split(",")]
    assert len(deleted) >= 4, text
    for i, name in deleted:  # not read again before it is assigned anew, and never a parameter
        later = next((line for line in lines[i + 1:] if re.search(rf"\b{name}\b", line)), "")
        assert later == "" or later.strip().startswith(f"{name} = "), (name, text)
        assert name not in ("W1", "W2", "W3", "X")
    # by hand, every activation and gradient lives to the return: 1.44 MB here, adjoint 0.96 MB
    # (without ending lifetimes, 1.32 MB)
    assert peak_bytes(lambda: d(*args)) < 0.8 * peak_bytes(lambda: three_layer_by_hand(*args))


def test_numbers_and_tapes_are_left_to_the_return():
    assert "del " not in adjoint.source(adjoint.grad(math_neuron, wrt=(0, 1, 2)), 1.0, 2.0, 3.0)
    looped = adjoint.source(adjoint.grad(decaying_sum), np.array([0.5, 1.5]))
    deletes = [line for line in looped.splitlines() if line.strip().startswith("del ")]
    assert "tape_x.pop()" in looped and deletes and not any("tape" in line for line in deletes)
    # `grad_total` is a number, though the loop computing `total` is gone: its seed 1.0 says so
    assert "grad_total" in looped and not any("grad_total" in line for line in deletes)


def math_neuron(w, x, b):
    return 1.0 / (1.0 + math.exp(-(w * x + b)))


def decaying_sum(x):
    total = 0.0
    for i in range(3):
        total = total + np.sum(np.sin(x) * x) * 0.5
        x = x * 0.9
    return total


def deletes_a_name(x):
    y = np.sin(x)
    z = y * x
    del y
    return np.sum(z)


def test_a_del_of_the_users_is_read_like_python():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(adjoint.grad(deletes_a_name)(x), np.cos(x) * x + np.sin(x), rtol=1e-14)
    assert adjoint.hessian(deletes_a_name)(x).shape == (3, 3)  # the derivative's own `del`s read again


def fill_from_neighbours(x):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.sin(x[i]) * x[i - 1]
    return np.sum(out ** 2)


def test_the_backward_sweep_of_a_filled_array_zeroes_its_items_in_place():
    """The adjoint of `out[i] = v` reads `g[i]` for `v`, then zeroes `g[i]` for `out`: written in that
    order, with the item copied (`item_cotangent`), the zeroing may write into `g`, which the loop
    carries; it copied `g` on every trip (quadratic in the length)."""
    primal, function, scalar_params = in_place_ir(fill_from_neighbours)
    write_in_place(function)
    backward = [stmt for stmt in all_statements(function.body) if isinstance(stmt, Loop) and stmt.mirror is not None][0]
    assert calls_in(backward.body, rt.setitem_into) == 1 and calls_in(backward.body, rt.setitem) == 0
    x = np.linspace(-1, 2, 7)
    (grad,), text = run_ir(fill_from_neighbours, primal, function, scalar_params, (x,))
    np.testing.assert_allclose(grad, numerical_grad(fill_from_neighbours, [x], 0), rtol=1e-6, atol=1e-8, err_msg=text)
    assert adjoint.check_grad(fill_from_neighbours, x) < 1e-6


def fill_scaled(x, n):
    out = np.zeros((n, 2))
    for i in range(n):
        out[i, :] = x * i
    return np.sum(out * out)


def test_a_fill_whose_item_adjoint_folds_into_a_later_line_still_zeroes_in_place():
    """`out[i, :] = x * i` backwards: `x`'s adjoint reads `g[i, :]` for `x * i`, a temporary that
    folding moved into the line after `setitem(g, i, 0.0)`, so the zeroing copied `g` every trip
    (quadratic). Such a read keeps its line before the update (fuse.py)."""
    primal, function, scalar_params = in_place_ir(fill_scaled)
    write_in_place(function)
    backward = [stmt for stmt in all_statements(function.body) if isinstance(stmt, Loop) and stmt.mirror is not None][0]
    assert calls_in(backward.body, rt.setitem_into) == 1 and calls_in(backward.body, rt.setitem) == 0
    x = np.array([0.5, -1.5])
    (grad,), text = run_ir(fill_scaled, primal, function, scalar_params, (x, 5))
    np.testing.assert_allclose(grad, 2 * x * sum(i * i for i in range(5)), rtol=1e-14, err_msg=text)
    adjoint.check_grad(fill_scaled, x, 5)


def calls_in(statements, fn):
    return sum(1 for stmt in all_statements(statements) for expr in statement_expressions(stmt)
               for node in walk(expr) if isinstance(node, Apply) and node.fn is fn)
