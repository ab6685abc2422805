"""Errors: each names the user's file, line and column, quotes the line with a caret under the
culprit, and says what to do instead; every one is an adjoint.AdjointError."""
import inspect
import linecache
import os
import re
import subprocess
import sys
import traceback

import numpy as np
import pytest

import adjoint
import errors_helpers as h

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ERROR_CLASSES = [adjoint.UnsupportedSyntax, adjoint.NoDerivativeRule, adjoint.NonScalarOutput,
                 adjoint.SourceUnavailable, adjoint.InvalidArgument, adjoint.GradientMismatch]


def test_every_error_is_an_adjoint_error():
    for cls in ERROR_CLASSES:
        assert issubclass(cls, adjoint.AdjointError)
        assert issubclass(cls, Exception)
    assert not issubclass(adjoint.AdjointError, (TypeError, ValueError))


# -- how a located error must read ----------------------------------------------

def marked_line(fn):
    """The file line number of the line marked `# <-` in `fn`'s source (`fn` unwrapped)."""
    fn = inspect.unwrap(getattr(fn, "__func__", fn))
    lines, first = inspect.getsourcelines(fn)
    marked = [i for i, line in enumerate(lines) if line.rstrip().endswith("# <-")]
    assert len(marked) == 1, f"{fn.__name__} needs exactly one `# <-` marker"
    return fn.__code__.co_firstlineno + marked[0] if first == fn.__code__.co_firstlineno else first + marked[0]


def assert_located(error, fn, snippet, advice=None):
    """`error` points at the marked line of `fn`, with the caret under `snippet`, and gives advice."""
    fn = inspect.unwrap(getattr(fn, "__func__", fn))
    message = str(error)
    filename = fn.__code__.co_filename
    line = marked_line(fn)
    header = re.search(r'File "(.*)", line (\d+), column (\d+), in (\S+)', message)
    assert header, message
    assert header.group(1) == filename, message
    assert int(header.group(2)) == line, message
    text = linecache.getline(filename, line)
    column = int(header.group(3)) - 1
    assert text[column:].startswith(snippet), f"column {column + 1} of {text!r} is not `{snippet}`:\n{message}"
    lines = message.splitlines()
    quoted = lines.index(next(item for item in lines if item.startswith('File "'))) + 1
    source_line, caret_line = lines[quoted], lines[quoted + 1]
    assert source_line.strip() == text.strip(), message
    assert caret_line.rstrip().endswith("^") and caret_line.count("^") == 1, message
    assert source_line[caret_line.index("^"):].startswith(snippet), f"caret not under `{snippet}`:\n{message}"
    rest = "\n".join(lines[quoted + 2:]).strip()
    assert rest, f"no advice after the caret:\n{message}"
    assert "docs/" not in rest, message   # there is no such document to send users to
    if advice is not None:
        assert advice.lower() in rest.lower(), message
    assert error.location.lineno == line
    return message


def compile_error(fn, *args, wrt=0):
    with pytest.raises(adjoint.AdjointError) as info:
        adjoint.grad(fn, wrt=wrt)(*args)
    return info.value


# -- unsupported syntax -----------------------------------------------------------

