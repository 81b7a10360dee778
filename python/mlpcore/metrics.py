"""Evaluation metrics for classification, ranking, regression and association.

Definitions follow scikit-learn and scipy (checked to 1e-10 in float64). Where a
value is undefined (zero division, a single class, constant input) the function
emits an :class:`UndefinedMetricWarning` and returns NaN, or raises a ValueError;
it never silently returns a number. Unlike scikit-learn, precision / recall /
specificity / F1 return NaN (with the warning) on zero division by default; pass
``zero_division=0.0`` for scikit-learn's default value.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import stats as _sps

from ._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_float,
    check_int,
    check_same_length,
    describe,
    label_kind,
    power_of_two_below,
    same_integer_type,
    show,
)

__all__ = [
    "UndefinedMetricWarning",
    "accuracy",
    "average_precision",
    "confusion_matrix",
    "f1",
    "log_loss",
    "mae",
    "mse",
    "mutual_information",
    "pearson",
    "precision",
    "precision_recall_curve",
    "r2",
    "recall",
    "rmse",
    "roc_auc",
    "roc_curve",
    "sensitivity",
    "spearman",
    "specificity",
    "zero_one_loss",
]


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the given input; NaN is returned."""


def _undefined(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)


# --------------------------------------------------------------------------- #
# Label handling
# --------------------------------------------------------------------------- #


def _is_str(a: np.ndarray) -> bool:
    return a.dtype.kind in "US"


def _foreign_label(value: Any, labels: np.ndarray) -> bool:
    """Whether ``value`` (a pos_label) is of another kind than ``labels`` (a number among
    strings, a str among bytes...), so that it can never equal one of them."""
    return label_kind(np.asarray([value])) != label_kind(labels)


