// General matrix multiply C = alpha * op(A) * op(B) + beta * C on the active SIMD path and the
// thread pool. Threads own disjoint rectangles of C, so the result is bit-identical for any
// number of threads. beta == 0 overwrites C without reading it.
#pragma once

#include "gemm_types.hpp"

namespace mlpcore {

template <class T>
void gemm(const GemmArgs<T>& args);

// Naive triple loop, accumulated in the order p = 0..k-1: the test oracle, never tuned.
template <class T>
void gemm_reference(const GemmArgs<T>& args);

}  // namespace mlpcore
