"""Overfitting and regularisation: seven ways to train one oversized network, compared on one task.

The task is built to overfit: 150 training points of two noisy spirals (noise 0.2, so even the
best possible classifier errs on a fair share of points) and a 2-100-2 ReLU network, far more
capacity than 150 points can pin down, trained for 1,000 epochs. Without regularisation it
learns the noise: its boundary wraps around single points, training accuracy climbs well above
what it achieves on new points, and the difference (the *generalisation gap*) is large. Each
regulariser restrains the fit in its own way:

    none            plain SGD with momentum
    L2              weight decay: gradient + lambda * W (small weights, smooth functions)
    L1              gradient + lambda * sign(W) (drives weights to exactly 0: sparse networks)
    dropout         each hidden unit dropped with probability p per step (no co-adapted units)
    input noise     Gaussian noise added to the inputs per step (the boundary must keep a margin)
    max-norm        each unit's incoming weight vector capped at length c after every step
    early stopping  stop when the validation loss has not improved for `patience` epochs

All seven train with the same seeds (initial weights, minibatch order) through
:func:`mlpcore.experiments.regularization_sweep` and are judged on 1,000 validation and 1,000
test points from the same distribution. The script prints a table (means over the seeds) of
train/validation/test accuracy, the gap train - test, the validation loss and the epochs
trained, and draws:

    regularization.png        train, validation and test error per regulariser (band: min-max over seeds)
    decision_boundaries.png   the boundary each regulariser learns (first seed), on the training points

The strengths below are reasonable rather than tuned; choosing them (on the validation set,
never the test set) is the next exercise.

Run it as

    python examples/regularization.py [--out DIR] [--fast] [--seed N] [--seeds R]

``--seed`` seeds the data and the split, ``--seeds R`` runs every setting with trial seeds
0 .. R-1 (default 5, 1 with ``--fast``). Figures go to ``--out`` (default:
figures/regularization in the current directory, created if needed). ``--fast`` uses 500
validation and test points and 300 epochs (a few seconds). Needs matplotlib
(``pip install "mlpcore[plot]"``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import mlpcore
import numpy as np
from mlpcore import data, experiments, metrics

PROG = "regularization"
DEFAULT_OUT = Path("figures") / PROG

HIDDEN = 100
TRAINING = {"activation": "relu", "batch_size": 16, "lr": 0.05, "momentum": 0.9}
# Name shown in the table and figures -> the one setting that differs from plain SGD.
REGULARIZERS: dict[str, dict[str, Any]] = {
    "none": {},
    "L2": {"weight_decay": 3e-3},
    "L1": {"l1": 1e-3},
    "dropout": {"dropout": 0.3},
    "input noise": {"input_noise": 0.3},
    "max-norm": {"max_norm": 1.0},
    "early stopping": {"early_stopping": 20},
}


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return value


def describe_setting(setting: dict[str, Any]) -> str:
    if not setting:
        return "-"
    (key, value), = setting.items()
    return f"patience {value}" if key == "early_stopping" else f"{key} {value:g}"


def retrain(setting: dict[str, Any], X: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray],
            epochs: int, seed: int) -> mlpcore.MLP:
    """The sweep's trial for ``setting`` and ``seed``, with the plain API (same seeds, same result)."""
    model = mlpcore.MLP([2, HIDDEN, 2], activation=TRAINING["activation"], dropout=setting.get("dropout", 0.0),
                        input_noise=setting.get("input_noise", 0.0), seed=seed)
    optimizer = mlpcore.SGD(lr=TRAINING["lr"], momentum=TRAINING["momentum"],
                            weight_decay=setting.get("weight_decay", 0.0), l1=setting.get("l1", 0.0),
                            max_norm=setting.get("max_norm"))
    patience = setting.get("early_stopping")
    stopper = None if patience is None else mlpcore.EarlyStopping(monitor="val_loss", patience=patience)
    mlpcore.fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=TRAINING["batch_size"],
                validation_data=validation, early_stopping=stopper, seed=seed)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the figures (default {DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true", help="500 validation and test points, 300 epochs, 1 seed")
    parser.add_argument("--seed", type=int, default=0, help="seed of the spiral data and of the split")
    parser.add_argument("--seeds", type=positive_int, help="trial seeds per setting (default 5, 1 with --fast)")
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"argument --seed: must be >= 0 (got {args.seed})")

    try:
        from matplotlib.figure import Figure
        from mlpcore import plot
    except ImportError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG}: error: cannot create the output folder: {exc}", file=sys.stderr)
        return 2

    n_train = 150
    n_held_out, epochs = (500, 300) if args.fast else (1000, 1000)
    n_seeds = args.seeds or (1 if args.fast else 5)
    X, y = data.make_spiral(n_train + 2 * n_held_out, 2, noise=0.2, turns=1.0, seed=args.seed)
    X_train, X_val, X_test, y_train, y_val, y_test = data.train_val_test_split(
        X, y, val_size=n_held_out, test_size=n_held_out, seed=args.seed
    )
    scaler = data.StandardScaler().fit(X_train)
    X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))
    print(f"two noisy spirals: {n_train} training, {n_held_out} validation, {n_held_out} test points; "
          f"2-{HIDDEN}-2 ReLU network, SGD lr {TRAINING['lr']} momentum {TRAINING['momentum']}, "
          f"batch {TRAINING['batch_size']}, {epochs} epochs, {n_seeds} seed(s)")

    names = list(REGULARIZERS)
    # A plain setting must name some key: "none" is weight decay 0, which is what it means.
    grid = [REGULARIZERS[name] or {"weight_decay": 0.0} for name in names]
    rows = experiments.regularization_sweep(
        X_train, y_train, grid, hidden=HIDDEN, epochs=epochs, validation_data=(X_val, y_val),
        test_data=(X_test, y_test), seeds=n_seeds, n_jobs=1, **TRAINING,
    )
    # Rows come setting by setting, seeds within a setting.
    for i, row in enumerate(rows):
        row["regulariser"] = names[i // n_seeds]

    header = (f"{'regulariser':<15} {'setting':<19} {'train acc':>9} {'val acc':>8} {'test acc':>8} "
              f"{'gap':>7} {'val loss':>8} {'epochs':>7}")
    print(header)
    print("-" * len(header))
    for name in names:
        mine = [r for r in rows if r["regulariser"] == name]
        mean = {key: float(np.mean([r[key] for r in mine]))
                for key in ("train_score", "val_score", "test_score", "val_loss", "epochs")}
        gap = mean["train_score"] - mean["test_score"]
        print(f"{name:<15} {describe_setting(REGULARIZERS[name]):<19} {mean['train_score']:9.3f} "
              f"{mean['val_score']:8.3f} {mean['test_score']:8.3f} {gap:+7.3f} {mean['val_loss']:8.3f} "
              f"{mean['epochs']:7.0f}")
    print("(accuracies and validation loss: means over the seeds; gap = train - test accuracy)")

    out = args.out
    # Wide enough for seven category names side by side.
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    plot.sweep(rows, "regulariser", metric="error", ax=fig.add_subplot(),
               title=f"regularisers on the noisy spiral ({n_train} training points, {n_seeds} seed(s))")
    fig.savefig(out / "regularization.png", format="png", dpi=120)

    fig = Figure(figsize=(20, 9), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    reproduced = True
    for name, ax in zip(names, axes):
        model = retrain(REGULARIZERS[name], X_train, y_train, (X_val, y_val), epochs, seed=0)
        row = next(r for r in rows if r["regulariser"] == name and r["seed"] == 0)
        train_acc = metrics.accuracy(y_train, model.predict(X_train))
        test_acc = metrics.accuracy(y_test, model.predict(X_test))
        reproduced &= train_acc == row["train_score"] and test_acc == row["test_score"]
        plot.decision_boundary(model, X_train, y_train, ax=ax,
                               title=f"{name}: train {train_acc:.2f}, test {test_acc:.2f}")
    for ax in axes[len(names):]:
        ax.remove()
    fig.savefig(out / "decision_boundaries.png", format="png", dpi=100)
    print(f"boundary models (seed 0) reproduce the sweep's rows exactly: {'yes' if reproduced else 'NO'}")
    print(f"figures in {out}: regularization.png, decision_boundaries.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
