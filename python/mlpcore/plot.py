"""Pictures of training and evaluation results, drawn with matplotlib (extra ``plot``).

Every function returns a :class:`matplotlib.figure.Figure` and, with ``path``, also writes it as
a PNG file. Figures are built with ``matplotlib.figure.Figure()`` directly, never through
``pyplot``: no GUI backend is selected, no global figure registry keeps them alive (drawing in a
loop does not leak), and separate threads can draw separate figures. Show one in a notebook by
leaving it as the cell's value, or save it yourself with ``fig.savefig(...)`` in any format.

Common arguments
----------------
ax:
    A matplotlib ``Axes`` to draw into (for example a panel of your own figure); the function
    then returns the figure holding it. Without it a new figure is made.
path:
    ``str`` or ``os.PathLike`` ending in ``.png`` (any case): the figure is saved there as PNG.
    Nothing is appended to the name and no directory is created: another suffix is a
    ValueError and a missing directory a FileNotFoundError, both raised before any drawing.
title:
    A title for the picture (``str``), or None.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    from matplotlib import colormaps
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        'mlpcore.plot needs matplotlib; install it with: pip install "mlpcore[plot]"'
    ) from exc

from . import metrics
from ._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_int,
    check_same_length,
    describe,
    show,
)

__all__ = [
    "confusion_matrix",
    "decision_boundary",
    "digits",
    "learning_curves",
    "precision_recall_curve",
    "roc_curve",
    "sweep",
]

_DPI = 120
# Train, validation and test keep the same colours in every picture.
_SPLIT_COLOURS = {"train": "C0", "val": "C1", "test": "C2"}
_SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}


# --------------------------------------------------------------------------- #
# Shared argument checks and figure handling
# --------------------------------------------------------------------------- #


def _check_path(path: Any, func: str) -> Path | None:
    """The PNG path, checked before drawing so a typo does not cost the whole picture."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike (got {describe(path)})")
    raw = os.fspath(path)
    if not isinstance(raw, str):
        raise TypeError(f"{func}: path must be a str or os.PathLike of str (got {describe(path)})")
    p = Path(raw)
    if p.suffix.lower() != ".png":
        raise ValueError(f"{func}: path must end in .png, the only format written (got {raw!r})")
    parent = p.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"{func}: the directory of path does not exist ({str(parent)!r}); create it first")
    if p.is_dir():
        raise IsADirectoryError(f"{func}: path is a directory ({raw!r}); give a file name ending in .png")
    return p


def _check_title(title: Any, func: str) -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{func}: title must be a str or None (got {describe(title)})")
    return title


def _check_ax(ax: Any, func: str) -> Axes | None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"{func}: ax must be a matplotlib Axes or None (got {describe(ax)})")
    return ax


def _root_figure(ax: Axes) -> Figure:
    # An Axes in a SubFigure belongs to the SubFigure; `.figure` of a SubFigure is the root
    # Figure, and `.figure` of a Figure is the Figure itself (matplotlib >= 3.4).
    fig = ax.figure
    return getattr(fig, "figure", fig)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return _root_figure(ax), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _finish(fig: Figure, path: Path | None) -> Figure:
    if path is not None:
        fig.savefig(path, format="png", dpi=_DPI)
    return fig


