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

template <class T, int MR, int NV>
void gemm_blocked(const mlpcore::GemmArgs<T>& g, mlpcore::GemmRect rect,
                  const mlpcore::GemmBlocking& blk, T* pack_a_buf, T* pack_b_buf) {
    constexpr int NR = NV * Vec<T>::width;
    static_assert(MR > 0 && NR > 0, "tile must be non-empty");
    for (std::int64_t ic = rect.m0; ic < rect.m1; ic += blk.mc) {
        const std::int64_t mc = rect.m1 - ic < blk.mc ? rect.m1 - ic : blk.mc;
        for (std::int64_t pc = 0; pc < g.k; pc += blk.kc) {
            const std::int64_t kc = g.k - pc < blk.kc ? g.k - pc : blk.kc;
            // Later depth blocks accumulate onto what the first one wrote.
            const T beta = pc == 0 ? g.beta : T(1);
            pack_a<MR>(mc, kc, g.a + ic * g.rsa + pc * g.csa, g.rsa, g.csa, pack_a_buf);
            for (std::int64_t jc = rect.n0; jc < rect.n1; jc += blk.nc) {
                const std::int64_t nc = rect.n1 - jc < blk.nc ? rect.n1 - jc : blk.nc;
                pack_b<NR>(kc, nc, g.b + pc * g.rsb + jc * g.csb, g.rsb, g.csb, pack_b_buf);
                for (std::int64_t ir = 0; ir < mc; ir += MR) {
                    const int m = static_cast<int>(mc - ir < MR ? mc - ir : MR);
                    const T* a_sliver = pack_a_buf + ir * kc;
                    T* c_row = g.c + (ic + ir) * g.ldc + jc;
                    for (std::int64_t jr = 0; jr < nc; jr += NR) {
                        const int n = static_cast<int>(nc - jr < NR ? nc - jr : NR);
                        micro_kernel<T, MR, NV>(kc, a_sliver, pack_b_buf + jr * kc, c_row + jr,
                                                g.ldc, g.alpha, beta, m, n);
                    }
                }
            }
        }
    }
}
