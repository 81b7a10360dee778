// The GEMM problem as the kernels see it: C = alpha * op(A) * op(B) + beta * C with every
// transpose and layout expressed as element strides, so packing absorbs them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm_config.hpp"

namespace mlpcore {

template <class T>
struct GemmArgs {
    std::int64_t m = 0, n = 0, k = 0;
    T alpha = 1, beta = 0;
    const T* a = nullptr;  // op(A)[i, p] = a[i * rsa + p * csa]
    std::ptrdiff_t rsa = 0, csa = 0;
    const T* b = nullptr;  // op(B)[p, j] = b[p * rsb + j * csb]
    std::ptrdiff_t rsb = 0, csb = 0;
    T* c = nullptr;  // C[i, j] = c[i * ldc + j]
    std::ptrdiff_t ldc = 0;
};

// Rows [m0, m1) and columns [n0, n1) of C: the part one thread owns.
struct GemmRect {
    std::int64_t m0, m1, n0, n1;
};

template <class T>
struct GemmKernel {
    GemmBlocking blocking;
    // Single-threaded blocked GEMM over one rectangle of C. Workspaces hold at least
    // round_up(mc, mr) * kc and kc * round_up(nc, nr) elements.
    void (*run)(const GemmArgs<T>& args, GemmRect rect, T* pack_a, T* pack_b);
};

}  // namespace mlpcore
