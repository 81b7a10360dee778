// Squared L2 and L1 norms of a float array, summed in double: the weight penalty that the
// estimators add to each epoch's loss (scikit-learn's loss_curve_).
#pragma once

#include <cmath>
#include <cstddef>

namespace mlpcore {

struct Norms {
    double squares = 0;  // sum of x^2
    double abs = 0;      // sum of |x|
};

// Eight independent partial sums the compiler can keep in vector lanes (a single running sum
// is a chain of dependent adds, 10x slower), added in a fixed order: the same bits every call.
template <class T>
Norms weight_norms(const T* x, std::size_t n) {
    constexpr std::size_t kLanes = 8;
    double squares[kLanes] = {}, abs[kLanes] = {};
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (std::size_t j = 0; j < kLanes; ++j) {
            const auto v = static_cast<double>(x[i + j]);
            squares[j] += v * v;
            abs[j] += std::fabs(v);
        }
    }
    for (std::size_t j = 0; i < n; ++i, ++j) {
        const auto v = static_cast<double>(x[i]);
        squares[j] += v * v;
        abs[j] += std::fabs(v);
    }
    Norms total;
    for (std::size_t j = 0; j < kLanes; ++j) total.squares += squares[j], total.abs += abs[j];
    return total;
}

}  // namespace mlpcore
