"""Forward vs reverse mode: Jacobian time of f: R^n -> R^m as n and m vary.

Forward mode costs one pass per input, reverse mode one pass per output, so
reverse should win when n >> m and forward when n << m.
"""
import numpy as np

import adjoint

from adjoint.compare import format_seconds, median_seconds

from .timing import markdown_table


def layer(x, A):
    return np.tanh(A @ x)


SHAPES = [(200, 2), (50, 5), (20, 20), (5, 50), (2, 200)]


def run(budget=0.3):
    rows = []
    for n, m in SHAPES:
        rng = np.random.default_rng(0)
        x, A = rng.standard_normal(n), rng.standard_normal((m, n)) / np.sqrt(n)
        times = {}
        results = {}
        for mode in ("forward", "reverse"):
            jacobian = adjoint.jacobian(layer, wrt=0, mode=mode)
            results[mode] = jacobian(x, A)
            times[mode] = median_seconds(lambda: jacobian(x, A), budget=budget)
        agree = np.allclose(results["forward"], results["reverse"], rtol=1e-12, atol=1e-14)
        winner = min(times, key=times.get)
        expected = "reverse" if n > m else "forward" if n < m else "either"
        rows.append([f"R^{n} → R^{m}", format_seconds(times["forward"]), format_seconds(times["reverse"]),
                     f"{times['forward'] / times['reverse']:.2f}", winner, expected, "yes" if agree else "NO"])
    header = ["function", "forward", "reverse", "forward / reverse", "faster", "expected", "modes agree"]
    return "## Jacobian: forward vs reverse mode\n\n" + markdown_table(header, rows)


if __name__ == "__main__":
    print(run())
