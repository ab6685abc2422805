"""Values read only for their shape: computed from their operands' shapes, not element by element.

The gradient of `np.sum(A @ B * 2.0)` spreads the seed over the product's shape
(`repeat_to(2.0, A @ B * 2.0)`): nothing else reads the product, yet the forward sweep multiplies
the matrices. A value whose every read is one of a helper's shape-only arguments (`repeat_to`'s,
`unbroadcast`'s second, the output `expect_scalar` checks, `np.size(x)`, `x.shape`) and that is an
elementwise operation or a matrix product is replaced by its shape: `broadcast_shape(t1, B)`,
`matmul_shape(A, B)` (a `runtime.Shape`, which the helpers read like the array). Its operands may
then be read only for their shape in turn. Runs after dead-code elimination (a dead reader would
keep a value), before recording.
"""
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Apply, Assign, Var, all_statements, hashable, statement_uses, walk
from ..rules import rule_for
from .shapes import SCALAR, ShapeClasses, shape_reads

_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg}


def compute_shapes_only(function, scalar_params=()):
    """Replace values read only for their shape (in place); returns how many were replaced."""
    definitions = {stmt.target: stmt for stmt in all_statements(function.body)
                   if isinstance(stmt, Assign) and stmt.target is not None}
    shapes = None  # (worked out only if some value is read only for its shape)
    replaced = 0
    changed = True
    while changed:
        changed = False
        reads = _reads(function.body)
        for var, only_shape in reads.items():
            stmt = definitions.get(var)
            helper = None if stmt is None or not only_shape else _shape_helper(stmt.expr)
            if helper is None:
                continue
            if shapes is None:
                shapes = ShapeClasses(function, set(scalar_params))
            if shapes.of(var) == SCALAR:
                continue
            stmt.expr = Apply(helper, stmt.expr.args)
            replaced += 1
            changed = True
    return replaced


def _shape_helper(expr):
    """The helper computing the shape of `expr`, if it is an elementwise operation or a product."""
    if not isinstance(expr, Apply) or expr.kwargs:
        return None
    fn = expr.fn
    if fn is operator.matmul and len(expr.args) == 2:
        return rt.matmul_shape
    if hashable(fn) and fn in _ARITHMETIC or isinstance(fn, np.ufunc) and fn.nin == len(expr.args) and fn.nout == 1:
        rule = rule_for(fn)
        if rule is not None and rule.out == "elementwise":
            return rt.broadcast_shape
    return None


def _reads(body):
    """Each variable read -> True if every read of it is for its shape only."""
    found = {}
    for stmt in all_statements(body):
        if not isinstance(stmt, Assign):
            for var in statement_uses(stmt):
                found[var] = False
            continue
        for node in walk(stmt.expr):
            if isinstance(node, Var):
                found.setdefault(node, True)  # (a read for its shape: its parent said so, below)
            elif isinstance(node, Apply):
                positions = shape_reads(node, exact_dtype=False)  # (a computed Shape's dtype is numpy's guess)
                for i, arg in enumerate(node.args):
                    if isinstance(arg, Var) and i not in positions:
                        found[arg] = False
                for _, value in node.kwargs:
                    if isinstance(value, Var):
                        found[value] = False
            else:  # a tuple or a list holding a variable
                for item in getattr(node, "items", ()):
                    if isinstance(item, Var):
                        found[item] = False
        if isinstance(stmt.expr, Var):
            found[stmt.expr] = False
    return found
