"""Type stubs of the private extension module mlpcore._core (see csrc/bindings)."""

from typing import Optional

import numpy as np
import numpy.typing as npt

_Float = npt.NDArray[np.floating]

def simd_level() -> str: ...
def set_simd_level(name: str) -> None: ...
def supported_simd_levels() -> list[str]: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def available_cores() -> int: ...
def gemm(
    a: _Float, b: _Float, out: Optional[_Float], trans_a: bool, trans_b: bool, alpha: float, beta: float
) -> _Float: ...
def gemm_reference(
    a: _Float, b: _Float, out: Optional[_Float], trans_a: bool, trans_b: bool, alpha: float, beta: float
) -> _Float: ...
def activation_forward(name: str, x: _Float, out: _Float, negative_slope: float) -> _Float: ...
def activation_backward(
    name: str, x: _Float, grad_out: _Float, out: _Float, negative_slope: float
) -> _Float: ...
def softmax(x: _Float, out: _Float, log: bool) -> _Float: ...
def activation_names() -> list[str]: ...
def find_nonfinite(x: _Float) -> int: ...
def scan_weights(
    x: _Float, copy_to: Optional[_Float], ranges: list[tuple[int, int]]
) -> tuple[bool, list[float], list[float]]: ...
def sgd_update(
    param: _Float,
    grad: _Float,
    velocity: Optional[_Float],
    lr: float,
    momentum: float,
    weight_decay: float,
    l1: float,
    nesterov: bool,
) -> None: ...
def adam_update(
    param: _Float,
    grad: _Float,
    m: _Float,
    v: _Float,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    l1: float,
) -> None: ...

_Labels = npt.NDArray[np.int32]
_Rows = npt.NDArray[np.int64]

class InputIndex:
    """The non-zeros of an input array, listed once for the epochs that train on it."""

    @property
    def nonzeros(self) -> int: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def finite(self) -> bool: ...

class Network:
    """An MLP architecture; parameters live in one flat array owned by the caller."""

    def __init__(
        self, sizes: list[int], hidden: list[str], output: str, loss: str, negative_slope: float = 0.01
    ) -> None: ...
    @property
    def n_parameters(self) -> int: ...
    def weight_offset(self, layer: int) -> int: ...
    def bias_offset(self, layer: int) -> int: ...
    def predict(self, params: _Float, x: _Float, *, float64: bool = False) -> _Float: ...
    def input_index(self, x: _Float) -> Optional[InputIndex]: ...
    def loss_and_grads(
        self, params: _Float, x: _Float, labels: Optional[_Labels], values: Optional[_Float]
    ) -> tuple[float, _Float]: ...
    def evaluate(
        self,
        params: _Float,
        x: _Float,
        labels: Optional[_Labels],
        values: Optional[_Float],
        rows: Optional[_Rows],
    ) -> tuple[float, int, int]: ...
    def train_epoch(
        self,
        params: _Float,
        velocity: Optional[_Float],
        second_moment: Optional[_Float],
        x: _Float,
        labels: Optional[_Labels],
        values: Optional[_Float],
        rows: Optional[_Rows],
        batch_size: int,
        shuffle: bool,
        seed: int,
        epoch: int,
        optimizer: str = "sgd",
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        nesterov: bool = False,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        steps: int = 0,
        decay_per_row: bool = False,
        clip_log_loss: bool = False,
        max_norm: float = 0.0,
        dropout: float = 0.0,
        input_noise: float = 0.0,
        nonzeros: Optional[InputIndex] = None,
        sample_weight: Optional[_Float] = None,
    ) -> tuple[float, int, int, int, bool, float]: ...
