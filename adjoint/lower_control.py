"""Lowering of structured control flow: `if`, loops, `and`/`or`, conditional expressions.

Runs after `desugar`, so loops are `while` or `for k in range(...)` and no
`break`, `continue` or early `return` is left. Each region is lowered with its
own copy of the name environment; where the environments of two paths differ,
a `Phi` merges them (at the end of an `if`, at the head of a loop).

A name that only some paths assign (`if c: y = ...` without `else`; a value
first assigned inside a loop; the loop variable after its loop) merges with
`UNBOUND` on the other paths: Python reads it only where it was assigned.
Such merges that nothing reads are dropped once the function is lowered.
"""
import builtins
import operator
from collections import Counter

import gast

from .ir import UNBOUND, Const, If, Loop, Pack, Phi, Ref, Unbound, Var, all_statements, statement_uses
from .lower_alias import with_replaced
from .syntax import Static


def assigned_names(statements):
    """Names stored to or changed in place by these statements (nested regions included, nested
    functions not): `y = ...`, `y[i] = ...`, `y.attr = ...`, `y.append(...)`."""
    stored, changed = _stores(statements)
    return stored + [name for name in changed if name not in stored]


def changed_names(statements):
    """Names whose value these statements change in place but never re-bind (`y[i] = v`, `xs.append(v)`):
    the names that hold the same value (aliases) see the change."""
    stored, changed = _stores(statements)
    return [name for name in changed if name not in stored]


def _stores(statements):
    stack, stored, changed, aliases = list(statements), [], [], []
    while stack:
        node = stack.pop(0)
        if isinstance(node, gast.Assign):
            aliases += _aliases(node)
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store) and node.id not in stored:
            stored.append(node.id)
        owner = None
        if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store):
            owner = node.value
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in _MUTATORS:
            owner = node.func.value
        while isinstance(owner, (gast.Subscript, gast.Attribute)):
            owner = owner.value
        if isinstance(owner, gast.Name) and owner.id not in changed:
            changed.append(owner.id)
        if not isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            stack[0:0] = list(gast.iter_child_nodes(node))
    # `y = x` then `y[i] = v`: x changes too, so a loop doing this carries x as well
    grown = True
    while grown:
        grown = False
        for alias, source in aliases:
            if alias in changed and source not in changed:
                changed.append(source)
                grown = True
    return stored, changed


def _aliases(assign):
    """(target, source) name pairs of `y = x` and `y, z = x, w`."""
    pairs = []
    for target in assign.targets:
        if isinstance(target, gast.Name) and isinstance(assign.value, gast.Name):
            pairs.append((target.id, assign.value.id))
        elif isinstance(target, gast.Tuple) and isinstance(assign.value, gast.Tuple) \
                and len(target.elts) == len(assign.value.elts):
            pairs += [(t.id, v.id) for t, v in zip(target.elts, assign.value.elts)
                      if isinstance(t, gast.Name) and isinstance(v, gast.Name)]
    return pairs


