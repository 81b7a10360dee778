"""Training on inputs that are mostly zeros (MNIST-like): the first layer's index-list path.

Inputs at least 64 wide, into a first layer of at least 32 units, with at most 25% non-zeros
skip the zeros in the first layer's forward product and weight gradient
(csrc/core/sparse_input.*). These tests check that path against a float64 numpy reference,
against the dense GEMM path (the same data with the zeros nudged to 1e-30, which never takes
it), on every SIMD level, with blocks of a chunk that choose differently, and for bit-identical
results across thread counts.
"""

from __future__ import annotations

import mlpcore
import numpy as np
import pytest
from _helpers import assert_bitwise_equal, num_threads, simd_level
from hypothesis import given, settings
from hypothesis import strategies as st


def sparse_data(rng: np.random.Generator, n: int, d: int, density: float, dtype=np.float32) -> np.ndarray:
    X = rng.uniform(0.1, 1.0, (n, d)) * (rng.random((n, d)) < density)
    return np.ascontiguousarray(X, dtype=dtype)


def numpy_loss_and_grads(model: mlpcore.MLP, X: np.ndarray, y: np.ndarray):
    """Float64 forward and backward of a one-hidden-layer relu MLP with softmax cross-entropy."""
    (W1, b1), (W2, b2) = [(W.astype(np.float64), b.astype(np.float64)) for W, b in model.get_weights()]
    x = X.astype(np.float64)
    z1 = x @ W1 + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ W2 + b2
    z2 -= z2.max(axis=1, keepdims=True)
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    n = len(x)
    loss = -np.log(p[np.arange(n), y]).mean()
    d2 = p.copy()
    d2[np.arange(n), y] -= 1
    d2 /= n
    d1 = (d2 @ W2.T) * (z1 > 0)
    return loss, [(x.T @ d1, d1.sum(0)), (a1.T @ d2, d2.sum(0))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "d", "hidden", "density"), [
    (1, 64, 32, 0.1), (5, 64, 33, 0.0), (33, 100, 47, 0.05), (257, 784, 100, 0.19), (300, 130, 129, 0.22), (90, 130, 64, 0.3),
    (64, 784, 300, 0.02), (70, 97, 7, 0.25), (40, 300, 16, 0.1),
    (300, 5000, 40, 0.01),  # chunks over 2**20 cells: column lists counted and packed
])
def test_loss_and_gradients_equal_a_float64_reference(n, d, hidden, density, dtype):
    rng = np.random.default_rng(n * 1000 + d)
    X = sparse_data(rng, n, d, density, dtype)
    y = rng.integers(0, 3, n)
    model = mlpcore.MLP([d, hidden, 3], seed=1, dtype=dtype)
    loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol, abs=tol)
    for (dW, db), (rW, rb) in zip(grads, ref_grads):
        scale = max(np.abs(rW).max(), np.abs(rb).max(), 1e-30)
        np.testing.assert_allclose(dW, rW, rtol=0, atol=tol * scale)
        np.testing.assert_allclose(db, rb, rtol=0, atol=tol * scale)


def train(X, y, *, layers, optimizer, epochs=2, batch_size=50, threads=None, **fit_kw):
    model = mlpcore.MLP(layers, seed=3, dtype=X.dtype)
    if threads is None:
        mlpcore.fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=5, verbose=False, **fit_kw)
    else:
        with num_threads(threads):
            mlpcore.fit(model, X, y, optimizer=optimizer, epochs=epochs, batch_size=batch_size, seed=5, verbose=False,
                        **fit_kw)
    return model


def mixed_data(rng: np.random.Generator, n: int = 400, d: int = 200) -> np.ndarray:
    """Sparse rows, with a dense row every seventh: shuffled batches then mix blocks that take
    the index lists with blocks that take the GEMM, and chunks of either kind."""
    X = sparse_data(rng, n, d, 0.08)
    X[::7] = rng.uniform(-1, 1, (len(X[::7]), d))
    return X


