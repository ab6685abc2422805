"""Lowering: a parsed Python function to the SSA IR.

Each statement is lowered in order into three-address form: every operation
gets a fresh `Var`, and every (re)assignment of a user name binds the name to
a new value, so each `Var` is assigned exactly once. Calls into the user's own
Python functions are inlined, so the transforms see one flat body.
"""
import builtins
import inspect
import operator
import re
import sys
import types

import gast
import numpy as np

from . import frontend
from . import runtime as rt
from .errors import SourceUnavailable, UnsupportedSyntax, located
from .ir import Apply, Assign, Attribute, Const, Function, Global, Method, Pack, Ref, Return, Var, namedtuple_class
from .rules import METHODS, is_nondiff, rule_for
from .desugar import desugar
from .lower_alias import AliasLowering
from .lower_control import ControlFlowLowering, prune_unbound
from .structures import StructureBuilder
from .lower_data import (Closure, DataLowering, _Default, _integral_dtype, is_dict, is_function, make_dict,
                         user_method)
from .syntax import BINARY, ExpressionConverter, Static, describe, is_plain_data, read_live
from .views import returns_list_of_views, viewed

STATEMENT_NAMES = {
    "FunctionDef": "a function defined inside the function", "ClassDef": "a class defined inside the function",
    "AsyncFunctionDef": "an `async def` inside the function", "AsyncFor": "the `async for` statement",
    "AsyncWith": "the `async with` statement", "TryStar": "the `try` statement (with `except*`)",
    "ImportFrom": "the `from ... import` statement", "TypeAlias": "the `type` statement",
}

# What to do instead, by syntax node type; a call site may give more specific advice.
ADVICE = {
    "Match": "Write the cases as `if`/`elif`/`else`, which are supported.",
    "AsyncFor": "Differentiate an ordinary function; write the computation with numpy operations.",
    "Try": "Remove the try/except from the differentiated function; handle errors in the caller.",
    "TryStar": "Remove the try/except from the differentiated function; handle errors in the caller.",
    "With": "Move the `with` block out of the differentiated function.",
    "AsyncWith": "Move the `async with` block out of the differentiated function.",
    "Raise": "Check inputs before calling the gradient instead of raising inside the function.",
    "Delete": "Remove the `del`: the generated code ends each array's lifetime after its last use itself.",
    "Global": "Read globals without declaring them; pass values you update as arguments instead.",
    "Nonlocal": "Pass values you update as arguments and return the new values instead.",
    "ClassDef": "Define the class at module level.",
    "FunctionDef": "Define the helper function at module level and call it.",
    "AsyncFunctionDef": "Define the helper function at module level, without `async`, and call it.",
    "Import": "Import at module level.",
    "ImportFrom": "Import at module level.",
    "TypeAlias": "Declare the type at module level.",
    "Assert": "Check the condition before calling the gradient.",
    "Yield": "Return the values instead: a generator cannot be differentiated.",
    "YieldFrom": "Return the values instead: a generator cannot be differentiated.",
    "Await": "Differentiate an ordinary (not async) function.",
    "Lambda": "Define the function with `def` at module level and call it by name.",
    "ListComp": "Write the elements out, or compute them with numpy operations on arrays.",
    "SetComp": "Write the elements out, or compute them with numpy operations on arrays.",
    "DictComp": "Write the elements out, or compute them with numpy operations on arrays.",
    "GeneratorExp": "Write the elements out, or compute them with numpy operations on arrays.",
    "NamedExpr": "Assign the value in a statement of its own, then use the name.",
    "BoolOp": "Combine conditions with np.logical_and / np.logical_or.",
    "Dict": "Use a tuple, or pass the values as separate arguments.",
    "Set": "Use a tuple, or pass the values as separate arguments.",
    "JoinedStr": "Format strings outside the differentiated function.",
    "Starred": "Unpack into a fixed number of names.",
    "Call": "Pass the arguments one by one (`f(a, b)`, `f(a, key=b)`).",
    "Compare": "Write one comparison at a time (`a < b`), combining them with np.logical_and; "
               "test membership outside the function.",
    "Attribute": "Check the spelling of the attribute.",
}
GENERIC_ADVICE = "Rewrite this part with assignments, arithmetic and calls of numpy, math or module-level functions."


