"""Lowering of whole programs' data: in-place updates, lists, dicts, objects, comprehensions,
functions defined inside the function (closures and lambdas).

Every change in place becomes a new SSA value, so the transforms never see a mutation:

    y[i] = v        ->  y.2 = setitem(y.1, i, v)      (a copy: the old `y.1` stays valid)
    xs.append(v)    ->  xs.2 = list_append(xs.1, v)   (O(1): versions share storage, see runtime.ListValue)

and every name (or tuple, list, dict) that held the old value holds the new one, as Python's
aliasing says. Lists, tuples and dicts whose length is known while compiling stay compile-time
`Pack`s (`xs[0]` is the value itself); a list that a loop or a branch appends to becomes a
run-time list (`new_list`). Dicts need keys known while compiling. Objects of the user's classes
are read through their attributes; their methods are inlined like any other function.
"""
import copy
import inspect
import operator
import types

import gast
import numpy as np

from . import runtime as rt
from .desugar import Desugar, desugar
from .errors import UnsupportedSyntax, located
from .frontend import closure_values, is_structure, is_user_class, is_user_function
from .ir import (Apply, Assign, Attribute, Const, Global, Method, NamedTupleKind, Pack, Ref, Var, hashable,
                 is_namedtuple_class, namedtuple_class)
from .rules.registry import RULES, structural, template
from .syntax import BINARY, Static

# -- the rules of what this lowering emits ------------------------------------------------------

structural(rt.setitem, "x, index: const, v", out="like:x",
           vjp=dict(x="setitem(g, index, 0.0)", v="unbroadcast(item_cotangent(g, index, x), v)"),
           jvp=dict(x="setitem(dx, index, 0.0)", v="setitem(zeros_grad(ans), index, item_tangent(dv, x))"))
RULES[rt.setitem].joint_jvp = template("setitem(dx, index, item_tangent(dv, x))")  # one copy, not two and a sum
# `v`'s adjoint reads `g` first: `x`'s, `g` with the written items zeroed, may then be written into `g`
# itself (optimize/inplace.py), not into a copy of it on every trip of a loop that fills an array
RULES[rt.setitem].adjoint_order = ("v", "x")
structural(rt.item_cotangent, "v, index: const, x: const", out="unknown",
           vjp=dict(v="unindex(kept_writes(item_tangent(g, x), index, x), v, index)"),
           jvp=dict(v="item_cotangent(dv, index, x)"))
structural(rt.kept_writes, "v, index: const, x: const", out="like:v",
           vjp=dict(v="kept_writes(g, index, x)"), jvp=dict(v="kept_writes(dv, index, x)"))
structural(rt.item_tangent, "v, x: const", out="like:v",
           vjp=dict(v="item_tangent(g, x)"), jvp=dict(v="item_tangent(dv, x)"))
structural(rt.new_list, "xs: seq", vjp=dict(xs="g[i]"), jvp=dict(xs="new_list(dxs)"))
structural(rt.list_append, "xs, v",
           vjp=dict(xs="g[:-1]", v="g[-1]"),
           jvp=dict(xs="list_append(dxs, zeros_grad(v))", v="list_append(zeros_grad(xs), dv)"))
RULES[rt.list_append].joint_jvp = template("list_append(dxs, dv)")
structural(rt.list_last, "xs", vjp=dict(xs="last_cotangent(g, xs)"), jvp=dict(xs="list_last(dxs)"))
structural(rt.list_without_last, "xs", vjp=dict(xs="without_last_cotangent(g, xs)"),
           jvp=dict(xs="list_without_last(dxs)"))
structural(rt.last_cotangent, "v, xs: const", vjp=dict(v="list_last(g)"), jvp=dict(v="last_cotangent(dv, xs)"))
structural(rt.without_last_cotangent, "v, xs: const", vjp=dict(v="g[:-1]"),
           jvp=dict(v="without_last_cotangent(dv, xs)"))
structural(rt.pushed_cotangent, "v, last, xs: const", vjp=dict(v="g[:-1]", last="g[-1]"),
           jvp=dict(v="pushed_cotangent(dv, zeros_grad(last), xs)", last="pushed_cotangent(zeros_grad(v), dlast, xs)"))
RULES[rt.pushed_cotangent].joint_jvp = template("pushed_cotangent(dv, dlast, xs)")
structural(rt.stack_list, "xs, axis=0", vjp=dict(xs="list_cotangent(g, axis)"),
           jvp=dict(xs="stack_list(dxs, axis)"))
structural(rt.list_cotangent, "v, axis=0", vjp=dict(v="np.moveaxis(g, 0, axis)"),
           jvp=dict(v="list_cotangent(dv, axis)"))

_LIST_ADVICE = "Build the list with `append` (and read it back with indexing, `sum` or np.stack)."
_OPERATORS_ON_SEQUENCES = set(BINARY.values()) | {operator.neg, operator.pos, operator.invert}
_PURE = {operator.add, operator.sub, operator.mul, operator.floordiv, operator.mod, operator.neg, operator.pos,
         operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne, operator.not_,
         operator.is_, operator.is_not, abs, min, max, len, int, bool}


class Closure:
    """A function defined inside the function being lowered (`def` or `lambda`): inlined where called.

    It reads the names of the function that defined it when it is called (late binding, as
    Python does), through that function's lowering.
    """

    def __init__(self, node, lowering, defaults, name):
        self.node, self.lowering, self.defaults, self.name = node, lowering, defaults, name
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.name} exists only while adjoint compiles")

    def __repr__(self):
        return f"<function {self.name} defined inside a differentiated function>"


def is_dict(value):
    return isinstance(value, Pack) and value.kind == "dict"


def is_object(value):
    return isinstance(value, Pack) and value.kind == "object"


def make_dict(pairs):
    """A compile-time dict: `Pack("dict", [(key, value), ...])`, keys as `Const`s."""
    return Pack("dict", [Pack("tuple", [Const(key), value]) for key, value in pairs])


