"""Which names may hold the same array, and refusing (or checking when the code runs) what the
SSA form cannot follow.

Every change in place is a new SSA value; `rebind` gives it to every name that held the old one,
which is Python's aliasing when the names are known while compiling (`z = y`). What is known only
at run time is refused: a name whose value came through a branch or loop merge that may be the
changed array (`may_be` follows the merges, and the lists that hold values), an array a caller
passed to an inlined helper. A view read after its array changed, and `x op= e` on an array
another name holds, depend on shapes and types: those are checked when the derivative runs
(`runtime.refuse_changed_view`).
"""
import gast
import numpy as np

from . import runtime as rt
from .errors import UnsupportedSyntax, located
from .ir import Apply, Assign, Const, Global, Pack, Ref, Var
from .syntax import Static

_OPERATOR_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//", gast.Mod: "%",
                  gast.Pow: "**", gast.MatMult: "@", gast.BitAnd: "&", gast.BitOr: "|", gast.BitXor: "^",
                  gast.LShift: "<<", gast.RShift: ">>"}


class AliasLowering:
    """Mixed into `Lowering`: needs `env`, `body`, `shared`, `foreign`, `info`, `unsupported`."""

    def rebind(self, old, new):
        """Every name, tuple, list and dict that holds `old` holds `new` now (Python's aliasing)."""
        for name, value in list(self.env.items()):
            replaced = with_replaced(value, old, new)
            if replaced is not value:
                self.env[name] = replaced

    def check_local(self, name, value, node):
        """Refuse to change a value the function was given by its caller, when inlined."""
        if isinstance(value, (Global, Ref, Static)):
            what = "a module global" if isinstance(value, Global) else "a value the function reads from outside"
            self.unsupported(node, f"changing `{name}` in place: it is {what}",
                             f"Change a copy: `{name} = {name}.copy()` first.")
        if name not in self.env:
            self.unsupported(node, f"changing `{name}`, a variable of the enclosing function",
                             "Return the new value from the inner function instead.")
        if any(leaf is held or holds(leaf, held) for leaf in self.foreign for held in [value, *self.may_be(value)]):
            self.unsupported(node, f"changing `{name}` in place, which the caller passed to "
                             f"`{self.info.function_name}`",
                             f"Change a copy (`{name} = {name}.copy()`) and return it; the caller then "
                             "assigns the result.")

    def check_merged_aliases(self, name, current, node):
        """Refuse an in-place change another name may see only at run time: one whose value came
        through a branch or a loop (`for ...: y = x`) and may be this very array. Aliases by plain
        assignment (`y = x`) are followed exactly, by `rebind`. Inside a loop the check is made
        again when the loop is finished, when what its variables hold on later trips is known."""
        others = {other: held for other, held in self.env.items()
                  if other != name and isinstance(held, Var) and held is not current}
        mine = self.may_be(current)
        for other, held in list(others.items()):
            if any(mine & self.may_be(base) for base in self.looked_into(held)):
                # a view or not, by the shape: asked when the code runs (`refuse_changed_view`)
                what, advice = self.view_refusal(name, other)
                error = located(UnsupportedSyntax, f"adjoint does not support {what}", self.info.location(node), advice)
                self.body.append(Assign(None, Apply(rt.refuse_changed_view, (held, current, Const(error))),
                                        self.info.location(node)))
                del others[other]
        self.refuse_hidden_alias(name, current, node, others)
        if self.shared["loop_depth"]:
            self.shared["loop_changes"].append((name, current, node, others))

    def refuse_hidden_alias(self, name, current, node, others):
        """Refuse the change if another name may hold the same array, or a view of it, at run time
        (with what the merges made so far say)."""
        mine = self.may_be(current)
        for other, held in others.items():
            if mine & self.may_be(held):
                self.unsupported(node, f"changing `{name}` in place while `{other}` may hold the same "
                                 "array (assigned in a branch or a loop, or kept in a list)",
                                 f"Copy where it is assigned (`{other} = {name}.copy()`), or change a copy "
                                 f"of `{name}`.")
            if any(mine & self.may_be(base) for base in self.looked_into(held)):
                self.unsupported(node, *self.view_refusal(name, other))

    def check_in_place_operator(self, name, current, node):
        """`x op= e` changes an array in place but rebinds a number; adjoint rebinds, which is the
        same unless another name holds the array (or a view of it), or the caller does: that is
        asked when the code runs, when it is known whether `x` is an array."""
        symbol = _OPERATOR_TEXT.get(type(node.op), "op")
        outside = _object_of(current)
        if isinstance(outside, (np.ndarray, list)):  # a global's or a captured array: Python changes it
            self.unsupported(node, f"`{name} {symbol}= ...` on an array the function reads from outside "
                             "(Python would change it in place, for every later call)",
                             f"Write `{name} = {name} {symbol} ...` (a new array).")
        if not isinstance(current, Var):
            return
        mine = self.memory_of(current)
        sharing = [other for other, held in self.env.items()
                   if other != name and isinstance(held, Var) and mine & self.memory_of(held)]
        if any(leaf is held or holds(leaf, held) for leaf in self.foreign for held in mine):
            sharing.append(f"the caller of `{self.info.function_name}`")
        for other in sharing:
            who = other if other.startswith("the caller") else f"`{other}`"
            error = located(UnsupportedSyntax, f"adjoint does not support `{name} {symbol}= ...` on an array whose "
                            f"memory {who} also holds (Python changes it in place, so {who} would see the change)",
                            self.info.location(node), f"Write `{name} = {name} {symbol} ...` (a new array), or copy "
                            "where the array is shared (`.copy()`).")
            held = self.env.get(other, current) if not other.startswith("the caller") else current
            self.body.append(Assign(None, Apply(rt.refuse_changed_view, (held, current, Const(error))),
                                    self.info.location(node)))

    @staticmethod
    def view_refusal(name, other):
        return (f"changing `{name}` in place while `{other}` is a view of it (a row, a slice or a transpose), "
                "which would change too",
                f"Make `{other}` a copy where it is assigned (`{other} = ....copy()`).")

    def memory_of(self, var):
        """The values whose memory `var` may use: those it may be, and the arrays it may be a view of."""
        found = set(self.may_be(var))
        for base in self.looked_into(var):
            found |= self.may_be(base)
        return found

    def looked_into(self, var):
        """The arrays `var` may be a view of (through views of views)."""
        views, found, stack = self.shared["views"], [], [var]
        while stack:
            for value in self.may_be(stack.pop()):
                base = views.get(value)
                if isinstance(base, Var) and base not in found:
                    found.append(base)
                    stack.append(base)
        return found

    def may_be(self, var):
        """The values `var` may be the very same object as: itself and, through branch and loop
        merges, each value merged into it."""
        merged, seen, stack = self.shared["merged"], set(), [var]
        while stack:
            value = stack.pop()
            if isinstance(value, Var) and value not in seen:
                seen.add(value)
                stack.extend(merged.get(value, ()))
        return seen


def holds(value, leaf):
    """Does the tuple, list or dict `value` hold `leaf` (at any depth)?"""
    return isinstance(value, Pack) and any(item is leaf or holds(item, leaf) for item in value.items)


def with_replaced(value, old, new):
    """`value` with `old` replaced by `new`, inside tuples, lists and dicts too."""
    if value is old:
        return new
    if isinstance(value, Pack) and holds(value, old):
        return Pack(value.kind, [with_replaced(item, old, new) for item in value.items])
    return value


def _object_of(value):
    """The object a value read from outside the function stands for (None for the function's own)."""
    if isinstance(value, Global):
        return value.value
    if isinstance(value, Ref):
        return value.obj
    return value.value if isinstance(value, Const) else None
