"""Forward mode: the tangent transform of an SSA function.

After each active statement `v = f(a, b)` the output emits `d_v`, the sum of
the rule's Jacobian-vector products for the active arguments. One pass gives
one directional derivative; nothing is recorded.
"""
import operator

from . import runtime as rt
from .activity import leaves_of_operand, useful, varied
from .ir import Apply, Assign, Const, Function, If, Loop, Pack, Phi, Return, Unbound, Var  # noqa: F401
from .reverse import no_rule, refuse_no_result
from .rules import instantiate, rule_for


def forward(function, wrt, seeds=None):
    """The tangent function of `function`: extra parameters hold one tangent per index in
    `wrt`; it returns `(value, tangent of the value)`. `seeds`: for tangents the user passes, the
    names of each and of its parameter, for `runtime.as_seed` to check its shape."""
    refuse_no_result(function)  # (its gradient in forward mode was 0.0)
    inputs = [function.params[i] for i in wrt]
    primal = function.body[:-1]
    result = function.result
    outputs = [leaf for leaf in leaves_of_operand(result) if isinstance(leaf, Var)]
    active = varied(primal, inputs) & useful(primal, outputs)

    tangents = {param: Var(None, of=param, prefix="d_") for param in inputs}
    params = list(function.params) + [tangents[p] for p in inputs]
    checked = []
    for param, (name, of) in zip(inputs, seeds or ()):
        tangent = Var(None, of=param, prefix="d_")
        checked.append(Assign(tangent, Apply(rt.as_seed, (tangents[param], param, Const(name), Const(of)))))
        tangents[param] = tangent
    sweep = Tangents(active, tangents)
    body = checked + sweep.block(primal)
    output = Pack("tuple", [result, sweep.tangent_of_result(result)])
    body.append(Return(output))
    return Function(function.name, params, body, function.source, function.defaults)


class Tangents:
    def __init__(self, active, tangents):
        self.active = active
        self.tangents = tangents
        self.body = []

    def block(self, statements):
        """The statements with tangent code after each active one."""
        saved, self.body = self.body, []
        try:
            for stmt in statements:
                if isinstance(stmt, If):
                    self.branch(stmt)
                elif isinstance(stmt, Loop):
                    self.loop(stmt)
                else:
                    self.body.append(stmt)
                    if isinstance(stmt, Assign) and stmt.target in self.active:
                        self.statement(stmt)
            return self.body
        finally:
            self.body = saved

    def new_tangent(self, var):
        tangent = Var(None, of=var, prefix="d_")
        self.tangents[var] = tangent
        return tangent

    def branch(self, stmt):
        then, orelse = self.block(stmt.then), self.block(stmt.orelse)
        merges = list(stmt.merges)
        for merge in stmt.merges:
            if merge.target in self.active:
                values = [self.tangent(value) for value in merge.values]
                merges.append(Phi(self.new_tangent(merge.target), values))
        self.body.append(stmt.replace(then=then, orelse=orelse, merges=merges))

    def loop(self, stmt):
        headers = [phi for phi in stmt.carried if phi.target in self.active]
        tangent_headers = [self.new_tangent(phi.target) for phi in headers]
        body = self.block(stmt.body)
        carried = list(stmt.carried)
        for phi, tangent in zip(headers, tangent_headers):
            init, following = phi.values
            carried.append(Phi(tangent, (self.tangent(init), self.tangent(following))))
        exits = list(stmt.exits)
        for out, header in stmt.exits:
            if header in self.tangents:
                exits.append((self.new_tangent(out), self.tangents[header]))
        self.body.append(stmt.replace(carried=carried, body=body, exits=exits))

    def tangent(self, value):
        """The tangent of an operand: its tangent variable, or zeros if it is inactive."""
        if isinstance(value, Var) and value in self.tangents:
            return self.tangents[value]
        if isinstance(value, Unbound):  # no value on this path, so no tangent either
            return value
        return Apply(rt.zeros_grad, (value,))

    def statement(self, stmt):
        expr = stmt.expr
        rule = rule_for(expr.fn)
        bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
        if bound is None:
            raise no_rule(stmt, rule)
        env = dict(bound, ans=stmt.target)
        joint = getattr(rule, "joint_jvp", None)
        if joint is not None:  # one template for all the tangents, zeros for inactive arguments
            for param in rule.params:
                if not param.const:
                    value = bound[param.name]
                    items = value.items if param.sequence and isinstance(value, Pack) else (value,)
                    if any(isinstance(item, Pack) and any(self.is_active(leaf) for leaf in leaves_of_operand(item))
                           for item in items):
                        raise no_rule(stmt, rule, param.name)  # a tuple where one value goes: refuse, never drop
                    env["d" + param.name] = Pack("list", [self.tangent(item) for item in value.items]) \
                        if param.sequence and isinstance(value, Pack) else self.tangent(value)
            tangent = Var(None, of=stmt.target, prefix="d_")
            self.body.append(Assign(tangent, instantiate(joint, env)))
            self.tangents[stmt.target] = tangent
            return
        broadcasting = rule.elementwise and len(rule.params) > 1
        total = None
        for param in rule.params:
            if param.const:
                continue
            value = bound[param.name]
            if param.sequence:
                items = value.items if isinstance(value, Pack) else (value,)
                if any(isinstance(item, Pack) and any(self.is_active(leaf) for leaf in leaves_of_operand(item))
                       for item in items):
                    raise no_rule(stmt, rule, param.name)  # nested lists: refuse, never drop
                if not any(self.is_active(item) for item in items):
                    continue
                env["d" + param.name] = (Pack("list", [self.tangent(item) for item in items])
                                         if isinstance(value, Pack) else self.tangent(value))
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
