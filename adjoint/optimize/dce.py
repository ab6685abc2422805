"""Dead-code elimination: drop assignments nobody reads, unless they have an effect."""
from ..ir import Apply, Assign, Return, statement_uses, walk
from ..rules import is_nondiff, rule_for


def eliminate_dead_code(function):
    live = set()
    kept = []
    for stmt in reversed(function.body):
        if isinstance(stmt, Return) or has_effect(stmt) or (isinstance(stmt, Assign) and stmt.target in live):
            live.update(statement_uses(stmt))
            kept.append(stmt)
    function.body = kept[::-1]
    return function


def has_effect(stmt):
    """An assignment whose expression calls something we do not know to be pure."""
    if not isinstance(stmt, Assign):
        return False
    for node in walk(stmt.expr):
        if isinstance(node, Apply) and rule_for(node.fn) is None and not is_nondiff(node.fn):
            return True
    return stmt.target is None and isinstance(stmt.expr, Apply)
