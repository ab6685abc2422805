"""The table of supported functions, made from the rule table itself (docs/rules.md).

    python -m adjoint.rules.table > docs/rules.md
"""
import builtins
import math
import operator

from .. import runtime
from ..codegen import _QUALIFIED
from ..ir import INFIX, PREFIX, Attribute, Method
from .registry import NONDIFF, RULES


def display_name(fn):
    if isinstance(fn, Attribute):
        return f"x.{fn.name}"
    if isinstance(fn, Method):
        return f"x.{fn.name}(...)"
    if fn is operator.getitem:
        return "x[index]"
    if fn in INFIX:
        return f"a {INFIX[fn]} b"
    if fn in PREFIX:
        return f"{PREFIX[fn].strip()}a"
    qualified = _QUALIFIED.get(id(fn))
    if qualified is not None and qualified[2] is fn:
        return f"{qualified[0]}.{qualified[1]}"
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return fn.__name__
    return getattr(fn, "__qualname__", repr(fn))


def _group(fn):
    if fn in INFIX or fn in PREFIX or fn is operator.getitem or isinstance(fn, (Attribute, Method)):
        return "Python operators, indexing and array attributes"
    module = getattr(fn, "__module__", "") or ""
    if getattr(runtime, getattr(fn, "__name__", ""), None) is fn:
        return "adjoint's runtime helpers (so derivative code is itself differentiable)"
    if module == "math" or getattr(math, getattr(fn, "__name__", ""), None) is fn:
        return "math"
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return "builtins"
    if id(fn) in _QUALIFIED:
        return "numpy"
    return None  # a rule a user added (adjoint.defvjp): not part of adjoint


def _modes(rule):
    reverse = [p.name for p in rule.params if p.name in rule.vjp]
    forward = [p.name for p in rule.params if p.name in rule.jvp]
    return ", ".join(reverse) or "—", ", ".join(forward) or "—"


def markdown():
    """docs/rules.md: every function with a rule, what it differentiates, and the constants."""
    groups = {}
    for fn, rule in RULES.items():
        group = _group(fn)
        if group is not None:
            groups.setdefault(group, {})[display_name(fn)] = rule
    lines = ["# Functions adjoint differentiates", "",
             "Generated from the rule table (`adjoint/rules/`) by `python -m adjoint.rules.table > docs/rules.md`;",
             "a test keeps it current. For each function: the arguments a gradient flows to in reverse mode",
             "and in forward mode. Your own functions get rules with `adjoint.defvjp` / `adjoint.defjvp`.", ""]
    order = ["Python operators, indexing and array attributes", "builtins", "math", "numpy",
             "adjoint's runtime helpers (so derivative code is itself differentiable)"]
    for group in order:
        if group not in groups:
            continue
        lines += [f"## {group}", "", "| function | reverse mode, wrt | forward mode, wrt |", "|---|---|---|"]
        for name in sorted(groups[group]):
            reverse, forward = _modes(groups[group][name])
            lines.append(f"| `{name}` | {reverse} | {forward} |")
        lines.append("")
    constants = sorted({display_name(fn) for fn in NONDIFF})
    lines += ["## Constants: no derivative flows through these", "",
              "Their results are treated as constants (they are piecewise constant, integer-valued, or "
              "about shapes), so using them on a differentiated value is fine:", "",
              ", ".join(f"`{name}`" for name in constants), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(), end="")
