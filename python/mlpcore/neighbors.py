r"""k-nearest-neighbour classification and regression (brute force, Euclidean), scikit-learn compatible.

:class:`KNeighborsClassifier` and :class:`KNeighborsRegressor` follow the names, defaults and
results of ``sklearn.neighbors.KNeighborsClassifier`` / ``KNeighborsRegressor`` with
``algorithm="brute"`` and the default metric (Minkowski with p = 2, i.e. Euclidean):

.. math::
    d(x, x_i) = \lVert x - x_i \rVert_2

For a query x with neighbour set :math:`N_k(x)` (the k training points nearest to it) and
weights :math:`w_i` (``weights="uniform"``: :math:`w_i = 1`; ``"distance"``:
:math:`w_i = 1 / d(x, x_i)`, except that when some neighbours coincide with x, exactly those
get weight 1 and the others 0; or a callable mapping the distance array to weights):

.. math::
    p_c(x) = \frac{\sum_{i \in N_k(x)} w_i\,[y_i = c]}{\sum_{i \in N_k(x)} w_i}, \qquad
    \hat y(x) = \frac{\sum_{i \in N_k(x)} w_i\, y_i}{\sum_{i \in N_k(x)} w_i}

The classifier predicts :math:`\arg\max_c p_c(x)` (the first class in sorted order on a tie).

How the neighbours are found
----------------------------
Squared distances come from the expansion :math:`\lVert x\rVert^2 - 2\,x\cdot y +
\lVert y\rVert^2`, whose cross term for a block of queries against all training points is one
GEMM (:func:`mlpcore.ops.matmul`). The expansion cancels catastrophically for close points (a
point's distance to itself comes out as a rounding residue, possibly negative, rather than 0),
so it only *selects candidates*: every training point whose expanded distance lies within a
rigorous rounding bound of the k-th smallest one. The candidates' squared distances are then
recomputed directly in float64 as :math:`\sum_l (x_l - y_l)^2` and the k smallest are kept in
(distance, training index) order. Hence

- duplicates are at distance exactly 0, and ties between equal distances go to the lower
  training index (a stable order); scikit-learn's heap and introsort give no such guarantee,
  so on exact ties its order, and which of several tied points it keeps, may differ;
- results do not depend on ``batch_size`` or on the thread count, bit for bit;
- distances agree with scikit-learn's to rounding (it reports the expanded value, clamped at 0).

The training set is kept as a private read-only float64 copy (float32 input is converted, as
scikit-learn upcasts its float32 GEMM blocks), plus a float32 copy for the screening. Each
block of queries is screened in float32 first, at twice the GEMM rate: its bound, about 1e-7
(|x|^2 + |y|^2), is wide, but on data like MNIST the candidate sets stay a few dozen points
(the k-NN predict on 2,000 digits against 8,000 took 0.41 instead of 0.75 s). Where the
near-neighbour distances are tiny next to the points' norms (points far from the origin
relative to their spread) the float32 candidates would flood: a block with more than 64 extra
candidates per query is screened again in float64, as are the blocks after it, where the bound
is 10^8 times tighter. Training data whose largest magnitude is below 2^-40 or above 2^40
are searched in units of a power of two near it (exact; distances are scaled back), so that
tiny coordinates do not square to subnormals, which the bounds do not cover, and huge ones
(up to float64's limit) do not overflow; queries whose norms are beyond float32's range in
those units go straight to float64, and beyond float64's are refused. The results are
exact either way, only the direct recomputation grows, up to all n training points per query
in the worst case. Queries are processed in blocks of ``batch_size`` rows so the temporaries
stay bounded: by default as many rows as keep the float64 distance block, its partitioned copy
and the candidate mask (17 bytes per query-training pair) within 64 MiB, and the float32 block
alongside.

``kneighbors(None)``, ``predict(None)`` and ``score(None, y)`` use the training points as
queries, each one left out of its own neighbours (leave-one-out). Needs scikit-learn >= 1.6
(``pip install "mlpcore[sklearn]"``). Dense input only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, Union

import numpy as np

try:
    from sklearn.base import (
        BaseEstimator,
        ClassifierMixin,
        MultiOutputMixin,
        RegressorMixin,
    )
    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # sklearn missing, or older than 1.6 (no validate_data function)
    raise ImportError(
        "mlpcore.neighbors needs scikit-learn >= 1.6; install it with "
        f'pip install "mlpcore[sklearn]" (or pip install "scikit-learn>=1.6") ({exc})'
    ) from exc

from ._validation import (
    as_parameter_error,
    attributes_kept_on_error,
    c_array,
    check_int,
    describe,
    one_fit_at_a_time,
    power_of_two_below,
)
from .ops import matmul

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor"]

WeightsType = Union[str, Callable[[np.ndarray], Any]]

_WEIGHTS = ("uniform", "distance")
_ALGORITHMS = ("auto", "ball_tree", "kd_tree", "brute")
# Default budget for one query block's temporaries: the float64 distance block, its partitioned
# copy and the bool candidate mask, 17 bytes per (query, training point) pair.
_WORKING_BYTES = 64 * 2**20
_BYTES_PER_PAIR = 17
# The direct recomputation of candidate distances gathers both rows of each pair; this many
# float64 elements per gathered block (32 MiB).
_PAIR_BLOCK_ELEMENTS = 2**22
_EPS = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)
# Squared norms below this are safe for the float32 screening (no overflow in the expansion).
_MAX_SQ_NORM32 = 1e30
# A float32-screened block may hold this many candidates per query beyond the k neighbours
# before it is screened again in float64 (the float32 bound is 10^8 times wider: on data whose
# near-neighbour distances are tiny next to the points' norms it would keep too many).
_MAX_EXTRA32 = 64
# Squared norms above this could overflow in x.x - 2 x.y + y.y (at most 2 (|x|^2 + |y|^2)) or in
# the rounding bound; such data must be rescaled.
_MAX_SQ_NORM = float(np.finfo(np.float64).max) / 16
# Training data whose largest magnitude lies outside [2^-40, 2^40] are searched in units of a
# power of two near it (exact): their squares would leave float32's normal range (tiny
# coordinates: subnormal squares, whose absolute rounding the screening's relative bound does
# not cover, so true neighbours were dropped) or float64's (coordinates near 1e154).
_SCALE_FREE = (2.0**-40, 2.0**40)


def _search_unit(X: np.ndarray) -> float:
    """1, or for data outside :data:`_SCALE_FREE` a power of two near its largest magnitude."""
    top = float(np.max(np.abs(X))) if X.size else 0.0
    if top == 0.0 or _SCALE_FREE[0] <= top <= _SCALE_FREE[1]:
        return 1.0
    return float(power_of_two_below(top))


def _bound_factor(n_features: int) -> float:
    """c such that |expanded - direct squared distance| <= c (|x|^2 + |y|^2) for every pair.

    With unit roundoff u = eps/2 and d features: the norms and the dot product are sums of d
    products, each off by at most (d+1) u times its sum of absolute terms, and |x.y| <= (|x|^2 +
    |y|^2)/2; the two additions add 2 u (|x|^2 + |y|^2) each. So the expansion is within
    (2d + 6) u (|x|^2 + |y|^2) of the true squared distance; the direct sum of (x_l - y_l)^2 is
    within (d + 2) u |x - y|^2 <= (2d + 4) u (|x|^2 + |y|^2) of it. Their difference is within
    (4d + 10) u = (2d + 5) eps times (|x|^2 + |y|^2). The factor 2 over that is slack for the
    rounding of the bound itself.
    """
    return 2.0 * (2 * n_features + 5) * _EPS


def _bound_factor32(n_features: int) -> float:
    """c for the float32 screening: the bound of :func:`_bound_factor` in float32's unit
    roundoff, plus the rounding of the points to float32 (moving a squared distance by at most
    about 4 u (|x|^2 + |y|^2)) and of the screening's own float32 additions and subtractions (a
    few u times the same), with the same factor 2 of slack."""
    return 2.0 * (2 * n_features + 20) * _EPS32


def _row_sq_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _pair_sq_distances(Q: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """sum_l (Q[r, l] - Y[c, l])^2 for each pair (r, c), computed directly (no cancellation).

    Each value depends only on the two rows (a row-wise pairwise sum), not on which block or
    batch the pair falls in, which is what makes results independent of ``batch_size``.
    """
    out = np.empty(len(rows), dtype=np.float64)
    step = max(1, _PAIR_BLOCK_ELEMENTS // max(Q.shape[1], 1))
    for s in range(0, len(rows), step):
        diff = Q[rows[s : s + step]]
        diff -= Y[cols[s : s + step]]
        np.square(diff, out=diff)
        out[s : s + step] = diff.sum(axis=1)
    return out


def _row_offsets(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Start of each row's run in ``rows`` (sorted, every row in 0..n_rows-1 present)."""
    return np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))[:-1]))


