#include "input_index.hpp"

#include <algorithm>
#include <atomic>

#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {

template <class T>
InputIndex<T>::InputIndex(const T* x, std::int64_t rows, std::int64_t cols, double max_density)
    : rows_(rows), cols_(cols) {
    const auto nonzeros_of = active_kernels<T>().row_nonzeros;
    // The kernel stores whole vectors past a row's count: a row needs this much room.
    constexpr std::int64_t kSlack = 16;
    const int threads = static_cast<int>(std::clamp<std::int64_t>(rows / 64, 1, usable_threads()));
    const double budget = max_density * static_cast<double>(rows) * static_cast<double>(cols);
    // One scan: each thread lists its rows into buffers of its own, then the lists are copied
    // into place. A shared running count stops every thread once the total is over budget,
    // so a dense input costs little time and memory before it is turned down.
    std::vector<std::int64_t> counts(static_cast<std::size_t>(rows) + 1, 0);
    std::vector<std::vector<std::int32_t>> idx_parts(static_cast<std::size_t>(threads));
    std::vector<std::vector<T>> val_parts(static_cast<std::size_t>(threads));
    std::vector<std::vector<std::int64_t>> column_parts(static_cast<std::size_t>(threads));
    std::atomic<std::int64_t> seen{0};
    std::atomic<bool> over{false};
    auto scan = [&](int t) {
        auto& idx = idx_parts[static_cast<std::size_t>(t)];
        auto& val = val_parts[static_cast<std::size_t>(t)];
        auto& per_column = column_parts[static_cast<std::size_t>(t)];
        per_column.assign(static_cast<std::size_t>(cols), 0);
        const std::int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
        // Room for 64 rows at first, doubled as needed: a dense input is turned down after
        // its first rows without having allocated much.
        idx.resize(static_cast<std::size_t>(std::min<std::int64_t>(r1 - r0, 64) * cols + kSlack));
        std::int64_t used = 0, since = 0;
        for (std::int64_t r = r0; r < r1; ++r) {
            if (used + cols + kSlack > static_cast<std::int64_t>(idx.size()))
                idx.resize(std::max(2 * idx.size(), static_cast<std::size_t>(used + cols + kSlack)));
            if (val.size() < idx.size()) val.resize(idx.size());
            const std::int64_t count = nonzeros_of(x + r * cols, cols, idx.data() + used, val.data() + used);
            counts[static_cast<std::size_t>(r) + 1] = count;
            for (std::int64_t e = used; e < used + count; ++e) ++per_column[static_cast<std::size_t>(idx[e])];
            used += count;
            since += count;
            if ((r - r0) % 64 == 63 || r + 1 == r1) {
                if (static_cast<double>(seen.fetch_add(since) + since) > budget) over = true;
                since = 0;
                if (over) return;
            }
        }
    };
    if (threads <= 1) scan(0);
    else ThreadPool::instance().run(threads, scan);
    if (over) {
        nonzeros_ = seen.load();  // a lower bound: the scan stopped early
        return;
    }
    for (std::size_t r = 1; r < counts.size(); ++r) counts[r] += counts[r - 1];
    nonzeros_ = counts.back();
    idx_.resize(static_cast<std::size_t>(nonzeros_));
    val_.resize(static_cast<std::size_t>(nonzeros_));
    for (int t = 0; t < threads; ++t) {
        const auto first = static_cast<std::size_t>(counts[static_cast<std::size_t>(rows * t / threads)]);
        const auto last = static_cast<std::size_t>(counts[static_cast<std::size_t>(rows * (t + 1) / threads)]);
        const auto& idx = idx_parts[static_cast<std::size_t>(t)];
        const auto& val = val_parts[static_cast<std::size_t>(t)];
        std::copy(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(last - first), idx_.begin() + first);
        std::copy(val.begin(), val.begin() + static_cast<std::ptrdiff_t>(last - first), val_.begin() + first);
    }
    begin_ = std::move(counts);
    entries_before_.assign(static_cast<std::size_t>(cols) + 1, 0);
    for (std::int64_t c = 0; c < cols; ++c) {
        std::int64_t in_column = 0;
        for (const auto& part : column_parts) in_column += part[static_cast<std::size_t>(c)];
        entries_before_[static_cast<std::size_t>(c) + 1] = entries_before_[static_cast<std::size_t>(c)] + in_column;
    }
}

template class InputIndex<float>;
template class InputIndex<double>;

}  // namespace mlpcore
