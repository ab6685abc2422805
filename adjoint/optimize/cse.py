"""Common-subexpression elimination: value numbering over the SSA IR.

`t7 = x[:-1]` after `t2 = x[:-1]` goes, and every use of `t7` reads `t2`. An
expression is keyed by its operation and the keys of its operands (a variable's
key is the variable it stands for), so `t8 = t7 * 2` then also matches a
`t2 * 2` seen before. Inside a statement, a nested operation that a statement
in scope already computed is replaced by that statement's variable.

Scopes follow the structured regions. A value is available where it dominates:
later in its own region and in regions nested there. A branch's values are not
available in the other branch or after the `if`; a loop body's values only
later in the same trip, never after the loop or in the backward loop that
mirrors it (the recording pass decides how the backward sweep gets forward
values, and it should see them as they were); a loop test's values only in the
test (see `loop_test`).
Loop-carried values are variables like any other: their key is the header
variable, which differs from the value that enters the loop.

Which calls are pure. Only operations whose rules adjoint itself registers
(the tables in `rules/`: operators, `math`, numpy, the runtime helpers, the
constants such as `x.shape` or `np.argmax`), and `slice(...)` (derivative code
builds index values with it) are merged; they are
deterministic functions of their arguments. Not merged:
- `np.empty` and `np.empty_like` (what they hold is not determined);
- functions users declare with `adjoint.primitive`/`defvjp`/`defjvp`: the
  registry does not know that they are deterministic (one could draw random
  numbers), so each call stays;
- anything without a rule (`np.random.*`, `print`, a method with no rule),
  and `add_at` (which adds into its first argument in place): such a call
  may change its arguments or globals, so it is an *effect*.
  Nothing computed before an effect is reused after it, and nothing an effect
  may reach (its operands and whatever they were computed from, since a result
  may be a view) is merged at all.
A built list (`[a, b]`) is never merged as a value of its own (lists are
mutable); values the function returns (directly, or through copies, merges
and helpers that hand back their argument) are not replaced, so two outputs
never become one object.

Only dictionary look-ups depend on object identity; statements are visited
and rewritten in program order, so the output does not depend on hashing.
"""
import builtins
import copy
import operator

import numpy as np

from .. import runtime as rt
from ..ir import (Apply, Assign, Const, Global, If, Loop, Pack, Phi, Ref, Return, Unbound, Var,
                  all_statements, map_expressions, regions, statement_defines, statement_expressions, substitute,
                  variables, walk)
from ..rules import NONDIFF, RULES, is_nondiff, rule_for

# the operations adjoint's own tables define (taken when the tables are complete, before a user can
# add primitives); entries users add later are not known to be deterministic
_BUILTIN = frozenset(RULES) | frozenset(NONDIFF) | {builtins.slice}
_NOT_DETERMINED = frozenset([np.empty, np.empty_like])
# helpers with a rule that change an argument in place (`add_at` adds into the total it is given,
# `setitem_into` writes into its array, see inplace.py;
# see accumulate.py): effects, like calls without a rule
_MUTATING = (rt.add_at, rt.setitem_into)

# helpers that may return their first argument itself (so it may be returned)
_PASS_THROUGH = (rt.unbroadcast, rt.broadcast_like, rt.cast_like, rt.as_grad, rt.stop_gradient, np.asarray,
                 operator.getitem) + _MUTATING

# runtime helpers whose result is a new array
_FRESH_HELPERS = (rt.unindex, rt.zeros_grad)

_FRESH = frozenset([operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
                    operator.pow, operator.neg, operator.matmul, operator.lt, operator.le, operator.gt,
                    operator.ge, operator.eq, operator.ne])


