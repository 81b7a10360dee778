"""Helpers shared by the tests of the native core (gemm, activations, sgd, runtime, cli).

Not a conftest: import what you need with ``from _helpers import ...`` (pytest puts ``tests/``
on ``sys.path`` because the test files there are not in a package).
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

import numpy as np

import mlpcore
from mlpcore import _core

FLOAT_DTYPES = (np.float32, np.float64)


def mnist_dir() -> Path:
    """Where the real MNIST files are: ``$MLPCORE_MNIST_DIR``, else ``../shared/data/mnist``
    beside the project (tests using them skip with a reason when they are absent)."""
    env = os.environ.get("MLPCORE_MNIST_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

@contextlib.contextmanager
def ctrl_c_during_an_epoch(epoch: int = 1) -> Iterator[list[bool]]:
    """Press Ctrl-C (``_thread.interrupt_main``, what SIGINT does) while the main thread is inside
    ``EpochRunner.run(..., epoch=epoch)``, which runs that epoch in C++: a watcher thread looks at
    the main thread's frames, so the timing does not depend on the machine's speed. Yields a
    list that holds True once the interrupt was sent. Python's own SIGINT handler is installed
    meanwhile (a background job may have SIGINT ignored)."""
    from mlpcore import _epochs

    main = threading.main_thread().ident
    sent: list[bool] = []
    done = threading.Event()

    def in_the_epoch() -> bool:
        frame = sys._current_frames().get(main)
        while frame is not None:
            if frame.f_code is _epochs.EpochRunner.run.__code__:
                return frame.f_locals.get("epoch") == epoch
            frame = frame.f_back
        return False

    def watch() -> None:
        while not done.is_set():
            if in_the_epoch():
                _thread.interrupt_main()
                sent.append(True)
                return
            time.sleep(0.0002)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield sent
    finally:
        done.set()
        watcher.join()
        signal.signal(signal.SIGINT, previous)


def errors_in_another_thread(*calls) -> list[Optional[BaseException]]:
    """Run each call, in order, in one other thread (waiting for it); what each raised, or None."""
    errors: list[Optional[BaseException]] = []

    def run() -> None:
        for call in calls:
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 - returned for the caller's assertions
                errors.append(exc)
            else:
                errors.append(None)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return errors


#: Memory layouts a GEMM operand may come in; see :func:`operand`.
LAYOUTS = ("C", "F", "strided", "negative", "transposed")


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` kernel threads, then restore the previous count."""
    previous = mlpcore.get_num_threads()
    mlpcore.set_num_threads(n)
    try:
        yield
    finally:
        mlpcore.set_num_threads(previous)


@contextlib.contextmanager
def simd_level(name: str) -> Iterator[None]:
    """Run the block on the SIMD path ``name``, then restore the previous one."""
    previous = mlpcore.simd_level()
    _core.set_simd_level(name)
    try:
        yield
    finally:
        _core.set_simd_level(previous)


def bits(x: np.ndarray) -> np.ndarray:
    """The raw bits of a float array, for bitwise comparisons (NaN == NaN, -0.0 != 0.0)."""
    x = np.ascontiguousarray(x)
    return x.view(np.uint32 if x.dtype == np.float32 else np.uint64)


