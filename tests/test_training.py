"""mlpcore.fit with mlpcore.SGD: the update and batching semantics against a float64 reference
loop, validation, early stopping, History, divergence, interrupts, determinism, dropout and
input noise, and bad input.

The reference loop (:func:`reference_fit`) walks the rows in order (``shuffle=False``), takes
the data gradient of each batch from ``MLP.loss_and_grads`` of a float64 twin (checked
against PyTorch and finite differences in test_network.py) and applies the documented step
in numpy::

    g' = g + weight_decay * W + l1 * sign(W)   (weights only; biases g' = g)
    v = momentum * v + g';  step = g' + momentum * v (nesterov) or v;  W -= lr_t * step
    then each column of every W is scaled down to L2 norm max_norm if it is longer,
    lr_t = lr / (1 + lr_decay * t), velocity zero at the start of every fit call.
"""

from __future__ import annotations

import _thread
import io
import pickle
import re
import signal
import sys
import threading
import time

import mlpcore
import numpy as np
import pytest
from _helpers import (
    assert_bitwise_equal,
    assert_same_weights,
    assert_weights_close,
    ctrl_c_during_an_epoch,
    errors_in_another_thread,
    num_threads,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from mlpcore import _core

SEED = 99


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def twin(model: mlpcore.MLP, dtype="float64") -> mlpcore.MLP:
    """A model with the same architecture and weights (and no dropout / noise)."""
    other = mlpcore.MLP(list(model.layer_sizes), activation=model.activation if model.activation else "relu",
                        output=model.output, loss=model.loss, dtype=dtype, seed=0)
    other.set_weights(model.get_weights())
    return other


def reference_fit(model, X, y, *, epochs, batch_size, lr, momentum=0.0, weight_decay=0.0, l1=0.0,
                  nesterov=False, max_norm=None, lr_decay=0.0):
    """float64 minibatch SGD in order; returns (weights, per-epoch dict of figures)."""
    oracle = twin(model)
    weights = [(W.astype(np.float64), b.astype(np.float64)) for W, b in model.get_weights()]
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in weights]
    n = len(X)
    bs = n if batch_size is None else min(batch_size, n)
    hist = {"batch_losses": [], "batch_sizes": [], "accuracy": [], "lr": []}
    for t in range(epochs):
        lr_t = lr / (1.0 + lr_decay * t)
        losses, sizes, correct = [], [], 0
        for start in range(0, n, bs):
            Xb, yb = X[start:start + bs], y[start:start + bs]
            oracle.set_weights(weights)
            loss, grads = oracle.loss_and_grads(Xb, yb)
            losses.append(loss)
            sizes.append(len(Xb))
            pred, yb_arr = oracle.predict(Xb), np.asarray(yb)
            if oracle.is_classifier and pred.ndim == 1 and yb_arr.size == pred.size:
                correct += int(np.sum(pred == yb_arr.reshape(pred.shape)))
            new_weights, new_velocity = [], []
            for (W, b), (dW, db), (vW, vb) in zip(weights, grads, velocity):
                pair, vpair = [], []
                for p, g, v, is_weight in ((W, dW, vW, True), (b, db, vb, False)):
                    g = g.astype(np.float64)
                    if is_weight:
                        g = g + weight_decay * p + l1 * np.sign(p)
                    if momentum > 0:
                        v = momentum * v + g
                        step = g + momentum * v if nesterov else v
                    else:
                        step = g
                    pair.append(p - lr_t * step)
                    vpair.append(v)
                W2, b2 = pair
                if max_norm is not None:
                    norms = np.sqrt(np.sum(W2**2, axis=0))
                    W2 = W2 * np.where(norms > max_norm, max_norm / np.where(norms > 0, norms, 1.0), 1.0)
                new_weights.append((W2, b2))
                new_velocity.append(tuple(vpair))
            weights, velocity = new_weights, new_velocity
        hist["batch_losses"].append(losses)
        hist["batch_sizes"].append(sizes)
        hist["accuracy"].append(correct / n)
        hist["lr"].append(lr_t)
    return weights, hist


def classification_data(rng, n=30, d=4, k=3, dtype=np.float64):
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (np.argmax(X[:, :k] + 0.5 * rng.standard_normal((n, k)), axis=1)).astype(np.int64)
    return X, y


def quiet_fit(model, X, y, **kw):
    kw.setdefault("verbose", False)
    return mlpcore.fit(model, X, y, **kw)


# --------------------------------------------------------------------------- #
# SGD semantics against the reference loop
# --------------------------------------------------------------------------- #

HYPER = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.05),
    dict(lr=0.1, l1=0.01),
    dict(lr=0.1, weight_decay=0.01, l1=0.01, momentum=0.5),
    dict(lr=0.3, max_norm=0.8),
    dict(lr=0.2, momentum=0.9, max_norm=0.5, weight_decay=1e-3),
    dict(lr=0.5, lr_decay=0.5),
    dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, l1=1e-3, max_norm=1.0, lr_decay=0.2),
]


def hyper_id(h):
    return ",".join(f"{k}={v}" for k, v in h.items())


@pytest.mark.parametrize("batch_size", [1, 6, 7, None, 30], ids=lambda b: f"batch={b}")
@pytest.mark.parametrize("hyper", HYPER, ids=hyper_id)
def test_fit_matches_reference_sgd(hyper, batch_size, rng):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=5)
    want, ref = reference_fit(model, X, y, epochs=3, batch_size=batch_size, **hyper)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(**hyper), epochs=3, batch_size=batch_size,
                        shuffle=False, seed=0)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    np.testing.assert_allclose(history.lr, ref["lr"], rtol=1e-15)
    np.testing.assert_allclose(history.train_accuracy, ref["accuracy"], rtol=1e-12)
    if not any(hyper.get(k) for k in ("weight_decay", "l1")):
        sizes = ref["batch_sizes"][0]
        if len(set(sizes)) == 1:  # equal batches: every convention gives the plain mean
            np.testing.assert_allclose(history.train_loss, [np.mean(b) for b in ref["batch_losses"]], rtol=1e-9)


@pytest.mark.parametrize(
    "sizes,acts,output,loss,make_y",
    [
        ([3, 5, 2], "relu", "identity", "mse", lambda X, rng: np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]),
        ([3, 5, 1], "softplus", "identity", "mae", lambda X, rng: X[:, 0] * 2 + 1),
        ([3, 5, 1], "sigmoid", "sigmoid", "binary_cross_entropy", lambda X, rng: (X[:, 0] > 0).astype(np.int64)),
        ([3, 4, 4, 2], ("leaky_relu", "tanh"), "sigmoid", "binary_cross_entropy",
         lambda X, rng: (X[:, :2] > 0).astype(np.float64)),
        ([3, 6, 3], "relu", "identity", "hinge", lambda X, rng: np.argmax(X, axis=1)),
        ([3, 6, 3], "tanh", "softmax", "cross_entropy", lambda X, rng: np.eye(3)[np.argmax(X, axis=1)]),
    ],
    ids=["mse", "mae", "bce-1", "bce-multilabel", "hinge", "ce-onehot"],
)
def test_fit_matches_reference_for_every_loss(sizes, acts, output, loss, make_y, rng):
    X = rng.standard_normal((24, 3))
    y = make_y(X, rng)
    model = mlpcore.MLP(sizes, activation=acts, output=output, loss=loss, dtype="float64", seed=1)
    hyper = dict(lr=0.1, momentum=0.9, weight_decay=1e-3)
    want, _ = reference_fit(model, X, y, epochs=2, batch_size=5, **hyper)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(**hyper), epochs=2, batch_size=5, shuffle=False)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    assert len(history.train_loss) == 2
    if model.is_classifier:
        assert len(history.train_accuracy) == 2
    else:
        assert history.train_accuracy == [] and history.val_accuracy == []


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 25),
    batch_size=st.one_of(st.none(), st.integers(1, 30)),
    lr=st.floats(1e-3, 0.5),
    momentum=st.one_of(st.just(0.0), st.floats(0.0, 0.95)),
    nesterov=st.booleans(),
    weight_decay=st.one_of(st.just(0.0), st.floats(0.0, 0.1)),
    l1=st.one_of(st.just(0.0), st.floats(0.0, 0.05)),
    max_norm=st.one_of(st.none(), st.floats(0.1, 3.0)),
    lr_decay=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    hidden=st.lists(st.integers(1, 6), max_size=2),
    seed=st.integers(0, 2**31 - 1),
)
def test_fit_matches_reference_for_random_hyperparameters(n, batch_size, lr, momentum, nesterov, weight_decay, l1,
                                                          max_norm, lr_decay, hidden, seed):
    nesterov = nesterov and momentum > 0
    rng = np.random.default_rng(seed)
    X, y = classification_data(rng, n=n, d=3, k=3)
    model = mlpcore.MLP([3, *hidden, 3], activation="tanh", dtype="float64", seed=seed)
    hyper = dict(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, l1=l1, max_norm=max_norm,
                 lr_decay=lr_decay)
    want, _ = reference_fit(model, X, y, epochs=2, batch_size=batch_size, **hyper)
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(**hyper), epochs=2, batch_size=batch_size, shuffle=False, seed=1)
    assert_weights_close(model.get_weights(), want, rtol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_norm_caps_every_unit_incoming_weights(dtype, rng):
    """After training with max_norm, no column of any W (a unit's incoming weights) is longer
    than max_norm, and the cap is active (some columns sit exactly on it); biases are free."""
    X, y = classification_data(rng, n=64, dtype=dtype)
    model = mlpcore.MLP([4, 16, 8, 3], dtype=np.dtype(dtype).name, seed=0)
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5, momentum=0.9, max_norm=0.4), epochs=5, batch_size=8,
              seed=0)
    eps = np.finfo(dtype).eps
    for i, (W, _) in enumerate(model.get_weights()):
        norms = np.sqrt(np.sum(W.astype(np.float64) ** 2, axis=0))
        assert np.all(norms <= 0.4 * (1 + 8 * eps * W.shape[0])), f"layer {i}: column norms {norms}"
        assert np.any(np.abs(norms - 0.4) <= 0.4 * 8 * eps * W.shape[0]), f"layer {i}: cap never reached"
    assert max(np.max(np.abs(b)) for _, b in model.get_weights()) > 0


