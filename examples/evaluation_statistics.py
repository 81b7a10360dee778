"""Judging classifiers honestly: ROC and PR curves, correlations, and many tests at once.

Two models are trained on MNIST (softmax regression and a 784-128-10 MLP) and evaluated on
held-out digits, in three parts:

1. **ROC and precision-recall.** The binary question "is this digit a 3?" is answered by each
   model's probability P(3 | x). Sweeping the threshold gives the ROC curve (true positive rate
   TP/P against false positive rate FP/N; AUROC = the probability that a random 3 scores above
   a random non-3) and the precision-recall curve (precision TP/(TP+FP) against recall; its
   area, the average precision, reacts to the 1-in-10 rarity of 3s, which AUROC ignores).
2. **Correlation.** Does the model know when it is wrong? Spearman's rho between its confidence
   (top probability) and being right. Do the two models find the same digits hard? Pearson's r
   and Spearman's rho between their per-digit losses -log p(true class): the losses are heavy
   tailed, so r is driven by a few digits both get badly wrong while rho measures the agreement
   of the whole ranking. Each with a test of H0: no correlation.
3. **Many tests.** Which pixels tell a 3 from a 5? With only 40 digits of each, every pixel
   that varies gets a test of its correlation with the class (the point-biserial correlation,
   equivalent to a two-sample t-test): hundreds of p-values. At p < 0.05 without correction
   about 5% of the truly null pixels come out "significant" anyway. Bonferroni (p * m < 0.05)
   controls the chance of any false discovery and Benjamini-Hochberg (q < 0.05) the expected
   fraction of false discoveries among the discoveries, so BH keeps more pixels. The same is
   repeated with the labels shuffled, where every discovery is false. Finally the two models
   are compared digit class by digit class with McNemar's test (10 tests), corrected the same way.

The script prints AUROC/AP, the correlations and the counts of surviving tests, and draws:

    roc.png                 ROC curves of both models for "is it a 3?"
    precision_recall.png    precision-recall curves of both models
    loss_correlation.png    the two models' per-digit losses against each other
    pixel_tests.png         pixels significant at p < 0.05, after BH and after Bonferroni

Run it as

    python examples/evaluation_statistics.py [--data DIR] [--out DIR] [--fast] [--seed N]

DIR holds the MNIST IDX files (default: ../shared/data/mnist beside the project); the 10,000
digits are split 8,000/2,000 into training and test digits (stratified, seeded). Figures go to
``--out`` (default: figures/evaluation_statistics in the current directory, created if needed).
``--fast`` uses 2,000 digits and 5 epochs (a few seconds). Needs matplotlib
(``pip install "mlpcore[plot]"``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import mlpcore
import numpy as np
from mlpcore import data, metrics, stats

PROG = "evaluation_statistics"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
DEFAULT_OUT = Path("figures") / PROG
ALPHA = 0.05
PER_CLASS = 40  # digits of each class in the pixel tests: few on purpose


def surviving(pvalues: np.ndarray) -> dict[str, np.ndarray]:
    """Which tests are rejected at level ALPHA: uncorrected, Benjamini-Hochberg, Bonferroni."""
    return {
        "p < 0.05": pvalues < ALPHA,
        "BH q < 0.05": stats.benjamini_hochberg(pvalues) < ALPHA,
        "Bonferroni": stats.bonferroni(pvalues) < ALPHA,
    }


def pixel_pvalues(X: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The varying pixels of X and, for each, the p-value of its correlation with ``label``."""
    # A pixel blank in every digit of the sample has no correlation to test.
    varying = np.flatnonzero(X.std(axis=0) > 0)
    pvalues = np.array([stats.correlation_test(X[:, j], label).pvalue for j in varying])
    return varying, pvalues


