"""Functions the compiler must refuse, for test_errors.py. Each comment `# <-` marks the line the
error must point at; the tests find it by that marker, so these functions can be edited freely."""
import math

import numpy as np

import adjoint


def uses_try(x):
    try:  # <-
        y = x * 2.0
    except ValueError:
        y = x
    return y


def uses_with(x):
    with np.errstate(all="ignore"):  # <-
        y = np.log(x)
    return y


def uses_del(x):
    xs = [x, 2.0 * x]
    del xs[0]  # <-
    return xs[0]


def deletes_in_a_loop(x):
    for i in range(3):
        y = x * i
        del y  # <-
    return x


def reads_after_del(x):
    y = x * 2.0
    del y
    return y  # <-


def uses_global(x):
    global COUNTER  # <-
    return x


COUNTER = 0


def make_nonlocal():
    total = 0.0

    def accumulate(x):
        nonlocal total  # <-
        total = total + x
        return total
    return accumulate


uses_nonlocal = make_nonlocal()


def defines_class(x):
    class Box:  # <-
        pass
    return x


def defines_function(x):
    def inner(t):  # <-
        return t * 2.0
    return inner(x)


def uses_yield(x):
    y = x * 2.0
    yield y  # <-


def uses_lambda(x):
    double = lambda t: t * 2.0  # <-
    return double(x)


def uses_if(x):
    y = x * 2.0
    if y > 1.0:  # <-
        y = y * y
    return y


def uses_for(x):
    total = 0.0
    for i in range(3):  # <-
        total = total + x * i
    return total


def uses_while(x):
    while x < 10.0:  # <-
        x = x * 2.0
    return x


def assigns_subscript(x):
    y = x * 1.0
    y[0] = 2.0  # <-
    return np.sum(y)


def augments_subscript(x):
    y = x * 1.0
    y[1:] += 2.0  # <-
    return np.sum(y)


def assigns_attribute(x):
    y = x * 1.0
    y.shape = (2, 1)  # <-
    return np.sum(y)


def raises(x):
    y = x * 2.0
    raise ValueError("bad")  # <-


def asserts(x):
    assert x > 0  # <-
    return x


def imports(x):
    import math as m  # <-
    return m.sin(x)


def early_return(x):
    return x  # <-
    y = x * 2.0
    return y


def comprehension(x):
    ys = [x * i for i in range(3)]  # <-
    return sum(ys)


def walrus(x):
    y = (z := x * 2.0) + z  # <-
    return y


def walrus_in_and(x):
    y = x > 0.0 and (z := x * 2.0) > 1.0  # <-
    return x * 2.0 if y else x


def undefined_name(x):
    return x * not_defined_anywhere  # <-


def starred_call(x):
    args = (x, 2.0)
    return math.pow(*args)  # <-


def chained_comparison(x):
    y = 0.0 < x < 1.0  # <-
    return x * y


def tests_membership_of_a_value(x):
    return x * 2.0 if x in (1.0, 2.0) else x  # <-


def star_params(*xs):
    return xs[0]


def recursive(x):
    return recursive(x * 0.5)  # <-


def writes_into_view(x):
    y = x * 1.0
    row = y[0:2]
    row[0] = 2.0  # <-
    return np.sum(y)


GLOBAL_ARRAY = np.ones(3)


def writes_into_global(x):
    GLOBAL_ARRAY[0] = x  # <-
    return np.sum(GLOBAL_ARRAY)


def sorts_list(x):
    ys = [x, 2.0 * x]
    ys.sort()  # <-
    return ys[0]


def set_comprehension(x):
    ys = {x * i for i in range(3)}  # <-
    return sum(ys)


def calls_computed_value(x):
    y = np.sin(x)
    return y(x)  # <-


async def coroutine(x):
    return x


class Container:
    """A method body indented inside a class, to check columns of indented source."""

    @staticmethod
    def indented(x):
        y = x * 2.0
        with open("f"):  # <-
            y = y * y
        return y

    @staticmethod
    def indented_no_rule(x):
        y = x * 2.0
        return np.sum(np.i0(y))  # <-


def odd_docstring(x):
    """A docstring whose continuation lines start at column zero,
which a naive dedent cannot remove."""
    with open("f"):  # <-
        x = x * 2.0
    return x


class Indented:
    @staticmethod
    def odd_docstring(x):
        """Same, but indented inside a class:
the continuation line is less indented than the def."""
        try:  # <-
            x = x * 2.0
        finally:
            pass
        return x


def unicode_before_error(x):
    label = "ééé"; y = np.float_power(x, 1.5)  # <-
    return y


