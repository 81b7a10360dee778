#include "input_index.hpp"

#include <algorithm>
#include <atomic>

#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {

template <class T>
InputIndex<T>::InputIndex(const T* x, std::int64_t rows, std::int64_t cols, double max_density,
                          std::int64_t max_bytes)
    : rows_(rows), cols_(cols) {
    const auto nonzeros_of = active_kernels<T>().row_nonzeros;
    // The kernel stores whole vectors past a row's count: a row needs this much room.
    constexpr std::int64_t kSlack = 16;
    const int threads = static_cast<int>(std::clamp<std::int64_t>(rows / 64, 1, usable_threads()));
    const std::int64_t budget = std::min(
        static_cast<std::int64_t>(max_density * static_cast<double>(rows) * static_cast<double>(cols)),
        max_bytes / static_cast<std::int64_t>(sizeof(std::int32_t) + sizeof(T)));
    // One scan, straight into place: thread t lists its rows from t * region on. No thread can
    // list more than the whole budget and stay in it, so a region of the budget plus one row
    // never overflows; past the budget the scan stops (a shared running count stops the other
    // threads too), so a dense input costs little time before it is turned down.
    const std::int64_t region = budget + cols + kSlack;
    std::int32_t* const idx = idx_.reserve(static_cast<std::size_t>(threads * region));
    T* const val = val_.reserve(static_cast<std::size_t>(threads * region));
    begin_.resize(static_cast<std::size_t>(rows));
    end_.resize(static_cast<std::size_t>(rows));
    std::vector<std::vector<std::int64_t>> column_parts(static_cast<std::size_t>(threads));
    std::atomic<std::int64_t> seen{0};
    std::atomic<bool> over{false};
    auto scan = [&](int t) {
        auto& per_column = column_parts[static_cast<std::size_t>(t)];
        per_column.assign(static_cast<std::size_t>(cols), 0);
        const std::int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
        const std::int64_t base = t * region;
        std::int64_t used = 0, since = 0;
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t count = nonzeros_of(x + r * cols, cols, idx + base + used, val + base + used);
            begin_[static_cast<std::size_t>(r)] = base + used;
            end_[static_cast<std::size_t>(r)] = base + used + count;
            for (std::int64_t e = base + used; e < base + used + count; ++e)
                ++per_column[static_cast<std::size_t>(idx[e])];
            used += count;
            since += count;
            if (used > budget) over = true;
            if ((r - r0) % 64 == 63 || r + 1 == r1 || over) {
                if (seen.fetch_add(since) + since > budget) over = true;
                since = 0;
                if (over) return;
            }
        }
    };
    if (threads <= 1) scan(0);
    else ThreadPool::instance().run(threads, scan);
    nonzeros_ = seen.load();  // exact when listed; a lower bound when the scan stopped early
    if (over) {
        idx_ = AlignedBuffer<std::int32_t>();
        val_ = AlignedBuffer<T>();
        begin_ = {};
        end_ = {};
        return;
    }
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
