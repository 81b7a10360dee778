"""mlpcore.ops.matmul (the blocked, threaded GEMM) against numpy float64 and the naive
triple-loop oracle mlpcore._core.gemm_reference, on every shape class and memory layout."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from _helpers import (
    FLOAT_DTYPES,
    LAYOUTS,
    assert_bitwise_equal,
    bits,
    gemm_tolerance,
    num_threads,
    operand,
    reference_matmul,
    simd_level,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import mlpcore
from mlpcore import _core, ops

SEED = 1234


def operands(rng, m, n, k, dtype, trans_a=False, trans_b=False, layout_a="C", layout_b="C"):
    """a and b such that op(a) is m x k and op(b) is k x n."""
    a = operand(rng, (k, m) if trans_a else (m, k), dtype, layout_a)
    b = operand(rng, (n, k) if trans_b else (k, n), dtype, layout_b)
    return a, b


def check_matmul(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c0=None):
    """Run ops.matmul and gemm_reference; compare both to the float64 reference."""
    m = a.shape[1] if trans_a else a.shape[0]
    k = a.shape[0] if trans_a else a.shape[1]
    n = b.shape[0] if trans_b else b.shape[1]
    expected = reference_matmul(a, b, trans_a, trans_b, alpha, beta, c0)
    tol = gemm_tolerance(a, b, k, alpha, beta, c0)

    out = None if c0 is None else c0.copy()
    result = ops.matmul(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, out=out)
    assert result.shape == (m, n) and result.dtype == a.dtype and result.flags.c_contiguous
    if out is not None:
        assert result is out
    np.testing.assert_allclose(result, expected, rtol=0, atol=tol)

    ref_out = np.zeros((m, n), a.dtype) if c0 is None else c0.copy()
    ref = _core.gemm_reference(a, b, ref_out, trans_a, trans_b, alpha, beta if c0 is not None else 0.0)
    assert ref is ref_out
    np.testing.assert_allclose(ref, expected, rtol=0, atol=tol)
    # Both are within tol of the exact result, so within 2 tol of each other.
    np.testing.assert_allclose(result, ref, rtol=0, atol=2 * tol)
    return result


# --------------------------------------------------------------------------- #
# Shapes: edge cases, primes, around the register tiles and the cache blocks
# --------------------------------------------------------------------------- #

# (m, n, k). Tiles: 12x32 / 12x16 (avx512 f32 / f64), 6x16 / 6x8 (avx2), 4x8 / 4x4 (generic);
# blocks: kc = 256, mc = 144 (128 generic), nc = 512 (256 for float64).
SMALL_SHAPES = [
    (1, 1, 1),
    (1, 7, 1),
    (7, 1, 1),
    (1, 1, 300),
    (2, 3, 5),
    (3, 5, 7),
    (11, 13, 17),
    (12, 32, 8),
    (13, 33, 9),
    (6, 16, 16),
    (5, 15, 3),
    (7, 17, 31),
    (4, 8, 2),
    (3, 7, 1),
    (25, 65, 19),
    (37, 41, 43),
]
BLOCK_SHAPES = [
    (12, 32, 255),
    (12, 32, 256),
    (13, 31, 257),
    (5, 9, 513),
    (143, 20, 40),
    (144, 20, 40),
    (145, 33, 40),
    (289, 17, 3),
    (129, 7, 11),
    (3, 511, 10),
    (3, 512, 10),
    (5, 513, 10),
    (2, 257, 9),
    (7, 1025, 5),
    (145, 513, 257),
]
# Narrow outputs (n <= nr / 2, m >= 2 mr) take a transposed path: C^T = op(B)^T op(A)^T.
NARROW_SHAPES = [
    (1000, 1, 64),
    (1000, 3, 300),
    (50, 8, 257),
    (25, 16, 40),
    (24, 4, 5),
    (23, 4, 5),
    (300, 17, 20),
    (97, 2, 1),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n,k", SMALL_SHAPES + BLOCK_SHAPES + NARROW_SHAPES)
def test_matches_reference_on_tile_and_block_edges(m, n, k, dtype):
    rng = np.random.default_rng(SEED + m * 7 + n * 11 + k)
    a, b = operands(rng, m, n, k, dtype)
    check_matmul(a, b)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (13, 33, 9), (37, 41, 43), (145, 70, 257), (200, 5, 33)])
def test_transposes(m, n, k, trans_a, trans_b, dtype):
    rng = np.random.default_rng(SEED + k)
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b)
    result = check_matmul(a, b, trans_a=trans_a, trans_b=trans_b)
    # A transpose flag must give exactly what transposing the operand does.
    plain = ops.matmul(a.T if trans_a else a, b.T if trans_b else b)
    assert_bitwise_equal(result, plain, "trans flag vs .T view")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout_a,layout_b", list(itertools.product(LAYOUTS, repeat=2)))
def test_layouts(layout_a, layout_b, dtype):
    """Packing reads any strides: every layout gives the same bits as a C-contiguous copy."""
    rng = np.random.default_rng(SEED)
    # Edge tiles in both directions and two depth blocks; then a narrow output (transposed path).
    for m, n, k in [(29, 45, 270), (100, 3, 20)]:
        a, b = operands(rng, m, n, k, dtype, layout_a=layout_a, layout_b=layout_b)
        result = check_matmul(a, b)
        assert_bitwise_equal(result, ops.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b)),
                             f"{layout_a} x {layout_b}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_zero_stride_and_single_element_operands(dtype):
    rng = np.random.default_rng(SEED)
    row = rng.standard_normal((1, 40)).astype(dtype)
    a = np.broadcast_to(row, (30, 40))  # stride 0 on axis 0, read-only
    b = rng.standard_normal((40, 20)).astype(dtype)
    result = check_matmul(a, b)
    assert_bitwise_equal(result, ops.matmul(np.ascontiguousarray(a), b), "broadcast operand")
    # Rows of a broadcast operand are identical, so are the rows of the product.
    assert (bits(result) == bits(result[:1])).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_misaligned_operands_are_accepted(dtype):
    """A view at an odd byte offset cannot be read by the kernels; matmul copies it."""
    rng = np.random.default_rng(SEED)
    itemsize = np.dtype(dtype).itemsize
    m, k, n = 9, 14, 5
    raw = np.zeros(m * k * itemsize + 1, dtype=np.uint8)
    a = np.frombuffer(raw.data, dtype=dtype, count=m * k, offset=1).reshape(m, k)
    assert not a.flags.aligned
    raw[1:] = rng.standard_normal(m * k).astype(dtype).view(np.uint8)
    b = rng.standard_normal((k, n)).astype(dtype)
    np.testing.assert_allclose(ops.matmul(a, b), reference_matmul(a, b), rtol=0,
                               atol=gemm_tolerance(a, b, k))
    # The raw kernel refuses it with a clear message instead of reading misaligned memory.
    with pytest.raises(ValueError, match="a must be aligned to its element size"):
        _core.gemm(a, b, np.empty((m, n), dtype), False, False, 1.0, 0.0)


# --------------------------------------------------------------------------- #
# Zero-sized dimensions, alpha and beta
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n,k", [(0, 5, 3), (5, 0, 3), (0, 0, 3), (0, 0, 0), (0, 4, 0), (4, 0, 0)])
def test_empty_output(m, n, k, dtype):
    rng = np.random.default_rng(SEED)
    a, b = operands(rng, m, n, k, dtype)
    result = ops.matmul(a, b)
    assert result.shape == (m, n) and result.dtype == dtype
    out = np.empty((m, n), dtype)
    assert ops.matmul(a, b, out=out, beta=2.0) is out
    ref_out = np.empty((m, n), dtype)
    assert _core.gemm_reference(a, b, ref_out, False, False, 1.0, 0.0).shape == (m, n)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(1, 1), (5, 3), (13, 33), (150, 520)])
def test_k_zero_gives_beta_times_out(m, n, dtype):
    rng = np.random.default_rng(SEED)
    a = np.empty((m, 0), dtype)
    b = np.empty((0, n), dtype)
    # Without out (or with beta = 0, even over NaN): zeros.
    assert_bitwise_equal(ops.matmul(a, b), np.zeros((m, n), dtype), "k=0, out=None")
    out = np.full((m, n), np.nan, dtype)
    assert_bitwise_equal(ops.matmul(a, b, out=out), np.zeros((m, n), dtype), "k=0, beta=0")
    c0 = rng.standard_normal((m, n)).astype(dtype)
    out = c0.copy()
    ops.matmul(a, b, out=out, alpha=3.0, beta=-2.5)
    assert_bitwise_equal(out, (dtype(-2.5) * c0).astype(dtype), "k=0, beta=-2.5")
    ref_out = c0.copy()
    _core.gemm_reference(a, b, ref_out, False, False, 3.0, -2.5)
    assert_bitwise_equal(ref_out, out, "gemm_reference, k=0")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (2.5, 0.0), (-1.0, 1.0), (0.5, -2.0), (1.0, 1.0),
                                        (-3.0, 0.25), (0.0, 1.5), (0.0, 0.0)])
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (13, 33, 257), (146, 40, 30), (300, 3, 40)])
def test_alpha_beta(m, n, k, alpha, beta, dtype):
    rng = np.random.default_rng(SEED + k)
    a, b = operands(rng, m, n, k, dtype)
    c0 = rng.standard_normal((m, n)).astype(dtype)
    check_matmul(a, b, alpha=alpha, beta=beta, c0=c0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (13, 33, 9), (145, 513, 300), (12, 32, 256), (400, 5, 30)])
@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
def test_beta_zero_ignores_nan_in_out(m, n, k, fill, dtype):
    rng = np.random.default_rng(SEED)
    a, b = operands(rng, m, n, k, dtype)
    out = np.full((m, n), fill, dtype)
    ops.matmul(a, b, out=out, beta=0.0)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, reference_matmul(a, b), rtol=0, atol=gemm_tolerance(a, b, k))
    # alpha = 0 and beta = 0: exact zeros whatever was in out.
    out = np.full((m, n), fill, dtype)
    ops.matmul(a, b, out=out, alpha=0.0, beta=0.0)
    assert_bitwise_equal(out, np.zeros((m, n), dtype), "alpha=beta=0")
    ref_out = np.full((m, n), fill, dtype)
    _core.gemm_reference(a, b, ref_out, False, False, 1.0, 0.0)
    assert np.isfinite(ref_out).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_and_inf_in_operands_propagate(dtype):
    rng = np.random.default_rng(SEED)
    m, n, k = 30, 40, 300
    a, b = operands(rng, m, n, k, dtype)
    a[3, 100] = np.nan
    b[200, 7] = np.inf
    result = ops.matmul(a, b)
    expected = reference_matmul(a, b)
    # Row 3 is all NaN; column 7 is +-inf (or NaN at row 3); the rest is finite.
    assert np.isnan(result[3]).all()
    col = np.delete(result[:, 7], 3)
    np.testing.assert_array_equal(col, np.delete(expected[:, 7], 3).astype(dtype))
    rest = np.delete(np.delete(result, 3, axis=0), 7, axis=1)
    assert np.isfinite(rest).all()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_out_in_a_bigger_buffer_is_written_only_inside(dtype):
    """Edge tiles go through a scratch buffer: nothing around out may be touched."""
    rng = np.random.default_rng(SEED)
    m, n, k = 25, 37, 20
    a, b = operands(rng, m, n, k, dtype)
    buf = np.full(m * n + 64, -7.0, dtype)
    out = buf[32:32 + m * n].reshape(m, n)
    assert out.flags.c_contiguous and out.base is not None
    ops.matmul(a, b, out=out)
    np.testing.assert_allclose(out, reference_matmul(a, b), rtol=0, atol=gemm_tolerance(a, b, k))
    assert (buf[:32] == -7.0).all() and (buf[32 + m * n:] == -7.0).all()
    # Rows of a bigger C array are also a valid out.
    big = np.full((m + 4, n), 5.0, dtype)
    ops.matmul(a, b, out=big[2:-2])
    assert (big[:2] == 5.0).all() and (big[-2:] == 5.0).all()
    np.testing.assert_allclose(big[2:-2], out, rtol=0, atol=2 * gemm_tolerance(a, b, k))


def test_accepts_array_likes_and_numpy_scalars():
    a = [[1.0, 2.0], [3.0, 4.0]]
    b = np.eye(2)
    np.testing.assert_array_equal(ops.matmul(a, b, alpha=np.float32(2.0)), 2 * np.array(a))
    np.testing.assert_array_equal(ops.matmul(b, b, alpha=np.int64(3)), 3 * np.eye(2))


# --------------------------------------------------------------------------- #
# Random shapes, flags, layouts (hypothesis)
# --------------------------------------------------------------------------- #

dims = st.one_of(st.integers(0, 3), st.integers(4, 40), st.integers(41, 150), st.integers(151, 400))


@settings(max_examples=120, deadline=None)
@given(
    m=dims,
    n=dims,
    k=st.one_of(st.integers(0, 3), st.integers(4, 40), st.integers(250, 300)),
    dtype=st.sampled_from(FLOAT_DTYPES),
    trans_a=st.booleans(),
    trans_b=st.booleans(),
    layout_a=st.sampled_from(LAYOUTS),
    layout_b=st.sampled_from(LAYOUTS),
    alpha=st.sampled_from([1.0, -0.5, 2.0]),
    beta=st.sampled_from([0.0, 1.0, -1.5]),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_shapes_and_layouts(m, n, k, dtype, trans_a, trans_b, layout_a, layout_b, alpha, beta,
                                   scale, seed):
    rng = np.random.default_rng(seed)
    a, b = operands(rng, m, n, k, dtype, trans_a, trans_b, layout_a, layout_b)
    a *= dtype(scale)  # in place: keeps the layout
    c0 = rng.standard_normal((m, n)).astype(dtype) if beta != 0 else None
    check_matmul(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, c0=c0)


@settings(max_examples=40, deadline=None)
@given(
    a=st.integers(1, 60).flatmap(
        lambda m: st.integers(0, 60).flatmap(
            lambda k: arrays(np.float64, (m, k), elements=st.floats(-1e3, 1e3, allow_subnormal=False))
        )
    ),
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_arbitrary_values_float64(a, n, seed):
    """Hypothesis-chosen values (repeated, zeros, extremes of the range), not just normals."""
    b = np.random.default_rng(seed).uniform(-1e3, 1e3, (a.shape[1], n))
    check_matmul(a, b)


# --------------------------------------------------------------------------- #
# Thread-count invariance and SIMD paths
# --------------------------------------------------------------------------- #

THREAD_SHAPES = [
    (300, 700, 500),
    (1000, 1000, 64),
    (64, 1000, 1000),
    (1001, 37, 300),
    (37, 1001, 300),
    (145, 513, 257),
    (13, 2000, 100),
    (5000, 4, 300),
    (3001, 1, 700),
    (2000, 16, 100),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n,k", THREAD_SHAPES)
def test_bit_identical_for_any_thread_count(m, n, k, dtype):
    rng = np.random.default_rng(SEED)
    a, b = operands(rng, m, n, k, dtype, trans_b=True, layout_a="F")
    c0 = rng.standard_normal((m, n)).astype(dtype)
    results = {}
    for threads in (1, 2, 3):
        with num_threads(threads):
            out = c0.copy()
            results[threads] = ops.matmul(a, b, trans_b=True, alpha=0.75, beta=0.5, out=out)
    for threads in (2, 3):
        assert_bitwise_equal(results[threads], results[1], f"{threads} threads vs 1")
    np.testing.assert_allclose(
        results[1],
        reference_matmul(a, b, trans_b=True, alpha=0.75, beta=0.5, c0=c0),
        rtol=0,
        atol=gemm_tolerance(a, b, k, 0.75, 0.5, c0),
    )


@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_thread_invariance_on_every_simd_path(level, dtype):
    rng = np.random.default_rng(SEED)
    # A wide product, and a narrow one (n = 2: the transposed path on every SIMD level).
    for m, n, k in [(301, 530, 270), (5000, 2, 300)]:
        a, b = operands(rng, m, n, k, dtype, trans_a=True, layout_b="negative")
        c0 = rng.standard_normal((m, n)).astype(dtype)
        with simd_level(level):
            with num_threads(1):
                one = ops.matmul(a, b, trans_a=True, beta=0.5, out=c0.copy())
            with num_threads(2):
                two = ops.matmul(a, b, trans_a=True, beta=0.5, out=c0.copy())
        assert_bitwise_equal(two, one, f"{level} {m}x{n}x{k}: 2 threads vs 1")
        np.testing.assert_allclose(one, reference_matmul(a, b, trans_a=True, beta=0.5, c0=c0), rtol=0,
                                   atol=gemm_tolerance(a, b, k, 1.0, 0.5, c0))


def test_thread_count_change_between_calls_keeps_results():
    """Re-sizing the pool between calls (and back) changes nothing in the results."""
    rng = np.random.default_rng(SEED)
    a, b = operands(rng, 200, 300, 400, np.float32)
    first = ops.matmul(a, b)
    for threads in (1, 4, 2, 1, 3):
        with num_threads(threads):
            assert_bitwise_equal(ops.matmul(a, b), first, f"{threads} threads")


def test_concurrent_calls_from_python_threads():
    """matmul releases the GIL; calls racing for the pool must still each be right."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(SEED)
    pairs = [operands(rng, 150 + i, 200, 250 + 3 * i, np.float32) for i in range(6)]
    expected = [ops.matmul(a, b) for a, b in pairs]
    with num_threads(2), ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda ab: ops.matmul(*ab), pairs))
            for g, e in zip(got, expected):
                assert_bitwise_equal(g, e, "concurrent call")


