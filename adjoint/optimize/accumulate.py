"""Accumulation without zero buffers.

A value read at several indices gets one gradient per read, each `unindex(g, x, index)`: `g`
scattered into a fresh array of zeros shaped like `x`. Adding them up allocates a third array per
sum. When the running total is a new array that nothing else reads (a scatter, a sum of scatters, a
product), the next scatter is added into it in place (`add_at`), as a hand-written gradient would do with
`grad[1:] += ...; grad[:-1] += ...`.

A loop that reads `xs[t]` on each trip carries the gradient of `xs` from trip to trip: it starts as
`zeros_grad(xs)` and each backward trip adds `unindex(g, xs, t)` to it. Added as a new array, that is
a full-size array per trip (quadratic in the length of `xs`). The total is added into in place when
no one else can hold it: the value entering the loop is a new array read only by the loop, and on
each trip the total is read once, by the addition, whose result is read only by the loop (as the
next trip's total). The same holds through a branch (`if ...: total = total + scatter`): a merge of
values each read only by the merge. Which loop totals and merges own their array is the largest set
consistent with these conditions (each trip keeps what the trip before handed it).
"""
import operator

import numpy as np

from .. import runtime as rt
from ..ir import (Apply, Assign, Const, If, Loop, Pack, Var, all_statements, defined_in, regions, statement_uses,
                  variables, walk)

_FRESH = (rt.unindex, rt.add_at, rt.zeros_grad)  # helpers whose result is a new array no one else holds
# operations that make a new array of arrays (a Python number of numbers: add_at then just adds)
_ARITHMETIC = (operator.mul, operator.add, operator.sub, operator.truediv, operator.neg)
_NEW_ARRAY = _ARITHMETIC + _FRESH
# what reads an array without handing on a view of it (or the array itself, as `unbroadcast` may)
_READS_ONLY = _ARITHMETIC + (operator.lt, operator.le, operator.gt, operator.ge, operator.matmul, np.sum, np.mean,
                             np.prod, np.max, np.min, np.dot, np.matmul, rt.unindex)


def accumulate_in_place(function):
    uses = {}
    for stmt in all_statements(function.body):
        for var in statement_uses(stmt):
            uses[var] = uses.get(var, 0) + 1
    if any(isinstance(stmt, (If, Loop)) for stmt in all_statements(function.body)):
        once = _reads_per_path(function.body, uses)
        owned = _owned_carriers(function.body, once)
    else:  # (straight-line code: each read is on the one path)
        once, owned = uses, set()
    _block(function.body, uses, once, owned)
    return function


def _block(body, uses, once, owned):
    definitions = {}
    readers = {}  # variable -> the expressions of the statements so far that read it (None: a region's)
    for position, stmt in enumerate(body):
        for region in regions(stmt):
            _block(region, uses, once, owned)
        if isinstance(stmt, Assign) and stmt.target is not None:
            definitions[stmt.target] = stmt.expr
            expr = stmt.expr
            if isinstance(expr, Apply) and expr.fn is operator.add and not expr.kwargs:
                for total, scatter in (expr.args, expr.args[::-1]):
                    if once.get(total) == 1 and _fresh(total, definitions, uses, readers, owned) \
                            and _scatter(scatter, definitions, uses):
                        scattered = definitions[scatter] if isinstance(scatter, Var) else scatter
                        body[position] = Assign(stmt.target, Apply(rt.add_at, (total,) + scattered.args), stmt.loc)
                        definitions[stmt.target] = body[position].expr
                        break
        for inner in all_statements([stmt]):
            for var in statement_uses(inner):
                readers.setdefault(var, []).append(inner.expr if inner is stmt and isinstance(stmt, Assign) else None)


def _fresh(var, definitions, uses, readers, owned):
    """Is `var` a new array (or number) that nothing can see change? `unbroadcast` hands back its
    argument, a new sum of it or a read-only broadcast of it (spread over axes it lacks, which
    `add_at` then adds to as a new array), so it is fresh when its argument is and every other read
    of that argument came before, by an operation that makes a new array (not a view). A loop's
    total or a branch's merge is fresh when it is in `owned` (see `_owned_carriers`)."""
    if var in owned:
        return True
    expr = definitions.get(var)
    if not isinstance(expr, Apply) or expr.kwargs:
        return False
    if expr.fn is rt.unbroadcast:
        inner = expr.args[0]
        others = [e for e in readers.get(inner, ()) if e is not expr]
        return isinstance(inner, Var) and len(others) + 1 == uses.get(inner) \
            and all(e is not None and _only_read(e, inner) for e in others) \
            and _fresh(inner, definitions, uses, readers, owned)
    if expr.fn is rt.add_at:  # it hands back its total, added into
        total = expr.args[0]
        return isinstance(total, Var) and _fresh(total, definitions, uses, readers, owned)
    return expr.fn in _NEW_ARRAY