def _check_sq_norms(sq_norms: np.ndarray, where: str, name: str) -> None:
    if sq_norms.size and not float(sq_norms.max()) <= _MAX_SQ_NORM:
        raise ValueError(
            f"{where}: {name} has a row with squared norm {float(sq_norms.max()):.3g}, too large for "
            "float64 distances (the limit is about 1e307): rescale the features"
        )


def _distance_weights(dist: np.ndarray) -> np.ndarray:
    """1/d, or for a query with a neighbour at distance 0: 1 for those neighbours, 0 for the rest."""
    with np.errstate(divide="ignore"):
        w = 1.0 / dist
    exact = np.isinf(w)
    rows = exact.any(axis=1)
    w[rows] = exact[rows]
    return w


def _screen(Q: np.ndarray, Y: np.ndarray, q_sq: np.ndarray, y_sq: np.ndarray, c: float, k: int,
            left_out: int | None, buf: np.ndarray,
            max_candidates: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, cols) of the candidate pairs of the query block Q against all training points Y:
    every training point whose direct distance to a query can be among its k smallest. In Q's
    dtype (float32 or float64, with the matching rounding factor c of |expansion - direct| <=
    c (|x|^2 + |y|^2)). ``left_out``: the block is training rows left_out.., each not its own
    neighbour. None when there are more than ``max_candidates``."""
    m = len(Q)
    local = np.arange(m)
    # Expanded squared distances: -2 Q Y^T from the GEMM, plus both squared norms. Not clamped
    # at 0: the bound holds for the raw expansion (a negative residue included), and the
    # candidates' distances are recomputed anyway.
    D = matmul(Q, Y, trans_b=True, alpha=-2.0, out=buf)
    D += q_sq[:, None]
    D += y_sq[None, :]
    if left_out is not None:
        D[local, left_out + local] = np.inf
    # Candidates: all j with D_ij - c |y_j|^2 <= kth_i + c (2 |x_i|^2 + max_{s in S_i} |y_s|^2),
    # S_i the k smallest by D; this holds every j whose direct distance is at most the k-th
    # smallest direct distance (see _bound_factor), so the final top k is exact. (S_i is widened
    # to all j with D_ij <= kth_i, which only loosens the bound; np.partition is three times
    # faster than np.argpartition here.)
    kth = np.partition(D, k - 1, axis=1)[:, k - 1]
    near = D <= kth[:, None]  # at least k in every row
    y_sq_max = np.maximum.reduce(np.broadcast_to(y_sq, D.shape), axis=1, where=near, initial=0)
    # Plus c times the smallest normal number: where squares and sums are subnormal, rounding
    # errs by up to half a subnormal ulp (u times it) in absolute terms, which no relative
    # bound covers (points near 1e-22 beside others near 1 lost true neighbours in float32).
    tiny = np.finfo(D.dtype).tiny
    threshold = kth + D.dtype.type(c) * (2 * q_sq + y_sq_max + D.dtype.type(4 * tiny))
    D -= D.dtype.type(c) * y_sq[None, :]
    candidates = D <= threshold[:, None]
    if max_candidates is not None and np.count_nonzero(candidates) > max_candidates:
        return None
    return np.nonzero(candidates)


class _KNeighborsBase(MultiOutputMixin, BaseEstimator):
    """Shared fitting and neighbour search of the k-NN estimators (not public)."""

    def __init__(
        self,
        n_neighbors: int = 5,
        *,
        weights: WeightsType = "uniform",
        algorithm: str = "auto",
        leaf_size: int = 30,
        p: float = 2,
        metric: str = "minkowski",
        metric_params: dict | None = None,
        n_jobs: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = n_jobs
        self.batch_size = batch_size

    # ------------------------------------------------------------------ helpers

    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}"

    def _validate(self, where: str, *args: Any, **kwargs: Any) -> Any:
        """sklearn's validate_data, its messages prefixed with ``where`` (types kept); X as
        float64 in C order. Numbers only, as scikit-learn's k-NN: strings such as "3" are
        refused, not parsed."""
        try:
            out = validate_data(self, *args, dtype="numeric", order="C", **kwargs)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        except TypeError as exc:
            raise TypeError(f"{where}: {exc}") from None
        if isinstance(out, tuple):
            return (c_array(out[0], dtype=np.float64), *out[1:])
        return c_array(out, dtype=np.float64)

    def _check_params(self, where: str) -> None:
        with as_parameter_error():  # scikit-learn's InvalidParameterError
            self._check_param_values(where)

    def _check_param_values(self, where: str) -> None:
        check_int(self.n_neighbors, "n_neighbors", where, minimum=1)
        if (self.weights is not None and not callable(self.weights)
                and not (isinstance(self.weights, str) and self.weights in _WEIGHTS)):
            raise ValueError(
                f"{where}: weights must be 'uniform', 'distance', None (uniform) or a callable "
                f"(got {describe(self.weights)})"
            )
        if self.batch_size is not None:
            check_int(self.batch_size, "batch_size", where, minimum=1)
        # scikit-learn's other parameters, so that its code runs unchanged. Every algorithm finds
        # the exact neighbours, so all of them mean this brute-force search; only the Euclidean
        # distance is computed.
        if not (isinstance(self.algorithm, str) and self.algorithm in _ALGORITHMS):
            raise ValueError(f"{where}: algorithm must be one of {', '.join(map(repr, _ALGORITHMS))} "
                             f"(got {describe(self.algorithm)}); all find the same neighbours here")
        check_int(self.leaf_size, "leaf_size", where, minimum=1)
        euclidean = self.metric in ("euclidean", "l2") or (
            self.metric == "minkowski" and isinstance(self.p, (int, float, np.integer, np.floating))
            and not isinstance(self.p, bool) and self.p == 2)
        if not isinstance(self.metric, str) or not euclidean:
            raise ValueError(f"{where}: only the Euclidean distance is supported: metric 'minkowski' with p=2, "
                             f"'euclidean' or 'l2' (got metric={describe(self.metric)}, p={describe(self.p)})")
        if self.metric_params not in (None, {}) and self.metric_params != {"p": 2}:
            raise ValueError(f"{where}: metric_params must be None (got {describe(self.metric_params)})")
        if self.n_jobs is not None:
            check_int(self.n_jobs, "n_jobs", where, minimum=-(2**31))
            if self.n_jobs == 0:
                raise ValueError(f"{where}: n_jobs must be None, -1 or a positive integer (got 0)")

    def _fit_X_y(self, X: Any, y: Any, where: str) -> np.ndarray:
        """Validate the hyper-parameters and X, y; store the training points; return y."""
        self._check_params(where)
        X, y = self._validate(where, X, y, multi_output=True, y_numeric=self._y_numeric, copy=True)
        # The search runs in units of _unit (distances are scaled back); X is a private copy.
        self._unit = _search_unit(X)
        if self._unit != 1.0:
            X /= self._unit
        sq_norms = _row_sq_norms(X)
        _check_sq_norms(sq_norms, where, "X")
        # A private copy (copy=True above), read-only: the cached norms must keep matching it.
        X.flags.writeable = False
        sq_norms.flags.writeable = False
        self._fit_X = X
        self._fit_sq_norms = sq_norms
        # Float32 copies for screening the candidates at twice the GEMM rate, where the norms
        # leave float32 room.
        self._fit_X32 = None
        if sq_norms.size and float(sq_norms.max()) <= _MAX_SQ_NORM32:
            self._fit_X32 = X.astype(np.float32)
            self._fit_X32.flags.writeable = False
        self.n_samples_fit_ = X.shape[0]
        self.effective_metric_ = "euclidean"
        self.effective_metric_params_: dict[str, Any] = {}
        return y

    def _block_rows(self) -> int:
        if self.batch_size is not None:
            return int(self.batch_size)
        return max(1, _WORKING_BYTES // (_BYTES_PER_PAIR * self.n_samples_fit_))

    # ------------------------------------------------------------------ search

    def _search(
        self, queries: tuple[np.ndarray, np.ndarray] | None, k: int, return_distance: bool
    ) -> Any:
        """The k nearest training points of each query row Q, given with its squared norms as
        (Q, q_sq) (None: of each training point, itself left out), in (distance, index) order.

        Each block of queries is screened in float32 first (twice the GEMM rate, half the
        memory traffic) when the norms allow it; a block whose float32 candidates are too many
        is screened again in float64, and so are the blocks after it. Either way the final k
        come from the direct float64 distances of every candidate, so the result is the same.
        """
        Y, y_sq = self._fit_X, self._fit_sq_norms
        leave_one_out = queries is None
        Q, q_sq = (Y, y_sq) if leave_one_out else queries
        n_queries, n_features = Q.shape
        Y32 = getattr(self, "_fit_X32", None)
        use32 = Y32 is not None and (not q_sq.size or float(q_sq.max()) <= _MAX_SQ_NORM32)
        Q32 = (Y32 if leave_one_out else Q.astype(np.float32)) if use32 else None
        y_sq32 = y_sq.astype(np.float32) if use32 else None
        block = min(self._block_rows(), n_queries)
        buf = np.empty((block, Y.shape[0]), dtype=np.float64)
        buf32 = np.empty((block, Y.shape[0]), dtype=np.float32) if use32 else None
        ind = np.empty((n_queries, k), dtype=np.intp)
        sq_dist = np.empty((n_queries, k), dtype=np.float64)
        first_k = np.arange(k)
        for start in range(0, n_queries, block):
            stop = min(start + block, n_queries)
            m = stop - start
            found = None
            if use32:
                found = _screen(Q32[start:stop], Y32, q_sq[start:stop].astype(np.float32), y_sq32,
                                _bound_factor32(n_features), k, start if leave_one_out else None,
                                buf32[:m], max_candidates=m * (k + _MAX_EXTRA32))
                use32 = found is not None
            if found is None:
                found = _screen(Q[start:stop], Y, q_sq[start:stop], y_sq, _bound_factor(n_features), k,
                                start if leave_one_out else None, buf[:m])
            rows, cols = found  # row-major: indices ascend in a row
            exact = _pair_sq_distances(Q, Y, rows + start, cols)
            # Within each row: by exact distance, then by training index; keep the first k.
            order = np.lexsort((cols, exact, rows))
            take = order[_row_offsets(rows, m)[:, None] + first_k[None, :]]
            ind[start:stop] = cols[take]
            sq_dist[start:stop] = exact[take]
        if return_distance:
            dist = np.sqrt(sq_dist)
            unit = getattr(self, "_unit", 1.0)
            return (dist * unit if unit != 1.0 else dist), ind
        return ind

    def _queries(self, X: Any, where: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Fitted check; the validated float64 queries and their squared norms, checked once here
        and reused by the search (None stays None: leave-one-out)."""
        check_is_fitted(self)
        if X is None:
            return None
        Q = self._validate(where, X, reset=False)
        unit = getattr(self, "_unit", 1.0)
        if unit != 1.0:
            with np.errstate(over="ignore"):  # beyond float64 in these units: refused just below
                Q = Q / unit
        q_sq = _row_sq_norms(Q)
        _check_sq_norms(q_sq, where, "X")
        return Q, q_sq

    def _check_k(self, k: int, leave_one_out: bool, where: str) -> None:
        n = self.n_samples_fit_
        if leave_one_out and k >= n:
            raise ValueError(
                f"{where}: n_neighbors ({k}) must be < n_samples_fit_ ({n}) when X is None "
                "(each training point is left out of its own neighbours)"
            )
        if k > n:
            raise ValueError(f"{where}: n_neighbors ({k}) must be <= n_samples_fit_ ({n}), the number of training samples")

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """Find the k nearest training points of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or None
            Query points. None: the training points, each not counted as its own neighbour
            (a duplicate of it still is, at distance 0).
        n_neighbors : int or None
            k; None uses the ``n_neighbors`` given at construction.
        return_distance : bool
            Also return the distances.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, k), float64
            Euclidean distances, ascending along each row (only if ``return_distance``).
        neigh_ind : ndarray of shape (n_queries, k), intp
            Indices into the training set; equal distances are ordered by index.
        """
        where = self._where("kneighbors")
        queries = self._queries(X, where)
        k = check_int(self.n_neighbors if n_neighbors is None else n_neighbors, "n_neighbors", where, minimum=1)
        if not isinstance(return_distance, (bool, np.bool_)):
            raise TypeError(f"{where}: return_distance must be a bool (got {describe(return_distance)})")
        self._check_k(k, queries is None, where)
        return self._search(queries, k, bool(return_distance))

    def kneighbors_graph(self, X: Any = None, n_neighbors: int | None = None, mode: str = "connectivity") -> Any:
        """The k-neighbours graph as a ``scipy.sparse.csr_matrix`` of shape (n_queries,
        n_samples_fit_): row i holds, in the columns of its k neighbours, 1 (``mode=
        "connectivity"``) or the distance (``mode="distance"``), as scikit-learn's. X None: the
        training points, each not its own neighbour."""
        import scipy.sparse

        where = self._where("kneighbors_graph")
        if mode not in ("connectivity", "distance"):
            raise ValueError(f"{where}: mode must be 'connectivity' or 'distance' (got {describe(mode)})")
        dist, ind = self.kneighbors(X, n_neighbors, return_distance=True)
        n_queries, k = ind.shape
        data = np.ones(n_queries * k) if mode == "connectivity" else dist.ravel()
        return scipy.sparse.csr_matrix((data, ind.ravel(), np.arange(0, n_queries * k + 1, k)),
                                       shape=(n_queries, self.n_samples_fit_))

    def _neighbours_and_weights(self, X: Any, where: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Neighbour indices of each query and their weights (None for uniform)."""
        queries = self._queries(X, where)
        self._check_params(where)  # set_params may have changed them since fit
        k = int(self.n_neighbors)
        self._check_k(k, queries is None, where)
        if self.weights is None or (isinstance(self.weights, str) and self.weights == "uniform"):
            return self._search(queries, k, False), None
        dist, ind = self._search(queries, k, True)
        if isinstance(self.weights, str):  # "distance"
            return ind, _distance_weights(dist)
        w = self.weights(dist)
        try:
            w = np.asarray(w, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: weights(dist) must return numbers (got {describe(w)})") from None
        if w.shape != dist.shape:
            raise ValueError(f"{where}: weights(dist) must return an array of shape {dist.shape} (got {w.shape})")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"{where}: weights(dist) must return finite, non-negative weights")
        if (w == 0).all(axis=1).any():
            raise ValueError(
                f"{where}: weights(dist) gave all neighbours of some query weight 0; "
                "change the weights function to avoid this"
            )
        return ind, w


class KNeighborsClassifier(ClassifierMixin, _KNeighborsBase):
    """k-nearest-neighbour classifier (brute force, Euclidean); see :mod:`mlpcore.neighbors`.

    Parameters
    ----------
    n_neighbors : int, default 5
        Number of neighbours k (>= 1; at most the number of training samples at prediction).
    weights : {"uniform", "distance"}, None or callable, default "uniform"
        Vote weights: 1 each ("uniform" or None), 1/distance (neighbours at distance 0 take all
        the weight), or ``weights(dist)`` returning finite non-negative weights of the shape of
        ``dist``.
    algorithm, leaf_size, p, metric, metric_params, n_jobs
        scikit-learn's, accepted so that its code runs unchanged: every ``algorithm`` finds the
        same exact neighbours (by this brute-force search); the distance must be Euclidean
        (``metric="minkowski"`` with ``p=2``, the default, ``"euclidean"`` or ``"l2"``);
        ``leaf_size`` only shapes trees; the kernels' threads follow
        :func:`mlpcore.set_num_threads`, not ``n_jobs``.
    batch_size : int or None, default None
        Query rows per distance block; None picks the largest block whose temporaries fit in
        64 MiB. Results do not depend on it.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,), or a list of them (one per output) for 2-D y
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when fit on a DataFrame with string column names)
    n_samples_fit_ : int
    effective_metric_ : str
        Always "euclidean".
    effective_metric_params_ : dict
        Always empty.
    outputs_2d_ : bool
        Whether y was 2-D with more than one column (multi-output).
    """

    _y_numeric = False

    def fit(self, X: Any, y: Any) -> KNeighborsClassifier:
        """Store the training set: X (n_samples, n_features), labels y (n_samples,) or
        (n_samples, n_outputs) of ints, strings or bools. Returns self."""
        where = self._where("fit")
        # checks after validate_data can still fail
        with one_fit_at_a_time(self, where), attributes_kept_on_error(self):
            return self._fit_classes(self._fit_X_y(X, y, where), where)

    def _fit_classes(self, y: np.ndarray, where: str) -> KNeighborsClassifier:
        """Check the labels y (validated by _fit_X_y) and store them as class codes."""
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            if y.ndim != 1:
                warnings.warn(
                    "A column-vector y was passed when a 1d array was expected. Please change the "
                    "shape of y to (n_samples,), for example using ravel().",
                    DataConversionWarning,
                    stacklevel=3,
                )
            self.outputs_2d_ = False
            y = y.reshape(-1, 1)
        else:
            self.outputs_2d_ = True
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        classes = []
        codes = np.empty(y.shape, dtype=np.intp)
        for j in range(y.shape[1]):
            classes_j, codes[:, j] = np.unique(y[:, j], return_inverse=True)
            classes.append(classes_j)
        self.classes_ = classes if self.outputs_2d_ else classes[0]
        self._y = codes
        return self

    def _probabilities(self, X: Any, where: str) -> list[np.ndarray]:
        ind, w = self._neighbours_and_weights(X, where)
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        rows = np.arange(ind.shape[0])
        probas = []
        for j, classes_j in enumerate(classes):
            labels = self._y[:, j][ind]
            votes = np.zeros((ind.shape[0], len(classes_j)))
            # Neighbour by neighbour, so each class's weights add up in neighbour order (as sklearn).
            for i in range(ind.shape[1]):
                votes[rows, labels[:, i]] += 1.0 if w is None else w[:, i]
            votes /= votes.sum(axis=1, keepdims=True)
            probas.append(votes)
        return probas

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities p_c(x) (see the module docstring), columns in ``classes_`` order:
        an array of shape (n_queries, n_classes), or a list of them for multi-output y.
        X None: leave-one-out on the training set."""
        probas = self._probabilities(X, self._where("predict_proba"))
        return probas if self.outputs_2d_ else probas[0]

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each query, ``classes_[argmax_c p_c(x)]`` (the first class
        on a tie); shape (n_queries,) or (n_queries, n_outputs). X None: leave-one-out."""
        probas = self._probabilities(X, self._where("predict"))
        classes = self.classes_ if self.outputs_2d_ else [self.classes_]
        preds = [classes_j[np.argmax(p, axis=1)] for classes_j, p in zip(classes, probas)]
        return np.stack(preds, axis=1) if self.outputs_2d_ else preds[0]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class KNeighborsRegressor(RegressorMixin, _KNeighborsBase):
    """k-nearest-neighbour regressor (brute force, Euclidean); see :mod:`mlpcore.neighbors`.

    Predicts the weighted mean of the neighbours' targets. Parameters and attributes as
    :class:`KNeighborsClassifier` (without ``classes_`` and ``outputs_2d_``); targets are
    stored and predicted as float64.
    """

    _y_numeric = True

    def fit(self, X: Any, y: Any) -> KNeighborsRegressor:
        """Store the training set: X (n_samples, n_features), numeric y (n_samples,) or
        (n_samples, n_outputs). Returns self."""
        # checks after validate_data can still fail
        with one_fit_at_a_time(self, self._where("fit")), attributes_kept_on_error(self):
            y = self._fit_X_y(X, y, self._where("fit"))
            self._y = np.asarray(y, dtype=np.float64)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Weighted mean of the neighbours' targets; shape (n_queries,) for 1-D y, else
        (n_queries, n_outputs). X None: leave-one-out on the training set."""
        ind, w = self._neighbours_and_weights(X, self._where("predict"))
        y = self._y if self._y.ndim == 2 else self._y[:, None]
        if w is None:
            pred = np.mean(y[ind], axis=1)
        else:
            denom = np.sum(w, axis=1)
            pred = np.empty((ind.shape[0], y.shape[1]))
            for j in range(y.shape[1]):
                pred[:, j] = np.sum(y[ind, j] * w, axis=1) / denom
        return pred.ravel() if self._y.ndim == 1 else pred
