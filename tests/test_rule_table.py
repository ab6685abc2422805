"""Every rule of the rule table, checked against central finite differences.

The cases are collected from the table itself (`adjoint.rules.RULES`): a rule without an entry
in `CASES` below fails `test_every_rule_has_a_case`, so no rule goes in untested. Each case is an
expression in the arguments `x`, `y`, ... (or a small function body ending in `return`); a
non-scalar result is weighted by fixed random numbers and summed. Reverse and forward mode are
checked with `adjoint.check_grad`; elementwise rules are also checked at second order: the
gradient of a function that calls `adjoint.grad` is checked against finite differences of the
gradient, in both modes, so every second partial (mixed ones included) is compared.
"""
import itertools
import linecache
import math
import operator

import numpy as np
import pytest

import adjoint
from adjoint import runtime as rt
from adjoint.rules import NONDIFF, RULES
from adjoint.rules.table import _group, display_name

rng = np.random.default_rng(20240601)


# -- inputs -------------------------------------------------------------------------------

def signed(*shape):
    """Values in +-[0.3, 1.3]: away from 0, where abs, sign, max and min are not smooth."""
    return rng.uniform(0.3, 1.3, shape) * rng.choice([-1.0, 1.0], shape) if shape else \
        float(rng.uniform(0.3, 1.3) * rng.choice([-1.0, 1.0]))


def positive(*shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape) if shape else float(rng.uniform(low, high))


def unit(*shape):
    """Inside (-0.8, 0.8): the domain of arcsin, arctanh."""
    return rng.uniform(-0.8, 0.8, shape) if shape else float(rng.uniform(-0.8, 0.8))


def above_one(*shape):
    return positive(*shape, low=1.2, high=3.0)


def distinct(*shape):
    """Values at least ~0.1 apart, so sorting, maxima and minima are unique."""
    n = int(np.prod(shape, dtype=int))
    values = rng.permutation(np.linspace(-2.0, 2.0, n) + rng.uniform(-0.02, 0.02, n))
    return values.reshape(shape) if shape else float(values[0])


def spd(*shape):
    """Symmetric positive definite matrices (a stack of them for a 3-d shape), with distinct eigenvalues."""
    a = rng.normal(size=shape)
    n = shape[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n) + np.diag(np.arange(n) * 0.7)


def well_conditioned(*shape):
    return rng.normal(size=shape) + 3 * np.eye(shape[-1]) if len(shape) >= 2 and shape[-1] == shape[-2] \
        else rng.normal(size=shape)


# -- the table ------------------------------------------------------------------------------

class Case:
    def __init__(self, body, args, wrt=None, tol=None, second=False):
        self.body, self.args, self.tol, self.second = body, args, tol or {}, second
        self.wrt = tuple(range(len(args))) if wrt is None else wrt


def case(body, *args, wrt=None, tol=None):
    return Case(body, args, wrt, tol)


# elementwise rules: how to draw each argument. Their cases are made for several shapes (and
# broadcasting pairs), and are checked at second order too.
ELEMENTWISE = {
    operator.add: (signed, signed), operator.sub: (signed, signed), operator.mul: (signed, signed),
    operator.truediv: (signed, signed), operator.pow: (positive, signed), operator.mod: (positive, positive),
    operator.neg: (signed,), operator.pos: (signed,), abs: (signed,), float: (signed,),
    max: (distinct, distinct), min: (distinct, distinct),
    math.sin: (signed,), math.cos: (signed,), math.tan: (unit,), math.asin: (unit,), math.acos: (unit,),
    math.atan: (signed,), math.sinh: (signed,), math.cosh: (signed,), math.tanh: (signed,),
    math.asinh: (signed,), math.acosh: (above_one,), math.atanh: (unit,), math.exp: (signed,),
    math.expm1: (signed,), math.log1p: (positive,), math.log2: (positive,), math.log10: (positive,),
    math.sqrt: (positive,), math.fabs: (signed,), math.degrees: (signed,), math.radians: (signed,),
    math.erf: (signed,), math.erfc: (signed,), math.pow: (positive, signed), math.hypot: (signed, signed),
    math.atan2: (signed, signed), math.log: (positive, above_one), math.fmod: (positive, positive),
    math.remainder: (positive, positive), math.copysign: (signed, signed), math.ldexp: (signed, lambda: 3),
    math.gamma: (positive,), math.lgamma: (positive,), math.nextafter: (signed, signed),
    np.sin: (signed,), np.cos: (signed,), np.tan: (unit,), np.arcsin: (unit,), np.arccos: (unit,),
    np.arctan: (signed,), np.sinh: (signed,), np.cosh: (signed,), np.tanh: (signed,), np.arcsinh: (signed,),
    np.arccosh: (above_one,), np.arctanh: (unit,), np.exp: (signed,), np.exp2: (signed,), np.expm1: (signed,),
    np.log: (positive,), np.log2: (positive,), np.log10: (positive,), np.log1p: (positive,),
    np.sqrt: (positive,), np.cbrt: (signed,), np.square: (signed,), np.reciprocal: (signed,),
    np.negative: (signed,), np.positive: (signed,), np.absolute: (signed,), np.fabs: (signed,),
    np.deg2rad: (signed,), np.rad2deg: (signed,), np.sinc: (signed,),
    np.add: (signed, signed), np.subtract: (signed, signed), np.multiply: (signed, signed),
    np.divide: (signed, signed), np.power: (positive, signed), np.maximum: (distinct, distinct),
    np.minimum: (distinct, distinct), np.fmax: (distinct, distinct), np.fmin: (distinct, distinct),
    np.hypot: (signed, signed), np.logaddexp: (signed, signed), np.logaddexp2: (signed, signed),
    np.remainder: (positive, positive), np.arctan2: (signed, signed),
    np.clip: (lambda *s: distinct(*s) * 2, lambda *s: -1.05 * np.ones(s) if s else -1.05,
              lambda *s: 1.05 * np.ones(s) if s else 1.05),
    rt.log_or_zero: (positive,), rt.sinc_slope: (signed,), rt.digamma: (positive,), rt.power_slope: (positive, signed),
    np.heaviside: (lambda *s: HEAVISIDE_STEPS, signed),  # (cases of their own: see elementwise_cases)
}
if hasattr(math, "cbrt"):
    ELEMENTWISE.update({math.cbrt: (signed,), math.exp2: (signed,)})
