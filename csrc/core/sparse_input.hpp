// The non-zeros of a chunk of input rows, for the first layer's products on sparse data.
//
// Inputs like MNIST digits are mostly exact zeros (about 81% of the pixels), and the first
// layer, the widest, does most of a small network's arithmetic: Z_0 = X W_0 forward and
// dW_0 = X^T D_0 backward. Skipping the zeros does 1 / density times less work than the dense
// GEMM. The row lists drive the forward product, the column lists (built from them once per
// chunk) the weight gradient; both sum their entries in index order (sparse_kernel.hpp).
//
// The forward product is summed in two parts, split at column cut() = cols / 2
// (first_layer_cut):
//   (X W)_i = sum over row i's entries in columns [0, cut) + sum over those in [cut, cols)
// so that two threads can each sum one part for all of a chunk's rows, each reading only its
// half of W: the half whose rows the same thread steps in the optimiser. When both threads
// read all of W, every line the step writes is also in the other core's cache, and taking it
// back made Adam's step 2-4x slower (a 784-100-10 epoch +6%). The cut depends only on the
// width, so results are the same for any thread count, with or without an InputIndex.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "aligned_buffer.hpp"
#include "input_index.hpp"

namespace mlpcore {

// Inputs at least this wide are scanned for zeros (narrower layers are cheap anyway), when the
// first layer has at least this many units: the index lists work a vector of units at a time,
// and for narrow layers (softmax regression's 10 outputs) the GEMM's narrow kernel is faster.
inline constexpr std::int64_t kSparseMinInputs = 64;
inline constexpr std::int64_t kSparseMinUnits = 32;
// Above this fraction of non-zeros the blocked GEMM is faster than the index lists. Measured on
// loss_and_grads of 256 x 784 inputs at 2 threads (AVX-512): into 100 units the lists win up to
// 30% (1.2 against 1.4 ms), into 256 units up to 20% (1.4 against 2.4 ms; 2.9 against 2.5 at 30%).
inline constexpr double kSparseMaxDensity = 0.25;

// Whether a first layer from n_in inputs to `units` units looks for zeros in its input.
inline bool sparse_first_layer(std::int64_t n_in, std::int64_t units) {
    return n_in >= kSparseMinInputs && units >= kSparseMinUnits;
}

template <class T>
class SparseInput {
public:
    // Rows per chunk at most (reserve): the column lists hold row numbers in one byte.
    static constexpr std::int64_t kMaxRows = 256;

    void reserve(std::int64_t rows, std::int64_t cols);

    // Where the row lists of the following scan_rows or use_index calls live: this object's
    // own workspace (index null) or the index's lists. Call before the rows of a chunk are
    // recorded, not while they are.
    void select(const InputIndex<T>* index);

    // Records the non-zeros of m rows as workspace rows [row0, row0 + m) and returns their
    // count: row r is x + source[r] * ldx, or x + r * ldx when source is null. Reading the
    // caller's rows directly spares copying them when the sparse path is taken. Disjoint row
    // ranges may be scanned concurrently.
    // Rows of a narrower type (In = float for T = double) are widened as they are listed.
    template <class In>
    std::int64_t scan_rows(const In* x, std::int64_t ldx, const std::int64_t* source,
                           std::int64_t row0, std::int64_t m);
    // Records workspace rows [row0, row0 + m) as data rows source[r] (first + r when source is
    // null) of the selected index and returns their non-zero count; the same lists scan_rows
    // would record, without reading the rows.
    std::int64_t use_index(const std::int64_t* source, std::int64_t first, std::int64_t row0,
                           std::int64_t m);
    // Whether `nonzeros` of `rows` full rows are sparse enough for the index lists.
    bool worth_it(std::int64_t nonzeros, std::int64_t rows) const;

    // One part of X W (see the top of this file) for rows [row0, row0 + m), into `out` (points
    // at row row0, stride n_out): part 0 sums the entries in columns [0, cut()), part 1 those
    // in [cut(), cols). W is cols x n_out. Disjoint row ranges or parts may run concurrently.
    void forward_part(int part, const T* w, std::int64_t n_out, std::int64_t row0, std::int64_t m,
                      T* out) const;
    // The same from float32 weights, widened exactly as they are read (for T = double: the
    // same bits as from a float64 copy of them).
    void forward_part_f32(int part, const float* w, std::int64_t n_out, std::int64_t row0,
                          std::int64_t m, T* out) const;
    std::int64_t cut() const { return first_layer_cut(cols_); }

