#include "trainer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "adam.hpp"
#include "batch_update.hpp"
#include "check.hpp"
#include "random.hpp"
#include "sgd.hpp"
#include "thread_pool.hpp"

namespace mlpcore {
namespace {

// Row blocks of a chunk (see BatchRunner): at least this many rows each, at most this many.
// 32, not 64: a batch of 64 then uses both cores (softmax regression +10% at 2 threads, a
// 2-16-16-2 net +15%); the weight gradients stay one GEMM per chunk, so 1 thread loses nothing.
constexpr std::int64_t kMinBlockRows = 32;
constexpr std::int64_t kMaxBlocks = 4;
// Rows ahead whose cache lines a gather requests before copying the current row.
constexpr std::int64_t kPrefetchRows = 4;

// Tags that keep the random streams of one batch apart.
enum StreamTag : std::uint64_t { kShuffle = 1, kNoise = 2, kDropout = 3 };

// Where a chunk's random numbers come from; null for evaluation and loss_and_gradients.
template <class T>
struct Regularizers {
    const TrainSettings<T>* settings = nullptr;
    std::int64_t batch = 0;
};

bool needs_output_activations(LossKind loss) {
    return loss != LossKind::cross_entropy && loss != LossKind::binary_cross_entropy &&
           loss != LossKind::poisson;
}

// Copies rows[begin .. end) of the data (rows begin .. end when rows is null) to dest, adding
// Gaussian input noise from the given stream when training asks for it.
template <class T>
void gather_rows(const Dataset<T>& data, const std::int64_t* rows, std::int64_t begin,
                 std::int64_t end, T* dest, const Regularizers<T>& reg, std::uint64_t stream) {
    const std::int64_t width = data.n_cols;
    const std::int64_t line = 64 / static_cast<std::int64_t>(sizeof(T));
    for (std::int64_t r = begin; r < end; ++r) {
        // Rows sit at random places in a large array: asking for a row a few ahead while this
        // one is copied overlaps their memory latencies.
        if (r + kPrefetchRows < end) {
            const T* ahead = data.x + (rows ? rows[r + kPrefetchRows] : r + kPrefetchRows) * width;
            for (std::int64_t i = 0; i < width; i += line) __builtin_prefetch(ahead + i, 0, 3);
        }
        const std::int64_t source = rows ? rows[r] : r;
        std::copy(data.x + source * width, data.x + (source + 1) * width, dest + (r - begin) * width);
    }
    if (reg.settings && reg.settings->input_noise > T(0)) {
        const auto& s = *reg.settings;
        Rng rng(stream_seed(s.seed, s.epoch, reg.batch, stream, kNoise));
        const std::int64_t count = (end - begin) * width;
        const double sigma = static_cast<double>(s.input_noise);
        for (std::int64_t i = 0; i < count; i += 2) {
            double g0, g1;
            rng.normal_pair(g0, g1);
            dest[i] += static_cast<T>(sigma * g0);
            if (i + 1 < count) dest[i + 1] += static_cast<T>(sigma * g1);
        }
    }
}

// Inverted-dropout masks (0 or 1 / (1 - p)) for workspace rows [row0, row0 + n) of every
// hidden layer.
template <class T>
void fill_dropout_masks(const MlpSpec& spec, std::int64_t row0, std::int64_t n, MlpWorkspace<T>& ws,
                        const Regularizers<T>& reg, std::uint64_t stream) {
    const auto& s = *reg.settings;
    const double p = static_cast<double>(s.dropout);
    const T keep_scale = T(1) / (T(1) - s.dropout);
    for (std::size_t l = 0; l + 1 < spec.n_layers(); ++l) {
        Rng rng(stream_seed(s.seed, s.epoch, reg.batch, stream, kDropout, l));
        const std::int64_t width = spec.sizes[l + 1];
        T* mask = ws.mask[l] + row0 * width;
        for (std::int64_t i = 0; i < n * width; ++i) mask[i] = rng.uniform() < p ? T(0) : keep_scale;
    }
}

// block(b) for b in [0, blocks), each block a task of the pool: a thread that finishes early
// takes the next block, so a core slowed by other work holds the rest up less.
template <class Block>
void run_blocks(std::int64_t blocks, const Block& block) {
    if (usable_threads() <= 1 || blocks <= 1) {
        for (std::int64_t b = 0; b < blocks; ++b) block(b);
        return;
    }
    ThreadPool::instance().run(static_cast<int>(blocks), [&](int b) { block(b); });
}

// Scratch kept per calling thread between calls rather than faulted in afresh by every one
// (fresh pages cost a 784-100-10 epoch 4% of its time in the kernel zeroing them): a chunk's
// workspace, its index lists (3 MiB for 256 x 784; the next batch's too) and the gradient.
// Safe because their users (a BatchRunner, train_epoch, predict_output) live on their caller's
// thread and a thread never runs two at once.
template <class T>
struct Scratch {
    MlpWorkspace<T> ws;
    SparseInput<T> sparse, next_sparse;
    AlignedBuffer<T> grads;
};

template <class T>
Scratch<T>& scratch() {
    static thread_local Scratch<T> cache;
    return cache;
}

// Gradients larger than this get a buffer of their own, freed after the epoch, rather than
// one kept for the thread's lifetime.
constexpr std::size_t kKeptGradientBytes = std::size_t(64) << 20;

// A chunk of rows is cut into row_blocks() contiguous blocks. Each block runs its forward pass,
// loss and backward pass down to the first layer's delta on its own (one thread per block when
// there are threads to spare, its GEMMs single-threaded, no synchronisation between layers);
// then the weight gradients of the whole chunk are computed at once, by GEMMs threaded over
// their outputs. The cut depends only on the chunk's size, never on the thread count, and
// every row's numbers are computed the same way in any block, so results are bit-identical
// for any number of threads.
std::int64_t row_blocks(std::int64_t rows) {
    return std::clamp<std::int64_t>(rows / kMinBlockRows, 1, kMaxBlocks);
}

// Block b of `blocks` over `rows` rows: its first row and its number of rows.
std::pair<std::int64_t, std::int64_t> block_rows(std::int64_t rows, std::int64_t blocks,
                                                 std::int64_t b) {
    const std::int64_t r0 = rows * b / blocks;
    return {r0, rows * (b + 1) / blocks - r0};
}

// Which blocks of a sparse chunk may run, in a pool run where tasks 2 s + p (p = 0, 1) sum part
// p of the first layer's product (sparse_input.hpp) for the blocks b with b % shares == s, and
// where the weights the blocks read may still be due for their step: a block is ready once
// both its parts are summed (and the step is done). Every task, once it has summed its parts,
// runs the blocks no task has taken yet, waiting for those that are not ready only while the
// parts they lack are being summed by a task that has started summing (it runs on another
// thread and waits for no one until it is done, so the wait ends). A block whose parts no
// started task is summing, or that lacks the step, is left: the task that completes it will
// find it ready when it looks. (A task that has not started may be queued behind this very
// thread: the pool runs unclaimed tasks on whichever thread is free.) Every block runs exactly
// once.
class ReadyBlocks {
public:
    ReadyBlocks(std::int64_t blocks, int shares, bool after_step)
        : blocks_(blocks), shares_(shares), stepped_(!after_step) {
        for (std::int64_t b = 0; b < blocks; ++b) parts_left_[b].store(2), taken_[b].store(false);
        for (auto& s : summing_) s.store(false);
    }
    // Task `task` starts summing its parts (call before it sums any).
    void summing(int task) { summing_[task].store(true, std::memory_order_release); }
    void part_done(std::int64_t b) { parts_left_[b].fetch_sub(1, std::memory_order_acq_rel); }
    // The step is done (call before looking for ready blocks).
    void step_done() { stepped_.store(true, std::memory_order_release); }

