"""mlpcore.experiments: row schema and order, every figure recomputed from an independent
``mlpcore.fit`` run with the same seeds (losses also against float64 numpy, R² against
scikit-learn), the capacity effect on the spiral, grid order against itertools / scikit-learn's
ParameterGrid, learning curves against History, identical tables sequentially, with loky
workers and on a local Dask cluster, the plain loop without joblib, pandas, and bad input.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
from _helpers import misaligned_copy

import mlpcore
from mlpcore import experiments as ex
from mlpcore.data import train_val_test_split

FIGURES = ["train_loss", "val_loss", "test_loss", "train_score", "val_score", "test_score"]
TAIL = [*FIGURES, "epochs", "seconds"]
SPLIT_SEED = 5
# Small and fast: 240 points, a few dozen epochs (a trial takes milliseconds).
FAST = {"epochs": 20, "lr": 0.1, "momentum": 0.9, "batch_size": 32}


@pytest.fixture(scope="module")
def spiral() -> tuple[np.ndarray, np.ndarray]:
    return mlpcore.data.make_spiral(240, turns=1.0, seed=3)


@pytest.fixture(scope="module")
def regression() -> tuple[np.ndarray, np.ndarray]:
    return mlpcore.data.make_regression(240, 2, kind="nonlinear", noise=0.1, seed=4)


def without_seconds(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def manual_fit(X_train, y_train, X_val, y_val, *, hidden, seed, n_out=2, output="softmax", epochs=20,
               lr=0.1, momentum=0.9, batch_size=32, weight_decay=0.0, dropout=0.0, early_stopping=None,
               callbacks=None, loss=None, dtype="float32"):
    """One trial with the plain API, as the experiments module documents it."""
    model = mlpcore.MLP([X_train.shape[1], *hidden, n_out], activation="relu", output=output, loss=loss,
                        dropout=dropout, seed=seed, dtype=dtype)
    optimizer = mlpcore.SGD(lr=lr, momentum=momentum, weight_decay=weight_decay)
    history = mlpcore.fit(model, X_train, y_train, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                          validation_data=(X_val, y_val), early_stopping=early_stopping, seed=seed,
                          verbose=False, callbacks=callbacks)
    return model, history


def cross_entropy(model: mlpcore.MLP, X, y) -> float:
    """Mean −log p_y in float64 from the model's probabilities."""
    p = model.predict_proba(X).astype(np.float64)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


# --------------------------------------------------------------------------- #
# capacity_sweep
# --------------------------------------------------------------------------- #


def test_capacity_rows_have_the_schema_and_order(spiral):
    X, y = spiral
    rows = ex.capacity_sweep(X, y, [3, (6, 4), ()], seeds=[7, 2], **FAST)
    assert [(r["hidden"], r["seed"]) for r in rows] == [
        (3, 7), (3, 2), ((6, 4), 7), ((6, 4), 2), ((), 7), ((), 2)
    ]
    for row in rows:
        assert list(row) == ["hidden", "seed", *TAIL]
        assert isinstance(row["test_loss"], float) and 0.0 <= row["test_score"] <= 1.0  # a test part by default
        for key in ("train_loss", "val_loss", "train_score", "val_score", "seconds"):
            assert isinstance(row[key], float) and np.isfinite(row[key])
        assert 0.0 <= row["train_score"] <= 1.0 and 0.0 <= row["val_score"] <= 1.0
        assert row["epochs"] == FAST["epochs"] and row["seconds"] > 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_capacity_row_equals_an_independent_fit(spiral, dtype):
    X, y = spiral
    rows = ex.capacity_sweep(X, y, [3, [6, 4]], seeds=[7, 11], val_size=0.2, test_size=0.2, seed=SPLIT_SEED,
                             dtype=dtype, **FAST)
    row = rows[3]
    assert (row["hidden"], row["seed"]) == ((6, 4), 11)  # a list entry comes back as a tuple
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=SPLIT_SEED)
    model, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(6, 4), seed=11, dtype=dtype)
    # Same seeds, same weights: the validation figures are fit's own, bit for bit.
    assert row["val_loss"] == history.val_loss[-1]
    assert row["val_score"] == history.val_accuracy[-1]
    assert row["epochs"] == history.epochs == FAST["epochs"]
    assert row["train_score"] == mlpcore.metrics.accuracy(y_tr, model.predict(X_tr))
    assert row["test_score"] == mlpcore.metrics.accuracy(y_te, model.predict(X_te))
    # The C++ loss against float64 numpy on the model's probabilities (float32: to rounding).
    rel = 1e-5 if dtype == "float32" else 1e-12
    assert row["train_loss"] == pytest.approx(cross_entropy(model, X_tr, y_tr), rel=rel)
    assert row["test_loss"] == pytest.approx(cross_entropy(model, X_te, y_te), rel=rel)
    assert row["val_loss"] == pytest.approx(cross_entropy(model, X_va, y_va), rel=rel)


