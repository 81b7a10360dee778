"""Adam: mlpcore.ops.adam_update (the fused step) against a float64 numpy implementation of its
formula, torch.optim.Adam and every SIMD path, with bad input; mlpcore.Adam in fit against a
PyTorch training loop and a numpy reference loop (L1, max-norm, 1/t decay); and the EpochRunner
options decay_per_row and loss_scale.

The step (``torch.optim.Adam``, amsgrad off, L2 weight decay added to the gradient, plus L1),
for step t = 1, 2, ... counted over a whole run::

    g' = g + weight_decay * w + l1 * sign(w)              (sign(0) = 0; biases in fit: g' = g)
    m  = beta1 * m + (1 - beta1) * g'
    v  = beta2 * v + (1 - beta2) * g'^2
    w  = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
"""

from __future__ import annotations

import math
import re

import mlpcore
import numpy as np
import pytest
from _helpers import FLOAT_DTYPES, assert_bitwise_equal, assert_same_weights, assert_weights_close, num_threads, simd_level
from hypothesis import given, settings
from hypothesis import strategies as st
from mlpcore import ops
from mlpcore._epochs import EpochDiverged, EpochRunner

SEED = 4242
LEVELS = tuple(mlpcore.supported_simd_levels())

# Sizes around the vector widths (8 floats / 4 doubles per AVX2 register, 16 / 8 per AVX-512),
# so every level runs its vector body, its tail, or only the tail.
SHAPES = [(1,), (7,), (8,), (9,), (15,), (16,), (17,), (33,), (3, 5), (17, 33), (64, 3)]


# --------------------------------------------------------------------------- #
# The formula and its rounding error
# --------------------------------------------------------------------------- #


def adam_reference(w, g, m, v, *, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, l1=0.0):
    """The documented step in float64: returns (new w, new m, new v)."""
    w, g, m, v = (np.asarray(x, np.float64) for x in (w, g, m, v))
    d = g + weight_decay * w + l1 * np.sign(w)  # np.sign(0) == 0
    m = beta1 * m + (1 - beta1) * d
    v = beta2 * v + (1 - beta2) * d * d
    denom = np.sqrt(v) / math.sqrt(1 - beta2**step) + eps
    return w - lr / (1 - beta1**step) * m / denom, m, v


def adam_error_bounds(w, g, m, v, dtype, *, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                      l1=0.0):
    """Per-element bounds on |kernel - adam_reference| for (w, m, v) after one step from (w, g, m, v).

    Running error analysis in the working precision (unit roundoff u), with the hyper-parameters
    rounded to it: ``g'`` is off by a few u times ``|g| + weight_decay |w| + l1`` (its terms, as
    they can cancel), ``m`` by a few u times ``|m| + |g'|``. ``1 - beta`` is formed from the
    rounded beta, so it is off by ``u * beta`` in absolute terms: in float32 with
    beta2 = 0.999 that is 1.3e-5 of ``1 - beta2`` (torch rounds ``1 - beta2`` from double and
    is 1000x closer), which moves ``v`` by up to ``u * g'^2``, a relative 1000 u when ``g'^2``
    dominates ``v``. The denominator then lies in [lo, hi] (``v`` within its bound, a few u for
    the square root, divisions and eps) and the update ``step_size * m / denom`` by at most
    ``step_size * (dm / lo + |m| (1 / lo - 1 / hi))``; the final subtraction adds u (|w| + |update|).
    Where the gradient cancels to rounding noise the bound grows, as the true error does: Adam
    normalises the noise to a step of size ~lr. A factor 2 of safety on top.
    """
    u = float(np.finfo(dtype).eps) / 2
    w, g, m, v = (np.asarray(x, np.float64) for x in (w, g, m, v))
    new_w, new_m, new_v = adam_reference(w, g, m, v, step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                         weight_decay=weight_decay, l1=l1)
    d_abs = np.abs(g) + weight_decay * np.abs(w) + l1
    dm = 8 * u * (np.abs(m) + d_abs)
    dv = 6 * u * beta2 * v + (u * beta2 + 14 * u * (1 - beta2)) * d_abs**2
    b2s = math.sqrt(1 - beta2**step)
    lo = (np.sqrt(np.maximum(new_v - dv, 0.0)) / b2s + eps) * (1 - 6 * u)
    hi = (np.sqrt(new_v + dv) / b2s + eps) * (1 + 6 * u)
    step_size = lr / (1 - beta1**step)
    update = np.abs(new_w - w)
    dw = step_size * (1 + 4 * u) * (dm / lo + np.abs(new_m) * (1 / lo - 1 / hi)) + 4 * u * (np.abs(w) + update)
    return 2 * dw + 1e-300, 2 * dm + 1e-300, 2 * dv + 1e-300


def check_step(before, after, dtype, what="", **hyper):
    """after = (w, m, v) of the kernel is within the bounds of one step from before = (w, g, m, v)."""
    want = adam_reference(*before, **hyper)
    bounds = adam_error_bounds(*before, dtype, **hyper)
    for name, got, ref, bound in zip("wmv", after, want, bounds):
        err = np.abs(got.astype(np.float64) - ref)
        assert np.all(err <= bound), (
            f"{what} {name}: {int(np.sum(err > bound))} of {err.size} out of bounds, "
            f"worst error / bound {np.max(err / bound):.3g}"
        )


def random_state(rng, shape, dtype, scale=1.0):
    """w, g, m (any sign) and v (>= 0, as it always is) of a run in progress."""
    w = (rng.standard_normal(shape) * scale).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    m = (0.3 * rng.standard_normal(shape)).astype(dtype)
    v = (0.5 * rng.standard_normal(shape) ** 2).astype(dtype)
    return w, g, m, v


HYPER = [
    {"lr": 1e-3},
    {"lr": 0.1, "weight_decay": 0.05},
    {"lr": 0.05, "l1": 0.02},
    {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6, "weight_decay": 1e-3, "l1": 1e-3},
    {"lr": 0.3, "beta1": 0.0, "beta2": 0.0, "eps": 0.1},
    {"lr": 0.02, "beta1": 0.99, "beta2": 0.9999, "eps": 1e-12, "weight_decay": 0.5, "l1": 0.1},
]


def hyper_id(h):
    return ",".join(f"{k}={v}" for k, v in h.items())


def full_hyper(h):
    return {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "l1": 0.0, **h}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("hyper", HYPER, ids=hyper_id)
def test_steps_in_a_row_match_the_formula(hyper, shape, dtype):
    """Six steps from zero moments, each checked against the formula applied to the kernel's own
    state before it (so the bound is that of one step), weights with exact zeros for sign(0)."""
    hyper = full_hyper(hyper)
    rng = np.random.default_rng(SEED)
    w = rng.standard_normal(shape).astype(dtype)
    w.reshape(-1)[::3] = 0.0
    m, v = np.zeros(shape, dtype), np.zeros(shape, dtype)
    for step in range(1, 7):
        g = rng.standard_normal(shape).astype(dtype)
        g_before = g.copy()
        before = (w.copy(), g, m.copy(), v.copy())
        assert ops.adam_update(w, g, m, v, step=step, **hyper) is None
        assert w.dtype == m.dtype == v.dtype == dtype and w.shape == m.shape == v.shape == shape
        check_step(before, (w, m, v), dtype, f"step {step}", step=step, **hyper)
        assert_bitwise_equal(g, g_before, "grad is read only")


