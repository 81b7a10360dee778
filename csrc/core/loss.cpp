#include "loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "activation.hpp"
#include "check.hpp"

namespace mlpcore {

const char* output_name(OutputKind kind) {
    switch (kind) {
        case OutputKind::identity: return "identity";
        case OutputKind::sigmoid: return "sigmoid";
        case OutputKind::softmax: return "softmax";
        case OutputKind::exp: return "exp";
    }
    return "?";
}

const char* loss_name(LossKind kind) {
    switch (kind) {
        case LossKind::cross_entropy: return "cross_entropy";
        case LossKind::binary_cross_entropy: return "binary_cross_entropy";
        case LossKind::mse: return "mse";
        case LossKind::mae: return "mae";
        case LossKind::hinge: return "hinge";
        case LossKind::poisson: return "poisson";
    }
    return "?";
}

void check_output_loss(OutputKind output, LossKind loss, std::int64_t n_out) {
    require(n_out >= 1, "mlp: the output layer needs at least one unit (got ", n_out, ")");
    require(loss != LossKind::cross_entropy || output == OutputKind::softmax,
            "mlp: loss 'cross_entropy' needs output 'softmax' (got '", output_name(output), "')");
    require(loss != LossKind::binary_cross_entropy || output == OutputKind::sigmoid,
            "mlp: loss 'binary_cross_entropy' needs output 'sigmoid' (got '", output_name(output),
            "')");
    require(loss != LossKind::poisson || output == OutputKind::exp,
            "mlp: loss 'poisson' needs output 'exp' (got '", output_name(output), "')");
    require(output != OutputKind::softmax || n_out >= 2,
            "mlp: output 'softmax' needs at least 2 output units (got ", n_out, ")");
}

bool is_classification(LossKind loss) {
    return loss == LossKind::cross_entropy || loss == LossKind::binary_cross_entropy ||
           loss == LossKind::hinge;
}

bool loss_takes_labels(LossKind loss, std::int64_t n_out) {
    return loss == LossKind::hinge || (loss == LossKind::cross_entropy) ||
           (loss == LossKind::binary_cross_entropy && n_out == 1);
}

template <class T>
void output_forward(OutputKind output, const T* z, T* a, std::int64_t n_rows, std::int64_t k) {
    const auto n = static_cast<std::size_t>(n_rows * k);
    switch (output) {
        case OutputKind::identity: std::copy(z, z + n, a); break;
        case OutputKind::sigmoid: activation_forward(Activation::sigmoid, z, a, n, T(0)); break;
        case OutputKind::softmax:
            softmax(z, a, static_cast<std::size_t>(n_rows), static_cast<std::size_t>(k), false);
            break;
        case OutputKind::exp:
            // Regression outputs are few (rows x targets): libm's exp, correctly rounded enough
            // for predictions checked against float64.
            for (std::size_t i = 0; i < n; ++i) a[i] = std::exp(z[i]);
            break;
    }
}

namespace {

template <class T>
std::int64_t argmax(const T* v, std::int64_t k) {
    std::int64_t best = 0;
    for (std::int64_t j = 1; j < k; ++j)
        if (v[j] > v[best]) best = j;
    return best;
}

template <class T>
T sign(T v) {
    return T(v > T(0)) - T(v < T(0));
}

// Row-wise pieces of each loss. Each returns the row's loss and, when dz is non-null, writes the
// gradient of (row loss * scale) with respect to z (fused pairs) or a (the others; the output
// activation's derivative is applied afterwards).

// A log-loss term -log p clipped as scikit-learn's log_loss clips p to [eps, 1 - eps].
inline double clipped_log_term(double term) {
    constexpr double eps = std::numeric_limits<double>::epsilon();
    static const double low = -std::log1p(-eps), high = -std::log(eps);
    return std::min(std::max(term, low), high);
}

// e: exp(z_j - m) with m = max_j z_j (shifted_exps); it may be dz, which then keeps them for
// the gradient (one exp per class, not two).
template <class T>
double cross_entropy_row(const T* z, const T* e, T m, std::int64_t k, std::int32_t label,
                         const T* y, T* dz, T scale, bool clip) {
    T s = 0;
    for (std::int64_t j = 0; j < k; ++j) s += e[j];
    const T lse = m + std::log(s);
    T y_sum = 1, yz = 0;
    if (y) {
        y_sum = 0;
        for (std::int64_t j = 0; j < k; ++j) {
            y_sum += y[j];
            yz += y[j] * z[j];
        }
    } else {
        yz = z[label];
    }
    double clipped = 0;
    if (clip) {
        // sum_j y_j * clip(lse - z_j), the term of each class its target weighs
        if (y) {
            for (std::int64_t j = 0; j < k; ++j)
                if (y[j] != T(0))
                    clipped += static_cast<double>(y[j]) * clipped_log_term(static_cast<double>(lse - z[j]));
        } else {
            clipped = clipped_log_term(static_cast<double>(lse - z[label]));
        }
    }
    if (dz) {
        for (std::int64_t j = 0; j < k; ++j) {
            const T target = y ? y[j] : T(j == label);
            dz[j] = (dz[j] / s * y_sum - target) * scale;
        }
    }
    return clip ? clipped : static_cast<double>(y_sum * lse - yz);
}

// For each of the rows x k logits z: its row maximum in m[r], and e = exp(z - m[r]), every row's
// exponentials in one vectorised call (a row alone, 10 classes, is too short for the vector
// loop: the batch's softmax cross-entropy went from libm's exp, 10 calls a row, to this).
template <class T>
void shifted_exps(const T* z, std::int64_t rows, std::int64_t k, T* m, T* e) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* zr = z + r * k;
        const T mr = *std::max_element(zr, zr + k);
        m[r] = mr;
        for (std::int64_t j = 0; j < k; ++j) e[r * k + j] = zr[j] - mr;
    }
    exp_nonpositive(e, static_cast<std::size_t>(rows * k));
}

