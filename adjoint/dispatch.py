"""The function users call: it checks the guards, picks the specialisation for the argument types
and runs it.

The generic dispatcher builds a key of the arguments' classes, looks it up and calls the compiled
derivative. On the first specialisation it compiles, it rewrites its own code (`__code__`) so that
the call needs no second function: the derivative's body is written into the dispatcher behind a
test of each argument's class,

    def grad_neuron(w0, x0, w1, x1, w2):
        if _holder0.__code__ is _value0 and _type0 is w0.__class__ and ... :
            s = w0 * x0 + w1 * x1 + w2          # the derivative, as adjoint.source shows it
            t1 = math.exp(-s)
            ...
        <the generic dispatch>

which saves a call, a tuple and a dict lookup. The names starting with `_` above, and `math`, are
not globals or closure cells but constants of the code object (`compile` below): the cheapest load
there is, and a function without a closure starts faster (each cell costs about a nanosecond per
call). The sigmoid neuron's gradient went from about 500 ns to about 285 ns (by hand: 210 ns).
"""
import ast
import functools
import itertools
import types
import warnings

from . import codegen, frontend

_serial = itertools.count(1)
_LONGEST_INLINED = 400  # lines of generated code written into the dispatcher at most


def make_dispatcher(transform, lock):
    """A function with the transform's parameters that dispatches on the argument types."""
    params = list(transform.params) + list(transform.extra_params())
    bind_by_hand = bool(transform.defaults and transform.extra_params())  # defaults in the middle
    checks = transform.guards()
    prefix = "_"  # of the dispatcher's own names: no parameter starts with it
    while any(p.startswith(prefix) for p in params):
        prefix += "_"
    cache, inlined = transform.compiled, []

    def specialize(key):
        compiled = transform.specialize(key, cache)
        if not bind_by_hand and not inlined:
            with lock:
                if not inlined:
                    inlined.append(key)
                    template.inline(function, key, compiled)
        return compiled

    constants = {prefix + "cache": cache, prefix + "specialize": specialize, prefix + "bind": transform.bind,
                 prefix + "stale": functools.partial(_call_refreshed, transform, transform.generation,
                                                     tuple(transform.defaults)),
                 prefix + "tuple": tuple, prefix + "map": map, prefix + "type": type}
    for i, check in enumerate(checks):
        constants[f"{prefix}holder{i}"], constants[f"{prefix}value{i}"] = check.holder, check.value
    guard = " and ".join(check.test.format(holder=f"{prefix}holder{i}", value=f"{prefix}value{i}")
                         for i, check in enumerate(checks))
    user_globals = getattr(_base_function(transform), "__globals__", None)
    namespace = user_globals if not bind_by_hand and isinstance(user_globals, dict) else {}
    template = _Template(transform.__name__, params, bind_by_hand, guard, constants, prefix, namespace)
    function = template.compile(template.source(), constants)
    generic = function.__code__

    def forget():
        """Back to the generic code (the rules changed: the body written in may be out of date)."""
        with lock:
            function.__code__ = generic
            inlined.clear()

    function.__adjoint_forget__ = forget
    if transform.defaults and not transform.extra_params():
        function.__defaults__ = tuple(transform.defaults)
    function.__qualname__ = transform.__qualname__
    function.__doc__ = transform.__doc__
    function.__adjoint_transform__ = transform
    function.__adjoint_inline__ = transform.__adjoint_inline__
    return function