@pytest.mark.parametrize("hyper", HYPER, ids=hyper_id)
def test_float64_run_follows_the_float64_formula(hyper):
    """Ten steps in float64 from zero moments against the reference run on its own: the two
    trajectories stay within ~1e-13 of the weights' size (each step rounds at 1e-16)."""
    hyper = full_hyper(hyper)
    rng = np.random.default_rng(SEED)
    shape = (13, 29)
    w = rng.standard_normal(shape)
    m, v = np.zeros(shape), np.zeros(shape)
    ref = (w.copy(), m.copy(), v.copy())
    for step in range(1, 11):
        g = rng.standard_normal(shape)
        ops.adam_update(w, g, m, v, step=step, **hyper)
        ref = adam_reference(ref[0], g, ref[1], ref[2], step=step, **hyper)
    np.testing.assert_allclose(w, ref[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m, ref[1], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(v, ref[2], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_large_array(dtype):
    """~300k elements: split over threads, every chunk and the odd tail updated."""
    hyper = full_hyper({"lr": 0.01, "weight_decay": 1e-3, "l1": 1e-4})
    rng = np.random.default_rng(SEED)
    w, g, m, v = random_state(rng, (301, 1001), dtype)
    before = (w.copy(), g, m.copy(), v.copy())
    ops.adam_update(w, g, m, v, step=5, **hyper)
    check_step(before, (w, m, v), dtype, "large", step=5, **hyper)


@settings(max_examples=80, deadline=None)
@given(
    dtype=st.sampled_from(FLOAT_DTYPES),
    shape=st.one_of(st.tuples(st.integers(0, 300)), st.tuples(st.integers(0, 20), st.integers(0, 20))),
    lr=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
    beta1=st.one_of(st.just(0.0), st.floats(0.0, 0.999)),
    beta2=st.one_of(st.just(0.0), st.floats(0.0, 0.9999)),
    eps=st.floats(1e-10, 1.0),
    weight_decay=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    l1=st.one_of(st.just(0.0), st.floats(0.0, 1.0)),
    step=st.one_of(st.integers(1, 20), st.integers(1, 10**12)),
    zeros=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_hyperparameters(dtype, shape, lr, beta1, beta2, eps, weight_decay, l1, step, zeros, seed):
    hyper = {"step": step, "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay,
             "l1": l1}
    rng = np.random.default_rng(seed)
    w, g, m, v = random_state(rng, shape, dtype, scale=3.0)
    if zeros:
        w[rng.random(shape) < 0.3] = 0.0
    before = (w.copy(), g.copy(), m.copy(), v.copy())
    ops.adam_update(w, g, m, v, **hyper)
    check_step(before, (w, m, v), dtype, "random", **hyper)
    assert_bitwise_equal(g, before[1], "grad")


# --------------------------------------------------------------------------- #
# Exact properties
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_first_step_moves_every_weight_by_lr(dtype):
    """From zero moments the first step is lr * g / (|g| + eps * sqrt(1 - beta2)): a step of
    exactly lr against the gradient's sign, whatever the gradient's size (scale invariance)."""
    rng = np.random.default_rng(SEED)
    w0 = rng.standard_normal(100).astype(dtype)
    g = (rng.standard_normal(100) * 10.0 ** rng.integers(-3, 4, 100)).astype(dtype)
    for scale in (1.0, 1e-3, 1e3):
        w, m, v = w0.copy(), np.zeros(100, dtype), np.zeros(100, dtype)
        ops.adam_update(w, (g * dtype(scale)).astype(dtype), m, v, step=1, lr=0.01, eps=1e-30)
        np.testing.assert_allclose(w0.astype(np.float64) - w, 0.01 * np.sign(g), rtol=1e-4 if dtype == np.float32
                                   else 1e-12, err_msg=f"gradient scale {scale}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_l1_sign_of_zero_is_zero(dtype):
    """A zero weight with a zero gradient feels no L1 pull (sign(0) = 0, also for -0.0): its
    moments stay 0 and it does not move; the others step by lr towards 0."""
    w = np.array([0.0, -0.0, 2.0, -2.0, 0.5], dtype)
    g = np.zeros_like(w)
    m, v = np.zeros_like(w), np.zeros_like(w)
    ops.adam_update(w, g, m, v, step=1, lr=0.25, l1=1.0, eps=1e-20)
    np.testing.assert_allclose(m, [0.0, 0.0, 0.1, -0.1, 0.1], rtol=1e-6)
    np.testing.assert_array_equal(m[:2], 0.0)
    np.testing.assert_array_equal(v[:2], 0.0)
    assert w[0] == 0.0 and w[1] == 0.0
    # float32: 1 - beta2 formed from float32(0.999) is 1.3e-5 small, so the step is 6.4e-6 long
    np.testing.assert_allclose(w[2:], [1.75, -1.75, 0.25], rtol=2e-5 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("hyper", HYPER, ids=hyper_id)
def test_zero_learning_rate_keeps_weights_but_updates_moments(hyper, dtype):
    hyper = full_hyper({**hyper, "lr": 0.0})
    rng = np.random.default_rng(SEED)
    w, g, m, v = random_state(rng, (40, 9), dtype)
    before = (w.copy(), g, m.copy(), v.copy())
    ops.adam_update(w, g, m, v, step=3, **hyper)
    np.testing.assert_array_equal(w, before[0])
    check_step(before, (w, m, v), dtype, "lr=0", step=3, **hyper)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_two_d_equals_flat(dtype):
    rng = np.random.default_rng(SEED)
    w, g, m, v = random_state(rng, (23, 19), dtype)
    flat = [x.reshape(-1).copy() for x in (w, g, m, v)]
    ops.adam_update(w, g, m, v, step=7, lr=0.01, weight_decay=0.1, l1=0.01)
    ops.adam_update(*flat, step=7, lr=0.01, weight_decay=0.1, l1=0.01)
    for name, a, b in zip("wmv", (w, m, v), (flat[0], flat[2], flat[3])):
        assert_bitwise_equal(a.reshape(-1), b, name)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_updates_only_the_given_window(dtype):
    """param, m and v as windows on bigger buffers (odd offsets): nothing around them is touched."""
    rng = np.random.default_rng(SEED)
    n = 1000 + 5
    bufs = [np.full(n + 40, 9.0, dtype) for _ in range(3)]
    w, m, v = (b[19:19 + n] for b in bufs)
    w[:] = rng.standard_normal(n)
    m[:] = 0
    v[:] = 0
    ops.adam_update(w, rng.standard_normal(n).astype(dtype), m, v, step=1, lr=0.1)
    for buf in bufs:
        assert (buf[:19] == 9.0).all() and (buf[19 + n:] == 9.0).all()
    assert np.all(m != 0) and np.all(v > 0)


def test_read_only_grad_and_numpy_scalars_are_fine():
    g = np.ones(5)
    g.flags.writeable = False
    results = []
    for lr, step, beta1 in ((0.5, 1, 0.9), (np.float32(0.5), np.int64(1), np.float64(0.9)),
                            (np.float64(0.5), np.int32(1), np.float64(0.9))):
        w, m, v = np.zeros(5), np.zeros(5), np.zeros(5)
        ops.adam_update(w, g, m, v, step=step, lr=lr, beta1=beta1, eps=np.float64(1e-8))
        results.append(w)
    np.testing.assert_allclose(results[0], -0.5, rtol=1e-7)
    for w in results[1:]:
        assert_bitwise_equal(w, results[0], "numpy scalars")


def test_bias_correction_uses_the_step_number():
    """The same state stepped as step 1 and as step 1000 differs exactly by the bias
    corrections (1 - beta1^t and sqrt(1 - beta2^t)), computed in double."""
    g = np.array([0.5, -2.0, 1e-3])
    out = {}
    for step in (1, 1000, 2**62):
        w, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
        ops.adam_update(w, g, m, v, step=step, lr=0.1, eps=1e-30)
        out[step] = w
        np.testing.assert_allclose(w, -0.1 / (1 - 0.9**step) * 0.1 * g / (np.sqrt(0.001) * np.abs(g)
                                                                           / math.sqrt(1 - 0.999**step)),
                                   rtol=1e-14)
    assert not np.allclose(out[1], out[1000])
    np.testing.assert_allclose(out[2**62], -0.1 * 0.1 / math.sqrt(0.001) * np.sign(g), rtol=1e-14)


# --------------------------------------------------------------------------- #
# SIMD levels and threads
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_every_simd_level_every_length(dtype):
    """Every level, every length 0..70 (vector body, tail, both): within the rounding bound of
    the formula, of each other (levels may differ in FMA use, so not bitwise), and the same
    bits when run again."""
    hyper = full_hyper({"lr": 0.05, "weight_decay": 0.01, "l1": 0.01})
    rng = np.random.default_rng(SEED)
    for n in range(71):
        before = random_state(rng, (n,), dtype)
        before[0][::4] = 0.0
        results = {}
        for level in LEVELS:
            with simd_level(level):
                runs = []
                for _ in range(2):
                    w, g, m, v = (x.copy() for x in before)
                    ops.adam_update(w, g, m, v, step=4, **hyper)
                    runs.append((w, m, v))
            for a, b, name in zip(runs[0], runs[1], "wmv"):
                assert_bitwise_equal(a, b, f"{level}, n={n}, {name} run twice")
            check_step(before, runs[0], dtype, f"{level}, n={n}", step=4, **hyper)
            results[level] = runs[0]
        # each is within one error budget of the formula; the levels are within one of each other
        bounds = adam_error_bounds(*before, dtype, step=4, **hyper)
        for level in LEVELS[1:]:
            for a, b, bound, name in zip(results[level], results[LEVELS[0]], bounds, "wmv"):
                assert np.all(np.abs(a.astype(np.float64) - b) <= bound), f"{level} vs {LEVELS[0]}, n={n}, {name}"


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_thread_count_invariance_on_every_simd_level(level, dtype):
    """A large step split over 1, 2 or 3 threads gives the same bits (elementwise, and the
    vector body and tail of a level round alike, wherever a chunk boundary falls)."""
    rng = np.random.default_rng(SEED)
    before = random_state(rng, (601, 1001), dtype)
    results = []
    with simd_level(level):
        for threads in (1, 2, 3):
            with num_threads(threads):
                w, g, m, v = (x.copy() for x in before)
                ops.adam_update(w, g, m, v, step=9, lr=0.01, weight_decay=1e-3, l1=1e-4)
                results.append((w, m, v))
    for threads, result in zip((2, 3), results[1:]):
        for a, b, name in zip(result, results[0], "wmv"):
            assert_bitwise_equal(a, b, f"{name}, {threads} threads vs 1")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_any_split_into_windows_gives_the_same_bits(level, dtype):
    """Training steps each thread's range of the weights as soon as its gradient is done, and
    those ranges start anywhere (a layer row of 100 weights, say): stepping windows that start
    and end at arbitrary offsets gives the bits of one step over the whole array."""
    rng = np.random.default_rng(SEED)
    n = 5003
    before = random_state(rng, (n,), dtype)
    before[0][::7] = 0.0
    cuts = [0, *sorted(rng.choice(np.arange(1, n), size=40, replace=False)), n]
    hyper = {"step": 5, "lr": 0.01, "weight_decay": 1e-3, "l1": 1e-4}
    with simd_level(level):
        whole = [x.copy() for x in before]
        ops.adam_update(*whole, **hyper)
        split = [x.copy() for x in before]
        for a, b in zip(cuts[:-1], cuts[1:]):
            ops.adam_update(*(x[a:b] for x in split), **hyper)
    for a, b, name in zip(split, whole, "wgmv"):
        assert_bitwise_equal(a, b, f"{name}, split at {cuts[1:-1]}")


# --------------------------------------------------------------------------- #
# torch.optim.Adam
# --------------------------------------------------------------------------- #

TORCH_CASES = [
    {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
    {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.05},
    {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.0},
    {"lr": 0.01, "betas": (0.0, 0.99), "eps": 1e-3, "weight_decay": 0.3},
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(37,), (9, 14)], ids=str)
@pytest.mark.parametrize("case", TORCH_CASES, ids=hyper_id)
def test_matches_torch_optim_adam(case, shape, dtype):
    """Ten steps on the same gradients as torch.optim.Adam (single-tensor path).

    float64 agrees to ~1e-14 of lr per step (measured <= 1e-14; the two differ only in where
    they round: torch divides m by the denominator before scaling by the step size).
    float32 to a few ulps of |w| plus ~1e-5 of lr per step (measured up to 1e-5): the
    kernel forms 1 - beta2 from float32(beta2), 1.3e-5 short at beta2 = 0.999, where torch
    rounds it from double, so its steps are ~6e-6 longer and v ~1.3e-5 smaller.
    """
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(SEED)
    w = rng.standard_normal(shape).astype(dtype)
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.Adam([param], foreach=False, **case)
    m, v = np.zeros_like(w), np.zeros_like(w)
    f32 = dtype == np.float32
    beta1, beta2 = case["betas"]
    for step in range(1, 11):
        g = rng.standard_normal(shape).astype(dtype)
        param.grad = torch.from_numpy(g.copy())
        opt.step()
        ops.adam_update(w, g, m, v, step=step, lr=case["lr"], beta1=beta1, beta2=beta2, eps=case["eps"],
                        weight_decay=case["weight_decay"])
        state = opt.state[param]
        np.testing.assert_allclose(w, param.detach().numpy(), rtol=2e-6 if f32 else 1e-12,
                                   atol=(3e-5 if f32 else 1e-12) * case["lr"] * step,
                                   err_msg=f"param, step {step}")
        # m follows w through the weight decay term
        np.testing.assert_allclose(m, state["exp_avg"].numpy(), rtol=1e-5 if f32 else 1e-12,
                                   atol=1e-7 if f32 else 1e-15, err_msg=f"m, step {step}")
        np.testing.assert_allclose(v, state["exp_avg_sq"].numpy(), rtol=3e-5 if f32 else 1e-12,
                                   atol=0, err_msg=f"v, step {step}")


# --------------------------------------------------------------------------- #
# Bad input to ops.adam_update
# --------------------------------------------------------------------------- #


def state(shape=(4,), dtype=np.float64):
    return np.ones(shape, dtype), np.ones(shape, dtype), np.zeros(shape, dtype), np.zeros(shape, dtype)


def assert_untouched(w, m, v):
    assert (w == 1).all() and (m == 0).all() and (v == 0).all()


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"lr": np.nan}, "adam_update: lr must be a finite number >= 0 (got nan)"),
        ({"lr": -0.1}, "adam_update: lr must be a finite number >= 0 (got -0.1)"),
        ({"lr": np.inf}, "adam_update: lr must be a finite number >= 0 (got inf)"),
        ({"beta1": 1.0}, "adam_update: beta1 must be in [0, 1) (got 1.0)"),
        ({"beta1": -0.1}, "adam_update: beta1 must be in [0, 1) (got -0.1)"),
        ({"beta1": np.nan}, "adam_update: beta1 must be in [0, 1) (got nan)"),
        ({"beta2": 1.0}, "adam_update: beta2 must be in [0, 1) (got 1.0)"),
        ({"beta2": -1e-3}, "adam_update: beta2 must be in [0, 1) (got -0.001)"),
        ({"beta2": np.inf}, "adam_update: beta2 must be in [0, 1) (got inf)"),
        ({"eps": 0.0}, "adam_update: eps must be a finite number > 0 (got 0.0)"),
        ({"eps": -1e-8}, "adam_update: eps must be a finite number > 0 (got -1e-08)"),
        ({"eps": np.nan}, "adam_update: eps must be a finite number > 0 (got nan)"),
        ({"eps": np.inf}, "adam_update: eps must be a finite number > 0 (got inf)"),
        ({"weight_decay": -1e-3}, "adam_update: weight_decay must be a finite number >= 0 (got -0.001)"),
        ({"weight_decay": np.nan}, "adam_update: weight_decay must be a finite number >= 0 (got nan)"),
        ({"l1": -1.0}, "adam_update: l1 must be a finite number >= 0 (got -1.0)"),
        ({"l1": np.inf}, "adam_update: l1 must be a finite number >= 0 (got inf)"),
        ({"step": 0}, "adam_update: step must be in [1, 2**63), the 1-based number of this step (got 0)"),
        ({"step": -3}, "adam_update: step must be in [1, 2**63), the 1-based number of this step (got -3)"),
        ({"step": 2**63}, "adam_update: step must be in [1, 2**63), the 1-based number of this step (got 9223372036854775808)"),
    ],
    ids=lambda x: str(x) if isinstance(x, dict) else "",
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_bad_values(kwargs, pattern, dtype):
    w, g, m, v = state(dtype=dtype)
    kwargs = {"step": 1, **kwargs}
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.adam_update(w, g, m, v, **kwargs)
    assert_untouched(w, m, v)


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"step": 1.0}, "adam_update: step must be an integer (got float)"),
        ({"step": True}, "adam_update: step must be an integer (got bool)"),
        ({"step": "1"}, "adam_update: step must be an integer (got str)"),
        ({"step": None}, "adam_update: step must be an integer (got NoneType)"),
        ({"step": 1, "lr": "0.1"}, "adam_update: lr must be a real number (got str)"),
        ({"step": 1, "beta1": None}, "adam_update: beta1 must be a real number (got NoneType)"),
        ({"step": 1, "beta2": True}, "adam_update: beta2 must be a real number (got bool)"),
        ({"step": 1, "eps": [1e-8]}, "adam_update: eps must be a real number (got list)"),
        ({"step": 1, "weight_decay": 1j}, "adam_update: weight_decay must be a real number (got complex)"),
        ({"step": 1, "l1": np.array([0.1])}, "adam_update: l1 must be a real number (got ndarray)"),
    ],
    ids=lambda x: str(x) if isinstance(x, dict) else "",
)
def test_non_numbers_are_type_errors(kwargs, pattern):
    w, g, m, v = state()
    with pytest.raises(TypeError, match=re.escape(pattern)):
        ops.adam_update(w, g, m, v, **kwargs)
    assert_untouched(w, m, v)