# --------------------------------------------------------------------------- #
# Bad input: type and message of each error
# --------------------------------------------------------------------------- #


def f32(*shape):
    return np.ones(shape, np.float32)


def f64(*shape):
    return np.ones(shape, np.float64)


def dtype_message(fn: str, name: str, dtype: str) -> str:
    # The Python wrapper (for array-likes) says "got dtype X", the C++ check "got X": accept both.
    return re.escape(f"{fn}: {name} must be a float32 or float64 array (got ") + f"(dtype )?{dtype}\\)"


@pytest.mark.parametrize(
    "a,b,pattern",
    [
        (np.ones((2, 2), np.int64), f64(2, 2), dtype_message("matmul", "a", "int64")),
        (f64(2, 2), np.ones((2, 2), np.int32), re.escape("matmul: b must have the dtype of a (float64), got int32")),
        (np.ones((2, 2), np.int32), np.ones((2, 2), np.int32), dtype_message("matmul", "a", "int32")),
        (np.ones((2, 2), np.float16), np.ones((2, 2), np.float16), dtype_message("matmul", "a", "float16")),
        (np.ones((2, 2), np.complex128), f64(2, 2), dtype_message("matmul", "a", "complex128")),
        (np.ones((2, 2), bool), f64(2, 2), dtype_message("matmul", "a", "bool")),
        (np.array([[1.0, None]], dtype=object), f64(2, 2), dtype_message("matmul", "a", "object")),
        ([[1, 2], [3, 4]], f64(2, 2), dtype_message("matmul", "a", "int64")),
        (f32(2, 2), f64(2, 2), re.escape("matmul: b must have the dtype of a (float32), got float64")),
        (f64(2, 2), f32(2, 2), re.escape("matmul: b must have the dtype of a (float64), got float32")),
    ],
    ids=["int64", "f64-int32", "int32", "float16", "complex", "bool", "object", "int-list", "f32-f64", "f64-f32"],
)
def test_wrong_dtype_is_a_type_error(a, b, pattern):
    with pytest.raises(TypeError, match=pattern):
        ops.matmul(a, b)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="matmul: a must be"):
        ops.matmul("not an array", f64(2, 2))
    with pytest.raises(TypeError, match="matmul: b must be"):
        ops.matmul(f64(2, 2), [[1.0, 2.0], [3.0]])  # ragged


