"""Reverse mode: the adjoint transform of an SSA function.

The output runs the primal statements (the forward sweep), then walks them
backwards, emitting for each active statement the vector-Jacobian products of
its rule. Where a value fans out, its adjoint accumulates: the first
contribution assigns `grad_x`, later ones add to it, so no buffer is ever
zero-filled for nothing.

Control flow is replayed, not unrolled. A branch's backward code sits under
the same condition. A loop's backward sweep is a loop that runs the same
number of times in the opposite order: `for` loops replay their range
reversed (the part they went through, if they can stop early), `while` loops
count their trips. Each forward region gets a tag and its backward region
names it (`mirror`), so that after optimisation the `record` pass can store
exactly the loop values the backward code still reads.
"""
import builtins
import itertools
import operator

import numpy as np

from . import runtime as rt
from .activity import leaves_of_operand, useful, varied
from .errors import NoDerivativeRule, NonScalarOutput, UnsupportedSyntax, located
from .ir import (Apply, Assign, Attribute, Const, Function, If, Loop, Method, Pack, Phi, Return, Var, all_statements, defined_in, hashable,
                 map_expressions, statement_uses, substitute)
from .lower_data import ORDER_POSITION
from .rules import METHODS, WITHOUT_RULES, instantiate, rule_for

_tags = itertools.count(1)
WHOLE = Pack("slice", [Const(None)] * 3)  # the item `i` of a sequence argument that is one array or list


def refuse_no_result(function):
    """A function that returns nothing has no derivative (in either mode)."""
    result = function.result
    if isinstance(result, Const) and result.value is None:
        raise located(NonScalarOutput, f"{function.name} returns nothing (None), so it has no derivative",
                      function.body[-1].loc, "Return the value to differentiate.")


def refuse_sequence_output(function):
    """A gradient of a function returning a tuple or a list (known while compiling) is refused at its
    `return`, where the runtime check would say only what shape numpy makes of it."""
    result = function.result
    if isinstance(result, Pack) and result.kind not in ("dict", "object", "slice"):
        kind = "list" if result.kind == "list" else "tuple"
        raise located(NonScalarOutput, f"a gradient (grad, hessian, hvp) needs a scalar output, but "
                      f"{function.name} returns a {kind} of {len(result.items)} values", function.body[-1].loc,
                      rt.SCALAR_OUTPUT_ADVICE[True])


def reverse(function, wrt, seed="one", with_value=False, single=False, expect_scalar=None, seed_name="cotangent"):
    """The adjoint function of `function` with respect to the parameters at indices `wrt`.

    `seed="one"` differentiates a scalar output (its adjoint is 1.0); `seed="cotangent"`
    appends a parameter holding the output's adjoint (a vector-Jacobian product), whose shape
    `runtime.as_seed` checks against the output's (`seed_name`: what the user calls it).
    The result returns `(value, grads)` if `with_value`, else `grads`, where
    `grads` is a tuple with one entry per index in `wrt`, or the gradient itself if `single`.
    """
    inputs = [function.params[i] for i in wrt]
    primal = copy_regions(function.body[:-1])
    result = function.result
    outputs = [leaf for leaf in leaves_of_operand(result) if isinstance(leaf, Var)]
    active = varied(primal, inputs) & useful(primal, outputs)

    params = list(function.params)
    seeds = []
    refuse_no_result(function)
    if seed == "one":
        if expect_scalar is not None:
            refuse_sequence_output(function)
            primal.append(Assign(None, Apply(rt.expect_scalar, (result, Const(expect_scalar)))))
        seeds = [(result, Const(1.0))]
    else:
        cotangent = Var("cotangent")
        params.append(cotangent)
        if isinstance(result, Pack):
            seeds = [(item, Apply(rt.as_seed, (Apply(operator.getitem, (cotangent, Const(i))), item,
                                               Const(f"{seed_name}[{i}]"), Const(f"the output's item {i}"))))
                     for i, item in enumerate(result.items)]
        else:
            seeds = [(result, Apply(rt.as_seed, (cotangent, result, Const(seed_name), Const("the output"))))]

    sweep = Backward(active)
    for value, adjoint in seeds:
        if isinstance(value, Var) and value in active:
            sweep.accumulate(value, adjoint)
    backward = sweep.out + sweep.block(primal)

    grads = []
    for param in inputs:
        adjoint = sweep.adjoints.get(param)
        if adjoint is None:
            adjoint = Apply(rt.zeros_grad, (param,))
        grads.append(Apply(rt.as_grad, (adjoint, param)))
    output = grads[0] if single else Pack("tuple", grads)
    if with_value:
        output = Pack("tuple", [result, output])
    body = primal + backward + [Return(output)]
    return Function(function.name, params, body, function.source, function.defaults)


