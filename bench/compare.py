#!/usr/bin/env python
"""Compare mlpcore with numpy (and PyTorch when installed); print one markdown table.

    python bench/compare.py                       # GEMM, 1 and 2 threads, all shapes
    python bench/compare.py --quick               # small sizes, a few seconds (CI smoke)
    python bench/compare.py --threads 1 --shapes mlp --repeats 9 --markdown

Benchmark families live in :data:`FAMILIES` (``--only NAME[,NAME]`` selects some); each has a
``run_*_comparison(...) -> list[dict]`` function and a formatter, importable without pytest, so
other front ends (the ``mlpcore bench`` subcommand) can call them.

How the numbers are taken (the machine may be shared and noisy):

* Every result is checked against a float64 numpy reference before anything is timed.
* One *measurement* is a loop of ``number`` back-to-back calls, ``number`` chosen so the loop
  takes at least ``min_time`` seconds; the reported time is the median over ``repeats``
  measurements, per library.
* All libraries are measured in the same run, in interleaved rounds (mlpcore, numpy, torch,
  then numpy, torch, mlpcore, ...: the order rotates), so slow drift of the machine hits all of
  them alike.
* Thread counts are fixed for every library: ``mlpcore.set_num_threads``, threadpoolctl for
  numpy's BLAS (and any OpenMP runtime), ``torch.set_num_threads``.
* Idle BLAS workers keep spinning after a call (OpenBLAS for about 2**28 TSC ticks, ~0.1 s,
  unless ``OPENBLAS_THREAD_TIMEOUT`` is set before numpy is imported; libgomp and mlpcore's pool
  for well under 1 ms) and would steal a core from the library measured next. With more than
  one thread, each measurement is therefore preceded by a pause of ``settle`` seconds
  (default 0.15 s). With one thread nothing spins and no pause is needed.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence, TextIO

import numpy as np

try:  # Optional: without it numpy's BLAS runs on its default thread count (reported).
    import threadpoolctl
except ImportError:  # pragma: no cover - threadpoolctl is in the test and bench extras
    threadpoolctl = None

import mlpcore
from mlpcore import ops

__all__ = [
    "LIBRARIES",
    "FAMILIES",
    "GEMM_CASES",
    "QUICK_GEMM_CASES",
    "Family",
    "GemmCase",
    "Impl",
    "environment_info",
    "fixed_threads",
    "format_environment",
    "format_gemm_table",
    "format_table",
    "gemm_atol",
    "gemm_cases",
    "gemm_impls",
    "gemm_operands",
    "gemm_reference",
    "load_torch",
    "main",
    "run_gemm_comparison",
]

#: Libraries compared; torch is optional everywhere.
LIBRARIES = ("mlpcore", "numpy", "torch")
DEFAULT_REPEATS = 7
DEFAULT_MIN_TIME = 0.2
DEFAULT_SETTLE = 0.15


# --------------------------------------------------------------------------------------------
# Environment and thread control
# --------------------------------------------------------------------------------------------


def load_torch(enabled: bool = True) -> Any:
    """The ``torch`` module, or None when it is not installed (or ``enabled`` is False)."""
    if not enabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _numpy_blas() -> str:
    """numpy's BLAS as 'name version (arch)', from threadpoolctl, else from numpy's config."""
    if threadpoolctl is not None:
        for info in threadpoolctl.threadpool_info():
            if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
                arch = f", {info['architecture']}" if info.get("architecture") else ""
                return f"{info.get('internal_api', '?')} {info.get('version', '?')}{arch}"
    try:
        config = np.show_config(mode="dicts")  # numpy >= 1.25
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception:  # noqa: BLE001 - best effort: older numpy prints instead
        return "unknown"


def _torch_blas(torch: Any) -> str:
    try:
        if torch.backends.mkl.is_available():
            return "MKL"
    except AttributeError:
        pass
    return "BLAS unknown"


def environment_info(torch: Any = None) -> dict[str, Any]:
    """What a benchmark table needs to be interpreted: date, CPU, library versions."""
    try:
        load = os.getloadavg()
    except (AttributeError, OSError):
        load = None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": _cores(),
        "load_average": [round(x, 2) for x in load] if load else None,
        "python": platform.python_version(),
        "mlpcore": mlpcore.__version__,
        "simd": mlpcore.simd_level(),
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "threadpoolctl": threadpoolctl.__version__ if threadpoolctl is not None else None,
        "torch": torch.__version__ if torch is not None else None,
        "torch_blas": _torch_blas(torch) if torch is not None else None,
        "openblas_thread_timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
    }


def _load_text(info: dict[str, Any]) -> str:
    """'1.02 0.80 0.75 at start, 1.98 ... at end (1m 5m 15m)', from whatever is known."""
    parts = []
    for key, when in (("load_average", "start"), ("load_average_end", "end")):
        if info.get(key):
            parts.append(" ".join(f"{x:.2f}" for x in info[key]) + f" at {when}")
    if not parts:
        return "n/a"
    duration = f", run took {info['duration_s']:.0f} s" if info.get("duration_s") else ""
    return ", ".join(parts) + f" (1/5/15 min){duration}"


def format_environment(info: dict[str, Any], markdown: bool = False) -> str:
    """The header printed above a table: one line per item, or a markdown bullet list."""
    torch = f"{info['torch']} ({info['torch_blas']})" if info.get("torch") else "not installed"
    items = [
        ("date", info["date"]),
        ("cpu", f"{info['cpu']} ({info['cores']} cores available)"),
        ("load average", _load_text(info)),
        ("python", info["python"]),
        ("mlpcore", f"{info['mlpcore']} (SIMD: {info['simd']})"),
        ("numpy", f"{info['numpy']} ({info['numpy_blas']})"),
        ("torch", torch),
    ]
    if info.get("threadpoolctl") is None:
        items.append(("warning", "threadpoolctl missing: numpy's BLAS thread count not fixed"))
    if info.get("openblas_thread_timeout"):
        items.append(("OPENBLAS_THREAD_TIMEOUT", info["openblas_thread_timeout"]))
    if markdown:
        return "\n".join(f"- {key}: {value}" for key, value in items)
    width = max(len(key) for key, _ in items)
    return "\n".join(f"{key + ':':<{width + 1}} {value}" for key, value in items)


@contextmanager
def fixed_threads(n: int, torch: Any = None) -> Iterator[None]:
    """Run every library on exactly ``n`` threads inside the block; restore afterwards.

    mlpcore via ``set_num_threads``; numpy's BLAS and OpenMP runtimes via threadpoolctl (when
    installed); PyTorch via ``torch.set_num_threads`` (its MKL is not always visible to
    threadpoolctl).
    """
    with ExitStack() as stack:
        old = mlpcore.get_num_threads()
        mlpcore.set_num_threads(n)
        stack.callback(mlpcore.set_num_threads, old)
        if threadpoolctl is not None:
            stack.enter_context(threadpoolctl.threadpool_limits(limits=n))
        if torch is not None:
            old_torch = torch.get_num_threads()
            torch.set_num_threads(n)
            stack.callback(torch.set_num_threads, old_torch)
        yield


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Impl:
    """One library's way to compute a benchmark: ``run()`` is timed, ``result()`` reads it."""

    library: str
    run: Callable[[], Any]
    result: Callable[[], np.ndarray]