def test_more_hidden_units_fit_the_spiral_better():
    # One turn, 300 points: 20 relu units fit the training set (> 99 %), 3 cannot (< 90 %).
    X, y = mlpcore.data.make_spiral(300, turns=1.0, seed=1)
    rows = ex.capacity_sweep(X, y, [3, 20], epochs=400, seeds=3)
    small = [r for r in rows if r["hidden"] == 3]
    large = [r for r in rows if r["hidden"] == 20]
    assert min(r["train_score"] for r in large) > max(r["train_score"] for r in small)
    assert max(r["train_loss"] for r in large) < min(r["train_loss"] for r in small)


def test_string_labels_give_the_same_table_as_their_codes(spiral):
    X, y = spiral
    names = np.array(["left", "right"])[y]  # sorted names: "left" -> 0, "right" -> 1
    kwargs = dict(seeds=2, test_size=0.25, **FAST)
    assert without_seconds(ex.capacity_sweep(X, names, [5], **kwargs)) == without_seconds(
        ex.capacity_sweep(X, y, [5], **kwargs)
    )


def test_explicit_parts_give_the_same_table_as_the_split(spiral):
    X, y = spiral
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=SPLIT_SEED)
    given = ex.capacity_sweep(X_tr, y_tr, [4], validation_data=(X_va, y_va), test_data=(X_te, y_te), seeds=2, **FAST)
    split = ex.capacity_sweep(X, y, [4], val_size=0.2, test_size=0.2, seed=SPLIT_SEED, seeds=2, **FAST)
    assert without_seconds(given) == without_seconds(split)


def test_a_trial_depends_on_its_seed_not_on_the_order(spiral):
    X, y = spiral
    forward = ex.capacity_sweep(X, y, [4, 8], seeds=[1, 3], **FAST)
    backward = ex.capacity_sweep(X, y, [8, 4], seeds=[3, 1], **FAST)
    def by_trial(rows):
        return without_seconds(sorted(rows, key=lambda r: (r["hidden"], r["seed"])))

    assert by_trial(forward) == by_trial(backward)
    assert forward[0]["val_loss"] != forward[1]["val_loss"]  # different seeds, different runs


def test_regression_targets_give_mse_and_r2(regression):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    X, y = regression
    for target in (y, np.column_stack([y, 2.0 * X[:, 0] - y])):
        n_out = 1 if target.ndim == 1 else 2
        rows = ex.capacity_sweep(X, target, [10], seeds=[4], test_size=0.2, seed=SPLIT_SEED,
                                 epochs=30, lr=0.02, momentum=0.9)
        (row,) = rows
        X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, target, val_size=0.2, test_size=0.2,
                                                                  seed=SPLIT_SEED)
        model, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(10,), seed=4, n_out=n_out, output="identity",
                                    epochs=30, lr=0.02)
        assert row["val_loss"] == history.val_loss[-1]
        for part_x, part_y, name in ((X_tr, y_tr, "train"), (X_va, y_va, "val"), (X_te, y_te, "test")):
            pred = model.predict(part_x).astype(np.float64).reshape(part_y.shape)
            assert row[f"{name}_loss"] == pytest.approx(np.mean((pred - part_y) ** 2), rel=1e-5)
            assert row[f"{name}_score"] == pytest.approx(sklearn_metrics.r2_score(part_y, pred), abs=1e-12)
        assert row["train_score"] > 0.5  # the net learned something, so R² is not trivially 0