def test_step_is_required_and_keyword_only():
    w, g, m, v = state()
    with pytest.raises(TypeError, match="step"):
        ops.adam_update(w, g, m, v)
    with pytest.raises(TypeError, match="positional"):
        ops.adam_update(w, g, m, v, 1)
    assert_untouched(w, m, v)


@pytest.mark.parametrize(
    "kwargs,fine_in_float64",
    [({"lr": 1e300}, True), ({"eps": 1e-50}, True), ({"beta1": 1 - 1e-10}, True), ({"beta2": 1 - 1e-12}, True),
     ({"weight_decay": 1e300}, False), ({"l1": 1e300}, False)],
    ids=lambda k: str(k) if isinstance(k, dict) else "",
)
def test_hyperparameters_that_do_not_survive_float32(kwargs, fine_in_float64):
    """Valid doubles that become inf, 0 or 1 in a float32 step: an error, not a silent inf step."""
    w, g, m, v = state(dtype=np.float32)
    with pytest.raises(ValueError, match=re.escape(
            "adam_update: hyper-parameters must stay finite, betas below 1 and eps above 0 in float32")):
        ops.adam_update(w, g, m, v, step=1, **kwargs)
    assert_untouched(w, m, v)
    if fine_in_float64:
        w, g, m, v = state(dtype=np.float64)
        ops.adam_update(w, g, m, v, step=1, **kwargs)
        assert np.isfinite(w).all() and np.isfinite(v).all() and (w != 1).all()


