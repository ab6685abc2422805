"""Code generation: generated names never collide with the user's (locals, parameters, globals,
builtins, runtime helpers), module globals are read live, closure values are bound."""
import ast
import builtins
import enum
import math
import operator
import re

import numpy
import numpy as np
import pytest

import adjoint
import codegen_helpers
from adjoint import codegen
from adjoint.ir import Apply, Assign, Const, Function, If, Pack, Phi, Return, Var
from codegen_helpers import shadowed_globals

X = numpy.array([0.3, -0.2, 0.5])
COLUMN = numpy.array([[0.1], [0.7]])


def colliding(x, grad_x):
    """Locals named like generated gradients, temporaries, modules and runtime helpers."""
    d_x = x * grad_x
    _t0 = d_x + 1.0
    t1 = _t0 * x
    t2 = numpy.sin(t1) - grad_x
    bx = t2 * t2
    np = 2.0
    math = bx * np
    unbroadcast = numpy.exp(-math)
    as_grad = unbroadcast * x
    return numpy.sum(as_grad + t2)


def active_np(x):
    """A local `np` that carries the derivative, while the generated code needs numpy too."""
    np = x * 2.0
    math = numpy.cos(np)
    grad_np = math * np
    return numpy.sum(grad_np * x)


def generated(transform, *args):
    """The generated source for `args`, after checking it compiles on its own."""
    text = adjoint.source(transform, *args)
    compile(text, "<generated>", "exec")
    return text


def assigned_names(text):
    return {t.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Assign) for t in node.targets}


@pytest.mark.parametrize("args", [(0.3, 0.7), (X, 0.7), (X, X[::-1].copy()), (X, COLUMN)],
                         ids=["floats", "array-float", "arrays", "broadcasting"])
def test_colliding_local_names(args):
    adjoint.check_grad(colliding, *args, wrt=(0, 1))   # reverse and forward mode
    d = adjoint.grad(colliding, wrt=(0, 1))
    d(*args)
    assert_no_collisions(generated(d, *args), ["x", "grad_x"])
    tangents = tuple(np.ones_like(a) if isinstance(a, np.ndarray) else 1.0 for a in args)
    jvp = adjoint.jvp(colliding, wrt=(0, 1))
    jvp(*args, *tangents)
    assert_no_collisions(generated(jvp, *args, *tangents), ["x", "grad_x", "d_x", "d_grad_x"])


def assert_no_collisions(text, params):
    function = ast.parse(text).body[0]
    assert [a.arg for a in function.args.args] == params
    # no local may take the name of something the code calls
    called = {node.func.id for node in ast.walk(function) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Name)}
    heads = {node.value.id for node in ast.walk(function) if isinstance(node, ast.Attribute)
             and isinstance(node.value, ast.Name)}
    assert not (called | heads) & (assigned_names(text) | set(params)), text


@pytest.mark.parametrize("args", [(0.4,), (X,)], ids=["float", "array"])
def test_local_np_that_is_active(args):
    adjoint.check_grad(active_np, *args)
    d = adjoint.grad(active_np)
    d(*args)
    text = generated(d, *args)
    assert_no_collisions(text, ["x"])
    assert ".cos(" in text, text   # numpy is still called, under a name that is not the local `np`


def test_module_globals_named_like_numpy_and_helpers():
    """`np`, `unbroadcast`, `as_grad`, `t1`, `grad_x` are float globals of the function's module."""
    adjoint.check_grad(shadowed_globals, X, COLUMN, wrt=(0, 1), modes=("reverse",))
    d = adjoint.grad(shadowed_globals, wrt=(0, 1))
    gx, gy = d(X, COLUMN)
    expected_gx = numpy.sum(COLUMN * (1 - numpy.tanh(X * COLUMN) ** 2), axis=0) * 3.0 * 0.5 + 2 * 10.0 * 100.0
    numpy.testing.assert_allclose(gx, expected_gx)
    text = generated(d, X, COLUMN)
    assert "np_1.tanh" in text or "numpy.tanh" in text, text


# -- parameters and builtins against the names inlined callees read -------------

SCALE = 2.0


def times_scale(x):
    return x * SCALE


def param_hides_global(x, SCALE):
    """The inlined callee reads the module global SCALE; this function's parameter has that name."""
    return times_scale(x) * SCALE


def bigger(a, b):
    return max(a, b)


def param_named_max(x, max):
    return bigger(x, max) * 2.0


def param_named_slice(x, slice):
    return np.sum(x[1:3]) * slice


def builtin_sum(x):
    return sum([x, x, x])


def param_named_sum(x, sum):
    return builtin_sum(x) * sum


def global_from_two_modules(x):
    """`codegen_helpers.scaled_by_g` reads its module's `g` (5.0); this function reads ours (7.0)."""
    return codegen_helpers.scaled_by_g(x) + x * g


g = 7.0


def test_parameter_named_like_a_global_the_callee_reads():
    assert adjoint.grad(param_hides_global, wrt=(0, 1))(3.0, 10.0) == (20.0, 6.0)
    adjoint.check_grad(param_hides_global, 3.0, 10.0, wrt=(0, 1))


