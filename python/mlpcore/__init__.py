"""mlpcore: train and evaluate softmax regression and multilayer perceptrons, fast.

The hot paths (GEMM, activations, the fused SGD step) are C++ in ``mlpcore._core``;
``mlpcore.ops`` wraps them with checked, typed functions; ``mlpcore.data`` splits and loads
data, ``mlpcore.metrics`` and ``mlpcore.stats`` judge the results.
"""

from importlib.metadata import PackageNotFoundError, version

from . import data, ops
from ._runtime import get_num_threads, set_num_threads, simd_level, supported_simd_levels

try:
    __version__ = version("mlpcore")
except PackageNotFoundError:  # running from a source tree without installed metadata
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "data",
    "get_num_threads",
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
