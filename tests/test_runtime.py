"""Run-time settings of the native core: SIMD path selection (in process and through
MLPCORE_SIMD), the thread count (MLPCORE_NUM_THREADS, affinity, set/get), agreement of the
kernels across SIMD paths, and robustness of the thread pool (concurrent callers, fork)."""

from __future__ import annotations

import os
import re
import textwrap

import numpy as np
import pytest
import scipy.special
from _helpers import (
    FLOAT_DTYPES,
    assert_bitwise_equal,
    gemm_tolerance,
    num_threads,
    reference_matmul,
    run_python,
    simd_level,
)

import mlpcore
from mlpcore import _core, ops

ALL_LEVELS = ("generic", "avx2", "avx512")
SUPPORTED = tuple(mlpcore.supported_simd_levels())


@pytest.fixture(params=SUPPORTED)
def each_simd_level(request):
    """Switch the kernels to each supported SIMD path in turn; always switch back."""
    original = mlpcore.simd_level()
    try:
        _core.set_simd_level(request.param)
        assert mlpcore.simd_level() == request.param
        yield request.param
    finally:
        _core.set_simd_level(original)
    assert mlpcore.simd_level() == original


@pytest.fixture
def restore_threads():
    original = mlpcore.get_num_threads()
    try:
        yield original
    finally:
        mlpcore.set_num_threads(original)


# --------------------------------------------------------------------------- #
# SIMD levels
# --------------------------------------------------------------------------- #


def test_supported_levels_are_narrowest_first():
    assert SUPPORTED[0] == "generic"
    assert list(SUPPORTED) == [level for level in ALL_LEVELS if level in SUPPORTED]
    assert isinstance(mlpcore.supported_simd_levels(), list)
    assert mlpcore.simd_level() in SUPPORTED


@pytest.mark.skipif(bool(os.environ.get("MLPCORE_SIMD")), reason="MLPCORE_SIMD forces a level")
def test_default_level_is_the_widest():
    assert mlpcore.simd_level() == SUPPORTED[-1]


def test_set_simd_level_switches_and_restores():
    original = mlpcore.simd_level()
    try:
        for level in SUPPORTED:
            _core.set_simd_level(level)
            assert mlpcore.simd_level() == level
    finally:
        _core.set_simd_level(original)
    assert mlpcore.simd_level() == original


@pytest.mark.parametrize("name", ["sse", "AVX2", "", "avx512 ", "neon"])
def test_set_unknown_simd_level(name):
    before = mlpcore.simd_level()
    with pytest.raises(ValueError, match=re.escape(f"simd level must be one of 'avx512', 'avx2', 'generic' (got '{name}')")):
        _core.set_simd_level(name)
    assert mlpcore.simd_level() == before


@pytest.mark.skipif(SUPPORTED == ALL_LEVELS, reason="this CPU supports every SIMD level")
def test_set_unsupported_simd_level():
    unsupported = next(level for level in ALL_LEVELS if level not in SUPPORTED)
    before = mlpcore.simd_level()
    with pytest.raises(ValueError, match=re.escape(f"simd level '{unsupported}' is not supported by this CPU (supported: {', '.join(SUPPORTED)})")):
        _core.set_simd_level(unsupported)
    assert mlpcore.simd_level() == before


@pytest.mark.parametrize("level", SUPPORTED)
def test_mlpcore_simd_environment_variable(level):
    result = run_python("import mlpcore; print(mlpcore.simd_level())", {"MLPCORE_SIMD": level})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == level