def copy_regions(body):
    """A copy of `body` whose regions can be edited (a trip counter is added to `while` loops),
    each branch and loop tagged so its backward region can name it."""
    def tag(statements):
        out = []
        for stmt in statements:
            if isinstance(stmt, If):
                stmt = stmt.replace(then=tag(stmt.then), orelse=tag(stmt.orelse), tag=next(_tags))
            elif isinstance(stmt, Loop):
                stmt = stmt.replace(test=tag(stmt.test), body=tag(stmt.body), carried=list(stmt.carried),
                                    exits=list(stmt.exits), tag=next(_tags))
            out.append(stmt)
        return out
    return tag(body)


class Backward:
    """Builds the backward sweep, tracking each primal value's current adjoint."""

    def __init__(self, active):
        self.active = active
        self.adjoints = {}
        self.out = []

    # -- regions -------------------------------------------------------------

    def block(self, statements):
        """The backward code of `statements` (a list it returns, in execution order)."""
        saved, self.out = self.out, []
        try:
            for stmt in reversed(statements):
                if isinstance(stmt, Assign):
                    if stmt.target is not None and stmt.target in self.adjoints:
                        self.statement(stmt)
                elif isinstance(stmt, If):
                    self.branch(stmt)
                elif isinstance(stmt, Loop):
                    self.loop(stmt)
            return self.out
        finally:
            self.out = saved

    def region(self, statements, adjoints, first=()):
        """The backward code of a nested region, starting from `adjoints`; returns (code, adjoints after)."""
        saved = self.adjoints
        self.adjoints = dict(adjoints)
        try:
            prologue = []
            saved_out, self.out = self.out, prologue
            for var, contribution in first:
                self.accumulate(var, contribution)
            self.out = saved_out
            code = prologue + self.block(statements)
            return code, self.adjoints
        finally:
            self.adjoints = saved

    # -- statements ----------------------------------------------------------

    def accumulate(self, var, contribution):
        previous = self.adjoints.get(var)
        adjoint = Var(None, of=var, prefix="grad_")
        value = contribution if previous is None else Apply(operator.add, (previous, contribution))
        self.out.append(Assign(adjoint, value))
        self.adjoints[var] = adjoint

    def statement(self, stmt):
        expr = stmt.expr
        if not isinstance(expr, Apply):
            if isinstance(expr, Var) and expr in self.active:
                self.accumulate(expr, self.adjoints[stmt.target])
            return
        rule = rule_for(expr.fn)
        bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
        if bound is None:
            raise no_rule(stmt, rule)
        env = dict(bound, g=self.adjoints[stmt.target], ans=stmt.target)
        broadcasting = rule.elementwise and len(rule.params) > 1
        for param in rule.params_for_adjoints():
            if param.const:
                continue
            value = bound[param.name]
            if param.sequence:
                items = value.items if isinstance(value, Pack) else (value,)
                for i, item in enumerate(items):
                    if self.is_active(item):  # `i` picks the item; `:` when the sequence is one value
                        which = Const(i) if isinstance(value, Pack) else WHOLE
                        self.contribute(stmt, rule, param.name, item, dict(env, i=which), False)
                    elif isinstance(item, Pack) and any(self.is_active(leaf) for leaf in leaves_of_operand(item)):
                        raise no_rule(stmt, rule, param.name)  # nested lists: refuse, never drop
            elif isinstance(value, Var):
                if value in self.active:
                    self.contribute(stmt, rule, param.name, value, env, broadcasting)
            elif any(self.is_active(leaf) for leaf in leaves_of_operand(value)):
                raise no_rule(stmt, rule, param.name)

    def is_active(self, value):
        return isinstance(value, Var) and value in self.active

    def contribute(self, stmt, rule, name, var, env, broadcasting):
        template = rule.vjp.get(name)
        if template is None:
            raise no_rule(stmt, rule, name)
        contribution = instantiate(template, env)
        if broadcasting:
            contribution = Apply(rt.unbroadcast, (contribution, var))
        self.accumulate(var, contribution)

    # -- branches ------------------------------------------------------------

    def branch(self, stmt):
        """`if c: A else: B` backwards is `if c: back(A) else: back(B)`, adjoints merged after."""
        inside = defined_in(stmt.then) | defined_in(stmt.orelse)
        paths = []
        for side, statements in enumerate((stmt.then, stmt.orelse)):
            first = [(m.values[side], self.adjoints[m.target]) for m in stmt.merges
                     if m.target in self.adjoints and self.is_active(m.values[side])]
            paths.append(self.region(statements, self.adjoints, first))
        (then, then_adjoints), (orelse, else_adjoints) = paths
        merges = []
        for var in _ordered_keys(then_adjoints, else_adjoints):
            if var in inside:
                continue
            a, b = then_adjoints.get(var), else_adjoints.get(var)
            if a is b:
                continue
            merged = Var(None, of=var, prefix="grad_")
            merges.append(Phi(merged, (a if a is not None else zeros_like(var), b if b is not None else zeros_like(var))))
            self.adjoints[var] = merged
        if then or orelse or merges:
            self.out.append(If(stmt.cond, then, orelse, merges, stmt.loc, mirror=stmt.tag))

    # -- loops ---------------------------------------------------------------

    def loop(self, stmt):
        """A loop backwards: the same trips in reverse order, adjoints carried from trip to trip."""
        headers = [phi for phi in stmt.carried if phi.target in self.active]
        if not headers:
            return
        inside = defined_in(stmt.body) | {phi.target for phi in stmt.carried}
        if stmt.index is not None:
            inside.add(stmt.index)
        nexts = [phi.values[1] for phi in headers]
        outer = _unique(v for v in _reads(stmt.body) + nexts if self.is_active(v) and v not in inside)
        exits = {header: out for out, header in stmt.exits}
        for phi in headers:  # nothing reads it after the loop, but its zero adjoint takes its shape
            if phi.target not in exits:
                exits[phi.target] = Var(phi.target.hint)
                stmt.exits.append((exits[phi.target], phi.target))
        shaped = dict(exits)  # zeros for a header's adjoint take the shape of its value after the loop
        shaped.update({v: v for v in outer})

        # the adjoints that cross iterations: one per active header, one per outer value the body reads
        carried_vars = [phi.target for phi in headers] + outer
        incoming = {phi.target: self.adjoints.get(exits.get(phi.target)) for phi in headers}
        incoming.update({v: self.adjoints.get(v) for v in outer})
        trip = {v: Var(None, of=v, prefix="grad_") for v in carried_vars}

        start = dict(self.adjoints)
        start.update({v: trip[v] for v in outer})
        first = [(phi.values[1], trip[phi.target]) for phi in headers if self.is_active(phi.values[1])]
        body, after = self.region(stmt.body, start, first)

        back_carried, back_exits = [], []
        for v in carried_vars:
            initial = incoming[v] if incoming[v] is not None else zeros_like(shaped[v])
            following = after.get(v)
            if following is None:
                following = zeros_like(shaped[v])
            back_carried.append(Phi(trip[v], (initial, following)))
            final = Var(None, of=v, prefix="grad_")
            back_exits.append((final, trip[v]))
        for v, (final, _) in zip(carried_vars, back_exits):
            self.adjoints[v] = final

        if stmt.kind == "for":
            bounds = stmt.bounds
            if stmt.cond is not None:  # it may stop early: replay the trips it made
                bounds = made_trips(stmt.bounds, count_trips(stmt), stmt.reverse)
            index = Var(stmt.index.hint)
            body = map_expressions(body, lambda e: substitute(e, {stmt.index: index}))
            backward = Loop("for", back_carried, body, back_exits, index=index, bounds=bounds,
                            reverse=not stmt.reverse,
                            loc=stmt.loc, mirror=stmt.tag)
        else:
            trips = count_trips(stmt)
            backward = Loop("for", back_carried, body, back_exits, index=Var("_"),
                            bounds=(Const(0), trips, Const(1)), loc=stmt.loc, mirror=stmt.tag)
        self.out.append(backward)

        for phi in headers:
            init = phi.values[0]
            if self.is_active(init):
                self.accumulate(init, self.adjoints.pop(phi.target))
            else:
                self.adjoints.pop(phi.target, None)


