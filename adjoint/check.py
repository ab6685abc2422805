"""Gradient checking against central finite differences."""
import inspect

import numpy as np

from .errors import GradientMismatch, InvalidArgument
from .structures import _has_leaf, rebuild, top_spec
from .transform import normalize_wrt


def numerical_jacobian(f, args, index, eps=1e-6):
    """Central finite differences of `f` wrt `args[index]`, in float64: shape out.shape + in.shape."""
    given = args[index]
    # C order, so that `flat_x` is a view to perturb (of a transposed argument, reshape would copy)
    args = [np.array(a, dtype=np.float64, order="C") if i == index else a for i, a in enumerate(args)]
    x = args[index]
    flat_x = x.reshape(-1)
    columns = []
    for i in range(flat_x.size):
        original = flat_x[i]
        step = eps * max(1.0, abs(original))
        flat_x[i] = original + step
        upper = np.asarray(f(*_as_given(args, index, given)), dtype=np.float64)
        flat_x[i] = original - step
        lower = np.asarray(f(*_as_given(args, index, given)), dtype=np.float64)
        flat_x[i] = original
        columns.append((upper - lower) / (2 * step))
    out_shape = np.shape(f(*_as_given(args, index, given)))
    jacobian = np.stack(columns, axis=-1) if columns else np.zeros(out_shape + (0,))
    return jacobian.reshape(out_shape + x.shape)


def numerical_grad(f, args, index, eps=1e-6):
    """Central finite differences of scalar `f` with respect to `args[index]`, in float64."""
    return numerical_jacobian(f, args, index, eps)


def _as_given(args, index, given):
    """The arguments with the perturbed one in float64 but of the kind the caller passed; arrays
    are copies, so a function that updates its arguments in place cannot spoil the next step."""
    x = args[index]
    if x.ndim == 0 and not isinstance(given, np.ndarray):
        x = float(x) if isinstance(given, (int, float)) and not isinstance(given, np.generic) else np.float64(x)
    args = [x if i == index else a for i, a in enumerate(args)]
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def check_grad(f, *args, wrt=0, rtol=None, atol=None, eps=1e-6, modes=("reverse", "forward")):
    """Compare adjoint's gradient of `f` at `args` with central finite differences.

    Both modes are checked by default. Raises GradientMismatch naming the mode and
    the worst element if they disagree beyond `atol + rtol * |numerical|`; returns
    the largest absolute error otherwise.
    Tolerances default to 1e-6/1e-5 (float64) or 1e-3/1e-2 when a float32 input is involved.
    """
    from . import api
    modes = _modes(modes)
    indices = (wrt,) if not isinstance(wrt, (tuple, list)) else tuple(wrt)
    names = api._params_of(f)  # (as grad reads `wrt`: a bound method's `self` is not a parameter)
    positions, _ = normalize_wrt(wrt, names, getattr(f, "__qualname__", repr(f)))
    args = _with_defaults(f, args, max(positions) + 1)
    low_precision = any(np.result_type(a) == np.float32 for a in args if isinstance(a, (np.ndarray, np.generic)))
    rtol = (1e-2 if low_precision else 1e-5) if rtol is None else rtol
    atol = (1e-3 if low_precision else 1e-6) if atol is None else atol
    worst = 0.0
    expected_by_position = {}
    for mode in modes:
        analytic = api.grad(f, wrt=tuple(indices), mode=mode)(*args)
        for position, wrt_item, gradient in zip(positions, indices, analytic):
            if position not in expected_by_position:
                expected_by_position[position] = _finite_differences_of_numbers(f, args, position, eps,
                                                                                names[position])
            spec, expected = expected_by_position[position]
            for (path, got), wanted in zip(_gradient_leaves(spec, gradient), expected):
                worst = max(worst, _compare(got, wanted, f"{mode}-mode gradient of {getattr(f, '__qualname__', f)} "
                                            f"wrt {wrt_item!r}{path}", rtol, atol))
    return worst


def _with_defaults(f, args, count):
    """`args` followed by the defaults of the parameters up to the `count`-th, which the differences
    step like any argument."""
    if len(args) >= count:
        return args
    try:
        bound = inspect.signature(f).bind_partial(*args)
    except (TypeError, ValueError):
        return args  # (the call below then says what is wrong)
    bound.apply_defaults()
    return tuple(bound.arguments.values())[:max(count, len(args))]


