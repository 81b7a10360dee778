// Register-wide vector types for the GEMM micro-kernel and the sparse products (with
// half-width ones for a row's last lanes), one per instruction set. load_from(p) loads from p's
// type: the same one, or float into double (widened exactly). Each ISA translation unit
// (kernels_<isa>.cpp) defines MLPCORE_ISA_* and includes this header inside its own namespace,
// so no inline function compiled for a wide ISA can be linked into the generic path.
#pragma once

#if defined(MLPCORE_ISA_AVX512) || defined(MLPCORE_ISA_AVX2)
#include <immintrin.h>
#endif

template <class T> struct Vec;

#if defined(MLPCORE_ISA_AVX512)
template <> struct Vec<float> {
    using reg = __m512;
    static constexpr int width = 16;
    static reg zero() { return _mm512_setzero_ps(); }
    static reg load(const float* p) { return _mm512_loadu_ps(p); }
    static reg load_from(const float* p) { return load(p); }
    static void store(float* p, reg v) { _mm512_storeu_ps(p, v); }
    static reg broadcast(float x) { return _mm512_set1_ps(x); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
    // a * b + c when `on`, else c untouched (a masked multiply-add: no extra instruction).
    static reg fmadd_if(bool on, reg a, reg b, reg c) {
        return _mm512_mask3_fmadd_ps(a, b, c, static_cast<__mmask16>(-static_cast<int>(on)));
    }
    static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
};
template <> struct Vec<double> {
    using reg = __m512d;
    static constexpr int width = 8;
    static reg zero() { return _mm512_setzero_pd(); }
    static reg load(const double* p) { return _mm512_loadu_pd(p); }
    static reg load_from(const double* p) { return load(p); }
    // Eight floats widened exactly (float64 prediction from float32 weights).
    static reg load_from(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
    static void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
    static reg broadcast(double x) { return _mm512_set1_pd(x); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
    static reg fmadd_if(bool on, reg a, reg b, reg c) {
        return _mm512_mask3_fmadd_pd(a, b, c, static_cast<__mmask8>(-static_cast<int>(on)));
    }
    static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
};
// Half-width vectors, for the last few lanes of a row (sparse_kernel.hpp): Zen 4 splits a
// 512-bit operation into two 256-bit ones, so a 256-bit tail costs half.
template <class T> struct HalfVec;
template <> struct HalfVec<float> {
    using reg = __m256;
    static constexpr int width = 8;
    static reg load(const float* p) { return _mm256_loadu_ps(p); }
    static reg load_from(const float* p) { return load(p); }
    static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
    static reg low(__m512 v) { return _mm512_castps512_ps256(v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    // Masked 256-bit operations need AVX512VL, which the avx512 level does not require: a blend.
    static reg fmadd_if(bool on, reg a, reg b, reg c) {
        return _mm256_blendv_ps(c, fmadd(a, b, c),
                                _mm256_castsi256_ps(_mm256_set1_epi32(-static_cast<int>(on))));
    }
};
template <> struct HalfVec<double> {
    using reg = __m256d;
    static constexpr int width = 4;
    static reg load(const double* p) { return _mm256_loadu_pd(p); }
    static reg load_from(const double* p) { return load(p); }
    static reg load_from(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
    static void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
    static reg low(__m512d v) { return _mm512_castpd512_pd256(v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
    static reg fmadd_if(bool on, reg a, reg b, reg c) {
        return _mm256_blendv_pd(
            c, fmadd(a, b, c), _mm256_castsi256_pd(_mm256_set1_epi64x(-static_cast<long long>(on))));
    }
};
#elif defined(MLPCORE_ISA_AVX2)
template <> struct Vec<float> {
    using reg = __m256;
    static constexpr int width = 8;
    static reg zero() { return _mm256_setzero_ps(); }
    static reg load(const float* p) { return _mm256_loadu_ps(p); }
    static reg load_from(const float* p) { return load(p); }
    static void store(float* p, reg v) { _mm256_storeu_ps(p, v); }
    static reg broadcast(float x) { return _mm256_set1_ps(x); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
    static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
};
template <> struct Vec<double> {
    using reg = __m256d;
    static constexpr int width = 4;
    static reg zero() { return _mm256_setzero_pd(); }
    static reg load(const double* p) { return _mm256_loadu_pd(p); }
    static reg load_from(const double* p) { return load(p); }
    static reg load_from(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
    static void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
    static reg broadcast(double x) { return _mm256_set1_pd(x); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
    static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
};
template <class T> struct HalfVec;
template <> struct HalfVec<float> {
    using reg = __m128;
    static constexpr int width = 4;
    static reg load(const float* p) { return _mm_loadu_ps(p); }
    static reg load_from(const float* p) { return load(p); }
    static void store(float* p, reg v) { _mm_storeu_ps(p, v); }
    static reg low(__m256 v) { return _mm256_castps256_ps128(v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm_fmadd_ps(a, b, c); }
};
template <> struct HalfVec<double> {
    using reg = __m128d;
    static constexpr int width = 2;
    static reg load(const double* p) { return _mm_loadu_pd(p); }
    static reg load_from(const double* p) { return load(p); }
    static reg load_from(const float* p) { return _mm_set_pd(p[1], p[0]); }
    static void store(double* p, reg v) { _mm_storeu_pd(p, v); }
    static reg low(__m256d v) { return _mm256_castpd256_pd128(v); }
    static reg fmadd(reg a, reg b, reg c) { return _mm_fmadd_pd(a, b, c); }
};
#else
// Portable fallback: a small array the compiler maps onto SSE2 registers. No FMA, so results
// differ from the SIMD paths by rounding only.
template <class T> struct Vec {
    static constexpr int width = 16 / sizeof(T);
    struct reg { T lane[width]; };
    static reg zero() { reg r{}; return r; }
    static reg load(const T* p) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = p[i]; return r; }
    template <class M>
    static reg load_from(const M* p) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = T(p[i]); return r; }
    static void store(T* p, reg v) { for (int i = 0; i < width; ++i) p[i] = v.lane[i]; }
    static reg broadcast(T x) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = x; return r; }
    static reg fmadd(reg a, reg b, reg c) {
        for (int i = 0; i < width; ++i) c.lane[i] += a.lane[i] * b.lane[i];
        return c;
    }
    static reg mul(reg a, reg b) {
        for (int i = 0; i < width; ++i) a.lane[i] *= b.lane[i];
        return a;
    }
};
template <class T> struct HalfVec {
    static constexpr int width = Vec<T>::width / 2;
    struct reg { T lane[width]; };
    static reg load(const T* p) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = p[i]; return r; }
    template <class M>
    static reg load_from(const M* p) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = T(p[i]); return r; }
    static void store(T* p, reg v) { for (int i = 0; i < width; ++i) p[i] = v.lane[i]; }
    static reg low(typename Vec<T>::reg v) { reg r; for (int i = 0; i < width; ++i) r.lane[i] = v.lane[i]; return r; }
    static reg fmadd(reg a, reg b, reg c) {
        for (int i = 0; i < width; ++i) c.lane[i] += a.lane[i] * b.lane[i];
        return c;
    }
};
#endif