# elementwise rules that are not ufuncs: called with numbers only
SCALAR_ONLY = {abs, float, max, min, rt.digamma} | {fn for fn in ELEMENTWISE if getattr(fn, "__module__", "") == "math"}

HEAVISIDE_STEPS = np.array([-1.0, 0.0, 2.0, 0.0])  # np.heaviside(x, y) is y where x is 0 exactly
M = np.array([[0, 1, 0], [1, 0, 1]], dtype=bool)  # a fixed condition for np.where / np.select
Z = np.array([1.0, 0.0, 2.0])  # `x * Z` has a zero, where products' derivatives must not divide

CASES = {
    np.where: [case("np.where(M, x, y)", signed(2, 3), signed(3)), case("np.where(M, x, 2.0)", signed(2, 3))],
    operator.matmul: [case("x @ y", signed(2, 3), signed(3, 4)), case("x @ y", signed(3), signed(3, 2)),
                      case("x @ y", signed(2, 3), signed(3)), case("x @ y", signed(3), signed(3)),
                      case("x @ y", signed(2, 2, 3), signed(3, 2))],
    operator.getitem: [case("x[1:, 0]", signed(3, 2)), case("x[np.array([0, 2, 2])]", signed(4)),
                       case("x[1]", signed(3)), case("x[..., None, 1]", signed(2, 3))],
    sum: [case("sum(x)", signed(4)), case("sum(x, y)", signed(4), signed()), case("sum(x, start=y)", signed(3), signed(2, 1)),
          case("xs = [x * k for k in range(3)]\n    return sum(xs, y)", signed(), signed(2))],
    math.fsum: [case("math.fsum([x, y, 2.0])", signed(), signed()), case("math.fsum(x)", signed(3))],
    math.prod: [case("math.prod([x, y, 2.0])", signed(), signed()), case("math.prod(x)", signed(3)),
                case("math.prod([x], start=y)", signed(), signed())],
    math.dist: [case("math.dist([x, y], [1.0, 2.0])", signed(), signed()), case("math.dist(x, y)", signed(3), signed(3))],
    math.frexp: [case("math.frexp(x)[0]", positive()), case("m, e = math.frexp(x)\n    return m * e", positive(low=3, high=7))],
    math.modf: [case("a, b = math.modf(x)\n    return a * b + a", positive(low=1.1, high=1.9))],
    np.nan_to_num: [case("np.nan_to_num(x * y)", signed(3), signed(3))],
    np.sum: [case("np.sum(x)", signed(2, 3)), case("np.sum(x, 1)", signed(2, 3)),
             case("np.sum(x, axis=0, keepdims=True)", signed(2, 3)), case("x.sum(axis=(0, 2))", signed(2, 3, 2))],
    np.mean: [case("np.mean(x, 0)", signed(2, 3)), case("x.mean()", signed(3))],
    np.prod: [case("np.prod(x, 1)", signed(2, 3)), case("np.prod(x)", signed(3))],
    np.max: [case("np.max(x, 0)", distinct(3, 2)), case("x.max()", distinct(4)), case("np.max(x, axis=1)", distinct(3, 2)),
             case("np.max(x, (0, 2))", distinct(2, 3, 2))],
    np.min: [case("np.min(x, axis=1, keepdims=True)", distinct(3, 2)), case("x.min(-1)", distinct(2, 3))],
    np.amax: [case("np.amax(x)", distinct(2, 2)), case("np.amax(x, 1)", distinct(2, 2))],
    np.amin: [case("np.amin(x, 0)", distinct(2, 2)), case("np.amin(x, axis=1)", distinct(2, 3))],
    np.var: [case("np.var(x)", signed(4)), case("np.var(x, 1)", signed(2, 3)),
             case("np.var(x, axis=0, ddof=1, keepdims=True)", signed(3, 2)), case("x.var(0)", signed(3, 2))],
    np.std: [case("np.std(x)", signed(4)), case("np.std(x, axis=(0, 1), ddof=1)", signed(2, 3, 2)),
             case("x.std(1, keepdims=True)", signed(2, 3))],
    np.cumsum: [case("np.cumsum(x)", signed(2, 3)), case("np.cumsum(x, axis=1)", signed(2, 3)),
                case("x.cumsum(0)", signed(3))],
    np.cumprod: [case("np.cumprod(x)", signed(2, 3)), case("np.cumprod(x, axis=0)", signed(3, 2)),
                 case("np.cumprod(x * Z)", signed(3)), case("x.cumprod(1) * np.cumprod(x * Z, 1)", signed(2, 3))],
    np.trace: [case("np.trace(x)", signed(3, 3)), case("np.trace(x, 1)", signed(3, 4)),
               case("np.trace(x, -1, axis1=1, axis2=2)", signed(2, 3, 3)), case("x.trace()", signed(2, 3))],
    np.diff: [case("np.diff(x)", signed(5)), case("np.diff(x, 2, axis=0)", signed(4, 2))],
    np.dot: [case("np.dot(x, y)", signed(2, 3), signed(3, 2)), case("np.dot(x, y)", signed(3), signed(3)),
             case("np.dot(x, y)", signed(2, 3), signed(2, 3, 2)), case("x.dot(y)", signed(2), signed(2, 3))],
    np.matmul: [case("np.matmul(x, y)", signed(2, 3), signed(3))],
    np.outer: [case("np.outer(x, y)", signed(3), signed(2, 2))],
    np.einsum: [case("np.einsum('ij,jk->ik', x, y)", signed(2, 3), signed(3, 2)),
                case("np.einsum('ii->', x)", signed(3, 3)), case("np.einsum('ij->i', x)", signed(2, 3)),
                case("np.einsum('i,j', x, y)", signed(2), signed(3)),
                case("np.einsum('...ij,...jk', x, y)", signed(2, 2, 3), signed(3, 2)),
                case("np.einsum('ii->i', x)", signed(3, 3)), case("np.einsum('i,i,i->', x, y, x)", signed(3), signed(3)),
                case("np.einsum('ij,j->', x, 2.0 * y)", signed(2, 3), signed(1))],
    np.tensordot: [case("np.tensordot(x, y)", signed(2, 3), signed(2, 3)),
                   case("np.tensordot(x, y, 1)", signed(2, 3), signed(3, 2)),
                   case("np.tensordot(x, y, axes=([0, 2], [1, 0]))", signed(2, 3, 2), signed(2, 2, 3))],
    np.inner: [case("np.inner(x, y)", signed(3), signed(3)), case("np.inner(x, y)", signed(2, 3), signed(4, 3)),
               case("np.inner(x, y)", signed(), signed(2))],
    np.kron: [case("np.kron(x, y)", signed(2, 3), signed(2, 2)), case("np.kron(x, y)", signed(2), signed(2, 3))],
    np.cross: [case("np.cross(x, y)", signed(3), signed(3)), case("np.cross(x, y)", signed(2, 3), signed(3)),
               case("np.cross(x, y, axis=0)", signed(3, 2), signed(3, 2)),
               # 2-vectors (deprecated in numpy 2, still computed): as 3-vectors in the plane z = 0
               case("np.cross(x, y)", signed(2), signed(2)), case("np.cross(x, y)", signed(4, 2), signed(2)),
               case("np.cross(x, y)", signed(2), signed(3)), case("np.cross(x, y, axis=0)", signed(2, 3), signed(2, 3)),
               case("np.cross(x, y, axisa=0, axisb=0, axisc=0)", signed(3, 4), signed(2, 1)),
               case("np.cross(x, y, axisa=1, axisb=0, axisc=1)", signed(2, 3, 4), signed(3, 4))],
    np.transpose: [case("np.transpose(x)", signed(2, 3)), case("np.transpose(x, (1, 2, 0))", signed(2, 3, 2)),
                   case("x.T", signed(2, 3))],
    # (order='F' is read as order 'C' of transposes: lower_data.read_in_order)
    np.reshape: [case("np.reshape(x, (3, 2))", signed(2, 3)), case("x.reshape(6)", signed(2, 3)),
                 case("np.reshape(x, (3, 2), order='F')", signed(2, 3)), case("x.reshape(3, 2, 2, order='F')", signed(2, 6)),
                 case("np.reshape(x, x.T.shape, 'F') + x.reshape(-1, order='C')[:1]", signed(3, 2))],
    np.ravel: [case("np.ravel(x)", signed(2, 3)), case("np.ravel(x, order='F')", signed(2, 3, 2)), case("x.ravel('F')", signed(2, 3))],
    rt.flatten: [case("flatten(x.T)", signed(2, 3)), case("x.flatten(order='F')", signed(2, 3)), case("x.flatten('C')", signed(2, 3))],
    np.squeeze: [case("np.squeeze(x)", signed(1, 3)), case("np.squeeze(x, 1)", signed(2, 1))],
    np.expand_dims: [case("np.expand_dims(x, 0)", signed(3)), case("np.expand_dims(x, (0, 2))", signed(3))],
    np.concatenate: [case("np.concatenate([x, y, x])", signed(2), signed(3)),
                     case("np.concatenate((x, y), axis=1)", signed(2, 1), signed(2, 3)),
                     case("np.concatenate([x, y], axis=None)", signed(2, 2), signed(3))],
    np.stack: [case("np.stack([x, y])", signed(3), signed(3)), case("np.stack((x, y), axis=-1)", signed(2, 2), signed(2, 2))],
    np.hstack: [case("np.hstack([x, y])", signed(2), signed(3)), case("np.hstack((x, y))", signed(2, 2), signed(2, 1)),
                case("np.hstack([x, y])", signed(), signed(2))],
    np.vstack: [case("np.vstack([x, y])", signed(3), signed(2, 3)), case("np.vstack((x, y))", signed(), signed())],
    np.column_stack: [case("np.column_stack([x, y])", signed(3), signed(3, 2))],
    np.append: [case("np.append(x, y)", signed(2, 2), signed(3)), case("np.append(x, y, axis=0)", signed(1, 2), signed(2, 2))],
    np.array: [case("np.array([x, y, x * y])", signed(), signed()), case("np.array([x, y])", signed(3), signed(3)),
               case("np.array([[x, -y], (y, x * y)])", signed(), signed()), case("np.array(x * y)", signed(), signed())],
    np.asarray: [case("np.asarray(x)", signed(3)), case("np.asarray(x * y, copy=None)", signed(3), signed()), case("np.asarray([[x, 1.0], [y, x]], dtype=float)", signed(), signed())],
    np.copy: [case("np.copy(x)", signed(3)), case("x.copy()", signed(2, 2))],
    np.split: [case("np.split(x, 3)[1]", signed(6)),
               case("a, b = np.split(x, [1], axis=1)\n    return a * b[:, :1] + b", signed(2, 3)),
               case("a, b, c = np.split(x, 3)\n    return a - c", signed(3, 2))],
    np.array_split: [case("np.array_split(x, 2)[0]", signed(5)),
                     case("a, b = np.array_split(x, 2, axis=1)\n    return np.sum(a) * b", signed(2, 3))],
    np.atleast_1d: [case("np.atleast_1d(x)", signed()), case("np.atleast_1d(x)", signed(2))],
    np.atleast_2d: [case("np.atleast_2d(x)", signed(3)), case("np.atleast_2d(x)", signed())],
    np.atleast_3d: [case("np.atleast_3d(x)", signed(2, 3)), case("np.atleast_3d(x)", signed(3))],
    np.swapaxes: [case("np.swapaxes(x, 0, 2)", signed(2, 3, 2)), case("x.swapaxes(0, 1)", signed(2, 3))],
    np.moveaxis: [case("np.moveaxis(x, 0, -1)", signed(2, 3, 2)), case("np.moveaxis(x, [0, 1], [2, 0])", signed(2, 3, 2))],
    np.broadcast_to: [case("np.broadcast_to(x, (2, 3))", signed(3)), case("np.broadcast_to(x, (2, 3))", signed(2, 1)),
                      case("np.broadcast_to(x, (3,))", signed())],
    np.repeat: [case("np.repeat(x, 2)", signed(2, 2)), case("np.repeat(x, [1, 0, 2], axis=1)", signed(2, 3)),
                case("x.repeat(3, 0)", signed(2))],
    np.tile: [case("np.tile(x, 2)", signed(3)), case("np.tile(x, (2, 1, 2))", signed(2, 3))],
    np.roll: [case("np.roll(x, 1)", signed(2, 3)), case("np.roll(x, (1, -1), axis=(0, 1))", signed(2, 3))],
    np.flip: [case("np.flip(x)", signed(2, 3)), case("np.flip(x, 1)", signed(2, 3))],
    np.fliplr: [case("np.fliplr(x)", signed(2, 3))],
    np.flipud: [case("np.flipud(x)", signed(2, 3))],
    np.diag: [case("np.diag(x)", signed(3)), case("np.diag(x, 1)", signed(2)), case("np.diag(x)", signed(3, 3)),
              case("np.diag(x, -1)", signed(3, 4))],
    np.diagonal: [case("np.diagonal(x)", signed(3, 3)), case("np.diagonal(x, 1, 2, 0)", signed(3, 2, 4)),
                  case("x.diagonal(-1)", signed(3, 2))],
    np.tril: [case("np.tril(x)", signed(3, 3)), case("np.tril(x, -1)", signed(2, 3, 3))],
    np.triu: [case("np.triu(x, 1)", signed(3, 4))],
    np.pad: [case("np.pad(x, 1)", signed(2, 3)), case("np.pad(x, ((1, 0), (0, 2)), constant_values=3.0)", signed(2, 3)),
             case("np.pad(x, 2, 'reflect')", signed(4)), case("np.pad(x, (1, 2), mode='edge')", signed(2, 3)),
             case("np.pad(x, 2, 'wrap')", signed(3)), case("np.pad(x, 1, 'symmetric')", signed(2, 2))],
    np.sort: [case("np.sort(x)", distinct(5)), case("np.sort(x, axis=0)", distinct(3, 2)),
              case("np.sort(x, axis=None)", distinct(2, 3))],
    np.take: [case("np.take(x, [0, 2, 2])", signed(2, 2)), case("np.take(x, np.array([[0, 1], [1, 1]]), axis=1)", signed(2, 3)),
              case("x.take(1, 0)", signed(3, 2))],
    np.take_along_axis: [case("np.take_along_axis(x, np.array([[0, 0], [2, 1]]), 1)", signed(2, 3)),
                         case("np.take_along_axis(x, np.array([[1], [0], [0]]), axis=0)", signed(3, 2)),
                         case("np.take_along_axis(x, np.array([3, 0, 0]), None)", signed(2, 2))],
    # arrays made from numbers: moved by them (an integer dtype truncates: no derivative)
    np.full: [case("np.full((2, 3), x)", signed()), case("np.full((2, 3), x)", signed(3)),
              case("np.full(3, x, dtype=int) * y + x", signed(), signed(3))],
    np.full_like: [case("np.full_like(y, x)", signed(), signed(2, 3)), case("np.full_like(y, x)", signed(3), signed(2, 3)),
                   case("np.full_like(np.arange(3), x) * x + np.full_like(y, x, order='C')", signed(), signed(3))],
    np.linspace: [case("np.linspace(x, y, 5)", signed(), signed()), case("np.linspace(x, y, 1)", signed(), signed()),
                  case("np.linspace(x, y, 4, endpoint=False, axis=-1)", signed(2), signed(3, 1)),
                  case("s, d = np.linspace(x, y, 3, retstep=True)\n    return s * d", signed(2), signed()),
                  case("np.linspace(x, y, 3, dtype=int) * y", signed(), signed())],
    np.arange: [case("np.arange(x, 2.0, 0.5)", signed()), case("np.arange(x, x + 2.0, y) ** 2", signed(), positive(low=0.41, high=0.49)),
                case("np.arange(x) * x", positive(low=2.2, high=2.8)), case("np.arange(2.0, step=x) * y", positive(low=0.7, high=0.9), signed())],
    np.bincount: [case("np.bincount(np.array([0, 2, 2]), x, 4)", signed(3)),
                  case("np.bincount(np.array([1, 1, 0]), weights=x * y)", signed(3), signed())],
    np.select: [case("np.select([M, ~M], [x, y], 0.5)", signed(2, 3), signed(3)),
                case("np.select([x > 0, M], [x * y, y], y)", signed(2, 3), signed(2, 3))],
    np.linalg.det: [case("np.linalg.det(x)", well_conditioned(3, 3)), case("np.linalg.det(x)", well_conditioned(2, 2, 2))],
    np.linalg.slogdet: [case("np.linalg.slogdet(x)[1]", well_conditioned(3, 3)),
                        case("s, l = np.linalg.slogdet(x)\n    return s * l", well_conditioned(2, 3, 3))],
    np.linalg.inv: [case("np.linalg.inv(x)", well_conditioned(3, 3)), case("np.linalg.inv(x)", well_conditioned(2, 2, 2))],
    np.linalg.solve: [case("np.linalg.solve(x, y)", well_conditioned(3, 3), signed(3)),
                      case("np.linalg.solve(x, y)", well_conditioned(3, 3), signed(3, 2)),
                      case("np.linalg.solve(x, y)", well_conditioned(2, 3, 3), signed(2, 3, 1)),
                      case("np.linalg.solve(x, y)", well_conditioned(2, 3, 3), signed(3)),
                      case("np.linalg.solve(x, y)", well_conditioned(2, 3, 3), signed(3, 2)),
                      case("np.linalg.solve(x, y)", well_conditioned(2, 3, 3), signed(1, 3, 2)),
                      case("np.linalg.solve(x, y)", well_conditioned(3, 3), signed(2, 3, 2))],
    np.linalg.cholesky: [case("np.linalg.cholesky(x)", spd(3, 3)), case("np.linalg.cholesky(x)", spd(2, 2, 2))],
    np.linalg.eigh: [case("np.linalg.eigh(x)[0]", spd(3, 3)),
                     case("w, v = np.linalg.eigh(x)\n    return w[0] * v[:, 1] ** 2 + v[:, 2] ** 2", spd(3, 3)),
                     case("np.linalg.eigh(x)[1] ** 2", spd(2, 3, 3))],
    np.linalg.pinv: [case("np.linalg.pinv(x)", signed(3, 2)), case("np.linalg.pinv(x)", signed(2, 4)),
                     case("np.linalg.pinv(x)", signed(2, 2, 3))],
    np.linalg.norm: [case("np.linalg.norm(x)", signed(3)), case("np.linalg.norm(x)", signed(2, 3)),
                     case("np.linalg.norm(x, 1)", signed(3)), case("np.linalg.norm(x, np.inf)", distinct(3)),
                     case("np.linalg.norm(x, 3, axis=1)", signed(2, 3)),
                     case("np.linalg.norm(x, axis=0, keepdims=True)", signed(2, 3)),
                     case("np.linalg.norm(x, 'nuc')", signed(3, 2)), case("np.linalg.norm(x, 2)", signed(3, 3)),
                     case("np.linalg.norm(x, -2)", signed(3, 3)), case("np.linalg.norm(x, 1)", distinct(3, 3)),
                     case("np.linalg.norm(x, -np.inf)", distinct(3, 3)),
                     case("np.linalg.norm(x, 'fro', axis=(0, 2))", signed(2, 2, 3))],
    # methods kept as methods
    **{fn: [case("x.astype(np.float64)", signed(3))] for fn in RULES if display_name(fn) == "x.astype(...)"},
    # the runtime helpers, as the derivative code that calls them would
    rt.unbroadcast: [case("unbroadcast(x, y)", signed(2, 3), signed(3), wrt=0),
                     case("unbroadcast(x, y)", signed(2, 3), signed(2, 1), wrt=0)],
    rt.broadcast_like: [case("broadcast_like(x, y)", signed(3), signed(2, 3), wrt=0)],
    rt.repeat_to: [case("repeat_to(x, y, 1)", signed(2), signed(2, 3), wrt=0), case("repeat_to(x, y)", signed(), signed(2), wrt=0)],
    rt.select_extremum: [case("select_extremum(x, y, np.max(y, 0), 0)", signed(3), distinct(2, 3), wrt=0),
                         case("select_extremum(x, y, np.min(y, 1), 1)", signed(2), distinct(2, 3), wrt=0)],
    rt.matmul_vjp_left: [case("matmul_vjp_left(x, y, z)", signed(2, 4), signed(2, 3), signed(3, 4), wrt=(0, 2))],
    rt.matmul_vjp_right: [case("matmul_vjp_right(x, y, z)", signed(2, 4), signed(2, 3), signed(3, 4), wrt=(0, 1))],
    rt.dot_vjp_left: [case("dot_vjp_left(x, y, z)", signed(2, 4), signed(2, 3), signed(3, 4), wrt=(0, 2))],
    rt.dot_vjp_right: [case("dot_vjp_right(x, y, z)", signed(2, 4), signed(2, 3), signed(3, 4), wrt=(0, 1))],
    rt.prod_others: [case("prod_others(x, 1)", signed(2, 3)), case("prod_others(x)", signed(3)),
                     case("prod_others(x * np.array([1.0, 0.0, 2.0]))", signed(3))],
    rt.prod_others_tangent: [case("prod_others_tangent(x, y, 1)", signed(2, 3), signed(2, 3), wrt=1),
                             case("prod_others_tangent(x, y)", signed(3), signed(3), wrt=1)],
    rt.cumprod_tangent: [case("cumprod_tangent(x, y, 1)", signed(2, 3), signed(2, 3)),
                         case("cumprod_tangent(x * Z, y)", signed(2, 3), signed(2, 3))],
    rt.cumprod_cotangent: [case("cumprod_cotangent(x, y, 0)", signed(3, 2), signed(3, 2)),
                           case("cumprod_cotangent(x * Z, y)", signed(2, 3), signed(6))],
    rt.cumprod_curvature: [case("cumprod_curvature(x, y, z, 1)", signed(2, 3), signed(2, 3), signed(2, 3), wrt=(1, 2)),
                           case("cumprod_curvature(x * Z, y, z)", signed(3), signed(3), signed(3), wrt=(1, 2))],
    rt.cumprod_curvature_cotangent: [
        case("cumprod_curvature_cotangent(x, y, z, -1)", signed(2, 3), signed(2, 3), signed(2, 3), wrt=(1, 2)),
        case("cumprod_curvature_cotangent(x * Z, y, z)", signed(2, 3), signed(6), signed(2, 3), wrt=(1, 2))],
    rt.untranspose: [case("untranspose(x, (2, 0, 1))", signed(2, 3, 2))],
    rt.add_at: [case("add_at(x + 0.0, y, z, slice(1, None))", signed(4), signed(3), signed(4), wrt=(0, 1))],
    rt.unindex: [case("unindex(x, y, (slice(1, None), 0))", signed(2), signed(3, 2), wrt=0)],
    rt.cast_like: [case("cast_like(x, y)", signed(3), signed(3), wrt=0)],
    rt.as_grad: [case("as_grad(x, y)", signed(3), signed(2, 3), wrt=0)],
    rt.as_seed: [case("as_seed(x, y, 'd_y', 'y')", signed(2, 3), signed(2, 3), wrt=0),
                 case("as_seed(x, y, 'd_y', 'y')", signed(), signed(), wrt=0)],
    rt.mT: [case("mT(x)", signed(2, 2, 3))],
    rt.polygamma: [case("polygamma(1, x)", positive()), case("polygamma(2, x)", positive(low=0.3, high=0.9))],
    rt.uncumsum: [case("uncumsum(x, y, 1)", signed(2, 3), signed(2, 3), wrt=0), case("uncumsum(x, y)", signed(6), signed(2, 3), wrt=0)],
    rt.undiagonal: [case("undiagonal(x, y, 1)", signed(2), signed(3, 3), wrt=0)],
    rt.untrace: [case("untrace(x, y, 0, 1, 2)", signed(2), signed(2, 3, 3), wrt=0)],
    rt.undiag: [case("undiag(x, y)", signed(3, 3), signed(3), wrt=0), case("undiag(x, y, 1)", signed(2), signed(2, 3), wrt=0)],
    rt.unrepeat: [case("unrepeat(x, y, 2, 1)", signed(2, 4), signed(2, 2), wrt=0), case("unrepeat(x, y, [2, 1])", signed(3), signed(2), wrt=0)],
    rt.untile: [case("untile(x, y, (2, 1))", signed(4, 3), signed(2, 3), wrt=0)],
    rt.unpad: [case("unpad(x, y, 1)", signed(4, 5), signed(2, 3), wrt=0), case("unpad(x, y, 2, 'reflect')", signed(7), signed(3), wrt=0)],
    rt.unjoin: [case("unjoin(x, [y, y], 1, 'concatenate', 0)", signed(4, 3), signed(2, 3), wrt=0),
                case("unjoin(x, [y, y], 0, 'hstack')", signed(4), signed(2), wrt=0)],
    rt.rejoin: [case("rejoin(x, [y, y, y], 2, 'stack', 1)", signed(2), signed(2), wrt=0)],
    rt.unsort: [case("unsort(x, y, 0)", signed(3, 2), distinct(3, 2), wrt=0), case("unsort(x, y, None)", signed(4), distinct(2, 2), wrt=0)],
    rt.undiff: [case("undiff(x, 2, 0)", signed(3, 2))],
    rt.untake: [case("untake(x, y, [0, 2, 0], 1)", signed(2, 3), signed(2, 4), wrt=0)],
    rt.untake_along_axis: [case("untake_along_axis(x, y, np.array([[1, 1], [0, 2]]), 1)", signed(2, 2), signed(2, 3), wrt=0)],
    rt.einsum_part: [case("einsum_part(x, 'ij,jk->ik', [y, z], 0)", signed(2, 2), signed(2, 3), signed(3, 2)),
                     case("einsum_part(x, 'ij,jk->ik', [y, z], 1)", signed(2, 2), signed(2, 3), signed(3, 2)),
                     case("einsum_part(x, 'ij->j', [y], 0)", signed(3), signed(2, 3))],  # (no other operand)
    rt.kron_vjp_left: [case("kron_vjp_left(x, y, z)", signed(4, 6), signed(2, 3), signed(2, 2), wrt=(0, 2))],
    rt.kron_vjp_right: [case("kron_vjp_right(x, y, z)", signed(4, 6), signed(2, 3), signed(2, 2), wrt=(0, 1))],
    rt.norm_grad: [case("norm_grad(x, np.linalg.norm(x))", signed(3)),
                   case("norm_grad(x, np.linalg.norm(x, 3, 1), 3, 1)", signed(2, 3)),
                   case("norm_grad(x, y)", signed(3), positive()),
                   case("norm_grad(x, np.linalg.norm(x, 'nuc'), 'nuc')", signed(3, 2)),
                   case("norm_grad(x, np.linalg.norm(x, 2), 2)", signed(2, 3)),
                   case("norm_grad(x, np.linalg.norm(x, -2, (0, 2)), -2, (0, 2))", signed(3, 2, 3)),
                   case("norm_grad(x, np.linalg.norm(x, np.inf), np.inf)", distinct(3, 3))],
    rt.to_columns: [case("to_columns(x, y, z)", signed(2, 3), signed(2, 3, 3), signed(3), wrt=0),
                    case("to_columns(x, y, z)", signed(2, 3, 2), signed(2, 3, 3), signed(3, 2), wrt=0)],
    rt.from_columns: [case("from_columns(x, y, z)", signed(2, 3, 1), signed(2, 3, 3), signed(3), wrt=0),
                      case("from_columns(x, y, z)", signed(3, 2), signed(3, 3), signed(3, 2), wrt=0)],
    rt.tril_half: [case("tril_half(x)", signed(3, 3))],
    rt.from_lower: [case("from_lower(x)", signed(2, 3, 3))],
    rt.to_lower: [case("to_lower(x)", signed(3, 3))],
    rt.diag_embed: [case("diag_embed(x)", signed(2, 3))],
    rt.eigh_gaps: [case("eigh_gaps(x)", distinct(4))],
    rt.cross_cotangent: [case("cross_cotangent(x, y, z)", signed(3), signed(3), signed(3), wrt=(0, 1)),
                         case("cross_cotangent(x, y, z)", signed(4), signed(4, 2), signed(2), wrt=(0, 1)),
                         case("cross_cotangent(x, y, z, 0, -1, 1)", signed(4, 3), signed(3, 4), signed(4, 2), wrt=(0, 1)),
                         case("cross_cotangent(x, y, z, axis=0)", signed(3, 2), signed(2, 2), signed(3, 2), wrt=(0, 1))],
    rt.sum_cotangent: [case("sum_cotangent(x, y)", signed(2, 3), signed(4, 3), wrt=0),
                       case("sum_cotangent(x, y)", signed(2, 3), signed(4), wrt=0)],
    rt.linspace_cotangent: [case("linspace_cotangent(x, 4, True, False, 0, 1)", signed(4)),
                            case("linspace_cotangent(x, 3, False, False, -1, 0)", signed(2, 3)),
                            case("linspace_cotangent(np.linspace(x, y, 3, retstep=True), 3, True, True, 0, 0)", signed(2), signed())],
}
if hasattr(rt, "list_append"):  # lists built at run time (lower_data.py)
    CASES.update({
        rt.setitem: [case("setitem(x, 1, y)", signed(3), signed())],
        rt.new_list: [case("stack_list(new_list([x, y]))", signed(2), signed(2))],
        rt.list_append: [case("stack_list(list_append(new_list([x]), y))", signed(2), signed(2))],
        rt.stack_list: [case("stack_list(new_list([x, y]), 1)", signed(2), signed(2))],
        rt.list_cotangent: [case("list_cotangent(x, 1)", signed(2, 3))],
        rt.list_last: [case("list_last(list_append(new_list([x]), y))", signed(2), signed(2))],
        rt.list_without_last: [case("stack_list(list_without_last(new_list([x, y, x * y])))", signed(2), signed(2))],
        rt.last_cotangent: [case("last_cotangent(x, new_list([y, y]))", signed(2), signed(2), wrt=0)],
        rt.without_last_cotangent: [case("without_last_cotangent(x, new_list([y, y, y]))", signed(2, 2), signed(2),
                                         wrt=0)],
        rt.pushed_cotangent: [case("pushed_cotangent(x, y, new_list([z, z, z]))", signed(2, 2), signed(2), signed(2),
                                   wrt=(0, 1))],
    })
