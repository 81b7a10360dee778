#include "sparse_input.hpp"

#include <algorithm>
#include <type_traits>

#include "check.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {

template <class T>
void SparseInput<T>::reserve(std::int64_t rows, std::int64_t cols) {
    require(rows <= kMaxRows, "SparseInput: at most ", kMaxRows, " rows per chunk (got ", rows, ")");
    cols_ = cols;
    const auto cells = static_cast<std::size_t>(rows * cols);
    // Each row's slots get kRowSlack spare entries: the scan stores whole vectors past the count.
    const std::int64_t stride = cols + kRowSlack;
    row_begin_.resize(static_cast<std::size_t>(rows));
    row_end_.resize(static_cast<std::size_t>(rows));
    row_split_.resize(static_cast<std::size_t>(rows));
    row_idx_.reserve(static_cast<std::size_t>(rows * stride));
    row_val_.reserve(static_cast<std::size_t>(rows * stride));
    col_begin_.resize(static_cast<std::size_t>(cols));
    col_end_.resize(static_cast<std::size_t>(cols));
    col_idx_.reserve(cells);
    col_val_.reserve(cells);
    select(nullptr);
}

template <class T>
void SparseInput<T>::select(const InputIndex<T>* index) {
    index_ = index;
    idx_ = index ? index->idx() : row_idx_.data();
    val_ = index ? index->val() : row_val_.data();
    built_rows_[0] = built_rows_[1] = 0;
}

template <class T>
void SparseInput<T>::build_part_columns(int part, std::int64_t rows) {
    const auto [c0, c1] = part_columns(part);
    build_columns(rows, c0, c1);
    built_rows_[part] = rows;
}

template <class T>
std::int64_t SparseInput<T>::use_index(const std::int64_t* source, std::int64_t first,
                                       std::int64_t row0, std::int64_t m) {
    std::int64_t total = 0;
    for (std::int64_t r = 0; r < m; ++r) {
        const std::int64_t row = source ? source[r] : first + r;
        const std::int64_t begin = index_->begin(row), end = index_->end(row);
        set_row(row0 + r, begin, index_->split(row), end);
        total += end - begin;
    }
    return total;
}

template <class T>
template <class In>
std::int64_t SparseInput<T>::scan_rows(const In* x, std::int64_t ldx, const std::int64_t* source,
                                       std::int64_t row0, std::int64_t m) {
    constexpr std::int64_t kAhead = 4;  // rows whose cache lines are requested in advance
    constexpr bool widen = !std::is_same_v<In, T>;
    static_assert(sizeof(In) <= sizeof(T), "scan_rows widens inputs, never narrows them");
    const std::int64_t line = 64 / static_cast<std::int64_t>(sizeof(In));
    const auto row_kernel = active_kernels<In>().row_nonzeros;
    // Narrower rows are listed in their own type, then their values widened into the lists.
    static thread_local AlignedBuffer<In> staged;
    In* const stage = widen ? staged.reserve(static_cast<std::size_t>(cols_ + kRowSlack)) : nullptr;
    auto nonzeros = [&](const In* xr, std::int32_t* idx, T* val) -> std::int64_t {
        if constexpr (widen) {
            const std::int64_t count = row_kernel(xr, cols_, idx, stage);
            for (std::int64_t e = 0; e < count; ++e) val[e] = static_cast<T>(stage[e]);
            return count;
        } else {
            return row_kernel(xr, cols_, idx, val);
        }
    };
    std::int64_t total = 0;
    for (std::int64_t r = 0; r < m; ++r) {
        // Shuffled rows sit at random places in a large array: requesting a row a few ahead
        // overlaps their memory latencies with this row's scan (as gather_rows does).
        if (source && r + kAhead < m) {
            const In* ahead = x + source[r + kAhead] * ldx;
            for (std::int64_t i = 0; i < cols_; i += line) __builtin_prefetch(ahead + i, 0, 3);
        }
        const In* xr = x + (source ? source[r] : r) * ldx;
        const std::int64_t base = (row0 + r) * (cols_ + kRowSlack);
        const std::int64_t count = nonzeros(xr, row_idx_.data() + base, row_val_.data() + base);
        set_row(row0 + r, base, base + entries_below_cut(row_idx_.data() + base, count, cols_),
                base + count);
        total += count;
    }
    return total;
}