def _label_pair(func: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = as_label_array(y_true, "y_true", func)
    yp = as_label_array(y_pred, "y_pred", func)
    check_same_length(func, y_true=yt, y_pred=yp)
    if label_kind(yt) != label_kind(yp):
        raise TypeError(
            f"{func}: y_true and y_pred must hold labels of one kind: numbers, strings or bytes "
            f"(got {label_kind(yt)} and {label_kind(yp)}, dtypes {yt.dtype} and {yp.dtype}; "
            "decode bytes labels first)"
        )
    return same_integer_type(yt, yp)


def _class_set(func: str, labels: Any, **arrays: np.ndarray) -> np.ndarray:
    """The sorted labels seen in ``arrays``, or the validated user ``labels``."""
    observed = np.unique(np.concatenate(list(arrays.values())))
    if labels is None:
        return observed
    lab = as_label_array(labels, "labels", func)  # a None or a mix of kinds is named
    observed, lab = same_integer_type(observed, lab)
    if len(np.unique(lab)) != lab.size:
        raise ValueError(f"{func}: labels must not contain duplicates (got {lab.tolist()})")
    if label_kind(lab) != label_kind(observed):
        raise TypeError(
            f"{func}: labels must be of the same kind as the data "
            f"(got {label_kind(lab)} and {label_kind(observed)}, dtypes {lab.dtype} and {observed.dtype})"
        )
    for name, arr in arrays.items():
        unknown = np.setdiff1d(np.unique(arr), lab)
        if unknown.size:
            raise ValueError(
                f"{func}: {name} contains label(s) {unknown.tolist()} that are not in labels {lab.tolist()}"
            )
    return lab


def _encode(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each value of ``y`` in ``labels`` (all values must be present)."""
    sorter = np.argsort(labels, kind="stable")
    return sorter[np.searchsorted(labels, y, sorter=sorter)]


# --------------------------------------------------------------------------- #
# Counting metrics
# --------------------------------------------------------------------------- #


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions: ``(1/n) Σ_i [y_true_i = y_pred_i]``."""
    yt, yp = _label_pair("accuracy", y_true, y_pred)
    return float(np.mean(yt == yp))


def zero_one_loss(y_true: Any, y_pred: Any) -> float:
    """Fraction of wrong predictions: ``1 − accuracy``."""
    yt, yp = _label_pair("zero_one_loss", y_true, y_pred)
    return float(np.mean(yt != yp))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """``C[i, j]`` = number of samples with true label ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` (default: the sorted labels seen in either input) fixes the order
    of rows and columns; a label of the data that is not in ``labels`` is an error.
    """
    func = "confusion_matrix"
    yt, yp = _label_pair(func, y_true, y_pred)
    lab = _class_set(func, labels, y_true=yt, y_pred=yp)
    k = lab.size
    codes = _encode(yt, lab) * k + _encode(yp, lab)
    return np.bincount(codes, minlength=k * k).reshape(k, k).astype(np.int64)


_AVERAGES = ("binary", "macro", "micro", "weighted", None)


def _counts(
    func: str, y_true: Any, y_pred: Any, labels: Any, average: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class (tp, fp, fn, tn) and the class labels they refer to."""
    check_choice(average, "average", func, _AVERAGES)
    yt, yp = _label_pair(func, y_true, y_pred)
    lab = _class_set(func, labels, y_true=yt, y_pred=yp)
    if average == "binary":
        present = lab.tolist()
        if len(present) > 2:
            raise ValueError(
                f"{func}: average='binary' needs at most 2 classes (got {len(present)}: {present}); "
                "use average='macro', 'micro', 'weighted' or None"
            )
        # With one class, a pos_label absent from the data is fine (that class is the negative
        # one), unless it is of another kind and so could never be a label at all.
        if pos_label not in present and (len(present) == 2 or _foreign_label(pos_label, lab)):
            raise ValueError(f"{func}: pos_label={show(pos_label)} is not one of the labels {present}")
        t, p = yt == pos_label, yp == pos_label
        tp = np.array([np.sum(t & p)])
        fp = np.array([np.sum(~t & p)])
        fn = np.array([np.sum(t & ~p)])
        lab = np.array([pos_label])
    else:
        if pos_label != 1:
            warnings.warn(
                f"{func}: pos_label={show(pos_label)} is ignored when average={average!r}; "
                "it only applies to average='binary'",
                UserWarning,
                stacklevel=3,
            )
        k = lab.size
        cm = np.bincount(_encode(yt, lab) * k + _encode(yp, lab), minlength=k * k).reshape(k, k)
        tp = np.diag(cm).copy()
        fp = cm.sum(axis=0) - tp
        fn = cm.sum(axis=1) - tp
    tn = yt.size - tp - fp - fn
    return tp, fp, fn, tn, lab


def _ratio(
    func: str,
    num: np.ndarray,
    den: np.ndarray,
    support: np.ndarray,
    lab: np.ndarray,
    average: Any,
    zero_division: Any,
    reason: str,
) -> float | np.ndarray:
    """``num / den`` per class, then averaged; 0/0 handled by ``zero_division``."""
    if isinstance(zero_division, str):
        check_choice(zero_division, "zero_division", func, ("warn",))
        fill = np.nan
    elif isinstance(zero_division, (float, np.floating)) and np.isnan(zero_division):
        fill = np.nan
    else:
        fill = check_float(zero_division, "zero_division", func, minimum=0.0, maximum=1.0)
    num, den = num.astype(np.float64), den.astype(np.float64)
    if average == "micro":
        num, den, lab = num.sum(keepdims=True), den.sum(keepdims=True), np.array(["all classes (micro)"])
    elif average == "weighted":
        used = support > 0
        num, den, lab, support = num[used], den[used], lab[used], support[used]
    undefined = den == 0
    if undefined.any() and zero_division == "warn":
        _undefined(
            f"{func}: undefined for label(s) {lab[undefined].tolist()} ({reason}); returning NaN. "
            "Pass zero_division=0.0 or 1.0 to use a fixed value instead"
        )
    values = np.where(undefined, fill, num / np.where(undefined, 1.0, den))
    if average is None:
        return values
    if average == "weighted":
        return float(np.sum(values * support) / np.sum(support))
    return float(np.mean(values))


_PRF_DOC = """

    ``average``: ``"binary"`` reports the class ``pos_label`` only (at most two
    classes); ``"macro"`` is the unweighted mean over classes; ``"weighted"``
    weights each class by its support (number of true samples); ``"micro"`` pools
    the counts of all classes before dividing; ``None`` returns one value per
    class (in the order of ``labels``, by default the sorted labels). For
    multiclass input, counts are one-vs-rest. ``labels`` must include every
    label that occurs. On zero division the value is NaN with an
    :class:`UndefinedMetricWarning` (``zero_division="warn"``), or the given
    ``zero_division`` value without a warning."""


def precision(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    zero_division: Any = "warn",
) -> float | np.ndarray:
    """Precision ``TP / (TP + FP)`` (positive predictive value)."""
    tp, fp, fn, tn, lab = _counts("precision", y_true, y_pred, labels, average, pos_label)
    return _ratio("precision", tp, tp + fp, tp + fn, lab, average, zero_division, "no predicted samples")


def recall(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    zero_division: Any = "warn",
) -> float | np.ndarray:
    """Recall (sensitivity, true positive rate) ``TP / (TP + FN)``."""
    tp, fp, fn, tn, lab = _counts("recall", y_true, y_pred, labels, average, pos_label)
    return _ratio("recall", tp, tp + fn, tp + fn, lab, average, zero_division, "no true samples")


def sensitivity(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    zero_division: Any = "warn",
) -> float | np.ndarray:
    """Sensitivity, an alias of :func:`recall`: ``TP / (TP + FN)``."""
    tp, fp, fn, tn, lab = _counts("sensitivity", y_true, y_pred, labels, average, pos_label)
    return _ratio("sensitivity", tp, tp + fn, tp + fn, lab, average, zero_division, "no true samples")


def specificity(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    zero_division: Any = "warn",
) -> float | np.ndarray:
    """Specificity (true negative rate) ``TN / (TN + FP)``; one-vs-rest per class.

    ``"weighted"`` weights classes by their support ``TP + FN`` like the other
    metrics; ``"micro"`` is ``Σ TN / Σ (TN + FP)``.
    """
    tp, fp, fn, tn, lab = _counts("specificity", y_true, y_pred, labels, average, pos_label)
    return _ratio("specificity", tn, tn + fp, tp + fn, lab, average, zero_division, "no negative samples")


def f1(
    y_true: Any,
    y_pred: Any,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    labels: Any = None,
    zero_division: Any = "warn",
) -> float | np.ndarray:
    """F1 score ``2·TP / (2·TP + FP + FN)``, the harmonic mean of precision and recall.

    Written with counts, F1 is defined (0) when only precision or only recall is
    0/0; it is undefined only for a class that is neither true nor predicted.
    """
    tp, fp, fn, tn, lab = _counts("f1", y_true, y_pred, labels, average, pos_label)
    return _ratio(
        "f1", 2 * tp, 2 * tp + fp + fn, tp + fn, lab, average, zero_division, "no true or predicted samples"
    )


for _f in (precision, recall, sensitivity, specificity, f1):
    _f.__doc__ = (_f.__doc__ or "") + _PRF_DOC


# --------------------------------------------------------------------------- #
# Ranking metrics (binary scores)
# --------------------------------------------------------------------------- #


def _binary_scores(func: str, y_true: Any, scores: Any, pos_label: Any) -> tuple[np.ndarray, np.ndarray]:
    """Boolean ``y_true == pos_label`` and the scores: float64, or integers as they are (as
    float64, 2**53 and 2**53 + 1 would tie)."""
    yt = as_label_array(y_true, "y_true", func)
    s = as_float_array(scores, "scores", func, ndim=1)
    raw = np.asarray(scores)
    if raw.dtype.kind in "iu":
        s = raw
    check_same_length(func, y_true=yt, scores=s)
    classes = np.unique(yt)
    if classes.size > 2:
        raise ValueError(
            f"{func}: y_true must hold 2 classes (got {classes.size}: {classes.tolist()}); for "
            "multiclass problems evaluate one class against the rest "
            "with pos_label=c and the scores of class c"
        )
    values = classes.tolist()
    if pos_label is None:
        if _is_str(classes) or not (set(values) <= {0, 1} or set(values) <= {-1, 1}):
            raise ValueError(f"{func}: y_true has labels {values}, so pos_label must be given")
        pos_label = 1
    elif pos_label not in values and (classes.size == 2 or _foreign_label(pos_label, classes)):
        raise ValueError(f"{func}: pos_label={show(pos_label)} is not one of the labels {values}")
    return yt == pos_label, s


def _clf_curve(positive: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts at each distinct threshold (decreasing): fps, tps, thresholds.

    At threshold ``t`` a sample is predicted positive if ``score >= t``.
    """
    order = np.argsort(scores, kind="mergesort")[::-1]
    s, pos = scores[order], positive[order]
    idx = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tps = np.cumsum(pos, dtype=np.float64)[idx]
    fps = 1 + idx - tps
    return fps, tps, s[idx]


def roc_curve(
    y_true: Any, scores: Any, *, pos_label: Any = None, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: ``(fpr, tpr, thresholds)``.

    At each distinct score ``t`` (decreasing), ``tpr = TP(t) / P`` and
    ``fpr = FP(t) / N`` where a sample counts as predicted positive if its score
    is ``>= t``. The first point is (0, 0) with threshold ``inf``. Tied scores
    form a single point. With ``drop_intermediate`` the points that lie on a
    straight horizontal or vertical segment are dropped (as scikit-learn).
    ``pos_label`` defaults to 1 for labels in {0, 1} or {−1, 1}. If y_true has
    no negatives (positives), fpr (tpr) is NaN with an UndefinedMetricWarning.
    """
    func = "roc_curve"
    if not isinstance(drop_intermediate, (bool, np.bool_)):
        raise TypeError(f"{func}: drop_intermediate must be a bool (got {describe(drop_intermediate)})")
    positive, s = _binary_scores(func, y_true, scores, pos_label)
    fps, tps, thresholds = _clf_curve(positive, s)
    if drop_intermediate and fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        _undefined(f"{func}: y_true has no negative samples; the false positive rate is NaN")
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        _undefined(f"{func}: y_true has no positive samples; the true positive rate is NaN")
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def roc_auc(y_true: Any, scores: Any, *, pos_label: Any = None) -> float:
    """Area under the ROC curve by the trapezoidal rule: ``Σ (fpr_{i+1} − fpr_i)(tpr_{i+1} + tpr_i) / 2``.

    Equals the probability that a random positive scores higher than a random
    negative, ties counting 1/2. With a single class in y_true the AUC is
    undefined: NaN with an UndefinedMetricWarning.
    """
    func = "roc_auc"
    positive, s = _binary_scores(func, y_true, scores, pos_label)
    if positive.all() or not positive.any():
        _undefined(f"{func}: y_true contains a single class, so ROC AUC is undefined; returning NaN")
        return float("nan")
    fpr, tpr, _ = roc_curve(positive.astype(np.int64), s)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def precision_recall_curve(
    y_true: Any, scores: Any, *, pos_label: Any = None, drop_intermediate: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall pairs: ``(precision, recall, thresholds)``, recall decreasing.

    At each distinct score ``t`` (increasing in ``thresholds``),
    ``precision = TP(t) / (TP(t) + FP(t))`` and ``recall = TP(t) / P``; the last
    point (precision 1, recall 0) has no threshold. With ``drop_intermediate``
    points with the same recall as both neighbours are dropped (as scikit-learn).
    If y_true has no positives, recall is NaN with an UndefinedMetricWarning
    (scikit-learn sets it to 1).
    """
    func = "precision_recall_curve"
    if not isinstance(drop_intermediate, (bool, np.bool_)):
        raise TypeError(f"{func}: drop_intermediate must be a bool (got {describe(drop_intermediate)})")
    positive, s = _binary_scores(func, y_true, scores, pos_label)
    fps, tps, thresholds = _clf_curve(positive, s)
    if drop_intermediate and fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    prec = tps / (tps + fps)
    if tps[-1] == 0:
        _undefined(f"{func}: y_true has no positive samples; recall is NaN")
        rec = np.full(tps.shape, np.nan)
    else:
        rec = tps / tps[-1]
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thresholds[::-1]


def average_precision(y_true: Any, scores: Any, *, pos_label: Any = None) -> float:
    """Average precision (area under the precision-recall curve, step-wise).

    ``AP = Σ_k (R_k − R_{k−1}) P_k`` over the thresholds, without interpolation.
    With no positive sample in y_true, AP is undefined: NaN with an
    UndefinedMetricWarning.
    """
    func = "average_precision"
    positive, s = _binary_scores(func, y_true, scores, pos_label)
    if not positive.any():
        _undefined(
            f"{func}: y_true has no positive samples, so average precision is undefined; returning NaN"
        )
        return float("nan")
    prec, rec, _ = precision_recall_curve(positive.astype(np.int64), s)
    return float(max(0.0, -np.sum(np.diff(rec) * prec[:-1])))


# --------------------------------------------------------------------------- #
# Probabilistic loss
# --------------------------------------------------------------------------- #


def log_loss(y_true: Any, y_prob: Any, *, labels: Any = None) -> float:
    """Cross-entropy ``−(1/n) Σ_i log p_i[y_i]`` (natural log), binary or categorical.

    ``y_prob`` is (n,) — the probability of the greater of two labels — or
    (n, k) with columns in the order of the sorted labels (``labels`` if given,
    which must be sorted, else those in y_true). Probabilities are clipped to
    ``[eps, 1 − eps]`` (eps of the input float type) so a confident mistake
    costs a finite ``−log eps``. Values outside [0, 1] are an error; rows that do
    not sum to one give a UserWarning.
    """
    func = "log_loss"
    yt = as_label_array(y_true, "y_true", func)
    raw = np.asarray(y_prob)
    P = as_float_array(y_prob, "y_prob", func, ndim=(1, 2))
    check_same_length(func, y_true=yt, y_prob=P)
    if P.min() < 0 or P.max() > 1:
        raise ValueError(
            f"{func}: y_prob must hold probabilities in [0, 1] (got values from {P.min():g} to {P.max():g})"
        )
    if labels is None:
        classes = np.unique(yt)
        if classes.size < 2:
            raise ValueError(
                f"{func}: y_true contains only one label ({show(classes[0])}); "
                "pass all class labels via labels"
            )
    else:
        classes = _class_set(func, labels, y_true=yt)
        if classes.size < 2:
            raise ValueError(f"{func}: labels must contain at least 2 labels (got {classes.tolist()})")
        if np.any(classes[1:] < classes[:-1]):
            raise ValueError(
                f"{func}: labels must be sorted, since the columns of y_prob follow the sorted labels "
                f"(got {classes.tolist()})"
            )
    if P.ndim == 1 or P.shape[1] == 1:
        P = P.reshape(-1)
        if classes.size != 2:
            raise ValueError(
                f"{func}: a 1-D y_prob is the probability of the positive class of a binary problem, "
                f"but there are {classes.size} classes {classes.tolist()}"
            )
        P = np.column_stack([1.0 - P, P])
    elif P.shape[1] != classes.size:
        raise ValueError(
            f"{func}: y_prob has {P.shape[1]} columns but there are {classes.size} classes "
            f"{classes.tolist()}; pass all class labels via labels"
        )
    eps = np.finfo(raw.dtype if raw.dtype in (np.float16, np.float32) else np.float64).eps
    if not np.allclose(P.sum(axis=1), 1.0, rtol=np.sqrt(eps), atol=0.0):
        warnings.warn(
            f"{func}: the rows of y_prob do not sum to one; pass probabilities", UserWarning, stacklevel=2
        )
    P = np.clip(P, eps, 1 - eps)
    return float(-np.mean(np.log(P[np.arange(yt.size), _encode(yt, classes)])))


# --------------------------------------------------------------------------- #
# Regression
# --------------------------------------------------------------------------- #


def _regression_pair(func: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = as_float_array(y_true, "y_true", func, ndim=(1, 2))
    yp = as_float_array(y_pred, "y_pred", func, ndim=(1, 2))
    check_same_length(func, y_true=yt, y_pred=yp)
    if yt.shape != yp.shape:
        raise ValueError(
            f"{func}: y_true and y_pred must have the same shape (got {yt.shape} and {yp.shape})"
        )
    return yt, yp


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error ``(1/n) Σ (y_i − ŷ_i)²`` (over all entries for 2-D input)."""
    yt, yp = _regression_pair("mse", y_true, y_pred)
    return float(np.mean((yt - yp) ** 2))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error ``sqrt(mse)``."""
    yt, yp = _regression_pair("rmse", y_true, y_pred)
    return float(np.sqrt(np.mean((yt - yp) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error ``(1/n) Σ |y_i − ŷ_i|`` (over all entries for 2-D input)."""
    yt, yp = _regression_pair("mae", y_true, y_pred)
    return float(np.mean(np.abs(yt - yp)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination ``R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²``.

    For 2-D input, the mean of the per-column R². If y_true is constant
    (including a single sample) R² is undefined: NaN with an
    UndefinedMetricWarning (scikit-learn returns 1 or 0).
    """
    func = "r2"
    yt, yp = _regression_pair(func, y_true, y_pred)
    yt2, yp2 = yt.reshape(len(yt), -1), yp.reshape(len(yp), -1)
    # Constant means equal values: [0.1, 0.1, 0.1] has a mean off by rounding, so a sum of
    # squares about it of 1e-33, and R^2 of -3e31. Both sums are taken in units of the largest
    # deviation's power of two (R^2 is a ratio), so that tiny values (1e-200) do not square to 0.
    constant = np.all(yt2 == yt2[:1], axis=0)
    if np.any(constant):
        _undefined(f"{func}: y_true is constant, so R² is undefined; returning NaN")
    centred = yt2 - np.mean(yt2, axis=0)
    top = np.max(np.abs(centred), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.where(constant | ~(top > 0), 1.0, power_of_two_below(top))
    with np.errstate(over="ignore", invalid="ignore"):
        ss_res = np.sum(((yt2 - yp2) / unit) ** 2, axis=0)
        ss_tot = np.sum((centred / unit) ** 2, axis=0)
        values = np.where(constant, np.nan, 1.0 - ss_res / np.where(constant, 1.0, ss_tot))
    return float(np.mean(values))


# --------------------------------------------------------------------------- #
# Association
# --------------------------------------------------------------------------- #


def _xy(func: str, x: Any, y: Any, minimum: int = 2) -> tuple[np.ndarray, np.ndarray]:
    xa = as_float_array(x, "x", func)
    ya = as_float_array(y, "y", func)
    n = check_same_length(func, x=xa, y=ya)
    if n < minimum:
        raise ValueError(f"{func}: x and y must have at least {minimum} samples (got {n})")
    return xa, ya


def _constant(func: str, x: np.ndarray, y: np.ndarray) -> bool:
    for name, a in (("x", x), ("y", y)):
        if np.all(a == a[0]):
            _undefined(f"{func}: {name} is constant, so the correlation is undefined; returning NaN")
            return True
    return False


def unit_scaled(a: np.ndarray) -> np.ndarray:
    """``a`` divided by its largest magnitude (a power of two near it, so exactly), which leaves
    correlations unchanged and keeps their sums finite near float64's limits (the mean of
    [1e308, 1.7e308] overflows)."""
    top = float(np.max(np.abs(a)))
    return a / power_of_two_below(top) if top > 0 else a


def _pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    x, y = unit_scaled(x), unit_scaled(y)
    xm, ym = x - x.mean(), y - y.mean()
    xm, ym = xm / np.max(np.abs(xm)), ym / np.max(np.abs(ym))
    r = np.dot(xm / np.linalg.norm(xm), ym / np.linalg.norm(ym))
    return float(np.clip(r, -1.0, 1.0))


def pearson(x: Any, y: Any) -> float:
    """Pearson correlation ``r = Σ (x − x̄)(y − ȳ) / sqrt(Σ (x − x̄)² Σ (y − ȳ)²)``.

    Constant input gives NaN with an UndefinedMetricWarning.
    """
    xa, ya = _xy("pearson", x, y)
    if _constant("pearson", xa, ya):
        return float("nan")
    return _pearson_r(xa, ya)


def spearman(x: Any, y: Any) -> float:
    """Spearman rank correlation: Pearson r of the ranks (ties get their average rank).

    Constant input gives NaN with an UndefinedMetricWarning.
    """
    xa, ya = _xy("spearman", x, y)
    if _constant("spearman", xa, ya):
        return float("nan")
    return _pearson_r(_sps.rankdata(xa), _sps.rankdata(ya))


def _bin_codes(func: str, name: str, v: np.ndarray, spec: Any) -> np.ndarray:
    """Bin index of each value of ``v`` (bins as numpy.histogram: the last one is closed)."""
    if isinstance(spec, (int, np.integer, str)) and not isinstance(spec, (bool, np.bool_)):
        if not isinstance(spec, str):
            spec = check_int(spec, f"bins for {name}", func, minimum=1)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                edges = np.histogram_bin_edges(v, bins=spec)
        except ValueError as exc:  # an unknown rule, or a range too wide for the bins
            raise ValueError(f"{func}: invalid bins for {name} ({exc})") from None
    else:
        edges = as_float_array(spec, f"bins for {name}", func, ndim=1)
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError(
                f"{func}: bin edges for {name} must be at least 2 increasing values (got {edges.tolist()})"
            )
        if v.min() < edges[0] or v.max() > edges[-1]:
            raise ValueError(
                f"{func}: {name} has values outside the bin edges [{edges[0]:g}, {edges[-1]:g}] "
                f"(got range [{v.min():g}, {v.max():g}])"
            )
    codes = np.searchsorted(edges, v, side="right") - 1
    return np.minimum(codes, edges.size - 2)


def _discrete(func: str, name: str, v: Any, spec: Any) -> np.ndarray:
    if spec is None:
        arr = np.asarray(v)
        if (
            arr.dtype.kind == "f"
            and arr.ndim == 1
            and np.all(np.isfinite(arr))
            and not np.all(arr == np.round(arr))
        ):
            raise ValueError(
                f"{func}: {name} holds non-integer values; pass bins=... to bin continuous data first"
            )
        return as_label_array(v, name, func)
    return _bin_codes(func, name, as_float_array(v, name, func), spec)


def mutual_information(x: Any, y: Any, bins: Any = None) -> float:
    """Mutual information in nats: ``I(X; Y) = Σ_ij p_ij log(p_ij / (p_i p_j))``.

    ``p`` are the empirical frequencies of the discrete values (as
    scikit-learn's ``mutual_info_score``; this plug-in estimate is biased upward
    for small samples). With ``bins``, continuous data are binned first
    (as ``numpy.histogram``): an int or a rule name such as ``"auto"`` applies to
    both variables, a 1-D ndarray gives the bin edges of both, and a pair
    ``(bins_x, bins_y)`` sets them separately (``None`` keeps that variable discrete).
    """
    func = "mutual_information"
    if isinstance(bins, (tuple, list)) and len(bins) == 2:
        bx, by = bins
    else:
        bx = by = bins
    xa, ya = _discrete(func, "x", x, bx), _discrete(func, "y", y, by)
    n = check_same_length(func, x=xa, y=ya)
    _, cx = np.unique(xa, return_inverse=True)
    _, cy = np.unique(ya, return_inverse=True)
    kx, ky = cx.max() + 1, cy.max() + 1
    if kx == 1 or ky == 1:
        return 0.0
    table = np.bincount(cx * ky + cy, minlength=kx * ky).reshape(kx, ky)
    i, j = np.nonzero(table)
    nij = table[i, j].astype(np.float64)
    a, b = table.sum(axis=1).astype(np.float64), table.sum(axis=0).astype(np.float64)
    terms = (nij / n) * (np.log(nij) + np.log(n) - np.log(a[i]) - np.log(b[j]))
    return float(max(0.0, np.sum(terms)))