if hasattr(rt, "item_cotangent"):  # `x[index] = v` into an integer array stores no derivative (lower_data.py)
    CASES.update({
        rt.item_cotangent: [case("item_cotangent(x, 1, y)", signed(3), signed(3), wrt=0)],
        rt.item_tangent: [case("item_tangent(x, y)", signed(3), signed(3), wrt=0)],
        # `y[[0, 0, 2]] = x` keeps x[1] and x[2] only
        rt.kept_writes: [case("kept_writes(x, [0, 0, 2], y)", signed(3), signed(3), wrt=0),
                         case("kept_writes(x, ([1, 1], [0, 0]), y)", signed(2), signed(2, 2), wrt=0)],
    })


def elementwise_cases(fn):
    """Cases for an elementwise rule: numbers, and for ufuncs vectors, matrices and broadcasting pairs."""
    draws = ELEMENTWISE[fn]
    name = display_name(fn)
    arity = len(draws)
    params = "xyz"[:arity]
    if name.startswith("a ") or name in ("-a", "+a"):  # an operator
        body = f"x {name.split()[1]} y" if arity == 2 else f"{name[0]}x"
    else:
        body = f"{name}({', '.join(params)})"
    if fn is math.ldexp:
        return [Case("math.ldexp(x, 3)", (signed(),), 0, second=True)]
    if fn is np.heaviside:  # (a step in x: differentiated in y only)
        return [Case("np.heaviside(x, y)", (HEAVISIDE_STEPS, signed(4)), 1, second=True),
                Case("np.heaviside(x, y)", (HEAVISIDE_STEPS, signed()), 1, second=True)]
    shapes = [()] if fn in SCALAR_ONLY else [(), (3,), (2, 3)]
    if arity == 2 and fn not in SCALAR_ONLY:
        shapes += [((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2,))]
    if arity == 3:
        shapes = [(2, 3)] if fn not in SCALAR_ONLY else [()]
    cases = []
    for shape in shapes:
        per_arg = shape if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple) else (shape,) * arity
        args = tuple(draw(*s) for draw, s in zip(draws, per_arg))
        cases.append(Case(body, args, second=True))
    return cases


