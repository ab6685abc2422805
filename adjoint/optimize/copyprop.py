"""Copy propagation: `a = b` where `b` is a variable or constant, then `a` used -> `b` used.

In SSA form a copy can be propagated to every use, wherever it is: the copy's
source is defined before the copy, which is defined before every use. Copies
that only feed the `return` stay, so the returned gradients keep their names.
"""
from ..ir import Assign, Const, Return, Var, all_statements, map_expressions, substitute


def propagate_copies(function):
    copies = {}
    for stmt in all_statements(function.body):
        if isinstance(stmt, Assign) and isinstance(stmt.target, Var) and isinstance(stmt.expr, (Var, Const)):
            copies[stmt.target] = stmt.expr
    if not copies:
        return function
    for target, source in list(copies.items()):
        while isinstance(source, Var) and source in copies:  # chains: a = b, b = c
            source = copies[source]
        copies[target] = source
    last = function.body[-1]
    function.body = map_expressions(function.body[:-1], lambda e: substitute(e, copies)) + [last]
    return function


def substitute_in_return(function):
    """Propagate copies into the `return` too (for values nobody reads by name)."""
    copies = {stmt.target: stmt.expr for stmt in all_statements(function.body)
              if isinstance(stmt, Assign) and isinstance(stmt.expr, (Var, Const))}
    last = function.body[-1]
    if isinstance(last, Return):
        function.body[-1] = Return(substitute(last.value, copies), last.loc)
    return function
