"""Experiments: capacity sweeps, regularisation sweeps and learning curves, one row per trial.

Each function trains many models of one task and returns a **list of dicts** (rows);
``pandas.DataFrame(rows)`` turns it into a table. Every row holds

* the swept setting(s), with the values given by the caller (``"hidden": 3``,
  ``"weight_decay": 1e-4, "dropout": 0.2``; none for :func:`learning_curve`),
* ``"seed"``: the trial's seed, and in :func:`learning_curve` ``"epoch"`` (1-based),
* ``"train_loss"``, ``"val_loss"``, ``"test_loss"``: the model's mean data loss on each set,
* ``"train_score"``, ``"val_score"``, ``"test_score"``: accuracy for classifiers, R² for
  regressors (the test figures are None without a test set),
* ``"epochs"``: epochs trained, and ``"seconds"``: wall time of the training.

**Task.** Class labels in ``y`` (integers, booleans or strings) train a softmax output with the
cross-entropy loss on the labels encoded as ``0 .. k-1`` (the sorted distinct training labels);
float targets (``(n,)`` or ``(n, m)``) train an identity output with the mean squared error.
``loss="hinge"`` (classes, identity output) or ``loss="mae"`` (regression) choose otherwise.

**Losses and scores.** Losses are computed exactly as :func:`mlpcore.fit` computes its
validation loss (the C++ ``evaluate`` of the network: no dropout, no input noise, no penalty
terms), with the final weights (the best epoch's weights when early stopping restores them):

* cross-entropy ``(1/n) Σ_i −log p_{i,y_i}``, hinge as in :class:`mlpcore.MLP`,
* mean squared error ``(1/(n m)) Σ_i Σ_j (y_ij − ŷ_ij)²`` (mae with ``|·|``),
* accuracy ``(1/n) Σ_i [argmax_j p_ij = y_i]``,
* ``R² = 1 − Σ (y − ŷ)² / Σ (y − ȳ)²`` (:func:`mlpcore.metrics.r2`, the mean over outputs),
  computed in float64 against the targets as given.

The training figures are those of the final weights on the whole training set, not the running
minibatch average that :attr:`mlpcore.History.train_loss` reports.

**Data.** ``(X, y)`` is split once by :func:`mlpcore.data.train_val_test_split` with
``val_size``, ``test_size`` and ``seed`` (stratified for class labels); every trial trains on
the same parts. ``validation_data=(X_val, y_val)`` / ``test_data=(X_test, y_test)`` give a part
explicitly instead. A validation set is required. Inputs are used as given: scale them
yourself (e.g. :class:`mlpcore.data.StandardScaler` fitted on the training part).

**Seeds.** ``seeds`` is a count ``r`` (seeds ``0 .. r-1``) or a list of seeds. The trial with
seed ``s`` builds ``MLP(..., seed=s)`` and trains it with ``fit(..., seed=s)``: its initial
weights, minibatch order, dropout masks and input noise depend on ``s`` alone, never on the
order or place in which trials run. Within a seed, all settings therefore share their random
numbers (a paired comparison), and any row can be recomputed with the plain API.

**Parallelism.** Trials run through ``joblib.Parallel(n_jobs=n_jobs)``; with the default
``n_jobs=None`` inside ``with joblib.parallel_backend("dask"):`` (or ``joblib.parallel_config``)
they run on a Dask cluster. Rows come back in a fixed order (settings in the order described
by each function, seeds within a setting, epochs within a seed) and are bit-identical, apart
from ``seconds``, whatever ``n_jobs`` or backend. Trials running outside the calling process
(loky, Dask workers) set that worker process's kernels to one thread
(:func:`mlpcore.set_num_threads`), since the trials themselves then share the cores (on 2
cores, two workers with one thread each ran a sweep of batch-32 trials about twice as fast
as with two threads each); results do not depend on the thread count, and the calling
process keeps its setting. joblib is optional (``pip install "mlpcore[sweep]"``,
``"mlpcore[dask]"`` for the cluster backend): with ``n_jobs=1``, or ``n_jobs=None`` and no
joblib installed, trials run in a plain loop. Ctrl-C stops the sweep (KeyboardInterrupt)
rather than cutting one trial short.
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import os
import socket
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._runtime import set_num_threads
from ._validation import (
    as_float_array,
    as_label_array,
    c_array,
    check_choice,
    check_finite,
    check_float,
    check_int,
    check_same_length,
    check_size,
    describe,
    show,
)
from .data import train_val_test_split
from .network import MLP, _as_dtype
from .ops import ACTIVATIONS
from .optim import SGD
from .training import EarlyStopping, History, TrainingDivergedError, fit

__all__ = ["REGULARIZATION_KEYS", "capacity_sweep", "learning_curve", "regularization_sweep"]

#: Settings a :func:`regularization_sweep` grid may vary.
REGULARIZATION_KEYS: tuple[str, ...] = (
    "weight_decay",
    "l1",
    "dropout",
    "input_noise",
    "max_norm",
    "early_stopping",
)

_LOSSES = ("cross_entropy", "hinge", "mse", "mae")
_CLASSIFICATION_LOSSES = ("cross_entropy", "hinge")
_PARTS = ("train", "val", "test")
_DEFAULT_VAL_SIZE = 0.2
_DEFAULT_TEST_SIZE = 0.2


# --------------------------------------------------------------------------- #
# Argument checks
# --------------------------------------------------------------------------- #


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _as_hidden(value: Any, name: str, func: str) -> tuple[int, ...]:
    """Hidden layer widths from one int (one layer) or a sequence of ints (possibly empty)."""
    if _is_int(value):
        return (check_int(value, name, func, minimum=1),)
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        widths = list(value.tolist() if isinstance(value, np.ndarray) else value)
        if all(_is_int(w) and w >= 1 for w in widths):
            return tuple(int(w) for w in widths)
    raise TypeError(
        f"{func}: {name} must be a positive integer or a tuple of positive integers, "
        f"one per hidden layer (got {describe(value)})"
    )


def _hidden_label(value: Any) -> int | tuple[int, ...]:
    """The caller's capacity as a row value: an int stays an int, a sequence becomes a tuple."""
    if _is_int(value):
        return int(value)
    return tuple(int(w) for w in (value.tolist() if isinstance(value, np.ndarray) else value))


