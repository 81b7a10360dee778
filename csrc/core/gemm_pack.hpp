// Packing: copy a block of op(A) or op(B) into the layout the micro-kernel streams, whatever
// the source strides (so transposed and Fortran-ordered operands need no copies of their own).
// Slivers past the matrix edge are padded with zeros, so the kernel always runs full tiles.
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <cstddef>
#include <cstdint>

// Transpose `lines` (<= 8) lines of 8 contiguous elements (line r at src + r * src_stride) into
// 8 lines of `lines` contiguous elements (line e at dst + e * dst_stride). Packing an operand
// whose rows run along the depth is a transpose; doing it 8 x 8 in registers is several times
// faster than element by element.
template <class T>
inline void transpose_8(const T* src, std::ptrdiff_t src_stride, int lines, T* dst,
                        std::ptrdiff_t dst_stride) {
    for (int e = 0; e < 8; ++e)
        for (int r = 0; r < lines; ++r) dst[e * dst_stride + r] = src[r * src_stride + e];
}

#if defined(MLPCORE_ISA_AVX2) || defined(MLPCORE_ISA_AVX512)
__attribute__((always_inline)) inline void transpose_8(const float* src, std::ptrdiff_t src_stride, int lines, float* dst,
                        std::ptrdiff_t dst_stride) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i)
        r[i] = i < lines ? _mm256_loadu_ps(src + i * src_stride) : _mm256_setzero_ps();
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 out[8];
    out[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    out[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    out[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    out[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    out[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    out[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    out[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    out[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
    if (lines == 8) {
        for (int e = 0; e < 8; ++e) _mm256_storeu_ps(dst + e * dst_stride, out[e]);
    } else {
        // Fewer lines (an mr = 6 or 4 sliver, or an edge): store only the first `lines` lanes.
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(lines),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int e = 0; e < 8; ++e) _mm256_maskstore_ps(dst + e * dst_stride, mask, out[e]);
    }
}
#endif

// dst[p * width + l] = src[l * line_stride + p] for l < lines, p < depth: `lines` source lines
// contiguous along the depth, interleaved into a depth-major sliver of the given width.
template <class T>
void interleave_lines(const T* src, std::ptrdiff_t line_stride, std::int64_t lines,
                      std::int64_t depth, std::ptrdiff_t width, T* dst) {
    if (lines == 1) {  // one line (a 1-row tile): a strided copy, no transpose
        for (std::int64_t p = 0; p < depth; ++p) dst[p * width] = src[p];
        return;
    }
    const std::int64_t full = depth - depth % 8;
    for (std::int64_t l0 = 0; l0 < lines; l0 += 8) {
        const int live = static_cast<int>(lines - l0 < 8 ? lines - l0 : 8);
        const T* from = src + l0 * line_stride;
        for (std::int64_t p = 0; p < full; p += 8)
            transpose_8(from + p, line_stride, live, dst + p * width + l0, width);
        for (std::int64_t p = full; p < depth; ++p)
            for (int l = 0; l < live; ++l) dst[p * width + l0 + l] = from[l * line_stride + p];
    }
}

// A block (rows x depth, strides rs, cs) -> slivers of mr rows, each stored depth-major:
// dst[s * mr * depth + p * mr + i] = A[s * mr + i, p].
template <int mr, class T>
void pack_a(std::int64_t rows, std::int64_t depth, const T* src, std::ptrdiff_t rs,
            std::ptrdiff_t cs, T* dst) {
    for (std::int64_t i0 = 0; i0 < rows; i0 += mr, dst += mr * depth) {
        const std::int64_t live = rows - i0 < mr ? rows - i0 : mr;
        const T* block = src + i0 * rs;
        if (rs == 1 && live == mr) {
            for (std::int64_t p = 0; p < depth; ++p) {
                const T* from = block + p * cs;
                T* to = dst + p * mr;
#pragma GCC unroll 8
                for (int i = 0; i < mr; ++i) to[i] = from[i];
            }
        } else if (rs == 1) {
            // Column-major source (a transposed operand): each depth step is one contiguous run.
            for (std::int64_t p = 0; p < depth; ++p) {
                const T* from = block + p * cs;
                T* to = dst + p * mr;
                // A fixed trip count keeps this in (masked) vector moves; a variable-length copy
                // becomes a memcpy call per depth step.
#pragma GCC unroll 8
                for (int i = 0; i < mr; ++i) to[i] = i < live ? from[i] : T(0);
            }
        } else {
            if (cs == 1) {
                interleave_lines(block, rs, live, depth, mr, dst);
            } else {
                for (std::int64_t i = 0; i < live; ++i) {
                    const T* from = block + i * rs;
                    for (std::int64_t p = 0; p < depth; ++p) dst[p * mr + i] = from[p * cs];
                }
            }
            for (std::int64_t i = live; i < mr; ++i)
                for (std::int64_t p = 0; p < depth; ++p) dst[p * mr + i] = T(0);
        }
    }
}

// B block (depth x cols, strides rs, cs) -> slivers of nr columns, each stored depth-major:
// dst[s * nr * depth + p * nr + j] = B[p, s * nr + j]. That is pack_a of B^T, whose strides are
// B's swapped.
template <int nr, class T>
void pack_b(std::int64_t depth, std::int64_t cols, const T* src, std::ptrdiff_t rs,
            std::ptrdiff_t cs, T* dst) {
    pack_a<nr>(cols, depth, src, cs, rs, dst);
}
