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


class Unbound(Const):
    """What a name holds on a path where it was never assigned (`if c: y = ...` without `else`).

    Python code reads such a name only on paths that assigned it, so the value is never
    used; it is `None` in the generated code.
    """

    __slots__ = ()

    def __init__(self):
        super().__init__(None)

    def __repr__(self):
        return "UNBOUND"


UNBOUND = Unbound()


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


class NamedTupleKind(str):
    """The kind of a `Pack` holding a namedtuple. It equals "tuple", so whatever handles tuples
    (indexing, unpacking, loops, merges) handles it, and it names the namedtuple's class, which
    a Pack rebuilt from its kind (`Pack(pack.kind, items)`) keeps: `p.w` reads the field."""

    def __new__(cls, tuple_class):
        kind = super().__new__(cls, "tuple")
        kind.tuple_class = tuple_class
        return kind


def is_namedtuple_class(cls):
    return isinstance(cls, type) and issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def namedtuple_class(value):
    """The namedtuple class of a compile-time tuple, or None."""
    return getattr(value.kind, "tuple_class", None) if isinstance(value, Pack) else None


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


class Phi:
    """`target` takes one of `values`, depending on how control arrived (SSA's phi node).

    In an `If`: (value at the end of the then-branch, value at the end of the else-branch).
    In a `Loop`'s `carried`: (value before the loop, value at the end of an iteration).
    """

    __slots__ = ("target", "values")

    def __init__(self, target, values):
        self.target, self.values = target, tuple(values)


class If:
    """`if cond: then else: orelse`, then `merges` pick each value that differs between the branches."""

    __slots__ = ("cond", "then", "orelse", "merges", "loc", "tag", "mirror")

    def __init__(self, cond, then, orelse, merges, loc=None, tag=None, mirror=None):
        self.cond, self.then, self.orelse, self.merges, self.loc = cond, then, orelse, merges, loc
        self.tag = tag          # names a forward-sweep region ...
        self.mirror = mirror    # ... that this backward-sweep region replays

    def replace(self, **changes):
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return If(**fields)


class Loop:
    """A `for` loop over `range(*bounds)` with `index`, or a `while` loop whose `test` block computes `cond`.

    A `for` loop may have a `test` and `cond` too (a loop that can `break`): it stops at the
    start of the first trip where `cond` is false. `carried` are the values the loop updates: each header `Phi(h, (init, next))`
    names the value `h` at the start of an iteration. After the loop, each
    `exits` pair `(out, h)` gives `out` the last value of `h`.
    """

    __slots__ = ("kind", "index", "bounds", "test", "cond", "carried", "body", "exits", "loc", "reverse",
                 "tag", "mirror")

    def __init__(self, kind, carried, body, exits, index=None, bounds=(), test=(), cond=None, loc=None,
                 reverse=False, tag=None, mirror=None):
        self.kind, self.carried, self.body, self.exits = kind, carried, body, exits
        self.index, self.bounds, self.test, self.cond, self.loc = index, tuple(bounds), list(test), cond, loc
        self.reverse = reverse  # a `for` loop that runs its range backwards (a backward sweep)
        self.tag, self.mirror = tag, mirror  # as for `If`

    def replace(self, **changes):
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return Loop(**fields)

    def regions(self):
        return (self.test, self.body)


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


def hashable(obj):
    """Can `obj` be looked up in a dict (a callable in a table of operators, say)?"""
    try:
        hash(obj)
        return True
    except TypeError:
        return False


def variables(expr):
    return [node for node in walk(expr) if isinstance(node, Var)]


def statement_expressions(stmt):
    """The expressions a statement evaluates itself (not those of its nested regions)."""
    if isinstance(stmt, Assign):
        return [stmt.expr]
    if isinstance(stmt, Return):
        return [stmt.value]
    if isinstance(stmt, If):
        return [stmt.cond] + [value for merge in stmt.merges for value in merge.values]
    if isinstance(stmt, Loop):
        exprs = list(stmt.bounds) + [value for phi in stmt.carried for value in phi.values]
        return exprs + ([stmt.cond] if stmt.cond is not None else [])
    return []


def statement_uses(stmt):
    """Variables a statement reads directly (not inside its nested regions)."""
    return [v for expr in statement_expressions(stmt) for v in variables(expr)]


def statement_defines(stmt):
    """Variables a statement defines directly (not inside its nested regions)."""
    if isinstance(stmt, Assign):
        return [stmt.target] if stmt.target is not None else []
    if isinstance(stmt, If):
        return [m.target for m in stmt.merges]
    if isinstance(stmt, Loop):
        index = [stmt.index] if stmt.index is not None else []
        return index + [phi.target for phi in stmt.carried] + [out for out, _ in stmt.exits]
    return []


def regions(stmt):
    """The statement lists nested in a statement."""
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    if isinstance(stmt, Loop):
        return stmt.regions()
    return ()


def map_expressions(body, rewrite):
    """A copy of `body` (nested regions included) with `rewrite` applied to every expression."""
    out = []
    for stmt in body:
        if isinstance(stmt, Assign):
            out.append(Assign(stmt.target, rewrite(stmt.expr), stmt.loc))
        elif isinstance(stmt, Return):
            out.append(Return(rewrite(stmt.value), stmt.loc))
        elif isinstance(stmt, If):
            merges = [Phi(m.target, [rewrite(v) for v in m.values]) for m in stmt.merges]
            out.append(stmt.replace(cond=rewrite(stmt.cond), then=map_expressions(stmt.then, rewrite),
                                    orelse=map_expressions(stmt.orelse, rewrite), merges=merges))
        elif isinstance(stmt, Loop):
            out.append(stmt.replace(
                bounds=tuple(rewrite(b) for b in stmt.bounds),
                carried=[Phi(phi.target, [rewrite(v) for v in phi.values]) for phi in stmt.carried],
                test=map_expressions(stmt.test, rewrite),
                cond=None if stmt.cond is None else rewrite(stmt.cond),
                body=map_expressions(stmt.body, rewrite),
                exits=[(out_var, rewrite(header)) for out_var, header in stmt.exits]))
        else:
            out.append(stmt)
    return out


def substitute(expr, mapping):
    """`expr` with variables replaced as `mapping` says."""
    if isinstance(expr, Var):
        return mapping.get(expr, expr)
    if isinstance(expr, Apply):
        return Apply(expr.fn, [substitute(a, mapping) for a in expr.args],
                     [(k, substitute(v, mapping)) for k, v in expr.kwargs])
    if isinstance(expr, Pack):
        return Pack(expr.kind, [substitute(item, mapping) for item in expr.items])
    return expr


def defined_in(body):
    """Every variable defined anywhere in `body`."""
    return {var for stmt in all_statements(body) for var in statement_defines(stmt)}


def all_statements(body):
    """Every statement of a body, nested ones included, in program order."""
    for stmt in body:
        yield stmt
        for region in regions(stmt):
            yield from all_statements(region)


# -- how operations read ----------------------------------------------------

INFIX = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
    operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=",
    operator.eq: "==", operator.ne: "!=",
}
PREFIX = {operator.neg: "-", operator.pos: "+", operator.not_: "not ", operator.invert: "~"}