def test_step_size_overflowing_is_an_error():
    """lr / (1 - beta1^t) beyond the largest double (or float): rejected, nothing written."""
    for dtype, lr in ((np.float64, 1e305), (np.float32, 3e38)):
        w, g, m, v = state(dtype=dtype)
        with pytest.raises(ValueError, match=re.escape("adam_update: lr / (1 - beta1^step) overflows")):
            ops.adam_update(w, g, m, v, step=1, lr=lr, beta1=0.99999)
        assert_untouched(w, m, v)


@pytest.mark.parametrize(
    "arrays,pattern",
    [
        (([1.0, 2.0], np.ones(2), np.zeros(2), np.zeros(2)),
         "adam_update: param must be a numpy array (got list)"),
        ((np.ones(2), (1.0, 2.0), np.zeros(2), np.zeros(2)),
         "adam_update: grad must be a numpy array (got tuple)"),
        ((np.ones(2), np.ones(2), [0.0, 0.0], np.zeros(2)), "adam_update: m must be a numpy array (got list)"),
        ((np.ones(2), np.ones(2), np.zeros(2), 0.0), "adam_update: v must be a numpy array (got float)"),
        ((np.ones(4, np.int64), np.ones(4), np.zeros(4), np.zeros(4)),
         "adam_update: param must be a float32 or float64 array (got dtype int64)"),
        ((np.ones(4), np.ones(4, np.int32), np.zeros(4), np.zeros(4)),
         "adam_update: grad must be a float32 or float64 array (got dtype int32)"),
        ((np.ones(4), np.ones(4), np.zeros(4), np.zeros(4, np.float16)),
         "adam_update: v must be a float32 or float64 array (got dtype float16)"),
        ((np.ones(4), np.ones(4), np.zeros(4, bool), np.zeros(4)),
         "adam_update: m must be a float32 or float64 array (got dtype bool)"),
        ((np.ones(4, np.float32), np.ones(4), np.zeros(4, np.float32), np.zeros(4, np.float32)),
         "adam_update: grad must have the dtype of param (float32), got float64"),
        ((np.ones(4, np.float32), np.ones(4, np.float32), np.zeros(4), np.zeros(4, np.float32)),
         "adam_update: m must have the dtype of param (float32), got float64"),
        ((np.ones(4), np.ones(4), np.zeros(4), np.zeros(4, np.float32)),
         "adam_update: v must have the dtype of param (float64), got float32"),
    ],
    ids=["list-param", "tuple-grad", "list-m", "float-v", "int-param", "int-grad", "f16-v", "bool-m",
         "mixed-grad", "mixed-m", "mixed-v"],
)
def test_wrong_types(arrays, pattern):
    with pytest.raises(TypeError, match=re.escape(pattern)):
        ops.adam_update(*arrays, step=1)
    if isinstance(arrays[0], np.ndarray):
        assert (arrays[0] == 1).all()


@pytest.mark.parametrize(
    "arrays,pattern",
    [
        ((np.ones(4), np.ones(3), np.zeros(4), np.zeros(4)),
         "adam_update: grad.shape (3,) must equal param.shape (4,)"),
        ((np.ones(4), np.ones(4), np.zeros((2, 2)), np.zeros(4)),
         "adam_update: m.shape (2, 2) must equal param.shape (4,)"),
        ((np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3)), np.zeros((3, 2))),
         "adam_update: v.shape (3, 2) must equal param.shape (2, 3)"),
        ((np.ones((2, 2, 2)), np.ones((2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2, 2))),
         "adam_update: param must be a 1-D or 2-D array (got 3-D)"),
        ((np.array(1.0), np.array(1.0), np.array(0.0), np.array(0.0)),
         "adam_update: param must be a 1-D or 2-D array (got 0-D)"),
    ],
    ids=["grad", "m-2d", "v-transposed", "3-D", "0-D"],
)
def test_wrong_shapes(arrays, pattern):
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.adam_update(*arrays, step=1)
    assert (arrays[0] == 1).all()


@pytest.mark.parametrize("which", ["param", "grad", "m", "v"])
def test_non_contiguous_is_an_error_not_a_silent_copy(which):
    for layout in ("strided", "fortran"):
        w, g, m, v = state((3, 4))
        arrays = {"param": w, "grad": g, "m": m, "v": v}
        base = arrays[which]
        arrays[which] = np.repeat(base, 2, axis=1)[:, ::2] if layout == "strided" else np.asfortranarray(base)
        assert not arrays[which].flags.c_contiguous
        with pytest.raises(ValueError, match=re.escape(f"adam_update: {which} must be C-contiguous")):
            ops.adam_update(*arrays.values(), step=1)
        for name, a in arrays.items():
            assert (a == (1 if name in ("param", "grad") else 0)).all(), name


@pytest.mark.parametrize("which", ["param", "m", "v"])
def test_read_only_state_is_an_error(which):
    w, g, m, v = state()
    {"param": w, "m": m, "v": v}[which].flags.writeable = False
    pattern = f"adam_update: {which} must be writable (got a read-only array)"
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.adam_update(w, g, m, v, step=1)
    assert_untouched(w, m, v)


def test_aliasing_is_an_error():
    """Any two of param, grad, m and v sharing memory (the same array, or overlapping views)."""
    pattern = re.escape("adam_update: param, grad, m and v must not share memory")
    for i, j in [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]:
        arrays = list(state())
        arrays[j] = arrays[i]
        with pytest.raises(ValueError, match=pattern):
            ops.adam_update(*arrays, step=1)
        assert (arrays[0] == 1).all() and (arrays[1] == 1).all()
    buf = np.zeros(8)
    w, g, _, _ = state()
    with pytest.raises(ValueError, match=pattern):
        ops.adam_update(w, g, buf[:4], buf[2:6], step=1)  # m and v overlap by two elements
    big = np.ones(6)
    with pytest.raises(ValueError, match=pattern):
        ops.adam_update(big[:4], big[2:], np.zeros(4), np.zeros(4), step=1)
    assert (buf == 0).all() and (big == 1).all() and (w == 1).all()


# --------------------------------------------------------------------------- #
# fit with Adam: references
# --------------------------------------------------------------------------- #


def twin(model: mlpcore.MLP) -> mlpcore.MLP:
    """A float64 model with the same architecture and weights (its gradients feed the references)."""
    other = mlpcore.MLP(list(model.layer_sizes), activation=model.activation if model.activation else "relu",
                        output=model.output, loss=model.loss, dtype="float64", seed=0)
    other.set_weights(model.get_weights())
    return other


