"""Compiled derivatives: one object per (function, transform, options), one compiled
specialisation per combination of argument types (Python scalar or array), built
on first call and cached.
"""
import contextlib
import inspect
import sys
import threading
import weakref

import numpy as np

from . import codegen
from . import runtime as rt
from .dispatch import make_dispatcher
from .errors import InvalidArgument
from .guards import all_hold, guards
from .lower import lower
from .optimize import (fuse_temporaries, may_be_arrays, memory_sharers, optimize, without_common_subexpressions,
                       write_in_place)
from .optimize.shapes import SCALAR, ShapeClasses
from .record import record
from .ir import Apply, Pack, Return, Var

_lock = threading.RLock()
_transforms = weakref.WeakKeyDictionary()   # fn -> {options: Transform}
_lowered = weakref.WeakKeyDictionary()      # fn -> (code object, lowered Function)

SCALAR_TYPES = (int, float, bool, np.generic)


@contextlib.contextmanager
def deep_recursion(limit=20000):
    """Room for the compiler's recursive walks over deeply nested code (Python's own parser stops
    nesting at about 200 levels; converting and lowering such an expression takes a few frames per
    level, more than the default limit of 1,000 allows)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def lowered(fn):
    """The SSA form of `fn`, lowered again only when what it inlined changed (see guards.py)."""
    if inspect.ismethod(fn):
        with deep_recursion():
            return lower(fn)
    with _lock, deep_recursion():
        cached = _lowered.get(fn)
        if cached is not None and all_hold(cached[0]):
            return cached[1]
        checks = guards(fn)
        function = lower(fn)
        _lowered[fn] = (checks, function)
        return function


def clear_caches():
    """Forget every compiled derivative (the rules changed)."""
    with _lock:
        for per_fn in list(_transforms.values()):
            for transform in per_fn.values():
                transform.compiled.clear()
                if transform._dispatcher is not None:  # it may carry a derivative's body itself
                    transform._dispatcher.__adjoint_forget__()
        _lowered.clear()


def get_transform(cls, fn, **options):
    """The transform of `fn` with these options, the same object each time it is asked for."""
    fn = getattr(fn, "__adjoint_transform__", fn)
    check_differentiable(fn)
    if isinstance(options.get("wrt"), list):
        options["wrt"] = tuple(options["wrt"])
    if inspect.ismethod(fn):  # bound methods are made afresh on each attribute access: nothing to share
        return cls(fn, **options)
    key = (cls, tuple(sorted(options.items())))
    with _lock:
        per_fn = _transforms.setdefault(fn, {})
        transform = per_fn.get(key)
        if transform is None or transform.code is not _code(fn) or not transform.still_holds():
            transform = cls(fn, **options)
            per_fn[key] = transform
        return transform


def _code(fn):
    return getattr(fn, "__code__", None)


def check_differentiable(fn):
    """Refuse what adjoint cannot read as Python source, with a message saying so."""
    if isinstance(fn, Transform) or (inspect.isfunction(fn) or inspect.ismethod(fn)):
        code = getattr(getattr(fn, "__func__", fn), "__code__", None)
        if code is not None and code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) \
                or code is not None and code.co_kwonlyargcount:
            raise InvalidArgument(
                f"cannot differentiate {fn.__qualname__}: it takes *args, **kwargs or keyword-only parameters. "
                "Give it plain positional parameters (wrap it in a small function if needed).")
        return
    if type(fn).__module__.startswith("adjoint."):  # a Jacobian, a forward-mode gradient, an hvp ...
        raise InvalidArgument(
            f"cannot differentiate {type(fn).__name__} objects again: higher derivatives are built on "
            "adjoint.grad (reverse mode) or adjoint.jvp, e.g. adjoint.jacobian(adjoint.grad(f)) or "
            "adjoint.hessian(f).")
    raise InvalidArgument(
        f"adjoint can only differentiate Python functions (defined with `def`), not {fn!r}. "
        "For a numpy or C function, wrap the call in a Python function.")


class Transform:
    """A derivative of `fn`. Calling it compiles (once per argument types) and runs it."""

    label = "transform"

    def __init__(self, fn, wrt):
        check_differentiable(fn)
        self.inner = fn if isinstance(fn, Transform) else None
        self.fn = fn
        self.code = _code(getattr(fn, "__func__", fn))
        self.params = _parameter_names(fn)
        self.defaults = _defaults(fn)
        self.wrt, self.single = normalize_wrt(wrt, self.params, getattr(fn, "__qualname__", repr(fn)))
        self.compiled = {}
        self.checks = None  # the guards the code in `compiled` was compiled under (see `guards`)
        self.last_key = None
        self._dispatcher = None
        self.generation = 0  # dispatchers made so far after a guard failed (see `refresh`)
        self.__name__ = f"{self.label}_{getattr(fn, '__name__', 'f')}"
        self.__qualname__ = self.__name__
        self.__doc__ = f"The {self.label} of {getattr(fn, '__qualname__', fn)} with respect to {self.wrt}."

    # -- calling -------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def bind(self, args, kwargs):
        try:
            return bind_arguments(self.__name__, self.params, self.defaults, self.extra_params(), args, kwargs)
        except InvalidArgument as error:
            missing = getattr(error, "missing", None)
            if missing in self.extra_params():
                raise InvalidArgument(f"{error} ({self.describe_extra(missing)})") from None
            raise

    def extra_params(self):
        """The derivative's parameters after the function's own: a tangent or cotangent, named so
        that no parameter of the function has the name."""
        return ()

    def describe_extra(self, name):
        """What the extra parameter `name` is, for an error that says it is missing."""
        return f"an argument of {self.label}"

    # -- compiling -----------------------------------------------------------

    def specialize(self, key, cache=None):
        """The compiled derivative for argument types `key`, from (or added to) `cache`: the cache of
        the dispatcher asking, since each dispatcher's cache holds code for what its guards say."""
        with _lock:
            cache = self.own_cache() if cache is None else cache
            compiled = cache.get(key)
            if compiled is None:
                compiled = self.compile(key)
                cache[key] = compiled
            self.last_key = key
            if self._dispatcher is not None:
                self._dispatcher.__wrapped__ = compiled  # inspect.getsource(df) shows the derivative
            return compiled

    def primal_function(self, key):
        """The Python function being differentiated, for argument types `key`."""
        if self.inner is not None:
            return self.inner.python_function(key)
        return self.fn

    @property
    def __wrapped__(self):
        """The generated function used last, so `inspect.getsource(df)` shows the derivative's source."""
        return self.python_function(self.last_key)

    def guards(self):
        """What compiling took as fixed (see guards.py): the base function's code, callees, closures,
        classes. Remembered: code compiled from now on is compiled under them."""
        base = self
        while base.inner is not None:
            base = base.inner
        self.checks = guards(base.fn) if inspect.isfunction(getattr(base.fn, "__func__", base.fn)) else []
        return self.checks

    def still_holds(self):
        """Is what the compiled code took as fixed still so (None known yet: nothing compiled)?"""
        return self.checks is None or all_hold(self.checks)

    def own_cache(self):
        """The cache of code compiled outside a dispatcher (`adjoint.source`, a derivative inlined
        into another), emptied first if what that code took as fixed changed: a dispatcher checks
        its guards on each call, this path when it is asked."""
        if self.checks is None or not all_hold(self.checks):
            if self.checks is not None:
                self.compiled = {}  # (a dispatcher holding the old dict finds its guards failing too)
            self.guards()
        return self.compiled

    def refresh(self, generation):
        """The dispatcher to call now that dispatcher `generation` found a guard failing: a new one
        whose derivatives are compiled afresh (made by the first caller to notice)."""
        with _lock:
            if generation == self.generation:
                self.generation += 1
                transform = self
                while transform is not None:
                    transform.compiled = {}  # the old dispatcher keeps the old cache: right for the old code
                    transform.code = _code(getattr(transform.fn, "__func__", transform.fn))
                    transform.params, transform.defaults = _parameter_names(transform.fn), _defaults(transform.fn)
                    transform = transform.inner
                self._dispatcher = make_dispatcher(self, _lock)
            return self._dispatcher

    @property
    def dispatcher(self):
        """The function users call: a plain function, so a call costs a few attribute loads."""
        if self._dispatcher is None:
            self._dispatcher = make_dispatcher(self, _lock)
        return self._dispatcher

    def __adjoint_inline__(self):
        """What a differentiated function calling this derivative inlines: its generic code."""
        return self.python_function()

    def python_function(self, key=None):
        """The generated Python function for argument types `key` (None: the generic one)."""
        arity = len(self.params) + len(self.extra_params())
        if key is None or len(key) != arity:
            key = (object,) * arity
        return self.specialize(tuple(key))

    def compile(self, key):
        with deep_recursion():
            return self.compile_deeply(key)

    def compile_deeply(self, key):
        fn = self.primal_function(key[:len(self.params)])
        # merged before differentiating, a repeated value gets one adjoint (one accumulation, one
        # `unindex`) instead of two
        primal = without_common_subexpressions(lowered(fn))
        function = self.derive(primal, fn)
        scalar_params = [p for p, t in zip(function.params, key) if issubclass(t, SCALAR_TYPES)]
        float_params = [p for p, t in zip(function.params, key) if t is float]
        optimize(function, scalar_params, float_params)
        record(function, scalar_params)
        ensure_fresh_outputs(function, scalar_params)
        fuse_temporaries(function)
        write_in_place(function)  # (on the statements as they will run: folding may move a read later)
        text, bindings = codegen.generate(function, self.__name__, len(self.params), primal.reserved,
                                          primal.visible, arrays=may_be_arrays(function, scalar_params))
        return codegen.compile_function(text, self.__name__, bindings, fn.__globals__,
                                        f"{self.label} of {getattr(fn, '__qualname__', fn)}")

    def derive(self, primal, fn):
        raise NotImplementedError


