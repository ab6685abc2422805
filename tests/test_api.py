"""The public API: grad / value_and_grad / vjp as calls and decorators, `wrt` in all its forms,
argument binding, caching of specialisations, and the generated code as an artefact
(ssa, source, inspect, tracebacks, determinism)."""
import ast
import inspect
import math
import os
import subprocess
import sys
import traceback
import types

import numpy as np
import pytest

import adjoint
from adjoint import codegen


def poly(x, y, z):
    return x * x * y + 3.0 * z * y


def poly_grads(x, y, z):
    return 2 * x * y, x * x + 3.0 * z, 3.0 * y


ARGS = (1.5, -2.0, 0.5)


# -- grad as a call and as a decorator ----------------------------------------

@adjoint.grad
def decorated(x, y):
    return x * math.sin(y)


@adjoint.grad(wrt="y")
def decorated_wrt_name(x, y):
    return x * math.sin(y)


@adjoint.grad(wrt=(0, 1))
def decorated_wrt_both(x, y):
    return x * math.sin(y)


@adjoint.value_and_grad(wrt=1)
def decorated_value_and_grad(x, y):
    return x * math.sin(y)


def test_grad_as_call():
    assert adjoint.grad(poly)(*ARGS) == pytest.approx(poly_grads(*ARGS)[0])


def test_grad_as_bare_decorator():
    assert decorated(2.0, 0.3) == pytest.approx(math.sin(0.3))


def test_grad_as_decorator_with_arguments():
    assert decorated_wrt_name(2.0, 0.3) == pytest.approx(2.0 * math.cos(0.3))
    gx, gy = decorated_wrt_both(2.0, 0.3)
    assert (gx, gy) == pytest.approx((math.sin(0.3), 2.0 * math.cos(0.3)))


def test_value_and_grad_as_decorator():
    value, g = decorated_value_and_grad(2.0, 0.3)
    assert value == pytest.approx(2.0 * math.sin(0.3))
    assert g == pytest.approx(2.0 * math.cos(0.3))


# -- wrt -----------------------------------------------------------------------

@pytest.mark.parametrize("wrt, position", [(0, 0), (1, 1), (2, 2), (-1, 2), (-3, 0), ("x", 0), ("y", 1), ("z", 2)])
def test_wrt_single_gives_single(wrt, position):
    g = adjoint.grad(poly, wrt=wrt)(*ARGS)
    assert type(g) is float
    assert g == pytest.approx(poly_grads(*ARGS)[position])


@pytest.mark.parametrize("wrt, positions", [
    ((0,), (0,)), (("z",), (2,)), ((0, 2), (0, 2)), ((2, 0), (2, 0)), (("y", "x"), (1, 0)),
    ((0, "z"), (0, 2)), ((-1, 1), (2, 1)),
    ([0, 1, 2], (0, 1, 2)),
])
def test_wrt_tuple_gives_tuple(wrt, positions):
    grads = adjoint.grad(poly, wrt=wrt)(*ARGS)
    assert isinstance(grads, tuple) and len(grads) == len(positions)
    expected = poly_grads(*ARGS)
    assert grads == pytest.approx(tuple(expected[p] for p in positions))


def test_value_and_grad():
    value, grads = adjoint.value_and_grad(poly, wrt=(0, 1, 2))(*ARGS)
    assert value == pytest.approx(poly(*ARGS))
    assert grads == pytest.approx(poly_grads(*ARGS))
    value, g = adjoint.value_and_grad(poly, wrt="y")(*ARGS)
    assert value == pytest.approx(poly(*ARGS))
    assert g == pytest.approx(poly_grads(*ARGS)[1])


# -- vjp -----------------------------------------------------------------------

def elementwise(x, w):
    return np.tanh(x) * w


def pair(x, w):
    return x * w, np.sum(x ** 2)


