// The fused SGD step on flat buffers (formula in sgd_kernel.hpp), checked and dispatched.
#pragma once

#include <cstddef>

#include "sgd_params.hpp"

namespace mlpcore {

// Throws invalid_argument for lr < 0 or NaN, momentum outside [0, 1], negative or non-finite
// weight_decay / l1, nesterov without momentum, or a missing velocity when momentum > 0.
template <class T>
void check_sgd_params(const SgdParams<T>& params, bool has_velocity);

// velocity may be null when momentum == 0 (it is then left untouched).
template <class T>
void sgd_update(T* param, const T* grad, T* velocity, std::size_t n, const SgdParams<T>& params);

}  // namespace mlpcore
