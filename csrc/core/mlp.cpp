#include "mlp.hpp"

#include <algorithm>
#include <functional>

#include "activation.hpp"
#include "check.hpp"
#include "gemm.hpp"

namespace mlpcore {

std::size_t MlpSpec::weight_offset(std::size_t layer) const {
    std::size_t offset = 0;
    for (std::size_t l = 0; l < layer; ++l)
        offset += static_cast<std::size_t>(sizes[l] * sizes[l + 1] + sizes[l + 1]);
    return offset;
}

std::size_t MlpSpec::bias_offset(std::size_t layer) const {
    return weight_offset(layer) + static_cast<std::size_t>(sizes[layer] * sizes[layer + 1]);
}

std::size_t MlpSpec::n_parameters() const { return weight_offset(n_layers()); }

std::int64_t MlpSpec::widest() const {
    return *std::max_element(sizes.begin() + 1, sizes.end());
}

void check_spec(const MlpSpec& spec) {
    require(spec.sizes.size() >= 2, "mlp: layer_sizes needs at least 2 entries (got ",
            spec.sizes.size(), ")");
    for (std::size_t l = 0; l < spec.sizes.size(); ++l)
        require(spec.sizes[l] >= 1 && spec.sizes[l] <= (std::int64_t(1) << 24),
                "mlp: layer_sizes[", l, "] must be in [1, 2^24] (got ", spec.sizes[l], ")");
    require(spec.hidden.size() == spec.sizes.size() - 2, "mlp: expected ", spec.sizes.size() - 2,
            " hidden activations (got ", spec.hidden.size(), ")");
    check_output_loss(spec.output, spec.loss, spec.n_out());
}

namespace {

// Round a count of elements up to whole 64-byte lines so every block stays aligned.
std::size_t padded(std::size_t count) { return (count + 15) / 16 * 16; }

// Below this many multiply-adds a plain loop beats the blocked GEMM's packing and dispatch
// (online learning on small networks runs almost entirely here).
constexpr std::int64_t kDirectMacs = 2048;

// C (m x n, row stride ldc) = or += op(A) op(B), strides as in GemmArgs. The path depends on the
// shape only, so results never depend on the thread count.
template <class T>
void product(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::ptrdiff_t rsa,
             std::ptrdiff_t csa, const T* b, std::ptrdiff_t rsb, std::ptrdiff_t csb, T* c,
             std::ptrdiff_t ldc, bool accumulate) {
    if (m * n * k > kDirectMacs) {
        GemmArgs<T> g;
        g.m = m, g.n = n, g.k = k;
        g.alpha = T(1), g.beta = accumulate ? T(1) : T(0);
        g.a = a, g.rsa = rsa, g.csa = csa;
        g.b = b, g.rsb = rsb, g.csb = csb;
        g.c = c, g.ldc = ldc;
        gemm(g);
        return;
    }
    for (std::int64_t i = 0; i < m; ++i) {
        T* ci = c + i * ldc;
        if (!accumulate) std::fill(ci, ci + n, T(0));
        for (std::int64_t p = 0; p < k; ++p) {
            const T aip = a[i * rsa + p * csa];
            const T* bp = b + p * rsb;
            if (csb == 1) {
                for (std::int64_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
            } else {
                for (std::int64_t j = 0; j < n; ++j) ci[j] += aip * bp[j * csb];
            }
        }
    }
}

}  // namespace

template <class T>
void MlpWorkspace<T>::reserve(const MlpSpec& spec, std::int64_t n_rows, bool need_input,
                              bool dropout) {
    const std::size_t layers = spec.n_layers();
    const auto r = static_cast<std::size_t>(n_rows);
    std::size_t total = 0;
    for (std::size_t l = 0; l < layers; ++l) {
        const std::size_t block = padded(r * static_cast<std::size_t>(spec.sizes[l + 1]));
        const bool hidden = l + 1 < layers;
        total += block * (3 + (hidden && dropout ? 1 : 0));
    }
    const bool sparse = sparse_first_layer(spec.n_in(), spec.sizes[1]);
    if (sparse) total += padded(r * static_cast<std::size_t>(spec.sizes[1]));
    T* base = layers_.reserve(total);
    z.assign(layers, nullptr), a.assign(layers, nullptr), delta.assign(layers, nullptr);
    mask.assign(layers, nullptr);
    for (std::size_t l = 0; l < layers; ++l) {
        const std::size_t block = padded(r * static_cast<std::size_t>(spec.sizes[l + 1]));
        const bool hidden = l + 1 < layers;
        z[l] = base, base += block;
        delta[l] = base, base += block;
        a[l] = base, base += block;
        if (hidden && dropout) mask[l] = base, base += block;
    }
    upper = sparse ? base : nullptr;
    input = need_input ? input_.reserve(padded(r * static_cast<std::size_t>(spec.n_in()))) : nullptr;
    rows = n_rows;
}

template <class T>
void first_layer_part(const MlpSpec& spec, const T* params, int part, std::int64_t row0,
                      std::int64_t rows, MlpWorkspace<T>& ws, const SparseInput<T>& sparse,
                      const float* params32) {
    const std::int64_t n_o = spec.sizes[1];
    T* out = (part == 0 ? ws.z[0] : ws.upper) + row0 * n_o;
    if (params32)
        sparse.forward_part_f32(part, params32 + spec.weight_offset(0), n_o, row0, rows, out);
    else
        sparse.forward_part(part, params + spec.weight_offset(0), n_o, row0, rows, out);
}

template <class T>
void mlp_forward(const MlpSpec& spec, const T* params, const T* x, std::int64_t ldx,
                 std::int64_t row0, std::int64_t rows, MlpWorkspace<T>& ws, bool use_masks,
                 const SparseInput<T>* sparse, bool parts_summed) {
    const std::size_t layers = spec.n_layers();
    const T slope = static_cast<T>(spec.negative_slope);
    for (std::size_t l = 0; l < layers; ++l) {
        const std::int64_t n_i = spec.sizes[l], n_o = spec.sizes[l + 1];
        const T* in = l == 0 ? x : ws.a[l - 1] + row0 * n_i;
        const std::int64_t ld_in = l == 0 ? ldx : n_i;
        const T* w = params + spec.weight_offset(l);
        const T* b = params + spec.bias_offset(l);
        T* z = ws.z[l] + row0 * n_o;
        if (l == 0 && sparse) {
            if (!parts_summed) {
                first_layer_part(spec, params, 0, row0, rows, ws, *sparse);
                first_layer_part(spec, params, 1, row0, rows, ws, *sparse);
            }
            const T* up = ws.upper + row0 * n_o;
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t j = 0; j < n_o; ++j) z[r * n_o + j] = b[j] + (z[r * n_o + j] + up[r * n_o + j]);
        } else {
            for (std::int64_t r = 0; r < rows; ++r) std::copy(b, b + n_o, z + r * n_o);
            product<T>(rows, n_o, n_i, in, ld_in, 1, w, n_o, 1, z, n_o, true);
        }
        if (l + 1 == layers) break;
        const auto count = static_cast<std::size_t>(rows * n_o);
        T* act = ws.a[l] + row0 * n_o;
        activation_forward(spec.hidden[l], z, act, count, slope);
        if (use_masks) {
            const T* m = ws.mask[l] + row0 * n_o;
            for (std::size_t i = 0; i < count; ++i) act[i] *= m[i];
        }
    }
}

template <class T>
void mlp_backward_data(const MlpSpec& spec, const T* params, std::int64_t row0, std::int64_t rows,
                       MlpWorkspace<T>& ws, bool use_masks) {
    const T slope = static_cast<T>(spec.negative_slope);
    for (std::size_t l = spec.n_layers() - 1; l > 0; --l) {
        const std::int64_t n_i = spec.sizes[l], n_o = spec.sizes[l + 1];
        // D_{l-1} = D_l W_l^T, W read transposed in place (strides 1 and n_o).
        T* prev = ws.delta[l - 1] + row0 * n_i;
        product<T>(rows, n_i, n_o, ws.delta[l] + row0 * n_o, n_o, 1,
                   params + spec.weight_offset(l), 1, n_o, prev, n_i, false);
        const auto count = static_cast<std::size_t>(rows * n_i);
        if (use_masks) {
            const T* m = ws.mask[l - 1] + row0 * n_i;
            for (std::size_t i = 0; i < count; ++i) prev[i] *= m[i];
        }
        activation_backward(spec.hidden[l - 1], ws.z[l - 1] + row0 * n_i, prev, prev, count, slope);
    }
}

template <class T>
bool mlp_weight_gradients(const MlpSpec& spec, const T* x, std::int64_t ldx, std::int64_t rows,
                          const MlpWorkspace<T>& ws, T* grads, bool accumulate,
                          SparseInput<T>* sparse, const GradientReady* ready,
                          const std::function<void(int)>* then) {
    // dW_l = in^T D_l (in read transposed in place, strides 1 and ld_in) and db_l = the column
    // sums of D_l, for layers [first, n_layers) and every layer's biases.
    auto layers_from = [&](std::size_t first) {
        for (std::size_t l = 0; l < spec.n_layers(); ++l) {
            const std::int64_t n_i = spec.sizes[l], n_o = spec.sizes[l + 1];
            const T* d = ws.delta[l];
            if (l >= first) {
                const T* in = l == 0 ? x : ws.a[l - 1];
                const std::int64_t ld_in = l == 0 ? ldx : n_i;
                product<T>(n_i, n_o, rows, in, 1, ld_in, d, n_o, 1, grads + spec.weight_offset(l), n_o,
                           accumulate);
            }
            T* db = grads + spec.bias_offset(l);
            if (!accumulate) std::fill(db, db + n_o, T(0));
            for (std::int64_t r = 0; r < rows; ++r) {
                const T* dr = d + r * n_o;
                for (std::int64_t j = 0; j < n_o; ++j) db[j] += dr[j];
            }
        }
    };
    auto finished = [&](std::size_t begin, std::size_t end, bool threaded) {
        if (ready) (*ready)(begin, end, threaded);
    };
    if (!sparse) {
        layers_from(0);
        finished(0, spec.n_parameters(), true);
        return false;
    }
    // The first layer's sparse gradient runs in the pool's threads over ranges of its columns.
    // When the other layers are small next to it (a 784-100-10 net: 200k multiply-adds against
    // 3M), they run as one more task of that pool run, rather than on one thread while the
    // others wait; big ones keep their own threaded products.
    std::int64_t rest = 0;
    for (std::size_t l = 1; l < spec.n_layers(); ++l) rest += spec.sizes[l] * spec.sizes[l + 1] * rows;
    // dW_0 comes first in the layout, then b_0 and the other layers.
    const std::int64_t n_o = spec.sizes[1];
    const std::size_t rest_begin = spec.bias_offset(0), end = spec.n_parameters();
    const std::function<void()> others = [&] {
        layers_from(1);
        finished(rest_begin, end, false);
    };
    const std::function<void(std::int64_t, std::int64_t)> columns_done = [&](std::int64_t c0, std::int64_t c1) {
        finished(static_cast<std::size_t>(c0 * n_o), static_cast<std::size_t>(c1 * n_o), false);
    };
    const bool alongside = 4 * rest < sparse->entries(rows) * n_o;
    const bool ran = sparse->weight_gradient(ws.delta[0], n_o, rows, grads + spec.weight_offset(0),
                                             accumulate, alongside ? &others : nullptr,
                                             ready ? &columns_done : nullptr, then);
    if (!alongside) {
        layers_from(1);
        finished(rest_begin, end, true);
    }
    return ran;
}

template class MlpWorkspace<float>;
template class MlpWorkspace<double>;
template void mlp_forward<float>(const MlpSpec&, const float*, const float*, std::int64_t,
                                 std::int64_t, std::int64_t, MlpWorkspace<float>&, bool,
                                 const SparseInput<float>*, bool);
template void mlp_forward<double>(const MlpSpec&, const double*, const double*, std::int64_t,
                                  std::int64_t, std::int64_t, MlpWorkspace<double>&, bool,
                                  const SparseInput<double>*, bool);
template void first_layer_part<float>(const MlpSpec&, const float*, int, std::int64_t, std::int64_t,
                                      MlpWorkspace<float>&, const SparseInput<float>&,
                                      const float*);
template void first_layer_part<double>(const MlpSpec&, const double*, int, std::int64_t,
                                       std::int64_t, MlpWorkspace<double>&,
                                       const SparseInput<double>&, const float*);
template void mlp_backward_data<float>(const MlpSpec&, const float*, std::int64_t, std::int64_t,
                                       MlpWorkspace<float>&, bool);
template void mlp_backward_data<double>(const MlpSpec&, const double*, std::int64_t, std::int64_t,
                                        MlpWorkspace<double>&, bool);
template bool mlp_weight_gradients<float>(const MlpSpec&, const float*, std::int64_t, std::int64_t,
                                          const MlpWorkspace<float>&, float*, bool,
                                          SparseInput<float>*, const GradientReady*,
                                          const std::function<void(int)>*);
template bool mlp_weight_gradients<double>(const MlpSpec&, const double*, std::int64_t,
                                           std::int64_t, const MlpWorkspace<double>&, double*, bool,
                                           SparseInput<double>*, const GradientReady*,
                                           const std::function<void(int)>*);

}  // namespace mlpcore