def test_velocity_starts_at_zero_in_every_fit_call(rng):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=2)
    hyper = dict(lr=0.05, momentum=0.9)
    w1, _ = reference_fit(model, X, y, epochs=1, batch_size=10, **hyper)
    ref = twin(model)
    ref.set_weights(w1)
    w2, _ = reference_fit(ref, X, y, epochs=1, batch_size=10, **hyper)
    opt = mlpcore.SGD(**hyper)
    quiet_fit(model, X, y, optimizer=opt, epochs=1, batch_size=10, shuffle=False)
    quiet_fit(model, X, y, optimizer=opt, epochs=1, batch_size=10, shuffle=False)
    assert_weights_close(model.get_weights(), w2, rtol=1e-9)


def test_float32_fit_follows_the_float64_reference(rng):
    X, y = classification_data(rng, n=40, dtype=np.float32)
    model = mlpcore.MLP([4, 8, 3], activation="relu", seed=3)
    hyper = dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
    want, _ = reference_fit(model, X.astype(np.float64), y, epochs=2, batch_size=8, **hyper)
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(**hyper), epochs=2, batch_size=8, shuffle=False)
    for W, b in model.get_weights():
        assert W.dtype == np.float32 and b.dtype == np.float32
    assert_weights_close(model.get_weights(), want, rtol=2e-4)


def test_fit_matches_torch_optim_sgd(rng):
    """The same run in PyTorch: nn.Linear layers from our initial weights, torch.optim.SGD with
    weight decay on the weights only (a second param group for the biases), batches in order."""
    torch = pytest.importorskip("torch")
    X, y = classification_data(rng, n=36)
    model = mlpcore.MLP([4, 7, 5, 3], activation=("relu", "tanh"), dtype="float64", seed=4)
    layers = []
    for W, b in model.get_weights():
        lin = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
    acts = [torch.nn.ReLU(), torch.nn.Tanh()]
    net = torch.nn.Sequential(layers[0], acts[0], layers[1], acts[1], layers[2])
    opt = torch.optim.SGD([
        {"params": [lin.weight for lin in layers], "weight_decay": 0.01},
        {"params": [lin.bias for lin in layers], "weight_decay": 0.0},
    ], lr=0.05, momentum=0.9, nesterov=True)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    torch_losses = []
    for _ in range(3):
        batch_losses = []
        for s in range(0, 36, 6):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(Xt[s:s + 6]), yt[s:s + 6])
            loss.backward()
            opt.step()
            batch_losses.append(loss.item())
        torch_losses.append(np.mean(batch_losses))
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
                        epochs=3, batch_size=6, shuffle=False)
    want = [(lin.weight.detach().numpy().T, lin.bias.detach().numpy()) for lin in layers]
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    # train_loss is the data loss (no penalty term) averaged over the epoch's minibatches
    np.testing.assert_allclose(history.train_loss, torch_losses, rtol=1e-9)


# --------------------------------------------------------------------------- #
# Batching
# --------------------------------------------------------------------------- #


def test_full_batch_is_order_independent(rng):
    """batch_size=None is gradient descent on the whole set: shuffling cannot matter."""
    X, y = classification_data(rng, n=50)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=6)
    want, ref = reference_fit(model, X, y, epochs=4, batch_size=None, lr=0.3, momentum=0.5)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.3, momentum=0.5), epochs=4, batch_size=None,
                        shuffle=True, seed=123)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, [b[0] for b in ref["batch_losses"]], rtol=1e-9)


def test_batch_larger_than_the_data_is_full_batch(rng):
    X, y = classification_data(rng, n=20)
    a = mlpcore.MLP([4, 5, 3], dtype="float64", seed=1)
    b = mlpcore.MLP([4, 5, 3], dtype="float64", seed=1)
    quiet_fit(a, X, y, optimizer=mlpcore.SGD(lr=0.2), epochs=3, batch_size=None, shuffle=False)
    quiet_fit(b, X, y, optimizer=mlpcore.SGD(lr=0.2), epochs=3, batch_size=1000, shuffle=False)
    assert_weights_close(b.get_weights(), a.get_weights(), rtol=1e-12)


def test_last_partial_batch_is_a_step_of_its_own(rng):
    """n = 10, batch 4: steps on rows 0-3, 4-7 and 8-9 (the mean over 2 rows)."""
    X, y = classification_data(rng, n=10)
    model = mlpcore.MLP([4, 3], dtype="float64", seed=7)
    want, ref = reference_fit(model, X, y, epochs=1, batch_size=4, lr=0.5)
    assert ref["batch_sizes"][0] == [4, 4, 2]
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=1, batch_size=4, shuffle=False)
    assert_weights_close(model.get_weights(), want, rtol=1e-10)
    # dropping the last batch (or padding it) would give something else
    other, _ = reference_fit(twin(mlpcore.MLP([4, 3], dtype="float64", seed=7)), X[:8], y[:8], epochs=1,
                             batch_size=4, lr=0.5)
    assert not np.allclose(model.get_weights()[0][0], other[0][0])


def test_train_loss_with_a_partial_last_batch_is_the_sample_mean(rng):
    """Keras and scikit-learn report the epoch loss as the mean over the epoch's samples of
    their minibatch losses (each batch loss weighted by its number of rows); with equal
    batches this is the plain mean of the batch losses."""
    X, y = classification_data(rng, n=10)
    model = mlpcore.MLP([4, 3], dtype="float64", seed=7)
    _, ref = reference_fit(model, X, y, epochs=2, batch_size=4, lr=0.5)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=2, batch_size=4, shuffle=False)
    want = [np.dot(losses, sizes) / 10 for losses, sizes in zip(ref["batch_losses"], ref["batch_sizes"])]
    np.testing.assert_allclose(history.train_loss, want, rtol=1e-10)


