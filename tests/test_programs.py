"""Whole programs (issue #5): in-place updates, lists, comprehensions, dicts, objects and their
methods, closures and lambdas, `*args`, recursion. Every case is checked in both modes against
central finite differences, and the caller's arguments must come back unchanged."""
import math
import time
from collections import namedtuple
from typing import NamedTuple

import numpy as np
import pytest

import adjoint

X3 = np.array([0.3, 1.5, -0.7])
X5 = np.array([0.4, -1.1, 0.9, 2.0, -0.3])
M = np.array([[0.5, 2.0, -1.0], [1.5, 0.2, 0.7]])
ROWS = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.2, 0.1, -0.4]])


class Case:
    def __init__(self, fn, *args, wrt=0):
        self.fn, self.args, self.wrt = fn, args, wrt
        self.name = fn.__name__ + ("" if not any(isinstance(a, np.ndarray) for a in args) else "_array")


CASES = []


def case(*args, wrt=0):
    def register(fn):
        CASES.append(Case(fn, *args, wrt=wrt))
        return fn
    return register


# -- 1. in-place updates -------------------------------------------------------------------------

@case(X3)
def item_of_new_array(x):
    y = np.zeros(3)
    y[0] = x[0] * x[1]
    y[2] = np.sin(x[2])
    return np.sum(y ** 2) + y[1]


@case(X3)
def slice_augmented(x):
    y = np.ones(3)
    y[1:] += np.sin(x[1:])
    y[:2] *= x[0]
    return np.sum(y ** 2)


@case(X3)
def overwritten_entry_has_no_gradient(x):
    y = x * 2.0
    y[1] = 5.0                      # x[1] no longer reaches the output through y
    return np.sum(y * y)


@case(X3)
def argument_updated(x):
    x[0] = 2.0 * x[1]              # the caller's x is never changed by the derivative
    return np.sum(x ** 3)


@case(M, 1)
def column_and_mask(A, j):
    B = A * 1.0
    B[:, j] = 0.0
    B[B > 1.0] = 1.0
    return np.sum(B ** 2 * A)


@case(M)
def row_assigned_from_row(A):
    B = np.zeros((3, 3))
    B[0] = A[0]
    B[1, :] = A[1] * A[0]
    B[2, 1:] = np.tanh(A[0, :2])
    return np.sum(B ** 2)


@case(X5)
def loop_writes_each_entry(x):
    y = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        y[i] = x[i] ** 2 + (y[i - 1] if i > 0 else 0.0)
    return np.sum(y)


@case(X5)
def loop_prefix_recurrence(x):
    y = x.copy()
    for i in range(1, y.shape[0]):
        y[i] = y[i - 1] * 0.5 + y[i]
    return np.sum(y * y)


@case(X5)
def while_loop_updates(x):
    y = x * 1.0
    i = 0
    while i < 4:
        y[i + 1] += y[i] * x[0]
        i += 1
    return np.sum(np.sin(y))


@case(X3)
def update_in_branch(x):
    y = x * x
    if x[0] > 0.0:
        y[0] = y[1] * 3.0
    else:
        y[2] = 0.0
    return np.sum(y * x)


@case(X3)
def alias_sees_the_update(x):
    y = x * 1.0
    z = y                            # the same array: z sees the change, as in Python
    z[0] = 10.0 * x[1]
    return np.sum(y * y)


@case(X5)
def alias_updated_in_loop(x):
    y = x * 1.0
    z = y
    for i in range(3):
        z[i] = z[i + 1] * z[i]
    return np.sum(y)


@case(X3)
def old_value_still_read(x):
    y = x * 2.0
    before = np.sum(y ** 2)          # reads y before the update: the update must not disturb it
    y[1] = y[0] * 3.0
    return before + np.sum(y ** 2)


@case(M, wrt=0)
def fancy_index_update(A):
    B = A.copy()
    B[np.array([0, 1]), np.array([2, 0])] = A[0, :2] * 2.0
    return np.sum(B ** 3)


@case(X3, np.array([0.5, 0.7]), wrt=(0, 1))
def fancy_update_that_names_an_element_twice(x, v):
    y = x * 1.0
    y[np.array([0, 0])] += v        # y[0] = x[0] + v[1]: the second write replaces the first
    return np.sum(y * y)


@case(M, np.array([[1.0, -2.0, 0.5], [0.3, 0.4, 0.9]]), wrt=(0, 1))
def fancy_assignment_of_a_row_twice(A, V):
    B = A * A
    B[[1, 1]] = V                   # only V[1] stays in B
    return np.sum(B ** 3 * A)


@case(X3)
def list_assigned_into_slices(x):
    y = np.zeros((2, 3))
    y[0, :2] = [x[0], x[1] * 2.0]                  # numpy writes the array of the list
    y[1:, 1:] = [(x[2], x[0] * x[2])]
    return np.sum(y ** 2 * x)


# -- 2. lists, comprehensions, tuples ------------------------------------------------------------

@case(0.4, 5)
def collect_then_sum(x, n):
    values = []
    h = x
    for i in range(n):
        h = math.tanh(1.3 * h + 0.1)
        values.append(h)
    return sum(values) + values[-1] * 2.0


