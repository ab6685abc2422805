"""Code generation: IR -> Python AST -> source (astor) -> a compiled function.

Names are chosen here. User parameters keep their names; every other value is
named after its hint (`grad_x`, `d_x`, `z`) and versions of one name share it
whenever the older one is dead, so straight-line code reads `x = x + 1` rather
than `x_1 = x + 1`. Names never collide with anything the user's code can see.

The source is compiled under a unique file name registered in `linecache`, as
the body of a factory whose parameters are the objects the code refers to
(numpy, runtime helpers), so those become closure cells while the user's
module globals stay live.
"""
import ast
import builtins
import itertools
import keyword
import math
import re
import types
import warnings
from collections import Counter

import astor
import numpy as np

from . import frontend, naming, runtime
from .errors import UnsupportedSyntax, located
from .lifetimes import release_dead_names
from .ir import (INFIX, PREFIX, Apply, Assign, Attribute, Const, Global, If, Loop, Method, Pack, Ref, Return, Var,
                 all_statements, hashable, statement_defines, statement_expressions, variables, walk)

_serial = itertools.count(1)
_DEEPEST = 99  # levels of indentation Python's tokenizer allows a function's statements (def at 0)

_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}
_BINARY = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "//": ast.FloorDiv, "%": ast.Mod,
           "**": ast.Pow, "@": ast.MatMult}
_UNARY = {"-": ast.USub, "+": ast.UAdd, "not ": ast.Not, "~": ast.Invert}


def _module_members(module, prefix):
    """id -> (prefix, name, object) for the module's callables, each under its own name if it has one
    there (`np.transpose`, not its alias `np.permute_dims`), else the first alias."""
    table = {}
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if callable(obj) and not isinstance(obj, type(module)):
            own = getattr(obj, "__name__", None) == name
            if own or id(obj) not in table:
                table[id(obj)] = (prefix, name, obj)
    return table


_QUALIFIED = {}
for _module, _prefix in ((np.linalg, "np.linalg"), (math, "math"), (np, "np")):
    _QUALIFIED.update(_module_members(_module, _prefix))
_RUNTIME = {id(getattr(runtime, n)): n for n in dir(runtime) if not n.startswith("_")}
_BUILTINS = {id(getattr(builtins, n)): n for n in dir(builtins) if not n.startswith("_")}


class Namer:
    """Allocates Python names: deterministic, collision-free, reusing dead versions of a name."""

    def __init__(self, reserved, visible, live=()):
        self.live = set(live)       # module globals the code reads by name each time it runs
        self.reserved = set(reserved) | self.live | set(keyword.kwlist) | {n for n in dir(builtins)}
        self.visible = visible      # names the user's code can see -> the object they mean
        self.taken = set()
        self.hinted = set()         # the names the user gave values: temporaries keep clear of them
        self.temps = itertools.count(1)

    def fresh(self, hint):
        hint = identifier(hint)
        if not hint:
            while True:
                name = f"t{next(self.temps)}"
                if name not in self.reserved and name not in self.taken and name not in self.hinted:
                    break
        else:
            name = hint
            suffix = itertools.count(1)
            while name in self.reserved or name in self.taken:
                name = f"{hint}_{next(suffix)}"
        self.taken.add(name)
        return name

    def for_object(self, obj, hint):
        """A name bound to `obj`: the user's own name for it when they mean the same object."""
        # a live global of that name must stay readable: a closure cell would shadow it
        if self.visible.get(hint, _ABSENT) is obj and hint not in self.taken and hint not in self.live:
            self.taken.add(hint)
            return hint
        return self.fresh(hint)


_ABSENT = object()


def identifier(hint):
    """`hint` made a valid Python name (`<lambda>` -> `lambda_`); "" stays "" (a temporary)."""
    if not hint:
        return ""
    name = re.sub(r"\W", "_", hint)
    if name != hint:
        name = name.strip("_") or "fn"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"{name}_" if not name[0].isdigit() else f"_{name}"
    return name


