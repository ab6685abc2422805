"""Newton-CG on the Rosenbrock function, with Hessian-vector products from adjoint.hvp.

Newton's method solves H p = -g for its step. Conjugate gradients solves that system using only
products H v, and adjoint.hvp computes H v without forming H: forward mode over the reverse-mode
gradient, for about the cost of two gradients. When CG meets a direction of negative curvature
(far from the minimum, H is not positive definite), the step is recomputed for H + shift I with a
larger shift (a Levenberg-style safeguard); a backtracking line search keeps every step downhill.

    python examples/newton_cg.py
"""
import numpy as np

import adjoint

N = 10


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


value_and_grad = adjoint.value_and_grad(rosenbrock)
hvp = adjoint.hvp(rosenbrock)


def conjugate_gradients(x, g, shift, max_iterations):
    """Approximately solve (H(x) + shift I) p = -g; None if a direction of negative curvature shows up.

    Returns (p, number of Hessian-vector products)."""
    p = np.zeros_like(g)
    r = -g
    d = r
    rr = r @ r
    tolerance = min(0.5, np.sqrt(np.linalg.norm(g))) * np.linalg.norm(g)   # tighter near the minimum
    for j in range(max_iterations):
        Hd = hvp(x, d) + shift * d
        curvature = d @ Hd
        if curvature <= 0.0:
            return None, j + 1
        alpha = rr / curvature
        p = p + alpha * d
        r = r - alpha * Hd
        rr_new = r @ r
        if np.sqrt(rr_new) < tolerance:
            return p, j + 1
        d = r + (rr_new / rr) * d
        rr = rr_new
    return p, max_iterations


def newton_cg(x, tolerance=1e-8, max_steps=200):
    shift, products = 0.0, 0
    for step in range(max_steps):
        f, g = value_and_grad(x)
        if step % 10 == 0:
            print(f"  step {step:3d}   f = {f:.3e}   |grad| = {np.linalg.norm(g):.3e}   "
                  f"Hessian-vector products so far {products}")
        if np.linalg.norm(g) < tolerance:
            break
        p, used = conjugate_gradients(x, g, shift, 2 * x.size)
        products += used
        while p is None:                     # negative curvature: shift the spectrum and retry
            shift = max(2.0 * shift, 1e-3)
            p, used = conjugate_gradients(x, g, shift, 2 * x.size)
            products += used
        t = 1.0
        while rosenbrock(x + t * p) > f + 1e-4 * t * (g @ p):   # backtracking (Armijo) line search
            t = t / 2.0
        x = x + t * p
        shift = shift / 4.0
    return x, f, g, step, products


def main():
    x0 = np.tile([-1.2, 1.0], N // 2)        # the classic starting point, in 10 dimensions
    v = np.linspace(-1.0, 1.0, N)
    H = adjoint.hessian(rosenbrock)(x0)
    print(f"hvp(x0, v) equals hessian(x0) @ v: {np.allclose(hvp(x0, v), H @ v)}")
    print(f"Newton-CG on the {N}-dimensional Rosenbrock function from x0 = {x0[:4]}...")
    x, f, g, steps, products = newton_cg(x0)
    print(f"converged after {steps} Newton steps and {products} Hessian-vector products")
    print(f"f = {f:.3e}   |grad| = {np.linalg.norm(g):.3e}")
    print("x =", np.array2string(x, precision=6))
    print(f"largest distance from (1, 1, ..., 1): {np.max(np.abs(x - 1.0)):.1e}")
    print()
    print("the Hessian-vector product adjoint generated (forward mode over reverse mode):")
    print()
    print(adjoint.source(hvp, x, v))


if __name__ == "__main__":
    main()
