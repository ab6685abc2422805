"""What a compiled derivative took as fixed, and the checks that tell when it no longer holds.

The compiler inlines the user's functions and reads their closures when it compiles: the
derivative is stale once the function's code, a callee it inlined (a global or module attribute
rebound, or its `__code__` or defaults replaced) or a captured variable changes. Each such fact
is one `Guard`; the dispatcher tests them all on each call (an identity test each, tens of
nanoseconds) and recompiles when one fails. Globals holding numbers or arrays need no guard: the
generated code reads them when it runs. A global holding the user's objects, lists or dicts is
guarded by its `Layout` (its structure, compared on each call: a layer appended to `MODEL.layers`
changes the unrolled loop).

The facts come from the code objects (the names they load), so they are a superset of what the
compiler actually used: a guard too many costs a few nanoseconds, a guard too few a wrong gradient.
"""
import numbers
import types

from .frontend import is_structure, is_user_function
from .rules import is_nondiff, rule_for


class Guard:
    """`holder` still gives `value`; `test` is the Python test, with `{holder}` and `{value}` to fill in."""

    __slots__ = ("holder", "value", "test", "read", "equal")

    def __init__(self, holder, value, test, read, equal=False):
        self.holder, self.value, self.test, self.read = holder, value, test, read
        self.equal = equal  # compared with `==` (a `Layout`), not `is`

    def holds(self):
        try:
            now = self.read(self.holder)
        except ValueError:  # a cell emptied by `del`
            return False
        return now == self.value if self.equal else now is self.value


class Layout:
    """The structure of a global holding the user's objects, lists, tuples or dicts, as compiling
    reads it (which attributes, how many items, which keys, which functions): calling it gives the
    structure now. Numbers and arrays inside are read when the derivative runs, so they do not count."""

    __slots__ = ("namespace", "name")

    def __init__(self, namespace, name):
        self.namespace, self.name = namespace, name

    def __call__(self):
        return _layout(self.namespace.get(self.name), 0)


def _layout(value, depth):
    if depth > 6:
        return id(value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_layout(item, depth + 1) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _layout(item, depth + 1)) for key, item in value.items()))
    if is_structure(value):  # an object of the user's
        return (type(value), tuple((key, _layout(item, depth + 1)) for key, item in vars(value).items()))
    if isinstance(value, numbers.Number) or hasattr(value, "__array__"):
        return None  # (read when the derivative runs)
    return id(value)  # a function, a module, a string: what compiling took as it was


def all_hold(guards):
    return all(guard.holds() for guard in guards)


def guards(fn):
    """The guards of a derivative of the Python function `fn` (the function object itself)."""
    found, seen = [], set()
    _visit(getattr(fn, "__func__", fn), found, seen)
    return found


def _visit(fn, found, seen):
    if id(fn) in seen or not _is_user_function(fn):
        return
    seen.add(id(fn))
    found.append(Guard(fn, fn.__code__, "{holder}.__code__ is {value}", lambda fn: fn.__code__))
    if fn.__defaults__ is not None:  # (defaults added later cannot change the calls compiled already)
        found.append(Guard(fn, fn.__defaults__, "{holder}.__defaults__ is {value}", lambda fn: fn.__defaults__))
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # not bound yet: reading it fails when compiling, so nothing to guard
            continue
        found.append(Guard(cell, value, "{holder}.cell_contents is {value}", lambda cell: cell.cell_contents))
        _visit(value, found, seen)
    namespace = fn.__globals__
    loaded = sorted(_loaded_names(fn.__code__))
    modules = []
    for name in loaded:
        value = namespace.get(name)
        if isinstance(value, types.ModuleType):
            modules.append(value)
        elif isinstance(value, (types.FunctionType, type)):  # inlined, or called as a rule: fixed when compiled
            found.append(_entry(namespace, name, value))
            _visit(value, found, seen)
        elif is_structure(value):  # `model.layers`: what compiling read of it
            layout = Layout(namespace, name)
            found.append(Guard(layout, layout(), "{holder}() == {value}", lambda layout: layout(), equal=True))
    for module in modules:  # `helpers.model(x)`: an attribute of an imported module of the user's
        if (module.__name__ or "").split(".")[0] in ("numpy", "math", "adjoint"):
            continue
        for name in loaded:
            value = module.__dict__.get(name)
            if _is_user_function(value):
                found.append(_entry(module.__dict__, name, value))
                _visit(value, found, seen)


def _entry(namespace, name, value):
    return Guard(namespace, value, f"{{holder}}.get({name!r}) is {{value}}", lambda namespace: namespace.get(name))


def _loaded_names(code):
    """Global and attribute names `code` and the code nested in it (lambdas, comprehensions) load."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _loaded_names(const)
    return names


def _is_user_function(value):
    """A function compiling reads as code (one with rules of its own is called, not read)."""
    return is_user_function(value) and rule_for(value) is None and not is_nondiff(value)

