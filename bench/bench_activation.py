"""Activations, forward and backward: mlpcore vs numpy vs PyTorch, float32.

relu, sigmoid and tanh on a 128x256 batch (a hidden layer of the benchmark MLP) and on 1M
elements. Every library computes the same thing from the same inputs, each into a
preallocated output where its API allows:

* forward ``f(x)``: ``ops.activation``; numpy ``np.maximum(x, 0)``, ``scipy.special.expit``,
  ``np.tanh``; torch ``torch.relu`` (allocates: its ``out=`` variant is slower),
  ``torch.sigmoid(out=)``, ``torch.tanh(out=)``.
* backward ``grad_out * f'(x)`` from the pre-activation x: ``ops.activation_grad``; numpy
  with ufuncs into scratch buffers; torch with the kernels autograd uses
  (``aten.threshold_backward``, ``aten.sigmoid_backward``, ``aten.tanh_backward``), which take
  the forward output, so sigmoid and tanh are recomputed first (autograd would have kept it).

Results are checked against float64 numpy.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import scipy.special
from compare import LIBRARIES

from mlpcore import ops

pytestmark = pytest.mark.benchmark(warmup=True)

NAMES = ("relu", "sigmoid", "tanh")
SHAPES = {"128x256": (128, 256), "1M": (1_000_000,)}
RTOL, ATOL = 1e-5, 1e-6


def _inputs(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = (3.0 * rng.standard_normal(shape)).astype(np.float32)
    grad_out = rng.standard_normal(shape).astype(np.float32)
    return x, grad_out


def _reference(name: str, direction: str, x: np.ndarray, grad_out: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    if name == "relu":
        f, df = np.maximum(x, 0.0), (x > 0).astype(np.float64)
    elif name == "sigmoid":
        f = 1.0 / (1.0 + np.exp(-x))
        df = f * (1.0 - f)
    else:
        f = np.tanh(x)
        df = 1.0 - f * f
    return f if direction == "forward" else grad_out.astype(np.float64) * df


def _numpy_impl(name: str, direction: str, x: np.ndarray, g: np.ndarray, out: np.ndarray):
    if direction == "forward":
        if name == "relu":
            return lambda: np.maximum(x, 0.0, out=out)
        if name == "sigmoid":
            return lambda: scipy.special.expit(x, out=out)
        return lambda: np.tanh(x, out=out)
    tmp = np.empty_like(x)
    if name == "relu":
        return lambda: np.multiply(g, x > 0, out=out)
    if name == "sigmoid":
        def sigmoid_grad() -> np.ndarray:
            s = scipy.special.expit(x, out=tmp)
            np.subtract(1.0, s, out=out)
            np.multiply(out, s, out=out)
            return np.multiply(out, g, out=out)
        return sigmoid_grad

    def tanh_grad() -> np.ndarray:
        t = np.tanh(x, out=tmp)
        np.square(t, out=t)
        np.subtract(1.0, t, out=out)
        return np.multiply(out, g, out=out)
    return tanh_grad


def _torch_impl(torch: Any, name: str, direction: str, x: np.ndarray, g: np.ndarray):
    tx, tg = torch.from_numpy(x), torch.from_numpy(g)
    out, tmp = torch.empty_like(tx), torch.empty_like(tx)
    aten = torch.ops.aten
    if direction == "forward":
        if name == "relu":
            return lambda: torch.relu(tx)
        fn = torch.sigmoid if name == "sigmoid" else torch.tanh
        return lambda: fn(tx, out=out)
    if name == "relu":
        return lambda: aten.threshold_backward.grad_input(tg, tx, 0, grad_input=out)
    fn = torch.sigmoid if name == "sigmoid" else torch.tanh
    backward = aten.sigmoid_backward if name == "sigmoid" else aten.tanh_backward
    return lambda: backward.grad_input(tg, fn(tx, out=tmp), grad_input=out)


def _impl(library: str, torch: Any, name: str, direction: str, x: np.ndarray,
          g: np.ndarray) -> Callable[[], Any]:
    if library == "torch":
        return _torch_impl(torch, name, direction, x, g)
    out = np.empty_like(x)
    if library == "numpy":
        return _numpy_impl(name, direction, x, g, out)
    if direction == "forward":
        return lambda: ops.activation(name, x, out=out)
    return lambda: ops.activation_grad(name, x, g, out=out)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("size", SHAPES)
@pytest.mark.parametrize("direction", ("forward", "backward"))
@pytest.mark.parametrize("name", NAMES)
def test_activation(
    benchmark: Any, record_rates: Any, name: str, direction: str, size: str, library: str,
    threads: int, torch_module: Any, thread_limits: int,
) -> None:
    x, g = _inputs(SHAPES[size])
    fn = _impl(library, torch_module, name, direction, x, g)
    benchmark.group = f"{name} {direction} {size} float32 threads={threads}"
    benchmark.extra_info.update(library=library, threads=threads)
    result = benchmark(fn)
    arrays = 2 if direction == "forward" else 3  # x (and grad_out) read, out written
    record_rates(nbytes=arrays * x.nbytes, elements=x.size)
    if library == "torch":
        result = result.numpy()
    np.testing.assert_allclose(result, _reference(name, direction, x, g), rtol=RTOL, atol=ATOL,
                               err_msg=f"{library} {name} {direction} {size}")