@pytest.mark.parametrize(
    "a,b,pattern",
    [
        (f64(3), f64(3, 2), "matmul: a must be a 2-D array (got 1-D with shape (3,))"),
        (f64(2, 3), f64(3, 2, 1), "matmul: b must be a 2-D array (got 3-D with shape (3, 2, 1))"),
        (np.float64(1.0), f64(1, 1), "matmul: a must be a 2-D array (got 0-D with shape ())"),
    ],
    ids=["1-D", "3-D", "0-D"],
)
def test_wrong_ndim(a, b, pattern):
    with pytest.raises(ValueError, match=re.escape(pattern)):
        ops.matmul(a, b)


@pytest.mark.parametrize(
    "a_shape,b_shape,kwargs,pattern",
    [
        ((2, 3), (4, 5), {}, "op(a) has shape (2, 3) and op(b) has shape (4, 5)"),
        ((3, 2), (3, 5), {}, "op(a) has shape (3, 2) and op(b) has shape (3, 5)"),
        ((3, 2), (4, 5), {"trans_a": True}, "op(a) has shape (2, 3) and op(b) has shape (4, 5)"),
        ((2, 3), (5, 4), {"trans_b": True}, "op(a) has shape (2, 3) and op(b) has shape (4, 5)"),
        ((2, 0), (1, 3), {}, "op(a) has shape (2, 0) and op(b) has shape (1, 3)"),
    ],
    ids=["plain", "a-needs-T", "trans_a", "trans_b", "k-zero-vs-one"],
)
def test_mismatched_inner_dimensions_name_both_shapes(a_shape, b_shape, kwargs, pattern):
    with pytest.raises(ValueError, match="matmul: inner dimensions differ: " + re.escape(pattern)):
        ops.matmul(f64(*a_shape), f64(*b_shape), **kwargs)