template <class T>
T stable_sigmoid(T z) {
    if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
    const T e = std::exp(z);
    return e / (T(1) + e);
}

template <class T>
double bce_row(const T* z, std::int64_t k, const T* y, std::int32_t label, T* dz, T scale,
               bool clip) {
    double sum = 0;
    const T per = scale / static_cast<T>(k);
    for (std::int64_t j = 0; j < k; ++j) {
        const T t = y ? y[j] : static_cast<T>(label);
        const T tail = std::log1p(std::exp(-std::abs(z[j])));  // softplus(x) = max(x, 0) + tail
        if (clip) {
            // t (-log p) + (1 - t) (-log(1 - p)) with p clipped: -log p = softplus(-z) and
            // -log(1 - p) = softplus(z), each clipped
            const double neg_log_p = clipped_log_term(static_cast<double>(std::max(-z[j], T(0)) + tail));
            const double neg_log_q = clipped_log_term(static_cast<double>(std::max(z[j], T(0)) + tail));
            sum += static_cast<double>(t) * neg_log_p + static_cast<double>(T(1) - t) * neg_log_q;
        } else {
            sum += static_cast<double>(std::max(z[j], T(0)) - t * z[j] + tail);
        }
        if (dz) dz[j] = (stable_sigmoid(z[j]) - t) * per;
    }
    return sum / static_cast<double>(k);
}

// Half the Poisson deviance with the log link, y log(y / a) - y + a for a = exp(z), averaged over
// the row's k outputs; dz = (a - y) * scale / k. The loss is summed in double: y log y - y z and
// exp(z) nearly cancel near a good fit, which float32 would leave as rounding noise.
template <class T>
double poisson_row(const T* z, std::int64_t k, const T* y, T* dz, T scale) {
    double sum = 0;
    const T per = scale / static_cast<T>(k);
    for (std::int64_t j = 0; j < k; ++j) {
        const double zj = static_cast<double>(z[j]), yj = static_cast<double>(y[j]);
        const double a = std::exp(zj);
        const T a_t = static_cast<T>(a);
        // A rate beyond T's range is infinite in T (the gradient and the prediction): so is the
        // loss, which training reports as divergence, though double would hold it.
        sum += std::isinf(a_t) ? a_t : (yj > 0 ? yj * (std::log(yj) - zj) : 0.0) - yj + a;
        if (dz) dz[j] = (a_t - y[j]) * per;
    }
    return sum / static_cast<double>(k);
}

template <class T>
double regression_row(LossKind loss, const T* a, std::int64_t k, const T* y, T* da, T scale) {
    double sum = 0;
    const T per = scale / static_cast<T>(k);
    for (std::int64_t j = 0; j < k; ++j) {
        const T diff = a[j] - y[j];
        if (loss == LossKind::mse) {
            sum += static_cast<double>(diff * diff);
            if (da) da[j] = T(2) * diff * per;
        } else {
            sum += static_cast<double>(std::abs(diff));
            if (da) da[j] = sign(diff) * per;
        }
    }
    return sum / static_cast<double>(k);
}

template <class T>
double hinge_row(const T* a, std::int64_t k, std::int32_t label, T* da, T scale) {
    if (k == 1) {
        const T t = label ? T(1) : T(-1);
        const T margin = T(1) - t * a[0];
        if (da) da[0] = margin > T(0) ? -t * scale : T(0);
        return margin > T(0) ? static_cast<double>(margin) : 0.0;
    }
    double sum = 0;
    const T per = scale / static_cast<T>(k);
    std::int64_t active = 0;
    for (std::int64_t j = 0; j < k; ++j) {
        if (j == label) continue;
        const T margin = T(1) - a[label] + a[j];
        const bool on = margin > T(0);
        if (on) {
            sum += static_cast<double>(margin);
            ++active;
        }
        if (da) da[j] = on ? per : T(0);
    }
    if (da) da[label] = -static_cast<T>(active) * per;
    return sum / static_cast<double>(k);
}

