// mlpcore._core.adam_update: one fused Adam step, in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>

#include "adam.hpp"
#include "array_view.hpp"

namespace mlpcore::bindings {
namespace {

template <class T>
void run_adam(py::array& param, const py::array& grad, py::array& m, py::array& v,
              const AdamParams<T>& p) {
    T* w = static_cast<T*>(param.mutable_data());
    const T* g = static_cast<const T*>(grad.data());
    T* mp = static_cast<T*>(m.mutable_data());
    T* vp = static_cast<T*>(v.mutable_data());
    const auto n = static_cast<std::size_t>(param.size());
    py::gil_scoped_release release;  // plain buffers from here on
    adam_update(w, g, mp, vp, n, p);
}

void adam_entry(py::array param, const py::array& grad, py::array m, py::array v,
                std::int64_t step, double lr, double beta1, double beta2, double eps,
                double weight_decay, double l1) {
    const char* fn = "adam_update";
    const DType dtype = float_dtype(param, fn, "param");
    require(param.ndim() == 1 || param.ndim() == 2, fn, ": param must be a 1-D or 2-D array (got ",
            param.ndim(), "-D)");
    require_writable_c_contiguous(param, fn, "param");
    require_c_contiguous(grad, fn, "grad");
    for (const auto& [a, name] : {std::pair<const py::array*, const char*>{&grad, "grad"},
                                  {&m, "m"},
                                  {&v, "v"}}) {
        require_same_dtype(param, "param", *a, name, fn);
        require_same_shape(param, "param", *a, name, fn);
    }
    require_writable_c_contiguous(m, fn, "m");
    require_writable_c_contiguous(v, fn, "v");
    require(!overlaps(param, grad) && !overlaps(param, m) && !overlaps(param, v) &&
                !overlaps(grad, m) && !overlaps(grad, v) && !overlaps(m, v),
            fn, ": param, grad, m and v must not share memory");
    require(step >= 1, fn, ": step must be >= 1, the 1-based number of this step (got ", step, ")");
    // Checked in double first, so messages show the caller's values.
    check_adam_params(adam_params_at<double>(lr, beta1, beta2, eps, weight_decay, l1, step));
    if (dtype == DType::float32) {
        const AdamParams<float> p =
            adam_params_at<float>(lr, beta1, beta2, eps, weight_decay, l1, step);
        require(p.beta1 < 1.0f && p.beta2 < 1.0f && std::isfinite(p.lr) && std::isfinite(p.eps) &&
                    p.eps > 0.0f && std::isfinite(p.weight_decay) && std::isfinite(p.l1),
                fn, ": hyper-parameters must stay finite, betas below 1 and eps above 0 in float32");
        run_adam<float>(param, grad, m, v, p);
    } else {
        run_adam<double>(param, grad, m, v,
                         adam_params_at<double>(lr, beta1, beta2, eps, weight_decay, l1, step));
    }
}

}  // namespace

void bind_adam(py::module_& m) {
    using namespace pybind11::literals;
    m.def("adam_update", &adam_entry, "param"_a.noconvert(), "grad"_a.noconvert(),
          "m"_a.noconvert(), "v"_a.noconvert(), "step"_a, "lr"_a, "beta1"_a, "beta2"_a, "eps"_a,
          "weight_decay"_a, "l1"_a,
          "One fused Adam step (torch.optim.Adam semantics, L2 weight decay, plus L1).");
}

}  // namespace mlpcore::bindings
