"""The ``mlpcore`` command line (also ``python -m mlpcore``).

    mlpcore                          version, SIMD level, threads, a timed matmul; the subcommands
    mlpcore train [--data ...]       train an MLP (default: the built-in spiral) and report on it
    mlpcore evaluate --model M.npz   judge a saved model on data (default: its training data)
    mlpcore bench [--quick ...]      the benchmark tables of :mod:`mlpcore.benchmark`

``train`` splits the data into training, validation and test parts (stratified, seeded),
standardises CSV and ``.npz`` features with the training part's statistics (MNIST pixels are
used as ``x / 255``), trains by minibatch SGD or Adam with :func:`mlpcore.fit` (one progress
line per epoch when stderr is a terminal) and prints a report on the test part: accuracy
against the chance level with a one-sided binomial test, macro precision, recall and F1,
AUROC, and a per-class table for up to 10 classes. ``--out`` saves the model together with
what ``evaluate`` needs to treat new data the same way (the scaling, the class labels, the
split); ``--plot`` draws learning curves, ROC and confusion matrix with :mod:`mlpcore.plot`.

A problem with the input (a missing file, a malformed CSV, a bad option value) is reported as
one line ``mlpcore <command>: error: <what is wrong>`` on stderr with exit status 2; Ctrl-C
exits with status 130 (during training it stops after the current epoch and reports on the
model as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import __version__, ops
from ._runtime import (
    get_num_threads,
    set_num_threads,
    simd_level,
    supported_simd_levels,
)
from ._validation import c_array
from .network import MAX_LAYER_WIDTH

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Subcommands and their one-line descriptions (the bare ``mlpcore`` lists them).
SUBCOMMANDS: dict[str, str] = {
    "train": "train an MLP (default: the built-in spiral) and report test accuracy, F1, AUROC",
    "evaluate": "judge a saved model on data: the same report",
    "bench": "time mlpcore against numpy, PyTorch and scikit-learn (markdown tables)",
}

# Defaults of `mlpcore train`: on the spiral they reach 95-98% test accuracy in about 0.2 s;
# on MNIST (--hidden 256,128 --early-stopping) about 96-97% in a few seconds.
DEFAULT_HIDDEN = (128, 64)
DEFAULT_EPOCHS = 100
DEFAULT_BATCH_SIZE = 32
DEFAULT_LR = {"sgd": 0.05, "adam": 0.001}
DEFAULT_MOMENTUM = 0.9
DEFAULT_WEIGHT_DECAY = 1e-4
DEFAULT_PATIENCE = 10
DEFAULT_PART_SIZE = 0.1
#: Significance level of the "beats chance" verdict.
ALPHA = 0.05
#: Classes up to which the report prints a per-class table.
MAX_TABLE_CLASSES = 10
# Version of the metadata layout `train --out` writes beside the weights.
_METADATA_FORMAT = 1
_KEY_WIDTH = 16


class CommandError(Exception):
    """A problem with the user's input, reported as one ``error:`` line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``prog: error: message (see 'prog --help')``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# --------------------------------------------------------------------------- #
# Option values
# --------------------------------------------------------------------------- #


def _hidden(text: str) -> tuple[int, ...]:
    """``256,128`` -> (256, 128); ``none`` -> () (softmax regression)."""
    if text.strip().lower() == "none":
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(not 1 <= s <= MAX_LAYER_WIDTH for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes from 1 to {MAX_LAYER_WIDTH} such as 256,128, or 'none' for no "
            f"hidden layer (got {text!r})"
        )
    return sizes


def _number(text: str, kind: type, *, low: float, low_ok: bool, high: float | None = None) -> Any:
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what} (got {text!r})") from None
    if kind is float and not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite (got {text!r})")
    if kind is int and high is not None and value >= high:  # beyond what the C++ core takes
        raise argparse.ArgumentTypeError(f"must be below 2^{int(high).bit_length() - 1} (got {text!r})")
    if value < low or (value == low and not low_ok) or (high is not None and value >= high):
        bound = f"{'>=' if low_ok else '>'} {low:g}" + (f" and < {high:g}" if high is not None and kind is float else "")
        raise argparse.ArgumentTypeError(f"must be {bound} (got {text!r})")
    return value


def _positive_int(text: str) -> int:
    # Counts reach the C++ core as int64.
    return _number(text, int, low=1, low_ok=True, high=2**63)


def _seed(text: str) -> int:
    return _number(text, int, low=0, low_ok=True, high=2**64)


def _positive_float(text: str) -> float:
    return _number(text, float, low=0.0, low_ok=False)


def _nonnegative_float(text: str) -> float:
    return _number(text, float, low=0.0, low_ok=True)


def _probability(text: str) -> float:
    """In [0, 1): dropout, momentum."""
    return _number(text, float, low=0.0, low_ok=True, high=1.0)


