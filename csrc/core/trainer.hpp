// Training and evaluation loops over a whole data set, in C++ from start to end: one call runs a
// whole epoch (shuffle, minibatch gather, input noise, dropout masks, forward, loss, backward,
// the fused SGD step and max-norm) with no Python in between.
//
// Batches are gathered from the caller's array through a row index list, so training never copies
// the data set; rows are processed in chunks of at most kChunkRows, so memory stays bounded for any
// batch size (full-batch gradient descent included), and each chunk into up to four row blocks
// that run concurrently. Chunks and blocks depend only on the batch size, and every random stream
// is keyed by (seed, epoch, batch, block, layer): the same seed gives the same bits for any
// number of threads.
#pragma once

#include <cstdint>

#include "adam_params.hpp"
#include "input_index.hpp"
#include "mlp.hpp"
#include "sgd_params.hpp"

namespace mlpcore {

inline constexpr std::int64_t kChunkRows = 256;

template <class T>
struct Dataset {
    const T* x = nullptr;  // n_rows x n_cols, C order
    std::int64_t n_rows = 0, n_cols = 0;
    Targets<T> targets;
    // The non-zeros of x, listed in advance (null, or an empty index: found per batch).
    const InputIndex<T>* nonzeros = nullptr;
};

enum class UpdateRule { sgd, adam };

// Adam's hyper-parameters in double: the bias corrections of each step are computed from them.
struct AdamSettings {
    double lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0, l1 = 0;
};

// Optimiser state in the parameter layout: SGD's velocity (when momentum > 0), or Adam's first
// and second moments and the number of Adam steps taken before this epoch.
template <class T>
struct OptimizerState {
    T* velocity = nullptr;
    T* second_moment = nullptr;
    std::int64_t steps = 0;
};

template <class T>
struct TrainSettings {
    std::int64_t batch_size = 32;
    bool shuffle = true;
    std::uint64_t seed = 0;
    std::int64_t epoch = 0;  // keys this epoch's random streams
    UpdateRule rule = UpdateRule::sgd;
    SgdParams<T> sgd;        // for weights; biases take the same step without decay or L1
    AdamSettings adam;       // likewise
    // Divide weight_decay by the rows of each batch (scikit-learn's alpha / batch_size, also
    // for a smaller last batch) rather than using it as it is.
    bool decay_per_row = false;
    // Report the log-loss terms clipped as scikit-learn's log_loss (LossBatch::clip_log_loss).
    bool clip_log_loss = false;
    T max_norm = 0;          // > 0: cap each unit's incoming weight norm after every step
    T dropout = 0;           // probability of dropping a hidden unit (inverted dropout)
    T input_noise = 0;       // standard deviation of Gaussian noise added to the inputs
};

struct EpochResult {
    double loss_sum = 0;       // sum of the rows' losses, each taken before its batch's step
                               // (loss_sum / rows weighs each batch mean by its size; with
                               // sample weights, each batch's weighted mean times its rows)
    std::int64_t batches = 0;  // batches applied
    // Sum over the batches applied of rows / (sum of their sample weights): scikit-learn's
    // alpha / (2 W_B) ||w||^2 penalty of batch B, times its rows, summed, is alpha / 2 ||w||^2
    // times this. Equals batches without sample weights.
    double penalty_batches = 0;
    std::int64_t correct = 0;  // rows classified correctly during training (before each step)
    std::int64_t rows = 0;     // rows trained on
    bool diverged = false;     // a batch loss was NaN or infinite; its step was not applied
};

// Throws invalid_argument for a bad batch size, dropout, noise or max-norm, the SGD or Adam
// checks, or missing optimiser state.
template <class T>
void check_train_settings(const TrainSettings<T>& settings, const OptimizerState<T>& state);

// One epoch over rows[0 .. n_rows) of data (all rows in order when rows is null). SGD needs
// state.velocity when momentum > 0; Adam needs both moments, and advances state.steps by the
// batches applied.
template <class T>
EpochResult train_epoch(const MlpSpec& spec, T* params, OptimizerState<T>& state,
                        const Dataset<T>& data, const std::int64_t* rows, std::int64_t n_rows,
                        const TrainSettings<T>& settings);

// Loss totals (sum of row losses, rows correct) of the given rows, without dropout or noise.
template <class T>
LossTotals evaluate(const MlpSpec& spec, const T* params, const Dataset<T>& data,
                    const std::int64_t* rows, std::int64_t n_rows);

// Mean loss over all rows of data and its exact gradient (parameter layout) in grads.
template <class T>
double loss_and_gradients(const MlpSpec& spec, const T* params, const Dataset<T>& data, T* grads);

// Output activations (n_rows x n_out) of x (n_rows x n_in, C order), computed in T. The inputs
// may be narrower than T (float32 data predicted in float64): they are widened as they are read.
// `params32`, if given, holds the same parameters in float32 (params is their widened copy): the
// first layer's sparse product then reads its weights from it, half the bytes, same bits.
template <class T, class In>
void predict_output(const MlpSpec& spec, const T* params, const In* x, std::int64_t n_rows, T* out,
                    const float* params32 = nullptr);

// W[:, j] *= max_norm / ||W[:, j]|| for every column of every W whose norm exceeds max_norm.
template <class T>
void apply_max_norm(const MlpSpec& spec, T* params, T max_norm);

}  // namespace mlpcore
