// mlpcore._core.activation_forward / activation_backward / softmax on whole arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "activation.hpp"
#include "array_view.hpp"

namespace mlpcore::bindings {
namespace {

// out may be the very array x (in place) but must not partly overlap it.
void require_out_ok(const py::array& x, const char* x_name, const py::array& out, const char* fn) {
    require_same_dtype(x, x_name, out, "out", fn);
    require_same_shape(x, x_name, out, "out", fn);
    require_writable_c_contiguous(out, fn, "out");
    require(same_memory(x, out) || !overlaps(x, out), fn, ": out must be ", x_name,
            " itself or not share memory with it");
}

py::array forward(const std::string& name, const py::array& x, py::array out, double slope) {
    const char* fn = "activation";
    const Activation kind = parse_activation(name);
    const DType dtype = float_dtype(x, fn, "x");
    require_c_contiguous(x, fn, "x");
    require_out_ok(x, "x", out, fn);
    const auto n = static_cast<std::size_t>(x.size());
    py::gil_scoped_release release;  // plain buffers from here on
    if (dtype == DType::float32)
        activation_forward<float>(kind, static_cast<const float*>(x.data()),
                                  static_cast<float*>(out.mutable_data()), n, static_cast<float>(slope));
    else
        activation_forward<double>(kind, static_cast<const double*>(x.data()),
                                   static_cast<double*>(out.mutable_data()), n, slope);
    return out;
}

py::array backward(const std::string& name, const py::array& x, const py::array& grad_out,
                   py::array out, double slope) {
    const char* fn = "activation_grad";
    const Activation kind = parse_activation(name);
    const DType dtype = float_dtype(x, fn, "x");
    require_c_contiguous(x, fn, "x");
    require_same_dtype(x, "x", grad_out, "grad_out", fn);
    require_same_shape(x, "x", grad_out, "grad_out", fn);
    require_c_contiguous(grad_out, fn, "grad_out");
    require_out_ok(grad_out, "grad_out", out, fn);
    require(same_memory(x, out) || !overlaps(x, out), fn,
            ": out must be x itself or not share memory with it");
    const auto n = static_cast<std::size_t>(x.size());
    py::gil_scoped_release release;
    if (dtype == DType::float32)
        activation_backward<float>(kind, static_cast<const float*>(x.data()),
                                   static_cast<const float*>(grad_out.data()),
                                   static_cast<float*>(out.mutable_data()), n, static_cast<float>(slope));
    else
        activation_backward<double>(kind, static_cast<const double*>(x.data()),
                                    static_cast<const double*>(grad_out.data()),
                                    static_cast<double*>(out.mutable_data()), n, slope);
    return out;
}

py::array softmax_entry(const py::array& x, py::array out, bool log_output) {
    const char* fn = log_output ? "log_softmax" : "softmax";
    const DType dtype = float_dtype(x, fn, "x");
    require_ndim(x, 2, fn, "x");
    require_c_contiguous(x, fn, "x");
    require_out_ok(x, "x", out, fn);
    const auto rows = static_cast<std::size_t>(x.shape(0)), cols = static_cast<std::size_t>(x.shape(1));
    py::gil_scoped_release release;
    if (dtype == DType::float32)
        softmax<float>(static_cast<const float*>(x.data()), static_cast<float*>(out.mutable_data()),
                       rows, cols, log_output);
    else
        softmax<double>(static_cast<const double*>(x.data()), static_cast<double*>(out.mutable_data()),
                        rows, cols, log_output);
    return out;
}

}  // namespace

void bind_activation(py::module_& m) {
    using namespace pybind11::literals;
    m.def("activation_forward", &forward, "name"_a, "x"_a.noconvert(), "out"_a.noconvert(),
          "negative_slope"_a, "out = f(x) elementwise; out may be x itself.");
    m.def("activation_backward", &backward, "name"_a, "x"_a.noconvert(), "grad_out"_a.noconvert(),
          "out"_a.noconvert(), "negative_slope"_a, "out = grad_out * f'(x) elementwise.");
    m.def("softmax", &softmax_entry, "x"_a.noconvert(), "out"_a.noconvert(), "log"_a,
          "Row-wise softmax (or log-softmax) of a 2-D array.");
    m.def("activation_names", [] {
        py::list names;
        for (int i = 0; i < kNumActivations; ++i) names.append(activation_name(static_cast<Activation>(i)));
        return names;
    });
}

}  // namespace mlpcore::bindings
