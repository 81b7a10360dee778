"""The multilayer perceptron: architecture, weights, forward pass, loss and gradients, files.

A network with layer sizes ``[n_0, n_1, ..., n_L]`` computes, for a batch ``X`` (one sample per
row), ``A_0 = X`` and for each layer ``l = 1 .. L``::

    Z_l = A_{l-1} W_l + b_l          W_l of shape (n_{l-1}, n_l), b_l of shape (n_l,)
    A_l = f_l(Z_l)                   f_l the hidden activation, or the output function for l = L

``[784, 10]`` with a softmax output is softmax (multinomial logistic) regression. All weights
live in one flat float32 (or float64) buffer that the C++ core trains in place;
:meth:`MLP.get_weights` hands out copies.
"""

from __future__ import annotations

import math
import os
import uuid
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import _core
from ._validation import (
    c_array,
    check_choice,
    check_finite,
    check_float,
    check_int,
    describe,
    numeric_pandas_as_numpy,
)
from .ops import ACTIVATIONS

__all__ = ["LOSSES", "MLP", "OUTPUTS", "load", "load_metadata", "load_with_metadata"]

OUTPUTS: tuple[str, ...] = ("softmax", "sigmoid", "identity", "exp")
LOSSES: tuple[str, ...] = ("cross_entropy", "binary_cross_entropy", "mse", "mae", "hinge", "poisson")
_DEFAULT_LOSS = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy", "identity": "mse", "exp": "poisson"}
# Each loss that fixes its output activation (the fused output/loss pairs of the core).
_LOSS_OUTPUT = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid", "poisson": "exp"}
_CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy", "hinge")
# He initialisation suits units followed by these (they zero or shrink half their inputs).
_HE_ACTIVATIONS = ("relu", "leaky_relu")
_NEGATIVE_SLOPE = 0.01  # leaky_relu, as torch.nn.LeakyReLU
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
# The widest layer the C++ core builds (mlp.cpp checks the same); the estimators and the
# command line check their layer sizes against it too.
MAX_LAYER_WIDTH = 2**24
_FILE_FORMAT = "mlpcore.MLP"
_FILE_VERSION = 1
_METADATA_PREFIX = "meta."


#: Byte alignment of a model's parameter vector. The sparse first layer reads weight rows, and
#: the optimiser streams weights, moments and gradient, in 64-byte vectors; at numpy's 16-byte
#: alignment every such load straddled two cache lines (a 784-100-10 epoch 9% slower, 128
#: hidden units 11%).
_PARAMS_ALIGNMENT = 64


def _aligned_params(values: np.ndarray) -> np.ndarray:
    """A writable copy of the 1-D ``values`` starting on a :data:`_PARAMS_ALIGNMENT` boundary."""
    spare = _PARAMS_ALIGNMENT // values.itemsize
    buffer = np.empty(values.size + spare, dtype=values.dtype)
    start = (-buffer.ctypes.data % _PARAMS_ALIGNMENT) // values.itemsize
    out = buffer[start:start + values.size]
    out[...] = values
    return out


def _as_dtype(dtype: Any, func: str = "MLP") -> np.dtype:
    """``dtype`` as float32 or float64 in the machine's byte order (what the C++ core reads);
    TypeError/ValueError naming ``func`` otherwise. None is refused (numpy reads it as float64)."""
    if dtype is None:
        raise TypeError(f"{func}: dtype must be 'float32' or 'float64' (got None)")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{func}: dtype must be 'float32' or 'float64' (got {describe(dtype)})") from None
    if resolved.name not in _DTYPES:
        raise ValueError(f"{func}: dtype must be 'float32' or 'float64' (got {resolved.name!r})")
    if not resolved.isnative:
        raise ValueError(f"{func}: dtype must be 'float32' or 'float64' in native byte order (got {resolved.str!r})")
    return resolved