@pytest.mark.parametrize("data", ["sparse", "mixed"])
# lr=0.02: at 0.1, SGD on single dense rows diverges to weights of 1e9, where any two valid
# summation orders drift apart.
@pytest.mark.parametrize("optimizer", [mlpcore.SGD(lr=0.02, momentum=0.9, weight_decay=1e-3), mlpcore.Adam(lr=0.01)])
@pytest.mark.parametrize("batch_size", [1, 37, 128, 300])
def test_training_matches_the_dense_path(data, optimizer, batch_size):
    rng = np.random.default_rng(7)
    X = sparse_data(rng, 400, 200, 0.1) if data == "sparse" else mixed_data(rng)
    y = rng.integers(0, 4, len(X))
    dense = X + np.float32(1e-30) * (X == 0)  # no exact zeros: always the GEMM
    assert (dense != 0).all()
    ours = train(X, y, layers=[200, 45, 4], optimizer=optimizer, batch_size=batch_size)
    ref = train(dense, y, layers=[200, 45, 4], optimizer=optimizer, batch_size=batch_size)
    for (W, b), (rW, rb) in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(W, rW, rtol=0, atol=2e-4 * np.abs(rW).max())
        np.testing.assert_allclose(b, rb, rtol=0, atol=2e-4 * max(np.abs(rb).max(), 1e-3))


@pytest.mark.parametrize("data", ["sparse", "mixed"])
def test_bit_identical_for_any_thread_count(data):
    rng = np.random.default_rng(11)
    X = sparse_data(rng, 600, 784, 0.19) if data == "sparse" else mixed_data(rng, 600, 784)
    y = rng.integers(0, 10, len(X))
    runs = [train(X, y, layers=[784, 100, 10], optimizer=mlpcore.Adam(), batch_size=200, threads=t,
                  validation_split=0.1) for t in (1, 2, 3)]
    for other in runs[1:]:
        for (W, b), (W1, b1) in zip(runs[0].get_weights(), other.get_weights()):
            assert_bitwise_equal(W1, W, "W")
            assert_bitwise_equal(b1, b, "b")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
# Units past the last whole vector: none, a half vector's worth or fewer (a half-width tail
# vector), more (an overlapping whole one), for every level's float and double widths.
@pytest.mark.parametrize("hidden", [32, 36, 37, 45])
def test_every_simd_level_matches_the_reference(level, dtype, hidden):
    rng = np.random.default_rng(3)
    X = sparse_data(rng, 90, 150, 0.15, dtype)
    X[5, :] = 0.0  # an all-zero row
    X[6, 3] = -0.0  # negative zero counts as zero
    y = rng.integers(0, 3, 90)
    with simd_level(level):
        model = mlpcore.MLP([150, hidden, 3], seed=2, dtype=dtype)
        loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    assert loss == pytest.approx(ref_loss, rel=tol)
    for (dW, _), (rW, _) in zip(grads, ref_grads):
        np.testing.assert_allclose(dW, rW, rtol=0, atol=tol * np.abs(rW).max())


def test_input_noise_and_dropout_with_sparse_inputs_are_deterministic():
    rng = np.random.default_rng(5)
    X = sparse_data(rng, 300, 100, 0.1)
    y = rng.integers(0, 2, 300)
    runs = []
    for threads in (1, 2):
        model = mlpcore.MLP([100, 30, 2], seed=0, dropout=0.2, input_noise=0.1)
        with num_threads(threads):
            mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.05), epochs=2, batch_size=64, seed=1, verbose=False)
        runs.append(model.get_weights())
    for (W, b), (W1, b1) in zip(*runs):
        assert_bitwise_equal(W1, W, "W")
        assert_bitwise_equal(b1, b, "b")


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), d=st.integers(64, 260), hidden=st.integers(32, 140),
       density=st.sampled_from([0.0, 0.01, 0.1, 0.3]), seed=st.integers(0, 2**16))
def test_property_gradients_match_the_reference(n, d, hidden, density, seed):
    rng = np.random.default_rng(seed)
    X = sparse_data(rng, n, d, density, np.float64)
    y = rng.integers(0, 3, n)
    model = mlpcore.MLP([d, hidden, 3], seed=seed, dtype=np.float64)
    loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-11, abs=1e-12)
    for (dW, db), (rW, rb) in zip(grads, ref_grads):
        scale = max(np.abs(rW).max(), np.abs(rb).max(), 1e-30)
        np.testing.assert_allclose(dW, rW, rtol=0, atol=1e-11 * scale)


# The non-zeros of a whole input array, listed once per fit (Network.input_index) -----------------


