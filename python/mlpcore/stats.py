"""Significance tests: is an evaluation result real or chance?

Every test returns a frozen dataclass with ``statistic`` and ``pvalue`` (it also
unpacks as ``statistic, pvalue = test(...)``) plus test-specific fields.
Distribution functions come from :mod:`scipy.stats`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as _sps

from ._validation import (
    as_float_array,
    as_label_array,
    as_rng,
    check_choice,
    check_float,
    check_int,
    check_same_length,
    describe,
    label_kind,
)
from .metrics import UndefinedMetricWarning, _constant, _xy, unit_scaled  # shared checks of paired samples

__all__ = [
    "ApproximationWarning",
    "BinomialResult",
    "Chi2Result",
    "CorrelationResult",
    "HypergeometricResult",
    "McNemarResult",
    "PermutationResult",
    "SignificanceResult",
    "benjamini_hochberg",
    "binomial_test",
    "bonferroni",
    "chi2_test",
    "correlation_test",
    "format_p",
    "hypergeometric_test",
    "mcnemar_test",
    "permutation_test",
]

_ALTERNATIVES = ("two-sided", "greater", "less")


def format_p(p: float, digits: int = 2) -> str:
    """``"p = 0.0031"``, or ``"p < 1e-300"`` for a p-value of 0: exact tails underflow to 0 below
    the smallest double, and a printed 0 would claim certainty."""
    return "p < 1e-300" if p == 0 else f"p = {p:.{digits}g}"


class ApproximationWarning(UserWarning):
    """An asymptotic approximation may be inaccurate for the given counts."""


@dataclass(frozen=True)
class SignificanceResult:
    """Test statistic and p-value; unpacks as ``(statistic, pvalue)``."""

    statistic: float
    pvalue: float

    def __iter__(self) -> Iterator[float]:
        yield self.statistic
        yield self.pvalue


@dataclass(frozen=True)
class CorrelationResult(SignificanceResult):
    """``statistic`` is r (Pearson) or ρ (Spearman); ``df = n − 2``."""

    method: str
    alternative: str
    n: int
    df: int


@dataclass(frozen=True, eq=False)
class PermutationResult(SignificanceResult):
    """``null_distribution`` holds the statistic of each permutation."""

    alternative: str
    n: int
    n_permutations: int
    null_distribution: np.ndarray = field(repr=False)

    __eq__ = object.__eq__  # holds an array: compare by identity
    __hash__ = object.__hash__


@dataclass(frozen=True)
class BinomialResult(SignificanceResult):
    """``statistic`` is the observed proportion ``k / n``; ``p`` the null proportion."""

    k: int
    n: int
    p: float
    alternative: str

    def proportion_ci(self, confidence_level: float = 0.95, *, alternative: str | None = None) -> tuple[float, float]:
        """Clopper–Pearson (exact) confidence interval for the proportion.

        Sided as ``alternative``, by default the test's (as scipy's ``binomtest``): one-sided,
        ``(low, 1)``, for ``binomial_test``'s default ``"greater"``; pass
        ``alternative="two-sided"`` for the two-sided interval.
        """
        func = "BinomialResult.proportion_ci"
        sided = self.alternative if alternative is None else check_choice(alternative, "alternative", func, _ALTERNATIVES)
        level = check_float(
            confidence_level,
            "confidence_level",
            func,
            minimum=0.0,
            maximum=1.0,
            min_inclusive=False,
            max_inclusive=False,
        )
        ci = _sps.binomtest(self.k, self.n, self.p, alternative=sided).proportion_ci(level)
        return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class HypergeometricResult(SignificanceResult):
    """``statistic`` is k; ``expected = N·n/M``; ``fold_enrichment = k / expected``."""

    expected: float
    fold_enrichment: float
    alternative: str


@dataclass(frozen=True, eq=False)
class Chi2Result(SignificanceResult):
    """χ² statistic with ``df = (r − 1)(c − 1)`` and the expected counts under independence."""

    df: int
    expected: np.ndarray = field(repr=False)
    correction: bool

    __eq__ = object.__eq__  # holds an array: compare by identity
    __hash__ = object.__hash__


@dataclass(frozen=True)
class McNemarResult(SignificanceResult):
    """``only_a_correct`` / ``only_b_correct`` count the discordant pairs."""

    only_a_correct: int
    only_b_correct: int
    exact: bool
    n: int


# --------------------------------------------------------------------------- #
# Correlation
# --------------------------------------------------------------------------- #


def correlation_test(
    x: Any, y: Any, *, method: str = "pearson", alternative: str = "two-sided"
) -> CorrelationResult:
    """Test H0: no correlation, with ``t = r·sqrt((n − 2) / (1 − r²))`` ~ Student t(n − 2).

    As ``scipy.stats.pearsonr`` / ``spearmanr`` (Spearman: r of the average
    ranks). Needs n ≥ 3. Constant input gives NaN with an UndefinedMetricWarning.
    """
    func = "correlation_test"
    check_choice(method, "method", func, ("pearson", "spearman"))
    check_choice(alternative, "alternative", func, _ALTERNATIVES)
    xa, ya = _xy(func, x, y, minimum=3)
    n = xa.size
    if _constant(func, xa, ya):
        r = p = float("nan")
    elif method == "pearson":
        res = _sps.pearsonr(unit_scaled(xa), unit_scaled(ya), alternative=alternative)
        r, p = float(res.statistic), float(res.pvalue)
    else:
        res = _sps.spearmanr(xa, ya, alternative=alternative)
        r, p = float(res.statistic), float(res.pvalue)
    return CorrelationResult(r, p, method=method, alternative=alternative, n=n, df=n - 2)


# --------------------------------------------------------------------------- #
# Permutation test
# --------------------------------------------------------------------------- #


def _standardise(a: np.ndarray) -> np.ndarray:
    """``(a − ā) / ||a − ā||``, so that Pearson r of x and y is ``zx · zy``."""
    a = unit_scaled(a)
    c = a - a.mean()
    c = c / np.max(np.abs(c))
    return c / np.linalg.norm(c)


def permutation_test(
    x: Any,
    y: Any,
    *,
    statistic: str | Callable[[np.ndarray, np.ndarray], float] = "pearson",
    n_permutations: int = 10_000,
    alternative: str = "two-sided",
    seed: int | np.random.Generator | None = None,
) -> PermutationResult:
    """Permutation test of association: shuffles the pairing of x and y.

    ``statistic`` is ``"pearson"`` (default), ``"spearman"`` or a callable
    ``(x, y) -> float`` (x and y may then be any 1-D arrays, e.g. labels). With
    T the observed statistic and T*_1 … T*_B the statistics of B random
    re-pairings (``y`` permuted), ``p = (b + 1) / (B + 1)`` where b counts
    ``T* >= T`` ("greater"), ``T* <= T`` ("less") or ``|T*| >= |T|`` ("two-sided",
    for statistics centred at 0 under H0, like correlations). Comparisons allow
    100 eps times the largest |statistic| seen, so that rounding does not break ties.
    Seeded: the same seed gives the same result bit for bit.
    """
    func = "permutation_test"
    check_choice(alternative, "alternative", func, _ALTERNATIVES)
    B = check_int(n_permutations, "n_permutations", func, minimum=1)
    builtin = isinstance(statistic, str)
    if builtin:
        check_choice(statistic, "statistic", func, ("pearson", "spearman"))
        xa, ya = _xy(func, x, y, minimum=2)
    elif callable(statistic):
        xa, ya = np.asarray(x), np.asarray(y)
        for name, a in (("x", xa), ("y", ya)):
            if a.ndim != 1:
                raise ValueError(f"{func}: {name} must be 1-D (got shape {a.shape})")
        if check_same_length(func, x=xa, y=ya) < 2:
            raise ValueError(f"{func}: x and y must have at least 2 samples (got {xa.size})")
    else:
        raise TypeError(
            f"{func}: statistic must be 'pearson', 'spearman' or a callable (got {describe(statistic)})"
        )
    rng = as_rng(seed, func)
    n = xa.size

    def result(t: float, p: float, null: np.ndarray) -> PermutationResult:
        return PermutationResult(t, p, alternative=alternative, n=n, n_permutations=B, null_distribution=null)

    if builtin:
        if _constant(func, xa, ya):
            return result(float("nan"), float("nan"), np.full(B, np.nan))
        if statistic == "spearman":
            xa, ya = _sps.rankdata(xa), _sps.rankdata(ya)
        zx, zy = _standardise(xa), _standardise(ya)
        observed = float(np.clip(zy @ zx, -1.0, 1.0))
    else:
        observed = _call(statistic, xa, ya, func)
        if np.isnan(observed):
            warnings.warn(
                f"{func}: the observed statistic is NaN; returning a NaN p-value",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            return result(observed, float("nan"), np.full(B, np.nan))

    null = np.empty(B)
    batch = max(1, min(B, (1 << 20) // n))
    base = np.arange(n)
    for start in range(0, B, batch):
        m = min(batch, B - start)
        perms = rng.permuted(np.tile(base, (m, 1)), axis=1)
        if builtin:
            null[start : start + m] = np.clip(zy[perms] @ zx, -1.0, 1.0)
        else:
            for i, perm in enumerate(perms):
                null[start + i] = _call(statistic, xa, ya[perm], func)
    if np.any(np.isnan(null)):
        raise ValueError(f"{func}: statistic returned NaN for a permuted sample")

    # Ties within rounding: the observed and permuted statistics sum the same terms in other
    # orders, so they differ by about eps times the size of the statistic's values, not of the
    # observed one (an exact 0 came out as 1e-17 against 0.0, and ties at 0 were missed).
    gamma = 100 * np.finfo(np.float64).eps * max(abs(observed), float(np.max(np.abs(null))))
    if alternative == "greater":
        b = np.sum(null >= observed - gamma)
    elif alternative == "less":
        b = np.sum(null <= observed + gamma)
    else:
        b = np.sum(np.abs(null) >= abs(observed) - gamma)
    return result(observed, float((b + 1) / (B + 1)), null)


def _call(statistic: Any, x: np.ndarray, y: np.ndarray, func: str) -> float:
    value = statistic(x, y)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{func}: statistic must return a real number (got {describe(value)})") from None


# --------------------------------------------------------------------------- #
# Counting tests
# --------------------------------------------------------------------------- #


def binomial_test(k: int, n: int, p: float = 0.5, *, alternative: str = "greater") -> BinomialResult:
    """Exact binomial test of H0: success probability = p, from k successes in n trials.

    "greater": ``P[X >= k]`` with X ~ Bin(n, p) — e.g. is an accuracy of k/n
    better than chance level p? As ``scipy.stats.binomtest``.
    """
    func = "binomial_test"
    n = check_int(n, "n", func, minimum=1)
    k = check_int(k, "k", func, minimum=0)
    if k > n:
        raise ValueError(f"{func}: k must be <= n (got k={k}, n={n})")
    p = check_float(p, "p", func, minimum=0.0, maximum=1.0)
    check_choice(alternative, "alternative", func, _ALTERNATIVES)
    res = _sps.binomtest(k, n, p, alternative=alternative)
    return BinomialResult(k / n, float(res.pvalue), k=k, n=n, p=p, alternative=alternative)


def hypergeometric_test(
    k: int, M: int, n: int, N: int, *, alternative: str = "greater"
) -> HypergeometricResult:
    """Over-representation test: k of N drawn items are "successes", of n in a population of M.

    "greater" (default): ``P[X >= k]`` with X ~ Hypergeom(M, n, N) (scipy's
    parametrisation); "less": ``P[X <= k]``; "two-sided": Fisher's exact test
    on the 2×2 table ``[[k, n − k], [N − k, M − n − N + k]]``.
    """
    func = "hypergeometric_test"
    M = check_int(M, "M", func, minimum=1)
    n = check_int(n, "n", func, minimum=0, maximum=M)
    N = check_int(N, "N", func, minimum=0, maximum=M)
    k = check_int(k, "k", func, minimum=0)
    if k > n:
        raise ValueError(f"{func}: k must be <= n (got k={k}, n={n})")
    if k > N:
        raise ValueError(f"{func}: k must be <= N (got k={k}, N={N})")
    if k < n + N - M:
        raise ValueError(f"{func}: k must be >= n + N - M = {n + N - M} (got k={k})")
    check_choice(alternative, "alternative", func, _ALTERNATIVES)
    if alternative == "greater":
        p = _sps.hypergeom.sf(k - 1, M, n, N)
    elif alternative == "less":
        p = _sps.hypergeom.cdf(k, M, n, N)
    else:
        p = _sps.fisher_exact([[k, n - k], [N - k, M - n - N + k]]).pvalue
    expected = N * n / M
    fold = k / expected if expected > 0 else float("nan")
    return HypergeometricResult(
        float(k), float(min(1.0, p)), expected=expected, fold_enrichment=fold, alternative=alternative
    )


def chi2_test(table: Any, *, correction: bool = True) -> Chi2Result:
    """Pearson χ² test of independence on an r × c contingency table.

    ``χ² = Σ (O − E)² / E`` with ``E = row total · column total / grand total`` and
    ``df = (r − 1)(c − 1)``; for 2×2 tables ``correction`` applies Yates' continuity
    correction. As ``scipy.stats.chi2_contingency``. Warns (ApproximationWarning)
    when an expected count is below 5.
    """
    func = "chi2_test"
    t = as_float_array(table, "table", func, ndim=2)
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError(f"{func}: table must be at least 2 x 2 (got shape {t.shape})")
    if np.any(t < 0):
        raise ValueError(f"{func}: table must hold counts >= 0 (got {t.min():g})")
    with np.errstate(over="ignore"):
        total = t.sum()
        squared = total * total  # row total times column total, the expected counts' numerators
    if not np.isfinite(squared):
        raise ValueError(f"{func}: table's counts are too large for float64 (total {total:g}); its "
                         "expected counts and statistic would overflow")
    for axis, what in ((1, "row"), (0, "column")):
        empty = np.flatnonzero(t.sum(axis=axis) == 0)
        if empty.size:
            raise ValueError(
                f"{func}: table has an all-zero {what} ({what} {empty[0]}); its expected counts would be 0"
            )
    if not isinstance(correction, (bool, np.bool_)):
        raise TypeError(f"{func}: correction must be a bool (got {describe(correction)})")
    res = _sps.chi2_contingency(t, correction=bool(correction))
    if np.any(res.expected_freq < 5):
        warnings.warn(
            f"{func}: some expected counts are below 5 (min {res.expected_freq.min():.3g}); "
            "the chi-squared approximation may be inaccurate",
            ApproximationWarning,
            stacklevel=2,
        )
    return Chi2Result(
        float(res.statistic),
        float(res.pvalue),
        df=int(res.dof),
        expected=res.expected_freq,
        correction=bool(correction and res.dof == 1),
    )


def mcnemar_test(y_true: Any, pred_a: Any, pred_b: Any, *, exact: bool = True) -> McNemarResult:
    """McNemar's test: do classifiers A and B err differently on the same samples?

    Only the discordant pairs matter: b = #(A right, B wrong), c = #(A wrong,
    B right). ``exact``: two-sided binomial test of b ~ Bin(b + c, 1/2),
    statistic ``min(b, c)``; otherwise ``χ² = (|b − c| − 1)² / (b + c)`` with 1 df
    (continuity-corrected, as R's ``mcnemar.test``, which leaves out the correction, so χ² = 0
    and p = 1, when b = c). Without discordant pairs the
    classifiers do not differ: statistic 0, p = 1.
    """
    func = "mcnemar_test"
    yt = as_label_array(y_true, "y_true", func)
    pa = as_label_array(pred_a, "pred_a", func)
    pb = as_label_array(pred_b, "pred_b", func)
    n = check_same_length(func, y_true=yt, pred_a=pa, pred_b=pb)
    kinds = [label_kind(a) for a in (yt, pa, pb)]
    if len(set(kinds)) > 1:
        raise TypeError(f"{func}: y_true, pred_a and pred_b must hold labels of one kind: numbers, strings or "
                        f"bytes (got {', '.join(kinds)}; decode bytes labels first)")
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"{func}: exact must be a bool (got {describe(exact)})")
    a_ok, b_ok = pa == yt, pb == yt
    b, c = int(np.sum(a_ok & ~b_ok)), int(np.sum(~a_ok & b_ok))
    if b + c == 0:
        stat, p = 0.0, 1.0
    elif exact:
        stat, p = float(min(b, c)), float(_sps.binomtest(b, b + c, 0.5).pvalue)
    elif b == c:
        stat, p = 0.0, 1.0  # R corrects only when b != c: (|b - c| - 1)^2 would count 1 as evidence
    else:
        stat = (abs(b - c) - 1) ** 2 / (b + c)
        p = float(_sps.chi2.sf(stat, 1))
    return McNemarResult(stat, p, only_a_correct=b, only_b_correct=c, exact=bool(exact), n=n)


# --------------------------------------------------------------------------- #
# Multiple testing
# --------------------------------------------------------------------------- #


def _pvalues(func: str, pvalues: Any) -> np.ndarray:
    p = as_float_array(pvalues, "pvalues", func, ndim=1)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"{func}: pvalues must be in [0, 1] (got values from {p.min():g} to {p.max():g})")
    return p


def bonferroni(pvalues: Any) -> np.ndarray:
    """Bonferroni-adjusted p-values ``min(1, m·p_i)`` for m tests, in input order."""
    p = _pvalues("bonferroni", pvalues)
    return np.minimum(p * p.size, 1.0)


def benjamini_hochberg(pvalues: Any) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate), in input order.

    With ``p_(1) <= … <= p_(m)``: ``q_(i) = min_{j >= i} min(1, m·p_(j) / j)``.
    Reject at FDR α where ``q <= α``. As ``scipy.stats.false_discovery_control``.
    """
    p = _pvalues("benjamini_hochberg", pvalues)
    return np.asarray(_sps.false_discovery_control(p, method="bh"), dtype=np.float64)
