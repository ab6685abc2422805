"""Front end: a Python function's source, parsed with gast, and what its names mean."""
import builtins
import inspect
import linecache
import textwrap

import gast

from .errors import Location, SourceUnavailable, UnsupportedSyntax, located


class SourceInfo:
    """Where a function's source lives, so that nodes map back to file positions."""

    def __init__(self, filename, first_line, indent, lines, function_name):
        self.filename = filename
        self.first_line = first_line
        self.indent = indent
        self.lines = lines
        self.function_name = function_name

    def location(self, node):
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return None
        index = lineno - 1
        line = self.lines[index] if 0 <= index < len(self.lines) else ""
        return Location(self.filename, self.first_line + index, getattr(node, "col_offset", 0) + self.indent,
                        line, self.function_name)


def parse(fn):
    """The gast FunctionDef of `fn` and its SourceInfo."""
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as cause:
        filename = getattr(getattr(fn, "__code__", None), "co_filename", "<unknown>")
        raise SourceUnavailable(
            f"cannot read the source of {getattr(fn, '__qualname__', fn)!r} (defined in {filename}): {cause}.\n"
            "adjoint transforms source code, so the function must live in a file Python can read back; "
            "functions typed into a REPL or built with exec() have none. Move it into a module, "
            "or give it a rule with adjoint.primitive and adjoint.defvjp.") from None
    source = "".join(lines)
    dedented = textwrap.dedent(source)
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    info = SourceInfo(fn.__code__.co_filename, first_line, indent, dedented.splitlines(), fn.__qualname__)
    module = gast.parse(dedented)
    node = module.body[0]
    if isinstance(node, gast.AsyncFunctionDef):
        raise located(UnsupportedSyntax, f"cannot differentiate `async def {node.name}`", info.location(node),
                      "Differentiate an ordinary `def` function.")
    if not isinstance(node, gast.FunctionDef):
        raise located(UnsupportedSyntax, f"{fn.__qualname__} is a lambda or not a plain function",
                      info.location(node), "Differentiate a function defined with `def`.")
    return node, info


def closure_values(fn):
    """The values of the function's free variables, by name."""
    cells = fn.__closure__ or ()
    values = {}
    for name, cell in zip(fn.__code__.co_freevars, cells):
        try:
            values[name] = cell.cell_contents
        except ValueError:  # an empty cell: the variable is not bound yet
            pass
    return values


_MISSING = object()


def resolve_free_name(fn, name):
    """What a name the function does not assign means: closure, then globals, then builtins."""
    closure = closure_values(fn)
    if name in closure:
        return "closure", closure[name]
    if name in fn.__globals__:
        return "global", fn.__globals__[name]
    value = getattr(builtins, name, _MISSING)
    if value is not _MISSING:
        return "builtin", value
    return "missing", None


def register_source(filename, text):
    """Make generated source visible to inspect, tracebacks and pdb."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