UNSUPPORTED = [
    # function, arguments, text under the caret, a word the advice must contain
    (h.uses_try, (1.0,), "try", "try"),
    (h.uses_with, (1.0,), "with", "with"),
    (h.uses_del, (1.0,), "del", "without"),
    (h.changes_a_global_through_a_name, (np.ones(2),), "y += x", "new array"),
    (h.deletes_in_a_loop, (1.0,), "del", "lifetime"),
    (h.reads_after_del, (1.0,), "y", "assign"),
    (h.uses_global, (1.0,), "global", "argument"),
    (h.uses_nonlocal, (1.0,), "nonlocal", "return"),
    (h.defines_class, (1.0,), "class", "module level"),
    (h.uses_yield, (1.0,), "yield", "return"),
    (h.writes_into_view, (np.ones(3),), "row[0]", "copy"),
    (h.writes_into_global, (1.0,), "GLOBAL_ARRAY[0]", "copy"),
    (h.writes_into_a_global_in_a_while_loop, (1.0,), "a[0]", "copy"),
    (h.writes_into_a_global_picked_in_a_branch, (1.0,), "a[0]", "copy"),
    (h.sorts_list, (1.0,), "ys.sort()", "append"),
    (h.set_comprehension, (1.0,), "{x * i", None),
    (h.assigns_attribute, (np.ones(2),), "y.shape", None),
    (h.raises, (1.0,), "raise", "before calling"),
    (h.asserts, (1.0,), "assert", "before calling"),
    (h.imports, (1.0,), "import", "module level"),
    (h.walrus_in_and, (1.0,), "z := x", "statement of its own"),
    (h.undefined_name, (1.0,), "not_defined_anywhere", "argument"),
    (h.recursive, (1.0,), "recursive(x * 0.5)", "loop"),
    (h.tests_membership_of_a_value, (1.0,), "x in (1.0, 2.0)", "key in d"),
    (h.calls_computed_value, (1.0,), "y(x)", "by their name"),
    (h.calls_a_base_method_that_does_not_exist, (1.0,), "super().missing(x)", "defined with `def`"),
    (h.super_outside_a_method, (1.0,), "super().scaled(x)", "method of a class"),
    (h.grad_of_a_local_function, (1.0,), "adjoint.grad(inner)(x)", "module level"),
    (h.jacobian_inside, (np.ones(2),), "adjoint.jacobian(cubed)(x)", "outside"),
    (h.Container.indented, (1.0,), "with", "with"),
    (h.odd_docstring, (1.0,), "with", "with"),
    (h.Indented.odd_docstring, (0.1,), "try", "try"),
    (h.calls_broken_helper, (1.0,), "with", "with"),
    # memory from outside the function, changed through something read out of it: Python changes
    # the global (for later calls too), a derivative cannot
    (h.MODEL.changes_its_weights, (np.ones(2),), "W += x", "new array"),
    (h.adds_into_an_attribute_of_a_global, (np.ones(2),), "y += x", "new array"),
    (h.writes_into_an_attribute_of_a_global, (np.ones(2),), "y[0]", "copy"),
    (h.changes_a_global_list_in_a_loop, (np.ones(2),), "row += x", "new array"),
    (h.writes_into_a_global_dict_through_a_name, (np.ones(2),), "params[\"b\"]", "copy"),
    (h.appends_to_a_global_list, (np.ones(2),), "MODEL.rows.append(x)", "list built in the function"),
    (h.adds_into_a_view_of_a_global, (np.ones(2),), "head *= 2.0", "new array"),
    (h.adds_into_a_global_that_a_loop_carries, (np.ones(2),), "h += x", "new array"),
    # calls that change an argument in place, which the SSA form would not see
    (h.fills, (np.ones(2),), "a.fill(2.0)", "np.full_like"),
    (h.sorts_an_array_in_place, (np.ones(2),), "a.sort()", "np.sort"),
    (h.copies_into, (np.ones(2),), "np.copyto", "np.where"),
    (h.writes_out, (np.ones(2),), "np.multiply", "assign the result"),
    # (`out` by position: ignored, the value and the derivative were those of `a` before the call)
    (h.writes_out_by_position, (np.ones(2),), "np.exp(x, a)", "assign the result"),
    (h.writes_out_of_a_function_by_position, (np.ones(2),), "np.cumsum", "assign the result"),
    (h.writes_out_of_a_method_by_position, (np.ones(2),), "x.clip", "assign the result"),
    (h.adds_at, (np.ones(2),), "np.add.at", "item assignment"),
    (h.calls_setitem, (np.ones(2),), "a.__setitem__", "item assignment"),
    (h.puts, (np.ones(2),), "np.put", "item assignment"),
    # objects exist while compiling: a list of them must be known then too
    (h.collects_objects_in_a_loop, (1.0,), "particles.append", "comprehension over a range"),
    (h.collects_objects_over_a_range_known_when_it_runs, (np.ones(2),), "[Particle", "arrays of their attributes"),
    (h.reads_an_object_at_a_run_time_index, (1.0,), "particles[i]", "for p in ps"),
    (h.picks_a_function_at_a_run_time_index, (1.0, 1), "ACTIVATIONS[i]", "fns[0](x) if i == 0"),
    (h.writes_an_element_of_an_array_row, (1.0,), "y[0][1]", "y[i, j] = ..."),
    (h.writes_an_element_of_a_run_time_list_item, (np.ones(2),), "rows[1][0]", "xs[i] = row"),
    # (`xs + ys` of one-item lists was differentiated as an item-by-item sum: 3.0 for both, not 1.0 and 2.0)
    (h.joins_lists_built_at_run_time, (np.ones(2),), "xs + ys", "np.array(xs)"),
]
if sys.version_info >= (3, 10):
    from errors_match_helper import uses_match
    UNSUPPORTED.append((uses_match, (1.0,), "match", "elif"))