def test_shuffled_epoch_visits_every_row_once(rng):
    """With a tiny step the weights barely move, so an epoch's total update is the sum of the
    per-row gradients at the start, whatever the order: a shuffled epoch of online SGD must
    match the in-order one to first order (a row missed or repeated would change it by O(1))."""
    X, y = classification_data(rng, n=40)
    model = mlpcore.MLP([4, 3], dtype="float64", seed=8)
    start = model.get_weights()
    results = {}
    for shuffle in (False, True):
        m = twin(model)
        quiet_fit(m, X, y, optimizer=mlpcore.SGD(lr=1e-6), epochs=1, batch_size=1, shuffle=shuffle, seed=42)
        results[shuffle] = [(W - W0, b - b0) for (W, b), (W0, b0) in zip(m.get_weights(), start)]
    assert_weights_close(results[True], results[False], rtol=1e-4, what="update of a shuffled epoch")
    assert not np.array_equal(results[True][0][0], results[False][0][0]), "shuffle=True did not shuffle"


def test_shuffle_uses_a_fresh_permutation_each_epoch(rng):
    """Two epochs with shuffle vs one epoch twice from the same weights and seed: if every epoch
    reused one permutation, fit(epochs=2) would equal fit(epochs=1) followed by fit(epochs=1)
    with the same seed."""
    X, y = classification_data(rng, n=40)
    a = mlpcore.MLP([4, 5, 3], dtype="float64", seed=9)
    b = twin(a)
    quiet_fit(a, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, batch_size=4, seed=5)
    quiet_fit(b, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=1, batch_size=4, seed=5)
    quiet_fit(b, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=1, batch_size=4, seed=5)
    assert not np.array_equal(a.get_weights()[0][0], b.get_weights()[0][0])


# --------------------------------------------------------------------------- #
# History and validation
# --------------------------------------------------------------------------- #


def test_history_contents(rng):
    X, y = classification_data(rng, n=60, dtype=np.float32)
    Xv, yv = classification_data(rng, n=25, dtype=np.float32)
    model = mlpcore.MLP([4, 8, 3], seed=1)
    seen = []

    def check_validation(epoch, history):
        # validation figures come from the end-of-epoch weights
        loss, _ = model.loss_and_grads(Xv, yv)
        seen.append((epoch, loss, float(np.mean(model.predict(Xv) == yv)), len(history.train_loss)))

    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, lr_decay=0.1), epochs=5, batch_size=8,
                        validation_data=(Xv, yv), seed=0, callbacks=[check_validation])
    assert isinstance(history, mlpcore.History)
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "epoch_time", "lr"):
        values = getattr(history, name)
        assert type(values) is list and len(values) == 5, name
        assert all(isinstance(v, float) and np.isfinite(v) for v in values), name
    assert all(t >= 0 for t in history.epoch_time)
    assert all(0.0 <= a <= 1.0 for a in history.train_accuracy + history.val_accuracy)
    np.testing.assert_allclose(history.lr, [0.1 / (1 + 0.1 * t) for t in range(5)], rtol=1e-12)
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    assert [s[3] for s in seen] == [1, 2, 3, 4, 5], "callbacks see the history including the current epoch"
    np.testing.assert_allclose(history.val_loss, [s[1] for s in seen], rtol=1e-5)
    np.testing.assert_allclose(history.val_accuracy, [s[2] for s in seen], rtol=0, atol=1e-12)
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.stopped_early is False and history.interrupted is False
    # train accuracy is counted on the 60 training rows
    assert all(abs(a * 60 - round(a * 60)) < 1e-9 for a in history.train_accuracy)
    assert history.train_loss[-1] < history.train_loss[0], "training should reduce the loss"


def test_history_without_validation_and_for_regression(rng):
    X = rng.standard_normal((30, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    model = mlpcore.MLP([3, 1], output="identity", dtype="float64", seed=0)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05), epochs=4)
    assert len(history.train_loss) == 4
    assert history.val_loss == [] and history.val_accuracy == [] and history.train_accuracy == []
    assert history.best_epoch is None
    assert history.train_loss[-1] < history.train_loss[0]
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05), epochs=3, validation_data=(X[:10], y[:10]))
    assert len(history.val_loss) == 3 and history.val_accuracy == [] and history.train_accuracy == []


def test_zero_epochs_changes_nothing(rng):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 5, 3], seed=0)
    before = model.get_weights()
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=0,
                        validation_data=(X, y))
    assert history.train_loss == [] and history.val_loss == [] and history.epoch_time == []
    assert history.best_epoch is None
    assert_same_weights(model.get_weights(), before, "after 0 epochs")


def _validation_probe(n_per_class, dtype="float64"):
    """[1, 3] softmax with W = 0, b = (0, 1, 2) on constant inputs: every sample has the same
    probabilities, so a part's loss and accuracy reveal its class counts; lr = 1e-30 keeps the
    weights (to float precision) fixed."""
    counts = np.asarray(n_per_class)
    y = np.repeat(np.arange(3), counts)
    X = np.ones((len(y), 1), dtype)
    model = mlpcore.MLP([1, 3], dtype=dtype, seed=0)
    b = np.array([0.0, 1.0, 2.0])
    model.set_weights([(np.zeros((1, 3)), b)])
    per_class = np.log(np.sum(np.exp(b))) - b  # CE of a sample of each class
    return model, X, y, per_class


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_validation_split_is_stratified(seed):
    model, X, y, per_class = _validation_probe([60, 30, 10])
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=1e-30), epochs=2, batch_size=None,
                        validation_split=0.2, seed=seed)
    # 20 validation rows: 12 / 6 / 2 per class; 80 training rows: 48 / 24 / 8
    want_val = (12 * per_class[0] + 6 * per_class[1] + 2 * per_class[2]) / 20
    want_train = (48 * per_class[0] + 24 * per_class[1] + 8 * per_class[2]) / 80
    np.testing.assert_allclose(history.val_loss, [want_val] * 2, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, [want_train] * 2, rtol=1e-9)
    np.testing.assert_allclose(history.val_accuracy, [2 / 20] * 2, rtol=1e-12)  # argmax is class 2
    np.testing.assert_allclose(history.train_accuracy, [8 / 80] * 2, rtol=1e-12)


def test_validation_split_one_hot_targets_and_regression(rng):
    model, X, y, per_class = _validation_probe([60, 30, 10])
    history = quiet_fit(model, X, np.eye(3)[y], optimizer=mlpcore.SGD(lr=1e-30), epochs=1, batch_size=None,
                        validation_split=0.2, seed=3)
    np.testing.assert_allclose(history.val_loss, [(12 * per_class[0] + 6 * per_class[1] + 2 * per_class[2]) / 20])
    Xr = rng.standard_normal((50, 2))
    yr = Xr.sum(axis=1)
    reg = mlpcore.MLP([2, 1], output="identity", seed=0)
    history = quiet_fit(reg, Xr, yr, optimizer=mlpcore.SGD(lr=0.01), epochs=2, validation_split=0.3, seed=0)
    assert len(history.val_loss) == 2 and history.val_accuracy == []


def test_validation_split_is_seeded(rng):
    X, y = classification_data(rng, n=80)
    runs = []
    for seed in (4, 4, 5):
        model = mlpcore.MLP([4, 5, 3], dtype="float64", seed=0)
        runs.append(quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, validation_split=0.25,
                              seed=seed).val_loss)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


# --------------------------------------------------------------------------- #
# Early stopping
# --------------------------------------------------------------------------- #


def _rising_val_loss_problem():
    """Train on label 0, validate on the same inputs with label 1: full-batch descent from
    W = 0, b = 0 raises s_0 - s_1 every epoch (s_1 = s_2 by symmetry), so the validation loss
    log(2 + exp(s_0 - s_1)) rises strictly from epoch 0 on."""
    X = np.ones((20, 1))
    model = mlpcore.MLP([1, 3], dtype="float64", seed=0)
    model.set_weights([(np.zeros((1, 3)), np.zeros(3))])
    return model, X, np.zeros(20, np.int64), np.ones(20, np.int64)


def _snapshots():
    weights = []

    def cb(epoch, history):
        weights.append(cb.model.get_weights())

    cb.weights = weights
    return cb


@pytest.mark.parametrize("patience", [1, 3])
@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_when_validation_loss_rises(patience, restore_best):
    model, X, y, y_val = _rising_val_loss_problem()
    snap = _snapshots()
    snap.model = model
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=50, batch_size=None,
                        validation_data=(X, y_val), callbacks=[snap],
                        early_stopping=mlpcore.EarlyStopping(patience=patience, restore_best=restore_best))
    assert np.all(np.diff(history.val_loss) > 0)
    assert history.best_epoch == 0
    assert len(history.train_loss) == len(history.val_loss) == 1 + patience
    assert history.stopped_early is True
    final = model.get_weights()
    assert_same_weights(final, snap.weights[0] if restore_best else snap.weights[-1], "final weights")


