"""A linear classifier on three Gaussian blobs, trained by plain gradient descent with two losses:
the multiclass SVM (hinge) loss and the softmax (cross-entropy) loss.

The losses are ordinary numpy functions; adjoint.value_and_grad turns each into one generated
function returning the loss and the gradients for W and b. The data is generated with a seeded RNG.

    python examples/linear_classifier.py
"""
import numpy as np

import adjoint

CLASSES = 3
PER_CLASS = 100
CENTERS = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])


def blobs(rng):
    """Three Gaussian blobs in the plane: points X (N, 2) and integer labels y (N,)."""
    X = np.concatenate([center + 0.8 * rng.standard_normal((PER_CLASS, 2)) for center in CENTERS])
    y = np.repeat(np.arange(CLASSES), PER_CLASS)
    return X, y


def svm_loss(W, b, X, y, reg):
    """Multiclass SVM loss: sum over wrong classes of max(0, s_j - s_y + 1), averaged, plus L2."""
    n = X.shape[0]
    scores = X @ W + b
    correct = scores[np.arange(n), y]
    margins = np.maximum(0.0, scores - correct[:, np.newaxis] + 1.0)
    # the correct class contributes max(0, 1) = 1 per example: subtract it rather than mask it
    data = (np.sum(margins) - n) / n
    return data + 0.5 * reg * np.sum(W * W)


def softmax_loss(W, b, X, y, reg):
    """Softmax cross-entropy loss, averaged, plus L2 (scores shifted by their max for stability)."""
    scores = X @ W + b
    scores = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    data = -np.mean(log_probs[np.arange(X.shape[0]), y])
    return data + 0.5 * reg * np.sum(W * W)


def accuracy(W, b, X, y):
    return np.mean(np.argmax(X @ W + b, axis=1) == y)


def train(loss, X, y, rng, steps=200, learning_rate=0.5, reg=1e-3):
    d_loss = adjoint.value_and_grad(loss, wrt=("W", "b"))
    W = 0.01 * rng.standard_normal((X.shape[1], CLASSES))
    b = np.zeros(CLASSES)
    losses = []
    for step in range(steps + 1):
        value, (dW, db) = d_loss(W, b, X, y, reg)
        losses.append(value)
        if step % 40 == 0:
            print(f"  step {step:4d}   loss {value:.4f}")
        W = W - learning_rate * dW
        b = b - learning_rate * db
    return W, b, losses, d_loss


def main():
    rng = np.random.default_rng(0)
    X, y = blobs(rng)
    print(f"{len(X)} points in {CLASSES} Gaussian blobs")
    for loss in (svm_loss, softmax_loss):
        print()
        print(f"{loss.__name__}, plain gradient descent")
        W, b, losses, d_loss = train(loss, X, y, rng)
        error = adjoint.check_grad(loss, W, b, X, y, 1e-3, wrt=("W", "b"))
        print(f"  {loss.__name__}: first loss {losses[0]:.4f}, final loss {losses[-1]:.4f}, "
              f"accuracy {accuracy(W, b, X, y):.1%}")
        print(f"  gradient check at the final weights: largest difference {error:.1e}")

    print()
    print("the gradient adjoint generated for the softmax loss:")
    print()
    print(adjoint.source(d_loss))


if __name__ == "__main__":
    main()
