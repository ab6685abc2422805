"""The exception hierarchy. Every error raised for the user's code says where and what to do."""


class AdjointError(Exception):
    """Base class of every error adjoint raises on purpose."""


class UnsupportedSyntax(AdjointError):
    """The function uses a Python construct the compiler does not handle."""


class NoDerivativeRule(AdjointError):
    """An active value reaches a call that has no derivative rule."""


class NonScalarOutput(AdjointError):
    """`grad` was asked for a function whose output is not a scalar."""


class SourceUnavailable(AdjointError):
    """The function's source code cannot be read (REPL, exec, builtins)."""


class InvalidArgument(AdjointError):
    """The transform was called with arguments that make no sense (bad `wrt`, ...)."""


class GradientMismatch(AdjointError):
    """`check_grad` found the analytic gradient far from finite differences."""


class Location:
    """A place in the user's source: file, line, column and the line's text.

    `calls` are the call sites through which the compiler reached it (outermost first),
    when it lies in a function that was inlined.
    """

    __slots__ = ("filename", "lineno", "col", "line", "function", "calls")

    def __init__(self, filename, lineno, col, line, function, calls=()):
        self.filename, self.lineno, self.col = filename, lineno, col
        self.line, self.function, self.calls = line, function, tuple(calls)

    def header(self):
        return f'File "{self.filename}", line {self.lineno}, column {self.col + 1}, in {self.function}'

    def describe(self):
        where = self.header()
        if self.line:
            text = self.line.rstrip()
            stripped = text.lstrip()
            caret = " " * max(self.col - (len(text) - len(stripped)), 0) + "^"
            where = f"{where}\n    {stripped}\n    {caret}"
        for call in reversed(self.calls):
            where += f"\n  called from {call.header()}"
            if call.line:
                where += f"\n    {call.line.strip()}"
        return where


def function_at(name, filename, line):
    """A function as the errors name it: `f (path/to/file.py, line 3)`."""
    return f"{name} ({filename}, line {line})"


def located(cls, message, location, advice=None):
    """Build an error of class `cls` whose text names the place and the remedy."""
    parts = [message]
    if location is not None:
        parts.append(location.describe())
    if advice:
        parts.append(advice)
    error = cls("\n".join(parts))
    error.location = location
    # The message is the whole story: when raised while the compiler handles some internal
    # exception (a cache miss, say), do not print that exception above it.
    error.__suppress_context__ = True
    return error