    template <class Run>
    void run_ready(const Run& run_block) {
        for (std::int64_t b = 0; b < blocks_; ++b) {
            const int first = static_cast<int>(2 * (b % shares_));
            for (unsigned spins = 0; !taken_[b].load(std::memory_order_acquire); ++spins) {
                const bool parts = parts_left_[b].load(std::memory_order_acquire) == 0;
                const bool stepped = stepped_.load(std::memory_order_acquire);
                if (parts && stepped) {
                    if (!taken_[b].exchange(true, std::memory_order_acq_rel)) run_block(b);
                    break;
                }
                const bool parts_coming =
                    parts || (summing_[first].load(std::memory_order_acquire) &&
                              summing_[first + 1].load(std::memory_order_acquire));
                if (!parts_coming || !stepped) break;
                spin_then_yield(spins);  // as the pool's own wait
            }
        }
    }

private:
    std::int64_t blocks_;
    int shares_;
    std::atomic<bool> stepped_;
    std::atomic<int> parts_left_[kMaxBlocks];
    std::atomic<bool> taken_[kMaxBlocks];
    std::atomic<bool> summing_[2 * kMaxBlocks];
};

static_assert(kChunkRows <= SparseInput<float>::kMaxRows,
              "a chunk's rows must fit the sparse lists");

template <class T>
class BatchRunner {
public:
    // The rows of one batch: [0, count) of the row list (the data's rows in order when rows is
    // null), with the batch's random streams.
    struct Batch {
        const std::int64_t* rows;
        std::int64_t count;
        Regularizers<T> reg;
        double weight = 0;  // the sum of its rows' sample weights (0: the data have none)

