"""adjoint.graph: the computational graph of a straight-line function with every value and
its gradient, drawn like the backprop lecture figures (DESIGN.md's reference figures)."""
import html
import importlib
import math
import re
import shutil

import numpy as np
import pytest

import adjoint
from adjoint.graph import Graph, GraphvizNotFound

graph_module = importlib.import_module("adjoint.graph")  # `adjoint.graph` itself is the function
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz `dot` is not installed (apt-get install graphviz)")


def f(x, y, z):
    q = x + y
    return q * z


def sigmoid(t):
    return 1.0 / (1.0 + math.exp(-t))


def neuron(w0, x0, w1, x1, w2):
    s = w0 * x0 + w1 * x1 + w2
    return sigmoid(s)


def layer(x, W, b):
    h = np.tanh(W @ x + b)          # b broadcasts against a column
    return np.sum(h ** 2) / 2


def fan_out(x, y):
    a = x * y
    return (a + x) * a


def with_loop(x):
    for _ in range(3):
        x = x * 2
    return x


def with_branch(x):
    if x > 0:
        x = -x
    return x


def pair(x):
    return x, x * 2


def edge_numbers(dot):
    """(value, gradient) as drawn on each edge: the green and the red text of each edge's label table."""
    pairs = []
    for line in dot.splitlines():
        if 'port="c"' in line:
            value = re.search(r'color="#1a7f1a">([^<]*)</font>', line).group(1)
            gradient = re.search(r'color="#cc0000">([^<]*)</font>', line)
            pairs.append((value, gradient.group(1) if gradient else None))
    return pairs


def labels(graph, kind):
    return [node.label for node in graph.nodes if node.kind == kind]


# -- the lecture figures -----------------------------------------------------

def test_x_plus_y_times_z_figure():
    g = adjoint.graph(f, -2.0, 5.0, -4.0)
    assert isinstance(g, Graph)
    assert labels(g, "input") == ["x", "y", "z"] and labels(g, "op") == ["+", "*"] and labels(g, "output") == ["f"]
    assert g.value == -12.0
    assert g.values == {"x": -2.0, "y": 5.0, "z": -4.0, "q": 3.0, "t1": -12.0}
    assert g.grads == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "t1": 1.0}
    assert sorted(edge_numbers(g.dot)) == sorted([("-2", "-4"), ("5", "-4"), ("3", "-4"), ("-4", "3"), ("-12", "1")])
    # each edge runs from its producer to its consumer
    assert [(e.source, e.target, e.name) for e in g.edges] == [
        ("in_x", "op_q", "x"), ("in_y", "op_q", "y"), ("op_q", "op_t1", "q"), ("in_z", "op_t1", "z"),
        ("op_t1", "out", "t1")]
    assert str(g) == g.dot and g.dot.startswith('digraph "f" {')


