"""Algebraic simplification and constant folding on expression trees.

Rules are instantiated generically (`g * partial`, `unbroadcast(c, x)`); this
pass rewrites what the instance makes redundant: products with one, sums with
zero, helpers whose work shape classes prove unnecessary, and operations on
constants.
"""
import builtins
import math
import numbers
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Apply, Assign, Const, Global, If, Loop, Pack, Phi, Ref, Return, Var
from ..rules import rule_for
from .shapes import SCALAR, ShapeClasses, shape_reads

_FOLDABLE_MODULES = (math, np)


def simplify(function, scalar_params=(), float_params=(), final=True):
    """One pass over `function`. Only a `final` pass drops `as_grad`: it relies on the types of
    expressions, which later rewrites could change (`1.0 * k` -> `k` makes a float an int)."""
    shapes = ShapeClasses(function, set(scalar_params))
    rewriter = Rewriter(shapes, set(float_params), final, set(function.params))
    function.body = rewriter.block(function.body)
    return function


def _is_none(expr):
    return isinstance(expr, Const) and expr.value is None


def _number_is(expr, value):
    return isinstance(expr, Const) and expr.value is value


def _plain_number(expr):
    """A constant number (not a boolean, which numpy treats apart)."""
    return isinstance(expr, Const) and isinstance(expr.value, numbers.Number) and not isinstance(expr.value, bool)


def _number(expr, *values):
    return _plain_number(expr) and expr.value in values


def _negative(expr):
    return _plain_number(expr) and expr.value < 0


