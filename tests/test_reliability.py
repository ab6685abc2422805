"""The cache under threads, derivatives that follow the code they came from, and deep nesting."""
import importlib.util
import math
import re
import threading

import numpy as np
import pytest

import adjoint
from adjoint import codegen

SCALE = np.array([1.0, 2.0, 3.0])


def cubic(x):
    return x * x * x


def wave(x):
    return math.sin(x) * x


def weighted(x):
    return np.sum(SCALE * x * x)


def make_scaled(k):
    def scaled(x):
        return k * x * x
    return scaled


def test_eight_threads_share_compiled_gradients(monkeypatch):
    compiled = []
    original = codegen.compile_function

    def counting(*args, **kwargs):
        compiled.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(codegen, "compile_function", counting)
    functions = [(cubic, lambda x: 3 * x * x), (wave, lambda x: math.cos(x) * x + math.sin(x))]
    errors = []
    start = threading.Barrier(8)

    def work(index):
        fn, expected = functions[index % 2]
        start.wait()
        for step in range(200):
            x = 0.1 * step + index
            got = adjoint.grad(fn)(x)
            if abs(got - expected(x)) > 1e-9 * max(1.0, abs(expected(x))):
                errors.append((fn.__name__, x, got))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(compiled) == ["grad_cubic", "grad_wave"]   # each compiled once, by one thread


def test_closures_with_different_captured_values_get_their_own_derivatives():
    assert adjoint.grad(make_scaled(3.0))(2.0) == 12.0
    assert adjoint.grad(make_scaled(5.0))(2.0) == 20.0


def test_changed_global_array_is_read_when_called():
    global SCALE
    gradient = adjoint.grad(weighted)
    x = np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(gradient(x), 2 * SCALE * x)
    saved = SCALE
    try:
        SCALE = np.array([10.0, 20.0, 30.0])
        np.testing.assert_allclose(gradient(x), [20.0, 40.0, 60.0])
    finally:
        SCALE = saved


def test_code_object_swapped_in_place_recompiles():
    def f(x):
        return x * x

    def g(x):
        return x * x * x

    assert adjoint.grad(f)(2.0) == 4.0
    f.__code__ = g.__code__
    assert adjoint.grad(f)(2.0) == pytest.approx(12.0)


# -- a derivative already in hand follows what it inlined ---------------------------

def square(x):
    return x * x


def through_helper(x):
    return 2.0 * helper(x)


helper = square


def make_counter_scaled():
    k = 2.0

    def scaled(x):
        return k * x * x

    def set_k(value):
        nonlocal k
        k = value
    return scaled, set_k


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_rebinding_a_callee_recompiles_a_derivative_in_hand(mode):
    global helper
    gradient = adjoint.grad(through_helper, mode=mode)
    assert gradient(3.0) == 12.0
    try:
        helper = cubic
        assert gradient(3.0) == pytest.approx(54.0)   # 2 * 3x^2
        assert gradient(3.0) == pytest.approx(54.0)   # and stays so
    finally:
        helper = square
    assert gradient(3.0) == 12.0


def test_replacing_a_callees_code_recompiles_a_derivative_in_hand():
    gradient = adjoint.grad(through_helper)
    assert gradient(3.0) == 12.0
    original = square.__code__
    try:
        square.__code__ = cubic.__code__
        assert gradient(3.0) == pytest.approx(54.0)
    finally:
        square.__code__ = original
    assert gradient(3.0) == 12.0


def test_replacing_the_functions_own_code_recompiles_a_derivative_in_hand():
    def f(x):
        return x * x

    def g(x):
        return x * x * x

    gradient = adjoint.grad(f)
    assert gradient(2.0) == 4.0
    f.__code__ = g.__code__
    assert gradient(2.0) == pytest.approx(12.0)


def test_a_captured_variable_rebound_later_recompiles():
    scaled, set_k = make_counter_scaled()
    gradient = adjoint.grad(scaled)
    assert gradient(1.0) == 4.0
    set_k(5.0)
    assert gradient(1.0) == 10.0