# refused by earlier releases, differentiated now (tests/test_programs.py has many more)
PROGRAMS = [(h.defines_function, (1.0,)), (h.uses_lambda, (1.0,)), (h.assigns_subscript, (np.ones(3),)),
            (h.augments_subscript, (np.ones(3),)), (h.comprehension, (1.0,)), (h.starred_call, (1.5,)),
            (h.walrus, (1.0,))]


@pytest.mark.parametrize("fn, args", PROGRAMS, ids=[c[0].__name__ for c in PROGRAMS])
def test_programs_that_earlier_releases_refused_now_differentiate(fn, args):
    adjoint.check_grad(fn, *args)


CONTROL_FLOW = [(h.uses_if, (1.5,), 8 * 1.5), (h.uses_if, (0.25,), 2.0),
                (h.uses_for, (1.0,), 3.0), (h.uses_while, (1.5,), 8.0), (h.early_return, (1.0,), 1.0),
                (h.chained_comparison, (0.5,), 1.0), (h.chained_comparison, (1.5,), 0.0)]


@pytest.mark.parametrize("fn, args, expected", CONTROL_FLOW, ids=[c[0].__name__ for c in CONTROL_FLOW])
def test_control_flow_that_earlier_releases_refused_now_differentiates(fn, args, expected):
    assert adjoint.grad(fn)(*args) == pytest.approx(expected)
    adjoint.check_grad(fn, *args)


@pytest.mark.parametrize("fn, args, snippet, advice", UNSUPPORTED, ids=[case[0].__name__ for case in UNSUPPORTED])
def test_unsupported_syntax(fn, args, snippet, advice):
    error = compile_error(fn, *args)
    assert isinstance(error, adjoint.UnsupportedSyntax), f"{type(error).__name__}: {error}"
    # an error inside an inlined helper points into the helper
    where = {h.calls_broken_helper: h.helper_with_if,
             h.calls_a_base_method_that_does_not_exist: h.CallsMissingBaseMethod.scaled}.get(fn, fn)
    assert_located(error, where, snippet, advice)
    assert np.array_equal(h.MODEL.W, np.ones(2)) and len(h.MODEL.rows) == 2  # nothing outside changed


def test_numbers_read_out_of_globals_are_rebound_and_arrays_copied_first_are_changed():
    x = np.array([0.5, -1.0])
    gradient = adjoint.grad(h.scales_numbers_read_out_of_globals)(x)
    assert np.allclose(gradient, (1.0 + 2.0 * x) * 3.0 * 3.0)  # d/dx sum((1 + x) * x) * s * t, s = t = 3
    assert adjoint.check_grad(h.scales_numbers_read_out_of_globals, x) < 1e-6
    assert np.array_equal(h.MODEL.W, np.ones(2)) and h.MODEL.scale == 2.0 and h.SCALES[1] == 2.0


