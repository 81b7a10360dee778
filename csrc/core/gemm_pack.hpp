// Packing: copy a block of op(A) or op(B) into the layout the micro-kernel streams, whatever
// the source strides (so transposed and Fortran-ordered operands need no copies of their own).
// Slivers past the matrix edge are padded with zeros, so the kernel always runs full tiles.
// Included by the kernels_<isa>.cpp files inside their ISA namespace.
#pragma once

#include <cstddef>
#include <cstdint>

// A block (rows x depth, strides rs, cs) -> slivers of mr rows, each stored depth-major:
// dst[s * mr * depth + p * mr + i] = A[s * mr + i, p].
template <class T>
void pack_a(std::int64_t rows, std::int64_t depth, const T* src, std::ptrdiff_t rs,
            std::ptrdiff_t cs, int mr, T* dst) {
    for (std::int64_t i0 = 0; i0 < rows; i0 += mr, dst += mr * depth) {
        const std::int64_t live = rows - i0 < mr ? rows - i0 : mr;
        const T* block = src + i0 * rs;
        if (rs == 1) {
            // Column-major source (a transposed operand): each depth step is one contiguous run.
            for (std::int64_t p = 0; p < depth; ++p) {
                const T* from = block + p * cs;
                T* to = dst + p * mr;
                for (std::int64_t i = 0; i < live; ++i) to[i] = from[i];
                for (std::int64_t i = live; i < mr; ++i) to[i] = T(0);
            }
        } else {
            for (std::int64_t i = 0; i < live; ++i) {
                const T* from = block + i * rs;
                T* to = dst + i;
                if (cs == 1) {
                    for (std::int64_t p = 0; p < depth; ++p) to[p * mr] = from[p];
                } else {
                    for (std::int64_t p = 0; p < depth; ++p) to[p * mr] = from[p * cs];
                }
            }
            for (std::int64_t i = live; i < mr; ++i)
                for (std::int64_t p = 0; p < depth; ++p) dst[p * mr + i] = T(0);
        }
    }
}

// B block (depth x cols, strides rs, cs) -> slivers of nr columns, each stored depth-major:
// dst[s * nr * depth + p * nr + j] = B[p, s * nr + j].
template <class T>
void pack_b(std::int64_t depth, std::int64_t cols, const T* src, std::ptrdiff_t rs,
            std::ptrdiff_t cs, int nr, T* dst) {
    for (std::int64_t j0 = 0; j0 < cols; j0 += nr, dst += nr * depth) {
        const std::int64_t live = cols - j0 < nr ? cols - j0 : nr;
        const T* block = src + j0 * cs;
        if (cs == 1) {
            for (std::int64_t p = 0; p < depth; ++p) {
                const T* from = block + p * rs;
                T* to = dst + p * nr;
                for (std::int64_t j = 0; j < live; ++j) to[j] = from[j];
                for (std::int64_t j = live; j < nr; ++j) to[j] = T(0);
            }
        } else {
            for (std::int64_t j = 0; j < live; ++j) {
                const T* from = block + j * cs;
                T* to = dst + j;
                if (rs == 1) {
                    for (std::int64_t p = 0; p < depth; ++p) to[p * nr] = from[p];
                } else {
                    for (std::int64_t p = 0; p < depth; ++p) to[p * nr] = from[p * rs];
                }
            }
            for (std::int64_t j = live; j < nr; ++j)
                for (std::int64_t p = 0; p < depth; ++p) dst[p * nr + j] = T(0);
        }
    }
}