def test_hinge_and_mae_losses_can_be_chosen(spiral, regression):
    X, y = spiral
    (row,) = ex.capacity_sweep(X, y, [6], seeds=[3], loss="hinge", **FAST)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    model, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(6,), seed=3, output="identity", loss="hinge")
    assert row["val_loss"] == history.val_loss[-1]
    assert row["val_score"] == history.val_accuracy[-1] == mlpcore.metrics.accuracy(y_va, model.predict(X_va))
    # Multiclass margin loss, mean_i sum_{j != y_i} max(0, 1 - s_{i,y_i} + s_ij) / k, in float64.
    s = model.forward(X_tr).astype(np.float64)
    margins = np.maximum(0.0, 1.0 - s[np.arange(len(y_tr)), y_tr][:, None] + s)
    margins[np.arange(len(y_tr)), y_tr] = 0.0
    assert row["train_loss"] == pytest.approx(np.mean(margins.sum(axis=1) / 2), rel=1e-5)

    X, y = regression
    (row,) = ex.capacity_sweep(X, y, [6], seeds=[3], loss="mae", epochs=20, lr=0.02)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    model, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(6,), seed=3, n_out=1, output="identity",
                                loss="mae", lr=0.02)
    assert row["val_loss"] == history.val_loss[-1]
    assert row["train_loss"] == pytest.approx(np.mean(np.abs(model.predict(X_tr)[:, 0] - y_tr)), rel=1e-5)


def test_ctrl_c_stops_the_sweep(spiral, monkeypatch):
    # fit turns Ctrl-C into a short history; the sweep must not report that trial as finished.
    X, y = spiral
    calls = []

    def interrupted_fit(*args, **kwargs):
        def press_ctrl_c(epoch, history):
            if epoch == 2:
                raise KeyboardInterrupt

        calls.append(1)
        history = mlpcore.fit(*args, **{**kwargs, "callbacks": [press_ctrl_c]})
        assert history.interrupted and history.epochs == 3 < FAST["epochs"]
        return history

    monkeypatch.setattr(ex, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        ex.capacity_sweep(X, y, [3, 6], n_jobs=1, **FAST)
    assert len(calls) == 1  # the second trial never started


def test_a_diverged_trial_raises_with_its_name(regression):
    X, y = regression
    message = re.escape("capacity_sweep: trial (hidden=16, seed=0) diverged: fit: the training loss became NaN")
    with pytest.raises(mlpcore.TrainingDivergedError, match=message):
        ex.capacity_sweep(X, y * 1e3, [16], epochs=5, lr=5.0)


# --------------------------------------------------------------------------- #
# regularization_sweep
# --------------------------------------------------------------------------- #


def test_grid_is_the_product_in_the_given_key_order(spiral):
    X, y = spiral
    grid = {"weight_decay": [0.0, 1e-3], "dropout": [0.0, 0.1, 0.2]}
    rows = ex.regularization_sweep(X, y, grid, hidden=8, seeds=2, **FAST)
    assert len(rows) == 2 * 3 * 2
    expected = [(wd, dr, s) for wd, dr in itertools.product(grid["weight_decay"], grid["dropout"]) for s in (0, 1)]
    assert [(r["weight_decay"], r["dropout"], r["seed"]) for r in rows] == expected
    assert all(list(r) == ["weight_decay", "dropout", "seed", *TAIL] for r in rows)
    sklearn_model_selection = pytest.importorskip("sklearn.model_selection")
    reference = list(sklearn_model_selection.ParameterGrid(grid))
    assert sorted((r["weight_decay"], r["dropout"]) for r in rows[::2]) == sorted(
        (p["weight_decay"], p["dropout"]) for p in reference
    )


def test_grid_row_equals_an_independent_fit(spiral):
    X, y = spiral
    rows = ex.regularization_sweep(X, y, {"weight_decay": [0.0, 1e-3], "dropout": [0.0, 0.2]}, hidden=(8,),
                                   seeds=[9], **FAST)
    row = rows[3]
    assert (row["weight_decay"], row["dropout"]) == (1e-3, 0.2)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    model, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(8,), seed=9, weight_decay=1e-3, dropout=0.2)
    assert row["val_loss"] == history.val_loss[-1]
    assert row["val_score"] == history.val_accuracy[-1]
    assert row["train_score"] == mlpcore.metrics.accuracy(y_tr, model.predict(X_tr))
    assert row["train_loss"] == pytest.approx(cross_entropy(model, X_tr, y_tr), rel=1e-5)
    assert len({r["val_loss"] for r in rows}) == 4  # each setting changes the run