def eliminate_common_subexpressions(function):
    """Merge repeated pure computations of `function` (in place); returns it.

    What it did is left on the function: `cse_removed` statements went (their value was computed
    before), `cse_reused` nested operations now read a variable that already held their value, and
    `cse_hoisted` nested operations repeated in several statements got a statement of their own."""
    removed, reused = _number(function)
    hoisting = _Hoisting(function)
    body = hoisting.run(function.body)
    if body is not None:
        function.body = body
        again = _number(function)  # a statement that repeats a hoisted operation goes now
        removed, reused = removed + again[0], reused + again[1]
    function.cse_removed, function.cse_reused, function.cse_hoisted = removed, reused, hoisting.hoisted
    return function


def _number(function):
    numbering = _Numbering(function)
    body = numbering.block(function.body)
    if numbering.replaced:
        # values a loop hands on are read (in its carried phis) before the body defines them
        body = map_expressions(body, lambda e: substitute(e, numbering.replaced))
        # a derivative of a merged value is one of the value that stays (so it is named after it);
        # only derivative code has such variables, made afresh for each derivative
        for stmt in all_statements(body):
            for var in statement_defines(stmt):
                if var.of in numbering.replaced:
                    var.of = numbering.replaced[var.of]
    function.body = body
    return numbering.removed, numbering.reused


def without_common_subexpressions(function):
    """A copy of `function` with common subexpressions merged (`function` itself is left as it is)."""
    twin = copy.copy(function)
    return eliminate_common_subexpressions(twin)


def _fresh(fn):
    """Is the result of `fn` always a new object (never an operand, or a view of one)?"""
    try:
        return isinstance(fn, np.ufunc) or fn in _FRESH or getattr(fn, "__module__", None) == "math"
    except TypeError:
        return False


def mergeable(fn):
    """Does a call of `fn` give the same value for the same operands, changing nothing?"""
    try:
        return fn in _BUILTIN and fn not in _NOT_DETERMINED and fn not in _MUTATING
    except TypeError:  # unhashable callables are in no table
        return False


def _known(fn):
    """A call of `fn` has no effect: adjoint has a rule for it (built in, or a user's primitive) and
    it changes none of its arguments."""
    if any(fn is mutating for mutating in _MUTATING):
        return False
    return rule_for(fn) is not None or is_nondiff(fn) or fn is builtins.slice


def _has_effect(stmt):
    return any(isinstance(node, Apply) and not _known(node.fn)
               for expr in statement_expressions(stmt) for node in walk(expr))


def _sources(function):
    """Each variable -> the variables whose memory its value may share (a view, the operand itself,
    a phi's values). An operation whose result is always a new array (arithmetic, a ufunc,
    `unindex`) shares nothing."""
    return _from_definitions(function, _shared)


def _from_definitions(function, read):
    """Each variable -> `read` of what defines it: its expression, a merge's or a phi's values, the
    header a loop exit copies; `read` gives a list of variables for one expression."""
    found = {}
    for stmt in all_statements(function.body):
        if isinstance(stmt, Assign) and stmt.target is not None:
            found[stmt.target] = read(stmt.expr)
        elif isinstance(stmt, If):
            for merge in stmt.merges:
                found[merge.target] = [v for value in merge.values for v in read(value)]
        elif isinstance(stmt, Loop):
            for phi in stmt.carried:
                found[phi.target] = [v for value in phi.values for v in read(value)]
            for out, header in stmt.exits:
                found[out] = read(header)
    return found


def _shared(expr):
    if isinstance(expr, Apply) and (_fresh(expr.fn) or _is_fresh_helper(expr.fn)):
        return []
    return variables(expr)


def _is_fresh_helper(fn):
    return any(fn is helper for helper in _FRESH_HELPERS)


def _closure(start, step):
    seen, work = set(), list(start)
    while work:
        var = work.pop()
        if var not in seen:
            seen.add(var)
            work.extend(step(var))
    return seen


def _escaped(function, sources):
    """Variables a call with an effect may change: its operands (only the total, for `add_at`), and
    whatever shares memory with them."""
    start = []
    for stmt in all_statements(function.body):
        if not _has_effect(stmt):
            continue
        for expr in statement_expressions(stmt):
            for node in walk(expr):
                if isinstance(node, Apply) and not _known(node.fn):
                    changed = node.args[:1] if any(node.fn is m for m in _MUTATING) else node.operands()
                    start.extend(v for operand in changed for v in variables(operand))
    return _closure(start, lambda var: sources.get(var, ()))


