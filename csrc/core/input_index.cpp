#include "input_index.hpp"

#include <algorithm>
#include <numeric>

#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {

template <class T>
InputIndex<T>::InputIndex(const T* x, std::int64_t rows, std::int64_t cols, double max_density)
    : rows_(rows), cols_(cols) {
    const auto nonzeros_of = active_kernels<T>().row_nonzeros;
    // The kernel stores whole vectors past a row's count, so each thread scans into its own
    // scratch row and copies out exactly the count.
    constexpr std::int64_t kSlack = 16;
    const int threads = static_cast<int>(std::clamp<std::int64_t>(rows / 64, 1, usable_threads()));
    auto for_rows = [&](auto&& body) {
        auto part = [&](int t) {
            std::vector<std::int32_t> idx(static_cast<std::size_t>(cols + kSlack));
            std::vector<T> val(idx.size());
            for (std::int64_t r = rows * t / threads; r < rows * (t + 1) / threads; ++r)
                body(r, idx.data(), val.data(),
                     nonzeros_of(x + r * cols, cols, idx.data(), val.data()));
        };
        if (threads <= 1) part(0);
        else ThreadPool::instance().run(threads, part);
    };
    std::vector<std::int64_t> counts(static_cast<std::size_t>(rows) + 1, 0);
    for_rows([&](std::int64_t r, const std::int32_t*, const T*, std::int64_t count) {
        counts[static_cast<std::size_t>(r) + 1] = count;
    });
    std::partial_sum(counts.begin(), counts.end(), counts.begin());
    nonzeros_ = counts.back();
    if (static_cast<double>(nonzeros_) > max_density * static_cast<double>(rows * cols)) return;
    idx_.resize(static_cast<std::size_t>(nonzeros_));
    val_.resize(static_cast<std::size_t>(nonzeros_));
    for_rows([&](std::int64_t r, const std::int32_t* idx, const T* val, std::int64_t count) {
        std::copy(idx, idx + count, idx_.begin() + counts[static_cast<std::size_t>(r)]);
        std::copy(val, val + count, val_.begin() + counts[static_cast<std::size_t>(r)]);
    });
    begin_ = std::move(counts);
}

template class InputIndex<float>;
template class InputIndex<double>;

}  // namespace mlpcore
