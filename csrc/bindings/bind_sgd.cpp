// mlpcore._core.sgd_update: one fused SGD step, in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "array_view.hpp"
#include "sgd.hpp"

namespace mlpcore::bindings {
namespace {

// A float32 step computes with float32 hyper-parameters. Values that overflow (or a momentum
// that rounds up to 1) would silently change the update, so they are errors naming the value
// the caller passed; values that underflow to 0 behave as torch.optim.SGD's float32 step does.
void require_float32_finite(const char* name, double value) {
    require(std::isfinite(static_cast<float>(value)), "sgd_update: ", name,
            " must be finite in float32 (got ", value, ")");
}

template <class T>
void run_sgd(py::array& param, const py::array& grad, std::optional<py::array>& velocity,
             const SgdParams<T>& p) {
    T* w = static_cast<T*>(param.mutable_data());
    const T* g = static_cast<const T*>(grad.data());
    T* v = velocity ? static_cast<T*>(velocity->mutable_data()) : nullptr;
    const auto n = static_cast<std::size_t>(param.size());
    py::gil_scoped_release release;  // plain buffers from here on
    sgd_update(w, g, v, n, p);
}

void sgd_entry(py::array param, const py::array& grad, std::optional<py::array> velocity,
               double lr, double momentum, double weight_decay, double l1, bool nesterov) {
    const char* fn = "sgd_update";
    const DType dtype = float_dtype(param, fn, "param");
    require(param.ndim() == 1 || param.ndim() == 2, fn, ": param must be a 1-D or 2-D array (got ",
            param.ndim(), "-D)");
    require_writable_c_contiguous(param, fn, "param");
    require_same_dtype(param, "param", grad, "grad", fn);
    require_same_shape(param, "param", grad, "grad", fn);
    require_c_contiguous(grad, fn, "grad");
    require(!overlaps(param, grad), fn, ": grad must not share memory with param");
    if (velocity) {
        require_same_dtype(param, "param", *velocity, "velocity", fn);
        require_same_shape(param, "param", *velocity, "velocity", fn);
        require_writable_c_contiguous(*velocity, fn, "velocity");
        require(!overlaps(param, *velocity) && !overlaps(grad, *velocity), fn,
                ": velocity must not share memory with param or grad");
    }
    // The caller's values are checked here, with the GIL held, so messages show them rather
    // than values rounded to float32 (the core checks again for callers outside Python).
    const SgdParams<double> given{lr, momentum, weight_decay, l1, nesterov, momentum > 0.0};
    check_sgd_params(given, velocity.has_value());
    if (dtype == DType::float32) {
        require_float32_finite("lr", lr);
        require_float32_finite("weight_decay", weight_decay);
        require_float32_finite("l1", l1);
        const SgdParams<float> p{static_cast<float>(lr), static_cast<float>(momentum),
                                 static_cast<float>(weight_decay), static_cast<float>(l1),
                                 nesterov, given.use_momentum};
        run_sgd<float>(param, grad, velocity, p);
    } else {
        run_sgd<double>(param, grad, velocity, given);
    }
}

}  // namespace

void bind_sgd(py::module_& m) {
    using namespace pybind11::literals;
    m.def("sgd_update", &sgd_entry, "param"_a.noconvert(), "grad"_a.noconvert(),
          "velocity"_a.noconvert().none(true), "lr"_a, "momentum"_a, "weight_decay"_a, "l1"_a,
          "nesterov"_a, "One fused SGD step (torch.optim.SGD semantics, dampening 0, plus L1).");
}

}  // namespace mlpcore::bindings
