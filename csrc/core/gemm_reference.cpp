// The test oracle for gemm(): a naive triple loop. Never tuned.
#include <cstdint>

#include "gemm.hpp"

namespace mlpcore {

template <class T>
void gemm_reference(const GemmArgs<T>& g) {
    for (std::int64_t i = 0; i < g.m; ++i) {
        for (std::int64_t j = 0; j < g.n; ++j) {
            T sum = T(0);
            for (std::int64_t p = 0; p < g.k; ++p)
                sum += g.a[i * g.rsa + p * g.csa] * g.b[p * g.rsb + j * g.csb];
            T& c = g.c[i * g.ldc + j];
            c = g.beta == T(0) ? g.alpha * sum : g.alpha * sum + g.beta * c;
        }
    }
}

template void gemm_reference<float>(const GemmArgs<float>&);
template void gemm_reference<double>(const GemmArgs<double>&);

}  // namespace mlpcore