def _text(value: Any) -> str:
    """A label as people write it: numpy scalars as plain values, strings without quotes."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _class_colours(k: int) -> np.ndarray:
    """``k`` distinguishable RGBA colours: the qualitative tab10 / tab20 palettes, else turbo."""
    if k <= 10:
        return np.asarray(colormaps["tab10"].colors)[:k]
    if k <= 20:
        return np.asarray(colormaps["tab20"].colors)[:k]
    return colormaps["turbo"](np.linspace(0.05, 0.95, k))[:, :3]


# --------------------------------------------------------------------------- #
# Learning curves
# --------------------------------------------------------------------------- #

_HISTORY_SERIES = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")


def _rows_history(rows: Sequence[Mapping[str, Any]], func: str) -> dict[str, Any]:
    """Rows of :func:`mlpcore.experiments.learning_curve` as a history: per epoch, the mean over
    the seeds of the epochs every seed reached (one seed: its own curve); the best epoch is the
    lowest mean validation loss. Scores (accuracy or R^2) go where a History's accuracies go."""
    by_seed: dict[Any, dict[int, Mapping[str, Any]]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or "epoch" not in row or "train_loss" not in row:
            raise TypeError(f"{func}: history rows must be dicts from experiments.learning_curve, with 'epoch' and "
                            f"'train_loss' (row {i}: {describe(row)})")
        by_seed.setdefault(row.get("seed"), {})[check_int(row["epoch"], f"history[{i}]['epoch']", func, minimum=1)] = row
    reached = min(max(epochs) for epochs in by_seed.values())
    if any(sorted(epochs)[:reached] != list(range(1, reached + 1)) for epochs in by_seed.values()):
        raise ValueError(f"{func}: every seed's rows must number its epochs 1, 2, ... without gaps")

    def mean(key: str) -> list[float]:
        values = [[by_seed[s][e].get(key) for s in by_seed] for e in range(1, reached + 1)]
        if any(v is None for column in values for v in column):
            return []
        return [float(np.mean(column)) for column in values]

    raw: dict[str, Any] = {"train_loss": mean("train_loss"), "val_loss": mean("val_loss"),
                           "train_accuracy": mean("train_score"), "val_accuracy": mean("val_score"),
                           "stopped_early": False, "score_label": "score"}
    raw["best_epoch"] = int(np.argmin(raw["val_loss"])) if raw["val_loss"] else None
    return raw


def _history_fields(history: Any, func: str) -> dict[str, Any]:
    """The per-epoch lists and the best epoch of a History, of a dict with the same keys, or of
    experiments.learning_curve rows (see _rows_history)."""
    score_label = "accuracy"
    if isinstance(history, Sequence) and not isinstance(history, (str, bytes)) and history \
            and isinstance(history[0], Mapping):
        raw = _rows_history(history, func)
        score_label = raw.pop("score_label")
    elif isinstance(history, Mapping):
        if "train_loss" not in history:
            raise ValueError(f"{func}: history has no 'train_loss' (got keys {sorted(map(str, history))})")
        raw = {key: history.get(key, []) for key in _HISTORY_SERIES}
        raw["best_epoch"] = history.get("best_epoch")
        raw["stopped_early"] = history.get("stopped_early", False)
    elif hasattr(history, "loss_curve_"):
        raw, score_label = _estimator_history(history)
    elif all(hasattr(history, key) for key in _HISTORY_SERIES):
        raw = {key: getattr(history, key) for key in _HISTORY_SERIES}
        raw["best_epoch"] = getattr(history, "best_epoch", None)
        raw["stopped_early"] = getattr(history, "stopped_early", False)
    else:
        raise TypeError(
            f"{func}: history must be an mlpcore.History, a fitted MLPClassifier or MLPRegressor, or a "
            f"dict with train_loss, val_loss, train_accuracy and val_accuracy (got {describe(history)})"
        )
    fields: dict[str, Any] = {}
    for key in _HISTORY_SERIES:
        values = [] if raw[key] is None else raw[key]
        fields[key] = as_float_array(values, f"history.{key}", func, ndim=1, allow_empty=True)
    n = fields["train_loss"].size
    if n == 0:
        raise ValueError(f"{func}: history.train_loss is empty (no epoch to plot)")
    for key in _HISTORY_SERIES[1:]:
        if fields[key].size not in (0, n):
            raise ValueError(
                f"{func}: history.{key} must be empty or have one value per epoch like "
                f"history.train_loss ({n}) (got {fields[key].size})"
            )
    best = raw["best_epoch"]
    fields["best_epoch"] = None if best is None else check_int(best, "history.best_epoch", func, minimum=0, maximum=n - 1)
    stopped = raw["stopped_early"]
    if not isinstance(stopped, (bool, np.bool_)):
        raise TypeError(f"{func}: history.stopped_early must be a bool (got {describe(stopped)})")
    fields["stopped_early"] = bool(stopped)
    fields["score_label"] = score_label
    return fields


def _estimator_history(estimator: Any) -> tuple[dict[str, Any], str]:
    """The curves a fitted MLP estimator keeps (mlpcore's or scikit-learn's): ``loss_curve_``
    and, with early stopping, ``validation_scores_`` (accuracy or R^2; no validation loss is
    recorded, as in scikit-learn). The best epoch is that of the best validation score, else of
    the lowest training loss (``best_loss_``); stopped early when one fit ran all the epochs and
    fewer than ``max_iter`` (``partial_fit`` calls and warm starts count their own epochs in
    ``n_iter_``)."""
    losses = list(estimator.loss_curve_)
    scores = getattr(estimator, "validation_scores_", None)
    scores = [] if scores is None else list(scores)
    best = int(np.argmax(scores)) if scores else int(np.argmin(losses)) if losses else None
    ran = getattr(estimator, "n_iter_", None)
    stopped = bool(ran == len(losses) < getattr(estimator, "max_iter", 0))
    is_classifier = hasattr(estimator, "classes_")
    raw = {"train_loss": losses, "val_loss": [], "train_accuracy": [], "val_accuracy": list(scores),
           "best_epoch": best, "stopped_early": stopped}
    return raw, "validation accuracy" if is_classifier else "validation R²"


def _curve_panel(
    ax: Axes, train: np.ndarray, val: np.ndarray, best: int | None, stopped_early: bool, ylabel: str
) -> None:
    epochs = np.arange(1, max(train.size, val.size) + 1)
    # Markers help count a few epochs; over many they only blur the line.
    marker = "o" if epochs.size <= 40 else None
    if train.size:
        ax.plot(epochs, train, color=_SPLIT_COLOURS["train"], marker=marker, markersize=3, label="train")
    if val.size:
        ax.plot(epochs, val, color=_SPLIT_COLOURS["val"], marker=marker, markersize=3, label="validation")
    if best is not None:
        text = f"best epoch ({best + 1})" + (", stopped early" if stopped_early else "")
        ax.axvline(best + 1, color="0.35", linestyle="--", linewidth=1, label=text)
        if val.size:
            ax.plot([best + 1], [val[best]], linestyle="none", marker="o", markersize=8, markerfacecolor="none",
                    markeredgecolor="0.15", markeredgewidth=1.5, label="_best")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend()


def learning_curves(history: Any, *, ax: Any = None, path: Any = None, title: str | None = None) -> Figure:
    """Training and validation loss (and accuracy) per epoch, with the best epoch marked.

    Parameters
    ----------
    history:
        An :class:`mlpcore.History` (as returned by :func:`mlpcore.fit`) or a dict with the
        same keys: ``train_loss`` (required, one value per epoch), ``val_loss``,
        ``train_accuracy``, ``val_accuracy`` (each empty or one value per epoch),
        ``best_epoch`` (0-based, or None) and ``stopped_early``. Or a fitted ``MLPClassifier``
        or ``MLPRegressor`` (mlpcore's or scikit-learn's): its ``loss_curve_``, and with early
        stopping its ``validation_scores_`` in the second panel, the best epoch that of the best
        validation score (else of the lowest loss). Or the rows of
        :func:`mlpcore.experiments.learning_curve`: per epoch the mean over seeds (of the epochs
        every seed reached), the best epoch that of the lowest mean validation loss, the scores
        (accuracy or R²) in the second panel.
    ax, path, title:
        See the module documentation. With ``ax`` only the loss panel is drawn.

    Returns
    -------
    Figure
        Epochs are numbered from 1 on the x axis, so the best epoch ``b`` (0-based) is drawn as a
        dashed vertical line at ``x = b + 1`` (and a ring on the validation loss there). When
        the history has accuracies and no ``ax`` is given, a second panel shows them.
    """
    func = "learning_curves"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    h = _history_fields(history, func)
    has_accuracy = bool(h["train_accuracy"].size or h["val_accuracy"].size)
    if ax is None and has_accuracy:
        fig = Figure(figsize=(11, 4), layout="constrained")
        loss_ax, acc_ax = fig.subplots(1, 2)
        _curve_panel(acc_ax, h["train_accuracy"], h["val_accuracy"], h["best_epoch"], h["stopped_early"],
                     h["score_label"])
        acc_ax.set_title(h["score_label"])
        loss_ax.set_title("loss")
        if title is not None:
            fig.suptitle(title)
    else:
        fig, loss_ax = _axes(ax, (6, 4))
        if title is not None:
            loss_ax.set_title(title)
    _curve_panel(loss_ax, h["train_loss"], h["val_loss"], h["best_epoch"], h["stopped_early"], "loss")
    return _finish(fig, out)


# --------------------------------------------------------------------------- #
# ROC and precision-recall curves
# --------------------------------------------------------------------------- #


def _score_sets(func: str, y_true: Any, scores: Any, pos_label: Any) -> tuple[np.ndarray, list[tuple[str | None, np.ndarray]]]:
    """The validated labels, and ``(name, scores)`` per model (name None for a single array)."""
    yt = as_label_array(y_true, "y_true", func)
    if isinstance(scores, Mapping):
        if not scores:
            raise ValueError(f"{func}: scores is an empty dict; give at least one model's scores")
        sets: list[tuple[str | None, np.ndarray]] = []
        for name, values in scores.items():
            if not isinstance(name, str):
                raise TypeError(f"{func}: the keys of scores must be model names (str) (got {describe(name)})")
            arg = f"scores[{name!r}]"
            sets.append((name, as_float_array(values, arg, func, ndim=1)))
            check_same_length(func, y_true=yt, **{arg: sets[-1][1]})
    else:
        sets = [(None, as_float_array(scores, "scores", func, ndim=1))]
        check_same_length(func, y_true=yt, scores=sets[0][1])
    # Resolves pos_label exactly as the metrics do (and raises their messages).
    positive, _ = metrics._binary_scores(func, yt, sets[0][1], pos_label)
    return positive, sets


def _curve_sets(func: str, y_true: Any, scores: Any, pos_label: Any, classes: Any
                ) -> tuple[bool, list[tuple[str | None, np.ndarray, np.ndarray]]]:
    """``(multiclass, [(name, truth, scores), ...])``: the binary case as :func:`_score_sets`
    gives it (one truth for every model); for a 2-D ``scores`` of k columns, one-vs-rest per
    class (truth ``y == c`` against column c) and last their micro-average (every (sample,
    class) pair one binary decision, pooled)."""
    try:
        two_d = not isinstance(scores, Mapping) and np.ndim(scores) == 2
    except ValueError:  # ragged: the binary path names it
        two_d = False
    if not two_d:
        if classes is not None:
            raise ValueError(f"{func}: classes names the columns of 2-D scores (got 1-D scores)")
        positive, sets = _score_sets(func, y_true, scores, pos_label)
        return False, [(name, positive, s) for name, s in sets]
    if pos_label is not None:
        raise ValueError(f"{func}: pos_label is for binary scores; 2-D scores give a curve per class "
                         "(one-vs-rest) and their micro-average")
    yt = as_label_array(y_true, "y_true", func)
    s = as_float_array(scores, "scores", func, ndim=2)
    check_same_length(func, y_true=yt, scores=s)
    k = s.shape[1]
    if classes is None:
        present = np.unique(yt)
        if len(present) != k:
            raise ValueError(f"{func}: scores has {k} columns but y_true holds {len(present)} classes; "
                             "give classes=, the label of each column")
        labels = present
    else:
        labels = as_label_array(classes, "classes", func)
        if len(labels) != k or len(np.unique(labels)) != k:
            raise ValueError(f"{func}: classes must be {k} distinct labels, one per column of scores "
                             f"(got {len(labels)}, {len(np.unique(labels))} distinct)")
        unknown = np.setdiff1d(yt, labels)
        if unknown.size:
            raise ValueError(f"{func}: y_true holds labels not in classes: {unknown[:5].tolist()}")
    truth = yt[:, None] == labels[None, :]
    sets: list[tuple[str | None, np.ndarray, np.ndarray]] = [
        (f"class {show(c)}", truth[:, j], s[:, j]) for j, c in enumerate(labels)]
    sets.append(("micro-average", truth.ravel(), s.ravel()))
    return True, sets


def _curve_style(i: int, name: str | None, multiclass: bool) -> dict[str, Any]:
    """Models and classes in the colour cycle; the micro-average thick and black."""
    if multiclass and name == "micro-average":
        return {"color": "black", "linewidth": 2.4}
    return {"color": f"C{i % 10}", "linewidth": 1.2 if multiclass else 1.8}


def _legend_label(name: str | None, what: str, value: float) -> str:
    text = f"{what} = {value:.3f}"
    return text if name is None else f"{name} ({text})"


def roc_curve(
    y_true: Any, scores: Any, *, pos_label: Any = None, classes: Any = None, ax: Any = None, path: Any = None,
    title: str | None = None
) -> Figure:
    """ROC curves of one or several binary scorers, or of a multiclass one, with the area under
    each in the legend.

    Parameters
    ----------
    y_true:
        Binary labels (two classes; both must be present), or for 2-D scores the class labels.
    scores:
        One array of scores (higher means more likely positive), or a dict
        ``{model name: scores}`` to overlay several models on the same labels. Or a 2-D array
        of k columns, one per class (e.g. ``predict_proba``): a one-vs-rest curve per class
        (``y == c`` scored by column c; a class absent from y_true has none) and their
        micro-average, every (sample, class) pair one binary decision, pooled.
    pos_label:
        The positive class of binary scores; defaults to 1 for labels in {0, 1} or {−1, 1}, as
        in :func:`mlpcore.metrics.roc_curve`.
    classes:
        For 2-D scores, the label of each column (default: the sorted classes of y_true, when
        there are k of them).
    ax, path, title:
        See the module documentation.

    Returns
    -------
    Figure
        Each curve is :func:`mlpcore.metrics.roc_curve` (``tpr = TP/P`` against ``fpr = FP/N``
        over all thresholds), labelled with :func:`mlpcore.metrics.roc_auc` to 3 decimals; the
        dashed diagonal ``tpr = fpr`` is a scorer that ranks at random (AUROC 0.5).
    """
    func = "roc_curve"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    multiclass, sets = _curve_sets(func, y_true, scores, pos_label, classes)
    positive = sets[-1][1]  # binary: every model's; multiclass: the micro-average's, always both kinds
    if positive.all() or not positive.any():
        raise ValueError(
            f"{func}: y_true must contain both the positive and the negative class to draw a ROC curve "
            f"(got {int(positive.sum())} positive and {int((~positive).sum())} negative samples)"
        )
    fig, ax = _axes(ax, (5.2, 5))
    for i, (name, positive, s) in enumerate(sets):
        if positive.all() or not positive.any():
            continue  # a class absent from y_true (or the only one): no ROC curve
        truth = positive.astype(np.int64)
        fpr, tpr, _ = metrics.roc_curve(truth, s)
        auc = metrics.roc_auc(truth, s)
        ax.plot(fpr, tpr, label=_legend_label(name, "AUROC", auc), **_curve_style(i, name, multiclass))
    ax.plot([0, 1], [0, 1], color="0.55", linestyle="--", linewidth=1, label="chance (AUROC = 0.5)")
    _unit_square(ax, "false positive rate", "true positive rate", "lower right", title)
    return _finish(fig, out)


def _unit_square(ax: Any, xlabel: str, ylabel: str, legend: str, title: str | None) -> None:
    """The frame of a curve of two rates: the unit square, equal aspect, grid and legend."""
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend)
    if title is not None:
        ax.set_title(title)


