// One pass over a block of weights after an epoch: copy it (the next epoch's restore point),
// say whether every value is finite, and sum its squares and absolute values in double (the
// estimators' weight penalty). Included by the kernels_<isa>.cpp files inside their ISA
// namespace; weight_scan.cpp cuts the weights into blocks and runs them on the pool.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

template <class T>
struct EightLanes;
template <>
struct EightLanes<float> {
    typedef float type __attribute__((vector_size(8 * sizeof(float))));
};
template <>
struct EightLanes<double> {
    typedef double type __attribute__((vector_size(8 * sizeof(double))));
};

// An all-ones exponent marks NaN or infinity; an integer OR of that test vectorises. (The same
// test as nonfinite.hpp's, written again here: code in these per-ISA files must not share an
// inline function or template with the portable code, or the linker may keep the wide version
// for both.) The sums are 32 independent partial sums (a single running sum is a chain of
// dependent adds, 10x slower) added in a fixed order: the same bits on every call of one SIMD
// path (the wide paths fuse each multiply-add, the portable one does not).
template <class T>
bool weight_scan_block(const T* __restrict x, T* __restrict copy, std::size_t n, bool sum,
                       double* squares_out, double* abs_out) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr Bits exponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
    constexpr std::size_t kLanes = 8;
    Bits nonfinite = 0;
    for (std::size_t i = 0; i < n; ++i) {
        Bits bits;
        std::memcpy(&bits, x + i, sizeof bits);
        nonfinite |= Bits((bits & exponent) == exponent);
    }
    if (copy != nullptr) std::memcpy(copy, x, n * sizeof(T));
    if (sum) {
        // GCC's vector extension (GCC and Clang): a register of eight doubles where the ISA has
        // one (a plain loop over eight lanes was left scalar), and four of them, since each
        // multiply-add waits for the previous one into its register.
        using Lanes = typename EightLanes<double>::type;
        using Source = typename EightLanes<T>::type;
        constexpr std::size_t kSets = 4, kStride = kSets * kLanes;
        Lanes squares[kSets] = {}, abs[kSets] = {};
        std::size_t i = 0;
        for (; i + kStride <= n; i += kStride) {
            for (std::size_t k = 0; k < kSets; ++k) {
                Source raw;
                std::memcpy(&raw, x + i + k * kLanes, sizeof raw);
                const Lanes v = __builtin_convertvector(raw, Lanes);
                squares[k] += v * v;
                abs[k] += v < 0 ? -v : v;
            }
        }
        for (std::size_t j = 0; i < n; ++i, ++j) {
            const auto v = static_cast<double>(x[i]);
            squares[j / kLanes][j % kLanes] += v * v;
            abs[j / kLanes][j % kLanes] += std::fabs(v);
        }
        double s = 0, a = 0;
        for (std::size_t k = 0; k < kSets; ++k)
            for (std::size_t j = 0; j < kLanes; ++j) s += squares[k][j], a += abs[k][j];
        *squares_out = s;
        *abs_out = a;
    }
    return nonfinite == 0;
}