def reference_run(model, X, y, optimizer, *, epochs, batch_size, decay_per_row=False, loss_scale=1.0, steps=0,
                  state=None):
    """float64 minibatch training in row order with the documented SGD or Adam step on
    ``loss_scale`` times the model's loss; weight decay divided by each batch's rows with
    ``decay_per_row``. Returns (weights, per-epoch losses (row-weighted batch means of the
    scaled loss), final state) and continues from ``state`` / ``steps`` when given."""
    oracle = twin(model)
    weights = [(W.astype(np.float64), b.astype(np.float64)) for W, b in model.get_weights()]
    zeros = [np.zeros_like(p) for pair in weights for p in pair]
    first, second = state if state is not None else ([z.copy() for z in zeros], [z.copy() for z in zeros])
    adam = isinstance(optimizer, mlpcore.Adam)
    n = len(X)
    bs = n if batch_size is None else min(batch_size, n)
    losses = []
    for epoch in range(epochs):
        lr = optimizer.lr_at(epoch)
        total = 0.0
        for start in range(0, n, bs):
            Xb, yb = X[start:start + bs], y[start:start + bs]
            oracle.set_weights(weights)
            loss, grads = oracle.loss_and_grads(Xb, yb)
            total += loss_scale * loss * len(Xb)
            steps += 1
            wd = optimizer.weight_decay / len(Xb) if decay_per_row else optimizer.weight_decay
            flat_p = [p for pair in weights for p in pair]
            flat_g = [loss_scale * gr.astype(np.float64) for pair in grads for gr in pair]
            new = []
            for k, (p, g) in enumerate(zip(flat_p, flat_g)):
                if k % 2 == 0:  # a weight matrix; biases get no decay or L1
                    g = g + wd * p + optimizer.l1 * np.sign(p)
                if adam:
                    p, first[k], second[k] = adam_reference(p, g, first[k], second[k], step=steps, lr=lr,
                                                            beta1=optimizer.beta1, beta2=optimizer.beta2,
                                                            eps=optimizer.eps)
                else:
                    mu = optimizer.momentum
                    first[k] = mu * first[k] + g
                    p = p - lr * (g + mu * first[k] if optimizer.nesterov else first[k])
                new.append(p)
            weights = []
            for W, b in zip(new[::2], new[1::2]):
                if optimizer.max_norm is not None:
                    norms = np.sqrt(np.sum(W**2, axis=0))
                    cap = optimizer.max_norm
                    W = W * np.where(norms > cap, cap / np.where(norms > 0, norms, 1), 1)
                weights.append((W, b))
        losses.append(total / n)
    return weights, losses, (first, second)


TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "identity": "Identity",
                     "softplus": "Softplus"}


def torch_run(model, X, y, optimizer, *, epochs, batch_size, loss_scale=1.0, fresh_optimizer_each_epoch=False):
    """The same training in PyTorch: nn.Linear layers holding the model's initial weights,
    torch.optim.Adam or SGD with two parameter groups (weight decay on the weights only),
    batches in row order, ``loss_scale * loss`` backpropagated, L1 added to the weight
    gradients by hand. Returns (weights, per-epoch row-weighted mean batch losses)."""
    torch = pytest.importorskip("torch")
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    layers = []
    for W, b in model.get_weights():
        lin = torch.nn.Linear(*W.shape, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        layers.append(lin)
    modules = []
    for lin, act in zip(layers, model.activation):
        modules += [lin, getattr(torch.nn, TORCH_ACTIVATIONS[act])()]
    net = torch.nn.Sequential(*modules, layers[-1])
    weights, biases = [lin.weight for lin in layers], [lin.bias for lin in layers]

    def make_optimizer():
        groups = [{"params": weights, "weight_decay": optimizer.weight_decay},
                  {"params": biases, "weight_decay": 0.0}]
        if isinstance(optimizer, mlpcore.Adam):
            return torch.optim.Adam(groups, lr=optimizer.lr, betas=(optimizer.beta1, optimizer.beta2),
                                    eps=optimizer.eps, foreach=False)
        return torch.optim.SGD(groups, lr=optimizer.lr, momentum=optimizer.momentum, nesterov=optimizer.nesterov,
                               foreach=False)

    if model.loss == "cross_entropy":
        def loss_fn(out, target):
            return torch.nn.functional.cross_entropy(out, target)
        yt = torch.from_numpy(np.asarray(y, np.int64))
    else:
        assert model.loss == "mse"

        def loss_fn(out, target):
            return torch.nn.functional.mse_loss(out, target)
        yt = torch.from_numpy(np.asarray(y, model.dtype).reshape(len(X), -1))
    Xt = torch.from_numpy(np.asarray(X, model.dtype))
    opt = make_optimizer()
    n = len(X)
    bs = n if batch_size is None else batch_size
    losses = []
    for epoch in range(epochs):
        if fresh_optimizer_each_epoch and epoch > 0:
            opt = make_optimizer()
        for group in opt.param_groups:
            group["lr"] = optimizer.lr_at(epoch)
        total = 0.0
        for s in range(0, n, bs):
            opt.zero_grad()
            loss = loss_fn(net(Xt[s:s + bs]), yt[s:s + bs])
            (loss_scale * loss).backward()
            if optimizer.l1:
                with torch.no_grad():
                    for w in weights:
                        w.grad += optimizer.l1 * torch.sign(w)
            opt.step()
            total += loss_scale * loss.item() * len(Xt[s:s + bs])
        losses.append(total / n)
    return [(lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy()) for lin in layers], losses


def max_difference(a, b):
    return max(float(np.max(np.abs(x - y))) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def classification_data(rng, n=36, d=4, k=3, dtype=np.float64):
    X = rng.standard_normal((n, d)).astype(dtype)
    y = np.argmax(X[:, :k] + 0.5 * rng.standard_normal((n, k)), axis=1).astype(np.int64)
    return X, y


def regression_data(rng, n=30, d=3, dtype=np.float64):
    X = rng.standard_normal((n, d)).astype(dtype)
    y = np.c_[X[:, 0] - 2 * X[:, 1], np.sin(X[:, 2])].astype(dtype)
    return X, y


def quiet_fit(model, X, y, **kw):
    kw.setdefault("verbose", False)
    kw.setdefault("shuffle", False)
    return mlpcore.fit(model, X, y, **kw)


# --------------------------------------------------------------------------- #
# fit with Adam against PyTorch
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("batch_size", [6, 8, None], ids=lambda b: f"batch={b}")
@pytest.mark.parametrize(
    "hyper",
    [{"lr": 0.01}, {"lr": 0.02, "weight_decay": 0.05},
     {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4, "weight_decay": 1e-3}],
    ids=hyper_id,
)
def test_fit_classifier_matches_torch(hyper, batch_size, rng):
    """softmax + cross-entropy, 3 epochs of Adam (batch 8 leaves a last batch of 4): final
    weights to 1e-9 and History.train_loss (row-weighted mean of the batch losses) to 1e-10."""
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 7, 5, 3], activation=("relu", "tanh"), dtype="float64", seed=4)
    opt = mlpcore.Adam(**hyper)
    want, torch_losses = torch_run(model, X, y, opt, epochs=3, batch_size=batch_size)
    history = quiet_fit(model, X, y, optimizer=opt, epochs=3, batch_size=batch_size)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, torch_losses, rtol=1e-10)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_fit_regression_matches_torch(weight_decay, rng):
    """Identity output + MSE (mean over all elements, as torch's MSELoss), two outputs."""
    X, y = regression_data(rng)
    model = mlpcore.MLP([3, 8, 6, 2], activation=("tanh", "softplus"), output="identity", dtype="float64", seed=2)
    opt = mlpcore.Adam(lr=0.01, weight_decay=weight_decay)
    want, torch_losses = torch_run(model, X, y, opt, epochs=4, batch_size=7)
    history = quiet_fit(model, X, y, optimizer=opt, epochs=4, batch_size=7)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, torch_losses, rtol=1e-10)
    assert history.train_loss[-1] < history.train_loss[0]


