"""The public transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp; source / ssa to look at them."""
import inspect

import numpy as np

from . import codegen
from .errors import InvalidArgument, NoDerivativeRule, NonScalarOutput, UnsupportedSyntax, function_at
from .forward import forward
from . import runtime
from .ir import Apply, Assign, Const, Return
from .reverse import reverse
from .structures import Flattened, flat_version, is_int, needs_flattening, regroup, split
from .transform import Transform, bind_arguments, check_differentiable, get_transform, lowered, normalize_wrt


class Structured:
    """Mixed into the transforms: arguments that are dicts, objects of the user's classes or lists
    of those are flattened into their arrays and numbers, and the gradient comes back with the same
    structure; a recursive function is specialised on its int arguments."""

    def compile(self, key):
        if any(needs_flattening(t) for t in key[:len(self.params)]):
            return Flattened(self, key, static_ints=False)
        if self.inner is not None and getattr(self.inner.python_function(key[:len(self.params)]), "static_ints", False):
            return Flattened(self, key, static_ints=True)  # what it differentiates is specialised on its ints
        try:
            return super().compile(key)
        except UnsupportedSyntax as error:
            if getattr(error, "recursion", False) and any(issubclass(t, (int, np.integer)) and t is not bool
                                                          for t in key[:len(self.params)]):
                return Flattened(self, key, static_ints=True)
            raise

    def flat_transform(self, flat_fn, flat_wrt):
        """This transform of the flattened function, with respect to the flattened `wrt`."""
        raise NotImplementedError

    def flat_wrt(self, flat_wrt):
        """The flattened `wrt` as a transform takes it: one index stays one (so that a derivative of
        this one, see `structures.flat_version`, differentiates a number, not a 1-tuple)."""
        return flat_wrt[0] if self.single and len(flat_wrt) == 1 else tuple(flat_wrt)


class Grad(Structured, Transform):
    """Reverse-mode gradient of a scalar function (optionally with its value)."""

    label = "grad"

    def __init__(self, fn, wrt, with_value=False):
        self.with_value = with_value
        if with_value:
            self.label = "value_and_grad"
        super().__init__(fn, wrt)

    def derive(self, primal, fn):
        where = function_at(primal.name, primal.source.filename, primal.source.first_line)
        return reverse(primal, self.wrt, seed="one", with_value=self.with_value, single=self.single,
                       expect_scalar=where)

    def flat_transform(self, flat_fn, flat_wrt):
        return get_transform(Grad, flat_fn, wrt=self.flat_wrt(flat_wrt), with_value=self.with_value)


class VJP(Structured, Transform):
    """Reverse mode for any output: `(value, cotangent . f'(x))`."""

    label = "vjp"

    def extra_params(self):
        name = "cotangent"
        while name in self.params:
            name += "_"
        return (name,)

    def describe_extra(self, name):
        return "the cotangent, shaped like the function's output"

    def derive(self, primal, fn):
        return reverse(primal, self.wrt, seed="cotangent", with_value=True, single=self.single,
                       seed_name=self.extra_params()[0])

    def flat_transform(self, flat_fn, flat_wrt):
        return get_transform(VJP, flat_fn, wrt=self.flat_wrt(flat_wrt))