def ensure_fresh_outputs(function, scalar_params):
    """Returned arrays must never alias an argument or each other: copy any output that may share
    memory with an array parameter (a cotangent passed in, `y` in `x if c else y`), or with a value
    returned already (`unbroadcast(g, x)` and `unbroadcast(g, y)` are both `g` when x and y share
    a shape)."""
    taken = set(function.params) - set(scalar_params)
    sharers, shapes = memory_sharers(function), ShapeClasses(function, set(scalar_params))

    def fresh(expr):
        if isinstance(expr, Pack):
            return Pack(expr.kind, [fresh(item) for item in expr.items])
        inner = expr.args[0] if isinstance(expr, Apply) and expr.fn is rt.as_grad else expr
        if not isinstance(inner, Var) or inner in scalar_params or shapes.of(inner) == SCALAR:
            return expr  # (a number is never changed in place)
        shared = sharers(inner)
        if shared & taken:
            copied = Apply(np.copy, (inner,))
            return copied if inner is expr else Apply(rt.as_grad, (copied,) + expr.args[1:])
        taken.update(shared)
        return expr

    last = function.body[-1]
    function.body[-1] = Return(fresh(last.value), last.loc)


def _parameter_names(fn):
    if isinstance(fn, Transform):
        return fn.params + list(fn.extra_params())
    code = getattr(fn, "__func__", fn).__code__
    names = list(code.co_varnames[:code.co_argcount])
    return names[1:] if inspect.ismethod(fn) else names


