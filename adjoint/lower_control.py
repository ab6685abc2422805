"""Lowering of structured control flow: `if`, loops, `and`/`or`, conditional expressions.

Runs after `desugar`, so loops are `while` or `for k in range(...)` and no
`break`, `continue` or early `return` is left. Each region is lowered with its
own copy of the name environment; where the environments of two paths differ,
a `Phi` merges them (at the end of an `if`, at the head of a loop).
"""
import builtins
import operator

import gast

from .ir import Const, If, Loop, Pack, Phi, Var
from .syntax import Static


def assigned_names(statements):
    """Names stored to by these statements (nested regions included, nested functions not)."""
    stack, names = list(statements), []
    while stack:
        node = stack.pop(0)
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and node.id not in names:
            names.append(node.id)
        if not isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            stack[0:0] = list(gast.iter_child_nodes(node))
    return names


class ControlFlowLowering:
    """Mixed into `Lowering`: needs `env`, `body`, `statement`, `operand`, `unsupported`, `info`."""

    def region(self, statements, env):
        """Lower `statements` into a fresh list starting from `env`; returns (statements, env after)."""
        saved_body, saved_env = self.body, self.env
        self.body, self.env = [], dict(env)
        try:
            for stmt in statements:
                self.statement(stmt)
            return self.body, self.env
        finally:
            self.body, self.env = saved_body, saved_env

    def expression_region(self, node, env):
        """Lower one expression into a fresh list; returns (statements, value)."""
        saved_body, saved_env = self.body, self.env
        self.body, self.env = [], dict(env)
        try:
            value = self.operand(node)
            return self.body, value
        finally:
            self.body, self.env = saved_body, saved_env

    # -- if ------------------------------------------------------------------

    def lower_if(self, stmt):
        cond = self.operand(stmt.test)
        before = dict(self.env)
        then, then_env = self.region(stmt.body, before)
        orelse, else_env = self.region(stmt.orelse, before)
        merges = []
        for name in _ordered_union(then_env, else_env):
            if name not in then_env or name not in else_env:
                self.env.pop(name, None)  # bound on one path only: unusable after the `if`
                continue
            merged = self.merge(name, then_env[name], else_env[name], stmt, merges)
            self.env[name] = merged
        self.body.append(If(cond, then, orelse, merges, self.info.location(stmt)))

    def merge(self, name, a, b, node, merges):
        """The value of `name` after two paths that bound it to `a` and `b`."""
        if a is b:
            return a
        if isinstance(a, Pack) and isinstance(b, Pack) and a.kind == b.kind and len(a.items) == len(b.items):
            return Pack(a.kind, [self.merge(name, x, y, node, merges) for x, y in zip(a.items, b.items)])
        if isinstance(a, (Pack, Static)) or isinstance(b, (Pack, Static)):
            self.unsupported(node, f"`{name}` holding a function, module or tuple that differs between paths",
                             "Bind it to one value before the branch or loop.")
        if isinstance(a, Const) and isinstance(b, Const) and type(a.value) is type(b.value) and a.value == b.value:
            return a
        target = Var(name)
        merges.append(Phi(target, (a, b)))
        return target

    def lower_conditional(self, test, then_node, else_node, node, hint=""):
        """`then if test else other`, for expressions: an `If` whose merge is the value."""
        cond = self.operand(test)
        then, a = self.expression_region(then_node, self.env)
        orelse, b = self.expression_region(else_node, self.env)
        merges = []
        value = self.merge(hint or "t", a, b, node, merges)
        for phi in merges:
            phi.target.hint = hint
        self.body.append(If(cond, then, orelse, merges, self.info.location(node)))
        return value

    def visit_IfExp(self, node):
        return self.lower_conditional(node.test, node.body, node.orelse, node)

    def visit_BoolOp(self, node):
        """`a and b` is `b if a else a`; `a or b` is `a if a else b`, evaluating `b` only when needed."""
        value = self.operand(node.values[0])
        for rest in node.values[1:]:
            cond = value
            later, other = self.expression_region(rest, self.env)
            merges = []
            if isinstance(node.op, gast.And):
                merged = self.merge("t", other, value, node, merges)
                branches = (later, [])
            else:
                merged = self.merge("t", value, other, node, merges)
                branches = ([], later)
            for phi in merges:
                phi.target.hint = ""
            self.body.append(If(cond, *branches, merges, self.info.location(node)))
            value = merged
        return value

    def visit_Compare(self, node):
        if len(node.ops) == 1:
            return super().visit_Compare(node)
        # `a < b < c` is `a < b and b < c`, with `b` evaluated once
        operands = [self.operand(node.left)]
        pieces = []
        for op, right in zip(node.ops, node.comparators):
            pieces.append((op, right))
        result = None
        left = operands[0]
        for op, right_node in pieces:
            single = gast.Compare(gast.Constant(None, None), [op], [right_node])
            gast.copy_location(single, node)
            if result is None:
                right = self.operand(right_node)
                result = self.make(_COMPARE[type(op)], (left, right), (), node)
                left = right
                continue
            cond = result
            saved = left
            later_body, later = self._compare_region(saved, op, right_node)
            merges = []
            merged = self.merge("t", later[0], cond, node, merges)
            for phi in merges:
                phi.target.hint = ""
            self.body.append(If(cond, later_body, [], merges, self.info.location(node)))
            result, left = merged, later[1]
        return result

    def _compare_region(self, left, op, right_node):
        saved_body, saved_env = self.body, self.env
        self.body, self.env = [], dict(self.env)
        try:
            right = self.operand(right_node)
            value = self.make(_COMPARE[type(op)], (left, right), (), right_node)
            return self.body, (value, right)
        finally:
            self.body, self.env = saved_body, saved_env

    # -- loops ---------------------------------------------------------------

    def carried_headers(self, names):
        """Header phis for the names a loop assigns that already have values."""
        headers = {}
        for name in names:
            value = self.env.get(name)
            if value is None:
                continue
            if isinstance(value, (Static, Pack)):
                continue  # a function or tuple re-bound in a loop is refused when the body reads it
            headers[name] = Var(name)
        return headers

    def finish_loop(self, loop_node, headers, inits, body_env):
        carried, exits = [], []
        for name, header in headers.items():
            following = body_env.get(name, header)
            if isinstance(following, (Static, Pack)):
                self.unsupported(loop_node, f"re-binding `{name}` to a function or tuple inside a loop")
            carried.append(Phi(header, (inits[name], following)))
            out = Var(name)
            exits.append((out, header))
            self.env[name] = out
        for name in body_env:
            if name not in headers and name in self.env and self.env[name] is not body_env[name]:
                pass
        return carried, exits

    def lower_while(self, stmt):
        names = assigned_names(stmt.body)
        headers = self.carried_headers(names)
        inits = {name: self.env[name] for name in headers}
        loop_env = dict(self.env, **headers)
        test, cond = self.expression_region(stmt.test, loop_env)
        body, body_env = self.region(stmt.body, loop_env)
        for name in names:
            if name not in headers:
                self.env.pop(name, None)  # first bound inside the loop: not defined if it ran no time
        carried, exits = self.finish_loop(stmt, headers, inits, body_env)
        self.body.append(Loop("while", carried, body, exits, test=test, cond=cond, loc=self.info.location(stmt)))

    def lower_for(self, stmt):
        if not (isinstance(stmt.iter, gast.Call) and isinstance(stmt.iter.func, gast.Name)
                and isinstance(stmt.target, gast.Name)):
            self.unsupported(stmt, "this `for` loop")
        func = self.convert(stmt.iter.func)
        if not (isinstance(func, Static) and func.obj is builtins.range) or stmt.iter.keywords:
            self.unsupported(stmt.iter, "a `for` loop over something other than a range, sequence, "
                             "zip or enumerate")
        bounds = [self.operand(arg) for arg in stmt.iter.args]
        if len(bounds) == 1:
            bounds = [Const(0), bounds[0], Const(1)]
        elif len(bounds) == 2:
            bounds = bounds + [Const(1)]
        names = [n for n in assigned_names(stmt.body) if n != stmt.target.id]
        headers = self.carried_headers(names)
        inits = {name: self.env[name] for name in headers}
        index = Var(stmt.target.id)
        loop_env = dict(self.env, **headers)
        loop_env[stmt.target.id] = index
        body, body_env = self.region(stmt.body, loop_env)
        for name in names + [stmt.target.id]:
            if name not in headers:
                self.env.pop(name, None)
        carried, exits = self.finish_loop(stmt, headers, inits, body_env)
        self.body.append(Loop("for", carried, body, exits, index=index, bounds=bounds,
                              loc=self.info.location(stmt)))


_COMPARE = {gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
            gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Is: operator.is_, gast.IsNot: operator.is_not}


def _ordered_union(first, second):
    seen = list(first)
    seen += [name for name in second if name not in first]
    return seen
