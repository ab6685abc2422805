"""Forward mode: the tangent transform of an SSA function.

After each active statement `v = f(a, b)` the output emits `d_v`, the sum of
the rule's Jacobian-vector products for the active arguments. One pass gives
one directional derivative; nothing is recorded.
"""
import operator

from . import runtime as rt
from .activity import leaves_of_operand, useful, varied
from .ir import Apply, Assign, Const, Function, Pack, Return, Var
from .reverse import no_rule
from .rules import instantiate, rule_for


def forward(function, wrt):
    """The tangent function of `function`: extra parameters hold one tangent per index in
    `wrt`; it returns `(value, tangent of the value)`."""
    inputs = [function.params[i] for i in wrt]
    primal = function.body[:-1]
    result = function.result
    outputs = [leaf for leaf in leaves_of_operand(result) if isinstance(leaf, Var)]
    active = varied(primal, inputs) & useful(primal, outputs)

    tangents = {param: Var(None, of=param, prefix="d_") for param in inputs}
    sweep = Tangents(active, tangents)
    for stmt in primal:
        sweep.body.append(stmt)
        if isinstance(stmt, Assign) and stmt.target in active:
            sweep.statement(stmt)

    output = Pack("tuple", [result, sweep.tangent_of_result(result)])
    body = sweep.body + [Return(output)]
    params = list(function.params) + [tangents[p] for p in inputs]
    return Function(function.name, params, body, function.source, function.defaults)


class Tangents:
    def __init__(self, active, tangents):
        self.active = active
        self.tangents = tangents
        self.body = []

    def tangent(self, value):
        """The tangent of an operand: its tangent variable, or zeros if it is inactive."""
        if isinstance(value, Var) and value in self.tangents:
            return self.tangents[value]
        return Apply(rt.zeros_grad, (value,))

    def statement(self, stmt):
        expr = stmt.expr
        rule = rule_for(expr.fn)
        bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
        if bound is None:
            raise no_rule(stmt, rule)
        env = dict(bound, ans=stmt.target)
        broadcasting = rule.elementwise and len(rule.params) > 1
        total = None
        for param in rule.params:
            if param.const:
                continue
            value = bound[param.name]
            if param.sequence:
                items = value.items if isinstance(value, Pack) else (value,)
                if not any(self.is_active(item) for item in items):
                    continue
                env["d" + param.name] = Pack("list", [self.tangent(item) for item in items])
            elif isinstance(value, Var) and value in self.active:
                env["d" + param.name] = self.tangents[value]
            elif any(self.is_active(leaf) for leaf in leaves_of_operand(value)):
                raise no_rule(stmt, rule, param.name)
            else:
                continue
            template = rule.jvp.get(param.name)
            if template is None:
                raise no_rule(stmt, rule, param.name)
            contribution = instantiate(template, env)
            if broadcasting:
                contribution = Apply(rt.broadcast_like, (contribution, stmt.target))
            total = contribution if total is None else Apply(operator.add, (total, contribution))
        if total is not None:
            tangent = Var(None, of=stmt.target, prefix="d_")
            self.body.append(Assign(tangent, total))
            self.tangents[stmt.target] = tangent

    def is_active(self, value):
        return isinstance(value, Var) and value in self.active

    def tangent_of_result(self, result):
        if isinstance(result, Pack):
            return Pack(result.kind, [self.tangent_of_result(item) for item in result.items])
        if isinstance(result, Var) and result in self.tangents:
            return Apply(rt.as_grad, (self.tangents[result], result))
        return Apply(rt.zeros_grad, (result,)) if not isinstance(result, Const) else Const(0.0)