_MUTATORS = {"append", "extend", "pop", "insert", "remove", "clear", "sort", "reverse", "update"}


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
        saved_body, saved_env, saved_lazy = self.body, self.env, self.lazy
        self.body, self.env, self.lazy = [], dict(env), True
        try:
            value = self.operand(node)
            return self.body, value
        finally:
            self.body, self.env, self.lazy = saved_body, saved_env, saved_lazy

    def visit_NamedExpr(self, node):
        """`(name := value)` where it runs whenever its statement does (a statement, an `if` test):
        an assignment. (Generated code writes an `elif` chain's conditions so.)"""
        if self.lazy:
            self.unsupported(node, "`:=` inside `and`/`or`, `a if c else b`, a chained comparison or a `while` "
                                   "test, which may not run", "Assign the value in a statement of its own, then use the name.")
        value = self.operand(node.value)
        self.assign(node.target, value)
        return value

    # -- if ------------------------------------------------------------------

    def lower_if(self, stmt):
        cond = self.operand(stmt.test)
        if isinstance(cond, Const):  # known while compiling (an integer test, say): only that branch
            for inner in (stmt.body if cond.value else stmt.orelse):
                self.statement(inner)
            return
        before = dict(self.env)
        then, then_env = self.region(stmt.body, before)
        orelse, else_env = self.region(stmt.orelse, before)
        merges = []
        for name in _ordered_union(then_env, else_env):
            a, b = then_env.get(name, UNBOUND), else_env.get(name, UNBOUND)
            if _lists_differ(a, b):  # a list appended to on one path: a run-time list on both
                if _is_list(a):
                    a = then_env[name] = self.materialize(a, stmt, then)
                if _is_list(b):
                    b = else_env[name] = self.materialize(b, stmt, orelse)
            if (a is UNBOUND or b is UNBOUND) and isinstance(a if b is UNBOUND else b, (Static, Pack)):
                self.env.pop(name, None)  # a function or tuple bound on one path only: unusable after
                continue
            self.env[name] = self.merge(name, a, b, stmt, merges)
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
        self.shared["merged"][target] = (a, b)  # (what it may be the same array as)
        self.follow_list(target, a, b)
        return target

    def follow_list(self, target, *values):
        """`target` holds a run-time list if one of `values` does (see `DataLowering.is_runtime_list`)."""
        if any(value in self.shared["lists"] for value in values if isinstance(value, Var)):
            self.shared["lists"].add(target)

    def lower_conditional(self, test, then_node, else_node, node, hint=""):
        """`then if test else other`, for expressions: an `If` whose merge is the value."""
        cond = self.operand(test)
        if isinstance(cond, Const):
            return self.operand(then_node if cond.value else else_node)
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
            if isinstance(cond, Const):  # known while compiling
                if bool(cond.value) == isinstance(node.op, gast.And):
                    value = self.operand(rest)
                continue
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
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.In, gast.NotIn)):
            found = self.membership(node)
            if found is None:
                self.unsupported(node, "`in` / `not in` here",
                                 "`key in d` works for a dict built in the function (or a dict argument) and a key "
                                 "known while compiling; test other membership outside the function, or compare "
                                 "values one at a time.")
            return found
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
        saved_body, saved_env, saved_lazy = self.body, self.env, self.lazy
        self.body, self.env, self.lazy = [], dict(self.env), True
        try:
            right = self.operand(right_node)
            value = self.make(_COMPARE[type(op)], (left, right), (), right_node)
            return self.body, (value, right)
        finally:
            self.body, self.env, self.lazy = saved_body, saved_env, saved_lazy

    # -- loops ---------------------------------------------------------------

    def carried_headers(self, names, loop_node=None, changed=()):
        """Header phis for the names a loop assigns, and their values on entry (UNBOUND if none).

        A list the loop changes becomes a run-time list before it. A value the loop changes in
        place (`y[i] = v`) has one header whatever names hold it, and those names all see the change.
        """
        headers, inits = {}, {}
        self.followers = {}  # value changed in place -> its header
        for name in names:
            if name in changed and name not in self.env:
                continue  # a global (`y = C` then `y[i] = v`): refused where it is changed
            value = self.env.get(name, UNBOUND)
            if _is_list(value) and loop_node is not None:
                materialized = self.materialize(value, loop_node)
                self.rebind(value, materialized)
                value = materialized
            if isinstance(value, Pack) and value.kind in ("tuple", "dict", "object"):
                # a tuple, dict or object the loop updates: each of its values is carried
                headers[name], inits[name] = _map_leaves(value, lambda leaf: leaf if isinstance(leaf, (Ref, Static))
                                                         else Var(name)), value
                continue
            if isinstance(value, (Static, Pack)):
                continue  # a function re-bound in a loop is refused when the body reads it
            if name in changed and isinstance(value, Var) and value in self.followers:
                headers[name], inits[name] = self.followers[value], value
                continue
            headers[name], inits[name] = Var(name), value
            self.shared["merged"][headers[name]] = (value,)  # until the loop's end says what follows
            self.follow_list(headers[name], value)
            if name in changed and isinstance(value, Var):
                self.followers[value] = headers[name]
        return headers, inits

    def loop_environment(self, headers):
        env = dict(self.env, **headers)
        for value, header in self.followers.items():  # aliases of a value changed in place
            for name, held in env.items():
                if name not in headers:
                    env[name] = with_replaced(held, value, header)
        return env

    def loop_body(self, statements, env):
        self.shared["loop_depth"] += 1
        try:
            return self.region(statements, env)
        finally:
            self.shared["loop_depth"] -= 1

    def check_outer_values_kept(self, loop_node, headers, loop_env, body_env):
        """A name the loop does not assign must hold the same value after a trip: if it does not,
        the loop changed its array in place through another name in a way the loop's syntax
        does not show (`y = f(x)` returning `x`, say), and the loop does not carry it."""
        owners = {id(header): name for name, header in headers.items()}  # (names sharing a header see its changes)
        for name, held in loop_env.items():
            if name in headers or name not in body_env or body_env[name] is held:
                continue
            owner = owners.get(id(held))
            if owner is None or body_env[name] is not body_env.get(owner):
                self.unsupported(loop_node, f"changing, inside this loop, the array `{name}` holds through "
                                 "another name", f"Change `{name}` itself (`{name}[i] = ...`), or copy it first "
                                 f"(`... = {name}.copy()`).")

    def finish_loop(self, loop_node, headers, inits, body_env, body, region=None):
        carried, exits, outs = [], [], {}
        followers = dict(self.followers)
        for name, header in headers.items():
            following = body_env.get(name, header)
            if isinstance(header, Pack):
                self.env[name] = self.finish_pack(loop_node, name, header, inits[name], following, carried, exits)
                continue
            if header in outs:  # another name for a value changed in place
                if following is not body_env.get(next(n for n in headers if headers[n] is header)):
                    self.unsupported(loop_node, f"re-binding `{name}` inside a loop while another name for "
                                     "the same array is changed in place", "Copy the array first (`.copy()`).")
                self.env[name] = outs[header]
                continue
            if _is_list(following) and inits[name] is not UNBOUND and region is not None:
                following = self.materialize(following, loop_node, region)
            if isinstance(following, (Static, Pack)):
                if inits[name] is UNBOUND and not _reads(body, header):
                    self.env.pop(name, None)  # a tuple first bound in the loop: unusable after it
                    continue
                self.unsupported(loop_node, f"re-binding `{name}` to a function or tuple inside a loop")
            carried.append(Phi(header, (inits[name], following)))
            self.follow_list(header, following)
            out = Var(name)
            self.shared["merged"].update({header: (inits[name], following), out: (header,)})
            self.follow_list(out, header)
            exits.append((out, header))
            self.env[name] = outs[header] = out
        for value, header in followers.items():
            if header in outs:
                owner = next(n for n in headers if headers[n] is header)
                for name, held in list(self.env.items()):
                    if name not in headers:
                        if held is value and body_env.get(name) is not body_env.get(owner):
                            self.unsupported(loop_node, f"re-binding `{owner}` inside a loop that changes it in "
                                             f"place while `{name}` holds the same array",
                                             f"Copy the array first (`{owner} = {name}.copy()`).")
                        self.env[name] = with_replaced(held, value, outs[header])
        for check in self.shared["loop_checks"]:  # in-place changes asked again, now that the merges are complete
            check()
        if not self.shared["loop_depth"]:
            self.shared["loop_checks"].clear()
        return carried, exits

    def finish_pack(self, loop_node, name, header, init, following, carried, exits):
        """The phis of a tuple, dict or object carried by a loop, one per value; its value after the loop."""
        if not _same_structure(header, following):
            self.unsupported(loop_node, f"`{name}` changing its length or keys inside a loop",
                             "Give it all its items (keys) before the loop.")
        triples = list(zip(_leaves(header), _leaves(init), _leaves(following)))
        outs = {}
        for head, before, after in triples:
            if isinstance(head, Var):
                carried.append(Phi(head, (before, after)))
                outs[head] = Var(name)
                exits.append((outs[head], head))
            elif after is not head:
                self.unsupported(loop_node, f"re-binding a function held in `{name}` inside a loop",
                                 "Bind it to one function before the loop.")
        return _map_leaves(header, lambda leaf: outs.get(leaf, leaf))

    def lower_while(self, stmt):
        names = assigned_names(stmt.body)
        headers, inits = self.carried_headers(names, stmt, changed_names(stmt.body))
        loop_env = self.loop_environment(headers)
        followers = self.followers  # (a loop inside the body has followers of its own)
        test, cond = self.expression_region(stmt.test, loop_env)
        body, body_env = self.loop_body(stmt.body, loop_env)
        self.followers = followers
        self.check_outer_values_kept(stmt, headers, loop_env, body_env)
        carried, exits = self.finish_loop(stmt, headers, inits, body_env, test + body, body)
        self.body.append(Loop("while", carried, body, exits, test=test, cond=cond, loc=self.info.location(stmt)))

    def lower_for(self, stmt):
        if not (isinstance(stmt.iter, gast.Call) and isinstance(stmt.iter.func, gast.Name)
                and isinstance(stmt.target, gast.Name)):
            self.unsupported(stmt, "this `for` loop")
        iterable, backwards = stmt.iter, False
        func = self.convert(iterable.func)
        if isinstance(func, Static) and func.obj is builtins.reversed and len(iterable.args) == 1 \
                and isinstance(iterable.args[0], gast.Call) and isinstance(iterable.args[0].func, gast.Name):
            iterable, backwards = iterable.args[0], True  # `reversed(range(...))`
            func = self.convert(iterable.func)
        if not (isinstance(func, Static) and func.obj is builtins.range) or iterable.keywords:
            self.unsupported(stmt.iter, "a `for` loop over something other than a range, sequence, "
                             "zip or enumerate")
        # (a global sequence too: a tuple of functions is known while compiling)
        sequences = [self.env[name] if name in self.env
                     else self.convert(gast.copy_location(gast.Name(name, gast.Load(), None, None), stmt))
                     for name in getattr(stmt, "sequences", ())]
        if any(isinstance(sequence, Pack) for sequence in sequences):
            return self.unroll(stmt, sequences)
        bounds = [self.operand(arg) for arg in iterable.args]
        if len(bounds) == 1:
            bounds = [Const(0), bounds[0], Const(1)]
        elif len(bounds) == 2:
            bounds = bounds + [Const(1)]
        known = known_range(bounds, backwards)
        if getattr(stmt, "unrolled_if_known", False) and known is not None and len(known) <= _UNROLLED_AT_MOST:
            return self.unroll(stmt, [], known)
        target = stmt.target.id
        # the loop variable is carried too: after the loop it holds its last value
        names = [target] + [n for n in assigned_names(stmt.body) if n != target]
        headers, inits = self.carried_headers(names, stmt, changed_names(stmt.body))
        index = Var(target)
        loop_env = self.loop_environment(headers)
        loop_env[target] = index
        test, cond = [], None
        followers = self.followers  # (a loop inside the body has followers of its own)
        if getattr(stmt, "stop_flag", None):  # a loop that can break: it goes on while the flag is down
            test, cond = self.expression_region(_not_flag(stmt.stop_flag, stmt), loop_env)
        body, body_env = self.loop_body(stmt.body, loop_env)
        self.followers = followers
        self.check_outer_values_kept(stmt, headers, loop_env, body_env)
        carried, exits = self.finish_loop(stmt, headers, inits, body_env, test + body, body)
        self.body.append(Loop("for", carried, body, exits, index=index, bounds=bounds, test=test, cond=cond,
                              reverse=backwards, loc=self.info.location(stmt)))

    def unroll(self, stmt, sequences, positions=None):
        """A loop over a tuple or list of values, one copy of the body per item: the tuple exists
        only while compiling, so its items are values of their own, not elements of an array. (A
        comprehension over a range known while compiling is unrolled too: `positions`, the range.)"""
        if not all(isinstance(sequence, Pack) for sequence in sequences):
            self.unsupported(stmt.iter, "`zip` of a tuple or list with an array",
                             "Make both arrays (np.array, np.stack) or both tuples.")
        if positions is None:
            positions = range(min(len(sequence.items) for sequence in sequences))
        flag = getattr(stmt, "stop_flag", None)
        for trip, position in enumerate(positions):
            self.env[stmt.target.id] = Const(position)
            if flag and trip > 0:  # after a `break`, the copies that follow do nothing
                self.lower_if(gast.copy_location(gast.If(_not_flag(flag, stmt), stmt.body, []), stmt))
                continue
            for inner in stmt.body:
                self.statement(inner)