template <class T>
bool SparseInput<T>::worth_it(std::int64_t nonzeros, std::int64_t rows) const {
    return static_cast<double>(nonzeros) <= kSparseMaxDensity * static_cast<double>(rows * cols_);
}

template <class T>
void SparseInput<T>::forward_part(int part, const T* w, std::int64_t n_out, std::int64_t row0,
                                  std::int64_t m, T* out) const {
    sum_part(active_kernels<T>().sparse_rows, part, w, n_out, row0, m, out);
}

template <class T>
void SparseInput<T>::forward_part_f32(int part, const float* w, std::int64_t n_out,
                                      std::int64_t row0, std::int64_t m, T* out) const {
    sum_part(active_kernels<T>().sparse_rows_f32, part, w, n_out, row0, m, out);
}

template <class T>
void SparseInput<T>::build_columns(std::int64_t rows, std::int64_t c0, std::int64_t c1) {
    // Distributes the row lists' entries in [c0, c1) by column, each column's rows in
    // increasing order. Row lists are sorted by column: each row's part is found by binary
    // search, or is known when [c0, c1) is one of the forward product's parts. Plain local
    // pointers: through the members, every store made the compiler reload the buffers' data
    // pointers (they might alias).
    const std::int32_t* const idx = idx_;
    const T* const val = val_;
    const std::int64_t* const row_begin = row_begin_.data();
    const std::int64_t* const row_end = row_end_.data();
    const int known_part = part_of(c0, c1);
    const std::int64_t* const known_begin = known_part >= 0 ? part_begin(known_part) : nullptr;
    const std::int64_t* const known_end = known_part >= 0 ? part_end(known_part) : nullptr;
    std::int64_t* const col_begin = col_begin_.data();
    std::int64_t* const col_end = col_end_.data();
    std::uint8_t* const col_idx = col_idx_.data();
    T* const col_val = col_val_.data();
    // The lists of rows summed forward on another core sit in its cache or L3: ask for the
    // part in [c0, c1) (estimated by the columns' share) of a row a few ahead.
    constexpr std::int64_t kAhead = 2, kLine = 16;
    auto prefetch_row = [&](std::int64_t r) {
        std::int64_t lo, hi;
        if (known_part >= 0) {
            lo = known_begin[r], hi = known_end[r];
        } else {
            const std::int64_t b = row_begin[r], n = row_end[r] - b;
            lo = b + n * c0 / cols_, hi = b + (n * c1 + cols_ - 1) / cols_;
        }
        for (std::int64_t e = lo; e < hi; e += kLine) {
            __builtin_prefetch(idx + e, 0, 3);
            __builtin_prefetch(val + e, 0, 3);
        }
    };
    auto each_entry = [&](auto&& visit) {  // visit(row, entry) for entries in [c0, c1)
        for (std::int64_t r = 0; r < rows; ++r) {
            if (r + kAhead < rows) prefetch_row(r + kAhead);
            if (known_part >= 0) {
                const std::int32_t* const hi = idx + known_end[r];
                for (const std::int32_t* e = idx + known_begin[r]; e < hi; ++e) visit(r, e);
                continue;
            }
            const std::int32_t* const hi = idx + row_end[r];
            const auto first = std::lower_bound(idx + row_begin[r], hi, static_cast<std::int32_t>(c0));
            for (const std::int32_t* e = first; e < hi && *e < c1; ++e) visit(r, e);
        }
    };
    if (rows * cols_ <= kRoomyCells) {
        // Column c has room for every row at [rows * c, rows * (c + 1)): one pass.
        for (std::int64_t c = c0; c < c1; ++c) col_begin[c] = col_end[c] = rows * c;
    } else {
        // Count, then pack the lists from rows * c0 on.
        for (std::int64_t c = c0; c < c1; ++c) col_end[c] = 0;
        each_entry([&](std::int64_t, const std::int32_t* e) { ++col_end[*e]; });
        std::int64_t offset = rows * c0;
        for (std::int64_t c = c0; c < c1; ++c) {
            col_begin[c] = offset;
            offset += col_end[c];
            col_end[c] = col_begin[c];
        }
    }
    each_entry([&](std::int64_t r, const std::int32_t* e) {
        const std::int64_t slot = col_end[*e]++;
        col_idx[slot] = static_cast<std::uint8_t>(r);
        col_val[slot] = val[e - idx];
    });
}

