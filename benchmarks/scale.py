"""Scale: compile time as functions grow, deep nesting, the memory of a long loop, and a second
derivative through a loop as its trips grow.

Functions of N statements are written to a file and compiled once each; the time is from
`adjoint.grad(f)` to the first gradient. The long loop's memory is the peak that tracemalloc
sees while the gradient runs, next to what its tape must hold (one float per trip).
"""
import importlib.util
import os
import tempfile
import time
import tracemalloc

import numpy as np

import adjoint
from adjoint.compare import median_seconds

from .timing import markdown_table

LENGTHS = (100, 1000, 5000)


def straight_line(n):
    """`n` statements of scalar arithmetic, each reading the two before it (a long chain with fan-out)."""
    lines = ["def f(x, y):", "    a0 = x * y", "    a1 = math.sin(x) + y"]
    for i in range(2, n):
        op = ("a{0} = a{1} * 0.5 + math.tanh(a{2})", "a{0} = a{1} - 0.25 * a{2}",
              "a{0} = math.sin(a{1}) * a{2} + 0.1")[i % 3]
        lines.append("    " + op.format(i, i - 1, i - 2))
    lines.append(f"    return a{n - 1}")
    return "import math\n\n" + "\n".join(lines) + "\n"


def nested_loops(depth):
    """`depth` `for` loops inside each other, two trips each, updating one value in the innermost."""
    lines = ["def f(x):", "    s = x"]
    for level in range(depth):
        lines.append("    " * (level + 1) + f"for i{level} in range(2):")
    lines.append("    " * (depth + 1) + "s = math.sin(s) * 0.9 + 0.1 * x")
    lines.append("    return s")
    return "import math\n\n" + "\n".join(lines) + "\n"


def nested_expression(depth):
    """One expression nested `depth` deep: `math.sin(0.5 * math.sin(0.5 * ... x))`."""
    return "import math\n\n\ndef f(x):\n    return " + "math.sin(0.5 * " * depth + "x" + ")" * depth + "\n"


LONG_LOOP = """
import math


def f(k, x):
    t = 0
    while t < 1000000:
        x = x + 1e-6 * (math.sin(k * x) - x)
        t += 1
    return x
"""

SECOND_ORDER_LOOP = """
import adjoint
import numpy as np


def loss(w, n):
    h = w
    for i in range(n):
        h = np.tanh(h * 0.9 + 0.1)
    return np.sum(h * h)


def f(w, n):
    g = adjoint.grad(loss)(w, n)
    return np.sum(g * g)
"""
SECOND_ORDER_TRIPS = (1000, 8000)


def load(source, directory, name):
    path = os.path.join(directory, f"{name}.py")
    with open(path, "w") as out:
        out.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def first_gradient(fn, *args):
    start = time.perf_counter()
    adjoint.grad(fn)(*args)
    return time.perf_counter() - start


def run(budget=0.3):
    quick = budget < 0.1
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for n in LENGTHS[:2] if quick else LENGTHS:
            fn = load(straight_line(n), directory, f"line{n}")
            seconds = first_gradient(fn, 0.3, 0.7)
            rows.append([f"{n:,} statements, straight line", f"{seconds * 1e3:.0f} ms",
                         f"{seconds / n * 1e6:.0f} µs"])
        fn = load(nested_loops(10), directory, "loops10")
        seconds = first_gradient(fn, 0.3)
        rows.append(["10 nested loops (1,024 trips of the innermost)", f"{seconds * 1e3:.0f} ms", ""])
        fn = load(nested_expression(190), directory, "nested190")
        seconds = first_gradient(fn, 0.3)
        rows.append(["an expression nested 190 deep", f"{seconds * 1e3:.0f} ms", ""])
        table = markdown_table(["function", "compile + first gradient", "per statement"], rows)
        if quick:
            return "## Scale\n\n" + table
        fn = load(LONG_LOOP, directory, "long_loop")
        gradient = adjoint.grad(fn, wrt=(0, 1))
        seconds = median_seconds(lambda: gradient(2.0, 0.5), repeats=3, budget=0)
        primal = median_seconds(lambda: fn(2.0, 0.5), repeats=3, budget=0)
        tracemalloc.start()  # (it slows allocation down: timed apart)
        gradient(2.0, 0.5)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        penalty = adjoint.grad(load(SECOND_ORDER_LOOP, directory, "second_order_loop"))
        w = np.linspace(-0.5, 0.5, 16)
        trip_times = [median_seconds(lambda: penalty(w, n), repeats=3, budget=0) / n for n in SECOND_ORDER_TRIPS]
    per_trip = 8 + 24  # the tape's pointer and the float object it keeps alive
    memory = (f"\n\nA 1,000,000-trip `while` loop over Python floats, reverse mode: {seconds:.2f} s per gradient "
              f"({seconds / primal:.1f}× the function itself), peak memory {peak / 2 ** 20:.1f} MB while it runs: "
              f"its tape holds one float per trip, {per_trip * 10 ** 6 / 2 ** 20:.1f} MB.")
    second_order = (f"\n\nA gradient of a gradient-norm penalty through a loop (`grad` of a function calling `grad`, "
                    f"16 weights): {trip_times[0] * 1e6:.1f} µs a trip at {SECOND_ORDER_TRIPS[0]:,} trips, "
                    f"{trip_times[1] * 1e6:.1f} µs a trip at {SECOND_ORDER_TRIPS[1]:,} "
                    f"({trip_times[1] / trip_times[0]:.2f}× as much: 1 is linear in the trips).")
    return "## Scale\n\n" + table + memory + second_order


if __name__ == "__main__":
    print(run())