class JVP(Structured, Transform):
    """Forward mode: `(value, f'(x) . tangent)`, one tangent argument per `wrt` entry."""

    label = "jvp"
    returns_gradients = False  # (what it returns is shaped like the function's output)

    def extra_params(self):
        names = []
        for i in self.wrt:
            name = "d_" + self.params[i]
            while name in self.params or name in names:
                name += "_"
            names.append(name)
        return tuple(names)

    def describe_extra(self, name):
        param = self.params[self.wrt[self.extra_params().index(name)]]
        text = f"the tangent of `{param}`"
        if name != "d_" + param:
            base = self.fn
            while isinstance(base, Transform):  # (hvp: a derivative of the function itself)
                base = base.fn
            text += f", named {name} because d_{param} is a parameter of {getattr(base, '__name__', 'the function')}"
        return text

    checks_seeds = True  # (not where adjoint makes the tangents itself, for a Jacobian's columns)

    def derive(self, primal, fn):
        if not self.checks_seeds:
            return forward(primal, self.wrt)
        return forward(primal, self.wrt, seeds=list(zip(self.extra_params(), (self.params[i] for i in self.wrt))))

    def flat_transform(self, flat_fn, flat_wrt):
        if len(flat_wrt) != 1:
            public = {"jvp": "adjoint.jvp", "hvp": "adjoint.hvp"}.get(  # (a Jacobian's pass: of a gradient, a
                self.label, "adjoint.hessian" if self.inner is not None else "adjoint.jacobian")  # hessian's)
            instead = ("use adjoint.grad(f, wrt=..., mode='forward')" if self.label == "jvp" else
                       "pass its numbers as one array (np.concatenate) and differentiate with respect to that")
            raise InvalidArgument(f"{public} differentiates with respect to an array or a number; for a dict "
                                  f"or an object, {instead}")
        return get_transform(type(self), flat_fn, wrt=flat_wrt[0])


class TangentOnly(JVP):
    """Forward mode returning only `f'(x) . tangent`: what `hvp` needs, so the code that only
    computes the value (for `hvp`, the whole gradient) is dead and removed."""

    label = "hvp"

    def derive(self, primal, fn):
        function = super().derive(primal, fn)
        result = function.body[-1]
        function.body[-1] = Return(result.value.items[1], result.loc)
        return function


class Column(TangentOnly):
    """`f'(x) . tangent` as it comes, for assembling Jacobians: not cast to the output's type, so
    the output itself need not be computed (the Jacobian is cast as a whole)."""

    label = "column"
    checks_seeds = False

    def derive(self, primal, fn):
        function = super().derive(primal, fn)
        result = function.body[-1]
        tangent = result.value
        if isinstance(tangent, Apply) and tangent.fn is runtime.as_grad:
            function.body[-1] = Return(tangent.args[0], result.loc)
        return function


class Slope(Column):
    """`f'(x)` for a number `x`: forward mode with the tangent 1.0 written into the code, where the
    products with it fold away. A Jacobian's column for a scalar input, in one pass without a seed."""

    label = "derivative"

    def extra_params(self):
        return ()

    def derive(self, primal, fn):
        function = super().derive(primal, fn)
        seed = function.params.pop()
        function.body.insert(0, Assign(seed, Const(1.0)))
        return function


def _non_scalar(value, where="the function"):
    error = NonScalarOutput(f"grad needs a scalar output, but {where} returns {runtime.described_output(value)}; "
                            "use adjoint.jacobian or adjoint.jvp instead")
    error.value = value
    return error


def _where(fn):
    """`fn` as the errors name a function (`errors.function_at`), or its name where it has no code."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    name = getattr(fn, "__qualname__", "the function")
    return name if code is None else function_at(name, code.co_filename, code.co_firstlineno)


def _one_pass(x):
    """A Python number: its derivative is one `Slope` pass, no tangent needed."""
    return type(x) in (float, int)


def _scalar_slope(tangent):
    """A `Slope`'s result as a gradient: a float, if the output was a scalar."""
    if type(tangent) is not float and (isinstance(tangent, (tuple, list)) or np.ndim(tangent)):
        raise _non_scalar(tangent)
    return _as_column(tangent)


def _as_column(tangent):
    """A `Slope`'s result as the Jacobian gives it: a float, or an array of floats (a tuple of
    those for a function returning a tuple)."""
    if type(tangent) is float or type(tangent) is np.ndarray and tangent.dtype.kind == "f" and tangent.ndim:
        return tangent
    if isinstance(tangent, tuple):
        return tuple(_as_column(t) for t in tangent)
    if np.iscomplexobj(tangent):
        raise runtime._complex_refused(np.result_type(tangent), "a value the derivative went through")
    if isinstance(tangent, np.ndarray) and tangent.ndim:
        return _floating(tangent)
    return float(tangent)


