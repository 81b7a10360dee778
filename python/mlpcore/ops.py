"""Typed wrappers of the native kernels: GEMM, activations, softmax and log-softmax, and the fused
SGD and Adam steps (``matmul``, ``activation``/``activation_grad``, ``softmax``,
``log_softmax``, ``sgd_update``, ``adam_update``).

Every function checks its arguments here (clear ``TypeError``/``ValueError`` naming the
argument) and hands whole arrays to ``mlpcore._core``, which checks again and releases the GIL.
Copies made to reach a layout the kernels accept happen here, visibly, never inside C++.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Optional

import numpy as np

from . import _core
from ._validation import c_array

__all__ = [
    "ACTIVATIONS",
    "matmul",
    "activation",
    "activation_grad",
    "softmax",
    "log_softmax",
    "sgd_update",
    "adam_update",
]

#: Names accepted by :func:`activation` and :func:`activation_grad`.
ACTIVATIONS: tuple[str, ...] = tuple(_core.activation_names())

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _as_float_array(x: object, fn: str, name: str) -> np.ndarray:
    """``x`` as an ndarray of float32 or float64 (no dtype conversion: ints are an error)."""
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{fn}: {name} must be an array of float32 or float64 ({exc})") from exc
    if arr.dtype.kind == "f" and not arr.dtype.isnative and arr.dtype.newbyteorder("=") in _FLOAT_DTYPES:
        arr = arr.astype(arr.dtype.newbyteorder("="))  # a read input: swapped into a copy
    if arr.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{fn}: {name} must be a float32 or float64 array (got dtype {arr.dtype})")
    return arr


def _buffer_dtype_error(fn: str, name: str, dtype: np.dtype) -> TypeError:
    """The error for an array updated in place (never converted) whose dtype the core cannot use."""
    if dtype.kind == "f" and not dtype.isnative:
        return TypeError(f"{fn}: {name} must be float32 or float64 in the machine's byte order (got dtype "
                         f"{dtype.str}; it is updated in place: convert it once, x = x.astype(x.dtype.newbyteorder('=')), "
                         "and keep updating that array)")
    return TypeError(f"{fn}: {name} must be a float32 or float64 array (got dtype {dtype})")


def _same_dtype(fn: str, first: np.ndarray, first_name: str, other: np.ndarray, name: str) -> None:
    if other.dtype != first.dtype:
        raise TypeError(
            f"{fn}: {name} must have the dtype of {first_name} ({first.dtype}), got {other.dtype}"
        )


def _check_out(fn: str, out: object, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: out must be a numpy array or None (got {type(out).__name__})")
    if out.dtype != dtype:
        raise TypeError(f"{fn}: out must have dtype {dtype} (got {out.dtype})")
    if out.shape != shape:
        raise ValueError(f"{fn}: out.shape {out.shape} must be {shape}")
    if not out.flags.writeable:
        raise ValueError(f"{fn}: out must be writable (got a read-only array)")
    if not out.flags.c_contiguous:
        raise ValueError(f"{fn}: out must be C-contiguous")
    return out


def _real(fn: str, name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise TypeError(f"{fn}: {name} must be a real number (got {type(value).__name__})")
    return float(value)


def matmul(
    a: np.ndarray,
    b: np.ndarray,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    r"""General matrix multiply: :math:`out = \alpha\,op(a)\,op(b) + \beta\,out`.

    ``op(x)`` is ``x.T`` when the matching ``trans_*`` flag is set. ``a`` and ``b`` are 2-D
    float32 or float64 arrays of the same dtype, in any memory layout (C, Fortran or strided:
    the kernel packs them, so transposes cost nothing). ``out`` is allocated when None; else it
    must be a writable C-contiguous array of the result's shape and dtype that shares no memory
    with ``a`` or ``b``. With ``beta == 0`` the previous content of ``out`` is ignored (NaN in it
    does not propagate; as in BLAS, ``alpha == 0`` skips the product, so NaN in ``a`` or ``b``
    does not propagate either). ``beta`` only applies to a given ``out``. Returns ``out``.

    Runs on :func:`mlpcore.get_num_threads` threads with the GIL released; the result is
    bit-identical for every thread count.
    """
    fn = "matmul"
    # Kept lean: a small GEMM takes microseconds, so the C++ side makes the shape, dtype, layout
    # and overlap checks (same messages) and allocates `out`; Python only converts what is not
    # yet an ndarray and vets the scalars.
    if type(a) is not np.ndarray or not a.dtype.isnative:
        a = _as_float_array(a, fn, "a")
    if type(b) is not np.ndarray or not b.dtype.isnative:
        b = _as_float_array(b, fn, "b")
    if type(alpha) is not float:
        alpha = _real(fn, "alpha", alpha)
    if type(beta) is not float:
        beta = _real(fn, "beta", beta)
    if out is not None and not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: out must be a numpy array or None (got {type(out).__name__})")
    # Misaligned views (e.g. from byte offsets) are the one layout the kernels cannot read;
    # np.array copies into fresh, aligned memory (np.ascontiguousarray would not).
    if not a.flags.aligned:
        a = np.array(a)
    if not b.flags.aligned:
        b = np.array(b)
    return _core.gemm(a, b, out, _flag(fn, "trans_a", trans_a), _flag(fn, "trans_b", trans_b), alpha, beta)


def _flag(fn: str, name: str, value: object) -> bool:
    """A bool argument: "no" or 0.5 would be true for bool(), so anything else is refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be True or False (got {type(value).__name__} {value!r})")
    return bool(value)