def _modes(modes):
    """`modes` as a tuple of mode names: one name (`modes="reverse"`) is one mode, not its letters."""
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes:
        raise InvalidArgument("check_grad: modes=() checks nothing; pass 'reverse', 'forward' or both")
    for mode in modes:
        if mode not in ("reverse", "forward"):
            raise InvalidArgument(f"check_grad: unknown mode {mode!r} (the modes are 'reverse' and 'forward')")
    return modes


def _finite_differences_of_numbers(f, args, position, eps, parameter):
    """`_finite_differences`, or InvalidArgument if the argument holds an int that `f` uses as one
    (`range(n)`, an index): a step of `eps` makes it a float, which such code refuses, and an int
    used that way has no derivative to check."""
    try:
        return _finite_differences(f, args, position, eps)
    except (TypeError, IndexError) as error:
        ints = [leaf for leaf in top_spec(args[position], False)[1] if _is_int(leaf)]
        if not ints:
            raise
        try:
            f(*args)
        except Exception:  # noqa: BLE001 - it fails unperturbed too: not the int's doing
            raise error from None
        name = getattr(f, "__qualname__", f)
        holds = f"is the int {ints[0]!r}" if len(ints) == 1 and ints[0] is args[position] else "holds an int"
        raise InvalidArgument(
            f"check_grad: `{parameter}` of {name} {holds}, which {name} uses as an int (a count or an index: made a "
            f"float by the finite-difference step, it raised {type(error).__name__}: {error}). An int used so "
            "is not differentiable, so there is no gradient to check: leave it out of wrt.") from error


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _finite_differences(f, args, position, eps):
    """(spec, [finite differences of each leaf]) for the argument at `position`: one leaf for an
    array or a number, one per array or number in a dict, list, tuple or object."""
    spec, leaves = top_spec(args[position], False)
    if spec[0] == "asis":
        return spec, [numerical_grad(f, list(args), position, eps)]

    def of_leaves(*values):
        return f(*args[:position], rebuild(spec, iter(values), gradient=False), *args[position + 1:])
    return spec, [numerical_grad(of_leaves, list(leaves), i, eps) for i in range(len(leaves))]


def _gradient_leaves(spec, gradient, path=""):
    """(path, gradient) of each leaf of `spec`, from the structure `grad` returned (objects as dicts)."""
    kind = spec[0]
    if kind in ("asis", "leaf"):
        yield path, gradient
    elif kind in ("dict", "object"):
        for key, item in spec[-1]:
            if _has_leaf(item):
                where = f"{path}[{key!r}]" if kind == "dict" else f"{path}.{key}"
                yield from _gradient_leaves(item, gradient[key], where)
    elif kind in ("list", "tuple"):
        for i, item in enumerate(spec[1]):
            if _has_leaf(item):
                yield from _gradient_leaves(item, gradient[i], f"{path}[{i}]")
    elif kind == "namedtuple":
        for i, (field, item) in enumerate(spec[2]):
            if _has_leaf(item):
                yield from _gradient_leaves(item, gradient[i], f"{path}.{field}")


def _compare(got, expected, what, rtol, atol):
    """The largest error of `got` against finite differences; GradientMismatch naming the worst
    element if it is beyond `atol + rtol * |expected|`."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        raise GradientMismatch(f"{what} has shape {got.shape}, but the argument has shape {expected.shape}")
    error = np.abs(got - expected)
    # NaN on either side is a mismatch: comparisons with NaN are False, so test it explicitly
    error = np.where(np.isnan(got) != np.isnan(expected), np.inf, error)
    excess = error - (atol + rtol * np.abs(expected))
    excess = np.where(np.isnan(excess), np.inf, excess)
    if excess.size and np.max(excess) > 0:
        at = np.unravel_index(np.argmax(excess), excess.shape) if excess.shape else ()
        element = f"[{', '.join(map(str, at))}]" if at else ""
        raise GradientMismatch(f"{what}{element} is {float(got[at]):.10g}, but central finite differences give "
                               f"{float(expected[at]):.10g} (error {error[at]:.3g} > {atol:g} + {rtol:g} * |expected|)")
    return float(np.max(error)) if error.size else 0.0
