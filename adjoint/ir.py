"""The SSA intermediate representation.

Expressions are trees whose leaves are SSA variables (`Var`), literals (`Const`),
live reads of the user's module globals (`Global`) and objects bound when the
code is compiled (`Ref`: numpy, a runtime helper, a closure value). Every
operation is an `Apply` of a Python callable; the code generator decides how it
reads (`a + b`, `x[i]`, `np.sin(x)`).

Statements assign an expression to a fresh `Var` exactly once. The lowered
primal function is in three-address form; derivative code may nest expressions
so that a rule reads like the formula it implements.
"""
import itertools
import operator

_ids = itertools.count()


class Expr:
    __slots__ = ()


class Var(Expr):
    """An SSA value.

    `hint` is the name the user would give it. A derivative value instead names
    its primal: `of` is the primal `Var` and `prefix` says which derivative
    (`grad_x`, `d_x`); it always has the primal's shape.
    """

    __slots__ = ("hint", "id", "of", "prefix")

    def __init__(self, hint, of=None, prefix=None):
        self.hint = hint
        self.id = next(_ids)
        self.of = of
        self.prefix = prefix

    def __repr__(self):
        return f"Var({self.hint}#{self.id})"


class Const(Expr):
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"Const({self.value!r})"


class Global(Expr):
    """A name read from the user's module globals each time the code runs."""

    __slots__ = ("name", "value")

    def __init__(self, name, value):
        self.name, self.value = name, value


class Ref(Expr):
    """An object fixed at compile time and bound to a name in the generated code."""

    __slots__ = ("obj", "hint")

    def __init__(self, obj, hint):
        self.obj, self.hint = obj, hint


class Apply(Expr):
    """`fn(*args, **kwargs)` where `fn` is the callable the user's code resolves to."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn, args, kwargs=()):
        self.fn, self.args, self.kwargs = fn, tuple(args), tuple(kwargs)

    def operands(self):
        return self.args + tuple(value for _, value in self.kwargs)


class Pack(Expr):
    """A tuple, list or slice built from expressions (`(a, b)`, `[a, b]`, `1:n:2`)."""

    __slots__ = ("kind", "items")

    def __init__(self, kind, items):
        self.kind, self.items = kind, tuple(items)


class Attribute:
    """The operation `value.name` (`x.shape`, `x.T`)."""

    _interned = {}

    def __new__(cls, name):
        if name not in cls._interned:
            self = super().__new__(cls)
            self.name = name
            cls._interned[name] = self
        return cls._interned[name]

    def __call__(self, value):
        return getattr(value, self.name)

    def __repr__(self):
        return f"attribute {self.name!r}"


class Method:
    """The operation `value.name(*args)` for methods kept as methods (`x.astype(t)`)."""

    _interned = {}

    def __new__(cls, name):
        if name not in cls._interned:
            self = super().__new__(cls)
            self.name = name
            cls._interned[name] = self
        return cls._interned[name]

    def __call__(self, value, *args, **kwargs):
        return getattr(value, self.name)(*args, **kwargs)

    def __repr__(self):
        return f"method {self.name!r}"


# -- statements --------------------------------------------------------------

class Assign:
    """`target = expr` (`target` None: evaluate for effect). `loc` is the user's source location."""

    __slots__ = ("target", "expr", "loc")

    def __init__(self, target, expr, loc=None):
        self.target, self.expr, self.loc = target, expr, loc


class Return:
    __slots__ = ("value", "loc")

    def __init__(self, value, loc=None):
        self.value, self.loc = value, loc


class Function:
    """A lowered function: parameters, a body of statements, one `Return` at the end."""

    def __init__(self, name, params, body, source, defaults=()):
        self.name = name
        self.params = params
        self.body = body
        self.source = source
        self.defaults = defaults

    @property
    def result(self):
        return self.body[-1].value


# -- traversal ---------------------------------------------------------------

def children(expr):
    if isinstance(expr, Apply):
        return expr.operands()
    if isinstance(expr, Pack):
        return expr.items
    return ()


def walk(expr):
    """Every node of an expression tree, parents before children."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def variables(expr):
    return [node for node in walk(expr) if isinstance(node, Var)]


def statement_uses(stmt):
    expr = stmt.expr if isinstance(stmt, Assign) else stmt.value
    return variables(expr)


# -- how operations read ----------------------------------------------------

INFIX = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
    operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=",
    operator.eq: "==", operator.ne: "!=",
}
PREFIX = {operator.neg: "-", operator.pos: "+", operator.not_: "not ", operator.invert: "~"}
