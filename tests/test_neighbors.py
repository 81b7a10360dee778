"""Tests for mlpcore.neighbors: scikit-learn's estimator checks, agreement with
``sklearn.neighbors.KNeighbors*(algorithm="brute")``, an exact (distance, index) reference on
data with ties, and bad input.

References: scikit-learn for tie-free data (indices, predictions and uniform probabilities
exactly; distances to rounding, since scikit-learn reports the expanded x.x - 2 x.y + y.y and
we recompute distances directly). On exact ties scikit-learn's order is that of its heap and
introsort, not the training index, so there the reference is a float64 numpy one: scipy's
direct ``cdist(..., "sqeuclidean")`` and a stable argsort; scikit-learn is still checked where
its answer is determined (distances, neighbours strictly inside the k-th distance, and
predictions when tied points share their label).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy.spatial.distance import cdist

pytest.importorskip("sklearn")

import mlpcore
import sklearn.neighbors as skn
from _helpers import errors_in_another_thread, mnist_dir, num_threads, run_python
from mlpcore.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

WEIGHTS = ("uniform", "distance")
EPS = float(np.finfo(np.float64).eps)


@pytest.fixture(autouse=True, scope="module")
def single_threaded_sklearn():
    """scikit-learn's OpenMP and BLAS threads spin-wait: on a loaded 2-core machine a k-NN query
    of a few points then takes ~100 ms instead of ~0.3 ms. One thread keeps the reference fast;
    mlpcore's kernels use their own thread pool, which this does not touch."""
    with threadpool_limits(limits=1):
        yield


def ours_and_sklearn(kind: str, **params):
    ours = (KNeighborsClassifier if kind == "classifier" else KNeighborsRegressor)(**params)
    params.pop("batch_size", None)
    theirs = (skn.KNeighborsClassifier if kind == "classifier" else skn.KNeighborsRegressor)(
        algorithm="brute", **params
    )
    return ours, theirs


def reference_kneighbors(X_fit, Q, k):
    """k nearest rows of X_fit for each row of Q (None: X_fit, each row left out of its own
    neighbours) in (distance, index) order, from scipy's direct squared distances."""
    leave_one_out = Q is None
    sq = cdist(X_fit if leave_one_out else Q, X_fit, "sqeuclidean")
    if leave_one_out:
        np.fill_diagonal(sq, np.inf)
    ind = np.argsort(sq, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(sq, ind, axis=1)), ind


def assert_distances_match_sklearn(dist, sk_dist, X_fit, Q, ind, sk_ind, bound_factor=None):
    """Squared distances within the rounding bound of the two methods.

    Ours are direct sums of (q_l - x_l)^2, within (d + 2) u |q - x|^2 of the truth; scikit-learn's
    the expansion |q|^2 - 2 q.x + |x|^2 (clamped at 0), within (2d + 6) u (|q|^2 + |x|^2); so
    they differ by at most (2d + 5) eps (|q|^2 + |x|^2), u = eps / 2 (x: either method's
    neighbour, which differ only on ties). Near 0 that is a large relative difference (a
    duplicate's expanded distance is a rounding residue), hence no rtol.
    """
    if bound_factor is None:
        bound_factor = (2 * X_fit.shape[1] + 5) * EPS
    q_sq = np.einsum("ij,ij->i", Q, Q)[:, None]
    x_sq = np.einsum("ij,ij->i", X_fit, X_fit)
    bound = bound_factor * (q_sq + np.maximum(x_sq[ind], x_sq[sk_ind]))
    excess = np.abs(dist**2 - sk_dist**2) - bound
    assert np.all(excess <= 0), f"distances differ beyond rounding by up to {excess.max():.3g}"


def distance_gap(ours, theirs, Q) -> float:
    """Largest relative difference between our and scikit-learn's neighbour distances.

    Distance weights 1/d differ by the same relative amount, so a normalised weighted vote or
    mean differs by at most twice it (times max |y| for a mean of targets). The gap is largest
    for close pairs in few dimensions, where the expansion's absolute error of ~1e-16 |x|^2 is
    a large part of the squared distance.
    """
    d, s = ours.kneighbors(Q)[0], theirs.kneighbors(Q)[0]
    positive = d > 0
    return float(np.max(np.abs(d - s)[positive] / d[positive], initial=0.0))


def assert_weighted_close(actual, desired, gap, y_scale=1.0):
    """Outputs of distance-weighted votes or means, to the tolerance the distance gap allows."""
    assert_allclose(actual, desired, rtol=1e-12, atol=4 * gap * y_scale + 1e-14)



# --------------------------------------------------------------------------- #
# scikit-learn's own estimator checks, all of them
# --------------------------------------------------------------------------- #