class Rewriter:
    def __init__(self, shapes, float_params, final=True, params=()):
        self.shapes = shapes
        self.float_params = float_params
        self.final = final
        self.params = params
        self.types = {}  # Var -> python_type: definitions form a DAG, so remember what was worked out

    def block(self, statements):
        """The statements with every expression rewritten, nested regions included."""
        body = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                expr = self.expr(stmt.expr)
                if stmt.target is None and not isinstance(expr, Apply):
                    continue
                body.append(Assign(stmt.target, expr, stmt.loc))
                if stmt.target is not None:
                    self.shapes.definitions[stmt.target] = expr
            elif isinstance(stmt, Return):
                body.append(Return(self.expr(stmt.value), stmt.loc))
            elif isinstance(stmt, If):
                merges = [Phi(m.target, [self.expr(v) for v in m.values]) for m in stmt.merges]
                body.append(stmt.replace(cond=self.expr(stmt.cond), then=self.block(stmt.then),
                                         orelse=self.block(stmt.orelse), merges=merges))
            elif isinstance(stmt, Loop):
                body.append(stmt.replace(
                    bounds=tuple(self.expr(b) for b in stmt.bounds), test=self.block(stmt.test),
                    cond=None if stmt.cond is None else self.expr(stmt.cond), body=self.block(stmt.body),
                    carried=[Phi(phi.target, [self.expr(v) for v in phi.values]) for phi in stmt.carried]))
        return body

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
        positions = shape_reads(node, exact_dtype=False)  # (a stand-in of its shape class may differ in dtype)
        if positions and not node.kwargs:
            args = tuple(self.shape_donor(a) if i in positions else a for i, a in enumerate(args))
            node = Apply(fn, args)
        if fn in (operator.mul, operator.add, operator.sub, operator.truediv):
            args = list(args)
            for i, arg in enumerate(args):  # one at a time: the other operand must keep the shape
                args[i] = self.implicit_broadcast(arg, args)
            node = Apply(fn, args)
        if fn is operator.mul:
            a, b = args
            # identities keep booleans as numbers: for numpy `True + True` is True and `-True` an error
            if _number(a, 1) and not self.is_boolean(b):
                return b
            if _number(b, 1) and not self.is_boolean(a):
                return a
            if (_number(a, 0) and scalar(b) == SCALAR) or (_number(b, 0) and scalar(a) == SCALAR):
                return Const(0.0)
            scaled = self.scaled_spread(a, b) or self.scaled_spread(b, a)
            if scaled is not None:
                return scaled
            folded = self.constant_factors(a, b) or self.constant_factors(b, a) or self.factors_of_both(a, b)
            if folded is not None:
                return folded
            for signed, other in ((a, b), (b, a)):  # `-y * c` is `y * -c`: one pass, not two
                signed = self.defined_as(signed)
                if _plain_number(other) and isinstance(signed, Apply) and signed.fn is operator.neg \
                        and not self.is_boolean(signed.args[0]):
                    return Apply(operator.mul, (signed.args[0], Const(-other.value)))
            if _number(a, -1) and not self.is_boolean(b):
                return self.rewrite(Apply(operator.neg, (b,)))
            if _number(b, -1) and not self.is_boolean(a):
                return self.rewrite(Apply(operator.neg, (a,)))
        elif fn is operator.add:
            a, b = args
            pushed = self.pushed_cotangent(a, b) or self.pushed_cotangent(b, a)
            if pushed is not None:
                return pushed
            if _number(a, 0) and not self.is_boolean(b):
                return b
            if _number(b, 0) and not self.is_boolean(a):
                return a
            if isinstance(b, Apply) and b.fn is operator.neg:
                return Apply(operator.sub, (a, b.args[0]))
            if isinstance(b, Apply) and b.fn is operator.mul and _negative(b.args[0]):
                return Apply(operator.sub, (a, self.rewrite(Apply(operator.mul, (Const(-b.args[0].value), b.args[1])))))
        elif fn is operator.sub:
            a, b = args
            if _number(b, 0) and not self.is_boolean(a):
                return a
            if _number(a, 0) and not self.is_boolean(b):
                return self.rewrite(Apply(operator.neg, (b,)))
        elif fn is operator.truediv:
            if _number(args[1], 1) and not self.is_boolean(args[0]):
                return args[0]
            squared = self.reciprocal_squared(*args)
            if squared is not None:
                return squared
        elif fn is operator.pow:
            if _number(args[1], 1) and not self.is_boolean(args[0]):
                return args[0]
        elif fn is rt.power_slope and all(_plain_number(a) for a in args[1:]) and not node.kwargs \
                and not self.is_boolean(args[0]):
            return self.known_power_slope(args[0], args[1].value, args[2].value if len(args) > 2 else 1)
        elif fn is rt.falling_slope and _number(args[1], 1, 2):  # 1 and 2y - 1, differentiable as they are
            if args[1].value == 1:
                return Const(1)
            return Apply(operator.sub, (Apply(operator.mul, (Const(2), args[0])), Const(1)))
        elif fn is operator.neg:
            inner = args[0]
            if isinstance(inner, Apply) and inner.fn is operator.neg:
                return inner.args[0]
            factor = self.factor_of(inner)
            if factor is not None:  # `-(2 * x)` is `-2 * x`: one operation on arrays, not two
                return self.rewrite(Apply(operator.mul, (Const(-factor[0].value), factor[1])))
        elif fn in (rt.unbroadcast, rt.broadcast_like):
            if self.shapes.same(args[0], args[1]):
                return args[0]
            if fn is rt.unbroadcast:
                factor = self.spread_factor(args[0], args[1])
                if factor is not None:
                    return self.rewrite(Apply(rt.unbroadcast, (factor, args[1])))
        elif fn is rt.repeat_to and not node.kwargs:
            # a scalar spread over a value, then spread on over `x`: the scalar spread over `x`
            spread = self.scalar_spread(args[0])
            if spread is not None:
                return Apply(rt.repeat_to, (spread.args[0], args[1]))
        elif fn is rt.as_grad:
            like = self.defined_as(args[1])
            if isinstance(like, Apply) and like.fn is rt.as_grad:  # `as_grad(d, as_grad(g, x))`: typed like x
                return self.rewrite(Apply(rt.as_grad, (args[0], like.args[1])))
            if self.final and scalar(args[1]) == SCALAR and self.python_type(args[1]) is float \
                    and self.python_type(args[0]) is float:
                return args[0]
            if self.final and scalar(args[1]) != SCALAR and self.may_be_outside_array(args[0]):
                # as_grad hands back an array it is given as is: never one the caller owns
                return Apply(rt.as_grad, (Apply(np.copy, (args[0],)), args[1]))
        elif fn is rt.zeros_grad:
            if args[0] in self.float_params or (isinstance(args[0], Const) and type(args[0].value) in (float, int)) \
                    or _is_none(args[0]):  # the runtime's zero for a value not assigned on a path
                return Const(0.0)
        elif fn is np.size and len(args) == 1 and not node.kwargs and scalar(args[0]) == SCALAR:
            return Const(1)  # (`np.mean`'s rule divides by `np.size(ans)`)
        elif fn is rt.expect_scalar:
            if scalar(args[0]) == SCALAR:
                return Const(None)
        elif fn is rt.as_seed:
            if scalar(args[0]) == SCALAR and scalar(args[1]) == SCALAR:  # a number for a number
                return args[0]
        return node

    def known_power_slope(self, x, n, k):
        """`power_slope(x, n, k)` for numbers n and k, as plain arithmetic: `c * x ** (n - k)`, with the
        constant it ends at (c, or 0) a constant."""
        factor = rt.falling_factorial(n, k)
        if factor == 0:
            return Const(0.0) if self.shapes.of(x) == SCALAR else Apply(rt.zeros_grad, (x,))
        if n == k:
            return Const(float(factor)) if self.shapes.of(x) == SCALAR \
                else Apply(rt.broadcast_like, (Const(float(factor)), x))
        return self.rewrite(Apply(operator.mul, (Const(factor), self.rewrite(Apply(operator.pow, (x, Const(n - k)))))))

    def pushed_cotangent(self, rest, last):
        """`without_last_cotangent(g, xs) + last_cotangent(h, xs)` (the cotangent of a list a loop pops,
        in a backward sweep differentiated again) is `pushed_cotangent(g, h, xs)`: one row written a
        trip, not two stacks of zeros and their sum."""
        rest, last = self.defined_as(rest), self.defined_as(last)
        if isinstance(rest, Apply) and rest.fn is rt.without_last_cotangent and not rest.kwargs \
                and isinstance(last, Apply) and last.fn is rt.last_cotangent and not last.kwargs \
                and rest.args[1] is last.args[1]:
            return Apply(rt.pushed_cotangent, (rest.args[0], last.args[0], rest.args[1]))
        return None

    def reciprocal_squared(self, numerator, y):
        """`r / y` (or `-r / y`) for `r = 1 / y` is `r * r`: the gradient of `1 / y` costs a product,
        not a second division (slower for floats and arrays alike). Rounds like it, within an ulp."""
        negated = self.defined_as(numerator)
        sign = isinstance(negated, Apply) and negated.fn is operator.neg
        r = negated.args[0] if sign else numerator
        definition = self.defined_as(r)
        if not (isinstance(r, Var) and isinstance(definition, Apply) and definition.fn is operator.truediv
                and _number(definition.args[0], 1) and definition.args[1] == y and isinstance(y, Var)):
            return None
        square = Apply(operator.mul, (r, r))
        return Apply(operator.neg, (square,)) if sign else square

    def factor_of(self, expr):
        """(c, y) if `expr` is `c * y` or `y * c` for a number c (not a boolean), else None."""
        # (through a variable too: if it is read elsewhere, it costs one product there and here as before)
        expr = self.defined_as(expr)
        if not (isinstance(expr, Apply) and expr.fn is operator.mul and not expr.kwargs):
            return None
        a, b = expr.args
        if _plain_number(a):
            return a, b
        if _plain_number(b):
            return b, a
        return None

    def constant_factors(self, constant, other):
        """`c1 * (c2 * y)` is `(c1 * c2) * y`, folded once instead of two passes over an array."""
        if not _plain_number(constant):
            return None
        factor = self.factor_of(other)
        if factor is None:
            return None
        return Apply(operator.mul, (Const(constant.value * factor[0].value), factor[1]))

    def factors_of_both(self, a, b):
        """`(c1 * y1) * (c2 * y2)` is `(c1 * c2 * y1) * y2`: the constants meet, one pass fewer."""
        first, second = self.factor_of(a), self.factor_of(b)
        if first is None or second is None:
            return None
        return Apply(operator.mul, (Apply(operator.mul, (Const(first[0].value * second[0].value), first[1])),
                                    second[1]))

    def scaled_spread(self, spread, factor):
        """`repeat_to(s, x) * c` is `repeat_to(s * c, x)` for scalars s and c: the scalar product
        is formed once, and it can meet the next operand's shape (`implicit_broadcast`)."""
        if not isinstance(factor, Const) or self.shapes.of(factor) != SCALAR or self.is_boolean(factor):
            return None
        definition = self.scalar_spread(spread)
        if definition is None or not isinstance(definition.args[0], Const):
            return None
        product = Const(definition.args[0].value * factor.value)
        return Apply(rt.repeat_to, (product,) + tuple(definition.args[1:]))

    def shape_donor(self, expr):
        """A parameter that provably has the shape of `expr`, where a helper reads only that (and the
        float dtype, for a number it spreads): then `expr` need not be at hand there, and a value
        read once more, only for its shape, can be written into its one other reader (or dropped)."""
        if isinstance(expr, Var) and expr not in self.params:
            cls = self.shapes.of(expr)
            if isinstance(cls, Var) and cls in self.params:
                return cls
        return expr

    def spread_factor(self, g, z):
        """`unbroadcast(repeat_to(s, x) * y, z)` is `unbroadcast(s * y, z)` when `x` is values shaped
        like `z` or `y` broadcast together, and numbers (`x = z * y`: the gradient of `np.sum(z * y)`):
        then `y` spans every axis along which `x` is longer than `z`, so summing `s * y` down to `z`'s
        shape adds what summing it spread over `x` adds, and `x` itself (a full product) is not needed."""
        product = self.defined_as(g)
        if not (isinstance(product, Apply) and product.fn is operator.mul and not product.kwargs):
            return None
        for spread, factor in (product.args, product.args[::-1]):
            definition = self.scalar_spread(spread)
            if definition is None:
                continue
            combined = self.defined_as(definition.args[1])
            rule = rule_for(combined.fn) if isinstance(combined, Apply) else None
            if rule is None or not rule.elementwise or rule.out != "elementwise":
                continue
            if all(self.shapes.of(o) == SCALAR or any(o is v or self.shapes.same(o, v) for v in (z, factor))
                   for o in combined.operands()):
                return self.rewrite(Apply(operator.mul, (definition.args[0], factor)))
        return None

    def scalar_spread(self, expr):
        """The `repeat_to(s, x)` (no axis, no keepdims) that `expr` is, for a scalar s; else None."""
        spread = self.defined_as(expr)
        if isinstance(spread, Apply) and spread.fn is rt.repeat_to and not spread.kwargs \
                and all(_is_none(a) or _number_is(a, False) for a in spread.args[2:]) \
                and self.shapes.of(spread.args[0]) == SCALAR:
            return spread
        return None

    def defined_as(self, expr):
        """The expression a variable is defined as (one step), or `expr` itself."""
        return self.shapes.definitions.get(expr, expr) if isinstance(expr, Var) else expr

    def implicit_broadcast(self, arg, args):
        """`repeat_to(s, x) * y` is `s * y` when `s` is a scalar and `y` already has the shape of `x`."""
        spread = self.defined_as(arg)
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

    def definition(self, expr):
        """The expression `expr` stands for: a variable's definition, or `expr` itself."""
        for _ in range(50):
            if not isinstance(expr, Var):
                return expr
            if expr in self.float_params:
                return expr
            definition = self.shapes.definitions.get(expr)
            if definition is None:
                return expr
            expr = definition
        return None

    def python_type(self, expr, depth=0):
        """`float`, `int` or `bool` if `expr` is known to be a Python number of that type, else None.

        numpy scalars do not count: `np.sin(0.5)` is a `np.float64`, which `as_grad` turns into a float.
        """
        if not isinstance(expr, Var):
            return self.type_of_expression(expr, depth)
        if expr not in self.types:
            self.types[expr] = None  # (a cycle through a loop's phis finds "unknown")
            self.types[expr] = self.type_of_expression(expr, depth)
        return self.types[expr]

    def type_of_expression(self, expr, depth):
        expr = self.definition(expr)
        if depth > 50 or expr is None:
            return None
        if isinstance(expr, Var):
            return float if expr in self.float_params else None
        if isinstance(expr, Const):
            return type(expr.value) if type(expr.value) in (float, int, bool) else None
        if not isinstance(expr, Apply):
            return None
        fn = expr.fn
        if _member(fn, _PYTHON_FLOAT_RESULT) or (getattr(fn, "__module__", None) == "math" and rule_for(fn) is not None):
            return float
        types = [self.python_type(arg, depth + 1) for arg in expr.operands()]
        if None in types:
            return None
        if _member(fn, _COMPARISONS):
            return bool
        if _member(fn, _PYTHON_INT_RESULT):
            return int
        if fn is operator.truediv:
            return float
        if fn is rt.log_or_zero:
            return float
        if fn is rt.power_slope:
            return float if float in types else None
        if _member(fn, _PYTHON_ARITHMETIC):
            if float in types:
                return float
            return None if fn is operator.pow else int
        if _member(fn, _PYTHON_SAME_TYPE) and len(set(types)) == 1:
            return types[0] if types[0] in (float, int) else None
        return None

    def may_be_outside_array(self, expr):
        """True if `expr` may be an array the generated code did not create (an argument, a global,
        a closure value): the value itself, or passed through a helper that returns it unchanged."""
        for _ in range(50):
            if isinstance(expr, Var):
                if expr in self.params:
                    return True
                expr = self.shapes.definitions.get(expr)
            elif isinstance(expr, Apply) and expr.fn in _PASS_THROUGH:
                expr = expr.args[0]
            else:
                return isinstance(expr, (Global, Ref)) or (isinstance(expr, Const) and isinstance(expr.value, np.ndarray))
        return True

    def is_boolean(self, expr):
        """True if `expr` may be a boolean (a comparison), whose arithmetic numpy does not define."""
        expr = self.definition(expr)
        if not isinstance(expr, Apply):
            return isinstance(expr, Const) and isinstance(expr.value, (bool, np.bool_))
        fn = expr.fn
        if _member(fn, _COMPARISONS) or (isinstance(fn, np.ufunc) and fn.types[-1][-1] == "?"):
            return True
        return _member(fn, (operator.and_, operator.or_, operator.xor, operator.invert))


# helpers that may return their first argument itself
_PASS_THROUGH = (rt.unbroadcast, rt.broadcast_like, rt.cast_like, rt.as_grad, np.asarray)
_COMPARISONS = {operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne, operator.not_}
_PYTHON_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.pow, operator.neg, operator.pos,
                      operator.mod, operator.floordiv}
_PYTHON_FLOAT_RESULT = {builtins.float}
_PYTHON_INT_RESULT = {math.floor, math.ceil, math.trunc, builtins.int, builtins.round, builtins.len}
_PYTHON_SAME_TYPE = {builtins.abs, builtins.max, builtins.min}  # of operands that share one type


def _member(fn, table):
    try:
        return fn in table
    except TypeError:  # unhashable callables are in no table
        return False


def fold(node):
    """The constant value of an operation on constants, when it is a plain finite number."""
    if not all(isinstance(a, Const) and isinstance(a.value, numbers.Number) for a in node.operands()):
        return None
    fn = node.fn
    module = getattr(fn, "__module__", None)
    if not (fn in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg)
            or isinstance(fn, np.ufunc) or module == "math" or fn is rt.log_or_zero):
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
