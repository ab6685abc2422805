"""Desugaring: rewrite a function's AST so that every region has one entry and one exit.

Before SSA construction, `break`, `continue` and early `return` become flags
and guards, and every `for` loop becomes `for k in range(...)`:

    for x in xs:            for k in range(len(xs)):
        ...            ->       x = xs[k]
                                ...

    for i, (a, b) in enumerate(zip(xs, reversed(ys))):    for k in range(min(len(xs), len(ys))):
        ...                                        ->         i = k
                                                              a = xs[k]
                                                              b = ys[-1 - k]

    while c:                broke = False
        if d:                   while not broke and c:
            break      ->           if d:
        work()                          broke = True
                                    if not broke:
                                        work()

A `for` loop that can break keeps its range and carries its flag as a
`stop_flag`: lowering makes the flag the loop's exit test, checked at the start
of each trip, so the loop stops where Python's would. What remains is
structured control flow that maps directly onto the structured SSA form.
"""
import copy

import gast

from .errors import UnsupportedSyntax, located


def desugar(node, info):
    """Rewrite the FunctionDef `node` in place; returns it."""
    names = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
    names.update(a.id for a in node.args.args)
    Desugar(names, info).function(node)
    return node


def _name(identifier, store=False):
    return gast.Name(identifier, gast.Store() if store else gast.Load(), None, None)


def _assign(identifier, value):
    return gast.Assign([_name(identifier, store=True)], value, None)


def _const(value):
    return gast.Constant(value, None)


def _not(identifier):
    return gast.UnaryOp(gast.Not(), _name(identifier))


def _call(func, *args):
    """A call of the node `func`, or of the builtin named `func`."""
    return gast.Call(_builtin(func) if isinstance(func, str) else func, list(args), [])


def _builtin(identifier):
    """The name of a builtin the rewrite calls (`range(len(xs))`), marked as the builtin's: the
    function may use the name for something of its own (a parameter `len`), which lowering skips."""
    node = _name(identifier)
    node.builtin = identifier
    return node


def _located(new, old):
    """Give new nodes (a node or a list of them) the source position of `old`, for error messages."""
    for root in (new if isinstance(new, list) else [new]):
        for node in gast.walk(root):
            if getattr(node, "lineno", None) is None and hasattr(old, "lineno"):
                gast.copy_location(node, old)
    return new


class Loop:
    """What a loop being rewritten needs: its break flag, its skip-the-rest flag."""

    def __init__(self, broke, skip):
        self.broke, self.skip = broke, skip


