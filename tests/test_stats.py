"""Tests for mlpcore.stats against scipy.stats on random inputs."""

from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcore import stats
from mlpcore.metrics import UndefinedMetricWarning, accuracy, pearson, spearman
from mlpcore.stats import (
    ApproximationWarning,
    benjamini_hochberg,
    binomial_test,
    bonferroni,
    chi2_test,
    correlation_test,
    hypergeometric_test,
    mcnemar_test,
    permutation_test,
)

seeds = st.integers(0, 2**32 - 1)
alternatives = st.sampled_from(["two-sided", "greater", "less"])


def close(a: float, b: float) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14)


# --------------------------------------------------------------------------- #
# correlation_test
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(
    seed=seeds, n=st.integers(3, 80), alternative=alternatives, ties=st.booleans(), strength=st.floats(-2, 2)
)
def test_correlation_test_matches_scipy(seed, n, alternative, ties, strength):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, n).astype(float) if ties else rng.normal(size=n)
    y = strength * x + rng.normal(size=n)
    x[:2] = [0.0, 1.0]
    y[:2] = [0.0, 1.5]
    res = correlation_test(x, y, method="pearson", alternative=alternative)
    ref = scipy.stats.pearsonr(x, y, alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    assert (res.n, res.df, res.method, res.alternative) == (n, n - 2, "pearson", alternative)
    res = correlation_test(x, y, method="spearman", alternative=alternative)
    ref = scipy.stats.spearmanr(x, y, alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    close(res.statistic, spearman(x, y))


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(4, 60))
def test_correlation_test_is_a_student_t_test(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.3 * x + rng.normal(size=n)
    r = pearson(x, y)
    t = r * math.sqrt((n - 2) / (1 - r**2))
    res = correlation_test(x, y)
    close(res.pvalue, 2 * scipy.stats.t.sf(abs(t), n - 2))
    close(correlation_test(x, y, alternative="greater").pvalue, scipy.stats.t.sf(t, n - 2))
    close(correlation_test(x, y, alternative="less").pvalue, scipy.stats.t.cdf(t, n - 2))


def test_correlation_test_result_and_edge_cases():
    r, p = correlation_test([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])  # unpacks like scipy
    assert r == pytest.approx(0.8) and p == pytest.approx(
        scipy.stats.pearsonr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]).pvalue
    )
    with pytest.warns(
        UndefinedMetricWarning,
        match="correlation_test: x is constant, so the correlation is undefined; returning NaN",
    ):
        res = correlation_test([1, 1, 1, 1], [1, 2, 3, 4])
    assert np.isnan(res.statistic) and np.isnan(res.pvalue)
    res = correlation_test([1, 2, 3, 4], [2, 4, 6, 8])
    assert res.statistic == pytest.approx(1.0, abs=1e-12) and res.pvalue < 1e-6


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        (
            {"x": [1, 2], "y": [1, 2]},
            ValueError,
            "correlation_test: x and y must have at least 3 samples (got 2)",
        ),
        (
            {"x": [1, 2, 3], "y": [1, 2]},
            ValueError,
            "correlation_test: x and y must have the same length (got 3 and 2)",
        ),
        ({"x": [1, 2, np.nan], "y": [1, 2, 3]}, ValueError, "correlation_test: x contains NaN"),
        ({"x": [], "y": []}, ValueError, "correlation_test: x is empty"),
        (
            {"x": [1, 2, 3], "y": [1, 2, 3], "method": "kendall"},
            ValueError,
            "correlation_test: method must be one of 'pearson', 'spearman' (got 'kendall')",
        ),
        (
            {"x": [1, 2, 3], "y": [1, 2, 3], "alternative": "bigger"},
            ValueError,
            "correlation_test: alternative must be one of 'two-sided', 'greater', 'less' (got 'bigger')",
        ),
    ],
)
def test_correlation_test_bad_input(kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        correlation_test(**kwargs)


# --------------------------------------------------------------------------- #
# permutation_test
# --------------------------------------------------------------------------- #


def test_permutation_test_is_seeded_bit_for_bit(rng):
    x, y = rng.normal(size=30), rng.normal(size=30)
    a = permutation_test(x, y, n_permutations=2000, seed=11)
    b = permutation_test(x, y, n_permutations=2000, seed=11)
    c = permutation_test(x, y, n_permutations=2000, seed=12)
    np.testing.assert_array_equal(a.null_distribution, b.null_distribution)
    assert a.pvalue == b.pvalue and a.statistic == b.statistic
    assert not np.array_equal(a.null_distribution, c.null_distribution)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n=st.integers(3, 40), alternative=alternatives, B=st.integers(1, 400))
