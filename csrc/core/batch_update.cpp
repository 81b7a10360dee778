#include "batch_update.hpp"

#include <algorithm>

#include "adam.hpp"
#include "kernel_table.hpp"
#include "sgd.hpp"

namespace mlpcore {

template <class T>
BatchUpdate<T>::BatchUpdate(const MlpSpec& spec, T* params, const T* grads,
                            const OptimizerState<T>& state, const TrainSettings<T>& s,
                            double rows)
    : spec_(spec),
      params_(params),
      grads_(grads),
      first_(state.velocity),
      second_(state.second_moment),
      adam_(s.rule == UpdateRule::adam) {
    // scikit-learn's alpha / batch_size: the decay is divided by the batch's own rows.
    const double rows_divisor = s.decay_per_row ? rows : 1.0;
    if (!adam_) {
        sgd_weights_ = sgd_biases_ = s.sgd;
        sgd_weights_.weight_decay = s.sgd.weight_decay / static_cast<T>(rows_divisor);
        sgd_biases_.weight_decay = T(0);
        sgd_biases_.l1 = T(0);
        if (!sgd_weights_.use_momentum) first_ = nullptr;
        check_sgd_params(sgd_weights_, first_ != nullptr);
        return;
    }
    const std::int64_t step = state.steps + 1;
    const AdamSettings& a = s.adam;
    adam_weights_ = adam_params_at<T>(a.lr, a.beta1, a.beta2, a.eps, a.weight_decay / rows_divisor,
                                      a.l1, step);
    adam_biases_ = adam_params_at<T>(a.lr, a.beta1, a.beta2, a.eps, 0.0, 0.0, step);
    check_adam_params(adam_weights_);
    check_adam_params(adam_biases_);
}

template <class T>
void BatchUpdate<T>::apply(std::size_t begin, std::size_t end, bool threaded) const {
    // Cut the range at the layers' weight / bias boundaries.
    for (std::size_t l = 0; l < spec_.n_layers() && begin < end; ++l) {
        const std::size_t b = spec_.bias_offset(l), next = spec_.weight_offset(l + 1);
        if (begin < b) {
            const std::size_t stop = std::min(end, b);
            step(begin, stop - begin, true, threaded);
            begin = stop;
        }
        if (begin < next && begin < end) {
            const std::size_t stop = std::min(end, next);
            step(begin, stop - begin, false, threaded);
            begin = stop;
        }
    }
}

template <class T>
void BatchUpdate<T>::step(std::size_t offset, std::size_t n, bool weights, bool threaded) const {
    T* w = params_ + offset;
    const T* g = grads_ + offset;
    T* m = first_ ? first_ + offset : nullptr;
    if (adam_) {
        const AdamParams<T>& p = weights ? adam_weights_ : adam_biases_;
        T* v = second_ + offset;
        if (threaded) adam_update(w, g, m, v, n, p);
        else active_kernels<T>().adam_step(w, g, m, v, n, p);
    } else {
        const SgdParams<T>& p = weights ? sgd_weights_ : sgd_biases_;
        if (threaded) sgd_update(w, g, m, n, p);
        else active_kernels<T>().sgd_step(w, g, m, n, p);
    }
}

template class BatchUpdate<float>;
template class BatchUpdate<double>;

}  // namespace mlpcore