class Desugar:
    def __init__(self, names, info):
        self.names = set(names)
        self.info = info
        self.loops = []
        self.returned = None
        self.result = None
        self.flags = set()  # the names of the flags this rewrite introduces

    def fresh(self, hint):
        name, n = hint, 0
        while name in self.names:
            n += 1
            name = f"{hint}_{n}"
        self.names.add(name)
        return name

    # -- the function --------------------------------------------------------

    def function(self, node):
        body = list(node.body)
        returns = [n for n in gast.walk(node) if isinstance(n, gast.Return)]
        single_final = len(returns) == 1 and body and body[-1] is returns[0]
        if returns and not single_final:
            self.returned = self.flag("returned")
            self.result = self.fresh("result")
            prologue = [_assign(self.returned, _const(False)), _assign(self.result, _const(None))]
            node.body = _located(prologue, node) + self.block(body) + [
                _located(gast.Return(_name(self.result)), returns[-1])]
        else:
            node.body = self.block(body)
        _drop_unread(node, self.flags)

    def flag(self, hint):
        name = self.fresh(hint)
        self.flags.add(name)
        return name

    # -- blocks: guard what follows a statement that may leave early --------------

    def block(self, statements):
        out = []
        for index, stmt in enumerate(statements):
            rest = statements[index + 1:]
            if rest and isinstance(stmt, gast.If) and (_always_leaves(stmt.body) or _always_leaves(stmt.orelse)):
                # what follows runs only on the path that stays: move it there, no flag needed
                if _always_leaves(stmt.body):
                    stmt = gast.copy_location(gast.If(stmt.test, stmt.body, stmt.orelse + rest), stmt)
                else:
                    stmt = gast.copy_location(gast.If(stmt.test, stmt.body + rest, stmt.orelse), stmt)
                rest = []
            rewritten, exits = self.statement(stmt)
            out.extend(rewritten)
            if exits and rest:
                guard = self.guard_flag(exits)
                out.append(_located(gast.If(_not(guard), self.block(rest), []), rest[0]))
            if not rest or exits:
                break
        return out

    def guard_flag(self, exits):
        """The flag that says 'skip the rest of this block' after a statement that may exit."""
        if self.loops:
            return self.loops[-1].skip
        return self.returned

    def statement(self, stmt):
        """The rewritten statement(s), and whether they may leave the enclosing block early."""
        if isinstance(stmt, gast.Return):
            if self.returned is None:
                return [stmt], False
            value = stmt.value if stmt.value is not None else _const(None)
            out = [_assign(self.result, value), _assign(self.returned, _const(True))]
            for loop in self.loops:
                out += [_assign(loop.broke, _const(True)), _assign(loop.skip, _const(True))]
            return _located(out, stmt), True
        if isinstance(stmt, gast.Break):
            loop = self.innermost(stmt, "break")
            return _located([_assign(loop.broke, _const(True)), _assign(loop.skip, _const(True))], stmt), True
        if isinstance(stmt, gast.Continue):
            loop = self.innermost(stmt, "continue")
            return _located([_assign(loop.skip, _const(True))], stmt), True
        if isinstance(stmt, gast.If):
            then, orelse = self.block(stmt.body), self.block(stmt.orelse)
            exits = _may_exit(stmt.body) or _may_exit(stmt.orelse)
            return [_located(gast.If(stmt.test, then, orelse), stmt)], exits
        if isinstance(stmt, gast.For):
            return self.for_loop(stmt), self.returned is not None and _has_return(stmt.body)
        if isinstance(stmt, gast.While):
            return self.while_loop(stmt), self.returned is not None and _has_return(stmt.body)
        return [stmt], False

    def innermost(self, stmt, what):
        if not self.loops or self.loops[-1].skip is None:
            raise located(UnsupportedSyntax, f"`{what}` outside a loop", self.info.location(stmt))
        return self.loops[-1]

    # -- loops ---------------------------------------------------------------

    def loop_body(self, body, loop):
        """The loop body with its exits rewritten; `skip` is reset at the start of each iteration."""
        self.loops.append(loop)
        try:
            rewritten = self.block(body)
        finally:
            self.loops.pop()
        if loop.skip is not None:
            rewritten = [_assign(loop.skip, _const(False))] + rewritten
        return rewritten

    def while_loop(self, stmt):
        if stmt.orelse:
            raise located(UnsupportedSyntax, "adjoint does not support `while ... else`", self.info.location(stmt),
                          "Move the `else` block after the loop, guarded by a flag.")
        exits, continues = self.exits(stmt.body)
        loop = Loop(self.flag("broke") if exits else None, self.flag("skip") if exits or continues else None)
        body = self.loop_body(stmt.body, loop)
        if not exits:
            return [_located(gast.While(stmt.test, body, []), stmt)]
        test = gast.BoolOp(gast.And(), [_not(loop.broke), stmt.test])
        if isinstance(stmt.test, gast.Constant) and stmt.test.value:  # `while True:`
            test = _not(loop.broke)
        return _located([_assign(loop.broke, _const(False)), gast.While(test, body, [])], stmt)

    def for_loop(self, stmt):
        if stmt.orelse:
            raise located(UnsupportedSyntax, "adjoint does not support `for ... else`", self.info.location(stmt),
                          "Move the `else` block after the loop, guarded by a flag.")
        setup, counter, iterations, bind, sequences = self.iteration(stmt)
        exits, continues = self.exits(stmt.body)
        loop = Loop(self.flag("broke") if exits else None, self.flag("skip") if exits or continues else None)
        body = self.loop_body(stmt.body, loop)
        rewritten = gast.For(_name(counter, store=True), iterations, bind + body, [], None)
        rewritten.sequences = sequences  # lowering unrolls a loop over a tuple or list of values
        # a loop that can break stops at the start of the trip after the one that set the flag
        rewritten.stop_flag = loop.broke if exits else None
        rewritten.unrolled_if_known = getattr(stmt, "unrolled_if_known", False)  # (a comprehension's: see lower_for)
        prologue = [_assign(loop.broke, _const(False))] if exits else []
        return _located(setup + prologue + [rewritten], stmt)

    def exits(self, body):
        """(does the body leave this loop early, does it skip to the next iteration)."""
        leaves = _leaves_loop(body, self.returned is not None)
        continues = any(isinstance(n, gast.Continue) for n in _walk_this_loop(body))
        return leaves, continues

    def iteration(self, stmt):
        """(setup statements, counter name, `range(...)` to iterate, statements binding the target,
        names of the sequences iterated over)."""
        target, iterable = stmt.target, stmt.iter
        if (_is_call_to(iterable, "range") or _is_reversed_range(iterable)) and isinstance(target, gast.Name):
            return [], target.id, iterable, [], []
        counter = self.fresh("k")
        setup, sequences = [], []
        # the sequences are read from names the loop does not rebind (`for x in x:` reads the old x)
        rebound = _stored(stmt.body) | _stored([gast.Assign([target], _const(None), None)])
        length, item = self.items(iterable, rebound, setup, sequences)
        bind = _bind(target, item(lambda: _name(counter)))
        return setup, counter, _call("range", length), _located(bind, stmt), sequences

    def items(self, iterable, rebound, setup, sequences):
        """(the number of items of `iterable`, a function giving the item at a position) for a
        sequence, a range, and `zip`, `enumerate` and `reversed` of those, nested as deeply as they
        come; `setup` gets the assignments naming the sequences, `sequences` their names. A position
        is a function that makes its expression (each use of it is a node of its own)."""
        if _is_call_to(iterable, "zip", keywords=False) and iterable.args:
            parts = [self.items(arg, rebound, setup, sequences) for arg in iterable.args]
            lengths = [length for length, _ in parts]
            length = lengths[0] if len(lengths) == 1 else _call("min", *lengths)
            return length, lambda k: gast.Tuple([item(k) for _, item in parts], gast.Load())
        if _is_call_to(iterable, "enumerate", keywords=False) and len(iterable.args) in (1, 2) \
                or _is_call_to(iterable, "enumerate", keywords=True) and len(iterable.args) == 1 \
                and [k.arg for k in iterable.keywords] == ["start"]:
            start = iterable.args[1] if len(iterable.args) == 2 else \
                iterable.keywords[0].value if iterable.keywords else None
            length, item = self.items(iterable.args[0], rebound, setup, sequences)
            if start is not None and not isinstance(start, gast.Constant):
                start_name, hoisted = self.hoist(start, "start", rebound)
                setup += hoisted
                start = _name(start_name)

            def numbered(k):
                number = k() if start is None else gast.BinOp(k(), gast.Add(), copy.deepcopy(start))
                return gast.Tuple([number, item(k)], gast.Load())
            return length, numbered
        if _is_call_to(iterable, "reversed", keywords=False) and len(iterable.args) == 1:
            inner = iterable.args[0]
            if _is_call_to(inner, "zip", keywords=None) or _is_call_to(inner, "enumerate", keywords=None):
                raise located(UnsupportedSyntax, f"adjoint does not support `reversed` of `{inner.func.id}(...)`",
                              self.info.location(inner),
                              f"Python cannot reverse a `{inner.func.id}` either: reverse the sequences inside "
                              f"it (`zip(reversed(a), reversed(b))`).")
            length, item = self.items(inner, rebound, setup, sequences)
            # item -1 - k: the last first (a negative index counts from the end, as Python's)
            return length, lambda k: item(lambda: gast.BinOp(_const(-1), gast.Sub(), k()))
        if any(_is_call_to(iterable, name, keywords=None) for name in ("zip", "enumerate", "reversed")):
            raise located(UnsupportedSyntax, f"adjoint does not support this call of `{iterable.func.id}` in a "
                          "`for` loop", self.info.location(iterable),
                          "Loop over `zip(a, b, ...)`, `enumerate(a)` or `enumerate(a, start)`, `reversed(a)` of "
                          "sequences, arrays and ranges, without other keyword arguments.")
        sequence, hoisted = self.hoist(iterable, "sequence", rebound)
        setup += hoisted
        sequences.append(sequence)
        return _call("len", _name(sequence)), lambda k: _iterated_item(sequence, k())

    def hoist(self, expr, hint, rebound):
        """A name for the sequence a loop iterates over: the one it has, unless the loop rebinds it
        (Python iterates over the value the loop started with)."""
        if isinstance(expr, gast.Name) and expr.id not in rebound:
            return expr.id, []
        name = self.fresh(hint)
        return name, [_located(_assign(name, expr), expr)]


