"""Bugs the fuzzer (tests/test_fuzz.py) found, pinned down as small programs: value and gradient
in both modes against the function itself and central finite differences."""
import numpy as np
import pytest

import adjoint
import fuzz_regression_functions as programs

RNG = np.random.default_rng(7)
CASES = [
    (programs.break_of_inner_loop_in_branch, (0.7, 0.2)),
    (programs.break_of_inner_loop_in_branch, (-0.7, 0.2)),
    (programs.break_of_inner_loop_in_branch, (-0.7, -0.2)),
    (programs.two_sums_of_one_matrix, (RNG.uniform(-1, 1, 3),)),
    (programs.two_sums_after_branch, (np.array([0.3, 0.2, 0.1]),)),
    (programs.two_sums_after_branch, (np.array([-0.3, 0.2, -0.1]),)),
    (programs.rows_of_a_rescaled_matrix, (0.3, RNG.uniform(-1, 1, (2, 3)))),
    (programs.loop_over_a_rebound_sequence, (RNG.uniform(-1, 1, (3, 2)),)),
    (programs.updates_its_argument_in_place, (RNG.uniform(-1, 1, 4),)),
    (programs.while_test_builds_a_list, (RNG.uniform(-1, 1, 2), 0.5)),
    (programs.vector_times_matrix_in_a_loop, (RNG.uniform(-1, 1, 3),)),
    (programs.alias_updated_in_nested_loops, (0.4, RNG.uniform(-1, 1, (2, 3)))),
    (programs.loop_variable_named_like_a_temporary, (RNG.uniform(-1, 1, (2, 3)),)),
    (programs.header_kept_as_its_shape, (RNG.uniform(-1, 1, (2, 3)), 3)),
    (programs.counter_named_like_a_bound, (RNG.uniform(-1, 1, 3), 3)),
    (programs.alias_made_inside_the_loop_that_changes_it, (0.3, RNG.uniform(-1, 1, 3))),
    (programs.element_read_before_it_changes, (RNG.uniform(-1, 1, 3),)),
    (programs.headers_sharing_a_name, (RNG.uniform(-1, 1, 3), 0.3, 0.2)),
    (programs.reduction_of_a_number_over_axis_0, (RNG.uniform(-1, 1, 3),)),
    (programs.enumerate_into_one_name, (RNG.uniform(-1, 1, 4),)),
    (programs.zip_into_one_name, (RNG.uniform(-1, 1, 3), RNG.uniform(-1, 1, 3))),
    (programs.global_named_by_a_name_changed_in_a_loop, (RNG.uniform(-1, 1, (2, 3)), RNG.uniform(-1, 1, 3))),
    (programs.loop_of_powers_by_one, (RNG.uniform(-1, 1, 3), 0.4)),
    (programs.loop_of_powers_by_one, (0.7, -1.2)),
    (programs.scaled_by_its_first_row, (RNG.uniform(-1, 1, 3),)),
    (programs.scaled_by_its_first_row, (RNG.uniform(-1, 1, (2, 3)),)),
]


def copies(args):
    """Fresh arrays, the same numbers (`np.copy(0.3)` would be a 0-d array, which `x *= 0.5` changes)."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("f, args", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)])
def test_fuzz_regression(f, args):
    wrt = tuple(i for i, a in enumerate(args) if not isinstance(a, int))
    expected = f(*copies(args))
    value, _ = adjoint.value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    adjoint.check_grad(f, *args, wrt=wrt)
    forward = adjoint.grad(f, wrt=wrt, mode="forward")(*copies(args))
    reverse = adjoint.grad(f, wrt=wrt)(*copies(args))
    for r, d in zip(reverse, forward):
        np.testing.assert_allclose(r, d, rtol=1e-9, atol=1e-12)


def test_derivative_leaves_the_callers_array_alone():
    x = np.array([0.5, -0.25])
    adjoint.grad(programs.updates_its_argument_in_place)(x)
    adjoint.grad(programs.updates_its_argument_in_place, mode="forward")(x)
    np.testing.assert_array_equal(x, [0.5, -0.25])


def test_an_alias_made_in_a_loop_is_refused_not_miscomputed():
    with pytest.raises(adjoint.UnsupportedSyntax, match="may hold the same array"):
        adjoint.grad(programs.alias_made_in_a_loop, wrt=(0, 1))(np.ones(3), np.ones(3))


def test_a_view_whose_array_changes_is_refused_when_it_runs():
    derivative = adjoint.grad(programs.view_read_after_its_array_changed)
    with pytest.raises(adjoint.UnsupportedSyntax, match="`v` is a view of it") as refused:
        derivative(np.ones((2, 3)))
    assert "fuzz_regression_functions.py\", line" in str(refused.value)
    with pytest.raises(adjoint.UnsupportedSyntax, match="`v` is a view of it"):
        adjoint.grad(programs.view_read_after_its_array_changed, mode="forward")(np.ones((2, 3)))


def test_a_helper_changing_its_argument_inside_a_loop_is_refused():
    with pytest.raises(adjoint.UnsupportedSyntax, match="which the caller passed to"):
        adjoint.grad(programs.calls_a_helper_changing_its_argument)(np.ones((2, 3)))


def test_a_view_changed_after_its_loop_is_refused():
    with pytest.raises(adjoint.UnsupportedSyntax, match="may be a view"):
        adjoint.grad(programs.view_changed_after_its_loop)(np.ones((2, 3)), 0.5)


@pytest.mark.parametrize("f", [programs.names_swapped_in_a_loop, programs.alias_rebound_in_a_loop,
                               programs.alias_changed_then_rebound_in_a_loop, programs.alias_made_on_a_later_trip,
                               programs.array_kept_in_a_list])
def test_names_that_may_share_an_array_after_a_loop_are_refused(f):
    with pytest.raises(adjoint.UnsupportedSyntax, match="same array") as refused:
        adjoint.grad(f)(np.array([-0.5, 0.7, -1.3]), 2)
    assert "fuzz_regression_functions.py\", line" in str(refused.value) and ".copy()" in str(refused.value)


def test_second_derivative_through_a_product_of_zeros_is_not_nan():
    x = 0.03546487410077015
    gradient = adjoint.grad(programs.product_of_a_row_that_becomes_zero)
    by_differences = (gradient(x + 1e-6) - gradient(x - 1e-6)) / 2e-6
    assert adjoint.hvp(programs.product_of_a_row_that_becomes_zero)(x, 1.0) == pytest.approx(by_differences, abs=1e-9)


@pytest.mark.parametrize("shape", [(3,), (2, 3)])
def test_second_derivative_adds_into_a_spread_total_as_a_new_array(shape):
    x, v = RNG.uniform(-1, 1, shape), RNG.uniform(0.5, 1.5, shape)
    gradient = adjoint.grad(programs.scaled_by_its_first_row)
    by_differences = (gradient(x + 1e-6 * v) - gradient(x - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(adjoint.hvp(programs.scaled_by_its_first_row)(x, v), by_differences, rtol=1e-6, atol=1e-8)