        // What the batch's loss is averaged over: its rows, or their sample weights' sum.
        double divisor() const { return weight > 0 ? weight : static_cast<double>(count); }
    };

    BatchRunner(const MlpSpec& spec, std::int64_t max_batch, bool gather, bool dropout)
        : spec_(spec),
          ws_(scratch<T>().ws),
          scan_zeros_(sparse_first_layer(spec.n_in(), spec.sizes[1])),
          sparse_{&scratch<T>().sparse, &scratch<T>().next_sparse} {
        const std::int64_t rows = std::min(max_batch, kChunkRows);
        ws_.reserve(spec, rows, gather, dropout);
        if (scan_zeros_)
            for (SparseInput<T>* s : sparse_) s->reserve(rows, spec.n_in());
    }

    // Loss totals of the batch's rows and, in grads, the gradient of their mean loss. With
    // `update`, the optimiser steps each range of the parameters as its gradient is finished,
    // unless the loss is not finite. With `next` (the batch to run after this one, with the
    // parameters this step leaves), its forward and backward pass may start in the same pool
    // run as this batch's gradient (Ahead); the next run() then takes them as done.
    LossTotals run(const T* params, const Dataset<T>& data, const Batch& batch, T* grads,
                   const BatchUpdate<T>* update = nullptr, const Batch* next = nullptr) {
        const std::int64_t count = batch.count, width = data.n_cols;
        const Mode mode = mode_of(data, batch.reg);
        SparseInput<T>& sparse = *sparse_[current_];
        if (mode.scan_zeros && !prepared_) sparse.select(mode.listed ? data.nonzeros : nullptr);
        LossTotals totals;
        for (std::int64_t lo = 0, chunk = 0; lo < count; lo += kChunkRows, ++chunk) {
            Chunk& c = chunk_;
            if (prepared_) {
                prepared_ = false;  // the previous run did this chunk's forward and backward
            } else {
                c = plan(data, batch, mode, lo, chunk);
                forward_backward(params, data, mode, c, sparse);
            }
            for (std::int64_t b = 0; b < c.blocks; ++b) {
                totals.loss_sum += c.parts[b].loss_sum;
                totals.correct += c.parts[b].correct;
            }
            std::int64_t chunk_nonzeros = 0;
            for (std::int64_t b = 0; b < c.blocks; ++b) chunk_nonzeros += c.nonzeros[b];
            const bool sparse_chunk = mode.scan_zeros && sparse.worth_it(chunk_nonzeros, c.n);
            if (!sparse_chunk && c.x == ws_.input) {
                // The dense weight gradient reads every row: copy those the sparse blocks skipped.
                for (std::int64_t b = 0; b < c.blocks; ++b) {
                    const auto [r0, m] = c.block(b);
                    if (!c.gathered[b])
                        gather_rows(data, batch.rows, lo + r0, lo + r0 + m, ws_.input + r0 * width,
                                    c.reg, stream_of(c, b));
                }
            }
            // The step goes with the last chunk's gradient, once the batch's loss is known
            // to be finite (a diverged batch is not applied).
            const bool step = update && lo + c.n == count && std::isfinite(totals.loss_sum);
            const GradientReady ready = [&](std::size_t begin, std::size_t end, bool threaded) {
                update->apply(begin, end, threaded);
            };
            // The next batch's chunk may start in this gradient's pool run.
            Ahead ahead;
            const bool try_ahead = step && next && c.by_parts && c.n == count &&
                                   start_ahead(ahead, params, data, *next);
            const bool ran_ahead = mlp_weight_gradients(
                spec_, c.x, width, c.n, ws_, grads, lo > 0, sparse_chunk ? &sparse : nullptr,
                step ? &ready : nullptr, try_ahead ? &ahead.then : nullptr);
            if (ran_ahead) {
                chunk_ = ahead.chunk;
                prepared_ = true;
                current_ = 1 - current_;
            }
        }
        return totals;
    }

private:
    // What a batch's settings and data allow.
    struct Mode {
        bool dropout, noise, with_a, scan_zeros, listed;
    };
    // One chunk of a batch's rows, as its blocks see them.
    struct Chunk {
        const std::int64_t* rows;      // the batch's row list (null: the data's rows in order)
        std::int64_t lo, n, blocks;    // first row in the batch, rows, blocks
        std::int64_t index;            // chunk number in the batch
        const T* x;                    // its input rows: in place, or gathered in ws_.input
        T scale;                       // 1 / the batch's rows (or its sample weights' sum)
        Regularizers<T> reg;
        bool by_parts = false;         // first layer summed by parts (run_blocks_by_parts)
        LossTotals parts[kMaxBlocks];
        std::int64_t nonzeros[kMaxBlocks] = {};
        bool gathered[kMaxBlocks] = {};