def test_permutation_pvalue_formula(seed, n, alternative, B):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    res = permutation_test(x, y, n_permutations=B, alternative=alternative, seed=seed)
    t, null = res.statistic, res.null_distribution
    close(t, pearson(x, y))
    assert null.shape == (B,) and np.all(np.abs(null) <= 1)
    tol = 1e-13
    b = {
        "greater": np.sum(null >= t - tol),
        "less": np.sum(null <= t + tol),
        "two-sided": np.sum(np.abs(null) >= abs(t) - tol),
    }[alternative]
    assert res.pvalue == (b + 1) / (B + 1)
    assert (res.n, res.n_permutations, res.alternative) == (n, B, alternative)


def test_permutation_test_agrees_with_exact_enumeration(rng):
    n = 7
    x = rng.normal(size=n)
    y = 0.8 * x + rng.normal(size=n)
    r = pearson(x, y)
    null = np.array([pearson(x, y[list(p)]) for p in itertools.permutations(range(n))])
    B = 20_000
    for alternative, exact in (
        ("two-sided", np.mean(np.abs(null) >= abs(r) - 1e-12)),
        ("greater", np.mean(null >= r - 1e-12)),
        ("less", np.mean(null <= r + 1e-12)),
    ):
        res = permutation_test(x, y, n_permutations=B, alternative=alternative, seed=1)
        se = math.sqrt(exact * (1 - exact) / B)
        assert abs(res.pvalue - exact) < 5 * se + 2 / B


def vectorized_pearson(a, b, axis=-1):
    am = a - a.mean(axis=axis, keepdims=True)
    bm = b - b.mean(axis=axis, keepdims=True)
    return (am * bm).sum(axis=axis) / np.sqrt((am**2).sum(axis=axis) * (bm**2).sum(axis=axis))


def test_permutation_test_agrees_with_scipy_one_sided(rng):
    n = 6
    x, y = rng.normal(size=n), rng.normal(size=n)
    y += x
    for alternative in ("greater", "less"):
        ref = scipy.stats.permutation_test(
            (x, y),
            vectorized_pearson,
            permutation_type="pairings",
            vectorized=True,
            alternative=alternative,
            n_resamples=np.inf,
        )  # exact: all 720 pairings
        res = permutation_test(x, y, n_permutations=20_000, alternative=alternative, seed=2)
        se = math.sqrt(ref.pvalue * (1 - ref.pvalue) / 20_000)
        assert abs(res.pvalue - ref.pvalue) < 5 * se + 2e-4


def test_permutation_test_callable_matches_builtin(rng):
    x = rng.normal(size=25)
    y = np.exp(x) + rng.normal(scale=0.5, size=25)
    for name, func in (("pearson", pearson), ("spearman", spearman)):
        builtin = permutation_test(x, y, statistic=name, n_permutations=300, seed=4)
        custom = permutation_test(x, y, statistic=func, n_permutations=300, seed=4)
        np.testing.assert_allclose(custom.null_distribution, builtin.null_distribution, rtol=0, atol=1e-12)
        close(custom.statistic, builtin.statistic)
        assert custom.pvalue == builtin.pvalue


def test_permutation_test_with_labels_detects_a_real_classifier(rng):
    y_true = rng.integers(0, 2, 60)
    y_pred = np.where(rng.uniform(size=60) < 0.8, y_true, 1 - y_true)  # 80 % accurate
    res = permutation_test(
        y_true, y_pred, statistic=accuracy, n_permutations=999, alternative="greater", seed=0
    )
    assert res.statistic == accuracy(y_true, y_pred)
    assert res.pvalue == 1 / 1000  # no random re-pairing is as accurate
    noise = rng.integers(0, 2, 60)
    assert (
        permutation_test(
            y_true, noise, statistic=accuracy, n_permutations=999, alternative="greater", seed=0
        ).pvalue
        > 0.01
    )


