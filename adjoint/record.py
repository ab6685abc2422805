"""Recording: keep the loop values that the backward sweep reads.

A loop overwrites its values on every trip, but its backward loop needs each
trip's values, in reverse order. This pass runs on the optimised derivative,
so it sees exactly what the backward code still reads. For each backward region
(a backward loop body, or a branch inside one) it looks at the forward region
it mirrors: a value that region defines and the backward region reads is
either recomputed from values that are at hand (cheap scalar arithmetic,
indexing by a number), or appended to a list of its own right after it is
computed and popped at the start of the backward region. A value that a trip
hands on to the next one (`h = tanh(W @ h)`) is the next trip's header, so the
backward loop carries the header it popped one trip earlier instead of
recording the value twice. A value that is the same on every trip (`F.T` for an
`F` the loop does not change) is carried out of the loop once, not recorded per
trip. Lists hold values, never environments.
"""
import operator

import numpy as np

from . import runtime as rt
from .ir import (UNBOUND, Apply, Assign, Global, If, Loop, Method, Pack, Phi, Var, all_statements, hashable,
                 map_expressions, statement_defines, statement_uses, substitute, variables, walk)
from .optimize.cse import mergeable
from .optimize.dce import eliminate_dead_code
from .optimize.shapes import SCALAR, ShapeClasses, shape_reads

APPEND, POP = Method("append"), Method("pop")

_RECOMPUTE_LIMIT = 4  # operations recomputed for one value, at most, before recording it instead
_CHEAP = {operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.pos,
          operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne, operator.not_}


def record(function, scalar_params=()):
    """Insert recording into `function` (in place); returns it."""
    forward = {stmt.tag: stmt for stmt in all_statements(function.body)
               if isinstance(stmt, (If, Loop)) and stmt.tag is not None}
    recorder = Recorder(forward, ShapeClasses(function, set(scalar_params)))
    body = recorder.block(function.body, depth=0)
    function.body = [Assign(tape, Pack("list", [])) for tape in recorder.tapes] + body
    # forward values that are now recomputed where the backward sweep needs them may be dead
    return eliminate_dead_code(function)


