"""mlpcore.MLP: construction, initialisation, weights, forward/predict, loss_and_grads against
PyTorch autograd and central finite differences, save/load, and bad input."""

from __future__ import annotations

import gc
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.special
from _helpers import FLOAT_DTYPES, assert_bitwise_equal, misaligned_copy, num_threads, simd_level
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpcore

SEED = 2024
ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")
SMOOTH = ("identity", "sigmoid", "tanh", "softplus")


# --------------------------------------------------------------------------- #
# float64 numpy reference of the forward pass
# --------------------------------------------------------------------------- #


def act_np(name: str, z: np.ndarray) -> np.ndarray:
    if name == "identity":
        return z
    if name == "sigmoid":
        return scipy.special.expit(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    raise AssertionError(name)


def forward_np(weights, X, activations, output) -> np.ndarray:
    A = np.asarray(X, np.float64)
    for i, (W, b) in enumerate(weights):
        Z = A @ W.astype(np.float64) + b.astype(np.float64)
        if i < len(weights) - 1:
            A = act_np(activations[i], Z)
        elif output == "softmax":
            A = scipy.special.softmax(Z, axis=1)
        elif output == "sigmoid":
            A = scipy.special.expit(Z)
        else:
            A = Z
    return A


def random_weights(rng, sizes, dtype, scale=1.0):
    return [
        ((rng.standard_normal((a, b)) * scale / np.sqrt(a)).astype(dtype), (rng.standard_normal(b) * 0.3).astype(dtype))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def targets_for(rng, n, k, loss):
    if loss in ("cross_entropy", "hinge"):
        return rng.integers(0, max(k, 2), n)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, (n, k)).astype(np.float64)
    return rng.standard_normal((n, k))


def make(sizes, *, activation="relu", output="softmax", loss=None, dtype="float64", seed=0, **kw):
    return mlpcore.MLP(sizes, activation=activation, output=output, loss=loss, dtype=dtype, seed=seed, **kw)


# --------------------------------------------------------------------------- #
# Construction and attributes
# --------------------------------------------------------------------------- #


def test_attributes_and_defaults():
    model = mlpcore.MLP([784, 256, 128, 10])
    assert model.layer_sizes == (784, 256, 128, 10)
    assert isinstance(model.layer_sizes, tuple)
    assert model.activation == ("relu", "relu")
    assert model.output == "softmax" and model.loss == "cross_entropy"
    assert model.dropout == 0.0 and model.input_noise == 0.0
    assert model.dtype == np.dtype(np.float32)
    assert model.n_parameters == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert model.is_classifier is True


@pytest.mark.parametrize(
    "output,loss,want_loss,classifier",
    [
        ("softmax", None, "cross_entropy", True),
        ("sigmoid", None, "binary_cross_entropy", True),
        ("identity", None, "mse", False),
        ("identity", "mae", "mae", False),
        ("identity", "hinge", "hinge", True),
        ("sigmoid", "mse", "mse", False),
    ],
)
def test_default_loss_follows_output(output, loss, want_loss, classifier):
    model = mlpcore.MLP([3, 4, 2], output=output, loss=loss, seed=0)
    assert model.loss == want_loss
    assert model.is_classifier is classifier


def test_softmax_regression_has_no_hidden_layer():
    model = mlpcore.MLP([784, 10], seed=1)
    assert model.activation == ()
    weights = model.get_weights()
    assert len(weights) == 1
    assert weights[0][0].shape == (784, 10) and weights[0][1].shape == (10,)
    assert model.n_parameters == 7850


def test_activation_per_hidden_layer():
    model = mlpcore.MLP([3, 4, 5, 6, 2], activation=["tanh", "relu", "softplus"], seed=0)
    assert model.activation == ("tanh", "relu", "softplus")
    model = mlpcore.MLP([3, 4, 5, 2], activation="sigmoid", seed=0)
    assert model.activation == ("sigmoid", "sigmoid")


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32, np.float64, np.dtype("float64")])
def test_dtype_runs_end_to_end(dtype):
    model = mlpcore.MLP([5, 7, 3], dtype=dtype, seed=0)
    want = np.dtype(dtype)
    assert model.dtype == want
    for W, b in model.get_weights():
        assert W.dtype == want and b.dtype == want
    X = np.random.default_rng(0).standard_normal((4, 5))
    assert model.forward(X).dtype == want
    assert model.predict_proba(X).dtype == want
    loss, grads = model.loss_and_grads(X, np.array([0, 1, 2, 0]))
    assert isinstance(loss, float)
    for dW, db in grads:
        assert dW.dtype == want and db.dtype == want


# --------------------------------------------------------------------------- #
# Initialisation
# --------------------------------------------------------------------------- #


def test_initialisation_he_and_glorot_uniform():
    """He-uniform sqrt(6/fan_in) for layers feeding relu/leaky_relu, Glorot-uniform
    sqrt(6/(fan_in+fan_out)) for every other layer including the output; zero biases."""
    sizes = [300, 200, 150, 120, 100, 10]
    acts = ("relu", "tanh", "leaky_relu", "sigmoid")
    model = mlpcore.MLP(sizes, activation=acts, seed=SEED)
    weights = model.get_weights()
    assert len(weights) == 5
    for i, (W, b) in enumerate(weights):
        fan_in, fan_out = sizes[i], sizes[i + 1]
        assert W.shape == (fan_in, fan_out) and b.shape == (fan_out,)
        assert not b.any(), f"layer {i}: biases must start at zero"
        he = i < len(acts) and acts[i] in ("relu", "leaky_relu")
        bound = np.sqrt(6.0 / fan_in) if he else np.sqrt(6.0 / (fan_in + fan_out))
        W64 = W.astype(np.float64)
        assert np.max(np.abs(W64)) <= bound * (1 + 1e-6), f"layer {i}: |W| exceeds the bound {bound}"
        assert np.max(np.abs(W64)) >= 0.97 * bound, f"layer {i}: weights do not fill the bound {bound}"
        # uniform on [-bound, bound]: std bound/sqrt(3), mean 0, half the mass below bound/2
        np.testing.assert_allclose(W64.std(), bound / np.sqrt(3), rtol=0.05, err_msg=f"layer {i}")
        assert abs(W64.mean()) < 0.05 * bound
        assert abs(np.mean(np.abs(W64) < bound / 2) - 0.5) < 0.04, f"layer {i}: not uniform"


@pytest.mark.parametrize("act,he", [("relu", True), ("leaky_relu", True), ("tanh", False), ("sigmoid", False),
                                    ("softplus", False), ("identity", False)])
