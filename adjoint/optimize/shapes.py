"""Shape classes: which values provably have the same shape.

Each value gets a class: `SCALAR` (shape `()`), or a token shared by values of
one shape. Elementwise operations keep the class of their non-scalar operands,
derivatives share the class of their primal, and anything unknown is a class
of its own. The simplifier uses this to drop `unbroadcast` and friends where
shapes already agree: that is what keeps scalar gradient code free of helper
calls.
"""
import builtins
import numbers
import operator

import numpy as np

from .. import runtime as rt
from ..ir import Apply, Assign, Attribute, Const, Global, If, Loop, Pack, Unbound, Var, hashable
from ..rules import rule_for

SCALAR = "scalar"
_PENDING = "pending"  # a value first assigned in a loop, while the loop's classes are being worked out

# operations without derivative rules whose result is shaped like a broadcast of their operands
_ELEMENTWISE_NONDIFF = {operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
                        operator.floordiv, np.sign, np.floor, np.ceil, np.round, np.floor_divide}

# functions whose result has the shape of their first argument (unless given a shape)
_LIKE_FIRST = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}

# functions whose result is always a Python number
_SCALAR_BUILTINS = (builtins.float, builtins.int, builtins.len, builtins.bool)


# What helpers (and attributes) read of some of their arguments: positions where they read the shape
# and, for a number they spread, whether the dtype is float (`runtime._weak`); and positions where they
# read the shape and the exact dtype (or whether it holds integers). A value read only so can be
# recorded (record.py), computed (shapeonly.py) or stood in for (simplify.py) by a `runtime.Shape`, or
# for shape reads by another value of its shape class.
_READS_SHAPE = {Attribute("shape"): {0}, Attribute("ndim"): {0}, Attribute("size"): {0}, np.shape: {0},
                np.ndim: {0}, np.size: {0}, rt.shape_only: {0}, rt.expect_scalar: {0}, rt.zeros_grad: {0},
                rt.unbroadcast: {1}, rt.broadcast_like: {1}, rt.repeat_to: {1}, rt.unindex: {1},
                rt.matmul_vjp_left: {1}, rt.matmul_vjp_right: {2}, rt.dot_vjp_left: {1}, rt.dot_vjp_right: {2},
                rt.to_columns: {1, 2}, rt.from_columns: {1, 2}, rt.matmul_shape: {0, 1}, rt.broadcast_shape: "all"}
_READS_DTYPE = {Attribute("dtype"): {0}, rt.as_grad: {1}, rt.cast_like: {1}, rt.sum_cotangent: {1},
                rt.item_tangent: {1}, rt.cross_cotangent: {2}, rt.item_cotangent: {2}, rt.kept_writes: {2}}


def shape_reads(node, exact_dtype):
    """The positions of the call `node`'s arguments of which it reads only the shape (and the exact
    dtype, where something reading them gives it: `exact_dtype`)."""
    fn = node.fn
    positions = None
    if hashable(fn):
        positions = _READS_SHAPE.get(fn) or (_READS_DTYPE.get(fn) if exact_dtype else None)
    if positions == "all":
        return set(range(len(node.args)))
    return positions or set()


