"""Tests for mlpcore.data: splits, folds, encoding, scaling, IDX/MNIST, synthetic sets."""

from __future__ import annotations

import contextlib
import gzip
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _helpers import mnist_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpcore import data
from mlpcore.data import (
    StandardScaler,
    kfold,
    load_idx,
    load_mnist,
    one_hot,
    train_val_test_indices,
    train_val_test_split,
)

# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(arr: np.ndarray, code: int) -> bytes:
    """Serialise ``arr`` in IDX format with element type ``code``."""
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + np.asarray(arr).astype(IDX_TYPES[code]).tobytes()



@pytest.fixture
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    directory = mnist_dir()
    if (
        not (directory / "t10k-images-idx3-ubyte.gz").is_file()
        and not (directory / "t10k-images-idx3-ubyte").is_file()
    ):
        pytest.skip(f"real MNIST test set not found in {directory} (set MLPCORE_MNIST_DIR)")
    return load_mnist(directory, subset="test")


@contextlib.contextmanager
def ignore_small_class_warnings() -> Iterator[None]:
    """Random labels in property tests may contain tiny classes; that warning is tested separately."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*(too small to appear|least populated class)", category=UserWarning
        )
        yield


labels_strategy = st.lists(st.integers(0, 4), min_size=3, max_size=120)


# --------------------------------------------------------------------------- #
# train_val_test_split
# --------------------------------------------------------------------------- #


@settings(max_examples=60, deadline=None)
@given(
    y=labels_strategy,
    val=st.one_of(st.floats(0, 0.45), st.integers(0, 30)),
    test=st.one_of(st.floats(0, 0.45), st.integers(0, 30)),
    stratify=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_parts_are_disjoint_and_cover_every_index(y, val, test, stratify, seed):
    y = np.array(y)
    n = y.size
    n_val = val if isinstance(val, int) else int(np.floor(val * n + 0.5))
    n_test = test if isinstance(test, int) else int(np.floor(test * n + 0.5))
    if n_val + n_test >= n:
        with pytest.raises(ValueError, match="leave no training samples"):
            train_val_test_indices(y, val_size=val, test_size=test, stratify=stratify, seed=seed)
        return
    with ignore_small_class_warnings():
        tr, va, te = train_val_test_indices(y, val_size=val, test_size=test, stratify=stratify, seed=seed)
    assert (va.size, te.size) == (n_val, n_test)
    assert tr.size == n - n_val - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(n))
    if stratify:
        # hierarchical largest-remainder apportionment: each class is within 1 of its quota
        for c in np.unique(y):
            n_c = np.sum(y == c)
            t_c = np.sum(y[te] == c)
            v_c = np.sum(y[va] == c)
            assert abs(t_c - n_c * n_test / n) < 1
            assert abs(v_c - (n_c - t_c) * n_val / (n - n_test)) < 1


def test_split_returns_matching_rows_and_sizes(rng):
    X = np.arange(200).reshape(100, 2)
    y = np.repeat([0, 1, 2, 3], 25)
    Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val_size=0.1, test_size=0.2, seed=3)
    assert [len(a) for a in (Xtr, Xva, Xte)] == [70, 10, 20]
    for Xp, yp in ((Xtr, ytr), (Xva, yva), (Xte, yte)):
        np.testing.assert_array_equal(yp, y[Xp[:, 0] // 2])  # rows stay paired with their labels
    np.testing.assert_array_equal(np.bincount(yte), [5, 5, 5, 5])
    # val from the remaining 20 per class: 20 * 10 / 80 = 2.5 each -> two classes get 3, two get 2
    assert sorted(np.bincount(yva)) == [2, 2, 3, 3]


def test_split_counts_and_multidimensional_X():
    X = np.zeros((50, 4, 3))
    y = np.arange(50) % 2
    Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val_size=7, test_size=5, seed=0)
    assert Xtr.shape == (38, 4, 3) and Xva.shape == (7, 4, 3) and Xte.shape == (5, 4, 3)


def test_split_is_seeded_bit_for_bit(rng):
    X, y = rng.normal(size=(300, 3)), rng.integers(0, 3, 300)
    a = train_val_test_split(X, y, seed=42)
    b = train_val_test_split(X, y, seed=42)
    c = train_val_test_split(X, y, seed=43)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_split_generator_seed_is_used():
    y = np.arange(40) % 2
    a = train_val_test_indices(y, seed=np.random.default_rng(5))
    b = train_val_test_indices(y, seed=np.random.default_rng(5))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_split_float_targets_are_not_stratified(rng):
    y = rng.normal(size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr, va, te = train_val_test_indices(y, val_size=0.25, test_size=0.25, seed=1)
    assert (tr.size, va.size, te.size) == (20, 10, 10)


def test_split_string_labels_are_stratified():
    y = np.array(["cat"] * 30 + ["dog"] * 10)
    _, _, _, ytr, yva, yte = train_val_test_split(np.arange(40), y, val_size=0.25, test_size=0.25, seed=2)
    assert np.sum(yte == "dog") == 2 and np.sum(yte == "cat") == 8
    assert np.sum(yva == "dog") == 3 and np.sum(yva == "cat") == 7  # 7.5/2.5 quotas, tie -> earlier class


def test_split_warns_when_a_class_cannot_appear_in_the_test_part():
    y = np.array([0] * 20 + [1])
    with pytest.warns(
        UserWarning, match=r"train_val_test_split: class\(es\) \[1\] too small to appear in the test part"
    ):
        train_val_test_split(np.arange(21), y, val_size=0, test_size=0.2, seed=0)


def test_split_mnist_8000_1000_1000_is_stratified(mnist_test):
    X, y = mnist_test
    Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val_size=1000, test_size=1000, seed=0)
    assert (len(ytr), len(yva), len(yte)) == (8000, 1000, 1000)
    freq = np.bincount(y) / len(y)
    # test is within 1 of its quota; val and train also absorb the rounding of earlier parts
    for part, tol in ((yte, 1), (yva, 1.5), (ytr, 2)):
        assert np.all(np.abs(np.bincount(part, minlength=10) - freq * len(part)) < tol)
    assert Xtr.dtype == np.float32 and Xtr.shape == (8000, 784)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        (
            {"X": np.zeros((5, 2)), "y": np.zeros(4)},
            ValueError,
            "train_val_test_split: X and y must have the same length (got 5 and 4)",
        ),
        ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, ValueError, "train_val_test_split: X and y are empty"),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "val_size": 0.5, "test_size": 0.5},
            ValueError,
            "train_val_test_split: val_size and test_size leave no training samples (got 5 validation + 5 test samples out of 10)",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "val_size": 1.0},
            ValueError,
            "train_val_test_split: val_size must be < 1.0 (got 1.0)",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "test_size": -1},
            ValueError,
            "train_val_test_split: test_size must be >= 0 (got -1)",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "test_size": "10%"},
            TypeError,
            "train_val_test_split: test_size must be a float fraction or an int count (got str '10%')",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "test_size": True},
            TypeError,
            "train_val_test_split: test_size must be a float fraction or an int count",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "seed": 1.5},
            TypeError,
            "train_val_test_split: seed must be an integer (got float 1.5)",
        ),
        (
            {"X": np.zeros(10), "y": np.zeros(10), "stratify": "yes"},
            TypeError,
            "train_val_test_split: stratify must be a bool",
        ),
    ],
)
def test_split_bad_input(kwargs, exc, message):
    X, y = kwargs.pop("X"), kwargs.pop("y")
    with pytest.raises(exc, match=re.escape(message)):
        train_val_test_split(X, y, **kwargs)


# --------------------------------------------------------------------------- #
# kfold
# --------------------------------------------------------------------------- #


def _check_folds(folds, n, k):
    assert len(folds) == k
    val = [v for _, v in folds]
    np.testing.assert_array_equal(np.sort(np.concatenate(val)), np.arange(n))
    sizes = [v.size for v in val]
    assert max(sizes) - min(sizes) <= 1
    for tr, va in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.arange(n))
        assert np.intersect1d(tr, va).size == 0
        assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 150), k=st.integers(2, 12), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kfold_plain_partitions_indices(n, k, shuffle, seed):
    if k > n:
        with pytest.raises(
            ValueError, match=re.escape(f"kfold: k must be <= the number of samples (got k={k}, n={n})")
        ):
            kfold(n, k, seed=seed)
        return
    _check_folds(list(kfold(n, k, shuffle=shuffle, seed=seed)), n, k)


@settings(max_examples=60, deadline=None)
@given(y=labels_strategy, k=st.integers(2, 6), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kfold_stratified_spreads_each_class_evenly(y, k, shuffle, seed):
    y = np.array(y)
    if k > y.size:
        return
    with ignore_small_class_warnings():
        folds = list(kfold(y, k, shuffle=shuffle, seed=seed))
    _check_folds(folds, y.size, k)
    for c in np.unique(y):
        per_fold = [np.sum(y[v] == c) for _, v in folds]
        assert max(per_fold) - min(per_fold) <= 1


def test_kfold_unshuffled_matches_sklearn_kfold():
    from sklearn.model_selection import KFold

    for n, k in ((10, 3), (23, 5), (7, 7)):
        ours = list(kfold(n, k, shuffle=False))
        ref = list(KFold(n_splits=k).split(np.zeros(n)))
        for (a_tr, a_va), (b_tr, b_va) in zip(ours, ref):
            np.testing.assert_array_equal(a_tr, b_tr)
            np.testing.assert_array_equal(a_va, b_va)


def test_kfold_is_seeded_and_stratified_flag_can_be_turned_off(rng):
    y = rng.integers(0, 3, 60)
    a = [v for _, v in kfold(y, 4, seed=9)]
    b = [v for _, v in kfold(y, 4, seed=9)]
    c = [v for _, v in kfold(y, 4, seed=10)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    plain = [v for _, v in kfold(y, 4, stratified=False, seed=9)]
    same_as_count = [v for _, v in kfold(60, 4, seed=9)]
    assert all(np.array_equal(u, v) for u, v in zip(plain, same_as_count))


def test_kfold_warns_for_small_class():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.warns(
        UserWarning, match=r"kfold: the least populated class \(1\) has only 2 members, fewer than k=3"
    ):
        kfold(y, 3, seed=0)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "message"),
    [
        ((0,), {}, ValueError, "kfold: y_or_n must be >= 1 (got 0)"),
        ((np.array([]),), {}, ValueError, "kfold: y_or_n is empty"),
        ((10, 1), {}, ValueError, "kfold: k must be >= 2 (got 1)"),
        ((10, 2.0), {}, TypeError, "kfold: k must be an integer (got float 2.0)"),
        ((3, 4), {}, ValueError, "kfold: k must be <= the number of samples (got k=4, n=3)"),
        ((10,), {"shuffle": 1}, TypeError, "kfold: shuffle must be a bool (got int 1)"),
        ((10,), {"seed": "a"}, TypeError, "kfold: seed must be an integer"),
        ((2.5,), {}, TypeError, "kfold: y_or_n must be a sample count or an array of labels"),
    ],
)
def test_kfold_bad_input_raises_at_call_time(args, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        kfold(*args, **kwargs)  # not iterated: errors must not wait for the first fold


# --------------------------------------------------------------------------- #
# one_hot and StandardScaler
# --------------------------------------------------------------------------- #


def test_one_hot_matches_identity_rows():
    y = np.array([2, 0, 1, 2])
    Y = one_hot(y)
    np.testing.assert_array_equal(Y, np.eye(3)[y])
    assert Y.dtype == np.float64
    Y5 = one_hot(y.astype(float), n_classes=5, dtype=np.float32)
    assert Y5.shape == (4, 5) and Y5.dtype == np.float32
    np.testing.assert_array_equal(Y5.argmax(axis=1), y)
    np.testing.assert_array_equal(Y5.sum(axis=1), 1)


@pytest.mark.parametrize(
    ("y", "kwargs", "exc", "message"),
    [
        ([0, 3], {"n_classes": 3}, ValueError, "one_hot: y contains label 3, which is not < n_classes=3"),
        ([0, -1], {}, ValueError, "one_hot: y must hold labels >= 0 (got -1)"),
        ([0.5, 1.0], {}, ValueError, "one_hot: y must hold integer class labels (got non-integer values)"),
        ([0.0, np.nan], {}, ValueError, "one_hot: y contains NaN or infinite values"),
        (["a", "b"], {}, TypeError, "one_hot: y must hold integer class labels"),
        ([[0, 1]], {}, ValueError, "one_hot: y must be 1-D (got 2-D with shape (1, 2))"),
        ([], {}, ValueError, "one_hot: y is empty"),
        ([0, 1], {"n_classes": 0}, ValueError, "one_hot: n_classes must be >= 1 (got 0)"),
    ],
)
def test_one_hot_bad_input(y, kwargs, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        one_hot(np.array(y), **kwargs)


def test_standard_scaler_matches_sklearn(rng):
    from sklearn.preprocessing import StandardScaler as SkScaler

    X_train = rng.normal(3.0, 2.0, size=(200, 5))
    X_test = rng.normal(3.0, 2.0, size=(50, 5))
    ours = StandardScaler().fit(X_train)
    ref = SkScaler().fit(X_train)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X_test), ref.transform(X_test), rtol=1e-10, atol=1e-12)
    Z = ours.fit_transform(X_train)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, rtol=1e-12)


def test_standard_scaler_uses_training_statistics_only(rng):
    X_train = rng.normal(0, 1, size=(100, 2))
    X_test = X_train + 10.0  # shifted test data must not be re-centred
    s = StandardScaler().fit(X_train)
    np.testing.assert_allclose(s.transform(X_test).mean(axis=0), 10.0 / s.scale_, rtol=1e-10)


def test_standard_scaler_constant_columns_stay_finite():
    X = np.column_stack([np.full(10, 0.1), np.arange(10.0), np.zeros(10), np.full(10, 1e6)])
    s = StandardScaler().fit(X)
    Z = s.transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, [0, 2, 3]], 0.0)
    np.testing.assert_array_equal(s.scale_[[0, 2, 3]], 1.0)
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 30), st.integers(1, 6)),
    scale=st.floats(1e-3, 1e3),
)
def test_standard_scaler_inverse_roundtrip(seed, shape, scale):
    X = np.random.default_rng(seed).normal(0, scale, size=shape)
    s = StandardScaler().fit(X)
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X, rtol=1e-9, atol=1e-9 * scale)


def test_standard_scaler_keeps_float32():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    s = StandardScaler().fit(X)
    assert s.transform(X).dtype == np.float32
    assert s.transform(X.astype(np.int64)).dtype == np.float64


def test_standard_scaler_bad_input():
    with pytest.raises(
        RuntimeError,
        match=re.escape("StandardScaler.transform: the scaler is not fitted; call fit(X_train) first"),
    ):
        StandardScaler().transform(np.zeros((2, 2)))
    s = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(
        ValueError, match=re.escape("StandardScaler.transform: X must have 2 features as in fit (got 3)")
    ):
        s.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape("StandardScaler.fit: X contains NaN")):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(
        ValueError, match=re.escape("StandardScaler.fit: X must be 2-D (got 1-D with shape (3,))")
    ):
        StandardScaler().fit(np.zeros(3))
    with pytest.raises(ValueError, match=re.escape("StandardScaler.fit: X is empty")):
        StandardScaler().fit(np.zeros((0, 3)))
    with pytest.raises(TypeError, match=re.escape("StandardScaler.fit: X must be numeric")):
        StandardScaler().fit(np.array([["a"]]))


# --------------------------------------------------------------------------- #
# load_idx
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("code", sorted(IDX_TYPES))
@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_roundtrip_every_element_type(tmp_path, rng, code, compress):
    dtype = np.dtype(IDX_TYPES[code]).newbyteorder("=")
    if dtype.kind == "f":
        arr = rng.normal(size=(3, 4, 2)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        arr = rng.integers(info.min, info.max, size=(3, 4, 2), endpoint=True).astype(dtype)
    raw = idx_bytes(arr, code)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = load_idx(path)
    assert out.dtype == dtype and out.dtype.isnative
    assert out.shape == (3, 4, 2)
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 0  # writable
    assert load_idx(str(path)).shape == (3, 4, 2)


def test_load_idx_gzip_detected_by_content_and_known_values(tmp_path):
    arr = np.array([-2, 300, 7], dtype=np.int16)
    path = tmp_path / "plain-name-without-gz"
    path.write_bytes(gzip.compress(idx_bytes(arr, 0x0B)))
    np.testing.assert_array_equal(load_idx(path), [-2, 300, 7])
    # the header and payload are big-endian: 300 = 0x012C
    assert idx_bytes(arr, 0x0B)[-4:-2] == b"\x01\x2c"


def test_load_idx_empty_dimension(tmp_path):
    path = tmp_path / "empty.idx"
    path.write_bytes(idx_bytes(np.zeros((0, 5), dtype=np.uint8), 0x08))
    assert load_idx(path).shape == (0, 5)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda b: b[:-1],
            "is truncated: the header declares shape (4, 3) of int32 (48 bytes of data) but only 47 bytes follow",
        ),
        (
            lambda b: b[:10],
            "is truncated: the header declares 2 dimensions (8 bytes) but only 6 bytes follow the magic number",
        ),
        (
            lambda b: b + b"\x00",
            "has unexpected bytes after the 48 bytes of data declared by its header (shape (4, 3))",
        ),
        (lambda b: b"\x01" + b[1:], "is not an IDX file (magic number 0x01000C02; expected 0x0000TTDD"),
        (lambda b: b[:2] + b"\x07" + b[3:], "is not an IDX file (magic number 0x00000702"),
        (lambda b: b[:3] + b"\x00" + b[4:], "has an invalid IDX header (0 dimensions)"),
        (lambda b: b[:2], "is not an IDX file (only 2 bytes, no 4-byte magic number)"),
        (lambda b: b"%PDF-1.4 not an idx file at all", "is not an IDX file (magic number 0x25504446"),
    ],
)
def test_load_idx_rejects_bad_files(tmp_path, compress, mutate, message):
    good = idx_bytes(np.arange(12, dtype=np.int32).reshape(4, 3), 0x0C)
    bad = mutate(good)
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(bad) if compress else bad)
    with pytest.raises(ValueError, match=r"^load_idx: .*bad\.idx " + re.escape(message)):
        load_idx(path)


def test_load_idx_rejects_corrupt_gzip(tmp_path, rng):
    payload = idx_bytes(rng.integers(0, 256, size=(50, 50)).astype(np.uint8), 0x08)
    gz = gzip.compress(payload)
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(ValueError, match=r"load_idx: .*truncated\.gz is a corrupt or truncated gzip file"):
        load_idx(truncated)
    flipped = bytearray(gz)
    flipped[len(gz) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.gz"
    corrupt.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"load_idx: .*corrupt\.gz is a corrupt or truncated gzip file"):
        load_idx(corrupt)
    bad_crc = bytearray(gz)
    bad_crc[-8] ^= 0xFF  # CRC32 of the trailer
    crc = tmp_path / "crc.gz"
    crc.write_bytes(bytes(bad_crc))
    with pytest.raises(ValueError, match=r"load_idx: .*crc\.gz is a corrupt or truncated gzip file"):
        load_idx(crc)


def test_load_idx_huge_declared_size_fails_cleanly(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(
        bytes([0, 0, 0x0E, 3]) + np.array([100000, 100000, 100000], dtype=">u4").tobytes() + b"\x00" * 16
    )
    with pytest.raises(ValueError, match="is truncated: the header declares shape"):
        load_idx(path)


def test_load_idx_path_errors(tmp_path):
    with pytest.raises(TypeError, match=re.escape("load_idx: path must be a str or os.PathLike (got int 3)")):
        load_idx(3)
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "missing.idx")


# --------------------------------------------------------------------------- #
# load_mnist
# --------------------------------------------------------------------------- #


def test_load_mnist_real_test_set(mnist_test):
    X, y = mnist_test
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X * 255, np.round(X * 255), atol=1e-4)  # k/255 values
    # well-known MNIST test-set facts: the first digits and the class counts
    np.testing.assert_array_equal(y[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    np.testing.assert_array_equal(np.bincount(y), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])


def _write_mnist(directory: Path, prefix: str, n: int, *, gz: bool, n_labels: int | None = None) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=n_labels if n_labels is not None else n).astype(np.uint8)
    for name, arr, ndim in (("images", images, 3), ("labels", labels, 1)):
        raw = idx_bytes(arr, 0x08)
        path = directory / f"{prefix}-{name}-idx{ndim}-ubyte"
        if gz:
            Path(f"{path}.gz").write_bytes(gzip.compress(raw))
        else:
            path.write_bytes(raw)


def test_load_mnist_finds_raw_train_files(tmp_path):
    _write_mnist(tmp_path, "train", 6, gz=False)
    X, y = load_mnist(tmp_path)  # subset="train" by default
    assert X.shape == (6, 784) and X.dtype == np.float32 and y.dtype == np.int64
    images = load_idx(tmp_path / "train-images-idx3-ubyte")
    np.testing.assert_allclose(X, images.reshape(6, -1) / np.float32(255))
    np.testing.assert_array_equal(y, load_idx(tmp_path / "train-labels-idx1-ubyte"))


def test_load_mnist_errors(tmp_path):
    with pytest.raises(
        ValueError, match=re.escape("load_mnist: subset must be one of 'train', 'test' (got 'val')")
    ):
        load_mnist(tmp_path, subset="val")
    with pytest.raises(
        FileNotFoundError,
        match=re.escape("load_mnist: found neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz in"),
    ):
        load_mnist(tmp_path, subset="test")
    with pytest.raises(FileNotFoundError, match="load_mnist: directory .* does not exist"):
        load_mnist(tmp_path / "nope")
    _write_mnist(tmp_path, "t10k", 5, gz=True, n_labels=4)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "load_mnist: t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz hold different numbers of samples (5 and 4)"
        ),
    ):
        load_mnist(tmp_path, subset="test")


# --------------------------------------------------------------------------- #
# Synthetic data sets
# --------------------------------------------------------------------------- #

GENERATORS = [
    lambda seed: data.make_spiral(101, 3, seed=seed),
    lambda seed: data.make_xor(101, seed=seed),
    lambda seed: data.make_circles(101, seed=seed),
    lambda seed: data.make_blobs(101, 4, n_features=3, seed=seed),
    lambda seed: data.make_regression(101, 3, kind="nonlinear", seed=seed),
    lambda seed: data.make_regression(101, 2, seed=seed),
]


@pytest.mark.parametrize("make", GENERATORS)
def test_synthetic_sets_are_seeded(make):
    X1, y1 = make(7)
    X2, y2 = make(7)
    X3, _ = make(8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.dtype == np.float64 and X1.shape[0] == y1.shape[0] == 101


def test_make_spiral_geometry_and_learnability():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data.make_spiral(300, 3, noise=0.0, shuffle=False, seed=0)
    assert X.shape == (300, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[:100], np.arange(1, 101) / 100)  # radius t in (0, 1]
    theta = 2 * np.pi * 1.75 * r + 2 * np.pi * y / 3
    np.testing.assert_allclose(X, np.column_stack([r * np.cos(theta), r * np.sin(theta)]), atol=1e-12)
    Xn, yn = data.make_spiral(1000, 2, seed=1)
    knn = KNeighborsClassifier(5).fit(Xn[:800], yn[:800])
    assert knn.score(Xn[800:], yn[800:]) > 0.9  # the default noise keeps the arms apart
    lin = np.corrcoef(Xn[:, 0], yn)[0, 1], np.corrcoef(Xn[:, 1], yn)[0, 1]
    assert max(abs(c) for c in lin) < 0.3  # no single linear feature separates them


def test_make_xor_labels_follow_quadrants():
    X, y = data.make_xor(500, noise=0.0, seed=3)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int))
    assert np.all(np.abs(X) <= 1) and 200 < y.sum() < 300


def test_make_circles_radii():
    X, y = data.make_circles(201, noise=0.0, factor=0.3, seed=4)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert np.sum(y == 0) == 100 and np.sum(y == 1) == 101


def test_make_blobs_mixture():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, -10.0]])
    X, y = data.make_blobs(3000, centers, cluster_std=[0.5, 1.0, 2.0], seed=5)
    np.testing.assert_array_equal(np.bincount(y), [1000, 1000, 1000])
    for j, sd in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(X[y == j].mean(axis=0), centers[j], atol=4 * sd / np.sqrt(1000) * 1.5)
        np.testing.assert_allclose(X[y == j].std(axis=0), sd, rtol=0.1)
    Xr, yr = data.make_blobs(20, 2, n_features=5, center_box=(0.0, 1.0), cluster_std=0.0, seed=1)
    assert Xr.shape == (20, 5) and np.all((Xr >= 0) & (Xr <= 1))
    assert len(np.unique(Xr, axis=0)) == 2  # zero spread: every point on its centre


def test_make_regression_targets():
    w = np.array([2.0, -1.0, 0.5])
    X, y = data.make_regression(50, 3, noise=0.0, coef=w, seed=6)
    np.testing.assert_allclose(y, X @ w, rtol=1e-12)
    assert np.all(np.abs(X) <= 1)
    X, y = data.make_regression(40, 2, kind="nonlinear", noise=0.0, seed=7)
    np.testing.assert_allclose(y, np.sin(np.pi * X).sum(axis=1) + X[:, 0] * X[:, 1], rtol=1e-12)
    X, y = data.make_regression(4000, 2, noise=0.3, seed=8)
    coef, res, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert abs(np.sqrt(res[0] / 4000) - 0.3) < 0.02  # residual sd is the noise level


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: data.make_spiral(0), ValueError, "make_spiral: n_samples must be >= 1 (got 0)"),
        (lambda: data.make_spiral(10, 1), ValueError, "make_spiral: n_classes must be >= 2 (got 1)"),
        (
            lambda: data.make_spiral(3, 4),
            ValueError,
            "make_spiral: n_samples must be >= n_classes (got 3 and 4)",
        ),
        (
            lambda: data.make_spiral(10, noise=-0.1),
            ValueError,
            "make_spiral: noise must be >= 0.0 (got -0.1)",
        ),
        (
            lambda: data.make_spiral(10.0),
            TypeError,
            "make_spiral: n_samples must be an integer (got float 10.0)",
        ),
        (
            lambda: data.make_xor(10, noise=float("nan")),
            ValueError,
            "make_xor: noise must be finite (got nan)",
        ),
        (
            lambda: data.make_circles(10, factor=1.0),
            ValueError,
            "make_circles: factor must be < 1.0 (got 1.0)",
        ),
        (
            lambda: data.make_blobs(2, 3),
            ValueError,
            "make_blobs: n_samples must be >= the number of centers (got 2 and 3)",
        ),
        (
            lambda: data.make_blobs(9, 3, cluster_std=[1.0, 2.0]),
            ValueError,
            "make_blobs: cluster_std must be one value >= 0 or 3 such values",
        ),
        (
            lambda: data.make_regression(10, kind="cubic"),
            ValueError,
            "make_regression: kind must be one of 'linear', 'nonlinear' (got 'cubic')",
        ),
        (
            lambda: data.make_regression(10, 2, coef=[1.0]),
            ValueError,
            "make_regression: coef must have n_features=2 entries (got 1)",
        ),
        (
            lambda: data.make_regression(10, kind="nonlinear", coef=[1.0]),
            ValueError,
            "make_regression: coef is only used with kind='linear'",
        ),
    ],
)
def test_synthetic_bad_input(call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


def test_one_hot_and_make_blobs_name_out_of_range_arguments():
    """Labels beyond int64 wrapped to negative numbers in the cast; a center_box that is not a
    pair, or spans beyond float64, escaped as a bare TypeError / OverflowError."""
    from mlpcore.data import make_blobs, one_hot

    for call, error, message in [
        (lambda: one_hot([1e19], n_classes=3), ValueError, "one_hot: y contains label 1e+19, which is not < n_classes=3"),
        (lambda: one_hot(np.array([2**63 + 5], dtype=np.uint64)), ValueError, "one_hot needs labels below 2^31"),
        (lambda: make_blobs(10, 2, center_box=5), TypeError, "make_blobs: center_box must be a pair (low, high)"),
        (lambda: make_blobs(10, 2, center_box=(-1e308, 1e308)), ValueError, "center_box spans more than float64's"),
    ]:
        with pytest.raises(error, match=re.escape(message)):
            call()


def test_standard_scaler_columns_near_float64s_limit():
    """The variance of a column of +-1e300 overflowed: scale_ became inf and the column mapped to
    0. Now its statistics come from the column divided by a power of two (sklearn's values)."""
    from sklearn.preprocessing import StandardScaler as SkScaler

    from mlpcore.data import StandardScaler

    X = np.array([[1e300, 1.0], [-1e300, 2.0], [5e299, 3.0]])
    ours = StandardScaler().fit(X)
    reference = SkScaler().fit(X / [1e299, 1])  # the same data, in range
    np.testing.assert_allclose(ours.mean_, [5e299 / 3, 2.0], rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, reference.scale_ * [1e299, 1], rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X), reference.transform(X / [1e299, 1]), rtol=1e-12)


