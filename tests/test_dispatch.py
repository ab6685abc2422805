"""The dispatcher users call: after the first call it carries that specialisation's body itself
(adjoint/dispatch.py); every other argument type, and a changed function, still take the generic path."""
import math
import types

import numpy as np

import adjoint

_cache = 3.0  # a global named like one of the dispatcher's cells


def neuron(w, x, b):
    return 1.0 / (1.0 + math.exp(-(w * x + b)))


def scaled(x):
    return _cache * np.sum(np.sin(x))


def square(x):
    return np.sum(x * x)


def cube(x):
    return np.sum(x * x * x)


def test_the_first_specialisation_runs_inside_the_dispatcher():
    d = adjoint.grad(neuron, wrt=(0, 1, 2))
    assert d.__code__.co_varnames == ("w", "x", "b", "_key", "_compiled")
    expected = adjoint.grad(neuron, wrt=(0, 1, 2), mode="forward")(0.5, -1.0, 0.25)
    np.testing.assert_allclose(d(0.5, -1.0, 0.25), expected, rtol=1e-12)
    assert "t1" in d.__code__.co_varnames  # the body is in the dispatcher's own code now
    np.testing.assert_allclose(d(0.5, -1.0, 0.25), expected, rtol=1e-12)


def test_the_dispatchers_own_names_are_constants_of_its_code_not_globals_or_cells():
    d = adjoint.grad(neuron, wrt=(0, 1, 2))
    d(0.5, -1.0, 0.25)
    assert d.__closure__ is None  # (each cell would cost a nanosecond or so per call)
    constants = d.__code__.co_consts
    assert float in constants and neuron.__code__ in constants and math in constants
    assert not any(name.startswith("_") and not name.endswith("__") for name in d.__code__.co_names)
    assert not any(type(c) is str and c.startswith("\0") for c in constants)  # no placeholder left


def test_a_long_derivative_is_called_not_written_into_the_dispatcher(monkeypatch):
    from adjoint import dispatch
    monkeypatch.setattr(dispatch, "_LONGEST_INLINED", 3)  # the neuron's derivative counts as long now
    fresh = types.FunctionType(neuron.__code__, neuron.__globals__, "neuron")  # nothing compiled for it yet
    d = adjoint.grad(fresh, wrt=(0, 1, 2))
    expected = adjoint.grad(neuron, wrt=(0, 1, 2), mode="forward")(0.5, -1.0, 0.25)
    for _ in range(2):
        np.testing.assert_allclose(d(0.5, -1.0, 0.25), expected, rtol=1e-12)
    assert "t1" not in d.__code__.co_varnames  # (parsing and compiling it twice would cost compile time)


def test_other_argument_types_take_the_generic_path():
    d = adjoint.grad(square)
    assert d(3.0) == 6.0 and type(d(3.0)) is float
    np.testing.assert_array_equal(d(np.array([1.0, 2.0])), [2.0, 4.0])  # not the float body
    assert d(2) == 4.0 and type(d(2)) is float  # ints promote, as their own specialisation says
    np.testing.assert_array_equal(d(np.float32(1.5)), np.float32(3.0))


def test_a_function_reading_a_global_named_like_a_cell_keeps_the_generic_dispatcher():
    d = adjoint.grad(scaled)
    x = np.array([0.1, 0.2])
    np.testing.assert_allclose(d(x), 3.0 * np.cos(x))
    assert "grad_x" not in d.__code__.co_varnames


def test_a_replaced_code_object_is_noticed_by_the_inlined_path():
    def f(x):
        return np.sum(x * x)

    d = adjoint.grad(f)
    x = np.array([1.0, 2.0])
    d(x)
    np.testing.assert_array_equal(d(x), [2.0, 4.0])
    f.__code__ = cube.__code__
    np.testing.assert_array_equal(d(x), [3.0, 12.0])


def named_like_the_dispatcher(_key, _compiled, _cache=2.0):
    return _key * _compiled * _cache


def test_parameters_named_like_the_dispatchers_own_names():
    d = adjoint.grad(named_like_the_dispatcher, wrt=(0, 1))
    for _ in range(2):  # the generic path, then the body written into the dispatcher
        assert d(3.0, 5.0) == (10.0, 6.0)
    assert d(3.0, 5.0, 1.0) == (5.0, 3.0)