def _check_setting(key: str, value: Any, name: str, func: str) -> Any:
    """One regularisation setting, checked and normalised (floats, None, bool or patience)."""
    if key in ("weight_decay", "l1", "input_noise"):
        return check_float(value, name, func, minimum=0.0)
    if key == "dropout":
        return check_float(value, name, func, minimum=0.0, maximum=1.0, max_inclusive=False)
    if key == "max_norm":
        return None if value is None else check_float(value, name, func, minimum=0.0, min_inclusive=False)
    # early_stopping: False (off), True (EarlyStopping() defaults) or a patience >= 1.
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if _is_int(value):
        return check_int(value, name, func, minimum=1)
    raise TypeError(f"{func}: {name} must be a bool or a patience (positive integer) (got {describe(value)})")


def _base_config(func: str, options: dict[str, Any]) -> dict[str, Any]:
    """The shared keyword options, checked: a plain dict that every trial receives."""
    cfg: dict[str, Any] = {}
    cfg["hidden"] = _as_hidden(options["hidden"], "hidden", func)
    activation = options["activation"]
    if not isinstance(activation, str):
        raise TypeError(
            f"{func}: activation must be a name, one of {', '.join(ACTIVATIONS)} (got {describe(activation)})"
        )
    cfg["activation"] = check_choice(activation, "activation", func, ACTIVATIONS)
    cfg["epochs"] = check_int(options["epochs"], "epochs", func, minimum=1)
    batch_size = options["batch_size"]
    cfg["batch_size"] = None if batch_size is None else check_int(batch_size, "batch_size", func, minimum=1)
    cfg["lr"] = check_float(options["lr"], "lr", func, minimum=0.0, min_inclusive=False)
    cfg["momentum"] = check_float(
        options["momentum"], "momentum", func, minimum=0.0, maximum=1.0, max_inclusive=False
    )
    nesterov = options["nesterov"]
    if not isinstance(nesterov, bool):
        raise TypeError(f"{func}: nesterov must be a bool (got {describe(nesterov)})")
    if nesterov and cfg["momentum"] == 0.0:
        raise ValueError(f"{func}: nesterov momentum needs momentum > 0 (got momentum={cfg['momentum']})")
    cfg["nesterov"] = nesterov
    cfg["lr_decay"] = check_float(options["lr_decay"], "lr_decay", func, minimum=0.0)
    for key in REGULARIZATION_KEYS:
        cfg[key] = _check_setting(key, options[key], key, func)
    cfg["dtype"] = _as_dtype(options["dtype"], func).name
    return cfg


def _check_seeds(seeds: Any, func: str) -> list[int]:
    if _is_int(seeds):
        return list(range(check_int(seeds, "seeds", func, minimum=1)))
    if isinstance(seeds, (Sequence, np.ndarray)) and not isinstance(seeds, (str, bytes)):
        values = list(seeds.tolist() if isinstance(seeds, np.ndarray) else seeds)
        if not values:
            raise ValueError(f"{func}: seeds is empty (give a count >= 1 or a list of seeds)")
        checked = [check_int(s, f"seeds[{i}]", func, minimum=0) for i, s in enumerate(values)]
        if len(set(checked)) != len(checked):
            raise ValueError(f"{func}: seeds must be distinct (got {checked})")
        return checked
    raise TypeError(
        f"{func}: seeds must be a count or a list of non-negative integers (got {describe(seeds)})"
    )


