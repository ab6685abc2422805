"""Rules for the runtime helpers, so that generated derivative code is itself differentiable.

Parameter names here are the rule's own (binding is positional); `g` is always
the incoming adjoint.
"""
from .. import runtime as rt
from .registry import elementwise, nondiff, structural, unary, without_rule

# (unbroadcast sums `v` down to the shape of `x` along some axes and spreads it along others: its
# adjoint does the opposite on each, which is unbroadcast again)
structural(rt.unbroadcast, out="like:x", params="v, x: const",
           vjp=dict(v="unbroadcast(g, v)"), jvp=dict(v="unbroadcast(dv, x)"))
structural(rt.broadcast_like, out="like:ans", params="v, ans: const",
           vjp=dict(v="unbroadcast(g, v)"), jvp=dict(v="broadcast_like(dv, ans)"))
structural(rt.repeat_to, out="like:x", params="v, x: const, axis=None, keepdims=False",
           vjp=dict(v="np.sum(g, axis, keepdims=keepdims)"), jvp=dict(v="repeat_to(dv, x, axis, keepdims)"))
# (`ans` in a template is the helper's own result, so its argument goes by another name)
structural(rt.select_extremum, out="like:x", params="v, x: const, extremum: const, axis=None, keepdims=False",
           vjp=dict(v="np.sum(g * select_extremum(1.0, x, extremum, axis, keepdims), axis, keepdims=keepdims)"),
           jvp=dict(v="select_extremum(dv, x, extremum, axis, keepdims)"))
structural(rt.matmul_vjp_left, out="like:a", params="v, a: const, b",
           vjp=dict(v="g @ b", b="matmul_vjp_right(v, g, b)"),
           jvp=dict(v="matmul_vjp_left(dv, a, b)", b="matmul_vjp_left(v, a, db)"))
structural(rt.matmul_vjp_right, out="like:b", params="v, a, b: const",
           vjp=dict(v="a @ g", a="matmul_vjp_left(v, a, g)"),
           jvp=dict(v="matmul_vjp_right(dv, a, b)", a="matmul_vjp_right(v, da, b)"))
structural(rt.dot_vjp_left, out="like:a", params="v, a: const, b",
           vjp=dict(v="np.dot(g, b)", b="dot_vjp_right(v, g, b)"),
           jvp=dict(v="dot_vjp_left(dv, a, b)", b="dot_vjp_left(v, a, db)"))
structural(rt.dot_vjp_right, out="like:b", params="v, a, b: const",
           vjp=dict(v="np.dot(a, g)", a="dot_vjp_left(v, a, g)"),
           jvp=dict(v="dot_vjp_right(dv, a, b)", a="dot_vjp_right(v, da, b)"))
structural(rt.prod_others, out="like:x", params="x, axis=None",
           vjp=dict(x="prod_others_tangent(x, g, axis)"), jvp=dict(x="prod_others_tangent(x, dx, axis)"))
structural(rt.prod_others_tangent, out="like:x", params="x, w, axis=None",  # linear in w; no rule for x (3rd order)
           vjp=dict(w="prod_others_tangent(x, g, axis)"), jvp=dict(w="prod_others_tangent(x, dw, axis)"))
structural(rt.untranspose, "v, axes=None",
           vjp=dict(v="np.transpose(g, axes)"), jvp=dict(v="untranspose(dv, axes)"))
structural(rt.add_at, out="like:total", params="total, v, x: const, index: const",
           vjp=dict(total="g", v="g[index]"), jvp=dict(total="dtotal", v="unindex(dv, x, index)"))
structural(rt.unindex, out="like:x", params="v, x: const, index: const",
           vjp=dict(v="g[index]"), jvp=dict(v="unindex(dv, x, index)"))
structural(rt.cast_like, "v, ref: const",
           vjp=dict(v="cast_like(g, v)"), jvp=dict(v="cast_like(dv, ref)"), out="like:v")
structural(rt.as_grad, "v, x: const",
           vjp=dict(v="unbroadcast(g, v)"), jvp=dict(v="as_grad(dv, x)"), out="like:x")
structural(rt.as_seed, "v, value: const, name, of", out="like:value",
           vjp=dict(v="g"), jvp=dict(v="as_seed(dv, value, name, of)"))
structural(rt.sum_cotangent, "v, xs: const", out="like:xs",
           vjp=dict(v="broadcast_like(np.sum(g, 0), v)"), jvp=dict(v="sum_cotangent(dv, xs)"))
unary(rt.log_or_zero, "1 / x")
elementwise(rt.power_slope, "x, y, k: const=1", x="power_slope(x, y, k + 1)",
            y="ans * log_or_zero(x) + falling_slope(y, k) * x ** (y - k)")
without_rule(rt.falling_slope, "it is the exponent's part of a derivative of x ** y of the third order or more",
             "Differentiate x ** y in the exponent at most twice, or write the power as np.exp(y * np.log(x)).")
nondiff(rt.zeros_grad, rt.expect_scalar, rt.stop_gradient, rt.shape_only, rt.refuse_changed_view,
        rt.refuse_array_write, rt.index_of_max, rt.index_of_min, rt.broadcast_shape, rt.matmul_shape)

