"""The computational graph of a straight-line function, drawn like the backprop lecture figures.

    g = adjoint.graph(f, -2.0, 5.0, -4.0)
    g.render("f.svg")        # or .png / .pdf; needs Graphviz's `dot` program
    print(g.dot)             # the DOT text

Each operation of the function's SSA form is a node (`+`, `*`, `exp`, `1/·`: constant
operands are folded into the label, `·` marks where the value goes), each parameter is a
node on the left, and each value travels on the edge leaving the node that made it, with
its forward value in green above the edge and the gradient of the output with respect to
it in red below. A value used more than once leaves its producer on one edge (value and
total gradient) that splits at a dot into one edge per use, each carrying the part of the
gradient that flows back along it: the parts add up to the total.

How the numbers are computed, exactly and without generating code:

- forward values: the lowered SSA statements are evaluated one by one on the arguments;
- gradients: a small reverse pass walks the evaluated statements backwards and, for each
  operand, evaluates the very vector-Jacobian product template the compiler would inline
  (`adjoint.rules`), bound to the recorded numbers. So every intermediate value gets its
  exact gradient (adjoint.grad only returns the inputs'), from the same rules as the
  generated code, and contributions of a value used several times add up.

Graphs are drawn for straight-line code only: with a loop or a branch the picture would
depend on which way control went, so such functions raise UnsupportedSyntax.

Why the edges are drawn through label nodes: Graphviz puts an edge label beside the edge,
so both numbers would sit above it. To get the lecture's layout (value above, gradient
below) each edge passes through a small table node whose middle cell's top border continues
the edge line, with the value in the row above and the gradient in the row below.
"""
import html
import operator
import shutil
import subprocess
from pathlib import Path

import numpy as np

from . import codegen
from .activity import leaves_of_operand, useful, varied
from .errors import AdjointError, InvalidArgument, UnsupportedSyntax, located
from .ir import INFIX, PREFIX, Apply, Assign, Attribute, Const, Global, If, Loop, Method, Pack, Ref, Var, hashable
from .reverse import no_rule
from .rules import instantiate, rule_for
from .runtime import unbroadcast
from .transform import bind_arguments, check_differentiable, lowered, normalize_wrt

VALUE_COLOR = "#1a7f1a"     # green, as in the lecture figures
GRADIENT_COLOR = "#cc0000"  # red
COMMUTATIVE = {operator.add, operator.mul}
HOLE = "\u00b7"             # `·`: where an operation's value operand goes in a label like `1/·`
NAMED_PREFIX = {operator.neg: "neg", operator.pos: "pos", operator.not_: "not"}


class GraphvizNotFound(AdjointError):
    """Rendering a graph needs the Graphviz `dot` program, and it is not installed."""


class Node:
    """A box in the picture. `kind`: "input", "op", "output" or "branch" (where a value splits)."""

    __slots__ = ("id", "label", "kind")

    def __init__(self, id, label, kind):
        self.id, self.label, self.kind = id, label, kind

    def __repr__(self):
        return f"Node({self.id!r}, {self.label!r}, {self.kind!r})"


class Edge:
    """A value on its way from `source` to `target` (node ids): its SSA `name`, forward `value`
    and the gradient flowing back along this edge (`grad`, None where no gradient flows)."""

    __slots__ = ("source", "target", "name", "value", "grad")

    def __init__(self, source, target, name, value, grad):
        self.source, self.target, self.name, self.value, self.grad = source, target, name, value, grad

    def __repr__(self):
        return f"Edge({self.source!r} -> {self.target!r}, {self.name}={self.value!r}, grad={self.grad!r})"