def _check_run_options(func: str, n_jobs: Any, verbose: Any) -> int | None:
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", func)
        if n_jobs == 0:
            raise ValueError(
                f"{func}: n_jobs must be None, a positive count or negative (-1: all cores) (got 0)"
            )
    if not isinstance(verbose, bool):
        raise TypeError(f"{func}: verbose must be a bool (got {describe(verbose)})")
    return n_jobs


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #


@dataclass
class _Part:
    """One data set: inputs in the model's dtype, targets as the model takes them, and the
    targets for the score (class codes, or the float64 targets as given)."""

    x: np.ndarray
    y: np.ndarray
    y_true: np.ndarray

    def aligned(self) -> _Part:
        """The same arrays, copied where they are not aligned to their element size: arrays
        unpickled on a Dask worker sit at any byte offset of their message, and the C++ core
        refuses those (``evaluate`` is called on them directly)."""
        return _Part(c_array(self.x), c_array(self.y), c_array(self.y_true))


@dataclass
class _Data:
    loss: str
    output: str
    n_inputs: int
    n_outputs: int
    parts: dict[str, _Part] = field(default_factory=dict)

    @property
    def is_classifier(self) -> bool:
        return self.loss in _CLASSIFICATION_LOSSES

    def __sizeof__(self) -> int:
        # Counts the arrays: joblib's Dask backend sends an argument to the cluster once, and
        # shares it between trials, only when dask.sizeof finds it large; the default 56 bytes
        # made every trial carry its own copy of the data (30 MiB a trial for MNIST).
        arrays = (a for part in self.parts.values() for a in (part.x, part.y, part.y_true))
        return object.__sizeof__(self) + sum(a.nbytes for a in arrays)


def _pair(value: Any, name: str, func: str) -> tuple[Any, Any]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{func}: {name} must be a pair (X, y) (got {describe(value)})")
    return value[0], value[1]


def _task_loss(y: Any, loss: Any, func: str) -> str:
    check_choice(loss, "loss", func, (None, *_LOSSES))
    if loss is not None:
        return loss
    arr = np.asarray(y)
    if arr.dtype.kind == "O":
        strings = arr.size > 0 and all(isinstance(v, str) for v in arr.ravel())
        return "cross_entropy" if strings else "mse"
    return "mse" if arr.dtype.kind in "fc" else "cross_entropy"


def _targets(y: Any, name: str, func: str, classifier: bool) -> np.ndarray:
    if classifier:
        return as_label_array(y, name, func)
    return as_float_array(y, name, func, ndim=(1, 2))


def _encode(labels: np.ndarray, classes: np.ndarray, name: str, func: str) -> np.ndarray:
    """Labels as codes ``0 .. k-1`` into the sorted ``classes``; unknown labels are an error."""
    if (labels.dtype.kind in "US") != (classes.dtype.kind in "US"):
        raise TypeError(
            f"{func}: {name} must hold labels of the same kind as the training labels "
            f"(got {labels.dtype} and {classes.dtype})"
        )
    codes = np.searchsorted(classes, labels)
    known = classes[np.minimum(codes, len(classes) - 1)] == labels
    if not known.all():
        unseen = np.unique(labels[~known])
        shown = ", ".join(show(v) for v in unseen[:10]) + (", ..." if len(unseen) > 10 else "")
        raise ValueError(f"{func}: {name} holds labels not seen in training: [{shown}]")
    return codes.astype(np.int64)


