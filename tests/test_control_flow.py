"""Branches and loops: both modes against finite differences and each other, the shape of the
generated loop code, and clear errors for what is not supported."""
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import adjoint
from cases_control import CASES, pendulum, rnn, W3, U3, XS, H0

def params(cases):
    return [pytest.param(case, id=case.name) for case in cases]


def positions(case):
    names = case.fn.__code__.co_varnames[:case.fn.__code__.co_argcount]
    items = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def as_list(grads, case):
    return list(grads) if isinstance(case.wrt, tuple) else [grads]


def tapes(source):
    return sorted(set(re.findall(r"(\w+) = \[\]", source)))


def test_table_is_large_and_names_are_unique():
    assert len({case.fn for case in CASES}) >= 50
    assert len(CASES) >= 80
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", params(CASES))
def test_matches_finite_differences(case):
    assert np.all(np.isfinite(case.fn(*case.args)))
    adjoint.check_grad(case.fn, *case.args, wrt=case.wrt, modes=("reverse", "forward"), **case.check)


@pytest.mark.parametrize("case", params(CASES))
def test_modes_agree_and_value_is_kept(case):
    reverse = as_list(adjoint.grad(case.fn, wrt=case.wrt)(*case.args), case)
    forward = as_list(adjoint.grad(case.fn, wrt=case.wrt, mode="forward")(*case.args), case)
    for position, r, f in zip(positions(case), reverse, forward):
        assert np.shape(r) == np.shape(case.args[position])
        np.testing.assert_allclose(r, f, rtol=1e-10, atol=1e-12, err_msg=f"argument {position}")
    value, _ = adjoint.value_and_grad(case.fn, wrt=case.wrt)(*case.args)
    np.testing.assert_allclose(value, case.fn(*case.args), rtol=1e-13)


def test_inputs_are_not_changed():
    for case in CASES:
        before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in case.args]
        adjoint.grad(case.fn, wrt=case.wrt)(*case.args)
        adjoint.grad(case.fn, wrt=case.wrt, mode="forward")(*case.args)
        for old, new in zip(before, case.args):
            np.testing.assert_array_equal(old, new, err_msg=case.name)


# -- the generated code ---------------------------------------------------------------


def branches_only(x, y):
    z = x * y
    if z > 0.5:
        z = z * z
    elif z < -1.0:
        z = -z
    w = x if x > y else y
    return math.sin(z) * w


def test_code_without_loops_records_nothing():
    for fn, args in [(branches_only, (0.9, 0.8)), (branches_only, (-0.9, 1.8))]:
        text = adjoint.source(adjoint.grad(fn, wrt=(0, 1)), *args)
        assert ".append(" not in text and ".pop(" not in text and "[]" not in text


def test_pendulum_records_theta_only():
    gradient = adjoint.grad(pendulum, wrt=(0, 1))
    gradient(1.0, 0.5)
    text = adjoint.source(gradient)
    assert len(tapes(text)) == 1 and "theta" in tapes(text)[0]
    assert text.count(".append(") == 1 and text.count(".pop(") == 1
    assert re.search(r"^\s+while t < 0\.5:$", text, re.M), text
    assert re.search(r"^\s+for _ in range\(trips\):$", text, re.M), text


def test_array_a_loop_only_reads_is_not_recorded():
    gradient = adjoint.grad(rnn, wrt=(0, 1, 2, 3))
    gradient(W3, U3, XS, H0)
    text = adjoint.source(gradient)
    assert not any(name in tape for tape in tapes(text) for name in ("W", "U", "xs")), text
    # h changes each trip, and is the one value recorded whole (of W @ h and U @ x only the shape is)
    pushes = re.findall(r"\.append\((.*)\)$", text, re.M)
    assert [value for value in pushes if not value.startswith("shape_only(")] == ["h"], text
    assert "xs[t]" in text.split("reversed(range(")[1]  # a row of xs is taken again, not recorded


def for_loop(x, n):
    for i in range(1, n, 2):
        x = x * math.sin(x + i)
    return x


def test_for_loop_replays_its_range_backwards():
    text = adjoint.source(adjoint.grad(for_loop), 0.7, 6)
    assert "reversed(range(1, n, 2))" in text, text
    assert "trips" not in text  # a range knows its own length: nothing counts the trips


def test_loop_that_breaks_replays_the_trips_it_made():
    from cases_control import for_break
    text = adjoint.source(adjoint.grad(for_break), np.array([0.3, -0.5, 1.8, 0.9]))
    assert re.search(r"^\s+for k in range\(\w+\):\n\s+if broke:\n\s+break$", text, re.M), text
    assert re.search(r"^\s+for k in reversed\(range\(trips\)\):$", text, re.M), text
    assert "v = x[k]" in text.split("reversed(")[1]  # the element is taken again, not recorded
    assert not any("k" in tape or "v" in tape for tape in tapes(text)), text


