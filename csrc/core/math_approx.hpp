// exp and log1p written so that the compiler vectorises loops that call them (libm's
// scalar versions block vectorisation). Plain C++: each ISA translation unit compiles these for
// its own registers. Accuracy: a few ulp in float32 and float64, tested against numpy.
//
//   exp(x)   = 2^n * P(r),  n = round(x / ln2),  r = x - n*ln2 in [-ln2/2, ln2/2],
//              P = Taylor series of e^r (degree 7 in float32, 13 in float64); for x <= 0 only
//   log(u)   = e*ln2 + 2*atanh(s),  u = 2^e * m,  m in [sqrt(1/2), sqrt(2)),  s = (m-1)/(m+1)
//   log1p(z) = log(u) + (z - (u - 1)) / u,  u = 1 + z   (the second term restores the bits of z
//              lost in rounding 1 + z)
#pragma once

#include <cstdint>
#include <cstring>

template <class T> struct MathTraits;

template <> struct MathTraits<float> {
    using Bits = std::uint32_t;
    static constexpr int kMantissaBits = 23;
    static constexpr int kExponentBias = 127;
    static constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23
    static constexpr float kLn2Hi = 0.693359375f;
    static constexpr float kLn2Lo = -2.12194440e-4f;
    static constexpr float kLog2e = 1.44269504088896341f;
    static constexpr float kMinArg = -104.0f;         // result rounds to 0 below
    static constexpr int kExpDegree = 7;
    static constexpr int kAtanhTerms = 6;  // s, s^3, ..., s^11
};

template <> struct MathTraits<double> {
    using Bits = std::uint64_t;
    static constexpr int kMantissaBits = 52;
    static constexpr int kExponentBias = 1023;
    static constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52
    static constexpr double kLn2Hi = 6.93147180369123816490e-01;
    static constexpr double kLn2Lo = 1.90821492927058770002e-10;
    static constexpr double kLog2e = 1.44269504088896338700e+00;
    static constexpr double kMinArg = -746.0;  // result rounds to 0 below
    static constexpr int kExpDegree = 13;
    static constexpr int kAtanhTerms = 12;  // s, ..., s^23
};

template <class T>
inline T bits_to_float(typename MathTraits<T>::Bits bits) {
    T value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
}

template <class T>
inline typename MathTraits<T>::Bits float_to_bits(T value) {
    typename MathTraits<T>::Bits bits;
    std::memcpy(&bits, &value, sizeof(bits));
    return bits;
}

// 1/k!, folded at compile time (the loops below are unrolled, so k is a constant). Horner with
// these coefficients needs multiplies only; dividing by k inside the loop would cost a vector
// division per term.
constexpr double inv_factorial(int k) {
    double f = 1.0;
    for (int i = 2; i <= k; ++i) f *= i;
    return 1.0 / f;
}

// Taylor polynomial sum_{k=0..D} r^k / k!, evaluated by Horner from the top.
template <class T, int D>
inline T exp_taylor(T r) {
    T p = T(inv_factorial(D));
#pragma GCC unroll 20
    for (int k = D - 1; k >= 0; --k) p = p * r + T(inv_factorial(k));
    return p;
}

// 2^n for an integral n in [-bias + 1, bias], from the low bits of n + bias + magic moved into
// the exponent field.
template <class T>
inline T exp2_integral(T n) {
    using M = MathTraits<T>;
    const typename M::Bits low = float_to_bits<T>(n + (T(M::kExponentBias) + M::kRoundMagic));
    const typename M::Bits exponent_mask = float_to_bits<T>(T(INFINITY));
    return bits_to_float<T>((low << M::kMantissaBits) & exponent_mask);
}

template <class T>
inline T round_to_integral(T x) {
    // Round to nearest with the magic-number trick: vectorises without SSE4.1 rounding.
    return (x + MathTraits<T>::kRoundMagic) - MathTraits<T>::kRoundMagic;
}

// e^x for x <= 0 (or NaN), the only arguments the activations and softmax ever pass
// (e^-|x|, e^(x - max)): no overflow to handle, so the clamp and the scaling stay short.
//   n = round(x / ln2) in [-150, 0] (float32),  e^x = P(r) * 2^(n + 64) * 2^-64
// Scaling by 2^(n + 64) keeps the first product normal; the exact multiply by 2^-64 then gives
// subnormal results correctly rounded.
template <class T>
inline T fast_exp_nonpositive(T x) {
    using M = MathTraits<T>;
    // The comparison is false for NaN, which therefore passes through to the result. (No clamp
    // above: one more select can stop GCC from vectorising a caller's loop, and x > 0 would
    // still come out right up to x = 44.)
    const T clamped = x < M::kMinArg ? M::kMinArg : x;
    const T n = round_to_integral(clamped * M::kLog2e);
    const T r = (clamped - n * M::kLn2Hi) - n * M::kLn2Lo;
    const T p = exp_taylor<T, M::kExpDegree>(r);
    return (p * exp2_integral(n + T(64))) * T(5.42101086242752217e-20);  // 2^-64
}

// log(u) for finite u > 0 (normal numbers).
template <class T>
inline T fast_log(T u) {
    using M = MathTraits<T>;
    using Bits = typename M::Bits;
    const Bits bits = float_to_bits<T>(u);
    const Bits mantissa_mask = (Bits(1) << M::kMantissaBits) - 1;
    // Exponent as a float: the biased field is a small integer, exact in T.
    T e = static_cast<T>(static_cast<std::int32_t>(bits >> M::kMantissaBits)) - T(M::kExponentBias);
    T m = bits_to_float<T>((bits & mantissa_mask) |
                           (Bits(M::kExponentBias) << M::kMantissaBits));  // [1, 2)
    const bool upper = m > T(1.41421356237309505);
    m = upper ? m * T(0.5) : m;
    e = upper ? e + T(1) : e;
    const T s = (m - T(1)) / (m + T(1));
    const T s2 = s * s;
    T series = T(0);
#pragma GCC unroll 16
    for (int k = M::kAtanhTerms - 1; k >= 0; --k) series = T(1) / T(2 * k + 1) + s2 * series;
    // ln2 = kLn2Hi + kLn2Lo; e * kLn2Hi is exact.
    return e * M::kLn2Hi + (e * M::kLn2Lo + T(2) * s * series);
}

// log(1 + z) for z >= 0.
template <class T>
inline T fast_log1p_nonneg(T z) {
    const T u = T(1) + z;
    return fast_log(u) + (z - (u - T(1))) / u;
}
