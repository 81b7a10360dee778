"""Softmax regression and a multilayer perceptron trained on the real MNIST digits.

The lecture's set-up: a stratified train/validation/test split of the 10,000 MNIST test digits
(8,000/1,000/1,000), pixels in [0, 1]. Softmax regression (784 -> 10) and a 784-256-128-10 ReLU
MLP are trained by minibatch SGD; the MLP uses momentum, a little weight decay and early stopping
on the validation loss (the best epoch's weights are kept). Then both are judged on the test
digits: accuracy with a binomial confidence check, macro F1, and McNemar's test between them.

    python examples/mnist_training.py [--data DIR] [--fast] [--seed N] [--save model.npz]

DIR holds the MNIST IDX files (default: ../shared/data/mnist beside the project).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import mlpcore
from mlpcore import data, metrics, stats

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def train(name: str, model: mlpcore.MLP, parts: dict[str, np.ndarray], **fit_args) -> np.ndarray:
    """Train ``model``, print its learning curve in brief and return its test predictions."""
    start = time.perf_counter()
    history = mlpcore.fit(
        model, parts["X_train"], parts["y_train"], validation_data=(parts["X_val"], parts["y_val"]), **fit_args
    )
    seconds = time.perf_counter() - start
    best = history.best_epoch
    samples = len(parts["y_train"]) * history.epochs
    print(f"{name}: {history.epochs} epochs in {seconds:.2f} s ({samples / seconds:,.0f} samples/s)")
    print(
        f"  best epoch {best + 1}: train loss {history.train_loss[best]:.4f}, "
        f"validation loss {history.val_loss[best]:.4f}, validation accuracy {history.val_accuracy[best]:.4f}"
        + ("  (stopped early)" if history.stopped_early else "")
    )
    predicted = model.predict(parts["X_test"])
    y_test = parts["y_test"]
    correct = int((predicted == y_test).sum())
    chance = stats.binomial_test(correct, len(y_test), p=0.1, alternative="greater")
    print(
        f"  test accuracy {correct / len(y_test):.4f}, macro F1 {metrics.f1(y_test, predicted, average='macro'):.4f}, "
        f"binomial test against chance {stats.format_p(chance.pvalue)}"
    )
    return predicted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    parser.add_argument("--fast", action="store_true", help="2,000 digits and a few epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", type=Path, help="write the trained MLP to this .npz file")
    args = parser.parse_args(argv)

    try:
        X, y = data.load_mnist(args.data, subset="test")
    except (FileNotFoundError, ValueError) as exc:
        print(f"mnist_training: {exc}", file=sys.stderr)
        return 2
    if args.fast:
        X, y = X[:2000], y[:2000]
    names = ("X_train", "X_val", "X_test", "y_train", "y_val", "y_test")
    parts = dict(zip(names, data.train_val_test_split(X, y, val_size=0.1, test_size=0.1, seed=args.seed)))
    print(f"MNIST digits: {len(parts['y_train'])} train, {len(parts['y_val'])} validation, {len(parts['y_test'])} test")

    epochs = 5 if args.fast else 20
    softmax = mlpcore.MLP([784, 10], seed=args.seed)
    softmax_pred = train(
        "softmax regression 784-10", softmax, parts,
        optimizer=mlpcore.SGD(lr=0.1), epochs=epochs, batch_size=64, seed=args.seed,
    )
    mlp = mlpcore.MLP([784, 256, 128, 10], activation="relu", seed=args.seed)
    mlp_pred = train(
        "MLP 784-256-128-10", mlp, parts,
        optimizer=mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=1e-4),
        epochs=2 * epochs, batch_size=64, seed=args.seed,
        early_stopping=mlpcore.EarlyStopping(monitor="val_loss", patience=5),
    )

    y_test = parts["y_test"]
    test = stats.mcnemar_test(y_test, softmax_pred, mlp_pred)
    print(f"McNemar's test, softmax regression vs MLP on the same test digits: p = {test.pvalue:.2e}")
    if args.save:
        mlp.save(args.save)
        print(f"saved the MLP to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