    // dW (cols x n_out) = or += X^T D over rows [0, rows) (all scanned), D (rows x n_out);
    // threaded over the columns of X (the rows of dW). `alongside`, if given, runs as one more
    // task of the same pool run (or after, on one thread). `done`, if given, is called with
    // each range [c0, c1) of dW rows once its thread has finished them, on that thread.
    // `then`, if given, takes over where the run would have exactly two column ranges, split at
    // cut(), and an `alongside` task: the run has two tasks, task 0 runs `alongside` and then
    // the columns [0, cut()), task 1 the columns [cut(), cols), and each ends with then(t)
    // (after its `done`). Returns whether it did. (With two threads, the thread that finishes
    // first no longer takes the alongside work: the one with fewer columns always does.)
    bool weight_gradient(const T* d, std::int64_t n_out, std::int64_t rows, T* dw, bool accumulate,
                         const std::function<void()>* alongside = nullptr,
                         const std::function<void(std::int64_t, std::int64_t)>* done = nullptr,
                         const std::function<void(int)>* then = nullptr);
    // The weight gradient's column lists of part `part`'s columns (as in forward_part) over
    // rows [0, rows), built ahead of the next weight_gradient over `rows` rows, which then uses
    // them as they are (select() drops them). The two parts may be built concurrently.
    void build_part_columns(int part, std::int64_t rows);

    // Non-zeros in rows [0, rows).
    std::int64_t entries(std::int64_t rows) const;

private:
    // forward_part's sums with `kernel` (sparse_rows or sparse_rows_f32) over a W of type M.
    template <class M, class Kernel>
    void sum_part(Kernel kernel, int part, const M* w, std::int64_t n_out, std::int64_t row0,
                  std::int64_t m, T* out) const {
        // The kernel indexes rows from 0; shift the row lists so row row0 is its row 0.
        kernel(part_begin(part) + row0, part_end(part) + row0, idx_, val_, 0, m, w, n_out, out,
               n_out, n_out, false);
    }
    // Part `part`'s columns: [0, cut()) for part 0, [cut(), cols) for part 1.
    std::pair<std::int64_t, std::int64_t> part_columns(int part) const {
        return {part == 0 ? 0 : cut(), part == 0 ? cut() : cols_};
    }
    // The part whose columns are exactly [c0, c1), or -1.
    int part_of(std::int64_t c0, std::int64_t c1) const {
        for (int p = 0; p < 2; ++p)
            if (std::make_pair(c0, c1) == part_columns(p)) return p;
        return -1;
    }
    // Where rows' entries of part `part` begin and end: row_begin_/row_split_ for part 0,
    // row_split_/row_end_ for part 1.
    const std::int64_t* part_begin(int part) const {
        return (part == 0 ? row_begin_ : row_split_).data();
    }
    const std::int64_t* part_end(int part) const {
        return (part == 0 ? row_split_ : row_end_).data();
    }
    // Records row r's lists [begin, end), its part 1 from `split`.
    void set_row(std::int64_t r, std::int64_t begin, std::int64_t split, std::int64_t end) {
        row_begin_[r] = begin, row_split_[r] = split, row_end_[r] = end;
    }
    // Column lists of columns [c0, c1) over rows [0, rows), stored in [rows * c0, rows * c1).
    void build_columns(std::int64_t rows, std::int64_t c0, std::int64_t c1);
    // The first column of thread t's range when `threads` share the weight gradient: with two,
    // cut() (each thread then steps the weights its forward part reads); otherwise equal
    // shares of the index's entries when there is an index, of the columns when not.
    std::int64_t column_cut(int t, int threads) const;

    static constexpr std::int64_t kRowSlack = 16;
    // Up to this many cells (rows x cols) per chunk, each column list gets room for every row
    // and the lists are built in one pass; wider inputs count their entries first and pack
    // the lists, so the memory they touch follows the non-zeros, not the width.
    static constexpr std::int64_t kRoomyCells = std::int64_t(1) << 20;
    std::int64_t cols_ = 0;
    // Row r's non-zeros: column indices and values at [row_begin_[r], row_end_[r]) of idx_ and
    // val_, which point at the index's lists or at this object's own, where row r has a slot
    // of cols_ + kRowSlack entries. The buffers are left uninitialised: pages of a wide
    // input's slots that no entry reaches are never touched, so never take memory.
    // Row r's entries in columns >= cut() start at row_split_[r].
    std::vector<std::int64_t> row_begin_, row_end_, row_split_;
    AlignedBuffer<std::int32_t> row_idx_;
    AlignedBuffer<T> row_val_;
    const InputIndex<T>* index_ = nullptr;
    const std::int32_t* idx_ = nullptr;
    const T* val_ = nullptr;
    // Column c's non-zeros: row indices and values at [col_begin_[c], col_end_[c]).
    std::vector<std::int64_t> col_begin_, col_end_;
    // Rows over which each part's column lists were built ahead (0: not built).
    std::int64_t built_rows_[2] = {0, 0};
    AlignedBuffer<std::uint8_t> col_idx_;  // row numbers: a chunk has at most kMaxRows
    AlignedBuffer<T> col_val_;
};

}  // namespace mlpcore
