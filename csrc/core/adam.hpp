// The fused Adam step on flat buffers (formula in adam_kernel.hpp), checked and dispatched.
#pragma once

#include <cstddef>

#include "adam_params.hpp"

namespace mlpcore {

// Throws invalid_argument for lr < 0 or NaN, betas outside [0, 1), eps <= 0, negative or
// non-finite weight_decay / l1, or bias corrections that are not finite and positive.
template <class T>
void check_adam_params(const AdamParams<T>& params);

// m and v (first and second moments) have n elements like param and grad.
template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, std::size_t n, const AdamParams<T>& params);

}  // namespace mlpcore
