"""Data: splits, cross-validation folds, encoding, scaling, IDX/MNIST loading
and the synthetic data sets of the lecture's playground demo.

All randomness goes through ``numpy.random.default_rng(seed)``: the same seed
gives the same output bit for bit. ``seed`` may also be a ``numpy.random.Generator``.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import (
    as_float_array,
    as_rng,
    check_choice,
    check_float,
    check_int,
    check_same_length,
    check_size,
    describe,
    is_integer,
    power_of_two_below,
    show,
)

__all__ = [
    "StandardScaler",
    "kfold",
    "load_idx",
    "load_mnist",
    "make_blobs",
    "make_circles",
    "make_regression",
    "make_spiral",
    "make_xor",
    "one_hot",
    "train_val_test_indices",
    "train_val_test_split",
]


# --------------------------------------------------------------------------- #
# Splits
# --------------------------------------------------------------------------- #


def _strata(y: np.ndarray, name: str, func: str) -> np.ndarray | None:
    """The class labels to stratify by: ``y``, or its single column (as scikit-learn); None for
    float targets (regression) and multi-column ``y``. Object arrays stratify when they hold
    only strings, only bools or only integers (of any size), are targets when they hold only
    real numbers, and are refused by name otherwise (a mix, or None)."""
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "biuUSO":
        return None
    if y.dtype.kind != "O":
        return y
    values = y.tolist()
    if all(isinstance(v, str) for v in values):
        return y.astype(str)
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return y.astype(bool)
    if all(map(is_integer, values)):
        return y  # Python integers sort and compare exactly
    if all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in values):
        return None
    raise TypeError(f"{func}: {name} must hold class labels of one kind (strings, bools or integers) or "
                    f"real targets (got {describe(y)} mixing {sorted({type(v).__name__ for v in values})})")


def _part_count(size: float | int, n: int) -> int:
    """A fraction is rounded to the nearest count (halves up); a count is kept."""
    if isinstance(size, int):
        return size
    return int(math.floor(size * n + 0.5))


def _apportion(quota: np.ndarray, total: int) -> np.ndarray:
    """Largest-remainder rounding of non-negative ``quota`` (summing to ``total``).

    Every count is ``floor(q)`` or ``ceil(q)`` and the counts sum to ``total``;
    ties between equal remainders go to the earlier class.
    """
    counts = np.floor(quota).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        order = np.argsort(-(quota - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _index_input(y_or_n: Any, func: str) -> tuple[int, np.ndarray | None]:
    """A count ``n`` or an array whose length is ``n`` (returned for stratification)."""
    if isinstance(y_or_n, (int, np.integer)) and not isinstance(y_or_n, (bool, np.bool_)):
        return check_int(y_or_n, "y_or_n", func, minimum=1), None
    y = np.asarray(y_or_n)
    if y.ndim == 0:
        raise TypeError(
            f"{func}: y_or_n must be a sample count or an array of labels (got {describe(y_or_n)})"
        )
    if len(y) == 0:
        raise ValueError(f"{func}: y_or_n is empty")
    return len(y), y


def train_val_test_indices(
    y_or_n: Any,
    *,
    val_size: float | int = 0.1,
    test_size: float | int = 0.1,
    stratify: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays ``(train_idx, val_idx, test_idx)`` of a random three-way split.

    ``y_or_n`` is the number of samples or the target array. Sizes are fractions
    of n in [0, 1) (rounded to the nearest count) or counts. With ``stratify`` and
    class labels (integer, boolean or string ``y``), each class c with n_c members
    contributes about ``n_c * n_test / n`` samples to the test part and
    ``(n_c - t_c) * n_val / (n - n_test)`` to the validation part (largest-remainder
    rounding, so the part sizes are exact); a single-column 2-D ``y`` counts as its column.
    Float targets (regression) and multi-column ``y`` are split without stratification. Every index appears in exactly one part; each part is in
    random order. Warns when stratification leaves a class out of a non-empty
    validation or test part (the class is too small).
    """
    func = "train_val_test_indices"
    n, y = _index_input(y_or_n, func)
    return _three_way(n, y, val_size, test_size, stratify, seed, func)


