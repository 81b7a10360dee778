"""Tests for mlpcore.metrics against scikit-learn and scipy (to 1e-10 in float64)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcore import metrics
from mlpcore.metrics import (
    UndefinedMetricWarning,
    accuracy,
    average_precision,
    confusion_matrix,
    f1,
    log_loss,
    mae,
    mse,
    mutual_information,
    pearson,
    precision,
    precision_recall_curve,
    r2,
    recall,
    rmse,
    roc_auc,
    roc_curve,
    sensitivity,
    spearman,
    specificity,
    zero_one_loss,
)

TOL = {"rtol": 1e-10, "atol": 1e-10}
seeds = st.integers(0, 2**32 - 1)


def rng_of(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def binary_data(seed: int, n: int, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels with both classes and scores on a coarse grid (many ties)."""
    rng = rng_of(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    scores = rng.integers(0, levels + 1, n) / levels + 0.3 * y * rng.integers(0, 2, n)
    return y, scores


# --------------------------------------------------------------------------- #
# accuracy, confusion matrix, precision / recall / F1 / specificity
# --------------------------------------------------------------------------- #


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 80), k=st.integers(1, 5))
def test_accuracy_and_confusion_matrix_match_sklearn(seed, n, k):
    rng = rng_of(seed)
    yt, yp = rng.integers(0, k, n), rng.integers(0, k, n)
    assert accuracy(yt, yp) == pytest.approx(skm.accuracy_score(yt, yp), abs=1e-12)
    assert zero_one_loss(yt, yp) == pytest.approx(skm.zero_one_loss(yt, yp), abs=1e-12)
    with warnings.catch_warnings():  # sklearn warns when a single label occurs
        warnings.simplefilter("ignore", UserWarning)
        want = skm.confusion_matrix(yt, yp)
    np.testing.assert_array_equal(confusion_matrix(yt, yp), want)
    labels = rng.permutation(k + 1)  # a label that never occurs, in shuffled order
    np.testing.assert_array_equal(
        confusion_matrix(yt, yp, labels=labels), skm.confusion_matrix(yt, yp, labels=labels)
    )


def test_confusion_matrix_string_labels():
    yt = ["cat", "dog", "dog", "bird"]
    yp = ["cat", "cat", "dog", "dog"]
    cm = confusion_matrix(yt, yp)
    np.testing.assert_array_equal(cm, [[0, 0, 1], [0, 1, 0], [0, 1, 1]])  # bird, cat, dog
    np.testing.assert_array_equal(
        confusion_matrix(yt, yp, labels=["dog", "cat", "bird"]),
        skm.confusion_matrix(yt, yp, labels=["dog", "cat", "bird"]),
    )
    assert cm.dtype == np.int64


PRF = [
    (precision, skm.precision_score),
    (recall, skm.recall_score),
    (sensitivity, skm.recall_score),
    (f1, skm.f1_score),
]


@settings(max_examples=50, deadline=None)
@given(
    seed=seeds,
    n=st.integers(1, 60),
    k=st.integers(2, 6),
    average=st.sampled_from(["macro", "micro", "weighted", None]),
    zero_division=st.sampled_from([0.0, 1.0]),
)
def test_prf_multiclass_match_sklearn(seed, n, k, average, zero_division):
    rng = rng_of(seed)
    yt, yp = rng.integers(0, k, n), rng.integers(0, k, n)
    for ours, ref in PRF:
        got = ours(yt, yp, average=average, zero_division=zero_division)
        want = ref(yt, yp, average=average, zero_division=zero_division)
        np.testing.assert_allclose(got, want, **TOL)
        labels = np.arange(k + 1)  # includes a label absent from both inputs
        got = ours(yt, yp, average=average, labels=labels, zero_division=zero_division)
        want = ref(yt, yp, average=average, labels=labels, zero_division=zero_division)
        np.testing.assert_allclose(got, want, **TOL)


