"""Which names may hold the same array, and refusing (or checking when the code runs) what the
SSA form cannot follow.

Every change in place is a new SSA value; `rebind` gives it to every name that held the old one,
which is Python's aliasing when the names are known while compiling (`z = y`). What is known only
at run time is refused: a name whose value came through a branch or loop merge that may be the
changed array (`may_be` follows the merges, and the lists that hold values), an array a caller
passed to an inlined helper. A view read after its array changed, and `x op= e` on an array
another name holds, depend on shapes and types: those are checked when the derivative runs
(`runtime.refuse_changed_view`).

Memory from outside the function (a global, a captured value, and whatever is read out of one
without a copy: `MODEL.W`, `LAYERS[0]`, a view of either) is marked where it is read; changing it in
place is refused, since Python would change the global for every later call. So are calls that
change an argument in place (`a.fill(v)`, `np.copyto`, `out=`), which the SSA form would not see.
"""
import functools
import inspect
import operator
import random

import gast
import numpy as np

from . import runtime as rt
from .errors import UnsupportedSyntax, located
from .frontend import is_structure
from .ir import Apply, Assign, Attribute, Const, Global, Method, Pack, Ref, Var, hashable
from .rules.table import display_name
from .syntax import Static

_OPERATOR_TEXT = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.FloorDiv: "//", gast.Mod: "%",
                  gast.Pow: "**", gast.MatMult: "@", gast.BitAnd: "&", gast.BitOr: "|", gast.BitXor: "^",
                  gast.LShift: "<<", gast.RShift: ">>"}


# Calls that change an argument in place, and what to write instead. The SSA form cannot see such a
# change (a later read would get the value from before it), so they are refused: a silently wrong
# derivative is the alternative. Lists and dicts built in the function have their own lowering
# (`xs.append`, `d.update`); these names reach here only on other objects (a global list, an array).
_IN_PLACE_OPERATORS = [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("floordiv", "//"),
                       ("mod", "%"), ("pow", "**"), ("matmul", "@"), ("and", "&"), ("or", "|"), ("xor", "^"),
                       ("lshift", "<<"), ("rshift", ">>")]
_ARRAY_ADVICE = "an item assignment (`a[i] = v`, which adjoint follows) or a function that returns a new array"
_METHODS_CHANGING_IN_PLACE = {
    "fill": "`a = np.full_like(a, v)`",
    "sort": "`a = np.sort(a)` (or `xs = sorted(xs)`)",
    "partition": "`a = np.partition(a, k)`",
    "put": _ARRAY_ADVICE,
    "itemset": _ARRAY_ADVICE,
    "resize": "`a = np.resize(a, shape)`",
    "__setitem__": _ARRAY_ADVICE,
    "__delitem__": "a new list or array without the item",
    **dict.fromkeys(["append", "extend", "insert", "remove", "pop", "clear", "reverse"],
                    "a list built in the function (`xs = list(...)`), then change that"),
    **dict.fromkeys(["update", "setdefault", "popitem"], "a new dict (`d = {**d, key: v}`)"),
    **{f"__i{name}__": f"`a = a {symbol} b`" for name, symbol in _IN_PLACE_OPERATORS},
}
_FUNCTIONS_CHANGING_IN_PLACE = {
    np.copyto: "`a = np.where(mask, b, a)`",
    np.put: _ARRAY_ADVICE,
    np.place: "`a = np.where(mask, values, a)`",
    np.putmask: "`a = np.where(mask, values, a)`",
    np.fill_diagonal: "`a[np.diag_indices(n)] = v` (an item assignment, which adjoint follows)",
    np.put_along_axis: _ARRAY_ADVICE,
    np.random.shuffle: "`a = np.random.permutation(a)`",
    random.shuffle: "`xs = random.sample(xs, len(xs))`",
    operator.setitem: _ARRAY_ADVICE,
    operator.delitem: "a new list or array without the item",
    **{getattr(operator, f"i{name}"): f"`a = a {symbol} b`" for name, symbol in _IN_PLACE_OPERATORS},
}