def _prepare_data(
    func: str,
    X: Any,
    y: Any,
    *,
    loss: Any,
    dtype: str,
    val_size: Any,
    test_size: Any,
    validation_data: Any,
    test_data: Any,
    seed: Any,
) -> _Data:
    """Split (or take) the train/validation/test parts once, in the form every trial uses."""
    seed = check_int(seed, "seed", func, minimum=0)
    loss = _task_loss(y, loss, func)
    classifier = loss in _CLASSIFICATION_LOSSES
    x_all = as_float_array(X, "X", func, ndim=2)
    y_all = _targets(y, "y", func, classifier)
    check_same_length(func, X=x_all, y=y_all)

    if validation_data is not None and val_size is not None:
        raise ValueError(f"{func}: pass validation_data or val_size, not both")
    if test_data is not None and test_size is not None:
        raise ValueError(f"{func}: pass test_data or test_size, not both")
    n_val = (
        0
        if validation_data is not None
        else check_size(_DEFAULT_VAL_SIZE if val_size is None else val_size, "val_size", func)
    )
    n_test = (
        0
        if test_data is not None
        else check_size(_DEFAULT_TEST_SIZE if test_size is None else test_size, "test_size", func)
    )
    # part -> (X, y, name of X, name of y), the names for error messages.
    raw: dict[str, tuple[np.ndarray, np.ndarray, str, str]] = {}
    if n_val or n_test:
        try:
            x_tr, x_va, x_te, y_tr, y_va, y_te = train_val_test_split(
                x_all, y_all, val_size=n_val, test_size=n_test, seed=seed
            )
        except ValueError as exc:
            raise ValueError(f"{func}: {exc}") from None
        raw["train"] = (x_tr, y_tr, "X", "y")
        if len(x_va):
            raw["val"] = (x_va, y_va, "X", "y (validation part)")
        if len(x_te):
            raw["test"] = (x_te, y_te, "X", "y (test part)")
    else:
        raw["train"] = (x_all, y_all, "X", "y")
    if validation_data is None and "val" not in raw:
        raise ValueError(f"{func}: val_size must leave at least one validation sample (got {val_size!r})")
    for part, given, name in (("val", validation_data, "validation_data"), ("test", test_data, "test_data")):
        if given is not None:
            gx, gy = _pair(given, name, func)
            gx = as_float_array(gx, f"{name} X", func, ndim=2)
            gy = _targets(gy, f"{name} y", func, classifier)
            check_same_length(func, **{f"{name} X": gx, f"{name} y": gy})
            if gx.shape[1] != x_all.shape[1]:
                raise ValueError(
                    f"{func}: {name} X must have {x_all.shape[1]} columns like X (got {gx.shape[1]})"
                )
            raw[part] = (gx, gy, f"{name} X", f"{name} y")

    y_train = raw["train"][1]
    if classifier:
        classes = np.unique(y_train)
        if len(classes) < 2:
            raise ValueError(
                f"{func}: y must hold at least 2 classes in the training part (got {classes.tolist()})"
            )
        n_outputs = len(classes)
    else:
        n_outputs = 1 if y_train.ndim == 1 else y_train.shape[1]
    data = _Data(
        loss=loss,
        output="softmax" if loss == "cross_entropy" else "identity",
        n_inputs=x_all.shape[1],
        n_outputs=n_outputs,
    )
    for part in _PARTS:
        if part not in raw:
            continue
        x, target, x_name, name = raw[part]
        with np.errstate(over="ignore"):  # beyond float32 becomes inf: rejected just below
            x = c_array(x, dtype=dtype)
        try:
            check_finite(x, x_name, func)
        except ValueError:
            # The float64 values were checked finite, so the cast overflowed.
            raise ValueError(
                f"{func}: {x_name} has values beyond the {dtype} range (|x| > {np.finfo(dtype).max:.3g}); "
                "scale the inputs"
            ) from None
        if classifier:
            codes = _encode(target, classes, name, func)
            data.parts[part] = _Part(x, codes, codes)
        else:
            columns = 1 if target.ndim == 1 else target.shape[1]
            if columns != n_outputs:
                raise ValueError(
                    f"{func}: {name} must have {n_outputs} target column(s) like y (got {columns})"
                )
            data.parts[part] = _Part(x, target.reshape(len(target), n_outputs), target)
    return data


# --------------------------------------------------------------------------- #
# Trials
# --------------------------------------------------------------------------- #


@dataclass
class _Outcome:
    rows: list[dict[str, Any]]
    error: str | None = None
    history: History | None = None


def _evaluate(
    model: MLP,
    part: _Part,
    targets: tuple[np.ndarray | None, np.ndarray | None],
    measured: tuple[float, float | None] | None = None,
) -> tuple[float, float]:
    """Mean data loss and score of the current weights, as fit computes its validation loss.

    ``measured``: the loss and accuracy (None for regression) that fit has already computed
    for these weights on this part, with the same ``evaluate`` call, so it is not repeated.
    """
    if measured is None:
        total, correct, count = model._net.evaluate(model._params, part.x, targets[0], targets[1], None)
        measured = (total / count, correct / count)
    loss, accuracy = measured
    if model.is_classifier:
        return loss, accuracy
    # Imported here: metrics pulls in scipy.stats, which classification trials (and the start of
    # every worker process) do without.
    from .metrics import r2

    return loss, r2(part.y_true, model.predict(part.x).reshape(part.y_true.shape))


def _process() -> tuple[str, int]:
    """This process, also told apart from one with the same pid on another machine."""
    return socket.gethostname(), os.getpid()


