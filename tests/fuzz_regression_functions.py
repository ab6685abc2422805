"""Small programs that once had wrong derivatives, each shrunk from a program the fuzzer found.

Their derivatives are checked in tests/test_fuzz_regressions.py; each docstring says what broke.
"""
import numpy as np

C33 = np.ones((3, 3))
ROWS = np.ones((2, 3))
C23 = np.array([[0.2, -0.5, 0.3], [0.6, 0.1, -0.4]])
C3 = np.array([0.4, -0.3, 0.7])


def break_of_inner_loop_in_branch(x0, x1):
    """desugar took the `break` of the inner loop for an exit of the `if`: TypeError on a None flag."""
    if x0 > 0:
        x0 = x0 * 2.0
    else:
        while x1 < 1:
            if x1 < 0.0:
                break
            x1 = x1 + 0.5
    return x0 * x1


def two_sums_of_one_matrix(x):
    """Both `repeat_to` adjoints of `np.sum(s)` were simplified to scalars: the sum had no shape."""
    s = x @ C33
    return np.sum(s) + np.tanh(np.sum(s))


def two_sums_after_branch(x):
    s = np.outer(np.array([1.0, -0.5]), x)
    if np.sum(x) > 0:
        s = np.log(1 + s ** 2) @ C33
    return np.sum(s) + np.tanh(np.sum(s))


def rows_of_a_rescaled_matrix(x0, x1):
    """The backward sweep recomputed `row = x1[k]` from a tape that held only x1's shape."""
    for row, constant in zip(x1, ROWS):
        x0 = np.tanh(x0 - np.sum(row * constant))
        x1 = x1 * 0.5
    return np.sum(x1) + x0


def loop_over_a_rebound_sequence(x):
    """Python iterates over the value the loop started with; adjoint read the rebound name."""
    s = 0.0
    for row in x:
        s = s + np.sum(np.sin(row))
        x = x * 0.5
    return s + np.sum(x)


def updates_its_argument_in_place(x):
    """`x *= c` on an argument updates the caller's array: finite differences must not see that."""
    x *= 0.75
    return np.sum(np.tanh(x))


def while_test_builds_a_list(x, h):
    """The `while` test was inlined into one expression without the values inside its list literal:
    NameError in the generated code."""
    value = np.linspace(-1.0, 1.0, 3)
    count = 0
    while count < 3 and np.any(np.stack([np.sqrt(1.0 + value ** 2), (value if h < 1.0 else value)]) > 0.5):
        count += 1
        x = x * 2.0
    return np.sum(x)


def vector_times_matrix_in_a_loop(x):
    """The backward sweep read a vector recorded as its shape only (`np.dot(v, M)` needs no more
    of v), but promoted it to a matrix by indexing: TypeError."""
    s = x
    for _ in range(2):
        s = np.dot(np.sin(s), C33 * 0.3)
    return np.sum(s)


def alias_updated_in_nested_loops(x0, x1):
    """`a = x1`, then `x1[0, 1] = ...` two loops deep: `a` must see it, as in Python. The inner loop
    forgot the outer loop's record of which names share the array."""
    a = x1
    for _ in range(2):
        for _ in range(2):
            x1[0, 1] = np.tanh(x0 * x1[0, 1] + 0.5)
    return np.sum(a * a) + x0


def loop_variable_named_like_a_temporary(x):
    """A loop variable `t1`, unbound before the loop, took the name of the temporary holding the
    trip count, `t1 = len(x)`: the unbound initial value overwrote it (TypeError on None)."""
    for t1 in x:
        x = x * 0.5
    return np.sum(np.tanh(t1 * x))


def alias_made_in_a_loop(x0, x2):
    """`x2 = x0` inside a loop, then `x0[1] = v` after it: x2 is the same array when the loop ran,
    which adjoint cannot follow; it used to miss the update (a wrong value), now it refuses."""
    for _ in range(3):
        x2 = x0
    x0[1] = np.tanh(x0[2])
    return np.sum(x2)