def table():
    """(id, rule key, Case) for every rule of adjoint's own (not rules tests added)."""
    out = []
    for fn, rule in RULES.items():
        if _group(fn) is None:
            continue
        cases = elementwise_cases(fn) if fn in ELEMENTWISE else CASES.get(fn, [])
        for n, c in enumerate(cases):
            out.append((f"{display_name(fn)}-{n}", fn, c))
    return out


TABLE = table()


# -- making test functions from the table ------------------------------------------------------

_counter = itertools.count()
NAMESPACE = {"np": np, "math": math, "M": M, "Z": Z}
NAMESPACE.update({name: getattr(rt, name) for name in dir(rt) if not name.startswith("_")})


def define(source, name, namespace):
    """A function from source text, with the source registered so adjoint can read it back."""
    filename = f"<rule table case {next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def make_function(c):
    """`f(x, y, ...)`: the case's expression, weighted by fixed random numbers and summed if not a number."""
    params = ", ".join("xyz"[:len(c.args)])
    namespace = dict(NAMESPACE)
    body = c.body if "return" in c.body else f"return {c.body}"
    raw = define(f"def raw({params}):\n    {body}\n", "raw", dict(namespace))
    value = raw(*c.args)
    if np.ndim(value) == 0 and not isinstance(value, tuple):
        return define(f"def f({params}):\n    {body}\n", "f", namespace)
    namespace["W"] = rng.uniform(0.5, 1.5, np.shape(value))
    lines = [line.strip() for line in c.body.split("\n")]
    lines[-1] = lines[-1].replace("return ", "result = ", 1) if "return" in c.body else f"result = {c.body}"
    text = "\n    ".join(lines)
    return define(f"def f({params}):\n    {text}\n    return np.sum(W * result)\n", "f", namespace)


