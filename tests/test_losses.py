"""The losses of mlpcore.MLP (value and output gradient) against float64 numpy formulas and
PyTorch (when installed): CrossEntropyLoss, BCELoss / BCEWithLogitsLoss, MSELoss, L1Loss,
MultiMarginLoss, the one-output hinge and PoissonNLLLoss (log input, plus the constant
y log y - y of the half deviance).

The trick that isolates a loss from the network: a single layer ``[n, k]`` fed with the n x n
identity matrix has logits ``S = I @ W + b = W`` (b = 0), and its weight gradient is
``dW = I.T @ dS = dS``. So ``set_weights([(S, 0)])`` puts any logits we like in front of the
loss, and ``loss_and_grads(I, Y)`` returns the loss and exactly ``dL/dS`` (and ``db`` = the
column sums of dS).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from _helpers import FLOAT_DTYPES
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpcore

SEED = 31337

# float32: the loss is a mean of n*k terms each computed with a few roundings (exp/log with a
# few ulp); relative error ~1e-6 at most, absolute error relative to the size of the terms.
TOL = {
    np.dtype(np.float32): {"rtol": 2e-5, "atol": 2e-6},
    np.dtype(np.float64): {"rtol": 1e-11, "atol": 1e-14},
}


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype)]


def loss_at_logits(S: np.ndarray, Y, *, output: str, loss: str, dtype=np.float64):
    """(loss, dL/dS, dL/db) of mlpcore for the logits S (n, k) and targets Y."""
    n, k = S.shape
    model = mlpcore.MLP([n, k], output=output, loss=loss, dtype=np.dtype(dtype).name, seed=0)
    model.set_weights([(S.astype(dtype), np.zeros(k, dtype))])
    value, grads = model.loss_and_grads(np.eye(n, dtype=dtype), Y)
    assert isinstance(value, float)
    assert len(grads) == 1
    dW, db = grads[0]
    assert dW.shape == (n, k) and db.shape == (k,)
    assert dW.dtype == np.dtype(dtype) and db.dtype == np.dtype(dtype)
    return value, dW, db


# --------------------------------------------------------------------------- #
# float64 numpy references (PyTorch's reductions)
# --------------------------------------------------------------------------- #


def output_of(S: np.ndarray, output: str) -> np.ndarray:
    if output == "identity":
        return S.copy()
    if output == "sigmoid":
        return scipy.special.expit(S)
    if output == "softmax":
        return scipy.special.softmax(S, axis=1)
    if output == "exp":
        return np.exp(S)
    raise AssertionError(output)


def output_vjp(S: np.ndarray, output: str, dA: np.ndarray) -> np.ndarray:
    """dL/dS from dL/dA for A = output(S)."""
    if output == "identity":
        return dA
    if output == "sigmoid":
        return dA * scipy.special.expit(S) * scipy.special.expit(-S)
    if output == "softmax":
        P = scipy.special.softmax(S, axis=1)
        return P * (dA - np.sum(dA * P, axis=1, keepdims=True))
    if output == "exp":
        return dA * np.exp(S)
    raise AssertionError(output)


def reference(S: np.ndarray, Y, *, output: str, loss: str) -> tuple[float, np.ndarray]:
    """float64 (loss, dL/dS) following the PyTorch reductions documented in the API."""
    S = S.astype(np.float64)
    n, k = S.shape
    Y = np.asarray(Y)
    if loss == "cross_entropy":
        T = np.eye(k)[Y] if Y.ndim == 1 else Y.astype(np.float64)
        logp = scipy.special.log_softmax(S, axis=1)
        value = -np.sum(T * logp) / n
        grad = (np.exp(logp) * T.sum(axis=1, keepdims=True) - T) / n
        return float(value), grad
    if loss == "binary_cross_entropy":
        T = Y.reshape(n, k).astype(np.float64)
        # stable BCE from logits: max(s, 0) - s t + log(1 + exp(-|s|))
        value = np.mean(np.maximum(S, 0) - S * T + np.log1p(np.exp(-np.abs(S))))
        grad = (scipy.special.expit(S) - T) / (n * k)
        return float(value), grad
    if loss in ("mse", "mae"):
        T = Y.reshape(n, k).astype(np.float64)
        A = output_of(S, output)
        diff = A - T
        if loss == "mse":
            value, dA = np.mean(diff**2), 2.0 * diff / (n * k)
        else:
            value, dA = np.mean(np.abs(diff)), np.sign(diff) / (n * k)
        return float(value), output_vjp(S, output, dA)
    if loss == "hinge":
        A = output_of(S, output)
        labels = Y.reshape(n).astype(np.int64)
        if k == 1:
            t = 2.0 * labels - 1.0
            margin = 1.0 - t * A[:, 0]
            value = np.mean(np.maximum(0.0, margin))
            dA = np.where(margin > 0, -t, 0.0)[:, None] / n
        else:
            a_y = A[np.arange(n), labels][:, None]
            m = 1.0 - a_y + A
            m[np.arange(n), labels] = 0.0
            active = (m > 0).astype(np.float64)
            value = np.sum(np.maximum(m, 0.0)) / (n * k)
            dA = active / (n * k)
            dA[np.arange(n), labels] = -active.sum(axis=1) / (n * k)
        return float(value), output_vjp(S, output, dA)
    if loss == "poisson":
        # half deviance y log(y / a) - y + a with a = exp(s): scikit-learn's poisson_loss
        T = Y.reshape(n, k).astype(np.float64)
        value = np.mean(scipy.special.xlogy(T, T) - T * S - T + np.exp(S))
        return float(value), (np.exp(S) - T) / (n * k)
    raise AssertionError(loss)


def random_targets(rng, n: int, k: int, loss: str, y_form: str):
    if loss in ("cross_entropy", "hinge"):
        labels = rng.integers(0, max(k, 2), n)
        if y_form == "onehot":
            return np.eye(k)[labels]
        if y_form == "probabilities":
            P = rng.random((n, k)) + 0.05
            return P / P.sum(axis=1, keepdims=True)
        return labels
    if loss == "binary_cross_entropy":
        T = rng.integers(0, 2, (n, k)).astype(np.float64)
        if y_form == "vector":
            return T[:, 0].astype(np.int64)
        return T
    if loss == "poisson":
        T = rng.poisson(2.0, (n, k)).astype(np.float64)  # counts, zeros included
        return T[:, 0] if y_form == "vector" else T
    T = rng.standard_normal((n, k))
    return T[:, 0] if y_form == "vector" else T


# (output, loss, k, target form)
CASES = [
    ("softmax", "cross_entropy", 2, "labels"),
    ("softmax", "cross_entropy", 3, "labels"),
    ("softmax", "cross_entropy", 10, "labels"),
    ("softmax", "cross_entropy", 37, "labels"),
    ("softmax", "cross_entropy", 4, "onehot"),
    ("softmax", "cross_entropy", 4, "probabilities"),
    ("sigmoid", "binary_cross_entropy", 1, "vector"),
    ("sigmoid", "binary_cross_entropy", 1, "matrix"),
    ("sigmoid", "binary_cross_entropy", 5, "matrix"),
    ("identity", "mse", 1, "vector"),
    ("identity", "mse", 1, "matrix"),
    ("identity", "mse", 4, "matrix"),
    ("sigmoid", "mse", 3, "matrix"),
    ("softmax", "mse", 3, "matrix"),
    ("identity", "mae", 1, "vector"),
    ("identity", "mae", 6, "matrix"),
    ("sigmoid", "mae", 2, "matrix"),
    ("identity", "hinge", 1, "labels"),
    ("identity", "hinge", 2, "labels"),
    ("identity", "hinge", 7, "labels"),
    ("softmax", "hinge", 4, "labels"),
    ("exp", "poisson", 1, "vector"),
    ("exp", "poisson", 3, "matrix"),
    ("exp", "mse", 2, "matrix"),
]


def case_id(case) -> str:
    return "-".join(str(c) for c in case)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [1, 2, 17, 130])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_value_and_gradient_match_formula(case, n, dtype):
    output, loss, k, y_form = case
    rng = np.random.default_rng([SEED, n, k])
    S = (rng.standard_normal((n, k)) * 3).astype(dtype)
    Y = random_targets(rng, n, k, loss, y_form)
    value, dS, db = loss_at_logits(S, Y, output=output, loss=loss, dtype=dtype)
    want, want_grad = reference(S, Y, output=output, loss=loss)
    np.testing.assert_allclose(value, want, **tol(dtype))
    # the output's vjp (softmax, sigmoid) subtracts terms of size |dL/dA| ~ 1/(n k): the rounding
    # error scales with those, not with the (possibly much smaller) result
    scale = max(np.max(np.abs(want_grad)), 1.0 / (n * k))
    np.testing.assert_allclose(dS, want_grad, rtol=tol(dtype)["rtol"], atol=tol(dtype)["rtol"] * scale)
    np.testing.assert_allclose(db, want_grad.sum(axis=0), rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["rtol"] * scale * n)
    assert value >= 0.0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n", [1, 9, 64])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_value_and_gradient_match_torch(case, n, dtype):
    torch = pytest.importorskip("torch")
    output, loss, k, y_form = case
    rng = np.random.default_rng([SEED, 7, n, k])
    S = (rng.standard_normal((n, k)) * 3).astype(dtype)
    Y = random_targets(rng, n, k, loss, y_form)
    value, dS, _ = loss_at_logits(S, Y, output=output, loss=loss, dtype=dtype)

    s = torch.tensor(S.astype(np.float64), requires_grad=True)
    Yt = torch.from_numpy(np.asarray(Y))
    act = {"identity": lambda z: z, "sigmoid": torch.sigmoid, "softmax": lambda z: torch.softmax(z, 1),
           "exp": torch.exp}[output]
    if loss == "cross_entropy":
        target = Yt if Yt.ndim == 1 else Yt.double()
        t_loss = torch.nn.CrossEntropyLoss()(s, target)
    elif loss == "binary_cross_entropy":
        target = Yt.double().reshape(n, k)
        t_loss = torch.nn.BCEWithLogitsLoss()(s, target)
        # BCELoss on the sigmoid outputs agrees for moderate logits
        np.testing.assert_allclose(torch.nn.BCELoss()(torch.sigmoid(s), target).item(), t_loss.item(), rtol=1e-9)
    elif loss == "mse":
        t_loss = torch.nn.MSELoss()(act(s), Yt.double().reshape(n, k))
    elif loss == "mae":
        t_loss = torch.nn.L1Loss()(act(s), Yt.double().reshape(n, k))
    elif loss == "poisson":
        target = Yt.double().reshape(n, k)
        constant = (torch.special.xlogy(target, target) - target).mean()  # no gradient
        t_loss = torch.nn.PoissonNLLLoss(log_input=True, full=False)(s, target) + constant
    elif k == 1:
        t = 2.0 * Yt.double() - 1.0
        t_loss = torch.clamp(1.0 - t * act(s)[:, 0], min=0.0).mean()
    else:
        t_loss = torch.nn.MultiMarginLoss(p=1, margin=1.0)(act(s), Yt.long())
    t_loss.backward()
    np.testing.assert_allclose(value, t_loss.item(), **tol(dtype))
    grad = s.grad.numpy()
    scale = max(np.max(np.abs(grad)), 1.0 / (n * k))  # see test_value_and_gradient_match_formula
    np.testing.assert_allclose(dS, grad, rtol=tol(dtype)["rtol"], atol=tol(dtype)["rtol"] * scale)


# --------------------------------------------------------------------------- #
# Exact identities and properties
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_labels_and_one_hot_agree(dtype):
    rng = np.random.default_rng(SEED)
    S = rng.standard_normal((20, 6)).astype(dtype)
    labels = rng.integers(0, 6, 20)
    v1, g1, _ = loss_at_logits(S, labels, output="softmax", loss="cross_entropy", dtype=dtype)
    v2, g2, _ = loss_at_logits(S, np.eye(6)[labels], output="softmax", loss="cross_entropy", dtype=dtype)
    np.testing.assert_allclose(v1, v2, **tol(dtype))
    np.testing.assert_allclose(g1, g2, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_cross_entropy_target_shapes_agree(dtype):
    """One sigmoid output: y as (n,) integers, (n,) floats, (n, 1) or booleans mean the same."""
    rng = np.random.default_rng(SEED)
    S = rng.standard_normal((15, 1)).astype(dtype)
    y = rng.integers(0, 2, 15)
    results = [
        loss_at_logits(S, target, output="sigmoid", loss="binary_cross_entropy", dtype=dtype)
        for target in (y, y.astype(np.float64), y.reshape(-1, 1), y.astype(dtype).reshape(-1, 1))
    ]
    for value, grad, _ in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_regression_target_vector_and_column_agree(loss):
    rng = np.random.default_rng(SEED)
    S = rng.standard_normal((12, 1))
    y = rng.standard_normal(12)
    v1, g1, _ = loss_at_logits(S, y, output="identity", loss=loss)
    v2, g2, _ = loss_at_logits(S, y.reshape(-1, 1), output="identity", loss=loss)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    k=st.integers(2, 12),
    scale=st.sampled_from([0.1, 1.0, 10.0, 100.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_cross_entropy_gradient_is_softmax_minus_one_hot(n, k, scale, seed):
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((n, k)) * scale
    labels = rng.integers(0, k, n)
    value, dS, db = loss_at_logits(S, labels, output="softmax", loss="cross_entropy")
    P = scipy.special.softmax(S, axis=1)
    np.testing.assert_allclose(dS, (P - np.eye(k)[labels]) / n, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(dS.sum(axis=1), 0.0, atol=1e-15 * k)  # rows of P - onehot sum to 0
    assert 0.0 <= value and np.isfinite(value)
    np.testing.assert_allclose(db, dS.sum(axis=0), rtol=1e-12, atol=1e-16)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), k=st.integers(1, 8), seed=st.integers(0, 2**32 - 1))
def test_bce_gradient_is_sigmoid_minus_target(n, k, seed):
    rng = np.random.default_rng(seed)
    S = rng.standard_normal((n, k)) * 5
    T = rng.integers(0, 2, (n, k)).astype(np.float64)
    value, dS, _ = loss_at_logits(S, T, output="sigmoid", loss="binary_cross_entropy")
    np.testing.assert_allclose(dS, (scipy.special.expit(S) - T) / (n * k), rtol=1e-10, atol=1e-16)
    assert value > 0.0


def test_perfect_predictions_give_zero_loss():
    S = np.array([[3.0, -1.0], [-2.0, 4.0]])
    value, dS, _ = loss_at_logits(S, S.copy(), output="identity", loss="mse")
    assert value == 0.0 and not dS.any()
    value, dS, _ = loss_at_logits(S, S.copy(), output="identity", loss="mae")
    assert value == 0.0
    np.testing.assert_array_equal(dS, 0.0)  # sign(0) = 0, as PyTorch's L1Loss
    # multiclass hinge: every margin satisfied by more than 1
    value, dS, _ = loss_at_logits(np.array([[5.0, 0.0, 1.0], [0.0, 0.0, 2.5]]), np.array([0, 2]),
                                  output="identity", loss="hinge")
    assert value == 0.0 and not dS.any()
    value, dS, _ = loss_at_logits(np.array([[2.0], [-3.0]]), np.array([1, 0]), output="identity", loss="hinge")
    assert value == 0.0 and not dS.any()


def test_hinge_hand_computed():
    # MultiMarginLoss: sample 0 (label 0): margins 1-2+1.5=0.5 (j=1), 1-2+0=-1 (j=2) -> 0.5 / 3
    #                  sample 1 (label 2): 1-0.5+1=1.5 (j=0), 1-0.5+0.5=1.0 (j=1) -> 2.5 / 3
    S = np.array([[2.0, 1.5, 0.0], [1.0, 0.5, 0.5]])
    value, dS, _ = loss_at_logits(S, np.array([0, 2]), output="identity", loss="hinge")
    np.testing.assert_allclose(value, (0.5 / 3 + 2.5 / 3) / 2, rtol=1e-14)
    np.testing.assert_allclose(dS, np.array([[-1, 1, 0], [1, 1, -2]]) / 6, rtol=1e-14)
    # one output: t = +-1, mean(max(0, 1 - t s)): 1 - 0.25 = 0.75 and max(0, 1 - 2) = 0
    value, dS, _ = loss_at_logits(np.array([[0.25], [-2.0]]), np.array([1, 0]), output="identity", loss="hinge")
    np.testing.assert_allclose(value, 0.75 / 2, rtol=1e-14)
    np.testing.assert_allclose(dS, [[-0.5], [0.0]], rtol=1e-14)


# --------------------------------------------------------------------------- #
# Extreme logits: fused, stable losses (no log(0), no inf - inf)
# --------------------------------------------------------------------------- #

EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_extreme_logits(dtype):
    labels = np.array([1, 1, 2, 0])
    value, dS, _ = loss_at_logits(EXTREME.astype(dtype), labels, output="softmax", loss="cross_entropy", dtype=dtype)
    # per sample: 2e4, 0, 2e4 + log 2, log 3
    want = (2e4 + 0.0 + 2e4 + np.log(2.0) + np.log(3.0)) / 4
    assert np.isfinite(value) and np.all(np.isfinite(dS))
    np.testing.assert_allclose(value, want, rtol=1e-6 if dtype == np.float32 else 1e-13)
    P = np.array([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(dS, (P - np.eye(3)[labels]) / 4, atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_cross_entropy_extreme_logits(dtype):
    S = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 0.0]], dtype)
    T = np.array([[0, 1], [0, 1], [1, 1]], np.float64)
    value, dS, _ = loss_at_logits(S, T, output="sigmoid", loss="binary_cross_entropy", dtype=dtype)
    want = (1e4 + 1e4 + 0 + 0 + 0 + np.log(2.0)) / 6
    assert np.isfinite(value) and np.all(np.isfinite(dS))
    np.testing.assert_allclose(value, want, rtol=1e-6 if dtype == np.float32 else 1e-13)
    np.testing.assert_allclose(dS, (np.array([[1, 0], [0, 1], [1, 0.5]]) - T) / 6,
                               atol=1e-7 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "output,loss,Y",
    [
        ("sigmoid", "mse", np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 1.0, 0.0]])),
        ("softmax", "mse", np.eye(3)[[0, 0, 1, 2]]),
        ("identity", "mae", np.zeros((4, 3))),
        ("identity", "hinge", np.array([0, 1, 2, 0])),
        ("softmax", "hinge", np.array([0, 1, 2, 0])),
        ("identity", "mse", np.zeros((4, 3))),
    ],
    ids=["sigmoid-mse", "softmax-mse", "mae", "hinge", "softmax-hinge", "mse"],
)
def test_other_losses_extreme_logits(output, loss, Y, dtype):
    value, dS, _ = loss_at_logits(EXTREME.astype(dtype), Y, output=output, loss=loss, dtype=dtype)
    want, want_grad = reference(EXTREME, Y, output=output, loss=loss)
    assert np.isfinite(value) and np.all(np.isfinite(dS))
    np.testing.assert_allclose(value, want, rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(dS, want_grad, rtol=1e-5, atol=1e-6 * np.max(np.abs(want_grad)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("big", [30.0, 88.0, 1e3, 1e4, 1e30])
def test_saturated_losses_are_finite(big, dtype):
    """Logits far beyond exp's range: CE and BCE stay finite and equal their asymptotes."""
    S = np.array([[big, -big], [-big, big]], dtype)
    v, dS, _ = loss_at_logits(S, np.array([1, 1]), output="softmax", loss="cross_entropy", dtype=dtype)
    assert np.isfinite(v) and np.all(np.isfinite(dS))
    np.testing.assert_allclose(v, float(np.float64(dtype(big))), rtol=1e-6)  # (2 big + 0) / 2
    v, dS, _ = loss_at_logits(S, np.array([[1, 0], [1, 0]]), output="sigmoid", loss="binary_cross_entropy",
                              dtype=dtype)
    assert np.isfinite(v) and np.all(np.isfinite(dS))
    np.testing.assert_allclose(v, float(np.float64(dtype(big))) / 2, rtol=1e-6)  # (0 + big + big + 0) / 4


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_poisson_at_extreme_logits(dtype):
    """Rates that underflow to 0 give the deviance's limit (y = 0: 0; y > 0: y (log y - s) - y),
    and a zero count a zero y log y; a rate beyond the dtype's range makes the loss infinite,
    which training reports as divergence."""
    S = np.array([[-1e4, -1e4], [0.0, -60.0]], dtype)
    Y = np.array([[0.0, 2.0], [0.0, 3.0]])
    value, dS, _ = loss_at_logits(S, Y, output="exp", loss="poisson", dtype=dtype)
    want = (0.0 + (2 * (np.log(2) + 1e4) - 2) + 1.0 + (3 * (np.log(3) + 60) - 3 + np.exp(-60))) / 4
    np.testing.assert_allclose(value, want, rtol=1e-12)
    np.testing.assert_allclose(dS, (np.exp(S.astype(np.float64)) - Y) / 4, rtol=1e-6, atol=1e-30)
    for z in (89.0 if dtype == np.float32 else 710.0, 1e3):  # exp(z) beyond the dtype's range
        value, _, _ = loss_at_logits(np.array([[z]], dtype), np.array([1.0]), output="exp", loss="poisson",
                                     dtype=dtype)
        assert value == np.inf


