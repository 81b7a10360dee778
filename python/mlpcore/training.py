"""Training: :func:`fit` runs epochs of the C++ training loop and keeps the history.

Each epoch is one call into C++ with the GIL released: shuffling, minibatch gathering, input
noise, dropout masks, forward, loss, backward, the SGD step and max-norm all run there, with no
Python per minibatch. Between epochs this module evaluates on the validation data, applies
early stopping, calls callbacks and prints progress.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._epochs import EpochDiverged, EpochRunner
from ._validation import (
    DeferredInterrupts,
    check_choice,
    check_float,
    check_int,
    describe,
    one_fit_at_a_time,
)
from .data import train_val_test_indices
from .network import MLP
from .optim import SGD, Adam, Optimizer

__all__ = ["EarlyStopping", "History", "TrainingDivergedError", "fit"]

Callback = Callable[[int, "History"], Any]


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite. ``history`` holds the epochs completed before."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history

    def __reduce__(self) -> tuple[Any, tuple[str, History]]:
        # Both arguments, so the error pickles (joblib and multiprocessing workers send it back).
        return type(self), (str(self), self.history)


class EarlyStopping:
    """Stop when the monitored validation figure stops improving; optionally keep the best weights.

    Training stops after ``patience`` consecutive epochs without an improvement of more than
    ``min_delta`` over the best value so far (lower is better for ``val_loss``, higher for
    ``val_accuracy``), so ``best_epoch + 1 + patience`` epochs run unless ``epochs`` ends first.
    With ``restore_best`` the model ends with the weights of the best epoch.
    """

    def __init__(
        self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0, restore_best: bool = True
    ) -> None:
        func = "EarlyStopping"
        self.monitor = check_choice(monitor, "monitor", func, ("val_loss", "val_accuracy"))
        self.patience = check_int(patience, "patience", func, minimum=1)
        self.min_delta = check_float(min_delta, "min_delta", func, minimum=0.0)
        if not isinstance(restore_best, bool):
            raise TypeError(f"{func}: restore_best must be a bool (got {describe(restore_best)})")
        self.restore_best = restore_best

    def improved(self, value: float, best: float | None) -> bool:
        """Whether ``value`` beats ``best`` by more than ``min_delta``."""
        if best is None:
            return not math.isnan(value)
        if self.monitor == "val_loss":
            return value < best - self.min_delta
        return value > best + self.min_delta

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, restore_best={self.restore_best})"
        )


@dataclass
class History:
    """Per-epoch figures of a :func:`fit` run, as plain lists ready to plot.

    ``train_loss`` is the mean of the epoch's minibatch losses, each weighted by its number of
    samples (as Keras and scikit-learn report it; a smaller last batch counts less), and ``train_accuracy`` the
    fraction of training samples classified correctly as their minibatch was trained on (the
    Keras and scikit-learn convention); ``val_loss`` and ``val_accuracy`` are measured with the
    end-of-epoch weights. Accuracy lists stay empty for regression losses and validation lists
    without validation data. ``best_epoch`` is the 0-based epoch with the best monitored
    validation figure (``val_loss`` unless early stopping monitors ``val_accuracy``), None
    without validation data.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epoch_time: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    interrupted: bool = False

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.train_loss)

    def _truncate(self, epochs: int) -> None:
        """Drop a partly recorded epoch (after an interrupt)."""
        for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "epoch_time", "lr"):
            values = getattr(self, name)
            del values[epochs:]


@dataclass
class _Targets:
    labels: np.ndarray | None
    values: np.ndarray | None


def _check_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, Iterable) or isinstance(callbacks, (str, bytes)):
        raise TypeError(f"fit: callbacks must be a list of callables (got {describe(callbacks)})")
    checked = list(callbacks)
    for i, cb in enumerate(checked):
        if not callable(cb):
            raise TypeError(f"fit: callbacks[{i}] must be callable (got {describe(cb)})")
    return checked


def _fit_seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**63))
    return check_int(seed, "seed", "fit", minimum=0, maximum=2**64 - 1)