def _trial(
    func: str,
    labels: dict[str, Any],
    cfg: dict[str, Any],
    data: _Data,
    seed: int,
    curve: bool,
    caller: tuple[str, int],
) -> _Outcome:
    """Train and evaluate one model; self-contained, so it runs in any process or on any worker."""
    if _process() != caller:
        # Trials run side by side there; one kernel thread each avoids oversubscribing the cores.
        set_num_threads(1)
    model = MLP(
        [data.n_inputs, *cfg["hidden"], data.n_outputs],
        activation=cfg["activation"],
        output=data.output,
        loss=data.loss,
        dropout=cfg["dropout"],
        input_noise=cfg["input_noise"],
        seed=seed,
        dtype=cfg["dtype"],
    )
    optimizer = SGD(
        lr=cfg["lr"],
        momentum=cfg["momentum"],
        weight_decay=cfg["weight_decay"],
        l1=cfg["l1"],
        nesterov=cfg["nesterov"],
        max_norm=cfg["max_norm"],
        lr_decay=cfg["lr_decay"],
    )
    stop = cfg["early_stopping"]
    rule = None if stop is False else EarlyStopping() if stop is True else EarlyStopping(patience=stop)
    parts = {name: part.aligned() for name, part in data.parts.items()}
    targets = {name: model._as_targets(part.y, len(part.x), func) for name, part in parts.items()}
    test = parts.get("test")

    def figures(val_measured: tuple[float, float | None] | None = None) -> dict[str, Any]:
        train_loss, train_score = _evaluate(model, parts["train"], targets["train"])
        val_loss, val_score = _evaluate(model, parts["val"], targets["val"], val_measured)
        test_loss, test_score = (None, None) if test is None else _evaluate(model, test, targets["test"])
        return {
            "train_loss": train_loss,
            "val_loss": val_loss,
            "test_loss": test_loss,
            "train_score": train_score,
            "val_score": val_score,
            "test_score": test_score,
        }

    per_epoch: list[dict[str, Any]] = []

    def record(epoch: int, history: History) -> None:
        # fit has just evaluated these end-of-epoch weights on the validation part (callbacks run
        # after that), so its figures are taken rather than computed again every epoch.
        # "epochs" is filled in once the fit is over.
        val_measured = (history.val_loss[-1], history.val_accuracy[-1] if history.val_accuracy else None)
        per_epoch.append(
            {
                **labels,
                "seed": seed,
                "epoch": epoch + 1,
                **figures(val_measured),
                "epochs": None,
                "seconds": float(sum(history.epoch_time)),
            }
        )

    start = time.perf_counter()
    try:
        history = fit(
            model,
            parts["train"].x,
            parts["train"].y,
            optimizer=optimizer,
            epochs=cfg["epochs"],
            batch_size=cfg["batch_size"],
            validation_data=(parts["val"].x, parts["val"].y),
            early_stopping=rule,
            seed=seed,
            verbose=False,
            callbacks=[record] if curve else None,
        )
    except TrainingDivergedError as exc:
        # Returned rather than raised, so every trial finishes and the sweep reports the first
        # diverged trial in row order (not whichever worker failed first), naming its setting.
        return _Outcome([], str(exc), exc.history)
    if history.interrupted:
        # fit turns Ctrl-C into a short history; a sweep stops instead of reporting a cut-off trial.
        raise KeyboardInterrupt
    seconds = time.perf_counter() - start
    if curve:
        for r in per_epoch:
            r["epochs"] = history.epochs
        return _Outcome(per_epoch)
    return _Outcome([{**labels, "seed": seed, **figures(), "epochs": history.epochs, "seconds": seconds}])


def _describe_trial(labels: dict[str, Any], seed: int) -> str:
    return ", ".join([*(f"{k}={v!r}" for k, v in labels.items()), f"seed={seed}"])


def _run(
    func: str,
    settings: list[tuple[dict[str, Any], dict[str, Any]]],
    seeds: list[int],
    data: _Data,
    *,
    curve: bool,
    n_jobs: int | None,
    verbose: bool,
) -> list[dict[str, Any]]:
    """All (setting, seed) trials, settings outer and seeds inner; rows in that order."""
    caller = _process()
    tasks = [(func, labels, cfg, data, s, curve, caller) for labels, cfg in settings for s in seeds]
    joblib = None
    if n_jobs != 1:
        try:
            import joblib
        except ImportError:
            if n_jobs is not None:
                raise ImportError(
                    f'{func}: n_jobs={n_jobs} needs joblib; install it with pip install "mlpcore[sweep]" '
                    "(or use n_jobs=1)"
                ) from None
    if joblib is None:
        results: Any = (_trial(*task) for task in tasks)
    else:
        results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
            joblib.delayed(_trial)(*task) for task in tasks
        )
    outcomes = []
    for i, outcome in enumerate(results):
        outcomes.append(outcome)
        if verbose:
            _, labels, _, _, s, _, _ = tasks[i]
            if outcome.error is not None:
                summary = "diverged"
            else:
                last = outcome.rows[-1]
                summary = (
                    f"train_loss {last['train_loss']:.4f}  val_loss {last['val_loss']:.4f}  "
                    f"val_score {last['val_score']:.4f}  {last['epochs']} epochs  {last['seconds']:.2f}s"
                )
            trial = f"trial {i + 1}/{len(tasks)} ({_describe_trial(labels, s)})"
            print(f"{func}: {trial}: {summary}", file=sys.stderr, flush=True)
    rows: list[dict[str, Any]] = []
    for task, outcome in zip(tasks, outcomes):
        if outcome.error is not None:
            raise TrainingDivergedError(
                f"{func}: trial ({_describe_trial(task[1], task[4])}) diverged: {outcome.error}",
                outcome.history if outcome.history is not None else History(),
            )
        rows.extend(outcome.rows)
    return rows


