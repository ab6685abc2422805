"""The derivative rule table: every primitive adjoint knows, with its rules."""
from . import python_rules, numpy_rules, linalg_rules, runtime_rules  # noqa: F401,I001  (they fill the table, in this order)
from .registry import METHODS, NONDIFF, RULES, WITHOUT_RULES, Rule, instantiate, is_nondiff, rule_for

__all__ = ["METHODS", "NONDIFF", "RULES", "WITHOUT_RULES", "Rule", "instantiate", "is_nondiff", "rule_for"]