def test_and_or_read_as_python():
    from cases_control import cond_and, while_and_condition
    assert re.search(r"= \w+ and y > 0$", adjoint.source(adjoint.grad(cond_and), 0.5, 0.7), re.M)
    text = adjoint.source(adjoint.grad(while_and_condition), 0.7)
    assert re.search(r"^\s+while \w+ < 5\.0 and i < 10:$", text, re.M), text


def test_second_derivative_through_a_loop_that_records_nothing():
    from cases_control import for_index_in_formula
    x = 0.6
    expected = sum(-k * k * math.sin(k * x) / (k + 1) for k in range(4))
    for mode in ("reverse", "forward"):
        second = adjoint.grad(adjoint.grad(for_index_in_formula), mode=mode)(x)
        assert second == pytest.approx(expected, rel=1e-12), mode


def gradient_differences(fn, args, position, direction, eps=1e-6):
    """Central finite differences of the reverse-mode gradient along `direction`: H v, independently."""
    gradient = adjoint.grad(fn, wrt=position)
    shifted = [list(args), list(args)]
    x = np.asarray(args[position], dtype=float)
    for sign, arguments in zip((1, -1), shifted):
        moved = x + sign * eps * direction
        arguments[position] = float(moved) if np.ndim(args[position]) == 0 else moved
    return (np.asarray(gradient(*shifted[0])) - np.asarray(gradient(*shifted[1]))) / (2 * eps)


@pytest.mark.parametrize("case", params(CASES))
def test_hessian_vector_products_through_branches_and_loops(case):
    """Forward mode over the reverse-mode derivative, whose loops record values (`tape.append`,
    `tape.pop()`), against finite differences of the gradient."""
    position = positions(case)[0]
    x = case.args[position]
    direction = np.random.default_rng(len(case.name)).uniform(0.5, 1.5, np.shape(x))
    expected = gradient_differences(case.fn, case.args, position, direction)
    got = adjoint.hvp(case.fn, wrt=position)(*case.args, float(direction) if np.ndim(x) == 0 else direction)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_second_derivative_through_a_recording_loop_in_both_orders():
    """The pendulum's d2/dk2 by reverse over reverse (`grad(grad(f))`) and by forward over reverse
    (`hessian`): the backward sweep's `tape.pop()` is differentiated in both modes."""
    expected = gradient_differences(pendulum, (1.0, 0.5), 0, np.array(1.0))
    assert adjoint.grad(adjoint.grad(pendulum))(1.0, 0.5) == pytest.approx(expected, rel=1e-6)
    assert adjoint.hessian(pendulum)(1.0, 0.5) == pytest.approx(expected, rel=1e-6)


DETERMINISM_CASES = ["pendulum", "nested_loops_3", "return_in_loop_early", "rnn", "helper_in_loop",
                     "reads_previous_trip", "tuple_break_second", "return_in_nested_branch_early"]


def sources_of(names):
    """The reverse- and forward-mode sources of these cases, compiled afresh."""
    texts = []
    for case in (case for case in CASES if case.name in names):
        fn = case.fn
        fresh = type(fn)(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
        for mode in ("reverse", "forward"):
            texts.append(adjoint.source(adjoint.grad(fresh, wrt=case.wrt, mode=mode), *case.args))
    return texts


def test_source_is_deterministic():
    first = sources_of(DETERMINISM_CASES)
    assert sources_of(DETERMINISM_CASES) == first
    # and from one process to the next, whatever the order of sets and dicts keyed by objects
    script = ("import sys; sys.path.insert(0, sys.argv[1]); import test_control_flow as t; "
              "print('\\n#\\n'.join(t.sources_of(t.DETERMINISM_CASES)))")
    outputs = {subprocess.run([sys.executable, "-c", script, os.path.dirname(__file__)], check=True, text=True,
                              capture_output=True, env=dict(os.environ, PYTHONHASHSEED=seed)).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1


# -- what is refused ------------------------------------------------------------------


def for_else(x):
    for i in range(3):
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def while_else(x):
    while x < 3.0:
        x = x * 2.0
    else:
        x = x + 1.0
    return x


def collects_in_list(x):
    values = []
    for i in range(3):
        values.append(x * i)
    return sum(values)


def test_list_collected_in_a_loop_differentiates():  # refused by earlier releases
    adjoint.check_grad(collects_in_list, 1.5)


def tuple_indexed_at_run_time(a, b):
    values = (a, b)
    s = 0.0
    k = 0
    while k < 2:
        s = s + values[k]
        k = k + 1
    return s


@pytest.mark.parametrize("fn, line", [(for_else, 1), (while_else, 1), (tuple_indexed_at_run_time, 5)])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_unsupported_loops_are_refused_with_their_line(fn, line, mode):
    with pytest.raises(adjoint.UnsupportedSyntax) as error:
        adjoint.grad(fn, mode=mode)(*[1.0] * fn.__code__.co_argcount)
    assert f"line {fn.__code__.co_firstlineno + line}," in str(error.value), str(error.value)
