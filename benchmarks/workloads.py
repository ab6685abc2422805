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


# -- a two-layer MLP with softmax cross-entropy (batch 128, 784-256-10) ----------------------------


def mlp(W1, b1, W2, b2, X, labels):
    hidden = np.maximum(X @ W1 + b1, 0.0)
    scores = hidden @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(X.shape[0]), labels])


def mlp_by_hand(W1, b1, W2, b2, X, labels):
    pre = X @ W1 + b1
    hidden = np.maximum(pre, 0.0)
    scores = hidden @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exps = np.exp(shifted)
    probs = exps / np.sum(exps, axis=1, keepdims=True)
    n = X.shape[0]
    grad_scores = probs
    grad_scores[np.arange(n), labels] -= 1.0
    grad_scores /= n
    grad_W2 = hidden.T @ grad_scores
    grad_b2 = np.sum(grad_scores, axis=0)
    grad_hidden = grad_scores @ W2.T
    grad_pre = grad_hidden * (pre >= 0.0)
    return X.T @ grad_pre, np.sum(grad_pre, axis=0), grad_W2, grad_b2


def mlp_autograd(W1, b1, W2, b2, X, labels):
    import autograd.numpy as anp
    hidden = anp.maximum(anp.dot(X, W1) + b1, 0.0)
    scores = anp.dot(hidden, W2) + b2
    shifted = scores - anp.max(scores, axis=1, keepdims=True)
    log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
    return -anp.mean(log_probs[anp.arange(X.shape[0]), labels])


def _mlp_inputs(batch=128, inputs=784, hidden=256, classes=10):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((inputs, hidden)) * 0.05, np.zeros(hidden) + 0.01,
            rng.standard_normal((hidden, classes)) * 0.05, np.zeros(classes),
            rng.standard_normal((batch, inputs)), rng.integers(0, classes, batch))


# -- a vectorised multiclass SVM loss with fancy indexing (500 x 3073, 10 classes) -------------------


def svm(W, X, y):
    scores = X @ W
    correct = scores[np.arange(X.shape[0]), y]
    margins = np.maximum(0.0, scores - correct[:, None] + 1.0)
    return (np.sum(margins) - X.shape[0]) / X.shape[0]


def svm_by_hand(W, X, y):
    n = X.shape[0]
    scores = X @ W
    correct = scores[np.arange(n), y]
    margins = scores - correct[:, None] + 1.0
    grad_margins = (margins > 0.0).astype(float) / n
    grad_scores = grad_margins
    grad_scores[np.arange(n), y] -= np.sum(grad_margins, axis=1)
    return X.T @ grad_scores


def svm_autograd(W, X, y):
    import autograd.numpy as anp
    scores = anp.dot(X, W)
    correct = scores[anp.arange(X.shape[0]), y]
    margins = anp.maximum(0.0, scores - correct[:, None] + 1.0)
    return (anp.sum(margins) - X.shape[0]) / X.shape[0]


def _svm_inputs(n=500, d=3073, classes=10):
    rng = np.random.default_rng(2)
    return rng.standard_normal((d, classes)) * 1e-3, rng.standard_normal((n, d)), rng.integers(0, classes, n)


# -- the Rosenbrock function of 1,000 variables (gradient and Hessian-vector product) ----------------


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_by_hand(x):
    inner = x[1:] - x[:-1] ** 2
    grad = np.zeros_like(x)
    grad[1:] += 200.0 * inner
    grad[:-1] += -400.0 * inner * x[:-1] - 2.0 * (1.0 - x[:-1])
    return grad


def rosenbrock_hvp_by_hand(x, v):
    inner = x[1:] - x[:-1] ** 2
    d_inner = v[1:] - 2.0 * x[:-1] * v[:-1]
    out = np.zeros_like(x)
    out[1:] += 200.0 * d_inner
    out[:-1] += -400.0 * (d_inner * x[:-1] + inner * v[:-1]) + 2.0 * v[:-1]
    return out


def rosenbrock_autograd(x):
    import autograd.numpy as anp
    return anp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


ARRAYS = [
    Workload("two-layer MLP, 128 × 784-256-10", mlp, _mlp_inputs(), (0, 1, 2, 3), mlp_by_hand, mlp_autograd),
    Workload("multiclass SVM, 500 × 3073, 10 classes", svm, _svm_inputs(), (0,),
             lambda W, X, y: (svm_by_hand(W, X, y),), svm_autograd),
    Workload("Rosenbrock, 1,000 variables", rosenbrock, (np.linspace(-1.0, 1.5, 1000),), (0,),
             lambda x: (rosenbrock_by_hand(x),), rosenbrock_autograd),
]


# -- derivatives other than a gradient: a Hessian-vector product, and Jacobians of both shapes ------


def wide(x):
    return np.sum(np.sin(x) * x)


def wide_jacobian_by_hand(x):
    return np.sin(x) + x * np.cos(x)


def tall(a):
    return np.sin(a * np.arange(1000.0))


def tall_jacobian_by_hand(a):
    ramp = np.arange(1000.0)
    return ramp * np.cos(a * ramp)


class Special:
    """A derivative computed some other way than `adjoint.grad`: `ours(adjoint)` builds it."""

    def __init__(self, name, ours, args, by_hand, autograd_maker=None):
        self.name, self.ours, self.args, self.by_hand, self.autograd_maker = name, ours, args, by_hand, autograd_maker


def _hvp_autograd():
    from autograd import hessian_vector_product
    return hessian_vector_product(rosenbrock_autograd)


def _jacobian_autograd(fn):
    def make():
        import autograd
        return autograd.jacobian(fn)
    return make


def _tall_autograd(a):
    import autograd.numpy as anp
    return anp.sin(a * anp.arange(1000.0))


def _wide_autograd(x):
    import autograd.numpy as anp
    return anp.sum(anp.sin(x) * x)


_X = np.linspace(-1.0, 1.5, 1000)
SPECIAL = [
    Special("Rosenbrock Hessian-vector product", lambda ad: ad.hvp(rosenbrock), (_X, np.cos(_X)),
            rosenbrock_hvp_by_hand, _hvp_autograd),
    Special("Jacobian R^1000 → R^1, reverse", lambda ad: ad.jacobian(wide, mode="reverse"), (_X,),
            wide_jacobian_by_hand, _jacobian_autograd(_wide_autograd)),
    Special("Jacobian R^1000 → R^1, forward", lambda ad: ad.jacobian(wide, mode="forward"), (_X,),
            wide_jacobian_by_hand, None),
    Special("Jacobian R^1 → R^1000, forward", lambda ad: ad.jacobian(tall, mode="forward"), (0.3,),
            tall_jacobian_by_hand, _jacobian_autograd(_tall_autograd)),
    Special("Jacobian R^1 → R^1000, reverse", lambda ad: ad.jacobian(tall, mode="reverse"), (0.3,),
            tall_jacobian_by_hand, None),
]