def _loop_seconds(fn: Callable[[], Any], number: int) -> float:
    """Wall time of ``number`` back-to-back calls, garbage collector off (like timeit)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def _calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """Calls per measurement so that one measurement takes at least ``min_time`` seconds."""
    number = 1
    while True:
        seconds = _loop_seconds(fn, number)
        if seconds >= min_time or number >= 1 << 24:
            return number
        if seconds >= min_time / 20:  # a good enough estimate: jump to the target
            return max(number + 1, math.ceil(number * min_time * 1.05 / seconds))
        number *= 10 if seconds < min_time / 200 else 4


def _measure_interleaved(
    impls: Sequence[Impl], repeats: int, min_time: float, settle: float
) -> dict[str, dict[str, Any]]:
    """Per library: seconds per call of each of ``repeats`` measurements, taken in rounds.

    Round r measures every library once, starting with library r mod len(impls). ``settle``
    seconds of sleep precede each measurement (0: none).
    """
    numbers = {}
    for impl in impls:
        if settle:
            time.sleep(settle)
        numbers[impl.library] = _calibrate(impl.run, min_time)
    samples: dict[str, list[float]] = {impl.library: [] for impl in impls}
    for r in range(repeats):
        for i in range(len(impls)):
            impl = impls[(r + i) % len(impls)]
            if settle:
                time.sleep(settle)
            number = numbers[impl.library]
            samples[impl.library].append(_loop_seconds(impl.run, number) / number)
    return {
        lib: {"median": statistics.median(s), "samples": s, "number": numbers[lib]}
        for lib, s in samples.items()
    }


def _paired_ratio(other: Sequence[float], ours: Sequence[float]) -> float:
    """Median over rounds of other[r] / ours[r]: both were measured in round r, seconds apart,
    so machine drift between rounds cancels (unlike in the ratio of the two medians)."""
    return statistics.median(o / m for o, m in zip(other, ours))


def _spread(samples: Sequence[float]) -> float:
    """(max - min) / median of the measurements: how noisy they were."""
    med = statistics.median(samples)
    return (max(samples) - min(samples)) / med if med > 0 else 0.0


# --------------------------------------------------------------------------------------------
# GEMM
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GemmCase:
    """``op(a) @ op(b)`` with op(a) m x k and op(b) k x n; ``a`` is stored k x m if trans_a."""

    id: str  # ASCII, for pytest ids and --json
    name: str  # for tables
    m: int
    n: int
    k: int
    trans_a: bool = False
    trans_b: bool = False
    kind: str = "squares"  # "squares" or "mlp"

    @property
    def flops(self) -> int:
        return 2 * self.m * self.n * self.k

    @property
    def a_shape(self) -> tuple[int, int]:
        return (self.k, self.m) if self.trans_a else (self.m, self.k)

    @property
    def b_shape(self) -> tuple[int, int]:
        return (self.n, self.k) if self.trans_b else (self.k, self.n)

    @property
    def label(self) -> str:
        return f"{self.name} {self.m}x{self.k} @ {self.k}x{self.n}"


def _square(n: int) -> GemmCase:
    return GemmCase(f"square{n}", "square", n, n, n)


def _mlp_step(batch: int, n_in: int = 784, h1: int = 256, h2: int = 128, n_out: int = 10):
    """The GEMMs of one training step of an n_in-h1-h2-n_out MLP (first layer's backward)."""
    return (
        GemmCase("X@W1", "X·W1", batch, h1, n_in, kind="mlp"),
        GemmCase("H1@W2", "H1·W2", batch, h2, h1, kind="mlp"),
        GemmCase("H2@W3", "H2·W3", batch, n_out, h2, kind="mlp"),
        # Weight gradient dW1 = Xᵀ·G, X stored batch x n_in: matmul(X, G, trans_a=True).
        GemmCase("X.T@G", "Xᵀ·G", n_in, h1, batch, trans_a=True, kind="mlp"),
        # Input gradient G·W1ᵀ, W1 stored n_in x h1: matmul(G, W1, trans_b=True).
        GemmCase("G@W1.T", "G·W1ᵀ", batch, n_in, h1, trans_b=True, kind="mlp"),
    )


#: Squares 512, 1024, 2048 and one training step of a 784-256-128-10 MLP at batch 128.
GEMM_CASES: tuple[GemmCase, ...] = tuple(_square(n) for n in (512, 1024, 2048)) + _mlp_step(128)
#: Small versions for smoke runs (--quick).
QUICK_GEMM_CASES: tuple[GemmCase, ...] = tuple(_square(n) for n in (128, 256)) + _mlp_step(32)


def gemm_cases(shapes: str = "all", quick: bool = False) -> list[GemmCase]:
    """The GEMM cases of a shape set: ``"squares"``, ``"mlp"`` or ``"all"``."""
    if shapes not in ("squares", "mlp", "all"):
        raise ValueError(f"shapes must be 'squares', 'mlp' or 'all' (got {shapes!r})")
    cases = QUICK_GEMM_CASES if quick else GEMM_CASES
    return [c for c in cases if shapes == "all" or c.kind == shapes]


def gemm_operands(
    case: GemmCase, dtype: Any = np.float32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as stored (C-contiguous), uniform in [-1, 1)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.0, 1.0, size=case.a_shape).astype(dtype)
    b = rng.uniform(-1.0, 1.0, size=case.b_shape).astype(dtype)
    return a, b


def gemm_reference(case: GemmCase, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``op(a) @ op(b)`` computed by numpy in float64."""
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return (a64.T if case.trans_a else a64) @ (b64.T if case.trans_b else b64)


def gemm_atol(k: int, dtype: Any, a_max: float = 1.0, b_max: float = 1.0) -> float:
    """Absolute tolerance of ``op(a) @ op(b)`` vs the exact product, scaled with k.

    The classical bound is ``|err| <= k * eps * (|A| |B|)``; with entries bounded by
    ``a_max`` and ``b_max`` the typical error of a blocked FMA kernel is far below
    ``k * eps * a_max * b_max``, which we use times 4. A wrong or missing term (magnitude ~
    a_max * b_max) still exceeds it for every k here (4 * 2048 * 1.2e-7 = 1e-3).
    """
    return 4.0 * k * float(np.finfo(dtype).eps) * a_max * b_max


def gemm_impls(case: GemmCase, a: np.ndarray, b: np.ndarray, torch: Any = None) -> list[Impl]:
    """mlpcore, numpy and (when ``torch`` is given) PyTorch, each writing into its own
    preallocated output: ``ops.matmul(..., out=)``, ``np.matmul(..., out=)`` on transposed
    views (BLAS handles them without copies) and ``torch.matmul(..., out=)`` on tensors sharing
    memory with ``a`` and ``b``."""
    shape = (case.m, case.n)
    out_ours = np.empty(shape, dtype=a.dtype)

    def ours() -> np.ndarray:
        return ops.matmul(a, b, trans_a=case.trans_a, trans_b=case.trans_b, out=out_ours)

    a_op = a.T if case.trans_a else a
    b_op = b.T if case.trans_b else b
    out_np = np.empty(shape, dtype=a.dtype)

    def numpy() -> np.ndarray:
        return np.matmul(a_op, b_op, out=out_np)

    impls = [
        Impl("mlpcore", ours, lambda: out_ours),
        Impl("numpy", numpy, lambda: out_np),
    ]
    if torch is not None:
        ta = torch.from_numpy(a)
        tb = torch.from_numpy(b)
        ta_op = ta.T if case.trans_a else ta
        tb_op = tb.T if case.trans_b else tb
        out_t = torch.empty(shape, dtype=ta.dtype)

        def torch_mm() -> Any:
            return torch.matmul(ta_op, tb_op, out=out_t)

        impls.append(Impl("torch", torch_mm, lambda: out_t.numpy()))
    return impls


def _check(label: str, impl: Impl, reference: np.ndarray, atol: float) -> float:
    """Run ``impl`` once and return its max abs error; raise if it exceeds ``atol``."""
    impl.run()
    result = impl.result()
    if result.shape != reference.shape:
        raise AssertionError(f"{label}: {impl.library} returned shape {result.shape}, "
                             f"expected {reference.shape}")
    err = float(np.max(np.abs(result.astype(np.float64) - reference))) if result.size else 0.0
    if not err <= atol:  # also catches NaN
        raise AssertionError(f"{label}: {impl.library} max abs error {err:.3g} > tolerance "
                             f"{atol:.3g} (vs float64 numpy)")
    return err


def run_gemm_comparison(
    threads: Sequence[int] = (1, 2),
    repeats: int = DEFAULT_REPEATS,
    shapes: str = "all",
    *,
    quick: bool = False,
    min_time: float = DEFAULT_MIN_TIME,
    settle: float = DEFAULT_SETTLE,
    torch: Any = "auto",
    dtype: Any = np.float32,
    progress: Optional[TextIO] = None,
) -> list[dict[str, Any]]:
    """Time float32 GEMM in mlpcore, numpy and PyTorch; one row (dict) per shape and thread count.

    ``torch`` is the module to compare with, None to leave PyTorch out, or ``"auto"``
    (imported when installed). Every library's result is checked against a float64 numpy
    reference first (AssertionError when off). Times are medians of ``repeats`` measurements
    of at least ``min_time`` seconds each, the libraries interleaved; with more than one
    thread, ``settle`` seconds of sleep precede each measurement (see the module docstring).

    Row keys: ``family, case, label, m, n, k, trans_a, trans_b, dtype, threads, flops,
    atol, numpy_over_mlpcore, torch_over_mlpcore`` (median over rounds of the ratio of the
    two libraries' times in that round: robust to drift between rounds, so it can differ from
    the ratio of the medians) and per library L (``mlpcore``, ``numpy``,
    ``torch``; None when not measured): ``L_ms`` (median), ``L_gflops``, ``L_max_abs_err``,
    ``L_samples_ms``, ``L_number`` (calls per measurement), ``L_spread`` ((max - min) /
    median of the measurements).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1 (got {repeats})")
    if not threads or any(int(t) < 1 for t in threads):
        raise ValueError(f"threads must be positive integers (got {threads!r})")
    if torch == "auto":
        torch = load_torch()
    rows = []
    for case in gemm_cases(shapes, quick):
        a, b = gemm_operands(case, dtype)
        reference = gemm_reference(case, a, b)
        atol = gemm_atol(case.k, dtype)
        impls = gemm_impls(case, a, b, torch)
        for n_threads in threads:
            if progress is not None:
                print(f"gemm {case.label} threads={n_threads} ...", file=progress, flush=True)
            with fixed_threads(int(n_threads), torch):
                errors = {impl.library: _check(case.label, impl, reference, atol) for impl in impls}
                timings = _measure_interleaved(
                    impls, repeats, min_time, settle if n_threads > 1 else 0.0
                )
            row: dict[str, Any] = {
                "family": "gemm",
                "case": case.id,
                "label": case.label,
                "m": case.m,
                "n": case.n,
                "k": case.k,
                "trans_a": case.trans_a,
                "trans_b": case.trans_b,
                "dtype": np.dtype(dtype).name,
                "threads": int(n_threads),
                "flops": case.flops,
                "atol": atol,
            }
            for lib in LIBRARIES:
                t = timings.get(lib)
                row[f"{lib}_ms"] = t["median"] * 1e3 if t else None
                row[f"{lib}_gflops"] = case.flops / t["median"] / 1e9 if t else None
                row[f"{lib}_max_abs_err"] = errors.get(lib)
                row[f"{lib}_samples_ms"] = [s * 1e3 for s in t["samples"]] if t else None
                row[f"{lib}_number"] = t["number"] if t else None
                row[f"{lib}_spread"] = _spread(t["samples"]) if t else None
            for lib in ("numpy", "torch"):
                t = timings.get(lib)
                row[f"{lib}_over_mlpcore"] = (
                    _paired_ratio(t["samples"], timings["mlpcore"]["samples"]) if t else None
                )
            rows.append(row)
    return rows


def _fmt_ms(ms: Optional[float]) -> str:
    if ms is None:
        return "–"
    if ms < 1:
        return f"{ms:.3f}"
    if ms < 10:
        return f"{ms:.2f}"
    if ms < 100:
        return f"{ms:.1f}"
    return f"{ms:.0f}"


def _fmt(value: Optional[float], spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A pipe table padded to column width; ``align`` has one 'l' or 'r' per column."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if a == "r" else ":" + "-" * (w + 1) for w, a in zip(widths, align)
    ) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def format_gemm_table(rows: Sequence[dict[str, Any]]) -> str:
    """The GEMM rows as one markdown table (torch columns only when torch was measured)."""
    with_torch = any(r.get("torch_ms") is not None for r in rows)
    header = ["shape", "threads", "mlpcore ms", "numpy ms"]
    if with_torch:
        header.append("torch ms")
    header.append("numpy/mlpcore")
    if with_torch:
        header.append("torch/mlpcore")
    header.append("mlpcore GFLOP/s")
    body = []
    for r in rows:
        cells = [r["label"], str(r["threads"]), _fmt_ms(r["mlpcore_ms"]), _fmt_ms(r["numpy_ms"])]
        if with_torch:
            cells.append(_fmt_ms(r["torch_ms"]))
        cells.append(_fmt(r["numpy_over_mlpcore"], ".2f"))
        if with_torch:
            cells.append(_fmt(r["torch_over_mlpcore"], ".2f"))
        cells.append(_fmt(r["mlpcore_gflops"], ".1f"))
        body.append(cells)
    return _markdown_table(header, body, "l" + "r" * (len(header) - 1))


#: The table of :func:`run_gemm_comparison` rows.
format_table = format_gemm_table


def _gemm_notes(rows: Sequence[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    first = rows[0]
    libs = [lib for lib in LIBRARIES if first.get(f"{lib}_ms") is not None]
    worst_err = max(
        (r[f"{lib}_max_abs_err"] / r["atol"], r[f"{lib}_max_abs_err"], lib, r["label"])
        for r in rows for lib in libs
    )
    noisy = max((r[f"{lib}_spread"], lib, r["label"], r["threads"]) for r in rows for lib in libs)
    repeats = len(first["mlpcore_samples_ms"])
    return [
        f"{first['dtype']}; times: median of {repeats} interleaved measurements per library; "
        "ratios: median over the rounds of the ratio within each round (so not always the "
        "ratio of the medians); ratio > 1 means mlpcore is faster.",
        f"All results checked against float64 numpy first (largest error: {worst_err[1]:.2g}, "
        f"{worst_err[2]}, {worst_err[3]}; tolerance 4·k·eps).",
        f"Noisiest measurements: {noisy[1]}, {noisy[2]}, {noisy[3]} thread(s): "
        f"(max - min) / median = {noisy[0]:.0%}.",
    ]


# --------------------------------------------------------------------------------------------
# Registry of benchmark families and command line
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A benchmark family: ``run(args, torch)`` gives rows, ``format(rows)`` a table,
    ``notes(rows)`` lines printed under it."""

    name: str
    title: str
    run: Callable[[argparse.Namespace, Any], list[dict[str, Any]]]
    format: Callable[[Sequence[dict[str, Any]]], str]
    notes: Callable[[Sequence[dict[str, Any]]], list[str]]


def _gemm_from_args(args: argparse.Namespace, torch: Any) -> list[dict[str, Any]]:
    return run_gemm_comparison(
        threads=args.threads,
        repeats=args.repeats,
        shapes=args.shapes,
        quick=args.quick,
        min_time=args.min_time,
        settle=args.settle,
        torch=torch,
        progress=None if args.no_progress else sys.stderr,
    )


#: Benchmark families by name, in the order they run (``--only`` selects).
FAMILIES: dict[str, Family] = {
    "gemm": Family(
        "gemm", "GEMM: mlpcore vs numpy vs PyTorch", _gemm_from_args, format_gemm_table,
        _gemm_notes,
    ),
}


def _positive_ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _families(text: str) -> tuple[str, ...]:
    names = tuple(x.strip() for x in text.split(",") if x.strip())
    unknown = [n for n in names if n not in FAMILIES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or text!r} (choose from {', '.join(FAMILIES)})"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time mlpcore against numpy (and PyTorch when installed); print a markdown "
        "table. Progress goes to stderr.",
    )
    parser.add_argument("--only", type=_families, default=tuple(FAMILIES), metavar="NAME[,NAME]",
                        help=f"benchmark families to run (default: all of {', '.join(FAMILIES)})")
    parser.add_argument("--threads", type=_positive_ints, default=(1, 2), metavar="N[,N]",
                        help="thread counts, used for every library (default: 1,2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"measurements per library, median reported (default "
                        f"{DEFAULT_REPEATS}; 3 with --quick)")
    parser.add_argument("--min-time", type=float, default=None, metavar="SECONDS",
                        help=f"minimum duration of one measurement (default {DEFAULT_MIN_TIME}; "
                        "0.01 with --quick)")
    parser.add_argument("--settle", type=float, default=DEFAULT_SETTLE, metavar="SECONDS",
                        help="sleep before each multi-threaded measurement so idle BLAS "
                        f"threads stop spinning (default {DEFAULT_SETTLE})")
    parser.add_argument("--shapes", choices=("squares", "mlp", "all"), default="all",
                        help="GEMM shapes: squares 512/1024/2048, the MLP-step shapes, or all")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and short measurements (CI smoke test)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--markdown", action="store_true",
                        help="print the header as a markdown list too, so all of stdout pastes "
                        "into the README")
    parser.add_argument("--json", metavar="PATH", help="also write environment and rows as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else DEFAULT_REPEATS
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else DEFAULT_MIN_TIME
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1 (got {args.repeats})")
    if args.min_time < 0 or args.settle < 0:
        parser.error("--min-time and --settle must be >= 0")
    torch = load_torch(not args.no_torch)
    info = environment_info(torch)
    results = {}
    started = time.perf_counter()
    for name in args.only:
        results[name] = FAMILIES[name].run(args, torch)
    info["duration_s"] = round(time.perf_counter() - started, 1)
    try:
        info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        pass

    print(format_environment(info, markdown=args.markdown))
    for name, rows in results.items():
        family = FAMILIES[name]
        print()
        print(f"### {family.title}" if args.markdown else family.title)
        print()
        print(family.format(rows))
        notes = family.notes(rows)
        if notes:
            print()
            print("\n".join(f"- {n}" if args.markdown else n for n in notes))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"environment": info, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
