"""The derivative rule table and the little language its entries are written in.

A rule is data: for each parameter of a primitive, a Python expression for its
vector-Jacobian product (in terms of `g`, the adjoint of the result, `ans`, the
result, and the parameters) and for its Jacobian-vector product (in terms of
`d<param>`, the parameter's tangent). Elementwise rules give just the partial
derivative; `g * partial` and `dx * partial` follow. Templates are parsed once
and inlined into generated code, so a rule reads the same in the table and in
the output.
"""
import builtins
import functools
import math
import sys
import types

import gast
import numpy as np

from .. import runtime
from ..frontend import is_user_module
from ..ir import Attribute, Const, Pack, Ref, Var, walk
from ..syntax import ExpressionConverter, Static, read_live

RULES = {}        # callable -> Rule
NONDIFF = set()   # callables whose result never carries a derivative
METHODS = {}      # array method name -> (numpy function, packs varargs into one tuple)
WITHOUT_RULES = {}  # callable -> (why it has no rule, what to write instead), for the error when one is needed

_REQUIRED = object()


class Param:
    """One parameter of a primitive. `sequence`: a list of values (`xs: seq`);
    `const`: only its shape or its truth values matter, so no derivative flows through it (`x: const`)."""

    __slots__ = ("name", "default", "sequence", "const", "varargs")

    def __init__(self, name, default, kind, varargs=False):
        self.name, self.default = name, default
        self.sequence, self.const = kind == "seq" or varargs, kind == "const"
        self.varargs = varargs  # `*xs`: the remaining positional arguments, as one sequence


class Rule:
    """Derivative rules of one primitive.

    `out` says what is known of the result's shape: "elementwise" (the broadcast
    of the arguments), "scalar", "reduce" (scalar unless an axis is given),
    "like:<param>" (the shape of that parameter) or "unknown".
    """

    def __init__(self, fn, params, vjp, jvp, elementwise=False, out="unknown"):
        self.fn = fn
        self.params = parse_params(params)
        self.vjp = {name: template(text) for name, text in vjp.items()}
        self.jvp = {name: template(text) for name, text in jvp.items()}
        self.elementwise = elementwise
        self.out = out
        self.adjoint_order = None  # parameter names whose adjoints reverse mode writes first (else: in order)
        for name in list(self.vjp) + list(self.jvp):
            if name not in {p.name for p in self.params}:
                raise ValueError(f"rule for {fn!r} names unknown parameter {name!r}")

    def params_for_adjoints(self):
        """The parameters in the order reverse mode writes their adjoints."""
        if self.adjoint_order is None:
            return self.params
        first = [p for name in self.adjoint_order for p in self.params if p.name == name]
        return first + [p for p in self.params if p not in first]

    def bind(self, args, kwargs):
        """Map parameter names to the argument expressions of a call; None if they do not fit."""
        if self.params and self.params[-1].varargs:
            fixed = len(self.params) - 1
            args = tuple(args[:fixed]) + (Pack("tuple", args[fixed:]),) if len(args) > fixed else tuple(args)
        if len(args) > len(self.params):
            return None
        bound = {}
        for param, arg in zip(self.params, args):
            bound[param.name] = arg
        for key, value in kwargs:
            if key in bound or key not in {p.name for p in self.params}:
                return None
            bound[key] = value
        for param in self.params:
            if param.name not in bound:
                if param.default is _REQUIRED:
                    return None
                bound[param.name] = Const(param.default)
        return bound

    def sequence(self, name):
        return next(p.sequence for p in self.params if p.name == name)


def parse_params(text):
    """`"x, axis=None, keepdims=False"`, `"xs: seq, axis=0"`, `"v, x: const"` or `"spec, *xs"` -> [Param]."""
    args = gast.parse(f"def _({text}): pass").body[0].args
    defaults = [_REQUIRED] * (len(args.args) - len(args.defaults)) + [_literal(d) for d in args.defaults]
    params = [Param(a.id, default, a.annotation.id if a.annotation is not None else None)
              for a, default in zip(args.args, defaults)]
    if args.vararg is not None:
        params.append(Param(args.vararg.id, _REQUIRED, None, varargs=True))
    return params


def _literal(node):
    """A default value: a constant, or a negative number (`axis=-1`)."""
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        return -_literal(node.operand)
    return node.value


# -- templates ---------------------------------------------------------------

NAMESPACE = {"np": np, "math": math}
NAMESPACE.update({name: getattr(runtime, name) for name in dir(runtime) if not name.startswith("_")})


@functools.lru_cache(maxsize=None)
def template(text):
    return gast.parse(text).body[0].value


class Template:
    """A rule expression written by a user: its tree, the names it can see fixed (its closure), and
    the module globals it reads: `globals`, the module's dict itself (read when the rule is used),
    and `global_names`, those of its names the expression reads."""

    __slots__ = ("tree", "namespace", "fallback", "globals", "global_names")

    def __init__(self, tree, namespace, fallback=None, globals=None, global_names=()):
        self.tree, self.namespace, self.globals, self.global_names = tree, namespace, globals, global_names
        self.fallback = fallback  # a call of the user's function, where the expression cannot be inlined


