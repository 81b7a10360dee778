// The optimiser step of one minibatch (SGD or Adam, for every layer's weights and biases),
// applied to ranges of the flat parameter vector as their gradients become final.
//
// The weight-gradient pass hands each thread's finished range straight to the step
// (mlp_weight_gradients' `ready`), so the step reads a gradient its thread has just written and
// a batch needs one pool run fewer. Both steps are elementwise: any split into ranges gives the
// same bits as one call over the whole vector.
#pragma once

#include <cstddef>
#include <cstdint>

#include "adam_params.hpp"
#include "mlp.hpp"
#include "sgd_params.hpp"
#include "trainer.hpp"

namespace mlpcore {

template <class T>
class BatchUpdate {
public:
    // The step for a batch of `rows` rows (or, with sample weights, of rows whose weights sum
    // to `rows`: what decay_per_row divides the weight decay by), Adam's step number
    // state.steps + 1 (the caller counts it once the step is applied); checks the
    // hyper-parameters (invalid_argument).
    BatchUpdate(const MlpSpec& spec, T* params, const T* grads, const OptimizerState<T>& state,
                const TrainSettings<T>& settings, double rows);

    // Steps parameters [begin, end) of the layout; `threaded`: the work may be spread over the
    // pool (false when the caller is already one of its tasks).
    void apply(std::size_t begin, std::size_t end, bool threaded) const;

private:
    // Steps the n parameters from `offset`, all weights or all biases.
    void step(std::size_t offset, std::size_t n, bool weights, bool threaded) const;

    const MlpSpec& spec_;
    T* params_;
    const T* grads_;
    T* first_;   // SGD's velocity or Adam's first moment (may be null for plain SGD)
    T* second_;  // Adam's second moment
    bool adam_;
    SgdParams<T> sgd_weights_, sgd_biases_;
    AdamParams<T> adam_weights_, adam_biases_;
};

}  // namespace mlpcore
