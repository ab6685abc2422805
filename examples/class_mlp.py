"""A small multi-layer perceptron written as classes, trained by plain gradient descent.

The model is an object holding a list of layers; each layer keeps its weights and its activation
function as attributes and is called like a function. adjoint reads the methods (`__call__`,
`forward`, `loss`), inlines them, and differentiates the loss with respect to the model itself:
the gradient comes back with the model's structure, as a dict of attribute gradients
(`grads["layers"][0]["W"]`). The loss also shows a list built with `append` and a comprehension.

    python examples/class_mlp.py
"""
import numpy as np

import adjoint


def identity(z):
    return z


class Layer:
    def __init__(self, n_in, n_out, activation, rng):
        self.W = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        self.b = np.zeros(n_out)
        self.activation = activation

    def __call__(self, x):
        return self.activation(x @ self.W + self.b)


class MLP:
    def __init__(self, sizes, rng):
        activations = [np.tanh] * (len(sizes) - 2) + [identity]
        self.layers = [Layer(n_in, n_out, f, rng) for n_in, n_out, f in zip(sizes[:-1], sizes[1:], activations)]

    def forward(self, X):
        for layer in self.layers:
            X = layer(X)
        return X[:, 0]

    def loss(self, X, y, reg):
        errors = []
        for k in range(X.shape[0] // 50):          # the error of each batch of 50 points, collected
            part = slice(50 * k, 50 * (k + 1))
            errors.append(np.mean((self.forward(X[part]) - y[part]) ** 2))
        penalty = sum(np.sum(layer.W ** 2) for layer in self.layers)
        return sum(errors) / len(errors) + reg * penalty


def loss(model, X, y, reg):
    return model.loss(X, y, reg)


def data(rng, n=200):
    """Points in the square and a smooth target no straight line fits."""
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return X, np.sin(3.0 * X[:, 0]) * X[:, 1] + 0.5 * X[:, 0] ** 2


def main():
    rng = np.random.default_rng(1)
    X, y = data(rng)
    model = MLP([2, 16, 16, 1], rng)
    reg, learning_rate, steps = 1e-4, 0.1, 1500
    value_and_grad = adjoint.value_and_grad(loss)       # with respect to the model
    print(f"{len(X)} points, layers {[layer.W.shape for layer in model.layers]}")
    first = None
    for step in range(steps + 1):
        value, grads = value_and_grad(model, X, y, reg)
        first = value if first is None else first
        if step % 300 == 0:
            print(f"  step {step:5d}   loss {value:.5f}")
        for layer, g in zip(model.layers, grads["layers"]):
            layer.W = layer.W - learning_rate * g["W"]
            layer.b = layer.b - learning_rate * g["b"]
    print(f"first loss {first:.5f}, final loss {value:.5f}")
    print(f"gradient keys: {sorted(grads)}, per layer: {sorted(grads['layers'][0])}")

    # the gradient wrt the data, in both modes, against central finite differences
    def loss_of_inputs(X):
        return model.loss(X, y, reg)
    error = adjoint.check_grad(loss_of_inputs, X)
    print(f"gradient check wrt the inputs (both modes): largest difference {error:.1e}")


if __name__ == "__main__":
    main()