def early_stopping_reference(values, patience, min_delta, higher_is_better, epochs):
    """(best_epoch, epochs that run) by the rule of the issue, applied to a sequence."""
    best, best_epoch, waited = None, None, 0
    for e, v in enumerate(values):
        better = best is None or (v > best + min_delta if higher_is_better else v < best - min_delta)
        if better:
            best, best_epoch, waited = v, e, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, e + 1
    return best_epoch, min(len(values), epochs)


@pytest.mark.parametrize(
    "monitor,patience,min_delta",
    [("val_loss", 2, 0.0), ("val_loss", 4, 0.0), ("val_loss", 3, 0.05), ("val_accuracy", 3, 0.0),
     ("val_accuracy", 5, 0.02)],
)
def test_early_stopping_rule_on_an_overfitting_run(monitor, patience, min_delta):
    """Random labels, a big network and a large step: validation loss falls briefly, then rises."""
    rng = np.random.default_rng([SEED, patience])
    X = rng.standard_normal((40, 2)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    Xv = rng.standard_normal((300, 2)).astype(np.float32)
    yv = (Xv[:, 0] > 0).astype(np.int64)
    model = mlpcore.MLP([2, 64, 64, 2], seed=3)
    snap = _snapshots()
    snap.model = model
    stop = mlpcore.EarlyStopping(monitor=monitor, patience=patience, min_delta=min_delta)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=300, batch_size=8,
                        validation_data=(Xv, yv), early_stopping=stop, seed=0, callbacks=[snap])
    values = history.val_loss if monitor == "val_loss" else history.val_accuracy
    best, ran = early_stopping_reference(values, patience, min_delta, monitor == "val_accuracy", 300)
    assert history.stopped_early, "this run overfits; early stopping should end it"
    assert len(history.train_loss) == ran == best + 1 + patience
    assert history.best_epoch == best
    assert_same_weights(model.get_weights(), snap.weights[best], "restored best weights")


def test_early_stopping_when_epochs_end_first():
    model, X, y, y_val = _rising_val_loss_problem()
    snap = _snapshots()
    snap.model = model
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=4, batch_size=None,
                        validation_data=(X, y_val), callbacks=[snap],
                        early_stopping=mlpcore.EarlyStopping(patience=10))
    assert len(history.train_loss) == 4
    assert history.stopped_early is False
    assert history.best_epoch == 0
    assert_same_weights(model.get_weights(), snap.weights[0], "best weights kept when the epochs run out")


def test_early_stopping_with_validation_split(rng):
    X, y = classification_data(rng, n=100, dtype=np.float32)
    model = mlpcore.MLP([4, 32, 3], seed=0)
    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05), epochs=3, validation_split=0.2, seed=0,
                        early_stopping=mlpcore.EarlyStopping(patience=5))
    assert len(history.val_loss) == 3 and history.best_epoch is not None


def test_early_stopping_needs_validation_data(rng):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 3], seed=0)
    with pytest.raises(ValueError, match="early_stopping"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(), early_stopping=mlpcore.EarlyStopping())


@pytest.mark.parametrize(
    "kwargs,pattern",
    [(dict(monitor="loss"), "monitor"), (dict(patience=-1), "patience"),
     (dict(patience=0), r"patience must be >= 1"), (dict(min_delta=-0.1), "min_delta"),
     (dict(min_delta=float("nan")), "min_delta")],
)
def test_early_stopping_rejects_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        mlpcore.EarlyStopping(**kwargs)


# --------------------------------------------------------------------------- #
# Callbacks, interrupts, divergence
# --------------------------------------------------------------------------- #


def test_callback_returning_true_stops_training(rng):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 5, 3], seed=0)
    calls = []

    def stop_at_three(epoch, history):
        calls.append(epoch)
        return epoch == 2

    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=20, callbacks=[stop_at_three])
    assert calls == [0, 1, 2]
    assert len(history.train_loss) == 3
    assert history.interrupted is False


def test_keyboard_interrupt_from_a_callback_returns_the_history(rng):
    X, y = classification_data(rng, dtype=np.float32)
    model = mlpcore.MLP([4, 5, 3], seed=0)
    snap = _snapshots()
    snap.model = model

    def interrupt(epoch, history):
        if epoch == 2:
            raise KeyboardInterrupt

    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=20,
                        callbacks=[snap, interrupt])
    assert history.interrupted is True
    assert len(history.train_loss) == len(history.epoch_time) == 3
    assert_same_weights(model.get_weights(), snap.weights[2], "weights after the interrupted epoch")
    assert np.all(np.isfinite(model.predict_proba(X)))
    # the model can be trained further
    again = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2)
    assert len(again.train_loss) == 2 and not again.interrupted


def test_keyboard_interrupt_keeps_the_best_weights_with_restore_best():
    model, X, y, y_val = _rising_val_loss_problem()
    snap = _snapshots()
    snap.model = model

    def interrupt(epoch, history):
        if epoch == 3:
            raise KeyboardInterrupt

    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=50, batch_size=None,
                        validation_data=(X, y_val), callbacks=[snap, interrupt],
                        early_stopping=mlpcore.EarlyStopping(patience=10, restore_best=True))
    assert history.interrupted and len(history.val_loss) == 4
    assert history.best_epoch == 0
    assert_same_weights(model.get_weights(), snap.weights[0], "best weights after Ctrl-C")


def test_ctrl_c_from_another_thread_stops_cleanly(rng):
    """_thread.interrupt_main() is what Ctrl-C does: KeyboardInterrupt in the main thread, here
    while fit is running (in C++ or between epochs)."""
    X = rng.standard_normal((2000, 32)).astype(np.float32)
    y = rng.integers(0, 10, 2000)
    model = mlpcore.MLP([32, 128, 128, 10], seed=0)
    started = time.monotonic()
    epochs_seen = []

    def safety(epoch, history):  # never hang the suite if the interrupt is lost
        epochs_seen.append(epoch)
        return time.monotonic() - started > 30

    # interrupt_main() does nothing while SIGINT is ignored, as it is for a job a
    # non-interactive shell started in the background: install Python's own handler meanwhile.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    try:
        history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.01, momentum=0.9), epochs=10**6,
                            batch_size=32, callbacks=[safety], seed=0)
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert history.interrupted is True
    assert time.monotonic() - started < 30
    n = len(history.train_loss)
    assert n < 10**6
    for name in ("train_accuracy", "epoch_time", "lr"):
        assert len(getattr(history, name)) == n, name
    assert all(np.isfinite(history.train_loss))
    for W, b in model.get_weights():
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    proba = model.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    again = quiet_fit(model, X[:100], y[:100], optimizer=mlpcore.SGD(lr=0.01), epochs=1)
    assert len(again.train_loss) == 1


def test_ctrl_c_inside_a_callback_interrupts_it_and_the_handler_is_restored(rng):
    """fit holds Ctrl-C for the epochs, but a callback runs with Python's own handling, so a
    callback that waits forever can still be stopped; after fit, SIGINT's handler is the one it
    found."""
    X, y = classification_data(rng, dtype=np.float32)
    model = mlpcore.MLP([4, 5, 3], seed=0)
    reached = []

    def hangs_at_epoch_two(epoch, history):
        if epoch == 2:
            reached.append("pressing")
            _thread.interrupt_main()  # what Ctrl-C does, pressed while the callback runs
            time.sleep(30)  # the KeyboardInterrupt ends this wait at once
            reached.append("slept through")

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        started = time.monotonic()
        history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=20, callbacks=[hangs_at_epoch_two])
        assert time.monotonic() - started < 20
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert reached == ["pressing"]
    assert history.interrupted and len(history.train_loss) == 3


