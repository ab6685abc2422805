"""Item assignments written into the array itself where no one can see the difference.

`y[i] = v` is lowered to `y.2 = setitem(y.1, i, v)`, which copies `y.1`: the SSA form keeps every
version valid, since a later statement (the backward sweep, say) may read the old one. Often none
does: `u = u.copy(); u[1:-1] = ...` copies twice, and `out[i] = ...` in a loop copies the whole
array on every trip. `setitem_into` writes into the array it is given; it is used where

- that array is new, made here (a copy, an operation's result, an earlier `setitem`), or it is the
  value a loop carries from trip to trip, entering the loop new and handed on as this very update's
  result (a read-only spread seed entering the loop is copied on the first trip);
- every read of it, or of anything that may share its memory (a view, a value passed through a
  helper that may return its argument), comes before the assignment in the same block, by an
  operation without effects (not a tape's `append`, which would keep the old version), or reads only
  its shape and dtype, which the assignment does not change.

Runs last, on the recorded function with its temporaries folded: on the statements as they will run
(the tapes' pushes are statements like any other, and folding a temporary into a later reader moves
its reads later). A `setitem` folded into an expression keeps its copy. Generated code read back to be differentiated again (a function that calls
`adjoint.grad`) reads `setitem_into` as `setitem`: this pass decides again for that code.
"""
import builtins
import operator

import numpy as np

from .. import runtime as rt
from ..ir import (Apply, Assign, If, Loop, Pack, Return, Var, all_statements, hashable, regions,
                  statement_expressions)
from .dce import has_effect
from .shapes import shape_reads

# calls whose result is always a new object (never an operand, nor a view of one)
_FRESH = frozenset([operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
                    operator.pow, operator.neg, operator.matmul, operator.lt, operator.le, operator.gt, operator.ge,
                    operator.eq, operator.ne, np.copy, rt.setitem, rt.unindex, rt.zeros_grad, np.zeros, np.ones,
                    np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.sum, np.mean,
                    np.prod, np.dot, np.matmul, np.arange, np.linspace, np.eye, builtins.float, builtins.len,
                    rt.item_cotangent, rt.matmul_vjp_left, rt.matmul_vjp_right, rt.dot_vjp_left, rt.dot_vjp_right])
# calls whose result is a spread that numpy marks read-only (`setitem_into` copies it before writing)
_READ_ONLY = frozenset([rt.repeat_to, np.broadcast_to])


def write_in_place(function):
    """Turn the `setitem`s that no one can tell from a write into the array into `setitem_into`
    (in place); returns how many."""
    if not any(isinstance(stmt, Assign) and isinstance(stmt.expr, Apply) and stmt.expr.fn is rt.setitem
               for stmt in all_statements(function.body)):
        return 0
    analysis = _Analysis(function)
    count = 0
    for body, loop in analysis.blocks:
        for position, stmt in enumerate(body):
            if isinstance(stmt, Assign) and isinstance(stmt.expr, Apply) and stmt.expr.fn is rt.setitem \
                    and not stmt.expr.kwargs and stmt.target is not None and analysis.may_write(body, position, loop):
                body[position] = Assign(stmt.target, Apply(rt.setitem_into, stmt.expr.args), stmt.loc)
                count += 1
    return count


def memory_sharers(function):
    """A function giving, for a variable, the variables whose memory its value may share (it
    included): what it was computed from by operations that may hand on an operand or a view
    (`unbroadcast(g, x)` is `g` when the shapes agree), through branches and loops."""
    sources = _Analysis(function).sources

    def sharers(var):
        seen, work = {var}, [var]
        while work:
            for source in sources.get(work.pop(), ()):
                if source not in seen:
                    seen.add(source)
                    work.append(source)
        return seen
    return sharers


