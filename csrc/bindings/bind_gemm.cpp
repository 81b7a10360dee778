// mlpcore._core.gemm / gemm_reference: out = alpha * op(a) @ op(b) + beta * out.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "array_view.hpp"
#include "gemm.hpp"

namespace mlpcore::bindings {
namespace {

template <class T>
py::array run_gemm(const py::array& a, const py::array& b, std::optional<py::array> out_arg,
                   bool trans_a, bool trans_b, double alpha, double beta, bool reference,
                   const char* fn) {
    require(std::isfinite(static_cast<T>(alpha)) && std::isfinite(static_cast<T>(beta)), fn,
            ": alpha and beta must be finite in ", sizeof(T) == 4 ? "float32" : "float64",
            " (got alpha=", alpha, ", beta=", beta, ")");
    const MatrixView<T> av = matrix_view<T>(a, fn, "a"), bv = matrix_view<T>(b, fn, "b");
    GemmArgs<T> g;
    // op(X) = X^T just swaps the strides: packing reads either layout.
    g.m = trans_a ? av.cols : av.rows;
    g.k = trans_a ? av.rows : av.cols;
    g.rsa = trans_a ? av.col_stride : av.row_stride;
    g.csa = trans_a ? av.row_stride : av.col_stride;
    const std::int64_t kb = trans_b ? bv.cols : bv.rows;
    g.n = trans_b ? bv.rows : bv.cols;
    g.rsb = trans_b ? bv.col_stride : bv.row_stride;
    g.csb = trans_b ? bv.row_stride : bv.col_stride;
    require(g.k == kb, fn, ": inner dimensions differ: op(a) has shape (", g.m, ", ", g.k,
            ") and op(b) has shape (", kb, ", ", g.n, ")");
    py::array out;
    if (out_arg) {
        out = std::move(*out_arg);
        require_ndim(out, 2, fn, "out");
        if (out.shape(0) != g.m || out.shape(1) != g.n)  // not require(): shape_str is costly
            fail(fn, ": out.shape ", shape_str(out), " must be (", g.m, ", ", g.n, ")");
        require_writable_c_contiguous(out, fn, "out");
        require(!overlaps(out, a), fn, ": out must not share memory with a");
        require(!overlaps(out, b), fn, ": out must not share memory with b");
    } else {
        out = py::array_t<T>({g.m, g.n});
        beta = 0.0;  // nothing to accumulate onto
    }
    g.a = av.data;
    g.b = bv.data;
    g.c = static_cast<T*>(out.mutable_data());
    g.ldc = g.n;
    g.alpha = static_cast<T>(alpha);
    g.beta = static_cast<T>(beta);
    // Safe without the GIL: the arrays are kept alive by the caller's references and nothing
    // below touches Python objects.
    py::gil_scoped_release release;
    if (reference) {
        gemm_reference(g);
    } else {
        gemm(g);
    }
    return out;
}

py::array gemm_entry(const py::array& a, const py::array& b, std::optional<py::array> out,
                     bool trans_a, bool trans_b, double alpha, double beta, bool reference) {
    const char* fn = reference ? "gemm_reference" : "matmul";
    const DType dtype = float_dtype(a, fn, "a");
    require_same_dtype(a, "a", b, "b", fn);
    if (out) require_same_dtype(a, "a", *out, "out", fn);
    require_ndim(a, 2, fn, "a");
    require_ndim(b, 2, fn, "b");
    require(std::isfinite(alpha) && std::isfinite(beta), fn,
            ": alpha and beta must be finite (got alpha=", alpha, ", beta=", beta, ")");
    if (dtype == DType::float32)
        return run_gemm<float>(a, b, std::move(out), trans_a, trans_b, alpha, beta, reference, fn);
    return run_gemm<double>(a, b, std::move(out), trans_a, trans_b, alpha, beta, reference, fn);
}

}  // namespace

void bind_gemm(py::module_& m) {
    using namespace pybind11::literals;
    m.def(
        "gemm",
        [](const py::array& a, const py::array& b, std::optional<py::array> out, bool trans_a,
           bool trans_b, double alpha, double beta) {
            return gemm_entry(a, b, std::move(out), trans_a, trans_b, alpha, beta, false);
        },
        "a"_a.noconvert(), "b"_a.noconvert(), "out"_a.noconvert().none(true), "trans_a"_a, "trans_b"_a,
        "alpha"_a, "beta"_a,
        "out = alpha * op(a) @ op(b) + beta * out, in place; a and b in any strided layout.");
    m.def(
        "gemm_reference",
        [](const py::array& a, const py::array& b, std::optional<py::array> out, bool trans_a,
           bool trans_b, double alpha, double beta) {
            return gemm_entry(a, b, std::move(out), trans_a, trans_b, alpha, beta, true);
        },
        "a"_a.noconvert(), "b"_a.noconvert(), "out"_a.noconvert().none(true), "trans_a"_a, "trans_b"_a,
        "alpha"_a, "beta"_a, "Naive triple-loop GEMM with the same contract: the test oracle.");
}

}  // namespace mlpcore::bindings
