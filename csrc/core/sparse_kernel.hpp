// Products with a sparse left operand given as index lists, for the input layer on data that is
// mostly zeros (MNIST digits: about 19% of the pixels are non-zero). For i in [i0, i1):
//   out[i, 0:n] (+)= sum over e in [begin[i], end[i]) of val[e] * m[idx[e], 0:n]
// The forward pass uses it with the input rows' non-zeros (Z = X W: m = W), the weight
// gradient with the input columns' non-zeros (dW = X^T D: m = D). Each output row is kept in
// registers, up to eight vectors at a time, over its whole list; entries are summed in list
// order, so a row's result does not depend on which thread computes it, nor on whether its list
// is summed alone or merged with a neighbour's (kPairLists).
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

// Whether lists of Index entries are summed two at a time (sparse_pass): only with 32 vector
// registers and masked multiply-adds, and only the weight gradient's column lists. A masked-off
// multiply-add still costs one, and the products are bound by that, not by loads: two random
// digits share only a quarter of their pixels, so pairs of input rows were 20% slower, while
// neighbouring pixels share two fifths of their digits and the gradient's matrix (the batch's
// output gradients) comes from L2.
template <class Index>
inline constexpr bool kPairLists =
#if defined(MLPCORE_ISA_AVX512)
    sizeof(Index) == 1;
#else
    false;
#endif

// The R sums (the last one half-wide with Half) of one output row, in registers.
template <class T, int R, bool Half>
struct SparseSums {
    static constexpr int full = Half ? R - 1 : R;
    typename Vec<T>::reg v[full > 0 ? full : 1];
    typename HalfVec<T>::reg half;

    SparseSums(const typename Vec<T>::reg* init, typename HalfVec<T>::reg init_half) : half(init_half) {
        for (int t = 0; t < full; ++t) v[t] = init[t];
    }
    // sums += value * row[off[.]] when `on` (else unchanged: the same bits as not adding).
    template <bool Masked, class M>
    void add(bool on, typename Vec<T>::reg value, const M* row, const std::int64_t* off) {
        using V = Vec<T>;
        using H = HalfVec<T>;
        for (int t = 0; t < full; ++t) {
            const typename V::reg w = V::load_from(row + off[t]);
            if constexpr (Masked) v[t] = V::fmadd_if(on, value, w, v[t]);
            else v[t] = V::fmadd(value, w, v[t]);
        }
        if constexpr (Half) {
            const typename H::reg w = H::load_from(row + off[R - 1]);
            if constexpr (Masked) half = H::fmadd_if(on, H::low(value), w, half);
            else half = H::fmadd(H::low(value), w, half);
        }
    }
    template <class Index, class M>
    void add_list(const Index* idx, const T* val, std::int64_t e0, std::int64_t e1, const M* m,
                  std::int64_t ldm, const std::int64_t* off) {
        for (std::int64_t e = e0; e < e1; ++e)
            add<false>(true, Vec<T>::broadcast(val[e]), m + static_cast<std::int64_t>(idx[e]) * ldm, off);
    }
    void store(T* o, const std::int64_t* off) const {
        for (int t = 0; t < full; ++t) Vec<T>::store(o + off[t], v[t]);
        if constexpr (Half) HalfVec<T>::store(o + off[R - 1], half);
    }
};

// One pass over the lists of one output row (two with Pair) for R vectors at offsets off[0..R):
// each entry's index and value are read once for all R, the sums stay in registers. Two lists
// are merged by index: a matrix row both name is loaded once for both, and each list's sums
// take exactly its own entries, in its order, by masked multiply-adds, so the bits are those
// of two passes. Always inlined: GCC stopped inlining it once the translation unit grew, and
// the call then passes the sums' initial values and offsets through memory for every pass.
template <class T, int R, bool Half, bool Pair, class Index, class M>
[[gnu::always_inline]] inline void sparse_pass(
    const Index* idx, const T* val, const std::int64_t* e0, const std::int64_t* e1, const M* m,
    std::int64_t ldm, const std::int64_t* off, const typename Vec<T>::reg (*init)[8],
    const typename HalfVec<T>::reg* init_half, T* const* o) {
    using Sums = SparseSums<T, R, Half>;
    Sums a(init[0], init_half[0]);
    if constexpr (!Pair) {
        a.add_list(idx, val, e0[0], e1[0], m, ldm, off);
        a.store(o[0], off);
    } else {
        Sums b(init[1], init_half[1]);
        std::int64_t ea = e0[0], eb = e0[1];
        const std::int64_t end_a = e1[0], end_b = e1[1];
        while (ea < end_a && eb < end_b) {
            const std::int64_t ca = idx[ea], cb = idx[eb];
            const bool in_a = ca <= cb, in_b = cb <= ca;
            const M* row = m + (in_a ? ca : cb) * ldm;
            const auto va = Vec<T>::broadcast(val[ea]), vb = Vec<T>::broadcast(val[eb]);
            a.template add<true>(in_a, va, row, off);
            b.template add<true>(in_b, vb, row, off);
            ea += in_a, eb += in_b;
        }
        a.add_list(idx, val, ea, end_a, m, ldm, off);
        b.add_list(idx, val, eb, end_b, m, ldm, off);
        a.store(o[0], off);
        b.store(o[1], off);
    }
}