def _activation_name(fn: str, name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{fn}: name must be a string, one of {', '.join(ACTIVATIONS)}")
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{fn}: unknown activation '{name}' (expected one of: {', '.join(ACTIVATIONS)})"
        )
    return name


def _elementwise_out(fn: str, out: Optional[np.ndarray], like: np.ndarray) -> np.ndarray:
    """``out`` checked against ``like`` (or a new array). Whether ``out`` overlaps an input is
    checked in C++ (in place, ``out is x``, is allowed; a partial overlap is not)."""
    if out is None:
        return np.empty_like(like, order="C")
    return _check_out(fn, out, like.shape, like.dtype)


def _slope(fn: str, negative_slope: object) -> float:
    slope = negative_slope if type(negative_slope) is float else _real(fn, "negative_slope", negative_slope)
    if not math.isfinite(slope):
        raise ValueError(f"{fn}: negative_slope must be finite (got {slope})")
    return slope


def activation(
    name: str, x: np.ndarray, *, out: Optional[np.ndarray] = None, negative_slope: float = 0.01
) -> np.ndarray:
    r"""Apply an activation elementwise: ``out = f(x)``.

    ``name`` is one of :data:`ACTIVATIONS`:

    - identity: :math:`f(x) = x`
    - sigmoid: :math:`f(x) = 1 / (1 + e^{-x})`
    - tanh: :math:`f(x) = \tanh x`
    - relu: :math:`f(x) = \max(x, 0)`
    - leaky_relu: :math:`f(x) = x` if :math:`x > 0` else :math:`a x` (``a = negative_slope``)
    - softplus: :math:`f(x) = \log(1 + e^{x})`

    Stable for any finite input (sigmoid and softplus never overflow). ``x`` is a float32 or
    float64 array of any shape; ``out`` may be ``x`` itself (in place).
    """
    fn = "activation"
    name = _activation_name(fn, name)
    x = c_array(_as_float_array(x, fn, "x"))
    slope = _slope(fn, negative_slope)
    out = _elementwise_out(fn, out, x)
    _core.activation_forward(name, x, out, slope)
    return out