def test_bad_out():
    a, b = f32(3, 4), f32(4, 5)
    with pytest.raises(ValueError, match=re.escape("matmul: out.shape (5, 3) must be (3, 5)")):
        ops.matmul(a, b, out=f32(5, 3))
    with pytest.raises(ValueError, match=re.escape("matmul: out must be a 2-D array (got 1-D with shape (15,))")):
        ops.matmul(a, b, out=f32(15))
    with pytest.raises(TypeError, match=re.escape("matmul: out must have the dtype of a (float32), got float64")):
        ops.matmul(a, b, out=f64(3, 5))
    with pytest.raises(TypeError, match=re.escape("matmul: out must have the dtype of a (float32), got int32")):
        ops.matmul(a, b, out=np.zeros((3, 5), np.int32))
    with pytest.raises(TypeError, match=re.escape("matmul: out must be a numpy array or None (got list)")):
        ops.matmul(a, b, out=[[0.0] * 5] * 3)
    read_only = f32(3, 5)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=re.escape("matmul: out must be writable (got a read-only array)")):
        ops.matmul(a, b, out=read_only)
    with pytest.raises(ValueError, match="matmul: out must be C-contiguous"):
        ops.matmul(a, b, out=f32(5, 3).T)
    with pytest.raises(ValueError, match="matmul: out must be C-contiguous"):
        ops.matmul(a, b, out=f32(3, 10)[:, ::2])


