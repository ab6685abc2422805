"""Every examples/*.py runs as a script, exits 0 and prints what it promises.

Each example runs in a fresh interpreter (sys.executable), from the repository root, the way a
reader would run it. A known example's output is checked line by line below; an example added
later without a check here only has to run and print something.
"""
import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.py")))
NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)"


def run(path):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("PYTHONHASHSEED", "0")
    done = subprocess.run([sys.executable, path], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"{os.path.basename(path)} exited with {done.returncode}:\n{done.stderr}"
    assert done.stdout.strip(), f"{os.path.basename(path)} printed nothing"
    return done.stdout


def find(pattern, output):
    """The groups of the first match of `pattern` (numbers come back as floats)."""
    match = re.search(pattern, output)
    assert match, f"expected a line matching {pattern!r} in:\n{output}"
    groups = tuple(float(g) if re.fullmatch(NUMBER, g) else g for g in match.groups())
    return groups[0] if len(groups) == 1 else groups


def find_all(pattern, output):
    """The groups of every match, each match as a tuple (numbers as floats)."""
    return [tuple(float(g) if re.fullmatch(NUMBER, g) else g for g in m.groups())
            for m in re.finditer(pattern, output)]


# -- what each example must print -------------------------------------------------------------

def check_quickstart(out):
    assert "neuron gradients: -0.20, 0.39, -0.39, -0.59, 0.20" in out
    assert "def grad_neuron(w0, x0, w1, x1, w2):" in out
    assert find(r"largest error against finite differences: " + NUMBER, out) < 1e-6


def check_lecture(out):
    # the reference figures of the backprop lecture (DESIGN.md)
    assert "f = -12   df/dx = -4   df/dy = -4   df/dz = 3" in out
    assert "output L = 0.73" in out
    assert "gradients: w0: -0.20   x0: 0.39   w1: -0.39   x1: -0.59   w2: 0.20" in out
    assert "downstream gradient = [4. 0. 5. 0.]" in out
    assert "dL/dX[0, 0] = 0   dL/dX[1, 2] = -30" in out
    assert "dL/dX == dL/dY @ W.T: True" in out and "dL/dW == X.T @ dL/dY: True" in out
    assert "add gate distributes:   (1.0, 1.0)" in out
    assert "multiply gate swaps:    (-1.0, 3.0)" in out
    assert "max gate routes:        (1.0, 0.0)" in out
    assert "fan-out sums (3 + 4):   7.0" in out
    # the generated neuron gradient is shown next to the hand-written one
    assert "by hand (DESIGN.md)" in out and "grad_x0 = grad_s3 * w0" in out
    assert find(r"largest difference from central finite differences " + NUMBER, out) < 1e-6


def check_linear_classifier(out):
    results = find_all(r"(\w+_loss): first loss " + NUMBER + r", final loss " + NUMBER
                       + r", accuracy " + NUMBER + "%", out)
    assert [name for name, *_ in results] == ["svm_loss", "softmax_loss"], out
    for name, first, final, accuracy in results:
        assert final < first / 5, f"{name}: loss went from {first} to {final}"
        assert accuracy > 90, f"{name}: accuracy {accuracy}%"
    checks = find_all(r"gradient check at the final weights: largest difference " + NUMBER, out)
    assert len(checks) == 2 and all(error < 1e-6 for (error,) in checks), checks


def check_mlp(out):
    first, final = find(r"first loss " + NUMBER + r", final loss " + NUMBER, out)
    assert final < first / 3, f"loss went from {first} to {final}"
    losses = [loss for (_, loss) in find_all(r"step +" + NUMBER + r" +loss " + NUMBER, out)]
    assert len(losses) >= 5 and losses == sorted(losses, reverse=True), losses
    assert find(r"accuracy after training " + NUMBER + "%", out) > 90
    assert find(r"largest difference " + NUMBER, out) < 1e-6


def check_class_mlp(out):
    first, final = find(r"first loss " + NUMBER + r", final loss " + NUMBER, out)
    assert final < first / 10, f"loss went from {first} to {final}"
    losses = [loss for (_, loss) in find_all(r"step +" + NUMBER + r" +loss " + NUMBER, out)]
    assert len(losses) >= 5 and losses == sorted(losses, reverse=True), losses
    assert "gradient keys: ['layers'], per layer: ['W', 'b']" in out
    assert find(r"largest difference " + NUMBER, out) < 1e-6


def check_pendulum_fit(out):
    first, final = find(r"first misfit " + NUMBER + r", final misfit " + NUMBER, out)
    assert final < first / 100, f"misfit went from {first} to {final}"
    k, c = find(r"recovered k = " + NUMBER + r" \(true 4.0\), c = " + NUMBER + r" \(true 0.3\)", out)
    assert abs(k - 4.0) < 0.05 and abs(c - 0.3) < 0.02, (k, c)
    assert find(r"gradient check at the initial guess \(both modes\): largest difference " + NUMBER, out) < 1e-6
    assert "while i < observed.shape[0]:" in out      # the generated gradient is printed, loop and all


def check_newton_cg(out):
    assert "hvp(x0, v) equals hessian(x0) @ v: True" in out
    steps, products = find(r"converged after " + NUMBER + r" Newton steps and " + NUMBER
                           + r" Hessian-vector products", out)
    assert steps < 200 and products > 0
    assert find(r"largest distance from \(1, 1, \.\.\., 1\): " + NUMBER, out) < 1e-6
    assert "def hvp_grad_rosenbrock(x, d_x):" in out


def check_jacobians(out):
    assert "statistics: R^200 -> R^3" in out and "curve: R^3 -> R^200" in out
    passes = find_all(r"(forward|reverse) +(\d+) +[\d.]+ [mµun]?s", out)
    assert passes == [("forward", 200.0), ("reverse", 3.0), ("forward", 3.0), ("reverse", 200.0)], passes
    for (difference,) in find_all(r"largest difference between the modes: " + NUMBER, out):
        assert difference < 1e-12
    for (error,) in find_all(r"largest difference from finite differences: " + NUMBER, out):
        assert error < 1e-5
    assert "adjoint.jacobian(curve)(params) has shape (200, 3)" in out


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_check_has_its_example():
    names = {os.path.splitext(os.path.basename(path))[0] for path in EXAMPLES}
    assert set(CHECKS) <= names, f"checks for missing examples: {sorted(set(CHECKS) - names)}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_runs(path):
    out = run(path)
    check = CHECKS.get(os.path.splitext(os.path.basename(path))[0])
    if check is not None:
        check(out)
