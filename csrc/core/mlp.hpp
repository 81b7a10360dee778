// A multilayer perceptron as the core sees it: layer sizes, activations, the output layer and
// its loss, and one flat parameter buffer holding, layer after layer, W_l (sizes[l] x sizes[l+1],
// C order, so a row is one input unit's outgoing weights and a column one unit's incoming
// weights) followed by b_l (sizes[l+1]).
//
// Forward, for layers l = 0 .. L-1 with A_{-1} = X:
//     Z_l = A_{l-1} W_l + b_l,   A_l = f_l(Z_l) * M_l  (M_l the inverted-dropout mask, hidden only)
// Backward, from D_{L-1} = dLoss/dZ_{L-1} (loss.hpp):
//     dW_l = A_{l-1}^T D_l,  db_l = sum over rows of D_l,  D_{l-1} = (D_l W_l^T) * M_{l-1} * f'(Z_{l-1})
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "activation_kind.hpp"
#include "aligned_buffer.hpp"
#include "loss.hpp"
#include "sparse_input.hpp"

namespace mlpcore {

struct MlpSpec {
    std::vector<std::int64_t> sizes;  // n_in, hidden..., n_out
    std::vector<Activation> hidden;   // one per hidden layer
    OutputKind output = OutputKind::softmax;
    LossKind loss = LossKind::cross_entropy;
    double negative_slope = 0.01;  // leaky_relu

    std::size_t n_layers() const { return sizes.size() - 1; }
    std::int64_t n_in() const { return sizes.front(); }
    std::int64_t n_out() const { return sizes.back(); }
    std::size_t weight_offset(std::size_t layer) const;
    std::size_t bias_offset(std::size_t layer) const;
    std::size_t n_parameters() const;
    std::int64_t widest() const;  // widest layer after the input
};

// Throws invalid_argument naming the problem (too few layers, a size < 1, activation count).
void check_spec(const MlpSpec& spec);

// Scratch for one chunk of rows: the gathered input, Z, A, D and dropout masks per layer.
template <class T>
class MlpWorkspace {
public:
    void reserve(const MlpSpec& spec, std::int64_t rows, bool need_input, bool dropout);

    T* input = nullptr;             // rows x n_in
    std::vector<T*> z, a, delta;    // rows x sizes[l + 1] per layer (a of the output layer is
                                    // filled only by callers that need output activations)
    std::vector<T*> mask;           // rows x sizes[l + 1] per hidden layer
    T* upper = nullptr;             // rows x sizes[1]: part 1 of a sparse first layer's product
                                    // (null when the first layer is never sparse)
    std::int64_t rows = 0;

private:
    AlignedBuffer<T> input_, layers_;
};

// Forward through every layer for rows [row0, row0 + rows) of the workspace, from `rows` rows
// of x (row stride ldx). Output pre-activations end in ws.z[L-1]; hidden A_l are multiplied by
// ws.mask[l] when use_masks. With `sparse` (holding these rows' non-zeros, scanned at the same
// row numbers), the first layer's product skips the zeros, and Z_0 = b_0 + (P_0 + P_1) from
// its two parts (sparse_input.hpp); `parts_summed`: first_layer_part has already put them in
// ws.z[0] and ws.upper for these rows. Disjoint row ranges may run concurrently.
template <class T>
void mlp_forward(const MlpSpec& spec, const T* params, const T* x, std::int64_t ldx,
                 std::int64_t row0, std::int64_t rows, MlpWorkspace<T>& ws, bool use_masks,
                 const SparseInput<T>* sparse = nullptr, bool parts_summed = false);

// Part `part` (0 or 1) of the sparse first layer's product X W_0 for rows [row0, row0 + rows):
// P_0 into ws.z[0], P_1 into ws.upper. With `params32` (the same parameters in float32, params
// their widened copy), W_0 is read from it, widened as it is loaded: the same bits. The parts
// of the same rows may run concurrently.
template <class T>
void first_layer_part(const MlpSpec& spec, const T* params, int part, std::int64_t row0,
                      std::int64_t rows, MlpWorkspace<T>& ws, const SparseInput<T>& sparse,
                      const float* params32 = nullptr);

// Propagate ws.delta[L-1] down to ws.delta[0] for rows [row0, row0 + rows) (the input layer's
// own input gradient is never needed). Disjoint row ranges may run concurrently.
template <class T>
void mlp_backward_data(const MlpSpec& spec, const T* params, std::int64_t row0, std::int64_t rows,
                       MlpWorkspace<T>& ws, bool use_masks);

// Told each range [begin, end) of the parameter layout whose gradient is final, once per
// range, the ranges covering the layout; `threaded`: it may use the pool (false: the call runs
// as one of the pool's tasks).
using GradientReady = std::function<void(std::size_t begin, std::size_t end, bool threaded)>;

// dW_l and db_l from rows [0, rows) of the workspace's deltas and activations (x the input
// rows), into grads (the parameter layout); accumulate adds to grads instead of overwriting.
// With `sparse` (the non-zeros of all `rows` input rows), dW_0 skips the zeros. `ready`, if
// given, is told the ranges as they are finished (the optimiser steps them right away).
// `then`: more work for the two tasks of the first layer's pool run, as SparseInput::
// weight_gradient's `then`, where the other layers run as its alongside task (so then(0) comes
// after their ranges are `ready`). Returns whether `then` ran.
template <class T>
bool mlp_weight_gradients(const MlpSpec& spec, const T* x, std::int64_t ldx, std::int64_t rows,
                          const MlpWorkspace<T>& ws, T* grads, bool accumulate,
                          SparseInput<T>* sparse = nullptr, const GradientReady* ready = nullptr,
                          const std::function<void(int)>* then = nullptr);

}  // namespace mlpcore