def tolerances(c):
    return dict({"rtol": 1e-4, "atol": 1e-6}, **c.tol)


@pytest.mark.parametrize("name, fn, c", TABLE, ids=[t[0] for t in TABLE])
def test_rule_matches_finite_differences(name, fn, c):
    f = make_function(c)
    adjoint.check_grad(f, *c.args, wrt=c.wrt, **tolerances(c))


SECOND = [t for t in TABLE if t[2].second]


@pytest.mark.parametrize("name, fn, c", SECOND, ids=[t[0] for t in SECOND])
def test_elementwise_rule_second_order(name, fn, c):
    """The gradient's own gradient (forward-over-reverse and reverse-over-reverse) against finite
    differences of the gradient: all second partials of the rule."""
    f = make_function(c)
    params = "xyz"[:len(c.args)]
    namespace = dict(NAMESPACE, f=f, adjoint=adjoint)
    terms = []
    for k, p in enumerate(params):
        namespace[f"df{k}"] = adjoint.grad(f, wrt=k)
        namespace[f"V{k}"] = rng.uniform(0.5, 1.5, np.shape(c.args[k]))
        terms.append(f"np.sum(V{k} * df{k}({', '.join(params)}))")
    h = define(f"def h({', '.join(params)}):\n    return {' + '.join(terms)}\n", "h", namespace)
    adjoint.check_grad(h, *c.args, wrt=c.wrt, rtol=1e-4, atol=1e-5)