class ForwardGrad:
    """A gradient computed in forward mode: one tangent pass per input element."""

    def __init__(self, fn, wrt):
        self.fn = fn
        params = _params_of(fn)
        self.wrt, self.single = normalize_wrt(wrt, params, getattr(fn, "__qualname__", repr(fn)))
        self.jvps = [get_transform(JVP, fn, wrt=i) for i in self.wrt]
        self.slopes = [get_transform(Slope, fn, wrt=i) for i in self.wrt]  # for numbers: no seed needed
        self.__name__ = f"grad_{getattr(fn, '__name__', 'f')}"
        self.flat = None  # for dicts, objects, recursion: see `structures.Flattened`
        self.requested_wrt = wrt
        self.last_pass = None  # the Slope or JVP transform that ran last (see `__wrapped__`)

    def __adjoint_inline__(self):
        """Called inside a function being differentiated, the gradient is inlined as reverse-mode code:
        the same values, as source that can be differentiated again (these column loops are not)."""
        return get_transform(Grad, self.fn, wrt=self.requested_wrt).__adjoint_inline__()

    def __call__(self, *args, **kwargs):
        args = self.bind(args, kwargs)
        if self.flat is not None:
            return self.flat(*args)
        try:
            return self.plain(args)
        except UnsupportedSyntax as error:
            if not (getattr(error, "recursion", False) and any(is_int(a) for a in args)):
                raise
            self.flat = Flattened(self, tuple(map(type, args)), static_ints=True)
            return self.flat(*args)

    def bind(self, args, kwargs):
        """`args` completed with defaults; the first argument with structure sets up `self.flat`."""
        first = self.jvps[0]
        args = bind_arguments(self.__name__, first.params, first.defaults, (), args, kwargs)
        if self.flat is None and any(needs_flattening(type(a)) for a in args):
            self.flat = Flattened(self, tuple(map(type, args)), static_ints=False)
        return args

    def plain(self, args):
        grads = []
        for jvp, slope, index in zip(self.jvps, self.slopes, self.wrt):
            self.last_pass = slope if _one_pass(args[index]) else jvp
            try:
                grads.append(_scalar_slope(slope.dispatcher(*args)) if self.last_pass is slope
                             else _forward_columns(jvp, args, index, scalar_output=True))
            except NonScalarOutput as error:
                if not hasattr(error, "value"):  # (raised inside with a location of its own)
                    raise
                raise _non_scalar(error.value, _where(self.fn)) from None
        return grads[0] if self.single else tuple(grads)

    @property
    def __wrapped__(self):
        """The code that ran last, so that `inspect.getsource(df)` shows it, when that is one function:
        with respect to one argument (with several, each has a pass: adjoint.source(df) shows them all)."""
        if self.flat is not None and self.flat.last is not None:
            return self.flat.__wrapped__
        if len(self.wrt) != 1 or self.last_pass is None:
            raise AttributeError("__wrapped__")
        return _last_function(self.last_pass)

    @property
    def params(self):
        return self.jvps[0].params

    @property
    def __signature__(self):  # (inspect.signature would follow `__wrapped__` to the code of a pass)
        return _signature(self.params, self.jvps[0].defaults)

    def flat_transform(self, flat_fn, flat_wrt):
        return ForwardGrad(flat_fn, tuple(flat_wrt))



def _signature(params, defaults):
    """The signature of a derivative taking `params`, the last of them with `defaults`."""
    first_default = len(params) - len(defaults)
    return inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=defaults[i - first_default] if i >= first_default else inspect.Parameter.empty)
        for i, name in enumerate(params)])


def _last_function(transform):
    """The generated function `transform` ran last (compiled already: looking it up compiles nothing)."""
    return getattr(transform, "__wrapped__", transform)


def _params_of(fn):
    fn = getattr(fn, "__adjoint_transform__", fn)
    if isinstance(fn, Transform):
        return fn.params + list(fn.extra_params())
    check_differentiable(fn)  # (a Jacobian or hessian object, say: a clear error, not an AttributeError)
    names = list(fn.__code__.co_varnames[:fn.__code__.co_argcount])
    return names[1:] if inspect.ismethod(fn) else names  # a bound method's `self` is not a parameter


