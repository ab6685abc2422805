"""What a compiled derivative took as fixed, and the checks that tell when it no longer holds.

The compiler inlines the user's functions and reads their closures when it compiles: the
derivative is stale once the function's code, a callee it inlined (a global or module attribute
rebound, or its `__code__` or defaults replaced) or a captured variable changes. Each such fact
is one `Guard`; the dispatcher tests them all on each call (an identity test each, tens of
nanoseconds) and recompiles when one fails. Globals holding numbers or arrays need no guard: the
generated code reads them when it runs. A global holding the user's objects, lists or dicts is
guarded by its `Layout` (its structure, compared on each call: a layer appended to `MODEL.layers`
changes the unrolled loop). The classes of the objects met are guarded by the attributes the
code may read of them (`Model.out`, replaced on the class, is inlined no more).

The facts come from the code objects (the names they load), so they are a superset of what the
compiler actually used: a guard too many costs a few nanoseconds, a guard too few a wrong gradient.
"""
import numbers
import types

from .frontend import is_structure, is_user_class, is_user_function
from .rules import is_nondiff, rule_for
from .rules.registry import Template
from .structures import StructureBuilder
from .syntax import read_live


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
    """The structure of the user's objects, lists, tuples or dicts held by a global, a closure cell or
    a class attribute, as compiling reads it (which attributes, how many items, which keys, which
    functions): calling it gives the structure now (`read` gives the value now). Numbers and arrays
    inside are read when the derivative runs, so they do not count."""

    __slots__ = ("read",)

    def __init__(self, read):
        self.read = read

    def __call__(self):
        return _layout(self.read(), 0)

    def guard(self):
        return Guard(self, self(), "{holder}() == {value}", lambda layout: layout(), equal=True)


def _layout(value, depth):
    if depth > 6:
        return id(value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_layout(item, depth + 1) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _layout(item, depth + 1)) for key, item in value.items()))
    if is_structure(value):  # an object of the user's
        return (type(value), tuple((key, _layout(item, depth + 1)) for key, item in vars(value).items()))
    if isinstance(value, types.MethodType):  # a bound method: its function, its object (a constant of
        # the compiled code, which reads its attributes) and that object's structure
        return (types.MethodType, id(value.__func__), id(value.__self__), _layout(value.__self__, depth + 1))
    if isinstance(value, numbers.Number) or hasattr(value, "__array__"):
        return None  # (read when the derivative runs)
    return id(value)  # a function, a module, a string: what compiling took as it was


def all_hold(guards):
    return all(guard.holds() for guard in guards)


def guards(fn):
    """The guards of a derivative of the Python function `fn` (the function object itself)."""
    collector = _Collector()
    collector.visit(getattr(fn, "__func__", fn))
    collector.visit_classes()
    return collector.found


