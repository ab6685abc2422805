"""Activity analysis: which values carry a derivative.

A value is *varied* if it depends, through differentiable operations, on an
input we differentiate with respect to (or, in reverse mode, on nothing but
constants it is not); it is *useful* if an output depends on it. Only values
that are both get derivative code.
"""
from .ir import Apply, Assign, Pack, Var, variables
from .rules import is_nondiff


def leaves(expr):
    """The operand leaves of an operation, looking inside packed tuples and slices."""
    out = []
    for operand in (expr.operands() if isinstance(expr, Apply) else (expr,)):
        out.extend(leaves_of_operand(operand))
    return out


def leaves_of_operand(operand):
    if isinstance(operand, Pack):
        return [leaf for item in operand.items for leaf in leaves_of_operand(item)]
    return [operand]


def varied(body, inputs):
    result = set(inputs)
    for stmt in body:
        if isinstance(stmt, Assign) and stmt.target is not None and isinstance(stmt.expr, Apply):
            if not is_nondiff(stmt.expr.fn) and any(v in result for v in leaves(stmt.expr) if isinstance(v, Var)):
                result.add(stmt.target)
    return result


def useful(body, outputs):
    result = set(outputs)
    for stmt in reversed(body):
        if isinstance(stmt, Assign) and stmt.target in result:
            result.update(variables(stmt.expr))
    return result