def _basis(x):
    """Unit tangents for each element of `x`, in `x`'s float dtype and type."""
    if isinstance(x, (int, float)):
        yield (), 1.0
        return
    x = np.asarray(x)
    if x.dtype.kind == "c":
        raise runtime._complex_refused(x.dtype, "an argument or output of the function differentiated")
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.dtype(float)
    for index in np.ndindex(x.shape):
        e = np.zeros(x.shape, dtype)
        e[index] = 1
        yield index, e


def _forward_columns(jvp, args, index, scalar_output=False):
    """The Jacobian of `jvp`'s function wrt `args[index]`, one forward pass per input element
    (`jvp` gives the value and the column, or, a `Column` transform, the column alone)."""
    x = args[index]
    columns = {}
    value = None
    for element, tangent in _basis(x):
        if isinstance(jvp, Column):
            value = column = jvp(*args, tangent)  # (the value's shape is the column's)
        else:
            value, column = jvp(*args, tangent)
        columns[element] = column
    if value is None:  # an empty input: no pass ran, the function itself gives the output's shape
        value = jvp.fn(*args)
    return _assembled(value, columns, x, scalar_output)


def _assembled(value, columns, x, scalar_output):
    """The Jacobian wrt `x` from its `columns` (one per element of `x`), shaped and typed for the
    output `value`; a tuple of Jacobians for a tuple output."""
    if isinstance(value, tuple):
        if scalar_output:
            raise _non_scalar(value)
        return tuple(_assembled(part, {element: column[k] for element, column in columns.items()}, x, scalar_output)
                     for k, part in enumerate(value))
    columns = {element: np.asarray(column) for element, column in columns.items()}
    if np.iscomplexobj(value) or any(column.dtype.kind == "c" for column in columns.values()):
        raise runtime._complex_refused(np.result_type(value, *columns.values()), "the function's output")
    out_shape = np.shape(value)
    if scalar_output and out_shape != ():
        raise _non_scalar(value)
    in_shape = np.shape(x)
    if in_shape == () and columns:  # one pass: its column is the Jacobian, no need to copy it
        result = _floating(columns[()])
    else:
        result = np.zeros(out_shape + in_shape, dtype=np.result_type(*columns.values(), float) if columns else float)
        for element, column in columns.items():
            result[(Ellipsis,) + element] = column
    if isinstance(x, (int, float)) and out_shape == ():
        return float(result)
    if isinstance(x, np.ndarray):
        result = result.astype(runtime._grad_dtype(x), copy=False)
    elif isinstance(x, np.generic) and out_shape == ():  # a numpy scalar in, as reverse mode gives
        result = runtime._grad_dtype(x).type(result)
    return result


def _floating(array):
    """`array`, or a float copy of it if it holds integers or booleans."""
    return array if array.dtype.kind in "fc" else array + 0.0


def _reverse_rows(vjp, args, positions):
    """The Jacobians wrt the arguments at `positions`, one reverse pass per output element
    (each pass gives the row of every argument at once), and whether the output was a scalar."""
    value = vjp.fn(*args)
    if isinstance(value, tuple):
        raise InvalidArgument(f"the Jacobian of {getattr(vjp.fn, '__qualname__', 'f')}, which returns a tuple, is "
                              "computed in forward mode only: pass mode='forward' (or 'auto')")
    rows = {}
    for element, cotangent in _basis(value):
        _, grads = vjp(*args, cotangent)
        rows[element] = [np.asarray(g) for g in grads]
    out_shape = np.shape(value)
    jacobians = []
    for k, position in enumerate(positions):
        x = args[position]
        if out_shape == ():
            result = _floating(rows[()][k])
        else:
            result = np.zeros(out_shape + np.shape(x), dtype=np.result_type(*(r[k] for r in rows.values()), float))
            for element, row in rows.items():
                result[element] = row[k]
        if isinstance(x, (int, float)) and out_shape == ():
            result = float(result)
        elif isinstance(x, np.ndarray):
            result = result.astype(runtime._grad_dtype(x), copy=False)
        jacobians.append(result)
    return jacobians, out_shape == ()


