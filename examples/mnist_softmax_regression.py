"""Softmax regression on MNIST by minibatch SGD: the lecture's problem set.

The model is one linear layer and a softmax, ``p(y = k | x) = softmax(W^T x + b)_k`` with W of
shape 784 x 10. Training minimises the mean cross-entropy ``-log p(y_i | x_i)`` of each minibatch
B by stochastic gradient descent; the gradient of that loss is

    dL/dW = (1/|B|) sum_{i in B} x_i (p_i - e_{y_i})^T,     dL/db = (1/|B|) sum_{i in B} (p_i - e_{y_i})

so each column ``W[:, k]`` moves towards the digits of class k and away from the digits mistaken
for it: after training it is a 28 x 28 *template* of digit k, and the prediction is the class
whose template (plus bias) matches the image best. The script trains on a stratified
train/validation/test split of the 10,000 MNIST test digits (8,000/1,000/1,000), prints the
learning curve in brief, the test accuracy and the most frequent confusions, and draws:

    learning_curves.png    loss and accuracy per epoch, training and validation
    confusion_matrix.png   test digits: true class (rows) against predicted class (columns)
    weights.png            the 10 learned templates W[:, k] (red: evidence for k, blue: against)
    test_digits.png        the first 50 test digits with their predicted labels (20 with --fast)
    mistakes.png           up to 50 misclassified test digits, red titles (20 with --fast)

Run it as

    python examples/mnist_softmax_regression.py [--data DIR] [--out DIR] [--fast] [--seed N]
                                                [--epochs N] [--lr LR] [--batch-size B]

DIR holds the MNIST IDX files (default: ../shared/data/mnist beside the project). Figures go to
``--out`` (default: figures/mnist_softmax_regression in the current directory, created if
needed). ``--fast`` uses 2,000 digits and 5 epochs (a few seconds). Needs matplotlib
(``pip install "mlpcore[plot]"``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import mlpcore
import numpy as np
from mlpcore import data, metrics

PROG = "mnist_softmax_regression"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
DEFAULT_OUT = Path("figures") / PROG


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number (got {text})")
    return value


def weight_templates(W: np.ndarray, path: Path) -> Any:
    """The columns of W as 28 x 28 images on one shared, symmetric colour scale."""
    from matplotlib.figure import Figure

    # One scale for all ten: a template's contrast then says how strongly it weighs its pixels.
    limit = float(np.abs(W).max()) or 1.0
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    axes = fig.subplots(2, 5)
    for k, ax in enumerate(axes.ravel()):
        image = ax.imshow(W[:, k].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set_title(f"digit {k}")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight W[pixel, k]")
    fig.suptitle("softmax regression: the learned weight templates")
    fig.savefig(path, format="png", dpi=120)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the figures (default {DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true", help="2,000 digits and 5 epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of the minibatch order")
    parser.add_argument("--epochs", type=positive_int, help="epochs of SGD (default 20, 5 with --fast)")
    parser.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--batch-size", type=positive_int, default=100, help="minibatch size (default 100)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"argument --seed: must be >= 0 (got {args.seed})")

    try:
        from mlpcore import plot
    except ImportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        X, y = data.load_mnist(args.data, subset="test")
    except (FileNotFoundError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG}: error: cannot create the output folder: {exc}", file=sys.stderr)
        return 2

    if args.fast:
        X, y = X[:2000], y[:2000]
    epochs = args.epochs or (5 if args.fast else 20)
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(
        X, y, val_size=0.1, test_size=0.1, seed=args.seed
    )
    print(f"MNIST digits: {len(y_train)} train, {len(y_val)} validation, {len(y_test)} test")

    model = mlpcore.MLP([784, 10], output="softmax")
    # The problem is convex, so the start does not matter for the optimum; zeros keep the
    # templates clean: pixels that are blank in every training digit get no gradient and
    # would show the random initial weights forever.
    model.set_weights([(np.zeros((784, 10)), np.zeros(10))])
    start = time.perf_counter()
    history = mlpcore.fit(
        model, X_train, y_train, optimizer=mlpcore.SGD(lr=args.lr), epochs=epochs, batch_size=args.batch_size,
        validation_data=(X_val, y_val), seed=args.seed,
    )
    seconds = time.perf_counter() - start
    print(f"softmax regression 784-10, SGD lr {args.lr:g}, batch {args.batch_size}: "
          f"{epochs} epochs in {seconds:.2f} s")
    print("  epoch  train loss  val loss  train acc  val acc")
    for e in range(history.epochs):
        print(f"  {e + 1:5d}  {history.train_loss[e]:10.4f}  {history.val_loss[e]:8.4f}  "
              f"{history.train_accuracy[e]:9.4f}  {history.val_accuracy[e]:7.4f}")

    predicted = model.predict(X_test)
    accuracy = metrics.accuracy(y_test, predicted)
    print(f"test accuracy {accuracy:.4f} (error {1 - accuracy:.4f}), "
          f"macro F1 {metrics.f1(y_test, predicted, average='macro'):.4f}")
    counts = metrics.confusion_matrix(y_test, predicted, labels=np.arange(10))
    off_diagonal = counts - np.diag(np.diag(counts))
    worst = np.argsort(off_diagonal, axis=None)[::-1][:3]
    confusions = ", ".join(f"{t} as {p} ({off_diagonal[t, p]}x)" for t, p in zip(*np.unravel_index(worst, counts.shape))
                           if off_diagonal[t, p] > 0)
    print(f"most frequent confusions (true as predicted): {confusions or 'none'}")

    out = args.out
    plot.learning_curves(history, path=out / "learning_curves.png",
                         title=f"softmax regression on MNIST ({len(y_train)} training digits)")
    plot.confusion_matrix(y_test, predicted, labels=np.arange(10), path=out / "confusion_matrix.png",
                          title=f"test digits (accuracy {accuracy:.3f})")
    weight_templates(model.get_weights()[0][0], out / "weights.png")
    # A grid of 50 small panels takes matplotlib a second or two; --fast draws fewer.
    shown = 20 if args.fast else 50
    plot.digits(X_test, y_test, predicted, max_images=shown, path=out / "test_digits.png",
                title=f"first {shown} test digits: true label (predicted)")
    wrong = np.flatnonzero(predicted != y_test)
    written = ["learning_curves.png", "confusion_matrix.png", "weights.png", "test_digits.png"]
    if wrong.size:
        plot.digits(X_test[wrong], y_test[wrong], predicted[wrong], max_images=shown, path=out / "mistakes.png",
                    title=f"misclassified test digits ({min(wrong.size, shown)} of {wrong.size})")
        written.append("mistakes.png")
    print(f"figures in {out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
