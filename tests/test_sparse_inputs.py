"""Training on inputs that are mostly zeros (MNIST-like): the first layer's index-list path.

Inputs at least 64 wide, into a first layer of at least 32 units, with at most 25% non-zeros
skip the zeros in the first layer's forward product and weight gradient
(csrc/core/sparse_input.*). These tests check that path against a float64 numpy reference,
against the dense GEMM path (the same data with the zeros nudged to 1e-30, which never takes
it), on every SIMD level, with blocks of a chunk that choose differently, and for bit-identical
results across thread counts.
"""

from __future__ import annotations

import mlpcore
import numpy as np
import pytest
from _helpers import assert_bitwise_equal, num_threads, simd_level
from hypothesis import given, settings
from hypothesis import strategies as st


def sparse_data(rng: np.random.Generator, n: int, d: int, density: float, dtype=np.float32) -> np.ndarray:
    X = rng.uniform(0.1, 1.0, (n, d)) * (rng.random((n, d)) < density)
    return np.ascontiguousarray(X, dtype=dtype)


def numpy_loss_and_grads(model: mlpcore.MLP, X: np.ndarray, y: np.ndarray):
    """Float64 forward and backward of a one-hidden-layer relu MLP with softmax cross-entropy."""
    (W1, b1), (W2, b2) = [(W.astype(np.float64), b.astype(np.float64)) for W, b in model.get_weights()]
    x = X.astype(np.float64)
    z1 = x @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    z2 -= z2.max(axis=1, keepdims=True)
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.log(p[np.arange(n), y]).mean()
    d2 = p.copy()
    d2[np.arange(n), y] -= 1
    d2 /= n
    d1 = (d2 @ W2.T) * (z1 > 0)
    return loss, [(x.T @ d1, d1.sum(0)), (a1.T @ d2, d2.sum(0))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "d", "hidden", "density"), [
    (1, 64, 32, 0.1), (5, 64, 33, 0.0), (33, 100, 47, 0.05), (257, 784, 100, 0.19), (300, 130, 129, 0.22), (90, 130, 64, 0.3),
    (64, 784, 300, 0.02), (70, 97, 7, 0.25), (40, 300, 16, 0.1),
])
def test_loss_and_gradients_equal_a_float64_reference(n, d, hidden, density, dtype):
    rng = np.random.default_rng(n * 1000 + d)
    X = sparse_data(rng, n, d, density, dtype)
    y = rng.integers(0, 3, n)
    model = mlpcore.MLP([d, hidden, 3], seed=1, dtype=dtype)
    loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol, abs=tol)
    for (dW, db), (rW, rb) in zip(grads, ref_grads):
        scale = max(np.abs(rW).max(), np.abs(rb).max(), 1e-30)
        np.testing.assert_allclose(dW, rW, rtol=0, atol=tol * scale)
        np.testing.assert_allclose(db, rb, rtol=0, atol=tol * scale)


def train(X, y, *, layers, optimizer, epochs=2, batch_size=50, threads=None, **fit_kw):
    model = mlpcore.MLP(layers, seed=3, dtype=X.dtype)
    if threads is None:
        mlpcore.fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=5, verbose=False, **fit_kw)
    else:
        with num_threads(threads):
            mlpcore.fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=5, verbose=False,
                        **fit_kw)
    return model


def mixed_data(rng: np.random.Generator, n: int = 400, d: int = 200) -> np.ndarray:
    """Sparse rows, with a dense row every seventh: shuffled batches then mix blocks that take
    the index lists with blocks that take the GEMM, and chunks of either kind."""
    X = sparse_data(rng, n, d, 0.08)
    X[::7] = rng.uniform(-1, 1, (len(X[::7]), d))
    return X


