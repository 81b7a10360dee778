// mlpcore._core.find_nonfinite: the NaN/Inf input check of the Python layer, and
// mlpcore._core.weight_norms: the estimators' weight penalty; both without temporaries.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "array_view.hpp"
#include "nonfinite.hpp"
#include "weight_norms.hpp"

namespace mlpcore::bindings {
namespace {

// 0: all finite, 1: the first non-finite value is NaN, 2: it is infinite.
int find_nonfinite_entry(const py::array& x) {
    const DType dtype = float_dtype(x, "find_nonfinite", "x");
    require_c_contiguous(x, "find_nonfinite", "x");
    const auto n = static_cast<std::size_t>(x.size());
    const void* data = x.data();
    py::gil_scoped_release release;  // read-only scan of a checked buffer
    const NonFinite found = dtype == DType::float32
                                ? find_nonfinite(static_cast<const float*>(data), n)
                                : find_nonfinite(static_cast<const double*>(data), n);
    return static_cast<int>(found);
}

py::tuple weight_norms_entry(const py::array& x) {
    const DType dtype = float_dtype(x, "weight_norms", "x");
    require_c_contiguous(x, "weight_norms", "x");
    const auto n = static_cast<std::size_t>(x.size());
    const void* data = x.data();
    Norms norms;
    {
        py::gil_scoped_release release;  // read-only scan of a checked buffer
        norms = dtype == DType::float32 ? weight_norms(static_cast<const float*>(data), n)
                                        : weight_norms(static_cast<const double*>(data), n);
    }
    return py::make_tuple(norms.squares, norms.abs);
}

}  // namespace

void bind_checks(py::module_& m) {
    using namespace pybind11::literals;
    m.def("find_nonfinite", &find_nonfinite_entry, "x"_a.noconvert(),
          "0 if every value of a C-contiguous float array is finite, 1 if the first non-finite "
          "one is NaN, 2 if it is infinite.");
    m.def("weight_norms", &weight_norms_entry, "x"_a.noconvert(),
          "(sum of x**2, sum of |x|) of a C-contiguous float array, summed in float64.");
}

}  // namespace mlpcore::bindings