def misaligned_copy(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` whose data starts one byte past an element boundary (what
    ``np.frombuffer(buffer, offset=1)`` gives, and unpickling can give), which
    ``np.ascontiguousarray`` keeps as it is."""
    raw = bytearray(a.nbytes + a.itemsize)
    out = np.frombuffer(raw, a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert out.flags.c_contiguous and (not out.flags.aligned or a.itemsize == 1)
    return out


def assert_bitwise_equal(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    differ = bits(actual) != bits(expected)
    assert not differ.any(), (
        f"{what}: {int(differ.sum())} of {actual.size} elements differ bitwise, "
        f"max |diff| {np.nanmax(np.abs(actual.astype(np.float64) - expected)) if actual.size else 0}"
    )


def assert_weights_close(got, want, rtol, what=""):
    """Per layer, W and b of ``got`` within rtol of ``want`` (absolute tolerance rtol times the
    layer's largest reference value)."""
    assert len(got) == len(want)
    for i, ((W, b), (W2, b2)) in enumerate(zip(got, want)):
        scale = max(np.max(np.abs(W2)), np.max(np.abs(b2)), 1e-300)
        np.testing.assert_allclose(W, W2, rtol=rtol, atol=rtol * scale, err_msg=f"{what} W of layer {i}")
        np.testing.assert_allclose(b, b2, rtol=rtol, atol=rtol * scale, err_msg=f"{what} b of layer {i}")


def assert_same_weights(a, b, what=""):
    """Per layer, W and b of ``a`` and ``b`` bit for bit."""
    assert len(a) == len(b)
    for i, ((W, bb), (W2, b2)) in enumerate(zip(a, b)):
        assert_bitwise_equal(W, W2, f"{what} W of layer {i}")
        assert_bitwise_equal(bb, b2, f"{what} b of layer {i}")


def operand(rng: np.random.Generator, shape: tuple[int, int], dtype, layout: str) -> np.ndarray:
    """A random 2-D array of logical ``shape`` in the memory ``layout``:

    - ``C`` / ``F``: contiguous in row- / column-major order,
    - ``strided``: every 2nd row and 3rd column of a bigger array (no unit stride),
    - ``negative``: both axes reversed (negative strides, data pointer at the end),
    - ``transposed``: ``.T`` of a C array of the transposed shape (unit stride on axis 0).
    """
    rows, cols = shape
    if layout == "C":
        return rng.standard_normal(shape).astype(dtype)
    if layout == "F":
        return np.asfortranarray(rng.standard_normal(shape).astype(dtype))
    if layout == "strided":
        return rng.standard_normal((2 * rows + 1, 3 * cols + 2)).astype(dtype)[1::2, 2::3]
    if layout == "negative":
        return rng.standard_normal(shape).astype(dtype)[::-1, ::-1]
    if layout == "transposed":
        return rng.standard_normal((cols, rows)).astype(dtype).T
    raise AssertionError(f"unknown layout {layout}")


def gemm_tolerance(a: np.ndarray, b: np.ndarray, k: int, alpha: float = 1.0, beta: float = 0.0,
                   c0: Optional[np.ndarray] = None) -> float:
    """Absolute tolerance for ``alpha * op(a) @ op(b) + beta * c0`` against a float64 reference.

    Each output element is a sum of k products, computed in the working precision with unit
    roundoff u (6e-8 in float32, 1.1e-16 in float64). Every addition rounds the running sum,
    whose size grows like sqrt(k) * max|a| * max|b| for random data, and the k rounding errors
    are roughly independent, so they accumulate like a random walk: the total error grows like
    sqrt(k) * u * max|a| * max|b| (the worst case, k * u * sum|a_i b_i|, is never approached by
    random data). Different summation orders (blocking, FMA vs separate multiply and add,
    vector lanes) change which errors are made, not their size. The constants leave a safety
    factor of about 100 over u.
    """
    eps = 1e-5 if a.dtype == np.float32 else 1e-13
    amax = float(np.max(np.abs(a))) if a.size else 0.0
    bmax = float(np.max(np.abs(b))) if b.size else 0.0
    cmax = float(np.max(np.abs(c0))) if c0 is not None and c0.size else 0.0
    return eps * (np.sqrt(max(k, 1)) * abs(alpha) * amax * bmax + abs(beta) * cmax) + 1e-300


def reference_matmul(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c0=None):
    """float64 numpy reference for ``alpha * op(a) @ op(b) + beta * c0``."""
    a64 = a.astype(np.float64).T if trans_a else a.astype(np.float64)
    b64 = b.astype(np.float64).T if trans_b else b.astype(np.float64)
    result = alpha * (a64 @ b64)
    if beta != 0.0 and c0 is not None:
        result = result + beta * c0.astype(np.float64)
    return result


def child_env(env_updates: Mapping[str, Optional[str]] = ()) -> dict[str, str]:
    """This process's environment for a child process that must import the same mlpcore (its
    folder first on PYTHONPATH), changed by ``env_updates`` (a value None removes the variable)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [os.path.dirname(os.path.dirname(mlpcore.__file__)), env.get("PYTHONPATH")] if p
    )
    for key, value in dict(env_updates).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(code: str, env_updates: Mapping[str, Optional[str]] = (), *args: str,
               module: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -c code`` (or ``python -m code`` with ``module=True``) in a fresh
    interpreter with this process's environment (PYTHONPATH included), changed by
    ``env_updates`` (a value None removes the variable)."""
    flag = "-m" if module else "-c"
    return subprocess.run(
        [sys.executable, flag, code, *args],
        env=child_env(env_updates),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