_UNROLLED_AT_MOST = 100  # items of a comprehension over a known range; a longer one stays a loop


def known_range(bounds, backwards):
    """The values of `range(*bounds)` (reversed if `backwards`) when its bounds are ints known while
    compiling, else None."""
    if not all(isinstance(b, Const) and type(b.value) is int for b in bounds) or bounds[2].value == 0:
        return None
    values = range(*(b.value for b in bounds))
    return values[::-1] if backwards else values


_COMPARE = {gast.Lt: operator.lt, gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
            gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Is: operator.is_, gast.IsNot: operator.is_not}


def _ordered_union(first, second):
    seen = list(first)
    seen += [name for name in second if name not in first]
    return seen


def _not_flag(flag, node):
    test = gast.UnaryOp(gast.Not(), gast.Name(flag, gast.Load(), None, None))
    for part in gast.walk(test):
        gast.copy_location(part, node)
    return test


def _map_leaves(pack, fn):
    """`pack` with each value in it replaced by `fn(value)`; dict keys and an object's class kept."""
    def one(item):
        return _map_leaves(item, fn) if isinstance(item, Pack) else fn(item)
    if pack.kind in ("dict", "object"):
        head = pack.items[:1] if pack.kind == "object" else ()
        pairs = pack.items[1:] if pack.kind == "object" else pack.items
        return Pack(pack.kind, list(head) + [Pack("tuple", [pair.items[0], one(pair.items[1])]) for pair in pairs])
    return Pack(pack.kind, [one(item) for item in pack.items])


