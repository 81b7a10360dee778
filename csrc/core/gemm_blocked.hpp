// The five loops of a blocked GEMM (BLIS/GotoBLAS), single-threaded, over one rectangle of C.
// Threads each run this on their own rectangle (see gemm.cpp), so no loop here splits K and
// every element of C is summed in the same order whatever the thread count.
//
//   ic: rows in steps of mc
//     pc: depth in steps of kc          pack an mc x kc block of op(A)   (L3; each element once)
//       jc: columns in steps of nc      pack a kc x nc block of op(B)    (stays in L2)
//         ir: mr-row slivers of A        (one sliver stays in L1)
//           jr: nr-column slivers of B    -> micro_kernel
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <cstdint>

#include "gemm_types.hpp"

// Depth of the K blocks: at most kc, and all about equal, so that no block is a short tail
// (784 = 196 x 4 rather than 256 x 3 + 16, whose last pass would barely use the kernel).
inline std::int64_t balanced_depth(std::int64_t k, std::int64_t kc) {
    const std::int64_t blocks = (k + kc - 1) / kc;
    const std::int64_t depth = (k + blocks - 1) / blocks;
    return (depth + 7) / 8 * 8 < kc ? (depth + 7) / 8 * 8 : kc;
}

// Rows of C below which a row-major B is read in place instead of packed: with few A slivers
// each B sliver is reused only a few times, too few to pay for copying it.
inline constexpr std::int64_t kDirectBMaxRows = 256;

// The micro-kernel for a sliver of m <= MR rows. The last sliver of a block often has only a
// few (a 50-row block is 4 x 12 + 2): it computes the smallest of 2, 4 or 8 rows that holds
// them rather than all MR (the same bits, see micro_kernel). A 50 x 256 by 256 x 128 product
// on one thread: 41 -> 37 us (60 rows: 41 us, 48 rows: 33 us); a 784-256-128-10 epoch 3-4%.
template <class T, int MR, int NV>
void micro_kernel_rows(int m, std::int64_t kc, const T* a, const T* b, std::ptrdiff_t ldb, T* c,
                       std::ptrdiff_t ldc, T alpha, T beta, int n) {
    if constexpr (MR > 2)
        if (m <= 2) return micro_kernel<T, MR, NV, 2>(kc, a, b, ldb, c, ldc, alpha, beta, m, n);
    if constexpr (MR > 4)
        if (m <= 4) return micro_kernel<T, MR, NV, 4>(kc, a, b, ldb, c, ldc, alpha, beta, m, n);
    if constexpr (MR > 8)
        if (m <= 8) return micro_kernel<T, MR, NV, 8>(kc, a, b, ldb, c, ldc, alpha, beta, m, n);
    micro_kernel<T, MR, NV>(kc, a, b, ldb, c, ldc, alpha, beta, m, n);
}

template <class T, int MR, int NV>
void gemm_blocked(const mlpcore::GemmArgs<T>& g, mlpcore::GemmRect rect,
                  const mlpcore::GemmBlocking& blk, T* pack_a_buf, T* pack_b_buf) {
    constexpr int NR = NV * Vec<T>::width;
    static_assert(MR > 0 && NR > 0, "tile must be non-empty");
    const std::int64_t kc_max = balanced_depth(g.k, blk.kc);
    const bool direct_b = g.csb == 1 && rect.m1 - rect.m0 <= kDirectBMaxRows;
    for (std::int64_t ic = rect.m0; ic < rect.m1; ic += blk.mc) {
        const std::int64_t mc = rect.m1 - ic < blk.mc ? rect.m1 - ic : blk.mc;
        for (std::int64_t pc = 0; pc < g.k; pc += kc_max) {
            const std::int64_t kc = g.k - pc < kc_max ? g.k - pc : kc_max;
            // Later depth blocks accumulate onto what the first one wrote.
            const T beta = pc == 0 ? g.beta : T(1);
            pack_a<MR>(mc, kc, g.a + ic * g.rsa + pc * g.csa, g.rsa, g.csa, pack_a_buf);
            for (std::int64_t jc = rect.n0; jc < rect.n1; jc += blk.nc) {
                const std::int64_t nc = rect.n1 - jc < blk.nc ? rect.n1 - jc : blk.nc;
                const T* b_block = g.b + pc * g.rsb + jc * g.csb;
                // Full slivers of a row-major B are read in place when direct_b; the rest (or
                // everything) is packed.
                const std::int64_t direct_cols = direct_b ? nc / NR * NR : 0;
                if (direct_cols < nc)
                    pack_b<NR>(kc, nc - direct_cols, b_block + direct_cols, g.rsb, g.csb,
                               pack_b_buf);
                for (std::int64_t ir = 0; ir < mc; ir += MR) {
                    const int m = static_cast<int>(mc - ir < MR ? mc - ir : MR);
                    const T* a_sliver = pack_a_buf + ir * kc;
                    T* c_row = g.c + (ic + ir) * g.ldc + jc;
                    for (std::int64_t jr = 0; jr < nc; jr += NR) {
                        const int n = static_cast<int>(nc - jr < NR ? nc - jr : NR);
                        const bool in_place = jr < direct_cols;
                        const T* b_sliver =
                            in_place ? b_block + jr : pack_b_buf + (jr - direct_cols) * kc;
                        micro_kernel_rows<T, MR, NV>(m, kc, a_sliver, b_sliver,
                                                     in_place ? g.rsb : NR, c_row + jr, g.ldc,
                                                     g.alpha, beta, n);
                    }
                }
            }
        }
    }
}