@pytest.mark.parametrize("data", ["sparse", "mixed"])
@pytest.mark.parametrize("optimizer", [mlpcore.SGD(lr=0.1, momentum=0.9, weight_decay=1e-3), mlpcore.Adam(lr=0.01)])
@pytest.mark.parametrize("batch_size", [1, 37, 128, 300])
def test_training_matches_the_dense_path(data, optimizer, batch_size):
    rng = np.random.default_rng(7)
    X = sparse_data(rng, 400, 200, 0.1) if data == "sparse" else mixed_data(rng)
    y = rng.integers(0, 4, len(X))
    dense = X + np.float32(1e-30) * (X == 0)  # no exact zeros: always the GEMM
    assert (dense != 0).all()
    ours = train(X, y, layers=[200, 45, 4], optimizer=optimizer, batch_size=batch_size)
    ref = train(dense, y, layers=[200, 45, 4], optimizer=optimizer, batch_size=batch_size)
    for (W, b), (rW, rb) in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(W, rW, rtol=0, atol=2e-4 * np.abs(rW).max())
        np.testing.assert_allclose(b, rb, rtol=0, atol=2e-4 * max(np.abs(rb).max(), 1e-3))


@pytest.mark.parametrize("data", ["sparse", "mixed"])
def test_bit_identical_for_any_thread_count(data):
    rng = np.random.default_rng(11)
    X = sparse_data(rng, 600, 784, 0.19) if data == "sparse" else mixed_data(rng, 600, 784)
    y = rng.integers(0, 10, len(X))
    runs = [train(X, y, layers=[784, 100, 10], optimizer=mlpcore.Adam(), batch_size=200, threads=t,
                  validation_split=0.1) for t in (1, 2, 3)]
    for other in runs[1:]:
        for (W, b), (W1, b1) in zip(runs[0].get_weights(), other.get_weights()):
            assert_bitwise_equal(W1, W, "W")
            assert_bitwise_equal(b1, b, "b")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
def test_every_simd_level_matches_the_reference(level, dtype):
    rng = np.random.default_rng(3)
    X = sparse_data(rng, 90, 150, 0.15, dtype)
    X[5, :] = 0.0  # an all-zero row
    X[6, 3] = -0.0  # negative zero counts as zero
    y = rng.integers(0, 3, 90)
    with simd_level(level):
        model = mlpcore.MLP([150, 37, 3], seed=2, dtype=dtype)
        loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol)
    for (dW, _), (rW, _) in zip(grads, ref_grads):
        np.testing.assert_allclose(dW, rW, rtol=0, atol=tol * np.abs(rW).max())


def test_input_noise_and_dropout_with_sparse_inputs_are_deterministic():
    rng = np.random.default_rng(5)
    X = sparse_data(rng, 300, 100, 0.1)
    y = rng.integers(0, 2, 300)
    runs = []
    for threads in (1, 2):
        model = mlpcore.MLP([100, 30, 2], seed=0, dropout=0.2, input_noise=0.1)
        with num_threads(threads):
            mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05), epochs=2, batch_size=64, seed=1, verbose=False)
        runs.append(model.get_weights())
    for (W, b), (W1, b1) in zip(*runs):
        assert_bitwise_equal(W1, W, "W")
        assert_bitwise_equal(b1, b, "b")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), d=st.integers(64, 260), hidden=st.integers(32, 140),
       density=st.sampled_from([0.0, 0.01, 0.1, 0.3]), seed=st.integers(0, 2**16))
def test_property_gradients_match_the_reference(n, d, hidden, density, seed):
    rng = np.random.default_rng(seed)
    X = sparse_data(rng, n, d, density, np.float64)
    y = rng.integers(0, 3, n)
    model = mlpcore.MLP([d, hidden, 3], seed=seed, dtype=np.float64)
    loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-11, abs=1e-12)
    for (dW, db), (rW, rb) in zip(grads, ref_grads):
        scale = max(np.abs(rW).max(), np.abs(rb).max(), 1e-30)
        np.testing.assert_allclose(dW, rW, rtol=0, atol=1e-11 * scale)
