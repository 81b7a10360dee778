#include "adam.hpp"

#include <cmath>

#include "check.hpp"
#include "kernel_table.hpp"
#include "parallel_chunks.hpp"

namespace mlpcore {

template <class T>
void check_adam_params(const AdamParams<T>& p) {
    require(std::isfinite(p.lr) && p.lr >= T(0), "adam_update: lr must be a finite number >= 0 (got ",
            p.lr, ")");
    require(p.beta1 >= T(0) && p.beta1 < T(1), "adam_update: beta1 must be in [0, 1) (got ", p.beta1,
            ")");
    require(p.beta2 >= T(0) && p.beta2 < T(1), "adam_update: beta2 must be in [0, 1) (got ", p.beta2,
            ")");
    require(std::isfinite(p.eps) && p.eps > T(0), "adam_update: eps must be a finite number > 0 (got ",
            p.eps, ")");
    require(std::isfinite(p.weight_decay) && p.weight_decay >= T(0),
            "adam_update: weight_decay must be a finite number >= 0 (got ", p.weight_decay, ")");
    require(std::isfinite(p.l1) && p.l1 >= T(0), "adam_update: l1 must be a finite number >= 0 (got ",
            p.l1, ")");
    require(std::isfinite(p.step_size),
            "adam_update: lr / (1 - beta1^step) overflows (lr=", p.lr, ", beta1=", p.beta1,
            "); use a smaller lr");
    require(p.step_size >= T(0) && std::isfinite(p.bias2_sqrt) && p.bias2_sqrt > T(0),
            "adam_update: the bias corrections must be finite and positive (step >= 1)");
}

template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, std::size_t n, const AdamParams<T>& p) {
    check_adam_params(p);
    const auto fn = active_kernels<T>().adam_step;
    parallel_chunks(n, kMinElementsPerThread, 64, [&](std::size_t begin, std::size_t end) {
        fn(param + begin, grad + begin, m + begin, v + begin, end - begin, p);
    });
}

template void check_adam_params<float>(const AdamParams<float>&);
template void check_adam_params<double>(const AdamParams<double>&);
template void adam_update<float>(float*, const float*, float*, float*, std::size_t,
                                 const AdamParams<float>&);
template void adam_update<double>(double*, const double*, double*, double*, std::size_t,
                                  const AdamParams<double>&);

}  // namespace mlpcore