def dict_pairs(pack):
    """(key, value) pairs of a compile-time dict, or of an object's attributes."""
    items = pack.items[1:] if pack.kind == "object" else pack.items
    return [(pair.items[0].value, pair.items[1]) for pair in items]


def holds_object(value):
    """Whether a compile-time value is, or holds, an object of the user's classes."""
    if not isinstance(value, Pack) or value.kind == "slice":
        return False
    return value.kind == "object" or any(holds_object(item) for item in value.items)


def make_object(cls, pairs):
    """A compile-time object of class `cls`: its attributes are values."""
    return Pack("object", [Const(cls)] + [Pack("tuple", [Const(key), value]) for key, value in pairs])


def object_class(pack):
    return pack.items[0].value


def _replaced(pack, pairs):
    if pack.kind == "object":
        return make_object(object_class(pack), pairs)
    return make_dict(pairs)


def user_method(cls, name):
    """How `obj.name(...)` calls a function of the user's class `cls`: (function, passes self) or None."""
    if not is_user_class(cls):
        return None
    try:
        found = inspect.getattr_static(cls, name)
    except AttributeError:
        return None
    if isinstance(found, staticmethod):
        return (found.__func__, False) if is_user_function(found.__func__) else None
    if isinstance(found, classmethod):
        return None
    return (found, True) if is_user_function(found) else None


