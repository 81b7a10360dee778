// Activation functions, forward and backward side by side, on contiguous arrays. x is the
// pre-activation input; backward returns grad_out * f'(x). Written as plain loops over
// math_approx.hpp so that each ISA translation unit vectorises them for its own registers.
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
//
//   identity    f = x                              f' = 1
//   sigmoid     f = 1 / (1 + e^-x)                 f' = f (1 - f) = z / (1 + z)^2,  z = e^-|x|
//               (evaluated with z so neither end overflows nor cancels)
//   tanh        f = sign(x) (1 - z) / (1 + z),  z = e^-2|x|;  odd Taylor series for |x| < 0.17
//               f' = 1 - f^2 = 4 z / (1 + z)^2,  z = e^-2|x|
//   relu        f = max(x, 0)                      f' = 1 if x > 0 else 0     (0 at the kink)
//   leaky_relu  f = x if x > 0 else a x            f' = 1 if x > 0 else a     (a at the kink)
//   softplus    f = max(x, 0) + log1p(e^-|x|)      f' = sigmoid(x)
#pragma once

#include <cstddef>

#include "math_approx.hpp"

template <class T>
inline T sigmoid_scalar(T x) {
    const T z = fast_exp_nonpositive(-(x < T(0) ? -x : x));
    const T d = T(1) / (T(1) + z);
    return x >= T(0) ? d : z * d;
}

template <class T>
void identity_forward(const T* x, T* y, std::size_t n, T) {
    if (x != y)
        for (std::size_t i = 0; i < n; ++i) y[i] = x[i];
}
template <class T>
void identity_backward(const T*, const T* gy, T* gx, std::size_t n, T) {
    if (gy != gx)
        for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i];
}

template <class T>
void sigmoid_forward(const T* x, T* y, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) y[i] = sigmoid_scalar(x[i]);
}
template <class T>
void sigmoid_backward(const T* x, const T* gy, T* gx, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const T ax = x[i] < T(0) ? -x[i] : x[i];
        const T z = fast_exp_nonpositive(-ax);
        const T d = T(1) / (T(1) + z);
        gx[i] = gy[i] * (z * d * d);
    }
}

// Odd Taylor series of tanh around 0, tanh(x) = x * sum_k c_k x^(2k): used for |x| < 0.17,
// where (1 - z) / (1 + z) would cancel. 6 terms reach float32's precision there, 10 float64's.
template <class T> struct TanhSeries;
template <> struct TanhSeries<float> {
    static constexpr int kTerms = 6;
};
template <> struct TanhSeries<double> {
    static constexpr int kTerms = 10;
};
inline constexpr double kTanhCoefficients[10] = {
    1.0,
    -0.3333333333333333333333333,
    0.1333333333333333333333333,
    -0.05396825396825396825396825,
    0.02186948853615520282186949,
    -0.008863235529902196568863236,
    0.003592128036572481016925461,
    -0.001455834387051318268249485,
    0.000590027440945585981378076,
    -0.0002391291142435524814857315,
};

template <class T>
void tanh_forward(const T* x, T* y, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const T xi = x[i];
        const T ax = xi < T(0) ? -xi : xi;
        // |x| >= 0.17: tanh|x| = (1 - z) / (1 + z), z = e^-2|x| (never overflows)
        const T z = fast_exp_nonpositive(T(-2) * ax);
        const T large = (T(1) - z) / (T(1) + z);
        // |x| < 0.17: the series, on x itself (keeps the sign and -0)
        const T x2 = xi * xi;
        T series = T(kTanhCoefficients[TanhSeries<T>::kTerms - 1]);
#pragma GCC unroll 10
        for (int k = TanhSeries<T>::kTerms - 2; k >= 0; --k)
            series = series * x2 + T(kTanhCoefficients[k]);
        const T small = xi * series;
        // NaN fails both comparisons and comes out of `large` as NaN.
        y[i] = ax < T(0.17) ? small : (xi < T(0) ? -large : large);
    }
}
template <class T>
void tanh_backward(const T* x, const T* gy, T* gx, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) {
        const T ax = x[i] < T(0) ? -x[i] : x[i];
        const T z = fast_exp_nonpositive(T(-2) * ax);
        const T d = T(1) / (T(1) + z);
        gx[i] = gy[i] * (T(4) * z * d * d);
    }
}

