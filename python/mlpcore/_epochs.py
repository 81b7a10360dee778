"""One model's training epochs in C++, with the optimiser state kept between them.

:func:`mlpcore.fit` and the scikit-learn-style estimators both train through :class:`EpochRunner`:
it owns the optimiser buffers (SGD's velocity, Adam's moments and step count), so a run can
continue over several calls (``partial_fit``, ``warm_start``), and it turns a diverged epoch
into :class:`EpochDiverged` with the weights from before that epoch restored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _core
from .network import MLP
from .optim import SGD, Adam, Optimizer


@dataclass
class EpochTotals:
    loss_sum: float  # sum of the rows' losses (times loss_scale), each before its batch's step;
    # with sample weights, each batch's weighted mean loss times its rows
    batches: int
    correct: int  # rows classified correctly as they were trained on
    rows: int
    penalty_batches: float  # sum over batches of rows / weight sum (batches without weights)
    weight_squares: list[float]  # per layer, of the weights after the epoch: sum of W**2
    weight_abs: list[float]  # and sum of |W| (float64 sums; biases not included); both
    # empty unless the runner was made with weight_norms=True


def _zeros_apart(like: np.ndarray, gap: int) -> np.ndarray:
    """Zeros shaped like ``like``, starting ``gap`` bytes past its offset within a 4 KiB page.

    The C++ update streams the weights, their gradient and the optimiser state in lockstep;
    arrays at the same offset within a page (as large allocations are) make the CPU's loads
    falsely wait on stores to another array ("4K aliasing"): an Adam step on 78,400 float32
    weights took 45 instead of 31 µs. The C++ loop places the gradient apart from these.
    """
    page = 4096
    buffer = np.zeros(like.size + page // like.itemsize, dtype=like.dtype)
    start = ((like.ctypes.data + gap - buffer.ctypes.data) % page) // like.itemsize
    return buffer[start:start + like.size].reshape(like.shape)


class EpochDiverged(Exception):
    """A batch loss or a weight became NaN or infinite; the model is back at its weights from
    before the epoch."""


class EpochRunner:
    """Runs epochs of ``optimizer`` on ``model``, keeping the optimiser state between calls.

    ``decay_per_row`` divides the weight decay of each step by its batch's rows (scikit-learn's
    ``alpha / batch_size`` penalty); ``clip_log_loss`` reports log-loss terms as scikit-learn's
    ``log_loss`` does, each at most ``-log(eps)`` = 36.04 (the steps are the same either way).
    ``loss_scale = c`` trains on ``c`` times the model's loss
    (for example a sum over outputs where the model averages over them): the C++ loop descends
    the model's own loss, so the step is rescaled instead (SGD: ``lr * c`` with weight decay and
    L1 divided by ``c``; Adam: weight decay, L1 and ``eps`` divided by ``c``), which is exactly
    the update of the scaled loss. ``weight_norms`` has each epoch's totals carry every weight
    matrix's sums of squares and of absolute values (the estimators' penalty in ``loss_curve_``).
    """

    def __init__(self, model: MLP, optimizer: Optimizer, *, decay_per_row: bool = False, clip_log_loss: bool = False,
                 loss_scale: float = 1.0, weight_norms: bool = False, caller: str = "fit") -> None:
        self.model = model
        self.weight_norms = weight_norms
        self.optimizer = optimizer
        self.decay_per_row = decay_per_row
        self.clip_log_loss = clip_log_loss
        self.loss_scale = float(loss_scale)
        self._check_dtype_range(caller)
        self.reset()

    def _check_dtype_range(self, caller: str) -> None:
        """Hyper-parameters valid as Python floats can still overflow, or reach 0 or 1, in a
        float32 model; say which one, rather than letting the C++ loop refuse them all at once."""
        opt, c = self.optimizer, self.loss_scale
        if self.model.dtype != np.float32:
            return
        name = type(opt).__name__
        scaled = {"lr": opt.lr * (1.0 if isinstance(opt, Adam) else c), "weight_decay": opt.weight_decay / c,
                  "l1": opt.l1 / c}
        if isinstance(opt, Adam):
            scaled["eps"] = opt.eps / c
        if opt.max_norm:
            scaled["max_norm"] = opt.max_norm  # 0 would switch the constraint off
        for key, value in scaled.items():
            too_big = abs(value) > float(np.finfo(np.float32).max)
            if too_big or (key in ("eps", "max_norm") and np.float32(value) == 0):
                raise ValueError(f"{caller}: {name}({key}={getattr(opt, key)!r}) is out of range for the "
                                 "model's float32 weights")
        for key in ("beta1", "beta2"):  # momentum may be 1
            if hasattr(opt, key) and np.float32(getattr(opt, key)) >= 1:
                raise ValueError(f"{caller}: {name}({key}={getattr(opt, key)!r}) rounds to 1 in float32, the "
                                 "model's dtype")
        # The model's own regularisers, named as the MLP's arguments.
        if np.float32(self.model.dropout) >= 1:
            raise ValueError(f"{caller}: MLP(dropout={self.model.dropout!r}) rounds to 1 in float32, the model's dtype")
        if self.model.input_noise > float(np.finfo(np.float32).max):
            raise ValueError(f"{caller}: MLP(input_noise={self.model.input_noise!r}) is out of range for the "
                             "model's float32 weights")

    def drop_scratch(self) -> None:
        """Free the two weight-sized buffers that :meth:`run` keeps between epochs (a later run
        makes them again)."""
        for scratch in ("_snapshot", "_spare", "_snapshot_current"):
            self.__dict__.pop(scratch, None)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for scratch in ("_snapshot", "_spare", "_snapshot_current"):  # see drop_scratch
            state.pop(scratch, None)
        return state

    def _weight_ranges(self) -> list[tuple[int, int]]:
        """Where each layer's weight matrix lies in the flat parameters (its bias follows it)."""
        net = self.model._net
        return [(net.weight_offset(layer), net.bias_offset(layer)) for layer in range(len(self.model.layer_sizes) - 1)]

    def reset(self) -> None:
        """Forget the optimiser state: zero velocity or moments, Adam's step count back to 0."""
        params = self.model._params
        opt = self.optimizer
        needs_first = isinstance(opt, Adam) or (isinstance(opt, SGD) and opt.momentum > 0)
        self.first_moment = _zeros_apart(params, 1024) if needs_first else None
        self.second_moment = _zeros_apart(params, 2048) if isinstance(opt, Adam) else None
        self.steps = 0

    def input_index(self, x: np.ndarray) -> _core.InputIndex | None:
        """The non-zeros of ``x`` listed once, for :meth:`run`'s ``nonzeros`` over a fit's
        epochs, so the first layer's sparse path stops finding them every epoch; None where that
        path is not taken (narrow layers, dense inputs, input noise) or the lists would take more
        than 16 MiB (training otherwise holds no copy of the data). ``x`` must stay unchanged
        while the index is in use: callers keep it for one fit call."""
        if self.model.input_noise > 0:
            return None
        return self.model._net.input_index(x)

    def run(
        self,
        x: np.ndarray,
        labels: np.ndarray | None,
        values: np.ndarray | None,
        rows: np.ndarray | None,
        *,
        nonzeros: _core.InputIndex | None = None,
        sample_weight: np.ndarray | None = None,
        sample_weight_scale: float = 1.0,
        batch_size: int,
        shuffle: bool,
        seed: int,
        epoch: int,
        lr: float,
        weights_unchanged: bool = False,
    ) -> EpochTotals:
        """One epoch at learning rate ``lr``, with ``x``'s :meth:`input_index` when there is one;
        raises :class:`EpochDiverged` on NaN or infinity.

        ``sample_weight`` (one weight >= 0 per row of ``x``, its dtype) makes each batch B
        descend its weighted mean loss ``sum_i w_i l_i / W_B`` (``W_B = sum_i w_i``), with the
        weight decay divided by ``W_B`` instead of ``|B|`` under ``decay_per_row``, as
        scikit-learn's MLP; a batch with ``W_B = 0`` is skipped. ``sample_weight_scale = s``
        says the weights were divided by s: the decay is divided by s too, which gives the step
        of the original weights exactly, and ``penalty_batches`` is reported for them.

        ``weights_unchanged=True`` says that the weights have not changed since the previous
        call returned (the next epoch of the same loop), so the copy of them it made serves as
        this epoch's restore point."""
        model, opt, c = self.model, self.optimizer, self.loss_scale
        params = model._params
        # The weights before the epoch, to restore if it diverges. After an epoch, the scan
        # below copies them into the spare buffer while it reads them anyway; a run with
        # weights_unchanged starts from that copy instead of making another. The buffers are
        # reused (fresh ones each epoch faulted in new pages).
        snapshot = getattr(self, "_snapshot", None)
        if snapshot is None or snapshot.shape != params.shape or snapshot.dtype != params.dtype:
            snapshot = self._snapshot = np.empty_like(params)
            self._spare = np.empty_like(params)
            self._snapshot_current = False
        if not (weights_unchanged and self._snapshot_current):
            np.copyto(snapshot, params)
        self._snapshot_current = False
        # Only the per-batch decay (decay_per_row) divides by the weights' sum.
        rescale = sample_weight_scale if sample_weight is not None and self.decay_per_row else 1.0
        common = {
            "nonzeros": nonzeros, "sample_weight": sample_weight, "batch_size": batch_size, "shuffle": shuffle, "seed": seed, "epoch": epoch,
            "weight_decay": opt.weight_decay / c / rescale,
            "l1": opt.l1 / c, "decay_per_row": self.decay_per_row, "clip_log_loss": self.clip_log_loss,
            "max_norm": opt.max_norm or 0.0, "dropout": model.dropout, "input_noise": model.input_noise,
        }
        if isinstance(opt, Adam):
            result = model._net.train_epoch(
                params, self.first_moment, self.second_moment, x, labels, values, rows,
                optimizer="adam", lr=lr, beta1=opt.beta1, beta2=opt.beta2, eps=opt.eps / c,
                steps=self.steps, **common,
            )
        else:
            result = model._net.train_epoch(
                params, self.first_moment, None, x, labels, values, rows, optimizer="sgd",
                lr=lr * c, momentum=opt.momentum, nesterov=opt.nesterov, **common,
            )
        loss_sum, batches, correct, n_rows, diverged, penalty_batches = result
        if isinstance(opt, Adam):
            self.steps += batches
        # One pass over the new weights: copied (the next epoch's restore point), checked, and
        # each weight matrix's squares and absolute values summed (the estimators' penalty).
        ranges = self._weight_ranges() if getattr(self, "weight_norms", True) else []
        weights_finite, squares, absolute = (False, [], []) if diverged else _core.scan_weights(
            params, self._spare, ranges)
        if not weights_finite:
            # Back to the weights before the epoch: the last finite batch's may be finite but
            # huge (3e29 after lr=1e30), every later loss NaN, so the model would stay unusable.
            params[...] = snapshot
            # The optimiser state may hold the non-finite values that caused the divergence.
            self.reset()
            raise EpochDiverged
        self._snapshot, self._spare, self._snapshot_current = self._spare, snapshot, True
        return EpochTotals(loss_sum * c, batches, correct, n_rows, penalty_batches / rescale, squares, absolute)