# --------------------------------------------------------------------------- #
# Public functions
# --------------------------------------------------------------------------- #

_COMMON_DOC = """\
    activation:
        Hidden activation (one name for all hidden layers).
    loss:
        None (chosen from ``y``: class labels → ``"cross_entropy"`` with a softmax output, floats
        → ``"mse"``), or ``"cross_entropy"``, ``"hinge"``, ``"mse"``, ``"mae"``.
    epochs, batch_size:
        As in :func:`mlpcore.fit` (``batch_size=None`` is full-batch gradient descent).
    lr, momentum, nesterov, lr_decay, weight_decay, l1, max_norm:
        The :class:`mlpcore.SGD` hyper-parameters.
    dropout, input_noise:
        As in :class:`mlpcore.MLP`.
    early_stopping:
        False, True (``EarlyStopping()``: patience 5 on the validation loss, best weights
        restored) or a patience (``EarlyStopping(patience=early_stopping)``).
    dtype:
        ``"float32"`` or ``"float64"``.
    val_size, test_size:
        Fractions in [0, 1) or counts of ``(X, y)`` held out by
        :func:`mlpcore.data.train_val_test_split` (defaults: 0.2 each, so 60% trains;
        ``test_size=0``: no test part, and test figures of None). Not together with
        ``validation_data`` / ``test_data``.
    validation_data, test_data:
        Explicit ``(X, y)`` pairs for the validation and test figures.
    seeds:
        A count ``r`` (seeds ``0 .. r-1``) or a list of distinct seeds ≥ 0; the trial with seed
        ``s`` uses ``MLP(seed=s)`` and ``fit(seed=s)``.
    seed:
        Seed of the train/validation/test split (the same split for every trial).
    n_jobs:
        Trials run in parallel by joblib; None defers to an enclosing
        ``joblib.parallel_backend`` (e.g. ``"dask"``), 1 runs a plain loop, -1 uses all cores.
    verbose:
        Print one line per finished trial on stderr.

    Returns
    -------
    list of dict
        The rows, in the order described above (``pandas.DataFrame(rows)`` makes a table).

    Raises
    ------
    TrainingDivergedError
        When a trial's loss becomes NaN or infinite (the message names the trial); the other
        trials have run by then, but no rows are returned.
"""


def capacity_sweep(
    X: Any,
    y: Any,
    hidden: Sequence[int | Sequence[int]],
    *,
    activation: str = "relu",
    loss: str | None = None,
    epochs: int = 100,
    batch_size: int | None = 32,
    lr: float = 0.1,
    momentum: float = 0.9,
    nesterov: bool = False,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    dropout: float = 0.0,
    input_noise: float = 0.0,
    early_stopping: bool | int = False,
    dtype: Any = "float32",
    val_size: float | None = None,
    test_size: float | None = None,
    validation_data: tuple[Any, Any] | None = None,
    test_data: tuple[Any, Any] | None = None,
    seeds: int | Sequence[int] = 1,
    seed: int = 0,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> list[dict[str, Any]]:
    """Train the same task at several capacities; one row per (capacity, seed).

    ``hidden`` lists the capacities: an int is one hidden layer of that many units
    (``[3, 6, 20]`` on the spiral, as in the lecture), a tuple one width per hidden layer
    (``(20, 20)``), ``()`` no hidden layer (softmax or linear regression). Rows follow the
    order of ``hidden``, then of the seeds, and carry ``"hidden"`` as given (a list entry
    becomes a tuple). See the module docstring for the row schema and the seeds.

    Parameters
    ----------
    X, y:
        Inputs ``(n, d)`` (used as given: scale them first) and class labels or float targets.
    hidden:
        The capacities to compare, distinct.
    """
    func = "capacity_sweep"
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (Sequence, np.ndarray)):
        raise TypeError(
            f"{func}: hidden must be a list of capacities (ints or tuples of ints), e.g. [3, 6, 20] "
            f"(got {describe(hidden)})"
        )
    capacities = list(hidden)
    if not capacities:
        raise ValueError(f"{func}: hidden is empty (give the capacities to compare, e.g. [3, 6, 20])")
    widths = [_as_hidden(h, f"hidden[{i}]", func) for i, h in enumerate(capacities)]
    if len(set(widths)) != len(widths):
        raise ValueError(
            f"{func}: hidden must not repeat a capacity (got {[_hidden_label(h) for h in capacities]})"
        )
    options = dict(locals())
    cfg = _base_config(func, {**options, "hidden": ()})
    seed_list = _check_seeds(seeds, func)
    n_jobs = _check_run_options(func, n_jobs, verbose)
    data = _prepare_data(
        func,
        X,
        y,
        loss=loss,
        dtype=cfg["dtype"],
        val_size=val_size,
        test_size=test_size,
        validation_data=validation_data,
        test_data=test_data,
        seed=seed,
    )
    settings = [({"hidden": _hidden_label(h)}, {**cfg, "hidden": w}) for h, w in zip(capacities, widths)]
    return _run(func, settings, seed_list, data, curve=False, n_jobs=n_jobs, verbose=verbose)