template <class T>
std::int64_t SparseInput<T>::entries(std::int64_t rows) const {
    std::int64_t total = 0;
    for (std::int64_t r = 0; r < rows; ++r) total += row_end_[r] - row_begin_[r];
    return total;
}

template <class T>
bool SparseInput<T>::weight_gradient(const T* d, std::int64_t n_out, std::int64_t rows, T* dw,
                                     bool accumulate, const std::function<void()>* alongside,
                                     const std::function<void(std::int64_t, std::int64_t)>* done,
                                     const std::function<void(int)>* then) {
    const auto fn = active_kernels<T>().sparse_cols;
    const std::int64_t total = entries(rows);
    // Each thread sorts and sums its own range of columns (dW rows): one pass, no shared
    // state. A column's result is the same whichever thread computes it, so the cut between
    // ranges can follow the data.
    const int threads = static_cast<int>(std::clamp<std::int64_t>(
        total * n_out / (1 << 15), 1, usable_threads()));
    // Lists built ahead (build_part_columns) serve this call only.
    const bool built_ahead[2] = {built_rows_[0] == rows, built_rows_[1] == rows};
    built_rows_[0] = built_rows_[1] = 0;
    auto built = [&](std::int64_t c0, std::int64_t c1) {
        const int p = part_of(c0, c1);
        return p >= 0 && built_ahead[p];
    };
    auto part = [&](std::int64_t c0, std::int64_t c1) {
        if (c0 >= c1) return;
        if (!built(c0, c1)) build_columns(rows, c0, c1);
        fn(col_begin_.data(), col_end_.data(), col_idx_.data(), col_val_.data(), c0, c1, d, n_out,
           dw, n_out, n_out, accumulate);
        if (done) (*done)(c0, c1);
    };
    if (threads <= 1) {
        part(0, cols_);
        if (alongside) (*alongside)();
        return false;
    }
    if (then && alongside && threads == 2) {
        ThreadPool::instance().run(2, [&](int t) {
            if (t == 0) (*alongside)();
            const auto [c0, c1] = part_columns(t);  // column_cut(t, 2) .. column_cut(t + 1, 2)
            part(c0, c1);
            (*then)(t);
        });
        return true;
    }
    ThreadPool::instance().run(threads + (alongside ? 1 : 0), [&](int t) {
        if (t == threads) (*alongside)();
        else part(column_cut(t, threads), column_cut(t + 1, threads));
    });
    return false;
}

template <class T>
std::int64_t SparseInput<T>::column_cut(int t, int threads) const {
    if (t == 0 || t == threads) return cols_ * t / threads;
    if (threads == 2) return cut();
    if (!index_) return cols_ * t / threads;
    // Digits have more ink in some rows of pixels than others: cutting the columns evenly left
    // one thread a fifth more entries to sort and sum.
    const std::int64_t* before = index_->entries_before();
    const std::int64_t target = before[cols_] * t / threads;
    return std::lower_bound(before, before + cols_ + 1, target) - before;
}

template class SparseInput<float>;
template class SparseInput<double>;
template std::int64_t SparseInput<float>::scan_rows<float>(const float*, std::int64_t,
                                                          const std::int64_t*, std::int64_t,
                                                          std::int64_t);
template std::int64_t SparseInput<double>::scan_rows<double>(const double*, std::int64_t,
                                                            const std::int64_t*, std::int64_t,
                                                            std::int64_t);
template std::int64_t SparseInput<double>::scan_rows<float>(const float*, std::int64_t,
                                                           const std::int64_t*, std::int64_t,
                                                           std::int64_t);

}  // namespace mlpcore
