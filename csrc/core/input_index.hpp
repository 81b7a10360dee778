// The non-zeros of a whole input array, found once and reused by every epoch that trains on it.
//
// The first layer's sparse path (sparse_input.hpp) needs each batch row's non-zero columns and
// values. Finding them costs a pass over the row (for MNIST about an eighth of a 784-100-10
// epoch), and the answer is the same every epoch: a fit that builds this index once skips that
// pass from the second epoch on. Rows are listed exactly as SparseInput::scan_rows would list
// them, so an epoch gives the same bits with or without the index.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "aligned_buffer.hpp"

namespace mlpcore {

// At most this much memory for an index: training otherwise never copies the data set (its
// peak stays within 16 MiB over the data for a 784-256-128-10 net on 60,000 digits), and the
// lists take 8 bytes a non-zero, 38% of the data's own size at MNIST's density. 16 MiB lists
// 2 million float32 non-zeros, 14,000 digits.
inline constexpr std::int64_t kMaxIndexBytes = std::int64_t(16) << 20;

// The column where the sparse first layer's forward product splits its sum in two parts
// (sparse_input.hpp): fixed by the width, so results never depend on the data's index.
inline std::int64_t first_layer_cut(std::int64_t cols) { return cols / 2; }

// How many of a row's n listed columns (increasing) are below first_layer_cut(cols).
inline std::int64_t entries_below_cut(const std::int32_t* idx, std::int64_t n, std::int64_t cols) {
    return std::lower_bound(idx, idx + n, static_cast<std::int32_t>(first_layer_cut(cols))) - idx;
}

template <class T>
class InputIndex {
public:
    InputIndex() = default;

    // Lists the non-zeros of x (rows x cols, C order, row stride cols) if they are at most
    // max_density of the entries and their lists fit in max_bytes; otherwise the index stays
    // empty (the lists would take more memory than they save time, or more than training
    // should hold) and the scan stops as soon as that is certain. Threaded over rows.
    InputIndex(const T* x, std::int64_t rows, std::int64_t cols, double max_density,
               std::int64_t max_bytes = kMaxIndexBytes);
    // Hands the lists' memory to the next index built in this process (see the .cpp).
    ~InputIndex();
    InputIndex(InputIndex&&) = default;
    InputIndex& operator=(InputIndex&&) = default;

    bool empty() const { return !listed_; }
    std::int64_t rows() const { return rows_; }
    std::int64_t cols() const { return cols_; }
    std::int64_t nonzeros() const { return nonzeros_; }  // exact when listed
    // Whether every value of x is finite (when listed: NaN and infinities are non-zeros, so the
    // scan that lists them sees them all; callers skip a separate pass over x).
    bool finite() const { return finite_; }

    // Row r's non-zeros: columns idx()[e] (increasing) and values val()[e] for e in
    // [begin(r), end(r)).
    std::int64_t begin(std::int64_t r) const { return spans_[static_cast<std::size_t>(r)].begin; }
    std::int64_t end(std::int64_t r) const { return spans_[static_cast<std::size_t>(r)].end; }
    // Row r's first entry in a column >= first_layer_cut(cols) (end(r) if none).
    std::int64_t split(std::int64_t r) const { return spans_[static_cast<std::size_t>(r)].split; }
    const std::int32_t* idx() const { return idx_.data(); }
    const T* val() const { return val_.data(); }
    // Entries in columns [0, c), for c in [0, cols] (when listed): where to cut the columns
    // so that threads get equal shares of the work.
    const std::int64_t* entries_before() const { return entries_before_.data(); }

private:
    std::int64_t rows_ = 0, cols_ = 0, nonzeros_ = 0;
    bool listed_ = false;
    bool finite_ = true;
    // Per row, together: a batch reads all three of rows picked at random (one line, not three).
    struct Span {
        std::int64_t begin, split, end;
    };
    std::vector<Span> spans_;
    // Uninitialised: the listing scan writes every entry (and the spare ones past each
    // thread's rows are never read).
    AlignedBuffer<std::int32_t> idx_;
    AlignedBuffer<T> val_;
    std::vector<std::int64_t> entries_before_;
};

}  // namespace mlpcore