@settings(max_examples=50, deadline=None)
@given(
    seed=seeds, n=st.integers(1, 40), zero_division=st.sampled_from([0.0, 1.0]), pos=st.sampled_from([0, 1])
)
def test_prf_binary_match_sklearn(seed, n, zero_division, pos):
    rng = rng_of(seed)
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    for ours, ref in PRF:
        got = ours(yt, yp, pos_label=pos, zero_division=zero_division)
        want = ref(yt, yp, pos_label=pos, zero_division=zero_division)
        assert isinstance(got, float)
        np.testing.assert_allclose(got, want, **TOL)
    # specificity of one class is the recall of the other
    want = skm.recall_score(yt, yp, pos_label=1 - pos, zero_division=zero_division)
    np.testing.assert_allclose(specificity(yt, yp, pos_label=pos, zero_division=zero_division), want, **TOL)


@settings(max_examples=40, deadline=None)
@given(
    seed=seeds,
    n=st.integers(1, 60),
    k=st.integers(2, 5),
    average=st.sampled_from(["macro", "micro", "weighted", None]),
)
def test_specificity_one_vs_rest(seed, n, k, average):
    rng = rng_of(seed)
    yt, yp = rng.integers(0, k, n), rng.integers(0, k, n)
    labels = np.unique(np.r_[yt, yp])
    mcm = skm.multilabel_confusion_matrix(yt, yp, labels=labels)
    tn, fp = mcm[:, 0, 0].astype(float), mcm[:, 0, 1].astype(float)
    support = mcm[:, 1, 1] + mcm[:, 1, 0]
    per_class = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0)
    want = {
        None: per_class,
        "macro": per_class.mean(),
        "weighted": np.sum(per_class * support) / support.sum(),
        "micro": tn.sum() / (tn.sum() + fp.sum()) if tn.sum() + fp.sum() > 0 else 0.0,
    }[average]
    np.testing.assert_allclose(specificity(yt, yp, average=average, zero_division=0.0), want, **TOL)


def test_prf_string_labels_and_pos_label():
    yt = np.array(["spam", "ham", "spam", "spam", "ham"])
    yp = np.array(["spam", "spam", "ham", "spam", "ham"])
    assert precision(yt, yp, pos_label="spam") == pytest.approx(
        skm.precision_score(yt, yp, pos_label="spam"), abs=1e-12
    )
    assert recall(yt, yp, pos_label="ham") == pytest.approx(0.5)
    assert specificity(yt, yp, pos_label="spam") == pytest.approx(0.5)
    per_class = f1(yt, yp, average=None)
    np.testing.assert_allclose(per_class, skm.f1_score(yt, yp, average=None), **TOL)