def test_permutation_test_edge_cases(rng):
    with pytest.warns(UndefinedMetricWarning, match="permutation_test: y is constant"):
        res = permutation_test([1.0, 2.0, 3.0], [4.0, 4.0, 4.0], n_permutations=10)
    assert np.isnan(res.statistic) and np.isnan(res.pvalue)
    with pytest.warns(
        UndefinedMetricWarning,
        match="permutation_test: the observed statistic is NaN; returning a NaN p-value",
    ):
        res = permutation_test([1.0, 2.0], [3.0, 4.0], statistic=lambda a, b: float("nan"), n_permutations=10)
    assert np.isnan(res.pvalue)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"n_permutations": 0}, ValueError, "permutation_test: n_permutations must be >= 1 (got 0)"),
        (
            {"n_permutations": 1e4},
            TypeError,
            "permutation_test: n_permutations must be an integer (got float 10000.0)",
        ),
        (
            {"statistic": "kendall"},
            ValueError,
            "permutation_test: statistic must be one of 'pearson', 'spearman' (got 'kendall')",
        ),
        (
            {"statistic": 3},
            TypeError,
            "permutation_test: statistic must be 'pearson', 'spearman' or a callable (got int 3)",
        ),
        (
            {"statistic": lambda a, b: "high"},
            TypeError,
            "permutation_test: statistic must return a real number (got str 'high')",
        ),
        (
            {"statistic": lambda a, b: float(np.all(b == np.arange(3.0)) or np.nan)},
            ValueError,
            "permutation_test: statistic returned NaN for a permuted sample",
        ),
        ({"y": [1.0, 2.0]}, ValueError, "permutation_test: x and y must have the same length (got 3 and 2)"),
        (
            {"alternative": "one-sided"},
            ValueError,
            "permutation_test: alternative must be one of 'two-sided', 'greater', 'less'",
        ),
        ({"seed": -1}, ValueError, "permutation_test: seed must be >= 0 (got -1)"),
    ],
)
def test_permutation_test_bad_input(kwargs, exc, message):
    args = {"x": np.arange(3.0), "y": np.arange(3.0), "n_permutations": 50, "seed": 0}
    args.update(kwargs)
    x, y = args.pop("x"), args.pop("y")
    with pytest.raises(exc, match=re.escape(message)):
        permutation_test(x, y, **args)


# --------------------------------------------------------------------------- #
# binomial and hypergeometric tests
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 500),
    frac=st.floats(0, 1),
    p=st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(1e-9, 1 - 1e-9)),
    alternative=alternatives,
)
def test_binomial_test_matches_scipy(n, frac, p, alternative):
    k = int(round(frac * n))
    res = binomial_test(k, n, p, alternative=alternative)
    ref = scipy.stats.binomtest(k, n, p, alternative=alternative)
    close(res.pvalue, ref.pvalue)
    assert res.statistic == k / n and (res.k, res.n, res.p, res.alternative) == (k, n, p, alternative)


