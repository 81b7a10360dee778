"""mlpcore.ops.sgd_update (the fused SGD step) against a float64 numpy implementation of its
formula and against torch.optim.SGD (when installed)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from _helpers import FLOAT_DTYPES, assert_bitwise_equal, num_threads, simd_level
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpcore
from mlpcore import ops

SEED = 777

# One step: a handful of float32 roundings of values of size |w| + lr |g'| (the reference is
# exact float64); the margin is ~50x.
STEP_TOL = {np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6}, np.dtype(np.float64): {"rtol": 1e-13, "atol": 1e-15}}


def sgd_reference(w, g, v, *, lr, momentum=0.0, weight_decay=0.0, l1=0.0, nesterov=False):
    """The documented step in float64: returns (new w, new v)."""
    w = w.astype(np.float64)
    g = g.astype(np.float64)
    d = g + weight_decay * w + l1 * np.sign(w)  # np.sign(0) == 0
    if momentum == 0:
        return w - lr * d, None if v is None else v.astype(np.float64)
    v = momentum * v.astype(np.float64) + d
    step = d + momentum * v if nesterov else v
    return w - lr * step, v


def random_state(rng, shape, dtype, scale=1.0):
    w = (rng.standard_normal(shape) * scale).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    v = rng.standard_normal(shape).astype(dtype)
    return w, g, v


HYPER = [
    {"lr": 0.1},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "l1": 0.02},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.01, "momentum": 0.5, "weight_decay": 1e-3, "l1": 1e-3},
    {"lr": 0.3, "momentum": 0.99, "weight_decay": 0.1, "l1": 0.05, "nesterov": True},
    {"lr": 2.0, "momentum": 0.0, "weight_decay": 0.5},
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (100,), (3, 5), (17, 33)])
@pytest.mark.parametrize("hyper", HYPER, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_one_step_matches_formula(hyper, shape, dtype):
    rng = np.random.default_rng(SEED)
    w, g, v = random_state(rng, shape, dtype)
    w[..., 0] = 0.0  # sign(0) = 0
    g_before = g.copy()
    want_w, want_v = sgd_reference(w, g, v, **hyper)
    velocity = v if hyper.get("momentum", 0.0) > 0 else None
    assert ops.sgd_update(w, g, velocity, **hyper) is None
    assert w.dtype == dtype and w.shape == shape
    np.testing.assert_allclose(w, want_w, **STEP_TOL[np.dtype(dtype)])
    if velocity is not None:
        np.testing.assert_allclose(v, want_v, **STEP_TOL[np.dtype(dtype)])
    assert_bitwise_equal(g, g_before, "grad is read only")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("hyper", HYPER, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_several_steps_match_float64_reference(hyper, dtype):
    rng = np.random.default_rng(SEED)
    shape = (13, 29)
    w = rng.standard_normal(shape).astype(dtype)
    v = np.zeros(shape, dtype)  # velocity starts at zero
    ref_w, ref_v = w.astype(np.float64), np.zeros(shape)
    momentum = hyper.get("momentum", 0.0)
    for _ in range(6):
        g = rng.standard_normal(shape).astype(dtype)
        ops.sgd_update(w, g, v if momentum > 0 else None, **hyper)
        ref_w, new_v = sgd_reference(ref_w, g, ref_v if momentum > 0 else None, **hyper)
        ref_v = new_v if new_v is not None else ref_v
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(w, ref_w, rtol=rtol, atol=rtol)
    if momentum > 0:
        np.testing.assert_allclose(v, ref_v, rtol=rtol, atol=rtol)


@settings(max_examples=80, deadline=None)
@given(
    dtype=st.sampled_from(FLOAT_DTYPES),
    shape=st.one_of(st.tuples(st.integers(0, 300)), st.tuples(st.integers(0, 20), st.integers(0, 20))),
    lr=st.one_of(st.just(0.0), st.floats(1e-4, 10)),
    momentum=st.one_of(st.just(0.0), st.floats(1e-3, 0.999)),  # tiny momenta: see below
    weight_decay=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    l1=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    nesterov=st.booleans(),
    zeros=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_hyperparameters(dtype, shape, lr, momentum, weight_decay, l1, nesterov, zeros, seed):
    nesterov = nesterov and momentum > 0
    rng = np.random.default_rng(seed)
    w, g, v = random_state(rng, shape, dtype, scale=3.0)
    if zeros:
        w[rng.random(shape) < 0.3] = 0.0
    hyper = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, l1=l1, nesterov=nesterov)
    want_w, want_v = sgd_reference(w, g, v, **hyper)
    w0 = w.astype(np.float64)
    v_before = v.copy()
    ops.sgd_update(w, g, v, **hyper)
    # w - lr * step can cancel, so bound the error by the size of the terms, not of the
    # result: each of the ~6 roundings errs by at most eps times the term it rounds.
    eps = np.finfo(dtype).eps
    d_abs = np.abs(g.astype(np.float64)) + weight_decay * np.abs(w0) + l1
    v_abs = momentum * np.abs(v_before.astype(np.float64)) + d_abs
    w_terms = np.abs(w0) + lr * (d_abs + momentum * v_abs + v_abs)
    assert np.all(np.abs(w - want_w) <= 8 * eps * w_terms + 1e-300), np.max(np.abs(w - want_w) / w_terms)
    if momentum > 0:
        assert np.all(np.abs(v - want_v) <= 8 * eps * v_abs + 1e-300)
    else:
        assert_bitwise_equal(v, v_before, "velocity untouched when momentum == 0")


# --------------------------------------------------------------------------- #
# Exact properties
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("hyper", HYPER, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_zero_learning_rate_leaves_weights_unchanged(hyper, dtype):
    rng = np.random.default_rng(SEED)
    w, g, v = random_state(rng, (40, 9), dtype)
    w_before, v_before = w.copy(), v.copy()
    hyper = {**hyper, "lr": 0.0}
    ops.sgd_update(w, g, v, **hyper)
    assert_bitwise_equal(w, w_before, "lr = 0")
    _, want_v = sgd_reference(w_before, g, v_before, **hyper)
    if hyper.get("momentum", 0.0) > 0:  # the velocity still accumulates
        np.testing.assert_allclose(v, want_v, **STEP_TOL[np.dtype(dtype)])
    else:
        assert_bitwise_equal(v, v_before, "velocity")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (31,), (4, 0), (5, 7)])
def test_plain_sgd_without_velocity(shape, dtype):
    rng = np.random.default_rng(SEED)
    w, g, _ = random_state(rng, shape, dtype)
    g_before = g.copy()
    want = w.astype(np.float64) - 0.25 * g
    ops.sgd_update(w, g, None, lr=0.25)
    np.testing.assert_allclose(w, want, **STEP_TOL[np.dtype(dtype)])
    assert_bitwise_equal(g, g_before, "grad")
    # A velocity passed with momentum = 0 is neither read nor written.
    w2, g2, v2 = random_state(rng, shape, dtype)
    v2[...] = np.nan
    ops.sgd_update(w2, g2, v2, lr=0.25, momentum=0.0, weight_decay=0.1)
    assert np.isnan(v2).all() and np.isfinite(w2).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_l1_sign_of_zero_is_zero(dtype):
    w = np.array([0.0, -0.0, 2.0, -2.0, 1e-30], dtype)
    g = np.zeros_like(w)
    ops.sgd_update(w, g, None, lr=0.5, l1=1.0)
    np.testing.assert_array_equal(w, np.array([0.0, 0.0, 1.5, -1.5, dtype(1e-30) - dtype(0.5)], dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_every_length_and_tail(dtype):
    """Vector loops with remainders: every length from 0 to 70 gets every element updated."""
    rng = np.random.default_rng(SEED)
    for n in range(71):
        w, g, v = random_state(rng, (n,), dtype)
        want_w, want_v = sgd_reference(w, g, v, lr=0.1, momentum=0.9, weight_decay=0.01, l1=0.01, nesterov=True)
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9, weight_decay=0.01, l1=0.01, nesterov=True)
        np.testing.assert_allclose(w, want_w, **STEP_TOL[np.dtype(dtype)], err_msg=f"n={n}")
        np.testing.assert_allclose(v, want_v, **STEP_TOL[np.dtype(dtype)], err_msg=f"n={n}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_updates_only_the_given_window(dtype):
    """param and velocity as windows on bigger buffers: nothing around them is touched."""
    rng = np.random.default_rng(SEED)
    n = 1000 + 5
    wbuf = np.full(n + 40, 9.0, dtype)
    vbuf = np.full(n + 40, 9.0, dtype)
    w, v = wbuf[20:20 + n], vbuf[20:20 + n]
    w[:] = rng.standard_normal(n)
    v[:] = 0
    ops.sgd_update(w, rng.standard_normal(n).astype(dtype), v, lr=0.1, momentum=0.9)
    for buf in (wbuf, vbuf):
        assert (buf[:20] == 9.0).all() and (buf[20 + n:] == 9.0).all()
    # 2-D: rows of a bigger C array.
    big = np.full((10, 8), 9.0, dtype)
    ops.sgd_update(big[2:5], np.ones((3, 8), dtype), None, lr=1.0)
    assert (big[2:5] == 8.0).all() and (np.delete(big, [2, 3, 4], axis=0) == 9.0).all()


def test_read_only_grad_is_fine():
    g = np.ones(5)
    g.flags.writeable = False
    w = np.zeros(5)
    ops.sgd_update(w, g, None, lr=0.5)
    np.testing.assert_array_equal(w, -0.5)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_large_arrays_are_thread_count_invariant(dtype):
    rng = np.random.default_rng(SEED)
    shape = (601, 1001)  # ~600k elements: several chunks, an odd tail
    w0, g, v0 = random_state(rng, shape, dtype)
    results = {}
    for threads in (1, 2, 3):
        with num_threads(threads):
            w, v = w0.copy(), v0.copy()
            ops.sgd_update(w, g, v, lr=0.1, momentum=0.9, weight_decay=1e-3, l1=1e-4, nesterov=True)
            results[threads] = (w, v)
    for threads in (2, 3):
        assert_bitwise_equal(results[threads][0], results[1][0], f"param, {threads} threads")
        assert_bitwise_equal(results[threads][1], results[1][1], f"velocity, {threads} threads")
    want_w, want_v = sgd_reference(w0, g, v0, lr=0.1, momentum=0.9, weight_decay=1e-3, l1=1e-4, nesterov=True)
    np.testing.assert_allclose(results[2][0], want_w, **STEP_TOL[np.dtype(dtype)])
    np.testing.assert_allclose(results[2][1], want_v, **STEP_TOL[np.dtype(dtype)])


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_any_split_into_windows_gives_the_same_bits(dtype, nesterov):
    """Training steps each thread's range of the weights as soon as its gradient is done, and
    those ranges start anywhere: stepping windows that start and end at arbitrary offsets gives
    the bits of one step over the whole array, on every SIMD level."""
    rng = np.random.default_rng(SEED)
    n = 5003
    w0, g, v0 = random_state(rng, (n,), dtype)
    w0[::7] = 0.0
    cuts = [0, *sorted(rng.choice(np.arange(1, n), size=40, replace=False)), n]
    hyper = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3, "l1": 1e-4, "nesterov": nesterov}
    for level in mlpcore.supported_simd_levels():
        with simd_level(level):
            w, v = w0.copy(), v0.copy()
            ops.sgd_update(w, g, v, **hyper)
            ws, vs = w0.copy(), v0.copy()
            for a, b in zip(cuts[:-1], cuts[1:]):
                ops.sgd_update(ws[a:b], g[a:b], vs[a:b], **hyper)
        assert_bitwise_equal(ws, w, f"param, {level}")
        assert_bitwise_equal(vs, v, f"velocity, {level}")


# --------------------------------------------------------------------------- #
# torch.optim.SGD
# --------------------------------------------------------------------------- #

TORCH_CASES = [
    dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False),
    dict(lr=0.1, momentum=0.0, weight_decay=0.05, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=0.0, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=False),
    dict(lr=0.05, momentum=0.9, weight_decay=0.0, nesterov=True),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1, nesterov=True),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(37,), (9, 14)])
@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_matches_torch_optim_sgd(case, shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(SEED)
    w = rng.standard_normal(shape).astype(dtype)
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.SGD([param], dampening=0.0, **case)
    v = np.zeros_like(w)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for step in range(5):
        g = rng.standard_normal(shape).astype(dtype)
        param.grad = torch.from_numpy(g.copy())
        opt.step()
        ops.sgd_update(w, g, v if case["momentum"] > 0 else None, **case)
        np.testing.assert_allclose(w, param.detach().numpy(), rtol=rtol, atol=rtol, err_msg=f"step {step}")
        if case["momentum"] > 0:
            buf = opt.state[param]["momentum_buffer"].numpy()
            np.testing.assert_allclose(v, buf, rtol=rtol, atol=rtol, err_msg=f"velocity, step {step}")


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


def state(shape=(4,), dtype=np.float64):
    return np.ones(shape, dtype), np.ones(shape, dtype), np.zeros(shape, dtype)


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"lr": np.nan}, "sgd_update: lr must be a finite number >= 0 (got nan)"),
        ({"lr": -0.1}, "sgd_update: lr must be a finite number >= 0 (got -0.1)"),
        ({"lr": np.inf}, "sgd_update: lr must be a finite number >= 0 (got inf)"),
        ({"lr": 0.1, "momentum": 1.5}, "sgd_update: momentum must be in [0, 1] (got 1.5)"),
        ({"lr": 0.1, "momentum": -0.1}, "sgd_update: momentum must be in [0, 1] (got -0.1)"),
        ({"lr": 0.1, "momentum": np.nan}, "sgd_update: momentum must be in [0, 1] (got nan)"),
        ({"lr": 0.1, "weight_decay": -1e-3}, "sgd_update: weight_decay must be a finite number >= 0 (got -0.001)"),
        ({"lr": 0.1, "weight_decay": np.nan}, "sgd_update: weight_decay must be a finite number >= 0 (got nan)"),
        ({"lr": 0.1, "l1": -1.0}, "sgd_update: l1 must be a finite number >= 0 (got -1.0)"),
        ({"lr": 0.1, "l1": np.inf}, "sgd_update: l1 must be a finite number >= 0 (got inf)"),
        ({"lr": 0.1, "nesterov": True}, "sgd_update: nesterov momentum requires momentum > 0 (got momentum=0.0)"),
    ],
    ids=lambda x: str(x) if isinstance(x, dict) else "",
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_bad_hyperparameters(kwargs, pattern, dtype):
    w, g, v = state(dtype=dtype)
    w_before = w.copy()
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.sgd_update(w, g, v, **kwargs)
    assert_bitwise_equal(w, w_before, "param after a rejected call")
    assert (v == 0).all()


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay", "l1"])
@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]], ids=["str", "None", "bool", "list"])
def test_non_real_hyperparameters_are_type_errors(name, value):
    w, g, v = state()
    kwargs = {"lr": 0.1, name: value}
    with pytest.raises(TypeError, match=re.escape(f"sgd_update: {name} must be a real number (got {type(value).__name__})")):
        ops.sgd_update(w, g, v, **kwargs)


@pytest.mark.parametrize("name", ["lr", "weight_decay", "l1"])
def test_hyperparameter_overflowing_float32(name):
    """1e300 is a finite float64 but infinite in a float32 step: an error whose message shows
    the value the caller passed (not the "inf" it became)."""
    w, g, v = state(dtype=np.float32)
    kwargs = {"lr": 0.1, name: 1e300}
    with pytest.raises(ValueError, match=rf"sgd_update: {name} must be .*1e\+300"):
        ops.sgd_update(w, g, v, **kwargs)
    assert (w == 1).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("momentum", [1.0, 1 - 1e-10])
def test_momentum_of_one_keeps_the_whole_velocity(dtype, momentum):
    """momentum 1 (allowed, as in scikit-learn's MLP; 1 - 1e-10 rounds to it in float32): the
    velocity never decays, v <- v + g, W <- W - lr v."""
    w, g, v = state(dtype=dtype)
    w0, v0 = w.astype(np.float64), v.astype(np.float64)
    ops.sgd_update(w, g, v, lr=0.1, momentum=momentum)
    mu = np.float64(dtype(momentum))
    want_v = mu * v0 + g
    np.testing.assert_allclose(v, want_v, rtol=1e-6)
    np.testing.assert_allclose(w, w0 - 0.1 * want_v, rtol=1e-6)


@pytest.mark.parametrize("nesterov", [False, True])
def test_tiny_momentum_is_still_momentum_in_float32(nesterov):
    """momentum = 1e-60 > 0 rounds to 0 in float32. It was accepted as momentum > 0, so the
    step must still be the momentum step (v <- mu v + g' = g', as torch.optim.SGD does), not
    silently plain SGD that leaves the velocity stale, nor an error saying momentum is 0."""
    w = np.array([1.0, -2.0, 0.5], np.float32)
    g = np.array([0.5, 0.25, -1.0], np.float32)
    v = np.array([3.0, 3.0, 3.0], np.float32)
    ops.sgd_update(w, g, v, lr=0.5, momentum=1e-60, nesterov=nesterov)
    np.testing.assert_array_equal(v, g)
    np.testing.assert_array_equal(w, np.array([0.75, -2.125, 1.0], np.float32))


def test_velocity_required_with_momentum():
    w, g, _ = state()
    with pytest.raises(ValueError, match=re.escape("sgd_update: velocity is required when momentum > 0 (got None)")):
        ops.sgd_update(w, g, None, lr=0.1, momentum=0.9)
    assert (w == 1).all()


@pytest.mark.parametrize(
    "w,g,v,pattern",
    [
        (np.ones(4, np.float32), np.ones(4, np.float32), np.zeros(4),
         "sgd_update: velocity must have the dtype of param (float32), got float64"),
        (np.ones(4, np.float32), np.ones(4), np.zeros(4, np.float32),
         "sgd_update: grad must have the dtype of param (float32), got float64"),
        (np.ones(4), np.ones(4, np.float32), np.zeros(4),
         "sgd_update: grad must have the dtype of param (float64), got float32"),
        (np.ones(4, np.int64), np.ones(4, np.int64), np.zeros(4, np.int64),
         "sgd_update: param must be a float32 or float64 array (got dtype int64)"),
        (np.ones(4), np.ones(4, np.int32), np.zeros(4),
         "sgd_update: grad must be a float32 or float64 array (got dtype int32)"),
        (np.ones(4, np.float16), np.ones(4, np.float16), np.zeros(4, np.float16),
         "sgd_update: param must be a float32 or float64 array (got dtype float16)"),
        (np.ones(4, object), np.ones(4), np.zeros(4),
         "sgd_update: param must be a float32 or float64 array (got dtype object)"),
        ([1.0, 2.0], np.ones(2), np.zeros(2), "sgd_update: param must be a numpy array (got list)"),
        (np.ones(2), (1.0, 2.0), np.zeros(2), "sgd_update: grad must be a numpy array (got tuple)"),
        (np.ones(2), np.ones(2), [0.0, 0.0], "sgd_update: velocity must be a numpy array (got list)"),
    ],
    ids=["v-f64", "g-f64", "g-f32", "int", "g-int", "f16", "object", "list-param", "tuple-grad", "list-vel"],
)
def test_wrong_types(w, g, v, pattern):
    with pytest.raises(TypeError, match=re.escape(pattern)):
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9)


@pytest.mark.parametrize(
    "w,g,v,pattern",
    [
        (np.ones(4), np.ones(3), np.zeros(4), "sgd_update: grad.shape (3,) must equal param.shape (4,)"),
        (np.ones(4), np.ones(4), np.zeros((2, 2)), "sgd_update: velocity.shape (2, 2) must equal param.shape (4,)"),
        (np.ones((2, 3)), np.ones((3, 2)), np.zeros((2, 3)), "sgd_update: grad.shape (3, 2) must equal param.shape (2, 3)"),
        (np.ones((2, 2, 2)), np.ones((2, 2, 2)), np.zeros((2, 2, 2)), "sgd_update: param must be a 1-D or 2-D array (got 3-D)"),
        (np.array(1.0), np.array(1.0), np.array(0.0), "sgd_update: param must be a 1-D or 2-D array (got 0-D)"),
    ],
    ids=["grad-1d", "velocity-2d", "grad-transposed", "3-D", "0-D"],
)
def test_wrong_shapes(w, g, v, pattern):
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9)


def test_non_contiguous_param_is_an_error_not_a_silent_copy():
    base = np.ones(8)
    with pytest.raises(ValueError, match=re.escape("sgd_update: param must be C-contiguous")):
        ops.sgd_update(base[::2], np.ones(4), None, lr=0.1)
    assert (base == 1).all()
    square = np.ones((3, 3))
    with pytest.raises(ValueError, match=re.escape("sgd_update: param must be C-contiguous")):
        ops.sgd_update(np.asfortranarray(np.ones((3, 2))), np.ones((3, 2)), None, lr=0.1)
    with pytest.raises(ValueError, match=re.escape("sgd_update: param must be C-contiguous")):
        ops.sgd_update(square[:, :2], np.ones((3, 2)), None, lr=0.1)
    assert (square == 1).all()
    with pytest.raises(ValueError, match=re.escape("sgd_update: grad must be C-contiguous")):
        ops.sgd_update(np.ones(4), np.ones(8)[::2], None, lr=0.1)
    vel = np.zeros(8)
    with pytest.raises(ValueError, match=re.escape("sgd_update: velocity must be C-contiguous")):
        ops.sgd_update(np.ones(4), np.ones(4), vel[::2], lr=0.1, momentum=0.9)
    assert (vel == 0).all()


def test_read_only_param_or_velocity():
    w, g, v = state()
    w.flags.writeable = False
    with pytest.raises(ValueError, match=re.escape("sgd_update: param must be writable (got a read-only array)")):
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9)
    w, g, v = state()
    v.flags.writeable = False
    with pytest.raises(ValueError, match=re.escape("sgd_update: velocity must be writable (got a read-only array)")):
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9)
    assert (w == 1).all()


def test_aliasing_is_an_error():
    w, g, v = state()
    with pytest.raises(ValueError, match="sgd_update: grad must not share memory with param"):
        ops.sgd_update(w, w, v, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=re.escape("sgd_update: velocity must not share memory with param or grad")):
        ops.sgd_update(w, g, w, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=re.escape("sgd_update: velocity must not share memory with param or grad")):
        ops.sgd_update(w, g, g, lr=0.1, momentum=0.9)
    buf = np.ones(6)
    with pytest.raises(ValueError, match="sgd_update: grad must not share memory with param"):
        ops.sgd_update(buf[:4], buf[2:], None, lr=0.1)
    assert (w == 1).all() and (g == 1).all() and (v == 0).all() and (buf == 1).all()


def test_hyperparameters_accept_numpy_and_int_scalars():
    for lr, momentum in itertools.product([np.float32(0.5), np.float64(0.5), 1, np.int64(1)], [0, np.float32(0.5)]):
        w, g, v = state()
        ops.sgd_update(w, g, v, lr=lr, momentum=momentum)
        np.testing.assert_allclose(w, 1 - float(lr))


def test_a_misaligned_buffer_is_an_error_naming_it():
    raw = bytearray(4 * 8 + 8)
    misaligned = np.frombuffer(raw, np.float64, count=4, offset=1)
    misaligned[...] = 1.0
    with pytest.raises(ValueError, match=r"sgd_update: param must be aligned to its element size"):
        ops.sgd_update(misaligned, np.ones(4), None, lr=0.1)
    with pytest.raises(ValueError, match=r"sgd_update: grad must be aligned to its element size"):
        ops.sgd_update(np.ones(4), misaligned, None, lr=0.1)
    assert (misaligned == 1).all()