class Jacobian:
    """The Jacobian of `fn` wrt `wrt`, shaped `out.shape + in.shape`, in forward or reverse mode."""

    def __init__(self, fn, wrt, mode):
        if mode not in ("forward", "reverse", "auto"):
            raise InvalidArgument(f"mode must be 'forward', 'reverse' or 'auto', not {mode!r}")
        self.fn = fn
        self.mode = mode
        params = _params_of(fn)
        self.params = params
        self.wrt, self.single = normalize_wrt(wrt, params, getattr(fn, "__qualname__", repr(fn)))
        self.transforms = {}
        self.modes = {}  # for mode="auto": (types, shapes) of the arguments -> the mode needing fewer passes
        # argument types -> (the derivative that answered for them, what its result needs): the
        # gradient of a scalar output in reverse mode, the one `Slope` pass wrt a number in forward mode
        self.shortcuts = {}
        self.flat = {}  # specs of arguments with structure -> the Jacobian of the function of their leaves

    def transform(self, cls, wrt):
        """`get_transform`, remembered: a Jacobian asks for the same ones on every call."""
        found = self.transforms.get((cls, wrt))
        if found is None:
            found = self.transforms[cls, wrt] = get_transform(cls, self.fn, wrt=wrt)
        return found

    def choose_mode(self, args):
        n_in = sum(np.size(args[i]) for i in self.wrt)
        if n_in <= 1:
            return "forward"
        key = tuple((type(a), np.shape(a)) for a in args)
        mode = self.modes.get(key)
        if mode is None:  # (the output's size, found by running the function once for these shapes)
            out = self.fn(*args)
            mode = "forward" if isinstance(out, tuple) or n_in <= np.size(out) else "reverse"
            self.modes[key] = mode
        return mode

    def __call__(self, *args, **kwargs):
        if self.shortcuts and not kwargs:
            shortcut = self.shortcuts.get(tuple(map(type, args)))
            if shortcut is not None:
                derivative, finish = shortcut
                try:
                    out = derivative(*args)
                except NonScalarOutput:  # a gradient's output is not a scalar this time
                    self.shortcuts.clear()
                else:
                    return out if finish is None else finish(out)
        if kwargs or len(args) != len(self.params):
            defaults = self.fn.defaults if isinstance(self.fn, Transform) else (self.fn.__defaults__ or ())
            args = bind_arguments(f"jacobian of {getattr(self.fn, '__name__', 'f')}", self.params, defaults, (),
                                  args, kwargs)
        if not isinstance(self.fn, Transform) and any(needs_flattening(type(a)) for a in args):
            structured = self.structured(args)
            if structured is not None:
                return structured
        mode = self.mode if self.mode != "auto" else self.choose_mode(args)
        if mode == "forward":
            if self.single:
                if _one_pass(args[self.wrt[0]]) and not kwargs:  # one `Slope` pass, the same for such arguments
                    self.shortcuts[tuple(map(type, args))] = (self.transform(Slope, self.wrt[0]).dispatcher,
                                                              _as_column)
                return self.column(self.wrt[0], args)
            columns = [self.column(i, args) for i in self.wrt]
            if isinstance(columns[0], tuple):  # a tuple output (a gradient wrt several arguments, say):
                return tuple(zip(*columns))    # one tuple per output, `hessian(f, wrt=(0, 1))[i][j]`
            return tuple(columns)
        out, scalar_output = _reverse_rows(self.transform(VJP, self.wrt), args, self.wrt)
        if scalar_output:  # the gradient, shaped and typed like each argument, as `_reverse_rows` gives them
            gradient = self.transform(Grad, self.wrt[0] if self.single else self.wrt).dispatcher
            self.shortcuts[tuple(map(type, args))] = (gradient, None)
        return out[0] if self.single else tuple(out)

    def structured(self, args):
        """The Jacobian for arguments that are dicts, lists or objects of the user's classes, in
        either mode: the Jacobian of the function of their arrays and numbers, one per leaf of each
        `wrt` argument put back into its structure (an object's as a dict, as `grad` gives them),
        each shaped `output.shape + leaf.shape`. None if no argument has structure after all."""
        specs, leaves = split(args, static_ints=False)
        if all(spec[0] == "asis" for spec in specs):
            return None
        flat = self.flat.get(specs)
        if flat is None:
            flat = self.flat[specs] = flat_version(self, specs)[0]
        jacobians = flat(*leaves)  # (a tuple `wrt`: a tuple of one per leaf)
        if isinstance(jacobians[0], tuple):  # forward mode of a function returning a tuple: those per output
            return tuple(self.regrouped(per_output, specs) for per_output in jacobians)
        return self.regrouped(jacobians, specs)

    def regrouped(self, jacobians, specs):
        grouped = regroup(jacobians, specs, self.wrt)
        return grouped[0] if self.single else tuple(grouped)

    def flat_transform(self, flat_fn, flat_wrt):
        """This Jacobian of the function of the leaves (see `structures.flat_version`), with respect
        to a tuple of them even if there is one: it gives a tuple of Jacobians, one per leaf."""
        return Jacobian(flat_fn, tuple(flat_wrt), self.mode)

    @property
    def __signature__(self):  # (inspect.signature would follow `__wrapped__` to the code of a pass)
        defaults = self.fn.defaults if isinstance(self.fn, Transform) else getattr(self.fn, "__defaults__", None)
        return _signature(self.params, defaults or ())

    @property
    def __wrapped__(self):
        """The code of the Jacobian's passes, so that `inspect.getsource(J)` shows it, once it has run
        and if that is one function (adjoint.source(J) shows each of several)."""
        used = [transform for transform in self.used() if transform.last_key is not None]
        if len(used) != 1:
            raise AttributeError("__wrapped__")
        return _last_function(used[0])

    def used(self):
        """The transforms the Jacobian ran, its own and those of the function of the leaves."""
        yield from self.transforms.values()
        for flat in self.flat.values():
            yield from flat.used()

    def column(self, i, args):
        """The forward-mode Jacobian wrt argument `i`: a number's in one pass, an array's in one per element."""
        if _one_pass(args[i]):
            return _as_column(self.transform(Slope, i).dispatcher(*args))
        return _forward_columns(self.transform(Column, i), args, i)