def activation_grad(
    name: str,
    x: np.ndarray,
    grad_out: np.ndarray,
    *,
    out: Optional[np.ndarray] = None,
    negative_slope: float = 0.01,
) -> np.ndarray:
    r"""Backward pass of an activation: ``out = grad_out * f'(x)``, ``x`` the pre-activation.

    Derivatives: sigmoid :math:`s(1-s)`, tanh :math:`1 - \tanh^2 x`, softplus
    :math:`\sigma(x)`; at the kinks PyTorch's choice: relu'(0) = 0 and leaky_relu'(0) =
    ``negative_slope``. ``out`` may be ``grad_out`` or ``x`` itself.
    """
    fn = "activation_grad"
    name = _activation_name(fn, name)
    x = c_array(_as_float_array(x, fn, "x"))
    grad_out = _as_float_array(grad_out, fn, "grad_out")
    _same_dtype(fn, x, "x", grad_out, "grad_out")
    if grad_out.shape != x.shape:
        raise ValueError(f"{fn}: grad_out.shape {grad_out.shape} must equal x.shape {x.shape}")
    grad_out = c_array(grad_out)
    slope = _slope(fn, negative_slope)
    out = _elementwise_out(fn, out, x)
    _core.activation_backward(name, x, grad_out, out, slope)
    return out


def _softmax(fn: str, x: np.ndarray, out: Optional[np.ndarray], log: bool) -> np.ndarray:
    x = c_array(_as_float_array(x, fn, "x"))
    if x.ndim == 0:
        raise ValueError(f"{fn}: x must have at least 1 dimension (got a scalar)")
    out = _elementwise_out(fn, out, x)
    cols = x.shape[-1]
    rows = x.size // cols if cols else 0
    _core.softmax(x.reshape(rows, cols), out.reshape(rows, cols), log)
    return out


