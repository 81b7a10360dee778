#include "activation.hpp"

#include "kernel_table.hpp"
#include "parallel_chunks.hpp"

namespace mlpcore {

template <class T>
void activation_forward(Activation kind, const T* x, T* y, std::size_t n, T negative_slope) {
    const auto fn = active_kernels<T>().activation_forward[static_cast<int>(kind)];
    parallel_chunks(n, kMinElementsPerThread, 64, [&](std::size_t begin, std::size_t end) {
        fn(x + begin, y + begin, end - begin, negative_slope);
    });
}

template <class T>
void activation_backward(Activation kind, const T* x, const T* grad_out, T* grad_in,
                         std::size_t n, T negative_slope) {
    const auto fn = active_kernels<T>().activation_backward[static_cast<int>(kind)];
    parallel_chunks(n, kMinElementsPerThread, 64, [&](std::size_t begin, std::size_t end) {
        fn(x + begin, grad_out + begin, grad_in + begin, end - begin, negative_slope);
    });
}

template <class T>
void softmax(const T* x, T* y, std::size_t rows, std::size_t cols, bool log_output) {
    const auto fn = active_kernels<T>().softmax_rows;
    const std::size_t min_rows = cols == 0 ? rows + 1 : kMinElementsPerThread / cols + 1;
    parallel_chunks(rows, min_rows, 1, [&](std::size_t begin, std::size_t end) {
        fn(x + begin * cols, y + begin * cols, end - begin, cols, log_output);
    });
}

template <class T>
void exp_nonpositive(T* x, std::size_t n) {
    active_kernels<T>().exp_nonpositive(x, n);
}

template void activation_forward<float>(Activation, const float*, float*, std::size_t, float);
template void activation_forward<double>(Activation, const double*, double*, std::size_t, double);
template void activation_backward<float>(Activation, const float*, const float*, float*,
                                         std::size_t, float);
template void activation_backward<double>(Activation, const double*, const double*, double*,
                                          std::size_t, double);
template void exp_nonpositive<float>(float*, std::size_t);
template void exp_nonpositive<double>(double*, std::size_t);
template void softmax<float>(const float*, float*, std::size_t, std::size_t, bool);
template void softmax<double>(const double*, double*, std::size_t, std::size_t, bool);

}  // namespace mlpcore