@pytest.mark.parametrize("fn, args", [(h.uses_with, (1.0,)), (h.no_rule_c, (2.5,)), (h.sorts_list, (1.0,))])
def test_error_traceback_shows_no_internal_exception(fn, args):
    """A first call compiles inside the cache's KeyError handler; users must not see that KeyError."""
    error = compile_error(fn, *args)
    text = "".join(traceback.format_exception(error))
    assert "KeyError" not in text and "During handling" not in text, text


def test_error_in_inlined_helper_shows_the_call_site():
    message = str(compile_error(h.calls_broken_helper, 1.0))
    call_line = marked_line(h.helper_with_if) - 4   # the `return helper_with_if(x) * 2.0` line
    assert f'called from File "{h.__file__}", line {h.calls_broken_helper.__code__.co_firstlineno + 1}' in message
    assert "return helper_with_if(x) * 2.0" in message
    assert call_line == h.calls_broken_helper.__code__.co_firstlineno + 1
    message = str(compile_error(h.no_rule_in_helper, 2.5))
    assert "called from" in message and "return uses_gamma(x * 2.0) + 1.0" in message


def test_helper_without_source_points_at_the_call():
    error = compile_error(h.calls_exec_helper, 1.0)
    assert isinstance(error, adjoint.SourceUnavailable), repr(error)
    assert "exec_helper" in str(error)
    assert_located(error, h.calls_exec_helper, "exec_helper(x)", "module")


def test_unsupported_error_names_the_construct():
    message = str(compile_error(h.uses_try, 1.0))
    assert message.splitlines()[0].startswith("adjoint does not support")
    assert "`try`" in message
    assert "`with`" in str(compile_error(h.uses_with, 1.0))
    assert "view" in str(compile_error(h.writes_into_view, np.ones(3))).splitlines()[0]


def test_star_parameters():
    error = compile_error(h.star_params, 1.0)
    assert isinstance(error, (adjoint.UnsupportedSyntax, adjoint.InvalidArgument)), repr(error)
    assert "*args" in str(error)


def test_async_function():
    error = compile_error(h.coroutine, 1.0)
    assert isinstance(error, (adjoint.UnsupportedSyntax, adjoint.InvalidArgument)), repr(error)
    assert "async" in str(error)


def test_unicode_before_the_culprit_keeps_the_caret_in_place():
    error = compile_error(h.unicode_before_error, 2.5)
    assert isinstance(error, adjoint.NoDerivativeRule)
    assert_located(error, h.unicode_before_error, "np.float_power(x, 1.5)")


# -- derivative rules ----------------------------------------------------------

def test_no_rule_for_numpy_function():
    error = compile_error(h.no_rule_numpy, np.array([0.5, 1.5]))
    assert isinstance(error, adjoint.NoDerivativeRule)
    message = assert_located(error, h.no_rule_numpy, "np.i0(y)")
    assert "i0" in message.splitlines()[0]


def test_no_rule_for_c_function():
    assert not hasattr(np.float_power, "__code__")   # implemented in C
    error = compile_error(h.no_rule_c, 2.5)
    assert isinstance(error, adjoint.NoDerivativeRule)
    message = assert_located(error, h.no_rule_c, "np.float_power(x, 1.5)")
    assert "float_power" in message.splitlines()[0]


def test_no_rule_inside_inlined_helper_points_into_helper():
    error = compile_error(h.no_rule_in_helper, 2.5)
    assert isinstance(error, adjoint.NoDerivativeRule)
    assert_located(error, h.uses_gamma, "np.float_power(t, 1.5)")