def test_global_with_same_name_in_two_modules():
    assert adjoint.grad(global_from_two_modules)(3.0) == 5.0 + 7.0
    adjoint.check_grad(global_from_two_modules, 3.0)


@pytest.mark.parametrize("fn, args, expected", [
    (param_named_max, (3.0, 1.0), (2.0, 0.0)),
    (param_named_max, (0.5, 1.0), (0.0, 2.0)),
    (param_named_sum, (1.5, 2.0), (6.0, 4.5)),
])
def test_parameters_named_like_builtins(fn, args, expected):
    d = adjoint.grad(fn, wrt=(0, 1))
    assert d(*args) == expected
    generated(d, *args)


def test_parameter_named_slice():
    x = np.arange(4.0)
    gx, gs = adjoint.grad(param_named_slice, wrt=(0, 1))(x, 2.0)
    np.testing.assert_array_equal(gx, [0.0, 2.0, 2.0, 0.0])
    assert gs == 3.0
    value, (gx, gs) = adjoint.vjp(param_named_slice, wrt=(0, 1))(x, 2.0, 1.0)
    assert value == 6.0 and gs == 3.0


# -- live globals and closures ------------------------------------------------

WEIGHTS = np.array([1.0, 2.0, 3.0])
OFFSET = 0.5


def weighted(x):
    return np.sum(WEIGHTS * x ** 2) + OFFSET * np.sum(x)


def test_module_global_array_is_read_live(monkeypatch):
    d = adjoint.grad(weighted)
    x = np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(d(x), 2 * WEIGHTS * x + OFFSET)
    saved = WEIGHTS.copy()
    try:
        WEIGHTS[:] = [10.0, 20.0, 30.0]           # changed in place
        np.testing.assert_allclose(d(x), 2 * np.array([10.0, 20.0, 30.0]) * x + OFFSET)
    finally:
        WEIGHTS[:] = saved
    monkeypatch.setitem(globals(), "WEIGHTS", np.array([-1.0, 0.0, 1.0]))   # rebound
    monkeypatch.setitem(globals(), "OFFSET", 4.0)
    np.testing.assert_allclose(d(x), 2 * np.array([-1.0, 0.0, 1.0]) * x + 4.0)
    assert len(d.__adjoint_transform__.compiled) == 1   # the same compiled code saw the new values


def test_other_modules_global_is_read_live(monkeypatch):
    """An inlined helper's module global is as live as the function's own."""
    d = adjoint.grad(global_from_two_modules)
    assert d(3.0) == 5.0 + 7.0
    monkeypatch.setattr(codegen_helpers, "g", -1.0)
    assert d(3.0) == -1.0 + 7.0
    monkeypatch.setitem(globals(), "g", 0.25)
    assert d(3.0) == -1.0 + 0.25


def apply_to(f, x):
    return f(x) * 2.0


def passes_a_function(x):
    return apply_to(np.sin, x) + apply_to(np.exp, x)


def test_function_passed_to_inlined_helper():
    assert adjoint.grad(passes_a_function)(0.5) == pytest.approx(2.0 * (np.cos(0.5) + np.exp(0.5)))
    x = np.array([0.1, -0.4])
    np.testing.assert_allclose(adjoint.vjp(passes_a_function)(x, np.ones(2))[1], 2.0 * (np.cos(x) + np.exp(x)))


def make_scaled(k, shift):
    def scaled(x):
        return np.sum(k * np.sin(x) + shift * x)
    return scaled


def test_closure_constants():
    x = np.array([0.2, -1.0])
    for k, shift in ((3.0, 0.0), (-2.0, 1.5)):
        fn = make_scaled(k, shift)
        np.testing.assert_allclose(adjoint.grad(fn)(x), k * np.cos(x) + shift)
        adjoint.check_grad(fn, x)
        assert adjoint.grad(fn)(0.2) == pytest.approx(k * np.cos(0.2) + shift)


# -- odd objects in generated code ---------------------------------------------

doubled = np.vectorize(lambda t: t * 2.0)   # a callable whose __name__ is "<lambda>"


def uses_vectorized_lambda(x):
    return np.sum(x * doubled(np.arange(3.0)))


def test_callable_named_lambda_gets_a_valid_name():
    x = np.ones(3)
    d = adjoint.grad(uses_vectorized_lambda)
    np.testing.assert_array_equal(d(x), [0.0, 2.0, 4.0])
    assert "<lambda>" not in generated(d, x)


class Color(enum.IntEnum):
    RED = 2


