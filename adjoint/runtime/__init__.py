"""Helpers that generated derivative code calls.

Each is small, and each has its own derivative rules (in `rules/`), so that generated code can itself
be differentiated. `core` holds those of the rules every program uses, `programs` in-place updates
and lists, `numpy_surface` the helpers of the numpy functions' rules.
"""
from .core import *  # noqa: F401,F403
from .core import _complex_refused, _grad_dtype  # noqa: F401
from .numpy_surface import *  # noqa: F401,F403
from .programs import *  # noqa: F401,F403
