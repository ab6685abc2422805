"""Accumulation without zero buffers.

A value read at several indices gets one gradient per read, each `unindex(g, x, index)`: `g`
scattered into a fresh array of zeros shaped like `x`. Adding them up allocates a third array per
sum. When the running total is a new array that nothing else reads (a scatter, a sum of scatters, a
product), the next scatter is added into it in place (`add_at`), as a hand-written gradient would do with
`grad[1:] += ...; grad[:-1] += ...`.
"""
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Apply, Assign, Pack, Var, all_statements, regions, statement_uses, walk

_FRESH = (rt.unindex, rt.add_at)  # helpers whose result is a new array no one else holds
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
    _block(function.body, uses)
    return function


def _block(body, uses):
    definitions = {}
    readers = {}  # variable -> the expressions of the statements so far that read it (None: a region's)
    for position, stmt in enumerate(body):
        for region in regions(stmt):
            _block(region, uses)
        if isinstance(stmt, Assign) and stmt.target is not None:
            definitions[stmt.target] = stmt.expr
            expr = stmt.expr
            if isinstance(expr, Apply) and expr.fn is operator.add and not expr.kwargs:
                for total, scatter in (expr.args, expr.args[::-1]):
                    if uses.get(total) == 1 and _fresh(total, definitions, uses, readers) \
                            and _scatter(scatter, definitions, uses):
                        scattered = definitions[scatter] if isinstance(scatter, Var) else scatter
                        body[position] = Assign(stmt.target, Apply(rt.add_at, (total,) + scattered.args), stmt.loc)
                        definitions[stmt.target] = body[position].expr
                        break
        for inner in all_statements([stmt]):
            for var in statement_uses(inner):
                readers.setdefault(var, []).append(inner.expr if inner is stmt and isinstance(stmt, Assign) else None)


def _fresh(var, definitions, uses, readers):
    """Is `var` a new array (or number) that nothing can see change? `unbroadcast` hands back its
    argument or a new sum of it, so it is fresh when its argument is and every other read of that
    argument came before, by an operation that makes a new array (not a view)."""
    expr = definitions.get(var)
    if not isinstance(expr, Apply) or expr.kwargs:
        return False
    if expr.fn is rt.unbroadcast:
        inner = expr.args[0]
        others = [e for e in readers.get(inner, ()) if e is not expr]
        return isinstance(inner, Var) and len(others) + 1 == uses.get(inner) \
            and all(e is not None and _only_read(e, inner) for e in others) \
            and _fresh(inner, definitions, uses, readers)
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