class Recorder:
    def __init__(self, forward, shapes):
        self.forward = forward
        self.shapes = shapes
        self.tapes = []
        self.renamed = {}  # forward loop index -> the index of the backward loop that replays it

    def block(self, statements, depth):
        out = []
        for stmt in statements:
            if getattr(stmt, "tag", None) is not None:
                pass  # a forward region: it gets its pushes when its backward mirror is reached
            elif isinstance(stmt, Loop) and stmt.mirror in self.forward:
                mirrored = self.forward[stmt.mirror]
                saved = dict(self.renamed)
                if mirrored.kind == "for" and stmt.index is not None:  # it replays the same indices
                    self.renamed[mirrored.index] = stmt.index
                try:
                    body = self.block(stmt.body, depth + 1)
                    body, carried = self.pair(mirrored.body, body, mirrored)
                    stmt = stmt.replace(body=body, carried=stmt.carried + carried)
                finally:
                    self.renamed = saved
            elif isinstance(stmt, If) and stmt.mirror in self.forward and depth > 0:
                mirrored = self.forward[stmt.mirror]
                stmt = stmt.replace(then=self.pair(mirrored.then, self.block(stmt.then, depth))[0],
                                    orelse=self.pair(mirrored.orelse, self.block(stmt.orelse, depth))[0])
            elif isinstance(stmt, If):
                stmt = stmt.replace(then=self.block(stmt.then, depth), orelse=self.block(stmt.orelse, depth))
            elif isinstance(stmt, Loop):
                stmt = stmt.replace(body=self.block(stmt.body, depth))
            out.append(stmt)
        return out

    def pair(self, forward, backward, loop=None):
        """Make the values `forward` defines available to `backward`; edits `forward` in place.

        `loop` is the forward loop when `forward` is its body. Returns the backward code and
        the phis the backward loop must carry for it.
        """
        headers = [phi.target for phi in loop.carried] if loop is not None else []
        defined = headers + [v for stmt in forward for v in statement_defines(stmt)]
        reads = {v for stmt in all_statements(backward) for v in statement_uses(stmt)}
        wanted = [v for v in defined if v in reads]
        if not wanted:
            return backward, []
        definitions = {stmt.target: stmt.expr for stmt in forward if isinstance(stmt, Assign)}
        # a value a trip hands to the next one is that trip's header: carried back, not recorded
        handed_on = {phi.values[1]: phi.target for phi in loop.carried if phi.values[1] is not phi.target} \
            if loop is not None else {}
        inside = set(defined)
        # a recomputed value reads the index of the backward loop where it read the forward one's
        restored, pops, recomputed, carried = dict(self.renamed), [], [], []
        later = []  # values the next trip hands on, restored once their headers are
        popped = []  # (value, its restored copy): recorded once all recomputations are known
        invariant = _invariants(forward, definitions, inside, loop) if loop is not None else set()
        for var in wanted:
            if var in restored:  # recomputed already, for a value that needs it
                continue
            plan = self.recomputation(var, definitions, inside, restored)
            if plan is not None:
                for needed in plan:
                    again = Var(None, of=needed, prefix="")
                    recomputed.append(Assign(again, substitute(definitions[needed], restored)))
                    restored[needed] = again
            elif var in invariant:  # the same on every trip: the last trip's, kept once
                restored[var] = self.last_value(loop, var)
            elif var in handed_on:
                later.append(var)
            else:
                again = Var(None, of=var, prefix="")
                popped.append((var, again))
                restored[var] = again
        carried_back = {handed_on[var] for var in later}  # a header that stands for a trip's result
        for var, again in popped:  # what a recomputation reads is needed whole, not just its shape
            shape_only = self.shapes.of(var) != SCALAR and var not in carried_back \
                and _read_for_shape_only(backward, var) and _read_for_shape_only(recomputed, again)
            pops.append(Assign(again, Apply(POP, (self.record(forward, var, headers, shape_only),))))
        for var in later:
            header = handed_on[var]
            if header not in restored:
                again = Var(None, of=header, prefix="")
                pops.append(Assign(again, Apply(POP, (self.record(forward, header, headers),))))
                restored[header] = again
            # backwards, the trip after this one is the one before: its header is this value
            following = Var(None, of=var, prefix="")
            carried.append(Phi(following, (self.final_value(loop, header), restored[header])))
            restored[var] = following
        code = pops + recomputed + map_expressions(backward, lambda e: substitute(e, restored))
        return code, carried

    def record(self, forward, var, headers, shape_only=False):
        """A new list that `forward` appends `var` (or, if `shape_only`, its shape) to each time."""
        tape = Var(None, of=var, prefix="tape_")
        self.tapes.append(tape)
        self.push(forward, var, tape, headers, shape_only)
        return tape

    @staticmethod
    def last_value(loop, var):
        """The value `var` had on the last trip of `loop` (a header carrying it out, and its exit)."""
        header, out = Var(None, of=var, prefix=""), Var(None, of=var, prefix="")
        loop.carried.append(Phi(header, (UNBOUND, var)))
        loop.exits.append((out, header))
        return out

    @staticmethod
    def final_value(loop, header):
        """The value `header` has after `loop` (an exit of the loop, added if there is none)."""
        for out, exiting in loop.exits:
            if exiting is header:
                return out
        out = Var(None, of=header, prefix="")
        loop.exits.append((out, header))
        return out

    def recomputation(self, var, definitions, inside, restored):
        """The values to compute again, in order, to have `var` back from values at hand; None if
        that takes anything but a few cheap operations."""
        plan = []

        def visit(v):
            if v in restored or v not in inside or v in plan:
                return True
            expr = definitions.get(v)
            if expr is None or not self.cheap(v, expr) or len(plan) >= _RECOMPUTE_LIMIT:
                return False
            if not all(visit(operand) for operand in variables(expr)):
                return False
            plan.append(v)
            return True
        return plan if visit(var) else None

    def cheap(self, var, expr):
        """Recompute rather than record: scalar arithmetic, `math` functions, and indexing by a number
        (a view or an element of a value at hand, not a copy)."""
        if not isinstance(expr, Apply):
            return False
        fn = expr.fn
        if fn is operator.getitem:
            return self.shapes.of(expr.args[1]) == SCALAR
        if self.shapes.of(var) != SCALAR:
            return False
        return (fn in _CHEAP if hashable(fn) else False) or getattr(fn, "__module__", None) == "math" \
            or (isinstance(fn, np.ufunc) and fn.nin == 1)

    @staticmethod
    def push(forward, var, tape, headers, shape_only=False):
        push = Assign(None, Apply(APPEND, (tape, Apply(rt.shape_only, (var,)) if shape_only else var)))
        if var in headers:
            forward.insert(0, push)
            return
        position = next(i for i, stmt in enumerate(forward) if var in statement_defines(stmt))
        forward.insert(position + 1, push)


def _invariants(forward, definitions, inside, loop):
    """The values of a loop body that are the same on every trip: computed on each one, by
    operations known to be pure and deterministic, from values from before the loop (and other such
    values), like `np.transpose(F)` for an `F` the loop does not change. The backward sweep reads
    the last trip's (recording it on every trip would keep as many copies of one value)."""
    found = set()
    for stmt in forward:
        if isinstance(stmt, Assign) and stmt.target is not None and stmt.target in definitions \
                and _pure(stmt.expr) and all(v in found or v not in inside and v is not loop.index
                                             for v in variables(stmt.expr)):
            found.add(stmt.target)
    return found


def _pure(expr):
    """Does `expr` compute the same value from the same operands, changing nothing (no live global)?"""
    if not isinstance(expr, (Apply, Pack)) or isinstance(expr, Pack) and expr.kind == "list":
        return False
    for node in walk(expr):
        if isinstance(node, Global) or isinstance(node, Apply) and not mergeable(node.fn) \
                or isinstance(node, Pack) and node.kind == "list":
            return False
    return True


def _read_for_shape_only(body, var):
    """Does `body` read `var` only where a helper needs just its shape (`unbroadcast(g, var)`)?"""
    for stmt in all_statements(body):
        if not isinstance(stmt, Assign):
            if var in statement_uses(stmt):
                return False
            continue
        stack = [stmt.expr]
        while stack:
            expr = stack.pop()
            if expr is var:
                return False
            if isinstance(expr, Apply):
                positions = shape_reads(expr, exact_dtype=True)
                stack.extend(arg for i, arg in enumerate(expr.args) if i not in positions or arg is not var)
                stack.extend(value for _, value in expr.kwargs)
            elif isinstance(expr, Pack):
                stack.extend(expr.items)
    return True