class DataLowering:
    """Mixed into `Lowering`."""

    # -- `y[i] = v`, `y[i] += v` ----------------------------------------------------------------

    def item_target(self, target):
        """(name, current value, index) of `name[index]` as an assignment target."""
        if isinstance(target.value, gast.Subscript):
            return self.nested_item_target(target)
        if isinstance(target.value, gast.Attribute):
            owner = self.convert(target.value.value)
            if isinstance(owner, Pack) and owner.kind == "object":
                self.unsupported(target, f"assignment to an element of the attribute `.{target.value.attr}`",
                                 f"Copy it to a name first: `y = obj.{target.value.attr}.copy()`, "
                                 f"`y[...] = ...`, then `obj.{target.value.attr} = y`.")
        if not isinstance(target.value, gast.Name):
            self.unsupported(target, "assignment to an element of this expression",
                             "Assign to an element of a named array: `y[i] = v`.")
        name = target.value.id
        current = self.name(name, target.value)
        self.check_local(name, current, target)
        self.check_merged_aliases(name, current, target)
        return name, current, self.index(target.slice)

    def nested_item_target(self, target):
        """`d["W"][0] = v`, `rows[1][j] = v`: an element of what a dict, list or tuple known while
        compiling holds at a key known then. That item is the value changed: every name holding it
        sees the change, as in Python. Refused for the item of an array (`y[i][j]`: index once) or
        of a list built at run time."""
        root = target.value
        while isinstance(root, (gast.Subscript, gast.Attribute)):
            root = root.value
        container = self.operand(target.value.value)
        key = self.index(target.value.slice)
        item = None
        if isinstance(container, Pack) and container.kind in ("tuple", "list", "dict", "object"):
            item = self.pack_item(container, key, target.value)
        if isinstance(container, Var) and self.may_be_a_list(container):
            self.unsupported(target, "assignment to an element of an item of a list built at run time",
                             "Change a copy of the item and put it back: `row = xs[i].copy()`, `row[j] = ...`, "
                             "`xs[i] = row`.")
        if item is None or not isinstance(root, gast.Name):
            self.unsupported(target, "assignment to an element of an element (`y[i][j] = ...`)",
                             "Index an array once: `y[i, j] = ...`.")
        self.check_local(root.id, item, target)
        self.check_merged_aliases(root.id, item, target)
        return root.id, item, self.index(target.slice)

    def assign_item(self, target, value):
        name, current, index = self.item_target(target)
        self.rebind(current, self.updated(name, current, index, value, target))

    def augment_item(self, stmt):
        name, current, index = self.item_target(stmt.target)
        old = self.item(current, index, stmt.target)
        new = self.make(BINARY[type(stmt.op)], (old, self.operand(stmt.value)), (), stmt)
        self.rebind(current, self.updated(name, current, index, new, stmt.target))

    def item(self, container, index, node):
        """`container[index]`, at compile time where the container is a `Pack`."""
        if isinstance(container, Pack) and container.kind in ("tuple", "list", "dict", "object"):
            found = self.pack_item(container, index, node)
            if found is not None:
                return found
            if holds_object(container):
                self.unsupported(node, "reading an object of your classes out of a list or tuple at an index "
                                 "known only when the code runs",
                                 "Loop over the list itself (`for p in ps:`, or a comprehension), which adjoint "
                                 "unrolls, or keep arrays of the objects' attributes.")
            if any(isinstance(item, Ref) and is_function(item.obj) for item in container.items):
                self.unsupported(node, "picking a function out of a list or tuple at an index known only when the "
                                 "code runs", "Index it with a number written in the code (`fns[0](x)`), loop over "
                                 "the list itself (unrolled), or branch on the index "
                                 "(`fns[0](x) if i == 0 else fns[1](x)`).")
        return self.make(operator.getitem, (container, index), (), node)

    def pack_item(self, pack, index, node):
        """An item of a compile-time tuple, list or dict, or None if it must be read at run time."""
        if pack.kind in ("dict", "object"):
            if not isinstance(index, Const):
                self.unsupported(node, "indexing a dict with a key computed at run time",
                                 "Use keys written in the code (`d['W']`), or make the values an array.")
            for key, value in dict_pairs(pack):
                if key == index.value:
                    return value
            self.unsupported(node, f"reading the key {index.value!r}, which the dict does not have",
                             "Check the key.")
        if isinstance(index, Const) and type(index.value) is int and -len(pack.items) <= index.value < len(pack.items):
            return pack.items[index.value]
        if isinstance(index, Pack) and index.kind == "slice" and all(isinstance(p, Const) for p in index.items):
            return Pack(pack.kind, pack.items[slice(*(p.value for p in index.items))])
        return None

    def updated(self, name, current, index, value, node):
        """The value of `name` after `name[index] = value`."""
        if isinstance(current, Pack):
            if current.kind in ("dict", "object"):
                if not isinstance(index, Const):
                    self.unsupported(node, "assigning to a dict entry whose key is computed at run time",
                                     "Use keys written in the code (`d['W'] = ...`).")
                pairs = dict(dict_pairs(current))
                pairs[index.value] = value
                return _replaced(current, pairs.items())
            if current.kind == "tuple":
                self.unsupported(node, f"assignment to an element of the tuple `{name}`",
                                 "Tuples cannot change: build a list, or a new tuple.")
            if isinstance(index, Const) and type(index.value) is int and \
                    -len(current.items) <= index.value < len(current.items):
                items = list(current.items)
                items[index.value] = value
                return Pack("list", items)
            current = self.materialize(current, node)
        elif isinstance(current, Var) and self.may_be(current) & self.shared["views"].keys():
            what = (f"assignment into `{name}`, which may be a view of another array (an element, a slice, a "
                    "transpose, a reshape or a flip of it, or the array itself, which a call with `copy=False` returns)")
            advice = (f"Make it a copy first (`{name} = ....copy()`): changing a view changes the array it looks "
                      "into, which a derivative cannot follow.")
            if not self.may_be_a_list(current):
                self.unsupported(node, what, advice)
            # a list of views (`parts = np.split(y, 2)`, rows): `parts[0] = v` replaces an item, which
            # changes no array; whether `name` is a list or an array is asked when the code runs
            error = located(UnsupportedSyntax, f"adjoint does not support {what}", self.info.location(node), advice)
            self.body.append(Assign(None, Apply(rt.refuse_array_write, (current, Const(error))),
                                    self.info.location(node)))
        if _is_sequence(value):  # `y[:2] = [a, b]`: numpy writes the array of the list
            value = self.as_array(np.array, value, None, node)
        return self.make(rt.setitem, (current, index, value), (), node)

    # -- lists ------------------------------------------------------------------------------------

    def materialize(self, pack, node, body=None):
        """A run-time list with the items of the compile-time list `pack` (appended to `body`)."""
        if holds_object(pack):
            self.refuse_objects_at_run_time(node)
        var = Var("")
        statement = Assign(var, Apply(rt.new_list, (Pack("list", pack.items),)), self.info.location(node))
        (self.body if body is None else body).append(statement)
        return var

    def list_method(self, value, method, args, kwargs, node):
        """`xs.append(v)` and friends; None if `value` is not a list this handles."""
        generated = self.info.filename.startswith("<adjoint")
        if generated and method in _LIST_MUTATORS and method not in ("append", "pop"):
            self.unsupported(node, f"changing a list in place (`.{method}`)",
                             "This is a derivative whose loop records values in a list: adjoint cannot "
                             "differentiate it again (derivatives of derivatives work for code without "
                             "such loops).")
        if is_dict(value):
            return self.dict_method(value, method, args, kwargs, node)
        if method not in _LIST_MUTATORS:
            return None
        if isinstance(value, Pack) and value.kind == "tuple":
            self.unsupported(node, f"`.{method}` on a tuple", "Tuples cannot change: use a list.")
        if not isinstance(value, (Pack, Var)):
            return None
        name = node.func.value.id if isinstance(node.func.value, gast.Name) else None
        if name is None and self.outside_origin(value) is not None:
            self.unsupported(node, f"`.{method}` on a list that is {self.outside_origin(value)}",
                             "Change a list built in the function (`xs = list(...)`) instead.")
        if name is None:
            self.unsupported(node, f"changing a list that has no name (`.{method}`)",
                             "Give the list a name first: `xs = ...`, then `xs.append(v)`.")
        self.check_local(name, value, node)
        if kwargs:
            self.unsupported(node, f"`.{method}` with keyword arguments", _LIST_ADVICE)
        if isinstance(value, Var) and method in ("append", "extend") and any(holds_object(a) for a in args):
            self.refuse_objects_at_run_time(node)
        if method == "append" and len(args) == 1:
            new = Pack("list", value.items + (args[0],)) if isinstance(value, Pack) \
                else self.make(rt.list_append, (value, args[0]), (), node)
            self.rebind(value, new)
            return Const(None)
        if method == "extend" and len(args) == 1 and isinstance(args[0], Pack) and args[0].kind in ("list", "tuple"):
            new = value
            for item in args[0].items:
                new = Pack("list", new.items + (item,)) if isinstance(new, Pack) \
                    else self.make(rt.list_append, (new, item), (), node)
            self.rebind(value, new)
            return Const(None)
        if method == "pop" and isinstance(value, Pack) and all(isinstance(a, Const) for a in args) and value.items:
            position = args[0].value if args else -1
            items = list(value.items)
            popped = items.pop(position)
            self.rebind(value, Pack("list", items))
            return popped
        if method == "pop" and isinstance(value, Var) and value in self.shared["lists"] \
                and (not args or len(args) == 1 and isinstance(args[0], Const) and args[0].value == -1):
            popped = self.make(rt.list_last, (value,), (), node)
            new = self.make(rt.list_without_last, (value,), (), node)
            self.shared["merged"][popped] = (value,)  # (an item read back: see `make`)
            self.shared["lists"].add(new)
            self.shared["appended_to"][new] = value
            self.rebind(value, new)
            return popped
        if isinstance(value, Var) and value not in self.shared["lists"]:  # an array, perhaps: `a.sort()`
            self.refuse_change_in_place(Method(method), (), (), node)
        self.unsupported(node, f"`.{method}` on a list built inside the function" if method != "extend" else
                         "`.extend` with a list built at run time",
                         _LIST_ADVICE + " Other changes in place are not supported.")

    def refuse_arithmetic_on_run_time_lists(self, fn, args, node):
        """`xs + ys` joins two lists and `xs * 2` repeats one, where the rules of `+` and `*` add and
        scale item by item: refused for a list built at run time with another list or a number (with
        an array, `xs` is an array operand, as numpy reads it)."""
        lists = [isinstance(a, Var) and (a in self.shared["lists"] or a in self.shared["lists_of_views"]) for a in args]
        if fn in _OPERATORS_ON_SEQUENCES and any(lists) and all(
                is_list or isinstance(a, (Const, Pack)) for a, is_list in zip(args, lists)):
            self.unsupported(node, "arithmetic on a list built at run time (Python joins or repeats lists, "
                             "or refuses; the derivative would add item by item)",
                             "Make an array of it first (`np.array(xs)`, `np.stack(xs)`), or append to one list.")

    def refuse_objects_at_run_time(self, node):
        """Objects of the user's classes exist only while compiling (their attributes are the values):
        a list that holds them must be known then too."""
        self.unsupported(node, "objects of your classes in a list built at run time (a loop or one branch "
                         "appends to it, or a comprehension runs over a range known only when the code runs)",
                         "Keep arrays of their attributes instead (`xs.append(p.x)`, then np.stack(xs)), or build "
                         "the list with a comprehension over a range, tuple or list known while compiling "
                         "(`[Particle(x[i]) for i in range(3)]`), which adjoint unrolls.")

    def key_at(self, pack, index, node):
        """The key at `index` of a dict known while compiling: the item a loop over the dict takes."""
        keys = [key for key, _ in dict_pairs(pack)]
        if not (isinstance(index, Const) and type(index.value) is int and -len(keys) <= index.value < len(keys)):
            self.unsupported(node, "a loop over a dict whose position is known only when it runs",
                             "Loop over the dict itself, `d.keys()` or `d.items()`.")
        return Const(keys[index.value])

    def sequence_call(self, fn, args, kwargs):
        """`list(d)`, `tuple(d)`, `sorted(d)` of a dict known while compiling (its keys), and
        `list(xs)`, `tuple(xs)` of a tuple or list known then: known while compiling too. None
        for other calls."""
        if kwargs or len(args) != 1 or not (fn is list or fn is tuple or fn is sorted):
            return None
        kind = "tuple" if fn is tuple else "list"
        if is_dict(args[0]):
            keys = [key for key, _ in dict_pairs(args[0])]
            if fn is sorted:
                try:
                    keys = sorted(keys)
                except TypeError:  # keys of kinds that do not compare: Python raises it when it runs
                    return None
            return Pack(kind, [Const(key) for key in keys])
        if _is_sequence(args[0]) and fn is not sorted:
            return Pack(kind, list(args[0].items))
        return None

    def membership(self, node):
        """`key in d` (or `not in`) for a dict known while compiling, or a tuple or list of constants,
        and a key known then: a constant, so a branch on it takes one side. None otherwise."""
        item, container = self.operand(node.left), self.operand(node.comparators[0])
        if not isinstance(item, Const):
            return None
        if is_dict(container):
            found = any(key == item.value for key, _ in dict_pairs(container))
        elif _is_sequence(container) and all(isinstance(v, Const) for v in container.items):
            found = any(v.value == item.value for v in container.items)
        else:
            return None
        return Const(found if isinstance(node.ops[0], gast.In) else not found)

    def dict_method(self, value, method, args, kwargs, node):
        pairs = dict_pairs(value)
        if method == "keys" and not args:
            return Pack("list", [Const(key) for key, _ in pairs])
        if method == "values" and not args:
            return Pack("list", [item for _, item in pairs])
        if method == "items" and not args:
            return Pack("list", [Pack("tuple", [Const(key), item]) for key, item in pairs])
        if method == "get" and args and isinstance(args[0], Const):
            found = dict(pairs)
            return found.get(args[0].value, args[1] if len(args) > 1 else Const(None))
        if method == "copy" and not args:
            return make_dict(pairs)
        if method == "update" and len(args) == 1 and is_dict(args[0]) and isinstance(node.func.value, gast.Name):
            self.check_local(node.func.value.id, value, node)
            merged = dict(pairs)
            merged.update(dict_pairs(args[0]))
            self.rebind(value, make_dict(merged.items()))
            return Const(None)
        self.unsupported(node, f"the dict method `.{method}` here",
                         "Dicts work with keys written in the code: d['W'], d.keys(), d.values(), d.items(), "
                         "d.get(key, default).")

    def array_call(self, fn, args, kwargs, node):
        """`np.array(...)`, `np.asarray(...)`, and `np.stack(xs)` of a list built at run time; None for
        other calls."""
        keywords = dict(kwargs)
        in_order = self.read_in_order(fn, args, kwargs, node)
        if in_order is not None:
            return in_order
        if fn in (np.array, np.asarray) and len(args) == 1 and set(keywords) <= {"dtype"}:
            return self.as_array(fn, args[0], keywords.get("dtype"), node)
        if fn is np.stack and args and not isinstance(args[0], Pack) and set(keywords) <= {"axis"} and len(args) <= 2:
            return self.make(rt.stack_list, tuple(args), kwargs, node)
        if fn in (np.concatenate, np.vstack, np.hstack, np.column_stack, np.dstack) and args \
                and args[0] in self.shared["lists"]:
            self.unsupported(node, f"np.{fn.__name__} of a list built at run time",
                             "Stack the items instead (np.stack(xs)), then reshape the result.")
        return None

    def read_in_order(self, fn, args, kwargs, node):
        """`np.ravel(x, order='F')`, `x.flatten('F')` and `np.reshape(x, shape, order='F')` as the same calls in
        C order on transposes (reading an array in Fortran order is reading its transpose in C order), whose
        rules exist; `order='C'` is dropped. None for other calls, and for the orders 'A' and 'K', which
        follow the array's memory layout (refused if differentiated: reverse.no_rule)."""
        position = ORDER_POSITION.get(fn) if hashable(fn) else None
        if position is None:
            return None
        if fn is np.reshape and len(args) == 1 and "shape" in dict(kwargs):  # (np.reshape(x, shape=s, order='F'))
            args, kwargs = (args[0], dict(kwargs)["shape"]), [(key, value) for key, value in kwargs if key != "shape"]
        if len(args) == position + 1 and "order" not in dict(kwargs):
            order, args = args[position], tuple(args[:position])
        elif len(args) == position and "order" in dict(kwargs):
            order = dict(kwargs)["order"]
        else:
            return None
        if not isinstance(order, Const) or order.value not in ("C", "F"):
            return None
        rest = [(key, value) for key, value in kwargs if key != "order"]
        if order.value == "C":
            return self.make(fn, args, rest, node)
        transposed = self.make(np.transpose, args[:1], (), node)
        if fn is not np.reshape:
            return self.make(fn, (transposed,), rest, node)
        shape = args[1]
        if isinstance(shape, Pack):
            shape = Pack(shape.kind, shape.items[::-1])
        elif isinstance(shape, Const):
            shape = Const(rt.reversed_shape(shape.value))
        else:
            shape = self.make(rt.reversed_shape, (shape,), (), node)
        return self.make(np.transpose, (self.make(np.reshape, (transposed, shape), rest, node),), (), node)

    def as_array(self, fn, value, dtype, node):
        """`np.array(value)` or `np.asarray(value)`, with an optional `dtype`.

        A nested list or tuple is built level by level (`[[a, b], [c, d]]` as np.array of the rows
        np.array([a, b]) and np.array([c, d])): each level is then one call whose rule picks its items."""
        if _is_sequence(value):
            items = [self.as_array(np.array, item, None, node)
                     if _is_sequence(item) or isinstance(item, Var) and item in self.shared["lists"] else item
                     for item in value.items]
            array = self.make(np.array, (Pack(value.kind, items),), (), node)
        elif isinstance(value, Var) and value in self.shared["lists"]:
            array = self.make(rt.stack_list, (value,), (), node)
        elif fn is np.asarray:  # the argument itself when it is an array, as numpy does (a view: see views.py)
            array = self.make(np.asarray, (value,) if dtype is None else (value, dtype), (), node)
            dtype = dtype if dtype is not None and _integral_dtype(dtype) else None
        elif isinstance(value, Var):
            array = self.make(np.copy, (value,), (), node)  # what np.array of an array or a number does
        else:
            array = self.make(np.array, (value,), (), node)  # a constant: no derivative to take
        if dtype is None:
            return array
        if fn is np.array:
            array = self.make(Method("astype"), (array, dtype), (), node)
        if _integral_dtype(dtype):  # the values are truncated: they carry no derivative
            array = self.make(rt.stop_gradient, (array,), (), node)
        return array

    def array_like_arguments(self, fn, args, kwargs, node):
        """The arguments of a numpy function with a rule, where a list or tuple of values stands for
        an array (`np.sum([a, b])`, `np.stack([[a, b], [c, d]])`) made one with `as_array`, so that
        the rule's derivative reaches the values in it."""
        rule = RULES.get(fn) if hashable(fn) else None
        if rule is None or not _is_numpy(fn) or rule.params and rule.params[-1].varargs:
            return args, kwargs
        by_name = {param.name: param for param in rule.params}

        def converted(param, value):
            if param is None or param.const or param.name not in rule.vjp:
                return value
            if not param.sequence:
                return self.as_array(np.array, value, None, node) if _is_sequence(value) else value
            if not _is_sequence(value):
                return value
            return Pack(value.kind, [self.as_array(np.array, item, None, node) if _is_sequence(item) else item
                                     for item in value.items])

        args = [converted(param, value) for param, value in zip(list(rule.params) + [None] * len(args), args)]
        return args, [(key, converted(by_name.get(key), value)) for key, value in kwargs]

    def escaping(self, values, node):
        """Operands of a call that runs as it is: a dict built in the function becomes a real dict."""
        if not any(is_dict(v) or is_object(v) for v in values):
            return values
        out = []
        for value in values:
            if is_object(value):
                self.unsupported(node, "passing an object to a function adjoint does not inline",
                                 "Pass its attributes instead.")
            if is_dict(value):
                value = Apply(dict, (Pack("list", [Pack("tuple", [Const(k), v]) for k, v in dict_pairs(value)]),))
            out.append(value)
        return out

    # -- dicts and objects ------------------------------------------------------------------------

    def visit_Dict(self, node):
        pairs = []
        for key, value in zip(node.keys, node.values):
            if key is None:  # `{**other}`
                other = self.operand(value)
                if not is_dict(other):
                    self.unsupported(value, "`**` of something that is not a dict built in the function")
                pairs += dict_pairs(other)
                continue
            key_value = self.operand(key)
            if not isinstance(key_value, Const):
                self.unsupported(key, "a dict key computed at run time",
                                 "Use keys written in the code (strings or numbers).")
            pairs.append((key_value.value, self.operand(value)))
        return make_dict(dict(pairs).items())

    def known_object(self, value):
        """The object a value holds while compiling (a global, a constant, an attribute of one), or _NONE."""
        if isinstance(value, Global):
            return value.value
        if isinstance(value, Ref):
            return value.obj
        if isinstance(value, Var):
            return self.shared["known"].get(value, _NONE)
        return _NONE

    def read_known(self, value, reader, key, node):
        """A read (`obj.attr`, `seq[i]`) out of an object known while compiling: read when the code runs
        (arrays change between calls), but with its structure known (which objects, how many items)."""
        obj = self.known_object(value)
        if obj is _NONE or not is_structure(obj):
            return None
        try:
            found = getattr(obj, key) if isinstance(reader, Attribute) else obj[key]
        except (AttributeError, LookupError, TypeError):
            return None
        if isinstance(reader, Attribute) and (callable(found) and not isinstance(found, np.ndarray)
                                              or isinstance(inspect.getattr_static(obj, key, None), property)):
            return None
        if is_function(found):  # an item of a list of functions: the function itself, called as it is
            return Ref(found, getattr(found, "__name__", "fn"))
        var = self.make(reader, (value,) if isinstance(reader, Attribute) else (value, Const(key)), (), node)
        return self.structured(var, found, node)

    def structured(self, var, found, node):
        """`var`, read out of an object from outside, as a compile-time list, tuple or dict where it
        holds arrays or objects; those stand for the outside object itself (changing one in place
        would change it: `AliasLowering.outside_origin`)."""
        pack = None
        if isinstance(found, (list, tuple)) and any(is_structure(item) or isinstance(item, np.ndarray)
                                                    or is_function(item) for item in found):
            self.shared["known"][var] = found
            pack = Pack("list" if isinstance(found, list) else "tuple",
                        [self.read_known(var, operator.getitem, i, node) for i in range(len(found))])
        elif isinstance(found, dict) and all(isinstance(k, (str, int)) for k in found):
            self.shared["known"][var] = found
            pack = make_dict([(k, self.read_known(var, operator.getitem, k, node)) for k in found])
        if pack is not None:
            self.shared["outside"].add(pack)
            return pack
        if is_structure(found) and not isinstance(found, (list, tuple, dict)):
            self.shared["known"][var] = found
        return var

    def object_attribute(self, value, attr, node):
        """`obj.attr` of a compile-time object (a structured argument); None if not one."""
        if namedtuple_class(value) is not None:
            return self.namedtuple_field(value, attr, node)
        if not is_object(value):
            return self.read_known(value, Attribute(attr), attr, node)
        for key, item in dict_pairs(value):
            if key == attr:
                return item
        cls = object_class(value)
        found = inspect.getattr_static(cls, attr, None)
        if isinstance(found, property) and is_user_function(found.fget):
            return self.inline(found.fget, [value], [], node)
        if found is not None and not callable(found):
            return self.as_operand(Static(found, f"{cls.__name__}.{attr}"), node)
        self.unsupported(node, f"the attribute `.{attr}`, which this `{cls.__name__}` object does not have "
                         "as data", "Read data attributes (arrays, numbers) and call methods.")

    def namedtuple_field(self, value, attr, node):
        """`p.w` of a compile-time namedtuple: the value of the field (or a constant of its class)."""
        cls = namedtuple_class(value)
        if attr in cls._fields:
            return value.items[cls._fields.index(attr)]
        found = inspect.getattr_static(cls, attr, None)
        if found is not None and not callable(found) and not hasattr(found, "__get__"):
            return self.as_operand(Static(found, f"{cls.__name__}.{attr}"), node)
        self.unsupported(node, f"the attribute `.{attr}` of the namedtuple `{cls.__name__}`",
                         f"Read its fields ({', '.join(cls._fields)}) or index it.")

    def new_namedtuple(self, cls, args, kwargs, node):
        """`Params(w, b)`: a compile-time namedtuple, its fields the values given (or the defaults)."""
        try:
            bound = inspect.signature(cls).bind(*args, **dict(kwargs))
        except TypeError as error:
            self.unsupported(node, f"this call to `{cls.__name__}` ({error})",
                             f"Give `{cls.__name__}` its fields: {', '.join(cls._fields)}.")
        bound.apply_defaults()
        return Pack(NamedTupleKind(cls), [self.as_operand(Static(bound.arguments[field], field), node)
                                          if field in cls._field_defaults and not isinstance(
                                              bound.arguments[field], (Var, Const, Global, Ref, Pack))
                                          else bound.arguments[field] for field in cls._fields])

    def namedtuple_method(self, value, method, args, kwargs, node):
        """`p._replace(w=v)` and `p._asdict()` of a compile-time namedtuple; None for other methods."""
        cls = namedtuple_class(value)
        if method == "_replace" and not args:
            fields = dict(zip(cls._fields, value.items))
            unknown = [key for key, _ in kwargs if key not in fields]
            if unknown:
                self.unsupported(node, f"replacing the field `{unknown[0]}`, which `{cls.__name__}` does not have",
                                 f"Its fields are {', '.join(cls._fields)}.")
            fields.update(kwargs)
            return Pack(value.kind, list(fields.values()))
        if method == "_asdict" and not args and not kwargs:
            return make_dict(zip(cls._fields, value.items))
        return None

    def assign_attribute(self, target, value):
        owner_node = target.value
        owner = self.convert(owner_node)
        if is_object(owner) and isinstance(owner_node, gast.Name):
            self.check_local(owner_node.id, owner, target)
            pairs = dict(dict_pairs(owner))
            pairs[target.attr] = value
            self.rebind(owner, make_object(object_class(owner), pairs.items()))
            return
        self.unsupported(target, f"assignment to the attribute `.{target.attr}`",
                         "Build a new value instead of changing one in place "
                         "(e.g. np.reshape(y, shape) rather than `y.shape = shape`).")

    def method_of_value(self, value, method, args, kwargs, node):
        """`obj.method(...)` where `obj`'s class is known and is the user's: the method inlined."""
        if is_object(value):
            cls = object_class(value)
        elif self.known_object(value) is not _NONE:
            cls = type(self.known_object(value))
        else:
            return None
        found = user_method(cls, method)
        if found is None:
            held = self.held_function(value, method)
            if held is not None:  # `self.activation(z)`: a function kept in an attribute
                return self.call(held, args, kwargs, node)
            if is_object(value):
                self.unsupported(node, f"the method `.{method}` of `{cls.__name__}`",
                                 "Call methods defined with `def` in the class.")
            return None
        fn, passes_self = found
        return self.inline(fn, ([value] if passes_self else []) + list(args), kwargs, node)

    def held_function(self, value, name):
        """The function an object keeps in its attribute `name` (known while compiling), or None."""
        if is_object(value):
            for key, item in dict_pairs(value):
                if key == name:
                    return Static(item.obj, name) if isinstance(item, Ref) and callable(item.obj) else None
            return None
        obj = self.known_object(value)
        found = getattr(obj, name, None) if obj is not _NONE and name in getattr(obj, "__dict__", {}) else None
        return Static(found, name) if callable(found) and not isinstance(found, np.ndarray) else None

    def construct(self, cls, args, kwargs, node):
        """`Cls(...)` of the user's class with an `__init__` of its own: an object known while compiling."""
        if is_namedtuple_class(cls):
            return self.new_namedtuple(cls, args, kwargs, node)
        init = inspect.getattr_static(cls, "__init__", None)
        if inspect.getattr_static(cls, "__new__", object.__new__) is not object.__new__ or not is_user_class(cls):
            return None
        if init is object.__init__ and not args and not kwargs and hasattr(cls, "__dict__"):
            return make_object(cls, [])  # a class without a constructor of its own
        if not is_user_function(init):
            return None
        try:
            inspect.getsourcelines(init)
        except (OSError, TypeError):
            return None
        return self.inline(init, [make_object(cls, [])] + list(args), kwargs, node, constructing=True)

    def visit_Call(self, node):
        """Calls with `*args` / `**kwargs` unpacking of tuples, lists and dicts built in the function."""
        if isinstance(node.func, gast.Attribute) and self.is_super(node.func.value):
            return self.super_call(node)
        if not any(isinstance(a, gast.Starred) for a in node.args) and all(k.arg is not None for k in node.keywords):
            return super().visit_Call(node)
        args, kwargs = [], []
        for arg in node.args:
            if isinstance(arg, gast.Starred):
                value = self.operand(arg.value)
                if not (isinstance(value, Pack) and value.kind in ("tuple", "list")):
                    self.unsupported(arg, "`*` unpacking of a value whose length is known only when it runs",
                                     "Unpack a tuple or list written in the function, or pass the items one by one.")
                args.extend(value.items)
            else:
                args.append(self.operand(arg))
        for keyword in node.keywords:
            if keyword.arg is None:
                value = self.operand(keyword.value)
                if not is_dict(value) or not all(isinstance(key, str) for key, _ in dict_pairs(value)):
                    self.unsupported(keyword.value, "`**` unpacking of something that is not a dict built "
                                     "in the function", "Pass the keyword arguments one by one.")
                kwargs.extend(dict_pairs(value))
            else:
                kwargs.append((keyword.arg, self.operand(keyword.value)))
        if isinstance(node.func, gast.Attribute):
            owner = self.convert(node.func.value)
            if not isinstance(owner, Static):
                return self.method_call(owner, node.func.attr, args, kwargs, node)
        return self.call(self.convert(node.func), args, kwargs, node)

    def is_super(self, node):
        if not isinstance(node, gast.Call) or not isinstance(node.func, gast.Name):
            return False
        func = self.convert(node.func)
        return isinstance(func, Static) and func.obj is super

    def super_call(self, node):
        """`super().name(...)` (or `super(Class, obj)`) in a method of the user's class: the function
        the next class after `Class` in the object's MRO defines, inlined. `super().__init__(...)`
        builds on the object the constructor is making."""
        name, finder = node.func.attr, node.func.value
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            self.unsupported(node, "`*` or `**` unpacking in a call through `super()`", "Pass the arguments one by one.")
        args = [self.operand(a) for a in node.args]
        kwargs = [(k.arg, self.operand(k.value)) for k in node.keywords]
        if finder.args:
            cls, instance = (self.convert(a) for a in finder.args)
            cls = cls.obj if isinstance(cls, Static) else None
        else:  # the zero-argument form: Python's `__class__` cell and the method's first parameter
            cls = closure_values(self.fn).get("__class__")
            first = next(iter(inspect.signature(self.fn).parameters), None)
            instance = self.env.get(first)
        if is_object(instance):
            of_class = object_class(instance)
        elif instance is not None and self.known_object(instance) is not _NONE:
            of_class = type(self.known_object(instance))
        else:
            of_class = None
        mro = getattr(of_class, "__mro__", ())
        if not isinstance(cls, type) or cls not in mro:
            self.unsupported(node, "this use of `super()`", "Call `super()` in a method of a class, on its object.")
        owner = next((klass for klass in mro[mro.index(cls) + 1:] if name in vars(klass)), object)
        found = vars(owner).get(name)
        if name == "__init__" and owner is object:
            if args or kwargs:
                self.unsupported(node, "arguments to `object.__init__`", "Call `super().__init__()` without them.")
            return Const(None)
        if isinstance(found, staticmethod) and is_user_function(found.__func__):
            return self.inline(found.__func__, args, kwargs, node)
        if not is_user_function(found):
            self.unsupported(node, f"`super().{name}`, which is not a method defined with `def` in a base class "
                             f"of `{of_class.__name__}`", "Call methods defined with `def` in the class.")
        if name != "__init__":
            return self.inline(found, [instance] + args, kwargs, node)
        built = self.inline(found, [instance] + args, kwargs, node, constructing=True)
        self.rebind(instance, built)
        return Const(None)

    def build_structure(self, spec, leaves, node):
        """The compile-time value of a flattened argument (see structures.py), its leaves parameters."""
        kind = spec[0]
        if kind == "leaf":
            return next(leaves)
        if kind == "const":
            return self.as_operand(Static(spec[1].value, "const"), node)
        if kind == "dict":
            return make_dict([(key, self.build_structure(item, leaves, node)) for key, item in spec[1]])
        if kind in ("list", "tuple"):
            return Pack(kind, [self.build_structure(item, leaves, node) for item in spec[1]])
        if kind == "namedtuple":
            return Pack(NamedTupleKind(spec[1]), [self.build_structure(item, leaves, node) for _, item in spec[2]])
        if kind == "object":
            return make_object(spec[1], [(key, self.build_structure(item, leaves, node)) for key, item in spec[2]])
        raise ValueError(spec)

    # -- comprehensions ---------------------------------------------------------------------------

    def visit_ListComp(self, node):
        return self.comprehension(node, [node.elt], "list")

    def visit_GeneratorExp(self, node):
        return self.comprehension(node, [node.elt], "list")

    def visit_DictComp(self, node):
        return self.comprehension(node, [node.key, node.value], "dict")

    def comprehension(self, node, parts, kind):
        """`[elt for x in xs if c]` as the loop that appends each `elt` to a fresh list (unrolled while
        compiling when `xs` is a tuple or list of values)."""
        for generator in node.generators:
            if generator.is_async:
                self.unsupported(node, "an asynchronous comprehension")
        names = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)} | set(self.env) | self.assigned
        result = _fresh("comprehension", names)
        if kind == "list":
            inner = gast.Expr(gast.Call(gast.Attribute(_load(result), "append", gast.Load()), [parts[0]], []))
            start = gast.List([], gast.Load())
        else:
            target = gast.Subscript(_load(result), parts[0], gast.Store())
            inner = gast.Assign([target], parts[1], None)
            start = gast.Dict([], [])
        statement = inner
        for generator in reversed(node.generators):
            for condition in reversed(generator.ifs):
                statement = gast.If(condition, [statement], [])
            statement = gast.For(generator.target, generator.iter, [statement], [], None)
            statement.unrolled_if_known = True  # a list of known length: its items are values of their own
        statements = [gast.Assign([gast.Name(result, gast.Store(), None, None)], start, None), statement]
        for part in statements:
            for child in gast.walk(part):
                if getattr(child, "lineno", None) is None:
                    gast.copy_location(child, node)
        rewriter = Desugar(names, self.info)
        lowered = rewriter.block(statements)
        scoped = {n.id for g in node.generators for n in gast.walk(g.target) if isinstance(n, gast.Name)}
        scoped |= {result} | {n for n in rewriter.names - names}
        saved = {name: self.env[name] for name in scoped if name in self.env}
        saved_assigned = self.assigned
        self.assigned = self.assigned | scoped
        try:
            for stmt in lowered:
                self.statement(stmt)
            value = self.env[result]
        finally:
            self.assigned = saved_assigned
            for name in scoped:
                self.env.pop(name, None)
            self.env.update(saved)
        return value

    # -- functions defined inside the function ---------------------------------------------------

    def define(self, node):
        """`def g(...)` inside the function: `g` names a `Closure`."""
        if node.decorator_list:
            self.unsupported(node, "a decorated function defined inside the function",
                             "Define it at module level.")
        function = copy.deepcopy(node)
        desugar(function, self.info)
        self.bind(node.name, Static(Closure(function, self, self.closure_defaults(node.args), node.name), node.name))

    def visit_Lambda(self, node):
        return Static(Closure(node, self, self.closure_defaults(node.args), "<lambda>"), "lambda")

    def closure_defaults(self, args):
        """The defaults of a nested function's parameters, evaluated where it is defined."""
        positional = [self.operand(d) for d in args.defaults]
        keyword = [None if d is None else self.operand(d) for d in args.kw_defaults]
        return positional, keyword

    def signature_of_closure(self, closure):
        args = closure.node.args
        positional, keyword = closure.defaults
        kinds = inspect.Parameter
        params = []
        plain = list(getattr(args, "posonlyargs", []) or []) + list(args.args)
        first_default = len(plain) - len(positional)
        for i, arg in enumerate(plain):
            default = positional[i - first_default] if i >= first_default else kinds.empty
            params.append(kinds(arg.id, kinds.POSITIONAL_OR_KEYWORD, default=_Default(default)
                                if default is not kinds.empty else kinds.empty))
        if args.vararg is not None:
            params.append(kinds(args.vararg.id, kinds.VAR_POSITIONAL))
        for arg, default in zip(args.kwonlyargs, keyword):
            params.append(kinds(arg.id, kinds.KEYWORD_ONLY,
                                default=kinds.empty if default is None else _Default(default)))
        if args.kwarg is not None:
            params.append(kinds(args.kwarg.id, kinds.VAR_KEYWORD))
        return inspect.Signature(params)

    def fold_constant(self, fn, args, kwargs):
        """The value of an operation on integers, booleans and strings known while compiling, or None.

        Folding these lets a recursion whose depth is such a value (`power(x, n - 1)`, `n == 0`)
        be inlined to the depth it reaches, and branches on them be decided while compiling."""
        if kwargs or not args or not hashable(fn) or fn not in _PURE:
            return None
        values = []
        for arg in args:
            if not isinstance(arg, Const) or type(arg.value) not in (int, bool, str, type(None)):
                return None
            values.append(arg.value)
        try:
            result = fn(*values)
        except Exception:  # noqa: BLE001 - the program raises it when it runs; leave it to run
            return None
        return Const(result) if type(result) in (int, bool, str, type(None)) else None