def test_no_rule_advice_names_only_real_api():
    """The advice may only send users to functions that exist."""
    message = str(compile_error(h.no_rule_c, 2.5))
    for name in re.findall(r"adjoint\.(\w+)", message):
        assert hasattr(adjoint, name), f"advice mentions adjoint.{name}, which does not exist:\n{message}"


def test_functions_without_rules_on_constants_are_fine():
    x = np.array([1.0, 2.0])
    expected = np.i0(np.array([0.5, 1.5])) * 2.0
    np.testing.assert_allclose(adjoint.grad(h.no_rule_on_constants_only)(x), expected)
    assert adjoint.grad(h.no_rule_on_inactive_branch)(2.0, 3.0) == pytest.approx(2.0)


def test_inactive_argument_becomes_active_when_asked_for():
    error = compile_error(h.no_rule_on_inactive_branch, 2.0, 3.0, wrt=1)
    assert isinstance(error, adjoint.NoDerivativeRule)
    assert "float_power" in str(error)


def nested_list_array(x):
    return np.sum(np.array([[x, 2.0 * x]]))


def test_active_value_in_nested_list_is_differentiated_or_refused():
    """Never a silently wrong gradient: either the right value (3.0) or an AdjointError."""
    try:
        g = adjoint.grad(nested_list_array)(1.5)
    except adjoint.AdjointError:
        return
    assert g == 3.0


# -- outputs -------------------------------------------------------------------

def test_non_scalar_output():
    with pytest.raises(adjoint.NonScalarOutput) as info:
        adjoint.grad(h.vector_output)(np.array([1.0, 2.0]))
    message = str(info.value)
    assert "vector_output" in message
    assert "vjp" in message and "jacobian" in message
    assert "(2,)" in message


@pytest.mark.parametrize("argument", [[np.ones(2), np.zeros(2)], {"a": np.ones(2), "b": np.zeros(2)},
                                      np.ones((2, 2))], ids=["list", "dict", "array"])
def test_non_scalar_output_names_the_users_file_for_any_argument(argument):
    """A list or dict argument is flattened by a generated wrapper: the error names the user's
    function where it is defined (named the wrapper, `<adjoint flattened ...>, line 1`)."""
    fn = h.sums_a_list_into_a_vector
    where = f"sums_a_list_into_a_vector ({fn.__code__.co_filename}, line {fn.__code__.co_firstlineno})"
    for transform in (adjoint.grad, adjoint.value_and_grad):
        with pytest.raises(adjoint.NonScalarOutput) as info:
            transform(fn)(list(argument.values()) if isinstance(argument, dict) else argument)
        assert where in str(info.value), str(info.value)


@pytest.mark.parametrize("fn, args, snippet, advice", [
    (h.tries_on_a_list, ([1.0, 2.0],), "try", "try"),
    (h.bessel_of_a_dict_entry, ({"a": np.ones(2)},), "np.i0", "stop_gradient"),
    (h.returns_nothing_for_a_dict, ({"a": np.ones(2)},), "def", "return"),
])
def test_errors_for_a_list_or_dict_argument_point_at_the_users_lines(fn, args, snippet, advice):
    """No "called from <adjoint flattened ...>" line: the wrapper that rebuilds the structure is adjoint's."""
    for mode in ("reverse", "forward"):
        with pytest.raises(adjoint.AdjointError) as info:
            adjoint.grad(fn, mode=mode)(*args)
        message = assert_located(info.value, fn, snippet, advice)
        assert "adjoint flattened" not in message and "called from" not in message, message


