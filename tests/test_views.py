"""Views: numpy functions that may return memory of their argument (flips, splits, rows taken by
iterating, diagonals, conversions that keep the array). Writing into the array while a view of it
is read later, or writing into the view, changes both in Python; adjoint's updates are copies, so
it must refuse, never compute something else. Results that are copies must keep working."""
import numpy as np
import pytest

import adjoint

X4 = np.array([0.5, -1.0, 1.5, 2.0])


# -- the array changes while a view of it is read later ---------------------------------------

def flip_then_write(x):
    y = x * 1.0
    r = np.flip(y)
    y[0] = 0.0
    return np.sum(r * x)


def fliplr_then_write(x):
    y = np.outer(x, x)
    r = np.fliplr(y)
    y[0, 0] = 0.0
    return np.sum(r)


def flipud_then_write(x):
    y = np.outer(x, x)
    r = np.flipud(y)
    y[0, 0] = 0.0
    return np.sum(r)


def rot90_of_a_constant_then_write(x):
    c = np.ones((4, 4))
    r = np.rot90(c)
    c[0, 0] = 5.0
    return np.sum(r @ x)


def split_then_write(x):
    y = x * 1.0
    a, b = np.split(y, 2)
    y[0] = 0.0
    return np.sum(a * b)


def array_split_kept_as_a_list_then_write(x):
    y = x * 1.0
    parts = np.array_split(y, 3)
    y[0] = 0.0
    return np.sum(parts[0] * 2.0)


def hsplit_of_a_constant_then_write(x):
    c = np.ones((4, 4))
    left = np.hsplit(c, 2)[0]
    c[0, 0] = 5.0
    return np.sum(left @ x[:2])


def vsplit_of_a_constant_then_write(x):
    c = np.ones((4, 4))
    top = np.vsplit(c, 2)[0]
    c[0, 0] = 5.0
    return np.sum(top @ x)


def rows_by_comprehension_then_write(x):
    m = np.outer(x, x)
    rows = [r for r in m]
    m[0, 0] = 0.0
    return np.sum(rows[0] * x)


def rows_by_list_then_write(x):
    c = np.ones((4, 4))
    rows = list(c)
    c[0, 0] = 5.0
    return np.sum(rows[0] * x)


def rows_unpacked_then_write(x):
    m = np.outer(x, x)
    a, b, c, d = m
    m[0, 0] = 0.0
    return np.sum(a * x)


def rows_in_a_list_literal_then_write(x):
    m = np.outer(x, x)
    rows = [m[0], m[1]]
    m[0, 0] = 0.0
    return np.sum(rows[0] * x)


def row_in_a_dict_then_write(x):
    m = np.outer(x, x)
    d = {"first": m[0]}
    m[0, 0] = 0.0
    return np.sum(d["first"] * x)


def diag_of_a_matrix_then_write(x):
    m = np.outer(x, x)
    d = np.diag(m)
    m[0, 0] = 0.0
    return np.sum(d * x)


def einsum_diagonal_then_write(x):
    m = np.outer(x, x)
    d = np.einsum("ii->i", m)
    m[0, 0] = 0.0
    return np.sum(d * x)


def zero_differences_then_write(x):
    m = np.outer(x, x)
    d = np.diff(m, n=0)
    m[0, 0] = 0.0
    return np.sum(d)


def array_without_a_copy_then_write(x):
    c = np.ones((4, 4))
    r = np.array(c, copy=None)
    c[0, 0] = 5.0
    return np.sum(r @ x)


def nan_to_num_without_a_copy_then_write(x):  # `copy=False`: the array itself, its nans replaced in place
    y = x * 1.0
    z = np.nan_to_num(y, copy=False)
    y[0] = 5.0 * x[1]
    return np.sum(z * 1.5) + np.sum(y)


def asarray_without_a_copy_then_write(x):
    y = x * 1.0
    z = np.asarray(y, dtype=float, copy=None)
    y[0] = 5.0 * x[1]
    return np.sum(z * 1.5) + np.sum(y)


def view_method_then_write(x):
    c = np.ones((4, 4))
    r = c.view()
    c[0, 0] = 5.0
    return np.sum(r @ x)


def row_in_a_list_then_add_in_place(x):
    m = np.outer(x, x)
    rows = [m[0]]
    m += 1.0
    return np.sum(rows[0] * x)


def array_in_a_list_then_add_in_place(x):
    y = x * 1.0
    kept = [y]
    y += 1.0
    return np.sum(kept[0] * x)


def row_of_a_loop_then_write(x):
    m = np.outer(x, x)
    total = 0.0
    for r in m:
        m[0, 0] = 3.0
        total = total + np.sum(r)
    return total


