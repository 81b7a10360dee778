// The micro-kernel: C[0:m, 0:n] = alpha * (A_sliver * B_sliver) + beta * C[0:m, 0:n] for one
// MR x NR register tile, from a packed MR x kc sliver of A (a[p * MR + i]) and a packed
// kc x NR sliver of B (b[p * ldb + j]; ldb = NR when packed, or the row stride of a row-major
// B read in place). NR = NV vector registers per row.
//
// ROWS <= MR: the rows the kernel computes, from the first ROWS of each MR-wide step of the
// sliver. A tile with few rows left (a 50-row block: 4 x 12 + 2) runs with a smaller ROWS
// rather than computing 12 rows for 2 (gemm_blocked.hpp).
//
// The kernel owns edge tiles (m < ROWS or n < NR): it computes the full tile in registers, then
// goes through a small buffer with the same vector arithmetic, so an element of C gets the same
// bits whether or not it sits in an edge tile, and whatever ROWS. beta == 0 never reads C (NaN
// in C is ignored).
// Included by the kernels_<isa>.cpp files inside their ISA namespace, after simd_vec.hpp.
#pragma once

#include <cstddef>

inline constexpr int kPrefetchSteps = 8;

template <class T, int MR, int NV, int ROWS = MR>
void micro_kernel(std::int64_t kc, const T* __restrict a, const T* __restrict b,
                  std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc, T alpha, T beta, int m, int n) {
    static_assert(ROWS >= 1 && ROWS <= MR, "a tile computes 1 to MR rows");
    using V = Vec<T>;
    constexpr int W = V::width;
    constexpr int NR = NV * W;
    typename V::reg acc[ROWS][NV];
#pragma GCC unroll 32
    for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();

    // Start fetching the C tile now so it has arrived by the time the sums are written.
    if (beta != T(0)) {
        for (int i = 0; i < m; ++i) {
            __builtin_prefetch(c + i * ldc, 1, 3);
            __builtin_prefetch(c + i * ldc + n - 1, 1, 3);
        }
    }

    for (std::int64_t p = 0; p < kc; ++p) {
        // The B sliver streams from L2: ask for it a few steps ahead.
#pragma GCC unroll 8
        for (int line = 0; line < NR * int(sizeof(T)); line += 64)
            __builtin_prefetch(reinterpret_cast<const char*>(b + kPrefetchSteps * ldb) + line, 0, 3);
        typename V::reg bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 32
        for (int i = 0; i < ROWS; ++i) {
            const typename V::reg ai = V::broadcast(a[i]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
        }
        a += MR;
        b += ldb;
    }

    const typename V::reg alpha_v = V::broadcast(alpha);
    const typename V::reg beta_v = V::broadcast(beta);
    const bool full = (m == ROWS && n == NR);
    alignas(64) T edge[ROWS * NR];
    T* out = full ? c : edge;
    const std::ptrdiff_t ld = full ? ldc : NR;
    if (!full) {
        for (int i = 0; i < ROWS * NR; ++i) edge[i] = T(0);
        // m <= ROWS and n <= NR always; the second bounds tell the compiler so.
        if (beta != T(0))
            for (int i = 0; i < m && i < ROWS; ++i)
                for (int j = 0; j < n && j < NR; ++j) edge[i * NR + j] = c[i * ldc + j];
    }
#pragma GCC unroll 32
    for (int i = 0; i < ROWS; ++i) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            T* dst = out + i * ld + v * W;
            typename V::reg r = V::mul(alpha_v, acc[i][v]);
            if (beta != T(0)) r = V::fmadd(beta_v, V::load(dst), r);
            V::store(dst, r);
        }
    }
    if (!full) {
        for (int i = 0; i < m && i < ROWS; ++i)
            for (int j = 0; j < n && j < NR; ++j) c[i * ldc + j] = edge[i * NR + j];
    }
}
