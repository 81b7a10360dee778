"""mlpcore.ops.activation / activation_grad / softmax / log_softmax against float64 numpy and
scipy, PyTorch (when installed) and central finite differences."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special
from _helpers import FLOAT_DTYPES, assert_bitwise_equal, num_threads
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from mlpcore import ops

SEED = 4321
NAMES = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")

# float32 kernels use their own vectorised exp/log (a few ulp, ~3e-7 relative); float64 ones
# are accurate to a few float64 ulp. The tolerances leave a margin of ~30x over that.
TOL = {
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
    np.dtype(np.float64): {"rtol": 1e-13, "atol": 1e-15},
}


def tol(dtype) -> dict:
    return TOL[np.dtype(dtype)]


def forward_reference(name: str, x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """f(x) in float64 by textbook-stable formulas (numpy / scipy)."""
    x = x.astype(np.float64)
    if name == "identity":
        return x.copy()
    if name == "sigmoid":
        return scipy.special.expit(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.where(x > 0, x, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, x, slope * x)
    if name == "softplus":
        return np.logaddexp(0.0, x)
    raise AssertionError(name)


def derivative_reference(name: str, x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """f'(x) in float64; kinks as in PyTorch (relu'(0) = 0, leaky_relu'(0) = slope)."""
    x = x.astype(np.float64)
    if name == "identity":
        return np.ones_like(x)
    if name == "sigmoid":
        return scipy.special.expit(x) * scipy.special.expit(-x)  # s (1 - s) without cancellation
    if name == "tanh":
        z = np.exp(-2.0 * np.abs(x))
        return 4.0 * z / (1.0 + z) ** 2  # sech^2, no overflow of cosh
    if name == "relu":
        return np.where(x > 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(x > 0, 1.0, slope)
    if name == "softplus":
        return scipy.special.expit(x)
    raise AssertionError(name)


def test_activation_names():
    assert ops.ACTIVATIONS == NAMES
    assert isinstance(ops.ACTIVATIONS, tuple)


# --------------------------------------------------------------------------- #
# Values against float64 references
# --------------------------------------------------------------------------- #


def float_arrays(dtype, max_abs=1e4, min_dims=1):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return arrays(
        dtype,
        array_shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=24),
        elements=st.floats(-max_abs, max_abs, width=width),
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(NAMES), dtype=st.sampled_from(FLOAT_DTYPES),
       slope=st.sampled_from([0.01, 0.0, 0.2, 1.0, 3.0, -0.5]))
