// Output layers and their losses: the value of a batch's loss and its gradient with respect to
// the output layer's pre-activation Z (the "output delta" backpropagation starts from).
//
// Reductions follow PyTorch's defaults so results can be checked against it:
//   cross_entropy          softmax outputs, mean over samples of -sum_j y_j log softmax(z)_j
//                          (CrossEntropyLoss; y one class index or a row of probabilities)
//   binary_cross_entropy   sigmoid outputs, mean over all elements of
//                          -(y log s(z) + (1 - y) log(1 - s(z))) (BCELoss), computed from z as
//                          max(z, 0) - y z + log1p(exp(-|z|)), so it never takes log(0)
//   mse / mae              mean over all elements of (a - y)^2 / |a - y| (MSELoss, L1Loss)
//   hinge                  k >= 2 outputs: mean over samples of sum_{j != y} max(0, 1 - a_y + a_j) / k
//                          (MultiMarginLoss); one output: mean of max(0, 1 - t a), t = 2y - 1
//   poisson                exp outputs (a = exp(z), the log link), mean over all elements of the
//                          half Poisson deviance y log(y / a) - y + a (PoissonNLLLoss with
//                          log_input and full=False, plus the constant y log y - y that makes a
//                          perfect fit 0, as scikit-learn's poisson_loss)
// where a is the output activation. Softmax + cross-entropy, sigmoid + BCE and exp + Poisson are
// fused (dZ = (a - y) / scale); the other pairs go through dA and the output activation's
// derivative.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlpcore {

enum class OutputKind { identity, sigmoid, softmax, exp };
enum class LossKind { cross_entropy, binary_cross_entropy, mse, mae, hinge, poisson };

const char* output_name(OutputKind kind);
const char* loss_name(LossKind kind);
// cross_entropy needs softmax outputs, binary_cross_entropy sigmoid outputs and poisson exp
// outputs; throws invalid_argument otherwise.
void check_output_loss(OutputKind output, LossKind loss, std::int64_t n_out);
// Losses whose targets are classes (accuracy is defined for them).
bool is_classification(LossKind loss);
// Whether the loss reads class indices (labels) rather than dense target rows.
bool loss_takes_labels(LossKind loss, std::int64_t n_out);

// Targets of a data set: one class index per row (cross_entropy, hinge, and one-output
// binary_cross_entropy / hinge with labels 0/1), or dense rows of n_out values; optionally a
// weight per row (scikit-learn's sample_weight), which multiplies the row's loss and gradient.
template <class T>
struct Targets {
    const std::int32_t* labels = nullptr;
    const T* values = nullptr;
    const T* weights = nullptr;
};

// A batch of output pre-activations z (rows x k, C order). The targets of batch row r are
// target row rows[r] (or first_row + r when rows is null).
template <class T>
struct LossBatch {
    const T* z = nullptr;
    std::int64_t n_rows = 0, k = 0;
    Targets<T> targets;
    const std::int64_t* rows = nullptr;
    std::int64_t first_row = 0;
    // Report each log-loss term (cross_entropy, binary_cross_entropy) as scikit-learn does, with
    // the probability clipped to [eps, 1 - eps] (float64's eps), so a term is at most
    // -log(eps) = 36.04; the gradient is the exact one either way.
    bool clip_log_loss = false;

    std::int64_t target_row(std::int64_t r) const { return rows ? rows[r] : first_row + r; }
};

struct LossTotals {
    double loss_sum = 0;  // sum over rows of each row's loss (mean over its elements where the
                          // reduction is over elements; times the row's weight when there are
                          // weights), so loss_sum / n_rows is the mean loss (loss_sum / the
                          // weights' sum the weighted mean)
    std::int64_t correct = 0;  // rows classified correctly (classification losses)
};

// Output activations of z into a (rows x k); a may alias nothing else.
template <class T>
void output_forward(OutputKind output, const T* z, T* a, std::int64_t n_rows, std::int64_t k);

// Loss of the batch, with a = output_forward(z) already computed (a may be null for the fused
// pairs, cross_entropy, binary_cross_entropy and poisson, which work from z). When dz is non-null it
// receives d(loss_sum * grad_scale) / dz: pass grad_scale = 1 / n_rows for the batch mean (or
// 1 / the sum of the rows' weights for the weighted mean).
template <class T>
LossTotals loss_forward_backward(OutputKind output, LossKind loss, const LossBatch<T>& batch,
                                 const T* a, T* dz, T grad_scale);

}  // namespace mlpcore
