"""Front end: a Python function's source, parsed with gast, and what its names mean."""
import ast
import builtins
import functools
import inspect
import linecache
import sys
import types

import gast

from .errors import InvalidArgument, Location, SourceUnavailable, UnsupportedSyntax, located


class SourceInfo:
    """Where a function's source lives, so that nodes map back to file positions.

    `lines` are the function's lines as they are in the file; the parsed text may start
    with `shift` extra lines (a wrapper that lets an indented `def` parse).
    """

    def __init__(self, filename, first_line, lines, function_name, shift=0):
        self.filename = filename
        self.first_line = first_line
        self.lines = lines
        self.function_name = function_name
        self.shift = shift
        self.calls = ()   # call sites, outermost first, when the function is being inlined

    def call_site(self, node):
        """The call sites to add to those of a function called at `node` (when it is inlined)."""
        return (self.location(node),)

    def location(self, node):
        lineno = getattr(node, "lineno", None)
        if lineno is None:
            return None
        index = lineno - 1 - self.shift
        line = self.lines[index] if 0 <= index < len(self.lines) else ""
        return Location(self.filename, self.first_line + index, _characters(line, getattr(node, "col_offset", 0)),
                        line, self.function_name, self.calls)


class StandInInfo(SourceInfo):
    """The source of a function adjoint generated to stand in for the user's `target`
    (structures.flat_function, which rebuilds dicts and objects from their arrays): every place in
    it is the `def` line of `target`, and its call of `target` is no call site, so errors name the
    user's file and lines, never the generated wrapper."""

    def __init__(self, target):
        node, info = parse(target)
        super().__init__(info.filename, info.first_line, info.lines, info.function_name, info.shift)
        self.definition = info.location(node)

    def location(self, node):
        return self.definition

    def call_site(self, node):
        return ()


def _characters(line, offset):
    """The column of a UTF-8 byte `offset` in `line` (ast counts bytes; people count characters)."""
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))


_ADVICE_NO_SOURCE = ("adjoint transforms source code, so the function must be defined with `def` in a file "
                     "Python can read back; functions typed into a REPL or built with exec() have none. "
                     "Move the function into a module and import it.")


def parse(fn, lambdas=False):
    """The gast FunctionDef of `fn` and its SourceInfo. With `lambdas`, a lambda (a helper being
    inlined, `relu = lambda z: ...`) is read as the `def` returning its expression."""
    code = getattr(fn, "__code__", None)
    if not isinstance(code, types.CodeType):
        hint = " To see a derivative's code, use adjoint.source(df)." if hasattr(fn, "__adjoint_inline__") else ""
        raise InvalidArgument(f"adjoint reads the source of Python functions (`def`); {fn!r} is not one.{hint}")
    name = getattr(fn, "__qualname__", code.co_name)
    if code.co_name == "<lambda>":
        if not lambdas:
            raise located(UnsupportedSyntax, f"cannot differentiate a lambda ({name})", _code_location(code, "lambda"),
                          "Define the function with `def` and differentiate that function.")
        return _parse_lambda(code, name)
    try:
        # the source of the code that runs (not of a function a decorator's __wrapped__ points to)
        lines, first_line = inspect.getsourcelines(code)
    except (OSError, TypeError) as cause:
        raise _no_source(f"cannot read the source of {name!r} (defined in {code.co_filename}): {cause}.",
                         _ADVICE_NO_SOURCE) from None
    source = "".join(lines)
    # Parse the lines as the file has them, so that columns are the file's columns. An indented
    # `def` (a method, a nested function) parses as the body of an `if`; dedenting instead
    # fails when a multi-line string inside is less indented than the `def`.
    shift = 1 if lines and lines[0][:1] in (" ", "\t") else 0
    try:
        module = gast.parse("if True:\n" + source if shift else source)
    except SyntaxError as error:
        raise _no_source(f"cannot parse the source of {name!r} that Python reports at "
                         f"{code.co_filename}, line {first_line}: {error.msg}.",
                         "The file may have changed since it was imported; reload it. " + _ADVICE_NO_SOURCE) from None
    node = module.body[0].body[0] if shift else module.body[0]
    info = SourceInfo(code.co_filename, first_line, [line.rstrip("\r\n") for line in lines], name, shift)
    if isinstance(node, gast.AsyncFunctionDef):
        raise located(UnsupportedSyntax, f"cannot differentiate `async def {node.name}`", info.location(node),
                      "Differentiate an ordinary `def` function.")
    if not isinstance(node, gast.FunctionDef):
        raise located(UnsupportedSyntax, f"{name} is not a plain function", info.location(node),
                      "Differentiate a function defined with `def`.")
    return node, info