def object_name(obj):
    """What generated code calls an object it reads as a constant (the `self` of a bound method): its
    class's name in snake case (`model` for a `Model`), which reads as the object it is, where
    `self` would read as a parameter the function does not have."""
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", type(obj).__name__).lower()


def lower(fn):
    """The SSA `Function` of the Python function (or bound method) `fn`."""
    bound_self = getattr(fn, "__self__", None) if inspect.ismethod(fn) else None
    fn = getattr(fn, "__func__", fn)
    if rule_for(fn) is not None and bound_self is None:
        return lower_primitive(fn)
    node, info = frontend.parse(fn)
    stands_for = getattr(fn, "__adjoint_stands_for__", None)
    if stands_for is not None:  # a wrapper adjoint generated: errors point at the user's function
        info = frontend.StandInInfo(stands_for)
    desugar(node, info)
    params = parameters(node, info)
    lowering = Lowering(fn, info, node, inline_stack=(fn.__code__,), root_globals=fn.__globals__)
    if bound_self is not None:  # a bound method: `self` is a constant, the rest are parameters
        lowering.env[params[0]] = Ref(bound_self, object_name(bound_self))
        params = params[1:]
    param_vars = [Var(name) for name in params]
    lowering.env.update(zip(params, param_vars))
    result = lowering.lower_body(node)
    last = node.body[-1] if node.body and isinstance(node.body[-1], gast.Return) else node
    returned = last.value if isinstance(last, gast.Return) and last.value is not None else node
    if any(isinstance(leaf, Pack) and leaf.kind in ("dict", "object") for leaf in _packs(result)):
        lowering.unsupported(returned, "returning a dict or an object from the differentiated function",
                             "Return a number, an array or a tuple of them (dicts work inside the function, "
                             "and as arguments: their gradient is a dict).")
    lowering.body.append(Return(result, info.location(returned)))  # (errors about the result point here)
    prune_unbound(lowering.body)
    function = Function(node.name, param_vars, lowering.body, info, defaults=fn.__defaults__ or ())
    function.visible = lowering.visible     # free names the code reads -> their objects
    function.reserved = set(lowering.visible)  # generated locals must not shadow those
    return function


def lower_primitive(fn):
    """A function with rules of its own (`adjoint.primitive`) is differentiated by them: one call."""
    node, info = frontend.parse(fn)
    params = [Var(name) for name in parameters(node, info)]
    result = Var("")
    body = [Assign(result, Apply(fn, params), info.location(node)), Return(result, info.location(node))]
    function = Function(node.name, params, body, info, defaults=fn.__defaults__ or ())
    function.visible = {fn.__name__: fn}
    function.reserved = set(function.visible)
    return function


def parameters(node, info):
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
        raise located(UnsupportedSyntax, "cannot differentiate a function with *args, **kwargs, "
                      "keyword-only or positional-only parameters", info.location(node),
                      "Give the differentiated function plain positional parameters; "
                      "wrap it in a small function if needed.")
    return [arg.id for arg in args.args]