def test_every_rule_has_a_case():
    """A rule added to the table without a case here fails this test."""
    missing = [display_name(fn) for fn in RULES if _group(fn) is not None and fn not in ELEMENTWISE and fn not in CASES]
    assert not missing, f"rules without a case in tests/test_rule_table.py: {missing}"
    unused = [display_name(fn) for fn in list(CASES) + list(ELEMENTWISE) if fn not in RULES]
    assert not unused, f"cases for functions without rules: {unused}"


def test_elementwise_rules_have_elementwise_cases():
    """Elementwise rules get the automatic shapes and the second-order check."""
    structural = [display_name(fn) for fn, rule in RULES.items()
                  if _group(fn) is not None and rule.elementwise and fn not in ELEMENTWISE and fn is not np.where]
    assert not structural, f"elementwise rules missing from ELEMENTWISE: {structural}"


@pytest.mark.parametrize("fn", [np.floor, np.ceil, np.round, np.rint, np.trunc, np.sign, np.argmax, np.argmin,
                                np.argsort, np.isfinite, np.isnan, np.zeros_like, np.ones_like, np.empty_like,
                                np.eye, np.tri, np.searchsorted, np.linalg.matrix_rank, math.floor, math.ceil, math.comb,
                                math.factorial, math.gcd, math.lcm, math.isqrt, math.isclose, math.ulp, math.perm], ids=display_name)