@pytest.mark.parametrize("second", ["hessian", "hvp", "jacobian of grad, reverse", "jacobian of grad, forward"])
@pytest.mark.parametrize("fn, x", [(h.vector_output, np.array([0.3, 0.8])), (h.curve, 0.5)], ids=["array", "number"])
def test_non_scalar_output_to_second_derivatives(second, fn, x):
    """hessian and hvp differentiate the gradient, whose check of the output must stay in the code
    they differentiate (they gave the Hessian of np.sum(output), silently)."""
    derivatives = {"hessian": lambda: adjoint.hessian(fn)(x),
                   "hvp": lambda: adjoint.hvp(fn)(x, np.ones_like(x)),
                   "jacobian of grad, reverse": lambda: adjoint.jacobian(adjoint.grad(fn), mode="reverse")(x),
                   "jacobian of grad, forward": lambda: adjoint.jacobian(adjoint.grad(fn), mode="forward")(x)}
    with pytest.raises(adjoint.NonScalarOutput) as info:
        derivatives[second]()
    message = str(info.value)
    assert fn.__name__ in message and "errors_helpers.py, line" in message and "(2,)" in message
    assert "vjp" in message and "jacobian" in message


@pytest.mark.parametrize("fn", [h.returns_nothing, h.returns_none])
def test_no_return_value_to_grad(fn):
    with pytest.raises(adjoint.AdjointError) as info:
        adjoint.grad(fn)(1.0)
    assert fn.__name__ in str(info.value)
    x = np.ones(2)
    calls = [lambda: adjoint.grad(fn, mode="forward")(x), lambda: adjoint.grad(fn, mode="forward")(1.0),
             lambda: adjoint.jvp(fn)(x, x), lambda: adjoint.vjp(fn)(x, x)]
    for call in calls:  # (forward mode gave a gradient of 0.0)
        with pytest.raises(adjoint.NonScalarOutput, match="returns nothing"):
            call()


@pytest.mark.parametrize("fn, x", [(h.tuple_output, 1.0), (h.array_and_number_output, np.ones(2))])
def test_tuple_output_to_grad(fn, x):
    """A tuple is not an array of shape (2,): the error says it is a tuple, at the `return` (a tuple
    of an array and a number made numpy's inhomogeneous-shape ValueError)."""
    for transform in (adjoint.grad, adjoint.value_and_grad, adjoint.hessian):
        with pytest.raises(adjoint.AdjointError) as info:
            transform(fn)(x)
        assert isinstance(info.value, adjoint.NonScalarOutput), repr(info.value)
        message = assert_located(info.value, fn, "x * 2.0", "adjoint.vjp or adjoint.jacobian")
        assert message.startswith(f"a gradient (grad, hessian, hvp) needs a scalar output, but {fn.__name__} "
                                  "returns a tuple of 2 values"), message
    with pytest.raises(adjoint.NonScalarOutput, match="returns a tuple of 2 values; use adjoint.jacobian"):
        adjoint.grad(fn, mode="forward")(x)


# -- source -----------------------------------------------------------------------

namespace = {}
exec("def made_by_exec(x):\n    return x * 2.0\n", namespace)
made_by_exec = namespace["made_by_exec"]
lambda_on_one_line = lambda x: x * 2.0  # noqa: E731
lambda_in_a_call = (1,
                    lambda x: x * 3.0)[1]


def test_source_unavailable():
    with pytest.raises(adjoint.SourceUnavailable) as info:
        adjoint.grad(made_by_exec)(1.0)
    message = str(info.value)
    assert "made_by_exec" in message
    assert "exec" in message
    for name in re.findall(r"adjoint\.(\w+)", message):
        assert hasattr(adjoint, name), f"advice mentions adjoint.{name}, which does not exist:\n{message}"
    with pytest.raises(adjoint.SourceUnavailable):
        adjoint.ssa(made_by_exec)


def calls_a_module_level_lambda_wrongly(x):
    return lambda_on_one_line(x, 2.0)


def test_a_module_level_lambda_called_with_the_wrong_arguments_is_named_as_it_is_called():
    with pytest.raises(adjoint.UnsupportedSyntax, match="this call to `lambda_on_one_line`") as refused:
        adjoint.grad(calls_a_module_level_lambda_wrongly)(1.0)
    assert "return lambda_on_one_line(x, 2.0)" in str(refused.value)