class _TemplateConverter(ExpressionConverter):
    def __init__(self, env, namespace=NAMESPACE, user_globals=None):
        self.env = env
        self.namespace = namespace
        self.user_globals = user_globals

    def name(self, identifier, node):
        if identifier in self.env:
            return self.env[identifier]
        if identifier in self.namespace:
            return Static(self.namespace[identifier], identifier)
        if self.user_globals is not None and identifier in self.user_globals:
            value = self.user_globals[identifier]
            if read_live(value):  # `K` in `lambda g, ans, x: g * K`: as the module has it when the code runs
                return self.make(Attribute(identifier), (_module_ref(self.user_globals),), (), node)
            return Static(value, identifier)
        return Static(getattr(builtins, identifier), identifier)

    def visit_Attribute(self, node):
        value = self.convert(node.value)
        if isinstance(value, Static) and isinstance(value.obj, types.ModuleType) and is_user_module(value.obj) \
                and read_live(getattr(value.obj, node.attr, None)):  # `config.K`: read when the code runs, as `K` is
            return self.make(Attribute(node.attr), (Ref(value.obj, value.name),), (), node)
        if isinstance(value, Static):
            try:
                return Static(getattr(value.obj, node.attr), f"{value.name}.{node.attr}")
            except AttributeError:
                self.unsupported(node, f"attribute `{node.attr}`, which `{value.name}` does not have")
        return self.attribute(value, node.attr, node)

    def call(self, func, args, kwargs, node):
        return self.make(func.obj, args, kwargs, node)

    def method_call(self, value, method, args, kwargs, node):
        raise ValueError(f"rule templates call numpy functions, not methods (`.{method}`)")

    def unsupported(self, node, what):
        raise ValueError(f"rule template uses {what}")


def _module_ref(namespace):
    """The module whose globals `namespace` is, as a value of generated code (`module.K` reads it)."""
    module = sys.modules.get(namespace.get("__name__") or "")
    if module is None or getattr(module, "__dict__", None) is not namespace:
        module = types.ModuleType(namespace.get("__name__") or "rule_globals")
        module.__dict__.update(namespace)  # (an exec'd namespace: no module reads it; a copy is what there is)
    return Ref(module, module.__name__.replace(".", "_"))


def instantiate(tree, env):
    """The IR expression for a parsed template (or a user's `Template`), its names bound by `env`."""
    if isinstance(tree, Template):
        try:
            return _TemplateConverter(env, tree.namespace, tree.globals).operand(tree.tree)
        except ValueError:
            if tree.fallback is None:
                raise
            return instantiate(tree.fallback, env)
    return _TemplateConverter(env).operand(tree)


# -- writing the table -------------------------------------------------------

def _times(factor, partial):
    if partial == "1":
        return factor
    if partial == "-1":
        return f"-{factor}"
    return f"{factor} * ({partial})"


def elementwise(fn, params, out="elementwise", **partials):
    """A broadcasting function given by its partial derivatives, one per parameter."""
    RULES[fn] = Rule(
        fn, params,
        vjp={name: _times("g", partial) for name, partial in partials.items()},
        jvp={name: _times("d" + name, partial) for name, partial in partials.items()},
        elementwise=True, out=out)


def unary(fn, partial, out="elementwise"):
    elementwise(fn, "x", out=out, x=partial)


def binary(fn, out="elementwise", **partials):
    elementwise(fn, "x, y", out=out, **partials)


def structural(fn, params, vjp, jvp, out="unknown", broadcasting=False):
    """A function given by full vjp and jvp templates per parameter."""
    RULES[fn] = Rule(fn, params, vjp, jvp, elementwise=broadcasting, out=out)


def same_as(fn, existing):
    """`fn` has exactly the rules of `existing` (e.g. `np.add` and `+`)."""
    RULES[fn] = RULES[existing]


def nondiff(*fns):
    NONDIFF.update(fns)


def without_rule(fn, why, advice):
    """`fn` has no rule on purpose (a constant would be silently wrong): say why when a derivative needs one."""
    WITHOUT_RULES[fn] = (why, advice)


def methods(packs_varargs=(), **table):
    for name, fn in table.items():
        METHODS[name] = (fn, name in packs_varargs)


def rule_for(fn):
    try:
        return RULES.get(fn)
    except TypeError:  # unhashable callables have no rules
        return None


def is_nondiff(fn):
    try:
        return fn in NONDIFF
    except TypeError:
        return False


def template_vars(expr):
    return [node for node in walk(expr) if isinstance(node, Var)]


__all__ = ["RULES", "NONDIFF", "METHODS", "WITHOUT_RULES", "Rule", "Pack", "instantiate", "rule_for", "is_nondiff"]
