"""Arguments with structure: dicts, objects of the user's classes, lists and tuples of those.

A derivative is compiled for arrays and numbers. An argument with structure is flattened into
its leaves (arrays and numbers), the function is wrapped in a generated one that takes the leaves
and rebuilds the structure while compiling (so `params["W"]` and `model.layers[0].b` are plain
values in the SSA form), and the gradients of the leaves are put back into the structure:

    loss(params, x), params = {"W": W, "b": b}
      ->  def loss(params_W, params_b, x): return __target__(__structure_0__(params_W, params_b), x)
      ->  grad wrt params = {"W": grad of params_W, "b": grad of params_b}

The gradient of an object is a dict of its attributes' gradients. Values that are neither arrays
nor numbers (strings, functions, None, booleans) are constants of the compiled derivative: a new
value compiles a new one. The same mechanism specialises a recursive function on the values of its
int arguments (`power(x, n)`): each value of `n` gets a derivative of its own.
"""
import itertools
import threading

import numpy as np

from .errors import InvalidArgument
from .ir import is_namedtuple_class

_counter = itertools.count(1)
_lock = threading.RLock()


def needs_flattening(cls):
    """Might an argument of class `cls` need flattening (decided per value by `flatten`)?"""
    if issubclass(cls, (dict, list, tuple)):
        return True
    module = getattr(cls, "__module__", "") or ""
    return module not in ("builtins",) and not module.startswith("numpy") and not issubclass(cls, np.ndarray) \
        and cls.__name__ not in ("function", "method", "builtin_function_or_method")


def is_int(value):
    """A Python or numpy integer (not a bool): what a recursive function is specialised on."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_leaf(value):
    return isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool)


class Constant:
    """A value baked into a compiled derivative; equal when the values are (or are the same object)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        if not isinstance(other, Constant):
            return False
        if self.value is other.value:
            return True
        try:
            return type(self.value) is type(other.value) and bool(self.value == other.value)
        except Exception:  # noqa: BLE001 - values that cannot be compared are different
            return False

    def __hash__(self):
        try:
            return hash((type(self.value), self.value))
        except TypeError:
            return id(type(self.value))


def flatten(value, static_ints):
    """(spec, leaves) of one argument. Specs are hashable: ("leaf",), ("const", Constant),
    ("static", int), ("dict", ((key, spec), ...)), ("list" | "tuple", (spec, ...)),
    ("namedtuple", cls, ((field, spec), ...)), ("object", cls, ((attribute, spec), ...))."""
    leaves = []
    spec = _flatten(value, leaves, static_ints)
    return spec, leaves


def _flatten(value, leaves, static_ints):
    if static_ints and is_int(value):
        return ("static", int(value))  # (np.int64(3) is 3: the same derivative, and `3` in its code)
    if _is_leaf(value):
        leaves.append(value)
        return ("leaf",)
    if isinstance(value, dict):
        return ("dict", tuple((key, _flatten(item, leaves, False)) for key, item in value.items()))
    if is_namedtuple_class(type(value)):  # (its gradient comes back as one of its class)
        return ("namedtuple", type(value), tuple((field, _flatten(item, leaves, False))
                                                 for field, item in zip(value._fields, value)))
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return (kind, tuple(_flatten(item, leaves, False) for item in value))
    if needs_flattening(type(value)) and hasattr(value, "__dict__") and not callable(getattr(value, "__array__", None)):
        return ("object", type(value), tuple((key, _flatten(item, leaves, False))
                                            for key, item in vars(value).items()))
    return ("const", Constant(value))


def top_spec(value, static_ints):
    if not static_ints or not is_int(value):
        if not isinstance(value, (dict, list, tuple)) and not needs_flattening(type(value)) \
                or isinstance(value, (list, tuple)) and not value:
            return ("asis",), [value]
    spec, leaves = flatten(value, static_ints)
    if spec[0] in ("leaf",):
        return ("asis",), leaves
    if spec[0] == "const":  # a function, a string, None: not a structure, passed as it is
        return ("asis",), [value]
    return spec, leaves


class StructureBuilder:
    """Called by a flattened function: lowering turns the call into the structure (see lower_data)."""

    __slots__ = ("spec", "__name__")

    def __init__(self, spec, name):
        self.spec = spec
        self.__name__ = name

    def __call__(self, *leaves):
        return rebuild(self.spec, iter(leaves), gradient=False)


