"""Reverse mode: the adjoint transform of an SSA function.

The output runs the primal statements (the forward sweep), then walks them
backwards, emitting for each active statement the vector-Jacobian products of
its rule. Where a value fans out, its adjoint accumulates: the first
contribution assigns `grad_x`, later ones add to it, so no buffer is ever
zero-filled for nothing.
"""
import operator

from . import runtime as rt
from .activity import leaves_of_operand, useful, varied
from .errors import NoDerivativeRule, located
from .ir import Apply, Assign, Const, Function, Pack, Return, Var
from .rules import instantiate, rule_for


def reverse(function, wrt, seed="one", with_value=False, single=False, expect_scalar=None):
    """The adjoint function of `function` with respect to the parameters at indices `wrt`.

    `seed="one"` differentiates a scalar output (its adjoint is 1.0); `seed="cotangent"`
    appends a parameter holding the output's adjoint (a vector-Jacobian product).
    The result returns `(value, grads)` if `with_value`, else `grads`, where
    `grads` is a tuple with one entry per index in `wrt`, or the gradient itself if `single`.
    """
    inputs = [function.params[i] for i in wrt]
    primal = function.body[:-1]
    result = function.result
    outputs = [leaf for leaf in leaves_of_operand(result) if isinstance(leaf, Var)]
    active = varied(primal, inputs) & useful(primal, outputs)

    body = list(primal)
    params = list(function.params)
    if seed == "one":
        if expect_scalar is not None:
            body.append(Assign(None, Apply(rt.expect_scalar, (result, Const(expect_scalar)))))
        seeds = [(result, Const(1.0))]
    else:
        cotangent = Var("cotangent")
        params.append(cotangent)
        if isinstance(result, Pack):
            seeds = [(item, Apply(operator.getitem, (cotangent, Const(i)))) for i, item in enumerate(result.items)]
        else:
            seeds = [(result, cotangent)]

    sweep = Backward(active, body)
    for value, adjoint in seeds:
        if isinstance(value, Var) and value in active:
            sweep.accumulate(value, adjoint)
    for stmt in reversed(primal):
        if isinstance(stmt, Assign) and stmt.target in sweep.adjoints:
            sweep.statement(stmt)

    grads = []
    for param in inputs:
        adjoint = sweep.adjoints.get(param)
        if adjoint is None:
            adjoint = Apply(rt.zeros_grad, (param,))
        grads.append(Apply(rt.as_grad, (adjoint, param)))
    output = grads[0] if single else Pack("tuple", grads)
    if with_value:
        output = Pack("tuple", [result, output])
    body.append(Return(output))
    return Function(function.name, params, body, function.source, function.defaults)


class Backward:
    """Emits adjoint statements into `body`, tracking each primal value's current adjoint."""

    def __init__(self, active, body):
        self.active = active
        self.body = body
        self.adjoints = {}

    def accumulate(self, var, contribution):
        previous = self.adjoints.get(var)
        adjoint = Var(None, of=var, prefix="grad_")
        value = contribution if previous is None else Apply(operator.add, (previous, contribution))
        self.body.append(Assign(adjoint, value))
        self.adjoints[var] = adjoint

    def statement(self, stmt):
        expr = stmt.expr
        rule = rule_for(expr.fn)
        bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
        if bound is None:
            raise no_rule(stmt, rule)
        env = dict(bound, g=self.adjoints[stmt.target], ans=stmt.target)
        broadcasting = rule.elementwise and len(rule.params) > 1
        for param in rule.params:
            if param.const:
                continue
            value = bound[param.name]
            if param.sequence:
                items = value.items if isinstance(value, Pack) else (value,)
                for i, item in enumerate(items):
                    if self.is_active(item):
                        self.contribute(stmt, rule, param.name, item, dict(env, i=Const(i)), False)
            elif isinstance(value, Var):
                if value in self.active:
                    self.contribute(stmt, rule, param.name, value, env, broadcasting)
            elif any(self.is_active(leaf) for leaf in leaves_of_operand(value)):
                raise no_rule(stmt, rule, param.name)

    def is_active(self, value):
        return isinstance(value, Var) and value in self.active

    def contribute(self, stmt, rule, name, var, env, broadcasting):
        template = rule.vjp.get(name)
        if template is None:
            raise no_rule(stmt, rule, name)
        contribution = instantiate(template, env)
        if broadcasting:
            contribution = Apply(rt.unbroadcast, (contribution, var))
        self.accumulate(var, contribution)


def callable_name(fn):
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    module = getattr(fn, "__module__", None)
    if module in ("numpy", "math", "builtins", "_operator") or module is None:
        return name
    return f"{module}.{name}"


def no_rule(stmt, rule, param=None):
    name = callable_name(stmt.expr.fn)
    if rule is None:
        message = f"no derivative rule for `{name}`, and a value being differentiated flows into it"
    elif param is None:
        message = f"`{name}` was called with arguments its derivative rule does not understand"
    else:
        message = f"no derivative rule for `{name}` with respect to its argument `{param}`"
    advice = ("Register one with adjoint.primitive and adjoint.defvjp, or wrap the argument in "
              "adjoint.stop_gradient(...) if no gradient should flow through it.")
    return located(NoDerivativeRule, message, stmt.loc, advice)