        std::pair<std::int64_t, std::int64_t> block(std::int64_t b) const {
            return block_rows(n, blocks, b);
        }
    };

    // The next batch's only chunk, started in this batch's gradient run when that run has two
    // tasks, one per part of the first layer (mlp_weight_gradients' `then`): task t, once it
    // has stepped the weights of part t's columns (and task 0 the other layers'), sums part t
    // of the next chunk's first layer, reading the columns whose weights this thread has just
    // written, then runs the next chunk's blocks as they become ready (ReadyBlocks).
    struct Ahead {
        Chunk chunk;
        std::optional<ReadyBlocks> ready;
        std::function<void(int)> then;
    };

    // Sets up `ahead` for batch `next` if its chunk can start early: one chunk, the data's
    // index, every block sparse enough. Its lists go to the other SparseInput (this batch's
    // gradient still reads the current one's).
    bool start_ahead(Ahead& ahead, const T* params, const Dataset<T>& data, const Batch& next) {
        const Mode mode = mode_of(data, next.reg);
        if (!mode.listed || next.count > kChunkRows) return false;
        SparseInput<T>& sparse = *sparse_[1 - current_];
        sparse.select(data.nonzeros);
        Chunk& c = ahead.chunk;
        c = plan(data, next, mode, 0, 0);
        c.by_parts = all_blocks_sparse(c, sparse);
        if (!c.by_parts) return false;
        ahead.ready.emplace(c.blocks, 1, true);
        ahead.then = [this, &ahead, &sparse, params, &data, mode](int t) {
            ReadyBlocks& ready = *ahead.ready;
            if (t == 0) ready.step_done();
            ready.summing(t);
            for (std::int64_t b = 0; b < ahead.chunk.blocks; ++b) {
                sum_part(params, ahead.chunk, sparse, t, b);
                ready.part_done(b);
            }
            // The next gradient's column lists for these columns, built here rather than in
            // the next run: while the other thread sums its part, this one would only wait.
            sparse.build_part_columns(t, ahead.chunk.n);
            ready.run_ready(
                [&](std::int64_t b) { run_block(params, data, mode, ahead.chunk, sparse, b); });
        };
        return true;
    }

    Mode mode_of(const Dataset<T>& data, const Regularizers<T>& reg) const {
        Mode m;
        m.dropout = reg.settings && reg.settings->dropout > T(0) && spec_.n_layers() > 1;
        m.noise = reg.settings && reg.settings->input_noise > T(0);
        m.with_a = needs_output_activations(spec_.loss);
        // Noise makes every input non-zero: no point looking for zeros.
        m.scan_zeros = scan_zeros_ && !m.noise;
        m.listed = m.scan_zeros && data.nonzeros && !data.nonzeros->empty();
        return m;
    }

    Chunk plan(const Dataset<T>& data, const Batch& batch, const Mode& mode, std::int64_t lo,
               std::int64_t index) const {
        Chunk c;
        c.rows = batch.rows;
        c.lo = lo;
        c.n = std::min(kChunkRows, batch.count - lo);
        c.blocks = row_blocks(c.n);
        c.index = index;
        // Rows in order and no noise: the caller's array is read in place.
        c.x = (!batch.rows && !mode.noise) ? data.x + lo * data.n_cols : ws_.input;
        // The batch's mean loss: over its rows, or weighted by the rows' sample weights.
        // (in double for a weight sum, which may lie beyond T's range; T's own division for the
        // rows, the bits of every earlier release)
        c.scale = batch.weight > 0 ? static_cast<T>(1.0 / batch.weight) : T(1) / static_cast<T>(batch.count);
        c.reg = batch.reg;
        return c;
    }

    static std::uint64_t stream_of(const Chunk& c, std::int64_t b) {
        return static_cast<std::uint64_t>(c.index * kMaxBlocks + b);
    }

