"""The command line: `python -m adjoint show|check|compare|graph FILE.py:FUNC ...`.

Every subcommand loads FILE.py as a module (so its functions have source), finds FUNC
in it, and calls the public API. Bad arguments print one line to stderr and exit 2;
errors adjoint reports about the function (unsupported syntax, no rule) exit 2 too;
`check` exits 1 when a gradient disagrees with finite differences.
"""
import argparse
import importlib.util
import inspect
import io
import keyword
import os
import sys
import textwrap
import tokenize
from pathlib import Path

import numpy as np

EXIT_MISMATCH, EXIT_USAGE = 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process SIGPIPE ended


class UsageError(Exception):
    """A bad command line: reported in one line, exit code 2."""


# -- loading the function ----------------------------------------------------

def load_function(target):
    """The function named by `FILE.py:FUNC` (FUNC may be dotted: `Model.loss`)."""
    path_text, sep, name = target.rpartition(":")
    if not sep or not path_text or not name:
        raise UsageError(f"expected FILE.py:FUNCTION, got {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path_text}")
    module_name = path.stem if path.stem.isidentifier() else "module"
    if module_name in sys.modules:  # never shadow an imported module (a file called math.py, say)
        module_name = f"_adjoint_cli_{module_name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot load {path_text} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's module failed to import: say so in one line
        raise UsageError(f"cannot load {path_text}: {type(error).__name__}: {error}") from None
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            functions = sorted(n for n, v in vars(module).items()
                               if inspect.isfunction(v) and v.__module__ == module.__name__)
            known = f" (it defines: {', '.join(functions)})" if functions else ""
            raise UsageError(f"{path_text} has no function {name!r}{known}")
        obj = getattr(obj, part)
    if not callable(obj) or inspect.isclass(obj):
        raise UsageError(f"{name!r} in {path_text} is not a function")
    return obj