def test_early_stopping_setting_restores_the_best_epoch(spiral):
    X, y = spiral
    rows = ex.regularization_sweep(X, y, {"early_stopping": [False, 3]}, hidden=8, seeds=[1], epochs=300, lr=0.1)
    off, on = rows
    assert (off["early_stopping"], on["early_stopping"]) == (False, 3)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    _, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(8,), seed=1, epochs=300,
                            early_stopping=mlpcore.EarlyStopping(patience=3))
    assert off["epochs"] == 300
    assert on["epochs"] == history.epochs < 300
    assert on["val_loss"] == history.val_loss[history.best_epoch] == min(history.val_loss)


def test_list_of_settings_fills_unnamed_keys_from_the_options(spiral):
    X, y = spiral
    grid = [{"weight_decay": 1e-3}, {"dropout": 0.2, "max_norm": 2.0}, {"early_stopping": True}]
    rows = ex.regularization_sweep(X, y, grid, hidden=8, dropout=0.1, **FAST)
    assert [list(r)[:4] for r in rows] == [["weight_decay", "dropout", "max_norm", "early_stopping"]] * 3
    assert [(r["weight_decay"], r["dropout"], r["max_norm"], r["early_stopping"]) for r in rows] == [
        (1e-3, 0.1, None, False), (0.0, 0.2, 2.0, False), (0.0, 0.1, None, True)
    ]
    single = ex.regularization_sweep(X, y, {"weight_decay": [1e-3]}, hidden=8, dropout=0.1, **FAST)
    assert single[0]["val_loss"] == rows[0]["val_loss"]


# --------------------------------------------------------------------------- #
# learning_curve
# --------------------------------------------------------------------------- #


def test_learning_curve_rows_match_history(spiral):
    X, y = spiral
    epochs = 15
    rows = ex.learning_curve(X, y, hidden=(8,), seeds=[2, 6], test_size=0.2, seed=SPLIT_SEED,
                             **{**FAST, "epochs": epochs})
    assert [(r["seed"], r["epoch"]) for r in rows] == [(s, e) for s in (2, 6) for e in range(1, epochs + 1)]
    assert all(list(r) == ["seed", "epoch", *TAIL] for r in rows)
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=SPLIT_SEED)
    # The same fit by hand, with the test loss of every epoch's weights in float64 numpy.
    test_losses = []
    model = mlpcore.MLP([2, 8, 2], activation="relu", seed=6)
    history = mlpcore.fit(
        model, X_tr, y_tr, optimizer=mlpcore.SGD(lr=0.1, momentum=0.9), epochs=epochs, batch_size=32,
        validation_data=(X_va, y_va), seed=6, verbose=False,
        callbacks=[lambda epoch, h: test_losses.append(cross_entropy(model, X_te, y_te))],
    )
    curve = rows[epochs:]
    assert [r["val_loss"] for r in curve] == history.val_loss
    assert [r["val_score"] for r in curve] == history.val_accuracy
    assert [r["test_loss"] for r in curve] == pytest.approx(test_losses, rel=1e-5)
    assert all(r["epochs"] == epochs for r in rows)
    seconds = [r["seconds"] for r in curve]
    assert seconds[0] > 0 and seconds == sorted(seconds)  # cumulative training time
    # The last epoch is the capacity sweep's row of the same configuration.
    (final,) = ex.capacity_sweep(X, y, [(8,)], seeds=[6], test_size=0.2, seed=SPLIT_SEED,
                                 **{**FAST, "epochs": epochs})
    assert {k: curve[-1][k] for k in FIGURES} == {k: final[k] for k in FIGURES}