def _leaves(value):
    out = []
    _map_leaves(value, lambda leaf: out.append(leaf) or leaf) if isinstance(value, Pack) else out.append(value)
    return out


def _same_structure(a, b):
    if not (isinstance(a, Pack) and isinstance(b, Pack)):
        return not isinstance(a, Pack) and not isinstance(b, Pack)
    if a.kind != b.kind or len(a.items) != len(b.items):
        return False
    if a.kind in ("dict", "object"):
        start = 1 if a.kind == "object" else 0
        if a.kind == "object" and a.items[0].value is not b.items[0].value:
            return False
        return all(x.items[0].value == y.items[0].value and _same_structure(x.items[1], y.items[1])
                   for x, y in zip(a.items[start:], b.items[start:]))
    return all(_same_structure(x, y) for x, y in zip(a.items, b.items))


def _is_list(value):
    return isinstance(value, Pack) and value.kind == "list"


def _lists_differ(a, b):
    """Two values of a name after two paths, where one is a list of another length (or a run-time list)."""
    if a is UNBOUND or b is UNBOUND or not (_is_list(a) or _is_list(b)):
        return False
    return not (_is_list(a) and _is_list(b) and len(a.items) == len(b.items))


def _reads(body, var):
    return any(var in statement_uses(stmt) for stmt in all_statements(body))