@parametrize_with_checks(
    [
        KNeighborsClassifier(),
        KNeighborsRegressor(),
        KNeighborsClassifier(n_neighbors=3, weights="distance", batch_size=7),
        KNeighborsRegressor(n_neighbors=3, weights="distance", batch_size=7),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_exports_and_fitted_attributes(rng):
    assert mlpcore.KNeighborsClassifier is KNeighborsClassifier
    assert mlpcore.KNeighborsRegressor is KNeighborsRegressor
    X = rng.standard_normal((12, 3))
    y = np.array(list("abc") * 4)
    clf = KNeighborsClassifier(n_neighbors=4).fit(X, y)
    assert clf.get_params() == {"n_neighbors": 4, "weights": "uniform", "algorithm": "auto", "leaf_size": 30, "p": 2,
                                "metric": "minkowski", "metric_params": None, "n_jobs": None, "batch_size": None}
    assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert (clf.n_features_in_, clf.n_samples_fit_, clf.effective_metric_) == (3, 12, "euclidean")
    assert clf.effective_metric_params_ == {} and clf.outputs_2d_ is False
    reg = KNeighborsRegressor().fit(X, np.arange(12))
    assert (reg.n_features_in_, reg.n_samples_fit_, reg.effective_metric_) == (3, 12, "euclidean")
    assert reg.predict(X).dtype == np.float64


# --------------------------------------------------------------------------- #
# Agreement with scikit-learn on tie-free data
# --------------------------------------------------------------------------- #

# (n_train, n_features, n_queries, k, batch_size): one feature, one query, k = n_train,
# a single training point, and block sizes that split the queries unevenly.
SHAPES = [
    (40, 1, 17, 5, None),
    (40, 6, 1, 5, None),
    (25, 4, 13, 25, 4),
    (1, 3, 5, 1, None),
    (2, 2, 9, 2, 1),
    (60, 9, 31, 7, 2),
    (60, 9, 31, 7, 30),
    (33, 784, 12, 3, 5),
]


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "n{}-d{}-q{}-k{}-b{}".format(*s))
def test_classifier_matches_sklearn(rng, shape, weights):
    n, d, q, k, batch = shape
    X, Q = rng.standard_normal((n, d)), rng.standard_normal((q, d))
    y = rng.integers(0, 3, n)
    ours, theirs = ours_and_sklearn("classifier", n_neighbors=k, weights=weights, batch_size=batch)
    ours.fit(X, y)
    theirs.fit(X, y)
    dist, ind = ours.kneighbors(Q)
    ref_dist, ref_ind = theirs.kneighbors(Q)
    assert ind.dtype == np.intp and dist.dtype == np.float64
    assert_array_equal(ind, ref_ind)
    assert_distances_match_sklearn(dist, ref_dist, X, Q, ind, ref_ind)
    assert_array_equal(ours.predict(Q), theirs.predict(Q))
    if weights == "uniform":  # vote counts / k: exact
        assert_array_equal(ours.predict_proba(Q), theirs.predict_proba(Q))
    else:
        assert_weighted_close(ours.predict_proba(Q), theirs.predict_proba(Q), distance_gap(ours, theirs, Q))
    y_query = rng.integers(0, 3, q)
    assert ours.score(Q, y_query) == theirs.score(Q, y_query)
    if k < n:  # leave-one-out on the training set
        assert_array_equal(ours.kneighbors(return_distance=False), theirs.kneighbors(return_distance=False))
        assert_array_equal(ours.predict(None), theirs.predict(None))
        assert ours.score(None, y) == theirs.score(None, y)


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "n{}-d{}-q{}-k{}-b{}".format(*s))
def test_regressor_matches_sklearn(rng, shape, weights):
    n, d, q, k, batch = shape
    X, Q = rng.standard_normal((n, d)), rng.standard_normal((q, d))
    y = rng.standard_normal(n)
    ours, theirs = ours_and_sklearn("regressor", n_neighbors=k, weights=weights, batch_size=batch)
    ours.fit(X, y)
    theirs.fit(X, y)
    dist, ind = ours.kneighbors(Q, n_neighbors=min(n, 2))
    ref_dist, ref_ind = theirs.kneighbors(Q, n_neighbors=min(n, 2))
    assert_array_equal(ind, ref_ind)
    assert_distances_match_sklearn(dist, ref_dist, X, Q, ind, ref_ind)
    pred = ours.predict(Q)
    assert pred.shape == (q,)
    y_scale = float(np.max(np.abs(y)))
    if weights == "uniform":  # same neighbours in the same order, same np.mean: exact
        assert_array_equal(pred, theirs.predict(Q))
    else:
        assert_weighted_close(pred, theirs.predict(Q), distance_gap(ours, theirs, Q), y_scale)
    if k < n:
        gap = 0.0 if weights == "uniform" else distance_gap(ours, theirs, None)
        assert_weighted_close(ours.predict(None), theirs.predict(None), gap, y_scale)
        # R^2 = 1 - sum (y - p)^2 / sum (y - mean)^2 moves by at most 2 max|y - p| max|dp| / var(y)
        residual = float(np.max(np.abs(y - ours.predict(None))))
        assert_weighted_close(ours.score(None, y), theirs.score(None, y), gap, 2 * residual * y_scale / np.var(y))


def test_callable_weights_match_sklearn(rng):
    X, Q = rng.standard_normal((50, 4)), rng.standard_normal((20, 4))
    y, t = rng.integers(0, 4, 50), rng.standard_normal((50, 2))

    def gaussian(dist):
        return np.exp(-(dist**2))

    clf, sk_clf = ours_and_sklearn("classifier", n_neighbors=6, weights=gaussian)
    reg, sk_reg = ours_and_sklearn("regressor", n_neighbors=6, weights=gaussian)
    clf.fit(X, y), sk_clf.fit(X, y), reg.fit(X, t), sk_reg.fit(X, t)
    assert_array_equal(clf.predict(Q), sk_clf.predict(Q))
    # exp(-d^2) moves by about 2 d^2 times the relative distance gap, at most 1/e times it
    gap = distance_gap(clf, sk_clf, Q)
    assert_weighted_close(clf.predict_proba(Q), sk_clf.predict_proba(Q), gap)
    assert_weighted_close(reg.predict(Q), sk_reg.predict(Q), gap, float(np.max(np.abs(t))))