def precision_recall_curve(
    y_true: Any, scores: Any, *, pos_label: Any = None, classes: Any = None, ax: Any = None, path: Any = None,
    title: str | None = None
) -> Figure:
    """Precision-recall curves of one or several binary scorers, or of a multiclass one, with
    average precision in the legend.

    Arguments as :func:`roc_curve` (2-D scores: a curve per class present in y_true, and their
    micro-average); y_true must contain at least one positive sample.

    Returns
    -------
    Figure
        Each curve is :func:`mlpcore.metrics.precision_recall_curve` drawn as a step function,
        so the area under it is exactly the legend's :func:`mlpcore.metrics.average_precision`
        ``AP = Σ_k (R_k − R_{k−1}) P_k``. The dashed horizontal line at the positive rate
        ``P / n`` is the precision (and the AP) of a scorer that ranks at random.
    """
    func = "precision_recall_curve"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    multiclass, sets = _curve_sets(func, y_true, scores, pos_label, classes)
    positive = sets[-1][1]  # binary: every model's; multiclass: the micro-average's
    if not positive.any():
        raise ValueError(f"{func}: y_true has no positive samples, so precision and recall are undefined")
    fig, ax = _axes(ax, (5.2, 5))
    for i, (name, in_class, s) in enumerate(sets):
        if not in_class.any():
            continue  # a class absent from y_true: no curve
        truth = in_class.astype(np.int64)
        precision, recall, _ = metrics.precision_recall_curve(truth, s)
        ap = metrics.average_precision(truth, s)
        # Recall decreases along the arrays; "steps-post" holds precision[k] from recall[k] to
        # recall[k+1], the rectangles whose areas sum to AP.
        ax.plot(recall, precision, drawstyle="steps-post", label=_legend_label(name, "AP", ap),
                **_curve_style(i, name, multiclass))
    rate = float(positive.mean())
    ax.axhline(rate, color="0.55", linestyle="--", linewidth=1, label=f"chance (positive rate = {rate:.3f})")
    _unit_square(ax, "recall", "precision", "lower left", title)
    return _finish(fig, out)