@case(X3)
def collect_arrays_then_stack(x):
    states = []
    h = x
    for t in range(4):
        h = np.sin(h) + 0.5 * h
        states.append(h)
    S = np.stack(states)
    total = 0.0
    for s in states:
        total = total + np.sum(s ** 2)
    return np.sum(S[1:] * 3.0) + total + len(states)


@case(X3)
def collect_and_read_in_loop(x):
    values = [x[0]]
    for i in range(1, 3):
        values.append(values[-1] * x[i] + values[0])
    return np.sum(np.array(values) ** 2)


@case(0.7)
def appended_in_branch(x):
    xs = [x]
    if x > 0.0:
        xs.append(x * x)
    return sum(xs)


@case(X3, ROWS)
def comprehensions(x, rows):
    ys = [w * x for w in rows]
    return sum(np.sum(y ** 2) for y in ys) + sum([x[i] * i for i in range(3)])


@case(X3, 3)
def comprehension_over_runtime_range(x, n):
    squares = [x[i] ** 2 for i in range(n) if i != 1]
    return sum(squares) + np.sum(np.stack([np.sin(x) * k for k in range(n)]))


@case(0.8, 1.3, wrt=(0, 1))
def comprehension_over_tuple(a, b):
    values = [v * v for v in (a, b, a * b)]
    pairs = [(v, w) for v, w in zip(values, (b, a, 1.0))]
    return sum(v * w for v, w in pairs) + values[2]


@case(0.7, 4)
def pops_a_list_built_in_a_loop(x, n):
    stack = []
    for i in range(n):
        stack.append(x * (i + 1.0))
    total = 0.0
    while len(stack) > 1:
        top = stack.pop()
        total = total + top * stack[-1]
    return total + stack.pop()


@case(M, 3)
def pops_a_list_of_arrays_to_empty(x, n):
    # the cotangent of the emptied list is zeros shaped like its rows (once shaped (0,), which the
    # backward sweep's first pop could not write into)
    stack = []
    for i in range(n):
        stack.append(x * (i + 1.0))
    total = 0.0
    while len(stack) > 0:
        total = total + np.sum(np.sin(stack.pop()) ** 2)
    return total


@case([0.5, -1.0, 2.0])
def filtered_comprehension_over_a_list_argument(xs):
    # the filtered comprehension appends the caller's items to a list of its own: not a change of
    # the caller's list (refused once as one)
    return sum([v ** 2 for v in xs]) + sum(v for v in xs if v > 0)


@case([1.0, 2.0, 3.0])
def appends_items_of_a_list_argument(xs):
    out = []
    for v in xs:
        out.append(v * 2.0)
    out.append(xs[0])
    return sum(out) * out[-1]


@case(0.7, 1.3, wrt=(0, 1))
def tuples_and_lists(x, y):
    t = (x, y * 2)
    a, b = t
    items = [a, b, a * b]
    items[1] = items[1] + 1.0
    first, second, third = items
    return first * second + third + t[1]


@case(0.5, -1.2, wrt=(0, 1))
def returns_pair_from_helper(x, y):
    s, d = sum_and_difference(x, y)
    return s * d


def sum_and_difference(a, b):
    return a + b, a - b


@case(ROWS)
def list_of_rows_loop(A):
    out = []
    for row in A:
        out.append(np.dot(row, row))
    return sum(out)


@case(X3)
def dict_updated_in_loop(x):
    totals = {"sum": 0.0, "squares": 0.0}
    for i in range(3):
        totals["sum"] = totals["sum"] + x[i]
        totals["squares"] = totals["squares"] + x[i] ** 2
    return totals["sum"] * totals["squares"]


@case(0.8)
def tuple_state_in_loop(x):
    state = (x, 0.0)
    for i in range(4):
        a, b = state
        state = (a * 0.5 + b, b + a * a)
    return state[0] + state[1]


@case(X3)
def starred_unpacking(x):
    first, *rest = x[0], x[1], x[2]
    return first * sum(rest)


@case(X3)
def integer_array_truncates(x):
    counts = np.zeros(3, dtype=int)
    counts[0] = x[0] * 7.0          # truncated to an int: no derivative flows through it
    weights = np.zeros(3)
    weights[1] = x[1]
    return np.sum(counts * x) + np.sum(weights * x)


@case(0.3, np.array([1.0, -2.0]), wrt=(0, 1))
def rotation_matrix_from_nested_lists(t, v):
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return np.sum((R @ v) ** 2 * np.array([1.0, 3.0]))


@case(X3)
def nested_lists_of_arrays_and_numbers(x):
    blocks = np.array([[x, 2.0 * x], (x ** 2, np.sin(x))])          # shape (2, 2, 3)
    scales = np.array(((x[0], 1.0), [2.0, x[1] * x[2]]), dtype=float)  # lists and tuples, a dtype
    return np.sum(blocks ** 2 * scales[:, :, np.newaxis]) + np.array(x[0] * x[1]) ** 2


@case(X3)
def asarray_of_arrays_numbers_and_lists(x):
    a = np.asarray(x)                               # x itself: no copy, as numpy
    b = np.asarray([[x[0], x[1]], [x[2], 1.0]])
    c = np.asarray(x * 2.0, dtype=np.float64)
    return np.sum(a ** 2) + np.sum(b @ b) + np.sum(c * x) + float(np.asarray(x[0]) * 3.0)