def names_swapped_in_a_loop(x0, n):
    """`g = x0`, then a loop swapping `g, x0 = x0, g`: both names hold one array whatever the trip
    count, so `g[1] += v` changes `x0` too. The check looked only for a name merged *from* the
    changed value, not for two names merged from a common one (a wrong value)."""
    g = x0
    for _ in range(n):
        g, x0 = x0, g
    g[1] += np.tanh(x0[0])
    return np.sum(g) + np.sum(x0)


def alias_rebound_in_a_loop(x, n):
    """`y = x`, then `y = y * 2` in a loop and `y[0] = v` after it: when the loop does not run, `y`
    is `x` (a wrong value for n = 0)."""
    y = x
    for _ in range(n):
        y = y * 2
    y[0] = 5.0 * y[1]
    return np.sum(x) + np.sum(y)


def alias_changed_then_rebound_in_a_loop(x, n):
    """`y = x`, then in a loop `y[0] = v; y = y * 2`: only the first trip changes `x`, which the
    loop's one record of names sharing an array could not say (a wrong value)."""
    y = x
    for _ in range(n):
        y[0] = 5.0 * y[1]
        y = y * 2
    return np.sum(x) + np.sum(y)


def alias_made_on_a_later_trip(x, n):
    """`b = a` at the end of a trip: on the next trip `a[0] = v` changes `b` too; known only once
    the loop's body has been read to its end."""
    a = x * 1.0
    b = x * 2.0
    for _ in range(n):
        a[0] = np.tanh(b[1])
        b = a
    return np.sum(a) + np.sum(b)


def header_kept_as_its_shape(x0, n):
    """The inner loop's header is read backwards only for its shape, but the backward loop also
    carries it back as the previous trip's `tanh` output: it was recorded as a shape only
    (TypeError `Shape ** int` in the generated code)."""
    t1 = x0[0] * 1.0
    for i in range(n):
        for _ in range(2):
            t1 = np.tanh((t1 * C23).sum(axis=0))
        if i == 0:
            t1[0] = np.tanh(x0[1, 0])
    return np.sum(t1)


def view_changed_after_its_loop(x1, x0):
    """`a`, a row of `x1` from `for a in x1`, changed after the loop: a view, so `x1` changes too.
    Views were known inside the loop only (a wrong value; now refused)."""
    for _, a in enumerate(x1):
        b = a * x0
    a[0] = np.tanh(x0)
    return np.sum(x1) + np.sum(b)


def counter_named_like_a_bound(x, trips):
    """A loop that can break counts its trips in `trips`, the name of the user's bound: the count's
    `trips = 0` came before `range(trips)` read the bound (a wrong value)."""
    y = x * 1.0
    for i in range(trips):
        y = np.tanh(y)
        if i == 1:
            break
    return np.sum(y)


def alias_made_inside_the_loop_that_changes_it(x0, x1):
    """`x0_1 = x1` inside a `while` loop, then `x0_1[1] += v`: x1 changes too, every trip. The loop
    did not carry x1 (its syntax never changes x1), so the change was lost after the loop."""
    n = 0
    while n < 3:
        n += 1
        x0_1 = x1
        x0_1[1] += np.tanh(x0 * x0_1[0])
    return np.sum(x1) + x0


def view_read_after_its_array_changed(x):
    """`v = x[0]` is a row of a matrix (a view): `x[0, 1] = ...` changes it too (a wrong value; now
    refused when it runs, since `x[0]` of a vector is a number and stays right)."""
    x = x * 1.0
    v = x[0]
    x[0, 1] = 5.0 * x[1, 1]
    return np.sum(v * v)


def element_read_before_it_changes(x):
    """The same code on a vector: `old` is a number, `x[0] = 2 * old` leaves it alone."""
    x = x * 1.0
    old = x[0]
    x[0] = 2.0 * old
    return np.sum(x * x) + old


