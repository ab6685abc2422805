"""Choosing Python names for SSA values (leaving SSA form).

Every statement gets a position in program order. Each value lives from its
definition to its last use, where a use inside a loop of a value defined before
the loop lasts to the end of the loop (the next iteration reads it again).
Values a phi relates (a loop's initial, header, next and final values; a
branch value and its merge) share one name when their lifetimes do not
overlap, so no copy is needed; otherwise the code generator copies. Values
with the same hint share a name when they are never alive at once, which is
what turns SSA's `x.1 = x + 1` back into `x = x + 1`.
"""
import heapq
import itertools

from .ir import Assign, If, Loop, Return, Var, variables


class Lifetimes:
    """Definition and use positions of every variable in a structured body."""

    def __init__(self, params):
        self.clock = itertools.count()
        self.defs = {p: -1 for p in params}
        self.uses = {}
        self.loops = []            # (start, end) of every loop
        self.header_spans = {}     # header var -> (start, end) of its loop
        self.index_spans = {}      # loop index -> (start, end) of its loop
        self.entry_spans = {}      # header var -> from the copy of its initial value to the loop's start

    def use(self, var, position):
        self.uses.setdefault(var, []).append(position)

    def define(self, var, position):
        self.defs.setdefault(var, position)

    def expr(self, expr, position):
        for var in variables(expr):
            self.use(var, position)

    def block(self, body):
        for stmt in body:
            position = next(self.clock)
            if isinstance(stmt, Assign):
                self.expr(stmt.expr, position)
                if stmt.target is not None:
                    self.define(stmt.target, position)
            elif isinstance(stmt, Return):
                self.expr(stmt.value, position)
            elif isinstance(stmt, If):
                self.expr(stmt.cond, position)
                for side, region in enumerate((stmt.then, stmt.orelse)):
                    self.block(region)
                    end = next(self.clock)
                    for merge in stmt.merges:
                        self.expr(merge.values[side], end)
                merged = next(self.clock)
                for merge in stmt.merges:
                    self.define(merge.target, merged)
            elif isinstance(stmt, Loop):
                for phi in stmt.carried:
                    self.expr(phi.values[0], position)
                # the code copies the initial values into the headers, then evaluates `range(...)`:
                # a bound must not share its name with a header
                bounds_read = next(self.clock)
                for bound in stmt.bounds:
                    self.expr(bound, bounds_read)
                for phi in stmt.carried:
                    self.entry_spans[phi.target] = (position, bounds_read)
                start = next(self.clock)
                if stmt.index is not None:
                    self.define(stmt.index, start)
                for phi in stmt.carried:
                    self.define(phi.target, start)
                self.block(stmt.test)
                if stmt.cond is not None:
                    self.expr(stmt.cond, next(self.clock))
                self.block(stmt.body)
                end = next(self.clock)
                for phi in stmt.carried:
                    self.expr(phi.values[1], end)
                    self.header_spans[phi.target] = (start, end, phi.values[1])
                if stmt.index is not None:  # assigned at the start of every trip, read or not
                    self.index_spans[stmt.index] = (start, end)
                self.loops.append((start, end))
                after = next(self.clock)
                for out, header in stmt.exits:
                    self.define(out, after)

    def interval(self, var):
        """(definition, last use), uses inside loops that do not contain the definition extended."""
        start = self.defs.get(var, -1)
        end = start
        for position in self.uses.get(var, ()):
            for loop_start, loop_end in self.loops:
                if loop_start < position <= loop_end and not loop_start <= start <= loop_end:
                    position = max(position, loop_end)
            end = max(end, position)
        return start, end


