"""Running one generated program: import it from a real file, draw its inputs, and check that reverse
mode, forward mode and central finite differences agree on its gradient."""
import hashlib
import importlib.util
import os
import warnings

import numpy as np

import adjoint
from adjoint.check import numerical_grad

RTOL, ATOL = 1e-5, 1e-6          # analytic vs finite differences (check_grad)
MODES_RTOL, MODES_ATOL = 1e-9, 1e-10   # reverse mode vs forward mode: the same arithmetic, nearly


class Skip(Exception):
    """This example says nothing: near a kink, a value overflowed, or adjoint refused the program cleanly."""


def load(source, directory):
    """Import `source` as a module from a file of its own (adjoint reads functions' source files)."""
    name = "fuzz_" + hashlib.sha1(source.encode()).hexdigest()[:20]
    path = directory / f"{name}.py"
    if not path.exists():
        path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(program, seed):
    """Arguments for `program.params`: floats and arrays uniform in [-1.5, 1.5], ints in 0..3."""
    rng = np.random.default_rng(seed)
    args = []
    for _, shape in program.params:
        if shape == "int":
            args.append(int(rng.integers(0, 4)))
        elif shape == ():
            args.append(float(rng.uniform(-1.5, 1.5)))
        else:
            args.append(rng.uniform(-1.5, 1.5, shape))
    return args


def fresh(args):
    """Copies of the array arguments: `x *= 2` in a generated program updates the caller's array."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def finite_differences(f, args, wrt, eps):
    return [numerical_grad(f, list(args), i, eps) for i in wrt]


def stable(f, args, wrt):
    """Do finite differences with steps 1e-6 and 1e-4 agree? If not, a branch, `max`, `abs`, `where`
    or a loop's trip count switches within 1e-4 of `args`, and no gradient is meaningful there."""
    small = finite_differences(f, args, wrt, 1e-6)
    large = finite_differences(f, args, wrt, 1e-4)
    return all(np.allclose(a, b, rtol=1e-3, atol=1e-5) for a, b in zip(small, large))


def check(program, args, directory):
    """Raise (GradientMismatch, AssertionError or whatever adjoint raised) if the program's gradient
    is wrong at `args`; raise Skip if this example cannot tell."""
    f = load(program.source, directory).f
    wrt = program.wrt
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = f(*fresh(args))
        except (TypeError, ValueError, IndexError, AttributeError) as error:
            # the generator's shape bookkeeping slips on rare paths (a known generator gap):
            # a program Python itself cannot run says nothing about adjoint
            raise Skip(f"the program itself fails: {type(error).__name__}")
    if not np.all(np.isfinite(value)) or np.any(np.abs(value) > 1e8):
        raise Skip("the value is not finite")
    if not stable(f, args, wrt):
        raise Skip("near a switching point")
    try:
        reverse_value, reverse = adjoint.value_and_grad(f, wrt=wrt)(*args)
        forward = adjoint.grad(f, wrt=wrt, mode="forward")(*args)
    except adjoint.UnsupportedSyntax as refused:
        raise Skip(f"refused: {str(refused).splitlines()[0]}")
    except Exception as error:
        keep(program, args, error)
        raise
    try:
        compare(f, program.wrt, args, value, reverse_value, reverse, forward)
        check_second_order(f, wrt[0], args)
    except AssertionError as error:
        keep(program, args, error)
        raise


def gradient_differences(f, position, args, direction, eps):
    """Central finite differences of the reverse-mode gradient along `direction`: H v, independently."""
    gradient = adjoint.grad(f, wrt=position)
    moved = []
    for sign in (1.0, -1.0):
        shifted = fresh(args)
        shifted[position] = args[position] + sign * eps * direction
        moved.append(np.asarray(gradient(*shifted), dtype=float))
    return (moved[0] - moved[1]) / (2 * eps)


def check_second_order(f, position, args):
    """`hvp` (forward mode over the reverse-mode derivative, loops and all) against finite
    differences of the gradient; skipped where those depend on the step (a kink of the gradient)."""
    direction = np.random.default_rng(7).uniform(0.5, 1.5, np.shape(args[position]))
    if np.ndim(args[position]) == 0:
        direction = float(direction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        small = gradient_differences(f, position, args, direction, 1e-6)
        large = gradient_differences(f, position, args, direction, 1e-4)
        if not np.allclose(small, large, rtol=1e-3, atol=1e-4):
            raise Skip("second order: near a switching point of the gradient")
        try:
            got = adjoint.hvp(f, wrt=position)(*fresh(args), direction)
        except adjoint.UnsupportedSyntax as refused:
            raise Skip(f"second order refused: {str(refused).splitlines()[0]}")
    np.testing.assert_allclose(got, small, rtol=1e-5, atol=1e-5,
                               err_msg=f"hvp wrt argument {position} disagrees with differences of the gradient")


def keep(program, args, error):
    """Append a failing program to the file `ADJOINT_FUZZ_FAILURES` names, if any: hypothesis shows
    the shrunk program, but not when it calls the failure flaky."""
    path = os.environ.get("ADJOINT_FUZZ_FAILURES")
    if path:
        with open(path, "a") as out:
            out.write(f"# {type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error).strip() else ''}\n"
                      f"# args {args!r}\n{program.source}\n")


def compare(f, wrt, args, value, reverse_value, reverse, forward):
    """The value, both modes' gradients and finite differences agree."""
    np.testing.assert_allclose(reverse_value, value, rtol=1e-12, atol=1e-12,
                               err_msg="the reverse-mode derivative computes another value than the function")
    for position, r, d in zip(wrt, reverse, forward):
        assert np.shape(r) == np.shape(args[position]), f"reverse gradient wrt {position} has the wrong shape"
        np.testing.assert_allclose(r, d, rtol=MODES_RTOL, atol=MODES_ATOL,
                                   err_msg=f"reverse and forward mode disagree wrt argument {position}")
    for position, r, expected in zip(wrt, reverse, finite_differences(f, args, wrt, 1e-6)):
        np.testing.assert_allclose(r, expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"the gradient wrt argument {position} disagrees with finite differences")