def count_trips(loop):
    """Add a trip counter to the `while` loop `loop` (in place); returns the count after the loop."""
    counter = Var("trips")
    following = Var("trips")
    loop.body.append(Assign(following, Apply(operator.add, (counter, Const(1)))))
    loop.carried.append(Phi(counter, (Const(0), following)))
    total = Var("trips")
    loop.exits.append((total, counter))
    return total


def made_trips(bounds, trips, backwards):
    """The bounds of the part of `range(*bounds)` (of `reversed(range(*bounds))` if `backwards`) that
    a loop stopped after `trips` trips went through, as a range in the same direction as `bounds`."""
    start, stop, step = bounds
    if not backwards:  # range(start, stop, step)[:trips]
        return start, Apply(operator.add, (start, Apply(operator.mul, (trips, step)))), step
    # reversed(r)[:trips] are the last `trips` of r: r[len(r) - trips:]
    length = Apply(len, (Apply(range, bounds),))
    skipped = Apply(operator.sub, (length, trips))
    return Apply(operator.add, (start, Apply(operator.mul, (skipped, step)))), stop, step


def zeros_like(var):
    return Apply(rt.zeros_grad, (var,))


def _reads(statements):
    return [v for stmt in all_statements(statements) for v in statement_uses(stmt)]


