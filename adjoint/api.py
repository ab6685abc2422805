"""The public transforms: grad, value_and_grad, vjp; and source / ssa to look at them."""
from . import codegen
from .reverse import reverse
from .transform import Transform, get_transform, lowered


class Grad(Transform):
    """Reverse-mode gradient of a scalar function (optionally with its value)."""

    label = "grad"

    def __init__(self, fn, wrt, with_value=False):
        self.with_value = with_value
        if with_value:
            self.label = "value_and_grad"
        super().__init__(fn, wrt)

    def derive(self, primal, fn):
        where = f"{primal.name} ({primal.source.filename}, line {primal.source.first_line})"
        return reverse(primal, self.wrt, seed="one", with_value=self.with_value, single=self.single,
                       expect_scalar=where)


class VJP(Transform):
    """Reverse mode for any output: `(value, cotangent . f'(x))`."""

    label = "vjp"

    def extra_params(self):
        return ("cotangent",)

    def derive(self, primal, fn):
        return reverse(primal, self.wrt, seed="cotangent", with_value=True, single=self.single)


def _decorator(cls, fn, **options):
    if fn is None:
        return lambda f: get_transform(cls, f, **options)
    return get_transform(cls, fn, **options)


def grad(fn=None, wrt=0):
    """The gradient of the scalar function `fn` with respect to `wrt` (index, name or tuple of them)."""
    return _decorator(Grad, fn, wrt=wrt)


def value_and_grad(fn=None, wrt=0):
    """Like `grad`, but the derivative returns `(value, gradient)`."""
    return _decorator(Grad, fn, wrt=wrt, with_value=True)


def vjp(fn=None, wrt=0):
    """`vjp(f)(x, u)` returns `(f(x), u . df/dx)` for any output shape."""
    return _decorator(VJP, fn, wrt=wrt)


def source(transform, *args):
    """The generated source of a derivative, for the argument types of `args` if given.

    Without `args`: the specialisation used last, or the generic one if it has not run yet.
    """
    if not isinstance(transform, Transform):
        raise TypeError(f"adjoint.source expects a derivative made by adjoint (e.g. adjoint.grad(f)), not {transform!r}")
    if args:
        key = tuple(map(type, transform.bind(args, {})))
    else:
        key = transform.last_key
    return transform.python_function(key).__adjoint_source__


def ssa(fn):
    """The SSA form of `fn` as text: every value named once, as the compiler sees it."""
    function = lowered(fn)
    text, _ = codegen.generate(function, function.name, len(function.params), function.reserved,
                               function.visible, ssa=True)
    return text