def _iterated_item(sequence, position):
    """`sequence[position]`, marked as the item a loop takes: lowering reads the key at `position`
    where `sequence` is a dict (`for k in d` iterates over the keys, `d[0]` would be a key 0)."""
    node = gast.Subscript(_name(sequence), position, gast.Load())
    node.iterated = True
    return node


def _bind(target, value):
    """`target = value` as assignments, one per name where the target unpacks a tuple written out
    (`a, b = xs[k], ys[k]` as `a = xs[k]`, `b = ys[k]`: each value then carries its name)."""
    if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, gast.Tuple) \
            and len(target.elts) == len(value.elts) and not any(isinstance(e, gast.Starred) for e in target.elts):
        return [stmt for elt, item in zip(target.elts, value.elts) for stmt in _bind(elt, item)]
    return [gast.Assign([target], value, None)]


def _always_leaves(statements):
    """Does every path through these statements end in `return`, `break` or `continue`?"""
    return any(isinstance(stmt, (gast.Return, gast.Break, gast.Continue))
               or isinstance(stmt, gast.If) and _always_leaves(stmt.body) and _always_leaves(stmt.orelse)
               for stmt in statements)


def _drop_unread(node, flags):
    """Remove the assignments to flags nothing reads (a flag the rewrite did not need after all)."""
    read = {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    read |= {n.stop_flag for n in gast.walk(node) if getattr(n, "stop_flag", None)}  # a loop's exit test
    unread = flags - read

    def keep(stmt):
        return not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id in unread)

    stack = [node]
    while stack:
        owner = stack.pop()
        for field in ("body", "orelse"):
            statements = getattr(owner, field, None)
            if isinstance(statements, list):
                statements[:] = [stmt for stmt in statements if keep(stmt)]
                stack.extend(statements)


