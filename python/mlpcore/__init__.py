"""mlpcore: train and evaluate softmax regression and multilayer perceptrons, fast.

The hot paths (GEMM, activations, the fused SGD step, whole training epochs) are C++ in
``mlpcore._core``. :class:`MLP` defines a network, :class:`SGD` an optimiser, :func:`fit`
trains one; ``mlpcore.ops`` wraps the kernels with checked, typed functions; ``mlpcore.data``
splits and loads data, ``mlpcore.metrics`` and ``mlpcore.stats`` judge the results.
"""

from importlib.metadata import PackageNotFoundError, version

from . import data, ops
from ._runtime import get_num_threads, set_num_threads, simd_level, supported_simd_levels
from .network import MLP, load
from .optim import SGD
from .training import EarlyStopping, History, TrainingDivergedError, fit

try:
    __version__ = version("mlpcore")
except PackageNotFoundError:  # running from a source tree without installed metadata
    __version__ = "0+unknown"

__all__ = [
    "MLP",
    "SGD",
    "EarlyStopping",
    "History",
    "TrainingDivergedError",
    "__version__",
    "data",
    "fit",
    "get_num_threads",
    "load",
    "metrics",
    "ops",
    "set_num_threads",
    "simd_level",
    "stats",
    "supported_simd_levels",
]

# metrics and stats pull in scipy.stats (most of a second): import them on first use.
_LAZY_SUBMODULES = ("metrics", "stats")


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mlpcore' has no attribute {name!r}")