// Index: std::int32_t for row lists (column numbers), std::uint8_t for the weight gradient's
// column lists (row numbers within a chunk of at most 256 rows: a quarter of the bytes to
// write in the sort and to read here).
// M: the matrix's type, T or (for T = double) float, widened as it is read.
template <class T, class Index = std::int32_t, class M = T>
void sparse_rows_product(const std::int64_t* begin, const std::int64_t* end, const Index* idx,
                         const T* val, std::int64_t i0, std::int64_t i1, const M* m,
                         std::int64_t ldm, T* out, std::int64_t ldo, std::int64_t n,
                         bool accumulate) {
    using V = Vec<T>;
    using H = HalfVec<T>;
    constexpr int W = V::width;
    constexpr int kTile = 8;  // vectors per pass and row: 8 sums in registers (a 128-wide float
                              // row in one pass with AVX-512; 16 for a pair of rows)
    for (std::int64_t i = i0; i < i1;) {
        const int count = kPairLists<Index> && n >= W && i + 1 < i1 ? 2 : 1;
        // The next rows' lists sit elsewhere (a shuffled batch's rows are scattered over the
        // data's index, mostly in L3): ask for their lines while these rows are summed.
        for (std::int64_t next = i + count; next < std::min(i1, i + 2 * count); ++next) {
            // One prefetch per cache line of each array: one-byte indices pack 64 to a line.
            constexpr std::int64_t kIdxLine = 64 / sizeof(Index), kValLine = 64 / sizeof(T);
            for (std::int64_t e = begin[next]; e < end[next]; e += kIdxLine)
                __builtin_prefetch(idx + e, 0, 3);
            for (std::int64_t e = begin[next]; e < end[next]; e += kValLine)
                __builtin_prefetch(val + e, 0, 3);
        }
        if (n < W) {  // narrower than one vector: plain sums
            T* o = out + i * ldo;
            for (std::int64_t j = 0; j < n; ++j) {
                T acc = accumulate ? o[j] : T(0);
                for (std::int64_t e = begin[i]; e < end[i]; ++e)
                    acc += val[e] * static_cast<T>(m[static_cast<std::int64_t>(idx[e]) * ldm + j]);
                o[j] = acc;
            }
            ++i;
            continue;
        }
        T* const o[2] = {out + i * ldo, out + (i + count - 1) * ldo};
        // Whole vectors, then one vector ending at n that overlaps the last whole one: its
        // overlapping lanes start from the same initial values and add the same products in
        // the same order, so they store the same bits twice. When at most half a vector is
        // left, that last vector is half-wide (100 float units: 6 vectors and a half, not 7).
        const std::int64_t whole = n / W;
        const bool tail = whole * W < n;
        const bool half = tail && n - whole * W <= H::width;
        const std::int64_t tail_offset = n - (half ? H::width : W);
        typename V::reg tail_init[2] = {V::zero(), V::zero()};
        typename H::reg half_init[2] = {H::low(V::zero()), H::low(V::zero())};
        for (int k = 0; k < count; ++k)
            if (tail && accumulate) {
                if (half) half_init[k] = H::load(o[k] + tail_offset);
                else tail_init[k] = V::load(o[k] + tail_offset);
            }
        std::int64_t offsets[kTile];
        typename V::reg init[2][kTile];
        std::int64_t v = 0;
        const std::int64_t vectors = whole + (tail ? 1 : 0);
        while (v < vectors) {
            const int r = static_cast<int>(std::min<std::int64_t>(kTile, vectors - v));
            for (int t = 0; t < r; ++t) {
                const bool is_tail = tail && v + t == whole;
                offsets[t] = is_tail ? tail_offset : (v + t) * W;
                for (int k = 0; k < count; ++k)
                    init[k][t] = is_tail ? tail_init[k]
                                         : (accumulate ? V::load(o[k] + offsets[t]) : V::zero());
            }
            const bool half_pass = half && v + r == vectors;  // the half vector is this pass's last
#define MLPCORE_SPARSE_PASS_AS(R, HALF, PAIR)                                                 \
    sparse_pass<T, R, HALF, PAIR, Index, M>(idx, val, begin + i, end + i, m, ldm, offsets, init, \
                                            half_init, o)
#define MLPCORE_SPARSE_PASS(R)                                                                 \
    (count == 2 ? (half_pass ? MLPCORE_SPARSE_PASS_AS(R, true, kPairLists<Index>)             \
                             : MLPCORE_SPARSE_PASS_AS(R, false, kPairLists<Index>))           \
                : (half_pass ? MLPCORE_SPARSE_PASS_AS(R, true, false)                          \
                             : MLPCORE_SPARSE_PASS_AS(R, false, false)))
            switch (r) {
                case 1: MLPCORE_SPARSE_PASS(1); break;
                case 2: MLPCORE_SPARSE_PASS(2); break;
                case 3: MLPCORE_SPARSE_PASS(3); break;
                case 4: MLPCORE_SPARSE_PASS(4); break;
                case 5: MLPCORE_SPARSE_PASS(5); break;
                case 6: MLPCORE_SPARSE_PASS(6); break;
                case 7: MLPCORE_SPARSE_PASS(7); break;
                default: MLPCORE_SPARSE_PASS(8); break;
            }
#undef MLPCORE_SPARSE_PASS
#undef MLPCORE_SPARSE_PASS_AS
            v += r;
        }
        i += count;
    }
}