def _three_way(
    n: int,
    y: np.ndarray | None,
    val_size: Any,
    test_size: Any,
    stratify: Any,
    seed: Any,
    func: str,
    name_is_n: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    val_size = check_size(val_size, "val_size", func)
    test_size = check_size(test_size, "test_size", func)
    if not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(f"{func}: stratify must be a bool (got {describe(stratify)})")
    rng = as_rng(seed, func)
    n_val, n_test = _part_count(val_size, n), _part_count(test_size, n)
    if n_val + n_test >= n:
        raise ValueError(
            f"{func}: val_size and test_size leave no training samples "
            f"(got {n_val} validation + {n_test} test samples out of {n})"
        )

    strata = None if not stratify or y is None else _strata(y, "y_or_n" if name_is_n else "y", func)
    if strata is not None:
        classes, codes = np.unique(strata, return_inverse=True)
        members = [np.flatnonzero(codes == c) for c in range(len(classes))]
        sizes = np.array([len(m) for m in members], dtype=np.float64)
        t = _apportion(sizes * n_test / n, n_test)
        v = _apportion((sizes - t) * n_val / (n - n_test), n_val)
        parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
        for idx, t_c, v_c in zip(members, t, v):
            idx = rng.permutation(idx)
            parts[2].append(idx[:t_c])
            parts[1].append(idx[t_c : t_c + v_c])
            parts[0].append(idx[t_c + v_c :])
        for part_name, counts, total in (("validation", v, n_val), ("test", t, n_test)):
            missing = classes[counts == 0]
            if total > 0 and missing.size:
                shown = missing[:8].tolist()  # a long list of classes would flood the terminal
                more = f" and {missing.size - 8} more" if missing.size > 8 else ""
                warnings.warn(
                    f"{func}: class(es) {shown}{more} too small to appear in the {part_name} part",
                    UserWarning,
                    stacklevel=3,
                )
        train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    else:
        perm = rng.permutation(n)
        test, val, train = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
    return train, val, test


def train_val_test_split(
    X: Any,
    y: Any,
    *,
    val_size: float | int = 0.1,
    test_size: float | int = 0.1,
    stratify: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``X`` and ``y`` into training, validation and test parts.

    Returns ``X_train, X_val, X_test, y_train, y_val, y_test``. Sizes are
    fractions in [0, 1) or counts; e.g. ``val_size=1000, test_size=1000`` on
    10 000 MNIST images gives an 8000/1000/1000 split. See
    :func:`train_val_test_indices` for the stratification rule.
    """
    func = "train_val_test_split"
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{func}: X and y must be arrays with a sample axis (got {X.ndim}-D and {y.ndim}-D)")
    n = check_same_length(func, X=X, y=y)
    if n == 0:
        raise ValueError(f"{func}: X and y are empty")
    train, val, test = _three_way(n, y, val_size, test_size, stratify, seed, func, name_is_n=False)
    return X[train], X[val], X[test], y[train], y[val], y[test]


def kfold(
    y_or_n: Any,
    k: int = 5,
    *,
    stratified: bool = True,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-fold cross-validation: yields ``(train_idx, val_idx)`` k times (sorted indices).

    Given a count n (or float targets, or ``stratified=False``) the (shuffled)
    indices are cut into k folds of sizes ``n // k`` or ``n // k + 1``. Given class
    labels with ``stratified=True``, the indices are grouped by class (shuffled
    within each class) and dealt out to the folds in turn, so every class is
    spread over the folds as evenly as possible and fold sizes differ by at most
    one. Every index is in exactly one validation fold. Arguments are checked
    when ``kfold`` is called; warns when a class has fewer than k members.
    """
    func = "kfold"
    n, y = _index_input(y_or_n, func)
    k = check_int(k, "k", func, minimum=2)
    if k > n:
        raise ValueError(f"{func}: k must be <= the number of samples (got k={k}, n={n})")
    for flag, value in (("stratified", stratified), ("shuffle", shuffle)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{func}: {flag} must be a bool (got {describe(value)})")
    rng = as_rng(seed, func)

    fold = np.empty(n, dtype=np.int64)
    strata = None if not stratified or y is None else _strata(y, "y_or_n", func)
    if strata is not None:
        classes, codes, counts = np.unique(strata, return_inverse=True, return_counts=True)
        if counts.min() < k:
            warnings.warn(
                f"{func}: the least populated class ({show(classes[np.argmin(counts)])}) has only "
                f"{counts.min()} members, fewer than k={k}; some folds will not contain it",
                UserWarning,
                stacklevel=2,
            )
        order = np.argsort(codes, kind="stable")
        if shuffle:
            starts = np.concatenate([[0], np.cumsum(counts)])
            for c in range(len(classes)):
                order[starts[c] : starts[c + 1]] = rng.permutation(order[starts[c] : starts[c + 1]])
        fold[order] = np.arange(n) % k
    else:
        order = rng.permutation(n) if shuffle else np.arange(n)
        sizes = np.full(k, n // k)
        sizes[: n % k] += 1
        fold[order] = np.repeat(np.arange(k), sizes)

    def folds() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for f in range(k):
            yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)

    return folds()


# --------------------------------------------------------------------------- #
# Encoding and scaling
# --------------------------------------------------------------------------- #


def one_hot(y: Any, n_classes: int | None = None, *, dtype: Any = np.float64) -> np.ndarray:
    """One-hot encoding: ``Y[i, j] = 1 if y[i] == j else 0``, shape (n, n_classes).

    ``y`` holds integer labels 0 … n_classes − 1 (whole-number floats are
    accepted); ``n_classes`` defaults to ``max(y) + 1``.
    """
    func = "one_hot"
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf" or arr.dtype.kind == "b":
        raise TypeError(f"{func}: y must hold integer class labels (got {describe(arr)})")
    if arr.ndim != 1:
        raise ValueError(f"{func}: y must be 1-D (got {arr.ndim}-D with shape {arr.shape})")
    if arr.size == 0:
        raise ValueError(f"{func}: y is empty")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{func}: y contains NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{func}: y must hold integer class labels (got non-integer values)")
    if arr.min() < 0:
        raise ValueError(f"{func}: y must hold labels >= 0 (got {arr.min()})")
    if n_classes is not None and arr.max() >= check_int(n_classes, "n_classes", func, minimum=1):
        raise ValueError(f"{func}: y contains label {arr.max()}, which is not < n_classes={n_classes}")
    if arr.max() >= 2**31:  # checked before the cast, which would wrap larger labels around
        raise ValueError(f"{func}: y contains label {arr.max()}; one_hot needs labels below 2^31")
    labels = arr.astype(np.int64)
    if n_classes is None:
        n_classes = int(labels.max()) + 1
    else:
        n_classes = check_int(n_classes, "n_classes", func, minimum=1)
        if labels.max() >= n_classes:
            raise ValueError(f"{func}: y contains label {labels.max()}, which is not < n_classes={n_classes}")
    out = np.zeros((labels.size, n_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


class StandardScaler:
    """Standardise features: ``z = (x - mean) / scale``, column by column.

    ``mean`` and ``scale`` (the population standard deviation, ddof = 0) are
    estimated by :meth:`fit` — on the training part only, so that no
    information leaks from validation or test data. A constant column has
    ``scale = 1`` (it maps to 0 instead of ``0/0``). A column counts as constant
    when its standard deviation is at most ``10 * eps * |mean|`` (only rounding
    noise). Output keeps float32/float64 input dtype, otherwise float64.
    """

    mean_: np.ndarray
    scale_: np.ndarray
    var_: np.ndarray
    n_features_in_: int
    n_samples_seen_: int

    def fit(self, X: Any) -> StandardScaler:
        """Estimate per-column mean and scale from ``X`` (n_samples, n_features)."""
        X64 = as_float_array(X, "X", "StandardScaler.fit", ndim=2)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = X64.mean(axis=0)
            var = X64.var(axis=0)
        std = np.sqrt(var)
        exact = np.all(X64 == X64[:1], axis=0)
        # Columns near float64's limits: near 1e308 their sums or squares overflow, below about
        # 1e-154 their squares underflow (a std of 1e-200 came out 0, "constant"). The same
        # statistics of the column divided by a power of two near its largest value (exact),
        # scaled back; the variance itself may stay beyond float64's range.
        rescale = ~(np.isfinite(mean) & np.isfinite(std)) | (~exact & (std < 1e-150))
        if rescale.any():
            cols = X64[:, rescale]
            unit = power_of_two_below(np.abs(cols).max(axis=0))
            with np.errstate(over="ignore", under="ignore"):
                mean[rescale] = (cols / unit).mean(axis=0) * unit
                std[rescale] = (cols / unit).std(axis=0) * unit
                var[rescale] = std[rescale] ** 2
        mean[exact] = X64[0, exact]  # a constant column maps to exactly 0
        constant = std <= 10 * np.finfo(np.float64).eps * np.abs(mean)
        self.mean_ = mean
        self.var_ = np.where(constant, 0.0, var)
        self.scale_ = np.where(constant, 1.0, std)
        self.n_features_in_ = X64.shape[1]
        self.n_samples_seen_ = X64.shape[0]
        return self

    def _check(self, X: Any, method: str) -> tuple[np.ndarray, np.dtype]:
        func = f"StandardScaler.{method}"
        if not hasattr(self, "mean_"):
            raise RuntimeError(f"{func}: the scaler is not fitted; call fit(X_train) first")
        dtype = np.asarray(X).dtype
        out_dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
        X64 = as_float_array(X, "X", func, ndim=2)
        if X64.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{func}: X must have {self.n_features_in_} features as in fit (got {X64.shape[1]})"
            )
        return X64, out_dtype

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``."""
        X64, dtype = self._check(X, "transform")
        return ((X64 - self.mean_) / self.scale_).astype(dtype, copy=False)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * scale_ + mean_`` (undoes :meth:`transform`)."""
        Z64, dtype = self._check(Z, "inverse_transform")
        return (Z64 * self.scale_ + self.mean_).astype(dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


# --------------------------------------------------------------------------- #
# IDX files and MNIST
# --------------------------------------------------------------------------- #

#: IDX element type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_CHUNK = 1 << 24


def _read_exact(f: Any, n: int) -> bytes:
    """Read up to n bytes in chunks (a corrupt header cannot force a huge allocation)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected from the content).

    Layout (big-endian): magic ``0x00 0x00 T D`` with element type T
    (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64)
    and D ≥ 1 dimensions, then D uint32 sizes, then ``prod(sizes)`` elements.
    Returns a writable array of shape ``sizes`` in native byte order.
    Raises ValueError for a non-IDX file, a truncated or overlong file, or a
    corrupt gzip stream; FileNotFoundError if ``path`` does not exist.
    """
    func = "load_idx"
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or os.PathLike (got {describe(path)})")
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    try:
        with opener(path, "rb") as f:
            return _parse_idx(f, path, func)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{func}: {path} is a corrupt or truncated gzip file ({exc})") from exc


def _parse_idx(f: Any, path: Path, func: str) -> np.ndarray:
    magic = _read_exact(f, 4)
    if len(magic) < 4:
        raise ValueError(
            f"{func}: {path} is not an IDX file (only {len(magic)} bytes, no 4-byte magic number)"
        )
    zero, type_code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00" or type_code not in IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"{func}: {path} is not an IDX file (magic number 0x{magic.hex().upper()}; "
            f"expected 0x0000TTDD with element type TT in {codes})"
        )
    if ndim == 0:
        raise ValueError(f"{func}: {path} has an invalid IDX header (0 dimensions)")
    header = _read_exact(f, 4 * ndim)
    if len(header) < 4 * ndim:
        raise ValueError(
            f"{func}: {path} is truncated: the header declares {ndim} dimensions "
            f"({4 * ndim} bytes) but only {len(header)} bytes follow the magic number"
        )
    shape = tuple(int(d) for d in np.frombuffer(header, dtype=">u4"))
    dtype = IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    data = _read_exact(f, expected)
    if len(data) < expected:
        raise ValueError(
            f"{func}: {path} is truncated: the header declares shape {shape} of "
            f"{dtype.newbyteorder('=').name} ({expected} bytes of data) but only {len(data)} bytes follow"
        )
    extra = f.read(1)
    if extra:
        raise ValueError(
            f"{func}: {path} has unexpected bytes after the {expected} bytes of data "
            f"declared by its header (shape {shape})"
        )
    arr = np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="))
    return arr.reshape(shape)


_MNIST_PREFIX = {"train": "train", "test": "t10k"}


def _find_mnist_file(directory: Path, prefix: str, kind: str, ndim: int) -> Path:
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    for name in names:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"load_mnist: found neither {names[0]} nor {names[0]}.gz in {directory}")


def load_mnist(directory: str | os.PathLike[str], subset: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST from its IDX files in ``directory``.

    ``subset="train"`` reads ``train-images-idx3-ubyte[.gz]`` and
    ``train-labels-idx1-ubyte[.gz]``; ``subset="test"`` the ``t10k-…`` files.
    Returns ``X`` float32 of shape (n, 784) with pixel values ``x / 255`` in
    [0, 1], and ``y`` int64 of shape (n,).
    """
    func = "load_mnist"
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"{func}: directory must be a str or os.PathLike (got {describe(directory)})")
    check_choice(subset, "subset", func, _MNIST_PREFIX)
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{func}: directory {directory} does not exist")
    prefix = _MNIST_PREFIX[subset]
    images_path = _find_mnist_file(directory, prefix, "images", 3)
    labels_path = _find_mnist_file(directory, prefix, "labels", 1)
    images, labels = load_idx(images_path), load_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(
            f"{func}: {images_path} must hold uint8 images of shape (n, rows, cols) "
            f"(got {images.dtype} of shape {images.shape})"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(
            f"{func}: {labels_path} must hold uint8 labels of shape (n,) "
            f"(got {labels.dtype} of shape {labels.shape})"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{func}: {images_path.name} and {labels_path.name} hold different numbers of samples "
            f"({len(images)} and {len(labels)})"
        )
    if len(images) == 0:
        raise ValueError(f"{func}: {images_path} holds no images")
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= np.float32(255.0)
    return X, labels.astype(np.int64)


# --------------------------------------------------------------------------- #
# Synthetic data sets (the playground demo)
# --------------------------------------------------------------------------- #


def _class_sizes(n: int, k: int) -> np.ndarray:
    """Split n samples over k classes as evenly as possible (earlier classes get the extra ones)."""
    sizes = np.full(k, n // k, dtype=np.int64)
    sizes[: n % k] += 1
    return sizes


def _finish(
    X: np.ndarray, y: np.ndarray, shuffle: bool, rng: np.random.Generator, func: str
) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"{func}: shuffle must be a bool (got {describe(shuffle)})")
    if shuffle:
        perm = rng.permutation(len(y))
        X, y = X[perm], y[perm]
    return X, y


def make_spiral(
    n_samples: int,
    n_classes: int = 2,
    *,
    noise: float = 0.05,
    turns: float = 1.75,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spirals, one arm per class, in the unit disc.

    For class c and evenly spaced ``t ∈ (0, 1]``: radius ``r = t``, angle
    ``θ = 2π·turns·t + 2π·c / n_classes``, point ``r·(cos θ, sin θ) + noise·ε`` with
    ε ~ N(0, I₂). Returns ``X`` float64 (n_samples, 2) and ``y`` int64 in 0 … n_classes − 1.
    """
    func = "make_spiral"
    n = check_int(n_samples, "n_samples", func, minimum=1)
    k = check_int(n_classes, "n_classes", func, minimum=2)
    if n < k:
        raise ValueError(f"{func}: n_samples must be >= n_classes (got {n} and {k})")
    noise = check_float(noise, "noise", func, minimum=0.0)
    turns = check_float(turns, "turns", func, minimum=0.0)
    rng = as_rng(seed, func)
    sizes = _class_sizes(n, k)
    y = np.repeat(np.arange(k, dtype=np.int64), sizes)
    t = np.concatenate([(np.arange(m) + 1.0) / m for m in sizes])
    theta = 2 * np.pi * turns * t + 2 * np.pi * y / k
    X = np.column_stack([t * np.cos(theta), t * np.sin(theta)])
    X += noise * rng.standard_normal(X.shape)
    return _finish(X, y, shuffle, rng, func)


def make_xor(
    n_samples: int,
    *,
    noise: float = 0.05,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """XOR of the quadrants: ``u ~ U([-1, 1]²)``, ``y = [u₁ > 0] XOR [u₂ > 0]``, ``X = u + noise·ε``.

    Class 1 is the second and fourth quadrant. Returns ``X`` float64 (n, 2), ``y`` int64.
    """
    func = "make_xor"
    n = check_int(n_samples, "n_samples", func, minimum=1)
    noise = check_float(noise, "noise", func, minimum=0.0)
    rng = as_rng(seed, func)
    u = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((u[:, 0] > 0) ^ (u[:, 1] > 0)).astype(np.int64)
    X = u + noise * rng.standard_normal(u.shape)
    return _finish(X, y, shuffle, rng, func)


def make_circles(
    n_samples: int,
    *,
    noise: float = 0.05,
    factor: float = 0.5,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor``.

    Angles ``φ ~ U[0, 2π)``; ``X = r·(cos φ, sin φ) + noise·ε``. Class 0 gets
    ``n_samples // 2`` points, class 1 the rest. Returns ``X`` float64 (n, 2), ``y`` int64.
    """
    func = "make_circles"
    n = check_int(n_samples, "n_samples", func, minimum=2)
    noise = check_float(noise, "noise", func, minimum=0.0)
    factor = check_float(
        factor, "factor", func, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False
    )
    rng = as_rng(seed, func)
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n // 2, n - n // 2])
    r = np.where(y == 0, 1.0, factor)
    phi = rng.uniform(0.0, 2 * np.pi, size=n)
    X = np.column_stack([r * np.cos(phi), r * np.sin(phi)])
    X += noise * rng.standard_normal(X.shape)
    return _finish(X, y, shuffle, rng, func)


def make_blobs(
    n_samples: int,
    centers: int | Any = 3,
    *,
    n_features: int | None = None,
    cluster_std: float | Any = 1.0,
    center_box: tuple[float, float] = (-5.0, 5.0),
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian mixture: class j is ``N(μ_j, σ_j² I)``, ``n_samples`` split evenly over classes.

    ``centers`` is the number of classes (then ``μ_j ~ U(center_box)^n_features``, with
    ``n_features`` 2 by default) or an array of centres of shape (k, n_features), whose width
    ``n_features`` must then match when given. ``cluster_std`` is one σ or
    one per class. Returns ``X`` float64 (n, n_features), ``y`` int64 in 0 … k − 1.
    """
    func = "make_blobs"
    n = check_int(n_samples, "n_samples", func, minimum=1)
    rng = as_rng(seed, func)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, (bool, np.bool_)):
        k = check_int(centers, "centers", func, minimum=1)
        d = 2 if n_features is None else check_int(n_features, "n_features", func, minimum=1)
        if not isinstance(center_box, (tuple, list, np.ndarray)) or len(center_box) != 2:
            raise TypeError(f"{func}: center_box must be a pair (low, high) (got {describe(center_box)})")
        low = check_float(center_box[0], "center_box[0]", func)
        high = check_float(center_box[1], "center_box[1]", func)
        if not low < high:
            raise ValueError(f"{func}: center_box must have low < high (got {center_box!r})")
        if not np.isfinite(high - low):
            raise ValueError(f"{func}: center_box spans more than float64's range (got {center_box!r})")
        mu = rng.uniform(low, high, size=(k, d))
    else:
        mu = as_float_array(centers, "centers", func, ndim=2)
        k, d = mu.shape
        if n_features is not None and check_int(n_features, "n_features", func, minimum=1) != d:
            raise ValueError(f"{func}: n_features={n_features} does not match the centers' width {d} "
                             f"(centers of shape {mu.shape}); leave n_features out")
    if n < k:
        raise ValueError(f"{func}: n_samples must be >= the number of centers (got {n} and {k})")
    if np.ndim(cluster_std) == 0:
        sigma = np.full(k, check_float(cluster_std, "cluster_std", func, minimum=0.0))
    else:
        sigma = as_float_array(cluster_std, "cluster_std", func, ndim=1)
        if sigma.shape != (k,) or np.any(sigma < 0):
            raise ValueError(
                f"{func}: cluster_std must be one value >= 0 or {k} such values (got {sigma.tolist()})"
            )
    y = np.repeat(np.arange(k, dtype=np.int64), _class_sizes(n, k))
    X = mu[y] + sigma[y, None] * rng.standard_normal((n, d))
    return _finish(X, y, shuffle, rng, func)


def make_regression(
    n_samples: int,
    n_features: int = 1,
    *,
    kind: str = "linear",
    noise: float = 0.1,
    coef: Any = None,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Regression targets ``y = f(x) + noise·ε`` with ``x ~ U([-1, 1]^d)`` and ε ~ N(0, 1).

    * ``kind="linear"``: ``f(x) = x·w`` with ``w = coef`` (default: ``w ~ N(0, I_d)``).
    * ``kind="nonlinear"``: ``f(x) = Σ_j sin(π x_j) + Σ_{j<d} x_j x_{j+1}``.

    Returns ``X`` float64 (n, d) and ``y`` float64 (n,).
    """
    func = "make_regression"
    n = check_int(n_samples, "n_samples", func, minimum=1)
    d = check_int(n_features, "n_features", func, minimum=1)
    check_choice(kind, "kind", func, ("linear", "nonlinear"))
    noise = check_float(noise, "noise", func, minimum=0.0)
    rng = as_rng(seed, func)
    if coef is not None:
        if kind != "linear":
            raise ValueError(f"{func}: coef is only used with kind='linear' (got kind={kind!r})")
        w = as_float_array(coef, "coef", func, ndim=1)
        if w.shape != (d,):
            raise ValueError(f"{func}: coef must have n_features={d} entries (got {w.shape[0]})")
    elif kind == "linear":
        w = rng.standard_normal(d)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    if kind == "linear":
        f = X @ w
    else:
        f = np.sin(np.pi * X).sum(axis=1) + (X[:, :-1] * X[:, 1:]).sum(axis=1)
    y = f + noise * rng.standard_normal(n)
    return X, y
