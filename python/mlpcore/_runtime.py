"""Run-time settings of the native core: SIMD path and thread count."""

from __future__ import annotations

import numbers

from . import _core

__all__ = ["simd_level", "supported_simd_levels", "get_num_threads", "set_num_threads"]


def simd_level() -> str:
    """The SIMD path the kernels use: ``"avx512"``, ``"avx2"`` or ``"generic"``.

    Chosen at import as the widest the CPU supports, unless the environment variable
    ``MLPCORE_SIMD`` forces one (it must name a path this CPU supports).
    """
    return _core.simd_level()


def supported_simd_levels() -> list[str]:
    """SIMD paths this CPU can run, narrowest first (always includes ``"generic"``)."""
    return list(_core.supported_simd_levels())


def get_num_threads() -> int:
    """Threads the kernels use (default: the cores available to this process)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Use ``n`` >= 1 threads in the kernels. Results do not depend on ``n``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"set_num_threads: n must be an integer (got {type(n).__name__})")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer (got {n})")
    if n > 1024:
        raise ValueError(f"set_num_threads: n must be at most 1024 (got {n})")
    _core.set_num_threads(int(n))