def test_string_labels_and_multi_output_match_sklearn(rng):
    X, Q = rng.standard_normal((45, 3)), rng.standard_normal((15, 3))
    labels = np.array(["cat", "dog", "eel"])[rng.integers(0, 3, 45)]
    multi = np.stack([labels, np.array(["x", "y"])[rng.integers(0, 2, 45)]], axis=1)
    for weights in WEIGHTS:
        for y in (labels, multi):
            ours, theirs = ours_and_sklearn("classifier", n_neighbors=4, weights=weights)
            ours.fit(X, y)
            theirs.fit(X, y)
            assert ours.outputs_2d_ == theirs.outputs_2d_ == (y.ndim == 2)
            pred = ours.predict(Q)
            assert pred.shape == (15,) + y.shape[1:]
            assert_array_equal(pred, theirs.predict(Q))
            proba, ref = ours.predict_proba(Q), theirs.predict_proba(Q)
            if y.ndim == 1:
                assert_array_equal(ours.classes_, theirs.classes_)
                proba, ref = [proba], [ref]
            else:
                assert isinstance(proba, list) and len(proba) == 2
                for mine, sk in zip(ours.classes_, theirs.classes_):
                    assert_array_equal(mine, sk)
            gap = distance_gap(ours, theirs, Q)
            for p, r in zip(proba, ref):
                assert_weighted_close(p, r, gap)
                assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    targets = rng.standard_normal((45, 3))
    for weights in WEIGHTS:
        ours, theirs = ours_and_sklearn("regressor", n_neighbors=4, weights=weights)
        pred = ours.fit(X, targets).predict(Q)
        assert pred.shape == (15, 3)
        theirs.fit(X, targets)
        gap = distance_gap(ours, theirs, Q)
        assert_weighted_close(pred, theirs.predict(Q), gap, float(np.max(np.abs(targets))))
        # a (n, 1) target stays 2-D, as in scikit-learn
        assert ours.fit(X, targets[:, :1]).predict(Q).shape == (15, 1)


def test_column_vector_labels_warn_and_act_as_1d(rng):
    X, y = rng.standard_normal((20, 2)), rng.integers(0, 2, 20)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clf = KNeighborsClassifier(3).fit(X, y[:, None])
    assert clf.outputs_2d_ is False
    assert_array_equal(clf.predict(X), KNeighborsClassifier(3).fit(X, y).predict(X))


def test_float32_input_gives_the_float64_result(rng):
    """Everything runs in float64: float32 data give exactly the result of their float64 copy,
    and scikit-learn's float32 path (float32 norms) agrees to float32 precision."""
    X, Q = rng.standard_normal((70, 5)).astype(np.float32), rng.standard_normal((20, 5)).astype(np.float32)
    y = rng.integers(0, 3, 70)
    a = KNeighborsClassifier(weights="distance").fit(X, y)
    b = KNeighborsClassifier(weights="distance").fit(X.astype(np.float64), y)
    dist, ind = a.kneighbors(Q)
    dist64, ind64 = b.kneighbors(Q.astype(np.float64))
    assert dist.dtype == np.float64
    assert_array_equal(dist, dist64)
    assert_array_equal(ind, ind64)
    assert_array_equal(a.predict_proba(Q), b.predict_proba(Q.astype(np.float64)))
    sk = skn.KNeighborsClassifier(weights="distance", algorithm="brute").fit(X, y)
    sk_dist, sk_ind = sk.kneighbors(Q)
    assert_array_equal(ind, sk_ind)
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    assert_distances_match_sklearn(dist, sk_dist, X64, Q64, ind, sk_ind, 8 * float(np.finfo(np.float32).eps))


# --------------------------------------------------------------------------- #
# Duplicates and ties
# --------------------------------------------------------------------------- #


