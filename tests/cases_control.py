"""Control-flow test functions with concrete arguments: the shared table for branch and loop tests.

Each function is checked at inputs that take each of its branches, or run its
loops a different number of times (zero included). Inputs keep away from the
points where a branch switches or a trip count changes, so that central finite
differences see a smooth function. The `Case` type is the straight-line table's.
"""
import math

import numpy as np

from cases_straight import Case

rng = np.random.default_rng(1)

# -- branches ---------------------------------------------------------------------------


def if_else(x):
    if x > 0:
        y = x * x
    else:
        y = -x ** 3
    return y * math.sin(x)


def if_elif_else(x):
    if x < -1.0:
        y = math.exp(x)
    elif x < 1.0:
        y = x * x + 1.0
    else:
        y = 3.0 * x
    return y


def elif_chain_keeps_conditions(x):
    """The backward sweep reads each condition the forward sweep computed: written `elif (t := ...)`."""
    s = math.sin(x)
    if x < -2.0:
        y = s * x
    elif x < -1.0:
        y = s + x
    elif x < 0.0:
        y = x * x
    elif x < 1.0:
        y = s * s
    else:
        y = 3.0 * x
    return y


def walrus_in_conditions(x):
    if (s := math.sin(x)) > 0.5:
        y = s * x
    elif (c := 2.0 * math.cos(x)) > 0.1:
        y = c * s
    else:
        y = x
    return y + (w := x * 3.0) * w


def if_without_else(x, y):
    z = x * y
    if z > 1.0:
        z = z * z
    return math.sin(z) + z


def if_one_value_changes(a, b):
    c = a * b
    if a > b:
        a = a * 2.0
    return a + b * c


def if_defines_new_name(x, y):
    if x > y:
        d = x - y
        m = x
    else:
        d = y - x
        m = y
    return d * m


def ternary(x, y):
    return x * y if x > y else x + y ** 2


def ternary_nested(x):
    s = x * 2.0 if x > 0 else (x * x if x > -1.0 else -x)
    return s + math.cos(x)


def cond_and(x, y):
    if x > 0 and y > 0:
        r = x * y
    else:
        r = x + y
    return r * r


def cond_or(x, y):
    if x > 1.0 or y < -1.0:
        r = math.sin(x * y)
    else:
        r = x * x - y
    return r


def cond_not(x):
    if not x > 1.0:
        return x * 3.0
    return x ** 2


def chained_comparison(x):
    if 0.0 < x < 1.0:
        y = x * (1.0 - x)
    else:
        y = x * x
    return y


def chained_three(x, y):
    if -1.0 < x <= y < 2.0:
        return x * y
    return x - y


def and_or_values(x, y):
    # `and` / `or` as values: Python picks an operand
    a = x > 1.0 and y > 0.0
    b = x < 0.0 or y > 2.0
    return x * y if a or b else x + y


def branch_on_int(x, n):
    if n > 2:
        y = x ** n
    else:
        y = math.sin(x) * n
    return y


def branch_on_array_sum(x):
    if np.sum(x) > 0:
        return np.sum(x ** 2)
    return np.sum(np.sin(x))


def branch_array_value(x):
    if np.max(x) > 1.0:
        y = x * 2.0
    else:
        y = np.exp(x)
    return np.sum(y * x)


def nested_if(x, y):
    if x > 0:
        if y > 0:
            r = x * y
        else:
            r = x - y
    else:
        if y > 0:
            r = x * x + y
        else:
            r = math.exp(x + y)
    return r


def branch_inactive_value(x, y):
    # the condition depends only on y, which is not differentiated
    if y * y > 1.0:
        return x * y
    return x / y


def several_returns(x):
    if x < -1.0:
        return -x
    if x < 1.0:
        return x * x
    if x < 2.0:
        return math.sin(x)
    return math.log(x)


def return_in_nested_branch(x, y):
    if x > 0:
        if y > x:
            return y - x
        z = x * y
    else:
        z = x + y
    return z * z


# -- for loops over ranges -------------------------------------------------------------


def for_range(x, n):
    for i in range(n):
        x = x * 1.1 + math.sin(x)
    return x


