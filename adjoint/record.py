"""Recording: keep the loop values that the backward sweep reads.

A loop overwrites its values on every trip, but its backward loop needs each
trip's values, in reverse order. This pass runs on the optimised derivative,
so it sees exactly what the backward code still reads. For each backward region
(a backward loop body, or a branch inside one) it looks at the forward region
it mirrors: a value that region defines and the backward region reads is
either recomputed from values that are at hand (cheap scalar arithmetic), or
appended to a list of its own right after it is computed and popped at the
start of the backward region. Lists hold values, never environments.
"""
import operator

import numpy as np

from .ir import (Apply, Assign, If, Loop, Method, Pack, Var, all_statements, map_expressions, statement_defines,
                 statement_uses, substitute, variables)
from .optimize.shapes import SCALAR, ShapeClasses

APPEND, POP = Method("append"), Method("pop")
_CHEAP = {operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.pos}


def record(function, scalar_params=()):
    """Insert recording into `function` (in place); returns it."""
    forward = {stmt.tag: stmt for stmt in all_statements(function.body)
               if isinstance(stmt, (If, Loop)) and stmt.tag is not None}
    recorder = Recorder(forward, ShapeClasses(function, set(scalar_params)))
    body = recorder.block(function.body, depth=0)
    function.body = [Assign(tape, Pack("list", [])) for tape in recorder.tapes] + body
    return function


class Recorder:
    def __init__(self, forward, shapes):
        self.forward = forward
        self.shapes = shapes
        self.tapes = []

    def block(self, statements, depth):
        out = []
        for stmt in statements:
            if getattr(stmt, "tag", None) is not None:
                pass  # a forward region: it gets its pushes when its backward mirror is reached
            elif isinstance(stmt, Loop) and stmt.mirror in self.forward:
                mirrored = self.forward[stmt.mirror]
                body = self.block(stmt.body, depth + 1)
                headers = [phi.target for phi in mirrored.carried]
                stmt = stmt.replace(body=self.pair(mirrored.body, body, headers))
            elif isinstance(stmt, If) and stmt.mirror in self.forward and depth > 0:
                mirrored = self.forward[stmt.mirror]
                stmt = stmt.replace(then=self.pair(mirrored.then, self.block(stmt.then, depth)),
                                    orelse=self.pair(mirrored.orelse, self.block(stmt.orelse, depth)))
            elif isinstance(stmt, If):
                stmt = stmt.replace(then=self.block(stmt.then, depth), orelse=self.block(stmt.orelse, depth))
            elif isinstance(stmt, Loop):
                stmt = stmt.replace(body=self.block(stmt.body, depth))
            out.append(stmt)
        return out

    def pair(self, forward, backward, headers=()):
        """Make the values `forward` defines available to `backward`; edits `forward` in place."""
        defined = list(headers) + [v for stmt in forward for v in statement_defines(stmt)]
        reads = {v for stmt in all_statements(backward) for v in statement_uses(stmt)}
        wanted = [v for v in defined if v in reads]
        if not wanted:
            return backward
        definitions = {stmt.target: stmt.expr for stmt in forward if isinstance(stmt, Assign)}
        inside = set(defined)
        restored, pops, recomputed = {}, [], []
        for var in wanted:
            expr = definitions.get(var)
            again = Var(None, of=var, prefix="")
            if expr is not None and self.cheap(var, expr) and \
                    all(v not in inside or v in restored for v in variables(expr)):
                recomputed.append(Assign(again, substitute(expr, restored)))
            else:
                tape = Var(None, of=var, prefix="tape_")
                self.tapes.append(tape)
                pops.append(Assign(again, Apply(POP, (tape,))))
                self.push(forward, var, tape, headers)
            restored[var] = again
        return pops + recomputed + map_expressions(backward, lambda e: substitute(e, restored))

    def cheap(self, var, expr):
        """Recompute rather than record: scalar arithmetic and `math` functions."""
        if self.shapes.of(var) != SCALAR or not isinstance(expr, Apply):
            return False
        fn = expr.fn
        return (fn in _CHEAP if _hashable(fn) else False) or getattr(fn, "__module__", None) == "math" \
            or (isinstance(fn, np.ufunc) and fn.nin == 1)

    @staticmethod
    def push(forward, var, tape, headers):
        push = Assign(None, Apply(APPEND, (tape, var)))
        if var in headers:
            forward.insert(0, push)
            return
        position = next(i for i, stmt in enumerate(forward) if var in statement_defines(stmt))
        forward.insert(position + 1, push)


def _hashable(fn):
    try:
        hash(fn)
        return True
    except TypeError:
        return False