def test_vjp_array_output():
    x = np.array([0.1, -0.5, 2.0])
    w = np.array([1.0, 2.0, 3.0])
    u = np.array([1.0, -1.0, 0.5])
    value, (gx, gw) = adjoint.vjp(elementwise, wrt=(0, 1))(x, w, u)
    np.testing.assert_allclose(value, np.tanh(x) * w)
    np.testing.assert_allclose(gx, u * w * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(gw, u * np.tanh(x))


def test_vjp_tuple_output_takes_tuple_cotangent():
    x = np.array([0.1, -0.5, 2.0])
    w = np.array([1.0, 2.0, 3.0])
    u = (np.array([1.0, -1.0, 0.5]), 2.0)
    value, (gx, gw) = adjoint.vjp(pair, wrt=(0, 1))(x, w, u)
    assert isinstance(value, tuple) and len(value) == 2
    np.testing.assert_allclose(value[0], x * w)
    assert value[1] == pytest.approx(np.sum(x ** 2))
    np.testing.assert_allclose(gx, u[0] * w + u[1] * 2 * x)
    np.testing.assert_allclose(gw, u[0] * x)
    value, gx = adjoint.vjp(pair)(x, w, u)  # single wrt: a single gradient
    np.testing.assert_allclose(gx, u[0] * w + u[1] * 2 * x)


def test_vjp_cotangent_by_keyword():
    x = np.array([0.1, -0.5])
    w = np.array([1.0, 2.0])
    _, gx = adjoint.vjp(elementwise)(x, w, cotangent=np.ones(2))
    np.testing.assert_allclose(gx, w * (1 - np.tanh(x) ** 2))


def summed_square_of_sum(x, y):
    return np.sum((x + y) ** 2)


def picked(x, y, c):
    g = x if c > 0 else y
    return np.sum(g * x)


def added(x, y):
    return x + y


def changes_one_gradient(x, y):
    gx, gy = adjoint.grad(summed_square_of_sum, wrt=(0, 1))(x, y)
    gx[0] = 0.0  # (Python changes gy too if they are one array)
    return np.sum(gy * x)


def test_returned_gradients_share_memory_with_no_argument_and_no_other_gradient():
    """`unbroadcast(g, x)` hands back `g` where the shapes agree: the gradients of x + y were one
    array, the gradient of `x if c else y` was the caller's `y`, and a vjp of x + y returned the
    cotangent passed in, twice."""
    x, y, u = np.array([0.5, -1.2, 2.0]), np.array([1.0, 0.3, -0.4]), np.ones(3)
    gx, gy = adjoint.grad(summed_square_of_sum, wrt=(0, 1))(x, y)
    assert not np.shares_memory(gx, gy)
    assert not np.shares_memory(adjoint.grad(picked)(x, y, -1.0), y)
    _, (gx, gy) = adjoint.vjp(added, wrt=(0, 1))(x, y, u)
    assert not any(np.shares_memory(a, b) for a, b in [(gx, gy), (gx, u), (gy, u)])
    # differentiated: Python changes only gx, as adjoint reads it
    np.testing.assert_allclose(adjoint.grad(changes_one_gradient)(x, y), 2 * (x + y) + 2 * x)
    assert adjoint.check_grad(changes_one_gradient, x, y) < 1e-6


# -- keyword arguments and defaults -------------------------------------------

def with_default(x, scale=3.0, shift=0.5):
    return scale * x * x + shift * x


def test_keyword_arguments():
    d = adjoint.grad(with_default, wrt=(0, 1, 2))
    expected = (2 * 2.0 * 1.0 + 4.0, 1.0, 1.0)
    assert d(1.0, 2.0, 4.0) == pytest.approx(expected)
    assert d(1.0, shift=4.0, scale=2.0) == pytest.approx(expected)
    assert d(x=1.0, scale=2.0, shift=4.0) == pytest.approx(expected)


def test_default_values():
    d = adjoint.grad(with_default, wrt=("x", "scale"))
    assert d(2.0) == pytest.approx((2 * 3.0 * 2.0 + 0.5, 4.0))
    assert d(2.0, shift=1.0) == pytest.approx((2 * 3.0 * 2.0 + 1.0, 4.0))
    value, g = adjoint.value_and_grad(with_default)(x=2.0)
    assert value == pytest.approx(with_default(2.0))
    assert g == pytest.approx(2 * 3.0 * 2.0 + 0.5)


def test_bad_call_arguments_fail_like_any_python_call():
    """The derivative is a plain function with the original parameters: Python checks the call."""
    d = adjoint.grad(with_default)
    with pytest.raises(TypeError, match="grad_with_default.*missing 1 required positional argument: 'x'"):
        d(scale=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        d(1.0, bogus=2.0)
    with pytest.raises(TypeError, match="takes from 1 to 3 positional arguments but 4 were given"):
        d(1.0, 2.0, 3.0, 4.0)
    assert list(inspect.signature(d).parameters) == ["x", "scale", "shift"]


# -- names the user's function has too ------------------------------------------

def with_parameter_d_x(x, d_x):
    return np.sum(np.sin(x) * d_x ** 2)


def with_default_d_x(x, d_x=2.0):
    return np.sum(np.sin(x) * d_x ** 2)


def directional_difference(fn, args, position, direction, eps=1e-6):
    """Central difference of `fn` along `direction` in argument `position`."""
    plus, minus = list(args), list(args)
    plus[position] = args[position] + eps * direction
    minus[position] = args[position] - eps * direction
    return (np.asarray(fn(*plus)) - np.asarray(fn(*minus))) / (2 * eps)


def test_tangents_of_a_function_with_a_parameter_named_d_x():
    """The tangent of `x` is `d_x_` when the function has a parameter `d_x` of its own: a keyword
    reaches the parameter it names, never the other one."""
    x, y, v = np.array([0.3, 0.7]), np.array([1.5, -0.5]), np.array([1.0, 2.0])
    jvp = adjoint.jvp(with_parameter_d_x)
    expected = directional_difference(with_parameter_d_x, (x, y), 0, v)
    assert jvp.__adjoint_transform__.extra_params() == ("d_x_",)
    for value, tangent in (jvp(x, y, v), jvp(x, d_x=y, d_x_=v), jvp(d_x_=v, d_x=y, x=x)):
        assert value == pytest.approx(with_parameter_d_x(x, y)) and tangent == pytest.approx(expected, rel=1e-6)
    both = adjoint.jvp(with_parameter_d_x, wrt=(0, 1))
    assert both.__adjoint_transform__.extra_params() == ("d_x_", "d_d_x")
    expected = expected + directional_difference(with_parameter_d_x, (x, y), 1, v)
    assert both(x, d_x=y, d_x_=v, d_d_x=v)[1] == pytest.approx(expected, rel=1e-6)
    gradient = adjoint.grad(with_parameter_d_x)
    hessian_v = directional_difference(gradient, (x, y), 0, v)
    hvp = adjoint.hvp(with_parameter_d_x)
    np.testing.assert_allclose(hvp(x, d_x=y, d_x_=v), hessian_v, rtol=1e-6)
    np.testing.assert_allclose(hvp(x, y, v), hessian_v, rtol=1e-6)
    hvp = adjoint.hvp(with_default_d_x)  # (defaults: the arguments are bound by adjoint, not Python)
    np.testing.assert_allclose(hvp(x, d_x_=v), directional_difference(adjoint.grad(with_default_d_x), (x,), 0, v),
                               rtol=1e-6)


def test_a_missing_tangent_is_named_in_the_error():
    for derivative in (adjoint.jvp(with_default_d_x), adjoint.hvp(with_default_d_x)):
        with pytest.raises(adjoint.InvalidArgument, match=r"missing the argument 'd_x_' \(the tangent of `x`, "
                                                          r"named d_x_ because d_x is a parameter of with_default_d_x"):
            derivative(np.ones(2), d_x=np.ones(2))
    with pytest.raises(adjoint.InvalidArgument, match="missing the argument 'cotangent' \\(the cotangent"):
        adjoint.vjp(with_default_d_x)(np.ones(2))


def doubled(x):
    return 2 * x


def doubled_and_summed(x):
    return 2 * x, np.sum(np.sin(x))


def curvature_of(x, scale):
    return scale * np.sum(x ** 3)


def test_a_list_tangent_or_cotangent_is_an_array():
    """A list seed is used as the array it stands for (`cotangent * 2` repeated the list)."""
    x = np.array([0.1, 0.2])
    assert np.array_equal(adjoint.vjp(doubled)(x, [1.0, 0.0])[1], [2.0, 0.0])
    assert np.array_equal(adjoint.jvp(doubled)(x, [1.0, 0.0])[1], [2.0, 0.0])
    _, gradient = adjoint.vjp(doubled_and_summed)(x, ([1.0, 0.0], 1.0))
    np.testing.assert_allclose(gradient, [2.0 + np.cos(0.1), np.cos(0.2)])
    np.testing.assert_allclose(adjoint.hvp(curvature_of)(x, 2.0, [1.0, -1.0]), 12.0 * x * [1.0, -1.0])


@pytest.mark.parametrize("call, message", [
    (lambda x: adjoint.jvp(doubled)(x, np.ones(3)), r"`d_x` must have the shape of x, \(2,\), not \(3,\)"),
    (lambda x: adjoint.jvp(doubled)(x, np.ones((2, 1))), r"`d_x` must have the shape of x, \(2,\), not \(2, 1\)"),
    (lambda x: adjoint.vjp(doubled)(x, [1.0, 2.0, 3.0]), r"`cotangent` must have the shape of the output, \(2,\)"),
    (lambda x: adjoint.vjp(doubled_and_summed)(x, (np.ones(2), np.ones(2))),
     r"`cotangent\[1\]` must have the shape of the output's item 1, \(\)"),
    (lambda x: adjoint.hvp(curvature_of)(x, 2.0, np.ones(1)), r"`d_x` must have the shape of x, \(2,\), not \(1,\)"),
    (lambda x: adjoint.jvp(curvature_of, wrt=1)(x, 2.0, np.ones(2)), r"`d_scale` must have the shape of scale, \(\)"),
    (lambda x: adjoint.jvp(doubled)(x, [[1.0], [2.0, 3.0]]), r"`d_x` is a list numpy cannot make an array of"),
], ids=["jvp", "jvp, broadcasting", "vjp", "vjp, tuple output", "hvp", "jvp of a number", "ragged list"])
def test_a_tangent_or_cotangent_of_the_wrong_shape_is_refused(call, message):
    """A clear error naming the shape needed (was numpy's broadcasting error, or a result of the wrong shape)."""
    with pytest.raises(adjoint.InvalidArgument, match=message):
        call(np.array([0.1, 0.2]))


def parameters_named_like_builtins(x, y, len, range, min):
    # desugar's `for k in range(len(x))` and `min(len(x), len(y))` are Python's, not these
    total = 0.0
    for v in x:
        total = total + np.sin(v) * len
    for a, b in zip(x, y):
        total = total + a * b * range * min
    return total


def loop_with_parameter_reversed(x, reversed):
    # the gradient loops backwards over `reversed_1(range(3))`: hvp differentiates that loop again
    total = 0.0
    for i in range(3):
        total = total + np.sum(np.sin(x) * reversed) * i
    return total


def dict_with_parameters_named_like_the_flattening(params, __target__, __structure_0__):
    # the function of the leaves calls `__target__(__structure_0__(params_w), ...)` under other names
    return np.sum(np.sin(params["w"]) * __target__ * __structure_0__)


@pytest.mark.parametrize("fn, args", [
    (parameters_named_like_builtins, (np.array([0.3, 0.7]), np.array([1.5, -0.5]), 1.5, 2.0, 0.5)),
    (loop_with_parameter_reversed, (np.array([0.3, 0.7]), 1.5)),
    (dict_with_parameters_named_like_the_flattening, ({"w": np.array([0.3, 0.7])}, 1.5, 2.0)),
])
def test_parameters_named_like_the_names_generated_code_uses(fn, args):
    """Names the derivative's code brings in (builtins, the flattening's helpers) are not the
    function's own, whatever the function calls its parameters (were refused or miscomputed)."""
    adjoint.check_grad(fn, *args)
    if isinstance(args[0], np.ndarray):
        v = np.array([1.0, 2.0])
        expected = directional_difference(adjoint.grad(fn), args, 0, v)
        np.testing.assert_allclose(adjoint.hvp(fn)(*args, v), expected, rtol=1e-6)


# -- caching -------------------------------------------------------------------

def cached(x, y):
    return np.sum(x * y)


def cached_fresh(x):
    return x * x


@pytest.fixture
def compilations(monkeypatch):
    """A list that records every compilation of generated source."""
    calls = []
    original = codegen.compile_function

    def counting(text, name, *rest):
        calls.append(name)
        return original(text, name, *rest)
    monkeypatch.setattr(codegen, "compile_function", counting)
    return calls


def test_same_transform_object():
    assert adjoint.grad(cached) is adjoint.grad(cached)
    assert adjoint.grad(cached, wrt=1) is adjoint.grad(cached, wrt=1)
    assert adjoint.grad(cached, wrt=1) is not adjoint.grad(cached)
    assert adjoint.value_and_grad(cached) is not adjoint.grad(cached)
    assert adjoint.vjp(cached) is adjoint.vjp(cached)


def test_second_call_does_not_recompile(compilations):
    fn = copy_function(cached_fresh)   # a function no other test has compiled
    d = adjoint.grad(fn)
    assert d(3.0) == 6.0
    assert compilations == ["grad_cached_fresh"]
    assert d(4.0) == 8.0
    assert adjoint.grad(fn)(5.0) == 10.0
    assert compilations == ["grad_cached_fresh"]


def test_new_argument_type_compiles_new_specialisation(compilations):
    d = adjoint.grad(cached, wrt=1)
    before = len(d.__adjoint_transform__.compiled)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(d(x, np.array([3.0, 4.0])), x)
    n = len(compilations)
    assert n == 1 and len(d.__adjoint_transform__.compiled) == before + 1
    np.testing.assert_array_equal(d(x, np.array([5.0, 6.0])), x)
    assert len(compilations) == n
    np.testing.assert_array_equal(d(x, 2.0), np.sum(x))   # float y: a new specialisation
    assert len(compilations) == n + 1
    assert len(d.__adjoint_transform__.compiled) == before + 2
    assert type(d(x, 2.0)) is float
    assert len(compilations) == n + 1


def test_changed_code_recompiles():
    fn = copy_function(cached_fresh)  # a function whose code we swap, as an edit-and-reload would
    first = adjoint.grad(fn)
    assert first(2.0) == 4.0
    fn.__code__ = poly_square.__code__
    second = adjoint.grad(fn)
    assert second is not first
    assert second(2.0) == pytest.approx(3 * 2.0 ** 2)


def poly_square(x):
    return x ** 3


# -- adjoint.ssa ---------------------------------------------------------------

def reassigns(x, y):
    a = x * y
    a = a + x
    b = a * a
    a = b - y
    return a


def test_ssa_names_every_value_once():
    text = adjoint.ssa(reassigns)
    tree = ast.parse(text)
    function = tree.body[0]
    assert [arg.arg for arg in function.args.args] == ["x", "y"]
    targets = [t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets]
    assert len(targets) == len(set(targets)), text
    assert not set(targets) & {"x", "y"}, text
    versions_of_a = [t for t in targets if t == "a" or t.startswith("a_")]
    assert len(versions_of_a) == 3, text   # `a` is assigned three times: three distinct names
    assert "b" in targets
    # it is still the same function
    namespace = {}
    exec(compile(text, "<ssa>", "exec"), namespace)
    assert namespace["reassigns"](1.5, -2.0) == reassigns(1.5, -2.0)


def test_ssa_of_augmented_assignment():
    text = adjoint.ssa(augmented)
    targets = [t.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Assign) for t in node.targets]
    assert len(targets) == len(set(targets)) == 3, text


def augmented(x):
    s = x
    s += 1.0
    s *= x
    s -= 2.0
    return s


def test_ssa_of_non_function_is_invalid_argument():
    with pytest.raises(adjoint.InvalidArgument, match="not one"):
        adjoint.ssa(math.sin)
    with pytest.raises(adjoint.InvalidArgument, match="adjoint.source"):
        adjoint.ssa(adjoint.grad(poly))


# -- generated source ----------------------------------------------------------

def broken_dot(x, y):
    z = np.dot(x, y)
    return np.sum(z)


def test_source_compiles():
    d = adjoint.grad(poly, wrt=(0, 1, 2))
    d(*ARGS)
    text = adjoint.source(d)
    code = compile(text, "<test>", "exec")
    assert isinstance(code, types.CodeType)
    assert text.lstrip().startswith("def grad_poly(x, y, z):")


def test_source_before_first_call_is_generic_and_compiles():
    text = adjoint.source(adjoint.grad(poly_square))
    compile(text, "<test>", "exec")
    assert "def grad_poly_square(x):" in text


def test_source_for_argument_types():
    d = adjoint.grad(cached, wrt=1)
    x = np.array([1.0, 2.0])
    array_text = adjoint.source(d, x, x)
    float_text = adjoint.source(d, x, 2.0)
    for text in (array_text, float_text):
        compile(text, "<test>", "exec")


def test_inspect_getsource_shows_generated_source():
    d = adjoint.grad(poly, wrt=(0, 2))
    d(*ARGS)
    key = tuple(map(type, ARGS))
    fn = d.__adjoint_transform__.python_function(key)
    assert isinstance(fn, types.FunctionType)
    assert inspect.getsource(fn) == adjoint.source(d, *ARGS)
    assert fn.__code__.co_filename.startswith("<adjoint ")
    assert inspect.getsource(d) == adjoint.source(d)   # via __wrapped__


def test_traceback_shows_generated_line():
    d = adjoint.grad(broken_dot)
    x, y = np.ones(3), np.ones(4)
    with pytest.raises(ValueError) as info:
        d(x, y)
    text = adjoint.source(d, x, y)
    frames = traceback.extract_tb(info.value.__traceback__)
    generated = [frame for frame in frames if frame.filename.startswith("<adjoint ")]
    assert [f.filename.startswith("<adjoint dispatch") for f in generated] == [True, False], frames
    frame = generated[-1]   # the dispatcher calls the derivative, where the error is
    assert frame.name == "grad_broken_dot"
    assert frame.line == "z = np.dot(x, y)"
    assert text.splitlines()[frame.lineno - 1].strip() == frame.line
    assert fn_filename(d, x, y) == frame.filename


def dict_loss(params, x):
    return np.sum(np.tanh(params["W"] @ x + params["b"]) ** 2)


class Affine:
    def __init__(self, w, b):
        self.w, self.b = w, b


def object_loss(model, x):
    return np.sum((model.w * x + model.b) ** 2)


def list_loss(ws, x):
    return (ws[0] * x + ws[1]) ** 2


def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


STRUCTURED = [
    (adjoint.grad, dict_loss, ({"W": np.ones((2, 3)), "b": np.zeros(2)}, np.ones(3)),
     "def grad_dict_loss(params_W, params_b, x):"),
    (adjoint.value_and_grad, object_loss, (Affine(np.ones(2), 0.5), np.ones(2)),
     "def value_and_grad_object_loss(model_w, model_b, x):"),
    (adjoint.vjp, list_loss, ([1.0, 2.0], 3.0, 1.0), "def vjp_list_loss(ws_0, ws_1, x, cotangent):"),
    (lambda f: adjoint.grad(f, mode="forward"), dict_loss, ({"W": np.ones((2, 3)), "b": np.zeros(2)}, np.ones(3)),
     "def jvp_dict_loss(params_W, params_b, x, d_params_W):"),
    (adjoint.grad, power, (1.5, 3), "def grad_power(x):"),  # specialised on the int `n`
    (lambda f: adjoint.grad(adjoint.grad(f)), power, (1.5, 3), "def grad_grad_power(x):"),
]


@pytest.mark.parametrize("make, fn, args, first_line", STRUCTURED,
                         ids=[f"{fn.__name__}-{line.split('(')[0][4:]}" for _, fn, _, line in STRUCTURED])
def test_source_of_a_derivative_taking_a_dict_list_or_object(make, fn, args, first_line):
    """The code that runs is the derivative of the function of the structure's leaves (was an
    AttributeError: the dispatcher's specialisation is a `structures.Flattened`, not a function)."""
    d = make(fn)
    text = adjoint.source(d, *args)
    assert text.startswith(first_line + "\n"), text
    compile(text, "<test>", "exec")
    d(*args)
    assert adjoint.source(d) == text  # without arguments: the one used last
    if not isinstance(d, adjoint.api.ForwardGrad):
        assert inspect.getsource(d) == text


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_source_without_arguments_of_a_function_of_an_object_says_to_pass_some(mode):
    """Before any call there is no structure to specialise on: an InvalidArgument saying so (was a
    NoDerivativeRule for `adjoint.ir.attribute 'w'`); after a call, the code that ran. Other errors
    are not hidden behind it."""
    d = adjoint.grad(object_loss, mode=mode)
    with pytest.raises(adjoint.InvalidArgument) as info:
        adjoint.source(d)
    message = str(info.value)
    assert "specialised to that structure" in message and "example arguments" in message, message
    args = (Affine(np.ones(2), 0.5), np.ones(2))
    d(*args)
    assert adjoint.source(d) == adjoint.source(d, *args)
    with pytest.raises(adjoint.NoDerivativeRule, match="no derivative rule for `i0`"):
        adjoint.source(adjoint.grad(total_bessel, mode=mode))


def total_bessel(x):
    return np.sum(np.i0(x))


def test_source_of_something_adjoint_did_not_make_is_an_invalid_argument():
    with pytest.raises(adjoint.InvalidArgument, match="derivative made by adjoint"):
        adjoint.source(poly)


def two_outputs(x, y=2.0):
    return np.array([x * y, np.sin(x)])


def two_outputs_sum(x, y):
    return np.sum(two_outputs(x) * y)


@pytest.mark.parametrize("make, args", [
    (lambda: adjoint.grad(poly_square, mode="forward"), (1.5,)),           # one pass, the slope
    (lambda: adjoint.grad(dict_loss, wrt=1, mode="forward"), ({"W": np.ones((2, 3)), "b": np.zeros(2)}, np.ones(3))),
    (lambda: adjoint.grad(power, mode="forward"), (1.5, 3)),
    (lambda: adjoint.jacobian(two_outputs), (1.5,)),
    (lambda: adjoint.jacobian(two_outputs, mode="reverse"), (1.5, 3.0)),
    (lambda: adjoint.hessian(two_outputs_sum, wrt=1), (1.5, np.ones(2))),
], ids=["forward-grad", "forward-grad-of-a-dict-function", "forward-grad-of-a-recursion", "jacobian",
        "jacobian-reverse", "hessian"])
def test_inspect_getsource_of_a_forward_gradient_or_a_jacobian(make, args):
    """What ran is one function: inspect.getsource shows it, as adjoint.source does (was a TypeError:
    not a function); inspect.signature shows the function's parameters, not the pass's."""
    d = make()
    d(*args)
    assert inspect.getsource(d) == adjoint.source(d)
    compile(inspect.getsource(d), "<test>", "exec")
    fn = d.fn if not isinstance(d.fn, adjoint.api.Transform) else d.fn.fn
    assert list(inspect.signature(d).parameters) == list(inspect.signature(fn).parameters)


def test_source_of_a_forward_gradient_with_respect_to_several_arguments_shows_each_pass():
    d = adjoint.grad(two_outputs_sum, wrt=(0, 1), mode="forward")
    d(1.5, np.ones(2))
    text = adjoint.source(d)
    assert text.count("def ") == 2 and "def derivative_two_outputs_sum(x, y):" in text, text
    assert "def jvp_two_outputs_sum(x, y, d_y):" in text, text


def fn_filename(d, *args):
    return d.__adjoint_transform__.python_function(tuple(map(type, args))).__code__.co_filename


def test_generated_filenames_are_unique():
    d = adjoint.grad(cached)
    x = np.ones(2)
    assert fn_filename(d, x, x) != fn_filename(d, x, 2.0)


def copy_function(fn):
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


@pytest.mark.parametrize("fn, args, wrt", [
    (poly, ARGS, (0, 1, 2)),
    (reassigns, (1.0, 2.0), (0, 1)),
    (broken_dot, (np.ones(3), np.ones(3)), 1),
    (pair, (np.ones(3), np.ones(3), (np.ones(3), 1.0)), 0),
])
def test_generated_source_is_deterministic(fn, args, wrt):
    texts = []
    for _ in range(3):
        copy = copy_function(fn)
        transform = adjoint.vjp(copy, wrt=wrt) if fn is pair else adjoint.grad(copy, wrt=wrt)
        transform(*args)
        texts.append(adjoint.source(transform, *args))
    assert texts[0] == texts[1] == texts[2]
    assert adjoint.ssa(copy_function(fn)) == adjoint.ssa(copy_function(fn))


DETERMINISM_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import adjoint
import test_api as t
texts = [adjoint.ssa(t.reassigns), adjoint.ssa(t.poly)]
for fn, args, wrt in [(t.poly, t.ARGS, (0, 1, 2)), (t.reassigns, (1.0, 2.0), (0, 1)),
                      (t.broken_dot, (np.ones(3), np.ones(3)), (0, 1)), (t.with_default, (1.0,), (0, 1, 2))]:
    d = adjoint.grad(fn, wrt=wrt)
    d(*args)
    texts.append(adjoint.source(d, *args))
print("\\n".join(texts))
"""


def test_generated_source_is_the_same_in_every_process():
    """Names and statement order must not depend on string hashing or object addresses."""
    script = DETERMINISM_SCRIPT.format(tests=os.path.dirname(__file__))
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert "def grad_poly(x, y, z):" in outputs.pop()