def for_range_start_stop(x):
    s = 0.0
    for i in range(2, 6):
        s = s + x ** i
    return s


def for_range_step(x):
    s = x
    for i in range(1, 10, 3):
        s = s * x + i
    return s


def for_range_negative_step(x):
    s = 1.0
    for i in range(5, 0, -2):
        s = s * x + i * x
    return s


def for_range_from_shape(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i] * (i + 1.0)
    return s * s


def for_range_runtime_bounds(x, n):
    s = x
    for i in range(n - 1, 2 * n):
        s = s + math.cos(s) * i
    return s


def for_range_len(x):
    s = 0.0
    for i in range(len(x)):
        s = s + np.sin(x[i]) * x[i]
    return s


def for_zero_trips(x, n):
    y = x * 2.0
    for i in range(n, 3):
        y = y * y
    return y


def for_reversed_range(x):
    s = 0.0
    for i in reversed(range(1, 6, 2)):
        s = s * x + i
    return s


def loop_variable_after_loop(x, n):
    for i in range(n):
        x = x * 1.1 + 0.2
    return x * i


def index_after_break(x):
    for k in range(10):
        x = x * 1.2
        if x > 3.0:
            break
    return x * k


def index_kept_when_no_trips(x, n):
    i = 2
    for i in range(n):
        x = x + i
    return x * i


def while_local_after(x):
    while x < 5.0:
        y = x * 2.0
        x = x + 1.0
    return y * x


def elif_chain_in_loop(x):
    s = 0.0
    for v in x:
        if v < -0.5:
            s = s - v
        elif v < 0.5:
            s = s + v * v
        elif v < 1.0:
            continue
        else:
            break
    return s


def for_index_in_formula(x):
    y = 0.0
    for k in range(4):
        y = y + math.sin(k * x) / (k + 1)
    return y


# -- for loops over sequences -----------------------------------------------------------


def for_over_array(x):
    s = 0.0
    for v in x:
        s = s + np.sin(v) * v
    return s


def for_over_rows(W, v):
    s = 0.0
    for row in W:
        s = s + np.dot(row, v) ** 2
    return s


def for_over_list(a, b, c):
    s = 1.0
    for v in [a, b, c]:
        s = s * v + 1.0
    return s


def for_over_tuple(a, b):
    s = 0.0
    for v in (a, b, a * b):
        s = s + v * v
    return s


