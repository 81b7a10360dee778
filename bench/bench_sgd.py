"""One SGD step on 1M float32 parameters: mlpcore.ops.sgd_update vs numpy vs torch.optim.SGD.

Configurations: plain (lr only), momentum 0.9 with weight decay 5e-4, and the same with
Nesterov momentum (torch.optim.SGD semantics, dampening 0). numpy is a careful in-place
implementation with two scratch buffers; torch is ``optimizer.step()`` on one parameter whose
``.grad`` is set (its default single-tensor path on CPU).

The step updates its state in place, so the first step of each library is checked (parameters
and velocity against a float64 numpy step from the same state) before the benchmark keeps
stepping.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import pytest
from compare import LIBRARIES

from mlpcore import ops

pytestmark = pytest.mark.benchmark(warmup=True)

N_PARAMS = 1_000_000
LR = 0.01
CONFIGS = {
    "plain": {"momentum": 0.0, "weight_decay": 0.0, "nesterov": False},
    "momentum": {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": False},
    "nesterov": {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": True},
}
RTOL, ATOL = 1e-6, 1e-7


def _state() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    return (rng.standard_normal(N_PARAMS).astype(np.float32),
            rng.standard_normal(N_PARAMS).astype(np.float32))


def _reference_step(param: np.ndarray, grad: np.ndarray, momentum: float, weight_decay: float,
                    nesterov: bool) -> tuple[np.ndarray, np.ndarray]:
    """First step from zero velocity, in float64: (param, velocity)."""
    p, g = param.astype(np.float64), grad.astype(np.float64)
    d = g + weight_decay * p
    v = d  # momentum * 0 + d
    step = d + momentum * v if nesterov else (v if momentum else d)
    return p - LR * step, v


def numpy_sgd_step(param: np.ndarray, grad: np.ndarray, velocity: Optional[np.ndarray],
                   scratch: tuple[np.ndarray, np.ndarray], *, lr: float, momentum: float,
                   weight_decay: float, nesterov: bool) -> None:
    """torch.optim.SGD's step (dampening 0) in numpy, in place, no allocations."""
    t1, t2 = scratch
    d = grad
    if weight_decay:
        np.multiply(param, weight_decay, out=t1)
        np.add(t1, grad, out=t1)
        d = t1
    if momentum:
        velocity *= momentum
        velocity += d
        if nesterov:
            np.multiply(velocity, momentum, out=t2)
            np.add(t2, d, out=t2)
            d = t2
        else:
            d = velocity
    np.multiply(d, lr, out=t2)
    param -= t2


def _setup(library: str, torch: Any, config: dict) -> tuple[Callable[[], None],
                                                            Callable[[], tuple]]:
    """(step, state): ``state()`` gives (param, velocity or None) as numpy arrays."""
    param, grad = _state()
    momentum = config["momentum"]
    if library == "torch":
        p = torch.nn.Parameter(torch.from_numpy(param))
        p.grad = torch.from_numpy(grad)
        opt = torch.optim.SGD([p], lr=LR, **config)

        def torch_state() -> tuple:
            buf = opt.state[p].get("momentum_buffer") if momentum else None
            return p.detach().numpy(), None if buf is None else buf.numpy()
        return opt.step, torch_state
    velocity = np.zeros_like(param) if momentum else None
    if library == "numpy":
        scratch = (np.empty_like(param), np.empty_like(param))

        def step() -> None:
            numpy_sgd_step(param, grad, velocity, scratch, lr=LR, **config)
    else:
        def step() -> None:
            ops.sgd_update(param, grad, velocity, lr=LR, **config)
    return step, lambda: (param, velocity)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("config", CONFIGS)
def test_sgd_step(benchmark: Any, record_rates: Any, config: str, library: str, threads: int,
                  torch_module: Any, thread_limits: int) -> None:
    settings = CONFIGS[config]
    step, state = _setup(library, torch_module, settings)
    ref_param, ref_velocity = _reference_step(*_state(), **settings)
    step()  # checked once, before timing: the benchmark keeps stepping the same state
    param, velocity = state()
    np.testing.assert_allclose(param, ref_param, rtol=RTOL, atol=ATOL, err_msg=f"{library} param")
    if settings["momentum"]:
        np.testing.assert_allclose(velocity, ref_velocity, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{library} velocity")

    benchmark.group = f"sgd {config} 1M float32 threads={threads}"
    benchmark.extra_info.update(library=library, threads=threads, lr=LR, **settings)
    benchmark(step)
    # Memory traffic: read param + grad, write param; with momentum read and write velocity.
    arrays = 5 if settings["momentum"] else 3
    record_rates(nbytes=arrays * 4 * N_PARAMS, elements=N_PARAMS)
    assert np.all(np.isfinite(state()[0]))