_NONE = object()
ORDER_POSITION = {np.ravel: 1, rt.flatten: 1, np.reshape: 2}  # where `order` goes among the positional arguments


def is_function(value):
    """A function, builtin or ufunc (not a class, an array or an object of the user's with `__call__`)."""
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, np.ufunc))


def _is_sequence(value):
    """A list or tuple known while compiling."""
    return isinstance(value, Pack) and value.kind in ("list", "tuple")


def _is_numpy(fn):
    return isinstance(fn, np.ufunc) or (getattr(fn, "__module__", None) or "").startswith("numpy")


def _integral_dtype(dtype):
    """Is `dtype` (an argument as the IR holds it) an integer or boolean type known while compiling?"""
    if isinstance(dtype, (Const, Global)):
        known = dtype.value
    elif isinstance(dtype, Ref):
        known = dtype.obj
    else:  # computed when it runs (`y.dtype`), or none given
        return False
    try:
        return np.dtype(known).kind in "biu"
    except TypeError:
        return False


class _Default:
    """A default value (an IR expression) in the signature of a nested function."""

    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr


_LIST_MUTATORS = {"append", "pop", "extend", "insert", "remove", "clear", "sort", "reverse"}


def _load(name):
    return gast.Name(name, gast.Load(), None, None)


def _fresh(hint, taken):
    name, n = f"_{hint}", 0
    while name in taken:
        n += 1
        name = f"_{hint}_{n}"
    return name


__all__ = ["Closure", "DataLowering", "UnsupportedSyntax", "located", "rt"]
