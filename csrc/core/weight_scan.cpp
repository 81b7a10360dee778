#include "weight_scan.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "check.hpp"
#include "kernel_table.hpp"
#include "parallel_chunks.hpp"

namespace mlpcore {

namespace {

// Blocks of at most this many values, cut also at the ranges' ends: the unit of work per
// thread and of the sums' fixed order.
constexpr std::size_t kBlock = 4096;

struct Block {
    std::size_t begin, end;
    std::ptrdiff_t range;  // index into ranges, or -1 outside every range
};

}  // namespace

template <class T>
WeightScan scan_weights(const T* x, T* copy, std::size_t n,
                        const std::vector<std::pair<std::size_t, std::size_t>>& ranges) {
    std::vector<Block> blocks;
    blocks.reserve(n / kBlock + 2 * ranges.size() + 1);
    auto cut = [&](std::size_t begin, std::size_t end, std::ptrdiff_t range) {
        for (std::size_t b = begin; b < end; b += kBlock)
            blocks.push_back({b, std::min(end, b + kBlock), range});
    };
    std::size_t at = 0;
    for (std::size_t r = 0; r < ranges.size(); ++r) {
        const auto [begin, end] = ranges[r];
        require(at <= begin && begin <= end && end <= n, "scan_weights: ranges must be sorted, ",
                "disjoint [begin, end) pairs within the array");
        cut(at, begin, -1);
        cut(begin, end, static_cast<std::ptrdiff_t>(r));
        at = end;
    }
    cut(at, n, -1);

    const auto kernel = active_kernels<T>().weight_scan_block;
    std::vector<double> squares(blocks.size()), abs(blocks.size());
    std::atomic<bool> finite{true};
    parallel_chunks(blocks.size(), kMinElementsPerThread / kBlock, 1, [&](std::size_t b0, std::size_t b1) {
        bool all_finite = true;
        for (std::size_t b = b0; b < b1; ++b) {
            const Block& block = blocks[b];
            all_finite &= kernel(x + block.begin, copy ? copy + block.begin : nullptr,
                                 block.end - block.begin, block.range >= 0, &squares[b], &abs[b]);
        }
        if (!all_finite) finite.store(false, std::memory_order_relaxed);
    });

    WeightScan scan;
    scan.finite = finite.load();
    scan.squares.assign(ranges.size(), 0.0);
    scan.abs.assign(ranges.size(), 0.0);
    for (std::size_t b = 0; b < blocks.size(); ++b) {
        if (blocks[b].range < 0) continue;
        scan.squares[static_cast<std::size_t>(blocks[b].range)] += squares[b];
        scan.abs[static_cast<std::size_t>(blocks[b].range)] += abs[b];
    }
    return scan;
}

template WeightScan scan_weights<float>(const float*, float*, std::size_t,
                                        const std::vector<std::pair<std::size_t, std::size_t>>&);
template WeightScan scan_weights<double>(const double*, double*, std::size_t,
                                         const std::vector<std::pair<std::size_t, std::size_t>>&);

}  // namespace mlpcore
