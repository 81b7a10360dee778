#include "input_index.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <utility>
#include <vector>

#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {
namespace {

// The list buffers of the last index freed, for the next one to reuse (the larger set is kept;
// at most kMaxIndexBytes, the most an index takes). Each fit builds an index, and fresh buffers
// meant faulting in their pages anew every time: 1-5 ms of a 784-100-10 fit on 8,000 digits
// (about 2%), spent in the kernel zeroing pages. Like the per-thread training scratch, the
// memory stays with the process once used.
template <class T>
struct SpareLists {
    std::mutex mutex;
    AlignedBuffer<std::int32_t> idx;
    AlignedBuffer<T> val;
};

template <class T>
SpareLists<T>& spare_lists() {
    static SpareLists<T> spare;
    return spare;
}

}  // namespace

template <class T>
InputIndex<T>::~InputIndex() {
    SpareLists<T>& spare = spare_lists<T>();
    std::lock_guard<std::mutex> lock(spare.mutex);
    if (idx_.capacity() > spare.idx.capacity()) idx_.swap(spare.idx);
    if (val_.capacity() > spare.val.capacity()) val_.swap(spare.val);
}

template <class T>
InputIndex<T>::InputIndex(const T* x, std::int64_t rows, std::int64_t cols, double max_density,
                          std::int64_t max_bytes)
    : rows_(rows), cols_(cols) {
    const auto nonzeros_of = active_kernels<T>().row_nonzeros;
    // The kernel stores whole vectors past a row's count: a row needs this much room.
    constexpr std::int64_t kSlack = 16;
    // Rows a thread lists between two looks at the running total.
    constexpr std::int64_t kCheckRows = 64;
    const int threads = static_cast<int>(std::clamp<std::int64_t>(rows / 64, 1, usable_threads()));
    const std::int64_t budget = std::min(
        static_cast<std::int64_t>(max_density * static_cast<double>(rows) * static_cast<double>(cols)),
        max_bytes / static_cast<std::int64_t>(sizeof(std::int32_t) + sizeof(T)));
    // A sample of evenly spaced rows first: dense data (random features, images without zeros)
    // would otherwise fill the budget's worth of lists, 16 MiB of fresh pages, before the scan
    // below finds it over (training 60,000 random rows peaked 16 MiB higher). Only data that
    // the sample puts at twice the budget or more are refused here; the rest are listed and
    // decided exactly. Either way the results are those of training without an index.
    constexpr std::int64_t kSampleRows = 64;
    if (rows >= 4 * kSampleRows) {
        std::vector<std::int32_t> sample_idx(static_cast<std::size_t>(cols) + kSlack);
        std::vector<T> sample_val(static_cast<std::size_t>(cols) + kSlack);
        std::int64_t sampled = 0;
        for (std::int64_t k = 0; k < kSampleRows; ++k)
            sampled += nonzeros_of(x + (k * rows / kSampleRows) * cols, cols, sample_idx.data(), sample_val.data());
        if (static_cast<double>(sampled) * static_cast<double>(rows) / kSampleRows > 2.0 * static_cast<double>(budget)) {
            nonzeros_ = sampled;  // a lower bound, as when the scan stops early
            return;
        }
    }
    auto range = [&](int t) {
        return std::pair<std::int64_t, std::int64_t>(rows * t / threads, rows * (t + 1) / threads);
    };
    // One scan: each thread lists its rows straight into a region of its own, with room for
    // them at full density but never more than the budget plus the rows it lists between two
    // looks at the running total (every thread stops once the total is over budget), plus
    // kSlack for its last row's overhang. Pages of a region its lists do not reach are never
    // touched. (Counting first and listing into one packed array read the data twice: 1.3 ms
    // more of a 784-100-10 fit on 8,000 digits.)
    std::vector<std::int64_t> region(static_cast<std::size_t>(threads) + 1, 0);
    for (int t = 0; t < threads; ++t) {
        const auto [r0, r1] = range(t);
        region[static_cast<std::size_t>(t) + 1] = region[static_cast<std::size_t>(t)] +
                                                   std::min((r1 - r0) * cols, budget + kCheckRows * cols) + kSlack;
    }
    {
        SpareLists<T>& spare = spare_lists<T>();
        std::lock_guard<std::mutex> lock(spare.mutex);
        idx_.swap(spare.idx);
        val_.swap(spare.val);
    }
    std::int32_t* const idx = idx_.reserve(static_cast<std::size_t>(region[static_cast<std::size_t>(threads)]));
    T* const val = val_.reserve(static_cast<std::size_t>(region[static_cast<std::size_t>(threads)]));
    spans_.resize(static_cast<std::size_t>(rows));
    std::vector<std::vector<std::int64_t>> column_parts(static_cast<std::size_t>(threads));
    std::atomic<std::int64_t> seen{0};
    std::atomic<bool> over{false}, nonfinite{false};
    auto list = [&](int t) {
        auto& per_column = column_parts[static_cast<std::size_t>(t)];
        per_column.assign(static_cast<std::size_t>(cols), 0);
        const auto [r0, r1] = range(t);
        std::int64_t offset = region[static_cast<std::size_t>(t)], since = 0;
        bool bad = false;
        for (std::int64_t r = r0; r < r1; ++r) {
            std::int32_t* const ri = idx + offset;
            const T* const rv = val + offset;
            const std::int64_t n = nonzeros_of(x + r * cols, cols, ri, val + offset);
            spans_[static_cast<std::size_t>(r)] = Span{offset, offset + entries_below_cut(ri, n, cols), offset + n};
            for (std::int64_t e = 0; e < n; ++e) {
                ++per_column[static_cast<std::size_t>(ri[e])];
                bad |= !std::isfinite(rv[e]);
            }
            offset += n;
            since += n;
            if ((r - r0) % kCheckRows == kCheckRows - 1 || r + 1 == r1) {
                if (seen.fetch_add(since) + since > budget) over = true;
                since = 0;
                if (over) break;
            }
        }
        if (bad) nonfinite.store(true, std::memory_order_relaxed);
    };
    if (threads <= 1) list(0);
    else ThreadPool::instance().run(threads, list);
    nonzeros_ = seen.load();  // exact when listed; a lower bound when the scan stopped early
    if (over) {
        spans_.clear();  // the lists' memory goes back to the spare when this index is freed
        return;
    }
    finite_ = !nonfinite.load();
    entries_before_.assign(static_cast<std::size_t>(cols) + 1, 0);
    for (std::int64_t c = 0; c < cols; ++c) {
        std::int64_t in_column = 0;
        for (const auto& part : column_parts) in_column += part[static_cast<std::size_t>(c)];
        entries_before_[static_cast<std::size_t>(c) + 1] = entries_before_[static_cast<std::size_t>(c)] + in_column;
    }
    listed_ = true;
}

template class InputIndex<float>;
template class InputIndex<double>;

}  // namespace mlpcore