def test_fit_float32_follows_torch_float32(rng):
    """The same run in float32 on both sides: they round differently (GEMM order, and 1 - beta2
    formed in float32 here, in double in torch), so ~1e-5 of the weights' size after 3 epochs."""
    X, y = classification_data(rng, n=48, dtype=np.float32)
    model = mlpcore.MLP([4, 16, 3], activation="tanh", seed=1)
    opt = mlpcore.Adam(lr=0.01, weight_decay=1e-3)
    want, torch_losses = torch_run(model, X, y, opt, epochs=3, batch_size=8)
    history = quiet_fit(model, X, y, optimizer=opt, epochs=3, batch_size=8)
    for W, b in model.get_weights():
        assert W.dtype == np.float32 and b.dtype == np.float32
    assert_weights_close(model.get_weights(), want, rtol=2e-5)
    np.testing.assert_allclose(history.train_loss, torch_losses, rtol=1e-5)


def test_adam_state_carries_over_epochs(rng):
    """A 2-epoch fit is one torch run of 2 epochs: moments kept and the step count continuing
    (step t of epoch 2 uses the bias corrections of t = batches + 1, ...). Restarting the state
    each epoch (step 1 again) gives something clearly different."""
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=8)
    opt = mlpcore.Adam(lr=0.02, weight_decay=0.01)
    continued, _ = torch_run(model, X, y, opt, epochs=2, batch_size=9)
    restarted, _ = torch_run(model, X, y, opt, epochs=2, batch_size=9, fresh_optimizer_each_epoch=True)
    quiet_fit(model, X, y, optimizer=opt, epochs=2, batch_size=9)
    assert_weights_close(model.get_weights(), continued, rtol=1e-9)
    assert max_difference(model.get_weights(), restarted) > 1e-4


def test_each_fit_call_starts_a_new_adam_run(rng):
    """Like SGD's velocity, the moments and step count start afresh in every fit call, so two
    1-epoch fits equal two torch runs with a new optimiser each."""
    X, y = classification_data(rng)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=8)
    opt = mlpcore.Adam(lr=0.02)
    restarted, _ = torch_run(model, X, y, opt, epochs=2, batch_size=9, fresh_optimizer_each_epoch=True)
    quiet_fit(model, X, y, optimizer=opt, epochs=1, batch_size=9)
    quiet_fit(model, X, y, optimizer=opt, epochs=1, batch_size=9)
    assert_weights_close(model.get_weights(), restarted, rtol=1e-9)


def test_epoch_runner_keeps_the_state_between_calls(rng):
    """EpochRunner.run twice equals a 2-epoch fit bit for bit; steps counts the batches; reset
    forgets the moments and the step count."""
    X, y = classification_data(rng)
    a = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=8)
    b = twin(a)
    opt = mlpcore.Adam(lr=0.02, weight_decay=0.01)
    quiet_fit(a, X, y, optimizer=opt, epochs=2, batch_size=8)
    runner = EpochRunner(b, opt)
    labels, values = b._as_targets(y, len(X), "test")
    for epoch in range(2):
        totals = runner.run(X, labels, values, None, batch_size=8, shuffle=False, seed=0, epoch=epoch,
                            lr=opt.lr_at(epoch))
        assert totals.batches == 5 and totals.rows == 36
        assert runner.steps == 5 * (epoch + 1)
    assert_same_weights(b.get_weights(), a.get_weights(), "runner vs fit")
    assert np.any(runner.first_moment != 0) and np.all(runner.second_moment >= 0)
    runner.reset()
    assert runner.steps == 0 and not runner.first_moment.any() and not runner.second_moment.any()


# --------------------------------------------------------------------------- #
# fit with Adam against the numpy reference: L1, max-norm, lr decay
# --------------------------------------------------------------------------- #

ADAM_HYPER = [
    {"lr": 0.01, "l1": 0.01},
    {"lr": 0.05, "max_norm": 0.5},
    {"lr": 0.05, "weight_decay": 0.01, "l1": 1e-3, "max_norm": 0.8},
    {"lr": 0.1, "lr_decay": 0.5, "beta1": 0.8, "beta2": 0.95},
    {"lr": 0.03, "beta1": 0.0, "eps": 1e-3, "l1": 0.05, "max_norm": 1.0, "lr_decay": 0.2},
]


@pytest.mark.parametrize("batch_size", [1, 7, None], ids=lambda b: f"batch={b}")
@pytest.mark.parametrize("hyper", ADAM_HYPER, ids=hyper_id)
def test_fit_matches_reference_adam(hyper, batch_size, rng):
    X, y = classification_data(rng, n=30)
    model = mlpcore.MLP([4, 6, 3], activation="tanh", dtype="float64", seed=5)
    opt = mlpcore.Adam(**hyper)
    want, losses, _ = reference_run(model, X, y, opt, epochs=3, batch_size=batch_size)
    history = quiet_fit(model, X, y, optimizer=opt, epochs=3, batch_size=batch_size)
    assert_weights_close(model.get_weights(), want, rtol=1e-9)
    np.testing.assert_allclose(history.train_loss, losses, rtol=1e-10)
    np.testing.assert_allclose(history.lr, [opt.lr_at(t) for t in range(3)], rtol=1e-15)
    if opt.max_norm is not None:
        for W, _ in model.get_weights():
            assert np.all(np.sqrt(np.sum(W**2, axis=0)) <= opt.max_norm * (1 + 1e-12))


def test_l1_and_max_norm_with_adam_follow_torch(rng):
    """The reference loop itself against torch for L1 (added to the gradient) and max-norm
    (each unit's incoming weights, a row of torch's weight, scaled back after every step)."""
    torch = pytest.importorskip("torch")
    X, y = classification_data(rng, n=24)
    model = mlpcore.MLP([4, 5, 3], activation="tanh", dtype="float64", seed=3)
    opt = mlpcore.Adam(lr=0.05, l1=0.02, weight_decay=0.01, max_norm=0.7)
    want, _, _ = reference_run(model, X, y, opt, epochs=2, batch_size=6)
    net_w = [torch.tensor(W.T.copy(), requires_grad=True) for W, _ in model.get_weights()]
    net_b = [torch.tensor(b.copy(), requires_grad=True) for _, b in model.get_weights()]
    topt = torch.optim.Adam([{"params": net_w, "weight_decay": 0.01}, {"params": net_b, "weight_decay": 0.0}],
                            lr=0.05, foreach=False)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(2):
        for s in range(0, 24, 6):
            topt.zero_grad()
            h = torch.tanh(Xt[s:s + 6] @ net_w[0].T + net_b[0])
            torch.nn.functional.cross_entropy(h @ net_w[1].T + net_b[1], yt[s:s + 6]).backward()
            with torch.no_grad():
                for w in net_w:
                    w.grad += 0.02 * torch.sign(w)
            topt.step()
            with torch.no_grad():
                for w in net_w:
                    norms = w.norm(dim=1, keepdim=True)
                    w *= torch.where(norms > 0.7, 0.7 / norms, torch.ones_like(norms))
    torch_weights = [(w.detach().numpy().T, b.detach().numpy()) for w, b in zip(net_w, net_b)]
    assert_weights_close(want, torch_weights, rtol=1e-11)
    quiet_fit(model, X, y, optimizer=opt, epochs=2, batch_size=6)
    assert_weights_close(model.get_weights(), torch_weights, rtol=1e-9)


# --------------------------------------------------------------------------- #
# Determinism, divergence
# --------------------------------------------------------------------------- #


def _adam_run(threads, batch_size, seed=7):
    rng = np.random.default_rng(SEED)
    if batch_size >= 256:  # wide layers and big batches: the multi-threaded GEMM paths
        n, sizes, epochs = 1024, [256, 512, 256, 10], 1
    else:
        n, sizes, epochs = 600, [64, 128, 64, 10], 2
    X = rng.standard_normal((n, sizes[0])).astype(np.float32)
    y = rng.integers(0, 10, n)
    model = mlpcore.MLP(sizes, dropout=0.2, input_noise=0.1, seed=11)
    opt = mlpcore.Adam(lr=0.003, weight_decay=1e-4, l1=1e-5, max_norm=3.0, lr_decay=0.1)
    with num_threads(threads):
        history = mlpcore.fit(model, X, y, optimizer=opt, epochs=epochs, batch_size=batch_size,
                              validation_split=0.1, seed=seed, verbose=False)
    return model.get_weights(), history