def _same(a: Any, b: Any) -> bool:
    """Equal checked setting values (True, a patience of 1 and 1.0 are different settings)."""
    return type(a) is type(b) and a == b


def _grid_settings(grid: Any, func: str) -> list[dict[str, Any]]:
    """The settings of a dict of lists (Cartesian product, first key slowest) or a list of dicts."""

    def check_keys(keys: Any, where: str) -> None:
        for key in keys:
            if key not in REGULARIZATION_KEYS:
                allowed = ", ".join(repr(k) for k in REGULARIZATION_KEYS)
                raise ValueError(f"{func}: {where} keys must be among {allowed} (got {key!r})")

    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError(
                f"{func}: grid is empty (give lists of values for some of {', '.join(REGULARIZATION_KEYS)})"
            )
        check_keys(grid, "grid")
        axes = []
        for key, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
                raise TypeError(f"{func}: grid[{key!r}] must be a list of values (got {describe(values)})")
            values = list(values.tolist() if isinstance(values, np.ndarray) else values)
            if not values:
                raise ValueError(f"{func}: grid[{key!r}] is empty")
            checked = [_check_setting(key, v, f"grid[{key!r}][{i}]", func) for i, v in enumerate(values)]
            if any(_same(a, b) for a, b in itertools.combinations(checked, 2)):
                raise ValueError(f"{func}: grid[{key!r}] repeats a value (got {checked})")
            axes.append(checked)
        return [dict(zip(grid, combo)) for combo in itertools.product(*axes)]
    if isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        if not grid:
            raise ValueError(f"{func}: grid is empty (give a dict of lists or a list of settings)")
        settings = []
        for i, setting in enumerate(grid):
            if not isinstance(setting, Mapping) or not setting:
                raise TypeError(
                    f"{func}: grid[{i}] must be a non-empty dict of settings (got {describe(setting)})"
                )
            check_keys(setting, f"grid[{i}]")
            for key, value in setting.items():
                if isinstance(value, (list, tuple, np.ndarray)):
                    raise TypeError(
                        f"{func}: grid[{i}][{key!r}] must be one value in a list of settings "
                        f"(got {describe(value)}; use a dict of lists for a grid)"
                    )
            settings.append({k: _check_setting(k, v, f"grid[{i}][{k!r}]", func) for k, v in setting.items()})
        for (i, a), (j, b) in itertools.combinations(enumerate(settings), 2):
            if a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a):
                raise ValueError(f"{func}: grid[{i}] and grid[{j}] are the same setting ({a})")
        return settings
    raise TypeError(f"{func}: grid must be a dict of lists or a list of dicts (got {describe(grid)})")