def prune_unbound(body):
    """Drop the merges of names that some path leaves unbound, where nothing reads them (in place).

    Lowering merges every name a loop or one branch assigns; most are temporaries that
    are never read after their region.
    """
    while True:
        optional = _maybe_unbound(body)
        uses = Counter()
        for stmt in all_statements(body):
            uses.update(statement_uses(stmt))
            if isinstance(stmt, Loop):
                uses.update(header for _, header in stmt.exits)
                for phi in stmt.carried:  # a header that only carries itself round is not read
                    if phi.values[1] is phi.target:
                        uses[phi.target] -= 1
        dead = {var for var in optional if uses[var] <= 0}
        if not dead:
            return body
        for stmt in all_statements(body):
            if isinstance(stmt, If):
                stmt.merges = [m for m in stmt.merges if m.target not in dead]
            elif isinstance(stmt, Loop):
                stmt.exits = [(out, header) for out, header in stmt.exits if out not in dead]
                stmt.carried = [phi for phi in stmt.carried if phi.target not in dead]


def _maybe_unbound(body):
    """Values that are UNBOUND on some path: merges with UNBOUND and whatever merges those."""
    phis = []
    for stmt in all_statements(body):
        if isinstance(stmt, If):
            phis += [(m.target, m.values) for m in stmt.merges]
        elif isinstance(stmt, Loop):
            phis += [(phi.target, phi.values) for phi in stmt.carried]
            phis += [(out, (header,)) for out, header in stmt.exits]
    found = set()
    changed = True
    while changed:
        changed = False
        for target, values in phis:
            if target not in found and any(isinstance(v, Unbound) or v in found for v in values):
                found.add(target)
                changed = True
    return found