def calls_broken_helper(x):
    return helper_with_if(x) * 2.0


def helper_with_if(t):
    with open("f"):  # <-
        t = t * 2.0
    return t


def no_rule_numpy(x):
    y = x * 2.0
    z = np.i0(y)  # <-
    return np.sum(z)


def no_rule_c(x):
    y = np.float_power(x, 1.5)  # <-
    return y * 2.0


def no_rule_in_helper(x):
    return uses_gamma(x * 2.0) + 1.0


def uses_gamma(t):
    return np.float_power(t, 1.5) * 3.0  # <-


def no_rule_on_constants_only(x):
    c = np.i0(np.array([0.5, 1.5]))
    k = np.float_power(4.0, 0.5)
    return np.sum(c * x) * k


def no_rule_on_inactive_branch(x, y):
    """`y` is not differentiated: what flows from it needs no rule."""
    k = np.float_power(y + 1.0, 0.5)
    return x * k


def vector_output(x):
    return np.sin(x) * 2.0


def tuple_output(x):
    return x * 2.0, x * 3.0  # <-


def array_and_number_output(x):
    return x * 2.0, np.sum(x)  # <-


_namespace = {}
exec("def exec_helper(t):\n    return t * 2.0\n", _namespace)
exec_helper = _namespace["exec_helper"]


def calls_exec_helper(x):
    return exec_helper(x) + 1.0  # <-


def returns_nothing(x):
    y = x * 2.0


def returns_none(x):
    return None


def square_sum(x):
    return np.sum(x * x)


def scales_a_shared_array(x):
    y = x
    x *= 2.0  # <-
    return np.sum(y * x)


def doubles_its_argument(a):
    a *= 2.0  # <-
    return np.sum(a)


def calls_a_helper_that_doubles_its_argument(x):
    return doubles_its_argument(x) + np.sum(x)


def halves_a_row(x):
    a = x[0]
    a /= 2.0  # <-
    return np.sum(x) + np.sum(a)


def scales_a_shared_array_in_a_loop(x, n):
    y = x
    for _ in range(n):
        x *= 0.5  # <-
    return np.sum(y * x)


def changes_a_global_through_a_name(x):
    y = GLOBAL_ARRAY
    y += x  # <-
    return np.sum(y)


# -- changes to memory from outside the function, through something read out of it ----------------

class Model:
    def __init__(self):
        self.W, self.rows, self.params, self.scale = np.ones(2), [np.ones(2), np.ones(2)], {"b": np.ones(2)}, 2.0

    def changes_its_weights(self, x):
        W = self.W
        W += x  # <-
        return np.sum(W * x)


MODEL = Model()
SCALES = np.array([1.0, 2.0])


def adds_into_an_attribute_of_a_global(x):
    y = MODEL.W
    y += x  # <-
    return np.sum(y * x)


def writes_into_an_attribute_of_a_global(x):
    y = MODEL.W
    y[0] = 5.0  # <-
    return np.sum(y * x)


def changes_a_global_list_in_a_loop(x):
    for row in MODEL.rows:
        row += x  # <-
    return np.sum(MODEL.rows[0] * x)


def writes_into_a_global_dict_through_a_name(x):
    params = MODEL.params
    params["b"] = x  # <-
    return np.sum(MODEL.params["b"] * x)


def appends_to_a_global_list(x):
    MODEL.rows.append(x)  # <-
    return np.sum(MODEL.rows[-1] * x)


def adds_into_a_view_of_a_global(x):
    head = MODEL.rows[0][:1]
    head *= 2.0  # <-
    return np.sum(MODEL.rows[0] * x)


def adds_into_a_global_that_a_loop_carries(x):
    h = MODEL.W
    for _ in range(2):
        h += x  # <-
    return np.sum(h * x)


def scales_numbers_read_out_of_globals(x):
    s = MODEL.scale
    s *= 1.5
    t = SCALES[1]
    t += 1.0
    w = MODEL.W.copy()
    w += x
    return np.sum(w * x) * s * t


# -- calls that change an argument in place ---------------------------------------------------

def fills(x):
    a = x * 1.0
    a.fill(2.0)  # <-
    return np.sum(a * x)


def sorts_an_array_in_place(x):
    a = x * 1.0
    a.sort()  # <-
    return np.sum(a * x)


def copies_into(x):
    a = x * 1.0
    np.copyto(a, 2.0)  # <-
    return np.sum(a * x)


def writes_out(x):
    a = x * 1.0
    np.multiply(a, 2.0, out=a)  # <-
    return np.sum(a * x)


