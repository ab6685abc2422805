"""Benchmark workloads: each a function, its inputs, and a gradient of the same code written by hand."""
import math

import numpy as np


class Workload:
    def __init__(self, name, fn, args, wrt, by_hand, autograd_fn=None):
        self.name, self.fn, self.args, self.wrt, self.by_hand = name, fn, args, wrt, by_hand
        self.autograd_fn = autograd_fn or fn


# -- the sigmoid neuron (Python floats) ------------------------------------------------


def neuron(w0, x0, w1, x1, w2):
    s = w0 * x0 + w1 * x1 + w2
    return 1.0 / (1.0 + math.exp(-s))


def neuron_by_hand(w0, x0, w1, x1, w2):
    s = w0 * x0 + w1 * x1 + w2
    L = 1.0 / (1.0 + math.exp(-s))
    grad_s = (1.0 - L) * L
    return grad_s * x0, grad_s * w0, grad_s * x1, grad_s * w1, grad_s


def neuron_autograd(w0, x0, w1, x1, w2):
    import autograd.numpy as anp
    s = w0 * x0 + w1 * x1 + w2
    return 1.0 / (1.0 + anp.exp(-s))


# -- an Euler-integrated damped pendulum (a `while` loop over Python floats) ------------------


def pendulum(k, theta0):
    theta = theta0
    omega = 0.0
    t = 0.0
    while t < 10.0:
        alpha = -k * math.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
        t = t + 0.01
    return theta * theta + omega * omega


def pendulum_by_hand(k, theta0):
    theta, omega, t = theta0, 0.0, 0.0
    thetas = []
    while t < 10.0:
        thetas.append(theta)
        alpha = -k * math.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
        t = t + 0.01
    grad_theta, grad_omega, grad_k = 2 * theta, 2 * omega, 0.0
    for _ in range(len(thetas)):
        theta_i = thetas.pop()
        grad_alpha = 0.01 * grad_omega
        grad_omega = grad_omega + 0.01 * grad_theta - 0.1 * grad_alpha
        grad_k = grad_k - grad_alpha * math.sin(theta_i)
        grad_theta = grad_theta - grad_alpha * k * math.cos(theta_i)
    return grad_k, grad_theta


def pendulum_autograd(k, theta0):
    import autograd.numpy as anp
    theta, omega, t = theta0, 0.0, 0.0
    while t < 10.0:
        alpha = -k * anp.sin(theta) - 0.1 * omega
        theta = theta + 0.01 * omega
        omega = omega + 0.01 * alpha
        t = t + 0.01
    return theta * theta + omega * omega


# -- a tanh RNN over 50 steps (numpy arrays, `for t in range(T)`) --------------------------------


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h * h)


def rnn_by_hand(Wx, Wh, b, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        hs.append(h)
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    grad_h = 2 * h
    grad_Wx, grad_Wh, grad_b = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    for t in reversed(range(xs.shape[0])):
        h_prev = hs.pop()
        grad_pre = grad_h * (1 - h * h)
        grad_Wx = grad_Wx + np.outer(grad_pre, xs[t])
        grad_Wh = grad_Wh + np.outer(grad_pre, h_prev)
        grad_b = grad_b + grad_pre
        grad_h = Wh.T @ grad_pre
        h = h_prev
    return grad_Wx, grad_Wh, grad_b


def rnn_autograd(Wx, Wh, b, xs, h0):
    import autograd.numpy as anp
    h = h0
    for t in range(xs.shape[0]):
        h = anp.tanh(anp.dot(Wx, xs[t]) + anp.dot(Wh, h) + b)
    return anp.sum(h * h)


def _rnn_inputs(hidden=64, inputs=32, steps=50):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((hidden, inputs)) / np.sqrt(inputs),
            rng.standard_normal((hidden, hidden)) / np.sqrt(hidden),
            0.1 * rng.standard_normal(hidden),
            rng.standard_normal((steps, inputs)),
            np.zeros(hidden))


LOOPS = [
    Workload("sigmoid neuron (floats)", neuron, (2.0, -1.0, -3.0, -2.0, -3.0), (0, 1, 2, 3, 4),
             neuron_by_hand, neuron_autograd),
    Workload("pendulum, 1,000 steps (while)", pendulum, (1.0, 0.5), (0, 1), pendulum_by_hand, pendulum_autograd),
    Workload("tanh RNN, 50 steps, hidden 64", rnn, _rnn_inputs(), (0, 1, 2), rnn_by_hand, rnn_autograd),
]
