"""Accumulation without zero buffers.

A value read at several indices gets one gradient per read, each `unindex(g, x, index)`: `g`
scattered into a fresh array of zeros shaped like `x`. Adding them up allocates a third array per
sum. When the running total is a new array that nothing else reads (a scatter, a sum of scatters, a
product), the next scatter is added into it in place (`add_at`), as a hand-written gradient would do with
`grad[1:] += ...; grad[:-1] += ...`.
"""
import operator

from .. import runtime as rt
from ..ir import Apply, Assign, Var, all_statements, regions, statement_uses

_FRESH = (rt.unindex, rt.add_at)  # helpers whose result is a new array no one else holds
# operations that make a new array of arrays (a Python number of numbers: add_at then just adds)
_NEW_ARRAY = (operator.mul, operator.add, operator.sub, operator.truediv, operator.neg) + _FRESH


def accumulate_in_place(function):
    uses = {}
    for stmt in all_statements(function.body):
        for var in statement_uses(stmt):
            uses[var] = uses.get(var, 0) + 1
    _block(function.body, uses)
    return function


def _block(body, uses):
    definitions = {}
    read = {}  # how often each variable was read by the statements so far
    for position, stmt in enumerate(body):
        for region in regions(stmt):
            _block(region, uses)
        if isinstance(stmt, Assign) and stmt.target is not None:
            definitions[stmt.target] = stmt.expr
            expr = stmt.expr
            if isinstance(expr, Apply) and expr.fn is operator.add and not expr.kwargs:
                for total, scatter in (expr.args, expr.args[::-1]):
                    if uses.get(total) == 1 and _fresh(total, definitions, uses, read) \
                            and _scatter(scatter, definitions, uses):
                        scattered = definitions[scatter] if isinstance(scatter, Var) else scatter
                        body[position] = Assign(stmt.target, Apply(rt.add_at, (total,) + scattered.args), stmt.loc)
                        definitions[stmt.target] = body[position].expr
                        break
        for var in [v for s in all_statements([stmt]) for v in statement_uses(s)]:
            read[var] = read.get(var, 0) + 1


def _fresh(var, definitions, uses, read):
    """Is `var` a new array (or number) that nothing reads after this? `unbroadcast` hands back its
    argument or a new sum of it, so it is fresh when its argument is, and read by nothing later."""
    expr = definitions.get(var)
    if not isinstance(expr, Apply) or expr.kwargs:
        return False
    if expr.fn is rt.unbroadcast:
        inner = expr.args[0]
        return isinstance(inner, Var) and read.get(inner) == uses.get(inner) \
            and _fresh(inner, definitions, uses, read)
    return expr.fn in _NEW_ARRAY


def _scatter(operand, definitions, uses):
    """A scatter read only here: a variable used once, or a call written in place."""
    expr = operand if isinstance(operand, Apply) else definitions.get(operand)
    read_once = isinstance(operand, Apply) or uses.get(operand) == 1
    return read_once and isinstance(expr, Apply) and expr.fn is rt.unindex and not expr.kwargs and len(expr.args) == 3