# --------------------------------------------------------------------------- #
# Confusion matrix
# --------------------------------------------------------------------------- #

# Beyond this many classes the cell annotations would be too small to read.
_MAX_ANNOTATED_CLASSES = 30


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    normalize: bool = False,
    ax: Any = None,
    path: Any = None,
    title: str | None = None,
) -> Figure:
    """The confusion matrix as a heat map: true classes on the rows, predicted on the columns.

    Parameters
    ----------
    y_true, y_pred:
        Class labels (integers, booleans or strings), same length.
    labels:
        The classes and their order (default: the sorted labels seen in either input), as in
        :func:`mlpcore.metrics.confusion_matrix`.
    normalize:
        False: cells show the counts ``C[i, j]``. True: row-normalised fractions
        ``C[i, j] / Σ_j C[i, j]`` (the recall of class i on the diagonal); a class without
        true samples has an undefined row, left blank and annotated "n/a".
    ax, path, title:
        See the module documentation.

    Returns
    -------
    Figure
        Every cell is annotated (counts as integers, fractions to 2 decimals) up to 30 classes;
        a colour bar gives the scale.
    """
    func = "confusion_matrix"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"{func}: normalize must be a bool (got {describe(normalize)})")
    yt, yp = metrics._label_pair(func, y_true, y_pred)
    classes = metrics._class_set(func, labels, y_true=yt, y_pred=yp)
    counts = metrics.confusion_matrix(yt, yp, labels=classes)
    k = classes.size
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, counts / np.maximum(totals, 1), np.nan)
        vmax = 1.0
    else:
        values = counts.astype(np.float64)
        vmax = max(float(counts.max()), 1.0)
    side = max(4.6, 0.42 * k + 2.0)
    fig, ax = _axes(ax, (side + 1.0, side))
    image = ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    names = [_text(c) for c in classes]
    ax.set_xticks(np.arange(k), labels=names)
    ax.set_yticks(np.arange(k), labels=names)
    if max(len(n) for n in names) > 3:
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if k <= _MAX_ANNOTATED_CLASSES:
        size = 10 if k <= 10 else max(5.0, 10 - 0.25 * (k - 10))
        for i in range(k):
            for j in range(k):
                v = values[i, j]
                text = "n/a" if np.isnan(v) else (f"{v:.2f}" if normalize else f"{counts[i, j]:d}")
                # Dark cells get white text; the threshold is half the colour scale.
                colour = "white" if not np.isnan(v) and v > 0.5 * vmax else "black"
                ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=size)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class" if normalize else "count")
    if title is not None:
        ax.set_title(title)
    return _finish(fig, out)