def test_duplicate_points_are_at_distance_zero_and_ordered_by_index(rng):
    """Training points repeated 1-4 times (copies share their label and target); queries are
    fresh points and training points. Ties are exactly the copies, so scikit-learn's tie order
    cannot change a prediction: predictions match it exactly, distances to rounding."""
    base = rng.standard_normal((25, 3))
    copies = rng.integers(1, 5, 25)
    X = np.repeat(base, copies, axis=0)[rng.permutation(copies.sum())]
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)  # a function of the point: copies agree
    targets = X @ np.array([1.0, -2.0, 0.5])
    Q = np.concatenate([rng.standard_normal((10, 3)), X[::3]])
    for k in (1, 3, 6):
        ref_dist, ref_ind = reference_kneighbors(X, Q, k)
        for weights in WEIGHTS:
            clf, sk_clf = ours_and_sklearn("classifier", n_neighbors=k, weights=weights, batch_size=4)
            reg, sk_reg = ours_and_sklearn("regressor", n_neighbors=k, weights=weights)
            clf.fit(X, labels), sk_clf.fit(X, labels), reg.fit(X, targets), sk_reg.fit(X, targets)
            dist, ind = clf.kneighbors(Q)
            assert_array_equal(ind, ref_ind)
            assert_allclose(dist, ref_dist, rtol=1e-14)
            assert np.all(dist[10:, 0] == 0.0)  # a query that is a training point: exactly 0
            sk_dist, sk_ind = sk_clf.kneighbors(Q)
            assert_distances_match_sklearn(dist, sk_dist, X, Q, ind, sk_ind)
            assert_array_equal(clf.predict(Q), sk_clf.predict(Q))
            proba, sk_proba = clf.predict_proba(Q), sk_clf.predict_proba(Q)
            pred, sk_pred = reg.predict(Q), sk_reg.predict(Q)
            if weights == "uniform":  # the same labels and targets in the same order: exact
                assert_array_equal(proba, sk_proba)
                assert_array_equal(pred, sk_pred)
            else:
                gap = distance_gap(clf, sk_clf, Q[:10])
                assert_weighted_close(proba[:10], sk_proba[:10], gap)
                assert_weighted_close(pred[:10], sk_pred[:10], gap, float(np.max(np.abs(targets))))
                # A query that is a training point takes its copies' label and target, exactly.
                codes = np.searchsorted(clf.classes_, labels[ind[10:, 0]])
                assert_array_equal(proba[10:], np.eye(len(clf.classes_))[codes])
                assert_allclose(pred[10:], targets[ind[10:, 0]], rtol=4 * EPS)  # (t + t + t) / 3
                # scikit-learn weighs the copies 1/r for the expansion's residue r (0 where it
                # cancels exactly), the other neighbours 1/d: its outputs differ by at most k r / d.
                zero = dist[10:] == 0.0
                residue = float(np.max(sk_dist[10:][zero]))
                share = k * residue / float(np.min(dist[10:][~zero], initial=np.inf))
                assert_allclose(proba[10:], sk_proba[10:], rtol=0, atol=share + 1e-15)
                assert_allclose(pred[10:], sk_pred[10:], rtol=0, atol=share * np.max(np.abs(targets)) + 1e-14)
            # leave-one-out: a point's own row is excluded, its copies are not
            loo_dist, loo_ind = clf.kneighbors()
            ref_loo_dist, ref_loo_ind = reference_kneighbors(X, None, k)
            assert_array_equal(loo_ind, ref_loo_ind)
            assert_allclose(loo_dist, ref_loo_dist, rtol=1e-14)
            assert not np.any(loo_ind == np.arange(len(X))[:, None])
            assert_array_equal(clf.predict(None), sk_clf.predict(None))


def test_ties_on_a_grid_follow_training_index_and_agree_with_sklearn_where_determined(rng):
    """Integer points: many exactly equal distances. Ours: (distance, index) order, exactly.
    scikit-learn (whose tie order is arbitrary) must agree on the distances and on the set of
    neighbours strictly closer than the k-th distance."""
    X = rng.integers(0, 3, (60, 2)).astype(np.float64)
    Q = rng.integers(0, 3, (25, 2)).astype(np.float64)
    y = rng.integers(0, 3, 60)
    for k in (1, 4, 9, 60):
        ours = KNeighborsClassifier(k, batch_size=6).fit(X, y)
        sk = skn.KNeighborsClassifier(k, algorithm="brute").fit(X, y)
        dist, ind = ours.kneighbors(Q)
        ref_dist, ref_ind = reference_kneighbors(X, Q, k)
        assert_array_equal(ind, ref_ind)
        assert_array_equal(dist, ref_dist)  # integer arithmetic: exact
        sk_dist, sk_ind = sk.kneighbors(Q)
        assert_distances_match_sklearn(dist, sk_dist, X, Q, ind, sk_ind)
        for row, sk_row, d in zip(ind, sk_ind, dist):
            inside = d < d[-1] - 1e-6
            assert set(row[inside]) == set(sk_row[inside])


def test_results_do_not_depend_on_batch_size_or_threads(rng):
    X, Q = rng.standard_normal((90, 11)), rng.standard_normal((37, 11))
    X[40:50] = X[0]  # ties too
    Q[:3] = X[0]
    y = rng.integers(0, 4, 90)
    expected = KNeighborsClassifier(6, weights="distance").fit(X, y)
    dist, ind = expected.kneighbors(Q)
    proba = expected.predict_proba(Q)
    loo = expected.kneighbors()
    for batch in (1, 2, 5, 36, 37, 38, 1000):
        for threads in (1, 2):
            with num_threads(threads):
                model = KNeighborsClassifier(6, weights="distance", batch_size=batch).fit(X, y)
                d, i = model.kneighbors(Q)
                assert_array_equal(d, dist)
                assert_array_equal(i, ind)
                assert_array_equal(model.predict_proba(Q), proba)
                for a, b in zip(model.kneighbors(), loo):
                    assert_array_equal(a, b)


def test_cancellation_prone_data_far_from_the_origin(rng):
    """Points at 1e6 with spread 1e-2: the expansion's rounding (~1e-4 in squared distance)
    exceeds the squared distances themselves, so ranking by it would be noise; the candidates
    within its error bound are re-ranked on direct distances, which match scipy's."""
    X = 1e6 + 1e-2 * rng.standard_normal((80, 3))
    Q = 1e6 + 1e-2 * rng.standard_normal((15, 3))
    ours = KNeighborsRegressor(5, batch_size=4).fit(X, np.arange(80.0))
    dist, ind = ours.kneighbors(Q)
    ref_dist, ref_ind = reference_kneighbors(X, Q, 5)
    assert_array_equal(ind, ref_ind)
    assert_allclose(dist, ref_dist, rtol=1e-14)  # both direct sums of the same exact differences


