"""Single-use temporaries folded into the one expression that reads them.

    t1 = w0 * x0                     s = w0 * x0 + w1 * x1 + w2
    t2 = w1 * x1            ->
    s = t1 + t2 + w2

is the line a person writes, and for Python floats it is measurably faster (no store and load of
each intermediate; numpy can reuse a temporary array too). Only the compiler's own temporaries are
folded, so every value the user named keeps its line; only into a read in the same block, so
nothing is computed more often, less often or on another path; and only expressions without side
effects (a tape's `pop` keeps its place, and its order). Runs last, on the recorded function.
"""
import builtins
import operator

import numpy as np

from .. import runtime as rt
from ..ir import (Apply, Assign, Attribute, If, Loop, Pack, Return, Var, all_statements, children, statement_uses,
                  variables)

_EFFECTS = {rt.add_at, rt.setitem_into, rt.list_append}  # change an argument in place


def fuse_temporaries(function):
    uses = {}
    for stmt in all_statements(function.body):
        for var in statement_uses(stmt):
            uses[var] = uses.get(var, 0) + 1
    function.body = _block(function.body, uses)
    return function


def _block(body, uses):
    pending = {}  # temporary -> its expression, until its one read further down this block
    results = {}  # a derivative read only where it is returned as it is: Python floats (see below)
    folded = set()
    # expressions already tidied and known pure (by id, holding them): a chain of temporaries
    # folds into one long expression, which must not be walked again at every link
    settled = {}
    out = []
    for stmt in body:
        if isinstance(stmt, If):
            stmt = stmt.replace(then=_block(stmt.then, uses), orelse=_block(stmt.orelse, uses))
        elif isinstance(stmt, Loop):
            stmt = stmt.replace(test=_block(stmt.test, uses), body=_block(stmt.body, uses))
        if pending:
            stmt = _substituted(stmt, pending, folded)
            _keep_reads_before_update(stmt, pending)
        if isinstance(stmt, Return) and results:
            stmt = Return(_returned(stmt.value, results, folded), stmt.loc)
        if isinstance(stmt, Assign):
            stmt = Assign(stmt.target, _peephole(stmt.expr, settled), stmt.loc)
        elif isinstance(stmt, Return):
            stmt = Return(_peephole(stmt.value, settled), stmt.loc)
        if isinstance(stmt, Assign) and _foldable(stmt.target, stmt.expr, uses, settled):
            (pending if _temporary(stmt.target) else results)[stmt.target] = stmt.expr
            settled[id(stmt.expr)] = stmt.expr
        out.append(stmt)
    # a temporary still pending is read elsewhere (inside a loop, by a merge): it keeps its line
    return [stmt for stmt in out if not (isinstance(stmt, Assign) and stmt.target in folded)]


def _keep_reads_before_update(stmt, pending):
    """A temporary that reads an array `stmt` updates (`g2 = setitem(g, i, 0.0)`) keeps its line
    before it: folded into a later line, its read would come after the update, which could then not
    write into the array itself (optimize/inplace.py runs next) but would copy it, on every trip of
    the backward sweep of a loop that fills an array."""
    if isinstance(stmt, Assign) and isinstance(stmt.expr, Apply) and stmt.expr.fn is rt.setitem:
        updated = stmt.expr.args[0]
        for temporary in [t for t, expr in pending.items() if updated in variables(expr)]:
            del pending[temporary]


def _foldable(target, expr, uses, settled):
    if not (isinstance(target, Var) and uses.get(target) == 1 and (_temporary(target) or target.prefix)
            and isinstance(expr, Apply)):
        return False
    stack = [expr]
    while stack:
        node = stack.pop()
        if settled.get(id(node)) is node:
            continue
        if isinstance(node, Apply) and not _pure(node.fn):
            return False
        stack.extend(children(node))
    return True