def test_zero_division_default_is_nan_with_warning():
    yt, yp = [0, 0, 1, 1], [0, 0, 0, 0]
    with pytest.warns(
        UndefinedMetricWarning,
        match=re.escape("precision: undefined for label(s) [1] (no predicted samples); returning NaN"),
    ):
        assert np.isnan(precision(yt, yp))
    assert recall(yt, yp) == 0.0  # defined: no warning under filterwarnings=error
    assert f1(yt, yp) == 0.0  # 2TP / (2TP + FP + FN) = 0 / 2 is defined
    with pytest.warns(UndefinedMetricWarning, match=re.escape("precision: undefined for label(s) [1]")):
        assert np.isnan(precision(yt, yp, average="macro"))
    with pytest.warns(
        UndefinedMetricWarning,
        match=re.escape("specificity: undefined for label(s) [1] (no negative samples)"),
    ):
        assert np.isnan(specificity([1, 1], [1, 0]))
    with pytest.warns(
        UndefinedMetricWarning,
        match=re.escape("f1: undefined for label(s) [1] (no true or predicted samples)"),
    ):
        assert np.isnan(f1([0, 0], [0, 0]))  # pos_label 1 never occurs
    assert precision(yt, yp, zero_division=0.0) == 0.0
    assert precision(yt, yp, zero_division=1.0) == 1.0
    assert np.isnan(precision(yt, yp, zero_division=np.nan))  # explicit NaN: no warning


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda: accuracy([0, 1, 1, 0, 1], [0, 1, 1, 0]),
            ValueError,
            "accuracy: y_true and y_pred must have the same length (got 5 and 4)",
        ),
        (lambda: accuracy([], []), ValueError, "accuracy: y_true is empty"),
        (lambda: accuracy([0.0, np.nan], [0, 1]), ValueError, "accuracy: y_true contains NaN"),
        (
            lambda: accuracy([[0, 1]], [[0, 1]]),
            ValueError,
            "accuracy: y_true must be 1-D (got 2-D with shape (1, 2))",
        ),
        (
            lambda: accuracy([0, 1], ["0", "1"]),
            TypeError,
            "accuracy: y_true and y_pred must hold labels of one kind: numbers, strings or bytes (got numbers and strings",
        ),
        (  # b"a" != "a": mixed, every prediction would count as wrong
            lambda: accuracy(["a", "b"], [b"a", b"b"]),
            TypeError,
            "accuracy: y_true and y_pred must hold labels of one kind: numbers, strings or bytes (got strings and bytes",
        ),
        (
            lambda: confusion_matrix(["a", "b"], ["a", "a"], labels=[b"a", b"b"]),
            TypeError,
            "confusion_matrix: labels must be of the same kind as the data (got bytes and strings",
        ),
        (
            lambda: precision([0, 1], [0.2, 0.9]),
            ValueError,
            "precision: y_pred must hold class labels, but it contains non-integer values",
        ),
        (
            lambda: confusion_matrix([0, 3], [0, 1], labels=[0, 1, 2]),
            ValueError,
            "confusion_matrix: y_true contains label(s) [3] that are not in labels [0, 1, 2]",
        ),
        (
            lambda: confusion_matrix([0, 1], [0, 5], labels=[0, 1]),
            ValueError,
            "confusion_matrix: y_pred contains label(s) [5] that are not in labels [0, 1]",
        ),
        (
            lambda: confusion_matrix([0, 1], [0, 1], labels=[0, 1, 1]),
            ValueError,
            "confusion_matrix: labels must not contain duplicates (got [0, 1, 1])",
        ),
        (
            lambda: confusion_matrix([0, 1], [0, 1], labels=[]),
            ValueError,
            "confusion_matrix: labels is empty",
        ),
        (
            lambda: recall([0, 1, 2], [0, 1, 1]),
            ValueError,
            "recall: average='binary' needs at most 2 classes (got 3: [0, 1, 2])",
        ),
        (lambda: f1([0, 2], [2, 0]), ValueError, "f1: pos_label=1 is not one of the labels [0, 2]"),
        # One class of strings: the default pos_label 1 could never be a label (was NaN and a warning).
        (lambda: f1(["a", "a"], ["a", "a"]), ValueError, "f1: pos_label=1 is not one of the labels ['a']"),
        (lambda: precision([b"a"], [b"a"], pos_label="a"), ValueError, "precision: pos_label='a' is not one of the labels [b'a']"),
        (
            lambda: f1([0, 1], [1, 0], average="mean"),
            ValueError,
            "f1: average must be one of 'binary', 'macro', 'micro', 'weighted', None (got 'mean')",
        ),
        (
            lambda: precision([0, 1], [0, 1], zero_division=2.0),
            ValueError,
            "precision: zero_division must be <= 1.0 (got 2.0)",
        ),
        (
            lambda: precision([0, 1], [0, 1], zero_division="nan"),
            ValueError,
            "precision: zero_division must be one of 'warn' (got 'nan')",
        ),
        (
            lambda: specificity([0, 1], [0, 1], labels=[0]),
            ValueError,
            "specificity: y_true contains label(s) [1] that are not in labels [0]",
        ),
    ],
)
def test_classification_bad_input(call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


def test_pos_label_ignored_outside_binary_warns():
    with pytest.warns(UserWarning, match=re.escape("precision: pos_label=0 is ignored when average='macro'")):
        precision([0, 1, 2], [0, 1, 2], average="macro", pos_label=0)


# --------------------------------------------------------------------------- #
# ROC and precision-recall curves
# --------------------------------------------------------------------------- #


@settings(max_examples=80, deadline=None)
@given(seed=seeds, n=st.integers(2, 80), levels=st.integers(1, 8), drop=st.booleans())
def test_roc_curve_matches_sklearn_with_ties(seed, n, levels, drop):
    y, s = binary_data(seed, n, levels)
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=drop)
    rf, rt, rth = skm.roc_curve(y, s, drop_intermediate=drop)
    assert fpr.shape == rf.shape
    np.testing.assert_allclose(fpr, rf, **TOL)
    np.testing.assert_allclose(tpr, rt, **TOL)
    np.testing.assert_array_equal(thr, rth)
    assert thr[0] == np.inf and fpr[0] == 0 and tpr[-1] == 1
    np.testing.assert_allclose(roc_auc(y, s), skm.roc_auc_score(y, s), **TOL)