def epochs_through_the_core(X, y, *, layers, optimizer, index, rows=None, batch_size=50, shuffle=True, epochs=3,
                            dropout=0.0, threads=None):
    """Params and optimiser state after ``epochs`` of ``train_epoch``, with or without the index."""
    from mlpcore._epochs import EpochRunner

    model = mlpcore.MLP(layers, seed=3, dtype=X.dtype, dropout=dropout)
    runner = EpochRunner(model, optimizer)
    nonzeros = runner.input_index(X) if index else None
    assert (nonzeros is not None) == index
    labels = np.asarray(y, dtype=np.int32)
    with num_threads(threads or mlpcore.get_num_threads()):
        for epoch in range(epochs):
            runner.run(X, labels, None, rows, nonzeros=nonzeros, batch_size=batch_size, shuffle=shuffle, seed=5,
                       epoch=epoch, lr=optimizer.lr)
    return [a for a in (model._params, runner.first_moment, runner.second_moment) if a is not None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", [mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3), mlpcore.Adam(lr=0.01, l1=1e-4)],
                         ids=["sgd", "adam"])
@pytest.mark.parametrize(("data", "batch_size", "shuffle", "subset", "dropout"), [
    ("sparse", 50, True, False, 0.0), ("sparse", 300, True, True, 0.0), ("mixed", 64, True, True, 0.3),
    ("mixed", 400, False, False, 0.0), ("sparse", 1, False, True, 0.0),
])
def test_the_index_gives_the_same_bits_as_finding_the_zeros_every_batch(dtype, optimizer, data, batch_size, shuffle,
                                                                          subset, dropout):
    rng = np.random.default_rng(11)
    X = (sparse_data(rng, 400, 200, 0.1) if data == "sparse" else mixed_data(rng)).astype(dtype)
    y = rng.integers(0, 4, len(X))
    rows = np.sort(rng.choice(len(X), 250, replace=False)).astype(np.int64) if subset else None
    kw = dict(layers=[200, 48, 4], optimizer=optimizer, rows=rows, batch_size=batch_size, shuffle=shuffle,
              dropout=dropout, epochs=1 if batch_size == 1 else 3)
    for without, with_index in zip(epochs_through_the_core(X, y, index=False, **kw),
                                   epochs_through_the_core(X, y, index=True, **kw)):
        assert_bitwise_equal(with_index, without)


@pytest.mark.parametrize(("data", "dropout", "optimizer"), [
    ("sparse", 0.0, mlpcore.Adam(lr=0.01)), ("sparse", 0.3, mlpcore.Adam(lr=0.01)),
    ("sparse", 0.0, mlpcore.SGD(lr=0.05, momentum=0.9, weight_decay=1e-3)), ("mixed", 0.0, mlpcore.Adam(lr=0.01)),
])
def test_the_index_gives_the_same_bits_for_any_thread_count(data, dropout, optimizer):
    # "sparse": every block takes the lists, so with two or more threads the first layer's two
    # column parts are summed in a pool run of their own (one thread each, rows split further
    # for four), and with exactly two the next batch's forward and backward pass start in this
    # batch's gradient run (the last batch, 190 rows, has none); "mixed": some blocks take the
    # GEMM, and the blocks sum both parts themselves.
    rng = np.random.default_rng(12)
    X = sparse_data(rng, 590, 300, 0.1) if data == "sparse" else mixed_data(rng, 590, 300)
    y = rng.integers(0, 3, len(X))
    kw = dict(layers=[300, 64, 3], optimizer=optimizer, batch_size=200, dropout=dropout)
    one = epochs_through_the_core(X, y, threads=1, index=True, **kw)
    for threads, index in ((2, True), (3, True), (4, True), (2, False)):
        for a, b in zip(one, epochs_through_the_core(X, y, threads=threads, index=index, **kw)):
            assert_bitwise_equal(b, a)