def test_out_aliasing_an_input():
    a = np.ones((4, 4))
    b = np.ones((4, 4))
    with pytest.raises(ValueError, match="matmul: out must not share memory with a"):
        ops.matmul(a, b, out=a)
    with pytest.raises(ValueError, match="matmul: out must not share memory with b"):
        ops.matmul(a, b, out=b)
    # Partial overlap: out and b are different windows on one buffer.
    buf = np.ones(24)
    with pytest.raises(ValueError, match="matmul: out must not share memory with b"):
        ops.matmul(np.ones((2, 4)), buf[:16].reshape(4, 4), out=buf[8:16].reshape(2, 4))
    # a transposed view of out's memory.
    with pytest.raises(ValueError, match="matmul: out must not share memory with a"):
        ops.matmul(a.T, b, out=a)
    assert (a == 1).all() and (b == 1).all()


@pytest.mark.parametrize("alpha,beta", [(np.nan, 0.0), (1.0, np.inf), (-np.inf, 1.0)])
def test_non_finite_alpha_beta(alpha, beta):
    with pytest.raises(ValueError, match="matmul: alpha and beta must be finite"):
        ops.matmul(f64(2, 2), f64(2, 2), alpha=alpha, beta=beta, out=f64(2, 2))


@pytest.mark.parametrize("alpha,beta", [(1e300, 0.0), (-1e39, 0.0), (1.0, 1e39)])
def test_alpha_beta_must_be_finite_in_float32(alpha, beta):
    """Finite as Python floats but infinite once rounded to the operands' float32: an error,
    not a silently infinite result."""
    a = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="matmul: alpha and beta must be finite"):
        ops.matmul(a, a, alpha=alpha, beta=beta, out=np.ones((2, 2), np.float32))