def _returned(function):
    """Variables whose object may be returned: read by the `return`, through copies, merges,
    loop exits and helpers that may hand back their first argument."""
    aliases = _from_definitions(function, _aliases)
    last = function.body[-1]
    start = _aliases(last.value) if isinstance(last, Return) else []
    return _closure(start, lambda var: aliases.get(var, ()))


def _aliases(expr):
    """The variables `expr` may be (or hold) as the same object."""
    if isinstance(expr, Var):
        return [expr]
    if isinstance(expr, Pack):
        return [v for item in expr.items for v in _aliases(item)]
    if isinstance(expr, Apply) and expr.args and _is_pass_through(expr.fn):
        return _aliases(expr.args[0])
    return []


def _is_pass_through(fn):
    try:
        return fn in _PASS_THROUGH
    except TypeError:
        return False


def _const_key(value):
    kind = type(value)
    if kind in (int, bool, str, bytes, type(None)):
        return ("const", kind, value)
    if kind in (float, complex):  # 0.0 and -0.0 differ; nan is one value
        return ("const", kind, repr(value))
    if kind is tuple:
        return ("const", tuple, tuple(_const_key(item) for item in value))
    if kind is slice:
        return ("const", slice, _const_key(value.start), _const_key(value.stop), _const_key(value.step))
    return ("object", id(value))


