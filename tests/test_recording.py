"""What the reverse-mode forward sweep records: values the backward sweep reads, nothing more."""
import math
import re
import tracemalloc

import numpy as np
import pytest

import adjoint


def long_loop(k, x0):
    x = x0
    i = 0
    while i < 100000:
        x = x + 1e-5 * math.sin(k * x)
        i = i + 1
    return x


def long_loop_by_hand(k, x0):
    xs = []
    x = x0
    for _ in range(100000):
        xs.append(x)
        x = x + 1e-5 * math.sin(k * x)
    grad_x, grad_k = 1.0, 0.0
    for x in reversed(xs):
        c = 1e-5 * math.cos(k * x)
        grad_k += grad_x * c * x
        grad_x = grad_x * (1 + c * k)
    return grad_k, grad_x


def reads_matrix(W, v):
    h = v
    for t in range(20):
        h = np.tanh(W @ h)
    return np.sum(h)


def tapes(source):
    return sorted(set(re.findall(r"(\w+) = \[\]", source)))


def peak_bytes(call):
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_long_scalar_loop_records_floats_only():
    gradient = adjoint.grad(long_loop, wrt=(0, 1))
    got = gradient(0.7, 0.3)
    expected = long_loop_by_hand(0.7, 0.3)
    assert got == pytest.approx(expected, rel=1e-9)
    source = adjoint.source(gradient)
    assert tapes(source) == ["tape_x"]   # one list of floats: x at each trip; i is not recorded
    peak = peak_bytes(lambda: gradient(0.7, 0.3))
    # 100,000 floats in one list: 8 bytes a slot plus 24 a float object, about 3.2 MB
    assert peak < 8e6, f"recording took {peak / 1e6:.1f} MB"


def test_array_a_loop_only_reads_is_not_recorded():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((300, 300)) / 20
    v = rng.standard_normal(300)
    gradient = adjoint.grad(reads_matrix, wrt=(0, 1))
    adjoint.check_grad(reads_matrix, W[:4, :4].copy(), v[:4].copy(), wrt=(0, 1), modes=("reverse",))
    gradient(W, v)
    assert not any("W" in tape for tape in tapes(adjoint.source(gradient)))
    peak = peak_bytes(lambda: gradient(W, v))
    # W is 720 kB: copying it on each of the 20 trips would take 14 MB
    assert peak < 6 * W.nbytes, f"peak {peak / 1e6:.1f} MB"


def test_straight_line_code_records_nothing():
    def_source = adjoint.source(adjoint.grad(adjoint_free_function), 0.5, 2.0)
    assert "[]" not in def_source and ".append(" not in def_source and ".pop(" not in def_source


def adjoint_free_function(x, y):
    z = x * y
    if z > 0.5:
        z = z * z
    return math.sin(z)


def tracked(q, x0, zs):
    F = np.array([[1.0, 0.1], [0.0, 1.0]])
    x = x0
    ll = 0.0
    for z in zs:
        x = np.tanh(F @ x) + q * x
        G = F.T * q                       # the same on every trip: F and q do not change in the loop
        ll = ll + np.sum((G @ x - z) ** 2)
    return ll


def test_a_value_the_same_on_every_trip_is_kept_once_not_recorded_per_trip():
    """`F.T * q` is computed on each trip from values the loop does not change: the backward sweep
    reads the last trip's, carried out of the loop, instead of a tape holding one copy per trip."""
    zs = np.random.default_rng(1).standard_normal((6, 2))
    args = (0.3, np.array([0.2, -0.1]), zs)
    adjoint.check_grad(tracked, *args, wrt=(0, 1))
    source = adjoint.source(adjoint.grad(tracked, wrt=(0, 1)), *args)
    invariant = re.findall(r"^ +(\w+) = (?:np\.transpose\(F\)|t\d+ \* q)$", source, re.M)
    assert "G" in invariant and len(invariant) == 2, source  # (F.T is a value of its own)
    assert not re.search(r"\.append\((%s)\)" % "|".join(invariant), source), source
    # x, tanh(F @ x), the shapes of q * x and G @ x, G @ x - z; not G
    assert len(tapes(source)) == 5, source
    grad = adjoint.grad(tracked)
    second = (grad(args[0] + 1e-6, *args[1:]) - grad(args[0] - 1e-6, *args[1:])) / 2e-6
    np.testing.assert_allclose(adjoint.hessian(tracked)(*args), second, rtol=1e-5)
