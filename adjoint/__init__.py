"""adjoint: derivatives of numeric Python functions, generated as readable Python source.

    import adjoint
    df = adjoint.grad(f)          # reverse mode, compiled on first call
    print(adjoint.source(df))     # the derivative as flat Python
"""
from .api import grad, hessian, hvp, jacobian, jvp, source, ssa, value_and_grad, vjp
from .check import check_grad
from .compare import Comparison, compare
from .graph import Graph, graph
from .rules.custom import defjvp, defvjp, primitive
from .runtime import stop_gradient
from .errors import (AdjointError, GradientMismatch, InvalidArgument, NoDerivativeRule, NonScalarOutput,
                     SourceUnavailable, UnsupportedSyntax)

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source", "ssa", "check_grad", "compare", "Comparison", "graph", "Graph", "stop_gradient", "primitive", "defvjp", "defjvp",
           "AdjointError", "UnsupportedSyntax", "NoDerivativeRule", "NonScalarOutput", "SourceUnavailable",
           "InvalidArgument", "GradientMismatch"]
