"""The ``mlpcore`` command line.

``mlpcore`` alone prints the version, the SIMD path, the thread count and the time of one
matrix multiplication, then lists the subcommands.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import numpy as np

from . import __version__, ops
from ._runtime import get_num_threads, simd_level, supported_simd_levels


def _time_matmul(n: int, repeats: int = 5) -> tuple[float, float]:
    """Best wall time (seconds) of an n x n float32 matmul, and its GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    ops.matmul(a, b, out=out)  # warm-up: threads started, workspace allocated
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ops.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return best, 2.0 * n**3 / best / 1e9


def _info(size: int) -> None:
    seconds, gflops = _time_matmul(size)
    print(f"mlpcore {__version__}")
    print(f"simd level: {simd_level()} (supported: {', '.join(supported_simd_levels())})")
    print(f"threads: {get_num_threads()}")
    print(f"matmul {size}x{size}x{size} float32: {seconds * 1e3:.2f} ms ({gflops:.1f} GFLOP/s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlpcore",
        description="Train and evaluate neural networks with C++ kernels. "
        "Without a subcommand: print version, SIMD level, threads and a matmul timing.",
    )
    parser.add_argument("--version", action="version", version=f"mlpcore {__version__}")
    parser.add_argument(
        "--size", type=int, default=1024, help="matrix size of the timed matmul (default 1024)"
    )
    return parser


# Subcommands (name -> one-line description); later work adds train, evaluate and bench.
SUBCOMMANDS: dict[str, str] = {}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error(f"--size must be a positive integer (got {args.size})")
    _info(args.size)
    if SUBCOMMANDS:
        print("subcommands:")
        for name, description in SUBCOMMANDS.items():
            print(f"  {name:10s} {description}")
    else:
        print("subcommands: none yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
