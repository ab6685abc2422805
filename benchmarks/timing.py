"""Timing shared by the benchmarks: medians of repeated calls, and a markdown table."""
import time

import numpy as np


def median_seconds(call, repeats=7, budget=0.3):
    """Median time of one call, each repeat running enough calls to fill its share of `budget`."""
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


def interleaved_medians(calls, repeats=9, budget=0.3):
    """Median time of one call of each of `calls`, measured in turns (a batch of each, then again),
    so that a drift of the machine's speed during the run touches every one of them alike."""
    numbers = []
    for call in calls:
        call()
        start = time.perf_counter()
        call()
        once = max(time.perf_counter() - start, 1e-7)
        numbers.append(max(1, int(budget / len(calls) / repeats / once)))
    samples = [[] for _ in calls]
    for _ in range(repeats):
        for call, number, found in zip(calls, numbers, samples):
            start = time.perf_counter()
            for _ in range(number):
                call()
            found.append((time.perf_counter() - start) / number)
    return [float(np.median(found)) for found in samples]


def format_seconds(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