def test_changed_defaults_recompile():
    def f(x, c=2.0):
        return c * x * x

    gradient = adjoint.grad(f)
    assert gradient(1.0) == 4.0
    f.__defaults__ = (3.0,)
    assert gradient(1.0) == 6.0


def test_changed_defaults_holding_arrays_recompile():
    """(Comparing the old defaults with the new by `==` raised: arrays have no single truth value.)"""
    def f(x, w=np.array([1.0, 2.0])):
        return np.sum(w * x)

    gradient = adjoint.grad(f)
    np.testing.assert_array_equal(gradient(np.ones(2)), [1.0, 2.0])
    f.__defaults__ = (np.array([3.0, 4.0]),)
    np.testing.assert_array_equal(gradient(np.ones(2)), [3.0, 4.0])


class Quadratic:
    scale = 2.0

    def __init__(self, w):
        self.w = w

    def out(self, x):
        return self.scale * helper(x) * self.w

    def __call__(self, x):
        return self.out(x)


QUADRATIC = Quadratic(1.0)


def through_a_global_object(x):
    return QUADRATIC.out(x)


def through_an_object_argument(model, x):
    return model.out(x)


def through_a_constructor(w, x):
    return Quadratic(w)(x)


def cubic_out(self, x):
    return self.scale * x ** 3 * self.w


def halved_call(self, x):
    return 0.5 * self.out(x)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_derivative_in_hand_follows_the_methods_and_constants_of_classes(mode):
    """Methods are inlined and class-level numbers of objects rebuilt from an argument or built
    inside are constants: replacing one on the class recompiles, as a rebound helper does."""
    global helper
    by_global = adjoint.grad(through_a_global_object, mode=mode)
    by_argument = adjoint.grad(through_an_object_argument, wrt=1, mode=mode)
    by_constructor = adjoint.grad(through_a_constructor, wrt=1, mode=mode)

    def gradients():
        return by_global(1.5), by_argument(Quadratic(1.0), 1.5), by_constructor(1.0, 1.5)
    assert gradients() == (6.0, 6.0, 6.0)              # 2 * 2x at 1.5
    original_out, original_call = Quadratic.out, Quadratic.__call__
    try:
        Quadratic.out = cubic_out
        assert gradients() == (13.5, 13.5, 13.5)       # 2 * 3x^2
        Quadratic.scale = 3.0
        assert gradients() == (20.25, 20.25, 20.25)
        Quadratic.out = original_out
        helper = cubic                                 # a helper the method calls
        assert gradients() == (20.25, 20.25, 20.25)
        Quadratic.__call__ = halved_call               # called without its name: `Quadratic(w)(x)`
        assert by_constructor(1.0, 1.5) == pytest.approx(10.125)
    finally:
        Quadratic.out, Quadratic.__call__, Quadratic.scale, helper = original_out, original_call, 2.0, square
    assert gradients() == (6.0, 6.0, 6.0)


def test_a_fresh_derivative_source_and_hessian_follow_a_replaced_method():
    gradient = adjoint.grad(through_a_global_object)
    assert gradient(1.5) == 6.0 and adjoint.hessian(through_a_global_object)(1.5) == 4.0
    original = Quadratic.out
    try:
        Quadratic.out = cubic_out
        assert "x ** 3" in adjoint.source(gradient, 1.5)  # asked before any call noticed the change
        assert adjoint.grad(through_a_global_object)(1.5) == pytest.approx(13.5)
        assert adjoint.hessian(through_a_global_object)(1.5) == pytest.approx(18.0)
    finally:
        Quadratic.out = original
    assert adjoint.grad(through_a_global_object)(1.5) == 6.0


def test_a_class_level_number_of_a_global_object_is_read_when_called_without_recompiling():
    gradient = adjoint.grad(through_a_global_object)
    assert gradient(1.5) == 6.0
    compiled = adjoint.source(gradient, 1.5)
    try:
        Quadratic.scale = 5.0
        assert gradient(1.5) == 15.0
        assert adjoint.source(gradient, 1.5) == compiled
    finally:
        Quadratic.scale = 2.0


