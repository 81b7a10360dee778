"""Training and inference: mlpcore.fit vs a torch.nn loop vs scikit-learn's MLPClassifier.

Small versions of the ``train`` family of compare.py (which runs the issue's full sizes, at 2
threads, with the targets): one epoch of a 784-256-128-10 ReLU MLP (batch 128) and of softmax
regression 784-10 (batch 64) on 2,048 rows (MNIST test digits when present, else seeded random
data), online SGD (batch 1) of a 2-16-16-2 tanh MLP on two spirals, and single-sample
``predict_proba`` through 784-256-128-10 with the same weights in both libraries.

Training changes the model, so the benchmark keeps training it (like bench_sgd.py keeps
stepping); afterwards every library must have trained: finite epoch losses and a lower loss on
the check rows than before training. Probabilities are checked against float64 numpy. The
memory test runs one mlpcore epoch in a fresh interpreter and checks that fit does not copy
the training set (compare.py reports the workspace against the 16 MiB target).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from compare import (
    TRAIN_CASES,
    check_training,
    latency_impls,
    latency_reference,
    latency_weights,
    load_sklearn,
    measure_training_memory,
    spiral_data,
    train_data,
    train_impls,
)

pytestmark = pytest.mark.benchmark(warmup=False)  # a warm-up round would be one more epoch

_CASES = {case.id: case for case in TRAIN_CASES}
N_ROWS = 2_048  # rows of the 784-wide data set: one epoch is 16 (32) minibatches
N_SPIRAL = 2_000  # mlpcore's online epoch
TORCH_ONLINE_STEPS = 1_000  # PyTorch's online call: ~0.25 s
N_CHECK = 1_024


@functools.lru_cache(maxsize=None)
def _digits() -> tuple[np.ndarray, np.ndarray, str]:
    return train_data(N_ROWS)


@functools.lru_cache(maxsize=None)
def _spiral() -> tuple[np.ndarray, np.ndarray]:
    return spiral_data(N_SPIRAL)


def _sklearn_module(library: str) -> Any:
    if library != "sklearn":
        return None
    pytest.importorskip("sklearn")
    return load_sklearn()


def _benchmark_training(benchmark: Any, case_id: str, X: np.ndarray, y: np.ndarray,
                        library: str, threads: int, torch: Any,
                        torch_steps: int | None = None) -> None:
    case = _CASES[case_id]
    [(impl, units)] = train_impls(case, X, y, libraries=[library], torch=torch,
                                  sklearn=_sklearn_module(library), torch_steps=torch_steps,
                                  n_check=N_CHECK)
    benchmark.group = f"train {case.label} threads={threads}"
    benchmark.extra_info.update(library=library, threads=threads, units_per_call=units,
                                unit=case.unit, batch_size=case.batch_size, lr=case.lr,
                                momentum=case.momentum)
    benchmark(impl.run)
    stats = getattr(benchmark, "stats", None)
    if stats:
        benchmark.extra_info["rate"] = round(units / stats.stats.median, 1)
    losses = check_training(case.label, impl)
    benchmark.extra_info["check_loss_before_after"] = [round(float(v), 5) for v in losses[:2]]


@pytest.mark.parametrize(
    ("case_id", "library"),
    [("mlp_epoch", "mlpcore"), ("mlp_epoch", "torch"), ("mlp_epoch", "sklearn"),
     ("softmax_epoch", "mlpcore"), ("softmax_epoch", "torch")],
)
def test_train_epoch(benchmark: Any, case_id: str, library: str, threads: int,
                     torch_module: Any, thread_limits: int) -> None:
    X, y, _ = _digits()
    _benchmark_training(benchmark, case_id, X, y, library, threads, torch_module)


@pytest.mark.parametrize("library", ["mlpcore", "torch"])
def test_online_sgd(benchmark: Any, library: str, threads: int, torch_module: Any,
                    thread_limits: int) -> None:
    X, y = _spiral()
    _benchmark_training(benchmark, "online_sgd", X, y, library, threads, torch_module,
                        torch_steps=TORCH_ONLINE_STEPS)


@pytest.mark.parametrize("library", ["mlpcore", "torch"])
def test_predict_proba_one_sample(benchmark: Any, library: str, threads: int,
                                  torch_module: Any, thread_limits: int) -> None:
    case = _CASES["predict_latency"]
    weights = latency_weights(case.layers)
    x = np.random.default_rng(1).random(case.layers[0], dtype=np.float32)
    [impl] = latency_impls(case, x, weights, libraries=[library], torch=torch_module)
    benchmark.group = f"predict_proba 1 sample {case.architecture} threads={threads}"
    benchmark.extra_info.update(library=library, threads=threads)
    benchmark(impl.run)
    np.testing.assert_allclose(impl.result(), latency_reference(x, weights), rtol=0, atol=1e-5,
                               err_msg=f"{library} predict_proba")


def test_train_memory_no_copy_of_data() -> None:
    """One epoch on 20,000 x 784 (60 MiB) in a fresh interpreter: the peak resident set above
    the baseline stays well below data + a copy of it (fit gathers minibatches from X)."""
    case = _CASES["train_memory"]
    m = measure_training_memory(case, "mlpcore", n=20_000, epochs=1, threads=1)
    assert m["data_overhead_mib"] < 4, m  # the script itself makes no copy
    assert m["workspace_mib"] < m["data_mib"] / 2, m