def test_initialisation_bound_depends_on_the_activation(act, he):
    model = mlpcore.MLP([400, 300, 2], activation=act, seed=3)
    W = model.get_weights()[0][0].astype(np.float64)
    bound = np.sqrt(6 / 400) if he else np.sqrt(6 / 700)
    assert np.max(np.abs(W)) <= bound * (1 + 1e-6)
    assert np.max(np.abs(W)) > 0.99 * bound
    W_out = model.get_weights()[1][0].astype(np.float64)
    out_bound = np.sqrt(6 / 302)  # the output layer is always Glorot
    assert out_bound * 0.95 < np.max(np.abs(W_out)) <= out_bound * (1 + 1e-6)


def test_seed_makes_initialisation_reproducible():
    a = mlpcore.MLP([20, 30, 5], seed=7).get_weights()
    b = mlpcore.MLP([20, 30, 5], seed=7).get_weights()
    c = mlpcore.MLP([20, 30, 5], seed=8).get_weights()
    d = mlpcore.MLP([20, 30, 5]).get_weights()
    e = mlpcore.MLP([20, 30, 5]).get_weights()
    for (Wa, ba), (Wb, bb) in zip(a, b):
        assert_bitwise_equal(Wa, Wb, "same seed")
        assert_bitwise_equal(ba, bb, "same seed")
    assert not np.array_equal(a[0][0], c[0][0])
    assert not np.array_equal(d[0][0], e[0][0]), "seed=None must not give a fixed initialisation"


def test_float64_initialisation_matches_float32_in_distribution():
    w32 = mlpcore.MLP([50, 40, 3], seed=5, dtype="float32").get_weights()[0][0]
    w64 = mlpcore.MLP([50, 40, 3], seed=5, dtype="float64").get_weights()[0][0]
    bound = np.sqrt(6 / 50)
    for W in (w32, w64):
        assert np.max(np.abs(W)) <= bound * (1 + 1e-6)


# --------------------------------------------------------------------------- #
# get_weights / set_weights
# --------------------------------------------------------------------------- #