@pytest.mark.parametrize("installed", ["a function", "SIG_IGN"])
def test_a_sigint_handler_a_callback_installs_is_left_in_place(rng, installed):
    """A program that takes Ctrl-C over from inside a callback keeps it: fit stops holding
    Ctrl-C for the later epochs and leaves the program's handler installed."""
    X = rng.normal(0, 1, (20_000, 20)).astype(np.float32)  # epochs long enough to press Ctrl-C in
    y = (X[:, 0] > 0).astype(int)
    model = mlpcore.MLP([20, 16, 2], seed=0)
    calls = []
    handler = (lambda signum, frame: calls.append(signum)) if installed == "a function" else signal.SIG_IGN

    def take_over(epoch, history):
        if epoch == 0:
            signal.signal(signal.SIGINT, handler)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with ctrl_c_during_an_epoch(2) as sent:
            history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=5, callbacks=[take_over])
            after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sent and after is handler
    assert not history.interrupted and len(history.train_loss) == 5
    assert calls == ([signal.SIGINT] if installed == "a function" else [])


def test_ctrl_c_held_in_the_epoch_that_would_stop_early_is_an_interruption():
    """stopped_early is False when Ctrl-C came first, with callbacks or without."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (20_000, 50)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    for callbacks in ([], [lambda epoch, history: None]):
        model = mlpcore.MLP([50, 64, 2], seed=0)
        with ctrl_c_during_an_epoch(1) as sent:
            # min_delta beyond any change: epoch 1 does not improve, so patience 1 stops there.
            history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.01), epochs=5, validation_split=0.2,
                                early_stopping=mlpcore.EarlyStopping(patience=1, min_delta=1e9), callbacks=callbacks)
        assert sent
        assert history.interrupted and not history.stopped_early and len(history.train_loss) == 2


def test_a_diverging_epoch_restores_weights_a_callback_set():
    """Callbacks may change the weights between epochs: the restore point is taken afresh."""

    class DivergesInEpochTwo(mlpcore.SGD):
        def lr_at(self, epoch):
            return 1e30 if epoch == 2 else super().lr_at(epoch)

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (200, 6)).astype(np.float32)
    y = rng.normal(0, 1, 200)
    model = mlpcore.MLP([6, 8, 1], output="identity", loss="mse", seed=0)
    set_by_callback = {}

    def halve(epoch, history):
        if epoch == 1:
            model.set_weights([(W * 0.5, b + 1) for W, b in model.get_weights()])
            set_by_callback["params"] = model._params.copy()

    with pytest.raises(mlpcore.TrainingDivergedError):
        quiet_fit(model, X, y, optimizer=DivergesInEpochTwo(lr=0.01), epochs=4, callbacks=[halve])
    assert_bitwise_equal(model._params, set_by_callback["params"])


def test_divergence_raises_and_keeps_finite_weights(rng):
    X = (rng.standard_normal((50, 3)) * 100).astype(np.float32)
    y = rng.standard_normal(50)
    model = mlpcore.MLP([3, 16, 1], output="identity", activation="relu", seed=0)
    assert issubclass(mlpcore.TrainingDivergedError, RuntimeError)
    with pytest.raises(mlpcore.TrainingDivergedError, match=r"(?i)epoch \d+") as info:
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=1.0, momentum=0.9), epochs=200, batch_size=10)
    assert re.search(r"(?i)(lower|smaller|reduce).*learning rate|learning rate.*(lower|smaller)|lower.*\blr\b",
                     str(info.value)), str(info.value)
    for W, b in model.get_weights():
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    assert model.forward(np.ones((2, 3), np.float32)).shape == (2, 1)  # still usable


# --------------------------------------------------------------------------- #
# The scan of the weights after each epoch (mlpcore._core.scan_weights)
# --------------------------------------------------------------------------- #


@st.composite
def _weights_and_ranges(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.sampled_from([0, 1, 7, 8, 31, 32, 33, 4095, 4096, 4097, 9000, 78_405]))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=6)))
    ranges = [(cuts[k], cuts[k + 1]) for k in range(0, len(cuts) - 1, 2)]
    seed = draw(st.integers(0, 2**32 - 1))
    special = draw(st.sampled_from([None, np.nan, np.inf, -np.inf, "huge"]))
    return dtype, n, ranges, seed, special


@settings(max_examples=60, deadline=None)
@given(_weights_and_ranges(), st.booleans())
def test_scan_weights_copies_checks_and_sums_in_float64(case, copy):
    """One pass: an exact copy, whether every value is finite, and per range float64 sums of
    squares and absolute values (no float32 overflow for weights whose squares exceed its
    range), the same bits at 1 and 2 threads."""
    dtype, n, ranges, seed, special = case
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n).astype(dtype)
    if n and special is not None:
        x[rng.integers(n)] = (dtype(3e20) if dtype == np.float32 else 3e150) if special == "huge" else special
    results = []
    for threads in (1, 2):
        out = np.full(n, -7, dtype) if copy else None
        with num_threads(threads):
            results.append(_core.scan_weights(x, out, ranges))
        if copy:
            assert_bitwise_equal(out, x)
    assert results[0][0] == results[1][0]
    for part in (1, 2):  # the same bits, NaN included
        assert_bitwise_equal(np.array(results[0][part]), np.array(results[1][part]))
    finite, squares, absolute = results[0]
    assert finite == bool(np.isfinite(x).all())
    assert len(squares) == len(absolute) == len(ranges)
    for (begin, end), s, a in zip(ranges, squares, absolute):
        wide = x[begin:end].astype(np.float64)
        if np.isfinite(wide).all():
            assert s == pytest.approx(float(np.sum(wide * wide)), rel=1e-12, abs=0)
            assert a == pytest.approx(float(np.sum(np.abs(wide))), rel=1e-12, abs=0)
            assert np.isfinite(s)
        else:  # a NaN or an infinity in the range shows in both sums, as in numpy's
            with np.errstate(invalid="ignore", over="ignore"):
                assert np.isnan([s, a]).tolist() == np.isnan([np.sum(wide * wide), np.sum(np.abs(wide))]).tolist()
            assert not np.isfinite(s) and not np.isfinite(a)


@pytest.mark.parametrize(("args", "error", "pattern"), [
    ((np.ones(4, np.int32), None, []), TypeError, "scan_weights: x must be a float32 or float64"),
    ((np.ones((2, 2), np.float32), None, []), ValueError, "scan_weights: x must be a 1-D"),
    ((np.ones(8, np.float32)[::2], None, []), ValueError, "scan_weights: x must be C-contiguous"),
    ((np.ones(4, np.float32), np.ones(4), []), TypeError, "scan_weights: copy_to must have the dtype"),
    ((np.ones(4, np.float32), np.ones(3, np.float32), []), ValueError, "copy_to must have x's length 4"),
    ((np.ones(4, np.float32), [0.0] * 4, []), ValueError, "copy_to must be None or an array"),
    ((np.ones(4, np.float32), None, [(2, 5)]), ValueError, r"ranges must be sorted.*\(got \(2, 5\)"),
    ((np.ones(4, np.float32), None, [(2, 3), (1, 2)]), ValueError, "ranges must be sorted"),
    ((np.ones(4, np.float32), None, [(3, 2)]), ValueError, "ranges must be sorted"),
    ((np.ones(4, np.float32), None, [(-1, 2)]), ValueError, "ranges must be sorted"),
])
def test_scan_weights_rejects_what_it_cannot_read(args, error, pattern):
    with pytest.raises(error, match=pattern):
        _core.scan_weights(*args)


def test_scan_weights_refuses_an_overlapping_or_read_only_copy():
    x = np.ones(8, np.float32)
    with pytest.raises(ValueError, match="copy_to must not overlap x"):
        _core.scan_weights(x, x, [])
    frozen = np.ones(8, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="copy_to must be writable"):
        _core.scan_weights(x, frozen, [])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([np.float32, np.float64]), st.sampled_from([10, 65_536, 200_003]),
       st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from([np.nan, np.inf, -np.inf])), max_size=3))
def test_find_nonfinite_reports_the_first_non_finite_value_at_any_thread_count(dtype, n, bad):
    """_core.find_nonfinite (the input check of predict and of the Python layer) scans large
    arrays on the pool; it still names the kind of the first NaN or infinity."""
    x = np.random.default_rng(n).normal(0, 1, n).astype(dtype)
    for where, value in bad:
        x[int(where * n)] = value
    nonfinite = np.flatnonzero(~np.isfinite(x))
    expected = 0 if not len(nonfinite) else 1 if np.isnan(x[nonfinite[0]]) else 2
    for threads in (1, 2):
        with num_threads(threads):
            assert _core.find_nonfinite(x) == expected


def test_an_epoch_with_weights_unchanged_restores_the_weights_the_previous_epoch_left():
    """The restore point of an epoch run with weights_unchanged is the copy the previous epoch's scan made; an
    epoch that diverges goes back to exactly those weights."""
    from mlpcore._epochs import EpochDiverged, EpochRunner

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (64, 6)).astype(np.float32)
    y = rng.normal(0, 1, 64).astype(np.float32)
    model = mlpcore.MLP([6, 8, 1], output="identity", loss="mse", seed=0)
    runner = EpochRunner(model, mlpcore.SGD(lr=0.01))
    targets = model._as_targets(y, len(X), "fit")
    common = dict(batch_size=16, shuffle=True, seed=0)
    runner.run(X, *targets, None, epoch=0, lr=0.01, **common)
    after_first = model._params.copy()
    with pytest.raises(EpochDiverged):
        runner.run(X, *targets, None, epoch=1, lr=1e30, weights_unchanged=True, **common)
    assert_bitwise_equal(model._params, after_first)


# --------------------------------------------------------------------------- #
# Determinism
# --------------------------------------------------------------------------- #


def _determinism_run(dtype, threads, batch_size, fit_seed=7):
    rng = np.random.default_rng(SEED)
    if batch_size >= 256:  # wide layers and big batches: the multi-threaded GEMM paths
        n, sizes, epochs = 1024, [256, 512, 256, 10], 1
    else:
        n, sizes, epochs = 600, [64, 128, 64, 10], 3
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = rng.integers(0, 10, n)
    model = mlpcore.MLP(sizes, dropout=0.2, input_noise=0.1, dtype=np.dtype(dtype).name, seed=11)
    with num_threads(threads):
        history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=1e-4, max_norm=3.0),
                            epochs=epochs, batch_size=batch_size, validation_split=0.1, seed=fit_seed)
    return model.get_weights(), history


@pytest.mark.parametrize("batch_size", [1, 64, 256], ids=["online", "batch64", "batch256-wide"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_identical_across_runs_and_thread_counts(dtype, batch_size):
    w1, h1 = _determinism_run(dtype, 1, batch_size)
    w2, h2 = _determinism_run(dtype, 2, batch_size)
    w1b, h1b = _determinism_run(dtype, 1, batch_size)
    assert_same_weights(w1b, w1, "same seed, second run")
    assert_same_weights(w2, w1, "1 vs 2 threads")
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
        assert getattr(h1, name) == getattr(h2, name) == getattr(h1b, name), name
    assert h1.best_epoch == h2.best_epoch


def test_different_fit_seeds_give_different_runs():
    w1, _ = _determinism_run(np.float32, 2, 64, fit_seed=7)
    w2, _ = _determinism_run(np.float32, 2, 64, fit_seed=8)
    assert not np.array_equal(w1[0][0], w2[0][0])


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    batch_size=st.one_of(st.none(), st.integers(1, 20)),
    dropout=st.sampled_from([0.0, 0.3]),
    input_noise=st.sampled_from([0.0, 0.5]),
    shuffle=st.booleans(),
)
def test_same_seed_same_run(seed, batch_size, dropout, input_noise, shuffle):
    rng = np.random.default_rng(seed)
    X, y = classification_data(rng, n=37, dtype=np.float32)
    results = []
    for _ in range(2):
        model = mlpcore.MLP([4, 9, 3], dropout=dropout, input_noise=input_noise, seed=seed)
        h = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05, momentum=0.5), epochs=2, batch_size=batch_size,
                      shuffle=shuffle, seed=seed)
        results.append((model.get_weights(), h.train_loss))
    assert_same_weights(results[0][0], results[1][0], "same seeds")
    assert results[0][1] == results[1][1]


# --------------------------------------------------------------------------- #
# Dropout and input noise act in training only
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_inverted_dropout_on_hidden_units(p):
    """[1, H, 1] linear network, W1 = 1, W2 = 0, one sample x = 1 with target -1. The output is 0
    whatever the mask, dL/dout = 2, so one step gives W2[j] = -lr * 2 * h_j with h_j = 0 for a
    dropped unit and 1 / (1 - p) for a kept one."""
    H, lr = 4000, 0.1
    model = mlpcore.MLP([1, H, 1], activation="identity", output="identity", dropout=p, dtype="float64", seed=0)
    model.set_weights([(np.ones((1, H)), np.zeros(H)), (np.zeros((H, 1)), np.zeros(1))])
    X, y = np.ones((1, 1)), np.array([[-1.0]])
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=lr), epochs=1, batch_size=None, seed=3)
    (W1, _), (W2, b2) = model.get_weights()
    w2 = W2[:, 0]
    kept = w2 != 0
    np.testing.assert_allclose(w2[kept], -lr * 2 / (1 - p), rtol=1e-12)
    # the fraction dropped is p (binomial, 4000 units: 4 standard deviations)
    assert abs(np.mean(~kept) - p) < 4 * np.sqrt(p * (1 - p) / H)
    np.testing.assert_allclose(b2, [-lr * 2], rtol=1e-12)  # no dropout on the output
    np.testing.assert_array_equal(W1, 1.0)  # dL/dh = W2 = 0 before the step
    # predictions use every unit, unscaled: out = sum_j W2[j] * 1 + b2
    np.testing.assert_allclose(model.forward(X), [[w2.sum() + b2[0]]], rtol=1e-12)


@pytest.mark.parametrize("sigma", [0.1, 2.0])
def test_input_noise_is_gaussian_with_the_given_std(sigma):
    """[D, 1] linear model, W = 0, one sample x = 0 with target -1: dL/dW = 2 (x + noise), so
    one step gives W = -lr * 2 * noise; the D weights are D draws of the noise."""
    D, lr = 4000, 0.1
    model = mlpcore.MLP([D, 1], output="identity", input_noise=sigma, dtype="float64", seed=0)
    model.set_weights([(np.zeros((D, 1)), np.zeros(1))])
    X = np.zeros((1, D))
    quiet_fit(model, X, np.array([[-1.0]]), optimizer=mlpcore.SGD(lr=lr), epochs=1, batch_size=None, seed=4)
    noise = model.get_weights()[0][0][:, 0] / (-2 * lr)
    np.testing.assert_allclose(noise.std(), sigma, rtol=0.05)
    assert abs(noise.mean()) < 4 * sigma / np.sqrt(D)
    assert abs(np.mean(np.abs(noise) < sigma) - 0.6827) < 0.03  # Gaussian, not uniform
    assert not X.any(), "input noise must not be added to the caller's array"


def test_dropout_and_noise_change_training_but_not_prediction(rng):
    X, y = classification_data(rng, n=64, dtype=np.float32)
    plain = mlpcore.MLP([4, 16, 3], seed=1)
    noisy = mlpcore.MLP([4, 16, 3], seed=1, dropout=0.3, input_noise=0.3)
    assert_same_weights(plain.get_weights(), noisy.get_weights(), "same init")
    for m in (plain, noisy):
        quiet_fit(m, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, batch_size=8, seed=0)
    assert not np.array_equal(plain.get_weights()[0][0], noisy.get_weights()[0][0])
    assert_bitwise_equal(noisy.forward(X), noisy.forward(X), "forward after training is deterministic")
    copy = mlpcore.MLP([4, 16, 3], seed=1)
    copy.set_weights(noisy.get_weights())
    assert_bitwise_equal(noisy.forward(X), copy.forward(X), "no dropout scaling at prediction")


# --------------------------------------------------------------------------- #
# Inputs are used, not changed
# --------------------------------------------------------------------------- #


def test_fit_reads_but_never_writes_the_data(rng):
    X, y = classification_data(rng, n=50, dtype=np.float32)
    X.flags.writeable = False
    y.flags.writeable = False
    X_before, y_before = X.copy(), y.copy()
    model = mlpcore.MLP([4, 8, 3], input_noise=0.5, dropout=0.2, seed=0)
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, validation_split=0.2, seed=0)
    assert_bitwise_equal(X, X_before, "X")
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("validation_split", [0.0, 0.2])
def test_fit_does_not_copy_the_training_set(dtype, validation_split):
    """A C-contiguous array of the model's dtype is trained on in place: the numpy memory
    allocated during fit (tracemalloc sees numpy's buffers) stays far below the data's size,
    also when validation rows are held out (indices, not copies)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.random((20000, 784), dtype=dtype)
    y = rng.integers(0, 10, 20000)
    model = mlpcore.MLP([784, 10], dtype=np.dtype(dtype).name, seed=0)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.01), epochs=1, batch_size=256, seed=0,
                  validation_split=validation_split)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * X.nbytes, f"fit allocated {peak / 2**20:.1f} MiB for {X.nbytes / 2**20:.1f} MiB of data"


