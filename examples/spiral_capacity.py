"""The capacity experiment: two interleaved spirals and MLPs with 3, 6 and 20 hidden units.

A network with one hidden layer of h tanh units cuts the plane with h smooth "ridges" and
combines them; how many it has bounds how twisted its decision boundary can be. Two spiral
arms winding 1.25 times around each other need many: with 3 units the network cannot follow
them (training and validation accuracy stay low together: *underfitting*, high bias); with 6 it
follows most of a turn; with 20 it separates the training points almost perfectly. The same
training procedure is run for each capacity over several seeds (initial weights and minibatch
order) by :func:`mlpcore.experiments.capacity_sweep`, on one fixed train/validation/test split
(features standardised with the training points' mean and standard deviation).

The script prints a table (mean and range over the seeds) and draws:

    decision_boundaries.png   the three models of the first seed side by side, on the training points
    capacity.png              train, validation and test error against the number of hidden units

The boundary models are retrained with the plain API (``MLP`` + ``fit`` with the trial's seed);
trials are seeded so that this reproduces the sweep's rows exactly, which the script checks.

Run it as

    python examples/spiral_capacity.py [--out DIR] [--fast] [--seed N] [--seeds R] [--hidden 3 6 20]

``--seed`` seeds the data and the split, ``--seeds R`` runs each capacity with trial seeds
0 .. R-1 (default 5, 2 with ``--fast``). Figures go to ``--out`` (default:
figures/spiral_capacity in the current directory, created if needed). ``--fast`` uses 300
points and 200 epochs (a few seconds). Needs matplotlib (``pip install "mlpcore[plot]"``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import mlpcore
import numpy as np
from mlpcore import data, experiments, metrics

PROG = "spiral_capacity"
DEFAULT_OUT = Path("figures") / PROG

# The training recipe shared by the sweep and the retrained boundary models.
TRAINING = {"activation": "tanh", "batch_size": 16, "lr": 0.05, "momentum": 0.9}
VAL_SIZE = TEST_SIZE = 0.25


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def summary(rows: list[dict[str, Any]], hidden: list[int]) -> None:
    """Mean (min-max) of the train, validation and test accuracy per capacity."""
    print(f"{'hidden':>6}  {'train accuracy':>20}  {'validation accuracy':>20}  {'test accuracy':>20}")
    for h in hidden:
        mine = [r for r in rows if r["hidden"] == h]
        cells = []
        for split in ("train", "val", "test"):
            values = np.array([r[f"{split}_score"] for r in mine])
            cells.append(f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})")
        print(f"{h:6d}  " + "  ".join(f"{c:>20}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the figures (default {DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true", help="300 points, 200 epochs, 2 seeds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the spiral data and of the split")
    parser.add_argument("--seeds", type=positive_int, help="trial seeds per capacity (default 5, 2 with --fast)")
    parser.add_argument("--hidden", type=positive_int, nargs="+", default=[3, 6, 20],
                        help="hidden units to compare (default 3 6 20)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"argument --seed: must be >= 0 (got {args.seed})")
    if len(set(args.hidden)) != len(args.hidden):
        parser.error(f"argument --hidden: repeats a capacity (got {args.hidden})")

    try:
        from mlpcore import plot
    except ImportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG}: error: cannot create the output folder: {exc}", file=sys.stderr)
        return 2

    n_points, epochs = (300, 200) if args.fast else (450, 500)
    n_seeds = args.seeds or (2 if args.fast else 5)
    X, y = data.make_spiral(n_points, 2, noise=0.05, turns=1.25, seed=args.seed)
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(
        X, y, val_size=VAL_SIZE, test_size=TEST_SIZE, seed=args.seed
    )
    # Unit variance per feature puts tanh units in their sensitive range; the scale comes
    # from the training points alone, like any other fitted quantity.
    scaler = data.StandardScaler().fit(X_train)
    X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))
    print(f"two spirals, 1.25 turns: {n_points} points split {1 - VAL_SIZE - TEST_SIZE:.0%}/{VAL_SIZE:.0%}/"
          f"{TEST_SIZE:.0%} train/validation/test; 2-h-2 tanh networks, SGD lr {TRAINING['lr']}, "
          f"momentum {TRAINING['momentum']}, batch {TRAINING['batch_size']}, {epochs} epochs, {n_seeds} seeds")

    # Trials take milliseconds: worker processes would cost more than they save.
    rows = experiments.capacity_sweep(
        X_train, y_train, args.hidden, epochs=epochs, validation_data=(X_val, y_val), test_data=(X_test, y_test),
        seeds=n_seeds, n_jobs=1, **TRAINING,
    )
    summary(rows, args.hidden)

    # The sweep's first trial per capacity, redone with the plain API for the pictures.
    optimizer = mlpcore.SGD(lr=TRAINING["lr"], momentum=TRAINING["momentum"])
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.2 * len(args.hidden), 5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(args.hidden)))
    reproduced = True
    for h, ax in zip(args.hidden, axes):
        model = mlpcore.MLP([2, h, 2], activation=TRAINING["activation"], seed=0)
        mlpcore.fit(model, X_train, y_train, optimizer=optimizer, epochs=epochs, batch_size=TRAINING["batch_size"],
                    validation_data=(X_val, y_val), seed=0)
        row = next(r for r in rows if r["hidden"] == h and r["seed"] == 0)
        train_acc = metrics.accuracy(y_train, model.predict(X_train))
        val_acc = metrics.accuracy(y_val, model.predict(X_val))
        reproduced &= train_acc == row["train_score"] and val_acc == row["val_score"]
        plot.decision_boundary(model, X_train, y_train, ax=ax,
                               title=f"{h} hidden units: train {train_acc:.2f}, validation {val_acc:.2f}")
    print(f"boundary models (seed 0) reproduce the sweep's rows exactly: {'yes' if reproduced else 'NO'}")
    out = args.out
    fig.savefig(out / "decision_boundaries.png", format="png", dpi=120)
    plot.sweep(rows, "hidden", metric="error", path=out / "capacity.png",
               title=f"capacity on the spiral ({n_seeds} seeds)")
    print(f"figures in {out}: decision_boundaries.png, capacity.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