def test_get_weights_returns_copies(rng):
    model = make([4, 6, 3])
    X = rng.standard_normal((5, 4))
    before = model.forward(X)
    weights = model.get_weights()
    for W, b in weights:
        W[...] = 123.0
        b[...] = -7.0
    assert_bitwise_equal(model.forward(X), before, "forward after modifying get_weights() copies")
    again = model.get_weights()
    assert not np.any(again[0][0] == 123.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_set_weights_round_trip_and_forward(dtype, rng):
    sizes = [4, 6, 5, 3]
    model = make(sizes, activation=("tanh", "relu"), dtype=np.dtype(dtype).name)
    weights = random_weights(rng, sizes, dtype)
    assert model.set_weights(weights) is None
    got = model.get_weights()
    for (W, b), (W2, b2) in zip(weights, got):
        assert_bitwise_equal(W2, W, "W")
        assert_bitwise_equal(b2, b, "b")
    # the model holds its own copy
    weights[0][0][...] = 0.0
    assert_bitwise_equal(model.get_weights()[0][0], got[0][0], "after changing the caller's array")
    X = rng.standard_normal((9, 4))
    want = forward_np(got, X.astype(dtype), ("tanh", "relu"), "softmax")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(model.forward(X), want, rtol=rtol, atol=rtol * 1e-2)


def test_set_weights_casts_float64_to_float32(rng):
    model = make([3, 2], dtype="float32")
    W = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    model.set_weights([(W, b)])
    (W2, b2), = model.get_weights()
    assert W2.dtype == np.float32
    np.testing.assert_array_equal(W2, W.astype(np.float32))
    np.testing.assert_array_equal(b2, b.astype(np.float32))
    model.set_weights([([[1, 2], [3, 4], [5, 6]], [0, 1])])  # nested lists of ints
    np.testing.assert_array_equal(model.get_weights()[0][0], [[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize(
    "weights,pattern",
    [
        ([(np.zeros((4, 6)), np.zeros(6))], r"weights\b.*\b2\b.*\b1\b"),
        ([(np.zeros((4, 6)), np.zeros(6)), (np.zeros((6, 3)), np.zeros(3)), (np.zeros((3, 3)), np.zeros(3))],
         r"weights\b.*\b2\b.*\b3\b"),
        ([(np.zeros((6, 4)), np.zeros(6)), (np.zeros((6, 3)), np.zeros(3))], r"\(4, 6\)|shape"),
        ([(np.zeros((4, 6)), np.zeros(5)), (np.zeros((6, 3)), np.zeros(3))], r"\(6,\)|shape"),
        ([(np.zeros((4, 6)), np.zeros((6, 1))), (np.zeros((6, 3)), np.zeros(3))], r"shape"),
        ([(np.zeros((4, 6)), np.zeros(6)), (np.zeros((6, 3)), np.array([0.0, np.nan, 0.0]))], r"(?i)nan|finite"),
        ([(np.full((4, 6), np.inf), np.zeros(6)), (np.zeros((6, 3)), np.zeros(3))], r"(?i)inf|finite"),
        ([(np.full((4, 6), 1e300), np.zeros(6)), (np.zeros((6, 3)), np.zeros(3))], r"(?i)inf|finite|overflow|float32"),
    ],
    ids=["too-few", "too-many", "W-transposed", "b-length", "b-2d", "nan", "inf", "overflow-f32"],
)
def test_set_weights_validates(weights, pattern):
    model = make([4, 6, 3], dtype="float32")
    before = model.get_weights()
    with pytest.raises(ValueError, match=pattern):
        model.set_weights(weights)
    for (W, b), (W2, b2) in zip(before, model.get_weights()):
        assert_bitwise_equal(W2, W, "weights after a rejected set_weights")
        assert_bitwise_equal(b2, b, "biases after a rejected set_weights")


def test_set_weights_rejects_non_numeric():
    model = make([2, 2])
    with pytest.raises((TypeError, ValueError)):
        model.set_weights([(np.array([["a", "b"], ["c", "d"]]), np.zeros(2))])
    with pytest.raises((TypeError, ValueError)):
        model.set_weights("weights")


# --------------------------------------------------------------------------- #
# forward / predict / predict_proba
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity"])
def test_forward_matches_numpy(output, act, dtype, rng):
    sizes = [6, 11, 7, 4]
    model = make(sizes, activation=act, output=output, dtype=np.dtype(dtype).name, seed=3)
    weights = random_weights(rng, sizes, dtype, scale=2.0)
    model.set_weights(weights)
    X = (rng.standard_normal((33, 6)) * 2).astype(dtype)
    out = model.forward(X)
    assert out.shape == (33, 4) and out.dtype == np.dtype(dtype)
    want = forward_np(weights, X, (act, act), output)
    rtol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, want, rtol=rtol, atol=rtol * np.max(np.abs(want)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_predict_softmax(dtype, rng):
    model = make([5, 8, 4], dtype=np.dtype(dtype).name)
    X = rng.standard_normal((50, 5)).astype(dtype)
    proba = model.predict_proba(X)
    assert proba.shape == (50, 4) and proba.dtype == np.dtype(dtype)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(proba, model.forward(X))
    pred = model.predict(X)
    assert pred.shape == (50,) and pred.dtype == np.int64
    np.testing.assert_array_equal(pred, np.argmax(proba, axis=1))


@pytest.mark.parametrize("zeros", [0.0, 0.85], ids=["dense", "sparse"])
@pytest.mark.parametrize("params_dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("x_dtype", FLOAT_DTYPES)
def test_network_predict_in_float64_from_any_mix_of_dtypes(x_dtype, params_dtype, zeros, rng):
    """Network.predict(float64=True) widens float32 weights and inputs as it reads them: the
    same bits as predicting float64 copies, for rows that take the sparse first layer (wide
    inputs, mostly zeros, several chunks) and rows that take the GEMM."""
    model = make([80, 40, 9, 4], dtype=np.dtype(params_dtype).name, seed=7)
    X = rng.standard_normal((700, 80))
    X[rng.random(X.shape) < zeros] = 0.0
    X = X.astype(x_dtype)
    net, params = model._net, model._params
    out = net.predict(params, X, float64=True)
    assert out.dtype == np.float64 and out.shape == (700, 4)
    assert_bitwise_equal(out, net.predict(params.astype(np.float64), X.astype(np.float64)))
    want = forward_np(model.get_weights(), X, ("relu", "relu"), "softmax")
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize("hidden", [32, 36, 37, 45, 100])
def test_float64_predict_reads_float32_weights_as_they_are_on_every_simd_level(level, hidden, rng):
    """The sparse first layer of a float64 predict reads float32 weights widened as they are
    loaded (whole vectors, a half-width tail, an overlapping tail): the same bits as float64
    copies of the weights, on every SIMD level."""
    model = make([90, hidden, 3], dtype="float32", seed=3)
    X = rng.standard_normal((300, 90)).astype(np.float32)
    X[rng.random(X.shape) < 0.85] = 0.0
    net, params = model._net, model._params
    with simd_level(level):
        out = net.predict(params, X, float64=True)
        assert_bitwise_equal(out, net.predict(params.astype(np.float64), X.astype(np.float64)))


def test_network_predict_in_float64_rejects_bad_input():
    model = make([6, 5, 3], dtype="float32")
    net, params = model._net, model._params
    with pytest.raises(ValueError, match=r"\bX\b.*6 columns.*got 7"):
        net.predict(params, np.zeros((2, 7), np.float32), float64=True)
    with pytest.raises(TypeError, match=r"\bX\b"):
        net.predict(params, np.zeros((2, 6), np.int64), float64=True)
    with pytest.raises(ValueError, match=r"\bX\b.*contiguous"):
        net.predict(params, np.zeros((6, 2), np.float32).T, float64=True)
    with pytest.raises(ValueError, match=r"\bX\b.*one row"):
        net.predict(params, np.zeros((0, 6), np.float64), float64=True)
    with pytest.raises(ValueError, match=r"\bX\b.*NaN"):
        net.predict(params, np.full((1, 6), np.nan, np.float32), float64=True)
    with pytest.raises(TypeError, match=r"params"):
        net.predict(params.astype(np.int32), np.zeros((1, 6), np.float32), float64=True)


def test_predict_sigmoid_one_output(rng):
    model = make([3, 5, 1], output="sigmoid")
    X = rng.standard_normal((40, 3))
    proba = model.predict_proba(X)
    assert proba.shape == (40, 1)
    pred = model.predict(X)
    assert pred.shape == (40,) and pred.dtype == np.int64
    assert set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba[:, 0] > 0.5).astype(np.int64))


def test_predict_sigmoid_multilabel(rng):
    model = make([3, 5, 4], output="sigmoid")
    model.set_weights(random_weights(rng, [3, 5, 4], np.float64, scale=3.0))
    X = rng.standard_normal((40, 3))
    proba = model.predict_proba(X)
    assert proba.shape == (40, 4)
    np.testing.assert_array_equal(proba, model.forward(X))
    pred = model.predict(X)
    assert pred.shape == (40, 4) and pred.dtype == np.int64
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(np.int64))
    assert 0 < pred.sum() < pred.size  # both values occur


@pytest.mark.parametrize("n_out", [1, 3])
def test_predict_identity_returns_values(n_out, rng):
    model = make([3, 5, n_out], output="identity", activation="tanh")
    X = rng.standard_normal((12, 3))
    pred = model.predict(X)
    assert pred.shape == (12, n_out)
    np.testing.assert_array_equal(pred, model.forward(X))


def test_forward_accepts_any_layout_and_dtype(rng):
    model = make([6, 9, 3], dtype="float32")
    X = rng.standard_normal((20, 6)).astype(np.float32)
    want = model.forward(X)
    np.testing.assert_allclose(model.forward(np.asfortranarray(X)), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.forward(X.astype(np.float64)), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.forward(X.tolist()), want, rtol=1e-6, atol=1e-7)
    big = np.zeros((40, 13), np.float32)
    big[::2, 1:13:2] = X
    np.testing.assert_allclose(model.forward(big[::2, 1:13:2]), want, rtol=1e-6, atol=1e-7)
    X_before = X.copy()
    model.predict(X)
    assert_bitwise_equal(X, X_before, "forward must not modify X")


def test_forward_rows_are_independent(rng):
    model = make([8, 16, 5], dtype="float64")
    X = rng.standard_normal((37, 8))
    full = model.forward(X)
    for i in (0, 17, 36):
        np.testing.assert_allclose(model.forward(X[i:i + 1]), full[i:i + 1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_forward_is_thread_count_invariant(dtype, rng):
    model = make([200, 300, 100, 10], dtype=np.dtype(dtype).name, seed=1)
    X = rng.standard_normal((257, 200)).astype(dtype)
    with num_threads(1):
        one = model.forward(X)
    with num_threads(2):
        two = model.forward(X)
    assert_bitwise_equal(two, one, "forward with 1 vs 2 threads")


def test_dropout_and_input_noise_do_not_act_outside_training(rng):
    sizes = [6, 20, 20, 3]
    plain = make(sizes, seed=4)
    noisy = make(sizes, seed=4, dropout=0.5, input_noise=2.0)
    noisy.set_weights(plain.get_weights())
    X = rng.standard_normal((30, 6))
    y = rng.integers(0, 3, 30)
    f1, f2 = noisy.forward(X), noisy.forward(X)
    assert_bitwise_equal(f1, f2, "forward must be deterministic with dropout")
    assert_bitwise_equal(f1, plain.forward(X), "forward with vs without dropout")
    np.testing.assert_array_equal(noisy.predict(X), plain.predict(X))
    l1, g1 = noisy.loss_and_grads(X, y)
    l2, g2 = plain.loss_and_grads(X, y)
    assert l1 == l2
    for (a, b), (c, d) in zip(g1, g2):
        assert_bitwise_equal(a, c, "dW")
        assert_bitwise_equal(b, d, "db")


# --------------------------------------------------------------------------- #
# loss_and_grads against PyTorch autograd
# --------------------------------------------------------------------------- #

# (sizes, activations, output, loss)
ARCHS = [
    ([5, 3], (), "softmax", "cross_entropy"),
    ([6, 8, 4], ("relu",), "softmax", "cross_entropy"),
    ([7, 9, 5, 3], ("tanh", "sigmoid"), "softmax", "cross_entropy"),
    ([4, 6, 6, 1], ("leaky_relu", "softplus"), "sigmoid", "binary_cross_entropy"),
    ([4, 6, 3], ("relu",), "sigmoid", "binary_cross_entropy"),
    ([3, 5, 2], ("identity",), "identity", "mse"),
    ([5, 7, 7, 1], ("softplus", "tanh"), "identity", "mse"),
    ([5, 7, 3], ("relu",), "identity", "mae"),
    ([4, 8, 3], ("tanh",), "identity", "hinge"),
    ([4, 8, 1], ("leaky_relu",), "identity", "hinge"),
    ([4, 5, 3], ("sigmoid",), "sigmoid", "mse"),
]


def torch_loss_and_grads(torch, weights, X, Y, activations, output, loss):
    F = torch.nn.functional
    acts = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "softplus": F.softplus}
    params = [(torch.tensor(W.astype(np.float64), requires_grad=True),
               torch.tensor(b.astype(np.float64), requires_grad=True)) for W, b in weights]
    A = torch.from_numpy(np.asarray(X, np.float64))
    for i, (W, b) in enumerate(params):
        A = A @ W + b
        if i < len(params) - 1:
            A = acts[activations[i]](A)
    S = A
    n, k = S.shape
    Yt = torch.from_numpy(np.asarray(Y))
    if loss == "cross_entropy":
        value = F.cross_entropy(S, Yt)
    elif loss == "binary_cross_entropy":
        value = F.binary_cross_entropy_with_logits(S, Yt.double().reshape(n, k))
    else:
        out = {"identity": S, "sigmoid": torch.sigmoid(S), "softmax": torch.softmax(S, 1)}[output]
        if loss == "mse":
            value = F.mse_loss(out, Yt.double().reshape(n, k))
        elif loss == "mae":
            value = F.l1_loss(out, Yt.double().reshape(n, k))
        elif k == 1:
            value = torch.clamp(1.0 - (2.0 * Yt.double() - 1.0) * out[:, 0], min=0).mean()
        else:
            value = F.multi_margin_loss(out, Yt.long())
    value.backward()
    return value.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in params]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [1, 13, 70])
@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{'-'.join(map(str, a[0]))}-{'-'.join(a[1])}-{a[3]}")
def test_loss_and_grads_match_torch(arch, n, dtype):
    torch = pytest.importorskip("torch")
    sizes, acts, output, loss = arch
    rng = np.random.default_rng([SEED, n, len(sizes), sizes[-1]])
    model = make(sizes, activation=acts if acts else "relu", output=output, loss=loss,
                 dtype=np.dtype(dtype).name, seed=1)
    weights = random_weights(rng, sizes, dtype, scale=1.5)
    model.set_weights(weights)
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    Y = targets_for(rng, n, sizes[-1], loss)
    value, grads = model.loss_and_grads(X, Y)
    want, want_grads = torch_loss_and_grads(torch, weights, X, Y, acts, output, loss)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(value, want, rtol=rtol, atol=rtol * 1e-2)
    assert len(grads) == len(want_grads)
    for i, ((dW, db), (tW, tb)) in enumerate(zip(grads, want_grads)):
        assert dW.shape == tW.shape and db.shape == tb.shape
        scale = max(np.max(np.abs(tW)), np.max(np.abs(tb)), 1e-12)
        np.testing.assert_allclose(dW, tW, rtol=rtol, atol=rtol * scale, err_msg=f"dW of layer {i}")
        np.testing.assert_allclose(db, tb, rtol=rtol, atol=rtol * scale, err_msg=f"db of layer {i}")


def test_loss_and_grads_does_not_change_the_model(rng):
    model = make([4, 6, 3], dtype="float32")
    before = model.get_weights()
    X = rng.standard_normal((10, 4)).astype(np.float32)
    X_before = X.copy()
    model.loss_and_grads(X, rng.integers(0, 3, 10))
    for (W, b), (W2, b2) in zip(before, model.get_weights()):
        assert_bitwise_equal(W2, W, "W")
        assert_bitwise_equal(b2, b, "b")
    assert_bitwise_equal(X, X_before, "X")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_loss_and_grads_thread_count_invariant(dtype, rng):
    model = make([120, 200, 64, 10], dtype=np.dtype(dtype).name, seed=2)
    X = rng.standard_normal((300, 120)).astype(dtype)
    y = rng.integers(0, 10, 300)
    with num_threads(1):
        l1, g1 = model.loss_and_grads(X, y)
    with num_threads(2):
        l2, g2 = model.loss_and_grads(X, y)
    assert l1 == l2
    for (a, b), (c, d) in zip(g1, g2):
        assert_bitwise_equal(c, a, "dW 1 vs 2 threads")
        assert_bitwise_equal(d, b, "db 1 vs 2 threads")


# --------------------------------------------------------------------------- #
# loss_and_grads against central finite differences (float64, hypothesis)
# --------------------------------------------------------------------------- #


def numerical_gradient(model, weights, X, Y, h=1e-6):
    grads = []
    for W, b in weights:
        gl = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + h
                model.set_weights(weights)
                up = model.loss_and_grads(X, Y)[0]
                arr[idx] = old - h
                model.set_weights(weights)
                down = model.loss_and_grads(X, Y)[0]
                arr[idx] = old
                g[idx] = (up - down) / (2 * h)
            gl.append(g)
        grads.append(tuple(gl))
    model.set_weights(weights)
    return grads


@settings(max_examples=40, deadline=None)
@given(
    n_in=st.integers(1, 5),
    hidden=st.lists(st.integers(1, 5), min_size=0, max_size=2),
    n_out=st.integers(1, 4),
    data=st.data(),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradients_equal_finite_differences(n_in, hidden, n_out, data, n, seed):
    layer_sizes = [n_in, *hidden, n_out]
    acts = tuple(data.draw(st.sampled_from(SMOOTH)) for _ in hidden)
    output, loss = data.draw(st.sampled_from(
        [("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy"), ("identity", "mse"),
         ("sigmoid", "mse")]))
    if output == "softmax" and n_out == 1:
        n_out = layer_sizes[-1] = 2
    rng = np.random.default_rng(seed)
    model = make(layer_sizes, activation=acts if acts else "tanh", output=output, loss=loss, dtype="float64")
    weights = random_weights(rng, layer_sizes, np.float64, scale=1.5)
    model.set_weights(weights)
    X = rng.standard_normal((n, n_in))
    Y = targets_for(rng, n, n_out, loss)
    value, grads = model.loss_and_grads(X, Y)
    assert np.isfinite(value)
    numeric = numerical_gradient(model, [(W.copy(), b.copy()) for W, b in weights], X, Y)
    for i, ((dW, db), (nW, nb)) in enumerate(zip(grads, numeric)):
        np.testing.assert_allclose(dW, nW, rtol=1e-5, atol=1e-7, err_msg=f"dW of layer {i}")
        np.testing.assert_allclose(db, nb, rtol=1e-5, atol=1e-7, err_msg=f"db of layer {i}")


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
@pytest.mark.parametrize("loss", ["mae", "hinge"])
def test_piecewise_linear_gradients_equal_finite_differences(act, loss):
    """Away from kinks, relu/leaky_relu and mae/hinge are differentiable too: random data
    keeps every pre-activation and residual far from 0 (checked), so central differences
    with a small step cross no kink."""
    rng = np.random.default_rng([SEED, len(act), len(loss)])
    sizes = [3, 6, 3]
    model = make(sizes, activation=act, output="identity", loss=loss, dtype="float64")
    weights = random_weights(rng, sizes, np.float64, scale=1.5)
    model.set_weights(weights)
    X = rng.standard_normal((5, 3))
    Y = targets_for(rng, 5, 3, loss)
    Z1 = X @ weights[0][0] + weights[0][1]
    assert np.min(np.abs(Z1)) > 1e-4
    _, grads = model.loss_and_grads(X, Y)
    numeric = numerical_gradient(model, [(W.copy(), b.copy()) for W, b in weights], X, Y, h=1e-7)
    for (dW, db), (nW, nb) in zip(grads, numeric):
        np.testing.assert_allclose(dW, nW, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(db, nb, rtol=1e-5, atol=1e-7)


def test_targets_accepted_in_every_documented_form(rng):
    """softmax + cross_entropy: integer labels or one-hot rows; both give the same result."""
    model = make([4, 5, 3])
    X = rng.standard_normal((8, 4))
    labels = rng.integers(0, 3, 8)
    a = model.loss_and_grads(X, labels)
    b = model.loss_and_grads(X, np.eye(3)[labels])
    c = model.loss_and_grads(X, labels.astype(np.int32))
    c2 = model.loss_and_grads(X, labels.tolist())
    for other in (b, c, c2):
        np.testing.assert_allclose(other[0], a[0], rtol=1e-12)
        for (x1, y1), (x2, y2) in zip(a[1], other[1]):
            np.testing.assert_allclose(x1, x2, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(y1, y2, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- #
# save / load
# --------------------------------------------------------------------------- #

SAVE_CASES = [
    dict(layer_sizes=[5, 3]),
    dict(layer_sizes=[6, 8, 7, 4], activation=("tanh", "leaky_relu")),
    dict(layer_sizes=[4, 9, 1], activation="softplus", output="sigmoid"),
    dict(layer_sizes=[4, 9, 3], activation="sigmoid", output="identity", loss="hinge"),
    dict(layer_sizes=[4, 9, 2], activation="identity", output="identity", loss="mae", dtype="float64"),
    dict(layer_sizes=[4, 9, 9, 3], dropout=0.3, input_noise=0.25, dtype="float64"),
]


@pytest.mark.parametrize("case", SAVE_CASES,
                         ids=lambda c: "-".join(map(str, c["layer_sizes"])) + "-" + c.get("loss", ""))
@pytest.mark.parametrize("as_path", [True, False], ids=["Path", "str"])
def test_save_load_round_trip(case, as_path, tmp_path, rng):
    model = mlpcore.MLP(**case, seed=11)
    sizes = case["layer_sizes"]
    model.set_weights(random_weights(rng, sizes, model.dtype))
    path = tmp_path / "model.npz"
    model.save(path if as_path else str(path))
    assert path.is_file()
    loaded = mlpcore.load(path if as_path else str(path))
    assert isinstance(loaded, mlpcore.MLP)
    for attr in ("layer_sizes", "activation", "output", "loss", "dropout", "input_noise", "dtype", "n_parameters",
                 "is_classifier"):
        assert getattr(loaded, attr) == getattr(model, attr), attr
    for (W, b), (W2, b2) in zip(model.get_weights(), loaded.get_weights()):
        assert_bitwise_equal(W2, W, "W after load")
        assert_bitwise_equal(b2, b, "b after load")
    X = rng.standard_normal((25, sizes[0])).astype(model.dtype)
    assert_bitwise_equal(loaded.forward(X), model.forward(X), "forward after load")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_saved_file_is_a_plain_npz_with_a_format_version(tmp_path):
    path = tmp_path / "m.npz"
    mlpcore.MLP([3, 4, 2], seed=0).save(path)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as f:  # no object arrays: loadable without pickle
        keys = list(f.keys())
        arrays = {k: f[k] for k in keys}
    assert any("version" in k.lower() for k in keys), f"no format version among {keys}"
    assert all(a.dtype != object for a in arrays.values())


def test_load_after_training_predicts_identically(tmp_path, rng):
    X = rng.standard_normal((64, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    model = mlpcore.MLP([5, 8, 2], seed=3)
    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=3, seed=0, verbose=False)
    model.save(tmp_path / "trained.npz")
    loaded = mlpcore.load(tmp_path / "trained.npz")
    assert_bitwise_equal(loaded.predict_proba(X), model.predict_proba(X), "predict_proba")


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        mlpcore.load(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError):
        mlpcore.load(str(tmp_path / "dir" / "nope.npz"))


@pytest.fixture
def saved(tmp_path) -> Path:
    path = tmp_path / "good.npz"
    mlpcore.MLP([4, 6, 3], activation="tanh", seed=0).save(path)
    return path


def load_error(path) -> str:
    """The message of the ValueError that loading ``path`` raises; a clear one names the file."""
    with pytest.raises(ValueError) as info:
        mlpcore.load(path)
    message = str(info.value)
    del info  # drop the traceback's frames, then collect: a file handle load leaked now warns
    gc.collect()  # (ResourceWarning, an error here) inside this test rather than in a later one
    assert Path(path).name in message, f"the error should name the file: {message!r}"
    return message


@pytest.mark.parametrize("keep", [0, 1, 10, 100, 0.5, 0.9, -1])
def test_load_truncated_file(saved, keep, tmp_path):
    data = saved.read_bytes()
    if isinstance(keep, float):
        n = int(len(data) * keep)
    else:
        n = keep if keep >= 0 else len(data) + keep
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[:n])
    load_error(bad)


def test_load_corrupt_file(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    rng = np.random.default_rng(0)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
    load_error(garbage)
    # flip bytes inside the stored arrays: the zip CRC (or the array header) no longer checks out
    for offset in (len(data) // 3, len(data) // 2):
        flipped = bytearray(data)
        for i in range(offset, offset + 8):
            flipped[i] ^= 0xFF
        bad = tmp_path / f"flipped{offset}.npz"
        bad.write_bytes(bytes(flipped))
        load_error(bad)


def test_load_foreign_files(tmp_path):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3), b=np.ones((2, 2)))
    load_error(other)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones((4, 6)))
    load_error(npy)
    text = tmp_path / "text.npz"
    text.write_text("layer_sizes = [4, 6, 3]\n")
    load_error(text)
    with pytest.raises(ValueError, match=r"is not a valid mlpcore model file \(not a \.npz archive\)$"):
        mlpcore.load(text)  # named as what it is, not as "pickled data" to load unsafely
    with pytest.raises(ValueError, match=r"\(not a \.npz archive\)$"):
        mlpcore.load(npy)
    empty_zip = tmp_path / "empty.npz"
    with zipfile.ZipFile(empty_zip, "w"):
        pass
    load_error(empty_zip)
    with pytest.raises((ValueError, OSError)):
        mlpcore.load(tmp_path)


def _rewrite(path: Path, out: Path, change) -> None:
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.keys()}
    change(arrays)
    np.savez(out, **arrays)


def test_load_rejects_unknown_format_version(saved, tmp_path):
    def bump(arrays):
        key = next(k for k in arrays if "version" in k.lower())
        arrays[key] = np.asarray(arrays[key]).astype(np.int64) + 999 if arrays[key].dtype.kind in "iuf" else \
            np.asarray("999")
    bad = tmp_path / "future.npz"
    _rewrite(saved, bad, bump)
    with pytest.raises(ValueError, match=r"(?i)version"):
        mlpcore.load(bad)


def test_load_rejects_weights_that_do_not_fit_the_architecture(saved, tmp_path):
    with np.load(saved, allow_pickle=False) as f:
        float_keys = [k for k in f.keys() if f[k].dtype.kind == "f" and f[k].size > 1]
    assert float_keys
    for key in float_keys:
        bad = tmp_path / f"bad_{key}.npz"
        _rewrite(saved, bad, lambda a, key=key: a.__setitem__(key, np.ascontiguousarray(a[key].reshape(-1)[:-1])))
        with pytest.raises(ValueError):
            mlpcore.load(bad)
    # a missing entry
    for key in float_keys[:1]:
        bad = tmp_path / "missing.npz"
        _rewrite(saved, bad, lambda a, key=key: a.pop(key))
        with pytest.raises(ValueError):
            mlpcore.load(bad)


class _Exploit:
    """Unpickling this creates the marker file: proof that load unpickled something."""

    marker = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_load_never_unpickles(saved, tmp_path):
    marker = tmp_path / "PWNED"
    exploit = _Exploit()
    exploit.marker = str(marker)
    payload = np.empty(1, dtype=object)
    payload[0] = exploit
    with np.load(saved, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.keys()}
    for key in list(arrays):
        bad = tmp_path / f"pickled_{key}.npz"
        np.savez(bad, **{**arrays, key: payload})
        load_error(bad)
        assert not marker.exists(), f"load unpickled the entry {key!r}"
    # a pickle file disguised as .npz
    disguised = tmp_path / "pickle.npz"
    disguised.write_bytes(pickle.dumps(exploit))
    load_error(disguised)
    assert not marker.exists()


def test_save_overwrites_and_leaves_no_stray_files(tmp_path, rng):
    a = mlpcore.MLP([3, 2], seed=0)
    b = mlpcore.MLP([3, 5, 2], seed=1)
    path = tmp_path / "m.npz"
    a.save(path)
    b.save(path)
    assert mlpcore.load(path).layer_sizes == (3, 5, 2)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_save_names_a_missing_folder_and_a_folder_target(tmp_path):
    """The error named the internal temporary file (m.npz.<pid>.<hex>.tmp), not the user's path."""
    model = mlpcore.MLP([3, 2], seed=0)
    with pytest.raises(FileNotFoundError, match=r"MLP.save: the folder of '.*nodir/m.npz' does not exist"):
        model.save(tmp_path / "nodir" / "m.npz")
    with pytest.raises(IsADirectoryError, match=r"MLP.save: '.*' is a folder; give a file name"):
        model.save(tmp_path)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "kwargs,exc,pattern",
    [
        (dict(layer_sizes=[784]), ValueError, "layer_sizes"),
        (dict(layer_sizes=[]), ValueError, "layer_sizes"),
        (dict(layer_sizes=[784, 0, 10]), ValueError, "layer_sizes"),
        (dict(layer_sizes=[784, -5, 10]), ValueError, "layer_sizes"),
        (dict(layer_sizes=[784, 2**24 + 1, 10]), ValueError, r"layer_sizes\[1\] must be <= 16777216"),
        (dict(layer_sizes=[784, 10.5]), (TypeError, ValueError), "layer_sizes"),
        (dict(layer_sizes="784,10"), (TypeError, ValueError), "layer_sizes"),
        (dict(layer_sizes=[4, 5, 3], activation="gelu"), ValueError, "activation"),
        (dict(layer_sizes=[4, 5, 5, 3], activation=("relu",)), ValueError, "activation"),
        (dict(layer_sizes=[4, 5, 3], activation=("relu", "tanh")), ValueError, "activation"),
        (dict(layer_sizes=[4, 5, 3], output="tanh"), ValueError, "output"),
        (dict(layer_sizes=[4, 5, 3], output="sigmoid", loss="cross_entropy"), ValueError, "loss"),
        (dict(layer_sizes=[4, 5, 3], output="softmax", loss="binary_cross_entropy"), ValueError, "loss"),
        (dict(layer_sizes=[4, 5, 3], output="identity", loss="cross_entropy"), ValueError, "loss"),
        (dict(layer_sizes=[4, 5, 3], loss="nll"), ValueError, "loss"),
        (dict(layer_sizes=[4, 5, 3], dropout=-0.1), ValueError, "dropout"),
        (dict(layer_sizes=[4, 5, 3], dropout=1.0), ValueError, "dropout"),
        (dict(layer_sizes=[4, 5, 3], dropout=float("nan")), ValueError, "dropout"),
        (dict(layer_sizes=[4, 5, 3], input_noise=-1.0), ValueError, "input_noise"),
        (dict(layer_sizes=[4, 5, 3], input_noise=float("inf")), ValueError, "input_noise"),
        (dict(layer_sizes=[4, 5, 3], dtype="float16"), (TypeError, ValueError), "dtype"),
        (dict(layer_sizes=[4, 5, 3], dtype="int32"), (TypeError, ValueError), "dtype"),
        # the C++ core reads native floats only; None would be numpy's float64
        (dict(layer_sizes=[4, 5, 3], dtype=">f4" if np.little_endian else "<f4"), ValueError, "native byte order"),
        (dict(layer_sizes=[4, 5, 3], dtype=None), TypeError, "dtype"),
        (dict(layer_sizes=[4, 3], activation="gelu"), ValueError, "activation"),  # no hidden layer to use it
        (dict(layer_sizes=[4, 5, 3], seed=-1), (TypeError, ValueError), "seed"),
        (dict(layer_sizes=[4, 5, 3], seed="abc"), (TypeError, ValueError), "seed"),
    ],
    ids=lambda v: "" if isinstance(v, (type, tuple)) else None,
)
def test_constructor_rejects_bad_arguments(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        mlpcore.MLP(**kwargs)


def test_forward_rejects_bad_input(rng):
    model = make([4, 6, 3], dtype="float32")
    with pytest.raises(ValueError, match=r"\bX\b") as info:
        model.forward(np.zeros((5, 3)))
    msg = str(info.value)
    assert "4" in msg and "3" in msg, f"message should give expected and received width: {msg}"
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.predict(np.zeros((5, 7)))
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.predict_proba(np.zeros((2, 5, 4)))
    with pytest.raises((TypeError, ValueError), match=r"\bX\b"):
        model.forward(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(ValueError, match=r"\bX\b"):
        model.loss_and_grads(np.zeros((5, 3)), np.zeros(5, np.int64))


def test_loss_and_grads_rejects_mismatched_lengths(rng):
    model = make([4, 6, 3])
    with pytest.raises(ValueError, match=r"\bX\b.*\bY\b|\bY\b.*\bX\b|\bX\b.*\by\b|\by\b.*\bX\b"):
        model.loss_and_grads(np.zeros((5, 4)), np.zeros(4, np.int64))


def test_pickle_and_deepcopy_keep_weights_and_predictions():
    import copy
    import pickle

    rng = np.random.default_rng(5)
    model = mlpcore.MLP([6, 9, 4], activation=["tanh"], dropout=0.2, seed=3)
    X = rng.standard_normal((11, 6)).astype(np.float32)
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert clone.layer_sizes == model.layer_sizes and clone.activation == model.activation
        assert clone.dropout == model.dropout and clone.dtype == model.dtype
        np.testing.assert_array_equal(clone.forward(X), model.forward(X))
        # The copy owns its weights: training it leaves the original alone.
        before = model.get_weights()[0][0].copy()
        mlpcore.fit(clone, X, rng.integers(0, 4, 11), optimizer=mlpcore.SGD(lr=0.5), epochs=2, seed=0,
                    verbose=False)
        np.testing.assert_array_equal(model.get_weights()[0][0], before)
        assert not np.array_equal(clone.get_weights()[0][0], before)


def test_save_metadata_round_trip(tmp_path):
    model = mlpcore.MLP([3, 2], seed=0)
    path = tmp_path / "m.npz"
    meta = {"mean": np.array([1.5, -2.0, 0.25]), "classes": np.array(["cat", "dog"]), "scale": 255}
    model.save(path, metadata=meta)
    got = mlpcore.load_metadata(path)  # exported beside mlpcore.load, which save's docstring names
    assert set(got) == set(meta)
    np.testing.assert_array_equal(got["mean"], meta["mean"])
    np.testing.assert_array_equal(got["classes"], meta["classes"])
    assert got["scale"].item() == 255
    np.testing.assert_array_equal(mlpcore.load(path)._params, model._params)
    loaded, got_again = mlpcore.network.load_with_metadata(path)
    np.testing.assert_array_equal(loaded._params, model._params)
    np.testing.assert_array_equal(got_again["mean"], meta["mean"])
    model.save(path)
    assert mlpcore.network.load_metadata(path) == {}


@pytest.mark.parametrize(
    ("metadata", "error", "match"),
    [
        ([1, 2], TypeError, "metadata must be a dict"),
        ({"": 1}, TypeError, "metadata keys must be non-empty strings"),
        ({3: 1}, TypeError, "metadata keys must be non-empty strings"),
        ({"o": np.array([object()])}, TypeError, r"metadata\['o'\] must hold numbers or strings"),
    ],
)
def test_save_rejects_bad_metadata(metadata, error, match, tmp_path):
    path = tmp_path / "m.npz"
    with pytest.raises(error, match=match):
        mlpcore.MLP([3, 2]).save(path, metadata=metadata)
    assert not path.exists()


def test_load_metadata_refuses_foreign_files(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a valid mlpcore model file"):
        mlpcore.network.load_metadata(path)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        mlpcore.network.load_metadata(tmp_path / "missing.npz")


def test_saved_file_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.npz"
        mlpcore.MLP([3, 2], seed=0).save(path)
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temporary left behind


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parameters_start_on_a_64_byte_boundary(tmp_path, dtype):
    """The sparse first layer and the optimiser read the weights in 64-byte vectors; a model's
    parameter vector starts on a cache line however it was made: built, unpickled, loaded."""
    model = mlpcore.MLP([784, 100, 10], seed=0, dtype=dtype)
    path = tmp_path / "m.npz"
    model.save(path)
    for m in (model, pickle.loads(pickle.dumps(model)), mlpcore.load(path), mlpcore.MLP([3, 2], dtype=dtype)):
        assert m._params.ctypes.data % 64 == 0
        assert m._params.flags.c_contiguous and m._params.flags.writeable and m._params.dtype == dtype
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model))._params, model._params)


def test_load_refuses_corrupt_compression_and_oversized_layers_cleanly(saved, tmp_path):
    """An unsupported compression method in a zip entry escaped as NotImplementedError; a tiny
    file naming layers of 2^24 units made the constructor try to allocate a PiB first."""
    import struct

    data = bytearray(saved.read_bytes())
    entry = data.find(b"PK\x01\x02")  # the central directory's first entry
    data[entry + 10:entry + 12] = struct.pack("<H", 99)  # its compression method
    patched = tmp_path / "method.npz"
    patched.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="is not a valid mlpcore model file"):
        mlpcore.load(patched)
    huge = tmp_path / "huge.npz"
    _rewrite(saved, huge, lambda a: a.__setitem__("layer_sizes", np.array([2**24, 2**24])))
    with pytest.raises(ValueError, match=r"params of shape .* expected \(281474993487872,\)"):
        mlpcore.load(huge)


def test_save_refuses_a_bytes_path(tmp_path):
    with pytest.raises(TypeError, match=r"MLP.save: path must be a str or os.PathLike of str"):
        mlpcore.MLP([3, 2], seed=0).save(bytes(tmp_path / "m.npz"))
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- #
# Misaligned arrays (C-contiguous views at an odd byte offset)
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_misaligned_inputs_give_the_results_of_aligned_ones(dtype, rng):
    """The C++ kernels load whole elements, so the core refuses misaligned arrays by name; the
    public functions hand it aligned copies, with the same results."""
    X = rng.normal(0, 1, (40, 6)).astype(dtype)
    y = rng.integers(0, 3, 40)
    bad = misaligned_copy(X)
    model = make([6, 8, 3], dtype=np.dtype(dtype).name, seed=0)
    assert_bitwise_equal(model.predict_proba(bad), model.predict_proba(X))
    with pytest.raises(ValueError, match="X must be aligned to its element size"):
        model._net.predict(model._params, bad)
    with pytest.raises(ValueError, match="find_nonfinite: x must be aligned"):
        mlpcore._core.find_nonfinite(bad)
    trained = []
    for data in (X, bad):
        m = make([6, 8, 3], dtype=np.dtype(dtype).name, seed=0)
        mlpcore.fit(m, data, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, seed=0, verbose=False)
        trained.append(m._params.copy())
    assert_bitwise_equal(trained[1], trained[0])
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba(bad)
    scores = misaligned_copy(rng.random(40).astype(dtype))
    assert mlpcore.metrics.roc_auc(y == 1, scores) == mlpcore.metrics.roc_auc(y == 1, scores.copy())


def test_misaligned_inputs_to_the_estimators(rng):
    pytest.importorskip("sklearn")
    X = rng.normal(0, 1, (60, 5)).astype(np.float32)
    y = rng.integers(0, 2, 60)
    bad = misaligned_copy(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=3 stops before convergence, as intended
        fitted = [mlpcore.MLPClassifier((8,), max_iter=3, random_state=0).fit(data, y) for data in (X, bad)]
    for a, b in zip(fitted[0].coefs_, fitted[1].coefs_):
        assert_bitwise_equal(a, b)
    assert_bitwise_equal(fitted[0].predict_proba(bad), fitted[0].predict_proba(X))


def test_pandas_nullable_dtypes_train_and_predict_as_numpy_ones(rng):
    """Frames in pandas' nullable dtypes (``convert_dtypes()``: Float64, Int64, boolean) give
    the results of the same numbers in numpy dtypes; ``pd.NA`` is refused as a missing value,
    and columns that are not numbers still are refused by name."""
    pd = pytest.importorskip("pandas")
    X = rng.normal(0, 1, (40, 3))
    y = rng.integers(0, 3, 40)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": (X[:, 2] > 0)}).convert_dtypes()
    frame["b"] = frame["b"].astype("Float32")
    plain = np.column_stack([X[:, 0], X[:, 1].astype(np.float32), X[:, 2] > 0]).astype(np.float64)
    labels = pd.Series(y).convert_dtypes()
    assert str(frame.dtypes["c"]) == "boolean" and str(labels.dtype) == "Int64"
    runs = []
    for data, target in ((frame, labels), (plain, y)):
        model = make([3, 5, 3])
        history = mlpcore.fit(model, data, target, optimizer=mlpcore.SGD(lr=0.1), epochs=2, batch_size=8, seed=0)
        runs.append((model._params.copy(), history.train_loss, model.predict_proba(data)))
    assert_bitwise_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert_bitwise_equal(runs[0][2], runs[1][2])
    assert mlpcore.metrics.accuracy(labels, labels.to_numpy()) == 1.0
    assert mlpcore.metrics.roc_auc(labels == 1, frame["a"]) == mlpcore.metrics.roc_auc(y == 1, X[:, 0])
    missing = frame.copy()
    missing.loc[3, "a"] = pd.NA
    with pytest.raises(ValueError, match="predict_proba: X contains NaN"):
        model.predict_proba(missing)
    with pytest.raises(ValueError, match="roc_auc: scores contains NaN"):
        mlpcore.metrics.roc_auc(y == 1, missing["a"])
    with pytest.raises(TypeError, match="predict_proba: X must be a numeric array"):
        model.predict_proba(frame.astype({"a": "string"}))


def test_ops_take_big_endian_inputs_and_memmap_outputs(rng, tmp_path):
    """Arrays ops only reads are swapped into native order; an ``out`` may be any ndarray (a
    memmap); buffers updated in place are refused by name with the conversion to make."""
    X = rng.normal(0, 1, (12, 3))
    assert_bitwise_equal(mlpcore.ops.softmax(X.astype(">f8")), mlpcore.ops.softmax(X))
    assert_bitwise_equal(mlpcore.ops.matmul(X.astype(">f8"), X.T.astype(">f8")), mlpcore.ops.matmul(X, X.T))
    out = np.memmap(tmp_path / "out.dat", np.float64, "w+", shape=(12, 12))
    mlpcore.ops.matmul(X, X.T, out=out)
    assert_bitwise_equal(np.asarray(out), mlpcore.ops.matmul(X, X.T))
    with pytest.raises(TypeError, match=r"sgd_update: param must be float32 or float64 in the machine's byte order"):
        mlpcore.ops.sgd_update(X.astype(">f8"), X.copy(), None, lr=0.1)


def test_a_0d_input_is_named_by_its_own_shape():
    with pytest.raises(ValueError, match=r"X must be 2-D, \(n_samples, 3\) \(got shape \(\)\)"):
        make([3, 4, 3]).forward(np.array(1.0))