def _is_reversed_range(node):
    """`reversed(range(...))`: a range run backwards (what backward sweeps loop over)."""
    return _is_call_to(node, "reversed") and len(node.args) == 1 and _is_call_to(node.args[0], "range")


def _is_call_to(node, name, keywords=False):
    """Is `node` a call of the builtin `name` (without keyword arguments, unless `keywords` is None)?"""
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == name \
        and (keywords is None or bool(node.keywords) == keywords)


def _walk_same_function(statements):
    """Nodes of these statements, not descending into nested functions or lambdas."""
    stack = list(statements)
    while stack:
        node = stack.pop()
        yield node
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
                stack.append(child)


def _stored(statements):
    """The names these statements assign."""
    return {n.id for n in _walk_same_function(statements) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def _has_return(statements):
    return any(isinstance(n, gast.Return) for n in _walk_same_function(statements))


def _may_exit(statements):
    """May these statements leave the enclosing block: `return` at any depth, or a `break` or
    `continue` of the enclosing loop (not one of a loop nested in them)?"""
    return _has_return(statements) \
        or any(isinstance(n, (gast.Break, gast.Continue)) for n in _walk_this_loop(statements))


def _walk_this_loop(body):
    """Nodes of a loop body that belong to this loop: not inside nested loops or functions."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (gast.For, gast.While, gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            stack.extend(gast.iter_child_nodes(node))


def _leaves_loop(body, function_has_early_return):
    """Does this loop body `break` out of this loop, or `return` from inside it (at any depth)?"""
    if any(isinstance(n, gast.Break) for n in _walk_this_loop(body)):
        return True
    return function_has_early_return and _has_return(body)
