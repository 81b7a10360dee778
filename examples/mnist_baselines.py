"""Two baselines on the real MNIST digits, judged honestly.

Nearest class mean and 1-nearest-neighbour, both built on mlpcore's GEMM: squared distances
||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, the x.c term one matmul over the whole test set. Then
accuracy, per-class precision and recall, a binomial test against chance and McNemar's test
between the two classifiers on the same test digits.

    python examples/mnist_baselines.py [--data DIR] [--fast]

DIR holds the MNIST IDX files (default: ../shared/data/mnist beside the project).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import mlpcore
from mlpcore import data, metrics, ops, stats

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def squared_distances(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """D[i, j] = ||X[i] - C[j]||^2 = ||X[i]||^2 - 2 X[i].C[j] + ||C[j]||^2."""
    D = ops.matmul(X, C, trans_b=True, alpha=-2.0)
    D += np.einsum("ij,ij->i", X, X)[:, None]
    D += np.einsum("ij,ij->i", C, C)[None, :]
    return D


def nearest_mean(X_train: np.ndarray, y_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    classes = np.unique(y_train)
    means = np.stack([X_train[y_train == c].mean(axis=0) for c in classes]).astype(np.float32)
    return classes[np.argmin(squared_distances(X, means), axis=1)]


def nearest_neighbour(X_train: np.ndarray, y_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    return y_train[np.argmin(squared_distances(X, X_train), axis=1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    parser.add_argument("--fast", action="store_true", help="2,000 digits instead of 10,000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    try:
        X, y = data.load_mnist(args.data, subset="test")
    except (FileNotFoundError, ValueError) as exc:
        print(f"mnist_baselines: {exc}", file=sys.stderr)
        return 2
    if args.fast:
        X, y = X[:2000], y[:2000]
    n = len(y)
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(
        X, y, val_size=n // 10, test_size=n // 10, seed=args.seed
    )
    print(f"mlpcore {mlpcore.__version__} ({mlpcore.simd_level()}, {mlpcore.get_num_threads()} threads)")
    print(f"train/val/test: {len(y_train)}/{len(y_val)}/{len(y_test)} digits")

    predictions = {}
    for name, classify in (("nearest mean", nearest_mean), ("1-nearest neighbour", nearest_neighbour)):
        start = time.perf_counter()
        pred = classify(X_train, y_train, X_test)
        seconds = time.perf_counter() - start
        predictions[name] = pred
        correct = int((pred == y_test).sum())
        chance = stats.binomial_test(correct, len(y_test), p=0.1)
        print(f"\n{name}: test accuracy {metrics.accuracy(y_test, pred):.3f} "
              f"(macro F1 {metrics.f1(y_test, pred, average='macro'):.3f}; {seconds * 1e3:.0f} ms)")
        print(f"  better than chance (10%)? binomial {stats.format_p(chance.pvalue)}")
        recall = metrics.recall(y_test, pred, average=None)
        precision = metrics.precision(y_test, pred, average=None)
        print("  digit     " + " ".join(f"{d:5d}" for d in range(10)))
        print("  recall    " + " ".join(f"{r:5.2f}" for r in recall))
        print("  precision " + " ".join(f"{p:5.2f}" for p in precision))

    a, b = predictions.values()
    test = stats.mcnemar_test(y_test, a, b)
    print(f"\nMcNemar, nearest mean vs 1-NN on the same digits: {stats.format_p(test.pvalue)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