def test_binomial_test_accuracy_better_than_chance():
    res = binomial_test(60, 100)  # default: greater, p = 0.5
    close(res.pvalue, scipy.stats.binom.sf(59, 100, 0.5))
    lo, hi = res.proportion_ci(0.95)
    ref = scipy.stats.binomtest(60, 100, 0.5, alternative="greater").proportion_ci(0.95)
    close(lo, ref.low)
    assert hi == 1.0  # one-sided interval
    lo2, hi2 = binomial_test(60, 100, alternative="two-sided").proportion_ci()
    assert lo2 < 0.6 < hi2 < 1.0


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "message"),
    [
        ((11, 10), {}, ValueError, "binomial_test: k must be <= n (got k=11, n=10)"),
        ((-1, 10), {}, ValueError, "binomial_test: k must be >= 0 (got -1)"),
        ((5, 0), {}, ValueError, "binomial_test: n must be >= 1 (got 0)"),
        ((5.0, 10), {}, TypeError, "binomial_test: k must be an integer (got float 5.0)"),
        ((5, 10, 1.5), {}, ValueError, "binomial_test: p must be <= 1.0 (got 1.5)"),
        ((5, 10, -0.1), {}, ValueError, "binomial_test: p must be >= 0.0 (got -0.1)"),
        ((5, 10, float("nan")), {}, ValueError, "binomial_test: p must be finite (got nan)"),
        ((5, 10), {"alternative": "more"}, ValueError, "binomial_test: alternative must be one of"),
    ],
)
def test_binomial_test_bad_input(args, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        binomial_test(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(M=st.integers(1, 300), a=st.floats(0, 1), b=st.floats(0, 1), c=st.floats(0, 1))
def test_hypergeometric_test_matches_scipy(M, a, b, c):
    n, N = int(a * M), int(b * M)
    lo, hi = max(0, n + N - M), min(n, N)
    k = lo + int(round(c * (hi - lo)))
    res = hypergeometric_test(k, M, n, N)
    close(res.pvalue, scipy.stats.hypergeom.sf(k - 1, M, n, N))
    table = [[k, n - k], [N - k, M - n - N + k]]
    close(res.pvalue, scipy.stats.fisher_exact(table, alternative="greater").pvalue)
    close(hypergeometric_test(k, M, n, N, alternative="less").pvalue, scipy.stats.hypergeom.cdf(k, M, n, N))
    close(
        hypergeometric_test(k, M, n, N, alternative="two-sided").pvalue,
        scipy.stats.fisher_exact(table).pvalue,
    )
    assert res.statistic == k and res.expected == pytest.approx(N * n / M)


def test_hypergeometric_enrichment_example():
    # 12 of 50 selected genes are in a pathway of 100 among 10 000 genes: strong enrichment
    res = hypergeometric_test(12, 10_000, 100, 50)
    assert res.expected == pytest.approx(0.5) and res.fold_enrichment == pytest.approx(24.0)
    assert res.pvalue < 1e-10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((6, 100, 5, 20), "hypergeometric_test: k must be <= n (got k=6, n=5)"),
        ((6, 100, 20, 5), "hypergeometric_test: k must be <= N (got k=6, N=5)"),
        ((1, 10, 8, 5), "hypergeometric_test: k must be >= n + N - M = 3 (got k=1)"),
        ((1, 10, 11, 5), "hypergeometric_test: n must be <= 10 (got 11)"),
        ((1, 10, 5, 11), "hypergeometric_test: N must be <= 10 (got 11)"),
        ((1, 0, 0, 0), "hypergeometric_test: M must be >= 1 (got 0)"),
    ],
)
def test_hypergeometric_test_bad_input(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        hypergeometric_test(*args)


# --------------------------------------------------------------------------- #
# chi2_test and mcnemar_test
# --------------------------------------------------------------------------- #


@settings(max_examples=40, deadline=None)
@given(seed=seeds, r=st.integers(2, 4), c=st.integers(2, 4), correction=st.booleans())
def test_chi2_test_matches_scipy(seed, r, c, correction):
    table = np.random.default_rng(seed).integers(5, 60, size=(r, c)) * 2  # expected counts >= 5
    res = chi2_test(table, correction=correction)
    ref = scipy.stats.chi2_contingency(table, correction=correction)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    assert res.df == (r - 1) * (c - 1)
    np.testing.assert_allclose(res.expected, ref.expected_freq, rtol=1e-12)
    assert res.correction == (correction and r == c == 2)


def test_chi2_yates_correction_on_2x2():
    table = np.array([[30, 10], [15, 25]])
    e = table.sum(1, keepdims=True) * table.sum(0) / table.sum()
    yates = np.sum((np.abs(table - e) - 0.5) ** 2 / e)
    close(chi2_test(table).statistic, yates)
    close(chi2_test(table, correction=False).statistic, np.sum((table - e) ** 2 / e))
    close(chi2_test(table).pvalue, scipy.stats.chi2.sf(yates, 1))


def test_chi2_small_expected_counts_warn():
    with pytest.warns(ApproximationWarning, match=r"chi2_test: some expected counts are below 5 \(min 1.5\)"):
        res = chi2_test([[3, 0], [3, 6]])
    close(res.pvalue, scipy.stats.chi2_contingency([[3, 0], [3, 6]]).pvalue)


@pytest.mark.parametrize(
    ("table", "kwargs", "exc", "message"),
    [
        ([1, 2, 3], {}, ValueError, "chi2_test: table must be 2-D (got 1-D with shape (3,))"),
        ([[1, 2, 3]], {}, ValueError, "chi2_test: table must be at least 2 x 2 (got shape (1, 3))"),
        ([[10, -1], [10, 10]], {}, ValueError, "chi2_test: table must hold counts >= 0 (got -1)"),
        (
            [[10, 10], [0, 0]],
            {},
            ValueError,
            "chi2_test: table has an all-zero row (row 1); its expected counts would be 0",
        ),
        ([[0, 10], [0, 10]], {}, ValueError, "chi2_test: table has an all-zero column (column 0)"),
        ([[10, np.nan], [10, 10]], {}, ValueError, "chi2_test: table contains NaN"),
        ([[10, 10], [10, 10]], {"correction": "yes"}, TypeError, "chi2_test: correction must be a bool"),
    ],
)
def test_chi2_test_bad_input(table, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        chi2_test(table, **kwargs)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n=st.integers(1, 200), exact=st.booleans())
def test_mcnemar_test_matches_reference(seed, n, exact):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    a = np.where(rng.uniform(size=n) < 0.7, y, (y + 1) % 3)
    b = np.where(rng.uniform(size=n) < 0.6, y, (y + 2) % 3)
    only_a = int(np.sum((a == y) & (b != y)))
    only_b = int(np.sum((a != y) & (b == y)))
    res = mcnemar_test(y, a, b, exact=exact)
    assert (res.only_a_correct, res.only_b_correct, res.n, res.exact) == (only_a, only_b, n, exact)
    d = only_a + only_b
    if d == 0:
        assert (res.statistic, res.pvalue) == (0.0, 1.0)
    elif exact:
        assert res.statistic == min(only_a, only_b)
        close(res.pvalue, scipy.stats.binomtest(only_a, d, 0.5).pvalue)
    else:
        # R's mcnemar.test corrects for continuity only when the counts differ
        stat = (abs(only_a - only_b) - 1) ** 2 / d if only_a != only_b else 0.0
        close(res.statistic, stat)
        close(res.pvalue, scipy.stats.chi2.sf(stat, 1))
    swapped = mcnemar_test(y, b, a, exact=exact)  # symmetric in the two classifiers
    close(swapped.pvalue, res.pvalue)


def test_mcnemar_test_without_exact_matches_r_when_the_counts_are_equal():
    """R: mcnemar.test(matrix(c(3, 3, 3, 3), 2)) gives McNemar's chi-squared = 0, p-value = 1;
    the correction alone made 1 / (b + c) of equal counts, more evidence than b = 4, c = 3."""
    res = mcnemar_test([1] * 6, [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], exact=False)
    assert (res.only_a_correct, res.only_b_correct, res.statistic, res.pvalue) == (3, 3, 0.0, 1.0)
    unequal = mcnemar_test([1] * 7, [1, 1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1], exact=False)
    assert (unequal.statistic, unequal.pvalue) == (0.0, 1.0)  # (|4 - 3| - 1)^2 / 7


def test_mcnemar_test_detects_a_better_classifier():
    y = np.zeros(100, dtype=int)
    a = np.zeros(100, dtype=int)
    b = np.r_[np.ones(20, dtype=int), np.zeros(80, dtype=int)]  # B errs on 20 samples A gets right
    res = mcnemar_test(y, a, b)
    close(res.pvalue, 2 * 0.5**20)
    assert mcnemar_test(["x", "y"], ["x", "y"], ["x", "x"]).only_a_correct == 1


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "message"),
    [
        (
            ([0, 1, 1], [0, 1], [0, 1, 1]),
            {},
            ValueError,
            "mcnemar_test: y_true, pred_a and pred_b must have the same length (got 3, 2, 3)",
        ),
        (([], [], []), {}, ValueError, "mcnemar_test: y_true is empty"),
        (([0, 1], [0, np.nan], [0, 1]), {}, ValueError, "mcnemar_test: pred_a contains NaN"),
        (
            ([0, 1], ["0", "1"], [0, 1]),
            {},
            TypeError,
            "mcnemar_test: y_true, pred_a and pred_b must hold labels of one kind: numbers, strings or bytes (got numbers, strings, numbers",
        ),
        (([0, 1], [0, 1], [0, 1]), {"exact": None}, TypeError, "mcnemar_test: exact must be a bool"),
    ],
)
def test_mcnemar_test_bad_input(args, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        mcnemar_test(*args, **kwargs)


# --------------------------------------------------------------------------- #
# Multiple testing
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=60))
def test_multiple_testing_adjustments(p):
    p = np.array(p)
    bh, bonf = benjamini_hochberg(p), bonferroni(p)
    np.testing.assert_allclose(bh, scipy.stats.false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(bonf, np.minimum(p * p.size, 1.0))
    assert np.all((p <= bh + 1e-15) & (bh <= bonf + 1e-15) & (bonf <= 1.0))
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(bh[order]) >= -1e-15)  # adjusted values keep the order of p