def test_learning_curve_of_a_regressor_matches_history_and_r2(regression):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    X, y = regression
    epochs = 8
    rows = ex.learning_curve(X, y, hidden=6, seeds=[3], epochs=epochs, lr=0.02)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    # The same fit by hand; every epoch's weights judged with float64 numpy and scikit-learn.
    per_epoch = []

    def judge(epoch, history):
        train_pred = model.predict(X_tr)[:, 0].astype(np.float64)
        val_pred = model.predict(X_va)[:, 0].astype(np.float64)
        per_epoch.append((np.mean((train_pred - y_tr) ** 2), sklearn_metrics.r2_score(y_tr, train_pred),
                          sklearn_metrics.r2_score(y_va, val_pred)))

    model = mlpcore.MLP([2, 6, 1], activation="relu", output="identity", seed=3)
    history = mlpcore.fit(model, X_tr, y_tr, optimizer=mlpcore.SGD(lr=0.02, momentum=0.9), epochs=epochs,
                          batch_size=32, validation_data=(X_va, y_va), seed=3, verbose=False, callbacks=[judge])
    assert [r["epoch"] for r in rows] == list(range(1, epochs + 1))
    assert [r["val_loss"] for r in rows] == history.val_loss
    for row, (train_mse, train_r2, val_r2) in zip(rows, per_epoch):
        assert row["train_loss"] == pytest.approx(train_mse, rel=1e-5)
        assert row["train_score"] == pytest.approx(train_r2, abs=1e-12)
        assert row["val_score"] == pytest.approx(val_r2, abs=1e-12)
    assert rows[-1]["val_score"] > rows[0]["val_score"]  # the fit improves, so the epochs differ


def test_learning_curve_stops_with_early_stopping(spiral):
    X, y = spiral
    rows = ex.learning_curve(X, y, hidden=8, seeds=[1], epochs=300, early_stopping=3)
    X_tr, X_va, _, y_tr, y_va, _ = train_val_test_split(X, y, val_size=0.2, test_size=0.2, seed=0)  # the defaults
    _, history = manual_fit(X_tr, y_tr, X_va, y_va, hidden=(8,), seed=1, epochs=300,
                            early_stopping=mlpcore.EarlyStopping(patience=3))
    assert len(rows) == history.epochs < 300
    assert [r["val_loss"] for r in rows] == history.val_loss
    assert all(r["epochs"] == history.epochs for r in rows)


# --------------------------------------------------------------------------- #
# Running: joblib (loky), Dask, the plain loop, progress
# --------------------------------------------------------------------------- #


def test_loky_workers_give_the_same_table(spiral):
    pytest.importorskip("joblib")
    X, y = spiral
    threads = mlpcore.get_num_threads()
    grid = {"dropout": [0.0, 0.3], "input_noise": [0.0, 0.05]}  # exercises the seeded masks and noise
    kwargs = dict(hidden=8, seeds=2, test_size=0.2, **FAST)
    sequential = ex.regularization_sweep(X, y, grid, n_jobs=1, **kwargs)
    parallel = ex.regularization_sweep(X, y, grid, n_jobs=2, **kwargs)
    assert without_seconds(parallel) == without_seconds(sequential)
    curve_kwargs = dict(hidden=8, seeds=[0, 1, 2], dropout=0.2, **FAST)
    assert without_seconds(ex.learning_curve(X, y, n_jobs=2, **curve_kwargs)) == without_seconds(
        ex.learning_curve(X, y, n_jobs=1, **curve_kwargs)
    )
    assert mlpcore.get_num_threads() == threads  # only the worker processes go single-threaded


def test_threading_backend_gives_the_same_table(spiral):
    joblib = pytest.importorskip("joblib")
    X, y = spiral
    threads = mlpcore.get_num_threads()
    kwargs = dict(seeds=2, **FAST)
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = ex.capacity_sweep(X, y, [3, 8], **kwargs)
    assert without_seconds(threaded) == without_seconds(ex.capacity_sweep(X, y, [3, 8], n_jobs=1, **kwargs))
    assert mlpcore.get_num_threads() == threads


def test_a_diverged_trial_in_a_worker_raises_in_the_caller(regression):
    pytest.importorskip("joblib")
    X, y = regression
    # Both trials diverge; the first in row order is reported, whichever worker finished first.
    with pytest.raises(mlpcore.TrainingDivergedError, match=re.escape("trial (hidden=16, seed=1) diverged")) as info:
        ex.capacity_sweep(X, y * 1e3, [16], seeds=[1, 0], epochs=5, lr=5.0, n_jobs=2)
    assert isinstance(info.value.history, mlpcore.History)


