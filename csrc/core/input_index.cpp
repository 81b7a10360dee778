#include "input_index.hpp"

#include <algorithm>
#include <atomic>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {
namespace {

// A scan's output buffer: uninitialised (room that no entry reaches takes no memory), and
// grown by copying what it holds.
template <class U>
class ScanBuffer {
public:
    U* room_for(std::size_t used, std::size_t more) {
        if (used + more > capacity_) {
            AlignedBuffer<U> bigger;
            const std::size_t capacity = std::max(2 * capacity_, used + more);
            U* p = bigger.reserve(capacity);
            if (used) std::copy(buffer_.data(), buffer_.data() + used, p);
            buffer_ = std::move(bigger);
            capacity_ = capacity;
        }
        return buffer_.data() + used;
    }
    const U* data() const { return buffer_.data(); }

private:
    AlignedBuffer<U> buffer_;
    std::size_t capacity_ = 0;
};

}  // namespace

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
    std::vector<ScanBuffer<std::int32_t>> idx_parts(static_cast<std::size_t>(threads));
    std::vector<ScanBuffer<T>> val_parts(static_cast<std::size_t>(threads));
    std::vector<std::vector<std::int64_t>> column_parts(static_cast<std::size_t>(threads));
    std::atomic<std::int64_t> seen{0};
    std::atomic<bool> over{false};
    auto scan = [&](int t) {
        auto& idx = idx_parts[static_cast<std::size_t>(t)];
        auto& val = val_parts[static_cast<std::size_t>(t)];
        auto& per_column = column_parts[static_cast<std::size_t>(t)];
        per_column.assign(static_cast<std::size_t>(cols), 0);
        const std::int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
        // Room for a quarter of the cells at first (what an input sparse enough to list can
        // need, untouched until written), grown if the scan finds more before turning it down.
        const auto row_room = static_cast<std::size_t>(cols + kSlack);
        idx.room_for(0, static_cast<std::size_t>((r1 - r0) * cols / 4) + row_room);
        val.room_for(0, static_cast<std::size_t>((r1 - r0) * cols / 4) + row_room);
        std::int64_t used = 0, since = 0;
        for (std::int64_t r = r0; r < r1; ++r) {
            std::int32_t* row_idx = idx.room_for(static_cast<std::size_t>(used), row_room);
            T* row_val = val.room_for(static_cast<std::size_t>(used), row_room);
            const std::int64_t count = nonzeros_of(x + r * cols, cols, row_idx, row_val);
            counts[static_cast<std::size_t>(r) + 1] = count;
            for (std::int64_t e = 0; e < count; ++e) ++per_column[static_cast<std::size_t>(row_idx[e])];
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
        std::copy(idx.data(), idx.data() + (last - first), idx_.begin() + static_cast<std::ptrdiff_t>(first));
        std::copy(val.data(), val.data() + (last - first), val_.begin() + static_cast<std::ptrdiff_t>(first));
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