def _decorator(cls, fn, **options):
    if fn is None:
        return lambda f: get_transform(cls, f, **options).dispatcher
    return get_transform(cls, fn, **options).dispatcher


def grad(fn=None, wrt=0, mode="reverse"):
    """The gradient of the scalar function `fn` with respect to `wrt` (index, name or tuple of them).

    `mode="reverse"` (default) costs one backward pass; `mode="forward"` one tangent pass per input element.
    """
    if mode == "forward":
        return (lambda f: ForwardGrad(f, wrt)) if fn is None else ForwardGrad(fn, wrt)
    if mode != "reverse":
        raise InvalidArgument(f"mode must be 'reverse' or 'forward', not {mode!r}")
    return _decorator(Grad, fn, wrt=wrt)


def value_and_grad(fn=None, wrt=0):
    """Like `grad`, but the derivative returns `(value, gradient)`."""
    return _decorator(Grad, fn, wrt=wrt, with_value=True)


def vjp(fn=None, wrt=0):
    """`vjp(f)(x, u)` returns `(f(x), u . df/dx)` for any output shape."""
    return _decorator(VJP, fn, wrt=wrt)


def jvp(fn=None, wrt=0):
    """`jvp(f)(x, v)` returns `(f(x), f'(x) . v)`, computed in one forward pass."""
    return _decorator(JVP, fn, wrt=wrt)


def jacobian(fn=None, wrt=0, mode="auto"):
    """The Jacobian `d out / d in`, shaped `out.shape + in.shape`.

    `mode="forward"` uses one pass per input element, `"reverse"` one per output element,
    `"auto"` picks whichever needs fewer passes.
    """
    if fn is None:
        return lambda f: Jacobian(f, wrt, mode)
    return Jacobian(fn, wrt, mode)


def hessian(fn=None, wrt=0):
    """The Hessian of a scalar function: the forward-mode Jacobian of its reverse-mode gradient."""
    if fn is None:
        return lambda f: hessian(f, wrt)
    return Jacobian(get_transform(Grad, fn, wrt=wrt), wrt, "forward")