class AliasLowering:
    """Mixed into `Lowering`: needs `env`, `body`, `shared`, `foreign`, `info`, `unsupported`."""

    def rebind(self, old, new):
        """Every name, tuple, list and dict that holds `old` holds `new` now (Python's aliasing)."""
        for name, value in list(self.env.items()):
            replaced = with_replaced(value, old, new)
            if replaced is not value:
                self.env[name] = replaced

    def check_local(self, name, value, node):
        """Refuse to change in place what is not the function's own: a global, something read out of
        one, a variable of the enclosing function, or (when inlined) what the caller passed."""
        origin = self.outside_origin(value)
        if origin is not None:
            self.unsupported(node, f"changing `{name}` in place: it is {origin}",
                             f"Change a copy: `{name} = {name}.copy()` first.")
        if name not in self.env:
            self.unsupported(node, f"changing `{name}`, a variable of the enclosing function",
                             "Return the new value from the inner function instead.")
        if any(leaf is held or holds(leaf, held) for leaf in self.foreign for held in [value, *self.objects(value)]):
            self.unsupported(node, f"changing `{name}` in place, which the caller passed to "
                             f"`{self.info.function_name}`",
                             f"Change a copy (`{name} = {name}.copy()`) and return it; the caller then "
                             "assigns the result.")

    def outside_origin(self, value):
        """How `value` may be memory from outside the function (a phrase), or None if it is its own."""
        if isinstance(value, Global):
            return "a module global"
        if isinstance(value, (Ref, Static, Const)):
            return "a value the function reads from outside"
        if isinstance(value, Pack) and value in self.shared["outside"] \
                or isinstance(value, Var) and self.objects(value) & self.shared["outside"]:
            return "read out of a global or a captured object, which Python would change too"
        if isinstance(value, Var):  # a loop or a branch may hand on what came from outside (`a = C; for ...: a[0] = v`)
            merged = [m for v in self.may_be(value) for m in self.shared["merged"].get(v, ())
                      if not isinstance(m, (Var, Const))]
            return next((self.outside_origin(m) for m in merged), None)
        return None

    def note_read_from_outside(self, var, fn, args, bases):
        """Mark `var = fn(*args)` if it reads out of (or views, through `bases`) an object from outside,
        which changing `var` in place would change. Marks pass on to views and reads of `var` (`MODEL.W[0]`)."""
        sources = bases or (args[:1] if isinstance(fn, Attribute) else ())
        for source in sources:
            if isinstance(source, Var) and self.may_be(source) & self.shared["outside"] \
                    or isinstance(self.known_object(source), (np.ndarray, list, dict)) \
                    or is_structure(self.known_object(source)):
                self.shared["outside"].add(var)
                return

    def refuse_change_in_place(self, fn, args, kwargs, node):
        """Refuse a call that changes one of its arguments in place (`a.fill(0)`, `np.copyto`,
        `out=`, `np.add.at`): the derivative would go on reading the value from before."""
        if isinstance(fn, Method):
            advice = _METHODS_CHANGING_IN_PLACE.get(fn.name)
            what = f"`.{fn.name}(...)`, which changes the array or list it is called on"
        elif hashable(fn) and fn in _FUNCTIONS_CHANGING_IN_PLACE:
            advice, what = _FUNCTIONS_CHANGING_IN_PLACE[fn], f"`{display_name(fn)}`, which changes its argument"
        elif getattr(fn, "__name__", None) == "at" and isinstance(getattr(fn, "__self__", None), np.ufunc):
            advice, what = _ARRAY_ADVICE, f"`np.{fn.__self__.__name__}.at`, which changes its argument"
        else:
            advice = what = None
        if advice is not None:
            self.unsupported(node, f"{what} in place (the derivative would read the value from before the "
                             "change)", f"Write {advice} instead.")
        position = _out_position(fn)
        out = [value for key, value in kwargs if key == "out"] + list(args[position:position + 1] if position else ())
        if any(not (isinstance(value, Const) and value.value is None) for value in out):
            self.unsupported(node, "`out=` (or an `out` passed by position: `np.exp(x, y)`), which writes the result "
                             "into an existing array in place",
                             "Assign the result to a name instead (`y = np.f(x)`).")

    def check_merged_aliases(self, name, current, node):
        """Refuse an in-place change another name may see only at run time: one whose value came
        through a branch or a loop (`for ...: y = x`) and may be this very array. Aliases by plain
        assignment (`y = x`) are followed exactly, by `rebind`. Inside a loop the check is made
        again when the loop is finished, when what its variables hold on later trips is known."""
        others = [(other, held) for other, held in self.held_by_others(name) if held is not current]
        mine = self.may_be(current)
        unchecked = []
        for other, held in others:
            if any(mine & self.may_be(base) for base in self.looked_into(held)):
                # a view or not, by the shape: asked when the code runs (`refuse_changed_view`)
                what, advice = self.view_refusal(name, other, held)
                error = located(UnsupportedSyntax, f"adjoint does not support {what}", self.info.location(node), advice)
                self.body.append(Assign(None, Apply(rt.refuse_changed_view, (held, current, Const(error))),
                                        self.info.location(node)))
            else:
                unchecked.append((other, held))
        self.refuse_hidden_alias(name, current, node, unchecked)
        if self.shared["loop_depth"]:
            self.shared["loop_checks"].append(lambda: self.refuse_hidden_alias(name, current, node, unchecked))

    def held_by_others(self, name):
        """(other name, value) for each value another name holds, itself or inside the tuples, lists,
        dicts and objects it holds (`rows = [A[0], A[1]]` holds two views of `A`)."""
        return [(other, leaf) for other, held in self.env.items() if other != name for leaf in var_leaves(held)]

    def refuse_hidden_alias(self, name, current, node, others):
        """Refuse the change if another name may hold the same array, or a view of it, at run time
        (with what the merges made so far say)."""
        mine = self.may_be(current)
        for other, held in others:
            if mine & self.may_be(held):
                self.unsupported(node, f"changing `{name}` in place while `{other}` may hold the same "
                                 "array (assigned in a branch or a loop, or kept in a list)",
                                 f"Copy where it is assigned (`{other} = {name}.copy()`), or change a copy "
                                 f"of `{name}`.")
            if any(mine & self.may_be(base) for base in self.looked_into(held)):
                self.unsupported(node, *self.view_refusal(name, other, held))

    def check_in_place_operator(self, name, current, node):
        """`x op= e` changes an array in place but rebinds a number; adjoint rebinds, which is the
        same unless another name holds the array (or a view of it), or the caller does: that is
        asked when the code runs, when it is known whether `x` is an array."""
        symbol = _OPERATOR_TEXT.get(type(node.op), "op")
        advice = f"Write `{name} = {name} {symbol} ...` (a new array)."
        if isinstance(self.known_object(current), (np.ndarray, list)):  # a global's or a captured array
            self.unsupported(node, f"`{name} {symbol}= ...` on an array the function reads from outside "
                             "(Python would change it in place, for every later call)", advice)
        if not isinstance(current, Var):
            return
        if self.objects(current) & self.shared["outside"]:  # read out of one: an array or a number?
            which = "an array" if current in self.shared["outside"] \
                else "a value that may be (through a branch or a loop) an array"
            error = located(UnsupportedSyntax, f"adjoint does not support `{name} {symbol}= ...` on {which} "
                            "read out of a global or a captured object (Python would change that object in "
                            "place, for every later call)", self.info.location(node), advice)
            self.body.append(Assign(None, Apply(rt.refuse_outside_change, (current, Const(error))),
                                    self.info.location(node)))
        others, body, after, checked = self.held_by_others(name), self.body, self.body[-1] if self.body else None, set()

        def check():
            self.check_operator_sharing(name, symbol, current, node, others, body, after, checked)
        check()
        if self.shared["loop_depth"]:  # asked again when the loop's merges are complete: `y` may be `x` by then
            self.shared["loop_checks"].append(check)

    def check_operator_sharing(self, name, symbol, current, node, others, body, after, checked):
        """Ask when the code runs whether `current`, changed in place by `name op= ...`, shares memory
        with a value another name holds (`others`, as they were at the operator) or the caller does:
        the checks go into `body` after the statement `after`; `checked` holds what is asked already."""
        mine = self.memory_of(current)
        sharing = [(f"`{other}`", held) for other, held in others if mine & self.memory_of(held)]
        if any(leaf is held or holds(leaf, held) for leaf in self.foreign for held in mine):
            sharing.append((f"the caller of `{self.info.function_name}`", current))
        position = 0 if after is None else next((i + 1 for i, stmt in enumerate(body) if stmt is after), None)
        for who, held in sharing:
            if id(held) in checked:
                continue
            checked.add(id(held))
            if position is None:  # (the statement is gone from where it was: refuse, never skip the check)
                self.unsupported(node, f"`{name} {symbol}= ...` on an array whose memory {who} may also hold",
                                 f"Write `{name} = {name} {symbol} ...` (a new array).")
            error = located(UnsupportedSyntax, f"adjoint does not support `{name} {symbol}= ...` on an array whose "
                            f"memory {who} also holds (Python changes it in place, so {who} would see the change)",
                            self.info.location(node), f"Write `{name} = {name} {symbol} ...` (a new array), or copy "
                            "where the array is shared (`.copy()`).")
            body.insert(position, Assign(None, Apply(rt.refuse_changed_view, (held, current, Const(error))),
                                         self.info.location(node)))

    def view_refusal(self, name, other, held):
        if self.env.get(other) is held:
            return (f"changing `{name}` in place while `{other}` is a view of it (a row, a slice, a transpose, a "
                    "flip or a split; or the array itself, which a call with `copy=False` returns), which would "
                    "change too",
                    f"Make `{other}` a copy where it is assigned (`{other} = ....copy()`).")
        return (f"changing `{name}` in place while `{other}` holds a view of it (a row, a slice, a part of a "
                "split, ...), which would change too",
                f"Put copies in `{other}` (`.copy()` of each array), or change a copy of `{name}`.")

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
                for base in views.get(value, ()):
                    if isinstance(base, Var) and base not in found:
                        found.append(base)
                        stack.append(base)
        return found

    def objects(self, value):
        """What changing `value` in place changes: the values it may be (`may_be`), but for a list
        built at run time only the list itself, not the values it holds."""
        return self.list_objects(value) if value in self.shared["lists"] else self.may_be(value)

    def may_be_a_list(self, var):
        """May `var` be a list at run time (built with `append`, or of views: `np.split(y, 2)`)?"""
        return bool(self.list_objects(var) & (self.shared["lists"] | self.shared["lists_of_views"]))

    def list_objects(self, var):
        """The list objects the run-time list `var` may be: `append` keeps the object, a branch or a
        loop merges them; unlike `may_be`, not the values the lists hold."""
        appended_to, merged, found, stack = self.shared["appended_to"], self.shared["merged"], set(), [var]
        while stack:
            value = stack.pop()
            if isinstance(value, Var) and value not in found:
                found.add(value)
                stack.extend([appended_to[value]] if value in appended_to else merged.get(value, ()))
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


def var_leaves(value):
    """The `Var`s in `value`: itself, or those inside a tuple, list, dict or object (at any depth)."""
    if isinstance(value, Var):
        return [value]
    if isinstance(value, Pack):
        return [leaf for item in value.items for leaf in var_leaves(item)]
    return []


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


def _out_position(fn):
    """Where `out` may be passed by position (`np.exp(x, y)`, `x.cumsum(0, None, y)`): numpy's
    functions and array methods take it after their operands; None if they do not."""
    if isinstance(fn, np.ufunc):
        return fn.nin
    if isinstance(fn, Method):
        fn = getattr(np.ndarray, fn.name, None)  # (`self` is the first argument, as here)
    elif not (hashable(fn) and ((getattr(fn, "__module__", None) or "").startswith("numpy")
                                or isinstance(getattr(fn, "__self__", None), np.ufunc))):  # (`np.add.reduce`)
        return None  # (an inlined function's `out` is its own parameter, which lowering follows)
    return _out_parameter(fn) if hashable(fn) else None


@functools.lru_cache(maxsize=None)
def _out_parameter(fn):
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return next((i for i, p in enumerate(parameters) if p.name == "out" and p.kind in positional), None)
