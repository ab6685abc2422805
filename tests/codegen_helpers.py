"""Functions for the code-generation tests whose module binds `np` to something that is not numpy,
so generated code must find another name for the numpy it needs."""
import numpy

np = 3.0              # a module-level float that shadows the usual numpy alias
unbroadcast = 2.0     # and module globals named like adjoint's runtime helpers
as_grad = 0.5
t1 = 10.0
grad_x = 100.0


def shadowed_globals(x, y):
    """Reads the float globals `np`, `unbroadcast`, `as_grad`, `t1` and `grad_x`; broadcasts x * y."""
    z = numpy.tanh(x * y) * np + unbroadcast
    return numpy.sum(z * as_grad + t1 * grad_x * x)


g = 5.0


def scaled_by_g(x):
    """Reads this module's `g`; a caller in another module may read its own `g` too."""
    return x * g