@pytest.mark.parametrize("fn, line", [
    (flip_then_write, "y[0] = 0.0"), (fliplr_then_write, "y[0, 0] = 0.0"), (flipud_then_write, "y[0, 0] = 0.0"),
    (rot90_of_a_constant_then_write, "c[0, 0] = 5.0"), (split_then_write, "y[0] = 0.0"),
    (array_split_kept_as_a_list_then_write, "y[0] = 0.0"), (hsplit_of_a_constant_then_write, "c[0, 0] = 5.0"),
    (vsplit_of_a_constant_then_write, "c[0, 0] = 5.0"), (rows_by_comprehension_then_write, "m[0, 0] = 0.0"),
    (rows_by_list_then_write, "c[0, 0] = 5.0"), (rows_unpacked_then_write, "m[0, 0] = 0.0"),
    (rows_in_a_list_literal_then_write, "m[0, 0] = 0.0"), (row_in_a_dict_then_write, "m[0, 0] = 0.0"),
    (diag_of_a_matrix_then_write, "m[0, 0] = 0.0"), (einsum_diagonal_then_write, "m[0, 0] = 0.0"),
    (zero_differences_then_write, "m[0, 0] = 0.0"), (array_without_a_copy_then_write, "c[0, 0] = 5.0"),
    (nan_to_num_without_a_copy_then_write, "y[0] = 5.0 * x[1]"), (asarray_without_a_copy_then_write, "y[0] = 5.0 * x[1]"),
    (view_method_then_write, "c[0, 0] = 5.0"), (row_in_a_list_then_add_in_place, "m += 1.0"),
    (array_in_a_list_then_add_in_place, "y += 1.0"), (row_of_a_loop_then_write, "m[0, 0] = 3.0"),
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_changing_an_array_a_view_still_reads_is_refused(fn, line, mode):
    with pytest.raises(adjoint.UnsupportedSyntax, match="view of it|also holds") as refused:
        adjoint.grad(fn, mode=mode)(X4)
    message = str(refused.value)
    assert f"in {fn.__name__}" in message and line in message and "copy" in message, message


# -- writing into the view ----------------------------------------------------------------------

def writes_into_a_flip(x):
    m = np.outer(x, x)
    r = np.flip(m)
    r[0, 0] = 3.0
    return np.sum(m * x)


def writes_into_a_part_of_a_split(x):
    y = x * 1.0
    a, b = np.split(y, 2)
    a[0] = 3.0
    return np.sum(y * x)


def writes_into_nan_to_num_without_a_copy(x):
    y = x * 1.0
    z = np.nan_to_num(y, False)
    z[0] = 5.0 * x[1]
    return np.sum(z * 1.5) + np.sum(y)


def writes_into_a_row_taken_by_a_loop(x):
    m = np.outer(x, x)
    for r in m:
        r[0] = 0.0
    return np.sum(m)


def writes_into_a_row_read_back_from_a_list(x):
    m = np.outer(x, x)
    rows = [r for r in m]
    first = rows[0]
    first[1] = 0.0
    return np.sum(m)


@pytest.mark.parametrize("fn, line", [(writes_into_a_flip, "r[0, 0] = 3.0"),
                                      (writes_into_a_part_of_a_split, "a[0] = 3.0"),
                                      (writes_into_nan_to_num_without_a_copy, "z[0] = 5.0 * x[1]"),
                                      (writes_into_a_row_taken_by_a_loop, "r[0] = 0.0"),
                                      (writes_into_a_row_read_back_from_a_list, "first[1] = 0.0")])
def test_writing_into_a_view_is_refused(fn, line):
    with pytest.raises(adjoint.UnsupportedSyntax, match="may be a view|may hold the same array") as refused:
        adjoint.grad(fn)(X4)
    assert line in str(refused.value)


# -- copies keep working --------------------------------------------------------------------------

def writes_into_a_flattened_copy(x):
    m = np.outer(x, x)
    r = m.flatten()
    r[0] = 3.0
    return np.sum(r * 2.0) + np.sum(m)


def writes_into_differences(x):
    d = np.diff(x)
    d[0] = 3.0
    return np.sum(d * x[1:])


def writes_after_a_two_operand_einsum(x):
    m = np.outer(x, x)
    r = np.einsum("ij,j->i", m, x)
    m[0, 0] = 5.0
    return np.sum(r * x) + np.sum(m)


def writes_after_copies_of_the_views(x):
    y = x * 1.0
    a, b = [part.copy() for part in np.split(y, 2)]
    r = np.flip(y).copy()
    y[0] = 0.0
    return np.sum(a * b) + np.sum(r * y)


def writes_after_nan_to_num_with_a_copy(x):
    y = x * 1.0
    z = np.nan_to_num(y) * np.nan_to_num(y, copy=False)  # (a view read before the write: fine)
    y[0] = 5.0 * x[1]
    return np.sum(z * 1.5) + np.sum(y)


def replaces_a_part_of_a_split(x):
    y = x * 1.0
    parts = np.split(y, 2)
    parts[0] = np.zeros(2)          # an item of the list replaced: no array changes
    return np.sum(parts[0] * x[:2]) + np.sum(parts[1] * x[2:]) + np.sum(y * y)


def replaces_a_row_of_a_list_of_rows(x):
    m = np.outer(x, x)
    rows = [r for r in m]
    rows[0] = x * 2.0
    return np.sum(rows[0] * rows[1]) + np.sum(m)


@pytest.mark.parametrize("fn", [writes_into_a_flattened_copy, writes_into_differences,
                                writes_after_a_two_operand_einsum, writes_after_copies_of_the_views,
                                writes_after_nan_to_num_with_a_copy,
                                replaces_a_part_of_a_split, replaces_a_row_of_a_list_of_rows])
def test_copies_can_be_changed(fn):
    assert adjoint.value_and_grad(fn)(X4)[0] == pytest.approx(fn(X4.copy()))
    adjoint.check_grad(fn, X4)
