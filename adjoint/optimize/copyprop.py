"""Copy propagation: `a = b` where `b` is a variable or constant, then `a` used -> `b` used.

Copies that only feed the `return` stay, so the returned gradients keep their names.
"""
from ..ir import Apply, Assign, Const, Pack, Return, Var


def propagate_copies(function):
    replacement = {}
    body = []
    for stmt in function.body:
        if isinstance(stmt, Assign):
            expr = substitute(stmt.expr, replacement)
            if stmt.target is not None and isinstance(expr, (Var, Const)):
                replacement[stmt.target] = expr
            body.append(Assign(stmt.target, expr, stmt.loc))
        else:
            body.append(stmt)
    function.body = body
    return function


def substitute(expr, replacement):
    if isinstance(expr, Var):
        return replacement.get(expr, expr)
    if isinstance(expr, Apply):
        return Apply(expr.fn, [substitute(a, replacement) for a in expr.args],
                     [(k, substitute(v, replacement)) for k, v in expr.kwargs])
    if isinstance(expr, Pack):
        return Pack(expr.kind, [substitute(item, replacement) for item in expr.items])
    return expr


def substitute_in_return(function):
    """Propagate copies into the `return` too (for values nobody reads by name)."""
    copies = {stmt.target: stmt.expr for stmt in function.body
              if isinstance(stmt, Assign) and isinstance(stmt.expr, (Var, Const))}
    last = function.body[-1]
    if isinstance(last, Return):
        function.body[-1] = Return(substitute(last.value, copies), last.loc)
    return function