def test_sigmoid_neuron_figure():
    g = adjoint.graph(neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    assert round(g.value, 2) == 0.73
    assert {name: round(g.grads[name], 2) for name in ("w0", "x0", "w1", "x1", "w2")} == \
        {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    # sigmoid is inlined into the lecture's gates: *-1 (neg), exp, +1, 1/x
    assert labels(g, "op") == ["*", "*", "+", "+", "neg", "exp", "+1", "1/\u00b7"]
    drawn = edge_numbers(g.dot)
    for expected in [("2", "-0.20"), ("-1", "0.39"), ("-3", "-0.39"), ("-2", "-0.59"), ("-3", "0.20"),
                     ("4", "0.20"), ("1", "0.20"), ("-1", "-0.20"), ("0.37", "-0.53"), ("1.37", "-0.53"),
                     ("0.73", "1")]:
        assert expected in drawn
    exact = adjoint.grad(neuron, wrt=(0, 1, 2, 3, 4))(2.0, -1.0, -3.0, -2.0, -3.0)
    assert tuple(g.grads[n] for n in ("w0", "x0", "w1", "x1", "w2")) == pytest.approx(exact, rel=1e-15)


# -- the numbers are exact ---------------------------------------------------

def test_array_gradients_equal_adjoints_including_broadcasting():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal((2, 1))
    g = adjoint.graph(layer, x, W, b)
    expected = adjoint.grad(layer, wrt=(0, 1, 2))(x, W, b)
    for name, grad in zip(("x", "W", "b"), expected):
        np.testing.assert_allclose(g.grads[name], grad, rtol=1e-14)
        assert np.shape(g.grads[name]) == np.shape(g.values[name])
    assert g.value == pytest.approx(layer(x, W, b))
    assert "@" in labels(g, "op") and "tanh" in labels(g, "op") and "**2" in labels(g, "op")


def test_fan_out_splits_and_the_parts_add_up():
    g = adjoint.graph(fan_out, 2.0, 3.0)
    assert g.grads["x"] == 48.0 and g.grads["y"] == 28.0  # d/dx (xy + x) xy = 2xy^2 + 2xy ... at (2, 3)
    assert len(labels(g, "branch")) == 2  # x and a = x*y are each used twice
    for name in ("x", "a"):
        into_split = [e for e in g.edges if e.name == name and e.target.startswith("split_")]
        out_of_split = [e for e in g.edges if e.name == name and e.source.startswith("split_")]
        assert len(into_split) == 1 and len(out_of_split) == 2
        assert into_split[0].grad == g.grads[name] == sum(e.grad for e in out_of_split)


def test_wrt_follows_only_the_chosen_inputs():
    g = adjoint.graph(f, -2.0, 5.0, -4.0, wrt="z")
    assert g.grads == {"z": 3.0, "t1": 1.0}
    assert sorted(edge_numbers(g.dot)) == sorted([("-2", None), ("5", None), ("3", None), ("-4", "3"),
                                                  ("-12", "1")])


def test_number_formatting():
    fmt = graph_module.format_value
    assert [fmt(v) for v in (-12.0, 3, 0.7310585, -0.19661, 1.5e-5, np.float32(2.5))] == \
        ["-12", "3", "0.73", "-0.20", "1.5e-05", "2.50"]
    assert fmt(np.array([1.0, -0.5])) == "[1, -0.50]" and fmt(np.zeros((4, 3))) == "array 4x3"
    assert fmt(0.123456, digits=4) == "0.1235"


# -- what it refuses ---------------------------------------------------------

@pytest.mark.parametrize("fn, what", [(with_loop, "has a loop"), (with_branch, "has a branch")])
def test_loops_and_branches_are_refused(fn, what):
    with pytest.raises(adjoint.UnsupportedSyntax, match="graphs are drawn for straight-line code|straight-line") as info:
        adjoint.graph(fn, 1.0)
    assert what in str(info.value) and "test_graph.py" in str(info.value)


def test_other_refusals():
    with pytest.raises(adjoint.InvalidArgument, match="returns a tuple"):
        adjoint.graph(pair, 1.0)
    with pytest.raises(adjoint.InvalidArgument, match="not a derivative"):
        adjoint.graph(adjoint.grad(f), 1.0, 2.0, 3.0)
    with pytest.raises(adjoint.InvalidArgument, match="has no parameter 'w'"):
        adjoint.graph(f, 1.0, 2.0, 3.0, wrt="w")
    with pytest.raises(adjoint.InvalidArgument, match="missing the argument 'z'"):
        adjoint.graph(f, 1.0, 2.0)


# -- pictures ----------------------------------------------------------------

@needs_dot
def test_render_svg_and_png_with_graphviz(tmp_path):
    g = adjoint.graph(f, -2.0, 5.0, -4.0)
    svg = g.render(tmp_path / "f.svg")
    text = html.unescape(svg.read_text())
    assert "<svg" in text
    # on every edge the value (green) sits above the gradient (red): SVG's y grows downwards
    numbers = re.findall(r'<text [^>]*y="([-\d.]+)"[^>]*fill="(#1a7f1a|#cc0000)">([^<]*)</text>', text)
    values, grads = numbers[::2], numbers[1::2]
    assert {colour for _, colour, _ in values} == {"#1a7f1a"} and {colour for _, colour, _ in grads} == {"#cc0000"}
    assert sorted((v[2], g[2]) for v, g in zip(values, grads)) == \
        sorted([("-2", "-4"), ("5", "-4"), ("3", "-4"), ("-4", "3"), ("-12", "1")])
    assert all(float(v[0]) < float(g[0]) for v, g in zip(values, grads))
    assert g._repr_svg_().startswith("<?xml") or "<svg" in g._repr_svg_()
    png = g.render(str(tmp_path / "f.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(adjoint.InvalidArgument, match=".svg, .png or .pdf"):
        g.render(tmp_path / "f.jpeg")


def test_without_graphviz_render_says_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    g = adjoint.graph(f, -2.0, 5.0, -4.0)
    with pytest.raises(GraphvizNotFound, match="install Graphviz|Install Graphviz") as info:
        g.render(tmp_path / "f.svg")
    assert "apt-get install graphviz" in str(info.value) and isinstance(info.value, adjoint.AdjointError)
    assert g._repr_svg_() is None
    assert not (tmp_path / "f.svg").exists()


def divide_then_scale(x, y):
    t = y + 1.0
    return x / y * t


def test_operands_enter_each_operation_in_order():
    # Graphviz stacks a node's inputs in the order of their edges (ordering=in): x above y in x / y
    g = adjoint.graph(divide_then_scale, 3.0, 2.0)
    into_divide = [e.name for e in g.edges if e.target == "op_t1"]
    assert into_divide == ["x", "y"]
    assert "ordering=in" in g.dot
    assert g.grads["y"] == pytest.approx(3.0 / 2.0 - 3.0 * 3.0 / 4.0)