# -- helpers of the numpy surface (runtime/numpy_surface.py) -----------------------------
# Most are linear in `v`: the vjp of one is the function it is the gradient of.
structural(rt.mT, "v", vjp=dict(v="mT(g)"), jvp=dict(v="mT(dv)"))
unary(rt.sinc_slope, "np.where(x == 0, -np.pi ** 2 / 3, (-np.pi * np.sin(np.pi * x) - 2 * ans) / np.where(x == 0, 1.0, x))")
unary(rt.digamma, "polygamma(1, x)", out="scalar")
structural(rt.polygamma, "n, x", out="scalar",
           vjp=dict(x="g * polygamma(n + 1, x)"), jvp=dict(x="dx * polygamma(n + 1, x)"))
# J v, J^T g and the second derivative T of np.cumprod, T(v, w) and T^T(g, v): linear in all but x (no rule
# for x: third order). T is symmetric in its two input-shaped slots, which is what makes these four enough
structural(rt.cumprod_tangent, "x, v, axis=None",
           vjp=dict(x="cumprod_curvature_cotangent(x, g, v, axis)", v="cumprod_cotangent(x, g, axis)"),
           jvp=dict(x="cumprod_curvature(x, v, dx, axis)", v="cumprod_tangent(x, dv, axis)"))
structural(rt.cumprod_cotangent, "x, v, axis=None", out="like:x",
           vjp=dict(x="cumprod_curvature_cotangent(x, v, g, axis)", v="cumprod_tangent(x, g, axis)"),
           jvp=dict(x="cumprod_curvature_cotangent(x, v, dx, axis)", v="cumprod_cotangent(x, dv, axis)"))
structural(rt.cumprod_curvature, "x, v, w, axis=None",
           vjp=dict(v="cumprod_curvature_cotangent(x, g, w, axis)", w="cumprod_curvature_cotangent(x, g, v, axis)"),
           jvp=dict(v="cumprod_curvature(x, dv, w, axis)", w="cumprod_curvature(x, v, dw, axis)"))
structural(rt.cumprod_curvature_cotangent, "x, u, v, axis=None", out="like:x",
           vjp=dict(u="cumprod_curvature(x, v, g, axis)", v="cumprod_curvature_cotangent(x, u, g, axis)"),
           jvp=dict(u="cumprod_curvature_cotangent(x, du, v, axis)", v="cumprod_curvature_cotangent(x, u, dv, axis)"))
structural(rt.uncumsum, "v, x: const, axis=None", out="like:x",
           vjp=dict(v="np.cumsum(g, axis)"), jvp=dict(v="uncumsum(dv, x, axis)"))
structural(rt.undiagonal, "v, x: const, offset=0, axis1=0, axis2=1", out="like:x",
           vjp=dict(v="np.diagonal(g, offset, axis1, axis2)"), jvp=dict(v="undiagonal(dv, x, offset, axis1, axis2)"))
structural(rt.untrace, "v, x: const, offset=0, axis1=0, axis2=1", out="like:x",
           vjp=dict(v="np.trace(g, offset, axis1, axis2)"), jvp=dict(v="untrace(dv, x, offset, axis1, axis2)"))
structural(rt.undiag, "v, x: const, k=0", out="like:x", vjp=dict(v="np.diag(g, k)"), jvp=dict(v="undiag(dv, x, k)"))
structural(rt.unrepeat, "v, x: const, repeats, axis=None", out="like:x",
           vjp=dict(v="np.repeat(g, repeats, axis)"), jvp=dict(v="unrepeat(dv, x, repeats, axis)"))
structural(rt.untile, "v, x: const, reps", out="like:x", vjp=dict(v="np.tile(g, reps)"), jvp=dict(v="untile(dv, x, reps)"))
structural(rt.unpad, "v, x: const, pad_width, mode='constant'", out="like:x",
           vjp=dict(v="np.pad(g, pad_width, mode)"), jvp=dict(v="unpad(dv, x, pad_width, mode)"))
structural(rt.unjoin, "v, xs: const, i, how='concatenate', axis=0",
           vjp=dict(v="rejoin(g, xs, i, how, axis)"), jvp=dict(v="unjoin(dv, xs, i, how, axis)"))
structural(rt.rejoin, "v, xs: const, i, how='concatenate', axis=0",
           vjp=dict(v="unjoin(g, xs, i, how, axis)"), jvp=dict(v="rejoin(dv, xs, i, how, axis)"))
structural(rt.unsort, "v, x: const, axis=-1", out="like:x",
           vjp=dict(v="np.take_along_axis(g, np.argsort(x, axis, kind='stable'), axis)"), jvp=dict(v="unsort(dv, x, axis)"))
structural(rt.undiff, "v, n=1, axis=-1", vjp=dict(v="np.diff(g, n, axis)"), jvp=dict(v="undiff(dv, n, axis)"))
structural(rt.untake, "v, x: const, indices, axis=None", out="like:x",
           vjp=dict(v="np.take(g, indices, axis)"), jvp=dict(v="untake(dv, x, indices, axis)"))
