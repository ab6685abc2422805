"""Random programs in the subset of Python that adjoint differentiates, as a hypothesis strategy.

`programs()` draws a `Program`: the source of a whole module (imports, a few constant arrays, helper
functions, and a main function `f`) plus the shapes of `f`'s parameters. Every program is well formed
and well typed by construction:

- values are Python floats (or numpy scalars) and float64 arrays of shape (3,) or (2, 3); loop
  indices and counters are ints;
- expressions: `+ - * /` with broadcasting, `**` with small integer exponents, unary minus,
  `np.sin cos tanh exp sqrt log square abs maximum minimum where logaddexp sum mean max min prod dot
  outer array stack concatenate reshape`, `x @ W`, `math.sin cos tanh exp`, builtins `abs max min sum
  float`, array methods (`.sum()`, `.mean(axis=0)`, `.T`), indexing by constants and loop indices,
  conditional expressions, calls of helper functions (positional and keyword arguments);
- statements: assignments of new names, re-assignments, augmented assignments, tuple assignment and
  swaps, `if`/`elif`/`else` (with `and`/`or`/`not` and chained comparisons), `for` over `range`
  (one to three arguments, counting down too, `reversed(range(...))`, a bound held in a variable),
  over array elements and rows, `enumerate` and `zip`; `while` loops bounded by a counter, sometimes
  with a condition on active values too, or `while True` with a counted `break`; `break`, `continue`
  and early `return`; helpers returning one value or a tuple;
- names are drawn from a pool that collides with the names adjoint's generated code uses
  (`grad_a`, `d_x0`, `trips`, `tape_a`, `t1`, `broke`, `skip`, `result`, `k`, `_` ...), and helpers
  reuse the main function's names, so inlining and naming are exercised.

Values stay bounded: each expression carries an upper bound of its magnitude, and one that may grow
past `LIMIT` is squashed with `np.tanh` before it is used again; a value a loop carries keeps the
bound it had when the loop started (its updates are squashed or damped), so no program overflows and
finite differences stay meaningful. Division is only by `c`, `2 + cos(.)` or `1 + (.)**2`; `log` and
`sqrt` only of `1 + (.)**2`.

Lists built with `append` in a loop and read back (`sum`, `[-1]`, `np.stack`), and in-place updates
of array elements (`y[i] = e`, `y[i] += e`) are generated too; comprehensions and dicts are not. Choices are ordered simplest first, so hypothesis shrinks a failing
program towards few statements, leaves and the first names.
"""
import dataclasses
import math

from hypothesis import strategies as st

SCALAR, VECTOR, MATRIX = (), (3,), (2, 3)
SHAPES = (SCALAR, VECTOR, MATRIX)
SIZE = {SCALAR: 1, VECTOR: 3, MATRIX: 6}
LIMIT = 8.0          # an expression whose bound exceeds this is squashed before it is used again
MAX_NESTING = 3      # ifs and loops inside each other, at most

PRELUDE = """\
import math

import numpy as np

C3 = np.array([0.4, -0.3, 0.7])
C23 = np.array([[0.2, -0.5, 0.3], [0.6, 0.1, -0.4]])
C33 = np.array([[0.3, -0.2, 0.1], [0.5, 0.4, -0.3], [-0.1, 0.2, 0.6]])
"""
RESERVED = {"math", "np", "C3", "C23", "C33", "f", "float", "abs", "max", "min", "sum", "range", "len",
            "zip", "enumerate", "reversed", "True", "False", "None"}

FLOAT_NAMES = ("a", "b", "c", "s", "t1", "grad_a", "d_x0", "tape_a", "result", "x0_1", "cotangent",
               "ans", "g", "value", "t", "h")
INT_NAMES = ("i", "j", "n", "k", "trips", "_", "broke", "skip", "sequence", "m")
SCALAR_CONSTANTS = ("0.5", "1.5", "-0.7", "2.0", "0.3", "-1.2", "0.25", "1.0", "3", "-2")
ARRAY_CONSTANTS = {
    VECTOR: ("C3", "np.ones(3)", "np.array([0.5, -1.0, 0.25])", "np.linspace(-1.0, 1.0, 3)", "np.zeros(3)",
             "C23[0]"),
    MATRIX: ("C23", "np.ones((2, 3))", "np.array([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]])", "np.zeros((2, 3))"),
}


@dataclasses.dataclass(frozen=True)
class Value:
    """What the generator knows about a name: a float value of `shape` with |value| <= `bound`
    (and, inside loops, <= `cap` for values the loop carries), or an int in [lo, hi]."""
    kind: str                 # "float" or "int"
    shape: tuple = ()
    bound: float = 1.0
    cap: float = None
    lo: int = 0
    hi: int = 0


@dataclasses.dataclass(frozen=True)
class Helper:
    name: str
    params: tuple             # shapes
    returns: tuple            # a shape, or ("tuple", shape, shape)
    default: str = None       # name of a last parameter with a default (a scalar), if any


@dataclasses.dataclass(frozen=True)
class Program:
    source: str
    params: tuple             # (name, shape or "int") of f's parameters

    @property
    def wrt(self):
        return tuple(i for i, (_, shape) in enumerate(self.params) if shape != "int")

    def __repr__(self):
        return f"Program(params={self.params!r}, source='''\n{self.source}''')"