template <class T>
void relu_forward(const T* x, T* y, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // NaN passes through
}
template <class T>
void relu_backward(const T* x, const T* gy, T* gx, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : (x[i] != x[i] ? x[i] : T(0));
}

template <class T>
void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] < T(0) ? slope * x[i] : x[i];
}
template <class T>
void leaky_relu_backward(const T* x, const T* gy, T* gx, std::size_t n, T slope) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i)
        gx[i] = x[i] > T(0) ? gy[i] : (x[i] != x[i] ? x[i] : slope * gy[i]);
}

template <class T>
void softplus_forward(const T* x, T* y, std::size_t n, T) {
    // Two passes per block: GCC does not vectorise exp and log1p fused in one loop body
    // ("control flow in loop"), but does each on its own.
    constexpr std::size_t kBlock = 256;
    T z[kBlock];
    for (std::size_t base = 0; base < n; base += kBlock) {
        const std::size_t len = n - base < kBlock ? n - base : kBlock;
        const T* xb = x + base;
#pragma omp simd
        for (std::size_t i = 0; i < len; ++i) z[i] = fast_exp_nonpositive(xb[i] < T(0) ? xb[i] : -xb[i]);
#pragma omp simd
        for (std::size_t i = 0; i < len; ++i) {
            const T xi = xb[i];
            const T pos = xi > T(0) ? xi : T(0);
            const T v = pos + fast_log1p_nonneg(z[i]);
            y[base + i] = xi != xi ? xi : v;
        }
    }
}
template <class T>
void softplus_backward(const T* x, const T* gy, T* gx, std::size_t n, T) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i] * sigmoid_scalar(x[i]);
}

// x[i] = e^x[i] in place, for x[i] <= 0 (NaN passes through): the exponentials of a block's
// shifted logits for softmax cross-entropy, every row in one loop (a row of 10 classes alone is
// too short for the vector loop).
template <class T>
void exp_nonpositive(T* x, std::size_t n) {
#pragma omp simd
    for (std::size_t i = 0; i < n; ++i) x[i] = fast_exp_nonpositive(x[i]);
}

// Row-wise softmax (or log-softmax) of a rows x cols C-ordered block:
//   softmax(x)_j = e^(x_j - m) / sum_k e^(x_k - m),   m = max_k x_k
//   log_softmax(x)_j = x_j - m - log(sum_k e^(x_k - m))
// Subtracting the row maximum keeps huge logits finite. The sums run in a fixed order.
template <class T>
void softmax_rows(const T* x, T* y, std::size_t rows, std::size_t cols, bool log_output) {
    for (std::size_t r = 0; r < rows; ++r) {
        const T* xr = x + r * cols;
        T* yr = y + r * cols;
        if (cols == 0) continue;
        T m = xr[0];
        bool has_nan = false;
        for (std::size_t j = 0; j < cols; ++j) {
            m = xr[j] > m ? xr[j] : m;
            has_nan = has_nan || xr[j] != xr[j];
        }
        if (has_nan) m = T(NAN);
        T sum = T(0);
        if (log_output) {
#pragma omp simd reduction(+ : sum)
            for (std::size_t j = 0; j < cols; ++j) sum += fast_exp_nonpositive(xr[j] - m);
            const T log_sum = fast_log(sum);
#pragma omp simd
            for (std::size_t j = 0; j < cols; ++j) yr[j] = (xr[j] - m) - log_sum;
        } else {
#pragma omp simd reduction(+ : sum)
            for (std::size_t j = 0; j < cols; ++j) {
                const T e = fast_exp_nonpositive(xr[j] - m);
                yr[j] = e;
                sum += e;
            }
            const T inv = T(1) / sum;
#pragma omp simd
            for (std::size_t j = 0; j < cols; ++j) yr[j] *= inv;
        }
    }
}