@case(X3)
def lists_where_numpy_takes_arrays(x):
    stacked = np.stack([[x[0], x[1]], [x[2], x[0] * x[1]]])      # np.stack of lists: their arrays
    joined = np.concatenate([[x[0], 1.0], x[1:]])
    truncated = np.array([x[0] * 7.0, x[1]], dtype=int)           # truncated: no derivative
    return np.sum([x[0], x[1] ** 2, 2.0]) + np.max((x[2], 0.1)) + np.sum(stacked ** 2) \
        + np.dot(joined, joined) + np.sum(truncated * x[:2])


@case(X3)
def astype_to_integers_truncates(x):
    counts = (x * 3.0).astype(np.int64)            # truncated: no derivative flows through it
    return np.sum(x.astype(int) * x) + np.sum(counts * x) + np.sum(x.astype(np.float64) ** 2)


@case(X3, np.array([1, 2, 3]))
def astype_to_a_dtype_known_when_it_runs(x, like):
    return np.sum(x.astype(like.dtype) * x ** 2) + np.sum(x.astype(x.dtype) * x)


# -- 3. dicts, objects and methods ---------------------------------------------------------------

class Layer:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        return np.tanh(self.W @ x + self.b)

    def __call__(self, x):
        return self.forward(x)


class Model:
    def __init__(self, layers, scale=1.0):
        self.layers = layers
        self.scale = scale

    def predict(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.scale * x

    def loss(self, x, y):
        return np.sum((self.predict(x) - y) ** 2)


RNG = np.random.default_rng(0)
W1, B1 = RNG.normal(size=(4, 3)), RNG.normal(size=4)
W2, B2 = RNG.normal(size=(2, 4)), RNG.normal(size=2)
MODEL = Model([Layer(W1, B1), Layer(W2, B2)], scale=0.5)
TARGET = np.array([0.2, -0.4])


@case(X3)
def method_of_global_model(x):
    return MODEL.loss(x, TARGET)


@case(MODEL, X3, wrt=1)
def model_as_argument(model, x):
    return model.loss(x, TARGET)


@case(X3)
def object_built_inside(x):
    layer = Layer(W1, B1 * x[0])
    return np.sum(layer(x) ** 2)


class ScaledLayer(Layer):
    def __init__(self, W, b, scale):
        super().__init__(W, b)
        self.scale = scale

    def forward(self, x):
        return super().forward(x) * self.scale


class ShiftedLayer(ScaledLayer):
    def __init__(self, W, b, scale, shift):
        super(ShiftedLayer, self).__init__(W, b, scale)  # the two-argument form
        self.shift = shift

    def forward(self, x):
        return super().forward(x) + self.shift


class Plain:
    def __init__(self, value):
        super().__init__()               # object.__init__
        self.value = value


@case(X3, 0.8, wrt=(0, 1))
def subclass_calls_super(x, s):
    layer = ShiftedLayer(W1, B1, s, x[1])
    return np.sum(layer(x) ** 2) + Plain(s).value


class Bag:
    """A class without a constructor of its own."""


@case(0.7)
def object_without_a_constructor(x):
    bag = Bag()
    bag.value = x * 2.0
    return bag.value * x


class Body:
    def __init__(self, x, v):
        self.x, self.v = x, v

    def moved(self, dt):
        return Body(self.x + dt * self.v, self.v * 0.9)

    def energy(self):
        return self.v ** 2 + np.sin(self.x)


@case(X3)
def objects_collected_by_comprehensions(x):  # unrolled: the list's length is known while compiling
    bodies = [Body(x[i], x[i] * i) for i in range(3)]
    grid = [[Body(x[i], x[j]) for j in range(2)] for i in reversed(range(1, 3))]
    odd = [Body(x[i], 1.0) for i in range(3) if i % 2]
    pairs = [Body(a, b) for a, b in zip((x[0], x[1]), (x[2], 2.0 * x[0]))]
    moved = []
    for body in bodies:                  # a loop over a list known while compiling is unrolled too
        moved.append(body.moved(0.1))
    return (sum(b.energy() for b in moved) + grid[1][0].x * grid[0][1].v + odd[0].x
            + sum([p.energy() for p in pairs]))


ACTIVATIONS = [np.tanh, np.sin]
PIPELINE = (lambda z: z * 2.0, math.sin, np.cos)


@case(X3)
def calls_the_functions_of_a_global_list(x):  # (was "calling a value computed inside the function")
    for act in ACTIVATIONS:
        x = act(x)
    y = PIPELINE[0](x) * ACTIVATIONS[1](x)
    for i, f in enumerate(PIPELINE[1:]):
        y = y + i * np.sum(np.cos(x)) * f(x[i])
    return np.sum(y)


def test_a_derivative_follows_a_global_list_of_functions():
    gradient = adjoint.grad(calls_the_functions_of_a_global_list)
    before = gradient(X3)
    ACTIVATIONS.append(np.cos)
    try:
        np.testing.assert_allclose(gradient(X3), adjoint.grad(calls_the_functions_of_a_global_list,
                                                              mode="forward")(X3))
        assert not np.allclose(gradient(X3), before)
    finally:
        ACTIVATIONS.pop()
    np.testing.assert_allclose(gradient(X3), before)


@case(X3)
def changes_an_item_of_a_dict_or_a_list(x):  # `d["a"][0] = v`: the array d["a"] holds changes
    d = {"a": x * 1.0}
    alias = d["a"]
    d["a"][0] = 9.0 * x[1]
    d["a"][1] += x[0] ** 2
    rows = [x * 1.0, x * 2.0]
    rows[1][2] = x[0] * 3.0
    grid = [[x[0], x[1]], [x[2], x[0]]]
    grid[0][1] = x[2] ** 2
    return np.sum(d["a"] ** 2) + np.sum(alias) + np.sum(rows[1] * rows[0]) + grid[0][1] * grid[1][1]


@case(M)
def flattens_in_fortran_order(m):  # `order=` was refused, naming adjoint's own runtime helper
    weights = np.arange(6.0)
    return np.sum(m.flatten(order="F") * weights) + np.sum(np.ravel(m, "F") * weights ** 2)


@case(X3)
def fancy_indexing_copies(x):  # `y[[0, 1]]` is a copy in numpy: changing it leaves `y` alone
    y = x * 1.0
    z = y[[0, 1]]
    z[0] = 5.0 * x[1]
    w = y[[0, 2], ...]
    w[1] = x[0]
    return np.sum(y * x) + np.sum(z) + np.sum(w * w)


@case(ShiftedLayer(W1, B1, 0.5, 0.1), X3, wrt=1)
def subclass_object_as_argument(layer, x):
    return np.sum(layer(x) ** 2)


@case(X3)
def dict_built_inside(x):
    d = {"a": x * 2.0, "b": np.sin(x)}
    d["c"] = d["a"] * d["b"]
    total = 0.0
    for key, value in d.items():
        total = total + np.sum(value ** 2)
    return total + np.sum(d.get("a"))


@case(X3)
def loops_over_the_keys_of_a_dict(x):  # `for k in d` takes the keys, as in Python (took d[0], d[1], ...)
    d = {"a": x * 2.0, "b": np.sin(x)}
    total = 0.0
    for k in d:
        total = total + np.sum(d[k] ** 3)
    for i, k in enumerate(reversed(d)):
        total = total + i * np.sum(d[k])
    keys = list(d)
    return total + sum(np.sum(d[k]) for k in d if k != "a") + len(d) * np.sum(d[keys[-1]] * d[tuple(d)[0]])


@case(0.7)
def copies_a_list_known_while_compiling(x):  # `tuple(xs)` had no derivative rule
    xs = [x, x * 2.0]
    ys = list(xs)
    ys.append(x ** 3)
    return tuple(xs)[1] * ys[0] + ys[-1] + len(xs)


@case({"W": W1, "b": B1, "scale": 1.5}, X3, wrt=1)  # (wrt the dict: see test_loops_over_a_dict_argument)
def loops_over_a_dict_argument(params, x):
    total = 0.0
    for name in params:
        if name != "scale":
            total = total + np.sum(params[name] ** 2)
    if "scale" in params and "bias" not in params:  # keys known while compiling: one side is taken
        total = total * params["scale"]
    if "bias" in params:
        total = total + params["bias"]   # (no such key: this side is never lowered)
    return total + np.sum(params[sorted(params)[0]] @ x)


Affine = namedtuple("Affine", "w b")


class Particle(NamedTuple):
    x: float
    v: float
    label: str = "particle"


@case(0.7, X3)
def namedtuples_built_inside(a, x):
    p = Affine(a * 2.0, b=a)
    q = p._replace(b=p.b * 3.0)
    w, b = q
    return np.sum(q.w * x) + q._asdict()["b"] + w * b * len(q) + q[1]


@case(0.4, 2.0, wrt=(0, 1))
def namedtuple_carried_by_a_loop(x0, k):
    state = Particle(x0, 0.0)
    for _ in range(5):
        state = Particle(state.x + 0.1 * state.v, state.v - 0.1 * k * state.x, state.label)
    return state.x ** 2 + state.v


# -- 4. closures, lambdas, *args -----------------------------------------------------------------

@case(0.6)
def nested_def_closure(x):
    scale = x * 2.0

    def inner(t, power=2):
        return scale * t ** power

    return inner(x) + inner(x, power=3)


@case(X3)
def lambdas(x):
    square = lambda v: v * v  # noqa: E731
    k = np.sum(x)
    shifted = lambda v, by=1.0: v + by * k  # noqa: E731
    return np.sum(square(shifted(x))) + np.sum(apply_twice(lambda v: np.sin(v) * k, x))


def apply_twice(fn, v):
    return fn(fn(v))


relu = lambda z: np.maximum(z, 0.0)  # noqa: E731 - module-level lambdas, a common idiom
halved, tripled = lambda z: z * 0.5, lambda z: z * 3.0  # noqa: E731 - two on one line: told apart by column
scaled_by = lambda k: lambda z: k * z  # noqa: E731
times_four = scaled_by(4.0)
powered = lambda z, p=2: z ** p  # noqa: E731


@case(X3, M.T, wrt=(0, 1))
def module_level_lambdas(x, A):
    return np.sum(relu(x @ A) ** 2) + np.sum(halved(x) * tripled(x)) + np.sum(times_four(x))


@case(0.7)
def module_level_lambda_with_a_default(x):
    return powered(x) + powered(x, 3) + (lambda v: v * powered(v))(x)


@case(0.9, 1.7, wrt=(0, 1))
def star_args(x, y):
    return total_of(x, y, x * y) + total_of(*(x, y)) + keyword_total(x, y=y, z=2.0)


def total_of(*values):
    return sum(v * v for v in values)


def keyword_total(x, **extra):
    return x * extra["y"] + extra["z"] * x


@case(X3)
def closure_in_loop(x):
    total = 0.0
    for i in range(3):
        weight = x[i]

        def term(v):
            return weight * v ** 2

        total = total + term(x[(i + 1) % 3])
    return total


# -- 5. recursion --------------------------------------------------------------------------------

def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


@case(1.3)
def calls_recursive_power(x):
    return power(x, 4) + power(x * 2.0, 2)


def tree_sum(x, depth):
    if depth == 0:
        return np.sin(x)
    return tree_sum(x * 0.5, depth - 1) + tree_sum(x + 1.0, depth - 1)


@case(X3)
def calls_recursive_tree(x):
    return np.sum(tree_sum(x, 3))


@case(1.3, 5)
def power_with_int_argument(x, n):
    return power(x, n)


def count_up(x, i, n):
    return x if i == n else count_up(x * 1.1 + 0.1, i + 1, n)


@case(0.3, 6)
def recursion_counting_up_to_int_argument(x, n):  # `i == n` folds only once `n` is specialised
    return count_up(x, 0, n)


# -- 6. arrays made from numbers, and builtins over lists built at run time ---------------------

@case(0.7, X3, wrt=(0, 1))
def filled_as_the_fill_refusal_advises(v, x):  # `a.fill(v)` is refused, advising np.full_like
    a = x * 1.0
    a = np.full_like(a, v)
    return np.sum(a * x) + np.sum(np.full(2, v * v))


@case(2.0, 0.3, wrt=(0, 1))
def time_grid_with_a_horizon(T, t0):
    t = np.linspace(t0, T, 5)
    dt = t[1] - t[0]
    s, step = np.linspace(t0, T, 4, endpoint=False, retstep=True)
    return np.sum(np.sin(t)) * dt + np.sum(s ** 2) * step


@case(0.5, 0.45, wrt=(0, 1))
def shifted_range(s, d):
    return np.sum(np.arange(s, s + 3.0)) + np.sum(np.cos(np.arange(s, 2.0, d)))


@case(ROWS)
def signed_areas_of_triangles(P):  # np.cross of 2-vectors is their z component (deprecated in numpy 2)
    a, b = P[:, :2] - P[0, :2], P[:, 1:] * P[:, :1]
    return np.sum(np.cross(a, b) ** 2) + 0.5 * np.cross(P[0, :2], P[1, :2]) + np.sum(np.cross(P[:, :2], P))


@case(3.5)
def max_of_a_comprehension(x):  # the builtins over a list built at run time: the item Python picks
    vals = [x * k - k ** 2 for k in range(3)]
    return max(vals) + min(vals) ** 2


@case(-3.5, 3)
def min_of_a_list_of_run_time_length(x, n):
    vals = [x * k for k in range(n)]
    return min(vals)


@case(0.7)
def max_and_min_of_a_list_built_in_a_loop(x):
    vals = []
    for k in range(4):
        vals.append(np.sin(x * k))
    total = 0.0
    for i in range(2):
        shifted = [v + i for v in vals]
        total = total + max(shifted) * min(shifted)
    return max(vals) ** 2 - min(vals) + total


@case(X3)
def max_and_min_of_an_array(x):  # Python's max iterates the array: its first largest element
    return max(x) * min(x ** 2)


@case(3.5, 1.3, wrt=(0, 1))
def sum_with_a_start(x, y):
    vals = [x * k for k in range(3)]
    return sum([x, x * x], 1.0) + sum((x * k for k in range(3)), start=y) + sum(vals, y * y) + sum(vals)


@case(0.7, np.array([1.0, 2.0]), wrt=(0, 1))
def sum_of_numbers_with_an_array_start(x, y):
    vals = []
    for k in range(3):
        vals.append(x * k)
    return np.sum(sum(vals, y) ** 2)


@case(M)
def reads_in_fortran_order(A):
    v = A.flatten(order="F") * np.arange(6.0) + np.ravel(A.T, "F")
    B = np.reshape(v, (3, 2), order="F") + A.reshape(3, 2, order="F") * A.T
    return np.sum(B ** 2) + np.sum(np.reshape(A, shape=A.shape[::-1], order="F") * B)


# -- the checks ----------------------------------------------------------------------------------

def ids(cases):
    return [c.name for c in cases]


def copies(args):
    import copy
    return copy.deepcopy(args)


def same(a, b):
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return same(vars(a), vars(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_both_modes_match_finite_differences(case):
    adjoint.check_grad(case.fn, *copies(case.args), wrt=case.wrt, modes=("reverse", "forward"))


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_modes_agree_and_arguments_are_unchanged(case):
    args = copies(case.args)
    before = copies(args)
    value, reverse = adjoint.value_and_grad(case.fn, wrt=case.wrt)(*args)
    forward = adjoint.grad(case.fn, wrt=case.wrt, mode="forward")(*args)
    assert all(same(a, b) for a, b in zip(args, before)), "the derivative changed its arguments"
    reverse, forward = (reverse, forward) if isinstance(case.wrt, tuple) else ((reverse,), (forward,))
    for r, f in zip(reverse, forward):
        np.testing.assert_allclose(r, f, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(value, case.fn(*copies(case.args)), rtol=1e-12)


def test_the_table_is_large():
    assert len(CASES) >= 35


# -- gradients of dicts and objects ----------------------------------------------------------------

def numerical(f, args, position, path, eps=1e-6):
    """Central differences of scalar `f` wrt the array at `path` inside `args[position]`."""
    import copy

    def get(root):
        for key in path:
            root = getattr(root, key) if isinstance(key, str) and not isinstance(root, dict) else root[key]
        return root

    base = copy.deepcopy(args)
    target = np.asarray(get(base[position]), dtype=float)
    out = np.zeros(target.shape)
    for index in np.ndindex(target.shape):
        values = []
        for step in (eps, -eps):
            trial = copy.deepcopy(args)
            holder = trial[position]
            for key in path[:-1]:
                holder = getattr(holder, key) if isinstance(key, str) and not isinstance(holder, dict) else holder[key]
            leaf = np.array(get(trial[position]), dtype=float)
            leaf[index] += step
            if isinstance(holder, dict) or isinstance(holder, list):
                holder[path[-1]] = leaf
            else:
                setattr(holder, path[-1], leaf)
            values.append(f(*trial))
        out[index] = (values[0] - values[1]) / (2 * eps)
    return out


def mlp_loss(params, x, y):
    h = np.tanh(params["W1"] @ x + params["b1"])
    out = params["W2"] @ h + params["b2"]
    return np.sum((out - y) ** 2) + 0.01 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))


PARAMS = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_dict_of_parameters_gives_a_dict_of_gradients(mode):
    params = {k: v.copy() for k, v in PARAMS.items()}
    grads = adjoint.grad(mlp_loss, wrt="params", mode=mode)(params, X3, TARGET)
    assert isinstance(grads, dict) and list(grads) == list(PARAMS)
    for key in PARAMS:
        assert grads[key].shape == PARAMS[key].shape
        np.testing.assert_allclose(grads[key], numerical(mlp_loss, (params, X3, TARGET), 0, [key]),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(params[key], PARAMS[key])   # not changed


def stacked_loss(layers, x):
    for layer in layers:
        x = np.tanh(layer["W"] @ x + layer["b"])
    return np.sum(x ** 2)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_list_of_dicts(mode):
    layers = [{"W": W1, "b": B1}, {"W": W2, "b": B2}]
    grads = adjoint.grad(stacked_loss, wrt=0, mode=mode)(layers, X3)
    assert isinstance(grads, list) and len(grads) == 2
    for i, key in [(0, "W"), (0, "b"), (1, "W"), (1, "b")]:
        np.testing.assert_allclose(grads[i][key], numerical(stacked_loss, (layers, X3), 0, [i, key]),
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_object_argument_gives_a_dict_of_attribute_gradients(mode):
    def loss(model, x):
        return model.loss(x, TARGET)

    grads = adjoint.grad(model_as_argument, wrt=(0, 1), mode=mode)(MODEL, X3)
    model_grad, x_grad = grads
    assert set(model_grad) == {"layers", "scale"}
    np.testing.assert_allclose(model_grad["layers"][1]["W"],
                               numerical(model_as_argument, (MODEL, X3), 0, ["layers", 1, "W"]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model_grad["scale"], numerical(model_as_argument, (MODEL, X3), 0, ["scale"]),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x_grad, adjoint.grad(method_of_global_model)(X3), rtol=1e-10)


def test_loops_over_a_dict_argument():
    """`for k in params`, `k in params`, `sorted(params)` of a dict argument: its gradient, a dict."""
    params = {"W": W1, "b": B1, "scale": 1.5}
    assert adjoint.check_grad(loops_over_a_dict_argument, params, X3, wrt=(0, 1)) < 1e-6
    grads = adjoint.grad(loops_over_a_dict_argument)(params, X3)
    assert list(grads) == ["W", "b", "scale"]


def affine_loss(p, x):
    return np.sum((p.w * x + p.b) ** 2)


def particle_energy(particles, k):
    return sum(0.5 * p.v ** 2 + 0.5 * k * p.x ** 2 for p in particles["all"])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_namedtuple_argument_gives_a_gradient_of_its_class(mode):
    p = Affine(np.array([2.0, -1.0]), 0.5)
    grads = adjoint.grad(affine_loss, mode=mode)(p, X3[:2])
    assert type(grads) is Affine
    residual = p.w * X3[:2] + p.b
    np.testing.assert_allclose(grads.w, 2 * residual * X3[:2], rtol=1e-12)
    assert grads.b == pytest.approx(2 * np.sum(residual))
    adjoint.check_grad(affine_loss, p, X3[:2], modes=(mode,))
    particles = {"all": [Particle(1.0, 0.5), Particle(-0.5, 2.0, "other")]}
    grads = adjoint.grad(particle_energy, mode=mode)(particles, 3.0)
    assert grads["all"] == [Particle(3.0, 0.5, None), Particle(-1.5, 2.0, None)]   # a string: no gradient


def test_value_and_grad_and_vjp_with_a_dict():
    value, grads = adjoint.value_and_grad(mlp_loss)(PARAMS, X3, TARGET)
    assert value == pytest.approx(mlp_loss(PARAMS, X3, TARGET))
    assert set(grads) == set(PARAMS)
    out, cotangent = adjoint.vjp(mlp_loss)(PARAMS, X3, TARGET, 2.0)
    for key in PARAMS:
        np.testing.assert_allclose(cotangent[key], 2.0 * grads[key], rtol=1e-12)


def test_a_new_structure_compiles_a_new_derivative():
    small = {"W1": W1, "b1": B1, "W2": W2, "b2": B2}
    renamed = {"b1": B1, "W1": W1, "W2": W2, "b2": B2}   # other order: the same keys in the result
    df = adjoint.grad(mlp_loss)
    a, b = df(small, X3, TARGET), df(renamed, X3, TARGET)
    for key in small:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12)


def test_recursion_specialises_on_each_int_value():
    df = adjoint.grad(power_with_int_argument)
    assert df(1.3, 3) == pytest.approx(3 * 1.3 ** 2)
    assert df(1.3, 6) == pytest.approx(6 * 1.3 ** 5)
    assert adjoint.grad(power_with_int_argument, mode="forward")(2.0, 4) == pytest.approx(32.0)
    with pytest.raises(adjoint.InvalidArgument, match="int argument of a recursive function"):
        adjoint.grad(power_with_int_argument, wrt=1)(1.3, 3)


@pytest.mark.parametrize("n", [np.int64(3), np.int32(4), np.uint8(2)])
def test_a_numpy_integer_bounds_a_recursion_like_an_int(n):
    """A numpy integer (a count read out of an array, `np.int64(3)`) specialises the recursion as an
    int does (was refused as a depth known only when the function runs)."""
    assert adjoint.grad(power_with_int_argument)(1.3, n) == pytest.approx(int(n) * 1.3 ** (int(n) - 1), rel=1e-12)
    assert adjoint.check_grad(power_with_int_argument, 1.3, n) < 1e-6   # both modes
    assert adjoint.hessian(power_with_int_argument)(1.3, n) == \
        pytest.approx(int(n) * (int(n) - 1) * 1.3 ** (int(n) - 2), rel=1e-12)
    assert adjoint.grad(recursion_counting_up_to_int_argument)(0.3, n) == pytest.approx(1.1 ** int(n), rel=1e-12)
    with pytest.raises(adjoint.InvalidArgument, match="int argument of a recursive function"):
        adjoint.grad(power_with_int_argument, wrt=1)(1.3, n)


@pytest.mark.parametrize("n", [3, 5])
def test_second_derivatives_of_a_recursion_specialised_on_an_int(n):
    expected = n * (n - 1) * 1.3 ** (n - 2)  # by hand
    assert adjoint.grad(adjoint.grad(power_with_int_argument))(1.3, n) == pytest.approx(expected, rel=1e-12)
    assert adjoint.hessian(power_with_int_argument)(1.3, n) == pytest.approx(expected, rel=1e-12)
    assert adjoint.hvp(power_with_int_argument)(1.3, n, 2.0) == pytest.approx(2.0 * expected, rel=1e-12)
    assert adjoint.grad(adjoint.grad(power_with_int_argument), mode="forward")(1.3, n) == \
        pytest.approx(expected, rel=1e-12)


def squared_count_up(x, n):
    return recursion_counting_up_to_int_argument(x, n) ** 2


def test_recursion_counting_up_specialises_and_still_refuses_what_is_too_deep():
    expected = 1.1 ** 6
    assert adjoint.grad(recursion_counting_up_to_int_argument)(0.3, 6) == pytest.approx(expected, rel=1e-12)
    assert adjoint.hessian(squared_count_up)(0.3, 6) == pytest.approx(2 * expected ** 2, rel=1e-12)
    for mode in ("reverse", "forward"):
        with pytest.raises(adjoint.UnsupportedSyntax, match="recursion deeper than 100 calls of `count_up`"):
            adjoint.grad(recursion_counting_up_to_int_argument, mode=mode)(0.3, 150)


def fibonacci_like(x, n):  # two recursive calls: 2 ** n / 1.4 calls in all
    if n < 2:
        return x
    return fibonacci_like(x, n - 1) + fibonacci_like(x, n - 2) * x


def test_recursion_making_too_many_calls_is_refused_quickly_with_advice():
    """The depth (n) is small, but each level doubles the calls, each inlined: compiling took ~1.55x
    longer per level (minutes at n = 25). A limit on the calls in all refuses it within a second."""
    assert adjoint.check_grad(fibonacci_like, 1.1, 8) < 1e-6
    for mode in ("reverse", "forward"):
        started = time.perf_counter()
        with pytest.raises(adjoint.UnsupportedSyntax) as error:
            adjoint.grad(fibonacci_like, mode=mode)(1.1, 30)
        assert time.perf_counter() - started < 5.0
        message = str(error.value)
        assert "more than 500 calls in all (here, of `fibonacci_like`)" in message, message
        assert error.value.location.filename == __file__ and "fibonacci_like(x, n - " in error.value.location.line
        assert "loop that computes each value once" in message


def halves(x):
    return x if x < 1.0 else halves(x * 0.5) + 1.0   # the depth depends on a float


def test_recursion_on_data_is_refused_with_advice():
    for mode in ("reverse", "forward"):
        with pytest.raises(adjoint.UnsupportedSyntax) as error:
            adjoint.grad(halves, mode=mode)(5.0)
        message = str(error.value)
        assert "recursive call to `halves`" in message and "halves(x * 0.5)" in message
        assert "loop" in message


def writes_into_row_of_argument(A):
    row = A[0]
    row[1] = 3.0
    return np.sum(A)


def sorts(x):
    values = [x, x * 2.0]
    values.sort()
    return values[0]


def helper_changes_argument(y):
    y[0] = 0.0
    return np.sum(y)


def calls_helper_that_changes_argument(x):
    y = x * 2.0
    return helper_changes_argument(y) + np.sum(y)


def concatenates_ragged_list(x):
    parts = []
    for i in range(3):
        parts.append(x[: i + 1])
    return np.sum(np.concatenate(parts))


def appends_pairs_to_a_list(x):
    rows = []
    for i in range(2):
        rows.append([x * i, x + i])
    return np.sum(np.array(rows) ** 2)


def returns_dict(x):
    return {"a": x * 2.0}


def closure_appends(x):
    values = []

    def add(v):
        values.append(v)
    add(x)
    return sum(values)


@pytest.mark.parametrize("fn, args, words", [
    (returns_dict, (1.0,), ["returning a dict", "return {"]),
    (closure_appends, (1.0,), ["values.append(v)", "enclosing function"]),
    (writes_into_row_of_argument, (M,), ["row[1] = 3.0", "view", "copy"]),
    (concatenates_ragged_list, (X3,), ["np.concatenate(parts)", "np.stack"]),
    (sorts, (1.0,), ["values.sort()", "append"]),
    (calls_helper_that_changes_argument, (X3,), ["y[0] = 0.0", "the caller passed", "copy"]),
    (appends_pairs_to_a_list, (0.7,), ["appending a tuple or list", "rows.append([x * i, x + i])", "np.array"]),
])
def test_unsupported_changes_are_refused_with_their_line(fn, args, words):
    for mode in ("reverse", "forward"):
        with pytest.raises(adjoint.UnsupportedSyntax) as error:
            adjoint.grad(fn, mode=mode)(*args)
        for word in words:
            assert word in str(error.value), str(error.value)


def ties_in_a_list(x):
    vals = [x * 2.0, x + x, x * x]  # all 4.0 at x = 2.0
    return max(vals) * 3.0 + min(vals[::-1])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_max_and_min_of_a_list_give_the_gradient_to_the_first_winner_as_python_does(mode):
    assert adjoint.grad(ties_in_a_list, mode=mode)(2.0) == 3.0 * 2.0 + 2.0 * 2.0  # max: x * 2.0; min: x * x


def max_with_a_key(x):
    vals = [x * k - 1.0 for k in range(3)]
    return max(vals, key=abs)


def min_with_a_default(x):
    vals = [x * k for k in range(3)]
    return min(vals, default=0.0)


@pytest.mark.parametrize("fn, words", [(max_with_a_key, ["`key=`", "max(vals, key=abs)", "np.argmax"]),
                                       (min_with_a_default, ["`default=`", "min(vals, default=0.0)", "len(values)"])])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_max_and_min_with_a_key_or_a_default_are_refused_with_advice(fn, words, mode):
    with pytest.raises(adjoint.NoDerivativeRule) as error:
        adjoint.grad(fn, mode=mode)(1.5)
    assert all(word in str(error.value) for word in words), str(error.value)
    assert fn.__name__ in str(error.value) and "test_programs.py" in str(error.value)


def flattens_in_memory_order(x):
    return np.sum(x.flatten(order="K") * np.arange(4.0))


def ravels_in_memory_order(x):
    return np.sum(np.ravel(x, "A") * np.arange(4.0))


def reshapes_in_memory_order(x):
    return np.sum(np.reshape(x, 4, order="A") * np.arange(4.0))


@pytest.mark.parametrize("fn, name", [(flattens_in_memory_order, "x.flatten"), (ravels_in_memory_order, "np.ravel"),
                                      (reshapes_in_memory_order, "np.reshape")])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_orders_that_follow_the_memory_layout_are_refused_with_advice(fn, name, mode):
    with pytest.raises(adjoint.NoDerivativeRule) as error:
        adjoint.grad(fn, mode=mode)(np.ones((2, 2)))
    message = str(error.value)
    assert f"`{name}` in order 'C' or 'F'" in message and "order='F'" in message and fn.__name__ in message, message
    assert "adjoint.runtime" not in message


def ragged_list_loss(arrays):
    return sum(np.sum(a ** 2) * (i + 1.0) for i, a in enumerate(arrays))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_list_argument_gives_a_list_of_gradients(mode):
    arrays = [X3, X3[:2] * 2.0]
    grads = adjoint.grad(ragged_list_loss, mode=mode)(arrays)
    assert isinstance(grads, list) and [g.shape for g in grads] == [(3,), (2,)]
    np.testing.assert_allclose(grads[0], 2 * X3, rtol=1e-12)
    np.testing.assert_allclose(grads[1], 4 * X3[:2] * 2.0, rtol=1e-12)


def test_generated_code_of_an_update_in_a_loop_is_a_loop():
    text = adjoint.source(adjoint.grad(loop_prefix_recurrence), X5)
    assert "setitem(y, i," in text and "for i in reversed(range(" in text, text
    text = adjoint.source(adjoint.grad(collect_then_sum), 0.4, 5)
    assert "xs = list_append(xs, h)" in text or "list_append(" in text, text