def rebuild(spec, leaves, gradient=True):
    """The structure `spec` describes, with values taken from the iterator `leaves`. For a gradient,
    constants have no entry in dicts and objects and are None in lists; objects become dicts."""
    kind = spec[0]
    if kind == "leaf":
        return next(leaves)
    if kind == "const":
        return None if gradient else spec[1].value
    if kind == "static":
        return None if gradient else spec[1]
    if kind == "dict":
        out = {key: rebuild(item, leaves, gradient) for key, item in spec[1]}
        return {key: value for (key, item), value in zip(spec[1], out.values()) if not gradient or _has_leaf(item)}
    if kind in ("list", "tuple"):
        items = [rebuild(item, leaves, gradient) for item in spec[1]]
        return items if kind == "list" else tuple(items)
    if kind == "namedtuple":  # (a gradient has None for a field without one, as a tuple has)
        return spec[1](*(rebuild(item, leaves, gradient) for _, item in spec[2]))
    if kind == "object":
        values = {key: rebuild(item, leaves, gradient) for key, item in spec[2]}
        if gradient:
            return {key: value for (key, item), value in zip(spec[2], values.values()) if _has_leaf(item)}
        obj = object.__new__(spec[1])
        obj.__dict__.update(values)
        return obj
    raise ValueError(spec)


def _has_leaf(spec):
    kind = spec[0]
    if kind == "leaf":
        return True
    if kind in ("dict", "object", "namedtuple"):
        return any(_has_leaf(item) for _, item in spec[-1])
    if kind in ("list", "tuple"):
        return any(_has_leaf(item) for item in spec[1])
    return False


def _count(spec):
    kind = spec[0]
    if kind in ("leaf", "asis"):
        return 1
    if kind in ("dict", "object", "namedtuple"):
        return sum(_count(item) for _, item in spec[-1])
    if kind in ("list", "tuple"):
        return sum(_count(item) for item in spec[1])
    return 0


def _names(spec, prefix, out):
    """Parameter names for the leaves of `spec`, from the path to each (`params_W`, `model_layers_0_b`)."""
    kind = spec[0]
    if kind in ("leaf", "asis"):
        out.append(prefix)
    elif kind in ("dict", "object", "namedtuple"):
        for key, item in spec[-1]:
            _names(item, f"{prefix}_{key}", out)
    elif kind in ("list", "tuple"):
        for i, item in enumerate(spec[1]):
            _names(item, f"{prefix}_{i}", out)
    return out


def flat_function(fn, params, specs):
    """A generated function taking the leaves of `specs`, which calls `fn` with the structures rebuilt."""
    from .codegen import identifier
    from .frontend import register_source
    fn_name = identifier(getattr(fn, "__name__", "f")) or "f"
    taken = set(params) | {fn_name}

    def fresh(name):  # a name of the generated code, which a parameter may have too (`__target__`)
        while name in taken:
            name += "_"
        taken.add(name)
        return name

    target = fresh("__target__")
    builders = {i: fresh(f"__structure_{i}__") for i, spec in enumerate(specs) if spec[0] not in ("static", "asis")}
    flat_params, call_args, namespace = [], [], {target: fn}
    for i, (name, spec) in enumerate(zip(params, specs)):
        if spec[0] == "static":
            call_args.append(repr(spec[1]))
            continue
        names = []
        for raw in _names(spec, name, []):
            candidate = identifier(raw) or "leaf"
            while candidate in taken and candidate != name:
                candidate += "_"
            if spec[0] != "asis":
                taken.add(candidate)
            names.append(candidate)
        flat_params += names
        if spec[0] == "asis":
            call_args.append(names[0])
        else:
            namespace[builders[i]] = StructureBuilder(spec, name)
            call_args.append(f"{builders[i]}({', '.join(names)})")
    text = f"def {fn_name}({', '.join(flat_params)}):\n    return {target}({', '.join(call_args)})\n"
    filename = f"<adjoint flattened {fn_name} #{next(_counter)}>"
    register_source(filename, text)
    exec(compile(text, filename, "exec"), namespace)
    flat = namespace[fn_name]
    flat.__adjoint_stands_for__ = fn  # (errors while lowering it name `fn`'s file and lines: see lower.py)
    return flat