class MLP:
    """A multilayer perceptron (softmax regression when it has no hidden layer).

    Parameters
    ----------
    layer_sizes:
        ``[n_in, h_1, ..., n_out]``, at least two positive integers.
    activation:
        Hidden activation, one name or one per hidden layer: identity, sigmoid, tanh, relu,
        leaky_relu (slope 0.01 below zero) or softplus.
    output:
        ``"softmax"`` (multiclass), ``"sigmoid"`` (binary and multilabel), ``"identity"``
        (regression, or raw scores for the hinge loss) or ``"exp"`` (counts and rates: the
        output is ``exp(z)``, the log link of Poisson regression).
    loss:
        ``cross_entropy`` (softmax), ``binary_cross_entropy`` (sigmoid), ``mse``, ``mae``,
        ``hinge`` or ``poisson`` (exp); by default cross_entropy for softmax,
        binary_cross_entropy for sigmoid, mse for identity and poisson for exp. Reductions
        follow PyTorch: cross-entropy is the mean over samples of ``-log p_y``
        (CrossEntropyLoss); BCE, MSE and MAE the mean over all elements (BCELoss, MSELoss,
        L1Loss); hinge the multiclass margin loss
        ``mean_i sum_{j != y_i} max(0, 1 - s_{i,y_i} + s_{ij}) / k`` (MultiMarginLoss), and with
        one output ``mean_i max(0, 1 - t_i s_i)`` for labels ``t_i = 2 y_i - 1``; poisson the
        half Poisson deviance ``y log(y / a) - y + a`` (``a = exp(z)``, ``0 log 0 = 0``) averaged
        over all elements, which needs targets ``y >= 0`` and has gradient ``a - y`` in ``z``.
    dropout:
        Probability of dropping each hidden unit during training (inverted dropout: kept
        units are scaled by ``1 / (1 - dropout)``, so prediction needs no rescaling).
    input_noise:
        Standard deviation of the Gaussian noise added to the inputs during training.
    seed:
        Seed of the initial weights: He-uniform, ``U(-sqrt(6 / fan_in), +)``, for layers
        feeding relu or leaky_relu, Glorot-uniform, ``U(-sqrt(6 / (fan_in + fan_out)), +)``,
        for all others including the output layer; biases start at zero.
    dtype:
        ``"float32"`` (fast) or ``"float64"`` (gradient checks), used end to end.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        activation: str | Sequence[str] = "relu",
        output: str = "softmax",
        loss: str | None = None,
        dropout: float = 0.0,
        input_noise: float = 0.0,
        seed: int | None = None,
        dtype: Any = "float32",
    ) -> None:
        func = "MLP"
        if isinstance(layer_sizes, (str, bytes)) or not isinstance(layer_sizes, (Sequence, np.ndarray)):
            raise TypeError(f"{func}: layer_sizes must be a list of integers (got {describe(layer_sizes)})")
        sizes = tuple(check_int(s, f"layer_sizes[{i}]", func, minimum=1, maximum=MAX_LAYER_WIDTH)
                      for i, s in enumerate(layer_sizes))
        if len(sizes) < 2:
            raise ValueError(f"{func}: layer_sizes needs at least 2 entries, [n_in, n_out] (got {list(sizes)})")
        n_hidden = len(sizes) - 2
        if isinstance(activation, str):
            check_choice(activation, "activation", func, ACTIVATIONS)  # even without hidden layers
            hidden = (activation,) * n_hidden
        elif isinstance(activation, Sequence):
            hidden = tuple(activation)
            if len(hidden) != n_hidden:
                raise ValueError(
                    f"{func}: activation must be one name or one per hidden layer "
                    f"({n_hidden}), got {len(hidden)}"
                )
        else:
            raise TypeError(f"{func}: activation must be a name or a list of names (got {describe(activation)})")
        for i, name in enumerate(hidden):
            check_choice(name, f"activation[{i}]" if not isinstance(activation, str) else "activation", func, ACTIVATIONS)
        check_choice(output, "output", func, OUTPUTS)
        if loss is None:
            loss = _DEFAULT_LOSS[output]
        check_choice(loss, "loss", func, LOSSES)
        needed = _LOSS_OUTPUT.get(loss, output)
        if output != needed:
            raise ValueError(f"{func}: loss {loss!r} needs output {needed!r} (got {output!r})")
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError(f"{func}: output 'softmax' needs at least 2 output units (got {sizes[-1]})")
        self.layer_sizes: tuple[int, ...] = sizes
        self.activation: tuple[str, ...] = hidden
        self.output: str = output
        self.loss: str = loss
        self.dropout: float = check_float(dropout, "dropout", func, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.input_noise: float = check_float(input_noise, "input_noise", func, minimum=0.0)
        if seed is not None:
            check_int(seed, "seed", func, minimum=0)
        self.seed: int | None = seed
        self.dtype: np.dtype = _as_dtype(dtype)
        self._net = _core.Network(list(sizes), list(hidden), output, loss, _NEGATIVE_SLOPE)
        self._params = _aligned_params(np.zeros(self._net.n_parameters, dtype=self.dtype))
        self._initialise(np.random.default_rng(seed))

    # ----------------------------------------------------------------- architecture and weights
    @property
    def n_parameters(self) -> int:
        """Number of trainable values (all weights and biases)."""
        return int(self._params.size)

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    @property
    def is_classifier(self) -> bool:
        """Whether the loss treats targets as classes (accuracy is then defined)."""
        return self.loss in _CLASSIFICATION_LOSSES

    def _views(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, b) views into the flat parameter buffer, layer by layer."""
        views = []
        for layer, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            w0, b0 = self._net.weight_offset(layer), self._net.bias_offset(layer)
            views.append((self._params[w0:b0].reshape(n_in, n_out), self._params[b0 : b0 + n_out]))
        return views

    def _initialise(self, rng: np.random.Generator) -> None:
        feeds = self.activation + (self.output,)
        for (w, b), following in zip(self._views(), feeds):
            fan_in, fan_out = w.shape
            if following in _HE_ACTIVATIONS:
                bound = math.sqrt(6.0 / fan_in)
            else:
                bound = math.sqrt(6.0 / (fan_in + fan_out))
            w[...] = rng.uniform(-bound, bound, size=w.shape)
            b[...] = 0.0

    def get_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Copies of ``(W, b)`` per layer, W of shape (n_in, n_out), b of shape (n_out,)."""
        return [(w.copy(), b.copy()) for w, b in self._views()]

    def set_weights(self, weights: Sequence[tuple[Any, Any]]) -> None:
        """Replace every ``(W, b)``; shapes must match and values be finite (all checked first)."""
        func = "set_weights"
        views = self._views()
        if not isinstance(weights, Sequence) or len(weights) != len(views):
            got = len(weights) if isinstance(weights, Sequence) else describe(weights)
            raise ValueError(f"{func}: weights must be a list of {len(views)} (W, b) pairs (got {got})")
        checked = []
        for layer, (pair, (w, b)) in enumerate(zip(weights, views)):
            if not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"{func}: weights[{layer}] must be a (W, b) pair (got {describe(pair)})")
            for part, name, target in ((pair[0], "W", w), (pair[1], "b", b)):
                arr = np.asarray(part)
                if arr.dtype.kind not in "biuf":
                    raise TypeError(f"{func}: weights[{layer}] {name} must be numeric (got {describe(arr)})")
                if arr.shape != target.shape:
                    raise ValueError(
                        f"{func}: weights[{layer}] {name} must have shape {target.shape} (got {arr.shape})"
                    )
                with np.errstate(over="ignore"):  # overflow shows up as inf, rejected below
                    cast = arr.astype(self.dtype)
                if not np.isfinite(cast).all():
                    raise ValueError(f"{func}: weights[{layer}] {name} must be finite in {self.dtype.name}")
                checked.append((target, cast))
        for target, cast in checked:
            target[...] = cast

    # ----------------------------------------------------------------------- inputs and targets
    def _as_input(self, X: Any, func: str, name: str = "X") -> np.ndarray:
        """X as a C-contiguous, aligned 2-D array of the model's dtype (no copy when it already is
        one)."""
        arr = X if type(X) is np.ndarray else np.asarray(numeric_pandas_as_numpy(X))
        if arr.dtype != self.dtype or not (arr.flags.c_contiguous and arr.flags.aligned):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{func}: {name} must be a numeric array (got {describe(arr)})")
            with np.errstate(over="ignore"):  # values beyond float32 become inf: rejected below
                arr = c_array(arr, dtype=self.dtype)
        if arr.ndim != 2:
            raise ValueError(
                f"{func}: {name} must be 2-D, (n_samples, {self.n_inputs}) (got shape {arr.shape})"
            )
        if arr.shape[1] != self.n_inputs:
            raise ValueError(
                f"{func}: {name} must have {self.n_inputs} columns, the model's input width "
                f"(got {arr.shape[1]})"
            )
        if arr.shape[0] == 0:
            raise ValueError(f"{func}: {name} is empty (0 samples)")
        check_finite(arr, name, func)
        return arr

    def _as_targets(self, y: Any, n_rows: int, func: str, name: str = "y") -> tuple[np.ndarray | None, np.ndarray | None]:
        """``(labels, values)``: int32 class indices or dense target rows, as the loss needs."""
        arr = np.asarray(numeric_pandas_as_numpy(y))
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{func}: {name} must be numeric (got {describe(arr)})")
        if arr.ndim == 0 or arr.ndim > 2:
            raise ValueError(f"{func}: {name} must be 1-D or 2-D (got shape {arr.shape})")
        if len(arr) != n_rows:
            raise ValueError(f"{func}: X and {name} must have the same length (got {n_rows} and {len(arr)})")
        if arr.dtype.kind == "f":
            check_finite(arr, name, func)
        k = self.n_outputs
        if self.loss in ("cross_entropy", "hinge"):
            if arr.ndim == 2 and arr.shape[1] == k and k > 1:
                if self.loss == "cross_entropy":
                    return None, self._probability_rows(arr, func, name)
                return self._labels(self._one_hot_to_labels(arr, func, name), func, name), None
            if arr.ndim == 2 and arr.shape[1] == 1:
                arr = arr[:, 0]
            if arr.ndim != 1:
                raise ValueError(
                    f"{func}: {name} must be class indices of shape (n,) or one-hot rows of shape "
                    f"(n, {k}) (got shape {arr.shape})"
                )
            return self._labels(arr, func, name), None
        if self.loss == "binary_cross_entropy":
            values = arr.reshape(-1, 1) if arr.ndim == 1 else arr
            if values.shape[1] != k:
                raise ValueError(f"{func}: {name} must have shape (n, {k}) for {k} sigmoid outputs (got {arr.shape})")
            if np.any((values < 0) | (values > 1)):
                raise ValueError(f"{func}: {name} must hold 0/1 labels (or probabilities) in [0, 1]")
            return None, c_array(values, dtype=self.dtype)
        # mse / mae / poisson: real targets.
        values = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        if values.shape[1] != k:
            raise ValueError(f"{func}: {name} must have shape (n, {k}) to match the {k} outputs (got {arr.shape})")
        with np.errstate(over="ignore"):
            values = c_array(values, dtype=self.dtype)
        check_finite(values, name, func)
        if self.loss == "poisson" and np.any(values < 0):
            raise ValueError(f"{func}: {name} holds negative values, but the poisson loss needs counts or rates >= 0")
        return None, values

    def _labels(self, arr: np.ndarray, func: str, name: str) -> np.ndarray:
        classes = 2 if self.n_outputs == 1 else self.n_outputs
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise ValueError(f"{func}: {name} must hold integer class labels (got non-integer values)")
        if arr.size and (arr.min() < 0 or arr.max() >= classes):
            bad = arr.min() if arr.min() < 0 else arr.max()
            raise ValueError(
                f"{func}: {name} holds label {bad.item()!r}, outside the output range [0, {classes - 1}]"
            )
        return c_array(arr, dtype=np.int32)

    @staticmethod
    def _one_hot_to_labels(arr: np.ndarray, func: str, name: str) -> np.ndarray:
        if not (np.isin(arr, (0, 1)).all() and (arr.sum(axis=1) == 1).all()):
            raise ValueError(f"{func}: {name} rows must be one-hot (a single 1 per row)")
        return arr.argmax(axis=1)

    def _probability_rows(self, arr: np.ndarray, func: str, name: str) -> np.ndarray:
        if np.any(arr < 0) or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-4):
            raise ValueError(f"{func}: {name} rows must be one-hot or class probabilities (>= 0, summing to 1)")
        return c_array(arr, dtype=self.dtype)

    # ------------------------------------------------------------------------ forward and loss
    def _outputs(self, X: Any, func: str) -> np.ndarray:
        """Output activations of X. An array the core takes as it is (C order, the model's dtype,
        2-D, finite: the core checks all of it) goes straight through, which keeps one-sample
        latency low; anything else is converted, or rejected with a message, by _as_input."""
        try:
            return self._net.predict(self._params, X)
        except (TypeError, ValueError):
            pass
        return self._net.predict(self._params, self._as_input(X, func))

    def forward(self, X: Any) -> np.ndarray:
        """Output activations, shape (n_samples, n_out): softmax or sigmoid probabilities, or raw values."""
        return self._outputs(X, "forward")

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax rows, or per-output sigmoid probabilities)."""
        if self.output not in ("softmax", "sigmoid"):
            raise ValueError(f"predict_proba: needs a softmax or sigmoid output (this model's output is {self.output!r})")
        return self._outputs(X, "predict_proba")

    def predict(self, X: Any) -> np.ndarray:
        """Class indices (softmax, multiclass hinge), 0/1 labels or an indicator matrix (sigmoid,
        one-output hinge), or the output values (regression losses)."""
        out = self._outputs(X, "predict")
        if not self.is_classifier:
            return out
        if self.output == "softmax" or (self.loss == "hinge" and self.n_outputs > 1):
            return out.argmax(axis=1)
        threshold = 0.5 if self.output == "sigmoid" else 0.0
        labels = (out > threshold).astype(np.int64)
        return labels[:, 0] if self.n_outputs == 1 else labels

    def loss_and_grads(self, X: Any, Y: Any) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
        """The data loss over (X, Y) (no regulariser terms, no dropout or noise) and its exact
        gradients ``[(dW, db), ...]`` by backpropagation in C++."""
        x = self._as_input(X, "loss_and_grads")
        labels, values = self._as_targets(Y, len(x), "loss_and_grads", name="Y")
        loss, flat = self._net.loss_and_grads(self._params, x, labels, values)
        grads = []
        for layer, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            w0, b0 = self._net.weight_offset(layer), self._net.bias_offset(layer)
            grads.append((flat[w0:b0].reshape(n_in, n_out), flat[b0 : b0 + n_out]))
        return float(loss), grads

    # ------------------------------------------------------------------- copies and pickling
    def __getstate__(self) -> dict[str, Any]:
        # The native Network is rebuilt from the architecture, so models pickle (multiprocessing,
        # joblib) and deep-copy like plain Python objects.
        state = self.__dict__.copy()
        del state["_net"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        # A fresh, aligned copy: joblib may hand the weights back as a read-only memory map
        # (training writes them), and unpickled arrays start anywhere.
        self._params = _aligned_params(self._params)
        self._net = _core.Network(
            list(self.layer_sizes), list(self.activation), self.output, self.loss, _NEGATIVE_SLOPE
        )

    # ---------------------------------------------------------------------------------- files
    def save(self, path: str | os.PathLike[str], *, metadata: Mapping[str, Any] | None = None) -> None:
        """Write the model to one ``.npz`` file (format version, architecture, weights).

        ``metadata`` maps names to arrays (numbers, strings or arrays of them, never objects)
        stored beside the model, for example the input scaling or the class labels a program
        needs to use the model again; :func:`load_metadata` reads them back. The file is
        written to a temporary name first and then renamed, so a failed save never leaves a
        half-written model behind.
        """
        func = "MLP.save"
        if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
            raise TypeError(f"{func}: path must be a str or os.PathLike of str (got {describe(path)})")
        extra: dict[str, np.ndarray] = {}
        if metadata is not None:
            if not isinstance(metadata, Mapping):
                raise TypeError(f"{func}: metadata must be a dict of arrays (got {describe(metadata)})")
            for key, value in metadata.items():
                if not isinstance(key, str) or not key:
                    raise TypeError(f"{func}: metadata keys must be non-empty strings (got {key!r})")
                arr = np.asarray(value)
                if arr.dtype.kind not in "biufU":
                    raise TypeError(
                        f"{func}: metadata[{key!r}] must hold numbers or strings (got dtype {arr.dtype})"
                    )
                extra[_METADATA_PREFIX + key] = arr
        target = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            # Named here: the error from opening the temporary file would name that file instead.
            raise FileNotFoundError(f"{func}: the folder of {target!r} does not exist ({folder})")
        if os.path.isdir(target):
            raise IsADirectoryError(f"{func}: {target!r} is a folder; give a file name such as model.npz")
        # A unique temporary name beside the target, created exclusively: unlike mkstemp's
        # private 0600 files, it gets the permissions the user's umask gives any new file.
        tmp = f"{os.path.abspath(target)}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "xb") as f:
                np.savez(
                    f,
                    format=np.array(_FILE_FORMAT),
                    format_version=np.array(_FILE_VERSION),
                    layer_sizes=np.array(self.layer_sizes, dtype=np.int64),
                    activation=np.array(self.activation, dtype=str).reshape(len(self.activation)),
                    output=np.array(self.output),
                    loss=np.array(self.loss),
                    dropout=np.array(self.dropout),
                    input_noise=np.array(self.input_noise),
                    dtype=np.array(self.dtype.name),
                    params=self._params,
                    **extra,
                )
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        hidden = ""
        if self.activation:
            names = set(self.activation)
            hidden = f", activation={self.activation[0]!r}" if len(names) == 1 else f", activation={list(self.activation)!r}"
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (("dropout", self.dropout), ("input_noise", self.input_noise))
            if value
        )
        return (
            f"MLP({list(self.layer_sizes)}{hidden}, output={self.output!r}, loss={self.loss!r}"
            f"{extras}, dtype={self.dtype.name!r})"
        )