class ShapeClasses:
    def __init__(self, function, scalar_params):
        self.classes = {}
        self.definitions = {}
        for param in function.params:
            self.classes[param] = SCALAR if param in scalar_params else param
        self.visit(function.body)

    def visit(self, body):
        for stmt in body:
            if isinstance(stmt, Assign) and stmt.target is not None:
                self.assign(stmt.target, stmt.expr)
            elif isinstance(stmt, If):
                self.visit(stmt.then)
                self.visit(stmt.orelse)
                for merge in stmt.merges:
                    self.merge(merge.target, merge.values)
            elif isinstance(stmt, Loop):
                self.loop(stmt)

    def merge(self, target, values):
        if target.of is not None:
            self.classes[target] = self.of_derivative(target, values)
            return
        # a path where the name is unbound never reads it: its shape does not matter
        classes = {self.of(value) for value in values if not isinstance(value, Unbound)}
        if len(classes) > 1:
            classes.discard(_PENDING)
        self.classes[target] = classes.pop() if len(classes) == 1 and None not in classes else target

    def loop(self, loop):
        """Assume each carried value keeps the shape it enters with; where an iteration changes it,
        give it a class of its own and look at the body again. A value first assigned in the loop
        enters with none: guess the shape it is given, and keep the guess if an iteration does."""
        if loop.index is not None:
            self.classes[loop.index] = SCALAR
        for phi in loop.carried:
            self.merge(phi.target, phi.values[:1])
        guessing = {phi.target for phi in loop.carried if isinstance(phi.values[0], Unbound)}
        for header in guessing:
            self.classes[header] = _PENDING
        changed = True
        while changed:  # each header changes class at most twice: to a guess, then to its own
            self.visit(loop.test)
            self.visit(loop.body)
            changed = False
            for phi in loop.carried:
                header, now = phi.target, self.of(phi.values[1])
                if self.follows_primal(header) or now == self.classes[header] and now is not _PENDING:
                    continue
                if header in guessing and now is not None and now is not _PENDING:
                    self.classes[header] = now
                elif self.classes[header] is not header:
                    self.classes[header] = header
                else:
                    continue
                guessing.discard(header)
                changed = True
        for out, header in loop.exits:
            self.classes[out] = self.of(header)

    def assign(self, target, expr):
        self.definitions[target] = expr
        if target.of is not None:
            self.classes[target] = self.of_derivative(target, [expr])
        else:
            cls = self.of(expr)
            self.classes[target] = target if cls is None else cls

    def follows_primal(self, var):
        """A derivative of a value known here has that value's shape."""
        return var.of is not None and var.of in self.classes

    def of_derivative(self, target, values):
        """A derivative has its primal's shape; where the primal is known nowhere (dead code removed
        it), a derivative whose values are all scalars is one (a loop checks that it stays one)."""
        if not self.follows_primal(target) \
                and all(self.of(value) == SCALAR for value in values if not isinstance(value, Unbound)):
            return SCALAR
        return self.of(target.of)

    def of(self, expr):
        """The class of an expression, or None if nothing is known."""
        if isinstance(expr, Var):
            return self.classes.get(expr, expr)
        if isinstance(expr, Const):
            return SCALAR if isinstance(expr.value, numbers.Number) else None
        if isinstance(expr, Global):
            return SCALAR if isinstance(expr.value, numbers.Number) else None
        if isinstance(expr, Apply):
            return self.of_apply(expr)
        return None

    def of_apply(self, expr):
        fn = expr.fn
        if getattr(fn, "__module__", None) == "math" or fn in _SCALAR_BUILTINS:
            return SCALAR
        try:
            if fn in _ELEMENTWISE_NONDIFF:
                return self.broadcast(expr.args)
            if fn in _LIKE_FIRST:
                position = 5 if fn is np.full_like else 4  # where `shape` goes when passed by position
                given_shape = len(expr.args) > position or any(name == "shape" for name, _ in expr.kwargs)
                return None if given_shape or not expr.args else self.of(expr.args[0])
        except TypeError:
            return None
        if isinstance(fn, Attribute) and fn.name in ("ndim", "size"):
            return SCALAR
        if fn is np.einsum and expr.args and isinstance(expr.args[0], Const) and isinstance(expr.args[0].value, str) \
                and expr.args[0].value.replace(" ", "").endswith("->"):
            return SCALAR  # `np.einsum("ij,ij->", a, b)`: an explicit output without subscripts
        if fn is operator.getitem:
            base = self.definitions.get(expr.args[0], expr.args[0])
            if isinstance(base, Apply) and isinstance(base.fn, Attribute) and base.fn.name == "shape" \
                    and isinstance(expr.args[1], Const) and type(expr.args[1].value) is int:
                return SCALAR  # `x.shape[0]`
            return self.trimmed(expr.args[0], expr.args[1])
        rule = rule_for(fn)
        if rule is None:
            return None
        if rule.out == "scalar":
            return SCALAR
        bound = rule.bind(expr.args, expr.kwargs)
        if bound is None:
            return None
        if rule.out == "elementwise":
            return self.broadcast([bound[p.name] for p in rule.params])
        if rule.out == "reduce":
            axis, keepdims = bound["axis"], bound["keepdims"]
            if _is_const(axis, None) and _is_const(keepdims, False):
                return SCALAR
            return None
        if rule.out.startswith("like:"):
            return self.of(bound[rule.out[5:]])
        return None

    def trimmed(self, base, index):
        """`x[1:]` and `x[:-1]` have one shape, whatever the length n of x: both drop one element
        (n - 1, or 0 when n < 1). A slice of the first axis with step 1 that drops `a` elements at
        the start and `b` at the end has the class ("trim", class of x, a + b)."""
        cls = self.of(base)
        if isinstance(index, Pack) and index.kind == "slice" and all(isinstance(i, Const) for i in index.items):
            index = Const(slice(*(i.value for i in index.items)))
        if cls is None or cls == SCALAR or cls is _PENDING or not isinstance(index, Const):
            return None
        dropped = _dropped(index.value)
        if dropped is None:
            return None
        return cls if dropped == 0 else ("trim", cls, dropped)

    def broadcast(self, operands):
        shaped, pending = set(), False
        for operand in operands:
            cls = self.of(operand)
            if cls is None:
                return None
            if cls is _PENDING:
                pending = True
            elif cls != SCALAR:
                shaped.add(cls)
        if not shaped:
            return _PENDING if pending else SCALAR
        return shaped.pop() if len(shaped) == 1 else None

    def same(self, a, b):
        cls = self.of(a)
        return cls is not None and cls == self.of(b)


def _dropped(index):
    """How many elements the slice `index` drops from the first axis, if it is `start:stop` with
    a start of 0 or more and a stop below 0 (or left out); None for any other index."""
    if not isinstance(index, slice) or index.step not in (None, 1):
        return None
    start, stop = index.start, index.stop
    if not (start is None or type(start) is int and start >= 0) or not (stop is None or type(stop) is int and stop < 0):
        return None
    return (start or 0) + (-stop if stop is not None else 0)


def _is_const(expr, value):
    return isinstance(expr, Const) and expr.value is value


def may_be_arrays(function, scalar_params):
    """The values of `function` that may be arrays: not known to be scalars, not built as a list or
    tuple (a tape is empty once the backward sweep has read it)."""
    shapes = ShapeClasses(function, set(scalar_params))
    return {var for var, shape_class in shapes.classes.items()
            if shape_class != SCALAR and not isinstance(shapes.definitions.get(var), Pack)}