def writes_out_by_position(x):
    a = x * 1.0
    np.exp(x, a)  # <-
    return np.sum(a * x)


def writes_out_of_a_function_by_position(x):
    a = np.zeros(2)
    np.cumsum(x, 0, None, a)  # <-
    return np.sum(a * x)


def writes_out_of_a_method_by_position(x):
    a = np.zeros(2)
    x.clip(0.0, 0.5, a)  # <-
    return np.sum(a * x)


def joins_lists_built_at_run_time(x):
    xs, ys = [], []
    for i in range(1):
        xs.append(x[0])
        ys.append(x[1])
    return np.sum(np.array(xs + ys) * np.array([1.0, 2.0]))  # <-


def adds_at(x):
    a = x * 1.0
    np.add.at(a, [0, 0], 1.0)  # <-
    return np.sum(a * x)


def calls_setitem(x):
    a = x * 1.0
    a.__setitem__(0, 5.0)  # <-
    return np.sum(a * x)


def puts(x):
    a = np.zeros(2)
    np.put(a, [0], [5.0])  # <-
    return np.sum(a * x)



class WithoutInit:
    def scaled(self, x):
        return x * 2.0


class CallsMissingBaseMethod(WithoutInit):
    def scaled(self, x):
        return super().missing(x)  # <-


def calls_a_base_method_that_does_not_exist(x):
    return CallsMissingBaseMethod().scaled(x)


def super_outside_a_method(x):
    return super().scaled(x)  # <-


def grad_of_a_local_function(x):
    def inner(t):
        return t ** 3 * x
    return adjoint.grad(inner)(x) * x  # <-


def jacobian_inside(x):
    return np.sum(adjoint.jacobian(cubed)(x) ** 2)  # <-


def cubed(x):
    return x ** 3


def pads_with_a_ramp(x):
    return np.sum(np.pad(x, 2, mode="linear_ramp") ** 2)


def sums_a_list_into_a_vector(xs):
    return sum(v ** 2 for v in xs)  # a vector, not a scalar


def tries_on_a_list(xs):
    try:  # <-
        return xs[0]
    except IndexError:
        return 0.0


def bessel_of_a_dict_entry(d):
    return np.sum(np.i0(d["a"]))  # <-


def returns_nothing_for_a_dict(d):  # <-
    np.sum(d["a"])


def curve(t):
    return np.array([t, t * t])


def pair_of_a_float(t):
    return np.array([t, t * t])


def writes_into_a_global_in_a_while_loop(x):
    a = GLOBAL_ARRAY  # (a loop-carried name: found by the fuzz harness, seed 420)
    i = 0
    while i < 1:
        i += 1
        a[0] = np.tanh(x)  # <-
    return np.sum(a)


def writes_into_a_global_picked_in_a_branch(x):
    a = GLOBAL_ARRAY if x > 0 else np.zeros(3)
    a[0] = x  # <-
    return np.sum(a)


class Particle:
    def __init__(self, x):
        self.x = x


def collects_objects_in_a_loop(x):
    particles = []
    for i in range(3):
        particles.append(Particle(x * i))  # <-
    return particles[2].x


def collects_objects_over_a_range_known_when_it_runs(x):
    particles = [Particle(x[i]) for i in range(x.shape[0])]  # <-
    return particles[-1].x


def reads_an_object_at_a_run_time_index(x):
    particles = [Particle(x), Particle(2.0 * x)]
    total = 0.0
    for i in range(2):
        total = total + particles[i].x  # <-
    return total


ACTIVATIONS = (np.tanh, np.sin)


def picks_a_function_at_a_run_time_index(x, i):
    return ACTIVATIONS[i](x)  # <-


def writes_an_element_of_an_array_row(x):
    y = np.zeros((2, 2))
    y[0][1] = x  # <-
    return np.sum(y)


def writes_an_element_of_a_run_time_list_item(x):
    rows = []
    for i in range(2):
        rows.append(x * i)
    rows[1][0] = x[1]  # <-
    return np.sum(rows[1])


def doubles(x):
    return x * 2.0


def halves_an_argument_a_loop_hands_over(x0, x1):
    i = 0
    while i < 2:  # (the fuzz harness, seed 423: on the second trip x1 is x0, which Python halves)
        i += 1
        x1 *= 0.5  # <-
        x1 = x0
    return np.sum(x0)


def halves_a_local_a_loop_hands_over(x):
    y = x * 1.0
    z = y * 1.0
    for i in range(2):
        z *= 0.5  # <-
        z = y
    return np.sum(y)