def regularization_sweep(
    X: Any,
    y: Any,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    *,
    hidden: int | Sequence[int] = (20,),
    activation: str = "relu",
    loss: str | None = None,
    epochs: int = 100,
    batch_size: int | None = 32,
    lr: float = 0.1,
    momentum: float = 0.9,
    nesterov: bool = False,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    dropout: float = 0.0,
    input_noise: float = 0.0,
    early_stopping: bool | int = False,
    dtype: Any = "float32",
    val_size: float | None = None,
    test_size: float | None = None,
    validation_data: tuple[Any, Any] | None = None,
    test_data: tuple[Any, Any] | None = None,
    seeds: int | Sequence[int] = 1,
    seed: int = 0,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> list[dict[str, Any]]:
    """Train one architecture under several regularisation settings; one row per (setting, seed).

    ``grid`` varies any of ``weight_decay``, ``l1``, ``dropout``, ``input_noise``,
    ``max_norm`` (None: no cap) and ``early_stopping`` (bool or patience), either as

    * a dict of lists: every combination, in :func:`itertools.product` order over the keys
      **as given** (the first key varies slowest, the last fastest), e.g.
      ``{"weight_decay": [0, 1e-4], "dropout": [0, 0.2]}`` gives (0, 0), (0, 0.2), (1e-4, 0),
      (1e-4, 0.2); or
    * a list of dicts, one setting each, in the given order.

    Grid values override the keyword options of the same name, which fix everything else.
    Every row carries each key named anywhere in the grid (first-seen order) with its value,
    the keyword option's value where a setting does not name it. See the module docstring
    for the row schema and the seeds.

    Parameters
    ----------
    X, y:
        Inputs ``(n, d)`` (used as given: scale them first) and class labels or float targets.
    grid:
        The settings, as above.
    hidden:
        Hidden layer widths: an int (one layer) or a tuple (``()``: none).
    """
    func = "regularization_sweep"
    options = dict(locals())
    settings = _grid_settings(grid, func)
    cfg = _base_config(func, options)
    seed_list = _check_seeds(seeds, func)
    n_jobs = _check_run_options(func, n_jobs, verbose)
    data = _prepare_data(
        func,
        X,
        y,
        loss=loss,
        dtype=cfg["dtype"],
        val_size=val_size,
        test_size=test_size,
        validation_data=validation_data,
        test_data=test_data,
        seed=seed,
    )
    keys = list(dict.fromkeys(k for setting in settings for k in setting))
    labelled = []
    for setting in settings:
        merged = {**cfg, **setting}
        labelled.append(({k: merged[k] for k in keys}, merged))
    return _run(func, labelled, seed_list, data, curve=False, n_jobs=n_jobs, verbose=verbose)


def learning_curve(
    X: Any,
    y: Any,
    *,
    hidden: int | Sequence[int] = (20,),
    activation: str = "relu",
    loss: str | None = None,
    epochs: int = 100,
    batch_size: int | None = 32,
    lr: float = 0.1,
    momentum: float = 0.9,
    nesterov: bool = False,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    dropout: float = 0.0,
    input_noise: float = 0.0,
    early_stopping: bool | int = False,
    dtype: Any = "float32",
    val_size: float | None = None,
    test_size: float | None = None,
    validation_data: tuple[Any, Any] | None = None,
    test_data: tuple[Any, Any] | None = None,
    seeds: int | Sequence[int] = 1,
    seed: int = 0,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> list[dict[str, Any]]:
    """Losses and scores after every epoch of one configuration; one row per (seed, epoch).

    Rows hold ``"seed"``, ``"epoch"`` (1-based) and the figures of the weights at the end of
    that epoch; ``"epochs"`` is the number of epochs the trial trained (fewer than ``epochs``
    when early stopping ends it) and ``"seconds"`` the training time up to the end of the
    epoch (the sum of :attr:`mlpcore.History.epoch_time`, without this function's extra
    evaluations). ``val_loss`` and, for classifiers, ``val_score`` equal
    :attr:`~mlpcore.History.val_loss` and :attr:`~mlpcore.History.val_accuracy` of the fit;
    ``train_loss`` is the loss of the end-of-epoch weights on the whole training set. Rows
    are ordered by seed, then epoch. See the module docstring for the rest of the schema.

    Parameters
    ----------
    X, y:
        Inputs ``(n, d)`` (used as given: scale them first) and class labels or float targets.
    hidden:
        Hidden layer widths: an int (one layer) or a tuple (``()``: none).
    """
    func = "learning_curve"
    options = dict(locals())
    cfg = _base_config(func, options)
    seed_list = _check_seeds(seeds, func)
    n_jobs = _check_run_options(func, n_jobs, verbose)
    data = _prepare_data(
        func,
        X,
        y,
        loss=loss,
        dtype=cfg["dtype"],
        val_size=val_size,
        test_size=test_size,
        validation_data=validation_data,
        test_data=test_data,
        seed=seed,
    )
    return _run(func, [({}, cfg)], seed_list, data, curve=True, n_jobs=n_jobs, verbose=verbose)


# One text for the options the three functions share. Both parts are dedented first, since
# Python 3.13 strips the indentation of function docstrings but not of other strings.
for _function in (capacity_sweep, regularization_sweep, learning_curve):
    _function.__doc__ = inspect.cleandoc(_function.__doc__ or "") + "\n" + textwrap.dedent(_COMMON_DOC)
del _function
