"""GEMM: mlpcore.ops.matmul vs numpy (BLAS) vs torch.matmul, float32.

Shapes (from compare.GEMM_CASES): squares 512, 1024, 2048 and the five GEMMs of one training
step of a 784-256-128-10 MLP at batch 128 (X·W1, H1·W2, H2·W3, Xᵀ·G with trans_a, G·W1ᵀ with
trans_b). One benchmark group per shape and thread count; every result is checked against a
float64 numpy product with a tolerance growing with k.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from compare import (
    GEMM_CASES,
    LIBRARIES,
    GemmCase,
    gemm_atol,
    gemm_impls,
    gemm_operands,
    gemm_reference,
)

pytestmark = pytest.mark.benchmark(warmup=True)

_CASES = {case.id: case for case in GEMM_CASES}


@functools.lru_cache(maxsize=None)
def _data(case_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operands and float64 reference, shared by the libraries (2048³ in float64 takes ~1 s)."""
    case = _CASES[case_id]
    a, b = gemm_operands(case, np.float32)
    return a, b, gemm_reference(case, a, b)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("case", GEMM_CASES, ids=lambda c: c.id)
def test_gemm(
    benchmark: Any, record_rates: Any, case: GemmCase, library: str, threads: int,
    torch_module: Any, thread_limits: int,
) -> None:
    a, b, reference = _data(case.id)
    impl = {i.library: i for i in gemm_impls(case, a, b, torch_module)}[library]
    benchmark.group = f"gemm {case.label} float32 threads={threads}"
    benchmark.extra_info.update(library=library, m=case.m, n=case.n, k=case.k,
                                trans_a=case.trans_a, trans_b=case.trans_b, threads=threads)
    benchmark(impl.run)
    record_rates(flops=case.flops)
    np.testing.assert_allclose(
        impl.result(), reference, rtol=0, atol=gemm_atol(case.k, np.float32),
        err_msg=f"{library} {case.label}",
    )