def test_fit_accepts_other_layouts_and_dtypes(rng):
    X, y = classification_data(rng, n=40, dtype=np.float32)
    reference = mlpcore.MLP([4, 6, 3], seed=0)
    quiet_fit(reference, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, batch_size=8, seed=1)
    for X2, y2 in ((np.asfortranarray(X), y), (X.astype(np.float64), y.astype(np.int32)), (X.tolist(), y.tolist())):
        model = mlpcore.MLP([4, 6, 3], seed=0)
        quiet_fit(model, X2, y2, optimizer=mlpcore.SGD(lr=0.1), epochs=2, batch_size=8, seed=1)
        assert_same_weights(model.get_weights(), reference.get_weights(), "same data in another layout")


# --------------------------------------------------------------------------- #
# Progress output
# --------------------------------------------------------------------------- #


def test_progress_only_when_asked_or_on_a_terminal(rng, capfd):
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 3], seed=0)
    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2)  # stderr is not a terminal here
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, verbose=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, verbose=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "2" in err and re.search(r"(?i)epoch", err) and re.search(r"(?i)loss", err)


def test_progress_by_default_on_a_terminal(rng, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y = classification_data(rng)
    mlpcore.fit(mlpcore.MLP([4, 3], seed=0), X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=3)
    text = terminal.getvalue()
    assert re.search(r"(?i)epoch", text) and "3" in text, text
    terminal.truncate(0)
    terminal.seek(0)
    mlpcore.fit(mlpcore.MLP([4, 3], seed=0), X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=3, verbose=False)
    assert terminal.getvalue() == ""


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


def _data():
    rng = np.random.default_rng(1)
    return mlpcore.MLP([4, 5, 3], seed=0), rng.standard_normal((10, 4)).astype(np.float32), rng.integers(0, 3, 10)


def with_nan(a, value=np.nan):
    a = np.array(a, dtype=np.float64)
    a.flat[3] = value
    return a


@pytest.mark.parametrize(
    "change,pattern,also",
    [
        (lambda X, y: (X, y[:9]), r"\bX\b.*\by\b|\by\b.*\bX\b", ("10", "9")),
        (lambda X, y: (X[:7], y), r"\bX\b.*\by\b|\by\b.*\bX\b", ("7", "10")),
        (lambda X, y: (with_nan(X), y), r"\bX\b.*(?i:nan)", ()),
        (lambda X, y: (with_nan(X, np.inf), y), r"\bX\b.*(?i:inf)", ()),
        (lambda X, y: (with_nan(X, -np.inf), y), r"\bX\b.*(?i:inf)", ()),
        (lambda X, y: (X, with_nan(y)), r"\by\b", ()),
        (lambda X, y: (X, np.r_[y[:9], 3]), r"\by\b", ("3",)),
        (lambda X, y: (X, np.r_[y[:9], -1]), r"\by\b", ("-1",)),
        (lambda X, y: (X, y + 0.5), r"\by\b", ()),
        (lambda X, y: (np.c_[X, X[:, :1]], y), r"\bX\b", ("4", "5")),
        (lambda X, y: (X[:, :3], y), r"\bX\b", ("4", "3")),
        (lambda X, y: (X.reshape(10, 2, 2), y), r"\bX\b", ()),
        (lambda X, y: (X[:0], y[:0]), r"\bX\b|\by\b", ()),
    ],
    ids=["y-short", "X-short", "X-nan", "X-inf", "X-neg-inf", "y-nan", "label-3", "label-neg", "label-frac",
         "X-wide", "X-narrow", "X-3d", "empty"],
)
def test_bad_data(change, pattern, also):
    model, X, y = _data()
    before = model.get_weights()
    X2, y2 = change(X, y)
    with pytest.raises(ValueError, match=pattern) as info:
        quiet_fit(model, X2, y2, optimizer=mlpcore.SGD(lr=0.1), epochs=1)
    for word in also:
        assert re.search(rf"(?<![\d.]){re.escape(word)}(?![\d.])", str(info.value)), (word, str(info.value))
    assert_same_weights(model.get_weights(), before, "weights after rejected input")


def test_bad_regression_targets():
    model = mlpcore.MLP([3, 2], output="identity", seed=0)
    X = np.ones((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"\by\b.*(?i:nan)"):
        quiet_fit(model, X, with_nan(np.ones((5, 2))), optimizer=mlpcore.SGD())
    with pytest.raises(ValueError, match=r"\by\b.*(?i:inf)"):
        quiet_fit(model, X, with_nan(np.ones((5, 2)), np.inf), optimizer=mlpcore.SGD())
    with pytest.raises(ValueError, match=r"\by\b"):
        quiet_fit(model, X, np.ones((5, 3)), optimizer=mlpcore.SGD())


def test_bad_validation_data():
    model, X, y = _data()
    with pytest.raises(ValueError, match="validation_data"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(), validation_data=(with_nan(X), y))
    with pytest.raises(ValueError, match="validation_data"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(), validation_data=(X[:, :3], y))
    with pytest.raises(ValueError, match="validation_data"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(), validation_data=(X, y[:5]))
    with pytest.raises(ValueError, match="validation_data"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(), validation_data=(X, y + 3))
    for split in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="validation_split"):
            quiet_fit(model, X, y, optimizer=mlpcore.SGD(), validation_split=split)


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        (dict(batch_size=0), r"batch_size.*\b0\b"),
        (dict(batch_size=-3), r"batch_size.*-3"),
        (dict(epochs=-1), r"epochs.*-1"),
    ],
)
def test_bad_fit_arguments(kwargs, pattern):
    model, X, y = _data()
    with pytest.raises(ValueError, match=pattern):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), **kwargs)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(lr):
    model, X, y = _data()
    with pytest.raises(ValueError, match=r"\blr\b"):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=lr))


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        (dict(momentum=1.5), "momentum"),
        (dict(momentum=-0.5), "momentum"),
        (dict(weight_decay=-1e-3), "weight_decay"),
        (dict(l1=-1.0), "l1"),
        (dict(max_norm=0.0), "max_norm"),
        (dict(max_norm=-1.0), "max_norm"),
        (dict(lr_decay=-0.1), "lr_decay"),
        (dict(nesterov=True), "nesterov"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        mlpcore.SGD(**kwargs)


def test_sgd_lr_at():
    opt = mlpcore.SGD(lr=0.2, lr_decay=0.5)
    assert opt.lr_at(0) == 0.2
    np.testing.assert_allclose([opt.lr_at(t) for t in range(1, 4)], [0.2 / 1.5, 0.2 / 2, 0.2 / 2.5], rtol=1e-15)
    assert mlpcore.SGD(lr=0.3).lr_at(100) == 0.3


def test_fit_rejects_wrong_objects(rng):
    model, X, y = _data()
    with pytest.raises(TypeError, match="optimizer"):
        mlpcore.fit(model, X, y, optimizer="sgd", verbose=False)
    with pytest.raises(TypeError, match="model"):
        mlpcore.fit("model", X, y, optimizer=mlpcore.SGD(), verbose=False)
    with pytest.raises(TypeError, match="callbacks"):
        mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(), callbacks=[1], verbose=False)