def squash(code, bound):
    if bound > LIMIT:
        return f"np.tanh({code})", 1.0
    return code, bound


def _paren(code):
    return code if code.replace("_", "").replace(".", "").isalnum() else f"({code})"


class Function:
    """Draws one function's body."""

    def __init__(self, draw, helpers, returns, budget, callable_helpers=True):
        self.draw = draw
        self.helpers = [h for h in helpers] if callable_helpers else []
        self.returns = returns
        self.budget = budget
        self.taken = set(RESERVED) | {h.name for h in helpers}
        self.loops = 0       # loop nesting: break/continue allowed inside
        self.nesting = 0

    # -- drawing -------------------------------------------------------------------

    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def number(self, low, high):
        return self.draw(st.integers(low, high))

    def chance(self):
        return self.draw(st.booleans())

    def fresh(self, pool):
        base = self.pick(pool)
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}" if base[-1:].isalpha() else f"{base}_{n}"
        self.taken.add(name)
        return name

    # -- expressions: (source, bound) --------------------------------------------------

    def expr(self, env, shape, depth):
        if depth <= 0:
            return self.leaf(env, shape)
        kinds = ["leaf", "unary", "binary", "binary", "unary"]
        if shape in (SCALAR, VECTOR):
            kinds.append("reduce")
        if self.indexable(env, shape):
            kinds.append("index")
        if shape != SCALAR:
            kinds.append("build")
        kinds.append("matmul")
        if any(h.returns == shape for h in self.helpers):
            kinds += ["call", "call"]
        kinds.append("ifexp")
        if shape == SCALAR and self.ints(env):
            kinds.append("int")
        kind = self.pick(kinds)
        code, bound = getattr(self, "expr_" + kind)(env, shape, depth)
        return squash(code, bound)

    def floats(self, env, shape):
        return [n for n, v in env.items() if v.kind == "float" and v.shape == shape]

    def ints(self, env):
        return [n for n, v in env.items() if v.kind == "int"]

    def leaf(self, env, shape):
        """A name of this shape (most often), a value of another shape brought to it, or a constant."""
        same = self.floats(env, shape)
        others = [n for s in SHAPES if s != shape for n in self.floats(env, s)]
        options = same * 4 + others + ["<constant>"]
        name = self.pick(options)
        if name == "<constant>":
            return self.constant(shape)
        v = env[name]
        if v.shape == shape:
            return name, v.bound
        return self.promote(name, v, shape)

    def promote(self, name, v, shape):
        """`name` (of another shape) brought to `shape`."""
        b = v.bound
        if shape == SCALAR:
            options = [(f"np.sum({name})", SIZE[v.shape] * b), (f"{name}[0]" if v.shape == VECTOR else f"{name}[1, 2]", b),
                       (f"np.mean({name})", b)]
        elif shape == VECTOR:
            options = [(f"{name} * C3", b), (f"{name} * np.ones(3)", b)] if v.shape == SCALAR else \
                [(f"{name}[0]", b), (f"np.sum({name}, axis=0)", 2 * b)]
        else:
            options = [(f"{name} * C23", b), (f"np.outer(np.array([1.0, -0.5]), {name})", b)] if v.shape == VECTOR else \
                [(f"{name} * np.ones((2, 3))", b), (f"C23 * {name}", b)]
        return self.pick(options)

    expr_leaf = lambda self, env, shape, depth: self.leaf(env, shape)  # noqa: E731

    def constant(self, shape):
        if shape == SCALAR:
            code = self.pick(SCALAR_CONSTANTS)
            return code, abs(float(code))
        code = self.pick(ARRAY_CONSTANTS[shape])
        return code, 1.0

    def expr_unary(self, env, shape, depth):
        ops = ["-", "tanh", "sin", "cos", "exp", "**2", "**3", "abs", "sqrt", "log", "square", "**1"]
        if shape == SCALAR:
            ops += ["math.sin", "math.cos", "math.tanh", "math.exp", "abs()", "float", "+"]
        else:
            ops += [".T.T", "copy"]
        op = self.pick(ops)
        x, b = self.expr(env, shape, depth - 1)
        if op in ("exp", "math.exp") and b > 2.0:
            x, b = f"np.tanh({x})", 1.0
        table = {
            "-": (f"-{_paren(x)}", b), "+": (f"+{_paren(x)}", b),
            "tanh": (f"np.tanh({x})", 1.0), "sin": (f"np.sin({x})", 1.0), "cos": (f"np.cos({x})", 1.0),
            "exp": (f"np.exp({x})", math.exp(b)), "**2": (f"{_paren(x)} ** 2", b ** 2),
            "**3": (f"{_paren(x)} ** 3", b ** 3), "**1": (f"{_paren(x)} ** 1", b),
            "abs": (f"np.abs({x})", b), "sqrt": (f"np.sqrt(1.0 + {_paren(x)} ** 2)", math.sqrt(1 + b * b)),
            "log": (f"np.log(1.0 + {_paren(x)} ** 2)", math.log(1 + b * b)), "square": (f"np.square({x})", b * b),
            "math.sin": (f"math.sin({x})", 1.0), "math.cos": (f"math.cos({x})", 1.0),
            "math.tanh": (f"math.tanh({x})", 1.0), "math.exp": (f"math.exp({x})", math.exp(b)),
            "abs()": (f"abs({x})", b), "float": (f"float({x})", b),
            ".T.T": (f"{_paren(x)}.T.T", b), "copy": (f"np.copy({x})", b),
        }
        return table[op]

    def subshapes(self, shape):
        """Shapes that broadcast to `shape` (smaller or equal)."""
        return {SCALAR: [SCALAR], VECTOR: [VECTOR, SCALAR], MATRIX: [MATRIX, VECTOR, SCALAR]}[shape]

    def operand_shapes(self, shape):
        subs = self.subshapes(shape)
        pairs = [(shape, shape)] + [(shape, s) for s in subs[1:]] + [(s, shape) for s in subs[1:]]
        return self.pick(pairs)

    def expr_binary(self, env, shape, depth):
        ops = ["+", "-", "*", "/c", "/cos", "/sq", "maximum", "minimum", "where", "logaddexp", "np.multiply"]
        if shape == SCALAR:
            ops += ["max", "min"]
        op = self.pick(ops)
        left, right = self.operand_shapes(shape)
        x, bx = self.expr(env, left, depth - 1)
        if op == "/c":
            c = self.pick(("2.0", "0.5", "-4.0", "3"))
            return f"{_paren(x)} / {c}", bx / abs(float(c))
        y, by = self.expr(env, right, depth - 1)
        px, py = _paren(x), _paren(y)
        if op == "where":
            cond_shape = self.pick(self.subshapes(shape))
            c, _ = self.expr(env, cond_shape, depth - 1)
            return f"np.where({_paren(c)} > {self.pick(('0.0', '0.3', '-0.5'))}, {x}, {y})", max(bx, by)
        table = {
            "+": (f"{px} + {py}", bx + by), "-": (f"{px} - {py}", bx + by), "*": (f"{px} * {py}", bx * by),
            "np.multiply": (f"np.multiply({x}, {y})", bx * by),
            "/cos": (f"{px} / (2.0 + np.cos({y}))", bx), "/sq": (f"{px} / (1.0 + {py} ** 2)", bx),
            "maximum": (f"np.maximum({x}, {y})", max(bx, by)), "minimum": (f"np.minimum({x}, {y})", max(bx, by)),
            "logaddexp": (f"np.logaddexp({x}, {y})", max(bx, by) + 1.0),
            "max": (f"max({x}, {y})", max(bx, by)), "min": (f"min({x}, {y})", max(bx, by)),
        }
        return table[op]

    def expr_reduce(self, env, shape, depth):
        if shape == SCALAR:
            source = self.pick((VECTOR, MATRIX))
            x, b = self.expr(env, source, depth - 1)
            n = SIZE[source]
            ops = ["np.sum", "np.mean", ".sum()", "np.max", "np.min", ".mean()", "np.prod", "dot", "@", "sum"]
            if source != VECTOR:
                ops = ops[:7]
            op = self.pick(ops)
            if op in ("dot", "@"):
                y, by = self.expr(env, VECTOR, depth - 1)
                code = f"np.dot({x}, {y})" if op == "dot" else f"{_paren(x)} @ {_paren(y)}"
                return code, 3 * b * by
            if op == "np.prod":
                if b > 1.5:
                    x, b = f"np.tanh({x})", 1.0
                return f"np.prod({x})", b ** n
            if op.startswith("."):
                return f"{_paren(x)}{op}", n * b
            return f"{op}({x})", (b if op in ("np.mean", "np.max", "np.min") else n * b)
        x, b = self.expr(env, MATRIX, depth - 1)
        op = self.pick(("np.sum0", "np.mean0", ".sum0", "np.max0", "sum", ".max0", "np.min0"))
        code = {"np.sum0": f"np.sum({x}, axis=0)", "np.mean0": f"np.mean({x}, axis=0)",
                ".sum0": f"{_paren(x)}.sum(axis=0)", "np.max0": f"np.max({x}, axis=0)", "sum": f"sum({x})",
                ".max0": f"{_paren(x)}.max(axis=0)", "np.min0": f"np.min({x}, 0)"}[op]
        return code, (b if "mean" in op or "max" in op or "min" in op else 2 * b)

    def indexable(self, env, shape):
        if shape == SCALAR:
            return bool(self.floats(env, VECTOR) or self.floats(env, MATRIX))
        if shape == VECTOR:
            return bool(self.floats(env, MATRIX) or self.floats(env, VECTOR))
        return bool(self.floats(env, MATRIX))

    def expr_index(self, env, shape, depth):
        if shape == SCALAR:
            sources = self.floats(env, VECTOR) + self.floats(env, MATRIX)
            name = self.pick(sources)
            if env[name].shape == VECTOR:
                index = self.index_into(env, 3)
                return f"{name}[{index}]", env[name].bound
            row, col = self.index_into(env, 2), self.pick(("0", "1", "2", "-1"))
            return self.pick((f"{name}[{row}, {col}]", f"{name}[{row}][{col}]")), env[name].bound
        if shape == VECTOR:
            matrices, vectors = self.floats(env, MATRIX), self.floats(env, VECTOR)
            name = self.pick(matrices + vectors)
            if env[name].shape == VECTOR:
                return self.pick((f"{name}[::-1]", f"{name}[np.array([2, 0, 1])]", f"{name}[:]")), env[name].bound
            row = self.index_into(env, 2)
            return self.pick((f"{name}[{row}]", f"{name}[{row}, :]", f"{name}.T[:, {row}]")), env[name].bound
        name = self.pick(self.floats(env, MATRIX))
        return self.pick((f"{name}[::-1]", f"{name}[:, ::-1]", f"{name}[..., :]")), env[name].bound

    def index_into(self, env, length):
        """An index valid for an axis of `length`: a constant, or an int variable known to fit."""
        ints = [n for n, v in env.items() if v.kind == "int" and v.lo >= -length and v.hi < length]
        options = [str(i) for i in range(length)] + ["-1"] + ints
        return self.pick(options)

    def expr_build(self, env, shape, depth):
        if shape == VECTOR:
            op = self.pick(("array", "stack", "concat"))
            if op == "concat":
                x, bx = self.expr(env, VECTOR, depth - 1)
                y, by = self.expr(env, SCALAR, depth - 1)
                return f"np.concatenate([{_paren(x)}[:2], np.array([{y}])])", max(bx, by)
            items = [self.expr(env, SCALAR, depth - 1) for _ in range(3)]
            fn = "np.array" if op == "array" else "np.stack"
            return f"{fn}([{', '.join(c for c, _ in items)}])", max(b for _, b in items)
        op = self.pick(("stack", "array", "reshape", "outer"))
        if op == "outer":
            x, bx = self.expr(env, VECTOR, depth - 1)
            return f"np.outer(np.array([1.0, -0.5]), {x})", bx
        rows = [self.expr(env, VECTOR, depth - 1) for _ in range(2)]
        bound = max(b for _, b in rows)
        if op == "reshape":
            return f"np.concatenate([{rows[0][0]}, {rows[1][0]}]).reshape(2, 3)", bound
        fn = "np.array" if op == "array" else "np.stack"
        return f"{fn}([{rows[0][0]}, {rows[1][0]}])", bound

    def expr_matmul(self, env, shape, depth):
        if shape == SCALAR:
            x, bx = self.expr(env, VECTOR, depth - 1)
            return f"{_paren(x)} @ C3", 1.4 * bx
        if shape == VECTOR:
            op = self.pick(("C33", "outer", "C23.T", "dotC33"))
            if op == "C23.T":  # (2,3).T @ (2,) is not generated: use C23 @ x for (2,), then back
                x, bx = self.expr(env, VECTOR, depth - 1)
                return f"C23.T @ (C23 @ {_paren(x)})", 2 * bx
            x, bx = self.expr(env, VECTOR, depth - 1)
            if op == "outer":
                y, by = self.expr(env, VECTOR, depth - 1)
                z, bz = self.expr(env, VECTOR, depth - 1)
                return f"{_paren(x)} @ np.outer({y}, {z})", 9 * bx * by * bz
            if op == "dotC33":
                return f"np.dot({x}, C33)", 1.5 * bx
            return f"{_paren(x)} @ C33", 1.5 * bx
        x, bx = self.expr(env, MATRIX, depth - 1)
        return self.pick((f"{_paren(x)} @ C33", f"np.matmul({x}, C33)")), 1.5 * bx

    def expr_call(self, env, shape, depth):
        helper = self.pick([h for h in self.helpers if h.returns == shape])
        args, bound = self.call_args(env, helper, depth)
        return f"{helper.name}({args})", bound

    def call_args(self, env, helper, depth):
        args = [self.expr(env, s, depth - 1)[0] for s in helper.params]
        if helper.default is not None:
            how = self.pick(("omit", "keyword", "positional"))
            value = self.pick(("0.5", "-1.0", "2.0"))
            if how == "keyword":
                args.append(f"{helper.default}={value}")
            elif how == "positional":
                args.append(value)
        return ", ".join(args), LIMIT

    def expr_ifexp(self, env, shape, depth):
        cond = self.condition(env, depth - 1)
        x, bx = self.expr(env, shape, depth - 1)
        y, by = self.expr(env, shape, depth - 1)
        return f"({x} if {cond} else {y})", max(bx, by)

    def expr_int(self, env, shape, depth):
        name = self.pick(self.ints(env))
        v = env[name]
        scale = self.pick(("0.1", "0.5", "-0.3"))
        if self.chance():
            x, b = self.expr(env, SCALAR, depth - 1)
            return f"{_paren(x)} * ({scale} * {name})", b * abs(float(scale)) * max(abs(v.lo), abs(v.hi))
        return f"{scale} * {name}", abs(float(scale)) * max(abs(v.lo), abs(v.hi))

    # -- conditions -------------------------------------------------------------------

    def condition(self, env, depth):
        kinds = ["compare", "compare", "compare2", "chained", "array", "not", "and", "or"]
        if self.ints(env):
            kinds += ["int", "int"]
        kind = self.pick(kinds)
        if kind == "compare" or depth <= 0 and kind in ("not", "and", "or"):
            x, _ = self.expr(env, SCALAR, depth)
            return f"{_paren(x)} {self.pick(('>', '<', '>=', '<='))} {self.pick(('0.0', '0.5', '-0.3', '1.0'))}"
        if kind == "compare2":
            x, _ = self.expr(env, SCALAR, depth)
            y, _ = self.expr(env, SCALAR, depth)
            return f"{_paren(x)} > {_paren(y)}"
        if kind == "chained":
            x, _ = self.expr(env, SCALAR, depth)
            return f"-0.5 < {_paren(x)} < {self.pick(('0.5', '1.0'))}"
        if kind == "array":
            x, _ = self.expr(env, self.pick((VECTOR, MATRIX)), depth)
            return f"np.{self.pick(('any', 'all'))}({_paren(x)} > {self.pick(('0.0', '0.5', '-0.5'))})"
        if kind == "int":
            name = self.pick(self.ints(env))
            return self.pick((f"{name} > 0", f"{name} % 2 == 0", f"{name} == 1", f"{name} < 2"))
        if kind == "not":
            return f"not ({self.condition(env, depth - 1)})"
        joiner = " and " if kind == "and" else " or "
        return f"({self.condition(env, depth - 1)}){joiner}({self.condition(env, depth - 1)})"

    # -- statements ---------------------------------------------------------------------
    # Each returns its lines (indented relative to the block) and the environment after it,
    # None if no path falls through it (every path returns, breaks or continues).

    def block(self, env, length):
        """`length` statements (fewer if the budget runs out, or if one always leaves), at least one."""
        lines = []
        for _ in range(length):
            if self.budget <= 0 and lines:
                break
            self.budget -= 1
            new_lines, env = self.statement(env)
            lines += new_lines
            if env is None:
                break
        return lines, env

    def statement(self, env):
        kinds = ["assign", "reassign", "assign", "augassign", "tuple", "setitem"]
        if self.nesting < MAX_NESTING:
            kinds += ["if", "if", "for", "for", "while", "collect"]
        if any(isinstance(h.returns, tuple) and h.returns[:1] == ("tuple",) for h in self.helpers):
            kinds.append("unpack_call")
        kind = self.pick(kinds)
        return getattr(self, "stmt_" + kind)(env)

    def depth(self):
        return self.number(0, 3)

    def assign_to(self, env, name, shape, code, bound):
        """`name = code`, keeping a loop-carried value within its cap."""
        cap = env[name].cap if name in env else None
        if cap is not None and bound > cap:
            if self.chance():
                code, bound = f"np.tanh({code})", 1.0
            else:
                code, bound = f"0.5 * {name} + 0.5 * np.sin({code})", 0.5 * cap + 0.5
        env = dict(env)
        env[name] = Value("float", shape, bound, cap)
        return [f"{name} = {code}"], env

    def stmt_assign(self, env):
        shape = self.pick(SHAPES)
        code, bound = self.expr(env, shape, self.depth())
        name = self.fresh(FLOAT_NAMES)
        return self.assign_to(env, name, shape, code, bound)

    def stmt_reassign(self, env):
        names = self.floats(env, SCALAR) + self.floats(env, VECTOR) + self.floats(env, MATRIX)
        if not names:
            return self.stmt_assign(env)
        name = self.pick(names)
        code, bound = self.expr(env, env[name].shape, self.depth())
        return self.assign_to(env, name, env[name].shape, code, bound)

    def stmt_augassign(self, env):
        names = self.floats(env, SCALAR) + self.floats(env, VECTOR) + self.floats(env, MATRIX)
        if not names:
            return self.stmt_assign(env)
        name = self.pick(names)
        v = env[name]
        if v.cap is not None:  # damped, so the loop keeps it within its cap
            factor = self.pick(("0.5", "-0.9", "0.75"))
            return [f"{name} *= {factor}"], dict(env, **{name: dataclasses.replace(v, bound=v.bound * abs(float(factor)))})
        op = self.pick(("+=", "-=", "*=", "/="))
        if op == "/=":
            return [f"{name} /= {self.pick(('2.0', '-3.0'))}"], env
        code, bound = self.expr(env, self.pick(self.subshapes(v.shape)), self.depth())
        if op == "*=":
            code, bound = f"np.tanh({code})", 1.0
        new_bound = v.bound * bound if op == "*=" else v.bound + bound
        lines = [f"{name} {op} {code}"]
        env = dict(env, **{name: dataclasses.replace(v, bound=new_bound)})
        if new_bound > LIMIT:
            more, env = self.assign_to(env, name, v.shape, f"np.tanh({name})", 1.0)
            lines += more
        return lines, env

    def stmt_tuple(self, env):
        names = self.floats(env, SCALAR) + self.floats(env, VECTOR) + self.floats(env, MATRIX)
        pairs = [(a, b) for a in names for b in names if a < b and env[a].shape == env[b].shape]
        fits = [(a, b) for a, b in pairs
                if (env[a].cap is None or env[b].bound <= env[a].cap) and (env[b].cap is None or env[a].bound <= env[b].cap)]
        if fits and self.chance():  # a swap: the classic test of parallel assignment in SSA
            a, b = self.pick(fits)
            env = dict(env, **{a: dataclasses.replace(env[a], bound=env[b].bound),
                               b: dataclasses.replace(env[b], bound=env[a].bound)})
            return [f"{a}, {b} = {b}, {a}"], env
        shapes = [self.pick(SHAPES), self.pick(SHAPES)]
        values = [self.expr(env, s, self.depth()) for s in shapes]
        targets = []
        new_env = dict(env)
        for shape, (code, bound) in zip(shapes, values):
            existing = [n for n in self.floats(env, shape) if env[n].cap is None and n not in targets]
            name = self.pick(existing) if existing and self.chance() else self.fresh(FLOAT_NAMES)
            targets.append(name)
            new_env[name] = Value("float", shape, bound)
        return [f"{targets[0]}, {targets[1]} = {values[0][0]}, {values[1][0]}"], new_env

    def stmt_setitem(self, env):
        """`y[i] = e` or `y[i] += e` on an array: an in-place update (Python's semantics, aliases included)."""
        names = [n for n in self.floats(env, VECTOR) + self.floats(env, MATRIX) if (env[n].cap or 1.0) >= 1.0]
        if not names:
            return self.stmt_assign(env)
        name = self.pick(names)
        v = env[name]
        index = self.pick(("0", "1", "-1")) if v.shape == VECTOR else self.pick(("0, 1", "1, 2", "-1, 0"))
        code = f"np.tanh({self.expr(env, SCALAR, self.depth())[0]})"
        if self.chance() and v.cap is None:
            return [f"{name}[{index}] += {code}"], dict(env, **{name: dataclasses.replace(v, bound=v.bound + 1.0)})
        if self.chance():  # damped, so a loop carrying it keeps it within its cap
            return [f"{name}[{index}] = 0.5 * {name}[{index}] + 0.5 * {code}"], env
        return [f"{name}[{index}] = {code}"], dict(env, **{name: dataclasses.replace(v, bound=max(v.bound, 1.0))})

    def stmt_collect(self, env):
        """The classic: collect per-step values in a list, then read it back."""
        items, index = self.fresh(("values", "steps", "terms")), self.fresh(("k", "step"))
        trips = self.number(1, 3)
        shape = self.pick((SCALAR, VECTOR))
        body_env = dict(self.loop_env(env), **{index: Value("int", lo=0, hi=trips - 1)})
        code, bound = self.expr(body_env, shape, self.depth())
        lines = [f"{items} = []", f"for {index} in range({trips}):", f"    {items}.append({code})"]
        read, read_bound = self.pick(((f"sum({items})", trips * bound), (f"{items}[-1]", bound),
                                      (f"np.mean(np.stack({items}), axis=0)", bound)))
        name = self.fresh(FLOAT_NAMES)
        more, env = self.assign_to(self.after_loop(env, env, {}), name, shape, read, read_bound)
        return lines + more, env

    def stmt_unpack_call(self, env):
        helper = self.pick([h for h in self.helpers if isinstance(h.returns, tuple) and h.returns[:1] == ("tuple",)])
        args, _ = self.call_args(env, helper, self.depth())
        targets, new_env = [], dict(env)
        for shape in helper.returns[1:]:
            name = self.fresh(FLOAT_NAMES)
            targets.append(name)
            new_env[name] = Value("float", shape, LIMIT)
        return [f"{targets[0]}, {targets[1]} = {helper.name}({args})"], new_env

    # -- if ---------------------------------------------------------------------------

    def leave(self, env):
        """A statement that leaves the block: break / continue in a loop, return in the function."""
        options = ["return"] + (["break", "continue", "break"] if self.loops else [])
        what = self.pick(options)
        if what != "return":
            return what
        return "return " + self.return_value(env)

    def return_value(self, env):
        if isinstance(self.returns, tuple) and self.returns[:1] == ("tuple",):
            return ", ".join(self.expr(env, s, self.depth())[0] for s in self.returns[1:])
        return self.expr(env, self.returns, self.depth())[0]

    def branch_body(self, env, joint):
        """The statements of one branch; None as env if it always leaves."""
        self.nesting += 1
        try:
            lines = []
            if joint is not None:  # a name both branches assign, usable after the `if`
                name, shape = joint
                code, bound = self.expr(env, shape, self.depth())
                more, env = self.assign_to(env, name, shape, code, bound)
                lines += more
            more, env = self.block(env, self.number(1 if joint is None else 0, 2))
            lines += more
            if env is not None and self.number(0, 3) == 3:
                lines.append(self.leave(env))
                env = None
            return lines or ["pass"], env
        finally:
            self.nesting -= 1

    def stmt_if(self, env):
        joint = None
        if self.chance():
            joint = (self.fresh(FLOAT_NAMES), self.pick(SHAPES))
        arms = [(self.condition(env, self.number(0, 2)), *self.branch_body(env, joint))]
        for _ in range(self.number(0, 2)):  # elif arms
            arms.append((self.condition(env, self.number(0, 1)), *self.branch_body(env, joint)))
        has_else = joint is not None or self.chance()
        else_lines, else_env = self.branch_body(env, joint) if has_else else ([], env)
        lines = []
        for k, (cond, body, _) in enumerate(arms):
            lines.append(f"{'if' if k == 0 else 'elif'} {cond}:")
            lines += ["    " + line for line in body]
        if has_else:
            lines.append("else:")
            lines += ["    " + line for line in else_lines]
        envs = [e for _, _, e in arms] + [else_env]
        return lines, self.merge_envs(env, [e for e in envs if e is not None])

    def merge_envs(self, before, envs):
        if not envs:
            return None
        names = set(envs[0]).intersection(*envs[1:])
        merged = {}
        for name in names:
            values = [e[name] for e in envs]
            v = values[0]
            if v.kind == "float":
                v = dataclasses.replace(v, bound=max(x.bound for x in values))
            else:
                v = dataclasses.replace(v, lo=min(x.lo for x in values), hi=max(x.hi for x in values))
            merged[name] = v
        return {name: merged[name] for name in list(before) + sorted(set(merged) - set(before))}

    # -- loops --------------------------------------------------------------------------

    def loop_env(self, env):
        """The environment at the top of a loop body: every carried float capped."""
        return {n: (dataclasses.replace(v, bound=max(v.bound, 1.0), cap=max(v.bound, 1.0))
                    if v.kind == "float" and v.cap is None else v) for n, v in env.items()}

    def after_loop(self, before, inside, bound_names):
        """Pre-loop names, their bounds those of the loop; plus `bound_names` (defined if it ran)."""
        after = {}
        for n, v in before.items():
            if v.kind == "float":
                after[n] = dataclasses.replace(v, bound=max(v.bound, 1.0) if v.cap is None else v.bound)
            else:
                after[n] = v
        for n, v in bound_names.items():
            after[n] = v
        return after

    def loop_body(self, env):
        self.loops += 1
        self.nesting += 1
        try:
            lines, _ = self.block(env, self.number(1, 3))
            return lines
        finally:
            self.loops -= 1
            self.nesting -= 1

    def stmt_for(self, env):
        kinds = ["range", "range", "range2", "range3", "down", "reversed", "elements", "enumerate", "zip", "var"]
        kind = self.pick(kinds)
        if kind in ("elements", "enumerate") and not (self.floats(env, VECTOR) or self.floats(env, MATRIX)):
            kind = "range"
        if kind == "zip" and not (len(self.floats(env, VECTOR)) + len(self.floats(env, MATRIX)) >= 1):
            kind = "range"
        if kind == "var" and not [n for n, v in env.items() if v.kind == "int" and v.lo >= 0]:
            kind = "range"
        body_env = self.loop_env(env)
        bound_after = {}
        header = None
        if kind in ("range", "range2", "range3", "down", "reversed", "var"):
            index = self.fresh(INT_NAMES)
            if kind == "range":
                count = self.number(0, 4)
                header, lo, hi = f"for {index} in range({count}):", 0, count - 1
                runs = count > 0
            elif kind == "range2":
                start, count = self.number(0, 2), self.number(0, 3)
                header, lo, hi = f"for {index} in range({start}, {start + count}):", start, start + count - 1
                runs = count > 0
            elif kind == "range3":
                start, stop = self.number(0, 1), self.number(1, 6)
                header, lo, hi = f"for {index} in range({start}, {stop}, 2):", start, max(start, stop - 1)
                runs = stop > start
            elif kind == "down":
                count = self.number(1, 4)
                header, lo, hi = f"for {index} in range({count - 1}, -1, -1):", 0, count - 1
                runs = True
            elif kind == "reversed":
                count = self.number(0, 3)
                header, lo, hi = f"for {index} in reversed(range({count})):", 0, count - 1
                runs = count > 0
            else:
                limits = [n for n, v in env.items() if v.kind == "int" and v.lo >= 0]
                limit = self.pick(limits)
                header, lo, hi = f"for {index} in range({limit}):", 0, max(env[limit].hi - 1, 0)
                runs = False
                if env[limit].hi > 5:
                    header = f"for {index} in range(min({limit}, 4)):"
                    hi = 3
            body_env[index] = Value("int", lo=lo, hi=max(hi, lo))
            if runs:
                bound_after[index] = body_env[index]
        elif kind in ("elements", "enumerate"):
            sources = self.floats(env, VECTOR) + self.floats(env, MATRIX)
            source = self.pick(sources)
            item = self.fresh(FLOAT_NAMES)
            item_value = Value("float", env[source].shape[1:], max(env[source].bound, 1.0))
            body_env[item] = item_value
            if kind == "elements":
                header = f"for {item} in {source}:"
            else:
                index = self.fresh(INT_NAMES)
                body_env[index] = Value("int", lo=0, hi=env[source].shape[0] - 1)
                header = f"for {index}, {item} in enumerate({source}):"
                bound_after[index] = body_env[index]
            bound_after[item] = dataclasses.replace(item_value, bound=LIMIT)
        else:  # zip
            sources = self.floats(env, VECTOR) + self.floats(env, MATRIX)
            first = self.pick(sources)
            partners = [n for n in sources if env[n].shape[:1] == env[first].shape[:1]] + ["<constant>"]
            second = self.pick(partners)
            if second == "<constant>":
                second = {3: "C3", 2: "C23"}[env[first].shape[0]]
                second_value = Value("float", env[first].shape[1:] if env[first].shape[0] == 3 else VECTOR, 1.0)
            else:
                second_value = Value("float", env[second].shape[1:], max(env[second].bound, 1.0))
            a, b = self.fresh(FLOAT_NAMES), self.fresh(FLOAT_NAMES)
            body_env[a] = Value("float", env[first].shape[1:], max(env[first].bound, 1.0))
            body_env[b] = second_value
            header = f"for {a}, {b} in zip({first}, {second}):"
        body = self.loop_body(body_env)
        return [header] + ["    " + line for line in body], self.after_loop(env, body_env, bound_after)

    def stmt_while(self, env):
        counter = self.fresh(INT_NAMES)
        limit = self.number(0, 4)
        body_env = self.loop_env(env)
        body_env[counter] = Value("int", lo=1, hi=max(limit, 1))
        kind = self.pick(("counted", "active", "true"))
        lines = [f"{counter} = 0"]
        body_prefix = [f"{counter} = {counter} + 1" if self.chance() else f"{counter} += 1"]
        if kind == "counted":
            lines.append(f"while {counter} < {limit}:")
        elif kind == "active":
            cond = self.condition(body_env, self.number(0, 2))
            lines.append(f"while {counter} < {limit} and ({cond}):")  # bounded whatever `cond` is
        else:
            lines.append("while True:")
            body_prefix.append(f"if {counter} > {limit}:")
            body_prefix.append("    break")
        body = self.loop_body(body_env)
        lines += ["    " + line for line in body_prefix + body]
        after = self.after_loop(env, body_env, {counter: Value("int", lo=0, hi=max(limit, 1) + 1)})
        return lines, after


