"""Timing shared by the benchmarks: medians of repeated calls, and a markdown table."""
import ctypes
import time

import numpy as np


def pin_allocator():
    """Fix glibc's heap-trim and mmap thresholds for this process; False where there is no glibc.

    By default glibc gives freed memory back to the system once the free top of the heap passes a
    threshold that moves with the allocation history, and serves large arrays from fresh mmaps:
    the next call then faults its pages in again. Which side of the threshold a workload lands on
    decided its time more than its code did (the MLP's hand-written gradient took 1.2 ms in one
    run, 2.5 ms in the next), so both thresholds are fixed: no trimming, mmap only above 32 MB.
    The timings then compare the code; the peak-memory table shows what each gradient holds.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    trim_threshold, mmap_threshold = -1, -3  # mallopt's parameter numbers (malloc.h)
    return bool(libc.mallopt(trim_threshold, 1 << 30)) and bool(libc.mallopt(mmap_threshold, 32 << 20))


def interleaved_medians(calls, repeats=9, budget=0.3):
    """Median time of one call of each of `calls`, measured in turns (a batch of each, then again),
    so that a drift of the machine's speed during the run touches every one of them alike."""
    numbers = []
    for call in calls:
        call()  # (twice: a Jacobian, say, compiles on its first two calls, and a slow calibration
        call()  # call would leave too few calls per sample to time)
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


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
