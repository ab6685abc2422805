"""Activity analysis: which values carry a derivative.

A value is *varied* if it depends, through differentiable operations, on an
input we differentiate with respect to; it is *useful* if an output depends on
it. Only values that are both get derivative code. In SSA form both are plain
reachability over the def-use graph (branches and loops included), so a
fixpoint over that graph is exact.
"""
from .ir import Apply, Assign, If, Loop, Pack, Var, all_statements, variables
from .rules import is_nondiff, rule_for


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


def differentiable_operands(expr):
    """The leaves of an operation a derivative can flow through: not those its rule marks `const`
    (used only for their shape, like `x` in `unbroadcast(g, x)`). Without a rule: all of them."""
    rule = rule_for(expr.fn)
    bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
    if bound is None:
        return leaves(expr)
    return [leaf for param in rule.params if not param.const for leaf in leaves_of_operand(bound[param.name])]


def dependencies(body):
    """(target, the values its derivative depends on) for every definition in `body`."""
    edges = []
    for stmt in all_statements(body):
        if isinstance(stmt, Assign) and stmt.target is not None and isinstance(stmt.expr, Apply):
            if not is_nondiff(stmt.expr.fn):
                edges.append((stmt.target, [v for v in differentiable_operands(stmt.expr) if isinstance(v, Var)]))
        elif isinstance(stmt, Assign) and isinstance(stmt.target, Var):
            edges.append((stmt.target, variables(stmt.expr)))
        elif isinstance(stmt, If):
            edges.extend((m.target, [v for value in m.values for v in variables(value)]) for m in stmt.merges)
        elif isinstance(stmt, Loop):
            edges.extend((phi.target, [v for value in phi.values for v in variables(value)])
                         for phi in stmt.carried)
            edges.extend((out, [header]) for out, header in stmt.exits)
    return edges


def varied(body, inputs):
    result = set(inputs)
    edges = dependencies(body)
    changed = True
    while changed:
        changed = False
        for target, sources in edges:
            if target not in result and any(s in result for s in sources):
                result.add(target)
                changed = True
    return result


def useful(body, outputs):
    result = set(outputs)
    edges = dependencies(body)[::-1]  # backwards, so straight-line code settles in one sweep
    changed = True
    while changed:
        changed = False
        for target, sources in edges:
            if target in result:
                for source in sources:
                    if source not in result:
                        result.add(source)
                        changed = True
    return result