def _only_read(expr, var):
    """Is `var` only an operand in `expr` of operations that make new arrays (no view of it escapes)?"""
    for node in walk(expr):
        if isinstance(node, Apply) and any(a is var for a in node.args) \
                and not (node.fn in _READS_ONLY or isinstance(node.fn, np.ufunc)):
            return False
        if isinstance(node, Pack) and any(item is var for item in node.items):
            return False
    return True


def _scatter(operand, definitions, uses):
    """A scatter read only here: a variable used once, or a call written in place."""
    expr = operand if isinstance(operand, Apply) else definitions.get(operand)
    read_once = isinstance(operand, Apply) or uses.get(operand) == 1
    return read_once and isinstance(expr, Apply) and expr.fn is rt.unindex and not expr.kwargs and len(expr.args) == 3


# -- totals carried by loops and merged after branches -------------------------------------------

def _reads_per_path(body, uses):
    """Each variable -> how many times one run may read it at most: a branch counts the more of its
    two sides (a merge's value reads on its own side), and a read inside a loop of a value from
    outside it counts twice (the loop may run many times). The value entering a loop is read once,
    and a value a trip hands to the next once per trip; a loop's exits are not counted (they read
    the last trip's value, which nothing reads after it), nor are copies nobody reads (what copy
    propagation leaves for dead-code elimination)."""
    counts = {}

    def add(into, found, times=1):
        for var, n in found.items():
            into[var] = into.get(var, 0) + n * times

    for stmt in body:
        if isinstance(stmt, If):
            add(counts, _count(variables(stmt.cond)))
            sides = []
            for side, statements in enumerate((stmt.then, stmt.orelse)):
                found = _reads_per_path(statements, uses)
                add(found, _count(v for merge in stmt.merges for v in variables(merge.values[side])))
                sides.append(found)
            for var in set(sides[0]) | set(sides[1]):
                counts[var] = counts.get(var, 0) + max(sides[0].get(var, 0), sides[1].get(var, 0))
        elif isinstance(stmt, Loop):
            add(counts, _count(v for bound in stmt.bounds for v in variables(bound)))
            add(counts, _count(v for phi in stmt.carried for v in variables(phi.values[0])))
            trip = _reads_per_path(stmt.test, uses)
            add(trip, _reads_per_path(stmt.body, uses))
            add(trip, _count(v for phi in stmt.carried for v in variables(phi.values[1])))
            if stmt.cond is not None:
                add(trip, _count(variables(stmt.cond)))
            inside = defined_in(stmt.test) | defined_in(stmt.body) | {phi.target for phi in stmt.carried}
            if stmt.index is not None:
                inside.add(stmt.index)
            for var, n in trip.items():
                counts[var] = counts.get(var, 0) + (n if var in inside else 2 * n)
        elif not (isinstance(stmt, Assign) and isinstance(stmt.expr, Var) and not uses.get(stmt.target)):
            add(counts, _count(statement_uses(stmt)))
    return counts


def _count(variables_read):
    found = {}
    for var in variables_read:
        found[var] = found.get(var, 0) + 1
    return found


def _owned_carriers(body, once):
    """The loop headers, loop exits and branch merges whose value is always an array no one else
    holds: what enters them is a new array (or a number) read only by them. Loops make this
    circular (a trip's total is the last trip's total, added into), so it is the largest set for
    which every member's sources are new or owned: assume all, drop what fails, until none does."""
    definitions, sources = {}, {}
    for stmt in all_statements(body):
        if isinstance(stmt, Assign) and stmt.target is not None:
            definitions[stmt.target] = stmt.expr
        elif isinstance(stmt, If):
            for merge in stmt.merges:
                sources[merge.target] = list(merge.values)
        elif isinstance(stmt, Loop):
            for phi in stmt.carried:
                sources[phi.target] = list(phi.values)
            for out, header in stmt.exits:
                sources[out] = [header]

    owned = set(sources)

    def new(value, exit_of=False):
        if isinstance(value, Const):
            return type(value.value) in (int, float, bool)
        if isinstance(value, Apply):
            return not value.kwargs and value.fn in _NEW_ARRAY and value.fn is not rt.add_at
        if not isinstance(value, Var) or not (exit_of or once.get(value) == 1):
            return False
        if value in sources:
            return value in owned
        expr = definitions.get(value)
        if isinstance(expr, Apply) and not expr.kwargs and expr.fn is rt.add_at:
            return new(expr.args[0])
        return isinstance(expr, Apply) and not expr.kwargs and expr.fn in _NEW_ARRAY

    changed = True
    while changed:
        changed = False
        for var in list(owned):
            # an exit reads its header once the loop is over: nothing reads the header after that
            exit_of = len(sources[var]) == 1
            if not all(new(value, exit_of) for value in sources[var]):
                owned.discard(var)
                changed = True
    return owned