structural(rt.untake_along_axis, "v, x: const, indices, axis=-1", out="like:x",
           vjp=dict(v="np.take_along_axis(g, indices, axis)"), jvp=dict(v="untake_along_axis(dv, x, indices, axis)"))
# einsum_part(v, ...) is the gradient of <v, einsum(spec, *ops)> wrt ops[k]: <G, it> = <v, einsum with G for ops[k]>
structural(rt.einsum_part, "v, spec, ops: seq, k", out="like:ops",
           vjp=dict(v="einsum_with(spec, ops, k, g)", ops="einsum_part_other(g, v, spec, ops, k, i)"),
           jvp=dict(v="einsum_part(dv, spec, ops, k)", ops="einsum_part_jvp(v, spec, ops, dops, k)"))
structural(rt.kron_vjp_left, "v, a: const, b", out="like:a",
           vjp=dict(v="np.kron(g, b)", b="kron_vjp_right(v, g, b)"),
           jvp=dict(v="kron_vjp_left(dv, a, b)", b="kron_vjp_left(v, a, db)"))
structural(rt.kron_vjp_right, "v, a, b: const", out="like:b",
           vjp=dict(v="np.kron(a, g)", a="kron_vjp_left(v, a, g)"),
           jvp=dict(v="kron_vjp_right(dv, a, b)", a="kron_vjp_right(v, da, b)"))
# bilinear in v and other: for a cotangent h of target, <h, o x v> = v . (h x o) = o . (v x h)
CROSS_AXES = "axis_other=-1, axis_v=-1, axis_target=-1, axis=None"
structural(rt.cross_cotangent, f"v, other, target: const, {CROSS_AXES}", out="like:target",
           vjp=dict(v="unbroadcast(np.cross(g, other, axis_target, axis_other, axis_v, axis), v)",
                    other="-cross_cotangent(v, g, other, axis_target, axis_v, axis_other, axis)"),
           jvp=dict(v="cross_cotangent(dv, other, target, axis_other, axis_v, axis_target, axis)",
                    other="cross_cotangent(v, dother, target, axis_other, axis_v, axis_target, axis)"))
# linear in v: the samples of a linspace from v's share to each end, and the tangent of that share
structural(rt.linspace_cotangent, "v, num, endpoint, retstep, axis, end",
           vjp=dict(v="np.linspace(g * (1 - end), g * end, num, endpoint, retstep, axis=axis)"),
           jvp=dict(v="linspace_cotangent(dv, num, endpoint, retstep, axis, end)"))
# norm_grad is sign(x) |x|^(p-1) / norm^(p-1) for vector p-norms (and Frobenius): elementwise in x and norm.
# Its derivative in x (norm_curvature; for the matrix 2, -2 and nuclear norms, from the singular value
# decomposition) is a Hessian, so symmetric: the same map in both modes
NORM_ARGS = "x, norm, ord, axis, keepdims"
structural(rt.norm_grad, "x, norm, ord=None, axis=None, keepdims=False", out="like:x",
           vjp=dict(x=f"norm_curvature(g, {NORM_ARGS})",
                    norm=f"np.sum(g * norm_grad_ans({NORM_ARGS}), axis, keepdims=keepdims)"),
           jvp=dict(x=f"norm_curvature(dx, {NORM_ARGS})",
                    norm=f"norm_grad_ans({NORM_ARGS}) * repeat_to(dnorm, x, axis, keepdims)"))
structural(rt.to_columns, "v, a: const, b: const", vjp=dict(v="from_columns(g, a, b)"), jvp=dict(v="to_columns(dv, a, b)"))
structural(rt.from_columns, "v, a: const, b: const", vjp=dict(v="to_columns(g, a, b)"), jvp=dict(v="from_columns(dv, a, b)"))
structural(rt.tril_half, "v", out="like:v", vjp=dict(v="tril_half(g)"), jvp=dict(v="tril_half(dv)"))
structural(rt.from_lower, "v", out="like:v", vjp=dict(v="to_lower(g)"), jvp=dict(v="from_lower(dv)"))
structural(rt.to_lower, "v", out="like:v", vjp=dict(v="from_lower(g)"), jvp=dict(v="to_lower(dv)"))
structural(rt.diag_embed, "v", vjp=dict(v="np.diagonal(g, 0, -2, -1)"), jvp=dict(v="diag_embed(dv)"))
# F[i, j] = 1 / (w[j] - w[i]): dF[i, j] = -F[i, j]^2 (dw[j] - dw[i])
structural(rt.eigh_gaps, "w",
           vjp=dict(w="np.sum(g * ans ** 2, -1) - np.sum(g * ans ** 2, -2)"),
           jvp=dict(w="-(ans ** 2) * (np.expand_dims(dw, -2) - np.expand_dims(dw, -1))"))
nondiff(rt.select_mask, rt.tensordot_spec, rt.inner_spec, rt.clip_choice, rt.arange_slope, rt.reversed_shape)