@settings(max_examples=80, deadline=None)
@given(seed=seeds, n=st.integers(2, 80), levels=st.integers(1, 8), drop=st.booleans())
def test_precision_recall_curve_and_ap_match_sklearn_with_ties(seed, n, levels, drop):
    y, s = binary_data(seed, n, levels)
    p, r, t = precision_recall_curve(y, s, drop_intermediate=drop)
    rp, rr, rt = skm.precision_recall_curve(y, s, drop_intermediate=drop)
    assert p.shape == rp.shape
    np.testing.assert_allclose(p, rp, **TOL)
    np.testing.assert_allclose(r, rr, **TOL)
    np.testing.assert_array_equal(t, rt)
    np.testing.assert_allclose(average_precision(y, s), skm.average_precision_score(y, s), **TOL)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(2, 60))
def test_roc_auc_is_the_mann_whitney_probability(seed, n):
    y, s = binary_data(seed, n, 4)
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    want = (np.sum(diff > 0) + 0.5 * np.sum(diff == 0)) / diff.size
    assert roc_auc(y, s) == pytest.approx(want, abs=1e-12)


def test_curves_with_string_labels_and_pos_label(rng):
    y = rng.choice(["healthy", "sick"], 50)
    y[:2] = ["healthy", "sick"]
    s = rng.integers(0, 5, 50).astype(float)
    for ours, ref in ((roc_curve, skm.roc_curve), (precision_recall_curve, skm.precision_recall_curve)):
        for a, b in zip(ours(y, s, pos_label="sick"), ref(y, s, pos_label="sick")):
            np.testing.assert_allclose(a, b, **TOL)
    np.testing.assert_allclose(
        average_precision(y, s, pos_label="sick"), skm.average_precision_score(y, s, pos_label="sick"), **TOL
    )
    # roc_auc with pos_label "healthy" is 1 - AUC(sick) (ties count one half both ways)
    assert roc_auc(y, s, pos_label="healthy") == pytest.approx(1 - roc_auc(y, s, pos_label="sick"), abs=1e-12)
    # labels in {-1, 1} need no pos_label
    y_pm = np.where(y == "sick", 1, -1)
    np.testing.assert_allclose(roc_auc(y_pm, s), skm.roc_auc_score(y_pm, s), **TOL)