@pytest.mark.parametrize("value", ["2", None, True, 1j])
def test_non_real_alpha_is_a_type_error(value):
    with pytest.raises(TypeError, match="matmul: alpha must be a real number"):
        ops.matmul(f64(2, 2), f64(2, 2), alpha=value)


def test_core_entry_points_check_too():
    """The private kernels re-check what reaches them (never write out of bounds)."""
    a, b = f64(3, 4), f64(4, 5)
    for fn in (_core.gemm, _core.gemm_reference):
        with pytest.raises(ValueError, match=re.escape("out.shape (5, 3) must be (3, 5)")):
            fn(a, b, f64(5, 3), False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="inner dimensions differ"):
            fn(a, a, f64(3, 4), False, False, 1.0, 0.0)
        with pytest.raises(TypeError, match=re.escape("b must have the dtype of a (float64), got float32")):
            fn(a, f32(4, 5), f64(3, 5), False, False, 1.0, 0.0)
        square = f64(3, 3)
        with pytest.raises(ValueError, match="out must not share memory with a"):
            fn(square, f64(3, 3), square, False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="out must not share memory with b"):
            fn(f64(3, 3), square, square, False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="out must be C-contiguous"):
            fn(a, b, f64(5, 3).T, False, False, 1.0, 0.0)
        with pytest.raises(ValueError, match="alpha and beta must be finite"):
            fn(a, b, f64(3, 5), False, False, np.nan, 0.0)