class Generator:
    """Turns one IR function into Python source text and the objects it needs bound."""

    def __init__(self, function, name, fixed_params, reserved, visible, ssa=False, arrays=()):
        self.function = function
        self.arrays = arrays
        self.name_of_function = name
        self.ssa = ssa
        live = {node.name for stmt in all_statements(function.body) for expr in _expressions(stmt)
                for node in walk(expr) if isinstance(node, Global)}
        self.namer = Namer(reserved, visible, live)
        self.var_names = {}
        hints = [self.hint(p) for p in function.params]
        # The user's parameter names are kept, unless an inlined callee reads a module global of the
        # same name: the parameter would hide it, so the parameter is renamed (calls bind by position).
        fixed = [h for h in hints[:fixed_params] if h not in live]
        self.namer.taken.update(fixed)
        self.params = [h if h not in live else self.namer.fresh(h) for h in hints[:fixed_params]] + \
            [self.namer.fresh(h) for h in hints[fixed_params:]]
        self.visible = visible
        self.holders = {}         # name -> Var currently held
        self.injected = {}        # id(obj) -> (name, obj)
        self.last_use = {}
        self._uses = None
        self.origins = {}         # generated branch or loop -> the user's source location of it

    # -- naming --------------------------------------------------------------

    def hint(self, var, names=None):
        """The name `var` would like: a derivative is named after its primal (`grad_x`, `d_x`), a
        recomputed or restored value after the value it stands for."""
        if var.prefix is not None:
            names = self.var_names if names is None else names
            primal = names.get(var.of) or identifier(self.hint(var.of, names))
            return var.prefix + (primal or ("t" if var.prefix else ""))
        return identifier(var.hint)

    def plan_names(self):
        fixed = dict(zip(self.function.params, self.params))
        if self.ssa:  # every value its own name, so the SSA form shows
            self.var_names.update(fixed)
            for stmt in all_statements(self.function.body):
                for var in statement_defines(stmt):
                    if var not in self.var_names:
                        self.var_names[var] = self.namer.fresh(self.hint(var))
            return
        self.var_names.update(naming.plan(self.function, fixed, self.hint, self.namer))

    def name(self, var):
        if var not in self.var_names:  # defined nowhere we saw (should not happen): never collide
            self.var_names[var] = self.namer.fresh(self.hint(var))
        return self.var_names[var]

    def inject(self, obj, hint):
        key = id(obj)
        if key not in self.injected:
            self.injected[key] = (self.namer.for_object(obj, hint), obj)
        return self.injected[key][0]

    # -- expressions ---------------------------------------------------------

    def callee(self, fn):
        if id(fn) in _QUALIFIED:
            prefix, attr, _ = _QUALIFIED[id(fn)]
            head, *rest = prefix.split(".")
            node = ast.Name(self.inject(np if head == "np" else math, head), ast.Load())
            for part in rest + [attr]:
                node = ast.Attribute(node, part, ast.Load())
            return node
        if id(fn) in _RUNTIME:
            return ast.Name(self.inject(fn, _RUNTIME[id(fn)]), ast.Load())
        if id(fn) in _BUILTINS:
            return ast.Name(self.builtin(fn), ast.Load())
        return ast.Name(self.inject(fn, getattr(fn, "__name__", "fn")), ast.Load())

    def builtin(self, fn):
        """The name of a builtin: its own, unless the user's code or a parameter shadows it."""
        name = _BUILTINS[id(fn)]
        if self.visible.get(name, fn) is fn and name not in self.params and name not in self.namer.live:
            return name
        return self.inject(fn, name)

    def expr(self, node, in_index=False):
        if isinstance(node, Var):
            return ast.Name(self.name(node), ast.Load())
        if isinstance(node, Const):
            return self.constant(node.value)
        if isinstance(node, Global):
            return ast.Name(node.name, ast.Load())
        if isinstance(node, Ref):
            qualified = _QUALIFIED.get(id(node.obj))
            if qualified is not None and qualified[2] is node.obj:
                return self.callee(node.obj)
            if isinstance(node.obj, types.ModuleType) and node.obj in (np, math):
                return ast.Name(self.inject(node.obj, "np" if node.obj is np else "math"), ast.Load())
            return ast.Name(self.inject(node.obj, node.hint.replace(".", "_")), ast.Load())
        if isinstance(node, Pack):
            return self.pack(node, in_index)
        if isinstance(node, _Named):
            return ast.NamedExpr(ast.Name(self.name(node.target), ast.Store()), self.expr(node.value))
        return self.apply(node)

    def constant(self, value):
        if isinstance(value, np.generic) and id(type(value)) in _QUALIFIED and \
                type(value.item()) in (bool, int, float):
            # a numpy scalar keeps its type: `np.float64(0.5)`, with `np` bound like any other use
            return ast.Call(self.callee(type(value)), [self.constant(value.item())], [])
        if type(value) is float and not math.isfinite(value):  # `-np.inf`, `np.nan`: no literal has them
            numpy = ast.Name(self.inject(np, "np"), ast.Load())
            named = ast.Attribute(numpy, "nan" if math.isnan(value) else "inf", ast.Load())
            return ast.UnaryOp(ast.USub(), named) if value < 0 else named
        if type(value) in (bool, int, str, type(None)) or type(value) is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                return ast.UnaryOp(ast.USub(), ast.Constant(-value))
            return ast.Constant(value)
        if type(value) is tuple and all(isinstance(v, (int, type(None))) for v in value):
            return ast.Tuple([self.constant(v) for v in value], ast.Load())
        return ast.Name(self.inject(value, "const"), ast.Load())

    def pack(self, node, in_index):
        if node.kind == "slice":
            parts = [None if isinstance(p, Const) and p.value is None else self.expr(p) for p in node.items]
            if in_index:
                return ast.Slice(*parts)
            return ast.Call(ast.Name(self.builtin(slice), ast.Load()), [p or ast.Constant(None) for p in parts], [])
        items = [self.expr(item, in_index) for item in node.items]
        return ast.List(items, ast.Load()) if node.kind == "list" else ast.Tuple(items, ast.Load())

    def apply(self, node):
        fn, args = node.fn, node.args
        symbol = INFIX.get(fn) if hashable(fn) else None
        if symbol in _COMPARE:
            return ast.Compare(self.expr(args[0]), [_COMPARE[symbol]()], [self.expr(args[1])])
        if symbol is not None:
            return ast.BinOp(self.expr(args[0]), _BINARY[symbol](), self.expr(args[1]))
        symbol = PREFIX.get(fn) if hashable(fn) else None
        if symbol is not None:
            return ast.UnaryOp(_UNARY[symbol](), self.expr(args[0]))
        if fn is _and or fn is _or:
            op = ast.And if fn is _and else ast.Or
            operands = []
            for arg in args:  # `a and b and c`, not `(a and b) and c`
                value = self.expr(arg)
                operands += value.values if isinstance(value, ast.BoolOp) and isinstance(value.op, op) \
                    else [value]
            return ast.BoolOp(op(), operands)
        if fn is _getitem:
            return ast.Subscript(self.expr(args[0]), self.expr(args[1], in_index=True), ast.Load())
        if isinstance(fn, Attribute):
            return ast.Attribute(self.expr(args[0]), fn.name, ast.Load())
        keywords = [ast.keyword(k, self.expr(v)) for k, v in node.kwargs]
        if isinstance(fn, Method):
            method = ast.Attribute(self.expr(args[0]), fn.name, ast.Load())
            return ast.Call(method, [self.expr(a) for a in args[1:]], keywords)
        return ast.Call(self.callee(fn), [self.expr(a) for a in args], keywords)

    # -- statements ----------------------------------------------------------

    def source(self):
        """The function's source text."""
        self.plan_names()
        statements = self.block(self.function.body)
        if not self.ssa:  # (the SSA listing is shown, never compiled)
            self.refuse_deep_nesting(statements)
        releasable = {self.var_names[v] for v in self.arrays if v in self.var_names} - set(self.params)
        if releasable:
            statements = release_dead_names(statements, releasable)
        args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in self.params], vararg=None,
                             kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        definition = ast.FunctionDef(self.name_of_function, args, statements, [], None)
        return astor.to_source(definition)

    def block(self, body):
        out = []
        for stmt in body:
            if isinstance(stmt, Assign) and stmt.target is None:
                out.append(ast.Expr(self.expr(stmt.expr)))
            elif isinstance(stmt, Assign):
                if not (isinstance(stmt.expr, Var) and self.name(stmt.expr) == self.name(stmt.target)):
                    out.append(self.assign(stmt.target, stmt.expr))
            elif isinstance(stmt, Return):
                out.append(ast.Return(self.expr(stmt.value)))
            elif isinstance(stmt, (If, Loop)):
                code = self.branch(stmt) if isinstance(stmt, If) else self.loop(stmt)
                for node in code:
                    if isinstance(node, (ast.If, ast.For, ast.While)) and stmt.loc is not None:
                        self.origins[node] = stmt.loc
                out.extend(code)
            else:  # never drop a statement silently
                raise TypeError(f"cannot generate code for {stmt!r}")
        return out

    def refuse_deep_nesting(self, statements):
        """Refuse code nested deeper than Python can indent (100 levels, the `def` at 0), naming the
        innermost branch or loop of the user's that holds the first statement too deep."""
        def deepest(body, depth, where):
            for node in body:
                if depth > _DEEPEST:
                    return where
                where_now = self.origins.get(node, where)
                if isinstance(node, ast.If) and _is_elif(node.orelse):  # written `elif`: one level
                    found = deepest(node.body, depth + 1, where_now) or deepest(node.orelse, depth, where_now)
                elif isinstance(node, (ast.If, ast.For, ast.While)):
                    found = deepest(node.body, depth + 1, where_now) or deepest(node.orelse, depth + 1, where_now)
                else:
                    continue
                if found is not None:
                    return found
            return None
        where = deepest(statements, 1, None)
        if where is not None:
            raise located(UnsupportedSyntax, f"adjoint does not support code nested more than {_DEEPEST} levels deep "
                          f"in the derivative of {self.function.name}", where,
                          "Nest less: the statements after an early `return`, `break` or `continue` form a "
                          "branch of their own, as does each `elif` whose branch reuses a value its condition "
                          "computed; write such code as one `if`/`elif`/`else` whose conditions compute "
                          "nothing the branches reuse.")

    def assign(self, target, expr):
        return ast.Assign([ast.Name(self.name(target), ast.Store())], self.expr(expr))

    def differing(self, pairs):
        """The (target, value) pairs whose names differ: those a copy must be written for."""
        return [(t, v) for t, v in pairs if not (isinstance(v, Var) and self.name(v) == self.name(t))]

    def copies(self, pairs):
        """`target = value` for each pair whose names differ, as one parallel assignment."""
        pairs = self.differing(pairs)
        if not pairs:
            return []
        if self.ssa:
            return [self.assign(t, v) for t, v in pairs]
        if len(pairs) == 1:
            return [self.assign(*pairs[0])]
        targets = ast.Tuple([ast.Name(self.name(t), ast.Store()) for t, _ in pairs], ast.Store())
        return [ast.Assign([targets], ast.Tuple([self.expr(v) for _, v in pairs], ast.Load()))]

    def phi_note(self, target, values):
        """In the SSA listing, merges show as `x = phi(a, b)`."""
        call = ast.Call(ast.Name("phi", ast.Load()), [self.expr(v) for v in values], [])
        return ast.Assign([ast.Name(self.name(target), ast.Store())], call)

    def short_circuit(self, stmt):
        """`a and b` / `a or b` (lowered to an `If` that computes `b` only when needed) as
        (target, definitions of `b`'s parts, the expression); None if the `If` does more."""
        if self.ssa or len(stmt.merges) != 1:
            return None
        target, (first, second) = stmt.merges[0].target, stmt.merges[0].values
        if not stmt.orelse and second is stmt.cond:
            op, region, other = _and, stmt.then, first
        elif not stmt.then and first is stmt.cond:
            op, region, other = _or, stmt.orelse, second
        else:
            return None
        definitions = {}
        for inner in region:
            if not (isinstance(inner, Assign) and inner.target is not None):
                return None
            definitions[inner.target] = inner.expr
        return target, definitions, Apply(op, (stmt.cond, other))

    def branch(self, stmt, test=None):
        """The code of an `If`; `test`, when given, is its condition as an expression (it is a link of
        an `elif` chain)."""
        pattern = self.short_circuit(stmt)
        if pattern is not None:  # `t = a and b` reads better than the branch it was lowered to
            target, definitions, expr = pattern
            inlined = self.inline(definitions, expr, self.use_counts())
            if inlined is not None:
                return [self.assign(target, inlined)]
        then = self.block(stmt.then)
        orelse = self.elif_link(stmt.orelse, [(m.target, m.values[1]) for m in stmt.merges])
        if not self.ssa:
            then += self.copies([(m.target, m.values[0]) for m in stmt.merges])
        if orelse is None:
            orelse = self.block(stmt.orelse)
            if not self.ssa:
                orelse += self.copies([(m.target, m.values[1]) for m in stmt.merges])
        chained = test is not None or _is_elif(orelse)
        if test is None:
            test = self.expr(stmt.cond)
        if not then and not orelse and not (self.ssa and stmt.merges):  # the SSA listing shows every phi
            return []
        if not then and not self.ssa and not chained:  # `if not c: ...` rather than `if c: pass else: ...`
            return [ast.If(_negated(test), orelse, [])]
        node = ast.If(test, then or [ast.Pass()], orelse)
        return [node] + ([self.phi_note(m.target, m.values) for m in stmt.merges] if self.ssa else [])

    def elif_link(self, region, merge_copies):
        """An else-block that computes the next condition and branches on it (an `elif` of the source,
        or of the backward sweep) as the one `If` astor writes as `elif`, with the condition's
        computations written into its test; None when the block does more.

        Nested `else: t2 = ...; if t2:` would indent one level per link, and a long chain would
        outgrow the indentation Python can compile. A computation the code reads again later is
        kept by name: `elif (t2 := x < 1):`."""
        if self.ssa or not region or not isinstance(region[-1], If) or len(region) == 1:
            return None  # (an else-block of one `If` is an `elif` already)
        *definitions, inner = region
        if not all(isinstance(s, Assign) and s.target is not None for s in definitions):
            return None
        if self.short_circuit(inner) is not None or self.differing(merge_copies):
            return None
        test = self.folded({s.target: s.expr for s in definitions}, inner.cond)
        if test is None:
            return None
        code = self.branch(inner, test)
        return code if _is_elif(code) else None

    def folded(self, definitions, cond):
        """`cond` with each of `definitions` written into it where it is read: as its expression if
        read nowhere else, as `(name := expression)` if read later too; None unless each is read
        exactly once on the way (so none is dropped, computed twice or skipped by `and`)."""
        uses, reached = self.use_counts(), Counter()

        def expand(expr):
            if isinstance(expr, Var) and expr in definitions:
                reached[expr] += 1
                value = expand(definitions[expr])
                return value if uses[expr] == 1 else _Named(expr, value)
            if isinstance(expr, Apply):
                if expr.fn is _and or expr.fn is _or:
                    return expr  # (plain assignments never hold these)
                return Apply(expr.fn, [expand(a) for a in expr.args], [(k, expand(v)) for k, v in expr.kwargs])
            if isinstance(expr, Pack):
                return Pack(expr.kind, [expand(item) for item in expr.items])
            return expr
        expanded = expand(cond)
        if any(reached[var] != 1 for var in definitions):
            return None
        return self.expr(expanded)

    def loop(self, stmt):
        before = self.copies([(phi.target, phi.values[0]) for phi in stmt.carried])
        body = []
        if self.ssa:
            before = []
            body = [self.phi_note(phi.target, phi.values) for phi in stmt.carried]
        if stmt.kind == "for":
            index = ast.Name(self.name(stmt.index) if stmt.index is not None else "_", ast.Store())
            head = self.range_call(stmt.bounds, stmt.reverse)
            if stmt.cond is not None:  # a `for` loop that stops early: `if broke: break` opens each trip
                condition = self.inline_condition(stmt.test, stmt.cond)
                test = [] if condition is not None else self.block(stmt.test)
                stop = _negated(condition if condition is not None else self.expr(stmt.cond))
                body += test + [ast.If(stop, [ast.Break()], [])]
        else:
            condition = self.inline_condition(stmt.test, stmt.cond)
            test = [] if condition is not None else self.block(stmt.test)
            if condition is None:
                exit_test = ast.If(ast.UnaryOp(ast.Not(), self.expr(stmt.cond)), [ast.Break()], [])
                body += test + [exit_test]
        body += self.block(stmt.body)
        if not self.ssa:
            body += self.copies([(phi.target, phi.values[1]) for phi in stmt.carried])
        if stmt.kind == "for":
            node = ast.For(index, head, body or [ast.Pass()], [], None)
        else:
            node = ast.While(condition if condition is not None else ast.Constant(True), body or [ast.Pass()], [])
        after = self.copies([(out, header) for out, header in stmt.exits])
        return before + [node] + after

    def inline_condition(self, test, cond):
        """A `while` test computed by plain assignments and `and`/`or`, as one expression
        (`while t < 10.0:`); None when the test needs statements (a branch, say)."""
        if self.ssa:
            return None if test else self.expr(cond)
        definitions = {}
        for stmt in test:
            pattern = self.short_circuit(stmt) if isinstance(stmt, If) else None
            if pattern is not None:
                target, parts, expr = pattern
                definitions.update(parts)
                definitions[target] = expr
            elif isinstance(stmt, Assign) and stmt.target is not None:
                definitions[stmt.target] = stmt.expr
            else:
                return None
        in_test = Counter(v for expr in [cond] + [e for stmt in all_statements(test) for e in _expressions(stmt)]
                          for v in variables(expr))
        everywhere = self.use_counts()
        if any(everywhere[var] > in_test[var] for var in definitions):
            return None  # read after the test too: its statement must stay
        uses = Counter(v for expr in list(definitions.values()) + [cond] for v in variables(expr))
        inlined = self.inline(definitions, cond, uses)
        return None if inlined is None else self.expr(inlined)

    def inline(self, definitions, expr, uses):
        """`expr` as one expression, with the `definitions` it reads substituted; None unless
        each of them is read exactly once (`uses`), so none is dropped or computed twice."""
        if any(uses[var] != 1 for var in definitions):
            return None

        def substituted(expr):
            if isinstance(expr, Var) and expr in definitions:
                return substituted(definitions[expr])
            if isinstance(expr, Apply):
                return Apply(expr.fn, [substituted(a) for a in expr.args],
                             [(k, substituted(v)) for k, v in expr.kwargs])
            if isinstance(expr, Pack):  # `np.stack([a, b])`: the list's items too
                return Pack(expr.kind, [substituted(item) for item in expr.items])
            return expr
        return substituted(expr)

    def use_counts(self):
        """How often each variable is read in the whole function (computed once)."""
        if self._uses is None:
            self._uses = Counter(v for stmt in all_statements(self.function.body) for expr in _expressions(stmt)
                                 for v in variables(expr))
        return self._uses

    def range_call(self, bounds, reverse):
        start, stop, step = bounds
        args = [stop] if _is(start, 0) and _is(step, 1) else [start, stop] if _is(step, 1) else [start, stop, step]
        call = ast.Call(ast.Name(self.builtin(range), ast.Load()), [self.expr(a) for a in args], [])
        if reverse:
            call = ast.Call(ast.Name(self.builtin(reversed), ast.Load()), [call], [])
        return call