def test_constants_render_as_values_of_their_own_type():
    """Constants of numpy scalar (and other int/float subclass) types must not be printed by repr:
    `np.float64(0.5)` would need a global `np`, `Color.RED` a global `Color`."""
    x, y = Var("x"), Var("y")
    values = [np.float64(0.5), np.float64(-2.0), np.float32(0.25), np.int64(-3), np.bool_(True),
              float("nan"), Color.RED, -0.0, 7, "text", None, (1, None)]
    body = [Assign(y, Apply(operator.mul, (x, Const(np.float64(0.5))))),
            Return(Pack("tuple", [y] + [Const(v) for v in values]))]
    text, bindings = codegen.generate(Function("f", [x], body, None), "f", 1, set(), {})
    compile(text, "<generated>", "exec")
    # run with no module globals at all: everything the code names must be bound by codegen
    fn = codegen.compile_function(text, "f", bindings, {"__builtins__": builtins}, "constants test")
    result = fn(2.0)
    assert result[0] == 1.0 and type(result[0]) is np.float64
    for got, expected in zip(result[1:], values):
        assert type(got) is type(expected), (got, expected, text)
        assert got == expected or (got != got and expected != expected), text
    assert math.copysign(1.0, result[8]) == -1.0


# -- compile-time sugar reads like the user's code ------------------------------

def picks_from_tuple(x, y):
    pair = (x * 2.0, y)
    return pair[0] * pair[-1] + pow(x, 3)


def test_tuple_indexing_and_pow_lower_to_plain_expressions():
    assert adjoint.grad(picks_from_tuple, wrt=(0, 1))(1.5, -2.0) == pytest.approx((2.0 * -2.0 + 3 * 1.5 ** 2, 3.0))
    d = adjoint.grad(picks_from_tuple, wrt=(0, 1))
    d(1.5, -2.0)
    text = generated(d, 1.5, -2.0) + adjoint.ssa(picks_from_tuple)
    assert "x ** 3" in text and "pow(" not in text, text
    assert "[0]" not in text and "[-1]" not in text, text


def picks_function_from_tuple(x):
    functions = (np.sin, np.cos)
    return functions[1](x)


def test_function_picked_from_tuple():
    assert adjoint.grad(picks_function_from_tuple)(0.5) == pytest.approx(-np.sin(0.5))


def test_branches_become_python_if_with_merges_as_copies():
    x, c, y = Var("x"), Var("c"), Var("y")
    body = [Assign(c, Apply(operator.gt, (x, Const(0.0)))), If(c, [], [], [Phi(y, (x, Const(0.0)))]),
            Return(y)]
    text, _ = codegen.generate(Function("f", [x], body, None), "f", 1, set(), {})
    namespace = {}
    exec(text, namespace)
    assert namespace["f"](2.0) == 2.0 and namespace["f"](-2.0) == 0.0
    assert "if " in text



def test_an_elif_chain_stays_flat_in_the_forward_sweep():
    """Reverse mode keeps each condition for the backward sweep; an `else:` holding the next
    condition and its `if` would indent once per link, so it is written `elif (t := ...)`."""
    from cases_control import elif_chain_keeps_conditions
    text = generated(adjoint.grad(elif_chain_keeps_conditions), 0.5)
    assert re.search(r"^    elif \((\w+) := x < -1\.0\):$", text, re.M), text
    assert max(len(line) - len(line.lstrip()) for line in text.splitlines()) == 8, text
    assert "else:\n        if" not in text and "if not" not in text, text


def masked_softmax_total(s, mask):
    # (the gradient reads np.where(...) for its value: read for its shape only, it is not computed)
    return np.sum(np.exp(np.where(mask, s, -np.inf))) + np.sum(np.where(s > 0.0, s, np.nan) * s)


def test_infinities_and_nan_are_written_as_numpy_names():
    """`-np.inf` and `np.nan` read as themselves, not as opaque bound constants `const`, `const_1`."""
    s, mask = np.array([0.5, -1.0, 2.0]), np.array([True, False, True])
    adjoint.check_grad(masked_softmax_total, np.array([0.5, 1.0, 2.0]), mask)
    for transform, arguments in ((adjoint.grad(masked_softmax_total), (s, mask)),
                                 (adjoint.jvp(masked_softmax_total), (s, mask, np.ones(3)))):
        text = generated(transform, *arguments)
        unwrapped = re.sub(r"\s+", "", text)   # (astor may break a long line after the minus)
        assert "-np.inf" in unwrapped and "np.nan" in unwrapped, text
        assert "const" not in text, text
    assert "np.float32(np.inf)" in codegen_source_of_constant(np.float32(np.inf))


def codegen_source_of_constant(value):
    x = Var("x")
    text, _ = codegen.generate(Function("f", [x], [Return(Apply(operator.mul, (x, Const(value))))], None),
                               "f", 1, set(), {})
    return text


class Scaler:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return np.sum((self.w * x) ** 2)


def test_the_object_of_a_bound_method_reads_as_a_named_constant():
    """The gradient of `scaler.loss` takes `x` only: its object is a constant of the code, named
    after its class (`scaler.w`), not a `self` the function has no parameter for."""
    scaler, x = Scaler(np.array([2.0, -1.0])), np.array([0.5, 1.5])
    adjoint.check_grad(scaler.loss, x)
    for transform, arguments in ((adjoint.grad(scaler.loss), (x,)), (adjoint.jvp(scaler.loss), (x, x))):
        text = generated(transform, *arguments)
        assert not re.search(r"\bself\b", text), text
        assert "scaler.w" in text, text
    assert "scaler.w" in adjoint.ssa(scaler.loss)