    // The chunk's forward pass, loss and backward pass down to the first layer's delta, block
    // by block: with the data's index and threads to share the work, the first layer summed by
    // parts (run_blocks_by_parts) when every block is sparse enough; otherwise each block on its
    // own.
    void forward_backward(const T* params, const Dataset<T>& data, const Mode& mode, Chunk& c,
                          SparseInput<T>& sparse) {
        c.by_parts = mode.listed && usable_threads() >= 2 && all_blocks_sparse(c, sparse);
        if (c.by_parts) {
            run_blocks_by_parts(params, data, mode, c, sparse);
        } else {
            run_blocks(c.blocks,
                       [&](std::int64_t b) { run_block(params, data, mode, c, sparse, b); });
        }
    }

    // Records the index's lists of the chunk's rows and each block's non-zeros; whether every
    // block is sparse enough for them (as each would decide alone).
    static bool all_blocks_sparse(Chunk& c, SparseInput<T>& sparse) {
        bool all = true;
        for (std::int64_t b = 0; b < c.blocks; ++b) {
            const auto [r0, m] = c.block(b);
            const std::int64_t* source = c.rows ? c.rows + c.lo + r0 : nullptr;
            c.nonzeros[b] = sparse.use_index(source, c.lo + r0, r0, m);
            all = all && sparse.worth_it(c.nonzeros[b], m);
        }
        return all;
    }

    // Part `part` of the first layer's product for block b of the chunk.
    void sum_part(const T* params, const Chunk& c, const SparseInput<T>& sparse, int part,
                  std::int64_t b) {
        const auto [r0, m] = c.block(b);
        first_layer_part(spec_, params, part, r0, m, ws_, sparse);
    }

    // The blocks of a sparse chunk (lists recorded) with the first layer's two parts summed by
    // different threads, in one pool run: each task sums one part for a share of the blocks
    // (with two threads, thread t part t of every block), then runs the blocks that are ready
    // (ReadyBlocks).
    void run_blocks_by_parts(const T* params, const Dataset<T>& data, const Mode& mode, Chunk& c,
                             SparseInput<T>& sparse) {
        const int shares =
            static_cast<int>(std::clamp<std::int64_t>(usable_threads() / 2, 1, c.blocks));
        ReadyBlocks ready(c.blocks, shares, false);
        ThreadPool::instance().run(2 * shares, [&](int t) {
            ready.summing(t);
            for (std::int64_t b = t / 2; b < c.blocks; b += shares) {
                sum_part(params, c, sparse, t % 2, b);
                ready.part_done(b);
            }
            ready.run_ready([&](std::int64_t b) { run_block(params, data, mode, c, sparse, b); });
        });
    }

    // Block b of the chunk: the rest of its forward pass, its loss and its backward pass. With
    // c.by_parts, its first layer's parts are already summed.
    void run_block(const T* params, const Dataset<T>& data, const Mode& mode, Chunk& c,
                   SparseInput<T>& sparse, std::int64_t b) {
        const std::size_t last = spec_.n_layers() - 1;
        const std::int64_t k = spec_.n_out(), width = data.n_cols;
        const auto [r0, m] = c.block(b);
        const std::int64_t lo = c.lo;
        const std::uint64_t stream = stream_of(c, b);
        // Whether the first layer skips zeros depends on this block's data only, so the choice
        // (and the result) is the same for any thread count. Without input noise the rows are
        // scanned where they are (or their lists taken from the data's index), and copied only
        // for the GEMM.
        bool use_lists = c.by_parts;
        if (mode.scan_zeros && !c.by_parts) {
            if (mode.listed)
                c.nonzeros[b] = sparse.use_index(c.rows ? c.rows + lo + r0 : nullptr, lo + r0, r0, m);
            else if (c.x == ws_.input)
                c.nonzeros[b] = sparse.scan_rows(data.x, width, c.rows + lo + r0, r0, m);
            else
                c.nonzeros[b] = sparse.scan_rows(c.x + r0 * width, width, nullptr, r0, m);
            use_lists = sparse.worth_it(c.nonzeros[b], m);
        }
        c.gathered[b] = c.x == ws_.input && !use_lists;
        if (c.gathered[b])
            gather_rows(data, c.rows, lo + r0, lo + r0 + m, ws_.input + r0 * width, c.reg, stream);
        if (mode.dropout) fill_dropout_masks(spec_, r0, m, ws_, c.reg, stream);
        mlp_forward(spec_, params, c.x + r0 * width, width, r0, m, ws_, mode.dropout,
                    use_lists ? &sparse : nullptr, c.by_parts);
        T* z = ws_.z[last] + r0 * k;
        T* a = mode.with_a ? ws_.a[last] + r0 * k : nullptr;
        if (mode.with_a) output_forward(spec_.output, z, a, m, k);
        LossBatch<T> rows{z, m, k, data.targets, c.rows ? c.rows + lo + r0 : nullptr, lo + r0};
        rows.clip_log_loss = c.reg.settings && c.reg.settings->clip_log_loss;
        c.parts[b] = loss_forward_backward(spec_.output, spec_.loss, rows, a,
                                           ws_.delta[last] + r0 * k, c.scale);
        mlp_backward_data(spec_, params, r0, m, ws_, mode.dropout);
    }

