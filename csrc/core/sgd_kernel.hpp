// One fused SGD step over flat buffers: weight decay, L1, momentum and the update in one pass
// over memory. Semantics of torch.optim.SGD with dampening 0, plus an L1 term:
//   g' = g + weight_decay * w + l1 * sign(w)          (sign(0) = 0)
//   v  = momentum * v + g'                             (skipped when momentum == 0)
//   w  = w - lr * (g' + momentum * v  if nesterov  else  v)
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <cstddef>

#include "sgd_params.hpp"

template <bool kMomentum, bool kNesterov, class T>
inline void sgd_loop(T* __restrict w, const T* __restrict g, T* __restrict v, std::size_t n,
                     const mlpcore::SgdParams<T>& p) {
    const T lr = p.lr, wd = p.weight_decay, l1 = p.l1, mu = p.momentum;
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const T sign = T(w[i] > T(0)) - T(w[i] < T(0));
        const T d = (g[i] + wd * w[i]) + l1 * sign;
        T step = d;
        if constexpr (kMomentum) {
            const T vel = mu * v[i] + d;
            v[i] = vel;
            step = kNesterov ? d + mu * vel : vel;
        }
        w[i] = w[i] - lr * step;
    }
}

template <class T>
void sgd_step(T* w, const T* g, T* v, std::size_t n, const mlpcore::SgdParams<T>& p) {
    if (v == nullptr) {
        sgd_loop<false, false>(w, g, v, n, p);
    } else if (p.nesterov) {
        sgd_loop<true, true>(w, g, v, n, p);
    } else {
        sgd_loop<true, false>(w, g, v, n, p);
    }
}
