// One fused SGD step over flat buffers: weight decay, L1, momentum and the update in one pass
// over memory. Semantics of torch.optim.SGD with dampening 0, plus an L1 term:
//   g' = g + weight_decay * w + l1 * sign(w)          (sign(0) = 0)
//   v  = momentum * v + g'                             (skipped when momentum == 0)
//   w  = w - lr * (g' + momentum * v  if nesterov  else  v)
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <cstddef>

#include "sgd_params.hpp"

template <class T>
void sgd_step(T* __restrict w, const T* __restrict g, T* __restrict v, std::size_t n,
              const mlpcore::SgdParams<T>& p) {
    const T lr = p.lr, wd = p.weight_decay, l1 = p.l1, mu = p.momentum;
    if (v == nullptr) {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
            const T sign = T(w[i] > T(0)) - T(w[i] < T(0));
            const T d = (g[i] + wd * w[i]) + l1 * sign;
            w[i] = w[i] - lr * d;
        }
    } else if (p.nesterov) {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
            const T sign = T(w[i] > T(0)) - T(w[i] < T(0));
            const T d = (g[i] + wd * w[i]) + l1 * sign;
            const T vel = mu * v[i] + d;
            v[i] = vel;
            w[i] = w[i] - lr * (d + mu * vel);
        }
    } else {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) {
            const T sign = T(w[i] > T(0)) - T(w[i] < T(0));
            const T d = (g[i] + wd * w[i]) + l1 * sign;
            const T vel = mu * v[i] + d;
            v[i] = vel;
            w[i] = w[i] - lr * vel;
        }
    }
}