class _Numbering:
    def __init__(self, function):
        sources = _sources(function)
        self.escaped = _escaped(function, sources)
        self.returned = _returned(function)
        self.table = {}      # key -> the variable holding that value
        self.added = []      # keys in the order they were added, so leaving a region forgets its own
        self.replaced = {}   # a repeated value -> the variable that computed it first
        self.aliases = {}    # a copy (`a = b`) -> what it copies, for keys only
        self.epoch = 0       # effects seen so far: nothing before an effect is reused after it
        self.removed = self.reused = 0

    # -- statements ----------------------------------------------------------

    def block(self, statements):
        out = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                stmt = self.assign(stmt)
                if stmt is not None:
                    out.append(stmt)
            elif isinstance(stmt, Return):
                out.append(Return(self.rewrite_output(stmt.value), stmt.loc))
            elif isinstance(stmt, If):
                out.append(self.branch(stmt))
            elif isinstance(stmt, Loop):
                out.append(self.loop(stmt))
            else:
                out.append(stmt)
        return out

    def assign(self, stmt):
        if _has_effect(stmt):
            expr = substitute(stmt.expr, self.replaced)
            self.epoch += 1
            return Assign(stmt.target, expr, stmt.loc)
        target = stmt.target
        if target is None or target in self.escaped:
            # keep its operands as they are: an effect may change what it is given
            expr = substitute(stmt.expr, self.replaced)
            if target is not None and isinstance(expr, (Var, Const)):
                self.aliases[target] = self.resolve(expr)
            return Assign(target, expr, stmt.loc)
        if target in self.returned:
            expr = self.rewrite_output(stmt.expr)
            if isinstance(expr, (Var, Const)):
                self.aliases[target] = self.resolve(expr)
            elif not (isinstance(expr, Pack) and expr.kind == "list"):
                key = self.key(expr)  # not replaced (outputs stay distinct objects), but usable later
                if key is not None and key not in self.table:
                    self.enter(key, target)
            return Assign(target, expr, stmt.loc)
        expr = self.rewrite(stmt.expr)
        if isinstance(expr, (Var, Const)):
            self.aliases[target] = self.resolve(expr)
            return Assign(target, expr, stmt.loc)
        if isinstance(expr, Pack) and expr.kind == "list":
            return Assign(target, expr, stmt.loc)
        key = self.key(expr)
        if key is None:
            return Assign(target, expr, stmt.loc)
        known = self.table.get(key)
        if known is not None:
            self.replaced[target] = known
            self.removed += 1
            return None
        self.enter(key, target)
        return Assign(target, expr, stmt.loc)

    def branch(self, stmt):
        cond = self.rewrite(stmt.cond)
        then = self.region(stmt.then)
        orelse = self.region(stmt.orelse)
        merges = [Phi(m.target, [substitute(v, self.replaced) for v in m.values]) for m in stmt.merges]
        if self.contains_effect(stmt):
            self.epoch += 1
        return stmt.replace(cond=cond, then=then, orelse=orelse, merges=merges)

    def loop(self, stmt):
        effects = self.contains_effect(stmt)
        bounds = tuple(self.rewrite(b) for b in stmt.bounds)
        carried = [Phi(phi.target, [substitute(phi.values[0], self.replaced), phi.values[1]])
                   for phi in stmt.carried]
        if effects:  # a trip runs after the effects of the trips before it
            self.epoch += 1
        test, cond = self.loop_test(stmt)
        body = self.region(stmt.body)
        if effects:
            self.epoch += 1
        return stmt.replace(bounds=bounds, carried=carried, test=test, cond=cond, body=body,
                            exits=list(stmt.exits))

    def loop_test(self, stmt):
        """The loop's test block and condition. Their values are not available in the body: the
        derivative passes take the test as not differentiable, and code generation moves a test's
        statements into the `while` line, where the body could not read them."""
        mark = len(self.added)
        test = self.block(stmt.test)
        cond = None if stmt.cond is None else self.rewrite(stmt.cond)
        self.leave(mark)
        return test, cond

    def region(self, statements):
        mark = len(self.added)
        out = self.block(statements)
        self.leave(mark)
        return out

    def enter(self, key, var):
        self.table[key] = var
        self.added.append(key)

    def leave(self, mark):
        for key in self.added[mark:]:
            del self.table[key]
        del self.added[mark:]

    @staticmethod
    def contains_effect(stmt):
        return any(_has_effect(inner) for region in regions(stmt) for inner in all_statements(region)) \
            or _has_effect(stmt)

    # -- expressions ---------------------------------------------------------

    def resolve(self, expr):
        while isinstance(expr, Var):
            if expr in self.replaced:
                expr = self.replaced[expr]
            elif expr in self.aliases:
                expr = self.aliases[expr]
            else:
                break
        return expr

    def rewrite(self, expr):
        """`expr` reading the variables that replace merged ones, and with each nested operation
        that a variable in scope already holds replaced by that variable."""
        if isinstance(expr, Var):
            return self.replaced.get(expr, expr)
        if isinstance(expr, Pack):
            return Pack(expr.kind, [self.nested(item) for item in expr.items])
        if isinstance(expr, Apply):
            return Apply(expr.fn, [self.nested(a) for a in expr.args], [(k, self.nested(v)) for k, v in expr.kwargs])
        return expr

    def rewrite_output(self, expr):
        """`rewrite` for a value that may be returned: a nested operation is replaced by a variable
        only where it is an operand of an operation whose result is a new object (arithmetic, a
        ufunc), so that two outputs never become one object or views of one."""
        if isinstance(expr, Var):
            return self.replaced.get(expr, expr)
        if isinstance(expr, Pack):
            return Pack(expr.kind, [self.rewrite_output(item) for item in expr.items])
        if isinstance(expr, Apply):
            if _fresh(expr.fn):
                return self.rewrite(expr)
            return Apply(expr.fn, [self.rewrite_output(a) for a in expr.args],
                         [(k, self.rewrite_output(v)) for k, v in expr.kwargs])
        return expr

    def nested(self, expr):
        expr = self.rewrite(expr)
        if isinstance(expr, Apply) or (isinstance(expr, Pack) and expr.kind != "list"):
            key = self.key(expr)
            known = self.table.get(key) if key is not None else None
            if known is not None:
                self.reused += 1
                return known
            reduced = self.without_kept_dimensions(expr)
            if reduced is not None:
                self.reused += 1
                return reduced
        return expr

    def without_kept_dimensions(self, expr):
        """`np.mean(x, axis, keepdims=True)` (a rule's, say) where `np.mean(x, axis)` is at hand (the
        user's `mu`): the value at hand with the reduced axes put back, `np.expand_dims(mu, axis)`.
        Only for an axis (or axes) given as numbers; the dimensions kept are not a new reduction."""
        rule = rule_for(expr.fn) if isinstance(expr, Apply) else None
        if rule is None or rule.out != "reduce" or not mergeable(expr.fn):
            return None
        bound = rule.bind(expr.args, expr.kwargs)
        if bound is None or not _is_true(bound.get("keepdims")) or not _numbered_axes(bound.get("axis")):
            return None
        known = self.table.get(self.bound_key(expr.fn, rule, dict(bound, keepdims=Const(False))))
        if known is None:
            return None
        return Apply(np.expand_dims, (known, bound["axis"]))

    def key(self, expr):
        """A hashable key equal for expressions that compute the same value; None if `expr` is not
        pure (then it is never merged). A call of a function with a rule is keyed by the values of
        its parameters, so that `np.mean(h, 0)` (a rule's) is `np.mean(h, axis=0)` (the user's)."""
        if isinstance(expr, Apply):
            if not mergeable(expr.fn):
                return None
            rule = rule_for(expr.fn)
            if rule is not None and not expr.kwargs and len(expr.args) == len(rule.params) \
                    and not (rule.params and rule.params[-1].varargs):  # (each parameter given, in order)
                return self.parameters_key(expr.fn, expr.args)
            bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
            if bound is not None:
                return self.bound_key(expr.fn, rule, bound)
            args = []
            for arg in expr.args:
                args.append(self.operand_key(arg))
                if args[-1] is None:
                    return None
            kwargs = []
            for name, value in expr.kwargs:
                kwargs.append((name, self.operand_key(value)))
                if kwargs[-1][1] is None:
                    return None
            return ("apply", id(expr.fn), tuple(args), tuple(kwargs), self.epoch)
        if isinstance(expr, Pack):
            items = [self.operand_key(item) for item in expr.items]
            if any(item is None for item in items):
                return None
            return ("pack", expr.kind, tuple(items))
        return None

    def bound_key(self, fn, rule, bound):
        """The key of a call of `fn` whose parameters are `bound` (name -> expression)."""
        return self.parameters_key(fn, [bound[param.name] for param in rule.params])

    def parameters_key(self, fn, values):
        """The key of a call of `fn` given the value of each of its rule's parameters, in order."""
        keys = []
        for value in values:
            keys.append(self.operand_key(value))
            if keys[-1] is None:
                return None
        return ("call", id(fn), tuple(keys), self.epoch)

    def operand_key(self, expr):
        expr = self.resolve(expr)
        if isinstance(expr, Var):
            return expr
        if isinstance(expr, Unbound):
            return ("unbound",)
        if isinstance(expr, Const):
            return _const_key(expr.value)
        if isinstance(expr, Global):  # read live: the same until an effect could rebind it
            return ("global", expr.name, self.epoch)
        if isinstance(expr, Ref):
            return ("ref", id(expr.obj))
        return self.key(expr)