def _unique(items):
    return list(dict.fromkeys(items))


def _ordered_keys(first, second):
    return list(first) + [key for key in second if key not in first]


def callable_name(fn):
    if isinstance(fn, Method):
        return f".{fn.name}(...)"
    if isinstance(fn, Attribute):
        return f".{fn.name}"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    module = getattr(fn, "__module__", None)
    if module in ("numpy", "math", "builtins", "_operator") or module is None:
        return name
    if module.startswith("adjoint."):  # a method lowered to a helper (`x.flatten()`), or a helper as generated code calls it
        method = next((method for method, (target, _) in METHODS.items() if target is fn), None)
        return f".{method}(...)" if method is not None else name
    return f"{module}.{name}"


def _order_argument(expr):
    """The `order` argument of a call of np.ravel, np.reshape or `x.flatten`, or None."""
    position = ORDER_POSITION.get(expr.fn) if hashable(expr.fn) else None
    if position is None:
        return None
    return expr.args[position] if len(expr.args) > position else dict(expr.kwargs).get("order")


def no_rule(stmt, rule, param=None):
    if stmt.expr.fn is operator.getitem and isinstance(stmt.expr.args[0], Pack):
        # the tuple exists only while compiling: its items cannot be picked by a run-time index
        return located(UnsupportedSyntax, "adjoint does not support indexing a tuple or list of values being "
                       "differentiated with an index computed at run time", stmt.loc,
                       "Make the values an array (np.array, np.stack) and index that, or loop over the "
                       "tuple itself (`for v in values:`).")
    if stmt.expr.fn is rt.list_append and isinstance(stmt.expr.args[1], Pack):
        # a run-time list's derivative is one array stacked from its items: an item must be one value
        return located(UnsupportedSyntax, "adjoint does not support appending a tuple or list of values being "
                       "differentiated to a list built at run time", stmt.loc,
                       "Append an array instead (`xs.append(np.array([a, b]))`), or keep one list per item "
                       "(`hs.append(h)`, `cs.append(c)`).")
    if stmt.expr.fn in (builtins.max, builtins.min) and stmt.expr.kwargs:
        name = stmt.expr.fn.__name__
        return located(NoDerivativeRule, f"adjoint differentiates `{name}` of numbers (`{name}(a, b)`, "
                       f"`{name}(values)`), not with `{'`, `'.join(k + '=' for k, _ in stmt.expr.kwargs)}`", stmt.loc,
                       f"Write np.{name}(np.array(values)); pick an item by a key with "
                       f"`values[int(np.arg{name}(np.array(keys)))]`; test for an empty list first "
                       f"(`{name}(values) if len(values) else default`).")
    order = _order_argument(stmt.expr)
    if order is not None:  # (orders 'C' and 'F' are lowered to calls with rules: lower_data.read_in_order)
        written = repr(order.value) if isinstance(order, Const) else "computed when the code runs"
        name = "x.flatten" if stmt.expr.fn is rt.flatten else f"np.{stmt.expr.fn.__name__}"
        return located(NoDerivativeRule, f"adjoint differentiates `{name}` in order 'C' or 'F' given as a constant, "
                       f"not in order {written}: 'A' and 'K' follow the array's memory layout", stmt.loc,
                       "Write order='C' or order='F'.")
    name = callable_name(stmt.expr.fn)
    if rule is None:
        message = f"no derivative rule for `{name}`, and a value being differentiated flows into it"
    elif param is None:
        message = f"`{name}` was called with arguments its derivative rule does not understand"
    else:
        message = f"no derivative rule for `{name}` with respect to its argument `{param}`"
    advice = ("Wrap the argument in adjoint.stop_gradient(...) if no gradient should flow through it, "
              "or write the computation with functions that have rules (listed in adjoint.rules.RULES).")
    if rule is None and hashable(stmt.expr.fn) and stmt.expr.fn in WITHOUT_RULES:
        message, advice = f"{message}: {WITHOUT_RULES[stmt.expr.fn][0]}", WITHOUT_RULES[stmt.expr.fn][1]
    error = located(NoDerivativeRule, message, stmt.loc, advice)
    # an attribute or a method of a value not known while compiling: an object that is an argument, say,
    # in a derivative compiled before any call told what it is (adjoint.source(df) without arguments)
    error.of_unknown_object = isinstance(stmt.expr.fn, (Attribute, Method))
    return error
