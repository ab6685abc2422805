"""Gradient time per workload: adjoint against a hand-written gradient of the same code, measured in
the same run (and autograd where it is installed), plus compile latency and cache-hit time."""
import time
import types

import numpy as np

import adjoint
from adjoint.compare import format_seconds, median_seconds, peak_bytes

from .timing import interleaved_medians, markdown_table
from .workloads import ARRAYS, LOOPS, SPECIAL


def _fresh_copy(fn):
    """The same function as a new object, so nothing about it is cached yet."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _matches(got, expected):
    return all(np.allclose(g, e, rtol=1e-9, atol=1e-12) for g, e in zip(_as_tuple(got), _as_tuple(expected)))


def _autograd(workload):
    try:
        import autograd
    except ImportError:
        return None
    return autograd.grad(workload.autograd_fn, argnum=list(workload.wrt))


def compile_latency(workload):
    """Seconds from `adjoint.grad(f)` to the first gradient, for a function seen for the first time."""
    samples = []
    for _ in range(5):
        fn = _fresh_copy(workload.fn)
        start = time.perf_counter()
        adjoint.grad(fn, wrt=workload.wrt)(*workload.args)
        samples.append(time.perf_counter() - start)
    return float(np.median(samples))


def cache_hit(workload):
    """Seconds for `adjoint.grad(f, wrt=...)` once `f` is known (the transform object comes back)."""
    adjoint.grad(workload.fn, wrt=workload.wrt)
    return median_seconds(lambda: adjoint.grad(workload.fn, wrt=workload.wrt), budget=0.05)


def compared_rows(name, args, expected, by_hand, ours, theirs, budget):
    """Rows for the hand-written gradient, adjoint's and (if installed) autograd's, timed in turns."""
    systems = [("hand-written", by_hand), ("adjoint", ours)] + ([("autograd", theirs)] if theirs is not None else [])
    times = interleaved_medians([lambda fn=fn: fn(*args) for _, fn in systems], budget=budget * len(systems))
    rows = []
    for (system, fn), seconds in zip(systems, times):
        matches = "reference" if fn is by_hand else "yes" if _matches(fn(*args), expected) else "NO"
        rows.append([name, system, format_seconds(seconds), f"{seconds / times[0]:.2f}", matches])
    return rows


def special_rows(budget):
    rows = []
    for item in SPECIAL:
        theirs = None
        if item.autograd_maker is not None:
            try:
                theirs = item.autograd_maker()
            except ImportError:
                pass
        by_hand = item.by_hand
        rows += compared_rows(item.name, item.args, by_hand(*item.args), by_hand, item.ours(adjoint), theirs,
                              budget)
    return rows


def memory_row(workload, gradient):
    systems = [workload.by_hand, gradient] + [f for f in [_autograd(workload)] if f is not None]
    peaks = [peak_bytes(lambda fn=fn: fn(*workload.args)) for fn in systems]
    return [workload.name] + [f"{peak / 1e6:.2f} MB" for peak in peaks] + [""] * (3 - len(peaks))


def run(budget=0.3, workloads=LOOPS + ARRAYS):
    rows, compile_rows, memory_rows = [], [], []
    for workload in workloads:
        gradient = adjoint.grad(workload.fn, wrt=workload.wrt)
        rows += compared_rows(workload.name, workload.args, workload.by_hand(*workload.args), workload.by_hand,
                              gradient, _autograd(workload), budget)
        compile_rows.append([workload.name, format_seconds(compile_latency(workload)),
                             format_seconds(cache_hit(workload))])
        if workload in ARRAYS:
            memory_rows.append(memory_row(workload, gradient))
    rows += special_rows(budget)
    table = markdown_table(["workload", "system", "median per gradient", "× hand-written", "matches"], rows)
    compiled = markdown_table(["workload", "adjoint.grad(f) to first gradient", "cache hit"], compile_rows)
    memory = markdown_table(["workload", "hand-written", "adjoint", "autograd"], memory_rows)
    return ("## Gradients against hand-written code\n\n" + table +
            "\n\n## Compile latency\n\n" + compiled +
            "\n\n## Peak memory of one gradient call\n\n"
            "What the call holds at most at once, beyond its arguments (tracemalloc). The generated code "
            "deletes each array after its last use; a hand-written gradient keeps its locals to the end.\n\n"
            + memory)


if __name__ == "__main__":
    print(run())