@contextlib.contextmanager
def local_dask_client(distributed) -> Iterator:
    """Two single-threaded worker processes on 127.0.0.1, closed on exit. No dashboard; the
    scheduler's HTTP server (health and metrics routes, which it starts anyway, on port 8787 by
    default) takes a free loopback port, so concurrent test runs cannot collide on 8787."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_dask_cluster_gives_the_same_table(spiral):
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X, y = spiral
    kwargs = dict(seeds=2, test_size=0.2, **FAST)
    sequential = ex.capacity_sweep(X, y, [3, (8, 8)], n_jobs=1, **kwargs)
    curve_sequential = ex.learning_curve(X, y, hidden=8, n_jobs=1, dropout=0.1, **kwargs)
    # 12 MB of inputs: joblib's Dask backend must send them to the cluster once, not with
    # every trial (Dask warns "Sending large graph" when tasks carry more than 10 MB).
    wide = np.random.default_rng(0).random((3000, 1000), dtype=np.float32)
    with local_dask_client(distributed) as client, joblib.parallel_backend("dask"), \
            distributed.get_task_stream(client) as tasks, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        on_cluster = ex.capacity_sweep(X, y, [3, (8, 8)], **kwargs)
        without_test = ex.capacity_sweep(X, y, [3], seeds=2, **FAST)
        curve_on_cluster = ex.learning_curve(X, y, hidden=8, dropout=0.1, **kwargs)
        ex.capacity_sweep(wide, wide[:, 0] > 0.5, [2], seeds=4, epochs=1, batch_size=256)
    assert len({task["worker"] for task in tasks.data}) >= 1  # the trials really ran on the workers
    assert not [w for w in caught if "large graph" in str(w.message)]
    assert without_seconds(on_cluster) == without_seconds(sequential)
    assert without_seconds(without_test) == without_seconds(ex.capacity_sweep(X, y, [3], seeds=2, n_jobs=1, **FAST))
    assert without_seconds(curve_on_cluster) == without_seconds(curve_sequential)


def test_trials_on_misaligned_arrays_give_the_same_table(spiral, regression, monkeypatch):
    """Arrays unpickled on a Dask worker can start at any byte offset of their message: a sweep
    without a test part failed there ("evaluate: X must be aligned"). Each trial here gets
    misaligned copies of its data, as such a worker would."""
    trial = ex._trial

    def on_misaligned_data(func, labels, cfg, data, *rest):
        parts = {name: ex._Part(*(misaligned_copy(a) for a in (p.x, p.y, p.y_true))) for name, p in data.parts.items()}
        return trial(func, labels, cfg, dataclasses.replace(data, parts=parts), *rest)

    runs = []
    for patched in (False, True):
        with monkeypatch.context() as m:
            if patched:
                m.setattr(ex, "_trial", on_misaligned_data)
            runs.append([
                ex.capacity_sweep(*spiral, [3, 8], seeds=2, n_jobs=1, **FAST),
                ex.learning_curve(*spiral, hidden=8, n_jobs=1, dtype="float64", **FAST),
                ex.regularization_sweep(*regression, {"weight_decay": [0.0, 1e-3]}, hidden=8, n_jobs=1, **FAST),
            ])
    for aligned, misaligned in zip(*runs):
        assert without_seconds(misaligned) == without_seconds(aligned)


def test_without_joblib_a_plain_loop_runs(spiral, monkeypatch):
    X, y = spiral
    reference = ex.capacity_sweep(X, y, [3], seeds=2, n_jobs=1, **FAST)
    monkeypatch.setitem(sys.modules, "joblib", None)  # import joblib now raises ImportError
    assert without_seconds(ex.capacity_sweep(X, y, [3], seeds=2, **FAST)) == without_seconds(reference)
    hint = re.escape('capacity_sweep: n_jobs=2 needs joblib; install it with pip install "mlpcore[sweep]"')
    with pytest.raises(ImportError, match=hint):
        ex.capacity_sweep(X, y, [3], n_jobs=2, **FAST)


def test_verbose_prints_one_line_per_trial(spiral, capsys):
    X, y = spiral
    rows = ex.regularization_sweep(X, y, {"weight_decay": [0.0, 1e-3]}, hidden=4, verbose=True, **FAST)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("regularization_sweep: trial 2/2 (weight_decay=0.001, seed=0): ")
    assert f"val_loss {rows[1]['val_loss']:.4f}" in lines[1]
    ex.capacity_sweep(X, y, [3], **FAST)
    assert capsys.readouterr().err == ""


def test_rows_make_a_pandas_table(spiral):
    pd = pytest.importorskip("pandas")
    X, y = spiral
    rows = ex.capacity_sweep(X, y, [3, (6, 4)], seeds=3, **FAST)
    df = pd.DataFrame(rows)
    assert list(df.columns) == ["hidden", "seed", *TAIL]
    assert len(df) == 6 and df["test_loss"].notna().all()
    assert pd.DataFrame(ex.capacity_sweep(X, y, [3], seeds=1, test_size=0, **FAST))["test_loss"].isna().all()
    means = df.groupby("hidden", sort=False)["val_loss"].mean()
    assert list(means.index) == [3, (6, 4)]
    assert means[3] == pytest.approx(np.mean([r["val_loss"] for r in rows[:3]]), rel=1e-12)
    assert df["epochs"].tolist() == [FAST["epochs"]] * 6


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #

X_OK, Y_OK = mlpcore.data.make_spiral(60, seed=0)

BAD_CALLS = [
    (ex.capacity_sweep, (X_OK, Y_OK, 20), {}, TypeError, r"capacity_sweep: hidden must be a list of capacities"),
    (ex.capacity_sweep, (X_OK, Y_OK, []), {}, ValueError, r"capacity_sweep: hidden is empty"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3, 0]), {}, ValueError, r"capacity_sweep: hidden\[1\] must be >= 1 \(got 0\)"),
    (ex.capacity_sweep, (X_OK, Y_OK, ["abc"]), {}, TypeError,
     r"capacity_sweep: hidden\[0\] must be a positive integer or a tuple of positive integers"),
    (ex.capacity_sweep, (X_OK, Y_OK, [(4, 0)]), {}, TypeError, r"capacity_sweep: hidden\[0\] must be a positive"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3, (3,)]), {}, ValueError,
     r"capacity_sweep: hidden must not repeat a capacity"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"seeds": 0}, ValueError, r"capacity_sweep: seeds must be >= 1"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"seeds": [1, 1]}, ValueError, r"capacity_sweep: seeds must be distinct"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"seeds": [-1]}, ValueError, r"capacity_sweep: seeds\[0\] must be >= 0"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"seeds": 1.5}, TypeError, r"capacity_sweep: seeds must be a count"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"n_jobs": 0}, ValueError, r"capacity_sweep: n_jobs must be None"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"verbose": 1}, TypeError, r"capacity_sweep: verbose must be a bool"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"epochs": 0}, ValueError, r"capacity_sweep: epochs must be >= 1"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"lr": 0.0}, ValueError, r"capacity_sweep: lr must be > 0.0"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"dropout": 1.0}, ValueError, r"capacity_sweep: dropout must be < 1.0"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"activation": "swish"}, ValueError,
     r"capacity_sweep: activation must be one of"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"loss": "binary_cross_entropy"}, ValueError,
     r"capacity_sweep: loss must be one of None, 'cross_entropy', 'hinge', 'mse', 'mae'"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"early_stopping": 0}, ValueError,
     r"capacity_sweep: early_stopping must be >= 1"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"dtype": "int32"}, ValueError,
     r"capacity_sweep: dtype must be 'float32' or 'float64' \(got 'int32'\)"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"nesterov": True, "momentum": 0.0}, ValueError,
     r"capacity_sweep: nesterov momentum needs momentum > 0"),
    (ex.capacity_sweep, (X_OK[:, 0], Y_OK, [3]), {}, ValueError, r"capacity_sweep: X must be 2-D"),
    (ex.capacity_sweep, (X_OK, Y_OK[:-1], [3]), {}, ValueError,
     r"capacity_sweep: X and y must have the same length \(got 60 and 59\)"),
    (ex.capacity_sweep, (X_OK, np.zeros(60, dtype=np.int64), [3]), {}, ValueError,
     r"capacity_sweep: y must hold at least 2 classes"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"val_size": 0}, ValueError,
     r"capacity_sweep: val_size must leave at least one validation sample"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"val_size": 0.5, "test_size": 0.5}, ValueError,
     r"capacity_sweep: train_val_test_split: val_size and test_size leave no training samples"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"val_size": 0.2, "validation_data": (X_OK, Y_OK)}, ValueError,
     r"capacity_sweep: pass validation_data or val_size, not both"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"test_size": 0.2, "test_data": (X_OK, Y_OK)}, ValueError,
     r"capacity_sweep: pass test_data or test_size, not both"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"validation_data": X_OK}, TypeError,
     r"capacity_sweep: validation_data must be a pair \(X, y\)"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"validation_data": (X_OK[:, :1], Y_OK)}, ValueError,
     r"capacity_sweep: validation_data X must have 2 columns like X \(got 1\)"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"test_data": (X_OK, Y_OK + 1)}, ValueError,
     r"capacity_sweep: test_data y holds labels not seen in training: \[2\]"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"test_data": (X_OK, np.array(["a", "b"])[Y_OK])}, TypeError,
     r"capacity_sweep: test_data y must hold labels of the same kind as the training labels"),
    (ex.capacity_sweep, (X_OK, Y_OK.astype(float), [3]), {"validation_data": (X_OK, np.zeros((60, 2)))}, ValueError,
     r"capacity_sweep: validation_data y must have 1 target column\(s\) like y \(got 2\)"),
    (ex.capacity_sweep, (X_OK, Y_OK + 0.5, [3]), {"loss": "cross_entropy"}, ValueError,
     r"capacity_sweep: y must hold class labels, but it contains non-integer values"),
    (ex.capacity_sweep, (np.full((60, 2), 1e39), Y_OK, [3]), {}, ValueError,
     r"capacity_sweep: X has values beyond the float32 range \(\|x\| > 3.4e\+38\); scale the inputs"),
    (ex.capacity_sweep, (X_OK, Y_OK, [3]), {"validation_data": (X_OK, [0, 1] * 29 + [0, np.nan])}, ValueError,
     r"capacity_sweep: validation_data y contains NaN"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"lr": [0.1]}), {}, ValueError,
     r"regularization_sweep: grid keys must be among 'weight_decay', 'l1', 'dropout'"),
    (ex.regularization_sweep, (X_OK, Y_OK, {}), {}, ValueError, r"regularization_sweep: grid is empty"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"dropout": 0.2}), {}, TypeError,
     r"regularization_sweep: grid\['dropout'\] must be a list of values \(got float 0.2\)"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"dropout": []}), {}, ValueError,
     r"regularization_sweep: grid\['dropout'\] is empty"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"dropout": [0.1, 1.5]}), {}, ValueError,
     r"regularization_sweep: grid\['dropout'\]\[1\] must be < 1.0 \(got 1.5\)"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"weight_decay": [0, 0.0]}), {}, ValueError,
     r"regularization_sweep: grid\['weight_decay'\] repeats a value"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"max_norm": [None, 0.0]}), {}, ValueError,
     r"regularization_sweep: grid\['max_norm'\]\[1\] must be > 0.0"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"early_stopping": ["yes"]}), {}, TypeError,
     r"regularization_sweep: grid\['early_stopping'\]\[0\] must be a bool or a patience"),
    (ex.regularization_sweep, (X_OK, Y_OK, [{"dropout": [0.1, 0.2]}]), {}, TypeError,
     r"regularization_sweep: grid\[0\]\['dropout'\] must be one value in a list of settings"),
    (ex.regularization_sweep, (X_OK, Y_OK, [{"dropout": 0.1}, {"dropout": 0.1}]), {}, ValueError,
     r"regularization_sweep: grid\[0\] and grid\[1\] are the same setting"),
    (ex.regularization_sweep, (X_OK, Y_OK, [0.1]), {}, TypeError,
     r"regularization_sweep: grid\[0\] must be a non-empty dict of settings"),
    (ex.regularization_sweep, (X_OK, Y_OK, "dropout"), {}, TypeError,
     r"regularization_sweep: grid must be a dict of lists or a list of dicts"),
    (ex.regularization_sweep, (X_OK, Y_OK, {"dropout": [0.1]}), {"hidden": "big"}, TypeError,
     r"regularization_sweep: hidden must be a positive integer or a tuple"),
    (ex.learning_curve, (X_OK, Y_OK), {"batch_size": 0}, ValueError, r"learning_curve: batch_size must be >= 1"),
    (ex.learning_curve, (X_OK, Y_OK), {"seed": -1}, ValueError, r"learning_curve: seed must be >= 0"),
    (ex.learning_curve, (X_OK, Y_OK), {"max_norm": -1.0}, ValueError, r"learning_curve: max_norm must be > 0.0"),
    (ex.learning_curve, (X_OK, np.array(["a", "b"] * 30)), {"loss": "mse"}, TypeError,
     r"learning_curve: y must be numeric"),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "error", "message"), BAD_CALLS)
def test_bad_input_raises_a_clear_error(function, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        function(*args, epochs=kwargs.pop("epochs", 1), **kwargs)