class _Named:
    """`(target := value)` in an expression the code generator assembles: a value kept by name."""

    __slots__ = ("target", "value")

    def __init__(self, target, value):
        self.target, self.value = target, value


def _is_elif(code):
    """Whether a block is one `If`, which astor writes as `elif` after an `else`."""
    return len(code) == 1 and isinstance(code[0], ast.If)


def _negated(condition):
    """`not condition`, without a double negation."""
    if isinstance(condition, ast.UnaryOp) and isinstance(condition.op, ast.Not):
        return condition.operand
    return ast.UnaryOp(ast.Not(), condition)


def _is(expr, value):
    return isinstance(expr, Const) and type(expr.value) is int and expr.value == value


def _expressions(stmt):
    """What a statement reads as the generated code sees it: a loop's exits copy its headers too."""
    exits = [header for _, header in stmt.exits] if isinstance(stmt, Loop) else []
    return statement_expressions(stmt) + exits


_getitem = __import__("operator").getitem


def _and(a, b):
    """Stands for `a and b` in an expression the code generator assembles (never called)."""
    return a and b


def _or(a, b):
    """Stands for `a or b` (never called)."""
    return a or b


def generate(function, name, fixed_params, reserved, visible, ssa=False, arrays=()):
    """(source text, {name: object} the source refers to).

    The first `fixed_params` parameters keep their names (they are the user's); the values in
    `arrays` (those that may be arrays) are deleted after their last use (see lifetimes.py).
    """
    generator = Generator(function, name, fixed_params, reserved, visible, ssa, arrays)
    text = generator.source()
    return text, {name: obj for name, obj in generator.injected.values()}