def flat_version(owner, specs):
    """(`owner`'s transform of the flattened function, the flattened function). A derivative of a
    derivative (`owner.inner`) is the same chain of transforms over the flattened function."""
    params = list(owner.params)
    starts = list(itertools.accumulate([0] + [_count(spec) for spec in specs]))
    flat_wrt = []
    for index in owner.wrt:
        if specs[index][0] == "static":
            raise InvalidArgument(f"cannot differentiate with respect to `{params[index]}`: it is an int "
                                  "argument of a recursive function, on whose value the derivative is "
                                  "specialised")
        flat_wrt += range(starts[index], starts[index + 1])
    if not flat_wrt:
        raise InvalidArgument(f"the arguments adjoint is asked to differentiate with respect to "
                              f"({', '.join(params[i] for i in owner.wrt)}) hold no arrays or numbers")
    inner = getattr(owner, "inner", None)
    if inner is None:
        flat = target = flat_function(getattr(owner, "fn", None), params, specs)
    else:
        extra = specs[len(inner.params):]
        if any(spec[0] != "asis" for spec in extra):
            raise InvalidArgument(f"the {', '.join(params[len(inner.params):])} of a derivative of a recursive "
                                  "function must be arrays or floats")
        target, flat = flat_version(inner, specs[:len(inner.params)])
    return owner.flat_transform(target, flat_wrt), flat


class Flattened:
    """The compiled derivative for arguments with structure (installed in place of a specialisation)."""

    def __init__(self, owner, key, static_ints):
        self.owner, self.key, self.static_ints = owner, key, static_ints
        self.cache = {}  # specs -> (the derivative's function to call, the derivative, the flattened function)
        self.plain = None
        self.last = None  # the derivative made last, which adjoint.source shows without arguments

    def __call__(self, *args):
        specs, leaves = self.split(args)
        if all(spec[0] == "asis" for spec in specs):
            return self.call_plain(args)
        call = self.entry(specs)[0]
        result = call(*leaves, *args[len(self.owner.params):])
        return self.finish(result, specs)

    def split(self, args):
        """(the spec of each argument, the leaves of them all) of the owner's arguments in `args`."""
        return split(args[:len(self.owner.params)], self.static_ints)

    def entry(self, specs):
        entry = self.cache.get(specs)
        if entry is None:
            with _lock:
                entry = self.cache.get(specs)
                if entry is None:
                    entry = self.cache[specs] = self.make(specs)
        return entry

    def call_plain(self, args):
        from .transform import Transform
        if not isinstance(self.owner, Transform):
            return self.owner.plain(args)
        return self.plain_function()(*args)

    def plain_function(self):
        """The owner's derivative compiled as if no argument had structure (a list that is empty, say)."""
        from .transform import Transform
        if self.plain is None:
            self.plain = Transform.compile(self.owner, self.key)
        return self.plain

    def make(self, specs):
        transform, flat = flat_version(self.owner, specs)  # (the entry keeps `flat`, a weak key of the
        self.last = transform                              # transform cache, alive)
        return getattr(transform, "dispatcher", transform), transform, flat

    def derivative(self, args=None):
        """(the derivative that runs for `args`, the arguments it takes): the derivative of the
        function of the leaves, or (None, args) if no argument has structure. Without `args`, the
        one made last. What adjoint.source shows."""
        if args is None:
            if self.last is None:
                raise InvalidArgument("this derivative has not run with a dict, list or object argument yet: "
                                      "pass example arguments to adjoint.source as well (adjoint.source(d, *args))")
            return self.last, None
        specs, leaves = self.split(args)
        if all(spec[0] == "asis" for spec in specs):
            return None, args
        return self.entry(specs)[1], (*leaves, *args[len(self.owner.params):])

    @property
    def __wrapped__(self):
        """The derivative made last, so that `inspect.getsource(df)` shows its source."""
        if self.last is None:
            raise AttributeError("__wrapped__")
        return getattr(self.last, "dispatcher", self.last)

    def finish(self, result, specs):
        owner = self.owner
        if not getattr(owner, "returns_gradients", True):  # forward mode: shaped like the output
            return result
        with_value = getattr(owner, "label", "grad") == "vjp" or getattr(owner, "with_value", False)
        value, flat_grads = result if with_value else (None, result)
        grads = regroup(flat_grads if isinstance(flat_grads, tuple) else (flat_grads,), specs, owner.wrt)
        out = grads[0] if owner.single else tuple(grads)
        return (value, out) if with_value else out


def split(args, static_ints):
    """(the spec of each argument, the leaves of them all)."""
    specs, leaves = [], []
    for value in args:
        spec, found = top_spec(value, static_ints)
        specs.append(spec)
        leaves += found
    return tuple(specs), leaves


def regroup(flat_results, specs, wrt):
    """Results for the leaves of the arguments at `wrt` (gradients, Jacobians), one per leaf in
    order, put back into the structure of each argument: one result per argument."""
    grouped, position = [], 0
    for index in wrt:
        spec = specs[index]
        size = _count(spec)
        part = iter(flat_results[position:position + size])
        position += size
        grouped.append(next(part) if spec[0] == "asis" else rebuild(spec, part))
    return grouped
