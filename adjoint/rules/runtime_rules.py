"""Rules for the runtime helpers, so that generated derivative code is itself differentiable.

Parameter names here are the rule's own (binding is positional); `g` is always
the incoming adjoint.
"""
from .. import runtime as rt
from .registry import nondiff, structural, unary

structural(rt.unbroadcast, out="like:x", params="v, x: const",
           vjp=dict(v="broadcast_like(g, v)"), jvp=dict(v="unbroadcast(dv, x)"))
structural(rt.broadcast_like, out="like:ans", params="v, ans: const",
           vjp=dict(v="unbroadcast(g, v)"), jvp=dict(v="broadcast_like(dv, ans)"))
structural(rt.repeat_to, out="like:x", params="v, x: const, axis=None, keepdims=False",
           vjp=dict(v="np.sum(g, axis, keepdims=keepdims)"), jvp=dict(v="repeat_to(dv, x, axis, keepdims)"))
structural(rt.select_extremum, out="like:x", params="v, x: const, ans: const, axis=None, keepdims=False",
           vjp=dict(v="np.sum(g * select_extremum(1.0, x, ans, axis, keepdims), axis, keepdims=keepdims)"),
           jvp=dict(v="select_extremum(dv, x, ans, axis, keepdims)"))
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
structural(rt.prod_others, out="like:x", params="x, axis=None",  # divides by x: exact where x has no zeros
           vjp=dict(x="(np.sum(g * ans, axis, keepdims=True) - g * ans) / x"),
           jvp=dict(x="ans * (np.sum(dx / x, axis, keepdims=True) - dx / x)"))
structural(rt.untranspose, "v, axes=None",
           vjp=dict(v="np.transpose(g, axes)"), jvp=dict(v="untranspose(dv, axes)"))
structural(rt.unindex, out="like:x", params="v, x: const, index: const",
           vjp=dict(v="g[index]"), jvp=dict(v="unindex(dv, x, index)"))
structural(rt.cast_like, "v, ref: const",
           vjp=dict(v="cast_like(g, v)"), jvp=dict(v="cast_like(dv, ref)"), out="like:v")
structural(rt.as_grad, "v, x: const",
           vjp=dict(v="unbroadcast(g, v)"), jvp=dict(v="as_grad(dv, x)"), out="like:x")
unary(rt.log_or_zero, "1 / x")
nondiff(rt.zeros_grad, rt.expect_scalar, rt.stop_gradient, rt.shape_only)
