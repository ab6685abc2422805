"""Recover a pendulum's stiffness k and damping c from a noisy recording of its swing, by
differentiating the simulation itself: a `while` loop of Euler steps.

The misfit runs the simulation and sums the squared differences to the observed angles as it
goes. adjoint.value_and_grad turns it into a forward sweep that records what the backward sweep
needs and a backward sweep that replays the loop in reverse: one pass gives dL/dk and dL/dc,
however many steps the loop runs.

    python examples/pendulum_fit.py
"""
import math

import numpy as np

import adjoint

DT = 0.01            # time step of the Euler integration
TRUE_K, TRUE_C = 4.0, 0.3
THETA0 = 1.0         # the pendulum starts at rest, 1 radian from the vertical


def misfit(k, c, theta0, observed):
    """Mean squared difference between the simulated and the observed angle, step by step."""
    theta = theta0
    omega = 0.0
    total = 0.0
    i = 0
    while i < observed.shape[0]:
        alpha = -k * math.sin(theta) - c * omega
        theta = theta + DT * omega
        omega = omega + DT * alpha
        # float(...) tells adjoint that the element is a number (for all it knows, `observed` could
        # be 2-d and observed[i] a row): the generated code then records three floats per step, not five
        total = total + (theta - float(observed[i])) ** 2
        i = i + 1
    return total / observed.shape[0]


def simulate(k, c, theta0, steps):
    """The same Euler steps, keeping every angle (plain Python: it is not differentiated)."""
    theta, omega, angles = theta0, 0.0, []
    for _ in range(steps):
        alpha = -k * math.sin(theta) - c * omega
        theta = theta + DT * omega
        omega = omega + DT * alpha
        angles.append(theta)
    return np.array(angles)


def main():
    rng = np.random.default_rng(0)
    steps = 500      # 5 seconds
    observed = simulate(TRUE_K, TRUE_C, THETA0, steps) + 0.01 * rng.standard_normal(steps)
    print(f"observed {steps} angles of a pendulum with k = {TRUE_K}, c = {TRUE_C} (noise 0.01 rad)")

    d_misfit = adjoint.value_and_grad(misfit, wrt=("k", "c"))
    k, c = 3.0, 0.0                      # initial guess
    error = adjoint.check_grad(misfit, k, c, THETA0, observed, wrt=("k", "c"))
    print(f"gradient check at the initial guess (both modes): largest difference {error:.1e}")
    print()
    print("gradient descent:")
    learning_rate = 1.0
    first = None
    for step in range(61):
        value, (dk, dc) = d_misfit(k, c, THETA0, observed)
        first = value if first is None else first
        if step % 10 == 0:
            print(f"  step {step:3d}   misfit {value:.3e}   k = {k:.4f}   c = {c:.4f}   "
                  f"dL/dk = {dk:+.1e}   dL/dc = {dc:+.1e}")
        k, c = k - learning_rate * dk, c - learning_rate * dc

    print()
    print(f"first misfit {first:.3e}, final misfit {value:.3e} (the noise alone gives about {0.01 ** 2:.0e})")
    print(f"recovered k = {k:.3f} (true {TRUE_K}), c = {c:.3f} (true {TRUE_C})")
    print()
    print("the generated gradient (the loop runs forward once, recording, then backward once):")
    print()
    print(adjoint.source(d_misfit))


if __name__ == "__main__":
    main()