# --------------------------------------------------------------------------- #
# Decision boundary
# --------------------------------------------------------------------------- #

# Fill opacity: flat without probabilities; else from _ALPHA_LOW (a coin flip between the
# classes) to _ALPHA_HIGH (certain), so the shading shows where the model is unsure.
_ALPHA_FLAT = 0.4
_ALPHA_LOW = 0.12
_ALPHA_HIGH = 0.65


def _grid_labels(func: str, labels: Any, n: int) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    arr = as_label_array(arr, "model.predict(grid)", func)
    if arr.size != n:
        raise ValueError(f"{func}: model.predict returned {arr.size} labels for a grid of {n} points")
    return arr


def _confidence(func: str, proba: Any, n: int) -> np.ndarray:
    """Opacity from the top class probability ``p``: rescaled from chance ``1/m`` (m classes) to 1."""
    P = as_float_array(proba, "model.predict_proba(grid)", func, ndim=(1, 2))
    if P.shape[0] != n:
        raise ValueError(f"{func}: model.predict_proba returned {P.shape[0]} rows for a grid of {n} points")
    if P.min() < 0 or P.max() > 1:
        raise ValueError(
            f"{func}: model.predict_proba must return probabilities in [0, 1] "
            f"(got values from {P.min():g} to {P.max():g})"
        )
    if P.ndim == 1 or P.shape[1] == 1:
        p = P.reshape(-1)
        top, m = np.maximum(p, 1.0 - p), 2
    else:
        top, m = P.max(axis=1), P.shape[1]
    sure = np.clip((top - 1.0 / m) / (1.0 - 1.0 / m), 0.0, 1.0)
    return _ALPHA_LOW + (_ALPHA_HIGH - _ALPHA_LOW) * sure