def draw_function(draw, name, params, helpers, returns, budget, defaults=None):
    """The source of one function: its `def` line, body and final return."""
    fn = Function(draw, helpers, returns, budget)
    env = {}
    for pname, shape in params:
        fn.taken.add(pname)
        env[pname] = Value("int", lo=0, hi=3) if shape == "int" else Value("float", shape, 1.5)
    if defaults:
        fn.taken.add(defaults)
        env[defaults] = Value("float", SCALAR, 2.0)
    lines = []
    while fn.budget > 0 and env is not None:  # None: an `if` all of whose branches return ends it
        fn.budget -= 1
        more, env = fn.statement(env)
        lines += more
    if env is not None:
        lines.append("return " + final_value(fn, env, returns))
    signature = [p for p, _ in params] + ([f"{defaults}=0.5"] if defaults else [])
    return f"def {name}({', '.join(signature)}):\n" + "".join(f"    {line}\n" for line in lines)


def final_value(fn, env, returns):
    if isinstance(returns, tuple) and returns[:1] == ("tuple",):
        return fn.return_value(env)
    if returns != SCALAR:
        return fn.expr(env, returns, fn.depth())[0]
    # the scalar result: a few of the values computed, summed, so gradients flow through them
    names = [n for n, v in env.items() if v.kind == "float"]
    chosen = fn.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)) if names else []
    terms = []
    for n in chosen:
        terms.append(n if env[n].shape == SCALAR else f"np.sum({n})")
    extra, _ = fn.expr(env, SCALAR, fn.number(0, 2))
    terms.append(extra)
    return " + ".join(_paren(t) for t in terms)