def _scalar(data: Any, key: str, kind: str, path: str) -> Any:
    arr = data[key]
    if arr.ndim != 0 or arr.dtype.kind not in kind:
        raise ValueError(f"load: {path} is not an mlpcore model file (bad field {key!r})")
    return arr.item()


def load(path: str | os.PathLike[str]) -> MLP:
    """Read a model written by :meth:`MLP.save`. Never unpickles anything.

    Raises FileNotFoundError for a missing file and ValueError for a truncated, corrupt or
    foreign one.
    """
    return load_with_metadata(path)[0]


def load_metadata(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The ``metadata`` arrays stored by :meth:`MLP.save` (an empty dict when there are none).

    Raises FileNotFoundError for a missing file and ValueError for a file that is not a
    model file (checked as :func:`load` does).
    """
    return load_with_metadata(path)[1]


def load_with_metadata(path: str | os.PathLike[str]) -> tuple[MLP, dict[str, np.ndarray]]:
    """The model and its ``metadata`` arrays from one read of the file (see :func:`load`)."""
    target = os.fspath(path)
    if not os.path.isfile(target):
        raise FileNotFoundError(f"load: no such model file: {target!r}")
    try:
        if not zipfile.is_zipfile(target):
            # Checked first: numpy would call any other file "pickled data" and suggest
            # loading it unsafely.
            raise ValueError("not a .npz archive")
        # Our own file object, so it is closed even when numpy fails half-way through a header.
        with open(target, "rb") as stream:
            data = np.load(stream, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):  # a plain .npy array
                raise ValueError("not a .npz archive")  # noqa: TRY004 - the file, not an argument, is wrong
            fields = {"format", "format_version", "layer_sizes", "activation", "output", "loss",
                      "dropout", "input_noise", "dtype", "params"}
            missing = fields - set(data.files)
            if missing:
                raise ValueError(f"missing fields {sorted(missing)}")
            if _scalar(data, "format", "U", target) != _FILE_FORMAT:
                raise ValueError("wrong format tag")
            version = _scalar(data, "format_version", "iu", target)
            if version != _FILE_VERSION:
                raise ValueError(f"format version {version} (this mlpcore reads version {_FILE_VERSION})")
            sizes = data["layer_sizes"]
            activation = data["activation"]
            params = data["params"]
            if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or activation.ndim != 1 or activation.dtype.kind != "U":
                raise ValueError("bad architecture fields")
            # The weights' count first: a tiny file naming huge layers must not make the
            # constructor allocate (and initialise) them.
            widths = [int(s) for s in sizes]
            expected = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
            if params.ndim != 1 or params.size != expected:
                raise ValueError(f"params of shape {params.shape}, expected ({expected},) for layers {widths}")
            model = MLP(
                [int(s) for s in sizes],
                activation=[str(a) for a in activation],
                output=_scalar(data, "output", "U", target),
                loss=_scalar(data, "loss", "U", target),
                dropout=float(_scalar(data, "dropout", "f", target)),
                input_noise=float(_scalar(data, "input_noise", "f", target)),
                dtype=_scalar(data, "dtype", "U", target),
            )
            if params.shape != model._params.shape or params.dtype != model.dtype:
                raise ValueError(
                    f"params of shape {params.shape} and dtype {params.dtype}, expected "
                    f"{model._params.shape} and {model.dtype}"
                )
            if not np.isfinite(params).all():
                raise ValueError("non-finite weights")
            model._params[...] = params
            metadata = {
                name[len(_METADATA_PREFIX):]: data[name]
                for name in data.files
                if name.startswith(_METADATA_PREFIX)
            }
            return model, metadata
    except FileNotFoundError:
        raise
    except (ValueError, TypeError, OSError, EOFError, KeyError, zipfile.BadZipFile, NotImplementedError,
            zlib.error) as exc:  # NotImplementedError, zlib.error: corrupt compression fields
        message = str(exc)
        if message.startswith("load: "):
            raise ValueError(message) from None
        raise ValueError(f"load: {target} is not a valid mlpcore model file ({message})") from None
