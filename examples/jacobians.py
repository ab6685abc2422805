"""Forward or reverse mode? adjoint.compare measures both on your own function.

A Jacobian of f: R^n -> R^m takes n forward passes (one per input direction) or m reverse passes
(one per output). So reverse mode wins for wide functions (many inputs, few outputs: losses,
summary statistics) and forward mode for tall ones (few inputs, many outputs: a curve with a few
parameters). compare computes the Jacobian both ways, times them, checks that they agree with
each other and with central finite differences, and says which was faster here.

    python examples/jacobians.py
"""
import numpy as np

import adjoint


def statistics(x):
    """Wide, R^200 -> R^3: three summary statistics of a signal."""
    energy = np.sum(x ** 2)
    smoothness = np.sum((x[1:] - x[:-1]) ** 2)
    saturation = np.mean(np.tanh(x))
    return np.stack([energy, smoothness, saturation])


SAMPLES = np.linspace(0.0, 1.0, 200)


def curve(p):
    """Tall, R^3 -> R^200: a damped oscillation with amplitude, decay and frequency p, sampled 200 times."""
    return p[0] * np.exp(-p[1] * SAMPLES) * np.sin(p[2] * SAMPLES)


def main():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(200)
    params = np.array([1.0, 2.0, 10.0])

    results = []
    for fn, x, expected in ((statistics, signal, "reverse"), (curve, params, "forward")):
        comparison = adjoint.compare(fn, x, budget=0.1)
        print(comparison)
        forward, reverse = (comparison.modes[m].seconds for m in ("forward", "reverse"))
        ratio = max(forward, reverse) / min(forward, reverse)
        print(f"expected: {expected} mode; {comparison.faster} mode was {ratio:.0f}x faster")
        print()
        results.append(comparison.faster == expected)

    J = adjoint.jacobian(curve)(params)          # mode="auto": 3 inputs < 200 outputs, so forward mode
    print(f"adjoint.jacobian(curve)(params) has shape {J.shape} (outputs, inputs)")
    print(f"the faster mode was the one the shapes predict: {all(results)}")


if __name__ == "__main__":
    main()
