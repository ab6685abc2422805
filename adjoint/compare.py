"""Forward vs reverse mode on the user's own function and inputs."""
import time
import tracemalloc

import numpy as np

from .check import numerical_jacobian


class ModeResult:
    __slots__ = ("mode", "result", "passes", "seconds")

    def __init__(self, mode, result, passes, seconds):
        self.mode, self.result, self.passes, self.seconds = mode, result, passes, seconds


class Comparison:
    """What `compare` measured. Print it for a table; read `.modes`, `.mode_difference`,
    `.fd_error` and `.faster` for the numbers."""

    def __init__(self, name, in_size, out_size, modes, mode_difference, fd_error):
        self.name = name
        self.in_size, self.out_size = in_size, out_size
        self.modes = {m.mode: m for m in modes}
        self.mode_difference = mode_difference
        self.fd_error = fd_error

    @property
    def faster(self):
        return min(self.modes.values(), key=lambda m: m.seconds).mode

    def as_dict(self):
        return {
            "function": self.name, "inputs": self.in_size, "outputs": self.out_size,
            "modes": {m.mode: {"passes": m.passes, "seconds_per_call": m.seconds} for m in self.modes.values()},
            "max_difference_between_modes": self.mode_difference,
            "max_error_vs_finite_differences": self.fd_error, "faster": self.faster,
        }

    def __str__(self):
        lines = [f"{self.name}: R^{self.in_size} -> R^{self.out_size}",
                 f"{'mode':<9} {'passes':>7} {'time per call':>15}"]
        for m in self.modes.values():
            lines.append(f"{m.mode:<9} {m.passes:>7} {format_seconds(m.seconds):>15}")
        lines.append(f"largest difference between the modes: {self.mode_difference:.3g}")
        lines.append(f"largest difference from finite differences: {self.fd_error:.3g}")
        lines.append(f"faster here: {self.faster} mode")
        return "\n".join(lines)

    __repr__ = __str__


def format_seconds(seconds):
    """`seconds` in the unit that reads best (`2.3 ms`, `410 ns`)."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def median_seconds(call, repeats=7, budget=0.3):
    """Median time of one `call()` (after a first call, which may compile), each of `repeats`
    samples running enough calls to fill its share of `budget` seconds."""
    call()
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(budget / repeats / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - start) / number)
    return float(np.median(samples))


def peak_bytes(call):
    """The most memory `call()` holds at once, as numpy and Python report it to tracemalloc (after
    a first call, so compiling does not count)."""
    call()
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def compare(fn, *args, wrt=0, budget=0.2):
    """Jacobians of `fn` at `args` by forward and by reverse mode, timed and checked."""
    from .api import Jacobian
    single = not isinstance(wrt, (tuple, list))
    modes = []
    for mode in ("forward", "reverse"):
        jacobian = Jacobian(fn, wrt, mode)
        result = jacobian(*args)
        seconds = median_seconds(lambda: jacobian(*args), repeats=5, budget=budget)
        positions = jacobian.wrt
        in_size = sum(int(np.size(args[i])) for i in positions)
        out_size = int(np.size(fn(*args)))
        modes.append(ModeResult(mode, result, in_size if mode == "forward" else out_size, seconds))
    forward, reverse = (m.result if not single else (m.result,) for m in modes)
    difference = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0))
                     for a, b in zip(forward, reverse))
    fd_error = 0.0
    for position, result in zip(Jacobian(fn, wrt, "reverse").wrt, reverse):
        expected = numerical_jacobian(fn, list(args), position)
        fd_error = max(fd_error, float(np.max(np.abs(np.asarray(result) - expected), initial=0.0)))
    name = getattr(fn, "__qualname__", repr(fn))
    return Comparison(name, in_size, out_size, modes, difference, fd_error)


__all__ = ["compare", "Comparison"]