    const MlpSpec& spec_;
    MlpWorkspace<T>& ws_;
    bool scan_zeros_;  // the input is wide enough to look for zeros
    // The chunk's input non-zeros, and the next batch's when it starts in this one's gradient
    // run (its lists must not replace the ones this gradient reads): they swap every time.
    SparseInput<T>* sparse_[2];
    int current_ = 0;
    Chunk chunk_;            // the chunk being run, or prepared for the next run()
    bool prepared_ = false;  // chunk_ has had its forward and backward pass
};

}  // namespace

template <class T>
void check_train_settings(const TrainSettings<T>& s, const OptimizerState<T>& state) {
    require(s.batch_size >= 1, "train_epoch: batch_size must be >= 1 (got ", s.batch_size, ")");
    require(s.dropout >= T(0) && s.dropout < T(1), "train_epoch: dropout must be in [0, 1) (got ",
            s.dropout, ")");
    require(std::isfinite(s.input_noise) && s.input_noise >= T(0),
            "train_epoch: input_noise must be a finite number >= 0 (got ", s.input_noise, ")");
    require(std::isfinite(s.max_norm) && s.max_norm >= T(0),
            "train_epoch: max_norm must be a finite number >= 0 (got ", s.max_norm, ")");
    if (s.rule == UpdateRule::sgd) {
        check_sgd_params(s.sgd, state.velocity != nullptr);
    } else {
        require(state.velocity != nullptr && state.second_moment != nullptr,
                "train_epoch: Adam needs both moment buffers");
        require(state.steps >= 0, "train_epoch: the Adam step count must be >= 0 (got ",
                state.steps, ")");
        check_adam_params(adam_params_at<T>(s.adam.lr, s.adam.beta1, s.adam.beta2, s.adam.eps,
                                            s.adam.weight_decay, s.adam.l1, state.steps + 1));
    }
}

namespace {

// A buffer of n values in `buffer`, starting at a page offset as far as possible from those of
// `others`. The update streams params, gradient and optimiser state in lockstep; where two of
// them share an offset within a 4 KiB page, loads falsely wait on stores to the other array
// ("4K aliasing"): Adam on 78,400 float32 weights took 45 instead of 31 us.
template <class T>
T* place_apart(AlignedBuffer<T>& buffer, std::size_t n, std::initializer_list<const T*> others) {
    constexpr std::uintptr_t kPage = 4096, kLine = 64;
    T* base = buffer.reserve(n + kPage / sizeof(T));  // 64-byte aligned
    const auto page_offset = [&](const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kPage; };
    std::uintptr_t best_shift = 0, best_gap = 0;
    for (std::uintptr_t shift = 0; shift < kPage; shift += kLine) {
        std::uintptr_t gap = kPage;
        for (const T* other : others) {
            if (!other) continue;
            const std::uintptr_t d = (page_offset(base) + shift + kPage - page_offset(other)) % kPage;
            gap = std::min(gap, std::min(d, kPage - d));
        }
        if (gap > best_gap) best_gap = gap, best_shift = shift;
    }
    return base + best_shift / sizeof(T);
}

}  // namespace

template <class T>
EpochResult train_epoch(const MlpSpec& spec, T* params, OptimizerState<T>& state,
                        const Dataset<T>& data, const std::int64_t* rows, std::int64_t n_rows,
                        const TrainSettings<T>& s) {
    check_spec(spec);
    check_train_settings(s, state);
    std::vector<std::int64_t> order(static_cast<std::size_t>(n_rows));
    if (rows) std::copy(rows, rows + n_rows, order.begin());
    else std::iota(order.begin(), order.end(), std::int64_t(0));
    if (s.shuffle) {
        Rng rng(stream_seed(s.seed, s.epoch, kShuffle));
        for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.below(i)]);
    }
    const std::int64_t batch_size = std::min(s.batch_size, std::max<std::int64_t>(n_rows, 1));
    BatchRunner<T> runner(spec, batch_size, true, s.dropout > T(0));
    AlignedBuffer<T> own_grads;
    const bool keep = spec.n_parameters() * sizeof(T) <= kKeptGradientBytes;
    T* grads = place_apart(keep ? scratch<T>().grads : own_grads, spec.n_parameters(),
                           {params, state.velocity, state.second_moment});

    using Batch = typename BatchRunner<T>::Batch;
    // Batch b holds rows [b * batch_size, ...) of the order, with the sum of their sample weights
    // when the data have weights. A batch whose weights sum to 0 has no weighted mean loss: it is
    // skipped (no step), as if its rows were not there.
    const T* weights = data.targets.weights;
    const std::int64_t n_batches = (n_rows + batch_size - 1) / batch_size;
    auto batch_at = [&](std::int64_t b) {
        const std::int64_t begin = b * batch_size, count = std::min(batch_size, n_rows - begin);
        double weight = 0;
        if (weights)
            for (std::int64_t i = begin; i < begin + count; ++i) weight += static_cast<double>(weights[order[i]]);
        return Batch{order.data() + begin, count, {&s, b}, weight};
    };
    // The first batch from b on that is not skipped, into `out`; n_batches if none.
    auto runnable_from = [&](std::int64_t b, Batch& out) {
        for (; b < n_batches; ++b) {
            out = batch_at(b);
            if (!weights || out.weight > 0) break;
        }
        return b;
    };
    EpochResult result;
    Batch current{};
    for (std::int64_t b = runnable_from(0, current); b < n_batches;) {
        const std::int64_t count = current.count;
        // scikit-learn's alpha / batch_size (decay_per_row) becomes alpha / the weights' sum.
        const BatchUpdate<T> update(spec, params, grads, state, s, current.divisor());
        // The next batch may start in this one's gradient run, unless the max-norm constraint
        // still has to change the weights after the step.
        Batch next{};
        const std::int64_t next_b = runnable_from(b + 1, next);
        const bool has_next = next_b < n_batches && s.max_norm == T(0);
        const LossTotals totals = runner.run(params, data, current, grads, &update,
                                             has_next ? &next : nullptr);
        const double mean = totals.loss_sum / current.divisor();
        if (!std::isfinite(mean)) {  // the step was not applied
            result.diverged = true;
            break;
        }
        if (s.rule == UpdateRule::adam) ++state.steps;
        if (s.max_norm > T(0)) apply_max_norm(spec, params, s.max_norm);
        // With weights, scikit-learn's epoch loss sums each batch's weighted mean times its rows.
        result.loss_sum += weights ? mean * static_cast<double>(count) : totals.loss_sum;
        result.correct += totals.correct;
        result.rows += count;
        ++result.batches;
        result.penalty_batches += static_cast<double>(count) / current.divisor();
        b = next_b;
        current = next;
    }
    return result;
}