def _substituted(stmt, pending, folded):
    """`stmt` with the pending temporaries it reads (itself, not in its regions) written in."""
    def replace(expr):
        if isinstance(expr, Var) and expr in pending:
            folded.add(expr)
            return pending.pop(expr)
        if isinstance(expr, Apply):
            return Apply(expr.fn, [replace(a) for a in expr.args], [(k, replace(v)) for k, v in expr.kwargs])
        if isinstance(expr, Pack):
            return Pack(expr.kind, [replace(item) for item in expr.items])
        return expr

    if isinstance(stmt, Assign):
        return Assign(stmt.target, replace(stmt.expr), stmt.loc)
    if isinstance(stmt, Return):
        return Return(replace(stmt.value), stmt.loc)
    if isinstance(stmt, If):  # its condition is evaluated once, here; its merges are read later
        return stmt.replace(cond=replace(stmt.cond))
    return stmt


def _returned(value, results, folded):
    """The returned tuple with the derivatives it holds bare written in: only Python floats are
    returned without `as_grad`, and for them `return grad_s * x0, grad_s * w0` saves a store and a
    load per gradient (a tenth of a small gradient's time). Arrays keep their `grad_x` line."""
    def bare(item):
        if isinstance(item, Var) and item in results:
            folded.add(item)
            return results.pop(item)
        return item
    if isinstance(value, Pack) and value.kind == "tuple":
        return Pack("tuple", [bare(item) for item in value.items])
    return bare(value)


def _peephole(expr, settled):
    """What folding makes meet: `-(-a / b * c)` is `a / b * c` and `a + b * -k` is `a - b * k`, bit
    for bit (a sign change is exact), with fewer operations (a rule's `-g * ans / y`, then the `-`
    of `exp(-s)`'s rule); `as_grad(as_grad(g, x), x)` is `as_grad(g, x)`."""
    if settled.get(id(expr)) is expr:
        return expr
    if isinstance(expr, Pack):
        return Pack(expr.kind, [_peephole(item, settled) for item in expr.items])
    if not isinstance(expr, Apply):
        return expr
    expr = Apply(expr.fn, [_peephole(a, settled) for a in expr.args],
                 [(k, _peephole(v, settled)) for k, v in expr.kwargs])
    if expr.fn is operator.neg and not expr.kwargs:
        unsigned = _negated(expr.args[0])
        if unsigned is not None:
            return unsigned
    if expr.fn in (operator.add, operator.sub) and not expr.kwargs:  # `a + b * -k` is `a - b * k`
        unsigned = _negated(expr.args[1])
        if unsigned is not None:
            return Apply(operator.sub if expr.fn is operator.add else operator.add, (expr.args[0], unsigned))
    if expr.fn is rt.as_grad:
        inner, like = expr.args
        if isinstance(inner, Apply) and inner.fn is rt.as_grad and inner.args[1] is like:
            return inner
    return expr


def _negated(expr):
    """An expression equal to `-expr` without a negation of its own, or None."""
    if isinstance(expr, Apply) and not expr.kwargs:
        if expr.fn is operator.neg:
            return expr.args[0]
        if expr.fn in (operator.mul, operator.truediv):
            for i, operand in enumerate(expr.args):
                unsigned = _negated(operand)
                if unsigned is not None:
                    args = list(expr.args)
                    args[i] = unsigned
                    return Apply(expr.fn, args)
    return None


def _temporary(var):
    """A value the user did not name (`t3`), or a derivative of one (`grad_t3`)."""
    while var.prefix is not None and var.of is not None:
        var = var.of
    return not var.hint


def _pure(fn):
    if isinstance(fn, Attribute):
        return True
    if fn in _EFFECTS or not callable(fn):
        return False
    module = getattr(fn, "__module__", None) or ""
    if isinstance(fn, np.ufunc) or module in ("math", "_operator", "operator", "builtins") \
            or module.startswith(rt.__name__ + "."):
        return fn not in (builtins.print, builtins.input, builtins.next)
    return module.startswith("numpy") and not module.startswith("numpy.random")
