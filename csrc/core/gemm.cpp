#include "gemm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "aligned_buffer.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"

namespace mlpcore {
namespace {

// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kMinMacsPerThread = 1.0e6;
// Products with at most this many rows, and the bytes of B a thread should read at least.
constexpr std::int64_t kFewRows = 4;
constexpr double kMinBytesPerThread = 128.0 * 1024.0;
// Packing one element costs about as much as this many multiply-adds in the kernel.
constexpr double kPackCostInMacs = 12.0;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// Split `panels` tiles into `parts` contiguous ranges differing by at most one tile.
std::int64_t split_point(std::int64_t panels, int parts, int index) {
    return (panels / parts) * index + std::min<std::int64_t>(index, panels % parts);
}

struct ThreadGrid {
    int rows = 1, cols = 1;
};

// Choose rows x cols threads for the output, minimising the slowest thread's estimated time:
// its share of tiles plus its packing (A once, B once per mc rows; see gemm_blocked.hpp).
ThreadGrid choose_grid(std::int64_t m, std::int64_t n, std::int64_t k, const GemmBlocking& blk,
                       int max_threads, std::size_t element_size) {
    const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
    // A few-row product is bound by reading B, not by multiply-adds: split it once each thread
    // gets enough of B to read (its share then stays in that core's cache across calls).
    const double work = m <= kFewRows ? static_cast<double>(k) * static_cast<double>(n) *
                                            static_cast<double>(element_size) / kMinBytesPerThread
                                      : macs / kMinMacsPerThread;
    const int useful = static_cast<int>(std::max(1.0, work));
    const int threads = std::min(max_threads, useful);
    const std::int64_t panels_m = ceil_div(m, blk.mr), panels_n = ceil_div(n, blk.nr);
    ThreadGrid best;
    double best_cost = -1;
    for (int t = threads; t >= 1 && best_cost < 0; --t) {
        for (int rows = 1; rows <= t; ++rows) {
            if (t % rows != 0) continue;
            const int cols = t / rows;
            if (rows > panels_m || cols > panels_n) continue;
            const double rows_t = static_cast<double>(ceil_div(panels_m, rows) * blk.mr);
            const double cols_t = static_cast<double>(ceil_div(panels_n, cols) * blk.nr);
            const double kd = static_cast<double>(k);
            const double cost =
                rows_t * cols_t * kd +
                kPackCostInMacs * (rows_t * kd + kd * cols_t * std::ceil(rows_t / blk.mc));
            if (best_cost < 0 || cost < best_cost) {
                best_cost = cost;
                best = ThreadGrid{rows, cols};
            }
        }
    }
    return best;
}

template <class T>
struct Workspace {
    AlignedBuffer<T> pack_a, pack_b;
};

template <class T>
Workspace<T>& thread_workspace() {
    thread_local Workspace<T> workspace;
    return workspace;
}

template <class T>
void scale_output(const GemmArgs<T>& g) {
    for (std::int64_t i = 0; i < g.m; ++i) {
        T* row = g.c + i * g.ldc;
        if (g.beta == T(0)) {
            std::fill(row, row + g.n, T(0));
        } else {
            for (std::int64_t j = 0; j < g.n; ++j) row[j] *= g.beta;
        }
    }
}

// The kernel for an m x n output: the standard tile, or for m <= 4 the small tile that pads
// the output least (ties go to the larger tile, which runs faster), so that a single sample
// does not fill 11 of 12 tile rows with padding.
template <class T>
const GemmKernel<T>& kernel_for(const TypedKernels<T>& kernels, std::int64_t m, std::int64_t n) {
    const GemmKernel<T>* best = &kernels.gemm;
    if (m > kFewRows) return *best;
    std::int64_t best_area = -1;
    for (const GemmKernel<T>& small : kernels.gemm_small) {
        const GemmBlocking& b = small.blocking;
        if (b.mr < m) continue;
        const std::int64_t area = ceil_div(m, b.mr) * b.mr * ceil_div(n, b.nr) * b.nr;
        const bool larger = best_area >= 0 && b.mr * b.nr > best->blocking.mr * best->blocking.nr;
        if (best_area < 0 || area < best_area || (area == best_area && larger)) {
            best = &small;
            best_area = area;
        }
    }
    return *best;
}

template <class T>
void gemm_blocked_parallel(const GemmArgs<T>& g) {
    const GemmKernel<T> kernel = kernel_for(active_kernels<T>(), g.m, g.n);
    const GemmBlocking& blk = kernel.blocking;
    const ThreadGrid grid = choose_grid(g.m, g.n, g.k, blk, usable_threads(), sizeof(T));
    const std::int64_t panels_m = ceil_div(g.m, blk.mr), panels_n = ceil_div(g.n, blk.nr);
    ThreadPool::instance().run(grid.rows * grid.cols, [&](int t) {
        const int ti = t / grid.cols, tj = t % grid.cols;
        GemmRect rect{split_point(panels_m, grid.rows, ti) * blk.mr,
                      std::min(g.m, split_point(panels_m, grid.rows, ti + 1) * blk.mr),
                      split_point(panels_n, grid.cols, tj) * blk.nr,
                      std::min(g.n, split_point(panels_n, grid.cols, tj + 1) * blk.nr)};
        if (rect.m0 >= rect.m1 || rect.n0 >= rect.n1) return;
        const std::int64_t kc = std::min<std::int64_t>(blk.kc, g.k);
        const std::int64_t mc = std::min<std::int64_t>(blk.mc, rect.m1 - rect.m0);
        const std::int64_t nc = std::min<std::int64_t>(blk.nc, rect.n1 - rect.n0);
        Workspace<T>& ws = thread_workspace<T>();
        T* pack_a = ws.pack_a.reserve(static_cast<std::size_t>(ceil_div(mc, blk.mr) * blk.mr * kc));
        T* pack_b = ws.pack_b.reserve(static_cast<std::size_t>(ceil_div(nc, blk.nr) * blk.nr * kc));
        kernel.run(g, rect, pack_a, pack_b);
    });
}

// C^T = op(B)^T op(A)^T computed into a scratch buffer, then added into C: for narrow outputs
// (n well below the tile width nr) the tile covers C^T's long side instead of wasting lanes.
template <class T>
void gemm_transposed(const GemmArgs<T>& g) {
    thread_local AlignedBuffer<T> scratch;
    T* ct = scratch.reserve(static_cast<std::size_t>(g.m * g.n));
    GemmArgs<T> t;
    t.m = g.n;
    t.n = g.m;
    t.k = g.k;
    t.alpha = g.alpha;
    t.beta = T(0);
    t.a = g.b;
    t.rsa = g.csb;
    t.csa = g.rsb;
    t.b = g.a;
    t.rsb = g.csa;
    t.csb = g.rsa;
    t.c = ct;
    t.ldc = g.m;
    gemm_blocked_parallel(t);
    if (g.beta == T(0)) {
        active_kernels<T>().transpose(ct, g.m, g.n, g.m, g.ldc, g.c);
        return;
    }
    for (std::int64_t i = 0; i < g.m; ++i) {
        T* row = g.c + i * g.ldc;
        for (std::int64_t j = 0; j < g.n; ++j) row[j] = ct[j * g.m + i] + g.beta * row[j];
    }
}

// Narrow outputs as dot products along k (the ISA's narrow kernel): no transposed copy of A.
// Only worth it when k is long enough to amortise reducing each dot product's lanes.
constexpr std::int64_t kNarrowMaxCols = 16;
constexpr std::int64_t kNarrowMinDepth = 64;

template <class T>
void gemm_narrow(const TypedKernels<T>& kernels, const GemmArgs<T>& g) {
    thread_local AlignedBuffer<T> scratch;
    T* bt = scratch.reserve(static_cast<std::size_t>(ceil_div(g.n, 2) * 2 * ceil_div(g.k, 16) * 16));
    const std::int64_t bt_row = kernels.narrow_pack(g, bt);
    const double macs = static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
    const std::int64_t groups = ceil_div(g.m, 8);  // rows go to threads in groups of 8
    const int threads = static_cast<int>(std::min<double>(
        {static_cast<double>(usable_threads()), std::max(1.0, macs / kMinMacsPerThread),
         static_cast<double>(groups)}));
    ThreadPool::instance().run(threads, [&](int t) {
        const std::int64_t row0 = split_point(groups, threads, t) * 8;
        const std::int64_t row1 = std::min(g.m, split_point(groups, threads, t + 1) * 8);
        if (row0 < row1) kernels.narrow_rows(g, bt, bt_row, row0, row1);
    });
}

}  // namespace

template <class T>
void gemm(const GemmArgs<T>& g) {
    if (g.m == 0 || g.n == 0) return;
    if (g.k == 0 || g.alpha == T(0)) {
        scale_output(g);
        return;
    }
    const TypedKernels<T>& kernels = active_kernels<T>();
    if (kernels.narrow_rows != nullptr && g.n <= kNarrowMaxCols && g.csa == 1 &&
        g.k >= kNarrowMinDepth && g.m >= 8) {
        gemm_narrow(kernels, g);
        return;
    }
    const GemmBlocking& blk = kernels.gemm.blocking;
    if (2 * g.n <= blk.nr && g.m >= 2 * blk.mr) {
        gemm_transposed(g);
        return;
    }
    gemm_blocked_parallel(g);
}

template void gemm<float>(const GemmArgs<float>&);
template void gemm<double>(const GemmArgs<double>&);

}  // namespace mlpcore