// The non-zeros of x[0 .. n) (-0 counts as zero): their indices into idx and values into val,
// in order; returns their count. idx and val need room for n + 16 entries (whole vectors are
// stored past the count). Groups of 16 that are all zero, most of an MNIST digit's border, cost
// one comparison.
template <class T>
std::int64_t row_nonzeros(const T* x, std::int64_t n, std::int32_t* idx, T* val) {
    std::int64_t e = 0, c = 0;
#if defined(MLPCORE_ISA_AVX512)
    if constexpr (sizeof(T) == 4) {
        const __m512 zero = _mm512_setzero_ps();
        const __m512i step = _mm512_set1_epi32(16);
        __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (; c + 16 <= n; c += 16, lanes = _mm512_add_epi32(lanes, step)) {
            const __m512 v = _mm512_loadu_ps(x + c);
            const __mmask16 keep = _mm512_cmp_ps_mask(v, zero, _CMP_NEQ_UQ);
            if (keep == 0) continue;
            // Compress in registers, then plain stores: compressing straight to memory is
            // microcoded and slow on some CPUs (AMD Zen 4).
            _mm512_storeu_ps(val + e, _mm512_maskz_compress_ps(keep, v));
            _mm512_storeu_si512(idx + e, _mm512_maskz_compress_epi32(keep, lanes));
            e += __builtin_popcount(static_cast<unsigned>(keep));
        }
    } else {
        // Doubles: two vectors of 8 per group of 16 indices.
        const __m512d zero = _mm512_setzero_pd();
        const __m512i step = _mm512_set1_epi32(16);
        __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (; c + 16 <= n; c += 16, lanes = _mm512_add_epi32(lanes, step)) {
            const __m512d lo = _mm512_loadu_pd(x + c), hi = _mm512_loadu_pd(x + c + 8);
            const __mmask8 keep_lo = _mm512_cmp_pd_mask(lo, zero, _CMP_NEQ_UQ);
            const __mmask8 keep_hi = _mm512_cmp_pd_mask(hi, zero, _CMP_NEQ_UQ);
            const auto keep = static_cast<__mmask16>(keep_lo | (keep_hi << 8));
            if (keep == 0) continue;
            const int n_lo = __builtin_popcount(static_cast<unsigned>(keep_lo));
            _mm512_storeu_si512(idx + e, _mm512_maskz_compress_epi32(keep, lanes));
            _mm512_storeu_pd(val + e, _mm512_maskz_compress_pd(keep_lo, lo));
            _mm512_storeu_pd(val + e + n_lo, _mm512_maskz_compress_pd(keep_hi, hi));
            e += __builtin_popcount(static_cast<unsigned>(keep));
        }
    }
#endif
    constexpr std::int64_t kGroup = 16;
    for (; c < n; c += kGroup) {
        const std::int64_t end = c + kGroup < n ? c + kGroup : n;
        bool any = false;
        for (std::int64_t i = c; i < end; ++i) any |= x[i] != T(0);
        if (!any) continue;
        for (std::int64_t i = c; i < end; ++i) {
            // Branch-free append: the slot is always written, the count moves for non-zeros.
            idx[e] = static_cast<std::int32_t>(i);
            val[e] = x[i];
            e += x[i] != T(0);
        }
    }
    return e;
}