def test_empty_mlpcore_simd_means_default():
    result = run_python("import mlpcore; print(mlpcore.simd_level())", {"MLPCORE_SIMD": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == SUPPORTED[-1]


@pytest.mark.parametrize("value", ["bogus", "AVX512", "sse4"])
def test_bad_mlpcore_simd_fails_import_naming_the_variable(value):
    result = run_python("import mlpcore", {"MLPCORE_SIMD": value})
    assert result.returncode != 0
    # pybind11 turns an exception during module init into an ImportError with the same message.
    last_line = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"(ImportError|ValueError): " + re.escape(f"MLPCORE_SIMD must be one of 'avx512', 'avx2', 'generic' (got '{value}')"),
        last_line,
    ), result.stderr


@pytest.mark.skipif(SUPPORTED == ALL_LEVELS, reason="this CPU supports every SIMD level")
def test_unsupported_mlpcore_simd_fails_import():
    unsupported = next(level for level in ALL_LEVELS if level not in SUPPORTED)
    result = run_python("import mlpcore", {"MLPCORE_SIMD": unsupported})
    assert result.returncode != 0
    assert "MLPCORE_SIMD" in result.stderr and unsupported in result.stderr


# --------------------------------------------------------------------------- #
# Every kernel agrees across SIMD paths
# --------------------------------------------------------------------------- #


def run_all_kernels(dtype) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """One result per kernel entry point, on fixed inputs that hit vector tails and edge tiles;
    and the GEMM error bounds of the GEMM results."""
    rng = np.random.default_rng(99)
    out, gemm_tol = {}, {}
    a = rng.standard_normal((37, 300)).astype(dtype)
    b = rng.standard_normal((53, 300)).astype(dtype)
    c0 = rng.standard_normal((37, 53)).astype(dtype)
    out["gemm"] = ops.matmul(a, b, trans_b=True)
    gemm_tol["gemm"] = gemm_tolerance(a, b, 300)
    out["gemm_beta"] = ops.matmul(a, b, trans_b=True, alpha=0.5, beta=-1.5, out=c0.copy())
    gemm_tol["gemm_beta"] = gemm_tolerance(a, b, 300, 0.5, -1.5, c0)
    a2, b2 = rng.standard_normal((150, 70)).astype(dtype), rng.standard_normal((70, 530)).astype(dtype)
    out["gemm_big"] = ops.matmul(a2, b2)
    gemm_tol["gemm_big"] = gemm_tolerance(a2, b2, 70)
    x = np.concatenate([rng.standard_normal(997) * 4, np.linspace(-50, 50, 203), [0.0, -0.0]]).astype(dtype)
    grad_out = rng.standard_normal(x.size).astype(dtype)
    for name in ops.ACTIVATIONS:
        out[f"{name}"] = ops.activation(name, x, negative_slope=0.1)
        out[f"{name}_grad"] = ops.activation_grad(name, x, grad_out, negative_slope=0.1)
    logits = (rng.standard_normal((31, 67)) * 10).astype(dtype)
    out["softmax"] = ops.softmax(logits)
    out["log_softmax"] = ops.log_softmax(logits)
    for nesterov in (False, True):
        w = rng.standard_normal(1003).astype(dtype)
        w[::7] = 0.0
        v = rng.standard_normal(1003).astype(dtype)
        g = rng.standard_normal(1003).astype(dtype)
        ops.sgd_update(w, g, v, lr=0.1, momentum=0.9, weight_decay=0.01, l1=0.001, nesterov=nesterov)
        out[f"sgd_w_{nesterov}"], out[f"sgd_v_{nesterov}"] = w, v
        w2 = rng.standard_normal((17, 19)).astype(dtype)
        ops.sgd_update(w2, g[:323].reshape(17, 19), None, lr=0.5, weight_decay=0.1, l1=0.01)
        out[f"sgd_plain_{nesterov}"] = w2
    return out, gemm_tol


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_every_kernel_agrees_across_simd_paths(each_simd_level, dtype):
    with simd_level("generic"):
        generic, gemm_tol = run_all_kernels(dtype)
    results, _ = run_all_kernels(dtype)  # on each_simd_level
    assert results.keys() == generic.keys()
    eps = np.finfo(dtype).eps
    for key, value in results.items():
        want = generic[key]
        assert value.shape == want.shape and value.dtype == want.dtype, key
        if key.startswith("gemm"):
            # Different tiles and FMA vs mul+add change the rounding, within the GEMM bound.
            np.testing.assert_allclose(value, want, rtol=0, atol=2 * gemm_tol[key], err_msg=key)
        else:
            # Elementwise work: a few ulp (generic has no FMA, its exp/log round differently).
            np.testing.assert_allclose(value, want, rtol=64 * eps, atol=64 * eps, err_msg=key)
    # And each path is right, not just consistent: spot-check against references.
    rng = np.random.default_rng(99)
    a = rng.standard_normal((37, 300)).astype(dtype)
    b = rng.standard_normal((53, 300)).astype(dtype)
    np.testing.assert_allclose(results["gemm"], reference_matmul(a, b, trans_b=True), rtol=0,
                               atol=gemm_tolerance(a, b, 300))
    x = np.linspace(-20, 20, 1001).astype(dtype)
    np.testing.assert_allclose(ops.activation("sigmoid", x), scipy.special.expit(x.astype(float)),
                               rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-7 if dtype == np.float32 else 1e-15)
    np.testing.assert_allclose(ops.log_softmax(x.reshape(7, 143)),
                               scipy.special.log_softmax(x.reshape(7, 143).astype(float), axis=-1),
                               rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-5 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_simd_paths_each_stay_stable_at_extremes(each_simd_level, dtype):
    x = np.array([-1e4, -100.0, 0.0, 100.0, 1e4] * 5, dtype)
    for name in ops.ACTIVATIONS:
        assert np.isfinite(ops.activation(name, x)).all(), name
        assert np.isfinite(ops.activation_grad(name, x, np.ones_like(x))).all(), name
    np.testing.assert_allclose(ops.softmax(np.array([[1e4, 0.0, -1e4]], dtype)), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(ops.log_softmax(np.array([[1e4, 0.0, -1e4]], dtype)), [[0.0, -1e4, -2e4]])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_each_simd_path_is_thread_count_invariant(each_simd_level, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(200_003).astype(dtype)
    a = rng.standard_normal((257, 300)).astype(dtype)
    b = rng.standard_normal((300, 600)).astype(dtype)
    runs = []
    for threads in (1, 2):
        with num_threads(threads):
            w, v = x.copy(), np.zeros_like(x)
            ops.sgd_update(w, x[::-1].copy(), v, lr=0.1, momentum=0.9)
            runs.append([ops.matmul(a, b), ops.activation("tanh", x),
                         ops.softmax(x[:200_000].reshape(400, 500)), w, v])
    for one, two in zip(*runs):
        assert_bitwise_equal(two, one, f"{each_simd_level}: 2 threads vs 1")


# --------------------------------------------------------------------------- #
# Thread count
# --------------------------------------------------------------------------- #


def test_default_thread_count_is_the_available_cores():
    result = run_python("import mlpcore; print(mlpcore.get_num_threads())", {"MLPCORE_NUM_THREADS": None})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(os.sched_getaffinity(0))
    assert _core.available_cores() == len(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")
def test_default_thread_count_follows_cpu_affinity():
    code = textwrap.dedent("""
        import os
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        import mlpcore
        print(mlpcore.get_num_threads())
    """)
    result = run_python(code, {"MLPCORE_NUM_THREADS": None})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 1


@pytest.mark.parametrize("value", ["1", "3", "7", " 3", "2 ", "\t4\n"])
def test_mlpcore_num_threads_environment_variable(value):
    """White space around the number is allowed on both sides (it was only before it)."""
    result = run_python("import mlpcore; print(mlpcore.get_num_threads())", {"MLPCORE_NUM_THREADS": value})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == int(value)


def test_set_and_get_num_threads(restore_threads):
    for n in (1, 2, 5, 1, np.int64(3)):
        mlpcore.set_num_threads(n)
        assert mlpcore.get_num_threads() == int(n)
        assert isinstance(mlpcore.get_num_threads(), int)


@pytest.mark.parametrize("n,exc,pattern", [
    (0, ValueError, "set_num_threads: n must be a positive integer (got 0)"),
    (-2, ValueError, "set_num_threads: n must be a positive integer (got -2)"),
    (1025, ValueError, "set_num_threads: n must be at most 1024 (got 1025)"),
    (1.5, TypeError, "set_num_threads: n must be an integer (got float)"),
    (2.0, TypeError, "set_num_threads: n must be an integer (got float)"),
    (True, TypeError, "set_num_threads: n must be an integer (got bool)"),
    ("2", TypeError, "set_num_threads: n must be an integer (got str)"),
    (None, TypeError, "set_num_threads: n must be an integer (got NoneType)"),
])
def test_bad_thread_counts(n, exc, pattern, restore_threads):
    before = mlpcore.get_num_threads()
    with pytest.raises(exc, match=re.escape(pattern)):
        mlpcore.set_num_threads(n)
    assert mlpcore.get_num_threads() == before


def test_core_set_num_threads_checks_too(restore_threads):
    with pytest.raises(ValueError, match=re.escape("set_num_threads: n must be a positive integer (got 0)")):
        _core.set_num_threads(0)
    assert mlpcore.get_num_threads() == restore_threads


def test_more_threads_than_cores_still_work(restore_threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((400, 300)).astype(np.float32)
    b = rng.standard_normal((300, 500)).astype(np.float32)
    with num_threads(1):
        want = ops.matmul(a, b)
    mlpcore.set_num_threads(16)
    assert_bitwise_equal(ops.matmul(a, b), want, "16 threads")


def test_thread_pool_survives_concurrent_resizing():
    """Python threads calling the kernels while another resizes the pool: no deadlock, no wrong
    bits. Run in a subprocess with a timeout so that a deadlock fails instead of hanging."""
    code = textwrap.dedent("""
        import threading
        import numpy as np
        import mlpcore
        from mlpcore import ops

        rng = np.random.default_rng(0)
        a = rng.standard_normal((300, 200)).astype(np.float32)
        b = rng.standard_normal((200, 400)).astype(np.float32)
        x = rng.standard_normal(150_000).astype(np.float32)
        want_mm, want_act = ops.matmul(a, b), ops.activation("sigmoid", x)
        errors = []
        stop = threading.Event()

        def work():
            while not stop.is_set():
                if not (np.array_equal(ops.matmul(a, b), want_mm)
                        and np.array_equal(ops.activation("sigmoid", x), want_act)):
                    errors.append("wrong result")

        workers = [threading.Thread(target=work) for _ in range(3)]
        for t in workers:
            t.start()
        for i in range(60):
            mlpcore.set_num_threads(1 + i % 3)
        stop.set()
        for t in workers:
            t.join()
        print("errors", len(errors))
    """)
    result = run_python(code, timeout=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "errors 0"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_kernels_work_in_a_forked_child():
    """After fork() the child has none of the parent's worker threads, and the pool's mutexes
    and condition variable are copies of the parent's, possibly with waiters that do not exist
    in the child. The kernels must run there (one thread, then again after set_num_threads)
    and give the same bits. Forks several times with the parent's worker asleep (the state
    most likely to confuse the child), each child under a time limit, all in a subprocess so
    that a deadlock fails the test instead of hanging the run."""
    code = textwrap.dedent("""
        import os, signal, time, warnings
        import numpy as np
        import mlpcore
        from mlpcore import ops

        mlpcore.set_num_threads(2)
        rng = np.random.default_rng(0)
        a = rng.standard_normal((300, 200)).astype(np.float32)
        b = rng.standard_normal((200, 400)).astype(np.float32)
        want = ops.matmul(a, b)  # starts the worker threads
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        outcome = "ok"
        for attempt in range(8):
            ops.matmul(a, b)
            time.sleep(0.05)  # the worker stops spinning and sleeps on the condition variable
            pid = os.fork()
            if pid == 0:
                ok = mlpcore.get_num_threads() >= 1 and np.array_equal(ops.matmul(a, b), want)
                mlpcore.set_num_threads(2)
                ok = ok and np.array_equal(ops.matmul(a, b), want) and mlpcore.get_num_threads() == 2
                os._exit(0 if ok else 1)
            deadline = time.monotonic() + 5
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    if os.waitstatus_to_exitcode(status) != 0:
                        outcome = f"wrong result in child {attempt}"
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    outcome = f"child {attempt} hung"
                    break
                time.sleep(0.01)
            if outcome != "ok":
                break
        print(outcome)
        print("parent", np.array_equal(ops.matmul(a, b), want))
    """)
    result = run_python(code, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["ok", "parent True"]