class _Collector:
    """Walks the functions a derivative may have inlined, from the differentiated one, gathering guards.

    The classes of the user's objects it meets (held by globals and closures, built by constructors,
    or rebuilt from an argument) are guarded last, when every name the code loads is known: each
    attribute of such a class the code may read (`Model.out`, `Model.scale`) must still be the object
    compiling read, since methods are inlined. Class-level numbers and arrays are constants of the
    code for objects built inside the function or rebuilt from an argument; of an object held by a
    global they are read when the derivative runs (lower_data.read_known), and need no guard."""

    def __init__(self):
        self.found, self.seen, self.names = [], set(), set()
        self.classes = {}  # class -> may compiling have taken its numbers and arrays as constants?
        self.guarded, self.read_live = set(), set()  # (class, name) pairs done, and those left to run time

    def visit(self, fn):
        if id(fn) in self.seen:
            return
        if not _is_user_function(fn):
            self.seen.add(id(fn))
            self.guard_rule_globals(fn)
            return
        self.seen.add(id(fn))
        found = self.found
        found.append(Guard(fn, fn.__code__, "{holder}.__code__ is {value}", lambda fn: fn.__code__))
        if fn.__defaults__ is not None:  # (defaults added later cannot change the calls compiled already)
            found.append(Guard(fn, fn.__defaults__, "{holder}.__defaults__ is {value}", lambda fn: fn.__defaults__))
        for cell in fn.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # not bound yet: reading it fails when compiling, so nothing to guard
                continue
            found.append(Guard(cell, value, "{holder}.cell_contents is {value}", lambda cell: cell.cell_contents))
            if is_structure(value):  # a captured list changed in place (`acts.append(f)`) is the same object
                found.append(Layout(lambda cell=cell: _cell_contents(cell)).guard())
            self.visit(value)
            self.note_classes(value)
        namespace = fn.__globals__
        loaded = sorted(_loaded_names(fn.__code__))
        self.names.update(loaded)
        modules = []
        for name in loaded:
            value = namespace.get(name)
            if isinstance(value, types.ModuleType):
                modules.append(value)
            elif isinstance(value, (types.FunctionType, type)):  # inlined, or called as a rule: fixed when compiled
                found.append(_entry(namespace, name, value))
                self.visit(value)
                self.note_class(value)
            elif is_structure(value) or isinstance(value, types.MethodType):  # `model.layers`, `step = model.step`:
                found.append(Layout(lambda namespace=namespace, name=name: namespace.get(name)).guard())
                self.note_classes(getattr(value, "__self__", value))
                self.visit(getattr(value, "__func__", None))
                for item in value if isinstance(value, (list, tuple)) else ():
                    self.visit(item)  # (a tuple of functions: each is inlined where it is called)
            elif isinstance(value, StructureBuilder):  # an argument with structure, rebuilt (structures.py)
                self.note_classes_of_spec(value.spec)
        for module in modules:  # `helpers.model(x)`: an attribute of an imported module of the user's
            if (module.__name__ or "").split(".")[0] in ("numpy", "math", "adjoint"):
                continue
            for name in loaded:
                value = module.__dict__.get(name)
                if _is_user_function(value) or isinstance(value, types.FunctionType) and rule_for(value) is not None:
                    found.append(_entry(module.__dict__, name, value))
                    self.visit(value)

    def guard_rule_globals(self, fn):
        """A rule given with defvjp/defjvp is inlined with the globals of its module it reads: numbers
        and arrays are read when the derivative runs, the others (a helper it calls, a flag) are
        taken when compiling, and guarded."""
        rule = rule_for(fn) if callable(fn) else None
        for template in [*getattr(rule, "vjp", {}).values(), *getattr(rule, "jvp", {}).values()]:
            for name in template.global_names if isinstance(template, Template) else ():
                value = template.globals.get(name, _ABSENT)
                if value is not _ABSENT and not isinstance(value, types.ModuleType) and not read_live(value):
                    self.found.append(_entry(template.globals, name, value))

    def note_class(self, cls, constants=True):
        if not is_user_class(cls) or self.classes.get(cls, False) or cls in self.classes and not constants:
            return
        self.classes[cls] = constants
        if constants:  # its numbers and arrays, left to run time so far, are constants after all
            self.guarded -= {pair for pair in self.read_live if pair[0] is cls}

    def note_classes(self, value, depth=0):
        """The classes of the user's objects in `value` (an object, or lists, tuples, dicts of them)."""
        if depth > 6:
            return
        if isinstance(value, (list, tuple)):
            for item in value:
                self.note_classes(item, depth + 1)
        elif isinstance(value, dict):
            for item in value.values():
                self.note_classes(item, depth + 1)
        elif is_structure(value):
            self.note_class(type(value), constants=False)
            for item in vars(value).values():
                self.note_classes(item, depth + 1)

    def note_classes_of_spec(self, spec):
        if spec[0] in ("object", "namedtuple"):
            self.note_class(spec[1])
        if spec[0] in ("dict", "object", "namedtuple", "list", "tuple"):
            for item in spec[-1]:
                self.note_classes_of_spec(item[1] if spec[0] in ("dict", "object", "namedtuple") else item)

    def visit_classes(self):
        """Guard each attribute of the classes met that the code loads by name (or calls implicitly:
        `__init__`, `__call__`), and visit the methods among them, which load names of their own."""
        while True:
            pending = [(cls, name) for cls in list(self.classes) for name in sorted(self.names | _IMPLICIT)
                       if (cls, name) not in self.guarded]
            if not pending:
                return
            for cls, name in pending:
                self.guarded.add((cls, name))
                found = _class_guard(cls, name)
                if found is None:
                    continue
                raw = found.value
                if not self.classes[cls] and (isinstance(raw, numbers.Number) or hasattr(raw, "__array__")):
                    self.read_live.add((cls, name))
                    continue
                self.found.append(found)
                self.visit(getattr(raw, "__func__", raw))  # (a staticmethod's function)
                self.visit(getattr(raw, "fget", None))     # (a property's getter)
                self.note_class(raw)


_ABSENT = object()
_IMPLICIT = {"__init__", "__call__"}  # methods Python calls without their name in the code: `Layer(W)`, `model(x)`


def _class_guard(cls, name):
    """A guard that `cls.name` is still what it is, when a user class of `cls`'s MRO defines `name`
    (inherited from `object` or a builtin base, it is nothing the compiler inlines), else None."""
    owner = next((base for base in cls.__mro__ if is_user_class(base) and name in vars(base)), None)
    if owner is None:
        return None
    try:
        value = getattr(cls, name)
    except AttributeError:  # a descriptor refusing the class itself
        value = None
    if value is not None and getattr(cls, name, None) is value:  # the same object on each read: `cls.name is`
        if is_structure(value):  # a list of the class's changed in place (`Model.acts.append(f)`) too
            return Layout(lambda: getattr(cls, name, None)).guard()
        return Guard(cls, value, f"{{holder}}.{name} is {{value}}", lambda cls: getattr(cls, name, None))
    # a descriptor making a new object on each read (a classmethod): the entry of the class defining it
    entries = vars(owner)
    return Guard(entries, entries[name], f"{{holder}}.get({name!r}) is {{value}}", lambda entries: entries.get(name))


def _cell_contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # emptied by `del`: the identity guard before this one fails first
        return None


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