def _validation_rows(
    model: MLP, targets: _Targets, n: int, split: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of the rows into training and validation rows (stratified for class labels)."""
    stratify_by: Any = n
    if targets.labels is not None:
        stratify_by = targets.labels
    elif model.is_classifier and targets.values is not None and targets.values.shape[1] > 1 and model.output == "softmax":
        stratify_by = targets.values.argmax(axis=1)
    elif model.loss == "binary_cross_entropy" and targets.values is not None and targets.values.shape[1] == 1:
        stratify_by = (targets.values[:, 0] > 0.5).astype(np.int32)
    n_val = round(split * n)
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"fit: validation_split={split} leaves {n_val} validation and {n - n_val} training "
            f"samples out of {n}; each needs at least one"
        )
    train, val, _ = train_val_test_indices(stratify_by, val_size=n_val, test_size=0, seed=seed)
    return np.sort(train).astype(np.int64), np.sort(val).astype(np.int64)


class _Progress:
    """One line per epoch on stderr, when asked or when stderr is a terminal."""

    def __init__(self, verbose: bool | None, epochs: int) -> None:
        if verbose is not None and not isinstance(verbose, bool):
            raise TypeError(f"fit: verbose must be None, True or False (got {describe(verbose)})")
        stream = sys.stderr
        self.enabled = verbose if verbose is not None else bool(getattr(stream, "isatty", lambda: False)())
        self.width = len(str(epochs))
        self.epochs = epochs

    def epoch(self, epoch: int, history: History) -> None:
        if not self.enabled:
            return
        parts = [f"epoch {epoch + 1:>{self.width}}/{self.epochs}", f"loss {history.train_loss[-1]:.4f}"]
        if history.train_accuracy:
            parts.append(f"acc {history.train_accuracy[-1]:.4f}")
        if history.val_loss:
            parts.append(f"val_loss {history.val_loss[-1]:.4f}")
        if history.val_accuracy:
            parts.append(f"val_acc {history.val_accuracy[-1]:.4f}")
        parts.append(f"{history.epoch_time[-1]:.2f}s")
        print("  ".join(parts), file=sys.stderr, flush=True)


def fit(
    model: MLP,
    X: Any,
    y: Any,
    *,
    optimizer: Optimizer,
    epochs: int = 10,
    batch_size: int | None = 32,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    early_stopping: EarlyStopping | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    verbose: bool | None = None,
    callbacks: Iterable[Callback] | None = None,
) -> History:
    """Train ``model`` on ``(X, y)`` by minibatch SGD or Adam; return the per-epoch :class:`History`.

    ``batch_size=1`` is online learning, ``None`` full-batch gradient descent; otherwise each
    epoch walks a fresh seeded permutation of the rows in batches of ``batch_size`` (the last
    may be smaller), or the rows in order with ``shuffle=False``. Each step descends the mean
    loss of its batch. ``X`` is used in place when it is a C-contiguous array of the model's
    dtype (no copy of the training set is made); ``y`` holds class indices, one-hot rows,
    0/1 indicators or real targets, as the model's loss needs.

    Validation data comes from ``validation_data=(X_val, y_val)`` or from a seeded random
    ``validation_split`` fraction of the rows (stratified for class labels), held out before
    training. ``callbacks`` are called as ``cb(epoch, history)`` after every epoch; one that
    returns True stops training; one that raises stops it too, and the exception propagates
    with the model holding the epochs completed so far. Ctrl-C stops cleanly at the end of the
    current epoch (an epoch runs in C++ and finishes first) and returns the history so far,
    that epoch included (callbacks are not called for it). Training one model from two threads at once raises RuntimeError. The same ``seed`` (and model seed) gives bit-identical weights and
    history for any thread count.

    Raises :class:`TrainingDivergedError` when the loss becomes NaN or infinite; the model then
    holds the weights it had before the diverging epoch, or with ``EarlyStopping(restore_best=
    True)`` the best epoch's.
    """
    func = "fit"
    if not isinstance(model, MLP):
        raise TypeError(f"{func}: model must be an mlpcore.MLP (got {describe(model)})")
    if not isinstance(optimizer, (SGD, Adam)):
        raise TypeError(f"{func}: optimizer must be an mlpcore.SGD or mlpcore.Adam (got {describe(optimizer)})")
    epochs = check_int(epochs, "epochs", func, minimum=0)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", func, minimum=1, maximum=2**63 - 1)  # C++ int64
    if not isinstance(shuffle, bool):
        raise TypeError(f"{func}: shuffle must be a bool (got {describe(shuffle)})")
    validation_split = check_float(validation_split, "validation_split", func, minimum=0.0, maximum=1.0, max_inclusive=False)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"{func}: early_stopping must be an mlpcore.EarlyStopping (got {describe(early_stopping)})")
    callback_list = _check_callbacks(callbacks)
    progress = _Progress(verbose, epochs)
    fit_seed = _fit_seed(seed)

    x = model._as_input(X, func)
    targets = _Targets(*model._as_targets(y, len(x), func))
    train_rows: np.ndarray | None = None
    val: tuple[np.ndarray, _Targets, np.ndarray | None] | None = None
    if validation_data is not None and validation_split > 0:
        raise ValueError(f"{func}: pass validation_data or validation_split, not both")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"{func}: validation_data must be a pair (X_val, y_val) (got {describe(validation_data)})")
        x_val = model._as_input(validation_data[0], func, "validation_data X")
        val = (x_val, _Targets(*model._as_targets(validation_data[1], len(x_val), func, "validation_data y")), None)
    elif validation_split > 0:
        train_rows, val_rows = _validation_rows(model, targets, len(x), validation_split, fit_seed)
        val = (x, targets, val_rows)
    if early_stopping is not None and val is None:
        raise ValueError(f"{func}: early_stopping needs validation_data or validation_split")
    if early_stopping is not None and early_stopping.monitor == "val_accuracy" and not model.is_classifier:
        raise ValueError(f"{func}: early_stopping cannot monitor val_accuracy with the regression loss {model.loss!r}")

    n_train = len(x) if train_rows is None else len(train_rows)
    step_rows = n_train if batch_size is None else batch_size
    params = model._params
    runner = EpochRunner(model, optimizer)
    # The input's non-zeros listed once for all epochs, unless a callback could change X in place
    # between them (then they are found in every batch, as without the list).
    nonzeros = runner.input_index(x) if not callback_list else None
    # Without early stopping, best_epoch still follows the validation loss (never stopping).
    rule = early_stopping if early_stopping is not None else EarlyStopping(monitor="val_loss")
    monitor = rule.monitor
    history = History()
    best_value: float | None = None
    best_params: np.ndarray | None = None
    waited = 0
    completed = 0
    with one_fit_at_a_time(model, func):
        try:
            # Ctrl-C is held while an epoch and its records are written, and raised at the next
            # epoch's start, before the callbacks or when the loop ends (see DeferredInterrupts).
            with DeferredInterrupts() as interrupts:
                for epoch in range(epochs):
                    interrupts.checkpoint()
                    start = time.perf_counter()
                    lr = optimizer.lr_at(epoch)
                    try:
                        totals = runner.run(
                            x, targets.labels, targets.values, train_rows, nonzeros=nonzeros,
                            batch_size=step_rows, shuffle=shuffle, seed=fit_seed, epoch=epoch, lr=lr,
                            weights_unchanged=epoch > 0 and not callback_list,  # callbacks may change them
                        )
                    except EpochDiverged:
                        if best_params is not None:
                            params[...] = best_params
                        raise TrainingDivergedError(
                            f"{func}: the training loss became NaN or infinite in epoch {epoch + 1} of {epochs} "
                            f"(lr={lr:g}); try a lower learning rate",
                            history,
                        ) from None
                    history.train_loss.append(totals.loss_sum / totals.rows)
                    if model.is_classifier:
                        history.train_accuracy.append(totals.correct / totals.rows)
                    if val is not None:
                        x_val, val_targets, val_rows = val
                        val_sum, val_correct, val_count = model._net.evaluate(
                            params, x_val, val_targets.labels, val_targets.values, val_rows
                        )
                        history.val_loss.append(val_sum / val_count)
                        if model.is_classifier:
                            history.val_accuracy.append(val_correct / val_count)
                    history.lr.append(lr)
                    history.epoch_time.append(time.perf_counter() - start)
                    completed = epoch + 1
                    stop = False
                    if val is not None:
                        value = (history.val_loss if monitor == "val_loss" else history.val_accuracy)[-1]
                        if rule.improved(value, best_value):
                            best_value, history.best_epoch, waited = value, epoch, 0
                            if early_stopping is not None and early_stopping.restore_best:
                                best_params = params.copy()
                        else:
                            waited += 1
                            stop = early_stopping is not None and waited >= early_stopping.patience
                    progress.epoch(epoch, history)
                    # The epoch's records are complete, and a Ctrl-C held during it stops here,
                    # before the callbacks (which run with Python's own Ctrl-C handling, so that
                    # Ctrl-C can stop a slow one) and before any early stop is recorded.
                    interrupts.checkpoint()
                    if callback_list:
                        with interrupts.released():
                            for cb in callback_list:
                                if cb(epoch, history) is True:
                                    stop = True
                    if stop:
                        history.stopped_early = early_stopping is not None and waited >= early_stopping.patience
                        break
        except KeyboardInterrupt:
            history._truncate(completed)
            history.interrupted = True
            if history.best_epoch is not None and history.best_epoch >= completed:
                history.best_epoch = None
        if best_params is not None:
            params[...] = best_params
    return history