template <class T>
LossTotals evaluate(const MlpSpec& spec, const T* params, const Dataset<T>& data,
                    const std::int64_t* rows, std::int64_t n_rows) {
    check_spec(spec);
    const std::size_t last = spec.n_layers() - 1;
    const bool with_a = needs_output_activations(spec.loss);
    MlpWorkspace<T> ws;
    ws.reserve(spec, std::min(n_rows, kChunkRows), rows != nullptr, false);
    LossTotals totals;
    for (std::int64_t begin = 0; begin < n_rows; begin += kChunkRows) {
        const std::int64_t n = std::min(n_rows - begin, kChunkRows);
        const T* x = data.x + begin * data.n_cols;
        if (rows) {
            gather_rows(data, rows, begin, begin + n, ws.input, Regularizers<T>{}, 0);
            x = ws.input;
        }
        mlp_forward(spec, params, x, data.n_cols, 0, n, ws, false);
        T* a = with_a ? ws.a[last] : nullptr;
        if (with_a) output_forward(spec.output, ws.z[last], a, n, spec.n_out());
        LossBatch<T> batch{ws.z[last], n, spec.n_out(), data.targets, rows ? rows + begin : nullptr,
                           begin};
        const LossTotals part =
            loss_forward_backward<T>(spec.output, spec.loss, batch, a, nullptr, T(1));
        totals.loss_sum += part.loss_sum;
        totals.correct += part.correct;
    }
    return totals;
}

template <class T>
double loss_and_gradients(const MlpSpec& spec, const T* params, const Dataset<T>& data, T* grads) {
    check_spec(spec);
    require(data.n_rows >= 1, "loss_and_grads: X must have at least one row");
    BatchRunner<T> runner(spec, data.n_rows, false, false);
    const LossTotals totals = runner.run(params, data, {nullptr, data.n_rows, Regularizers<T>{}}, grads);
    return totals.loss_sum / static_cast<double>(data.n_rows);
}