@st.composite
def programs(draw, max_helpers=2, budget=(3, 12)):
    """A random module: a few helpers and `f`, whose parameters are floats and arrays (and maybe an int)."""
    helpers = []
    sources = []
    for index in range(draw(st.integers(0, max_helpers))):
        name = f"helper{index}"
        n_params = draw(st.integers(1, 2))
        params = tuple((draw(st.sampled_from(("x0", "a", "s", "x1", "t1"))) + str(k), draw(st.sampled_from(SHAPES)))
                       for k in range(n_params))
        kind = draw(st.sampled_from(("one", "one", "tuple")))
        returns = draw(st.sampled_from(SHAPES)) if kind == "one" else \
            ("tuple", draw(st.sampled_from(SHAPES)), draw(st.sampled_from(SHAPES)))
        default = "scale" if draw(st.booleans()) else None
        sources.append(draw_function(draw, name, params, helpers, returns, draw(st.integers(1, 5)), default))
        helpers.append(Helper(name, tuple(s for _, s in params), returns, default))
    n_params = draw(st.integers(1, 3))
    params = [(f"x{k}", draw(st.sampled_from(SHAPES))) for k in range(n_params)]
    if draw(st.integers(0, 3)) == 3:
        params.append(("n", "int"))
    sources.append(draw_function(draw, "f", params, helpers, SCALAR, draw(st.integers(*budget))))
    return Program(PRELUDE + "\n\n" + "\n\n".join(sources), tuple(params))