def _part_size(text: str) -> float:
    """A validation or test fraction in (0, 1)."""
    return _number(text, float, low=0.0, low_ok=False, high=1.0)


# --------------------------------------------------------------------------- #
# Parser
# --------------------------------------------------------------------------- #


def _add_train_options(p: argparse.ArgumentParser) -> None:
    data = p.add_argument_group("data")
    data.add_argument(
        "--data", metavar="PATH",
        help="an MNIST IDX folder (its train files; its t10k files split three ways when only those "
        "are there), a .npz file with arrays X and y, or a .csv/.tsv file (default: the built-in spiral)",
    )
    data.add_argument(
        "--label-column", metavar="NAME|INDEX",
        help="CSV column holding the labels: a header name or an index, negative from the end (default -1)",
    )
    data.add_argument("--val-size", type=_part_size, default=DEFAULT_PART_SIZE, metavar="FRACTION",
                      help=f"validation part (default {DEFAULT_PART_SIZE})")
    data.add_argument("--test-size", type=_part_size, default=DEFAULT_PART_SIZE, metavar="FRACTION",
                      help=f"test part (default {DEFAULT_PART_SIZE}; MNIST train files use the t10k files)")
    model = p.add_argument_group("model and training")
    model.add_argument("--hidden", type=_hidden, default=DEFAULT_HIDDEN, metavar="N[,N...]",
                       help="hidden layer sizes, or 'none' for softmax regression (default "
                       f"{','.join(map(str, DEFAULT_HIDDEN))})")
    model.add_argument("--activation", choices=ops.ACTIVATIONS,
                       help="hidden activation (default relu)")
    model.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                       help="minibatch SGD with momentum (default) or Adam")
    model.add_argument("--epochs", type=_positive_int, default=DEFAULT_EPOCHS, metavar="N",
                       help=f"maximum number of epochs (default {DEFAULT_EPOCHS})")
    model.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                       help=f"minibatch size (default {DEFAULT_BATCH_SIZE})")
    model.add_argument("--lr", type=_positive_float, metavar="RATE",
                       help=f"learning rate (default {DEFAULT_LR['sgd']} for sgd, {DEFAULT_LR['adam']} for adam)")
    model.add_argument("--momentum", type=_probability, metavar="M",
                       help=f"SGD momentum in [0, 1] (default {DEFAULT_MOMENTUM})")
    model.add_argument("--weight-decay", type=_nonnegative_float, default=DEFAULT_WEIGHT_DECAY, metavar="L2",
                       help=f"L2 weight decay (default {DEFAULT_WEIGHT_DECAY:g})")
    model.add_argument("--dropout", type=_probability, default=0.0, metavar="P",
                       help="probability of dropping a hidden unit in training (default 0)")
    model.add_argument("--early-stopping", type=_positive_int, nargs="?", const=DEFAULT_PATIENCE,
                       metavar="PATIENCE",
                       help="stop when the validation loss has not improved for PATIENCE epochs "
                       f"(default {DEFAULT_PATIENCE}) and keep the best epoch's weights")
    model.add_argument("--seed", type=_seed, default=0, metavar="N",
                       help="seed of the data split, the initial weights and the shuffling (default 0)")
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="MODEL.npz", help="save the trained model (with its preprocessing)")
    out.add_argument("--plot", metavar="DIR",
                     help="write learning_curves.png, roc.png, confusion_matrix.png (and "
                     "decision_boundary.png for 2 features) into DIR; needs matplotlib")
    out.add_argument("--threads", type=_positive_int, metavar="N", help="kernel threads (default: all cores)")


def _add_evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, metavar="MODEL.npz", help="a model saved by 'mlpcore train --out'")
    p.add_argument("--data", metavar="PATH",
                   help="data as for 'mlpcore train' (default: the data the model was trained on)")
    p.add_argument("--label-column", metavar="NAME|INDEX",
                   help="CSV label column (default: the one used in training)")
    p.add_argument(
        "--part", choices=("auto", "all", "test"), default="auto",
        help="'test': the test part of the training run's split (the data must be the training "
        "data), or an MNIST folder's t10k files; 'all': every row (an MNIST folder's training and "
        "t10k files); 'auto' (default): 'test' for the training data, else 'all'",
    )
    p.add_argument("--plot", metavar="DIR", help="write roc.png and confusion_matrix.png into DIR")
    p.add_argument("--threads", type=_positive_int, metavar="N", help="kernel threads (default: all cores)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``mlpcore`` and its subcommands (``bench`` forwards its options)."""
    parser = _Parser(
        prog="mlpcore",
        description="Train and evaluate neural networks with C++ kernels. Without a subcommand: "
        "print version, SIMD level, threads and a matmul timing, and list the subcommands.",
    )
    parser.add_argument("--version", action="version", version=f"mlpcore {__version__}")
    parser.add_argument("--size", type=int, default=None,
                        help="matrix size of the timed matmul (default 1024; without a subcommand)")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(SUBCOMMANDS) + "}")
    train = sub.add_parser("train", help=SUBCOMMANDS["train"], description=SUBCOMMANDS["train"] + ".")
    _add_train_options(train)
    evaluate = sub.add_parser("evaluate", help=SUBCOMMANDS["evaluate"], description=SUBCOMMANDS["evaluate"] + ".")
    _add_evaluate_options(evaluate)
    bench = sub.add_parser("bench", help=SUBCOMMANDS["bench"], add_help=False,
                           description="see 'mlpcore bench --help'")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