def _is_true(expr):
    return isinstance(expr, Const) and expr.value is True


def _numbered_axes(expr):
    """An axis given as an int, or a tuple of ints (`np.expand_dims` puts those back)."""
    if not isinstance(expr, Const):
        return False
    value = expr.value
    return type(value) is int or type(value) is tuple and bool(value) and all(type(a) is int for a in value)


class _Record:
    """A nested operation first met in one statement, and how often it is met where that one is in scope."""

    __slots__ = ("count", "outputs", "var", "met")

    def __init__(self):
        self.count, self.outputs, self.var, self.met = 1, 0, None, False

    def hoistable(self):
        """Met more than once, and at most once where its value may be returned: so the new
        variable cannot make two outputs one object."""
        return self.count > 1 and self.outputs <= 1


class _Hoisting(_Numbering):
    """Give an operation that occurs nested in several statements (`1 - x ** 2` inside two rules) a
    statement of its own, right before the first of them, and read its variable in all of them.

    Two walks in the same order: the first counts the occurrences of each nested operation where its
    first occurrence is in scope (not looking inside a repeated one, which is replaced whole), the
    second makes the new statements. A statement's own expression is never moved (value numbering
    merges those); it only counts as a repeat of a nested occurrence before it."""

    def __init__(self, function):
        super().__init__(function)
        self.counting = True
        self.trace = []      # per nested occurrence met, in walk order: its record (None: not counted)
        self.position = 0
        self.hoisted = 0

    def run(self, body):
        self.block(body)
        if not any(record is not None and record.hoistable() for record in self.trace):
            return None
        self.counting, self.epoch = False, 0
        return self.block(body)

    def block(self, statements):
        out = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                if _has_effect(stmt):
                    self.epoch += 1
                    out.append(stmt)
                elif stmt.target is None or stmt.target in self.escaped or isinstance(stmt.expr, (Var, Const)):
                    if stmt.target is not None and isinstance(stmt.expr, (Var, Const)):
                        self.aliases[stmt.target] = self.resolve(stmt.expr)
                    out.append(stmt)
                else:
                    before = []
                    expr = self.visit(stmt.expr, stmt.target in self.returned, True, before)
                    out.extend(before)
                    out.append(stmt if self.counting else Assign(stmt.target, expr, stmt.loc))
            elif isinstance(stmt, If):
                then, orelse = self.region(stmt.then), self.region(stmt.orelse)
                if self.contains_effect(stmt):
                    self.epoch += 1
                out.append(stmt if self.counting else stmt.replace(then=then, orelse=orelse))
            elif isinstance(stmt, Loop):
                effects = self.contains_effect(stmt)
                if effects:
                    self.epoch += 1
                test, body = self.region(stmt.test), self.region(stmt.body)
                if effects:
                    self.epoch += 1
                out.append(stmt if self.counting else stmt.replace(test=test, body=body))
            else:
                out.append(stmt)
        return out

    def visit(self, expr, output, top, before):
        """`expr` with repeated nested operations read from their new variables (whose statements
        go to `before`). `output`: the value may be returned, as may the operands it may hand back
        as they are (an operation met there is hoisted only if met there once, see `_Record`)."""
        if isinstance(expr, Pack):
            return Pack(expr.kind, [self.visit(item, output, False, before) for item in expr.items])
        if not isinstance(expr, Apply):
            return expr
        if mergeable(expr.fn):
            record = self.occurrence(expr, top)
            if self.counting:
                if record is not None:
                    record.outputs += output
                    if record.count > 1:
                        return expr  # a repeat: replaced whole, so what is inside it does not count
            elif record is not None and record.count > 1:
                first, record.met = not record.met, True
                if not first:  # a repeat (a statement's own expression: merged later)
                    return record.var if record.var is not None and not top else expr
                if not record.hoistable():
                    return self.children(expr, output, before)
                record.var = Var("")
                before.append(Assign(record.var, self.children(expr, output, before)))
                self.hoisted += 1
                return record.var
        return self.children(expr, output, before)

    def children(self, expr, output, before):
        operands = output and not _fresh(expr.fn)
        return Apply(expr.fn, [self.visit(a, operands, False, before) for a in expr.args],
                     [(k, self.visit(v, operands, False, before)) for k, v in expr.kwargs])

    def occurrence(self, expr, top):
        """The record of this occurrence: found in scope (a repeat), or new (a first occurrence)."""
        if not self.counting:
            record = self.trace[self.position]
            self.position += 1
            return record
        key = self.key(expr)
        record = self.table.get(key) if key is not None else None
        if record is not None:
            record.count += 1
        elif key is not None and not top:
            record = _Record()
            self.enter(key, record)
        self.trace.append(record)
        return record
