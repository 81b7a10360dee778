#include "sgd.hpp"

#include <cmath>

#include "check.hpp"
#include "kernel_table.hpp"
#include "parallel_chunks.hpp"

namespace mlpcore {

template <class T>
void check_sgd_params(const SgdParams<T>& p, bool has_velocity) {
    require(std::isfinite(p.lr) && p.lr >= T(0), "sgd_update: lr must be a finite number >= 0 (got ",
            p.lr, ")");
    // 1 is allowed, as in scikit-learn's MLP: the velocity then never decays.
    require(p.momentum >= T(0) && p.momentum <= T(1),
            "sgd_update: momentum must be in [0, 1] (got ", p.momentum, ")");
    require(std::isfinite(p.weight_decay) && p.weight_decay >= T(0),
            "sgd_update: weight_decay must be a finite number >= 0 (got ", p.weight_decay, ")");
    require(std::isfinite(p.l1) && p.l1 >= T(0), "sgd_update: l1 must be a finite number >= 0 (got ",
            p.l1, ")");
    require(p.use_momentum == (p.momentum > T(0)) || p.momentum == T(0),
            "sgd_update: use_momentum must be set when momentum > 0");
    require(!p.nesterov || p.use_momentum,
            "sgd_update: nesterov momentum requires momentum > 0 (got momentum=", p.momentum, ")");
    require(has_velocity || !p.use_momentum,
            "sgd_update: velocity is required when momentum > 0 (got None)");
}

template <class T>
void sgd_update(T* param, const T* grad, T* velocity, std::size_t n, const SgdParams<T>& p) {
    check_sgd_params(p, velocity != nullptr);
    T* v = p.use_momentum ? velocity : nullptr;
    const auto fn = active_kernels<T>().sgd_step;
    parallel_chunks(n, kMinElementsPerThread * 4, 64, [&](std::size_t begin, std::size_t end) {
        fn(param + begin, grad + begin, v == nullptr ? nullptr : v + begin, end - begin, p);
    });
}

template void check_sgd_params<float>(const SgdParams<float>&, bool);
template void check_sgd_params<double>(const SgdParams<double>&, bool);
template void sgd_update<float>(float*, const float*, float*, std::size_t, const SgdParams<float>&);
template void sgd_update<double>(double*, const double*, double*, std::size_t,
                                 const SgdParams<double>&);

}  // namespace mlpcore