def per_digit_loss(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """-log p(true class), with p clipped to [eps, 1 - eps] (float32 eps) as log_loss does."""
    eps = float(np.finfo(np.float32).eps)
    p = np.clip(proba[np.arange(len(y)), y].astype(np.float64), eps, 1.0 - eps)
    return -np.log(p)


def pixel_figure(results: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]], mean_3: np.ndarray,
                 mean_5: np.ndarray, path: Path) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 6.4), layout="constrained")
    axes = fig.subplots(len(results), 4)
    for row, (title, (varying, rejected)) in zip(axes, results.items()):
        row[0].imshow((mean_3 - mean_5).reshape(28, 28), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        row[0].set_title("mean 3 − mean 5" if title == "true labels" else "(same digits)")
        row[0].set_ylabel(title)
        for ax, (name, mask) in zip(row[1:], rejected.items()):
            image = np.zeros(784)
            image[varying[mask]] = 1.0
            ax.imshow(image.reshape(28, 28), cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{name}: {int(mask.sum())} of {mask.size} pixels")
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"pixels correlated with '3 rather than 5' ({PER_CLASS} digits of each)")
    fig.savefig(path, format="png", dpi=110)
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MNIST IDX folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the figures (default {DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true", help="2,000 digits and 5 epochs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the models and the samples")
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
        X, y = data.load_mnist(args.data, subset="test")
    except (FileNotFoundError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG}: error: cannot create the output folder: {exc}", file=sys.stderr)
        return 2
    out = args.out

    if args.fast:
        X, y = X[:2000], y[:2000]
    epochs = 5 if args.fast else 15
    X_train, _, X_test, y_train, _, y_test = data.train_val_test_split(X, y, val_size=0, test_size=0.2, seed=args.seed)
    print(f"MNIST digits: {len(y_train)} train, {len(y_test)} test")

    models = {
        "softmax regression": (mlpcore.MLP([784, 10], seed=args.seed), mlpcore.SGD(lr=0.1)),
        "MLP 784-128-10": (mlpcore.MLP([784, 128, 10], activation="relu", seed=args.seed),
                           mlpcore.SGD(lr=0.05, momentum=0.9)),
    }
    proba: dict[str, np.ndarray] = {}
    for name, (model, optimizer) in models.items():
        mlpcore.fit(model, X_train, y_train, optimizer=optimizer, epochs=epochs, batch_size=64, seed=args.seed)
        proba[name] = model.predict_proba(X_test)
        print(f"{name}: {epochs} epochs, test accuracy {metrics.accuracy(y_test, proba[name].argmax(axis=1)):.4f}")

    # ---------------------------------------------------------------- 1. ROC and precision-recall
    is_3 = (y_test == 3).astype(np.int64)
    scores = {name: p[:, 3] for name, p in proba.items()}
    print(f"\n1. 'is it a 3?' on {len(y_test)} test digits ({int(is_3.sum())} threes, "
          f"positive rate {is_3.mean():.3f}: the AP of guessing)")
    for name, s in scores.items():
        print(f"  {name}: AUROC {metrics.roc_auc(is_3, s):.4f}, AP {metrics.average_precision(is_3, s):.4f}")
    plot.roc_curve(is_3, scores, path=out / "roc.png", title="is it a 3? (test digits)")
    plot.precision_recall_curve(is_3, scores, path=out / "precision_recall.png", title="is it a 3? (test digits)")

    # ---------------------------------------------------------------- 2. correlation
    print("\n2. correlations on the test digits")
    for name, p in proba.items():
        confidence = p.max(axis=1)
        right = (p.argmax(axis=1) == y_test).astype(np.float64)
        test = stats.correlation_test(confidence, right, method="spearman")  # its statistic is rho
        print(f"  {name}: confidence vs correct: Spearman rho {test.statistic:.3f} "
              f"({stats.format_p(test.pvalue)}); mean confidence {confidence[right == 1].mean():.3f} when right, "
              f"{confidence[right == 0].mean():.3f} when wrong")
    (name_a, p_a), (name_b, p_b) = proba.items()
    loss_a, loss_b = per_digit_loss(p_a, y_test), per_digit_loss(p_b, y_test)
    r_test = stats.correlation_test(loss_a, loss_b, method="pearson")
    rho_test = stats.correlation_test(loss_a, loss_b, method="spearman")
    r, rho = r_test.statistic, rho_test.statistic
    print(f"  per-digit losses, {name_a} vs {name_b}: Pearson r {r:.3f} ({stats.format_p(r_test.pvalue)}), "
          f"Spearman rho {rho:.3f} ({stats.format_p(rho_test.pvalue)})")
    fig = Figure(figsize=(5.6, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(loss_a, loss_b, s=6, alpha=0.4, color="C0", linewidths=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"loss of {name_a}")
    ax.set_ylabel(f"loss of {name_b}")
    ax.set_title(f"per-digit loss −log p(true class)\nPearson r = {r:.2f}, Spearman ρ = {rho:.2f}")
    ax.grid(True, alpha=0.3)
    fig.savefig(out / "loss_correlation.png", format="png", dpi=120)

    # ---------------------------------------------------------------- 3. many tests
    rng = np.random.default_rng(args.seed)
    picked = np.concatenate([rng.choice(np.flatnonzero(y_train == c), PER_CLASS, replace=False) for c in (3, 5)])
    X_35 = X_train[picked].astype(np.float64)
    label = (y_train[picked] == 3).astype(np.float64)
    shuffled = rng.permutation(label)
    print(f"\n3. pixel by pixel, 3 vs 5 ({PER_CLASS} + {PER_CLASS} training digits): "
          f"H0 = the pixel is not correlated with the class")
    results: dict[str, tuple[np.ndarray, dict[str, np.ndarray]]] = {}
    for title, labels in (("true labels", label), ("shuffled labels", shuffled)):
        varying, pvalues = pixel_pvalues(X_35, labels)
        rejected = surviving(pvalues)
        results[title] = (varying, rejected)
        counts = ", ".join(f"{k} {int(v.sum())}" for k, v in rejected.items())
        print(f"  {title}: {pvalues.size} pixels tested; significant: {counts}")
    n_tests = results["shuffled labels"][0].size
    print(f"  (with shuffled labels every discovery is false; by chance alone about {ALPHA:g} x {n_tests} = "
          f"{ALPHA * n_tests:.0f} tests pass p < 0.05, more or fewer since neighbouring pixels are correlated)")
    pixel_figure(results, X_35[label == 1].mean(axis=0), X_35[label == 0].mean(axis=0), out / "pixel_tests.png")

    pred_a, pred_b = p_a.argmax(axis=1), p_b.argmax(axis=1)
    overall = stats.mcnemar_test(y_test, pred_a, pred_b)
    print(f"  McNemar, {name_a} vs {name_b} on all test digits: {stats.format_p(overall.pvalue)} "
          f"({overall.only_a_correct} digits only the first gets right, {overall.only_b_correct} only the second)")
    per_class = np.array([stats.mcnemar_test(y_test[y_test == c], pred_a[y_test == c], pred_b[y_test == c]).pvalue
                          for c in range(10)])
    rejected = surviving(per_class)
    counts = ", ".join(f"{k} {int(v.sum())}" for k, v in rejected.items())
    print(f"  McNemar per digit class: {per_class.size} tests; significant: {counts}")
    print("    p-values by class: " + " ".join(f"{c}:{p:.2g}" for c, p in enumerate(per_class)))
    print(f"figures in {out}: roc.png, precision_recall.png, loss_correlation.png, pixel_tests.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
