"""mlpcore: train and evaluate softmax regression and multilayer perceptrons, fast.

The hot paths (GEMM, activations, the fused SGD step) are C++ in ``mlpcore._core``;
``mlpcore.ops`` wraps them with checked, typed functions.
"""

from importlib.metadata import PackageNotFoundError, version

from . import ops
from ._runtime import get_num_threads, set_num_threads, simd_level, supported_simd_levels

try:
    __version__ = version("mlpcore")
except PackageNotFoundError:  # running from a source tree without installed metadata
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "get_num_threads",
    "ops",
    "set_num_threads",
    "simd_level",
    "supported_simd_levels",
]