def test_single_class_edge_cases():
    s = [0.1, 0.4, 0.8]
    with pytest.warns(
        UndefinedMetricWarning,
        match="roc_auc: y_true contains a single class, so ROC AUC is undefined; returning NaN",
    ):
        assert np.isnan(roc_auc([1, 1, 1], s))
    with pytest.warns(
        UndefinedMetricWarning,
        match="roc_curve: y_true has no negative samples; the false positive rate is NaN",
    ):
        fpr, tpr, _ = roc_curve([1, 1, 1], s)
    assert np.all(np.isnan(fpr)) and tpr[-1] == 1
    with pytest.warns(UndefinedMetricWarning, match="roc_curve: y_true has no positive samples"):
        roc_curve([0, 0, 0], s)
    with pytest.warns(UndefinedMetricWarning, match="average_precision: y_true has no positive samples"):
        assert np.isnan(average_precision([0, 0, 0], s))
    with pytest.warns(
        UndefinedMetricWarning, match="precision_recall_curve: y_true has no positive samples; recall is NaN"
    ):
        _, r, _ = precision_recall_curve([0, 0, 0], s)
    assert np.all(np.isnan(r[:-1]))
    # all positives: every precision is 1, so AP = 1 (defined)
    assert average_precision([1, 1, 1], s) == 1.0 == skm.average_precision_score([1, 1, 1], s)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: roc_curve([0, 1, 2], [0.1, 0.2, 0.3]),
            "roc_curve: y_true must hold 2 classes (got 3: [0, 1, 2]); for multiclass problems",
        ),
        (
            lambda: roc_auc([1, 2], [0.1, 0.2]),
            "roc_auc: y_true has labels [1, 2], so pos_label must be given",
        ),
        (
            lambda: roc_auc(["a", "b"], [0.1, 0.2]),
            "roc_auc: y_true has labels ['a', 'b'], so pos_label must be given",
        ),
        (
            lambda: roc_auc([0, 1], [0.1, 0.2], pos_label=2),
            "roc_auc: pos_label=2 is not one of the labels [0, 1]",
        ),
        (lambda: roc_auc([0, 1], [0.1, np.nan]), "roc_auc: scores contains NaN"),
        (lambda: roc_auc([0, 1], [0.1, np.inf]), "roc_auc: scores contains infinite values"),
        (
            lambda: average_precision([0, 1, 1], [0.1, 0.2]),
            "average_precision: y_true and scores must have the same length (got 3 and 2)",
        ),
        (lambda: precision_recall_curve([], []), "precision_recall_curve: y_true is empty"),
        (
            lambda: roc_curve([0, 1], [[0.1, 0.9], [0.8, 0.2]]),
            "roc_curve: scores must be 1-D (got 2-D with shape (2, 2))",
        ),
    ],
)
def test_curve_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- #
# log_loss
# --------------------------------------------------------------------------- #


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(2, 50), k=st.integers(2, 6), zeros=st.booleans())
def test_log_loss_categorical_matches_sklearn(seed, n, k, zeros):
    rng = rng_of(seed)
    n = max(n, k)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class occurs, so the columns are implied by y_true
    P = rng.dirichlet(np.full(k, 0.5), n)
    if zeros:  # some exact 0/1 probabilities exercise the clipping
        P[0] = np.eye(k)[k - 1]
    np.testing.assert_allclose(log_loss(y, P), skm.log_loss(y, P), **TOL)
    labels = np.arange(k + 1)
    P1 = np.column_stack([P, np.zeros(n)])
    np.testing.assert_allclose(log_loss(y, P1, labels=labels), skm.log_loss(y, P1, labels=labels), **TOL)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(2, 50))
def test_log_loss_binary_matches_sklearn(seed, n):
    rng = rng_of(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p = rng.uniform(size=n)
    p[0] = 1.0  # a confident mistake costs -log(eps), not inf
    got = log_loss(y, p)
    np.testing.assert_allclose(got, skm.log_loss(y, p), **TOL)
    want = -np.mean(np.log(np.clip(np.where(y == 1, p, 1 - p), 2.0**-52, 1 - 2.0**-52)))
    assert got == pytest.approx(want, rel=1e-12)
    ys = np.where(y == 1, "yes", "no")  # positive class = greater label ("yes")
    np.testing.assert_allclose(log_loss(ys, p), skm.log_loss(ys, p), **TOL)
    y_one = np.zeros(n, dtype=int)  # a single observed class needs labels
    np.testing.assert_allclose(
        log_loss(y_one, p, labels=[0, 1]), skm.log_loss(y_one, p, labels=[0, 1]), **TOL
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: log_loss([0, 1], [0.5, 1.2]),
            "log_loss: y_prob must hold probabilities in [0, 1] (got values from 0.5 to 1.2)",
        ),
        (
            lambda: log_loss([0, 1], [-0.1, 0.5]),
            "log_loss: y_prob must hold probabilities in [0, 1] (got values from -0.1 to 0.5)",
        ),
        (lambda: log_loss([0, 1], [0.5, np.nan]), "log_loss: y_prob contains NaN"),
        (
            lambda: log_loss([0, 1, 1], [0.5, 0.5]),
            "log_loss: y_true and y_prob must have the same length (got 3 and 2)",
        ),
        (
            lambda: log_loss([1, 1], [0.5, 0.5]),
            "log_loss: y_true contains only one label (1); pass all class labels via labels",
        ),
        (
            lambda: log_loss([0, 1, 2], [0.5, 0.5, 0.5]),
            "log_loss: a 1-D y_prob is the probability of the positive class of a binary problem, but there are 3 classes [0, 1, 2]",
        ),
        (
            lambda: log_loss([0, 1], [[0.2, 0.3, 0.5]] * 2),
            "log_loss: y_prob has 3 columns but there are 2 classes [0, 1]; pass all class labels via labels",
        ),
        (lambda: log_loss([0, 1], [[0.5, 0.5]] * 2, labels=[1, 0]), "log_loss: labels must be sorted"),
        (
            lambda: log_loss([0, 2], [[0.5, 0.5]] * 2, labels=[0, 1]),
            "log_loss: y_true contains label(s) [2] that are not in labels [0, 1]",
        ),
        (lambda: log_loss([], []), "log_loss: y_true is empty"),
    ],
)
def test_log_loss_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_log_loss_warns_when_rows_do_not_sum_to_one():
    with pytest.warns(UserWarning, match="log_loss: the rows of y_prob do not sum to one"):
        log_loss([0, 1], [[0.5, 0.4], [0.2, 0.8]])


