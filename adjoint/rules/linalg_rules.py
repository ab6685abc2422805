"""Rules for numpy.linalg.

Matrix functions work on stacks of matrices (`(..., n, n)`), so transposes are `mT` (the last two
axes swapped). `np.linalg.cholesky` and `np.linalg.eigh` read only the lower triangle of their
argument: their gradients are those of that function of the lower triangle (`to_lower`), so they
agree with finite differences, and a symmetric perturbation gets the textbook derivative.
"""
import numpy as np

from .registry import nondiff, structural

TRACE_OF_SOLVE = "np.trace(np.linalg.solve(x, dx), axis1=-2, axis2=-1)"  # d log|det x| = tr(x^-1 dx)
structural(np.linalg.det, "x",
           vjp=dict(x="np.expand_dims(g * ans, (-2, -1)) * mT(np.linalg.inv(x))"),
           jvp=dict(x=f"ans * {TRACE_OF_SOLVE}"))
# a (sign, log|det|) pair: the sign is piecewise constant
structural(np.linalg.slogdet, "x",
           vjp=dict(x="np.expand_dims(g[1], (-2, -1)) * mT(np.linalg.inv(x))"),
           jvp=dict(x=f"(0.0 * ans[0], {TRACE_OF_SOLVE})"))
structural(np.linalg.inv, "x",
           vjp=dict(x="-(mT(ans) @ g @ mT(ans))"), jvp=dict(x="-(ans @ dx @ ans)"))
# ans = a^-1 b: db moves it by a^-1 db, da by -a^-1 da ans. A vector `b` (1-d) is a one-column matrix
# here (to_columns), and a `b` broadcast over a's stack gets the sum of its gradients (unbroadcast)
structural(np.linalg.solve, "a, b",
           vjp=dict(a="-matmul_vjp_left(np.linalg.solve(mT(a), to_columns(g, a, b)), a, to_columns(ans, a, b))",
                    b="unbroadcast(from_columns(np.linalg.solve(mT(a), to_columns(g, a, b)), a, b), b)"),
           jvp=dict(a="-from_columns(np.linalg.solve(a, da @ to_columns(ans, a, b)), a, b)",
                    b="np.linalg.solve(a, db)"))
# dL = L tril_half(L^-1 dS L^-T) for the symmetric dS (Murray 2016, "Differentiation of the Cholesky decomposition")
structural(np.linalg.cholesky, "x",
           vjp=dict(x="to_lower(mT(np.linalg.solve(mT(ans), mT(np.linalg.solve(mT(ans), tril_half(mT(ans) @ g))))))"),
           jvp=dict(x="ans @ tril_half(mT(np.linalg.solve(ans, mT(np.linalg.solve(ans, from_lower(dx))))))"))
# (w, V): dw = diag(V^T dS V), dV = V (F * (V^T dS V)) with F[i, j] = 1 / (w[j] - w[i]); distinct eigenvalues only
structural(np.linalg.eigh, "x",
           vjp=dict(x="to_lower(ans[1] @ (diag_embed(g[0]) + eigh_gaps(ans[0]) * (mT(ans[1]) @ g[1])) @ mT(ans[1]))"),
           jvp=dict(x="(np.diagonal(mT(ans[1]) @ from_lower(dx) @ ans[1], 0, -2, -1), "
                      "ans[1] @ (eigh_gaps(ans[0]) * (mT(ans[1]) @ from_lower(dx) @ ans[1])))"))
# full-rank matrices only: where the rank changes, the pseudo-inverse jumps. For P = pinv(x),
# dP = -P dx P + P P^T dx^T (I - x P) + (I - P x) dx^T P^T P (Golub and Pereyra, 1973), and the gradient
# is its adjoint; both written with products, so that their derivatives (Hessians) follow from the rules of @ and mT
structural(np.linalg.pinv, "x, rcond=None",
           vjp=dict(x="-(mT(ans) @ g @ mT(ans)) + (mT(g) - x @ ans @ mT(g)) @ ans @ mT(ans) "
                      "+ mT(ans) @ ans @ (mT(g) - mT(g) @ ans @ x)"),
           jvp=dict(x="-(ans @ dx @ ans) + ans @ mT(ans) @ (mT(dx) - mT(dx) @ x @ ans) "
                      "+ (mT(dx) - ans @ x @ mT(dx)) @ mT(ans) @ ans"))
structural(np.linalg.norm, "x, ord=None, axis=None, keepdims=False", out="reduce",
           vjp=dict(x="repeat_to(g, x, axis, keepdims) * norm_grad(x, ans, ord, axis, keepdims)"),
           jvp=dict(x="np.sum(norm_grad(x, ans, ord, axis, keepdims) * dx, axis, keepdims=keepdims)"))

nondiff(np.linalg.matrix_rank)