def _long_epochs_problem():
    rng = np.random.default_rng(3)
    return rng.random((30000, 64), dtype=np.float32), rng.integers(0, 10, 30000)


def test_ctrl_c_inside_an_epoch_counts_that_epoch():
    """The epoch in C++ finishes, and its records with it: the history and weights are those of
    a run of exactly that many epochs (before, the interrupt skipped the records, so the weights
    held one epoch more than the history said)."""
    X, y = _long_epochs_problem()

    def train(epochs):
        model = mlpcore.MLP([64, 96, 10], seed=0)
        return model, quiet_fit(model, X, y, optimizer=mlpcore.Adam(), epochs=epochs, batch_size=16, seed=0)

    seen: list[int] = []
    with ctrl_c_during_an_epoch(1) as sent:
        model = mlpcore.MLP([64, 96, 10], seed=0)
        history = quiet_fit(model, X, y, optimizer=mlpcore.Adam(), epochs=6, batch_size=16, seed=0,
                            callbacks=[lambda epoch, history: seen.append(epoch)])
    assert sent and history.interrupted and history.epochs == 2
    assert seen == [0]  # no callback for the epoch whose Ctrl-C was held
    assert len(history.train_accuracy) == len(history.epoch_time) == len(history.lr) == 2
    ref_model, ref_history = train(2)
    assert history.train_loss == ref_history.train_loss
    assert_same_weights(model.get_weights(), ref_model.get_weights(), "weights after Ctrl-C in epoch 2")


