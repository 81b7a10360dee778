// GEMM for narrow outputs (n <= 16) with a row-major A, AVX-512 float32: the output layer of a
// classifier (batch x hidden @ hidden x classes). Instead of packing A (a transpose), each
// output is a dot product along k of a row of A, read in place, and a row of B^T (packed once,
// n x k, small):
//   C[i, j] = alpha * sum_p A[i, p] * B[p, j] + beta * C[i, j]
// 8 rows x 2 columns of C are accumulated as 16 vectors of 16 partial sums (lanes along p, in
// a fixed order), then reduced together into one vector of 16 sums (46 shuffles and adds).
// Every output is summed in the same order whatever the thread split.
// Included by kernels_avx512.cpp inside its ISA namespace.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm_types.hpp"

// One vector whose lane q is the sum of the 16 lanes of v[q].
inline __m512 reduce_16_vectors(const __m512 v[16]) {
    __m512 w[8], x[4];
    for (int i = 0; i < 8; ++i) {
        const __m512 lo = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0));
        const __m512 hi = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2));
        w[i] = _mm512_add_ps(lo, hi);  // 128-bit blocks: v2i (2 blocks), v2i+1 (2 blocks)
    }
    for (int i = 0; i < 4; ++i) {
        const __m512 lo = _mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0));
        const __m512 hi = _mm512_shuffle_f32x4(w[2 * i], w[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1));
        x[i] = _mm512_add_ps(lo, hi);  // block b holds 4 partial sums of v[4i + b]
    }
    const __m512 y0 = _mm512_add_ps(_mm512_unpacklo_ps(x[0], x[1]), _mm512_unpackhi_ps(x[0], x[1]));
    const __m512 y1 = _mm512_add_ps(_mm512_unpacklo_ps(x[2], x[3]), _mm512_unpackhi_ps(x[2], x[3]));
    const __m512 z = _mm512_add_ps(_mm512_shuffle_ps(y0, y1, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm512_shuffle_ps(y0, y1, _MM_SHUFFLE(3, 2, 3, 2)));
    // z[4b + l] = sum(v[4l + b]); put lane q = sum(v[q]).
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_ps(order, z);
}

// Rows [row0, row1) of C. bt: B^T packed with n_pad = round_up(n, 2) rows of k_pad =
// round_up(k, 16) elements each, zero-padded.
inline void gemm_narrow_rows(const mlpcore::GemmArgs<float>& g, const float* bt,
                             std::int64_t k_pad, std::int64_t row0, std::int64_t row1) {
    // Partial groups of 8 rows use row0 for the missing ones (valid memory) and drop them.
    const std::int64_t k = g.k;
    const std::int64_t full = k / 16 * 16;
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - full)) - 1u);
    for (std::int64_t i0 = row0; i0 < row1; i0 += 8) {
        const int rows = static_cast<int>(row1 - i0 < 8 ? row1 - i0 : 8);
        const float* a[8];
        for (int r = 0; r < 8; ++r) a[r] = g.a + (r < rows ? i0 + r : row0) * g.rsa;
        for (std::int64_t j0 = 0; j0 < g.n; j0 += 2) {
            const float* b0 = bt + j0 * k_pad;
            const float* b1 = b0 + k_pad;
            __m512 acc[16];
            for (int q = 0; q < 16; ++q) acc[q] = _mm512_setzero_ps();
            std::int64_t p = 0;
            for (; p < full; p += 16) {
                const __m512 w0 = _mm512_loadu_ps(b0 + p), w1 = _mm512_loadu_ps(b1 + p);
                for (int r = 0; r < 8; ++r) {
                    __m512 ar = _mm512_loadu_ps(a[r] + p);
                    // Keep ar in a register: folded into both FMAs it would be loaded twice,
                    // and this loop is bound by loads, not by FMAs, on Zen 4.
                    __asm__("" : "+v"(ar));
                    acc[2 * r] = _mm512_fmadd_ps(ar, w0, acc[2 * r]);
                    acc[2 * r + 1] = _mm512_fmadd_ps(ar, w1, acc[2 * r + 1]);
                }
            }
            if (p < k) {
                const __m512 w0 = _mm512_loadu_ps(b0 + p), w1 = _mm512_loadu_ps(b1 + p);
                for (int r = 0; r < 8; ++r) {
                    const __m512 ar = _mm512_maskz_loadu_ps(tail, a[r] + p);
                    acc[2 * r] = _mm512_fmadd_ps(ar, w0, acc[2 * r]);
                    acc[2 * r + 1] = _mm512_fmadd_ps(ar, w1, acc[2 * r + 1]);
                }
            }
            alignas(64) float sums[16];
            _mm512_store_ps(sums, reduce_16_vectors(acc));
            const int cols = g.n - j0 < 2 ? 1 : 2;
            for (int r = 0; r < rows; ++r) {
                float* c = g.c + (i0 + r) * g.ldc + j0;
                for (int cc = 0; cc < cols; ++cc) {
                    const float s = g.alpha * sums[2 * r + cc];
                    c[cc] = g.beta == 0.0f ? s : s + g.beta * c[cc];
                }
            }
        }
    }
}

// Packs B^T into bt (see gemm_narrow_rows) and returns k_pad.
inline std::int64_t pack_b_transposed(const mlpcore::GemmArgs<float>& g, float* bt) {
    const std::int64_t k_pad = (g.k + 15) / 16 * 16;
    const std::int64_t n_pad = (g.n + 1) / 2 * 2;
    for (std::int64_t j = 0; j < n_pad; ++j)
        for (std::int64_t p = (j < g.n ? g.k : 0); p < k_pad; ++p) bt[j * k_pad + p] = 0.0f;
    if (g.csb == 1) {
        // bt[j * k_pad + p] = B[p, j]: rows of B are the lines to interleave.
        interleave_lines(g.b, g.rsb, g.k, g.n, k_pad, bt);
    } else {
        for (std::int64_t j = 0; j < g.n; ++j)
            for (std::int64_t p = 0; p < g.k; ++p) bt[j * k_pad + p] = g.b[p * g.rsb + j * g.csb];
    }
    return k_pad;
}
