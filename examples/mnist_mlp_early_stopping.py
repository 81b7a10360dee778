"""An MLP on MNIST with a train/validation/test split and early stopping.

Three disjoint parts of the data, three jobs: the weights are fitted on the *training* digits,
the number of epochs is chosen on the *validation* digits, and the *test* digits are looked at
once, at the end, to report how well the chosen model generalises. A 784-256-10 ReLU network
trained long enough on 8,000 digits starts to overfit: the training loss keeps falling while
the validation loss, after a minimum, rises again. Early stopping watches the validation loss,
stops after ``patience`` epochs without improvement and restores the weights of the best epoch.

To see what stopping changed, the same run (same initial weights, same minibatch order:
training is deterministic) is also continued for the whole epoch budget; up to the stopping
point both runs are identical. Typically the stopped model has the lower validation and test
*loss* (the continued one grows over-confident on the digits it gets wrong) at a fraction of
the epochs, while the test *accuracy* of the two differs by a few digits either way. The script
prints both runs' validation and test figures and draws:

    learning_curves.png   the early-stopped run: loss and accuracy per epoch, best epoch marked
    full_run.png          the run continued to the end, with the early-stopping epochs marked

Run it as

    python examples/mnist_mlp_early_stopping.py [--data DIR] [--out DIR] [--fast] [--seed N]
                                                [--epochs N] [--patience N]

DIR holds the MNIST IDX files (default: ../shared/data/mnist beside the project); the 10,000
digits are split 8,000/1,000/1,000 (stratified, seeded). Figures go to ``--out`` (default:
figures/mnist_mlp_early_stopping in the current directory, created if needed). ``--fast``
uses 2,000 digits, 128 hidden units and at most 25 epochs (a few seconds). Needs matplotlib
(``pip install "mlpcore[plot]"``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import mlpcore
import numpy as np
from mlpcore import data, metrics

PROG = "mnist_mlp_early_stopping"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
DEFAULT_OUT = Path("figures") / PROG


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def test_figures(model: mlpcore.MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Cross-entropy and accuracy of ``model`` on ``(X, y)``."""
    proba = model.predict_proba(X)
    return metrics.log_loss(y, proba, labels=np.arange(10)), metrics.accuracy(y, proba.argmax(axis=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the figures (default {DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true", help="2,000 digits, 128 hidden units, at most 25 epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the weights and the minibatch order")
    parser.add_argument("--epochs", type=positive_int, help="epoch budget (default 60, 25 with --fast)")
    parser.add_argument("--patience", type=positive_int,
                        help="epochs without a better validation loss before stopping (default 10, 4 with --fast)")
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
    hidden = 128 if args.fast else 256
    epochs = args.epochs or (25 if args.fast else 60)
    patience = args.patience or (4 if args.fast else 10)
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(
        X, y, val_size=0.1, test_size=0.1, seed=args.seed
    )
    print(f"MNIST digits: {len(y_train)} train, {len(y_val)} validation, {len(y_test)} test")
    print(f"MLP 784-{hidden}-10 (ReLU), SGD lr 0.05 momentum 0.9, batch 64, at most {epochs} epochs")

    def train(early_stopping: mlpcore.EarlyStopping | None) -> tuple[mlpcore.MLP, mlpcore.History, float]:
        model = mlpcore.MLP([784, hidden, 10], activation="relu", seed=args.seed)
        start = time.perf_counter()
        history = mlpcore.fit(
            model, X_train, y_train, optimizer=mlpcore.SGD(lr=0.05, momentum=0.9), epochs=epochs, batch_size=64,
            validation_data=(X_val, y_val), early_stopping=early_stopping, seed=args.seed,
        )
        return model, history, time.perf_counter() - start

    stopper = mlpcore.EarlyStopping(monitor="val_loss", patience=patience, restore_best=True)
    early_model, early, early_seconds = train(stopper)
    full_model, full, full_seconds = train(None)

    best = early.best_epoch
    assert best is not None  # fit always records a best epoch with validation data
    # Same seeds, same data: the continued run repeats the early-stopped one epoch for epoch.
    same_start = early.val_loss == full.val_loss[: early.epochs]
    print(f"\nwith early stopping (patience {patience}, on the validation loss): "
          f"{early.epochs} epochs in {early_seconds:.2f} s"
          + (", stopped early" if early.stopped_early else ", ran out of epochs before stopping"))
    print(f"  best epoch {best + 1}: train loss {early.train_loss[best]:.4f}, "
          f"validation loss {early.val_loss[best]:.4f}, validation accuracy {early.val_accuracy[best]:.4f}")
    early_loss, early_accuracy = test_figures(early_model, X_test, y_test)
    print(f"  test loss {early_loss:.4f}, test accuracy {early_accuracy:.4f} (weights of epoch {best + 1})")

    last = full.epochs - 1
    print(f"\nwithout early stopping: {full.epochs} epochs in {full_seconds:.2f} s "
          f"(identical to the run above for its first {early.epochs} epochs: {'yes' if same_start else 'NO'})")
    print(f"  last epoch {last + 1}: train loss {full.train_loss[last]:.4f}, "
          f"validation loss {full.val_loss[last]:.4f}, validation accuracy {full.val_accuracy[last]:.4f}")
    full_loss, full_accuracy = test_figures(full_model, X_test, y_test)
    print(f"  test loss {full_loss:.4f}, test accuracy {full_accuracy:.4f} (weights of epoch {last + 1})")
    print(f"\nearly stopping: {full.epochs - early.epochs} fewer epochs, test loss {early_loss - full_loss:+.4f}, "
          f"test accuracy {early_accuracy - full_accuracy:+.4f}")

    out = args.out
    plot.learning_curves(early, path=out / "learning_curves.png",
                         title=f"MLP 784-{hidden}-10 with early stopping (patience {patience})")
    fig = plot.learning_curves(full, title=f"the same run without early stopping ({full.epochs} epochs)")
    for ax in fig.axes:
        ax.axvline(early.epochs, color="C3", linestyle=":", linewidth=1.5,
                   label=f"early stopping ends training (epoch {early.epochs})")
        ax.axvspan(early.epochs, full.epochs, color="C3", alpha=0.06, label="_after the stop")
        ax.legend()
    fig.savefig(out / "full_run.png", format="png", dpi=120)
    print(f"figures in {out}: learning_curves.png, full_run.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