def test_benjamini_hochberg_known_values():
    p = np.array([0.04, 0.01, 0.03, 0.5])  # input order is kept
    # sorted: 0.01, 0.03, 0.04, 0.5 -> m p / i = 0.04, 0.06, 0.0533, 0.5 -> running min from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.04 * 4 / 3, 0.04, 0.04 * 4 / 3, 0.5])
    np.testing.assert_allclose(bonferroni(p), [0.16, 0.04, 0.12, 1.0])


@pytest.mark.parametrize("func", [bonferroni, benjamini_hochberg])
@pytest.mark.parametrize(
    ("p", "message"),
    [
        ([0.5, 1.2], "pvalues must be in [0, 1] (got values from 0.5 to 1.2)"),
        ([-0.01, 0.5], "pvalues must be in [0, 1] (got values from -0.01 to 0.5)"),
        ([0.5, np.nan], "pvalues contains NaN"),
        ([], "pvalues is empty"),
        ([[0.1, 0.2]], "pvalues must be 1-D (got 2-D with shape (1, 2))"),
    ],
)
def test_multiple_testing_bad_input(func, p, message):
    with pytest.raises(ValueError, match=re.escape(f"{func.__name__}: {message}")):
        func(p)


def test_results_are_frozen_and_public():
    res = binomial_test(3, 10)
    with pytest.raises(AttributeError):
        res.pvalue = 0.0  # type: ignore[misc]
    for name in stats.__all__:
        assert hasattr(stats, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "null_distribution" not in repr(
            permutation_test([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], n_permutations=5, seed=0)
        )


@pytest.mark.parametrize("statistic", ["pearson", "spearman"])
def test_permutation_test_counts_ties_at_zero(statistic):
    """x and y below have r = 0 exactly, but x @ y summed in one order gave 1e-17 and the permuted
    pairings 0.0: ties at 0 fell outside a tolerance relative to |r|. Exact enumeration of all
    720 pairings gives the p-values."""
    x, y = np.array([0.0, 1, 1, 1, 1, 0]), np.array([0.0, 0, 0, 2, 2, 2])
    if statistic == "pearson":
        r = lambda a, b: np.corrcoef(a, b)[0, 1]  # noqa: E731
    else:
        r = lambda a, b: scipy.stats.spearmanr(a, b).statistic  # noqa: E731
    null = np.array([r(x, y[list(p)]) for p in itertools.permutations(range(6))])
    two_sided = stats.permutation_test(x, y, statistic=statistic, n_permutations=4999, seed=0)
    assert two_sided.pvalue == 1.0  # every |r*| >= |r| = 0
    less = stats.permutation_test(x, y, statistic=statistic, n_permutations=4999, seed=0, alternative="less")
    assert abs(less.pvalue - np.mean(null <= 1e-12)) < 0.03  # exact: P(r* <= 0), 0.8 for pearson


def test_correlations_near_float64s_limit_are_finite():
    """The means of values near 1e308 overflowed: NaN with no warning (scipy's pearsonr too)."""
    x, y = np.array([1e308, 1.7e308, 5e307, 1e307]), np.array([1.0, 2.0, 0.5, 0.1])
    want = np.corrcoef(x / 1e300, y)[0, 1]
    assert pearson(x, y) == pytest.approx(want, rel=1e-12)
    assert stats.correlation_test(x, y).statistic == pytest.approx(want, rel=1e-12)
    assert stats.permutation_test(x, y, n_permutations=99, seed=0).statistic == pytest.approx(want, rel=1e-12)


def test_binomial_proportion_ci_is_sided_as_asked():
    """The interval follows the test's alternative (as scipy), one-sided for the default 'greater';
    alternative='two-sided' gives the two-sided one."""
    res = stats.binomial_test(7, 10)
    low, high = res.proportion_ci()
    assert high == 1.0 and low == pytest.approx(scipy.stats.binomtest(7, 10, alternative="greater").proportion_ci().low)
    two = scipy.stats.binomtest(7, 10).proportion_ci()
    assert res.proportion_ci(alternative="two-sided") == pytest.approx((two.low, two.high))
    with pytest.raises(ValueError, match="BinomialResult.proportion_ci: alternative must be one of"):
        res.proportion_ci(alternative="both")


def test_chi2_test_names_counts_beyond_float64():
    with pytest.raises(ValueError, match=r"chi2_test: table's counts are too large for float64"):
        stats.chi2_test([[1e300, 1e300], [1e300, 2e300]])


def test_format_p_never_prints_zero():
    assert stats.format_p(0.0) == "p < 1e-300"
    assert stats.format_p(0.00314159) == "p = 0.0031"
    assert stats.format_p(2.5e-12, digits=3) == "p = 2.5e-12"
    assert stats.format_p(1.0) == "p = 1"