class _Analysis:
    def __init__(self, function):
        self.blocks = []          # (statement list, the loop whose body it is or None)
        self.definitions = {}     # variable -> its Assign expression
        self.sources = {}         # variable -> the variables whose memory its value may share
        self.reads = {}           # variable -> [(statement, the block holding it, position, how)]
        self.enclosing = {}       # id(statement list) -> (enclosing list, position of the statement holding it)
        self.index(function.body, None)
        self.derived = {}         # variable -> the variables among whose sources it is
        for other, sources in self.sources.items():
            for source in sources:
                self.derived.setdefault(source, []).append(other)

    # -- indexing ------------------------------------------------------------------------------

    def index(self, body, loop):
        self.blocks.append((body, loop))
        for position, stmt in enumerate(body):
            if isinstance(stmt, Assign) and stmt.target is not None:
                self.definitions[stmt.target] = stmt.expr
                self.sources[stmt.target] = _memory_sources(stmt.expr)
            elif isinstance(stmt, If):
                for merge in stmt.merges:
                    self.sources[merge.target] = [v for value in merge.values for v in _memory_sources(value)]
            elif isinstance(stmt, Loop):
                for phi in stmt.carried:
                    self.sources[phi.target] = [v for value in phi.values for v in _memory_sources(value)]
                values = {phi.target: phi.values for phi in stmt.carried}
                for out, header in stmt.exits:  # after the last trip: what entered, or the last trip's
                    self.sources[out] = [v for value in values.get(header, (header,)) for v in _memory_sources(value)]
            for expr in statement_expressions(stmt):
                for var, how in _reads_of(expr, stmt):
                    self.reads.setdefault(var, []).append((stmt, body, position, how))
            for region in regions(stmt):
                self.enclosing[id(region)] = (body, position)
                self.index(region, stmt if isinstance(stmt, Loop) and region is stmt.body else None)

    def sharing(self, var):
        """The variables whose value may share memory with `var`'s (it included), derived from it."""
        seen, work = {var}, [var]
        while work:
            for other in self.derived.get(work.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    work.append(other)
        return seen

    # -- the question ----------------------------------------------------------------------------

    def may_write(self, body, position, loop):
        stmt = body[position]
        x, result = stmt.expr.args[0], stmt.target
        if not isinstance(x, Var):
            return False
        header = next((phi for phi in loop.carried if phi.target is x), None) if loop is not None else None
        if header is not None:
            return header.values[1] is result and self.new_entering(header.values[0], loop) \
                and self.read_before(self.sharing(x), stmt, body, position, loop) \
                and self.handed_on_only(result, x, stmt, body, position, loop)
        definition = self.definitions.get(x)
        defined_here = any(s is not stmt and isinstance(s, Assign) and s.target is x for s in body[:position])
        return defined_here and isinstance(definition, Apply) and _makes_new(definition) \
            and self.read_before(self.sharing(x), stmt, body, position, None)

    def read_before(self, shared, stmt, body, position, loop):
        """Is every read of a variable in `shared` (but the write's own) a read of the shape only, or
        one without effects earlier in `body` (or in the test of `loop`, whose body it is)?"""
        test = set(map(id, all_statements(loop.test))) if loop is not None else set()
        for var in shared:
            for reader, where, at, how in self.reads.get(var, ()):
                if reader is stmt or how == "shape":
                    continue
                inside = where is body and at < position or self.nested_before(where, body, position) \
                    or id(reader) in test
                if not inside or how == "kept" or has_effect(reader) and not isinstance(reader, (If, Loop)):
                    return False
        return True

    def nested_before(self, where, body, position):
        """Is the statement list `where` nested in a statement of `body` before `position`?"""
        while id(where) in self.enclosing:
            where, at = self.enclosing[id(where)]
            if where is body:
                return at < position
        return False

    def new_entering(self, value, loop):
        """Does `value`, entering `loop`, hold an array no one else holds (or a read-only spread)?"""
        if isinstance(value, Apply):
            return not value.kwargs and (_makes_new(value) or value.fn in _READ_ONLY)
        if not isinstance(value, Var):
            return False
        definition = self.definitions.get(value)
        if isinstance(definition, Apply) and not definition.kwargs and definition.fn in _READ_ONLY:
            return True  # numpy will not let anyone write into it: setitem_into copies it
        outer, at = self.enclosing[id(loop.body)]
        # made new before the loop, in the block holding it (not once for several runs of the loop)
        if not (isinstance(definition, Apply) and _makes_new(definition)
                and any(isinstance(s, Assign) and s.target is value for s in outer[:at])):
            return False
        # read only by the loop (as what enters it), or before the loop, or for its shape
        headers = {phi.target for phi in loop.carried}
        for reader, where, position, how in self.reads.get(value, ()):
            if reader is loop and how == "value" or how == "shape":
                continue
            if not (where is outer and position < at and not has_effect(reader)):
                return False
        # (the loop's values and what it leaves after its last trip may be it: the loop's own business)
        after = {out for out, _ in loop.exits}
        return not self.sharing(value) - {value} - self.sharing_all(headers) - self.sharing_all(after)

    def sharing_all(self, variables):
        found = set(variables)
        for var in variables:
            found |= self.sharing(var)
        return found

    def handed_on_only(self, result, x, stmt, body, position, loop):
        """After the write, the array is the next trip's `x`: read later in this trip only by
        operations that keep no part of it, and by nothing after the loop but the loop's exit."""
        exits = {out for out, header in loop.exits if header is x}
        allowed = self.sharing(x) | {result} | {v for out in exits for v in self.sharing(out)}
        if self.sharing(result) - allowed:
            return False
        for reader, where, at, how in self.reads.get(result, ()):
            if how == "shape" or reader is loop:
                continue
            if not (where is body and at > position) or how == "kept" or has_effect(reader):
                return False
        return True


def _makes_new(expr):
    fn = expr.fn
    return not expr.kwargs and (isinstance(fn, np.ufunc) or getattr(fn, "__module__", None) == "math"
                                or hashable(fn) and fn in _FRESH)


def _memory_sources(expr):
    """The variables whose memory the value of `expr` may share: none if it makes a new array;
    otherwise every variable it reads other than for its shape."""
    if isinstance(expr, Var):
        return [expr]
    if isinstance(expr, Apply):
        if _makes_new(expr):  # (nested too: `unbroadcast(item_cotangent(g, i, x), v)` shares nothing with `g`)
            return []
        if expr.fn is rt.add_at:  # (its total, added into, or a new array)
            return _memory_sources(expr.args[0])
        positions = shape_reads(expr, exact_dtype=True)
        return [var for i, arg in enumerate(expr.args) if i not in positions
                for var in _memory_sources(arg)] + [var for _, value in expr.kwargs for var in _memory_sources(value)]
    if isinstance(expr, Pack):
        return [var for item in expr.items for var in _memory_sources(item)]
    return []


def _reads_of(expr, stmt):
    """(variable, how) for each read in `expr`: "shape" where only its shape and dtype are read,
    "kept" where a list or a tuple built here holds it, else "value"."""
    found = []
    stack = [(expr, "value")]
    while stack:
        node, how = stack.pop()
        if isinstance(node, Var):
            found.append((node, how))
        elif isinstance(node, Apply):
            positions = shape_reads(node, exact_dtype=True)
            for i, arg in enumerate(node.args):
                stack.append((arg, "shape" if i in positions else "value"))
            stack.extend((value, "value") for _, value in node.kwargs)
        elif isinstance(node, Pack):
            stack.extend((item, "kept") for item in node.items)
    if isinstance(stmt, Return):
        found = [(var, "kept" if how != "shape" else how) for var, how in found]
    return found
