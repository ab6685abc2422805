"""Python expressions (gast) to IR expression trees.

The front end uses this on the user's code and the rule table uses it on
derivative templates, so both read Python the same way. Subclasses say how
names resolve and what a call means.
"""
import numbers
import operator

import gast
import numpy as np

from .ir import Apply, Attribute, Const, Expr, Pack, Ref

BINARY = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
    gast.Pow: operator.pow, gast.MatMult: operator.matmul,
    gast.BitAnd: operator.and_, gast.BitOr: operator.or_, gast.BitXor: operator.xor,
    gast.LShift: operator.lshift, gast.RShift: operator.rshift,
}
UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_, gast.Invert: operator.invert}
COMPARE = {
    gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
    gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Is: operator.is_, gast.IsNot: operator.is_not,
    gast.In: operator.contains, gast.NotIn: None,
}


class Static:
    """A value known at compile time that is not data: a module, a function, a class."""

    __slots__ = ("obj", "name")

    def __init__(self, obj, name):
        self.obj, self.name = obj, name


def is_plain_data(obj):
    return obj is None or isinstance(obj, (numbers.Number, str, bytes))


def read_live(value):
    """Is a module global holding `value` read when the code runs (a number or an array), rather
    than taken as it is when compiling (a function, a module, a flag, a string, an object)?"""
    return isinstance(value, (numbers.Number, np.ndarray)) and not isinstance(value, bool)


class ExpressionConverter:
    """Turns one gast expression into an IR tree (or a `Static`)."""

    def name(self, identifier, node):
        raise NotImplementedError

    def call(self, func, args, kwargs, node):
        raise NotImplementedError

    def method_call(self, value, method, args, kwargs, node):
        raise NotImplementedError

    def make(self, fn, args, kwargs, node):
        """The node for `fn(*args, **kwargs)`; the front end overrides this to emit a statement."""
        return Apply(fn, args, kwargs)

    def attribute(self, value, attr, node):
        return self.make(Attribute(attr), (value,), (), node)

    def unsupported(self, node, what):
        raise NotImplementedError

    # -- the conversion --------------------------------------------------

    def convert(self, node):
        handler = getattr(self, "visit_" + type(node).__name__, None)
        if handler is None:
            self.unsupported(node, describe(node))
        return handler(node)

    def operand(self, node):
        """Convert `node` and insist on a value (not a module or a function)."""
        return self.as_operand(self.convert(node), node)

    def as_operand(self, value, node):
        if isinstance(value, Static):
            if is_plain_data(value.obj):
                return Const(value.obj)
            return Ref(value.obj, value.name)
        return value

    def visit_Constant(self, node):
        return Const(node.value)

    def visit_Name(self, node):
        return self.name(node.id, node)

    def visit_Attribute(self, node):
        value = self.convert(node.value)
        if isinstance(value, Static):
            try:
                obj = getattr(value.obj, node.attr)
            except AttributeError:
                self.unsupported(node, f"attribute `{node.attr}`, which `{value.name}` does not have")
            return Static(obj, f"{value.name}.{node.attr}")
        return self.attribute(value, node.attr, node)

    def visit_BinOp(self, node):
        return self.make(BINARY[type(node.op)], (self.operand(node.left), self.operand(node.right)), (), node)

    def visit_UnaryOp(self, node):
        value = self.operand(node.operand)
        fn = UNARY[type(node.op)]
        if fn is operator.neg and isinstance(value, Const) and isinstance(value.value, numbers.Number):
            return Const(-value.value)
        return self.make(fn, (value,), (), node)

    def visit_Compare(self, node):
        if len(node.ops) != 1 or COMPARE[type(node.ops[0])] in (None, operator.contains):
            self.unsupported(node, "this comparison (chained, `in` or `not in`)")
        return self.make(COMPARE[type(node.ops[0])], (self.operand(node.left), self.operand(node.comparators[0])), (), node)

    def visit_Call(self, node):
        if any(isinstance(arg, gast.Starred) for arg in node.args) or any(k.arg is None for k in node.keywords):
            self.unsupported(node, "a call with `*args` or `**kwargs` unpacking")
        args = [self.operand(arg) for arg in node.args]
        kwargs = [(k.arg, self.operand(k.value)) for k in node.keywords]
        if isinstance(node.func, gast.Attribute):
            owner = self.convert(node.func.value)
            if not isinstance(owner, Static):
                return self.method_call(owner, node.func.attr, args, kwargs, node)
        func = self.convert(node.func)
        return self.call(func, args, kwargs, node)

    def visit_Subscript(self, node):
        return self.make(operator.getitem, (self.operand(node.value), self.index(node.slice)), (), node)

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = (node.lower, node.upper, node.step)
            return Pack("slice", [Const(None) if part is None else self.operand(part) for part in parts])
        if isinstance(node, gast.Tuple):
            return Pack("tuple", [self.index(elt) for elt in node.elts])
        return self.operand(node)

    def visit_Tuple(self, node):
        return Pack("tuple", [self.operand(elt) for elt in node.elts])

    def visit_List(self, node):
        return Pack("list", [self.operand(elt) for elt in node.elts])


def describe(node):
    """A short human name for a syntax node, for error messages."""
    names = {
        "IfExp": "a conditional expression (`a if c else b`)", "BoolOp": "`and` / `or`",
        "Lambda": "`lambda`", "ListComp": "a list comprehension", "GeneratorExp": "a generator expression",
        "DictComp": "a dict comprehension", "SetComp": "a set comprehension", "Dict": "a dict literal",
        "Set": "a set literal", "Starred": "`*` unpacking", "Yield": "`yield`", "YieldFrom": "`yield from`",
        "Await": "`await`", "JoinedStr": "an f-string", "NamedExpr": "`:=`",
    }
    return names.get(type(node).__name__, f"`{type(node).__name__}`")


def is_expr(value):
    return isinstance(value, Expr)