def parameter_names(fn):
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        raise UsageError(f"cannot read the parameters of {fn!r}") from None
    return [p.name for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def parameter_defaults(fn):
    return {p.name: p.default for p in inspect.signature(fn).parameters.values() if p.default is not p.empty}


# -- parsing option values ---------------------------------------------------

def parse_shape(text, params, option="--shape"):
    """`W=4,3` -> ("W", (4, 3)); `x=` -> ("x", ()): a scalar."""
    name, sep, dims = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise UsageError(f"malformed {option} {text!r}: expected NAME=DIMS, e.g. x=3 or W=4,3 (x= for a scalar)")
    if name not in params:
        raise UsageError(f"{option} {text!r}: the function has no parameter {name!r} "
                         f"(its parameters are {', '.join(params)})")
    dims = dims.strip()
    if not dims:
        return name, ()
    try:
        shape = tuple(int(d) for d in dims.split(","))
    except ValueError:
        raise UsageError(f"malformed {option} {text!r}: the dimensions must be whole numbers "
                         "separated by commas, e.g. W=4,3") from None
    if any(d < 0 for d in shape):
        raise UsageError(f"malformed {option} {text!r}: dimensions cannot be negative")
    return name, shape


def parse_value(text, params):
    """`n=3` -> ("n", 3); `x=-2.0` -> ("x", -2.0); `v=1,2.5` -> ("v", array([1., 2.5])): numbers read
    as Python reads them, an int without a point or an exponent (an array of them an int array)."""
    name, sep, numbers = text.partition("=")
    name = name.strip()
    if not sep or not name or not numbers.strip():
        raise UsageError(f"malformed --value {text!r}: expected NAME=NUMBER or NAME=N1,N2,..., e.g. x=-2.0")
    if name not in params:
        raise UsageError(f"--value {text!r}: the function has no parameter {name!r} "
                         f"(its parameters are {', '.join(params)})")
    try:
        items = [_number(n) for n in numbers.split(",")]
    except ValueError:
        raise UsageError(f"malformed --value {text!r}: {numbers!r} is not a number or a list of numbers") from None
    return name, items[0] if len(items) == 1 and "," not in numbers else np.array(items)


def _number(text):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _is_int(value):
    return isinstance(value, int) or isinstance(value, np.ndarray) and value.dtype.kind in "iu"


def default_wrt(fn, inputs, candidates):
    """The parameters among `candidates` to differentiate when --wrt does not say: all, except one
    given an int that the function cannot take as a float (a count in `range(n)`, labels used as
    indices), which is an int of the function's, not a number to vary."""
    if not any(_is_int(inputs[i]) for i in candidates):
        return candidates
    try:
        fn(*inputs)
    except Exception:  # (it fails anyway: which ints it needs cannot be told)
        return candidates
    return tuple(i for i in candidates if not _is_int(inputs[i]) or _runs_with_float(fn, inputs, i))


def _runs_with_float(fn, inputs, index):
    floats = list(inputs)
    floats[index] = floats[index] * 1.0
    try:
        fn(*floats)
    except Exception:
        return False
    return True


def parse_wrt(text, params, fn_name):
    """`x,W` or `0,1` -> parameter indices; None (no --wrt) -> None."""
    if text is None:
        return None
    indices = []
    for item in (part.strip() for part in text.split(",")):
        if item in params:
            indices.append(params.index(item))
        elif item.lstrip("-").isdigit() and -len(params) <= int(item) < len(params):
            indices.append(int(item) % len(params))
        else:
            raise UsageError(f"unknown --wrt {item!r}: {fn_name} has parameters {', '.join(params)}")
    return tuple(dict.fromkeys(indices))


def build_inputs(fn, args):
    """Arguments for `fn` from --value and --shape (random normal numbers, reproducible by --seed);
    a parameter given neither keeps its default, or gets a random Python float."""
    params = parameter_names(fn)
    shapes, values = {}, {}
    for text in args.shape or ():
        name, shape = parse_shape(text, params)
        if name in shapes:
            raise UsageError(f"--shape given twice for {name!r}")
        shapes[name] = shape
    for text in getattr(args, "value", None) or ():
        name, value = parse_value(text, params)
        if name in values or name in shapes:
            raise UsageError(f"{name!r} is given twice (by --value and --shape or by two --value options)")
        values[name] = value
    defaults = parameter_defaults(fn)
    rng = np.random.default_rng(args.seed)
    inputs, given = [], []
    for index, name in enumerate(params):
        if name in values:
            inputs.append(values[name])
        elif name in shapes and shapes[name]:
            inputs.append(rng.standard_normal(shapes[name]))
        elif name in shapes or name not in defaults:
            inputs.append(float(rng.standard_normal()))
        else:
            inputs.append(defaults[name])
            continue
        given.append(index)
    return params, inputs, tuple(given)


def describe_input(value):
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return f"{value!r}"


# -- colour ------------------------------------------------------------------

RESET = "\033[0m"
COLORS = {"keyword": "\033[35m", "defname": "\033[1m", "grad": "\033[31m", "tangent": "\033[34m",
          "number": "\033[36m", "comment": "\033[90m", "string": "\033[32m"}


def highlight(text):
    """`text` (Python source) with ANSI colours: keywords, the function's name, derivative
    values (`grad_*` red, `d_*` blue), numbers, strings and comments. Unchanged if it does not tokenize."""
    lines = text.splitlines(keepends=True)
    spans = []  # (row, start column, end column, colour); tokens spanning lines stay plain
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = _token_kind(token, previous)
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                previous = token
            if kind and token.start[0] == token.end[0]:
                spans.append((token.start[0] - 1, token.start[1], token.end[1], COLORS[kind]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    for row, start, end, colour in reversed(spans):  # right to left: earlier columns stay valid
        line = lines[row]
        lines[row] = line[:start] + colour + line[start:end] + RESET + line[end:]
    return "".join(lines)


def _token_kind(token, previous):
    if token.type == tokenize.NAME:
        if previous is not None and previous.type == tokenize.NAME and previous.string == "def":
            return "defname"
        if keyword.iskeyword(token.string):
            return "keyword"
        if token.string.startswith("grad_"):
            return "grad"
        if token.string.startswith("d_"):
            return "tangent"
        return None
    return {tokenize.NUMBER: "number", tokenize.COMMENT: "comment", tokenize.STRING: "string"}.get(token.type)


def use_color(choice, stream):
    """Colour when asked to, or by default when writing to a terminal; never with NO_COLOR set."""
    if os.environ.get("NO_COLOR"):
        return False
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and os.environ.get("TERM") != "dumb"


# -- the subcommands ---------------------------------------------------------

def run_show(args):
    import adjoint
    fn = load_function(args.target)
    if args.ssa:
        return _print_source(adjoint.ssa(fn), args)
    params = parameter_names(fn)
    example = []
    if args.example or args.value:  # the code specialised for these arguments' types (and ints' values)
        shapes = dict(parse_shape(text, params, "--example") for text in args.example or ())
        values = dict(parse_value(text, params) for text in args.value or ())
        example = [values[p] if p in values else np.zeros(shapes[p]) if shapes.get(p) else 0.0 for p in params]
    wrt = parse_wrt(args.wrt, params, fn.__name__)
    if wrt is None:  # every parameter, but an int given to specialise on (a count, a recursion's depth)
        wrt = tuple(i for i, p in enumerate(params) if not (example and _is_int(example[i])))
    if not wrt:
        raise UsageError("no parameter to differentiate: give --wrt")
    chosen = wrt[0] if len(wrt) == 1 else wrt  # one argument: its gradient, not a 1-tuple
    transform = adjoint.grad(fn, wrt=chosen) if args.mode == "reverse" else adjoint.jvp(fn, wrt=chosen)
    if example and args.mode == "forward":  # jvp also takes one tangent per differentiated argument
        example += [example[i] * 1.0 for i in wrt]
    return _print_source(adjoint.source(transform, *example), args)


def _print_source(text, args):
    print(highlight(text).rstrip("\n") if use_color(args.color, sys.stdout) else text.rstrip("\n"))
    return 0


def run_check(args):
    import adjoint
    from .errors import GradientMismatch
    fn, params, inputs, wrt = _target_and_inputs(args)
    if not wrt:
        raise UsageError("no parameter to check: give --wrt")
    _call(fn, inputs, params)
    print(f"checking {fn.__name__} against central finite differences (seed {args.seed}):")
    for index, name in enumerate(params):
        print(f"  {name} = {describe_input(inputs[index])}" if isinstance(inputs[index], np.ndarray)
              else f"  {name} = {inputs[index]!r}")
    print(f"{'argument':<12} {'mode':<8} {'max error':>10}  result")
    failures = []
    for index in wrt:
        for mode in ("reverse", "forward"):
            try:
                error = adjoint.check_grad(fn, *inputs, wrt=params[index], modes=(mode,))
                print(f"{params[index]:<12} {mode:<8} {error:>10.2g}  ok")
            except GradientMismatch as mismatch:
                print(f"{params[index]:<12} {mode:<8} {'':>10}  MISMATCH")
                failures.append(str(mismatch))
    if failures:
        print("\n".join(["", *failures]))
        return EXIT_MISMATCH
    print("all gradients agree with finite differences")
    return 0


def run_compare(args):
    import adjoint
    fn, params, inputs, wrt = _target_and_inputs(args)
    _call(fn, inputs, params)
    print(adjoint.compare(fn, *inputs, wrt=tuple(wrt), budget=args.budget))
    return 0


def run_graph(args):
    import adjoint
    fn, params, inputs, wrt = _target_and_inputs(args)
    _call(fn, inputs, params)
    drawing = adjoint.graph(fn, *inputs, wrt=tuple(wrt), digits=args.digits)
    if args.output is None:
        print(drawing.dot, end="")
        return 0
    if Path(args.output).suffix.lower() not in (".svg", ".png", ".pdf"):
        raise UsageError(f"-o {args.output!r}: the picture is written as .svg, .png or .pdf")
    drawing.render(args.output)
    print(f"wrote {args.output}")
    return 0


def _target_and_inputs(args):
    """The function named on the command line, its parameters, inputs built from --shape / --value,
    and the parameters to differentiate (--wrt, or those given an input)."""
    fn = load_function(args.target)
    params, inputs, given = build_inputs(fn, args)
    return fn, params, inputs, parse_wrt(args.wrt, params, fn.__name__) or default_wrt(fn, inputs, given)


def _call(fn, inputs, params):
    """Run the function once on the inputs, so that a wrong --shape reads as one, not as an adjoint error."""
    try:
        fn(*inputs)
    except Exception as error:
        shown = ", ".join(f"{p}: {describe_input(v) if isinstance(v, np.ndarray) else 'scalar'}"
                          for p, v in zip(params, inputs))
        raise UsageError(f"{fn.__name__}({shown}) raised {type(error).__name__}: {error} "
                         "(check --shape / --value)") from None


# -- the parser --------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (and exit code 2)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


FORMAT = argparse.RawDescriptionHelpFormatter  # keeps the examples' lines; descriptions are wrapped by `_wrap`


def _wrap(text):
    return textwrap.fill(text, width=79)

TARGET_HELP = "the function: a Python file and the name of a function defined in it, e.g. model.py:loss"
WRT_HELP = ("comma-separated parameter names (or positions) to differentiate with respect to, "
            "e.g. --wrt x,W (default: every parameter)")
SHAPE_HELP = ("NAME=DIMS: give parameter NAME a random normal array of shape DIMS, e.g. --shape W=4,3; "
              "--shape x= makes x a scalar. Repeat for each parameter; a parameter not mentioned is a "
              "random Python float (or keeps its default value)")
VALUE_HELP = ("NAME=NUMBER or NAME=N1,N2,...: give parameter NAME this number (or 1-d array) instead, e.g. "
              "--value x=-2.0; a number without a point is an int (--value n=3), which is not differentiated "
              "unless --wrt names it if the function cannot take it as a float (range(n), an index)")
SEED_HELP = "seed of the random inputs, so runs are reproducible (default: 0)"


def _add_inputs(parser):
    parser.add_argument("--shape", action="append", metavar="NAME=DIMS", help=SHAPE_HELP)
    parser.add_argument("--value", action="append", metavar="NAME=NUMBERS", help=VALUE_HELP)
    parser.add_argument("--seed", type=int, default=0, metavar="N", help=SEED_HELP)


def make_parser():
    parser = Parser(prog="python -m adjoint", formatter_class=FORMAT,
                    description=_wrap("adjoint: derivatives of numeric Python functions as readable Python source."),
                    epilog="examples:\n"
                           "  python -m adjoint show model.py:loss\n"
                           "  python -m adjoint check model.py:loss --shape W=4,3 --shape x=3\n"
                           "  python -m adjoint compare model.py:layer --shape W=4,3 --shape x=3\n"
                           "  python -m adjoint graph model.py:f --value x=-2 --value y=5 --value z=-4 -o f.svg\n"
                           "\n'python -m adjoint COMMAND --help' describes each command.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"adjoint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    show = commands.add_parser(
        "show", help="print the generated derivative source (or the SSA form)", formatter_class=FORMAT,
        description=_wrap("Print the Python source adjoint generates for the derivative of FUNC: the reverse-mode "
                          "gradient (adjoint.grad) or the forward-mode Jacobian-vector product (adjoint.jvp), or, "
                          "with --ssa, the SSA form the compiler works on. Coloured on a terminal."),
        epilog="examples:\n"
               "  python -m adjoint show model.py:loss\n"
               "  python -m adjoint show model.py:loss --mode forward --wrt W\n"
               "  python -m adjoint show model.py:loss --example W=4,3 --example x=3\n"
               "  python -m adjoint show model.py:power --value n=3\n"
               "  python -m adjoint show model.py:loss --ssa\n"
               "environment: NO_COLOR (set and non-empty) turns colour off.")
    show.add_argument("target", metavar="FILE.py:FUNC", help=TARGET_HELP)
    show.add_argument("--mode", choices=("reverse", "forward"), default="reverse",
                      help="reverse: the gradient, as adjoint.grad makes it (default); "
                           "forward: the tangent code, as adjoint.jvp makes it")
    show.add_argument("--wrt", metavar="NAMES", help=WRT_HELP)
    show.add_argument("--ssa", action="store_true",
                      help="print the SSA form of FUNC itself (adjoint.ssa) instead of a derivative")
    show.add_argument("--example", action="append", metavar="NAME=DIMS",
                      help="show the code specialised for these argument types: NAME=DIMS makes NAME an "
                           "array of that shape, NAME= a scalar; repeat per parameter, unmentioned ones are "
                           "Python floats. Without --example or --value: the generic code, for any argument types")
    show.add_argument("--value", action="append", metavar="NAME=NUMBERS",
                      help="show the code specialised for this argument's value: NAME=NUMBER or "
                           "NAME=N1,N2,...; a number without a point is an int (--value n=3: a loop count, the "
                           "depth of a recursion), not differentiated unless --wrt names it. Combines with "
                           "--example for the other parameters")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour the source: auto (default) colours only on a terminal; NO_COLOR always wins")
    show.set_defaults(run=run_show)

    check = commands.add_parser(
        "check", help="check the gradients against finite differences, in both modes", formatter_class=FORMAT,
        description=_wrap("Build random inputs of the given shapes, compute the gradient of FUNC (which must "
                          "return a scalar) in reverse and in forward mode, and compare each with central finite "
                          "differences (adjoint.check_grad). Prints the largest error per argument and mode. "
                          "Exit code 0 if all agree, 1 on a mismatch, 2 on bad arguments."),
        epilog="examples:\n"
               "  python -m adjoint check model.py:loss --shape W=4,3 --shape x=3\n"
               "  python -m adjoint check model.py:loss --shape W=4,3 --shape x=3 --wrt W --seed 7\n"
               "  python -m adjoint check neuron.py:neuron          # all parameters scalars")
    check.add_argument("target", metavar="FILE.py:FUNC", help=TARGET_HELP)
    _add_inputs(check)
    check.add_argument("--wrt", metavar="NAMES", help=WRT_HELP.replace("every parameter", "every parameter "
                                                                        "given an input"))
    check.set_defaults(run=run_check)

    compare = commands.add_parser(
        "compare", help="time forward against reverse mode on your inputs", formatter_class=FORMAT,
        description=_wrap("Compute the Jacobian of FUNC at random inputs of the given shapes in forward and in "
                          "reverse mode and print adjoint.compare's report: passes, time per call, the difference "
                          "between the modes and from finite differences, and which mode is faster here."),
        epilog="examples:\n"
               "  python -m adjoint compare model.py:layer --shape W=4,3 --shape x=3\n"
               "  python -m adjoint compare model.py:layer --shape W=4,3 --shape x=3 --wrt x --budget 0.05")
    compare.add_argument("target", metavar="FILE.py:FUNC", help=TARGET_HELP)
    _add_inputs(compare)
    compare.add_argument("--wrt", metavar="NAMES", help=WRT_HELP.replace("every parameter",
                                                                          "every parameter given an input"))
    compare.add_argument("--budget", type=float, default=0.2, metavar="SECONDS",
                         help="time spent measuring each mode (default: 0.2)")
    compare.set_defaults(run=run_compare)

    graph = commands.add_parser(
        "graph", help="draw the computational graph with values and gradients", formatter_class=FORMAT,
        description=_wrap("Evaluate the straight-line function FUNC at the given inputs and draw its computational "
                          "graph as in the backprop lectures: each operation a node, each value on an edge with "
                          "its forward value in green above and the gradient of the output in red below "
                          "(adjoint.graph). Writes SVG, PNG or PDF with Graphviz's `dot` program (Debian/Ubuntu: "
                          "apt-get install graphviz); without -o, prints the DOT text."),
        epilog="examples:\n"
               "  python -m adjoint graph lecture.py:f --value x=-2 --value y=5 --value z=-4 -o f.svg\n"
               "  python -m adjoint graph model.py:loss --shape W=2,3 --shape x=3 -o loss.png\n"
               "  python -m adjoint graph model.py:loss --shape W=2,3 --shape x=3 > loss.dot")
    graph.add_argument("target", metavar="FILE.py:FUNC", help=TARGET_HELP)
    _add_inputs(graph)
    graph.add_argument("--wrt", metavar="NAMES", help=WRT_HELP.replace(
        "every parameter", "every parameter given an input; gradients show only where these flow"))
    graph.add_argument("-o", "--output", metavar="PATH",
                       help="write the picture here; the extension (.svg, .png or .pdf) picks the format")
    graph.add_argument("--digits", type=int, default=2, metavar="N",
                       help="decimals shown for the numbers (default: 2)")
    graph.set_defaults(run=run_graph)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    from .errors import AdjointError
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
        sys.stdout.flush()  # (here, where a closed pipe can be caught, not at exit)
        return code
    except BrokenPipeError:  # `... | head -1`: the reader has gone; stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # (so that Python's own flush at exit finds no pipe)
        return EXIT_BROKEN_PIPE
    except UsageError as error:
        print(f"python -m adjoint {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except AdjointError as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_USAGE
