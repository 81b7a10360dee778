// Every kernel compiled for one instruction set, as a table of function pointers. One table per
// ISA (kernels_<isa>.cpp); kernels_for() returns the one for the active SIMD level.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activation_kind.hpp"
#include "adam_params.hpp"
#include "gemm_types.hpp"
#include "sgd_params.hpp"
#include "simd_level.hpp"

namespace mlpcore {

template <class T>
struct TypedKernels {
    GemmKernel<T> gemm;
    // The same GEMM with the small tiles of gemm_config::kSmallTiles, for m <= 4.
    GemmKernel<T> gemm_small[gemm_config::kNumSmallTiles];
    // dst[p * dst_stride + l] = src[l * src_stride + p] for l < lines, p < depth: a transpose
    // (8 x 8 blocks in registers where the ISA has them).
    void (*transpose)(const T* src, std::ptrdiff_t src_stride, std::int64_t lines,
                      std::int64_t depth, std::ptrdiff_t dst_stride, T* dst);
    void (*activation_forward[kNumActivations])(const T* x, T* y, std::size_t n, T slope);
    void (*activation_backward[kNumActivations])(const T* x, const T* grad_out, T* grad_in,
                                                 std::size_t n, T slope);
    void (*softmax_rows)(const T* x, T* y, std::size_t rows, std::size_t cols, bool log_output);
    // x[i] = e^x[i] in place, for x[i] <= 0 (NaN stays NaN).
    void (*exp_nonpositive)(T* x, std::size_t n);
    void (*sgd_step)(T* w, const T* g, T* v, std::size_t n, const SgdParams<T>& params);
    void (*adam_step)(T* w, const T* g, T* m, T* v, std::size_t n, const AdamParams<T>& params);
    // out[i, :n] (+)= sum_e val[e] * m[idx[e], :n] over e in [begin[i], end[i]) (sparse_kernel.hpp).
    void (*sparse_rows)(const std::int64_t* begin, const std::int64_t* end, const std::int32_t* idx,
                        const T* val, std::int64_t i0, std::int64_t i1, const T* m, std::int64_t ldm,
                        T* out, std::int64_t ldo, std::int64_t n, bool accumulate);
    // The same with one-byte indices (the weight gradient's column lists: rows of a chunk).
    void (*sparse_cols)(const std::int64_t* begin, const std::int64_t* end, const std::uint8_t* idx,
                        const T* val, std::int64_t i0, std::int64_t i1, const T* m, std::int64_t ldm,
                        T* out, std::int64_t ldo, std::int64_t n, bool accumulate);
    // sparse_rows with a float32 matrix, widened exactly as it is read (float64 prediction
    // from float32 weights, without a float64 copy of them).
    void (*sparse_rows_f32)(const std::int64_t* begin, const std::int64_t* end,
                            const std::int32_t* idx, const T* val, std::int64_t i0, std::int64_t i1,
                            const float* m, std::int64_t ldm, T* out, std::int64_t ldo,
                            std::int64_t n, bool accumulate);
    // Copy x[0, n) to copy (unless null), return whether it is all finite and, with sum, its
    // sum of squares and of absolute values in double (weight_scan_kernel.hpp).
    bool (*weight_scan_block)(const T* x, T* copy, std::size_t n, bool sum, double* squares,
                              double* abs);
    // Indices and values of the non-zeros of a row; idx and val need n + 16 slots.
    std::int64_t (*row_nonzeros)(const T* x, std::int64_t n, std::int32_t* idx, T* val);
    // Narrow outputs (n <= 16) with a row-major A, as dot products along k (gemm_narrow_*.hpp);
    // null where the ISA has no such kernel. narrow_pack writes B^T to bt and returns its row
    // length; narrow_rows computes rows [row0, row1) of C from it.
    std::int64_t (*narrow_pack)(const GemmArgs<T>& args, T* bt) = nullptr;
    void (*narrow_rows)(const GemmArgs<T>& args, const T* bt, std::int64_t bt_row,
                        std::int64_t row0, std::int64_t row1) = nullptr;
};

struct KernelTable {
    TypedKernels<float> f32;
    TypedKernels<double> f64;
};

const KernelTable& kernels_generic();
const KernelTable& kernels_avx2();
const KernelTable& kernels_avx512();

const KernelTable& kernels_for(SimdLevel level);

template <class T>
const TypedKernels<T>& active_kernels();

}  // namespace mlpcore
