// mlpcore._core.Network: an MLP's architecture, with forward, loss-and-gradient, evaluation and
// whole-epoch training over numpy arrays. Arrays are checked here with the GIL held; the GIL is
// released for the work itself, which touches only the checked buffers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "array_view.hpp"
#include "input_index.hpp"
#include "nonfinite.hpp"
#include "sparse_input.hpp"
#include "trainer.hpp"

namespace mlpcore::bindings {
namespace {

OutputKind parse_output(const std::string& name) {
    if (name == "identity") return OutputKind::identity;
    if (name == "sigmoid") return OutputKind::sigmoid;
    if (name == "softmax") return OutputKind::softmax;
    if (name == "exp") return OutputKind::exp;
    fail("mlp: output must be one of identity, sigmoid, softmax, exp (got '", name, "')");
}

LossKind parse_loss(const std::string& name) {
    for (LossKind kind : {LossKind::cross_entropy, LossKind::binary_cross_entropy, LossKind::mse,
                          LossKind::mae, LossKind::hinge, LossKind::poisson})
        if (name == loss_name(kind)) return kind;
    fail("mlp: loss must be one of cross_entropy, binary_cross_entropy, mse, mae, hinge, poisson (got '",
         name, "')");
}

struct Network {
    MlpSpec spec;

    Network(std::vector<std::int64_t> sizes, const std::vector<std::string>& hidden,
            const std::string& output, const std::string& loss, double negative_slope) {
        spec.sizes = std::move(sizes);
        for (const auto& name : hidden) spec.hidden.push_back(parse_activation(name));
        spec.output = parse_output(output);
        spec.loss = parse_loss(loss);
        spec.negative_slope = negative_slope;
        check_spec(spec);
    }
};

// The non-zeros of one input array X, listed once for the epochs that train on it
// (Network.input_index). Holds X, so the lists cannot outlive the rows they describe; X must not
// change while the index is in use.
struct TrainInputIndex {
    py::array x;
    std::optional<InputIndex<float>> f32;
    std::optional<InputIndex<double>> f64;