@pytest.mark.parametrize("d", [64, 65, 201])
def test_the_first_layer_parts_meet_at_half_the_width(d):
    """Z_0 = b + (P_0 + P_1), P_0 over columns [0, d // 2), P_1 over the rest: rows with entries
    on one side only, at the cut itself, or none, give the float64 reference, and training
    gives the same bits whether the parts are summed by the blocks or by a run of their own."""
    rng = np.random.default_rng(d)
    X = sparse_data(rng, 120, d, 0.1)
    cut = d // 2
    X[0, cut:] = 0.0             # below the cut only
    X[1, :cut] = 0.0             # at and above it only
    X[2, :] = 0.0                # nothing
    X[3, :] = 0.0
    X[3, cut] = 0.7              # exactly at the cut
    X[4, :] = 0.0
    X[4, cut - 1] = -0.3         # just below it
    y = rng.integers(0, 3, len(X))
    model = mlpcore.MLP([d, 40, 3], seed=4)
    loss, grads = model.loss_and_grads(X, y)
    ref_loss, ref_grads = numpy_loss_and_grads(model, X, y)
    assert loss == pytest.approx(ref_loss, rel=2e-5)
    for (dW, db), (rW, rb) in zip(grads, ref_grads):
        scale = max(np.abs(rW).max(), np.abs(rb).max())
        np.testing.assert_allclose(dW, rW, rtol=0, atol=2e-5 * scale)
        np.testing.assert_allclose(db, rb, rtol=0, atol=2e-5 * scale)
    kw = dict(layers=[d, 40, 3], optimizer=mlpcore.Adam(lr=0.01), batch_size=60)
    by_blocks = epochs_through_the_core(X, y, threads=1, index=True, **kw)
    for a, b in zip(by_blocks, epochs_through_the_core(X, y, threads=2, index=True, **kw)):
        assert_bitwise_equal(b, a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_index_counts_the_non_zeros_and_is_only_made_where_it_is_used(dtype):
    rng = np.random.default_rng(13)
    X = sparse_data(rng, 130, 100, 0.2, dtype)
    X[3, :50] = -0.0  # negative zero is a zero, as in the per-batch scan
    net = mlpcore.MLP([100, 32, 2], dtype=dtype)._net
    index = net.input_index(X)
    assert index.nonzeros == np.count_nonzero(X)
    assert index.shape == X.shape
    # Too narrow a first layer or input for the sparse path: no index.
    assert mlpcore.MLP([100, 31, 2], dtype=dtype)._net.input_index(X) is None
    assert mlpcore.MLP([63, 40, 2], dtype=dtype)._net.input_index(np.ascontiguousarray(X[:, :63])) is None
    # Denser than the sparse path's limit (25%): listing would cost memory and save nothing.
    dense = sparse_data(rng, 130, 100, 0.5, dtype)
    assert net.input_index(dense) is None
    # Lists over 16 MiB (2M float32 non-zeros): training keeps no such copy of the data.
    big = sparse_data(rng, 100_000, 100, 0.22, np.float32)
    assert mlpcore.MLP([100, 32, 2])._net.input_index(big) is None
    assert mlpcore.MLP([100, 32, 2])._net.input_index(np.ascontiguousarray(big[:80_000])) is not None
    # Dense data are refused from a sample of 64 evenly spaced rows, before any list is written
    # (otherwise 16 MiB of lists were filled first); the sample only refuses data it puts at
    # twice the budget (25% of the cells, at most 2M entries) or more; the listing decides the
    # rest exactly.
    rows = 30_000
    every = np.arange(64) * rows // 64
    sampled_dense = np.zeros((rows, 100), dtype=np.float32)
    sampled_dense[every] = 1.0  # the sample says 3M entries, the data hold 6,400
    assert mlpcore.MLP([100, 32, 2])._net.input_index(sampled_dense) is None
    sampled_sparse = np.ones((rows, 100), dtype=np.float32)
    sampled_sparse[every] = 0.0  # the sample says none, the data hold 3M entries: listed, then refused
    assert mlpcore.MLP([100, 32, 2])._net.input_index(sampled_sparse) is None
    sampled_sparse[64:] = 0.0  # 6,336 entries: listed
    index = mlpcore.MLP([100, 32, 2])._net.input_index(sampled_sparse)
    assert index is not None and index.nonzeros == np.count_nonzero(sampled_sparse)
    # No rows: nothing to list, and training on them is refused elsewhere.
    assert net.input_index(np.zeros((0, 100), dtype=dtype)) is not None
    # Input noise makes every input non-zero: fit's runner does not list them.
    from mlpcore._epochs import EpochRunner

    noisy = mlpcore.MLP([100, 32, 2], dtype=dtype, input_noise=0.1)
    assert EpochRunner(noisy, mlpcore.SGD(lr=0.1)).input_index(X) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_index_built_on_any_thread_count_trains_to_the_same_bits(dtype):
    """Each thread lists its rows into a region of its own (one scan over the data): the index
    built on 1-4 threads holds the same rows, counts and finiteness, and trains to the same bits."""
    from mlpcore._epochs import EpochRunner

    rng = np.random.default_rng(15)
    X = sparse_data(rng, 700, 200, 0.12, dtype)  # 700 / 64: up to 10 threads would list
    X[5] = 0.0        # an empty row
    X[699, :] = 0.0   # an empty last row
    X[698, 100] = 1.5  # one entry, at the first layer's cut
    y = rng.integers(0, 4, len(X))
    results = []
    for threads in (1, 2, 3, 4):
        model = mlpcore.MLP([200, 48, 4], seed=3, dtype=dtype)
        runner = EpochRunner(model, mlpcore.Adam(lr=0.01))
        with num_threads(threads):
            index = runner.input_index(X)
        assert index.nonzeros == np.count_nonzero(X) and index.finite
        for epoch in range(2):
            runner.run(X, y.astype(np.int32), None, None, nonzeros=index, batch_size=50, shuffle=True, seed=5,
                       epoch=epoch, lr=0.01)
        results.append(model._params.copy())
    for other in results[1:]:
        assert_bitwise_equal(other, results[0])
    for threads in (1, 2, 3):  # a NaN in any thread's rows, and an input over budget after it
        Xb = X.copy()
        Xb[[0, 350, 699][threads - 1], 7] = np.nan
        with num_threads(threads):
            assert not mlpcore.MLP([200, 48, 4], dtype=dtype)._net.input_index(Xb).finite
            assert mlpcore.MLP([200, 48, 4], dtype=dtype)._net.input_index(sparse_data(rng, 300, 200, 0.5, dtype)) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_index_reusing_a_freed_index_memory_lists_its_own_rows(dtype):
    """A freed index hands its list memory to the next one (no fresh pages every fit): the next
    index, smaller or larger, must list exactly its own data."""
    import gc

    rng = np.random.default_rng(14)
    kw = dict(layers=[200, 48, 4], optimizer=mlpcore.Adam(lr=0.01), batch_size=50, epochs=2)
    for n, density in ((600, 0.2), (150, 0.05), (900, 0.15)):  # shrink, then grow past the spare
        X = sparse_data(rng, n, 200, density, dtype)
        y = rng.integers(0, 4, n)
        with_index = epochs_through_the_core(X, y, index=True, **kw)
        gc.collect()  # the index is freed: the next one reuses its memory
        for a, b in zip(epochs_through_the_core(X, y, index=False, **kw), with_index):
            assert_bitwise_equal(b, a)


def test_input_index_validates_its_input():
    net = mlpcore.MLP([100, 32, 2])._net
    with pytest.raises(TypeError, match="X"):
        net.input_index(np.zeros((4, 100), dtype=np.int32))
    with pytest.raises(ValueError, match="100 columns"):
        net.input_index(np.zeros((4, 99), dtype=np.float32))
    with pytest.raises(ValueError, match="2-D"):
        net.input_index(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        net.input_index(np.zeros((100, 8), dtype=np.float32).T)


def test_train_epoch_refuses_an_index_of_other_inputs():
    rng = np.random.default_rng(14)
    X = sparse_data(rng, 80, 100, 0.1)
    model = mlpcore.MLP([100, 32, 2])
    net, params = model._net, model._params
    labels = rng.integers(0, 2, len(X)).astype(np.int32)
    common = dict(batch_size=10, shuffle=True, seed=0, epoch=0, lr=0.1)
    others = [net.input_index(X.copy()),                              # equal values, other memory
              net.input_index(np.ascontiguousarray(X[:40])),         # fewer rows
              mlpcore.MLP([100, 32, 2], dtype=np.float64)._net.input_index(X.astype(np.float64))]
    for other in others:
        before = params.copy()
        with pytest.raises(ValueError, match="nonzeros must be the input_index of this X"):
            net.train_epoch(params, None, None, X, labels, None, None, nonzeros=other, **common)
        assert_bitwise_equal(params, before)
    with pytest.raises(TypeError):
        net.train_epoch(params, None, None, X, labels, None, None, nonzeros="index", **common)
    # The index keeps its X alive: dropping every other reference is safe.
    index = net.input_index(X)
    kept = X
    del X
    net.train_epoch(params, None, None, kept, labels, None, None, nonzeros=index, **common)
    assert np.isfinite(params).all()


# Prediction takes the same path -----------------------------------------------------------------


def numpy_forward(model: mlpcore.MLP, X: np.ndarray) -> np.ndarray:
    """Float64 softmax outputs of a relu MLP."""
    a = X.astype(np.float64)
    weights = model.get_weights()
    for i, (W, b) in enumerate(weights):
        a = a @ W.astype(np.float64) + b.astype(np.float64)
        if i + 1 < len(weights):
            a = np.maximum(a, 0)
    a -= a.max(axis=1, keepdims=True)
    return np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("level", mlpcore.supported_simd_levels())
@pytest.mark.parametrize(("n", "d", "hidden"), [(1, 64, 32), (37, 130, 33), (600, 200, 100), (300, 97, [64, 20])])
def test_predict_on_sparse_rows_equals_a_float64_reference_and_is_row_independent(n, d, hidden, level, dtype):
    """Blocks of sparse rows take the index lists, the dense rows every seventh the GEMM; a
    row's prediction does not depend on the rows predicted with it beyond float64 rounding."""
    rng = np.random.default_rng(n + d)
    X = mixed_data(rng, n, d).astype(dtype)
    X[0, :] = 0.0
    sizes = [d, *(hidden if isinstance(hidden, list) else [hidden]), 4]
    with simd_level(level):
        model = mlpcore.MLP(sizes, seed=2, dtype=dtype)
        out = model.predict_proba(X)
        singles = np.concatenate([model.predict_proba(X[i:i + 1]) for i in range(0, n, max(1, n // 23))])
    ref = numpy_forward(model, X)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)
    np.testing.assert_allclose(singles, out[::max(1, n // 23)], rtol=0, atol=tol)


def test_estimator_predictions_are_subset_invariant_on_sparse_rows():
    """scikit-learn's subset-invariance (1e-7) on data that mixes sparse and dense blocks."""
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(21)
    X = mixed_data(rng, 300, 150)
    y = rng.integers(0, 3, len(X))
    clf = mlpcore.MLPClassifier((40,), max_iter=30, tol=1.0, random_state=0).fit(X, y)  # stops by tol
    whole = clf.predict_proba(X)
    for batch in (1, 7, 64, 299):
        parts = np.concatenate([clf.predict_proba(X[i:i + batch]) for i in range(0, len(X), batch)])
        np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-14)


def test_wide_sparse_inputs_take_memory_for_their_non_zeros_not_their_width():
    """A 20,000-wide input with 60 non-zeros a row: the index lists of a chunk used to take
    room for every cell (89 MiB of peak memory for a fit); now what they touch follows the
    non-zeros. Measured in a fresh process (peak RSS)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import resource, numpy as np, mlpcore
        rng = np.random.default_rng(0)
        n, d = 512, 20000
        X = np.zeros((n, d), dtype=np.float32)
        for i in range(n):
            X[i, rng.choice(d, 60, replace=False)] = rng.random(60).astype(np.float32) + 0.1
        y = rng.integers(0, 2, n)
        model = mlpcore.MLP([d, 32, 2], seed=0)
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        before = peak()
        history = mlpcore.fit(model, X, y, optimizer=mlpcore.Adam(), epochs=2, batch_size=256, verbose=False)
        model.loss_and_grads(X[:300], y[:300])
        model.predict_proba(X)
        print(peak() - before, history.train_loss[-1] < history.train_loss[0])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    growth, learned = out.stdout.split()
    # Parameters, gradient and Adam's moments are 4 x 2.4 MiB; the dense chunk of 256 rows
    # alone would be 20 MiB, every list slot of the old layout 80 MiB.
    assert float(growth) < 30, out.stdout
    assert learned == "True"


def test_a_callback_that_changes_the_inputs_in_place_is_seen_by_the_next_epoch():
    """fit lists the inputs' non-zeros once per call, but not when callbacks could change X in
    place between epochs: here X becomes all zeros after the first epoch, so plain SGD leaves
    W_0 exactly as it was (dW_0 = X^T D = 0); stale lists would have kept moving it."""
    rng = np.random.default_rng(31)
    X = sparse_data(rng, 300, 100, 0.1)
    y = rng.integers(0, 3, len(X))
    model = mlpcore.MLP([100, 40, 3], seed=0)
    kept = {}

    def zero_inputs(epoch, history):
        if epoch == 0:
            X[...] = 0.0
            kept["W0"] = model.get_weights()[0][0].copy()

    mlpcore.fit(model, X, y, optimizer=mlpcore.SGD(lr=0.5), epochs=2, batch_size=50, callbacks=[zero_inputs], verbose=False)
    assert_bitwise_equal(model.get_weights()[0][0], kept["W0"], "W0 after an epoch on zero inputs")
