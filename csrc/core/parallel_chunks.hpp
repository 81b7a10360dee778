// Elementwise work split into one contiguous chunk per thread when the array is large enough to
// pay for waking the pool. Chunks are disjoint, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "thread_pool.hpp"

namespace mlpcore {

// Elements a thread should get at least before a second thread is worth waking.
inline constexpr std::size_t kMinElementsPerThread = 1 << 15;

template <class Body>  // body(begin, end)
void parallel_chunks(std::size_t n, std::size_t min_per_thread, std::size_t align, Body body) {
    const std::size_t useful = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_per_thread));
    const int threads = static_cast<int>(std::min<std::size_t>(usable_threads(), useful));
    if (threads <= 1) {
        body(std::size_t(0), n);
        return;
    }
    std::size_t chunk = (n + threads - 1) / threads;
    chunk = (chunk + align - 1) / align * align;
    ThreadPool::instance().run(threads, [&](int t) {
        const std::size_t begin = std::min(n, chunk * static_cast<std::size_t>(t));
        const std::size_t end = std::min(n, begin + chunk);
        if (begin < end) body(begin, end);
    });
}

}  // namespace mlpcore