# --------------------------------------------------------------------------- #
# Regression
# --------------------------------------------------------------------------- #


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(2, 50), d=st.sampled_from([None, 1, 3]))
def test_regression_metrics_match_sklearn(seed, n, d):
    rng = rng_of(seed)
    shape = (n,) if d is None else (n, d)
    yt = rng.normal(size=shape) * 3
    yp = yt + rng.normal(size=shape)
    np.testing.assert_allclose(mse(yt, yp), skm.mean_squared_error(yt, yp), **TOL)
    np.testing.assert_allclose(rmse(yt, yp), np.sqrt(skm.mean_squared_error(yt, yp)), **TOL)
    np.testing.assert_allclose(mae(yt, yp), skm.mean_absolute_error(yt, yp), **TOL)
    np.testing.assert_allclose(r2(yt, yp), skm.r2_score(yt, yp), **TOL)


def test_regression_edge_cases():
    with pytest.warns(
        UndefinedMetricWarning, match="r2: y_true is constant, so R² is undefined; returning NaN"
    ):
        assert np.isnan(r2([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]))
    with pytest.warns(UndefinedMetricWarning, match="r2: y_true is constant"):
        assert np.isnan(r2([1.0], [0.5]))
    assert r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    assert mse([1, 2], [1, 4]) == 2.0 and mae([1, 2], [1, 4]) == 1.0


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda: mse([1.0, 2.0], [1.0]),
            ValueError,
            "mse: y_true and y_pred must have the same length (got 2 and 1)",
        ),
        (
            lambda: mae(np.zeros((3, 2)), np.zeros((3, 1))),
            ValueError,
            "mae: y_true and y_pred must have the same shape (got (3, 2) and (3, 1))",
        ),
        (lambda: r2([], []), ValueError, "r2: y_true is empty"),
        (lambda: rmse([1.0, np.nan], [1.0, 2.0]), ValueError, "rmse: y_true contains NaN"),
        (lambda: mse(["a"], ["b"]), TypeError, "mse: y_true must be numeric"),
    ],
)
def test_regression_bad_input(call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- #
# Correlation and mutual information
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n=st.integers(2, 60), levels=st.sampled_from([3, 10, 1000]))
def test_correlations_match_scipy_with_ties(seed, n, levels):
    rng = rng_of(seed)
    x = rng.integers(0, levels, n).astype(float)
    y = x * rng.normal() + rng.integers(0, levels, n)
    x[:2], y[:2] = [0.0, 1.0], [0.0, 2.0]  # not constant
    np.testing.assert_allclose(pearson(x, y), scipy.stats.pearsonr(x, y).statistic, **TOL)
    np.testing.assert_allclose(spearman(x, y), scipy.stats.spearmanr(x, y).statistic, **TOL)
    assert -1.0 <= pearson(x, y) <= 1.0
    assert pearson(x, y) == pytest.approx(pearson(y, x), abs=1e-14)


