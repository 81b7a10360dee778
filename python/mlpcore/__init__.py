"""mlpcore: train and evaluate softmax regression and multilayer perceptrons, fast.

The hot paths (GEMM, activations, the fused SGD step, whole training epochs) are C++ in
``mlpcore._core``. :class:`MLP` defines a network, :class:`SGD` an optimiser, :func:`fit`
trains one; ``mlpcore.ops`` wraps the kernels with checked, typed functions; ``mlpcore.data``
splits and loads data, ``mlpcore.metrics`` and ``mlpcore.stats`` judge the results.
"""

import os
import sys
from importlib.metadata import PackageNotFoundError, version


def _starts_the_command_line() -> bool:
    """Whether this import is the command line's (the ``mlpcore`` script or ``python -m mlpcore``)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if argv and os.path.basename(argv[0]) == "mlpcore" or os.path.basename(sys.argv[0]) == "mlpcore":
        return True
    return any(a == "-m" and b == "mlpcore" for a, b in zip(argv, argv[1:])) or "-mmlpcore" in argv


try:
    from . import _core  # noqa: F401 - reads MLPCORE_SIMD and MLPCORE_NUM_THREADS, refuses bad values
except ImportError as exc:
    if str(exc).startswith("MLPCORE_") and _starts_the_command_line():
        # The command line's errors are one line and exit status 2, without a traceback.
        sys.stderr.write(f"mlpcore: error: {exc}\n")
        raise SystemExit(2) from None
    raise

from . import data, ops
from ._runtime import (
    get_num_threads,
    set_num_threads,
    simd_level,
    supported_simd_levels,
)
from .network import MLP, load, load_metadata
from .optim import SGD, Adam
from .training import EarlyStopping, History, TrainingDivergedError, fit

try:
    __version__ = version("mlpcore")
except PackageNotFoundError:  # running from a source tree without installed metadata
    __version__ = "0+unknown"

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "EarlyStopping",
    "History",
    "KNeighborsClassifier",
    "KNeighborsRegressor",
    "MLPClassifier",
    "MLPRegressor",
    "SoftmaxRegression",
    "TrainingDivergedError",
    "__version__",
    "data",
    "estimators",
    "experiments",
    "fit",
    "get_num_threads",
    "load",
    "load_metadata",
    "metrics",
    "neighbors",
    "ops",
    "plot",
    "set_num_threads",
    "simd_level",
    "stats",
    "supported_simd_levels",
]

# Submodules that pull in scipy.stats (most of a second) or optional extras (scikit-learn,
# matplotlib, joblib) are imported on first use, so `import mlpcore` stays light.
_LAZY_SUBMODULES = ("metrics", "stats", "estimators", "neighbors", "experiments", "plot")
# Public names defined in those submodules: name -> submodule.
_LAZY_ATTRIBUTES = {
    "MLPClassifier": "estimators",
    "MLPRegressor": "estimators",
    "SoftmaxRegression": "estimators",
    "KNeighborsClassifier": "neighbors",
    "KNeighborsRegressor": "neighbors",
}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(f".{_LAZY_ATTRIBUTES[name]}", __name__), name)
    raise AttributeError(f"module 'mlpcore' has no attribute {name!r}")