def helper_changing_its_argument_in_a_loop(s0):
    """A helper changing its argument inside a loop changed the loop's copy, not the caller's array
    (refused: it already was outside loops)."""
    for _ in range(2):
        s0[0] = 0.5 * s0[0] + 0.5 * np.tanh(np.sum(s0))
    return np.sum(s0)


def calls_a_helper_changing_its_argument(x):
    return helper_changing_its_argument_in_a_loop(x[-1, :]) + np.sum(x)


def global_named_by_a_name_changed_in_a_loop(x0, x1):
    """`s = C3` on one path and `s[-1] = v` on another, in a loop: the loop took C3 for one of its
    variables (it aliases `s`) and carried it from nothing (ValueError: C3 was None)."""
    for result in x1:
        if result > 5.0:
            s = C3.copy()
            s[-1] = np.tanh(result)
        else:
            s = C3
    return np.sum(x0 @ C3) + result + np.sum(s)


def array_kept_in_a_list(x1, n):
    """`values.append(x1)` in a loop, `a = values[-1]`, then `x1[-1] += v`: `a` is x1 itself, so it
    changes too; the item read back from the run-time list was a value of its own (a wrong value;
    now refused)."""
    values = []
    for _ in range(n):
        values.append(x1)
    a = values[-1]
    x1[-1] += np.tanh(np.sum(a))
    return np.sum(a)


def headers_sharing_a_name(x0, x1, x2):
    """`x2 = x1; x1 *= 0.5` in a loop: x2's next value is x1's header, and the two headers were given
    one name, so one initial value overwrote the other (forward mode lost x1's tangent: 0, not 0.25)."""
    for _ in zip(x0, x0):
        x2 = x1
        x1 *= 0.5
    return np.sum(x0) + x2


def zip_into_one_name(x, y):
    """`for pair in zip(x, y)` binds the tuple; it used to take `zip(...)` for a sequence
    (TypeError: object of type 'zip' has no len())."""
    total = 0.0
    for pair in zip(x, y):
        total = total + pair[0] * np.sin(pair[1])
    return total


def reduction_of_a_number_over_axis_0(x):
    """numpy reduces a 0-d value over axis 0 (`(s / 2.0).max(axis=0)`); the gradient's spreading
    back took `0 % ndim` with ndim 0 (ZeroDivisionError; found by the long fuzz run)."""
    s = np.sum(x)
    return (s / 2.0).max(axis=0) + np.prod(s * 2.0, axis=0) + np.min(s, axis=-1) + np.sum(s * x, axis=0)


def enumerate_into_one_name(x):
    """`for pair in enumerate(x)` binds the tuple (it took `enumerate(...)` for a sequence)."""
    total = 0.0
    for pair in enumerate(x):
        total = total + pair[0] * np.sin(pair[1])
    return total


def product_of_a_row_that_becomes_zero(x0):
    """On the first trip `x0 * 0.0` makes every factor of `np.prod(x0 * C3)` zero; the second
    derivative of np.prod divided by them (hvp gave nan for 0; found by the hvp fuzz check)."""
    for i in range(3):
        x0 = np.multiply((x0 * (0.1 * i)) ** 3, np.sin(x0) + np.prod(x0 * np.array([0.4, -0.3, 0.7])))
    return x0 + x0


def loop_of_powers_by_one(x0, x1):
    """`x0 ** 1` folds to `x0`, so the forward sweep's loop does nothing and went, with its carried
    `x0`; the backward sweep's `x0 ** 0` still read it (NameError; found by the fuzz harness, seed
    425)."""
    for _ in range(3):
        x0 = x0 ** 1
    return np.sum(x0) * x1


def scaled_by_its_first_row(x0):
    """hvp: the tangent of the gradient starts as `unbroadcast(d_t1 * 2.0, x0)`, x0's first row
    spread over its rows (a read-only broadcast), and `add_at` added the scatter of x0[0] into it in
    place (ValueError: read-only; found by the hvp fuzz check, seed 427)."""
    x0 = x0 * x0[0]
    a = np.sum(x0)
    return np.sum(x0) + a