@pytest.mark.parametrize(("scale", "offset", "screens"), [
    (1.0, 0.0, ["float32"] * 4),  # well spread: float32 screening, every block
    # Near-neighbour distances tiny next to the norms: the first block's float32 candidates are
    # too many, so it and the blocks after it are screened in float64.
    (1e-2, 1e3, ["float32", "float64", "float64", "float64", "float64"]),
    # Norms beyond float32's range: searched in units of a power of two near 1e16, so the
    # float32 screening applies as to any data.
    (1e16, 0.0, ["float32"] * 4),
])
def test_float32_screening_falls_back_to_float64_and_stays_exact(rng, monkeypatch, scale, offset, screens):
    """Queries are screened in float32 where that keeps the candidate sets small, in float64
    otherwise; the neighbours, from direct float64 distances, are exact either way."""
    from mlpcore import neighbors

    X = offset + scale * rng.standard_normal((400, 6))
    Q = offset + scale * rng.standard_normal((40, 6))
    seen = []
    real_screen = neighbors._screen

    def spy(Qb, *args, **kwargs):
        seen.append(Qb.dtype.name)
        return real_screen(Qb, *args, **kwargs)

    monkeypatch.setattr(neighbors, "_screen", spy)
    dist, ind = KNeighborsRegressor(5, batch_size=10).fit(X, np.arange(400.0)).kneighbors(Q)
    ref_dist, ref_ind = reference_kneighbors(X, Q, 5)
    assert seen == screens
    assert_array_equal(ind, ref_ind)
    assert_allclose(dist, ref_dist, rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 30),
    d=st.integers(1, 4),
    q=st.integers(1, 12),
    batch=st.one_of(st.none(), st.integers(1, 13)),
)
def test_property_small_integer_points_exact_reference(data, n, d, q, batch):
    """Points with coordinates in -2..2 (ties everywhere; all arithmetic exact): neighbours,
    distances and leave-one-out equal the (distance, index) reference exactly; probabilities
    are the neighbours' label frequencies and predict is their argmax."""
    X = data.draw(arrays(np.int64, (n, d), elements=st.integers(-2, 2))).astype(np.float64)
    Q = data.draw(arrays(np.int64, (q, d), elements=st.integers(-2, 2))).astype(np.float64)
    y = data.draw(arrays(np.int64, n, elements=st.integers(0, 2)))
    k = data.draw(st.integers(1, n))
    model = KNeighborsClassifier(k, batch_size=batch).fit(X, y)
    dist, ind = model.kneighbors(Q)
    ref_dist, ref_ind = reference_kneighbors(X, Q, k)
    assert_array_equal(ind, ref_ind)
    assert_array_equal(dist, ref_dist)
    classes = np.unique(y)
    codes = np.searchsorted(classes, y)
    counts = np.stack([np.bincount(codes[row], minlength=len(classes)) for row in ref_ind])
    assert_array_equal(model.predict_proba(Q), counts / k)
    assert_array_equal(model.predict(Q), classes[np.argmax(counts, axis=1)])
    if k < n:
        loo_dist, loo_ind = model.kneighbors()
        ref_loo_dist, ref_loo_ind = reference_kneighbors(X, None, k)
        assert_array_equal(loo_ind, ref_loo_ind)
        assert_array_equal(loo_dist, ref_loo_dist)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    d=st.integers(1, 20),
    q=st.integers(1, 15),
    batch=st.one_of(st.none(), st.integers(1, 16)),
    weights=st.sampled_from(WEIGHTS),
    data=st.data(),
)
def test_property_continuous_points_match_sklearn(seed, n, d, q, batch, weights, data):
    """Continuous random points (no ties): everything equals scikit-learn's."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-3, 4)
    X, Q = scale * rng.standard_normal((n, d)), scale * rng.standard_normal((q, d))
    y, t = rng.integers(0, 3, n), rng.standard_normal(n)
    k = data.draw(st.integers(1, n))
    clf, sk_clf = ours_and_sklearn("classifier", n_neighbors=k, weights=weights, batch_size=batch)
    reg, sk_reg = ours_and_sklearn("regressor", n_neighbors=k, weights=weights, batch_size=batch)
    clf.fit(X, y), sk_clf.fit(X, y), reg.fit(X, t), sk_reg.fit(X, t)
    dist, ind = clf.kneighbors(Q)
    sk_dist, sk_ind = sk_clf.kneighbors(Q)
    assert_array_equal(ind, sk_ind)
    assert_distances_match_sklearn(dist, sk_dist, X, Q, ind, sk_ind)
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert_array_equal(clf.predict(Q), sk_clf.predict(Q))
    gap = 0.0 if weights == "uniform" else distance_gap(clf, sk_clf, Q)
    assert_weighted_close(clf.predict_proba(Q), sk_clf.predict_proba(Q), gap)
    assert_weighted_close(reg.predict(Q), sk_reg.predict(Q), gap, float(np.max(np.abs(t))))


# --------------------------------------------------------------------------- #
# Inside scikit-learn's model selection
# --------------------------------------------------------------------------- #


def test_pipeline_gridsearch_and_cross_val_score_match_sklearn(rng):
    X = rng.standard_normal((120, 4)) * np.array([1.0, 10.0, 100.0, 0.1])
    y = (X[:, 0] + X[:, 1] / 10 > 0).astype(int) + (X[:, 2] > 0)
    t = X[:, 0] - X[:, 3] * 5 + 0.1 * rng.standard_normal(120)
    cv = KFold(4, shuffle=True, random_state=0)
    for kind, target in (("classifier", y), ("regressor", t)):
        ours, theirs = ours_and_sklearn(kind, n_neighbors=5)
        pipe, sk_pipe = make_pipeline(StandardScaler(), ours), make_pipeline(StandardScaler(), theirs)
        assert_allclose(pipe.fit(X, target).predict(X), sk_pipe.fit(X, target).predict(X), rtol=1e-12)
        scores = cross_val_score(pipe, X, target, cv=cv)
        assert_allclose(scores, cross_val_score(sk_pipe, X, target, cv=cv), rtol=1e-12)
        assert scores.mean() > 0.7
        step = pipe.steps[-1][0]
        param_grid = {f"{step}__n_neighbors": [1, 3, 7, 15], f"{step}__weights": list(WEIGHTS)}
        search = GridSearchCV(pipe, param_grid, cv=cv).fit(X, target)
        sk_search = GridSearchCV(sk_pipe, param_grid, cv=cv).fit(X, target)
        assert search.best_params_ == sk_search.best_params_
        assert_allclose(search.cv_results_["mean_test_score"], sk_search.cv_results_["mean_test_score"], rtol=1e-12)


# --------------------------------------------------------------------------- #
# Real MNIST digits
# --------------------------------------------------------------------------- #


def test_mnist_accuracy_equals_sklearn():
    from mlpcore.data import load_mnist, train_val_test_split

    directory = mnist_dir()
    if not any((directory / f"t10k-images-idx3-ubyte{ext}").is_file() for ext in ("", ".gz")):
        pytest.skip(f"real MNIST test set not found in {directory} (set MLPCORE_MNIST_DIR)")
    X, y = load_mnist(directory, subset="test")
    X_fit, _, X_rest, y_fit, _, y_rest = train_val_test_split(X, y, val_size=0, test_size=5000, seed=0)
    assert len(X_fit) == len(X_rest) == 5000
    ours = KNeighborsClassifier(n_neighbors=5).fit(X_fit, y_fit)
    theirs = skn.KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(X_fit, y_fit)
    pred = ours.predict(X_rest)
    with threadpool_limits(limits=2):  # one big GEMM: threads pay off here
        sk_pred = theirs.predict(X_rest)
    accuracy = float(np.mean(pred == y_rest))
    assert accuracy == float(np.mean(sk_pred == y_rest))
    assert_array_equal(pred, sk_pred)
    assert accuracy > 0.9


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #


@pytest.fixture
def small(rng):
    return rng.standard_normal((5, 4)), np.array([0, 1, 0, 1, 1])


@pytest.mark.parametrize("Estimator", [KNeighborsClassifier, KNeighborsRegressor])
def test_bad_hyper_parameters(small, Estimator):
    X, y = small
    name = Estimator.__name__
    with pytest.raises(ValueError, match=rf"{name}\.fit: n_neighbors must be >= 1 \(got 0\)"):
        Estimator(0).fit(X, y)
    with pytest.raises(TypeError, match=rf"{name}\.fit: n_neighbors must be an integer \(got float 2.5\)"):
        Estimator(2.5).fit(X, y)
    with pytest.raises(ValueError, match=rf"{name}\.fit: weights must be 'uniform', 'distance', None \(uniform\) or a callable"):
        Estimator(weights="gaussian").fit(X, y)
    with pytest.raises(ValueError, match=rf"{name}\.fit: batch_size must be >= 1 \(got 0\)"):
        Estimator(batch_size=0).fit(X, y)
    with pytest.raises(TypeError, match=rf"{name}\.fit: batch_size must be an integer"):
        Estimator(batch_size=1.5).fit(X, y)
    model = Estimator(2).fit(X, y)
    model.set_params(weights="linear")  # changed after fit: caught at prediction
    with pytest.raises(ValueError, match=rf"{name}\.predict: weights must be"):
        model.predict(X)


@pytest.mark.parametrize("Estimator", [KNeighborsClassifier, KNeighborsRegressor])
def test_too_many_neighbours(small, Estimator):
    X, y = small
    name = Estimator.__name__
    model = Estimator(6).fit(X, y)  # like scikit-learn, k is checked against the data at query time
    with pytest.raises(ValueError, match=rf"{name}\.predict: n_neighbors \(6\) must be <= n_samples_fit_ \(5\)"):
        model.predict(X)
    with pytest.raises(ValueError, match=rf"{name}\.kneighbors: n_neighbors \(6\) must be <= n_samples_fit_"):
        model.kneighbors(X)
    model.set_params(n_neighbors=5)
    assert model.kneighbors(X)[1].shape == (5, 5)
    with pytest.raises(ValueError, match=rf"{name}\.predict: n_neighbors \(5\) must be < n_samples_fit_ \(5\) when X is None"):
        model.predict(None)
    with pytest.raises(ValueError, match=rf"{name}\.kneighbors: n_neighbors must be >= 1 \(got 0\)"):
        model.kneighbors(X, n_neighbors=0)
    with pytest.raises(TypeError, match=rf"{name}\.kneighbors: n_neighbors must be an integer \(got str '2'\)"):
        model.kneighbors(X, n_neighbors="2")
    with pytest.raises(TypeError, match=rf"{name}\.kneighbors: return_distance must be a bool"):
        model.kneighbors(X, return_distance="yes")


@pytest.mark.parametrize("Estimator", [KNeighborsClassifier, KNeighborsRegressor])
def test_bad_data(small, Estimator):
    X, y = small
    name = Estimator.__name__
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=rf"{name}\.fit: Input X contains NaN"):
        Estimator(2).fit(bad, y)
    model = Estimator(2).fit(X, y)
    with pytest.raises(ValueError, match=rf"{name}\.predict: Input X contains NaN"):
        model.predict(bad)
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match=rf"{name}\.kneighbors: Input X contains infinity"):
        model.kneighbors(bad)
    with pytest.raises(ValueError, match=rf"{name}\.predict: X has 3 features, but {name} is expecting 4 features"):
        model.predict(X[:, :3])
    with pytest.raises(ValueError, match=rf"{name}\.fit: Found input variables with inconsistent numbers of samples"):
        Estimator(2).fit(X, y[:4])
    with pytest.raises(ValueError, match=rf"{name}\.fit: .*requires y to be passed"):
        Estimator(2).fit(X, None)
    # Data of any scale fits (searched in units of a power of two); queries far beyond the
    # training data's scale (squared norms beyond float64 in those units) are refused.
    Estimator(2).fit(X * 1e160, y)
    with pytest.raises(ValueError, match=rf"{name}\.predict: X has a row with squared norm"):
        model.predict(X * 1e160)
    with pytest.raises(TypeError, match=rf"{name}\.fit: Sparse data was passed"):
        Estimator(2).fit(scipy.sparse.csr_array(X), y)
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        Estimator(2).predict(X)


def test_bad_targets(small):
    X, _ = small
    with pytest.raises(ValueError, match=r"KNeighborsClassifier\.fit: Unknown label type: continuous"):
        KNeighborsClassifier(2).fit(X, np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match=r"KNeighborsRegressor\.fit: Input y contains NaN"):
        KNeighborsRegressor(2).fit(X, np.array([0.0, 1.0, np.nan, 2.0, 3.0]))


@pytest.mark.parametrize("Estimator", [KNeighborsClassifier, KNeighborsRegressor])
def test_bad_callable_weights(small, Estimator):
    X, y = small
    name = Estimator.__name__
    cases = [
        (lambda d: d[:, :1], ValueError, r"must return an array of shape \(5, 2\) \(got \(5, 1\)\)"),
        (lambda d: -d, ValueError, "must return finite, non-negative weights"),
        (lambda d: d * np.nan, ValueError, "must return finite, non-negative weights"),
        (lambda d: np.zeros_like(d), ValueError, "gave all neighbours of some query weight 0"),
        (lambda d: [["a", "b"]] * len(d), TypeError, "must return numbers"),
    ]
    for func, error, message in cases:
        model = Estimator(2, weights=func).fit(X, y)
        with pytest.raises(error, match=rf"{name}\.predict: weights\(dist\) {message}"):
            model.predict(X)


def test_import_error_names_the_extra():
    result = run_python(
        "import sys; sys.modules['sklearn'] = None\n"
        "try:\n"
        "    import mlpcore.neighbors\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert 'needs scikit-learn >= 1.6; install it with pip install "mlpcore[sklearn]"' in result.stdout


@pytest.mark.parametrize("Estimator", [KNeighborsClassifier, KNeighborsRegressor])
def test_a_failed_fit_leaves_the_fitted_model_as_it_was(rng, Estimator, monkeypatch):
    """Checks that fail after X is validated (the labels' type; here also a failure injected
    after the new X is stored) used to leave the new X stored beside the old labels: an
    IndexError or silently wrong neighbours."""
    import mlpcore.neighbors as neighbors

    X = rng.standard_normal((30, 3))
    y = rng.integers(0, 2, 30)
    model = Estimator(3).fit(X, y)
    before = model.predict(X)
    attributes = dict(vars(model))
    failing = [(rng.standard_normal((5, 4)), rng.integers(0, 2, 5), True)]  # fails in _row_sq_norms
    if Estimator is KNeighborsClassifier:
        failing += [(rng.standard_normal((50, 3)), rng.standard_normal(50), False),  # continuous labels
                    (rng.standard_normal((5, 3)), rng.standard_normal(5), False)]
    real_norms = neighbors._row_sq_norms

    def failing_norms(X):
        raise ValueError(f"{Estimator.__name__}.fit: injected after X was stored")

    for X_new, y_new, inject in failing:
        monkeypatch.setattr(neighbors, "_row_sq_norms", failing_norms if inject else real_norms)
        with pytest.raises(ValueError, match=rf"{Estimator.__name__}\.fit: "):
            model.fit(X_new, y_new)
        monkeypatch.setattr(neighbors, "_row_sq_norms", real_norms)
        assert vars(model).keys() == attributes.keys()
        assert all(vars(model)[k] is v for k, v in attributes.items())
        np.testing.assert_array_equal(model.predict(X), before)


def test_sklearn_parameters_are_accepted_and_the_graph_matches(rng):
    """scikit-learn's constructor arguments run unchanged (every algorithm finds the same exact
    neighbours; the distance must be Euclidean), and kneighbors_graph equals scikit-learn's."""
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 3, 40)
    for kw in [dict(algorithm="brute", n_jobs=-1), dict(algorithm="kd_tree", leaf_size=5), dict(metric="euclidean"),
               dict(metric="minkowski", p=2.0, metric_params=None), dict(weights=None)]:
        ours = KNeighborsClassifier(4, **kw).fit(X, y)
        theirs = skn.KNeighborsClassifier(4, **kw).fit(X, y)
        np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    ours = KNeighborsRegressor(3).fit(X, X[:, 0])
    theirs = skn.KNeighborsRegressor(3).fit(X, X[:, 0])
    for mode in ("connectivity", "distance"):
        for queries in (None, X[:7] + 0.1):
            got, want = ours.kneighbors_graph(queries, mode=mode), theirs.kneighbors_graph(queries, mode=mode)
            assert scipy.sparse.issparse(got) and got.shape == want.shape
            np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-12, atol=1e-12)
    for kw, message in [(dict(metric="manhattan"), "only the Euclidean distance is supported"),
                        (dict(p=1), "only the Euclidean distance is supported"),
                        (dict(algorithm="nope"), "algorithm must be one of 'auto', 'ball_tree', 'kd_tree', 'brute'"),
                        (dict(n_jobs=0), "n_jobs must be None, -1 or a positive integer"),
                        (dict(leaf_size=0), "leaf_size"),
                        (dict(metric_params={"w": 1}), "metric_params must be None")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            KNeighborsClassifier(**kw).fit(X, y)
    with pytest.raises(ValueError, match="mode must be 'connectivity' or 'distance'"):
        ours.kneighbors_graph(X, mode="weights")


def test_a_neighbours_estimator_is_fitted_by_one_thread_at_a_time():
    """A second thread's fit of the same estimator is refused while a fit runs (before, the two
    fits' attributes mixed and predictions used one fit's points with the other's labels)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    errors: list[BaseException] = []

    class Probe(KNeighborsClassifier):
        def _fit_classes(self, y, where):  # runs inside fit
            errors.extend(errors_in_another_thread(lambda: self.fit(X[:10], y[:10])))
            return super()._fit_classes(y, where)

    est = Probe(n_neighbors=3).fit(X, y)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "Probe.fit: this Probe is being trained by another thread" in str(errors[0])
    assert_array_equal(est.predict(X), KNeighborsClassifier(n_neighbors=3).fit(X, y).predict(X))


@pytest.mark.parametrize("scale", [1e-22, 1e-161, 1e150])
def test_neighbours_are_exact_at_any_scale(scale):
    """Coordinates of 1e-22 squared to float32 subnormals, whose rounding the screening bound
    does not cover (the nearest point was dropped); 1e-161 did the same in float64; 1e150 was
    refused (squared norms beyond float64). The search now runs in units of a power of two."""
    rng = np.random.default_rng(5)
    X, Q = rng.random((200, 3)), rng.random((40, 3))
    y = rng.integers(0, 3, 200)
    want_dist, want_ind = KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors(Q)
    est = KNeighborsClassifier(n_neighbors=4).fit(X * scale, y)
    dist, ind = est.kneighbors(Q * scale)
    assert_array_equal(ind, want_ind)
    assert_allclose(dist, want_dist * scale, rtol=1e-12)
    assert_array_equal(est.predict(Q * scale), KNeighborsClassifier(n_neighbors=4).fit(X, y).predict(Q))
    loo_dist, loo_ind = est.kneighbors()
    assert_array_equal(loo_ind, KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors()[1])
    assert_allclose(loo_dist, KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors()[0] * scale, rtol=1e-12)


def test_tiny_points_beside_ordinary_ones_keep_their_neighbours():
    """One point at 1 keeps the data's scale; the others near 1e-22 square to float32
    subnormals, whose absolute rounding the screening bound now covers (all ten seeds lost true
    neighbours before)."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        X, Q = rng.random((200, 3)) * 1e-22, rng.random((40, 3)) * 1e-22
        X[0] = 1.0
        y = rng.integers(0, 3, 200)
        ind = KNeighborsClassifier(n_neighbors=4).fit(X, y).kneighbors(Q)[1]
        assert_array_equal(ind, reference_kneighbors(X * 1e22, Q * 1e22, 4)[1])


def test_string_features_are_refused_as_sklearn_refuses_them():
    """Strings such as "3" were parsed as numbers; scikit-learn's k-NN refuses them."""
    for Estimator in (KNeighborsClassifier, KNeighborsRegressor):
        with pytest.raises(ValueError, match=rf"{Estimator.__name__}\.fit: dtype='numeric' is not compatible with "
                                             "arrays of bytes/strings"):
            Estimator(1).fit([["0"], ["1"], ["3"]], [0, 1, 1])
        model = Estimator(1).fit(np.array([[0], [1], [3]], np.int8), [0, 1, 1])
        with pytest.raises(ValueError, match=rf"{Estimator.__name__}\.predict: dtype='numeric'"):
            model.predict([["2.5"]])
        assert model.predict([[2.5]]).tolist() == [1]
