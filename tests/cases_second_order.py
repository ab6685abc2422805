"""Loops whose backward sweep records arrays, and functions that differentiate them: second
derivatives through `tape.append` / `tape.pop()` by reverse over reverse (a gradient-norm
penalty, `jacobian(grad(f), mode="reverse")`) and forward over reverse (`hessian`, `hvp`).

Each loss takes `w` (a number or an array of any shape) and a trip count or rows to loop over,
so that the tests can run its loops zero, one or several times.
"""
import numpy as np

import adjoint


def loss_over_rows(w, rows):
    total = 0.0
    for row in rows:
        total = total + np.sum(np.tanh(row * w) ** 2)
    return total


def loss_while(w, n):
    h = w
    i = 0
    while i < n:
        h = np.sin(h * w + 0.5)
        i = i + 1
    return np.sum(h ** 2)


def loss_over_range(w, n):
    h = w
    for i in range(n):
        h = np.tanh(h) * w + i
    return np.sum(h * h)


def loss_popping_to_empty(w, n):
    stack = []
    for i in range(n):
        stack.append(w * (i + 1.0))
    total = 0.0
    while len(stack) > 0:
        total = total + np.sum(np.sin(stack.pop()) ** 2)
    return total


def penalty_over_rows(w, rows):
    return np.sum(adjoint.grad(loss_over_rows)(w, rows) ** 2)


def penalty_while(w, n):
    return np.sum(adjoint.grad(loss_while)(w, n) ** 2)


def penalty_over_range(w, n):
    return np.sum(adjoint.grad(loss_over_range)(w, n) ** 2)


def penalty_popping_to_empty(w, n):
    return np.sum(adjoint.grad(loss_popping_to_empty)(w, n) ** 2)


def loss_growing(w, n):
    """Its loop records `h`, one element longer each trip: a tape of arrays of different shapes."""
    h = w
    for i in range(n):
        h = np.tanh(np.concatenate([h, h[-1:] * 2.0]))
    return np.sum(h ** 2)


def penalty_growing(w, n):
    return np.sum(adjoint.grad(loss_growing)(w, n) ** 2)


PENALTIES = {loss_over_rows: penalty_over_rows, loss_while: penalty_while, loss_over_range: penalty_over_range,
             loss_popping_to_empty: penalty_popping_to_empty}


def hessian_by_differences(loss, w, data, eps=1e-6):
    """d grad_i / d w_j by central differences of adjoint's gradient, shaped `w.shape + w.shape`."""
    gradient = adjoint.grad(loss)
    shape = np.shape(w)
    columns = []
    for j in range(int(np.prod(shape))):
        step = np.zeros(int(np.prod(shape)))
        step[j] = eps
        step = step.reshape(shape)
        plus, minus = (w + step, w - step) if shape else (w + float(step), w - float(step))
        columns.append((np.asarray(gradient(plus, data)) - np.asarray(gradient(minus, data))) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(shape + shape)