def _parse_lambda(code, name):
    """A lambda as the FunctionDef `def _lambda(<its parameters>): return <its expression>`, located
    in its file (whose lines the SourceInfo holds, so that every node keeps its own position)."""
    lines = linecache.getlines(code.co_filename)
    module = parsed_file(code.co_filename)
    if module is None:
        raise _no_source(f"cannot read the source of the lambda {name!r} (defined in {code.co_filename})",
                         _ADVICE_NO_SOURCE)
    node = lambda_node(code, module)
    if node is None:
        raise located(UnsupportedSyntax, f"cannot tell which of the lambdas on line {code.co_firstlineno} is the "
                      "one called (Python records no columns here: `-X no_debug_ranges`, or a version before 3.11)",
                      _code_location(code, "lambda"),
                      "Define the function with `def`, or put each lambda on a line of its own.")
    definition = gast.parse("def _lambda():\n    return None\n").body[0]
    lowered = gast.ast_to_gast(node)
    definition.args, definition.body[0].value = lowered.args, lowered.body
    for made in (definition, definition.body[0]):
        gast.copy_location(made, lowered)
    return definition, SourceInfo(code.co_filename, 1, [line.rstrip("\r\n") for line in lines], name)


def lambda_node(code, module):
    """The `ast.Lambda` of `module` whose code is `code`, or None if it cannot be told apart from
    another lambda on its line. Python 3.11 gives each instruction its column: the lambda whose
    expression holds the first one of the body's (the innermost, when lambdas nest) is the one."""
    candidates = [node for node in ast.walk(module) if isinstance(node, ast.Lambda)
                  and node.lineno <= code.co_firstlineno <= node.end_lineno]
    positions = getattr(code, "co_positions", None)
    for line, _, col, _ in list(positions())[1:] if positions else ():
        if line is None or col is None:
            continue
        holding = [node for node in candidates
                   if (node.body.lineno, node.body.col_offset) <= (line, col) < (node.body.end_lineno,
                                                                                 node.body.end_col_offset)]
        if holding:
            return max(holding, key=lambda node: (node.body.lineno, node.body.col_offset))
    on_its_line = [node for node in candidates if node.lineno == code.co_firstlineno]
    return on_its_line[0] if len(on_its_line) == 1 else None


@functools.lru_cache(maxsize=64)
def _parsed(filename, text):
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def parsed_file(filename):
    """The file as Python's `ast` parses it (from linecache, the lines Python reports), or None."""
    lines = linecache.getlines(filename)
    return _parsed(filename, "".join(lines)) if lines else None


def _no_source(reason, advice):
    error = SourceUnavailable(f"{reason}\n{advice}")
    error.reason, error.advice = reason, advice  # for callers that add a location
    return error


def _code_location(code, word):
    """The location of the first `word` on the first line of `code`, without parsing it."""
    line = linecache.getline(code.co_filename, code.co_firstlineno).rstrip("\r\n")
    return Location(code.co_filename, code.co_firstlineno, max(line.find(word), 0), line, code.co_name)


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


def is_user_function(fn):
    """A Python function of the user's: code adjoint reads. numpy's own Python functions, and
    adjoint's runtime helpers, stay opaque (without a rule they are an error naming them)."""
    return isinstance(fn, types.FunctionType) and not (fn.__module__ or "").startswith(("numpy", "adjoint."))


def is_user_module(module):
    """A module of the user's (not the standard library's, numpy's or adjoint's): its numbers and
    arrays are read when the derivative runs, as the function's own globals are."""
    root = (getattr(module, "__name__", "") or "").split(".")[0]
    return root not in _LIBRARIES and root not in getattr(sys, "stdlib_module_names", ())


_LIBRARIES = {"numpy", "adjoint", "builtins", "math", "cmath"}  # (stdlib_module_names is new in Python 3.10)


def is_user_class(cls):
    """A class of the user's (not a builtin or numpy type)."""
    module = getattr(cls, "__module__", "") or ""
    return isinstance(cls, type) and module != "builtins" and not module.startswith("numpy")


def is_structure(obj):
    """An object whose structure a compiled derivative may take as fixed: the user's objects and
    the lists, tuples and dicts that hold them (compiling reads their layout, guards.py checks it)."""
    if isinstance(obj, (list, tuple, dict)):
        return True
    return is_user_class(type(obj)) and not isinstance(obj, type) and hasattr(obj, "__dict__") \
        and not callable(getattr(obj, "__array__", None))


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
