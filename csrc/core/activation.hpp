// Activations on whole arrays: dispatch to the active SIMD path, threads for large arrays.
// The formulas live beside their derivatives in activation_kernels.hpp.
#pragma once

#include <cstddef>

#include "activation_kind.hpp"

namespace mlpcore {

template <class T>
void activation_forward(Activation kind, const T* x, T* y, std::size_t n, T negative_slope);

// grad_in = grad_out * f'(x), x the pre-activation input.
template <class T>
void activation_backward(Activation kind, const T* x, const T* grad_out, T* grad_in,
                         std::size_t n, T negative_slope);

// x[i] = e^x[i] in place for x[i] <= 0 (NaN stays NaN), on the calling thread.
template <class T>
void exp_nonpositive(T* x, std::size_t n);

// Row-wise softmax / log-softmax of a C-ordered rows x cols array.
template <class T>
void softmax(const T* x, T* y, std::size_t rows, std::size_t cols, bool log_output);

}  // namespace mlpcore