def compile_function(text, name, bindings, user_globals, label):
    """Compile generated `text` defining `name`, with `bindings` as closure cells and live `user_globals`."""
    filename = f"<adjoint {label} #{next(_serial)}>"
    frontend.register_source(filename, text)
    inner = ast.parse(text, filename).body[0]
    factory_args = ast.arguments(posonlyargs=[], args=[ast.arg(n) for n in sorted(bindings)], vararg=None,
                                 kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    factory = ast.FunctionDef("__adjoint_factory", factory_args, [inner, ast.Return(ast.Name(name, ast.Load()))],
                              [], None)
    module = ast.Module([factory], [])
    ast.fix_missing_locations(module)
    for node in ast.walk(factory):
        if node is factory or isinstance(node, (ast.arguments, ast.arg)) and node in ast.walk(factory_args):
            node.lineno, node.end_lineno = 1, 1
    with warnings.catch_warnings():  # `(1.0)[0]` after a seed of a non-scalar output, which expect_scalar
        warnings.simplefilter("ignore", SyntaxWarning)  # refuses first: no warning of ours is the user's
        code = compile(module, filename, "exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    inner_code = next(c for c in factory_code.co_consts if isinstance(c, types.CodeType) and c.co_name == name)
    cells = tuple(types.CellType(bindings[free]) for free in inner_code.co_freevars)
    function = types.FunctionType(inner_code, user_globals, name, None, cells)
    function.__adjoint_source__ = text
    return function