class Groups:
    """Union-find of variables that will share a name, with their lifetimes."""

    def __init__(self, lifetimes):
        self.lifetimes = lifetimes
        self.parent = {}
        self.spans = {}

    def find(self, var):
        self.parent.setdefault(var, var)
        while self.parent[var] is not var:
            self.parent[var] = self.parent[self.parent[var]]
            var = self.parent[var]
        return var

    def span_list(self, var):
        root = self.find(var)
        if root not in self.spans:
            self.spans[root] = [self.lifetimes.interval(root)]
        return self.spans[root]

    def try_join(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra is rb:
            return True
        if overlaps(self.span_list(ra), self.span_list(rb)):
            return False
        self.spans[ra] = self.span_list(ra) + self.span_list(rb)
        self.parent[rb] = ra
        return True

    def members(self):
        out = {}
        for var in self.parent:
            out.setdefault(self.find(var), []).append(var)
        return out


def overlaps(first, second):
    return any(a0 < b1 and b0 < a1 for a0, a1 in first for b0, b1 in second)


def plan(function, fixed, hint_of, namer):
    """Python names for every variable of `function`: {Var: name}.

    `fixed` maps parameters to the names they must keep; `hint_of(var, names)` is the
    preferred name, given the names chosen so far; `namer` hands out collision-free names.
    """
    lifetimes = Lifetimes(list(fixed))
    lifetimes.block(function.body)
    groups = Groups(lifetimes)
    for var in list(lifetimes.defs) + [v for v in lifetimes.uses if v not in lifetimes.defs]:
        groups.find(var)
    params = set(fixed)
    namer.hinted.update(hint_of(var, {}) or "" for var in lifetimes.defs)
    # a header's name is written before the loop starts: two headers never share one
    for header, span in lifetimes.entry_spans.items():
        groups.spans[groups.find(header)] = groups.span_list(header) + [span]
    _coalesce(function.body, groups, params, lambda var: hint_of(var, {}))
    # a header that does not share its name with its next value is copied at the end of every
    # iteration, so its name is taken for the whole loop
    for header, (start, end, following) in lifetimes.header_spans.items():
        root = groups.find(header)
        if not (isinstance(following, Var) and groups.find(following) is root):
            groups.spans[root] = groups.span_list(root) + [(start, end)]
    for index, span in lifetimes.index_spans.items():
        root = groups.find(index)
        groups.spans[root] = groups.span_list(root) + [span]

    names = {}
    families = {}  # hint -> Family: the names a hint has been given, and which are free again
    members = groups.members()
    order = sorted(members.items(), key=lambda item: min(lifetimes.defs.get(v, -1) for v in item[1]))
    for root, group in order:
        spans = groups.span_list(root)
        fixed_names = [fixed[v] for v in group if v in fixed]
        if fixed_names:
            name = fixed_names[0]
            families.setdefault(name, Family(name)).hold(name, spans)
        else:
            hint = next((hint_of(v, names) for v in sorted(group, key=lambda v: lifetimes.defs.get(v, -1))
                         if hint_of(v, names)), "")
            if hint:
                name = families.setdefault(hint, Family(hint)).allocate(spans, namer)
            else:  # a temporary: a fresh `tN`, which a value recomputed from it may share later
                name = namer.fresh("")
                families.setdefault(name, Family(name)).hold(name, spans)
        for var in group:
            names[var] = name
    return names


class Family:
    """The names one hint has been given (`x`, `x_1`, ...). A name is free again for a group that
    starts after everything holding it has ended; groups arrive in order of definition, so two
    heaps find such names without rescanning (long straight-line code stays linear). The first
    few names are also checked span by span, so a value can live in a gap of a loop-carried one."""

    PRECISE = 4

    def __init__(self, hint):
        self.hint = hint
        self.names = []
        self.spans = []      # per name, the spans of the groups holding it
        self.free = []       # indices of names nobody holds any more
        self.held = []       # (end of holder, index)
        self.suffix = 0

    def hold(self, name, spans):
        self.names.append(name)
        self.spans.append(list(spans))
        heapq.heappush(self.held, (max(e for _, e in spans), len(self.names) - 1))

    def allocate(self, spans, namer):
        start, end = min(b for b, _ in spans), max(e for _, e in spans)
        while self.held and self.held[0][0] <= start:
            heapq.heappush(self.free, heapq.heappop(self.held)[1])
        index = None
        for candidate in range(min(self.PRECISE, len(self.names))):
            self.spans[candidate] = [span for span in self.spans[candidate] if span[1] > start]
            if not overlaps(self.spans[candidate], spans):
                index = candidate
                break
        while index is None and self.free:
            candidate = heapq.heappop(self.free)
            # a name reused in a gap has a newer holder: its older entry must not free it
            self.spans[candidate] = [span for span in self.spans[candidate] if span[1] > start]
            if not overlaps(self.spans[candidate], spans):
                index = candidate
        if index is None:
            while True:
                name = self.hint if self.suffix == 0 else f"{self.hint}_{self.suffix}"
                self.suffix += 1
                if name not in namer.reserved and name not in namer.taken:
                    break
            namer.taken.add(name)
            self.names.append(name)
            self.spans.append([])
            index = len(self.names) - 1
        self.spans[index].extend(spans)
        heapq.heappush(self.held, (end, index))
        return self.names[index]


def _coalesce(body, groups, params, hint_of):
    """Join the values each phi relates, where their lifetimes allow."""
    for stmt in body:
        if isinstance(stmt, If):
            _coalesce(stmt.then, groups, params, hint_of)
            _coalesce(stmt.orelse, groups, params, hint_of)
            for merge in stmt.merges:
                for value in merge.values:
                    if isinstance(value, Var) and value not in params \
                            and hint_of(value) in (hint_of(merge.target), ""):
                        groups.try_join(merge.target, value)
        elif isinstance(stmt, Loop):
            _coalesce(stmt.test, groups, params, hint_of)
            _coalesce(stmt.body, groups, params, hint_of)
            for out, header in stmt.exits:
                groups.try_join(header, out)
            for phi in stmt.carried:
                init, following = phi.values
                # a loop that can stop early assigns its index before the test that stops it: a value
                # that carries the index out of the loop must not be that variable
                stops_early = following is stmt.index and stmt.cond is not None
                if isinstance(following, Var) and following not in params and not stops_early:
                    groups.try_join(phi.target, following)
                # a value entering the loop shares the header's name unless that would rename it
                # (`grad_x` holding the value of `i` would read as `i`)
                if isinstance(init, Var) and hint_of(init) in (hint_of(phi.target), "") or \
                        isinstance(init, Var) and init not in params and hint_of(phi.target) == "":
                    groups.try_join(phi.target, init)
