"""A two-layer neural network (ReLU hidden layer, softmax output) trained from scratch on three
interleaved spirals, a data set no linear classifier can separate.

The parameters are passed as four separate arrays, so the gradient is a tuple of four arrays.
No framework: the network is a numpy function and adjoint writes its backward pass.

    python examples/mlp.py
"""
import numpy as np

import adjoint

CLASSES = 3
PER_CLASS = 100
HIDDEN = 64


def spirals(rng):
    """Three spiral arms in the plane (the CS231n toy data set), with a little noise."""
    radius = np.linspace(0.0, 1.0, PER_CLASS)
    arms = []
    for k in range(CLASSES):
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), PER_CLASS) + 0.2 * rng.standard_normal(PER_CLASS)
        arms.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    return np.concatenate(arms), np.repeat(np.arange(CLASSES), PER_CLASS)


def loss(W1, b1, W2, b2, X, y, reg):
    hidden = np.maximum(0.0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    data = -np.mean(log_probs[np.arange(X.shape[0]), y])
    return data + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))


def predict(W1, b1, W2, b2, X):
    return np.argmax(np.maximum(0.0, X @ W1 + b1) @ W2 + b2, axis=1)


def main():
    rng = np.random.default_rng(0)
    X, y = spirals(rng)
    W1 = 0.5 * rng.standard_normal((2, HIDDEN))
    b1 = np.zeros(HIDDEN)
    W2 = 0.1 * rng.standard_normal((HIDDEN, CLASSES))
    b2 = np.zeros(CLASSES)
    d_loss = adjoint.value_and_grad(loss, wrt=("W1", "b1", "W2", "b2"))
    print(f"{len(X)} points on {CLASSES} spirals, a {X.shape[1]}-{HIDDEN}-{CLASSES} network")
    print(f"accuracy before training {np.mean(predict(W1, b1, W2, b2, X) == y):.1%}")

    steps, learning_rate, reg = 1500, 1.0, 1e-3
    first = None
    for step in range(steps + 1):
        value, (dW1, db1, dW2, db2) = d_loss(W1, b1, W2, b2, X, y, reg)
        first = value if first is None else first
        if step % 250 == 0:
            print(f"  step {step:5d}   loss {value:.4f}")
        W1 = W1 - learning_rate * dW1
        b1 = b1 - learning_rate * db1
        W2 = W2 - learning_rate * dW2
        b2 = b2 - learning_rate * db2

    print(f"first loss {first:.4f}, final loss {value:.4f}")
    print(f"accuracy after training {np.mean(predict(W1, b1, W2, b2, X) == y):.1%}")
    error = adjoint.check_grad(loss, W1, b1, W2, b2, X, y, reg, wrt=(0, 1, 2, 3), modes=("reverse",))
    print(f"gradient check (reverse mode) at the trained weights: largest difference {error:.1e}")


if __name__ == "__main__":
    main()