# --------------------------------------------------------------------------- #
# Bad targets
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "output,loss,k,Y,pattern",
    [
        ("softmax", "cross_entropy", 3, np.array([0, 1, 3]), r"\bY\b|\by\b|label"),
        ("softmax", "cross_entropy", 3, np.array([0, -1, 2]), r"\bY\b|\by\b|label"),
        ("softmax", "cross_entropy", 3, np.zeros((3, 4)), r"\bY\b|\by\b"),
        ("softmax", "cross_entropy", 3, np.array([0, 1]), r"\bY\b|\by\b|length|samples"),
        ("sigmoid", "binary_cross_entropy", 1, np.array([0, 1, 2]), r"\bY\b|\by\b"),
        ("sigmoid", "binary_cross_entropy", 2, np.zeros((3, 3)), r"\bY\b|\by\b"),
        ("identity", "mse", 2, np.zeros((3, 1)), r"\bY\b|\by\b"),
        ("identity", "mse", 2, np.array([[0.0, np.nan]] * 3), r"\bY\b|\by\b"),
        ("identity", "hinge", 3, np.array([0, 1, 5]), r"\bY\b|\by\b|label"),
        ("exp", "poisson", 1, np.array([0.0, 2.0, -1.0]), r"Y holds negative values, but the poisson loss"),
    ],
    ids=["label-too-big", "label-negative", "onehot-width", "length", "bce-label-2", "bce-width", "mse-width",
         "mse-nan", "hinge-label", "poisson-negative"],
)
def test_bad_targets_raise_value_error(output, loss, k, Y, pattern):
    model = mlpcore.MLP([4, k], output=output, loss=loss, seed=0)
    X = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=pattern):
        model.loss_and_grads(X, Y)