# Few-row products (m <= 4) run on 1-, 2- and 4-row tiles, some of them widened, chosen by the
# padding they cause; every choice must agree with the reference on every SIMD path, for any
# layout of B (read in place when row-major) and any thread count.
FEW_ROW_SHAPES = [(m, n, k) for m in (1, 2, 3, 4, 5) for n in (1, 10, 33, 127, 129, 300) for k in (1, 7, 300)]


@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_few_row_products_on_every_simd_path(level, dtype):
    rng = np.random.default_rng(SEED)
    with simd_level(level):
        for m, n, k in FEW_ROW_SHAPES:
            for layout_b in ("C", "F"):
                a, b = operands(rng, m, n, k, dtype, layout_b=layout_b)
                check_matmul(a, b)
                c0 = rng.standard_normal((m, n)).astype(dtype)
                check_matmul(a, b, alpha=0.5, beta=-1.5, c0=c0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_few_row_products_bit_identical_across_threads(m, dtype):
    rng = np.random.default_rng(SEED + m)
    a, b = operands(rng, m, 3000, 700, dtype)  # wide enough to be split over threads
    with num_threads(1):
        one = ops.matmul(a, b)
    with num_threads(2):
        two = ops.matmul(a, b)
    assert_bitwise_equal(two, one, f"m={m}")


# The last sliver of a row block runs on a tile of 2, 4 or 8 rows when that holds its rows (a
# 50-row block is 4 x 12 + 2 on AVX-512). A row must get the same bits in any of these tiles:
# the training loop's row blocks rely on each row's result not depending on its neighbours.
# (Products of at most 4 rows take the small tiles, with their own depth blocking: not here.)
@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rows_give_the_same_bits_in_any_edge_tile(level, dtype):
    rng = np.random.default_rng(SEED)
    for trans_b in (False, True):  # B read in place, or packed
        a, b = operands(rng, 50, 130, 257, dtype, trans_b=trans_b)
        c0 = rng.standard_normal((50, 130)).astype(dtype)
        with simd_level(level):
            whole = ops.matmul(a, b, trans_b=trans_b, alpha=0.5, beta=-1.5, out=c0.copy())
            np.testing.assert_allclose(whole, reference_matmul(a, b, trans_b=trans_b, alpha=0.5, beta=-1.5, c0=c0),
                                       rtol=0, atol=gemm_tolerance(a, b, 257, 0.5, -1.5, c0))
            for start in range(50 - 24, 50 - 4):  # the last 5 to 24 rows: every edge size of 1 to 11
                part = ops.matmul(a[start:], b, trans_b=trans_b, alpha=0.5, beta=-1.5, out=c0[start:].copy())
                assert_bitwise_equal(part, whole[start:], f"{level} rows {start}: of 50, trans_b={trans_b}")


# Outputs of at most 16 columns with a row-major A take the narrow path where the SIMD level has
# one (dot products along k, AVX-512 float32) or the transposed path: both must agree with the
# reference, for partial groups of 8 rows, k not a multiple of 16, any layout of B, and give
# the same bits for any thread count.
NARROW_PATH_SHAPES = [(m, n, k) for m in (8, 13, 128, 1001) for n in (1, 2, 7, 10, 16) for k in (64, 100, 784)]


@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_narrow_outputs_on_every_simd_path(level, dtype):
    rng = np.random.default_rng(SEED)
    with simd_level(level):
        for m, n, k in NARROW_PATH_SHAPES:
            layout_b = "F" if (m + n + k) % 2 else "C"
            a, b = operands(rng, m, n, k, dtype, layout_b=layout_b)
            check_matmul(a, b)
            c0 = rng.standard_normal((m, n)).astype(dtype)
            check_matmul(a, b, alpha=-0.75, beta=0.5, c0=c0)
            with num_threads(1):
                one = ops.matmul(a, b)
            with num_threads(2):
                two = ops.matmul(a, b)
            assert_bitwise_equal(two, one, f"{level} {m}x{k} @ {k}x{n}")


def test_kernels_accept_arrays_whose_dtype_is_an_equal_but_distinct_object():
    """An unpickled array carries its own dtype object (equal to np.float32 but not the same
    object): every kernel must take it, as numpy does."""
    import pickle

    rng = np.random.default_rng(0)
    a, b = (pickle.loads(pickle.dumps(rng.standard_normal(s).astype(np.float32))) for s in ((5, 7), (7, 3)))
    assert a.dtype is not np.dtype(np.float32) and a.dtype == np.float32
    np.testing.assert_allclose(ops.matmul(a, b), a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(ops.activation("relu", a), np.maximum(a, 0))
    w, g = a.copy(), pickle.loads(pickle.dumps(np.ones_like(a)))
    ops.sgd_update(w, g, None, lr=0.5)
    np.testing.assert_array_equal(w, a - np.float32(0.5))


def test_flags_must_be_bools():
    """bool("no") is True: a string or number flag used to transpose silently."""
    a = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match=r"matmul: trans_a must be True or False \(got str 'no'\)"):
        ops.matmul(a, a.T, trans_a="no")
    with pytest.raises(TypeError, match=r"matmul: trans_b must be True or False \(got int 1\)"):
        ops.matmul(a, a, trans_b=1)
    with pytest.raises(TypeError, match=r"sgd_update: nesterov must be True or False"):
        w = np.zeros(3, np.float32)
        ops.sgd_update(w, w.copy(), w.copy(), lr=0.1, momentum=0.9, nesterov="no")