def test_ctrl_c_inside_a_diverging_epoch_still_restores_the_weights():
    """The divergence check runs before the held Ctrl-C: TrainingDivergedError and the weights
    from before the epoch, not NaN weights returned as an interrupted history."""
    n = 100_000
    X = np.zeros((n, 20), np.float32)
    X[-1] = 1e18
    y = np.zeros(n, np.int64)
    y[-1] = 1
    model = mlpcore.MLP([20, 10], seed=0)
    before = model._params.copy()
    with ctrl_c_during_an_epoch(0) as sent, pytest.raises(mlpcore.TrainingDivergedError):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=1e25), epochs=1, batch_size=1, shuffle=False, seed=0)
    assert sent
    np.testing.assert_array_equal(model._params, before)


def test_one_model_is_trained_by_one_thread_at_a_time():
    """The epoch releases the GIL and writes the weights in place: a second thread training the
    same model is refused (before, both ran and their steps interleaved silently). The training
    thread itself may train it again from a callback."""
    X, y = classification_data(np.random.default_rng(0), dtype=np.float32)
    model = mlpcore.MLP([4, 5, 3], seed=0)
    errors: list[BaseException] = []

    def other_thread_trains(epoch, history):
        errors.extend(errors_in_another_thread(lambda: quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=1)))
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=1)  # the same thread: allowed

    history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=2, callbacks=[other_thread_trains])
    assert history.epochs == 2
    assert len(errors) == 2 and all(isinstance(e, RuntimeError) for e in errors)
    assert "fit: this MLP is being trained by another thread" in str(errors[0])
    # once the fit has returned, any thread may train it
    assert errors_in_another_thread(lambda: quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=1)) == [None]


def test_models_that_define_equality_still_train_one_per_thread():
    """The guard keys on identity: a subclass with __eq__ (so unhashable) trains, and two equal
    ones train in parallel."""
    class Equal(mlpcore.MLP):
        def __eq__(self, other):
            return isinstance(other, Equal) and self.layer_sizes == other.layer_sizes

    X, y = classification_data(np.random.default_rng(0), dtype=np.float32)
    models = [Equal([4, 5, 3], seed=0), Equal([4, 5, 3], seed=0)]
    assert models[0] == models[1]
    histories = [None, None]
    threads = [threading.Thread(target=lambda i=i: histories.__setitem__(
        i, quiet_fit(models[i], X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=30, seed=0))) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert histories[0].train_loss == histories[1].train_loss and len(histories[0].train_loss) == 30


def test_concurrent_fits_from_python_threads_match_sequential_ones():
    """fit releases the GIL for each epoch; models trained at the same time from several Python
    threads (sharing the thread pool) get exactly the weights they get one after another."""
    import threading

    rng = np.random.default_rng(11)
    X = rng.random((1200, 40), dtype=np.float32)
    y = rng.integers(0, 5, 1200)

    def train(seed):
        model = mlpcore.MLP([40, 96, 5], dropout=0.1, seed=seed)
        history = mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05, momentum=0.9), epochs=2,
                              batch_size=256, seed=seed, verbose=False)
        return model.get_weights(), history.train_loss

    sequential = [train(seed) for seed in range(4)]
    concurrent = [None] * 4
    threads = [threading.Thread(target=lambda i=i: concurrent.__setitem__(i, train(i))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (weights_a, loss_a), (weights_b, loss_b) in zip(sequential, concurrent):
        assert loss_a == loss_b
        for (wa, ba), (wb, bb) in zip(weights_a, weights_b):
            np.testing.assert_array_equal(wa, wb)
            np.testing.assert_array_equal(ba, bb)


def test_training_diverged_error_pickles_with_its_history():
    history = mlpcore.History(train_loss=[1.0, 0.5], lr=[0.1, 0.1])
    error = mlpcore.TrainingDivergedError("fit: the training loss became NaN", history)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is mlpcore.TrainingDivergedError
    assert str(copy) == "fit: the training loss became NaN"
    assert copy.history == history


def test_divergence_leaves_the_weights_from_before_the_diverging_epoch(rng):
    """The last finite batch's weights can be finite but huge (3e29 after lr=1e30), every loss
    after them NaN: the model went back to its weights from before the epoch, so it predicts
    and trains again; with EarlyStopping(restore_best=True) it holds the best epoch's."""
    X = rng.standard_normal((60, 4))
    y = rng.integers(0, 3, 60)
    model = mlpcore.MLP([4, 8, 3], seed=0)
    before = model._params.copy()
    with pytest.raises(mlpcore.TrainingDivergedError):
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=1e30), epochs=1, seed=0)
    np.testing.assert_array_equal(model._params, before)
    assert np.isfinite(model.loss_and_grads(X, y)[0])
    quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=1e-3), epochs=1, seed=0)  # trains again

    rule = mlpcore.EarlyStopping(patience=100, restore_best=True)
    best = {}

    def grow_then_explode(epoch, history):
        best.setdefault(history.best_epoch, model._params.copy())
        if epoch == 2:
            model._params[...] *= 1e30  # the next epoch diverges

    with pytest.raises(mlpcore.TrainingDivergedError) as info:
        quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.1), epochs=10, seed=0, validation_data=(X, y),
                  early_stopping=rule, callbacks=[grow_then_explode])
    np.testing.assert_array_equal(model._params, best[info.value.history.best_epoch])


def test_hinge_accuracy_in_history_agrees_with_predict_for_a_sigmoid_output(rng):
    """History's accuracy took the sign of the sigmoid output (always positive): every row
    counted as class 1, while predict thresholds the output at 1/2."""
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] > 0).astype(int)
    for output in ("sigmoid", "identity"):
        model = mlpcore.MLP([2, 1], output=output, loss="hinge", seed=0)
        history = quiet_fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=20, seed=0, validation_data=(X, y))
        assert history.val_accuracy[-1] == pytest.approx(np.mean(model.predict(X) == y), abs=1e-12)
        assert history.val_accuracy[-1] > 0.9


def test_float32_ranges_of_every_setting_are_named():
    """max_norm that rounds to 0 switched the constraint off silently; dropout that rounds to 1,
    input noise and max_norm beyond float32, and a batch size beyond int64 gave messages
    naming the internal train_epoch (or a pybind11 dump)."""
    X, y = np.ones((4, 2)), [0, 1, 0, 1]
    for model_kw, opt, message in [({}, mlpcore.SGD(max_norm=1e-50), "fit: SGD(max_norm=1e-50) is out of range"),
                                   ({}, mlpcore.Adam(max_norm=1e39), "fit: Adam(max_norm=1e+39) is out of range"),
                                   ({"dropout": 0.99999999}, mlpcore.SGD(), "fit: MLP(dropout=0.99999999) rounds to 1"),
                                   ({"input_noise": 1e39}, mlpcore.SGD(), "fit: MLP(input_noise=1e+39) is out of range")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            quiet_fit(mlpcore.MLP([2, 3, 2], **model_kw), X, y, optimizer=opt)
    with pytest.raises(ValueError, match=r"fit: batch_size must be <= 9223372036854775807"):
        quiet_fit(mlpcore.MLP([2, 3, 2]), X, y, optimizer=mlpcore.SGD(), batch_size=2**63)