    bool listed() const { return f32 ? !f32->empty() : !f64->empty(); }
    std::int64_t nonzeros() const { return f32 ? f32->nonzeros() : f64->nonzeros(); }
    bool finite() const { return f32 ? f32->finite() : f64->finite(); }
    template <class T>
    const InputIndex<T>* get() const {
        if constexpr (sizeof(T) == 4) return f32 ? &*f32 : nullptr;
        else return f64 ? &*f64 : nullptr;
    }
};

std::int64_t require_params(const Network& net, const py::array& params, const char* fn) {
    require_ndim(params, 1, fn, "params");
    require_writable_c_contiguous(params, fn, "params");
    require(static_cast<std::size_t>(params.size()) == net.spec.n_parameters(), fn,
            ": params must hold ", net.spec.n_parameters(), " values (got ", params.size(), ")");
    return params.size();
}

// X's row count, after checking it is a C-contiguous matrix as wide as the model's input.
std::int64_t require_input_shape(const Network& net, const py::array& x, const char* fn) {
    require_ndim(x, 2, fn, "X");
    require_c_contiguous(x, fn, "X");
    require(x.shape(1) == net.spec.n_in(), fn, ": X must have ", net.spec.n_in(),
            " columns, the model's input width (got ", x.shape(1), ")");
    return x.shape(0);
}

// As require_input_shape, and X has the dtype of params.
std::int64_t require_inputs(const Network& net, const py::array& params, const py::array& x,
                            const char* fn) {
    require_same_dtype(params, "params", x, "X", fn);
    return require_input_shape(net, x, fn);
}

template <class T>
Dataset<T> make_dataset(const Network& net, const py::array& x,
                        const std::optional<py::array>& labels,
                        const std::optional<py::array>& values, const char* fn) {
    const MlpSpec& spec = net.spec;
    const std::int64_t n = x.shape(0), k = spec.n_out();
    Dataset<T> data{static_cast<const T*>(x.data()), n, x.shape(1), {}};
    require(labels.has_value() != values.has_value(), fn,
            ": pass exactly one of labels and values as targets");
    const bool dense_ok = spec.loss != LossKind::hinge;
    const bool labels_ok = loss_takes_labels(spec.loss, k);
    if (labels) {
        require(labels_ok, fn, ": loss '", loss_name(spec.loss), "' with ", k,
                " outputs needs target rows (values), not class labels");
        if (!has_dtype<std::int32_t>(labels->dtype()))
            throw py::type_error(std::string(fn) + ": labels must be an int32 array (got " +
                                 dtype_str(*labels) + ")");
        require_ndim(*labels, 1, fn, "labels");
        require_c_contiguous(*labels, fn, "labels");
        require(labels->shape(0) == n, fn, ": labels must have one entry per row of X (", n,
                "), got ", labels->shape(0));
        const auto* y = static_cast<const std::int32_t*>(labels->data());
        const std::int64_t classes = k == 1 ? 2 : k;
        for (std::int64_t i = 0; i < n; ++i)
            require(y[i] >= 0 && y[i] < classes, fn, ": labels must be in [0, ", classes,
                    ") (got ", y[i], " at index ", i, ")");
        data.targets.labels = y;
    } else {
        require(dense_ok, fn, ": loss 'hinge' needs class labels, not target rows");
        require_same_dtype(x, "X", *values, "values", fn);
        require_ndim(*values, 2, fn, "values");
        require_c_contiguous(*values, fn, "values");
        require(values->shape(0) == n && values->shape(1) == k, fn, ": values must have shape (",
                n, ", ", k, "), got ", shape_str(*values));
        data.targets.values = static_cast<const T*>(values->data());
    }
    return data;
}

const std::int64_t* require_rows(const std::optional<py::array>& rows, std::int64_t n_data,
                                 std::int64_t& count, const char* fn) {
    if (!rows) {
        count = n_data;
        return nullptr;
    }
    if (!has_dtype<std::int64_t>(rows->dtype()))
        throw py::type_error(std::string(fn) + ": rows must be an int64 array (got " +
                             dtype_str(*rows) + ")");
    require_ndim(*rows, 1, fn, "rows");
    require_c_contiguous(*rows, fn, "rows");
    count = rows->shape(0);
    const auto* r = static_cast<const std::int64_t*>(rows->data());
    for (std::int64_t i = 0; i < count; ++i)
        require(r[i] >= 0 && r[i] < n_data, fn, ": rows must be in [0, ", n_data, ") (got ", r[i],
                " at index ", i, ")");
    return r;
}

// sample_weight (one finite weight >= 0 per row of X, X's dtype) into data's targets.
template <class T>
void attach_weights(Dataset<T>& data, const py::array& x, const std::optional<py::array>& weights,
                    const char* fn) {
    if (!weights) return;
    require_same_dtype(x, "X", *weights, "sample_weight", fn);
    require_ndim(*weights, 1, fn, "sample_weight");
    require_c_contiguous(*weights, fn, "sample_weight");
    require(weights->shape(0) == data.n_rows, fn, ": sample_weight must have one entry per row of X (",
            data.n_rows, "), got ", weights->shape(0));
    const auto* w = static_cast<const T*>(weights->data());
    for (std::int64_t i = 0; i < data.n_rows; ++i)
        require(std::isfinite(w[i]) && w[i] >= T(0), fn,
                ": sample_weight must hold finite weights >= 0 (got ", w[i], " at index ", i, ")");
    data.targets.weights = w;
}

py::array predict(const Network& net, const py::array& params, const py::array& x, bool float64) {
    const char* fn = "predict";
    const DType dtype = float_dtype(params, fn, "params");
    require_params(net, params, fn);
    // float64: any mix of float32 and float64 params and X; otherwise X has params' dtype.
    const DType x_dtype = float64 ? float_dtype(x, fn, "X") : dtype;
    if (!float64) require_same_dtype(params, "params", x, "X", fn);
    const std::int64_t n = require_input_shape(net, x, fn);
    require(n >= 1, fn, ": X must have at least one row");
    const DType out_dtype = float64 ? DType::float64 : dtype;
    py::array out(out_dtype == DType::float32 ? py::dtype::of<float>() : py::dtype::of<double>(),
                  std::vector<py::ssize_t>{n, net.spec.n_out()});
    void* o = out.mutable_data();
    const auto count = static_cast<std::size_t>(x.size());
    NonFinite bad = NonFinite::none;
    {
        py::gil_scoped_release release;  // params, x and out are checked buffers
        bad = x_dtype == DType::float32 ? find_nonfinite(static_cast<const float*>(x.data()), count)
                                        : find_nonfinite(static_cast<const double*>(x.data()), count);
        if (bad == NonFinite::none) {
            if (out_dtype == DType::float32) {
                predict_output(net.spec, static_cast<const float*>(params.data()),
                               static_cast<const float*>(x.data()), n, static_cast<float*>(o));
            } else {
                // float32 weights are widened into a buffer kept per thread between calls (the
                // sparse first layer reads them as they are).
                static thread_local std::vector<double> widened;
                const double* p = static_cast<const double*>(params.data());
                const float* pf = nullptr;
                if (dtype == DType::float32) {
                    pf = static_cast<const float*>(params.data());
                    widened.assign(pf, pf + params.size());
                    p = widened.data();
                }
                if (x_dtype == DType::float32)
                    predict_output(net.spec, p, static_cast<const float*>(x.data()), n,
                                   static_cast<double*>(o), pf);
                else
                    predict_output(net.spec, p, static_cast<const double*>(x.data()), n,
                                   static_cast<double*>(o), pf);
            }
        }
    }
    require(bad == NonFinite::none, fn, ": X contains ",
            bad == NonFinite::nan ? "NaN" : "infinite values");
    return out;
}

template <class T>
double loss_and_grads_t(const Network& net, const py::array& params, const py::array& x,
                        const std::optional<py::array>& labels,
                        const std::optional<py::array>& values, py::array& grads) {
    const Dataset<T> data = make_dataset<T>(net, x, labels, values, "loss_and_grads");
    const T* p = static_cast<const T*>(params.data());
    T* g = static_cast<T*>(grads.mutable_data());
    py::gil_scoped_release release;
    return loss_and_gradients(net.spec, p, data, g);
}

py::tuple loss_and_grads(const Network& net, const py::array& params, const py::array& x,
                         const std::optional<py::array>& labels,
                         const std::optional<py::array>& values) {
    const char* fn = "loss_and_grads";
    const DType dtype = float_dtype(params, fn, "params");
    require_params(net, params, fn);
    const std::int64_t n = require_inputs(net, params, x, fn);
    require(n >= 1, fn, ": X must have at least one row");
    py::array grads(params.dtype(), std::vector<py::ssize_t>{params.shape(0)});
    const double loss = dtype == DType::float32
                            ? loss_and_grads_t<float>(net, params, x, labels, values, grads)
                            : loss_and_grads_t<double>(net, params, x, labels, values, grads);
    return py::make_tuple(loss, grads);
}

template <class T>
py::tuple evaluate_t(const Network& net, const py::array& params, const py::array& x,
                     const std::optional<py::array>& labels, const std::optional<py::array>& values,
                     const std::optional<py::array>& rows) {
    const char* fn = "evaluate";
    const Dataset<T> data = make_dataset<T>(net, x, labels, values, fn);
    std::int64_t count = 0;
    const std::int64_t* r = require_rows(rows, data.n_rows, count, fn);
    const T* p = static_cast<const T*>(params.data());
    LossTotals totals;
    {
        py::gil_scoped_release release;
        totals = evaluate(net.spec, p, data, r, count);
    }
    return py::make_tuple(totals.loss_sum, totals.correct, count);
}

py::tuple evaluate_entry(const Network& net, const py::array& params, const py::array& x,
                         const std::optional<py::array>& labels,
                         const std::optional<py::array>& values,
                         const std::optional<py::array>& rows) {
    const DType dtype = float_dtype(params, "evaluate", "params");
    require_params(net, params, "evaluate");
    require_inputs(net, params, x, "evaluate");
    return dtype == DType::float32 ? evaluate_t<float>(net, params, x, labels, values, rows)
                                   : evaluate_t<double>(net, params, x, labels, values, rows);
}

// None when the network would not use the lists (its first layer is too narrow for the sparse
// path), X is too dense for them to pay (kSparseMaxDensity) or they would take more than
// kMaxIndexBytes.
py::object input_index(const Network& net, const py::array& x) {
    const char* fn = "input_index";
    const DType dtype = float_dtype(x, fn, "X");
    require_ndim(x, 2, fn, "X");
    require_c_contiguous(x, fn, "X");
    require(x.shape(1) == net.spec.n_in(), fn, ": X must have ", net.spec.n_in(),
            " columns, the model's input width (got ", x.shape(1), ")");
    if (!sparse_first_layer(net.spec.n_in(), net.spec.sizes[1]))
        return py::none();
    TrainInputIndex index{x, std::nullopt, std::nullopt};
    const std::int64_t rows = x.shape(0), cols = x.shape(1);
    {
        py::gil_scoped_release release;  // x is checked and held by index
        if (dtype == DType::float32)
            index.f32.emplace(static_cast<const float*>(x.data()), rows, cols, kSparseMaxDensity);
        else
            index.f64.emplace(static_cast<const double*>(x.data()), rows, cols, kSparseMaxDensity);
    }
    if (!index.listed()) return py::none();
    return py::cast(std::move(index));
}

struct EpochArgs {
    std::int64_t batch_size;
    bool shuffle;
    std::uint64_t seed;
    std::int64_t epoch;
    UpdateRule rule;
    double lr, momentum, weight_decay, l1;
    bool nesterov;
    double beta1, beta2, eps;
    std::int64_t steps;
    bool decay_per_row, clip_log_loss;
    double max_norm, dropout, input_noise;
};

UpdateRule parse_rule(const std::string& name) {
    if (name == "sgd") return UpdateRule::sgd;
    if (name == "adam") return UpdateRule::adam;
    fail("train_epoch: optimizer must be 'sgd' or 'adam' (got '", name, "')");
}

// An optional optimiser buffer: the dtype and shape of params, writable, C order, not sharing
// memory with params or X.
void require_state(const py::array& params, const py::array& x, const std::optional<py::array>& a,
                   const char* name, const char* fn) {
    if (!a) return;
    require_same_dtype(params, "params", *a, name, fn);
    require_same_shape(params, "params", *a, name, fn);
    require_writable_c_contiguous(*a, fn, name);
    require(!overlaps(params, *a) && !overlaps(x, *a), fn, ": ", name,
            " must not share memory with params or X");
}

template <class T>
py::tuple train_epoch_t(const Network& net, py::array& params, std::optional<py::array>& velocity,
                        std::optional<py::array>& second_moment, const py::array& x,
                        const std::optional<py::array>& labels,
                        const std::optional<py::array>& values,
                        const std::optional<py::array>& rows, const TrainInputIndex* nonzeros,
                        const std::optional<py::array>& sample_weight, const EpochArgs& e) {
    const char* fn = "train_epoch";
    Dataset<T> data = make_dataset<T>(net, x, labels, values, fn);
    attach_weights(data, x, sample_weight, fn);
    if (nonzeros) data.nonzeros = nonzeros->get<T>();
    std::int64_t count = 0;
    const std::int64_t* r = require_rows(rows, data.n_rows, count, fn);
    TrainSettings<T> s;
    s.batch_size = e.batch_size;
    s.shuffle = e.shuffle;
    s.seed = e.seed;
    s.epoch = e.epoch;
    s.rule = e.rule;
    s.decay_per_row = e.decay_per_row;
    s.clip_log_loss = e.clip_log_loss;
    s.sgd = SgdParams<T>{static_cast<T>(e.lr), static_cast<T>(e.momentum),
                         static_cast<T>(e.weight_decay), static_cast<T>(e.l1), e.nesterov,
                         e.momentum > 0.0};
    s.adam = AdamSettings{e.lr, e.beta1, e.beta2, e.eps, e.weight_decay, e.l1};
    s.max_norm = static_cast<T>(e.max_norm);
    s.dropout = static_cast<T>(e.dropout);
    s.input_noise = static_cast<T>(e.input_noise);
    require(std::isfinite(s.sgd.lr) && std::isfinite(s.sgd.weight_decay) &&
                std::isfinite(s.sgd.l1) && std::isfinite(s.max_norm) &&
                std::isfinite(s.input_noise) && s.sgd.momentum <= T(1) && s.dropout < T(1) &&
                static_cast<T>(e.beta1) < T(1) && static_cast<T>(e.beta2) < T(1) &&
                std::isfinite(static_cast<T>(e.eps)) && static_cast<T>(e.eps) > T(0),
            fn, ": hyper-parameters must stay finite, momentum at most 1, betas and dropout below 1 and eps "
            "above 0, in ", sizeof(T) == 4 ? "float32" : "float64");
    OptimizerState<T> state;
    state.velocity = velocity ? static_cast<T*>(velocity->mutable_data()) : nullptr;
    state.second_moment = second_moment ? static_cast<T*>(second_moment->mutable_data()) : nullptr;
    state.steps = e.steps;
    T* p = static_cast<T*>(params.mutable_data());
    check_train_settings(s, state);
    EpochResult result;
    {
        py::gil_scoped_release release;  // every buffer above is checked and stays alive
        result = train_epoch(net.spec, p, state, data, r, count, s);
    }
    return py::make_tuple(result.loss_sum, result.batches, result.correct, result.rows,
                          result.diverged, result.penalty_batches);
}

py::tuple train_epoch_entry(const Network& net, py::array params,
                            std::optional<py::array> velocity,
                            std::optional<py::array> second_moment, const py::array& x,
                            const std::optional<py::array>& labels,
                            const std::optional<py::array>& values,
                            const std::optional<py::array>& rows,
                            const TrainInputIndex* nonzeros,
                            const std::optional<py::array>& sample_weight, std::int64_t batch_size,
                            bool shuffle, std::uint64_t seed, std::int64_t epoch,
                            const std::string& optimizer, double lr, double momentum,
                            double weight_decay, double l1, bool nesterov, double beta1,
                            double beta2, double eps, std::int64_t steps, bool decay_per_row,
                            bool clip_log_loss, double max_norm, double dropout,
                            double input_noise) {
    const char* fn = "train_epoch";
    const DType dtype = float_dtype(params, fn, "params");
    require_params(net, params, fn);
    require_inputs(net, params, x, fn);
    require(!overlaps(params, x), fn, ": X must not share memory with params");
    require_state(params, x, velocity, "velocity", fn);
    require_state(params, x, second_moment, "second_moment", fn);
    require(!velocity || !second_moment || !overlaps(*velocity, *second_moment), fn,
            ": velocity and second_moment must not share memory");
    require(!nonzeros || (nonzeros->x.data() == x.data() && nonzeros->x.dtype().is(x.dtype()) &&
                          nonzeros->x.shape(0) == x.shape(0) && nonzeros->x.shape(1) == x.shape(1)),
            fn, ": nonzeros must be the input_index of this X");
    const EpochArgs e{batch_size, shuffle, seed,  epoch, parse_rule(optimizer), lr,
                      momentum,   weight_decay, l1, nesterov, beta1, beta2, eps, steps,
                      decay_per_row, clip_log_loss, max_norm, dropout, input_noise};
    return dtype == DType::float32
               ? train_epoch_t<float>(net, params, velocity, second_moment, x, labels, values,
                                      rows, nonzeros, sample_weight, e)
               : train_epoch_t<double>(net, params, velocity, second_moment, x, labels, values,
                                       rows, nonzeros, sample_weight, e);
}

}  // namespace

void bind_trainer(py::module_& m) {
    using namespace pybind11::literals;
    py::class_<TrainInputIndex>(m, "InputIndex",
                                "The non-zeros of an input array, listed once for the epochs that "
                                "train on it (Network.input_index).")
        .def_property_readonly("nonzeros", &TrainInputIndex::nonzeros)
        .def_property_readonly("finite", &TrainInputIndex::finite,
                               "Whether every value of X is finite (seen by the listing scan).")
        .def_property_readonly("shape", [](const TrainInputIndex& i) {
            return py::make_tuple(i.x.shape(0), i.x.shape(1));
        });
    py::class_<Network>(m, "Network", "An MLP architecture (sizes, activations, output, loss).")
        .def(py::init<std::vector<std::int64_t>, const std::vector<std::string>&,
                      const std::string&, const std::string&, double>(),
             "sizes"_a, "hidden"_a, "output"_a, "loss"_a, "negative_slope"_a = 0.01)
        .def_property_readonly("n_parameters",
                               [](const Network& n) { return n.spec.n_parameters(); })
        .def("weight_offset", [](const Network& n, std::size_t l) { return n.spec.weight_offset(l); })
        .def("bias_offset", [](const Network& n, std::size_t l) { return n.spec.bias_offset(l); })
        .def("predict", &predict, "params"_a.noconvert(), "x"_a.noconvert(),
             py::kw_only(), "float64"_a = false,
             "Output activations of X, shape (rows, n_out); X must be C-contiguous, of the dtype of "
             "params, with at least one row and only finite values. float64=True computes in "
             "float64 from float32 or float64 params and X (either mix) and returns float64.")
        .def("loss_and_grads", &loss_and_grads, "params"_a.noconvert(), "x"_a.noconvert(),
             "labels"_a.noconvert().none(true), "values"_a.noconvert().none(true),
             "Mean data loss over X and its gradient in the parameter layout.")
        .def("evaluate", &evaluate_entry, "params"_a.noconvert(), "x"_a.noconvert(),
             "labels"_a.noconvert().none(true), "values"_a.noconvert().none(true),
             "rows"_a.noconvert().none(true),
             "(sum of row losses, rows correct, rows) over the given rows of X.")
        .def("input_index", &input_index, "x"_a.noconvert(),
             "The non-zeros of X listed for train_epoch's nonzeros argument (the first layer then "
             "skips finding them every epoch), or None when the network would not use them, X "
             "is too dense or the lists would take more than 16 MiB. X must not change while the "
             "index is in use.")
        .def("train_epoch", &train_epoch_entry, "params"_a.noconvert(),
             "velocity"_a.noconvert().none(true), "second_moment"_a.noconvert().none(true),
             "x"_a.noconvert(), "labels"_a.noconvert().none(true),
             "values"_a.noconvert().none(true), "rows"_a.noconvert().none(true),
             "nonzeros"_a.none(true) = py::none(),
             "sample_weight"_a.noconvert().none(true) = py::none(), "batch_size"_a,
             "shuffle"_a, "seed"_a, "epoch"_a, "optimizer"_a = "sgd", "lr"_a, "momentum"_a = 0.0,
             "weight_decay"_a = 0.0, "l1"_a = 0.0, "nesterov"_a = false, "beta1"_a = 0.9,
             "beta2"_a = 0.999, "eps"_a = 1e-8, "steps"_a = 0, "decay_per_row"_a = false,
             "clip_log_loss"_a = false, "max_norm"_a = 0.0, "dropout"_a = 0.0, "input_noise"_a = 0.0,
             "One epoch of minibatch SGD or Adam in C++ (GIL released): "
             "(sum of row losses, batches, rows correct, rows, diverged, penalty batches: the "
             "sum over batches of rows / weight sum, or batches without weights). With sample_weight, "
             "each batch descends its weighted mean loss (weight decay divided by the batch's "
             "weight sum with decay_per_row), the loss sum adds each batch's weighted mean times "
             "its rows, and a batch whose weights sum to 0 is skipped. clip_log_loss reports each "
             "log-loss term with the probability clipped to [eps, 1 - eps] (float64's eps), as "
             "scikit-learn's log_loss; the gradients are exact either way.");
}

}  // namespace mlpcore::bindings