// dz = da * f'(z) for the output activation, written over da.
template <class T>
void output_backward_row(OutputKind output, const T* a, T* d, std::int64_t k) {
    if (output == OutputKind::sigmoid) {
        for (std::int64_t j = 0; j < k; ++j) d[j] *= a[j] * (T(1) - a[j]);
    } else if (output == OutputKind::exp) {
        for (std::int64_t j = 0; j < k; ++j) d[j] *= a[j];
    } else if (output == OutputKind::softmax) {
        T dot = 0;
        for (std::int64_t j = 0; j < k; ++j) dot += d[j] * a[j];
        for (std::int64_t j = 0; j < k; ++j) d[j] = a[j] * (d[j] - dot);
    }
}

template <class T>
bool row_correct(LossKind loss, const T* z, std::int64_t k, std::int32_t label, const T* y) {
    // The class from the pre-activation z, as MLP.predict decides it from the output for every
    // output/loss pair: the argmax (softmax, identity and sigmoid are increasing), or for one
    // output, or sigmoid outputs, the sign (sigmoid(z) > 1/2 exactly when z > 0).
    if (loss == LossKind::binary_cross_entropy || (loss == LossKind::hinge && k == 1)) {
        if (!y) return (z[0] > T(0)) == (label != 0);
        for (std::int64_t j = 0; j < k; ++j)
            if ((z[j] > T(0)) != (y[j] > T(0.5))) return false;
        return true;
    }
    const std::int64_t predicted = argmax(z, k);
    return y ? predicted == argmax(y, k) : predicted == label;
}

}  // namespace

template <class T>
LossTotals loss_forward_backward(OutputKind output, LossKind loss, const LossBatch<T>& batch,
                                 const T* a, T* dz, T grad_scale) {
    LossTotals totals;
    const std::int64_t k = batch.k;
    const bool classify = is_classification(loss);
    // Cross-entropy's exponentials for a group of rows at a time, ahead of their losses: into dz
    // when there is one, else into scratch kept per thread (at most kExpRows rows).
    constexpr std::int64_t kExpRows = 256;
    static thread_local std::vector<T> maxima, scratch;
    const bool exps_first = loss == LossKind::cross_entropy;
    const T* exps = nullptr;  // exps[(r - exps_row0) * k ...]: row r's exponentials
    std::int64_t exps_row0 = 0;
    for (std::int64_t r = 0; r < batch.n_rows; ++r) {
        if (exps_first && r % kExpRows == 0) {
            const std::int64_t rows = std::min(kExpRows, batch.n_rows - r);
            maxima.resize(static_cast<std::size_t>(rows));
            T* e = dz ? dz + r * k : nullptr;
            if (!e) {
                scratch.resize(static_cast<std::size_t>(rows * k));
                e = scratch.data();
            }
            shifted_exps(batch.z + r * k, rows, k, maxima.data(), e);
            exps = e;
            exps_row0 = r;
        }
        const T* z = batch.z + r * k;
        const T* ar = a ? a + r * k : nullptr;
        T* d = dz ? dz + r * k : nullptr;
        const std::int64_t t = batch.target_row(r);
        const std::int32_t label = batch.targets.labels ? batch.targets.labels[t] : 0;
        const T* y = batch.targets.values ? batch.targets.values + t * k : nullptr;
        const T weight = batch.targets.weights ? batch.targets.weights[t] : T(1);
        const T scale = grad_scale * weight;
        double row_loss = 0;
        switch (loss) {
            case LossKind::cross_entropy:
                row_loss = cross_entropy_row(z, exps + (r - exps_row0) * k,
                                             maxima[static_cast<std::size_t>(r - exps_row0)], k,
                                             label, y, d, scale, batch.clip_log_loss);
                break;
            case LossKind::binary_cross_entropy:
                row_loss = bce_row(z, k, y, label, d, scale, batch.clip_log_loss);
                break;
            case LossKind::poisson:
                row_loss = poisson_row(z, k, y, d, scale);
                break;
            case LossKind::mse:
            case LossKind::mae:
                row_loss = regression_row(loss, ar, k, y, d, scale);
                if (d) output_backward_row(output, ar, d, k);
                break;
            case LossKind::hinge:
                row_loss = hinge_row(ar, k, label, d, scale);
                if (d) output_backward_row(output, ar, d, k);
                break;
        }
        totals.loss_sum += static_cast<double>(weight) * row_loss;
        if (classify && row_correct(loss, z, k, label, y)) ++totals.correct;
    }
    return totals;
}

template void output_forward<float>(OutputKind, const float*, float*, std::int64_t, std::int64_t);
template void output_forward<double>(OutputKind, const double*, double*, std::int64_t,
                                     std::int64_t);
template LossTotals loss_forward_backward<float>(OutputKind, LossKind, const LossBatch<float>&,
                                                 const float*, float*, float);
template LossTotals loss_forward_backward<double>(OutputKind, LossKind, const LossBatch<double>&,
                                                  const double*, double*, double);

}  // namespace mlpcore