@pytest.mark.parametrize("batch_size", [64, 256], ids=["batch64", "batch256-wide"])
def test_float32_bit_identical_across_runs_and_thread_counts(batch_size):
    w1, h1 = _adam_run(1, batch_size)
    w2, h2 = _adam_run(2, batch_size)
    w1b, h1b = _adam_run(1, batch_size)
    assert_same_weights(w1b, w1, "same seed, second run")
    assert_same_weights(w2, w1, "1 vs 2 threads")
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
        assert getattr(h1, name) == getattr(h2, name) == getattr(h1b, name), name
    w3, _ = _adam_run(2, batch_size, seed=8)
    assert not np.array_equal(w3[0][0], w1[0][0]), "another fit seed gives another run"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_divergence_raises_and_leaves_finite_weights(dtype, rng):
    """Adam's steps are ~lr per weight whatever the gradient, so lr = 1e10 (float32) or 1e200
    (float64) blows the outputs up within a few steps."""
    X = (rng.standard_normal((50, 3)) * 100).astype(dtype)
    y = rng.standard_normal(50)
    model = mlpcore.MLP([3, 16, 1], output="identity", activation="relu", dtype=dtype, seed=0)
    lr = 1e10 if dtype == "float32" else 1e200
    with pytest.raises(mlpcore.TrainingDivergedError, match=r"(?i)epoch \d+.*lower learning rate"):
        quiet_fit(model, X, y, optimizer=mlpcore.Adam(lr=lr), epochs=50, batch_size=10)
    for W, b in model.get_weights():
        assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    assert model.forward(np.ones((2, 3), dtype)).shape == (2, 1)


def test_epoch_runner_divergence_restores_weights_and_resets_state(rng):
    X = (rng.standard_normal((40, 3)) * 100).astype(np.float32)
    model = mlpcore.MLP([3, 16, 1], output="identity", activation="relu", seed=0)
    labels, values = model._as_targets(rng.standard_normal(40), 40, "test")
    runner = EpochRunner(model, mlpcore.Adam(lr=1e10))
    with pytest.raises(EpochDiverged):
        for epoch in range(50):
            runner.run(X, labels, values, None, batch_size=10, shuffle=False, seed=0, epoch=epoch, lr=1e10)
    assert np.isfinite(model._params).all()
    assert runner.steps == 0 and not runner.first_moment.any() and not runner.second_moment.any()


# --------------------------------------------------------------------------- #
# The Adam object
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"lr": 0.0}, ValueError, "Adam: lr must be > 0.0 (got 0.0)"),
        ({"lr": -1e-3}, ValueError, "Adam: lr must be > 0.0 (got -0.001)"),
        ({"lr": float("nan")}, ValueError, "Adam: lr must be finite (got nan)"),
        ({"lr": float("inf")}, ValueError, "Adam: lr must be finite (got inf)"),
        ({"beta1": 1.0}, ValueError, "Adam: beta1 must be < 1.0 (got 1.0)"),
        ({"beta1": -0.1}, ValueError, "Adam: beta1 must be >= 0.0 (got -0.1)"),
        ({"beta2": 1.0}, ValueError, "Adam: beta2 must be < 1.0 (got 1.0)"),
        ({"beta2": -1e-3}, ValueError, "Adam: beta2 must be >= 0.0 (got -0.001)"),
        ({"eps": 0.0}, ValueError, "Adam: eps must be > 0.0 (got 0.0)"),
        ({"eps": -1e-8}, ValueError, "Adam: eps must be > 0.0 (got -1e-08)"),
        ({"weight_decay": -1e-4}, ValueError, "Adam: weight_decay must be >= 0.0 (got -0.0001)"),
        ({"l1": -1.0}, ValueError, "Adam: l1 must be >= 0.0 (got -1.0)"),
        ({"l1": float("inf")}, ValueError, "Adam: l1 must be finite (got inf)"),
        ({"max_norm": 0.0}, ValueError, "Adam: max_norm must be > 0.0 (got 0.0)"),
        ({"max_norm": -2.0}, ValueError, "Adam: max_norm must be > 0.0 (got -2.0)"),
        ({"lr_decay": -0.1}, ValueError, "Adam: lr_decay must be >= 0.0 (got -0.1)"),
        ({"lr": "0.1"}, TypeError, "Adam: lr must be a real number (got str '0.1')"),
        ({"beta1": True}, TypeError, "Adam: beta1 must be a real number"),
        ({"eps": None}, TypeError, "Adam: eps must be a real number"),
        ({"max_norm": "big"}, TypeError, "Adam: max_norm must be a real number"),
    ],
    ids=lambda x: str(x) if isinstance(x, dict) else "",
)
def test_adam_rejects_bad_hyperparameters(kwargs, error, pattern):
    with pytest.raises(error, match=re.escape(pattern)):
        mlpcore.Adam(**kwargs)


def test_adam_defaults_repr_and_config_round_trip():
    default = mlpcore.Adam()
    assert default.get_config() == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
                                    "l1": 0.0, "max_norm": None, "lr_decay": 0.0}
    assert repr(default) == "Adam(lr=0.001)"
    opt = mlpcore.Adam(lr=0.02, beta1=0.8, beta2=np.float32(0.5), eps=1, weight_decay=1e-3, l1=1e-4, max_norm=2,
                       lr_decay=0.5)
    config = opt.get_config()
    assert all(type(v) is float for v in config.values())
    assert repr(opt) == ("Adam(lr=0.02, beta1=0.8, beta2=0.5, eps=1.0, weight_decay=0.001, l1=0.0001, "
                         "max_norm=2.0, lr_decay=0.5)")
    assert mlpcore.Adam(**config).get_config() == config
    assert eval(repr(opt), {"Adam": mlpcore.Adam}).get_config() == config
    assert opt.lr_at(0) == 0.02 and opt.lr_at(2) == 0.02 / 2.0


def test_fit_rejects_hyperparameters_a_float32_model_cannot_hold(rng):
    """eps = 1e-50 is a valid double but 0 in float32: fit raises before any step."""
    X, y = classification_data(rng, n=10, dtype=np.float32)
    model = mlpcore.MLP([4, 3], seed=0)
    before = model.get_weights()
    with pytest.raises(ValueError, match=re.escape("fit: Adam(eps=1e-50) is out of range for the model's float32")):
        quiet_fit(model, X, y, optimizer=mlpcore.Adam(eps=1e-50), epochs=1)
    assert_same_weights(model.get_weights(), before, "after the rejected fit")
    for optimizer, text in ((mlpcore.SGD(lr=1e300), "SGD(lr=1e+300) is out of range"),
                            (mlpcore.Adam(weight_decay=1e300), "Adam(weight_decay=1e+300) is out of range"),
                            (mlpcore.Adam(beta2=0.999999999), "Adam(beta2=0.999999999) rounds to 1")):
        with pytest.raises(ValueError, match=re.escape(f"fit: {text}")):
            quiet_fit(model, X, y, optimizer=optimizer, epochs=1)
    assert_same_weights(model.get_weights(), before, "after the rejected fits")


# --------------------------------------------------------------------------- #
# EpochRunner: decay_per_row and loss_scale
# --------------------------------------------------------------------------- #


def run_epochs(model, X, y, optimizer, *, epochs, batch_size, **runner_kw):
    runner = EpochRunner(model, optimizer, **runner_kw)
    labels, values = model._as_targets(y, len(X), "test")
    x = np.ascontiguousarray(X, model.dtype)
    sums = []
    for epoch in range(epochs):
        totals = runner.run(x, labels, values, None, batch_size=batch_size, shuffle=False, seed=0, epoch=epoch,
                            lr=optimizer.lr_at(epoch))
        sums.append(totals.loss_sum / totals.rows)
    return sums


@pytest.mark.parametrize("optimizer", [mlpcore.SGD(lr=0.1, weight_decay=0.8),
                                       mlpcore.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.8, l1=0.01),
                                       mlpcore.Adam(lr=0.02, weight_decay=0.8, l1=0.01)], ids=repr)
def test_decay_per_row_divides_by_each_batch_rows(optimizer, rng):
    """n = 10, batches of 4: the three steps decay by a / 4, a / 4 and a / 2 (the last batch's
    own rows), as scikit-learn's alpha / batch penalty gradient does; not by a, nor a / 4 throughout."""
    X, y = classification_data(rng, n=10)
    model = mlpcore.MLP([4, 5, 3], activation="tanh", dtype="float64", seed=6)
    want, losses, _ = reference_run(model, X, y, optimizer, epochs=2, batch_size=4, decay_per_row=True)
    plain, _, _ = reference_run(model, X, y, optimizer, epochs=2, batch_size=4)
    fixed = type(optimizer)(**{**optimizer.get_config(), "weight_decay": optimizer.weight_decay / 4})
    by_four, _, _ = reference_run(model, X, y, fixed, epochs=2, batch_size=4)
    got_losses = run_epochs(model, X, y, optimizer, epochs=2, batch_size=4, decay_per_row=True)
    got = model.get_weights()
    assert_weights_close(got, want, rtol=1e-10)
    np.testing.assert_allclose(got_losses, losses, rtol=1e-12)
    assert max_difference(got, plain) > 1e-3 and max_difference(got, by_four) > 1e-5


