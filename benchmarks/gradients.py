"""Gradient time per workload: adjoint against a hand-written gradient of the same code, measured in
the same run (and autograd where it is installed), plus compile latency and cache-hit time."""
import time
import types

import numpy as np

import adjoint

from .timing import format_seconds, markdown_table, median_seconds
from .workloads import ARRAYS, LOOPS, SPECIAL


def _fresh_copy(fn):
    """The same function as a new object, so nothing about it is cached yet."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


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


def special_rows(budget):
    rows = []
    for item in SPECIAL:
        args = item.args
        expected = item.by_hand(*args)
        hand = median_seconds(lambda: item.by_hand(*args), budget=budget)
        ours = item.ours(adjoint)
        mine = median_seconds(lambda: ours(*args), budget=budget)
        rows.append([item.name, "hand-written", format_seconds(hand), "1.00", "reference"])
        rows.append([item.name, "adjoint", format_seconds(mine), f"{mine / hand:.2f}",
                     "yes" if _matches(ours(*args), expected) else "NO"])
        if item.autograd_maker is not None:
            try:
                theirs_fn = item.autograd_maker()
            except ImportError:
                continue
            theirs = median_seconds(lambda: theirs_fn(*args), budget=budget)
            rows.append([item.name, "autograd", format_seconds(theirs), f"{theirs / hand:.2f}",
                         "yes" if _matches(theirs_fn(*args), expected) else "NO"])
    return rows


def run(budget=0.3, workloads=LOOPS + ARRAYS):
    rows, compile_rows = [], []
    for workload in workloads:
        args = workload.args
        expected = workload.by_hand(*args)
        hand = median_seconds(lambda: workload.by_hand(*args), budget=budget)
        gradient = adjoint.grad(workload.fn, wrt=workload.wrt)
        ours = median_seconds(lambda: gradient(*args), budget=budget)
        rows.append([workload.name, "hand-written", format_seconds(hand), "1.00", "reference"])
        rows.append([workload.name, "adjoint", format_seconds(ours), f"{ours / hand:.2f}",
                     "yes" if _matches(gradient(*args), expected) else "NO"])
        other = _autograd(workload)
        if other is not None:
            theirs = median_seconds(lambda: other(*args), budget=budget)
            rows.append([workload.name, "autograd", format_seconds(theirs), f"{theirs / hand:.2f}",
                         "yes" if _matches(tuple(other(*args)), expected) else "NO"])
        compile_rows.append([workload.name, format_seconds(compile_latency(workload)),
                             format_seconds(cache_hit(workload))])
    rows += special_rows(budget)
    table = markdown_table(["workload", "system", "median per gradient", "× hand-written", "matches"], rows)
    compiled = markdown_table(["workload", "adjoint.grad(f) to first gradient", "cache hit"], compile_rows)
    return ("## Gradients against hand-written code\n\n" + table +
            "\n\n## Compile latency\n\n" + compiled)


if __name__ == "__main__":
    print(run())