def test_forward_and_backward_match_float64_reference(data, name, dtype, slope):
    x = data.draw(float_arrays(dtype), label="x")
    grad_out = data.draw(arrays(dtype, x.shape, elements=st.floats(-10, 10, width=np.dtype(dtype).itemsize * 8)),
                         label="grad_out")
    y = ops.activation(name, x, negative_slope=slope)
    assert y.shape == x.shape and y.dtype == x.dtype and y.flags.c_contiguous
    np.testing.assert_allclose(y, forward_reference(name, x, slope), **tol(dtype))
    g = ops.activation_grad(name, x, grad_out, negative_slope=slope)
    assert g.shape == x.shape and g.dtype == x.dtype
    expected = grad_out.astype(np.float64) * derivative_reference(name, x, slope)
    np.testing.assert_allclose(g, expected, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_dense_range_against_reference(name, dtype):
    """Every length of SIMD tail, and a dense sweep of values (not just hypothesis' picks)."""
    rng = np.random.default_rng(SEED)
    x = np.concatenate([
        np.linspace(-30, 30, 6001),
        rng.standard_normal(5000) * 3,
        rng.uniform(-90, 90, 5000),
        [0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8],
    ]).astype(dtype)
    grad_out = rng.standard_normal(x.size).astype(dtype)
    for n in (0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 127, x.size):
        np.testing.assert_allclose(ops.activation(name, x[:n]), forward_reference(name, x[:n]), **tol(dtype))
        np.testing.assert_allclose(
            ops.activation_grad(name, x[:n], grad_out[:n]),
            grad_out[:n] * derivative_reference(name, x[:n]),
            **tol(dtype),
        )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_extreme_inputs_stay_finite_and_correct(dtype):
    big = float(np.finfo(dtype).max)
    x = np.array([-big, -1e30, -1e4, -1e3, -100.0, 100.0, 1e3, 1e4, 1e30, big], dtype)
    ones = np.ones_like(x)
    expected_forward = {
        "identity": x,
        "sigmoid": np.array([0, 0, 0, 0, scipy.special.expit(-100.0), 1, 1, 1, 1, 1]),
        "tanh": np.array([-1, -1, -1, -1, -1, 1, 1, 1, 1, 1]),
        "relu": np.array([0, 0, 0, 0, 0, 100, 1e3, 1e4, 1e30, big]),
        "leaky_relu": np.where(x > 0, x.astype(np.float64), 0.01 * x.astype(np.float64)),
        "softplus": np.array([0, 0, 0, 0, np.exp(-100.0), 100, 1e3, 1e4, 1e30, big]),
    }
    expected_grad = {
        "identity": np.ones(10),
        "sigmoid": np.array([0, 0, 0, 0, np.exp(-100.0), np.exp(-100.0), 0, 0, 0, 0]),
        "tanh": np.zeros(10),
        "relu": (x > 0).astype(np.float64),
        "leaky_relu": np.where(x > 0, 1.0, 0.01),
        "softplus": np.array([0, 0, 0, 0, np.exp(-100.0), 1, 1, 1, 1, 1]),
    }
    for name in NAMES:
        y = ops.activation(name, x)
        g = ops.activation_grad(name, x, ones)
        # No overflow to inf or NaN at any finite magnitude; values within the dtype's tolerance.
        assert np.isfinite(y).all(), (name, y)
        assert np.isfinite(g).all(), (name, g)
        np.testing.assert_allclose(y, expected_forward[name], **tol(dtype), err_msg=name)
        np.testing.assert_allclose(g, expected_grad[name], **tol(dtype), err_msg=name)


@pytest.mark.parametrize(
    "dtype,lo,hi",
    [(np.float32, -87.0, -17.0), (np.float64, -700.0, -37.0)],
)
def test_tails_are_relatively_accurate(dtype, lo, hi):
    """Where f or f' is tiny (e^x, down to the smallest normal), it must still carry full
    relative precision: stable formulas, no 1 - (1 - tiny) cancellation or flush to 0."""
    x = np.linspace(lo, hi, 2001).astype(dtype)
    rtol = tol(dtype)["rtol"]
    ones = np.ones_like(x)
    np.testing.assert_allclose(ops.activation("sigmoid", x), scipy.special.expit(x.astype(float)), rtol=rtol, atol=0)
    np.testing.assert_allclose(ops.activation("softplus", x), np.log1p(np.exp(x.astype(float))), rtol=rtol, atol=0)
    np.testing.assert_allclose(ops.activation_grad("sigmoid", x, ones), derivative_reference("sigmoid", x),
                               rtol=rtol, atol=0)
    np.testing.assert_allclose(ops.activation_grad("softplus", x, ones), scipy.special.expit(x.astype(float)),
                               rtol=rtol, atol=0)
    # tanh' = sech^2 ~ 4 e^-2|x|: half the range of x.
    np.testing.assert_allclose(ops.activation_grad("tanh", x / 2, ones), derivative_reference("tanh", x / 2),
                               rtol=rtol, atol=0)
    np.testing.assert_allclose(ops.activation_grad("tanh", -x / 2, ones), derivative_reference("tanh", -x / 2),
                               rtol=rtol, atol=0)
    # Near 0, tanh(x) ~ x and softplus(x) - log 2 ~ x / 2 need relative accuracy too.
    small = np.geomspace(1e-30, 1e-2, 300).astype(dtype)
    for sign in (1, -1):
        np.testing.assert_allclose(ops.activation("tanh", sign * small), np.tanh(sign * small.astype(float)),
                                   rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_kinks_and_signed_zero_follow_pytorch(dtype):
    x = np.array([0.0, -0.0, 1e-30, -1e-30], dtype)
    g = np.full(4, 3.0, dtype)
    np.testing.assert_array_equal(ops.activation_grad("relu", x, g), [0.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(ops.activation_grad("leaky_relu", x, g, negative_slope=0.25),
                                  np.array([0.75, 0.75, 3.0, 0.75], dtype))
    np.testing.assert_array_equal(ops.activation("relu", x), [0.0, 0.0, dtype(1e-30), 0.0])
    np.testing.assert_array_equal(ops.activation_grad("sigmoid", x[:2], g[:2]), [0.75, 0.75])
    np.testing.assert_array_equal(ops.activation_grad("tanh", x[:2], g[:2]), [3.0, 3.0])
    np.testing.assert_array_equal(ops.activation_grad("softplus", x[:2], g[:2]), [1.5, 1.5])
    np.testing.assert_array_equal(ops.activation("sigmoid", x[:2]), [0.5, 0.5])
    np.testing.assert_allclose(ops.activation("softplus", x[:2]), [np.log(2)] * 2, **tol(dtype))
    # tanh is odd: the sign of zero survives.
    assert np.signbit(ops.activation("tanh", x[1:2]))[0]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_nan_propagates_forward(name, dtype):
    x = np.array([1.0, np.nan, -2.0] * 30, dtype)
    y = ops.activation(name, x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_infinities(dtype):
    x = np.array([-np.inf, np.inf], dtype)
    expected = {
        "identity": [-np.inf, np.inf],
        "sigmoid": [0.0, 1.0],
        "tanh": [-1.0, 1.0],
        "relu": [0.0, np.inf],
        "leaky_relu": [-np.inf, np.inf],
        "softplus": [0.0, np.inf],
    }
    for name in NAMES:
        np.testing.assert_array_equal(ops.activation(name, x), np.array(expected[name], dtype), err_msg=name)
    for name, grads in {"sigmoid": [0, 0], "tanh": [0, 0], "relu": [0, 1], "softplus": [0, 1]}.items():
        np.testing.assert_array_equal(ops.activation_grad(name, x, np.ones_like(x)), grads, err_msg=name)


# --------------------------------------------------------------------------- #
# Gradients against central finite differences (float64)
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    x=arrays(np.float64, st.integers(1, 40), elements=st.floats(-30, 30)),
    slope=st.floats(-2, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_grad_matches_finite_differences(name, x, slope, seed):
    if name in ("relu", "leaky_relu"):
        assume(np.all(np.abs(x) > 1e-4))  # the difference quotient straddles the kink
    grad_out = np.random.default_rng(seed).standard_normal(x.shape)
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    xp, xm = x + h, x - h
    f = lambda v: ops.activation(name, v, negative_slope=slope)  # noqa: E731
    fd = (f(xp) - f(xm)) / (xp - xm)
    g = ops.activation_grad(name, x, grad_out, negative_slope=slope)
    # Truncation error ~ h^2 |f'''| / 6, rounding error ~ 1e-16 |f| / h: both far below 1e-6.
    np.testing.assert_allclose(g, grad_out * fd, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- #
# Shapes and layouts, out, in place
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (5, 0), (0, 3, 2), (2, 3, 4, 5), (1, 1, 1, 1, 7)])
def test_any_shape(shape, dtype):
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal(shape).astype(dtype)
    for name in NAMES:
        y = ops.activation(name, x)
        assert y.shape == shape and y.dtype == dtype
        np.testing.assert_allclose(y, forward_reference(name, x), **tol(dtype))
        g = ops.activation_grad(name, x, np.ones_like(x))
        assert g.shape == shape
        np.testing.assert_allclose(g, derivative_reference(name, x), **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_zero_dimensional_input_keeps_its_shape(dtype):
    x = np.array(0.5, dtype)
    for name in NAMES:
        y = ops.activation(name, x)
        assert (y.shape, y.dtype) == ((), dtype), name
        np.testing.assert_allclose(y, forward_reference(name, x), **tol(dtype))
        g = ops.activation_grad(name, x, np.array(2.0, dtype))
        assert g.shape == (), name
        np.testing.assert_allclose(g, 2.0 * derivative_reference(name, x), **tol(dtype))
        out = np.empty((), dtype)
        assert ops.activation(name, x, out=out) is out


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_inputs(name, dtype):
    rng = np.random.default_rng(SEED)
    base = rng.standard_normal((30, 40)).astype(dtype) * 4
    for x in (base[::2, 1::3], base.T, base[::-1], np.asfortranarray(base)):
        g = rng.standard_normal(x.shape).astype(dtype)[::-1]  # negative strides as well
        contiguous = np.ascontiguousarray(x)
        assert_bitwise_equal(ops.activation(name, x), ops.activation(name, contiguous), "forward")
        assert_bitwise_equal(ops.activation_grad(name, x, g),
                             ops.activation_grad(name, contiguous, np.ascontiguousarray(g)), "backward")


def test_read_only_inputs_are_fine():
    x = np.linspace(-3, 3, 50)
    x.flags.writeable = False
    for name in NAMES:
        np.testing.assert_allclose(ops.activation(name, x), forward_reference(name, x), **tol(np.float64))
        np.testing.assert_allclose(ops.activation_grad(name, x, x), x * derivative_reference(name, x), **tol(np.float64))
    np.testing.assert_allclose(ops.softmax(x.reshape(5, 10)), scipy.special.softmax(x.reshape(5, 10), axis=-1),
                               **tol(np.float64))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_out_and_in_place(name, dtype):
    rng = np.random.default_rng(SEED)
    x = (rng.standard_normal((7, 33)) * 3).astype(dtype)
    g = rng.standard_normal((7, 33)).astype(dtype)
    y = ops.activation(name, x)
    dx = ops.activation_grad(name, x, g)

    out = np.full_like(x, np.nan)
    assert ops.activation(name, x, out=out) is out
    assert_bitwise_equal(out, y, "out=")

    inplace = x.copy()
    assert ops.activation(name, inplace, out=inplace) is inplace
    assert_bitwise_equal(inplace, y, "out=x")

    out = np.full_like(x, np.nan)
    assert ops.activation_grad(name, x, g, out=out) is out
    assert_bitwise_equal(out, dx, "grad out=")

    g_inplace = g.copy()
    assert ops.activation_grad(name, x, g_inplace, out=g_inplace) is g_inplace
    assert_bitwise_equal(g_inplace, dx, "grad out=grad_out")

    x_inplace = x.copy()
    assert ops.activation_grad(name, x_inplace, g, out=x_inplace) is x_inplace
    assert_bitwise_equal(x_inplace, dx, "grad out=x")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_in_a_bigger_buffer_is_written_only_inside(dtype):
    rng = np.random.default_rng(SEED)
    n = 1000 + 13
    x = rng.standard_normal(n).astype(dtype)
    for name in NAMES:
        buf = np.full(n + 40, -7.0, dtype)
        ops.activation(name, x, out=buf[20:20 + n])
        ops.activation_grad(name, x, x, out=buf[20:20 + n])
        assert (buf[:20] == -7.0).all() and (buf[20 + n:] == -7.0).all(), name
    for fn in (ops.softmax, ops.log_softmax):
        buf = np.full(3 * 37 + 40, -7.0, dtype)
        fn(x[:111].reshape(3, 37), out=buf[20:131].reshape(3, 37))
        assert (buf[:20] == -7.0).all() and (buf[131:] == -7.0).all()


# --------------------------------------------------------------------------- #
# Threads: big arrays are split in chunks; the bits must not depend on how
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_large_arrays_are_thread_count_invariant(dtype):
    rng = np.random.default_rng(SEED)
    x = (rng.standard_normal(300_007) * 5).astype(dtype)  # ~10 chunks' worth, odd length
    g = rng.standard_normal(x.size).astype(dtype)
    logits = (rng.standard_normal((3001, 67)) * 5).astype(dtype)
    wide = (rng.standard_normal((7, 40_000)) * 5).astype(dtype)
    results = {}
    for threads in (1, 2, 3):
        with num_threads(threads):
            results[threads] = (
                [ops.activation(name, x) for name in NAMES]
                + [ops.activation_grad(name, x, g) for name in NAMES]
                + [ops.softmax(logits), ops.log_softmax(logits), ops.softmax(wide), ops.log_softmax(wide)]
            )
    for threads in (2, 3):
        for got, want in zip(results[threads], results[1]):
            assert_bitwise_equal(got, want, f"{threads} threads vs 1")
    # And the threaded result is right, including the last chunk.
    for name, y in zip(NAMES, results[2]):
        np.testing.assert_allclose(y, forward_reference(name, x), **tol(dtype), err_msg=name)
    np.testing.assert_allclose(results[2][-4], scipy.special.softmax(logits.astype(float), axis=-1), **tol(dtype))


# --------------------------------------------------------------------------- #
# softmax / log_softmax
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(FLOAT_DTYPES),
    shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_softmax_matches_scipy(dtype, shape, scale, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    x64 = x.astype(np.float64)
    y = ops.softmax(x)
    assert y.shape == shape and y.dtype == dtype
    np.testing.assert_allclose(y, scipy.special.softmax(x64, axis=-1), **tol(dtype))
    # Rows sum to 1 up to rounding of `cols` terms.
    np.testing.assert_allclose(y.astype(np.float64).sum(axis=-1), 1.0, rtol=0,
                               atol=10 * shape[-1] * np.finfo(dtype).eps)
    ly = ops.log_softmax(x)
    # log_softmax values grow with the spread of the logits: relative + absolute tolerance.
    np.testing.assert_allclose(ly, scipy.special.log_softmax(x64, axis=-1), rtol=tol(dtype)["rtol"],
                               atol=tol(dtype)["atol"] * 10)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_huge_logits(dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0], [0.0, -np.inf, 1.0]], dtype)
    expected = np.array([[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0], [1 / (1 + np.e), 0, np.e / (1 + np.e)]])
    np.testing.assert_allclose(ops.softmax(x), expected, **tol(dtype))
    log_expected = np.array([
        [0, -1e4, -2e4],
        [-np.log(3)] * 3,
        [-np.log(2), -np.log(2), -1e4 - np.log(2)],
        [-np.log1p(np.e), -np.inf, 1 - np.log1p(np.e)],
    ])
    np.testing.assert_allclose(ops.log_softmax(x), log_expected, **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_edge_shapes(dtype):
    np.testing.assert_array_equal(ops.softmax(np.array([[3.0], [-5.0]], dtype)), [[1.0], [1.0]])
    np.testing.assert_array_equal(ops.log_softmax(np.array([[3.0], [-5.0]], dtype)), [[0.0], [0.0]])
    for shape in [(0,), (0, 4), (4, 0), (2, 0, 3), (2, 3, 0)]:
        x = np.zeros(shape, dtype)
        assert ops.softmax(x).shape == shape
        assert ops.log_softmax(x).shape == shape
    # 1-D: one row.
    x = np.array([1.0, 2.0, 3.0], dtype)
    np.testing.assert_allclose(ops.softmax(x), scipy.special.softmax([1.0, 2.0, 3.0]), **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_nan_row_stays_in_its_row(dtype):
    x = np.array([[1.0, np.nan, 0.0], [1.0, 2.0, 3.0]], dtype)
    y = ops.softmax(x)
    assert np.isnan(y[0]).all()
    np.testing.assert_allclose(y[1], scipy.special.softmax([1.0, 2.0, 3.0]), **tol(dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_layouts_out_and_in_place(dtype):
    rng = np.random.default_rng(SEED)
    base = (rng.standard_normal((20, 30)) * 4).astype(dtype)
    for fn in (ops.softmax, ops.log_softmax):
        want = fn(base)
        for view in (base.T, base[::2, ::-3], np.asfortranarray(base)):
            assert_bitwise_equal(fn(view), fn(np.ascontiguousarray(view)), "layout")
        out = np.full_like(base, np.nan)
        assert fn(base, out=out) is out
        assert_bitwise_equal(out, want, "out=")
        inplace = base.copy()
        assert fn(inplace, out=inplace) is inplace
        assert_bitwise_equal(inplace, want, "in place")
        # 3-D: over the last axis, row by row.
        cube = base.reshape(4, 5, 30)
        assert_bitwise_equal(fn(cube).reshape(20, 30), want, "3-D")


# --------------------------------------------------------------------------- #
# PyTorch as an independent reference
# --------------------------------------------------------------------------- #

TORCH_TOL = {
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
}


def torch_activation(torch, name, t, slope):
    F = torch.nn.functional
    return {
        "identity": lambda: t * 1,
        "sigmoid": lambda: torch.sigmoid(t),
        "tanh": lambda: torch.tanh(t),
        "relu": lambda: F.relu(t),
        "leaky_relu": lambda: F.leaky_relu(t, negative_slope=slope),
        "softplus": lambda: F.softplus(t),
    }[name]()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_against_pytorch_autograd(name, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(SEED)
    # Inside softplus' linear threshold (|x| <= 20) torch computes log1p(exp(x)) exactly.
    x = np.concatenate([(rng.standard_normal(3000) * 6).clip(-19, 19), [0.0, -0.0, 1.0, -1.0]]).astype(dtype)
    grad_out = rng.standard_normal(x.size).astype(dtype)
    slope = 0.3
    t = torch.from_numpy(x.copy()).requires_grad_(True)
    ty = torch_activation(torch, name, t, slope)
    ty.backward(torch.from_numpy(grad_out.copy()))
    np.testing.assert_allclose(ops.activation(name, x, negative_slope=slope), ty.detach().numpy(),
                               **TORCH_TOL[np.dtype(dtype)])
    np.testing.assert_allclose(ops.activation_grad(name, x, grad_out, negative_slope=slope), t.grad.numpy(),
                               **TORCH_TOL[np.dtype(dtype)])
    # At the kinks exactly PyTorch's choice (x = +-0 are the last-but-two entries).
    np.testing.assert_array_equal(
        ops.activation_grad(name, x[-4:-2], grad_out[-4:-2], negative_slope=slope), t.grad.numpy()[-4:-2]
    )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_softmax_against_pytorch(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(SEED)
    x = (rng.standard_normal((50, 3, 77)) * 8).astype(dtype)
    x[0, 0, :3] = [1e4, 0, -1e4]
    t = torch.from_numpy(x.copy())
    np.testing.assert_allclose(ops.softmax(x), torch.softmax(t, dim=-1).numpy(), **TORCH_TOL[np.dtype(dtype)])
    np.testing.assert_allclose(ops.log_softmax(x), torch.log_softmax(t, dim=-1).numpy(), rtol=TORCH_TOL[np.dtype(dtype)]["rtol"],
                               atol=10 * TORCH_TOL[np.dtype(dtype)]["atol"])


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #

VALID = "identity, sigmoid, tanh, relu, leaky_relu, softplus"


def test_unknown_activation_lists_valid_names():
    x = np.zeros(3)
    with pytest.raises(ValueError, match=re.escape(f"activation: unknown activation 'gelu' (expected one of: {VALID})")):
        ops.activation("gelu", x)
    with pytest.raises(ValueError, match=re.escape(f"activation_grad: unknown activation 'ReLU' (expected one of: {VALID})")):
        ops.activation_grad("ReLU", x, x)
    with pytest.raises(TypeError, match=re.escape(f"activation: name must be a string, one of {VALID}")):
        ops.activation(None, x)
    with pytest.raises(TypeError, match="activation_grad: name must be a string"):
        ops.activation_grad(np.tanh, x, x)


@pytest.mark.parametrize("fn", ["activation", "activation_grad", "softmax", "log_softmax"])
@pytest.mark.parametrize("bad", [np.arange(4), np.ones(4, np.float16), np.array([1.0, None]), np.ones(4, bool),
                                 ["a", "b"]], ids=["int", "float16", "object", "bool", "strings"])
def test_wrong_dtype(fn, bad):
    call = {
        "activation": lambda: ops.activation("relu", bad),
        "activation_grad": lambda: ops.activation_grad("relu", bad, bad),
        "softmax": lambda: ops.softmax(bad),
        "log_softmax": lambda: ops.log_softmax(bad),
    }[fn]
    with pytest.raises(TypeError, match=re.escape(f"{fn}: x must be a float32 or float64 array (got dtype ")):
        call()


def test_grad_out_mismatch():
    x32 = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match=re.escape("activation_grad: grad_out must have the dtype of x (float32), got float64")):
        ops.activation_grad("tanh", x32, np.zeros(4))
    with pytest.raises(TypeError, match=re.escape("activation_grad: grad_out must be a float32 or float64 array (got dtype int64)")):
        ops.activation_grad("tanh", x32, np.zeros(4, np.int64))
    with pytest.raises(ValueError, match=re.escape("activation_grad: grad_out.shape (2, 2) must equal x.shape (4,)")):
        ops.activation_grad("tanh", x32, np.zeros((2, 2), np.float32))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, out: ops.activation("sigmoid", x, out=out),
        lambda x, out: ops.activation_grad("sigmoid", x, x.copy(), out=out),
        lambda x, out: ops.softmax(x, out=out),
        lambda x, out: ops.log_softmax(x, out=out),
    ],
    ids=["activation", "activation_grad", "softmax", "log_softmax"],
)
def test_bad_out(fn):
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match=re.escape(": out.shape (4, 3) must be (3, 4)")):
        fn(x, np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match=re.escape(": out must have dtype float32 (got float64)")):
        fn(x, np.zeros((3, 4)))
    with pytest.raises(TypeError, match=re.escape(": out must be a numpy array or None (got list)")):
        fn(x, x.tolist())
    read_only = np.zeros((3, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=re.escape(": out must be writable (got a read-only array)")):
        fn(x, read_only)
    with pytest.raises(ValueError, match=": out must be C-contiguous"):
        fn(x, np.zeros((4, 3), np.float32).T)


def test_partial_overlap_is_an_error():
    buf = np.arange(11, dtype=np.float64)
    x, out = buf[:10], buf[1:]
    with pytest.raises(ValueError, match=re.escape("activation: out must be x itself or not share memory with it")):
        ops.activation("tanh", x, out=out)
    g = np.ones(10)
    with pytest.raises(ValueError, match=re.escape("activation_grad: out must be x itself or not share memory with it")):
        ops.activation_grad("tanh", x, g, out=out)
    with pytest.raises(ValueError, match=re.escape("activation_grad: out must be grad_out itself or not share memory with it")):
        ops.activation_grad("tanh", g, x, out=out)
    with pytest.raises(ValueError, match=re.escape("softmax: out must be x itself or not share memory with it")):
        ops.softmax(x, out=out)
    np.testing.assert_array_equal(buf, np.arange(11))  # nothing written
    # Overlapping windows of rows of one matrix.
    square = np.arange(16.0).reshape(4, 4)
    with pytest.raises(ValueError, match="log_softmax: out must be x itself or not share memory with it"):
        ops.log_softmax(square[:2], out=square[1:3])


@pytest.mark.parametrize("slope,exc,pattern", [
    (np.nan, ValueError, "activation: negative_slope must be finite (got nan)"),
    (np.inf, ValueError, "activation: negative_slope must be finite (got inf)"),
    ("0.1", TypeError, "activation: negative_slope must be a real number (got str)"),
    (None, TypeError, "activation: negative_slope must be a real number (got NoneType)"),
])
def test_bad_negative_slope(slope, exc, pattern):
    with pytest.raises(exc, match=re.escape(pattern)):
        ops.activation("leaky_relu", np.ones(3), negative_slope=slope)
    with pytest.raises(exc, match=re.escape(pattern.replace("activation:", "activation_grad:"))):
        ops.activation_grad("leaky_relu", np.ones(3), np.ones(3), negative_slope=slope)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_a_scalar_is_an_error(fn):
    with pytest.raises(ValueError, match=re.escape(f"{fn}: x must have at least 1 dimension (got a scalar)")):
        getattr(ops, fn)(np.array(1.0))