def test_lambdas_sharing_a_line_are_refused_where_python_records_no_columns(tmp_path):
    script = tmp_path / "two_lambdas.py"
    script.write_text("import adjoint\n"
                      "double, triple = lambda z: z * 2.0, lambda z: z * 3.0\n"
                      "def f(x):\n"
                      "    return double(x) + triple(x)\n"
                      "try:\n"
                      "    adjoint.grad(f)(1.0)\n"
                      "except adjoint.UnsupportedSyntax as error:\n"
                      "    print(error)\n")
    run = subprocess.run([sys.executable, "-X", "no_debug_ranges", str(script)], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    assert "cannot tell which of the lambdas on line 2 is the one called" in run.stdout, run.stdout + run.stderr
    assert "two_lambdas.py\", line 2" in run.stdout and "a line of its own" in run.stdout


@pytest.mark.parametrize("fn", [lambda_on_one_line, lambda_in_a_call], ids=["one-line", "in-a-call"])
def test_lambda_is_refused_clearly(fn):
    error = compile_error(fn, 1.0)
    assert isinstance(error, adjoint.UnsupportedSyntax), repr(error)
    message = str(error)
    assert "lambda" in message and "def" in message
    assert f"line {fn.__code__.co_firstlineno}" in message


def make_model():
    return Model()


class Model:
    def __init__(self):
        self.scale = 3.0

    def loss(self, x):
        return x * x


@pytest.mark.parametrize("obj", [
    pytest.param(np.sin, id="ufunc"),
    pytest.param(__import__("math").sin, id="builtin"),
    pytest.param(42, id="int"),
    pytest.param(__import__("functools").partial(h.vector_output), id="partial"),
])
def test_non_function_is_refused(obj):
    with pytest.raises(adjoint.InvalidArgument, match="Python functions"):
        adjoint.grad(obj)


def test_bound_method_is_refused_or_differentiated():
    d = adjoint.grad(make_model().loss)
    try:
        assert d(2.0) == 4.0
    except adjoint.AdjointError as error:
        assert "method" in str(error), str(error)


# -- invalid wrt ------------------------------------------------------------------

@pytest.mark.parametrize("wrt, words", [
    ("q", ["'q'", "x"]), ((0, "zz"), ["'zz'"]), (1, ["1"]), (-2, ["-2"]), ((), ["wrt=()"]),
    (True, ["True"]), (1.5, ["1.5"]), (None, ["None"]),
])
def test_invalid_wrt(wrt, words):
    with pytest.raises(adjoint.InvalidArgument) as info:
        adjoint.grad(h.vector_output, wrt=wrt)
    for word in words:
        assert word in str(info.value)
    for transform in (adjoint.value_and_grad, adjoint.vjp):
        with pytest.raises(adjoint.InvalidArgument):
            transform(h.vector_output, wrt=wrt)


def test_invalid_wrt_in_decorator():
    with pytest.raises(adjoint.InvalidArgument):
        adjoint.grad(wrt="nope")(h.vector_output)


def test_a_jacobian_object_is_not_differentiated_again_but_says_what_to_do():
    with pytest.raises(adjoint.InvalidArgument, match=r"adjoint.jacobian\(adjoint.grad\(f\)\)"):
        adjoint.jacobian(adjoint.hessian(h.square_sum), mode="forward")
    with pytest.raises(adjoint.InvalidArgument, match="cannot differentiate ForwardGrad objects"):
        adjoint.grad(adjoint.grad(h.square_sum, mode="forward"))


@pytest.mark.parametrize("fn, held_by", [(h.scales_a_shared_array, "`y`"),
                                         (h.calls_a_helper_that_doubles_its_argument, "the caller of")])
def test_augmented_assignment_to_a_shared_array_is_refused_when_it_runs(fn, held_by):
    """Python changes the array in place, which the other holder would see; for a number `*=`
    rebinds, and the same derivative runs."""
    with pytest.raises(adjoint.UnsupportedSyntax, match=re.escape(held_by)) as refused:
        adjoint.grad(fn)(np.array([1.0, 2.0]))
    where = fn if fn is h.scales_a_shared_array else h.doubles_its_argument
    assert_located(refused.value, where, "x *= 2.0" if where is fn else "a *= 2.0", advice="= ")
    assert adjoint.value_and_grad(fn)(1.5) == (fn(1.5), adjoint.grad(fn, mode="forward")(1.5))
    adjoint.check_grad(fn, 1.5)


def test_augmented_assignment_to_a_row_view_is_refused_but_to_an_element_runs():
    """`a = x[0]; a /= 2` halves a row of a matrix in place (found by the long fuzz run); of a
    vector, `a` is a number and the derivative runs."""
    with pytest.raises(adjoint.UnsupportedSyntax, match="whose memory `x` also holds") as refused:
        adjoint.grad(h.halves_a_row)(np.ones((2, 3)))
    assert_located(refused.value, h.halves_a_row, "a /= 2.0", advice="copy")
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(adjoint.grad(h.halves_a_row)(x), [1.5, 1.0, 1.0])
    adjoint.check_grad(h.halves_a_row, x)


def test_augmented_assignment_in_a_loop_to_a_shared_array_is_refused_when_it_runs():
    with pytest.raises(adjoint.UnsupportedSyntax, match="whose memory `y` also holds") as refused:
        adjoint.grad(h.scales_a_shared_array_in_a_loop)(np.ones(2), 3)
    assert_located(refused.value, h.scales_a_shared_array_in_a_loop, "x *= 0.5", advice="copy")
    assert adjoint.grad(h.scales_a_shared_array_in_a_loop)(1.5, 3) == pytest.approx(2 * 1.5 * 0.125)
    adjoint.check_grad(h.scales_a_shared_array_in_a_loop, 1.5, 3)


def test_a_pad_mode_without_a_derivative_is_named_with_the_modes_that_have_one():
    with pytest.raises(adjoint.NoDerivativeRule, match="linear_ramp.*'constant'"):
        adjoint.grad(h.pads_with_a_ramp)(np.ones(3))


def test_generated_code_warns_nothing_when_warnings_are_errors():
    """The gradient of a float function returning an array indexes the float seed on a line that
    expect_scalar never lets run; compiling it must not raise a SyntaxWarning (an error under -W error)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(adjoint.NonScalarOutput):
            adjoint.grad(h.pair_of_a_float)(0.5)


def test_forward_mode_grad_of_an_array_output_names_the_function_and_its_file():
    with pytest.raises(adjoint.NonScalarOutput) as error:
        adjoint.grad(h.doubles, mode="forward")(np.ones(2))
    assert f"doubles ({h.__file__}, line {h.doubles.__code__.co_firstlineno})" in str(error.value)
    assert "shape (2,)" in str(error.value) and "adjoint.jacobian" in str(error.value)


@pytest.mark.parametrize("fn, args", [(h.halves_an_argument_a_loop_hands_over, (np.ones(3), np.ones(3))),
                                      (h.halves_a_local_a_loop_hands_over, (np.ones(3),))])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_an_in_place_operator_on_an_array_a_later_assignment_in_the_loop_shares_is_refused(fn, args, mode):
    """`z *= 0.5` then `z = y`: on the next trip `z` is `y`, which Python changes in place. When the
    operator is lowered the loop's merges are not known yet; they are asked again at the loop's end
    (the derivative computed sum(x) where Python gives half of it)."""
    with pytest.raises(adjoint.UnsupportedSyntax) as error:
        adjoint.grad(fn, mode=mode)(*[a.copy() for a in args])
    assert_located(error.value, fn, "x1 *= 0.5" if "argument" in fn.__name__ else "z *= 0.5", "new array")