class Graph:
    """The evaluated graph of one call. `values` and `grads` map SSA names (as `adjoint.ssa` prints
    them) to forward values and to gradients of the output; `value` is the output."""

    def __init__(self, name, nodes, edges, values, grads, value, digits):
        self.name, self.nodes, self.edges = name, nodes, edges
        self.values, self.grads, self.value = values, grads, value
        self.digits = digits

    # -- DOT -----------------------------------------------------------------

    @property
    def dot(self):
        """The graph as Graphviz DOT text."""
        lines = [f"digraph {_quote(self.name)} {{",
                 '  graph [rankdir=LR, ordering=in, nodesep=0.25, ranksep=0.3, fontname="Helvetica"];',
                 '  node [fontname="Helvetica", fontsize=14];',
                 '  edge [fontname="Helvetica", arrowsize=0.6];']
        for node in self.nodes:
            lines.append(f"  {_quote(node.id)} [{_node_style(node)}];")
        for number, edge in enumerate(self.edges):
            label = f"e{number}"
            lines.append(f"  {_quote(label)} [shape=plaintext, margin=0, width=0, height=0, "
                         f"label=<{self._edge_table(edge)}>];")
            lines.append(f"  {_quote(edge.source)} -> {_quote(label)}:c:w [arrowhead=none];")
            lines.append(f"  {_quote(label)}:c:e -> {_quote(edge.target)};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _edge_table(self, edge):
        # the middle cell's top border is the edge line: value above it, gradient below
        rows = [f'<tr><td cellpadding="1"><font color="{VALUE_COLOR}">'
                f'{html.escape(format_value(edge.value, self.digits))}</font></td></tr>',
                '<tr><td port="c" height="0" border="1" sides="T"></td></tr>']
        if edge.grad is not None:
            rows.append(f'<tr><td cellpadding="1"><font color="{GRADIENT_COLOR}">'
                        f'{html.escape(format_value(edge.grad, self.digits))}</font></td></tr>')
        return f'<table border="0" cellspacing="0" cellpadding="0">{"".join(rows)}</table>'

    def __str__(self):
        return self.dot

    def __repr__(self):
        return f"<adjoint.Graph of {self.name}: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    # -- pictures ------------------------------------------------------------

    def render(self, path, format=None):
        """Write the picture to `path` with Graphviz: SVG, PNG or PDF, by the file's extension
        unless `format` says. Returns the path."""
        path = Path(path)
        format = (format or path.suffix.lstrip(".")).lower()
        if format not in ("svg", "png", "pdf"):
            raise InvalidArgument(f"cannot render {path.name!r}: give a file ending in .svg, .png or .pdf")
        path.write_bytes(self._run_dot(format))
        return path

    def svg(self):
        """The picture as SVG text (needs Graphviz)."""
        return self._run_dot("svg").decode("utf-8")

    def _repr_svg_(self):
        """Jupyter shows the picture; without Graphviz it falls back to the text repr."""
        if shutil.which("dot") is None:
            return None
        return self.svg()

    def _run_dot(self, format):
        dot = shutil.which("dot")
        if dot is None:
            raise GraphvizNotFound(
                "drawing a graph needs the Graphviz `dot` program, and it is not on PATH. Install Graphviz "
                "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; see graphviz.org), "
                "or use graph.dot for the DOT text.")
        options = ["-Gdpi=144"] if format == "png" else []  # crisp on high-resolution screens
        done = subprocess.run([dot, f"-T{format}", *options], input=self.dot.encode("utf-8"), capture_output=True)
        if done.returncode != 0:
            raise AdjointError(f"Graphviz `dot` failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout


def graph(fn, *args, wrt=None, seed=None, digits=2):
    """The computational graph of the straight-line function `fn` at `args`, with every value
    and its gradient: draw it with `.render("f.svg")`, read it with `.dot`.

    `wrt`: the parameters (indices or names) whose influence the gradients follow; by default
    all of them. `seed`: the gradient of the output (default 1.0; for an array output, ones:
    the gradient of its sum). `digits`: decimals shown in the picture.
    """
    if hasattr(fn, "__adjoint_transform__"):
        raise InvalidArgument("adjoint.graph draws a Python function's graph, not a derivative's; "
                              "pass the function itself")
    check_differentiable(fn)
    function = lowered(fn)
    body, result = function.body[:-1], function.result
    for stmt in body:
        if isinstance(stmt, (If, Loop)):
            what = "a loop" if isinstance(stmt, Loop) else "a branch"
            raise located(UnsupportedSyntax,
                          f"adjoint.graph draws straight-line code only, and {function.name} has {what}",
                          stmt.loc, "Draw a straight-line part of the function, or read the whole "
                          "derivative with adjoint.source(adjoint.grad(f)).")
    if isinstance(result, Pack):
        raise InvalidArgument(f"adjoint.graph draws a function with one output, and {function.name} "
                              "returns a tuple; draw a function returning one of its items")
    params = [p.hint for p in function.params]
    args = bind_arguments(f"graph of {function.name}", params, function.defaults, (), args, {})
    indices = range(len(params)) if wrt is None else normalize_wrt(wrt, params, function.name)[0]
    user_globals = getattr(getattr(fn, "__func__", fn), "__globals__", {})

    values = dict(zip(function.params, args))
    for stmt in body:
        value = evaluate(stmt.expr, values, user_globals)
        if stmt.target is not None:
            values[stmt.target] = value

    output = evaluate(result, values, user_globals)
    if seed is None:
        seed = 1.0 if np.ndim(output) == 0 else np.ones(np.shape(output))
    grads, parts = backward(function, body, result, [function.params[i] for i in indices], values, seed,
                            user_globals)
    names = _ssa_names(function)
    return _build(function, body, result, values, grads, parts, output, names, digits)


# -- evaluation --------------------------------------------------------------

def evaluate(expr, values, user_globals):
    """The value of an IR expression, its variables read from `values`."""
    if isinstance(expr, Var):
        return values[expr]
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Global):  # a module global is read when the code runs, as generated code does
        return user_globals.get(expr.name, expr.value)
    if isinstance(expr, Ref):
        return expr.obj
    if isinstance(expr, Pack):
        items = [evaluate(item, values, user_globals) for item in expr.items]
        return slice(*items) if expr.kind == "slice" else list(items) if expr.kind == "list" else tuple(items)
    if isinstance(expr, Apply):
        args = [evaluate(a, values, user_globals) for a in expr.args]
        kwargs = {k: evaluate(v, values, user_globals) for k, v in expr.kwargs}
        return expr.fn(*args, **kwargs)
    raise TypeError(f"cannot evaluate {expr!r}")


def slots(expr):
    """The variable operands of an operation, in order: (var, rule parameter name, index in a
    sequence parameter or None). The edges into an operation node are drawn in this order."""
    if isinstance(expr, Var):
        return [(expr, None, None)]
    if not isinstance(expr, Apply):
        return [(v, None, None) for v in leaves_of_operand(expr) if isinstance(v, Var)]
    rule = rule_for(expr.fn)
    bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
    if bound is None:
        return [(v, None, None) for a in expr.operands() for v in leaves_of_operand(a) if isinstance(v, Var)]
    out = []
    for param in rule.params:
        value = bound[param.name]
        if isinstance(value, Var):
            out.append((value, param.name, None))
        elif isinstance(value, Pack):
            for i, item in enumerate(value.items):
                index = i if param.sequence and isinstance(item, Var) else None
                out.extend((v, param.name, index) for v in leaves_of_operand(item) if isinstance(v, Var))
    return out


def backward(function, body, result, inputs, values, seed, user_globals):
    """Gradients of the output: ({var: total gradient}, {(statement index, slot index): the part
    flowing back along that operand}), by evaluating the rules' vector-Jacobian products."""
    outputs = [v for v in leaves_of_operand(result) if isinstance(v, Var)]
    active = varied(body, inputs) & useful(body, outputs)
    grads, parts = {}, {}
    if isinstance(result, Var) and result in active:
        grads[result] = seed

    def add(var, contribution):
        grads[var] = contribution if var not in grads else grads[var] + contribution

    g = Var("g")  # holds the adjoint of the statement being differentiated
    for index in reversed(range(len(body))):
        stmt = body[index]
        if not isinstance(stmt, Assign) or stmt.target not in grads:
            continue
        expr = stmt.expr
        if isinstance(expr, Var):  # a copy passes its gradient on unchanged
            if expr in active:
                parts[index, 0] = grads[stmt.target]
                add(expr, grads[stmt.target])
            continue
        if not isinstance(expr, Apply):
            continue
        rule = rule_for(expr.fn)
        bound = rule.bind(expr.args, expr.kwargs) if rule is not None else None
        if bound is None:
            raise no_rule(stmt, rule)
        env = dict(bound, g=g, ans=stmt.target)
        scope = dict(values)
        scope[g] = grads[stmt.target]
        broadcasting = rule.elementwise and len(rule.params) > 1
        const = {p.name for p in rule.params if p.const}
        for number, (var, param, item) in enumerate(slots(expr)):
            if var not in active or param is None or param in const:
                continue
            if item is None and bound[param] is not var:
                raise no_rule(stmt, rule, param)  # a value inside a tuple argument: no rule reaches it
            template = rule.vjp.get(param)
            if template is None:
                raise no_rule(stmt, rule, param)
            which = Const(item) if item is not None else Const(slice(None))  # `:`: the sequence is one value
            contribution = evaluate(instantiate(template, dict(env, i=which)),
                                    scope, user_globals)
            if broadcasting:
                contribution = unbroadcast(contribution, values[var])
            parts[index, number] = contribution
            add(var, contribution)
    return grads, parts


# -- building the picture ----------------------------------------------------

def _ssa_names(function):
    """Each value's name as `adjoint.ssa` prints it (`t1`, `q`, `x_1`)."""
    generator = codegen.Generator(function, function.name, len(function.params), function.reserved,
                                  function.visible, ssa=True)
    generator.plan_names()
    return generator.var_names


def _build(function, body, result, values, grads, parts, output, names, digits):
    nodes, producer = [], {}
    for param in function.params:
        producer[param] = f"in_{names[param]}"
        nodes.append(Node(producer[param], names[param], "input"))
    uses = {}  # var -> [(place of the use, consumer node id, gradient part)]
    for index, stmt in enumerate(body):
        if not isinstance(stmt, Assign) or stmt.target is None:
            continue
        node_id = f"op_{names.get(stmt.target, index)}"
        producer[stmt.target] = node_id
        nodes.append(Node(node_id, operation_label(stmt.expr), "op"))
        for number, (var, _, _) in enumerate(slots(stmt.expr)):
            uses.setdefault(var, []).append(((index, number), node_id, parts.get((index, number))))
    if isinstance(result, Var):
        uses.setdefault(result, []).append(((len(body), 0), "out", grads.get(result)))
        nodes.append(Node("out", function.name, "output"))
    else:
        nodes.append(Node("out", f"{function.name} = {format_value(output, digits)}", "output"))

    placed = []  # (place, edge): Graphviz stacks a node's inputs in the order their edges come
    for var, consumers in uses.items():
        source = producer[var]
        if len(consumers) > 1:  # fan-out: one edge with the total, split at a dot into the uses
            split = f"split_{names[var]}"
            nodes.append(Node(split, "", "branch"))
            placed.append((consumers[0][0], Edge(source, split, names[var], values[var], grads.get(var))))
            source = split
        placed.extend((place, Edge(source, target, names[var], values[var], part))
                      for place, target, part in consumers)
    edges = [edge for _, edge in sorted(placed, key=lambda item: item[0])]  # stable: a split's edge first
    return Graph(function.name, nodes, edges, {names[v]: value for v, value in values.items() if v in names},
                 {names[v]: g for v, g in grads.items() if v in names}, output, digits)


def _node_style(node):
    label = f"label={_quote(node.label)}"
    if node.kind == "op":  # gates are circles, as in the lecture; a long label gets an ellipse
        return f"shape={'circle' if len(node.label) <= 4 else 'ellipse'}, margin=0.04, {label}"
    if node.kind == "branch":
        return "shape=point, width=0.06"
    if node.kind == "input":
        return f"shape=plaintext, fontsize=16, {label}"
    return f"shape=plaintext, fontsize=16, {label}"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- labels ------------------------------------------------------------------

def operation_label(expr):
    """A short label for an operation: `+`, `exp`, `*2`, `1/·`, `[0]`, `sum(·, axis=0)`."""
    if not isinstance(expr, Apply):
        return _show(expr)
    fn, args = expr.fn, expr.args
    symbol = INFIX.get(fn) if hashable(fn) else None
    if symbol is not None and len(args) == 2:
        left, right = args
        if isinstance(left, Var) and isinstance(right, Var):
            return symbol
        if fn in COMMUTATIVE and isinstance(left, Var) != isinstance(right, Var):
            return symbol + _show(right if isinstance(left, Var) else left)     # `+1`, `*2`
        if isinstance(left, Var):
            return symbol + _show(right)                                        # `**2`, `/2`
        return f"{_show(left)}{symbol}{_show(right)}"                           # `1/·`
    if hashable(fn) and fn in NAMED_PREFIX:
        return NAMED_PREFIX[fn]
    if hashable(fn) and fn in PREFIX:
        return PREFIX[fn].strip()
    if fn is operator.getitem:
        return f"[{_show_index(args[1])}]"
    if isinstance(fn, Attribute):
        return f".{fn.name}"
    if isinstance(fn, Method):
        return f".{fn.name}({', '.join(_show(a) for a in args[1:])})"
    name = _callable_name(fn)
    if all(isinstance(a, Var) for a in expr.operands()):
        return name
    parts = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in expr.kwargs]
    return f"{name}({', '.join(parts)})"