# --------------------------------------------------------------------------- #
# The bare command: runtime information
# --------------------------------------------------------------------------- #


def _time_matmul(n: int, repeats: int = 5) -> tuple[float, float]:
    """Best wall time (seconds) of an n x n float32 matmul, and its GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    ops.matmul(a, b, out=out)  # warm-up: threads started, workspace allocated
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return best, 2.0 * n**3 / best / 1e9


def _info(size: int) -> None:
    seconds, gflops = _time_matmul(size)
    print(f"mlpcore {__version__}")
    print(f"simd level: {simd_level()} (supported: {', '.join(supported_simd_levels())})")
    print(f"threads: {get_num_threads()}")
    print(f"matmul {size}x{size}x{size} float32: {seconds * 1e3:.2f} ms ({gflops:.1f} GFLOP/s)")
    print(f"subcommands: {', '.join(SUBCOMMANDS)} (mlpcore <subcommand> --help)")


# --------------------------------------------------------------------------- #
# A trained model with its preprocessing
# --------------------------------------------------------------------------- #


@dataclass
class _Classifier:
    """An MLP with the input scaling and the class labels it was trained with.

    ``predict_proba`` takes raw features, standardises them as ``z = (x - mean) / scale`` (the
    training part's statistics, when given) and returns one probability column per class of
    ``classes``; ``predict`` returns class labels. A one-output sigmoid model's probability p
    becomes the columns (1 - p, p).
    """

    model: Any  # mlpcore.MLP
    classes: np.ndarray
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """The model's inputs for raw features X; a value beyond the model dtype's range (which
        would turn the probabilities into NaN) is a CommandError naming its row and column."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.mean is not None and self.scale is not None:
                X = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
            out = c_array(X, dtype=self.model.dtype)
        bad = np.argwhere(~np.isfinite(out))
        if bad.size:
            row, col = (int(i) for i in bad[0])
            scaled = " after standardising" if self.mean is not None else ""
            raise CommandError(f"sample {row} (0-based, of the rows judged), feature {col}: {float(X[row, col]):g}"
                               f"{scaled} is beyond the range of the model's {self.model.dtype.name} inputs")
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out = self.model.predict_proba(self.inputs(X))
        if out.shape[1] == 1:
            return np.column_stack([1.0 - out[:, 0], out[:, 0]])
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes[self.predict_proba(X).argmax(axis=1)]


def _architecture(model: Any) -> str:
    hidden = f", {model.activation[0]}" if model.activation else ""
    return (
        f"MLP {'-'.join(map(str, model.layer_sizes))}{hidden}, {model.output} output, "
        f"{model.loss.replace('_', '-')} loss ({model.n_parameters:,} parameters)"
    )


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def _drop_stdout() -> None:
    """Send the rest of stdout to /dev/null: its reader has gone (``mlpcore train | head``).

    The file descriptor is redirected (the recipe of Python's signal documentation), so that
    neither later lines nor the interpreter's final flush raise BrokenPipeError again.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file: nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _print(text: str = "") -> None:
    """A line on stdout; once the reader has gone, the output is dropped but the work goes on
    (the model is still saved)."""
    try:
        print(text)
    except BrokenPipeError:
        _drop_stdout()


def _line(key: str, value: str) -> None:
    _print(f"{key + ':':<{_KEY_WIDTH}}{value}")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _name(label: Any) -> str:
    return str(label.item() if isinstance(label, np.generic) else label)


def _names(labels: np.ndarray, limit: int = 6) -> str:
    shown = ", ".join(_name(v) for v in labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _auroc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> tuple[float | None, str]:
    """AUROC and how it was formed: binary, the positive class's probability; multiclass, the
    macro average of one-vs-rest AUROCs over the classes present in ``y``."""
    from . import metrics

    k = len(classes)
    present = np.unique(y)
    if len(present) < 2:
        return None, "undefined: the evaluated data hold a single class"
    if k == 2:
        auc = metrics.roc_auc((y == 1).astype(np.int64), proba[:, 1])
        return auc, f"positive class {_name(classes[1])!r}, scored by its predicted probability"
    aucs = [metrics.roc_auc((y == c).astype(np.int64), proba[:, c]) for c in present]
    scope = f"{k} classes" if len(present) == k else f"the {len(present)} of {k} classes present"
    return float(np.mean(aucs)), f"macro average of one-vs-rest AUROCs over {scope}"


def _report(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, chance: float, chance_text: str,
            what: str) -> float:
    """Print accuracy with the chance test, macro precision/recall/F1, AUROC and a per-class
    table for the class indices ``y`` of the rows ``what`` and their probabilities ``proba``;
    return the accuracy.

    With k correct predictions out of n and the chance level ``p0`` (the majority class's share
    of the training labels, ``max_c n_c / n_train``: what always answering that class scores in
    expectation), "beats chance" is the exact one-sided binomial test
    ``p = P[X >= k]`` for ``X ~ Bin(n, p0)``, yes when ``p < ALPHA``.
    """
    from . import metrics, stats

    k = len(classes)
    pred = proba.argmax(axis=1)
    n = len(y)
    correct = int(np.sum(pred == y))
    accuracy = correct / n
    _line("samples", f"{n:,} ({what})")
    _line("accuracy", f"{accuracy:.4f} ({correct:,} of {n:,}; chance level {chance:.4f}, {chance_text})")
    test = stats.binomial_test(correct, n, p=chance, alternative="greater")
    verdict = "yes" if test.pvalue < ALPHA else "no"
    _line("beats chance", f"{verdict} ({stats.format_p(test.pvalue)}, one-sided exact binomial test, alpha = {ALPHA})")
    # Macro averages over the classes that occur (true or predicted), as scikit-learn; a class
    # never predicted has precision 0/0, counted as 0 and named below.
    seen = np.union1d(y, pred)
    for label, fn in (("precision", metrics.precision), ("recall", metrics.recall), ("F1", metrics.f1)):
        value = fn(y, pred, average="macro", zero_division=0.0)
        _line(label, f"{value:.4f} (macro average over {len(seen)} classes)")
    auc, how = _auroc(y, proba, classes)
    _line("AUROC", how if auc is None else f"{auc:.4f} ({how})")
    never = np.setdiff1d(np.unique(y), pred)
    if never.size:
        _line("note", f"never predicted: {_names(classes[never])} (precision 0/0, counted as 0)")
    absent = np.setdiff1d(pred, y)
    if absent.size:
        _line("note", f"predicted but absent from the data: {_names(classes[absent])} (recall 0/0, counted as 0)")
    if k <= MAX_TABLE_CLASSES:
        labels = np.arange(k)
        per = {
            name: fn(y, pred, average=None, labels=labels, zero_division=float("nan"))
            for name, fn in (("precision", metrics.precision), ("recall", metrics.recall), ("F1", metrics.f1))
        }
        support = np.bincount(y, minlength=k)
        width = max(5, *(len(_name(c)) for c in classes))
        _print()
        _print(f"{'class':<{width}}  precision  recall  F1      support")
        for c in range(k):
            cells = ["n/a" if np.isnan(per[m][c]) else f"{per[m][c]:.4f}" for m in ("precision", "recall", "F1")]
            _print(f"{_name(classes[c]):<{width}}  {cells[0]:<9}  {cells[1]:<6}  {cells[2]:<6}  {support[c]:,}")
    return accuracy


# --------------------------------------------------------------------------- #
# Plots
# --------------------------------------------------------------------------- #


def _plot_module() -> Any:
    """mlpcore.plot, imported before any work so a missing matplotlib fails fast."""
    try:
        from . import plot
    except ImportError as exc:
        raise CommandError(f"--plot: {exc}") from None
    return plot


def _plot_dir(text: str) -> Path:
    directory = Path(text).expanduser()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--plot: cannot create the folder {text!r} ({exc.strerror or exc})") from None
    return directory


def _evaluation_plots(plot: Any, directory: Path, y: np.ndarray, proba: np.ndarray, classes: np.ndarray,
                      what: str) -> list[str]:
    """roc.png (unless the rows hold a single class) and confusion_matrix.png of the evaluated
    rows; returns the files written."""
    written = []
    k = len(classes)
    if len(np.unique(y)) < 2:
        pass  # no ROC curve without both kinds of samples; _plots_line says so
    elif k == 2:
        path = directory / "roc.png"
        plot.roc_curve((y == 1).astype(np.int64), proba[:, 1], pos_label=1, path=path,
                       title=f"ROC, {what}, positive class {_name(classes[1])!r}")
        written.append(str(path))
    else:
        # A one-vs-rest curve per class present, and their micro-average.
        path = directory / "roc.png"
        plot.roc_curve(classes[y], proba, classes=classes, path=path,
                       title=f"ROC, {what}, one-vs-rest over {k} classes")
        written.append(str(path))
    path = directory / "confusion_matrix.png"
    plot.confusion_matrix(classes[y], classes[proba.argmax(axis=1)], labels=classes, path=path,
                          title=f"{what}, {len(y):,} samples")
    written.append(str(path))
    return written


def _plots_line(written: list[str], what: str) -> None:
    _line("plots", ", ".join(written))
    if not any(path.endswith("roc.png") for path in written):
        _line("note", f"no ROC curve: the {what} hold a single class")


# --------------------------------------------------------------------------- #
# train
# --------------------------------------------------------------------------- #


def _check_out(text: str) -> Path:
    path = Path(text).expanduser()
    if path.is_dir():
        raise CommandError(f"--out: {text!r} is a folder; give a file name such as model.npz")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise CommandError(f"--out: the folder {str(folder)!r} does not exist")
    return path


def _optimizer(args: argparse.Namespace) -> tuple[Any, str]:
    import mlpcore

    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    with np.errstate(over="ignore"):
        lr32 = np.float32(lr)
    if lr32 == 0 or not np.isfinite(lr32):
        raise CommandError(f"--lr {lr:g} is out of float32's range (the model's weights): no step could be taken")
    if args.optimizer == "adam":
        if args.momentum is not None:
            raise CommandError("--momentum applies to --optimizer sgd (Adam has its own moment estimates)")
        return mlpcore.Adam(lr=lr, weight_decay=args.weight_decay), f"Adam lr {lr:g}, weight decay {args.weight_decay:g}"
    momentum = args.momentum if args.momentum is not None else DEFAULT_MOMENTUM
    optimizer = mlpcore.SGD(lr=lr, momentum=momentum, weight_decay=args.weight_decay)
    return optimizer, f"SGD lr {lr:g}, momentum {momentum:g}, weight decay {args.weight_decay:g}"


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    import mlpcore
    from mlpcore import data as mdata

    from . import _cli_data

    optimizer, optimizer_text = _optimizer(args)
    if not args.hidden:
        for option, given in (("--dropout", args.dropout > 0), ("--activation", args.activation is not None)):
            if given:
                raise CommandError(f"{option} applies to hidden units; --hidden none trains softmax regression, "
                                   "which has none")
    activation = args.activation or "relu"
    out = _check_out(args.out) if args.out else None
    if out is not None and args.data and Path(args.data).expanduser().resolve() == out.resolve():
        raise CommandError(f"--out {args.out!r} is the --data file; the model would overwrite the data")
    plot = _plot_module() if args.plot else None
    plot_dir = _plot_dir(args.plot) if args.plot else None
    label_column = _cli_data.parse_label_column(args.label_column)

    ds = _cli_data.load_dataset(args.data, label_column=label_column, seed=args.seed)
    classes, codes = _cli_data.encode_labels(ds.y)
    k = len(classes)
    if k < 2:
        raise CommandError(f"{ds.description}: the labels hold a single class ({_names(classes)}); a classifier needs two or more")
    if k == len(codes) >= 10:
        raise CommandError(f"{ds.description}: every label occurs once ({_names(classes, 4)}): these look like "
                           "identifiers, not classes; choose the label column with --label-column")
    test_size = 0 if ds.test is not None else args.test_size
    if args.val_size + test_size >= 1:
        raise CommandError(f"--val-size ({args.val_size}) and --test-size ({args.test_size}) leave no training data")
    # Stratified by the labels themselves (the same split as by their codes), so that a warning
    # about a class too small for a part names the class as the user knows it.
    train_idx, val_idx, test_idx = mdata.train_val_test_indices(
        ds.y, val_size=args.val_size, test_size=test_size, seed=args.seed
    )
    n = len(codes)
    for option, size, rows in (("--val-size", args.val_size, val_idx), ("--test-size", test_size, test_idx)):
        if size and len(rows) == 0 and len(train_idx) > 0:
            raise CommandError(f"{option} {size:g} of {n:,} rows rounds to no rows; give a larger fraction")
    if min(len(train_idx), len(val_idx)) == 0 or (ds.test is None and len(test_idx) == 0):
        raise CommandError(
            f"{ds.description}: too few rows ({len(codes)}) for a training, a validation and a test part; "
            "give more data or larger --val-size/--test-size"
        )
    X_train, X_val = ds.X[train_idx], ds.X[val_idx]
    y_train, y_val = codes[train_idx], codes[val_idx]
    if ds.test is not None:
        X_test = ds.test[0]
        _, y_test = _cli_data.encode_labels(ds.test[1], classes, where="the MNIST test files")
        test_text = f"{len(y_test):,} test rows (the t10k files)"
    else:
        X_test, y_test = ds.X[test_idx], codes[test_idx]
        test_text = f"{len(y_test):,} test rows"
    mean = scale = None
    if ds.standardise:
        # Finite for any finite data (StandardScaler rescales columns near float64's limit); a
        # standardised value beyond the model's float32 is refused by _Classifier.inputs.
        scaler = mdata.StandardScaler().fit(X_train)
        mean, scale = scaler.mean_, scaler.scale_
    model = mlpcore.MLP([ds.X.shape[1], *args.hidden, k], activation=activation, dropout=args.dropout,
                        seed=args.seed)
    clf = _Classifier(model, classes, mean, scale)

    _line("data", ds.description)
    scaling = ("features standardised with the training part's mean and standard deviation" if ds.standardise
               else "pixels scaled to [0, 1]")
    _line("split", f"{len(y_train):,} training / {len(y_val):,} validation / {test_text} "
          f"(stratified, seed {args.seed}); {scaling}")
    _line("classes", f"{k}: {_names(classes, 10)}")
    _line("model", _architecture(model) + (f", dropout {args.dropout:g}" if args.dropout else ""))
    stopping = (f"early stopping after {args.early_stopping} epochs without a lower validation loss"
                if args.early_stopping else "no early stopping")
    _line("optimiser", f"{optimizer_text}; batch {args.batch_size}, up to {args.epochs} "
          f"{_plural(args.epochs, 'epoch')}; {stopping}")
    try:
        sys.stdout.flush()  # the header before fit's progress lines on stderr
    except BrokenPipeError:
        _drop_stdout()

    early = mlpcore.EarlyStopping(patience=args.early_stopping) if args.early_stopping else None
    start = time.perf_counter()
    history = mlpcore.fit(
        model, clf.inputs(X_train), y_train, optimizer=optimizer, epochs=args.epochs,
        batch_size=args.batch_size, validation_data=(clf.inputs(X_val), y_val), early_stopping=early,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    if history.epochs == 0:
        raise CommandError("interrupted before the first epoch finished; nothing to report")
    best = history.best_epoch
    best_text = "" if best is None else f"; lowest validation loss {history.val_loss[best]:.4f} in epoch {best + 1}"
    _line("training", f"{history.epochs} {_plural(history.epochs, 'epoch')} in {seconds:.2f} s{best_text}")
    if history.interrupted:
        _line("interrupted", f"Ctrl-C after epoch {history.epochs}; the report is on the model as it is")
    if early is not None:
        if history.stopped_early:
            _line("early stopping", f"fired after epoch {history.epochs}; weights of epoch {best + 1} restored")
        else:
            _line("early stopping", f"did not fire within {args.epochs} epochs; weights of epoch {best + 1} kept")

    counts = np.bincount(y_train, minlength=k)
    chance = counts.max() / counts.sum()
    proba = clf.predict_proba(X_test)
    what = "test part" if ds.test is None else "MNIST test files"
    # The model and the pictures are written before the report is printed, so that a closed
    # stdout (`mlpcore train ... | head`) cannot lose them.
    if out is not None:
        metadata = {
            "cli_format": _METADATA_FORMAT,
            "classes": classes,
            "train_class_counts": counts,
            "standardise": ds.standardise,
            "data_source": ds.source,
            "data_path": ds.path,
            "data_description": ds.description,
            "data_seed": args.seed,
            "label_column": ds.label_name,
            "label_column_is_name": ds.feature_names is not None,  # a header name, not an index
            "split_seed": args.seed,
            "val_size": args.val_size,
            "test_size": test_size,
            "separate_test": ds.test is not None,
            "data_rows": len(codes),
            "data_sha256": _cli_data.fingerprint(ds.X, ds.y),
            "command": shlex.join(["mlpcore", "train", *argv]),
            "history": json.dumps({"train_loss": history.train_loss, "val_loss": history.val_loss,
                                   "train_accuracy": history.train_accuracy,
                                   "val_accuracy": history.val_accuracy, "best_epoch": best,
                                   "stopped_early": history.stopped_early}),
        }
        if mean is not None and scale is not None:
            metadata["scaler_mean"], metadata["scaler_scale"] = mean, scale
        if ds.feature_names is not None:
            metadata["feature_names"] = np.array(ds.feature_names, dtype=str)
        model.save(out, metadata=metadata)
    written: list[str] = []
    if plot is not None and plot_dir is not None:
        path = plot_dir / "learning_curves.png"
        plot.learning_curves(history, path=path, title=f"{_architecture(model)}")
        written = [str(path)]
        written += _evaluation_plots(plot, plot_dir, y_test, proba, classes, what)
        if ds.X.shape[1] == 2:
            path = plot_dir / "decision_boundary.png"
            plot.decision_boundary(clf, ds.X, ds.y, path=path,
                                   title=f"decision regions and all {len(ds.y):,} points")
            written.append(str(path))

    _print()
    _report(y_test, proba, classes, chance, "the majority class's share of the training labels", f"the {what}")
    if out is not None or written:
        _print()
    if out is not None:
        _line("model saved", f"{out} (evaluate with: mlpcore evaluate --model {shlex.quote(str(out))})")
    if plot is not None:
        _plots_line(written, what)
    return 0


# --------------------------------------------------------------------------- #
# evaluate
# --------------------------------------------------------------------------- #


def _scalar(meta: dict[str, np.ndarray], key: str, default: Any = None) -> Any:
    return meta[key].item() if key in meta else default


def _match_labels(ds: Any, y: np.ndarray, y_text: np.ndarray | None, classes: np.ndarray) -> np.ndarray:
    """The class index of each label; labels written as numbers match string classes by text."""
    from . import _cli_data

    if classes.dtype.kind == "U" and y.dtype.kind != "U":
        y = y_text if y_text is not None else y.astype(str)
    elif classes.dtype.kind != "U" and y.dtype.kind == "U":
        raise CommandError(
            f"{ds.description}: the labels are text ({_names(np.unique(y), 4)}) but the model's classes "
            f"are numbers ({_names(classes, 6)})"
        )
    return _cli_data.encode_labels(y, classes, where=ds.description)[1]


def _evaluate(args: argparse.Namespace) -> int:
    from mlpcore import data as mdata
    from mlpcore.network import load_with_metadata

    from . import _cli_data

    plot = _plot_module() if args.plot else None
    plot_dir = _plot_dir(args.plot) if args.plot else None
    if Path(args.model).expanduser().is_dir():
        raise CommandError(f"--model: {args.model!r} is a folder; give a model file saved by 'mlpcore train --out'")
    model, meta = load_with_metadata(args.model)
    if model.output == "identity" and not model.is_classifier:
        raise CommandError(f"{args.model} is a regression model (loss {model.loss!r}); evaluate judges classifiers")
    if model.output == "sigmoid" and model.n_outputs > 1:
        raise CommandError(f"{args.model} has {model.n_outputs} sigmoid outputs (multilabel); evaluate judges "
                           "single-label classifiers")
    if model.loss == "hinge":
        raise CommandError(f"{args.model} has raw hinge-loss scores, not probabilities; evaluate needs a softmax or "
                           "sigmoid output")
    from_cli = "cli_format" in meta
    if from_cli:
        classes = meta["classes"]
        mean = meta.get("scaler_mean")
        scale = meta.get("scaler_scale")
    else:
        classes = np.arange(max(model.n_outputs, 2))
        mean = scale = None
    clf = _Classifier(model, classes, mean, scale)

    spec = args.data
    if spec is None:
        if not from_cli:
            raise CommandError(f"--data is required: {args.model} does not record the data it was trained on")
        source = _scalar(meta, "data_source")
        spec = None if source == "spiral" else _scalar(meta, "data_path")
        if spec is not None and not Path(spec).exists():
            raise CommandError(f"the data {args.model} was trained on ({spec}) no longer exist; give them with --data")
    label_arg = args.label_column
    label_column: str | int
    if label_arg is None and spec is not None and Path(spec).suffix.lower() in (".csv", ".tsv"):
        recorded = _scalar(meta, "label_column", "")  # as in training
        # A header name that reads as a number ("0") is still a name, not an index.
        label_column = recorded if _scalar(meta, "label_column_is_name", False) else \
            _cli_data.parse_label_column(recorded or None)
    else:
        label_column = _cli_data.parse_label_column(label_arg)
    ds = _cli_data.load_dataset(spec, label_column=label_column, seed=int(_scalar(meta, "data_seed", 0)))
    names = meta.get("feature_names")
    if names is not None and ds.feature_names is not None and list(names) != ds.feature_names:
        missing = [str(n) for n in names if n not in ds.feature_names]
        if missing or len(ds.feature_names) != len(names):
            raise CommandError(f"{ds.description}: the features differ from the model's ({', '.join(map(str, names))})")
        order = [ds.feature_names.index(str(n)) for n in names]  # same columns, another order
        ds.X = ds.X[:, order]
    if ds.X.shape[1] != model.n_inputs:
        raise CommandError(f"{ds.description}: {ds.X.shape[1]} features, but the model takes {model.n_inputs}")

    notes: list[str] = []
    if ds.test is not None and args.part == "all":
        X_eval, y_eval, y_text = np.concatenate([ds.X, ds.test[0]]), np.concatenate([ds.y, ds.test[1]]), None
        what = "MNIST training and test files"
        part_text = "all rows: the MNIST training and test files"
    elif ds.test is not None:
        X_eval, y_eval, y_text = ds.test[0], ds.test[1], None
        what = "MNIST test files"
        part_text = "the MNIST test files"
    else:
        part = args.part
        # Hashing is a pass over all the data: only when the part to judge depends on it.
        same = part != "all" and from_cli and _scalar(meta, "data_sha256") == _cli_data.fingerprint(ds.X, ds.y)
        separate = bool(_scalar(meta, "separate_test", False))
        if part == "auto":
            part = "test" if same and not separate else "all"
            if (from_cli and not same and args.data is None) or (same and separate):
                notes.append("judging all rows, which include rows the model was trained on: "
                             + ("these data have changed since training" if not same else
                                "its test rows were separate files, not part of these data"))
        rows = np.arange(len(ds.y))
        if part == "test":
            if same and separate:
                raise CommandError(f"--part test: {args.model} was tested on separate test files, so these data "
                                   "(its training files) have no test part; judge the test files, or use --part all")
            if not same:
                reason = ("it does not record a training split" if not from_cli else
                          "these data are not the ones it was trained on")
                raise CommandError(f"--part test: the test part of {args.model}'s training split cannot be "
                                   f"recovered ({reason}); use --part all")
            rows = mdata.train_val_test_indices(
                ds.y, val_size=float(_scalar(meta, "val_size")), test_size=float(_scalar(meta, "test_size")),
                seed=int(_scalar(meta, "split_seed")),
            )[2]
            part_text = f"the test part of the training split, {len(ds.y):,} rows split as in training"
            what = "test part"
        else:
            part_text = "all rows"
            what = "data"
        X_eval, y_eval = ds.X[rows], ds.y[rows]
        y_text = ds.y_text[rows] if ds.y_text is not None else None
    y = _match_labels(ds, y_eval, y_text, classes)

    _line("model", f"{args.model} ({_architecture(model)})")
    if from_cli:
        _line("trained on", str(_scalar(meta, "data_description")))
    _line("data", ds.description)
    for note in notes:
        _line("note", note)
    _print()
    proba = clf.predict_proba(X_eval)
    if from_cli:
        counts = meta["train_class_counts"]
        chance, chance_text = counts.max() / counts.sum(), "the majority class's share of the training labels"
    else:
        chance = np.bincount(y, minlength=len(classes)).max() / len(y)
        chance_text = "the majority class's share of these labels (the model file has no training counts)"
    written = _evaluation_plots(plot, plot_dir, y, proba, classes, what) if plot is not None and plot_dir else []
    _report(y, proba, classes, chance, chance_text, part_text)
    if plot is not None:
        _print()
        _plots_line(written, what)
    return 0


# --------------------------------------------------------------------------- #
# bench and main
# --------------------------------------------------------------------------- #


def _bench(rest: Sequence[str]) -> int:
    from . import benchmark

    return benchmark.main(list(rest), prog="mlpcore bench")


def _show_warning(prog: str) -> Any:
    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    return show


def _subparser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    """The parser of subcommand ``name`` (``parser`` itself for None)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            return action.choices[name]
    return parser


def _run(prog: str, command: Any) -> int:
    """Run a subcommand; user errors become one line on stderr and exit status 2."""
    from .training import TrainingDivergedError

    threads = get_num_threads()
    try:
        # Library warnings (a class too small for the test part...) become one line each, whatever
        # the interpreter's warning filters say.
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _show_warning(prog)
            status = command()
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
        return status
    except (CommandError, FileNotFoundError, ValueError, TypeError, ImportError, TrainingDivergedError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mlpcore bench | head`: the reader has gone, and so has the output
        _drop_stdout()
        return 141
    except OSError as exc:  # permissions, a full disk...
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{prog}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    finally:
        set_num_threads(threads)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``mlpcore`` and ``python -m mlpcore``; returns the exit status.

    Usage errors exit through ``SystemExit(2)`` (as argparse does), ``--help`` and
    ``--version`` through ``SystemExit(0)``.
    """
    if isinstance(argv, (str, bytes)) or not (argv is None or isinstance(argv, Sequence)):
        raise TypeError(f"main: argv must be a list of strings or None (got {type(argv).__name__} {argv!r})")
    args_list = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    if args_list[:1] == ["bench"]:  # every option after it belongs to the benchmark
        return _run("mlpcore bench", lambda: _bench(args_list[1:]))
    parser = build_parser()
    args, extra = parser.parse_known_args(args_list)
    if extra:  # reported by the subcommand's parser, which names the subcommand
        _subparser(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        size = 1024 if args.size is None else args.size
        if size < 1:
            parser.error(f"--size must be a positive integer (got {size})")
        try:
            _info(size)
        except MemoryError:
            parser.error(f"--size {size}: not enough memory for the three {size}x{size} float32 matrices "
                         f"({3 * 4 * size * size / 2**30:.1f} GiB)")
        return 0
    if args.size is not None:
        parser.error("--size applies to the bare 'mlpcore' only")
    prog = f"mlpcore {args.command}"
    if args.command == "bench":
        return _run(prog, lambda: _bench(args.rest))

    def command() -> int:
        if args.threads is not None:
            set_num_threads(args.threads)
        if args.command == "train":
            return _train(args, args_list[1:])
        return _evaluate(args)

    return _run(prog, command)


if __name__ == "__main__":
    sys.exit(main())