def decision_boundary(
    model: Any, X: Any, y: Any, *, resolution: int = 200, ax: Any = None, path: Any = None, title: str | None = None
) -> Figure:
    """The regions a classifier assigns to each class in the plane, with the data on top.

    Parameters
    ----------
    model:
        Anything with ``predict(X) -> labels`` (an :class:`mlpcore.MLP`, an mlpcore or
        scikit-learn estimator...). When it also has a working ``predict_proba``, the fill is
        more opaque where the model is sure: opacity ``0.12 + 0.53·s`` with
        ``s = (p_max − 1/m) / (1 − 1/m)`` for the top probability ``p_max`` of m classes
        (m = 2 for one sigmoid output). A ``predict_proba`` that raises AttributeError,
        NotImplementedError or ValueError (an MLP with raw hinge scores) gives a flat fill.
    X:
        Data of shape (n, 2).
    y:
        Class labels of the rows of X, of the same kind (numbers or strings) as the predictions.
    resolution:
        Grid points per axis (2 to 2000). The grid spans ``[min − 0.1·range, max + 0.1·range]``
        of each feature (±0.5 around a constant feature).
    ax, path, title:
        See the module documentation.

    Returns
    -------
    Figure
        The predicted class at each grid point, in the class's colour (the colours of the
        points of that class), black lines where the prediction changes, and the data points.
    """
    func = "decision_boundary"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise TypeError(f"{func}: model must have a predict method (got {describe(model)})")
    Xa = as_float_array(X, "X", func, ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"{func}: X must have 2 columns (features) to be drawn in the plane (got shape {Xa.shape})")
    labels = as_label_array(y, "y", func)
    check_same_length(func, X=Xa, y=labels)
    resolution = check_int(resolution, "resolution", func, minimum=2, maximum=2000)

    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    span = hi - lo
    margin = np.where(span > 0, 0.1 * span, 0.5)
    gx = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    gy = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    predicted = _grid_labels(func, predict(grid), grid.shape[0])
    if (labels.dtype.kind in "US") != (predicted.dtype.kind in "US"):
        raise TypeError(
            f"{func}: y and the model's predictions must both be numbers or both be strings "
            f"(got dtypes {labels.dtype} and {predicted.dtype})"
        )
    alpha = np.full(grid.shape[0], _ALPHA_FLAT)
    predict_proba = getattr(model, "predict_proba", None)
    if callable(predict_proba):
        try:
            proba = predict_proba(grid)
        except (AttributeError, NotImplementedError, ValueError):
            proba = None
        if proba is not None:
            alpha = _confidence(func, proba, grid.shape[0])

    classes = np.unique(np.concatenate([labels, predicted]))
    colours = _class_colours(classes.size)
    index = np.searchsorted(classes, predicted).reshape(resolution, resolution)
    image = np.empty((resolution, resolution, 4))
    image[..., :3] = colours[index]
    image[..., 3] = alpha.reshape(resolution, resolution)

    fig, ax = _axes(ax, (6.4, 5))
    # Pixel centres sit on the grid points, so the image reaches half a step beyond them.
    dx, dy = gx[1] - gx[0], gy[1] - gy[0]
    ax.imshow(image, origin="lower", interpolation="nearest", aspect="auto",
              extent=(gx[0] - dx / 2, gx[-1] + dx / 2, gy[0] - dy / 2, gy[-1] + dy / 2))
    # Contour levels only between the class indices that occur (others would warn "no contour").
    levels = np.arange(index.min(), index.max()) + 0.5
    if levels.size:
        ax.contour(xx, yy, index, levels=levels, colors="k", linewidths=0.8)
    size = 28 if labels.size <= 300 else (12 if labels.size <= 3000 else 4)
    for i, c in enumerate(classes):
        rows = labels == c
        if rows.any():
            ax.scatter(Xa[rows, 0], Xa[rows, 1], s=size, color=colours[i], edgecolors="k", linewidths=0.5,
                       label=_text(c))
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("feature 0")
    ax.set_ylabel("feature 1")
    ax.legend(title="class", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    if title is not None:
        ax.set_title(title)
    return _finish(fig, out)


# --------------------------------------------------------------------------- #
# Sweeps (bias and variance)
# --------------------------------------------------------------------------- #

_METRIC_KEYS = {"error": "score", "score": "score", "loss": "loss"}
_METRIC_LABELS = {
    "error": "error (1 − score)",
    "score": "score (accuracy or R²)",
    "loss": "loss",
}


def _param_key(value: Any, where: str, func: str) -> tuple[str, Any]:
    """A hashable, tagged form of a swept value: ``("num", 3)``, ``("layers", (20, 20))``,
    ``("str", "relu")``, ``("bool", True)`` or ``("none", None)``. The tag keeps True apart
    from 1 (an early-stopping sweep has both: "on" and "patience 1")."""
    if value is None:
        return ("none", None)
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, numbers.Real):
        v = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not math.isfinite(v):
            raise ValueError(f"{func}: {where} must be finite (got {value})")
        return ("num", v)
    if isinstance(value, (tuple, list, np.ndarray)):
        items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
        if all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in items):
            return ("layers", tuple(int(v) for v in items))
    raise TypeError(
        f"{func}: {where} must be a number, a tuple of layer sizes, a str, a bool or None (got {describe(value)})"
    )


def _param_label(key: tuple[str, Any]) -> str:
    kind, value = key
    if kind == "layers":
        return "-".join(map(str, value)) if value else "none"
    if kind == "num" and isinstance(value, float):
        return f"{value:g}"
    return str(value)


# Row keys that are results or trial bookkeeping, not settings.
_RESULT_KEYS = frozenset(
    {"seed", "epoch", "epochs", "seconds"}
    | {f"{split}_{what}" for split in ("train", "val", "test") for what in ("loss", "score")}
)


def _same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # arrays and other values without a single truth value
        return a is b


def _check_one_setting(rows: list[Mapping[str, Any]], group: np.ndarray, param: str, func: str) -> None:
    """Rows with the same ``param`` value must differ only by seed: averaging over another
    swept setting (a second grid key) would draw a mean of different models."""
    first: dict[int, int] = {}
    for i, g in enumerate(group.tolist()):
        j = first.setdefault(g, i)
        if j == i:
            continue
        for key in rows[i].keys() | rows[j].keys():
            if key == param or key in _RESULT_KEYS:
                continue
            a, b = rows[j].get(key), rows[i].get(key)
            if not _same_value(a, b):
                raise ValueError(
                    f"{func}: rows[{j}] and rows[{i}] have the same {param} but different {key} "
                    f"({a!r} and {b!r}); plot one {key} at a time, e.g. "
                    f"[r for r in rows if r[{key!r}] == {a!r}]"
                )


def _sweep_rows(rows: Any, param: Any, func: str) -> list[Mapping[str, Any]]:
    if not isinstance(param, str):
        raise TypeError(f"{func}: param must be the name (str) of the swept parameter (got {describe(param)})")
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise TypeError(
            f"{func}: rows must be a list of dicts (for a pandas DataFrame pass df.to_dict('records')) "
            f"(got {describe(rows)})"
        )
    if len(rows) == 0:
        raise ValueError(f"{func}: rows is empty (no results to plot)")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise TypeError(f"{func}: rows[{i}] must be a dict (got {describe(row)})")
        if param not in row:
            raise ValueError(f"{func}: rows[{i}] has no key {param!r} (keys: {', '.join(map(str, row))})")
    return list(rows)


