"""Shared setup of the pytest-benchmark suite in bench/.

* Collects ``bench_*.py`` (pytest's default ``python_files`` only matches ``test_*.py``).
* ``threads`` is parametrised from ``--bench-threads`` (default ``1``, or the environment
  variable ``MLPCORE_BENCH_THREADS``), e.g. ``--bench-threads 1,2``; inside a benchmark every
  library runs on exactly that many threads (``thread_limits`` fixture).
* ``library`` cases named ``torch`` skip themselves when PyTorch is not installed.

Run the timings with ``pytest bench --benchmark-enable`` (pyproject's addopts disable them, so a
plain test run executes each benchmark once, as a check of its result).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

_BENCH_DIR = str(Path(__file__).resolve().parent)
if _BENCH_DIR not in sys.path:  # compare.py is imported by the benchmarks in any import mode
    sys.path.insert(0, _BENCH_DIR)

from compare import environment_info, fixed_threads  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bench-threads",
        default=os.environ.get("MLPCORE_BENCH_THREADS", "1"),
        metavar="N[,N]",
        help="thread counts the bench/ benchmarks run at, for every library (default 1, or "
        "$MLPCORE_BENCH_THREADS)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Optional[pytest.Module]:
    if file_path.suffix != ".py" or not file_path.name.startswith("bench_"):
        return None
    patterns = parent.config.getini("python_files")
    if parent.session.isinitpath(file_path) or any(
        fnmatch.fnmatch(file_path.name, p) for p in patterns
    ):
        return None  # pytest's own collector takes it: do not collect it twice
    return pytest.Module.from_parent(parent, path=file_path)


def _thread_counts(config: pytest.Config) -> list[int]:
    text = str(config.getoption("--bench-threads", default="1"))
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or any(n < 1 for n in counts):
        raise pytest.UsageError(f"--bench-threads: expected positive integers, got {text!r}")
    return counts


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "threads" in metafunc.fixturenames:
        metafunc.parametrize("threads", _thread_counts(metafunc.config), ids=lambda n: f"t{n}")


@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record library versions, SIMD path and BLAS in the saved benchmark JSON."""
    machine_info["mlpcore_bench"] = environment_info(sys.modules.get("torch"))


@pytest.fixture
def torch_module(library: str) -> Any:
    """The torch module for ``library == "torch"`` (skips when not installed), else None."""
    if library != "torch":
        return None
    return pytest.importorskip("torch")


@pytest.fixture
def thread_limits(threads: int, torch_module: Any) -> Iterator[int]:
    """mlpcore, numpy's BLAS (threadpoolctl) and torch all on ``threads`` threads."""
    with fixed_threads(threads, torch_module):
        yield threads


@pytest.fixture
def record_rates(benchmark: Any) -> Callable[..., None]:
    """``record_rates(flops=, nbytes=, elements=)`` after the timed call: stores the counts
    and, when timings were taken, GFLOP/s, GB/s and Gelem/s of the median in extra_info."""

    def record(*, flops: int = 0, nbytes: int = 0, elements: int = 0) -> None:
        info = benchmark.extra_info
        stats = getattr(benchmark, "stats", None)
        median = stats.stats.median if stats else None
        for key, count, rate_key in (
            ("flops", flops, "gflops"),
            ("bytes", nbytes, "gbytes_per_s"),
            ("elements", elements, "gelements_per_s"),
        ):
            if count:
                info[key] = count
                if median:
                    info[rate_key] = round(count / median / 1e9, 3)

    return record
