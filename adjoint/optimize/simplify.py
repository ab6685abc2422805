"""Algebraic simplification and constant folding on expression trees.

Rules are instantiated generically (`g * partial`, `unbroadcast(c, x)`); this
pass rewrites what the instance makes redundant: products with one, sums with
zero, helpers whose work shape classes prove unnecessary, and operations on
constants.
"""
import math
import numbers
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Apply, Assign, Const, Pack, Return, Var
from .shapes import SCALAR, ShapeClasses

_FOLDABLE_MODULES = (math, np)


def simplify(function, scalar_params=(), float_params=()):
    shapes = ShapeClasses(function, set(scalar_params))
    rewriter = Rewriter(shapes, set(float_params))
    body = []
    for stmt in function.body:
        if isinstance(stmt, Assign):
            expr = rewriter.expr(stmt.expr)
            if stmt.target is None and not isinstance(expr, Apply):
                continue
            body.append(Assign(stmt.target, expr, stmt.loc))
            if stmt.target is not None:
                shapes.assign(stmt.target, expr)
        else:
            body.append(Return(rewriter.expr(stmt.value), stmt.loc))
    function.body = body
    return function


def _is_none(expr):
    return isinstance(expr, Const) and expr.value is None


def _number(expr, *values):
    return (isinstance(expr, Const) and isinstance(expr.value, numbers.Number)
            and not isinstance(expr.value, bool) and expr.value in values)


class Rewriter:
    def __init__(self, shapes, float_params):
        self.shapes = shapes
        self.float_params = float_params

    def expr(self, expr):
        if isinstance(expr, Pack):
            return Pack(expr.kind, [self.expr(item) for item in expr.items])
        if not isinstance(expr, Apply):
            return expr
        node = Apply(expr.fn, [self.expr(a) for a in expr.args], [(k, self.expr(v)) for k, v in expr.kwargs])
        return self.rewrite(node)

    def rewrite(self, node):
        fn, args = node.fn, node.args
        folded = fold(node)
        if folded is not None:
            return folded
        scalar = self.shapes.of
        if fn in (operator.mul, operator.add, operator.sub, operator.truediv):
            node = Apply(fn, [self.implicit_broadcast(arg, args) for arg in args])
            args = node.args
        if fn is operator.mul:
            a, b = args
            if _number(a, 1):
                return b
            if _number(b, 1):
                return a
            if (_number(a, 0) and scalar(b) == SCALAR) or (_number(b, 0) and scalar(a) == SCALAR):
                return Const(0.0)
            if _number(a, -1):
                return self.rewrite(Apply(operator.neg, (b,)))
            if _number(b, -1):
                return self.rewrite(Apply(operator.neg, (a,)))
        elif fn is operator.add:
            a, b = args
            if _number(a, 0):
                return b
            if _number(b, 0):
                return a
            if isinstance(b, Apply) and b.fn is operator.neg:
                return Apply(operator.sub, (a, b.args[0]))
        elif fn is operator.sub:
            a, b = args
            if _number(b, 0):
                return a
            if _number(a, 0):
                return self.rewrite(Apply(operator.neg, (b,)))
        elif fn is operator.truediv:
            if _number(args[1], 1):
                return args[0]
        elif fn is operator.pow:
            if _number(args[1], 1):
                return args[0]
        elif fn is operator.neg:
            inner = args[0]
            if isinstance(inner, Apply) and inner.fn is operator.neg:
                return inner.args[0]
        elif fn in (rt.unbroadcast, rt.broadcast_like):
            if self.shapes.same(args[0], args[1]):
                return args[0]
        elif fn is rt.as_grad:
            if scalar(args[1]) == SCALAR and self.is_float(args[1]) and self.is_float(args[0]):
                return args[0]
        elif fn is rt.zeros_grad:
            if args[0] in self.float_params:
                return Const(0.0)
        elif fn is rt.expect_scalar:
            if scalar(args[0]) == SCALAR:
                return Const(None)
        return node

    def implicit_broadcast(self, arg, args):
        """`repeat_to(s, x) * y` is `s * y` when `s` is a scalar and `y` already has the shape of `x`."""
        spread = self.shapes.definitions.get(arg) if isinstance(arg, Var) else arg
        if not isinstance(spread, Apply) or spread.fn not in (rt.repeat_to, rt.broadcast_like):
            return arg
        value, target = spread.args[0], spread.args[1]
        if spread.fn is rt.repeat_to and not (len(spread.args) < 3 or _is_none(spread.args[2])):
            return arg
        if self.shapes.of(value) != SCALAR:
            return arg
        if any(other is not arg and self.shapes.same(other, target) for other in args):
            return value
        return arg

    def is_float(self, expr, depth=0):
        """True if `expr` is known to be a Python float or numpy float (not a bool or an int)."""
        if depth > 50:
            return False
        if isinstance(expr, Const):
            return isinstance(expr.value, float)
        if isinstance(expr, Var):
            if expr in self.float_params:
                return True
            definition = self.shapes.definitions.get(expr)
            return definition is not None and self.is_float(definition, depth + 1)
        if not isinstance(expr, Apply):
            return False
        fn = expr.fn
        if fn is operator.truediv or getattr(fn, "__module__", None) == "math" or fn is rt.log_or_zero:
            return True
        if fn in (operator.add, operator.sub, operator.mul, operator.pow, operator.neg, operator.pos) \
                or (isinstance(fn, np.ufunc) and fn.types[-1][-1] != "?"):
            return any(self.is_float(arg, depth + 1) for arg in expr.args)
        return False


def fold(node):
    """The constant value of an operation on constants, when it is a plain finite number."""
    if not all(isinstance(a, Const) and isinstance(a.value, numbers.Number) for a in node.operands()):
        return None
    fn = node.fn
    module = getattr(fn, "__module__", None)
    if not (fn in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg)
            or isinstance(fn, np.ufunc) or module == "math"):
        return None
    try:
        with np.errstate(all="raise"):
            value = fn(*[a.value for a in node.args], **{k: v.value for k, v in node.kwargs})
    except (ArithmeticError, ValueError, TypeError, FloatingPointError):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return Const(value)
    return None