def test_piecewise_constant_functions_are_constants(fn):
    assert fn in NONDIFF and fn not in RULES


def histogram_edges_weighted(x):
    counts, edges = np.histogram(x, bins=3)
    return np.sum(edges[1:] * counts)


def histogram_counts(x):
    counts, _ = np.histogram(adjoint.stop_gradient(x), bins=3)
    return np.sum(counts * x[:3])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_histogram_is_refused_with_advice_not_taken_for_a_constant(mode):
    """Its bin edges move with the data's range: as a constant its gradient would be silently 0."""
    assert np.histogram not in NONDIFF and np.histogram not in RULES
    with pytest.raises(adjoint.NoDerivativeRule, match="bin edges move") as error:
        adjoint.grad(histogram_edges_weighted, mode=mode)(np.array([0.1, -0.5, 0.9, 0.3]))
    assert "np.histogram(x, bins=3)" in str(error.value) and "stop_gradient" in str(error.value)
    adjoint.check_grad(histogram_counts, np.array([0.1, -0.5, 0.9, 0.3]))


def test_an_active_value_in_a_list_result_keeps_the_other_items_zero():
    """`a, b = np.split(x, 2)` using only `b`: the cotangent of the list holds zeros for `a`."""
    f = make_function(Case("np.split(x, 2)[1] * 3.0", (signed(4),)))
    assert np.allclose(adjoint.grad(f)(np.ones(4)), np.concatenate([np.zeros(2), 3.0 * NAMESPACE_W(f)]))


def NAMESPACE_W(f):
    return f.__globals__["W"]
