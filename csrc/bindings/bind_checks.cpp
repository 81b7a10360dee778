// mlpcore._core.find_nonfinite: the NaN/Inf input check of the Python layer, and
// mlpcore._core.scan_weights: the pass over the weights after each epoch (weight_scan.hpp);
// both without temporaries.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <utility>
#include <vector>

#include "array_view.hpp"
#include "nonfinite.hpp"
#include "weight_scan.hpp"

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

py::tuple scan_weights_entry(const py::array& x, const py::object& copy_to,
                             const std::vector<std::pair<py::ssize_t, py::ssize_t>>& ranges) {
    constexpr const char* fn = "scan_weights";
    const DType dtype = float_dtype(x, fn, "x");
    require_ndim(x, 1, fn, "x");
    require_c_contiguous(x, fn, "x");
    const auto n = static_cast<std::size_t>(x.size());
    void* copy = nullptr;
    if (!copy_to.is_none()) {
        require(py::isinstance<py::array>(copy_to), fn, ": copy_to must be None or an array");
        auto out = py::reinterpret_borrow<py::array>(copy_to);
        require_same_dtype(x, "x", out, "copy_to", fn);
        require_ndim(out, 1, fn, "copy_to");
        require(out.size() == x.size(), fn, ": copy_to must have x's length ", x.size(), " (got ",
                out.size(), ")");
        require_writable_c_contiguous(out, fn, "copy_to");
        require(!overlaps(x, out), fn, ": copy_to must not overlap x");
        copy = out.mutable_data();
    }
    std::vector<std::pair<std::size_t, std::size_t>> parts;
    parts.reserve(ranges.size());
    py::ssize_t at = 0;
    for (const auto& [begin, end] : ranges) {
        require(at <= begin && begin <= end && end <= x.size(), fn, ": ranges must be sorted, ",
                "disjoint (begin, end) pairs within x's length ", x.size(), " (got (", begin, ", ",
                end, ") after ", at, ")");
        parts.emplace_back(static_cast<std::size_t>(begin), static_cast<std::size_t>(end));
        at = end;
    }
    const void* data = x.data();
    WeightScan scan;
    {
        py::gil_scoped_release release;  // checked buffers, not resized while the GIL is out
        scan = dtype == DType::float32
                   ? scan_weights(static_cast<const float*>(data), static_cast<float*>(copy), n, parts)
                   : scan_weights(static_cast<const double*>(data), static_cast<double*>(copy), n, parts);
    }
    return py::make_tuple(scan.finite, scan.squares, scan.abs);
}

}  // namespace

void bind_checks(py::module_& m) {
    using namespace pybind11::literals;
    m.def("find_nonfinite", &find_nonfinite_entry, "x"_a.noconvert(),
          "0 if every value of a C-contiguous float array is finite, 1 if the first non-finite "
          "one is NaN, 2 if it is infinite.");
    m.def("scan_weights", &scan_weights_entry, "x"_a.noconvert(), "copy_to"_a.none(true),
          "ranges"_a,
          "(finite, squares, abs) of a 1-D C-contiguous float array x, copying it to copy_to "
          "(None: no copy): whether every value is finite, and per (begin, end) range the sum of "
          "x**2 and of |x| in float64.");
}

}  // namespace mlpcore::bindings
