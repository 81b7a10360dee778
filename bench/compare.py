#!/usr/bin/env python
"""Compare mlpcore with numpy, PyTorch and scikit-learn: ``mlpcore bench`` from a source checkout.

    python bench/compare.py                       # all: GEMM, training, estimators (minutes)
    python bench/compare.py --quick               # small sizes, about half a minute (CI smoke)
    python bench/compare.py --only gemm --threads 1 --shapes mlp --repeats 9 --markdown
    python bench/compare.py --only train          # training vs PyTorch and scikit-learn, 2 threads
    python bench/compare.py --only estimators     # end to end on MNIST vs scikit-learn

The benchmark lives in :mod:`mlpcore.benchmark` (so an installed mlpcore runs it as
``mlpcore bench``); this script forwards to it, and re-exports its public names for the
pytest-benchmark files beside it (``from compare import GEMM_CASES, ...``).
"""

from __future__ import annotations

import sys

from mlpcore import benchmark
from mlpcore.benchmark import *  # noqa: F403 - the re-export is this module's purpose

__all__ = benchmark.__all__

if __name__ == "__main__":
    sys.exit(benchmark.main())
