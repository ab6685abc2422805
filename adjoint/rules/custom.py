"""Rules users write: `adjoint.primitive`, `adjoint.defvjp`, `adjoint.defjvp`.

A rule is given as a Python function, usually a lambda:

    adjoint.defvjp(logsumexp, lambda g, ans, x: g * np.exp(x - ans))

`g` is the adjoint of the result (for `defjvp`: the tangent of the argument),
`ans` the result, then the primitive's arguments. When the rule is a lambda or
a one-line `def ... return expr`, its expression is inlined into generated code
exactly as the built-in rules are; otherwise generated code calls it.
"""
import ast
import copy
import inspect

import gast

from ..errors import InvalidArgument
from ..frontend import lambda_node, parsed_file
from .registry import _REQUIRED, RULES, Param, Rule, Template


def primitive(fn):
    """Declare `fn` opaque: adjoint calls it as it is and differentiates it only by the rules you give."""
    if fn not in RULES:
        RULES[fn] = Rule(fn, "", {}, {})
        RULES[fn].params = _params(fn)
    return fn


def defvjp(fn, *vjps):
    """Give `fn` reverse-mode rules, one per argument: `lambda g, ans, *args: <adjoint of that argument>`
    (None for an argument no gradient flows to). Makes `fn` a primitive if it is not one."""
    rule = RULES[primitive(fn)]
    for param, maker in _per_param(fn, rule, vjps, "defvjp"):
        rule.vjp[param.name] = rule_template(maker, "g", rule)
    _forget_compiled()
    return fn


def defjvp(fn, *jvps):
    """Give `fn` forward-mode rules, one per argument: `lambda d, ans, *args: <tangent of the result
    from that argument's tangent d>`. Makes `fn` a primitive if it is not one."""
    rule = RULES[primitive(fn)]
    for param, maker in _per_param(fn, rule, jvps, "defjvp"):
        rule.jvp[param.name] = rule_template(maker, "d" + param.name, rule)
    _forget_compiled()
    return fn


def _per_param(fn, rule, makers, what):
    if len(makers) > len(rule.params):
        raise InvalidArgument(f"{what}: {fn.__qualname__} has {len(rule.params)} parameters, "
                              f"but {len(makers)} rules were given")
    return [(param, maker) for param, maker in zip(rule.params, makers) if maker is not None]


def _params(fn):
    params = []
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            raise InvalidArgument(f"adjoint.primitive: {fn.__qualname__} must take plain positional parameters")
        default = _REQUIRED if parameter.default is parameter.empty else parameter.default
        params.append(Param(parameter.name, default, None))
    return params


def _forget_compiled():
    """Rules changed: derivatives compiled before must not be reused."""
    from .. import transform
    transform.clear_caches()


# -- a rule function's expression ------------------------------------------------------------


def rule_template(maker, first, rule):
    """A `Template` for the rule function `maker`, whose parameters are (first, ans, *rule params)."""
    expected = [first, "ans"] + [p.name for p in rule.params]
    names = _positional_names(maker)
    tree = _expression(maker) if names is not None and len(names) == len(expected) else None
    hint = getattr(maker, "__name__", "rule")
    hint = hint if hint.isidentifier() else "rule"
    call = gast.Call(gast.Name(hint, gast.Load(), None, None),
                     [gast.Name(n, gast.Load(), None, None) for n in expected], [])
    called = Template(call, {hint: maker})  # generated code calls the rule
    if tree is None:  # not an expression to inline
        return called
    # (an expression using what templates cannot say, `a < x < b` say, is called too)
    # its module's globals are read when the rule is used, numbers when the derivative runs (a
    # copy made now would keep the values they had when the rule was given)
    closure, module_globals = _closure(maker), getattr(maker, "__globals__", {})
    reads = sorted({node.id for node in gast.walk(tree) if isinstance(node, gast.Name)} - set(names) - set(closure))
    return Template(_renamed(tree, dict(zip(names, expected))), closure, fallback=called, globals=module_globals,
                    global_names=tuple(reads))


def _positional_names(fn):
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        return None
    return list(code.co_varnames[:code.co_argcount])


def _closure(fn):
    values = {}
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            values[name] = cell.cell_contents
        except ValueError:
            pass
    return values


def _expression(fn):
    """The expression a lambda (or a `def` whose body is one `return`) computes, as gast; or None."""
    module = parsed_file(fn.__code__.co_filename)
    if module is None:
        return None
    code = fn.__code__
    if fn.__name__ == "<lambda>":
        node = lambda_node(code, module)
        return None if node is None else gast.ast_to_gast(copy.deepcopy(node.body))
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef) and node.lineno <= code.co_firstlineno and \
                node.name == fn.__name__ and len(node.body) == 1 and isinstance(node.body[0], ast.Return) \
                and node.body[0].value is not None:
            if _definition_line(node) == code.co_firstlineno:
                return gast.ast_to_gast(copy.deepcopy(node.body[0].value))
    return None


def _definition_line(node):
    return node.decorator_list[0].lineno if node.decorator_list else node.lineno


def _renamed(tree, mapping):
    tree = copy.deepcopy(tree)
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in mapping:
            node.id = mapping[node.id]
    return tree