BOUND_OUT = QUADRATIC.out  # a global holding a bound method


def through_a_global_bound_method(x):
    return BOUND_OUT(x)


def test_a_global_holding_a_bound_method_is_guarded():
    global BOUND_OUT
    gradient = adjoint.grad(through_a_global_bound_method)
    assert gradient(1.5) == 6.0
    try:
        BOUND_OUT = Quadratic(3.0).out       # another object's method: its `w` is 3
        assert gradient(1.5) == pytest.approx(18.0)
        BOUND_OUT = QUADRATIC.__call__       # another function
        assert gradient(1.5) == 6.0
    finally:
        BOUND_OUT = QUADRATIC.out
    assert gradient(1.5) == 6.0


# -- scale: deep nesting compiles (benchmarks/scale.py measures the times) -------------------

def _module_function(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


class Stack:
    def __init__(self, layers):
        self.layers = layers


MODEL = Stack([np.eye(2) * 0.5, np.eye(2) * 2.0])
SETTINGS = {"scale": 2.0}


def through_model(x):
    for W in MODEL.layers:
        x = np.tanh(W @ x)
    return SETTINGS["scale"] * np.sum(x)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_derivative_in_hand_follows_the_structure_of_global_objects(mode):
    """Compiling unrolls `for W in MODEL.layers`: a layer appended, or the list replaced, must show
    in the next gradient; a number in a global dict is read when the derivative runs."""
    gradient = adjoint.grad(through_model, mode=mode)
    x = np.array([0.3, -0.2])
    before = gradient(x)
    layers = MODEL.layers
    try:
        MODEL.layers.append(np.eye(2) * 3.0)
        assert not np.allclose(gradient(x), before)
        adjoint.check_grad(through_model, x)
        MODEL.layers = [np.eye(2)]
        np.testing.assert_allclose(gradient(x), adjoint.grad(through_model, mode="forward")(x))
        adjoint.check_grad(through_model, x)
        SETTINGS["scale"] = 4.0
        adjoint.check_grad(through_model, x)
    finally:
        MODEL.layers = layers[:2]
        SETTINGS["scale"] = 2.0
    np.testing.assert_allclose(gradient(x), before)


def test_an_expression_nested_190_deep_compiles(tmp_path):
    depth = 190   # Python's parser allows about 200
    body = "math.sin(x + 0.5 * " * depth + "x" + ")" * depth
    f = _module_function(tmp_path, "deep_expression", f"import math\n\n\ndef f(x):\n    return {body}\n")
    adjoint.check_grad(f, 0.3)


def test_loops_nested_ten_deep_compile_in_both_modes(tmp_path):
    depth = 10
    lines = ["import math", "", "", "def f(x):", "    s = x"]
    lines += ["    " * (level + 1) + f"for i{level} in range(2):" for level in range(depth)]
    lines += ["    " * (depth + 1) + "s = math.sin(s) * 0.9 + 0.1 * x", "    return s"]
    f = _module_function(tmp_path, "deep_loops", "\n".join(lines) + "\n")
    adjoint.check_grad(f, 0.3)


def _elif_chain(tmp_path, name, head, condition, value, last):
    """A function of one flat `if`/`elif` chain, 150 links long (Python allows 100 nested levels)."""
    lines = ["import numpy as np", "", "", head] + ["    s = np.sin(x)"]
    for i in range(150):
        lines += [f"    {'if' if i == 0 else 'elif'} {condition.format(i=i)}:", f"        {value.format(i=i)}"]
    lines += ["    else:", f"        {last}", "    return z * y"]
    return _module_function(tmp_path, name, "\n".join(lines) + "\n")


def _deepest_indent(text):
    return max((len(line) - len(line.lstrip())) // 4 for line in text.splitlines() if line.strip())


@pytest.mark.parametrize("condition", ["x < {i} - 75", "s * {i} > y"], ids=["on-a-parameter", "computed"])
def test_a_chain_of_150_elifs_compiles_flat_in_both_modes(tmp_path, condition):
    """The forward sweep of reverse mode computes each condition where its `elif` tested it, and
    keeps it for the backward sweep: written `elif (t2 := ...)`, not one `else:` level per link."""
    f = _elif_chain(tmp_path, "elif_chain_" + str(len(condition)), "def f(x, y):", condition,
                    "z = s + {i} * x", "z = s * x")
    for x, y in [(-80.0, 0.5), (3.5, 0.5), (80.0, 0.5), (0.7, 30.0), (0.7, -200.0)]:
        adjoint.check_grad(f, x, y, wrt=(0, 1))
        gradient = adjoint.grad(f, wrt=(0, 1))
        assert _deepest_indent(adjoint.source(gradient, x, y)) <= 3
    h = adjoint.hessian(f)(0.7, 0.5)
    by_differences = (adjoint.grad(f)(0.7 + 1e-5, 0.5) - adjoint.grad(f)(0.7 - 1e-5, 0.5)) / 2e-5
    assert abs(h - by_differences) < 1e-4


def test_early_returns_nested_past_what_python_indents_are_refused_at_their_line(tmp_path):
    """Each early `return` puts the statements after it in a branch: 120 of them would nest 120
    deep, which Python cannot compile; adjoint says so, where, and what to write instead."""
    lines = ["def f(x):"]
    for i in range(120):
        lines += [f"    if x > {i + 100}:", "        return x", "    x = x * 1.001"]
    lines += ["    return x"]
    f = _module_function(tmp_path, "early_returns", "\n".join(lines) + "\n")
    with pytest.raises(adjoint.UnsupportedSyntax) as caught:
        adjoint.grad(f)(1.5)
    message = str(caught.value)
    assert message.startswith("adjoint does not support code nested more than 99 levels deep in the derivative of f")
    assert re.search(r'File ".*early_returns.py", line \d+, column 5, in f\n    if x > \d+:', message), message
    assert message.endswith("write such code as one `if`/`elif`/`else` whose conditions compute nothing the "
                            "branches reuse.")


def test_a_reverse_jacobian_follows_a_function_whose_output_stops_being_a_scalar():
    def f(x):
        return np.sum(x * x)

    def g(x):
        return x * x

    jacobian = adjoint.jacobian(f, mode="reverse")
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(jacobian(x), [2.0, 4.0])
    np.testing.assert_array_equal(jacobian(x), [2.0, 4.0])   # (one pass now: the output was a scalar)
    f.__code__ = g.__code__
    np.testing.assert_array_equal(jacobian(x), [[2.0, 0.0], [0.0, 4.0]])


class Stack:
    acts = [np.sin]  # a class-level list of functions: appending to it changes the unrolled loop

    def apply(self, x):
        for act in self.acts:
            x = act(x)
        return x


STACK = Stack()


def stacked(x):
    return STACK.apply(x)


def captures(acts):
    def chain(x):
        for act in acts:
            x = act(x)
        return x
    return chain


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_list_of_functions_changed_in_place_on_a_class_or_in_a_closure_recompiles(mode):
    """Both lists stay the same object, so their identity guards held and the old loop came back."""
    twice = math.cos(math.sin(0.5)) * math.cos(0.5)
    saved = list(Stack.acts)
    try:
        gradient = adjoint.grad(stacked, mode=mode)
        assert gradient(0.5) == pytest.approx(math.cos(0.5))
        Stack.acts.append(np.sin)
        assert gradient(0.5) == pytest.approx(twice)
    finally:
        Stack.acts[:] = saved
    acts = [np.sin]
    gradient = adjoint.grad(captures(acts), mode=mode)
    assert gradient(0.5) == pytest.approx(math.cos(0.5))
    acts.append(np.sin)
    assert gradient(0.5) == pytest.approx(twice)