def _callable_name(fn):
    qualified = codegen._QUALIFIED.get(id(fn))
    if qualified is not None and qualified[2] is fn:
        return qualified[1]
    return getattr(fn, "__name__", None) or type(fn).__name__


def _show(expr):
    if isinstance(expr, Var):
        return HOLE
    if isinstance(expr, Const):
        value = expr.value
        if isinstance(value, (bool, type(None), str)):
            return repr(value)
        if isinstance(value, (int, float, np.number)) and np.ndim(value) == 0:
            return f"{value:g}"
        return type(value).__name__
    if isinstance(expr, Global):
        return expr.name
    if isinstance(expr, Ref):
        return expr.hint
    if isinstance(expr, Pack):
        inner = ", ".join(_show(item) for item in expr.items)
        if expr.kind == "slice":
            return _show_slice(expr)
        return f"[{inner}]" if expr.kind == "list" else f"({inner})"
    return operation_label(expr)


def _show_slice(pack):
    parts = ["" if isinstance(p, Const) and p.value is None else _show(p) for p in pack.items]
    return ":".join(parts[:2] if len(parts) == 3 and parts[2] == "" else parts)


def _show_index(index):
    if isinstance(index, Pack) and index.kind == "tuple":
        return ", ".join(_show_slice(i) if isinstance(i, Pack) and i.kind == "slice" else _show(i)
                         for i in index.items)
    if isinstance(index, Pack) and index.kind == "slice":
        return _show_slice(index)
    return _show(index)


def format_value(value, digits=2):
    """A number as the picture shows it: `-12`, `0.73`, `1.2e-05`; small arrays in full."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e6:
            return str(int(value))  # the lecture's `-12`, not `-12.00`
        if 10.0 ** -digits <= abs(value) < 1e6:
            return f"{value:.{digits}f}"
        return f"{value:.{max(digits, 1)}g}"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return format_value(value[()], digits)
        if value.size <= 4 and value.ndim == 1:
            return "[" + ", ".join(format_value(v, digits) for v in value) + "]"
        return f"array {'x'.join(map(str, value.shape))}"
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


__all__ = ["graph", "Graph", "Node", "Edge", "GraphvizNotFound"]
