// Hyper-parameters of one Adam step (see adam_kernel.hpp for the update they define).
#pragma once

#include <cmath>
#include <cstdint>

namespace mlpcore {

template <class T>
struct AdamParams {
    T lr = 0;
    T beta1 = 0;
    T beta2 = 0;
    T eps = 0;
    T weight_decay = 0;
    T l1 = 0;
    // 1 - beta1 and 1 - beta2 rounded from double, as torch does (in float32, 1 - T(0.999)
    // would be 1.3e-5 relative too small and lengthen every step).
    T one_minus_beta1 = 1;
    T one_minus_beta2 = 1;
    // Bias corrections of step t (1-based), computed in double and rounded once, as
    // torch.optim.Adam does with Python floats: step_size = lr / (1 - beta1^t) and
    // bias2_sqrt = sqrt(1 - beta2^t).
    T step_size = 0;
    T bias2_sqrt = 1;
    T inv_bias2_sqrt = 1;  // 1 / bias2_sqrt, from double
};

// The parameters of step t (t >= 1) from the caller's double-precision values.
template <class T>
AdamParams<T> adam_params_at(double lr, double beta1, double beta2, double eps, double weight_decay,
                             double l1, std::int64_t t) {
    const double bias1 = 1.0 - std::pow(beta1, static_cast<double>(t));
    const double bias2 = 1.0 - std::pow(beta2, static_cast<double>(t));
    return AdamParams<T>{static_cast<T>(lr),           static_cast<T>(beta1),
                         static_cast<T>(beta2),        static_cast<T>(eps),
                         static_cast<T>(weight_decay), static_cast<T>(l1),
                         static_cast<T>(1.0 - beta1),  static_cast<T>(1.0 - beta2),
                         static_cast<T>(lr / bias1),   static_cast<T>(std::sqrt(bias2)),
                         static_cast<T>(1.0 / std::sqrt(bias2))};
}

}  // namespace mlpcore