class Lowering(ControlFlowLowering, DataLowering, AliasLowering, ExpressionConverter):
    """Lowers the statements of one function body (or an inlined callee) into `self.body`."""

    def __init__(self, fn, info, node, inline_stack, root_globals, body=None, visible=None, parent=None,
                 outer=None):
        self.fn = fn
        self.parent = parent    # the lowering that inlined this one
        self.outer = outer      # for a nested function: the lowering of the function that defined it
        self.shared = parent.shared if parent is not None else {
            "views": {}, "lists_of_views": set(), "known": {}, "outside": set(), "lists": set(), "appended_to": {},
            "merged": {}, "loop_checks": [], "loop_depth": 0, "recursive_calls": 0}
        self.foreign = ()       # values the caller passed in (an inlined callee must not change them)
        self.root_globals = root_globals  # the globals the generated code will run with
        self.info = info
        self.node = node
        self.inline_stack = inline_stack
        self.env = {}
        self.lazy = False       # lowering a part of an expression that may not run (`b` of `a and b`)
        self.body = [] if body is None else body
        self.assigned = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
                         and isinstance(n.ctx, (gast.Store, gast.Param))}
        self.visible = visible if visible is not None else {}  # free names -> what they mean

    # -- errors --------------------------------------------------------------

    def unsupported(self, node, what, advice=None):
        advice = advice or ADVICE.get(type(node).__name__, GENERIC_ADVICE)
        raise located(UnsupportedSyntax, f"adjoint does not support {what}", self.info.location(node), advice)

    # -- statements ----------------------------------------------------------

    def lower_body(self, node):
        """Lower the function body; return the expression it returns."""
        statements = list(node.body)
        result = Const(None)
        for index, stmt in enumerate(statements):
            if isinstance(stmt, gast.Return):  # desugaring left one, at the end
                result = Const(None) if stmt.value is None else self.operand(stmt.value)
            else:
                self.statement(stmt)
        return result

    def statement(self, stmt):
        kind = type(stmt).__name__
        if isinstance(stmt, gast.Assign):
            value = self.operand(stmt.value)
            for target in stmt.targets:
                self.assign(target, value)
        elif isinstance(stmt, gast.AugAssign):
            if isinstance(stmt.target, gast.Subscript):
                return self.augment_item(stmt)
            if not isinstance(stmt.target, gast.Name):
                self.unsupported(stmt, "augmented assignment to an attribute",
                                 "Assign the new value: `obj.attr = obj.attr + v`.")
            current = self.name(stmt.target.id, stmt.target)
            self.check_in_place_operator(stmt.target.id, current, stmt)
            op = gast.BinOp(left=gast.Name(stmt.target.id, gast.Load(), None, None), op=stmt.op, right=stmt.value)
            gast.copy_location(op, stmt)
            self.assign(stmt.target, self.make_binary(op, current))
        elif isinstance(stmt, gast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.operand(stmt.value))
        elif isinstance(stmt, gast.Expr):
            if not (isinstance(stmt.value, gast.Constant) and isinstance(stmt.value.value, str)):
                self.operand(stmt.value)  # kept for its effect, e.g. print()
        elif isinstance(stmt, gast.Pass):
            pass
        elif isinstance(stmt, gast.Delete):
            self.delete(stmt)
        elif isinstance(stmt, gast.If):
            self.lower_if(stmt)
        elif isinstance(stmt, gast.While):
            self.lower_while(stmt)
        elif isinstance(stmt, gast.For):
            self.lower_for(stmt)
        elif isinstance(stmt, gast.FunctionDef):
            self.define(stmt)
        else:
            self.unsupported(stmt, STATEMENT_NAMES.get(kind, f"the `{kind.lower()}` statement"))

    def delete(self, stmt):
        """`del x`: the name holds nothing after it, as in Python (so reading it later is refused).
        Adjoint's own code ends lifetimes with it: a derivative of a derivative reads such code."""
        for target in stmt.targets:
            if not isinstance(target, gast.Name):
                self.unsupported(stmt, "deleting an item or an attribute",
                                 "Build the array or object you need without it instead.")
            if self.shared["loop_depth"]:
                self.unsupported(stmt, "`del` inside a loop", ADVICE["Delete"])
            if target.id not in self.env:
                self.unsupported(target, f"deleting `{target.id}`, which holds no value here",
                                 f"Remove the `del`, or assign `{target.id}` before it.")
            del self.env[target.id]

    def make_binary(self, op_node, left):
        return self.make(BINARY[type(op_node.op)], (left, self.operand(op_node.right)), (), op_node)

    def assign(self, target, value):
        if isinstance(target, gast.Name):
            self.bind(target.id, value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            starred = [i for i, elt in enumerate(target.elts) if isinstance(elt, gast.Starred)]
            if starred and isinstance(value, Pack) and value.kind in ("tuple", "list") and len(starred) == 1 \
                    and len(value.items) >= len(target.elts) - 1:  # `a, *rest = (x, y, z)`: known while compiling
                i, after = starred[0], len(target.elts) - starred[0] - 1
                items = list(value.items)
                rest = Pack("list", items[i:len(items) - after])
                for elt, item in zip(target.elts, items[:i] + [rest] + items[len(items) - after:]):
                    self.assign(elt.value if isinstance(elt, gast.Starred) else elt, item)
                return
            if starred:
                self.unsupported(target, "starred unpacking (`a, *b = ...`) of a value whose length is known "
                                 "only when it runs",
                                 "Unpack into a fixed number of names, or index the value (`x[1:]`).")
            if isinstance(value, Pack):
                if len(value.items) != len(target.elts):
                    self.unsupported(target, f"unpacking {len(value.items)} values into {len(target.elts)} names",
                                     "Use as many names on the left as there are values on the right.")
                items = value.items
            else:
                items = [self.make(operator.getitem, (value, Const(i)), (), target) for i in range(len(target.elts))]
            for elt, item in zip(target.elts, items):
                self.assign(elt, item)
        elif isinstance(target, gast.Subscript):
            self.assign_item(target, value)
        elif isinstance(target, gast.Attribute):
            self.assign_attribute(target, value)
        else:
            self.unsupported(target, f"assignment to {describe(target)}", "Assign to plain names only.")

    def bind(self, name, value):
        last = self.body[-1] if self.body else None
        if isinstance(value, Var) and isinstance(last, Assign) and last.target is value and value.hint == "":
            value.hint = name  # the value was computed for this name: let it carry the name
        self.env[name] = value

    # -- expressions ---------------------------------------------------------

    def make(self, fn, args, kwargs, node):
        if fn is rt.setitem_into:  # generated code read back: the functional form (optimize/inplace.py)
            fn = rt.setitem
        self.refuse_change_in_place(fn, args, kwargs, node)
        self.refuse_arithmetic_on_run_time_lists(fn, args, node)
        folded = self.fold_constant(fn, args, kwargs)
        if folded is not None:
            return folded
        args, kwargs = self.escaping(args, node), [(k, v) for k, v in zip((k for k, _ in kwargs),
                                                                          self.escaping([v for _, v in kwargs], node))]
        var = Var("")
        self.body.append(Assign(var, Apply(fn, args, kwargs), self.info.location(node)))
        bases = viewed(fn, args, kwargs)
        if bases:
            self.shared["views"][var] = bases  # (the arrays it may look into)
            if returns_list_of_views(fn):
                self.shared["lists_of_views"].add(var)
        self.note_read_from_outside(var, fn, args, bases)
        if fn is rt.new_list or fn is rt.list_append:
            self.shared["lists"].add(var)
            self.shared["appended_to"][var] = args[0] if fn is rt.list_append else None
            # a list "may be" what it holds, and an item read back may be the list's any item: the
            # checks of changes in place (AliasLowering.may_be) then see `xs.append(x); a = xs[-1]`
            self.shared["merged"][var] = tuple(v for a in args for v in (a.items if isinstance(a, Pack) else (a,)))
        elif fn is operator.getitem and isinstance(args[0], Var) and args[0] in self.shared["lists"]:
            self.shared["merged"][var] = (args[0],)
        return var

    def name(self, identifier, node):
        if getattr(node, "builtin", None) == identifier:  # a builtin desugar's rewrite calls (desugar._builtin)
            return Static(getattr(builtins, identifier), identifier)
        if identifier in self.env:
            return self.env[identifier]
        outer = self.outer
        while outer is not None and identifier not in self.assigned:  # a closure reads its definer's names
            if identifier in outer.env:
                return outer.env[identifier]
            if identifier in outer.assigned:
                break
            outer = outer.outer
        if identifier in self.assigned or outer is not None and identifier in outer.assigned:
            self.unsupported(node, f"reading `{identifier}` before it is assigned",
                             f"Assign `{identifier}` before this line (or pass it as an argument).")
        where, value = frontend.resolve_free_name(self.fn, identifier)
        if where == "missing":
            raise located(UnsupportedSyntax, f"name `{identifier}` is not defined", self.info.location(node),
                          "Define it at module level or pass it as an argument.")
        self.visible.setdefault(identifier, value)
        if is_plain_data(value) and where == "builtin":
            return Const(value)
        if _is_static(value):
            return Static(value, identifier)
        if where == "global" and self.fn.__globals__ is self.root_globals:
            read = Global(identifier, value)
        else:
            module = _module_of(self.fn) if where == "global" else None
            if module is not None:  # another module's global (an inlined helper's): read it live too
                read = self.make(Attribute(identifier), (Ref(module, module.__name__.replace(".", "_")),), (), node)
            else:
                read = Ref(value, identifier)
        return self.structured(read, value, node) if holds_functions(value) else read

    def visit_Subscript(self, node):
        value = self.operand(node.value)
        index = self.index(node.slice)
        if getattr(node, "iterated", False) and is_dict(value):  # (see desugar._iterated_item)
            return self.key_at(value, index, node)
        # `(a, b)[0]` is `a`: tuples, lists and dicts of known length exist only at compile time
        return self.item(value, index, node)

    def visit_Attribute(self, node):
        value = self.convert(node.value)
        if not isinstance(value, Static):
            found = self.object_attribute(value, node.attr, node)
            if found is not None:
                return found
            return self.attribute(value, node.attr, node)
        if not hasattr(value.obj, node.attr):
            raise located(UnsupportedSyntax, f"`{value.name}` has no attribute `{node.attr}`",
                          self.info.location(node), "Check the spelling of the attribute.")
        found = getattr(value.obj, node.attr)
        if isinstance(value.obj, types.ModuleType) and read_live(found) and frontend.is_user_module(value.obj):
            # `config.SCALE`: read when the code runs, as a global of the function's own module is
            return self.make(Attribute(node.attr), (self.as_operand(value, node),), (), node)
        return Static(found, f"{value.name}.{node.attr}")

    def attribute(self, value, attr, node):
        if attr == "T":
            return self.make(np.transpose, (value,), (), node)
        return self.make(Attribute(attr), (value,), (), node)

    def method_call(self, value, method, args, kwargs, node):
        handled = self.namedtuple_method(value, method, args, kwargs, node) \
            if namedtuple_class(value) is not None else None
        if handled is not None:
            return handled
        handled = self.list_method(value, method, args, kwargs, node)
        if handled is None:
            handled = self.method_of_value(value, method, args, kwargs, node)
        if handled is not None:
            return handled
        if method == "astype" and _integral_dtype((list(args) + [v for k, v in kwargs if k == "dtype"] + [None])[0]):
            # truncated to integers: the result carries no derivative (the rule would pass one through)
            return self.make(rt.stop_gradient, (self.make(Method(method), (value, *args), kwargs, node),), (), node)
        if method in METHODS:
            fn, packs_varargs = METHODS[method]
            if packs_varargs and len(args) > 1:
                args = [Pack("tuple", args)]
            in_order = self.read_in_order(fn, (value, *args), kwargs, node)
            return in_order if in_order is not None else self.make(fn, (value, *args), kwargs, node)
        return self.make(Method(method), (value, *args), kwargs, node)

    def call(self, func, args, kwargs, node):
        if isinstance(func, Ref) and _is_static(func.obj):
            func = Static(func.obj, func.hint)  # a function passed to an inlined helper: known now
        if not isinstance(func, Static):
            called = self.method_of_value(func, "__call__", args, kwargs, node)  # `model(x)`
            if called is not None:
                return called
            self.unsupported(node, "calling a value computed inside the function",
                             "Call functions by their name (a module-level function, np.sin, math.exp, ...).")
        fn = func.obj
        if isinstance(fn, StructureBuilder):  # a flattened argument, rebuilt (structures.py)
            return self.build_structure(fn.spec, iter(args), node)
        if isinstance(fn, Closure):
            return self.inline_closure(fn, args, kwargs, node)
        if isinstance(fn, types.MethodType) and frontend.is_user_function(fn.__func__) \
                and rule_for(fn.__func__) is None and rule_for(fn) is None:  # `obj.method` of an object known now
            owner = self.as_operand(Static(fn.__self__, getattr(fn.__self__, "__name__", None)
                                           or object_name(fn.__self__)), node)
            return self.inline(fn.__func__, [owner] + list(args), kwargs, node)
        if isinstance(fn, type):
            constructed = self.construct(fn, args, kwargs, node) if rule_for(fn) is None else None
            if constructed is not None:
                return constructed
        elif not isinstance(fn, types.FunctionType) and user_method(type(fn), "__call__") is not None \
                and rule_for(fn) is None:  # a callable object of the user's class
            return self.method_of_value(Ref(fn, func.name), "__call__", args, kwargs, node)
        handled = self.array_call(fn, args, kwargs, node)
        if handled is None:
            handled = self.sequence_call(fn, args, kwargs)
        if handled is not None:
            return handled
        if fn is builtins.sum and len(args) in (1, 2) and isinstance(args[0], Pack) \
                and all(key == "start" for key, _ in kwargs) and len(args) + len(kwargs) <= 2:
            start = args[1] if len(args) == 2 else dict(kwargs).get("start")
            return self.sum_of(args[0].items, node, start)
        if fn in (builtins.max, builtins.min) and not kwargs:
            # `max(a, b, c)` and `max([a, b, c])` as `max(max(a, b), c)`: the same first winner
            items = args[0].items if len(args) == 1 and isinstance(args[0], Pack) else args
            if len(items) > 2 or items is not args:
                return self.fold(fn, items, node)
            if len(args) == 1:  # a list built at run time, or an array: the item Python's max returns
                first_winner = rt.index_of_max if fn is builtins.max else rt.index_of_min
                return self.make(operator.getitem, (args[0], self.make(first_winner, args, (), node)), (), node)
        if fn is builtins.reversed and len(args) == 1 and not kwargs:
            # the sequence backwards, as a sequence that `len` and indexing read (Python's iterator has
            # neither), so a loop over it runs by index like one over any sequence: generated code
            # loops over `reversed(range(n))` under another name where the function took `reversed`
            return self.item(args[0], Pack("slice", [Const(None), Const(None), Const(-1)]), node)
        if fn is builtins.pow and len(args) == 2 and not kwargs:
            return self.make(operator.pow, args, (), node)
        if getattr(fn, "__adjoint_static__", False):
            return self.evaluate_static(fn, args, kwargs, node)
        inner = getattr(fn, "__adjoint_inline__", None)
        if inner is not None:
            fn = inner()
        elif type(fn).__module__.startswith("adjoint."):
            self.unsupported(node, f"calling `{getattr(fn, '__name__', type(fn).__name__)}` (a {type(fn).__name__}) "
                             "inside a function being differentiated",
                             "Inside it, call adjoint.grad, value_and_grad, vjp, jvp or hvp of a module-level "
                             "function; build Jacobians and Hessians outside (adjoint.hessian(f) is one already).")
        if rule_for(fn) is None and not is_nondiff(fn) and frontend.is_user_function(fn):
            return self.inline(fn, args, kwargs, node)
        args, kwargs = self.array_like_arguments(fn, args, kwargs, node)
        return self.make(fn, args, kwargs, node)

    def evaluate_static(self, fn, args, kwargs, node):
        """Run a call whose result is known at compile time, e.g. `adjoint.grad(L)` inside `R`."""
        def value(expr):
            if isinstance(expr, Const):
                return expr.value
            if isinstance(expr, Ref):
                return expr.obj
            if isinstance(expr, Pack) and expr.kind in ("tuple", "list"):
                return tuple(value(item) for item in expr.items)
            self.unsupported(node, f"calling `{fn.__name__}` with arguments computed inside the function",
                             f"Pass `{fn.__name__}` module-level functions and constants only.")
        arguments = [value(a) for a in args]
        closure = next((a for a in arguments if isinstance(a, Closure)), None)
        if closure is not None:
            name = "a lambda" if closure.name == "<lambda>" else f"`{closure.name}`, a function"
            self.unsupported(node, f"`adjoint.{fn.__name__}` of {name} defined inside the function being "
                             "differentiated", "Define it with `def` at module level and pass it what it reads "
                             "from here as arguments.")
        result = fn(*arguments, **{k: value(v) for k, v in kwargs})
        return Static(result, getattr(result, "__name__", fn.__name__))

    def fold(self, fn, items, node):
        """`fn(fn(a, b), c)...` for a binary `fn` applied to all of `items`."""
        if not items:
            self.unsupported(node, f"`{fn.__name__}` of an empty sequence", "Give it at least one value.")
        total = items[0]
        for item in items[1:]:
            total = self.make(fn, (total, item), (), node)
        return total

    def sum_of(self, items, node, start=None):
        """`sum([a, b, c])` as `a + b + c`, and `sum([a, b], start)` as `start + a + b`."""
        if start is not None:
            items = [start, *items]
        if not items:
            return Const(0)
        total = items[0]
        for item in items[1:]:
            total = self.make(operator.add, (total, item), (), node)
        return total

    def inline(self, callee, args, kwargs, node, constructing=False):
        """Lower a call to the user's function `callee` in place; its result (for `constructing`, the
        object its first parameter holds at the end: `__init__` building an object)."""
        depth = self.inline_stack.count(callee.__code__)
        if depth:
            self.check_recursion(callee.__name__, args, kwargs, depth, node)
        try:
            callee_node, callee_info = frontend.parse(callee, lambdas=True)
            desugar(callee_node, callee_info)
        except SourceUnavailable as error:
            raise located(SourceUnavailable, f"cannot inline the call to `{callee.__qualname__}`: {error.reason}",
                          self.info.location(node), error.advice) from None
        callee_info.calls = self.info.calls + self.info.call_site(node)
        signature = inspect.signature(callee)
        nested = Lowering(callee, callee_info, callee_node, self.inline_stack + (callee.__code__,),
                          self.root_globals, self.body, self.visible, parent=self)
        name = callee.__name__
        if name == "<lambda>" and isinstance(getattr(node, "func", None), gast.Name):
            name = node.func.id  # (`relu = lambda z: ...`: named as the call names it)
        return self.enter(nested, signature, args, kwargs, node, name,
                          lambda: nested.lower_body(callee_node), constructing)

    def enter(self, nested, signature, args, kwargs, node, name, lower_body, constructing=False):
        """Bind the arguments of an inlined call in `nested`, then lower its body with `lower_body`."""
        try:
            bound = signature.bind(*args, **dict(kwargs))
        except TypeError as error:
            self.unsupported(node, f"this call to `{name}` ({error})",
                             f"Call `{name}` with the arguments its definition asks for.")
        bound.apply_defaults()
        for param_name, param in signature.parameters.items():
            value = bound.arguments[param_name]
            if param.kind is param.VAR_POSITIONAL:
                value = Pack("tuple", list(value))
            elif param.kind is param.VAR_KEYWORD:
                value = make_dict(value.items())
            elif isinstance(value, _Default):
                value = value.expr
            nested.env[param_name] = value if isinstance(value, (Var, Const, Global, Ref, Pack)) else \
                nested.as_operand(Static(value, param_name), node)
        first = next(iter(signature.parameters), None)
        nested.foreign = [value for param_name, value in nested.env.items()
                          if isinstance(value, (Var, Pack)) and not (constructing and param_name == first)]
        result = lower_body()
        return nested.env[first] if constructing else result

    def inline_closure(self, closure, args, kwargs, node):
        """Lower a call to a function defined inside the function (`def` or `lambda`)."""
        definer = closure.lowering
        stack = self.inline_stack + (id(closure.node),)
        depth = self.inline_stack.count(id(closure.node))
        if depth:
            self.check_recursion(closure.name, args, kwargs, depth, node)
        nested = Lowering(definer.fn, definer.info, closure.node, stack, self.root_globals, self.body,
                          self.visible, parent=self, outer=definer)
        if isinstance(closure.node, gast.Lambda):
            def lower_body():
                return nested.operand(closure.node.body)
        else:
            def lower_body():
                return nested.lower_body(closure.node)
        return self.enter(nested, self.signature_of_closure(closure), args, kwargs, node, closure.name, lower_body)

    def check_recursion(self, name, args, kwargs, depth, node):
        """A recursive call can be inlined when an integer known while compiling bounds its depth."""
        self.shared["recursive_calls"] += 1
        if self.shared["recursive_calls"] > MAX_RECURSIVE_CALLS:
            # each call is inlined: a function that calls itself twice (`fib(n - 1) + fib(n - 2)`) doubles
            # its calls with each level, and compiling them would take minutes before running out of memory
            raise located(UnsupportedSyntax, f"adjoint does not support recursion that makes more than "
                          f"{MAX_RECURSIVE_CALLS} calls in all (here, of `{name}`)",
                          self.info.location(node),
                          "Each call is inlined into the derivative, and a function that calls itself more than "
                          "once computes the same values again and again. Write the computation as a loop that "
                          "computes each value once (as a memo of the values computed would).")
        if depth >= MAX_RECURSION:
            error = located(UnsupportedSyntax, f"adjoint does not support recursion deeper than {MAX_RECURSION} "
                            f"calls of `{name}`", self.info.location(node), "Write the computation as a loop.")
            # A count up to an int known only when it runs (`up(x, i + 1, n)` until `i == n`) never
            # folds its test: the transform may retry with the ints specialised, as for a count down.
            error.recursion = not all(isinstance(value, Const) for value in list(args) + [v for _, v in kwargs])
            raise error
        if not any(isinstance(value, Const) and type(value.value) in (int, bool)
                   for value in list(args) + [v for _, v in kwargs]):
            error = located(UnsupportedSyntax, f"adjoint does not support the recursive call to `{name}` here: "
                            "how deep it goes depends on values known only when the function runs",
                            self.info.location(node),
                            "Make the depth an int argument of the function you differentiate (adjoint then "
                            "compiles one derivative per value of it), or write the computation as a loop.")
            error.recursion = True
            raise error


MAX_RECURSION = 100         # calls of one function inside each other
MAX_RECURSIVE_CALLS = 500   # recursive calls in one function being lowered, all of them: about half a second


def _packs(value):
    if isinstance(value, Pack):
        yield value
        for item in value.items:
            yield from _packs(item)


def holds_functions(value):
    """A tuple or list of functions (`ACTIVATIONS = (np.tanh, relu)`): known while compiling, so that
    `ACTIVATIONS[0](x)` and `for act in ACTIVATIONS` call the function itself."""
    return isinstance(value, (list, tuple)) and any(is_function(item) for item in value)


def _is_static(value):
    return isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
                              types.MethodType, np.ufunc)) or callable(value) and not isinstance(value, np.ndarray)


def _module_of(fn):
    """The module whose namespace is `fn`'s globals, if it is an imported module."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    return module if module is not None and getattr(module, "__dict__", None) is fn.__globals__ else None
