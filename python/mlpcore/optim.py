"""Optimisers: hyper-parameters and schedules only (the state of a run lives in :func:`mlpcore.fit`).

Both run inside the C++ epoch loop, one fused update per minibatch; biases take the same step
without weight decay or L1.

:class:`SGD` is minibatch stochastic gradient descent with the update of
:func:`mlpcore.ops.sgd_update` (``torch.optim.SGD`` with dampening 0, plus an L1 term), run
inside the C++ epoch loop. For a weight matrix ``W`` with minibatch gradient ``g``::

    g' = g + weight_decay * W + l1 * sign(W)        (biases: g' = g)
    v  = momentum * v + g'                           (v starts at 0 in every fit call)
    W  = W - lr_t * (g' + momentum * v if nesterov else v)
    W[:, j] *= max_norm / ||W[:, j]||                 whenever ||W[:, j]|| > max_norm

so weight decay with l1 is the elastic net, and max-norm caps the L2 norm of each unit's
incoming weight vector after every step. ``lr_t = lr / (1 + lr_decay * t)`` in epoch t (from 0).

:class:`Adam` is ``torch.optim.Adam`` (amsgrad off, L2 weight decay added to the gradient), plus
the same L1 and max-norm terms. For step ``s = 1, 2, ...`` (counted over the whole run)::

    g' = g + weight_decay * W + l1 * sign(W)
    m  = beta1 * m + (1 - beta1) * g'
    v  = beta2 * v + (1 - beta2) * g'^2
    W  = W - lr_t / (1 - beta1^s) * m / (sqrt(v) / sqrt(1 - beta2^s) + eps)
"""

from __future__ import annotations

from typing import Any, Union

from ._validation import check_float, describe

__all__ = ["SGD", "Adam", "Optimizer"]


class _Schedule:
    """What both optimisers share: the 1/t learning-rate decay and a repr of the non-defaults."""

    lr: float
    lr_decay: float

    def _check_shared(self, func: str, lr: Any, weight_decay: Any, l1: Any, max_norm: Any, lr_decay: Any) -> None:
        """Checks and sets the hyper-parameters both optimisers take."""
        self.lr = check_float(lr, "lr", func, minimum=0.0, min_inclusive=False)
        self.weight_decay = check_float(weight_decay, "weight_decay", func, minimum=0.0)
        self.l1 = check_float(l1, "l1", func, minimum=0.0)
        self.max_norm = (
            None if max_norm is None else check_float(max_norm, "max_norm", func, minimum=0.0, min_inclusive=False)
        )
        self.lr_decay = check_float(lr_decay, "lr_decay", func, minimum=0.0)

    def lr_at(self, epoch: int) -> float:
        """The learning rate of epoch ``epoch`` (0-based): ``lr / (1 + lr_decay * epoch)``."""
        return self.lr / (1.0 + self.lr_decay * epoch)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        defaults = type(self)().get_config()
        parts = [f"{k}={v!r}" for k, v in self.get_config().items() if k == "lr" or v != defaults[k]]
        return f"{type(self).__name__}({', '.join(parts)})"


class SGD(_Schedule):
    """Minibatch SGD with momentum (optionally Nesterov), weight decay, L1, max-norm and 1/t decay."""

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        nesterov: bool = False,
        max_norm: float | None = None,
        lr_decay: float = 0.0,
    ) -> None:
        func = "SGD"
        self._check_shared(func, lr, weight_decay, l1, max_norm, lr_decay)
        self.momentum = check_float(momentum, "momentum", func, minimum=0.0, maximum=1.0)
        if not isinstance(nesterov, bool):
            raise TypeError(f"{func}: nesterov must be a bool (got {describe(nesterov)})")
        if nesterov and self.momentum == 0.0:
            raise ValueError(f"{func}: nesterov momentum needs momentum > 0 (got momentum={self.momentum})")
        self.nesterov = nesterov

    def get_config(self) -> dict[str, Any]:
        """The hyper-parameters as a dict (``SGD(**config)`` rebuilds the optimiser)."""
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
            "nesterov": self.nesterov,
            "max_norm": self.max_norm,
            "lr_decay": self.lr_decay,
        }


class Adam(_Schedule):
    """Adam (``torch.optim.Adam`` semantics), with optional L1, max-norm and 1/t decay."""

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        max_norm: float | None = None,
        lr_decay: float = 0.0,
    ) -> None:
        func = "Adam"
        self._check_shared(func, lr, weight_decay, l1, max_norm, lr_decay)
        self.beta1 = check_float(beta1, "beta1", func, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.beta2 = check_float(beta2, "beta2", func, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.eps = check_float(eps, "eps", func, minimum=0.0, min_inclusive=False)

    def get_config(self) -> dict[str, Any]:
        """The hyper-parameters as a dict (``Adam(**config)`` rebuilds the optimiser)."""
        return {
            "lr": self.lr,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
            "max_norm": self.max_norm,
            "lr_decay": self.lr_decay,
        }


Optimizer = Union[SGD, Adam]