@pytest.mark.parametrize("scale", [0.25, 3.0])
@pytest.mark.parametrize(
    "optimizer",
    [mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=0.05, l1=0.01),
     mlpcore.SGD(lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.02, max_norm=1.0),
     mlpcore.Adam(lr=0.02, eps=0.05, weight_decay=0.05, l1=0.01),
     mlpcore.Adam(lr=0.02, eps=1e-3, weight_decay=0.1, max_norm=1.0, lr_decay=0.3)],
    ids=repr,
)
def test_loss_scale_trains_on_the_scaled_loss(optimizer, scale, rng):
    """loss_scale = c equals PyTorch descending c * loss with the same optimiser settings (weight
    decay, L1, eps untouched), in weights and in the reported loss (c times the model's). eps
    and the decay terms are chosen large enough that Adam, nearly scale-free, still shows the
    scale: ignoring it would be off by much more than the tolerance."""
    pytest.importorskip("torch")
    X, y = regression_data(rng, n=21)
    model = mlpcore.MLP([3, 6, 2], activation="tanh", output="identity", dtype="float64", seed=9)
    if optimizer.max_norm is None:
        want, torch_losses = torch_run(model, X, y, optimizer, epochs=3, batch_size=5, loss_scale=scale)
    else:  # torch has no max-norm step: the reference loop (checked against torch above)
        want, torch_losses, _ = reference_run(model, X, y, optimizer, epochs=3, batch_size=5, loss_scale=scale)
    unscaled, _, _ = reference_run(model, X, y, optimizer, epochs=3, batch_size=5)
    got_losses = run_epochs(model, X, y, optimizer, epochs=3, batch_size=5, loss_scale=scale)
    got = model.get_weights()
    assert_weights_close(got, want, rtol=1e-9)
    np.testing.assert_allclose(got_losses, torch_losses, rtol=1e-10)
    assert max_difference(got, unscaled) > 1e-4


def test_loss_scale_with_decay_per_row(rng):
    """Both options at once: decay a / rows of the c-scaled loss (the scikit-learn estimator's case)."""
    X, y = regression_data(rng, n=11)
    model = mlpcore.MLP([3, 4, 2], activation="relu", output="identity", dtype="float64", seed=1)
    for optimizer in (mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=0.5), mlpcore.Adam(lr=0.05, eps=0.01,
                                                                                           weight_decay=0.5)):
        m = twin(model)
        want, losses, _ = reference_run(m, X, y, optimizer, epochs=2, batch_size=4, decay_per_row=True,
                                        loss_scale=2.0)
        got_losses = run_epochs(m, X, y, optimizer, epochs=2, batch_size=4, decay_per_row=True, loss_scale=2.0)
        assert_weights_close(m.get_weights(), want, rtol=1e-9, what=repr(optimizer))
        np.testing.assert_allclose(got_losses, losses, rtol=1e-10)


def test_train_epoch_rejects_bad_adam_state():
    """The C++ epoch loop checks the Adam buffers, step count and hyper-parameters it is handed."""
    model = mlpcore.MLP([2, 3], dtype="float64", seed=0)
    x = np.ones((4, 2))
    labels = np.zeros(4, np.int32)
    p = model._params
    p_before = p.copy()
    common = {"batch_size": 2, "shuffle": False, "seed": 0, "epoch": 0, "optimizer": "adam", "lr": 0.01}
    m, v = np.zeros_like(p), np.zeros_like(p)
    with pytest.raises(ValueError, match=re.escape("train_epoch: Adam needs both moment buffers")):
        model._net.train_epoch(p, m, None, x, labels, None, None, **common)
    with pytest.raises(ValueError, match=re.escape("train_epoch: the Adam step count must be >= 0 (got -1)")):
        model._net.train_epoch(p, m, v, x, labels, None, None, steps=-1, **common)
    with pytest.raises(ValueError, match=re.escape("train_epoch: second_moment must not share memory")):
        model._net.train_epoch(p, m, p, x, labels, None, None, **common)
    with pytest.raises(ValueError, match="train_epoch: velocity and second_moment must not share memory"):
        model._net.train_epoch(p, m, m, x, labels, None, None, **common)
    with pytest.raises(ValueError, match=r"train_epoch: optimizer must be 'sgd' or 'adam' \(got 'rmsprop'\)"):
        model._net.train_epoch(p, m, v, x, labels, None, None, **{**common, "optimizer": "rmsprop"})
    with pytest.raises(ValueError, match=re.escape("beta1 must be in [0, 1) (got -0.5)")):
        model._net.train_epoch(p, m, v, x, labels, None, None, beta1=-0.5, **common)
    with pytest.raises(ValueError, match=re.escape(
            "train_epoch: hyper-parameters must stay finite, momentum at most 1, betas and dropout below 1 and eps above 0, "
            "in float64")):
        model._net.train_epoch(p, m, v, x, labels, None, None, eps=-1e-8, **common)
    assert not m.any() and not v.any()
    assert_bitwise_equal(p, p_before, "params after rejected calls")


@pytest.mark.parametrize("steps", [0, 41, 10**9])
def test_train_epoch_steps_is_the_count_before_this_epoch(steps, rng):
    """One batch with steps=s in the C++ loop is ops.adam_update with step=s+1 on the batch
    gradient: weights with weight decay and L1, biases without, same bits."""
    X, y = classification_data(rng, n=8)
    model = mlpcore.MLP([4, 5, 3], activation="tanh", dtype="float64", seed=2)
    _, grads = model.loss_and_grads(X, y)
    hyper = {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}
    m0 = rng.standard_normal(model._params.size) * 0.1
    v0 = rng.standard_normal(model._params.size) ** 2
    want = []
    for k, ((W, b), (dW, db)) in enumerate(zip(model.get_weights(), grads)):
        pair = []
        for p, g, decay in ((W, dW, True), (b, db, False)):
            start = model._net.weight_offset(k) if decay else model._net.bias_offset(k)
            m, v = (a[start:start + p.size].reshape(p.shape).copy() for a in (m0, v0))
            ops.adam_update(p, np.ascontiguousarray(g), m, v, step=steps + 1, weight_decay=0.1 if decay else 0.0,
                            l1=0.01 if decay else 0.0, **hyper)
            pair.append(p)
        want.append(tuple(pair))
    m, v = m0.copy(), v0.copy()
    labels, _ = model._as_targets(y, 8, "test")
    result = model._net.train_epoch(model._params, m, v, X, labels, None, None, batch_size=8, shuffle=False,
                                    seed=0, epoch=0, optimizer="adam", steps=steps, weight_decay=0.1, l1=0.01,
                                    **hyper)
    assert result[1] == 1 and result[4] is False
    assert_same_weights(model.get_weights(), want, f"steps={steps}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("optimizer", [mlpcore.Adam(), mlpcore.SGD(lr=0.1, momentum=0.9)], ids=["adam", "sgd"])
def test_optimiser_state_sits_apart_from_the_weights_within_a_page(optimizer, dtype):
    """The C++ step streams weights and state in lockstep: arrays at the same offset within a
    4 KiB page make loads falsely wait on stores ("4K aliasing", 45 instead of 31 us per Adam step
    on 78,400 weights), so the runner's state starts at least 512 bytes away from the weights."""
    for sizes in ([784, 100, 10], [3, 2], [300, 1000, 7]):
        model = mlpcore.MLP(sizes, dtype=dtype)
        runner = EpochRunner(model, optimizer)
        states = [a for a in (runner.first_moment, runner.second_moment) if a is not None]
        offsets = [a.ctypes.data % 4096 for a in (model._params, *states)]
        for i, a in enumerate(offsets):
            for b in offsets[i + 1:]:
                assert min((a - b) % 4096, (b - a) % 4096) >= 512, offsets
        for state in states:
            assert state.shape == model._params.shape and state.dtype == model._params.dtype
            assert state.flags.c_contiguous and state.flags.writeable and not state.any()
            assert not np.shares_memory(state, model._params)