class _Template:
    """The dispatcher's source, generic or with one specialisation written in."""

    def __init__(self, name, params, bind_by_hand, guard, constants, prefix, namespace):
        self.name, self.params, self.bind_by_hand, self.guard = name, params, bind_by_hand, guard
        self.constants, self.prefix, self.namespace = constants, prefix, namespace

    def source(self, fast_path=""):
        n, params = self.prefix, ", ".join(self.params)
        if self.bind_by_hand:
            signature = arguments = f"*{n}args, **{n}kwargs"
            prologue = f"    {n}args = {n}bind({n}args, {n}kwargs)\n"
            key, call = f"{n}tuple({n}map({n}type, {n}args))", f"{n}compiled(*{n}args)"
        else:
            signature, arguments, prologue = params, params, ""
            key = "(" + "".join(f"{p}.__class__, " for p in self.params) + ")"
            call = f"{n}compiled({params})"
        check = (f"    if not ({self.guard}):  # the function, a callee or a captured value changed\n"
                 f"        return {n}stale({arguments})\n") if self.guard else ""
        return (f"def {codegen.identifier(self.name)}({signature}):\n{fast_path}{check}{prologue}"
                f"    {n}key = {key}\n"
                f"    {n}compiled = {n}cache.get({n}key)\n"
                f"    if {n}compiled is None:\n"
                f"        {n}compiled = {n}specialize({n}key)\n"
                f"    return {call}\n")

    def compile(self, source, constants):
        """The function `source` defines, each name of `constants` it reads a constant of its code."""
        filename = f"<adjoint dispatch of {self.name} #{next(_serial)}>"
        frontend.register_source(filename, source)
        marked = _Placeholders(constants)
        tree = marked.visit(ast.parse(source, filename))
        with warnings.catch_warnings():  # `x.__class__ is '<mark>'`: no literal once substituted
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(tree, filename, "exec")
        code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        return types.FunctionType(_substituted(code, marked.objects), self.namespace, code.co_name)

    def inline(self, function, key, compiled):
        """Write `compiled`'s body into `function` for arguments of the classes `key`."""
        text = getattr(compiled, "__adjoint_source__", None)
        if text is None or len(key) != len(self.params) or compiled.__globals__ is not function.__globals__:
            return
        if text.count("\n") > _LONGEST_INLINED:  # the saved call is nothing next to the body: keep the
            return                                # compile time (parsing and compiling it again) instead
        try:
            definition = ast.parse(text).body[0]
            body = "".join("        " + line + "\n" for stmt in definition.body
                           for line in ast.unparse(stmt).splitlines())
        except RecursionError:  # an expression nested hundreds deep: the generic path will do
            return
        n = self.prefix
        constants = dict(self.constants)
        constants.update({f"{n}type{i}": cls for i, cls in enumerate(key)})
        local_names = set(compiled.__code__.co_varnames) | set(compiled.__code__.co_freevars) \
            | set(compiled.__code__.co_names)
        if [a.arg for a in definition.args.args] != self.params or local_names & set(constants):
            return
        bound = dict(zip(compiled.__code__.co_freevars, (cell.cell_contents for cell in compiled.__closure__ or ())))
        # a module the body reads (`math.exp`) becomes a constant where it is read; anything else is
        # bound once at the top, where the compiler cannot fold it into an expression
        constants.update({name: value for name, value in bound.items() if isinstance(value, types.ModuleType)})
        constants.update({f"{n}bound{j}": value for j, value in enumerate(bound.values())})
        tests = [self.guard] if self.guard else []
        # the class first: LOAD_CONST and LOAD_FAST run as one instruction (3.11's LOAD_CONST__LOAD_FAST)
        tests += [f"{n}type{i} is {p}.__class__" for i, p in enumerate(self.params)]
        unpack = "".join(f"        {name} = {n}bound{j}\n" for j, (name, value) in enumerate(bound.items())
                         if not isinstance(value, types.ModuleType))
        fast_path = f"    if {' and '.join(tests)}:\n{unpack}{body}"
        try:
            function.__code__ = self.compile(self.source(fast_path), constants).__code__
        except SyntaxError:  # one level deeper than the derivative, past what Python can indent
            return


class _Placeholders(ast.NodeTransformer):
    """Each read of a name in `constants` becomes a unique string constant the compiler leaves
    alone; `objects` maps it to the object `_substituted` puts in its place."""

    def __init__(self, constants):
        self.constants, self.objects = constants, {}

    def visit_Name(self, node):
        if node.id not in self.constants:
            return node
        mark = f"\0adjoint constant {len(self.objects)}"
        self.objects[mark] = self.constants[node.id]
        return ast.copy_location(ast.Constant(mark), node)


def _substituted(code, placeholders):
    """`code` with each placeholder constant (in it or the code nested in it) replaced by its object."""
    consts = tuple(_substituted(c, placeholders) if isinstance(c, types.CodeType)
                   else placeholders.get(c, c) if type(c) is str else c for c in code.co_consts)
    return code.replace(co_consts=consts)


def _base_function(transform):
    while transform.inner is not None:
        transform = transform.inner
    return getattr(transform.fn, "__func__", transform.fn)


def _call_refreshed(transform, generation, old_defaults, *args, **kwargs):
    """Call the dispatcher that replaces a stale one with the arguments the stale one was given;
    those that are its old default values (filled in by Python) become the new defaults."""
    dispatcher = transform.refresh(generation)
    if old_defaults and not kwargs and len(args) == len(transform.params):
        start = len(args) - len(old_defaults)
        new_defaults = dispatcher.__defaults__ or ()
        if len(new_defaults) == len(old_defaults):
            args = args[:start] + tuple(new if given is old else given for given, old, new
                                        in zip(args[start:], old_defaults, new_defaults))
    return dispatcher(*args, **kwargs)
