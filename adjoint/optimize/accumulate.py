"""Accumulation without zero buffers.

A value read at several indices gets one gradient per read, each `unindex(g, x, index)`: `g`
scattered into a fresh array of zeros shaped like `x`. Adding them up allocates a third array per
sum. When the running total is itself a fresh scatter (or sum of scatters) that nothing else reads,
the next scatter is added into it in place (`add_at`), as a hand-written gradient would do with
`grad[1:] += ...; grad[:-1] += ...`.
"""
import operator

from .. import runtime as rt
from ..ir import Apply, Assign, Var, all_statements, regions, statement_uses

_FRESH = (rt.unindex, rt.add_at)  # helpers whose result is a new array no one else holds


def accumulate_in_place(function):
    uses = {}
    for stmt in all_statements(function.body):
        for var in statement_uses(stmt):
            uses[var] = uses.get(var, 0) + 1
    _block(function.body, uses)
    return function


def _block(body, uses):
    definitions = {}
    for position, stmt in enumerate(body):
        for region in regions(stmt):
            _block(region, uses)
        if not isinstance(stmt, Assign) or stmt.target is None:
            continue
        definitions[stmt.target] = stmt.expr
        expr = stmt.expr
        if not (isinstance(expr, Apply) and expr.fn is operator.add and not expr.kwargs):
            continue
        for total, scatter in (expr.args, expr.args[::-1]):
            if _fresh(total, definitions, uses) and _scatter(scatter, definitions, uses):
                scattered = definitions[scatter] if isinstance(scatter, Var) else scatter
                body[position] = Assign(stmt.target, Apply(rt.add_at, (total,) + scattered.args), stmt.loc)
                definitions[stmt.target] = body[position].expr
                break


def _fresh(var, definitions, uses):
    expr = definitions.get(var)
    return uses.get(var) == 1 and isinstance(expr, Apply) and expr.fn in _FRESH and not expr.kwargs


def _scatter(operand, definitions, uses):
    """A scatter read only here: a variable used once, or a call written in place."""
    expr = operand if isinstance(operand, Apply) else definitions.get(operand)
    read_once = isinstance(operand, Apply) or uses.get(operand) == 1
    return read_once and isinstance(expr, Apply) and expr.fn is rt.unindex and not expr.kwargs and len(expr.args) == 3