def test_correlation_edge_cases():
    with pytest.warns(
        UndefinedMetricWarning, match="pearson: x is constant, so the correlation is undefined; returning NaN"
    ):
        assert np.isnan(pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.warns(UndefinedMetricWarning, match="spearman: y is constant"):
        assert np.isnan(spearman([1.0, 2.0, 3.0], [5, 5, 5]))
    assert spearman([1, 2, 3, 4], [1, 4, 9, 16]) == pytest.approx(1.0)  # monotone, not linear
    assert pearson([1, 2], [3, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match=re.escape("pearson: x and y must have at least 2 samples (got 1)")):
        pearson([1.0], [2.0])
    with pytest.raises(
        ValueError, match=re.escape("spearman: x and y must have the same length (got 3 and 2)")
    ):
        spearman([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match=re.escape("pearson: y contains NaN")):
        pearson([1, 2, 3], [1, np.nan, 3])


@settings(max_examples=50, deadline=None)
@given(seed=seeds, n=st.integers(1, 80), kx=st.integers(1, 5), ky=st.integers(1, 5))
def test_mutual_information_matches_sklearn(seed, n, kx, ky):
    rng = rng_of(seed)
    x = rng.integers(0, kx, n)
    y = (x + rng.integers(0, ky, n)) % max(ky, 1)
    got = mutual_information(x, y)
    np.testing.assert_allclose(got, skm.mutual_info_score(x, y), **TOL)
    assert got >= 0
    np.testing.assert_allclose(got, mutual_information(y, x), **TOL)
    xs = np.array(["a", "b", "c", "d", "e"])[x]
    np.testing.assert_allclose(mutual_information(xs, y), got, **TOL)


def test_mutual_information_known_values():
    x = np.array([0, 0, 1, 1] * 5)
    assert mutual_information(x, x) == pytest.approx(np.log(2))  # H(X) in nats
    assert mutual_information(x, np.array([0, 1, 0, 1] * 5)) == pytest.approx(0.0, abs=1e-15)
    assert mutual_information(x, np.zeros(20, dtype=int)) == 0.0


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(2, 200), bins=st.integers(1, 8))
def test_mutual_information_bins_match_histogram2d(seed, n, bins):
    rng = rng_of(seed)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    counts = np.histogram2d(x, y, bins=bins)[0].astype(np.int64)
    want = skm.mutual_info_score(None, None, contingency=counts)
    np.testing.assert_allclose(mutual_information(x, y, bins=bins), want, **TOL)
    edges_y = np.histogram_bin_edges(y, bins=bins)
    np.testing.assert_allclose(mutual_information(x, y, bins=(bins, edges_y)), want, **TOL)


def test_mutual_information_mixed_and_rule_bins(rng):
    labels = rng.integers(0, 3, 300)
    feature = labels + rng.normal(scale=0.5, size=300)
    edges = np.histogram_bin_edges(feature, bins="auto")
    codes = np.clip(np.searchsorted(edges, feature, side="right") - 1, 0, edges.size - 2)
    want = skm.mutual_info_score(labels, codes)
    np.testing.assert_allclose(mutual_information(labels, feature, bins=(None, "auto")), want, **TOL)
    assert want > 0.3  # the feature is informative


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda: mutual_information([0.1, 0.5], [0, 1]),
            ValueError,
            "mutual_information: x holds non-integer values; pass bins=... to bin continuous data first",
        ),
        (
            lambda: mutual_information([0, 1, 1], [0, 1]),
            ValueError,
            "mutual_information: x and y must have the same length (got 3 and 2)",
        ),
        (lambda: mutual_information([], []), ValueError, "mutual_information: x is empty"),
        (
            lambda: mutual_information([0.0, np.nan], [0, 1], bins=2),
            ValueError,
            "mutual_information: x contains NaN",
        ),
        (
            lambda: mutual_information([0.0, 5.0], [0.0, 1.0], bins=np.array([0.0, 1.0, 2.0])),
            ValueError,
            "mutual_information: x has values outside the bin edges [0, 2] (got range [0, 5])",
        ),
        (
            lambda: mutual_information([0.0, 1.0], [0.0, 1.0], bins=np.array([1.0, 0.0])),
            ValueError,
            "mutual_information: bin edges for x must be at least 2 increasing values",
        ),
        (
            lambda: mutual_information([0.0, 1.0], [0.0, 1.0], bins=0),
            ValueError,
            "mutual_information: bins for x must be >= 1 (got 0)",
        ),
        (
            lambda: mutual_information([0.0, 1.0], [0.0, 1.0], bins="nope"),
            ValueError,
            "mutual_information: invalid bins for x",
        ),
    ],
)
def test_mutual_information_bad_input(call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


def test_public_names():
    for name in metrics.__all__:
        assert callable(getattr(metrics, name))


def test_python_integers_beyond_float64_are_named():
    """They used to escape as a bare OverflowError naming neither function nor argument."""
    from mlpcore import stats

    for call, message in [(lambda: accuracy([10**400, 1.5], [1, 2]), "accuracy: y_true holds a number beyond float64's range"),
                          (lambda: mse([1, 2], [10**400, 1]), "mse: y_pred holds a number beyond float64's range"),
                          (lambda: stats.bonferroni([10**400]), "bonferroni: pvalues holds a number beyond float64's range")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            call()


def test_r2_constant_means_equal_values_and_tiny_values_count():
    """[0.1, 0.1, 0.1] is constant though its mean is off by rounding (R^2 was -3e31, no
    warning); values of 1e-200 vary though their squares underflow (R^2 was NaN)."""
    with pytest.warns(metrics.UndefinedMetricWarning, match="r2: y_true is constant"):
        assert np.isnan(r2([0.1, 0.1, 0.1], [0.2, 0.1, 0.0]))
    tiny_true, tiny_pred = np.array([1e-200, -1e-200, 0.0]), np.array([1e-200, -1e-200, 1e-201])
    assert r2(tiny_true, tiny_pred) == pytest.approx(skm.r2_score(tiny_true * 1e200, tiny_pred * 1e200), rel=1e-12)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    assert r2(a, a + b) == skm.r2_score(a, a + b)  # in units of a power of two: the same bits


def test_integer_labels_and_scores_stay_exact():
    """Labels of int64 and uint64 were merged through float64, and Python integers beyond int64
    too; integer scores beyond 2**53 tied."""
    cm = confusion_matrix(np.array([2**62 + 1, 1]), np.array([2**62, 1], dtype=np.uint64))
    np.testing.assert_array_equal(cm, skm.confusion_matrix([2**62 + 1, 1], [2**62, 1]))
    assert accuracy([2**63, 2**63 + 1], [2**63 + 1, 2**63]) == 0.0
    assert accuracy([2**64, 2**64 + 1], [2**64 + 1, 2**64]) == 0.0  # Python integers, compared exactly
    assert accuracy([2**63, 2**63 + 1, -1], [2**63 + 1, 2**63, -1]) == pytest.approx(1 / 3)  # a list numpy makes float
    assert accuracy(np.array([-1, 2**63], object), np.array([-1, 2**63], object)) == 1.0
    np.testing.assert_array_equal(confusion_matrix([2**70, 1, 1], [2**70, 2**70, 1]), [[1, 1], [0, 1]])
    mixed = confusion_matrix(np.array([-1, 1]), np.array([2**63 + 1, 1], dtype=np.uint64))
    np.testing.assert_array_equal(mixed, [[0, 0, 1], [0, 1, 0], [0, 0, 0]])  # -1, 1, 2**63 + 1
    scores = np.array([2**53, 2**53 + 1])
    assert metrics.roc_auc([0, 1], scores) == skm.roc_auc_score([0, 1], scores) == 1.0
    assert metrics.average_precision([0, 1], [2**53, 2**53 + 1]) == 1.0


def test_bad_labels_and_bins_are_named():
    with pytest.raises(ValueError, match="confusion_matrix: labels contains NaN"):
        confusion_matrix([0, 1], [0, 1], labels=[0, 1, None])
    with pytest.raises(ValueError, match=r"mutual_information: invalid bins for x \(Too many bins"):
        metrics.mutual_information([1e308, -1e308, 0.0], [1, 2, 1], bins=3)