def hvp(fn=None, wrt=0):
    """`hvp(f)(x, v)` is the Hessian-vector product H(x) v, by forward mode over reverse mode."""
    if fn is None:
        return lambda f: hvp(f, wrt)
    return get_transform(TangentOnly, get_transform(Grad, fn, wrt=wrt), wrt=wrt).dispatcher


for _transform in (grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp):
    _transform.__adjoint_static__ = True  # called inside differentiated code, they run at compile time


def source(transform, *args):
    """The generated source of a derivative, for the argument types of `args` if given.

    Without `args`: the specialisation used last, or the generic one if it has not run yet.
    """
    if isinstance(transform, ForwardGrad):  # one pass per argument: show each
        if args:
            args = transform.bind(args, {})
        if transform.flat is not None:
            text = _structured_source(transform.flat, args)
            if text is not None:
                return text
        return "\n".join(_forward_pass_source(jvp, slope, i, args)
                         for jvp, slope, i in zip(transform.jvps, transform.slopes, transform.wrt))
    if isinstance(transform, Jacobian):  # the code of each pass it ran (for `args`: runs it once first)
        if args:
            transform(*args)
        used = list(transform.used())
        if not used:
            raise InvalidArgument("this Jacobian has not run yet: call it once, or pass arguments to "
                                  "adjoint.source as well (adjoint.source(jacobian, x))")
        return "\n".join(source(each) for each in used)
    transform = getattr(transform, "transform", transform)
    transform = getattr(transform, "__adjoint_transform__", transform)
    if not isinstance(transform, Transform):
        raise InvalidArgument(f"adjoint.source expects a derivative made by adjoint (e.g. adjoint.grad(f)), "
                              f"not {transform!r}")
    if args:
        args = transform.bind(args, {})
        key = tuple(map(type, args))
        compiled = transform.python_function(key)
    elif transform.last_key is None:
        compiled = _generic_function(transform)
    else:
        compiled = transform.python_function(transform.last_key)
    if isinstance(compiled, Flattened):
        text = _structured_source(compiled, args)
        return compiled.plain_function().__adjoint_source__ if text is None else text
    return compiled.__adjoint_source__


def _generic_function(transform):
    """The derivative compiled for arrays and numbers, which adjoint.source shows before any call; an
    InvalidArgument saying why there is none if the function reads attributes or methods of an
    argument (an object, a dict: what a call would have told)."""
    try:
        return transform.python_function(None)
    except NoDerivativeRule as error:
        if not getattr(error, "of_unknown_object", False):
            raise
        raise InvalidArgument(
            f"adjoint.source({transform.__name__}) without arguments shows the derivative for arrays and numbers, "
            f"compiled before any call, and there is none: {str(error).splitlines()[0]}. If the function takes a "
            "dict, a list or an object of your class, its derivative is specialised to that structure: pass "
            f"example arguments (adjoint.source({transform.__name__}, *args)), or call the derivative once "
            "first.") from error


def _structured_source(flat, args):
    """The code that runs for arguments with structure (dicts, lists, objects; the ints a recursive
    function is specialised on): the derivative of the function of their leaves, whose parameters
    are named after the path to each leaf (`params_W`). None if no argument in `args` has structure
    (or, without `args`, if none had yet)."""
    if not args and flat.last is None:
        return None
    derivative, flat_args = flat.derivative(args or None)
    if derivative is None:
        return None
    return source(derivative, *(flat_args or ()))


def _forward_pass_source(jvp, slope, index, args):
    """The code a forward-mode gradient runs for argument `index`: a `Slope` for a number, else a `JVP`."""
    if args:
        return source(slope, *args) if _one_pass(args[index]) else source(jvp, *args, args[index])
    return source(jvp if slope.last_key is None else slope)


def ssa(fn):
    """The SSA form of `fn` as text: every value named once, as the compiler sees it."""
    if hasattr(fn, "__adjoint_transform__") or isinstance(fn, Transform):
        raise InvalidArgument("adjoint.ssa shows a Python function's SSA form; for a derivative, "
                              "adjoint.source shows its generated code")
    function = lowered(fn)
    text, _ = codegen.generate(function, function.name, len(function.params), function.reserved,
                               function.visible, ssa=True)
    return text