template <class T, class In>
void predict_output(const MlpSpec& spec, const T* params, const In* x, std::int64_t n_rows, T* out,
                    const float* params32) {
    check_spec(spec);
    constexpr bool widen = !std::is_same_v<In, T>;
    const std::size_t last = spec.n_layers() - 1;
    const std::int64_t k = spec.n_out(), width = spec.n_in();
    const std::int64_t max_rows = std::min(n_rows, kChunkRows);
    MlpWorkspace<T>& ws = scratch<T>().ws;
    // Narrower inputs are widened into the workspace for the blocks that take the GEMM.
    ws.reserve(spec, max_rows, widen, false);
    // As in training, each block of a chunk takes the first layer's index lists when its rows
    // are sparse enough; a row's output is computed the same way in any block (up to float64
    // rounding on the dense path, which the estimators predict with).
    SparseInput<T>* sparse = nullptr;
    if (sparse_first_layer(width, spec.sizes[1])) {
        sparse = &scratch<T>().sparse;
        sparse->reserve(max_rows, width);
    }
    for (std::int64_t begin = 0; begin < n_rows; begin += kChunkRows) {
        const std::int64_t n = std::min(n_rows - begin, kChunkRows);
        const std::int64_t blocks = row_blocks(n);
        const In* xc = x + begin * width;
        auto block = [&](std::int64_t b) {
            const auto [r0, m] = block_rows(n, blocks, b);
            const In* xb = xc + r0 * width;
            const bool lists = sparse && sparse->worth_it(sparse->scan_rows(xb, width, nullptr, r0, m), m);
            const T* in = nullptr;  // the dense path's rows (the lists need none)
            if constexpr (widen) {
                T* wide = ws.input + r0 * width;
                if (!lists) std::copy(xb, xb + m * width, wide);
                in = wide;
            } else {
                in = xb;
            }
            // From float32 weights, the sparse first layer's two parts are summed here, reading
            // them as they are (float64 predict of 2,000 digits, 784-100-10: 2.5 -> 1.8 ms).
            const bool narrow = lists && params32 != nullptr;
            if (narrow)
                for (int part = 0; part < 2; ++part)
                    first_layer_part(spec, params, part, r0, m, ws, *sparse, params32);
            mlp_forward(spec, params, in, width, r0, m, ws, false, lists ? sparse : nullptr, narrow);
            output_forward(spec.output, ws.z[last] + r0 * k, out + (begin + r0) * k, m, k);
        };
        run_blocks(blocks, block);
    }
}

template <class T>
void apply_max_norm(const MlpSpec& spec, T* params, T max_norm) {
    std::vector<T> factor;
    for (std::size_t l = 0; l < spec.n_layers(); ++l) {
        const std::int64_t n_i = spec.sizes[l], n_o = spec.sizes[l + 1];
        T* w = params + spec.weight_offset(l);
        factor.assign(static_cast<std::size_t>(n_o), T(0));
        for (std::int64_t i = 0; i < n_i; ++i)
            for (std::int64_t j = 0; j < n_o; ++j) factor[j] += w[i * n_o + j] * w[i * n_o + j];
        bool any = false;
        for (auto& f : factor) {
            const T norm = std::sqrt(f);
            f = norm > max_norm ? max_norm / norm : T(1);
            any = any || f != T(1);
        }
        if (!any) continue;
        for (std::int64_t i = 0; i < n_i; ++i)
            for (std::int64_t j = 0; j < n_o; ++j) w[i * n_o + j] *= factor[j];
    }
}

#define MLPCORE_INSTANTIATE(T)                                                                   \
    template void check_train_settings<T>(const TrainSettings<T>&, const OptimizerState<T>&);   \
    template EpochResult train_epoch<T>(const MlpSpec&, T*, OptimizerState<T>&,                  \
                                        const Dataset<T>&, const std::int64_t*, std::int64_t,    \
                                        const TrainSettings<T>&);                                \
    template LossTotals evaluate<T>(const MlpSpec&, const T*, const Dataset<T>&,                 \
                                    const std::int64_t*, std::int64_t);                          \
    template double loss_and_gradients<T>(const MlpSpec&, const T*, const Dataset<T>&, T*);      \
    template void predict_output<T, T>(const MlpSpec&, const T*, const T*, std::int64_t, T*,     \
                                       const float*);                                            \
    template void apply_max_norm<T>(const MlpSpec&, T*, T);
MLPCORE_INSTANTIATE(float)
MLPCORE_INSTANTIATE(double)
#undef MLPCORE_INSTANTIATE
template void predict_output<double, float>(const MlpSpec&, const double*, const float*,
                                            std::int64_t, double*, const float*);

}  // namespace mlpcore