def test_the_too_small_classes_warning_names_at_most_eight():
    """With many singleton classes the warning listed all of them (1.6 KB lines)."""
    y = np.repeat(np.arange(40), [1] * 30 + [10] * 10)
    with pytest.warns(UserWarning, match=r"class\(es\) \[\d+(, \d+){7}\] and \d+ more too small to appear in the test part"):
        train_val_test_split(np.zeros((len(y), 1)), y, val_size=0, test_size=0.2, seed=0)


def test_a_single_column_of_labels_is_stratified_as_its_column():
    """scikit-learn stratifies an (n, 1) column; it used to be split at random."""
    y = np.array([0] * 90 + [1] * 10)
    for labels in (y, y[:, None]):
        _, val, test = train_val_test_indices(labels, seed=0)
        assert (y[val].sum(), y[test].sum()) == (1, 1)
        assert [int(y[v].sum()) for _, v in data.kfold(labels, 5, seed=0)] == [2] * 5
    Xs = np.arange(100.0)[:, None]
    *_, y_val, y_test = data.train_val_test_split(Xs, y[:, None], seed=0)
    assert (int(y_val.sum()), int(y_test.sum())) == (1, 1)


def test_object_labels_stratify_by_kind_and_a_mix_is_named():
    """Object arrays of bools or of integers of any size are classes; of reals, targets; a mix
    (or None) is refused by name instead of numpy's bare '<' TypeError."""
    for y in (np.array([True] * 90 + [False] * 10, dtype=object), np.array([2**70] * 90 + [1] * 10, dtype=object)):
        test = train_val_test_indices(y, val_size=0, test_size=0.2, seed=0)[2]
        assert sum(y[i] == y[-1] for i in test) == 2  # 20% of the 10 rare ones
    reals = np.array([0.5, 1.5] * 5, dtype=object)
    assert len(train_val_test_indices(reals, seed=0)[2]) == 1
    for mixed in (np.array(["a", 1] * 5, dtype=object), np.array([0, 1, None] * 4, dtype=object)):
        with pytest.raises(TypeError, match="train_val_test_indices: y_or_n must hold class labels of one kind"):
            train_val_test_indices(mixed)
        with pytest.raises(TypeError, match="kfold: y_or_n must hold class labels of one kind"):
            data.kfold(mixed)


def test_standard_scaler_scales_tiny_columns():
    """Values of 1e-200 vary (their std underflowed to 0, so the column counted as constant)."""
    scaler = data.StandardScaler()
    np.testing.assert_array_equal(scaler.fit_transform(np.array([[1e-200], [-1e-200]])), [[1.0], [-1.0]])
    assert scaler.scale_[0] == 1e-200
    np.testing.assert_array_equal(data.StandardScaler().fit_transform(np.full((3, 1), 0.1)), 0.0)


def test_make_blobs_refuses_a_conflicting_n_features():
    with pytest.raises(ValueError, match=r"make_blobs: n_features=2 does not match the centers' width 3"):
        data.make_blobs(10, np.zeros((2, 3)), n_features=2)
    assert data.make_blobs(10, np.zeros((2, 3)))[0].shape == (10, 3)
    assert data.make_blobs(10, np.zeros((2, 3)), n_features=3)[0].shape == (10, 3)
    assert data.make_blobs(10, 2, seed=0)[0].shape == (10, 2)
