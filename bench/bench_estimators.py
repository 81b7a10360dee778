"""scikit-learn estimators: ``mlpcore.MLPClassifier.fit`` vs scikit-learn's, same parameters.

Small versions of the ``estimators`` family of compare.py (which runs the issue's full case:
8,000 training digits, 20 epochs, seeds 0-2, fit + predict + score, at 2 threads): at the
family's ``--quick`` sizes (``QUICK_ESTIMATOR_SIZES``), a fit of 5 epochs on 2,000 real MNIST
digits (a stratified part of the test set, see ``estimator_data``) with scikit-learn's
defaults otherwise (adam, learning_rate_init 0.001, batch 200, alpha 1e-4), hidden layers
(100,) and (256, 128), random_state 0 for both.

Each call fits a fresh estimator (same seed, so the same work every round). Afterwards the
fitted model must have run all 5 epochs and reach more than 80% accuracy on 500 held-out
digits. Skips when the MNIST files are absent.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pytest
from compare import QUICK_ESTIMATOR_SIZES, estimator_data, mnist_dir

pytest.importorskip("sklearn")

SIZES = QUICK_ESTIMATOR_SIZES
N_TRAIN, N_TEST, EPOCHS = SIZES.n_train, SIZES.n_test, SIZES.mlp_max_iter
HIDDEN = {"100": (100,), "256-128": (256, 128)}


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    return estimator_data(SIZES, mnist_dir())


def _estimator_class(library: str) -> Any:
    if library == "mlpcore":
        from mlpcore import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    return MLPClassifier


@pytest.mark.parametrize("hidden", list(HIDDEN))
@pytest.mark.parametrize("library", ["mlpcore", "sklearn"])
def test_mlp_classifier_fit(benchmark: Any, hidden: str, library: str, threads: int,
                            thread_limits: int) -> None:
    from sklearn.exceptions import ConvergenceWarning

    try:
        X_train, y_train, X_test, y_test, _ = _digits()
    except FileNotFoundError as exc:
        pytest.skip(f"real MNIST test set not found ({exc}; set MLPCORE_MNIST_DIR)")
    cls = _estimator_class(library)
    params = {"hidden_layer_sizes": HIDDEN[hidden], "max_iter": EPOCHS, "random_state": 0}

    def fit() -> Any:
        with warnings.catch_warnings():  # max_iter=5 stops before convergence, as intended
            warnings.simplefilter("ignore", ConvergenceWarning)
            return cls(**params).fit(X_train, y_train)

    benchmark.group = (f"MLPClassifier.fit 784-{hidden}-10, {N_TRAIN} MNIST digits, {EPOCHS} epochs, "
                       f"threads={threads}")
    benchmark.extra_info.update(library=library, threads=threads, n_train=N_TRAIN, epochs=EPOCHS,
                                hidden_layer_sizes=list(HIDDEN[hidden]))
    model = benchmark(fit)
    stats = getattr(benchmark, "stats", None)
    if stats:
        benchmark.extra_info["samples_per_s"] = round(N_TRAIN * EPOCHS / stats.stats.median, 1)
    assert model.n_iter_ == EPOCHS
    accuracy = model.score(X_test, y_test)
    benchmark.extra_info["test_accuracy"] = round(float(accuracy), 4)
    assert accuracy > 0.8, f"{library} MLPClassifier did not train: test accuracy {accuracy:.3f}"
