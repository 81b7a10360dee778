// Scanning arrays for NaN and infinity: input checks that must not cost a temporary array the
// size of the input (numpy's isfinite would allocate one) and run at memory speed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace mlpcore {

enum class NonFinite { none = 0, nan = 1, infinity = 2 };

// NaN or infinity of the first non-finite value, or none.
template <class T>
NonFinite find_nonfinite(const T* x, std::size_t n) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    constexpr Bits exponent = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
    constexpr std::size_t kBlock = 4096;
    for (std::size_t base = 0; base < n; base += kBlock) {
        const std::size_t end = n - base < kBlock ? n : base + kBlock;
        // An all-ones exponent marks NaN or infinity; an integer OR over a block vectorises.
        Bits any = 0;
        for (std::size_t i = base; i < end; ++i) {
            Bits bits;
            std::memcpy(&bits, x + i, sizeof bits);
            any |= Bits((bits & exponent) == exponent);
        }
        if (!any) continue;
        for (std::size_t i = base; i < end; ++i)
            if (!std::isfinite(x[i])) return std::isnan(x[i]) ? NonFinite::nan : NonFinite::infinity;
    }
    return NonFinite::none;
}

}  // namespace mlpcore