def for_zip(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b + a * a
    return s


def for_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + i * v ** 2
    return s


def for_enumerate_zip(x, y):
    s = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        s = s + (i + 1.0) * np.sin(a) * b ** 2
    return s


def for_nested_zip(x, y, z):
    s = 0.0
    for (a, b), c in zip(zip(x, y), z):
        s = s + np.tanh(a * b) * c
    return s


def for_enumerate_start(x, n):
    s = 0.0
    for i, v in enumerate(x, start=1):
        s = s + i * v ** 3
    for j, v in enumerate(x, n):
        s = s + j * np.cos(v)
    return s


def for_reversed_list_built_in_loop(x, n):
    hs = []
    h = x
    for t in range(n):
        h = np.tanh(1.3 * h + 0.1)
        hs.append(h)
    s = 0.0
    for h in reversed(hs):               # the last state first, as a backward pass reads them
        s = s * 0.5 + h * h
    return s


def for_reversed_array(x):
    s = 0.0
    for v in reversed(x):
        s = s * v + v ** 2
    return s


def for_zip_reversed(x, y):
    s = 0.0
    for i, a, b in zip(reversed(range(len(x))), reversed(x), y):
        s = s * 0.9 + i * a * np.exp(b)
    return s


def for_enumerate_zip_tuples(a, b):
    s = 0.0
    for i, (u, v) in enumerate(zip((a, b, a * b), reversed((b, a, 1.0))), 1):
        s = s + i * u * v * v
    return s


def for_rebinds_its_sequence(x):
    s = 0.0
    for x in reversed(x):                # Python iterates over the x the loop started with
        s = s + x ** 3
    return s


def for_enumerate_reversed_break(x):
    s = 0.0
    for i, v in enumerate(reversed(x)):
        if i == 2:
            break
        s = s * v + np.sin(v)
    return s


def horner(coeffs, x):
    y = 0.0
    for c in coeffs:
        y = y * x + c
    return y


# -- while loops ----------------------------------------------------------------------------


def while_active(x):
    while x < 10.0:
        x = x * 1.5
    return x


def while_counter(x, n):
    i = 0
    while i < n:
        x = math.sin(x) + x
        i = i + 1
    return x


def while_test_repeated_in_body(x):
    y = x                           # the body recomputes the test's `y * 2.0` (a CSE candidate)
    while y * 2.0 < 5.0:
        y = y * 2.0
    return y * x


def while_counter_test_repeated(x):
    i, k, s = 0, 2, x
    while i + k <= 6:               # `i + k` again in the body: the update must stay
        s = s * x
        i = i + k
    return s


def while_zero_trips(x):
    y = x
    while y > 100.0:
        y = y / 2.0
    return y * y


def newton_sqrt(a):
    x = a
    for i in range(30):
        x = 0.5 * (x + a / x)
    return x


def newton_while(a):
    x = a
    step = 1.0
    while abs(step) > 1e-10:
        step = (x * x - a) / (2.0 * x)
        x = x - step
    return x


def while_and_condition(x):
    i = 0
    while x < 5.0 and i < 10:
        x = x * 1.3 + 0.1
        i = i + 1
    return x


def while_index(x):
    i = 0
    s = 0.0
    while i < len(x):
        s = s + x[i] ** 2
        i = i + 1
    return s


def pendulum(k, theta0):
    theta = theta0
    omega = 0.0
    t = 0.0
    while t < 0.5:
        alpha = -k * math.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
        t = t + 0.01
    return theta * theta + omega * omega


# -- break, continue, return in loops ---------------------------------------------------


def while_true_break(x):
    while True:
        x = x * 1.3
        if x > 5.0:
            break
    return x


def for_break(x):
    s = 0.0
    for v in x:
        if v > 1.0:
            break
        s = s + v ** 2
    return s


def for_continue(x):
    s = 0.0
    for v in x:
        if v < 0:
            continue
        s = s + v ** 3
    return s


def while_continue(x):
    i = 0
    s = 0.0
    while i < 6:
        i = i + 1
        if i % 2 == 0:
            continue
        s = s + x ** i
    return s


def return_in_loop(x):
    s = 0.0
    for v in x:
        s = s + v
        if s > 2.0:
            return s * s
    return s


def break_inner_loop(W):
    total = 0.0
    for row in W:
        for v in row:
            if v < 0:
                break
            total = total + v * v
    return total


def return_in_nested_loop(W, c):
    for row in W:
        for v in row:
            if v * c > 1.5:
                return v * c
    return c * 2.0


def tuple_break(a, b):
    s = 0.0
    for v in (a, b, a * b):
        if v > 2.0:
            break
        s = s + v * v
    return s


def reversed_range_break(x, n):
    s = x
    for i in reversed(range(1, n, 2)):
        s = s * x + i
        if s > 5.0:
            break
    return s


def range_break(x, n):
    y = x
    for i in range(n):
        y = y * x
        if y > 4.0:
            break
    return y


# -- nesting ------------------------------------------------------------------------------


def nested_loops_2(x):
    s = 0.0
    for i in range(3):
        for j in range(2):
            s = s * x + i * j + x
    return s


def nested_loops_3(x):
    s = x
    for i in range(2):
        for j in range(3):
            for k in range(2):
                s = s + math.sin(s * (i + j + k + 1))
    return s


def nested_loops_arrays(A, B):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            s = s + np.dot(A[i], B[:, j]) ** 2
    return s


def nested_while_for(x):
    t = 0
    while t < 3:
        for i in range(2):
            x = x + 0.1 * math.sin(x + t)
        t = t + 1
    return x


def branch_in_loop(x):
    for i in range(5):
        if i % 2 == 0:
            x = x * 0.9 + 0.1
        else:
            x = math.sin(x) + x
    return x


def active_branch_in_loop(x):
    for i in range(4):
        if x > 1.0:
            x = x * 0.5
        else:
            x = x + 0.7
    return x


def loop_in_branch(x, y):
    if x > y:
        for i in range(3):
            x = x * y + 0.1
    else:
        while x < y:
            x = x + 0.5
    return x * y


def running_max(x):
    m = x[0]
    for v in x:
        if v > m:
            m = v
    return m * m


def ternary_in_loop(x):
    s = 0.0
    for v in x:
        s = s + (v * v if v > 0 else -v)
    return s


# -- loop-carried values --------------------------------------------------------------


def rnn(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h ** 2)


def loop_carried_array(x):
    for i in range(4):
        x = np.sin(x) * 1.1 + x * 0.5
    return np.sum(x)


def array_accumulate(x):
    acc = np.zeros_like(x)
    for i in range(3):
        acc = acc + x ** (i + 1)
    return np.sum(acc)


def fibonacci_swap(a, b):
    for i in range(5):
        a, b = b, a + b * 0.5
    return a * b


def last_value_of_loop_local(x):
    for v in x:
        y = np.exp(v) * v
    return y


def defined_under_condition(x, c):
    if c > 0:
        y = x * x
    z = math.sin(x)
    if c > 0:
        z = z + y
    return z


def temporary_in_loop(x):
    for i in range(3):
        t = x * x
        u = math.sin(t)
        x = x + u * 0.5
    return x


def loop_reads_matrix(W, v):
    h = v
    for t in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


def two_loops(x):
    y = x
    for i in range(3):
        y = y * x
    z = y
    for i in range(2):
        z = z + y * i
    return z


def loop_variable_unused(x):
    for _ in range(4):
        x = x * x * 0.5 + 0.3
    return x


def reads_previous_trip(x):
    # `s` and `prev` are first assigned inside the loop; later trips read the previous trip's values
    for i in range(4):
        if i > 0:
            s = s + prev * x
        else:
            s = x
        prev = s
    return s


def maybe_assigned_in_loop(x):
    found = False
    for i in range(5):
        if x * i > 1.0 and not found:
            hit = x * i
            found = True
    return hit * x


def swap_arrays(a, b):
    for i in range(3):
        a, b = b * 0.5, a + np.sin(b)
    return np.sum(a * b)


def where_in_loop(x):
    for i in range(3):
        x = np.where(x > 0, x * 2.0, x * 0.5) + 0.1
    return np.sum(x ** 2)


def countdown(x, n):
    while n > 0:
        x = x * 0.9 + math.cos(x)
        n = n - 1
    return x


def while_in_for(x):
    for i in range(3):
        y = x
        while y < 4.0:
            y = y * 1.7
        x = x + 0.1 * math.sin(y)
    return x


def while_true_in_for(x):
    s = 0.0
    for i in range(4):
        j = 0
        while True:
            s = s + x * j
            j = j + 1
            if j > i:
                break
    return s


def return_in_while_in_for(x):
    for i in range(3):
        y = x * (i + 1)
        while y < 3.0:
            y = y * 1.5
            if y > 2.5:
                return y * x
        x = x + 0.1
    return x


def continue_in_nested_loop(W):
    s = 0.0
    for row in W:
        for v in row:
            if v < 0:
                continue
            s = s + v ** 2
        s = s * 0.9
    return s


def two_returns_in_loop(x):
    for v in x:
        if v > 1.0:
            return v * 2.0
        if v < -1.0:
            return -v
    return np.sum(x)


def enumerate_and_zip_rows(W, v):
    s = 0.0
    for i, row in enumerate(W):
        for a, b in zip(row, v):
            s = s + a * b * (i + 1)
    return s


def columns(A):
    s = 0.0
    for col in A.T:
        s = s + np.prod(col)
    return s


def runtime_negative_step(x, n, k):
    s = x
    for i in range(n, 0, -k):
        s = s * x + i
    return s


# -- helpers with control flow (inlined) -----------------------------------------------


def power_sum(x, n):
    s = 0.0
    for i in range(1, n + 1):
        s = s + x ** i
    return s


def soft_clip(x):
    if x > 1.0:
        return 1.0 + math.log(x)
    if x < -1.0:
        return -1.0 - math.log(-x)
    return x


def power(x, n):
    p = 1.0
    for i in range(n):
        p = p * x
    return p


def helper_loop_in_loop(x):
    s = 0.0
    for i in range(3):
        s = s + power(x, i + 1)
    return s


def helper_loop(x):
    return power_sum(x, 3) * power_sum(x, 2)


def helper_branch(x, y):
    return soft_clip(x) * soft_clip(y)


def helper_in_loop(x):
    s = 0.0
    for v in x:
        s = s + soft_clip(v * 2.0)
    return s


W3 = rng.standard_normal((3, 3)) * 0.5
U3 = rng.standard_normal((3, 2)) * 0.5
XS = rng.standard_normal((4, 2))
H0 = rng.standard_normal(3) * 0.5

CASES = [
    Case("if_else_then", if_else, (1.3,)),
    Case("if_else_else", if_else, (-0.7,)),
    Case("if_elif_else_first", if_elif_else, (-1.6,)),
    Case("if_elif_else_second", if_elif_else, (0.4,)),
    Case("if_elif_else_third", if_elif_else, (1.8,)),
    *[Case(f"elif_chain_keeps_conditions_{i}", elif_chain_keeps_conditions, (x,))
      for i, x in enumerate((-2.5, -1.5, -0.5, 0.5, 1.5))],
    *[Case(f"walrus_in_conditions_{i}", walrus_in_conditions, (x,)) for i, x in enumerate((1.0, 0.2, -2.0))],
    Case("if_without_else_taken", if_without_else, (1.5, 1.2), (0, 1)),
    Case("if_without_else_skipped", if_without_else, (0.5, 0.6), (0, 1)),
    Case("if_one_value_changes_taken", if_one_value_changes, (1.5, 0.5), (0, 1)),
    Case("if_one_value_changes_skipped", if_one_value_changes, (0.5, 1.5), (0, 1)),
    Case("if_defines_new_name_then", if_defines_new_name, (1.5, 0.5), (0, 1)),
    Case("if_defines_new_name_else", if_defines_new_name, (0.5, 1.5), (0, 1)),
    Case("ternary_then", ternary, (1.5, 0.5), (0, 1)),
    Case("ternary_else", ternary, (0.5, 1.5), (0, 1)),
    Case("ternary_nested_first", ternary_nested, (0.6,)),
    Case("ternary_nested_second", ternary_nested, (-0.5,)),
    Case("ternary_nested_third", ternary_nested, (-1.5,)),
    Case("cond_and_both", cond_and, (0.5, 0.7), (0, 1)),
    Case("cond_and_first_false", cond_and, (-0.5, 0.7), (0, 1)),
    Case("cond_and_second_false", cond_and, (0.5, -0.7), (0, 1)),
    Case("cond_or_first", cond_or, (1.5, 0.7), (0, 1)),
    Case("cond_or_second", cond_or, (0.5, -1.7), (0, 1)),
    Case("cond_or_neither", cond_or, (0.5, 0.7), (0, 1)),
    Case("cond_not_taken", cond_not, (0.5,)),
    Case("cond_not_skipped", cond_not, (1.5,)),
    Case("chained_comparison_inside", chained_comparison, (0.3,)),
    Case("chained_comparison_below", chained_comparison, (-0.4,)),
    Case("chained_comparison_above", chained_comparison, (1.4,)),
    Case("chained_three_inside", chained_three, (0.5, 1.0), (0, 1)),
    Case("chained_three_middle_fails", chained_three, (1.0, 0.5), (0, 1)),
    Case("chained_three_last_fails", chained_three, (0.5, 2.5), (0, 1)),
    Case("and_or_values_a", and_or_values, (1.5, 0.5), (0, 1)),
    Case("and_or_values_b", and_or_values, (-0.5, 0.5), (0, 1)),
    Case("and_or_values_neither", and_or_values, (0.5, 0.5), (0, 1)),
    Case("branch_on_int_high", branch_on_int, (1.3, 3)),
    Case("branch_on_int_low", branch_on_int, (1.3, 2)),
    Case("branch_on_array_sum_positive", branch_on_array_sum, (np.array([0.5, -0.2, 0.9]),)),
    Case("branch_on_array_sum_negative", branch_on_array_sum, (np.array([-0.5, -0.2, 0.3]),)),
    Case("branch_array_value_big", branch_array_value, (np.array([0.5, 1.4, -0.3]),)),
    Case("branch_array_value_small", branch_array_value, (np.array([0.5, 0.4, -0.3]),)),
    Case("nested_if_pp", nested_if, (0.5, 0.7), (0, 1)),
    Case("nested_if_pn", nested_if, (0.5, -0.7), (0, 1)),
    Case("nested_if_np", nested_if, (-0.5, 0.7), (0, 1)),
    Case("nested_if_nn", nested_if, (-0.5, -0.7), (0, 1)),
    Case("branch_inactive_value_big", branch_inactive_value, (0.8, 1.5)),
    Case("branch_inactive_value_small", branch_inactive_value, (0.8, 0.5)),
    Case("several_returns_1", several_returns, (-1.5,)),
    Case("several_returns_2", several_returns, (0.5,)),
    Case("several_returns_3", several_returns, (1.5,)),
    Case("several_returns_4", several_returns, (2.5,)),
    Case("return_in_nested_branch_early", return_in_nested_branch, (0.5, 0.9), (0, 1)),
    Case("return_in_nested_branch_late", return_in_nested_branch, (0.9, 0.5), (0, 1)),
    Case("return_in_nested_branch_else", return_in_nested_branch, (-0.9, 0.5), (0, 1)),

    Case("for_range_3", for_range, (0.4, 3)),
    Case("for_range_0", for_range, (0.4, 0)),
    Case("for_range_start_stop", for_range_start_stop, (0.8,)),
    Case("for_range_step", for_range_step, (0.7,)),
    Case("for_range_negative_step", for_range_negative_step, (0.9,)),
    Case("for_range_from_shape", for_range_from_shape, (np.array([0.3, -0.5, 0.8, 1.1]),)),
    Case("for_range_runtime_bounds", for_range_runtime_bounds, (0.3, 2)),
    Case("for_range_runtime_bounds_more", for_range_runtime_bounds, (0.3, 3)),
    Case("for_range_len", for_range_len, (np.array([0.3, -0.5, 0.8]),)),
    Case("for_zero_trips_runs", for_zero_trips, (0.7, 1)),
    Case("for_zero_trips", for_zero_trips, (0.7, 5)),
    Case("for_index_in_formula", for_index_in_formula, (0.6,)),
    Case("for_reversed_range", for_reversed_range, (0.7,)),
    Case("index_after_break_early", index_after_break, (0.7,)),
    Case("index_after_break_never", index_after_break, (0.1,)),
    Case("index_kept_when_no_trips", index_kept_when_no_trips, (0.5, 0)),
    Case("index_kept_after_trips", index_kept_when_no_trips, (0.5, 3)),
    Case("while_local_after", while_local_after, (0.5,)),
    Case("elif_chain_in_loop", elif_chain_in_loop, (np.array([-0.8, 0.3, 0.7, 0.2, 1.5, 0.1]),)),
    Case("loop_variable_after_loop", loop_variable_after_loop, (0.7, 4)),

    Case("for_over_array", for_over_array, (np.array([0.3, -0.5, 0.8, 1.2]),)),
    Case("for_over_array_empty", for_over_array, (np.zeros(0),)),
    Case("for_over_rows", for_over_rows, (rng.standard_normal((3, 2)), rng.standard_normal(2)), (0, 1)),
    Case("for_over_list", for_over_list, (0.5, -1.2, 0.8), (0, 1, 2)),
    Case("for_over_tuple", for_over_tuple, (0.5, -1.2), (0, 1)),
    Case("for_zip", for_zip, (np.array([0.3, -0.5, 0.8]), np.array([1.1, 0.4, -0.2, 0.9])), (0, 1)),
    Case("for_enumerate", for_enumerate, (np.array([0.3, -0.5, 0.8]),)),
    Case("for_enumerate_zip", for_enumerate_zip, (np.array([0.3, -0.5, 0.8]), np.array([1.1, 0.4, -0.2, 0.9])),
         (0, 1)),
    Case("for_nested_zip", for_nested_zip, (np.array([0.3, -0.5, 0.8]), np.array([1.1, 0.4, -0.2]),
                                            np.array([0.7, -0.6])), (0, 1, 2)),
    Case("for_enumerate_start", for_enumerate_start, (np.array([0.3, -0.5, 0.8]), 3)),
    Case("for_reversed_list_built_in_loop", for_reversed_list_built_in_loop, (0.4, 4)),
    Case("for_reversed_list_no_trips", for_reversed_list_built_in_loop, (0.4, 0)),
    Case("for_reversed_array", for_reversed_array, (np.array([0.3, -0.5, 0.8, 1.2]),)),
    Case("for_zip_reversed", for_zip_reversed, (np.array([0.3, -0.5, 0.8]), np.array([0.2, 0.4])), (0, 1)),
    Case("for_enumerate_zip_tuples", for_enumerate_zip_tuples, (0.5, -1.2), (0, 1)),
    Case("for_rebinds_its_sequence", for_rebinds_its_sequence, (np.array([0.3, -0.5, 0.8]),)),
    Case("for_enumerate_reversed_break", for_enumerate_reversed_break, (np.array([0.3, -0.5, 0.8, 1.2]),)),
    Case("horner", horner, (np.array([0.5, -1.0, 2.0, 0.3]), 0.7), (0, 1)),

    Case("while_active_many", while_active, (1.3,)),
    Case("while_active_once", while_active, (7.0,)),
    Case("while_active_none", while_active, (12.0,)),
    Case("while_counter", while_counter, (0.3, 4)),
    Case("while_counter_zero", while_counter, (0.3, 0)),
    Case("while_test_repeated_in_body", while_test_repeated_in_body, (0.3,)),
    Case("while_test_repeated_in_body_none", while_test_repeated_in_body, (3.0,)),
    Case("while_counter_test_repeated", while_counter_test_repeated, (0.7,)),
    Case("while_zero_trips", while_zero_trips, (1.5,)),
    Case("while_zero_trips_runs", while_zero_trips, (350.0,)),
    Case("newton_sqrt", newton_sqrt, (2.0,)),
    Case("newton_while", newton_while, (3.0,)),
    Case("while_and_condition_x", while_and_condition, (0.7,)),
    Case("while_and_condition_i", while_and_condition, (0.0001,)),
    Case("while_index", while_index, (np.array([0.3, -0.5, 0.8]),)),
    Case("pendulum", pendulum, (1.0, 0.5), (0, 1)),

    Case("while_true_break", while_true_break, (0.7,)),
    Case("while_true_break_first", while_true_break, (4.5,)),
    Case("for_break_early", for_break, (np.array([0.3, -0.5, 1.8, 0.9]),)),
    Case("for_break_never", for_break, (np.array([0.3, -0.5, 0.8, 0.9]),)),
    Case("for_continue", for_continue, (np.array([0.3, -0.5, 0.8, -0.9, 1.1]),)),
    Case("while_continue", while_continue, (0.8,)),
    Case("return_in_loop_early", return_in_loop, (np.array([0.9, 0.5, 1.3, 0.4]),)),
    Case("return_in_loop_never", return_in_loop, (np.array([0.3, -0.5, 0.8]),)),
    Case("break_inner_loop", break_inner_loop, (np.array([[0.5, -0.2, 0.7], [0.3, 0.8, 0.9], [-0.4, 1.0, 0.2]]),)),
    Case("return_in_nested_loop_early", return_in_nested_loop,
         (np.array([[0.5, 0.2, 0.7], [0.3, 0.9, 0.4]]), 2.0), (0, 1)),
    Case("return_in_nested_loop_never", return_in_nested_loop,
         (np.array([[0.5, 0.2, 0.7], [0.3, 0.9, 0.4]]), 1.0), (0, 1)),
    Case("range_break_early", range_break, (1.5, 10)),
    Case("tuple_break_never", tuple_break, (0.5, 0.7), (0, 1)),
    Case("tuple_break_second", tuple_break, (0.5, 2.5), (0, 1)),
    Case("reversed_range_break_early", reversed_range_break, (1.2, 9)),
    Case("reversed_range_break_never", reversed_range_break, (0.5, 9)),
    Case("range_break_never", range_break, (1.1, 3)),

    Case("nested_loops_2", nested_loops_2, (0.7,)),
    Case("nested_loops_3", nested_loops_3, (0.3,)),
    Case("nested_loops_arrays", nested_loops_arrays,
         (rng.standard_normal((2, 3)), rng.standard_normal((3, 2))), (0, 1)),
    Case("nested_while_for", nested_while_for, (0.4,)),
    Case("branch_in_loop", branch_in_loop, (0.4,)),
    Case("active_branch_in_loop", active_branch_in_loop, (1.3,)),
    Case("active_branch_in_loop_low", active_branch_in_loop, (0.1,)),
    Case("loop_in_branch_for", loop_in_branch, (1.3, 0.8), (0, 1)),
    Case("loop_in_branch_while", loop_in_branch, (0.3, 1.6), (0, 1)),
    Case("running_max", running_max, (np.array([0.3, -0.5, 1.8, 0.9, 1.2]),)),
    Case("ternary_in_loop", ternary_in_loop, (np.array([0.3, -0.5, 0.8, -0.9]),)),

    Case("rnn", rnn, (W3, U3, XS, H0), (0, 1, 2, 3)),
    Case("loop_carried_array", loop_carried_array, (np.array([0.3, -0.5, 0.8]),)),
    Case("array_accumulate", array_accumulate, (np.array([0.3, -0.5, 0.8]),)),
    Case("fibonacci_swap", fibonacci_swap, (0.5, 0.8), (0, 1)),
    Case("temporary_in_loop", temporary_in_loop, (0.6,)),
    Case("last_value_of_loop_local", last_value_of_loop_local, (np.array([0.3, -0.5, 0.8]),)),
    Case("defined_under_condition_yes", defined_under_condition, (0.7, 1.0)),
    Case("defined_under_condition_no", defined_under_condition, (0.7, -1.0)),
    Case("loop_reads_matrix", loop_reads_matrix, (W3, H0), (0, 1)),
    Case("two_loops", two_loops, (0.8,)),
    Case("loop_variable_unused", loop_variable_unused, (0.6,)),

    Case("reads_previous_trip", reads_previous_trip, (0.7,)),
    Case("maybe_assigned_in_loop", maybe_assigned_in_loop, (0.7,)),
    Case("swap_arrays", swap_arrays, (np.array([0.3, 0.5]), np.array([0.2, -0.4])), (0, 1)),
    Case("where_in_loop", where_in_loop, (np.array([0.3, -0.5, 0.8]),)),
    Case("countdown", countdown, (0.7, 5)),
    Case("while_in_for", while_in_for, (0.5,)),
    Case("while_true_in_for", while_true_in_for, (0.7,)),
    Case("return_in_while_in_for_early", return_in_while_in_for, (0.7,)),
    Case("return_in_while_in_for_later", return_in_while_in_for, (0.05,)),
    Case("continue_in_nested_loop", continue_in_nested_loop, (np.array([[0.5, -0.2, 0.7], [0.3, 0.8, -0.9]]),)),
    Case("two_returns_in_loop_first", two_returns_in_loop, (np.array([0.3, 0.5, 1.8]),)),
    Case("two_returns_in_loop_second", two_returns_in_loop, (np.array([0.3, -1.5, 1.8]),)),
    Case("two_returns_in_loop_none", two_returns_in_loop, (np.array([0.3, 0.5, 0.8]),)),
    Case("enumerate_and_zip_rows", enumerate_and_zip_rows,
         (np.array([[0.5, -0.2], [0.3, 0.8]]), np.array([0.3, 0.1, 0.5])), (0, 1)),
    Case("columns", columns, (np.array([[0.5, -0.2], [0.3, 0.8], [1.1, 0.4]]),)),
    Case("runtime_negative_step", runtime_negative_step, (0.7, 7, 2)),

    Case("helper_loop", helper_loop, (0.7,)),
    Case("helper_loop_in_loop", helper_loop_in_loop, (0.7,)),
    Case("helper_branch_inside", helper_branch, (0.5, -0.3), (0, 1)),
    Case("helper_branch_outside", helper_branch, (1.5, -2.3), (0, 1)),
    Case("helper_in_loop", helper_in_loop, (np.array([0.3, -0.8, 0.9, 0.1]),)),
]