def _defaults(fn):
    if isinstance(fn, Transform):
        return fn.defaults
    return getattr(fn, "__func__", fn).__defaults__ or ()


def normalize_wrt(wrt, params, name):
    """`wrt` as a tuple of parameter indices, and whether a single one was asked for."""
    single = not isinstance(wrt, (tuple, list))
    items = (wrt,) if single else tuple(wrt)
    if not items:
        raise InvalidArgument(f"wrt=() asks {name} for no gradient at all; name at least one parameter")
    indices = []
    for item in items:
        if isinstance(item, str):
            if item not in params:
                raise InvalidArgument(f"wrt={item!r}: {name} has no parameter {item!r} "
                                      f"(its parameters are {', '.join(params)})")
            indices.append(params.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                count = f"{len(params)} parameter{'s' if len(params) != 1 else ''}"
                raise InvalidArgument(f"wrt={item}: {name} has only {count}")
            indices.append(int(item) % len(params))
        else:
            raise InvalidArgument(f"wrt must be a parameter index or name (or a tuple of them), not {item!r}")
    return tuple(indices), single


def bind_arguments(name, params, defaults, extra, args, kwargs):
    names = list(params) + list(extra)
    values = list(args)
    if len(values) > len(names):
        raise InvalidArgument(f"{name} takes {len(names)} arguments ({', '.join(names)}), got {len(values)}")
    first_default = len(params) - len(defaults)
    for index in range(len(values), len(names)):
        param = names[index]
        if param in kwargs:
            values.append(kwargs.pop(param))
        elif first_default <= index < len(params):
            values.append(defaults[index - first_default])
        else:
            error = InvalidArgument(f"{name} is missing the argument {param!r}")
            error.missing = param
            raise error
    if kwargs:
        raise InvalidArgument(f"{name} got unexpected argument(s) {', '.join(map(repr, kwargs))}")
    return tuple(values)