def _split_values(rows: list[Mapping[str, Any]], split: str, metric: str, func: str) -> np.ndarray | None:
    """The metric of one split for every row, or None when no row has it."""
    key = f"{split}_{_METRIC_KEYS[metric]}"
    given = [row.get(key) is not None for row in rows]
    if not any(given):
        return None
    if not all(given):
        missing = given.index(False)
        raise ValueError(
            f"{func}: {key} is given in {sum(given)} of {len(rows)} rows (missing in rows[{missing}]); "
            "give it in all rows or in none"
        )
    values = np.empty(len(rows))
    for i, row in enumerate(rows):
        v = row[key]
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{func}: rows[{i}][{key!r}] must be a number (got {describe(v)})")
        if not math.isfinite(v):
            raise ValueError(f"{func}: rows[{i}][{key!r}] must be finite (got {v})")
        values[i] = v
    return 1.0 - values if metric == "error" else values


def _x_scale(func: str, x: np.ndarray, log_x: Any, categorical: bool) -> str:
    """"linear", "log" or "symlog" for the swept values ``x`` (sorted)."""
    if log_x is not None and not isinstance(log_x, (bool, np.bool_)):
        raise TypeError(f"{func}: log_x must be None, True or False (got {describe(log_x)})")
    if categorical:
        if log_x:
            raise ValueError(f"{func}: log_x=True needs numeric parameter values (these are drawn as categories)")
        return "linear"
    positive = x[x > 0]
    if log_x is None:
        # A decade grid such as 1e-4, 1e-3, 1e-2 spans exactly 100 (to rounding): log too.
        spread = positive.size >= 2 and positive.max() / positive.min() >= 100 * (1 - 1e-9)
        log_x = bool(x.min() >= 0 and spread)
    if not log_x:
        return "linear"
    if x.min() < 0 or positive.size == 0:
        raise ValueError(
            f"{func}: log_x=True needs positive parameter values (0 allowed) (got {x.min():g} to {x.max():g})"
        )
    return "symlog" if x.min() == 0 else "log"


def sweep(
    rows: Any,
    param: str,
    *,
    metric: str = "error",
    log_x: bool | None = None,
    ax: Any = None,
    path: Any = None,
    title: str | None = None,
) -> Figure:
    """Train, validation and test figures against a swept parameter: the bias–variance picture.

    Parameters
    ----------
    rows:
        A list of dicts, one per run (as returned by :mod:`mlpcore.experiments`): the swept
        parameter under ``param``, and ``train_loss``, ``val_loss``, ``test_loss``,
        ``train_score``, ``val_score``, ``test_score`` (accuracy for classifiers, R² for
        regressors). A split is drawn when its key is given (not None) in every row; given in
        only some rows is an error. Rows with the same ``param`` value are repeats (seeds):
        if they differ in another setting (a second key of a regularisation grid) it is a
        ValueError, since their mean would mix different models; select one setting first.
    param:
        The key of the swept parameter. Numbers are drawn on a numeric axis. Hidden-layer
        tuples with one layer, ``(6,)``, count as their number of units (a plain ``6`` too);
        deeper ones such as ``(20, 20)`` (and ``()``, strings, bools, None) are categories
        labelled ``"20-20"`` (``"none"`` for ``()``), in the order they first appear in ``rows``.
        The depth of a network is not its number of units, so they get no shared numeric axis.
    metric:
        ``"error"`` plots ``1 − score`` (falls as the model gets better), ``"score"`` the
        scores, ``"loss"`` the losses.
    log_x:
        Logarithmic parameter axis. Default: when the values are ≥ 0 and the positive ones span
        a factor of 100 or more (such as 1e-4, 1e-3, 1e-2); a symmetric-log axis
        (linear around 0) when 0 is among them.
    ax, path, title:
        See the module documentation.

    Returns
    -------
    Figure
        For each split, the mean over the rows sharing a parameter value (several seeds) with
        a band from their minimum to their maximum; a dotted line marks the value with the best
        mean validation figure.
    """
    func = "sweep"
    out = _check_path(path, func)
    _check_title(title, func)
    _check_ax(ax, func)
    check_choice(metric, "metric", func, tuple(_METRIC_KEYS))
    runs = _sweep_rows(rows, param, func)
    keys = [_param_key(row[param], f"rows[{i}][{param!r}]", func) for i, row in enumerate(runs)]
    # One-layer tuples and plain numbers both mean "this many hidden units": a numeric axis.
    categorical = not all(kind == "num" or (kind == "layers" and len(v) == 1) for kind, v in keys)
    if categorical:
        order = list(dict.fromkeys(keys))
    else:
        keys = [("num", v[0] if kind == "layers" else v) for kind, v in keys]
        order = sorted(set(keys), key=lambda k: k[1])
    position = {k: i for i, k in enumerate(order)}
    group = np.array([position[k] for k in keys])
    _check_one_setting(runs, group, param, func)
    x = np.arange(len(order), dtype=np.float64) if categorical else np.array([v for _, v in order], dtype=np.float64)
    scale = _x_scale(func, x, log_x, categorical)

    series = {split: _split_values(runs, split, metric, func) for split in ("train", "val", "test")}
    if all(v is None for v in series.values()):
        wanted = ", ".join(f"{s}_{_METRIC_KEYS[metric]}" for s in ("train", "val", "test"))
        raise ValueError(f"{func}: no row has any of {wanted} (metric={metric!r})")

    fig, ax = _axes(ax, (6.4, 4.4))
    repeated = np.bincount(group).max() > 1
    best = 0  # index of the best mean validation figure
    for split, values in series.items():
        if values is None:
            continue
        members = [values[group == g] for g in range(len(order))]
        mean = np.array([np.mean(m) for m in members])
        colour = _SPLIT_COLOURS[split]
        ax.plot(x, mean, color=colour, marker="o", markersize=4, label=_SPLIT_NAMES[split])
        if repeated:
            low = np.array([m.min() for m in members])
            high = np.array([m.max() for m in members])
            ax.fill_between(x, low, high, color=colour, alpha=0.18, linewidth=0, label="_band")
        if split == "val":
            best = int(np.argmax(mean) if metric == "score" else np.argmin(mean))
    if series["val"] is not None:
        ax.axvline(x[best], color="0.35", linestyle=":", linewidth=1.2,
                   label=f"best validation ({param} = {_param_label(order[best])})")
    if scale != "linear":
        # Explicit limits: autoscaling a symlog axis also opens its (empty) negative side.
        low_x = float(x[x > 0].min())
        pad = (float(x.max()) / low_x) ** 0.06 if x.max() > low_x else 2.0
        if scale == "symlog":
            ax.set_xscale("symlog", linthresh=low_x)
            ax.set_xlim(-0.3 * low_x, float(x.max()) * pad)
        else:
            ax.set_xscale("log")
            ax.set_xlim(low_x / pad, float(x.max()) * pad)
    if categorical:
        names = [_param_label(k) for k in order]
        ax.set_xticks(x, labels=names)
        # Tilt the labels when they would not fit side by side (about 9 display pixels per
        # character at the default font, plus a gap between labels).
        if sum(len(n) + 2 for n in names) * 9 > ax.bbox.width:
            ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(param)
    ax.set_ylabel(_METRIC_LABELS[metric])
    ax.grid(True, alpha=0.3)
    legend_title = "mean over runs, band: min to max" if repeated else None
    ax.legend(title=legend_title, fontsize="small", title_fontsize="small")
    if title is not None:
        ax.set_title(title)
    return _finish(fig, out)