def softmax(x: np.ndarray, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    r"""Softmax over the last axis: :math:`y_j = e^{x_j - m} / \sum_k e^{x_k - m}`,
    :math:`m = \max_k x_k` (so huge logits stay finite)."""
    return _softmax("softmax", x, out, log=False)


def log_softmax(x: np.ndarray, *, out: Optional[np.ndarray] = None) -> np.ndarray:
    r"""Log-softmax over the last axis: :math:`y_j = x_j - m - \log\sum_k e^{x_k - m}`."""
    return _softmax("log_softmax", x, out, log=True)


def _check_update_arrays(fn: str, arrays: dict[str, np.ndarray], written: tuple[str, ...]) -> None:
    """Optimiser buffers: numpy arrays of one float dtype and the shape of ``arrays["param"]``
    (1-D or 2-D), C-contiguous and aligned, and writable where ``written`` names them (they are
    updated in place, so they are never converted)."""
    param = arrays["param"]
    for name, x in arrays.items():
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{fn}: {name} must be a numpy array (got {type(x).__name__})")
        if x.dtype not in _FLOAT_DTYPES:
            raise _buffer_dtype_error(fn, name, x.dtype)
        if x is not param:
            _same_dtype(fn, param, "param", x, name)
    if param.ndim not in (1, 2):
        raise ValueError(f"{fn}: param must be a 1-D or 2-D array (got {param.ndim}-D)")
    for name, x in arrays.items():
        if x.shape != param.shape:
            raise ValueError(f"{fn}: {name}.shape {x.shape} must equal param.shape {param.shape}")
        if not x.flags.c_contiguous:
            raise ValueError(f"{fn}: {name} must be C-contiguous")
        if not x.flags.aligned:
            raise ValueError(f"{fn}: {name} must be aligned to its element size (make it once with "
                             "np.require(x, requirements='CA') and keep updating that array)")
    for name in written:
        if name in arrays and not arrays[name].flags.writeable:
            raise ValueError(f"{fn}: {name} must be writable (got a read-only array)")


def sgd_update(
    param: np.ndarray,
    grad: np.ndarray,
    velocity: Optional[np.ndarray],
    *,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    nesterov: bool = False,
) -> None:
    r"""One fused SGD step, in place, in one pass over memory.

    Semantics of ``torch.optim.SGD`` with dampening 0, plus an L1 term:

    .. math::
        g' = g + \lambda_2 w + \lambda_1\,\mathrm{sign}(w), \qquad
        v \leftarrow \mu v + g', \qquad
        w \leftarrow w - \eta\,(g' + \mu v \text{ if nesterov else } v)

    with :math:`\eta` = ``lr`` (0 allowed), :math:`\mu` = ``momentum`` in [0, 1] (1: no decay),
    :math:`\lambda_2` = ``weight_decay``, :math:`\lambda_1` = ``l1`` and sign(0) = 0.
    ``param``, ``grad`` and ``velocity`` are same-shaped C-contiguous 1-D or 2-D arrays of one
    float dtype; ``param`` and ``velocity`` are updated in place (so they are never converted:
    a wrong dtype or layout is an error). ``velocity`` may be None only when momentum is 0.
    """
    fn = "sgd_update"
    arrays = {"param": param, "grad": grad}
    if velocity is not None:
        arrays["velocity"] = velocity
    _check_update_arrays(fn, arrays, written=("param", "velocity"))
    lr = _real(fn, "lr", lr)
    momentum = _real(fn, "momentum", momentum)
    weight_decay = _real(fn, "weight_decay", weight_decay)
    l1 = _real(fn, "l1", l1)
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"{fn}: lr must be a finite number >= 0 (got {lr})")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{fn}: momentum must be in [0, 1] (got {momentum})")
    for name, value in (("weight_decay", weight_decay), ("l1", l1)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{fn}: {name} must be a finite number >= 0 (got {value})")
    if nesterov and momentum == 0:
        raise ValueError(f"{fn}: nesterov momentum requires momentum > 0 (got momentum={momentum})")
    if velocity is None and momentum > 0:
        raise ValueError(f"{fn}: velocity is required when momentum > 0 (got None)")
    _core.sgd_update(param, grad, velocity, lr, momentum, weight_decay, l1, _flag(fn, "nesterov", nesterov))


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    *,
    step: int,
    lr: float = 0.001,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    l1: float = 0.0,
) -> None:
    r"""One fused Adam step, in place, in one pass over memory.

    Semantics of ``torch.optim.Adam`` (amsgrad off, L2 weight decay), plus an L1 term:

    .. math::
        g' = g + \lambda_2 w + \lambda_1\,\mathrm{sign}(w), \quad
        m \leftarrow \beta_1 m + (1 - \beta_1) g', \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g'^2, \quad
        w \leftarrow w - \frac{\eta}{1 - \beta_1^t}\,
            \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}

    for step :math:`t` = ``step`` (1 for the first step), :math:`\eta` = ``lr`` (0 allowed),
    betas in [0, 1), ``eps`` > 0. ``param``, ``grad``, ``m`` and ``v`` are same-shaped
    C-contiguous 1-D or 2-D arrays of one float dtype; ``param``, ``m`` and ``v`` are updated in
    place (start ``m`` and ``v`` at zero).
    """
    fn = "adam_update"
    _check_update_arrays(fn, {"param": param, "grad": grad, "m": m, "v": v}, written=("param", "m", "v"))
    step = _check_step(fn, step)
    values = {name: _real(fn, name, value) for name, value in
              (("lr", lr), ("beta1", beta1), ("beta2", beta2), ("eps", eps), ("weight_decay", weight_decay), ("l1", l1))}
    for name in ("lr", "weight_decay", "l1"):
        if not (math.isfinite(values[name]) and values[name] >= 0):
            raise ValueError(f"{fn}: {name} must be a finite number >= 0 (got {values[name]})")
    for name in ("beta1", "beta2"):
        if not 0.0 <= values[name] < 1.0:
            raise ValueError(f"{fn}: {name} must be in [0, 1) (got {values[name]})")
    if not (math.isfinite(values["eps"]) and values["eps"] > 0):
        raise ValueError(f"{fn}: eps must be a finite number > 0 (got {values['eps']})")
    _core.adam_update(param, grad, m, v, step, values["lr"], values["beta1"], values["beta2"], values["eps"],
                      values["weight_decay"], values["l1"])


def _check_step(fn: str, step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"{fn}: step must be an integer (got {type(step).__name__})")
    if not 1 <= step < 2**63:
        raise ValueError(f"{fn}: step must be in [1, 2**63), the 1-based number of this step (got {step})")
    return int(step)
