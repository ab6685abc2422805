"""Dead-code elimination: keep what the result or an effect needs, drop the rest.

Mark and sweep over the SSA def-use graph: a value is live if a live statement
reads it; a branch or loop stays if anything inside it is live, and then its
condition or bounds are live too.
"""
from .. import runtime as rt
from ..ir import (Apply, Assign, If, Loop, Return, map_expressions, regions, statement_uses, substitute,
                  variables, walk)
from ..rules import is_nondiff, rule_for

# runtime helpers called for the error they may raise, not for their value: kept even when generated
# code calling them is read back as a value (`t = expect_scalar(...)`, the gradient that hvp and
# hessian differentiate again), or a Hessian of a function with an array output would be computed
CHECKS = (rt.expect_scalar, rt.refuse_changed_view, rt.refuse_outside_change)


def eliminate_dead_code(function):
    definition, parent = {}, {}
    _index(function.body, None, definition, parent)
    live, kept = set(), set()
    work = []

    def keep(stmt):
        while stmt is not None and id(stmt) not in kept:
            kept.add(id(stmt))
            if isinstance(stmt, Loop):
                work.extend(v for b in stmt.bounds for v in variables(b))
                if stmt.cond is not None:
                    work.extend(variables(stmt.cond))
            elif isinstance(stmt, If):
                work.extend(variables(stmt.cond))
            stmt = parent.get(id(stmt))

    for stmt in _all(function.body):
        if isinstance(stmt, Return) or has_effect(stmt):
            keep(stmt)
            work.extend(statement_uses(stmt))
    while work:
        var = work.pop()
        if var in live:
            continue
        live.add(var)
        source = definition.get(var)
        if source is None:
            continue
        stmt, needs = source
        keep(stmt)
        work.extend(needs)
    removed, replaced = [], {}
    function.body = _sweep(function.body, live, kept, removed, replaced)
    if replaced:
        # a carried value of a loop that went can still be read by another loop (the backward
        # sweep of `for _ in range(3): x = x ** 1` reads `x` for its `x ** 0`): it is the value
        # that entered the loop
        for target, source in list(replaced.items()):
            while source in replaced:
                source = replaced[source]
            replaced[target] = source
        function.body = map_expressions(function.body, lambda e: substitute(e, replaced))
    if removed:  # what only fed the loops that went (a trip counter, say) may be dead now
        return eliminate_dead_code(function)
    return function


def _index(body, enclosing, definition, parent):
    """Map each variable to (the statement defining it, the variables its value needs)."""
    for stmt in body:
        parent[id(stmt)] = enclosing
        if isinstance(stmt, Assign) and stmt.target is not None:
            definition[stmt.target] = (stmt, variables(stmt.expr))
        elif isinstance(stmt, If):
            for merge in stmt.merges:
                definition[merge.target] = (stmt, [v for value in merge.values for v in variables(value)])
        elif isinstance(stmt, Loop):
            if stmt.index is not None:
                definition[stmt.index] = (stmt, [])
            for phi in stmt.carried:
                definition[phi.target] = (stmt, [v for value in phi.values for v in variables(value)])
            for out, header in stmt.exits:
                definition[out] = (stmt, variables(header))
        for region in regions(stmt):
            _index(region, stmt, definition, parent)


def _all(body):
    for stmt in body:
        yield stmt
        for region in regions(stmt):
            yield from _all(region)


def _sweep(body, live, kept, removed, replaced):
    out = []
    for stmt in body:
        if id(stmt) not in kept and not isinstance(stmt, Return):
            continue
        if isinstance(stmt, Assign) and stmt.target is not None and stmt.target not in live:
            if not has_effect(stmt):
                continue
            if isinstance(stmt.expr, Apply) and any(stmt.expr.fn is check for check in CHECKS):
                stmt = Assign(None, stmt.expr, stmt.loc)  # (its value is None)
        if isinstance(stmt, If):
            stmt = stmt.replace(then=_sweep(stmt.then, live, kept, removed, replaced),
                                orelse=_sweep(stmt.orelse, live, kept, removed, replaced),
                                merges=[m for m in stmt.merges if m.target in live])
        elif isinstance(stmt, Loop):
            stmt = stmt.replace(
                test=_sweep(stmt.test, live, kept, removed, replaced),
                body=_sweep(stmt.body, live, kept, removed, replaced),
                carried=[phi for phi in stmt.carried if phi.target in live],
                exits=[(out_var, header) for out_var, header in stmt.exits if out_var in live])
            if _does_nothing(stmt):  # its values leave it as they came in
                entering = {phi.target: phi.values[0] for phi in stmt.carried}
                replaced.update(entering)
                out.extend(Assign(out_var, entering[header]) for out_var, header in stmt.exits)
                removed.append(stmt)
                continue
        out.append(stmt)
    return out


def _does_nothing(loop):
    """A `for` loop with nothing in its body, whose carried values stay as they are."""
    return loop.kind == "for" and not loop.body and not loop.test and \
        all(phi.values[1] is phi.target for phi in loop.carried)


def has_effect(stmt):
    """An assignment whose expression calls something we do not know to be pure."""
    if not isinstance(stmt, Assign):
        return False
    for node in walk(stmt.expr):
        if isinstance(node, Apply) and (rule_for(node.fn) is None and not is_nondiff(node.fn)
                                        or any(node.fn is check for check in CHECKS)):
            return True
    return stmt.target is None and isinstance(stmt.expr, Apply)