# --------------------------------------------------------------------------- #
# Digit images
# --------------------------------------------------------------------------- #


def _check_shape(shape: Any, func: str) -> tuple[int, int]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"{func}: shape must be a pair (rows, columns) (got {describe(shape)})")
    return (check_int(shape[0], "shape[0]", func, minimum=1), check_int(shape[1], "shape[1]", func, minimum=1))


def digits(
    images: Any,
    labels: Any = None,
    predicted: Any = None,
    *,
    n_cols: int = 10,
    max_images: int = 50,
    shape: tuple[int, int] = (28, 28),
    path: Any = None,
    title: str | None = None,
) -> Figure:
    """A grid of digit images (MNIST by default) with their true and predicted labels.

    Parameters
    ----------
    images:
        Shape (n, h·w), one flattened image per row (such as the rows of
        :func:`mlpcore.data.load_mnist`), or (n, h, w). Any scale: all images share one grey
        scale from the smallest to the largest value shown (dark = large, as ink on paper).
    labels, predicted:
        Optional true and predicted labels, one per image. With both, an image is titled
        ``"3 (pred 5)"``; a wrong prediction gets a red bold title and a red frame.
    n_cols:
        Images per row of the grid.
    max_images:
        Draw the first ``max_images`` images only.
    shape:
        ``(h, w)`` of one image, used to unflatten 2-D input.
    path, title:
        See the module documentation.
    """
    func = "digits"
    out = _check_path(path, func)
    _check_title(title, func)
    h, w = _check_shape(shape, func)
    n_cols = check_int(n_cols, "n_cols", func, minimum=1)
    max_images = check_int(max_images, "max_images", func, minimum=1)
    arr = as_float_array(images, "images", func, ndim=(2, 3))
    if arr.ndim == 2 and arr.shape[1] != h * w:
        raise ValueError(
            f"{func}: each row of images must hold {h * w} = {h}×{w} pixels for shape={(h, w)} "
            f"(got {arr.shape[1]}); pass the image shape"
        )
    if arr.ndim == 3 and arr.shape[1:] != (h, w):
        raise ValueError(f"{func}: images must have shape (n, {h}, {w}) for shape={(h, w)} (got {arr.shape})")
    n = arr.shape[0]
    truth = None if labels is None else as_label_array(labels, "labels", func)
    guess = None if predicted is None else as_label_array(predicted, "predicted", func)
    for name, lab in (("labels", truth), ("predicted", guess)):
        if lab is not None:
            check_same_length(func, images=arr, **{name: lab})

    m = min(n, max_images)
    shown = arr[:m].reshape(m, h, w)
    cols = min(n_cols, m)
    n_rows = math.ceil(m / cols)
    vmin, vmax = float(shown.min()), float(shown.max())
    if vmax == vmin:
        vmax = vmin + 1.0
    titled = truth is not None or guess is not None
    cell_w = max(1.0, 0.036 * w)
    fig = Figure(figsize=(cols * cell_w, n_rows * (cell_w * h / w + (0.3 if titled else 0.05)) + (0.4 if title else 0)),
                 layout="constrained")
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        if i >= m:
            ax.remove()
            continue
        ax.imshow(shown[i], cmap="gray_r", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        wrong = truth is not None and guess is not None and truth[i] != guess[i]
        for spine in ax.spines.values():
            spine.set_edgecolor("red" if wrong else "0.75")
            spine.set_linewidth(2.0 if wrong else 0.8)
        if truth is not None and guess is not None:
            text = f"{_text(truth[i])} (pred {_text(guess[i])})"
        elif truth is not None:
            text = _text(truth[i])
        elif guess is not None:
            text = f"pred {_text(guess[i])}"
        else:
            continue
        ax.set_title(text, fontsize=8, color="red" if wrong else "black", fontweight="bold" if wrong else "normal",
                     pad=3)
    if title is not None:
        fig.suptitle(title)
    return _finish(fig, out)
