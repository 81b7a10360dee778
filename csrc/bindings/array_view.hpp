// Turning numpy arrays into (pointer, shape, element strides) for the core, with the checks the
// core cannot make itself: dtype, alignment, writability, contiguity and memory overlap. Runs
// with the GIL held; the views are then used with the GIL released.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "check.hpp"

namespace mlpcore::bindings {

namespace py = pybind11;

enum class DType { float32, float64 };

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
inline constexpr char kForeignByteOrder = '<';
#else
inline constexpr char kForeignByteOrder = '>';
#endif

// Whether elements are exactly T, in native byte order. Compared by kind and size, not by dtype
// object: numpy makes new, equal dtype objects (an unpickled array has its own), and int64 has
// two type numbers ('l' and 'q') on Linux.
template <class T>
bool has_dtype(const py::dtype& d) {
    constexpr char kind = std::is_floating_point_v<T> ? 'f' : (std::is_signed_v<T> ? 'i' : 'u');
    return d.kind() == kind && d.itemsize() == static_cast<py::ssize_t>(sizeof(T)) &&
           d.byteorder() != kForeignByteOrder;
}

// float32 or float64, else TypeError naming the argument.
inline DType float_dtype(const py::array& a, const char* fn, const char* name) {
    const py::dtype d = a.dtype();
    if (has_dtype<float>(d)) return DType::float32;
    if (has_dtype<double>(d)) return DType::float64;
    throw py::type_error(std::string(fn) + ": " + name + " must be a float32 or float64 array (got " +
                         dtype_str(a) + ")");
}

inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
    return a.kind() == b.kind() && a.itemsize() == b.itemsize() &&
           a.byteorder() != kForeignByteOrder && b.byteorder() != kForeignByteOrder;
}

inline void require_same_dtype(const py::array& a, const char* a_name, const py::array& b,
                               const char* b_name, const char* fn) {
    if (!same_dtype(a.dtype(), b.dtype()))
        throw py::type_error(std::string(fn) + ": " + b_name + " must have the dtype of " + a_name +
                             " (" + dtype_str(a) + "), got " + dtype_str(b));
}

inline std::string shape_str(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t d = 0; d < a.ndim(); ++d)
        s += std::to_string(a.shape(d)) + (a.ndim() == 1 ? "," : (d + 1 < a.ndim() ? ", " : ""));
    return s + ")";
}

inline void require_ndim(const py::array& a, py::ssize_t ndim, const char* fn, const char* name) {
    // Plain `if`, not require(): its arguments (shape_str) would be built on every call.
    if (a.ndim() != ndim)
        fail(fn, ": ", name, " must be a ", ndim, "-D array (got ", a.ndim(), "-D with shape ",
             shape_str(a), ")");
}

// C-contiguous and aligned to its element size: the kernels load whole elements (a view at an
// odd byte offset, from np.frombuffer, is C-contiguous but not aligned, and np.ascontiguousarray
// keeps it as it is; np.require(a, requirements="CA") or a.copy() gives an aligned array).
inline void require_c_contiguous(const py::array& a, const char* fn, const char* name) {
    require((a.flags() & py::array::c_style) != 0, fn, ": ", name,
            " must be C-contiguous (use np.ascontiguousarray)");
    // C order makes every element aligned once the first one is (strides are whole items).
    require(reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(a.itemsize()) == 0, fn, ": ", name,
            " must be aligned to its element size (use np.require(x, requirements=\"CA\"))");
}

inline void require_writable_c_contiguous(const py::array& a, const char* fn, const char* name) {
    require(a.writeable(), fn, ": ", name, " must be writable (got a read-only array)");
    require_c_contiguous(a, fn, name);
}

inline void require_same_shape(const py::array& a, const char* a_name, const py::array& b,
                               const char* b_name, const char* fn) {
    bool same = a.ndim() == b.ndim();
    for (py::ssize_t d = 0; same && d < a.ndim(); ++d) same = a.shape(d) == b.shape(d);
    if (!same)
        fail(fn, ": ", b_name, ".shape ", shape_str(b), " must equal ", a_name, ".shape ",
             shape_str(a));
}

// Byte range [lo, hi) an array's elements can touch.
struct Extent {
    std::uintptr_t lo = 0, hi = 0;
};

inline Extent extent(const py::array& a) {
    auto base = reinterpret_cast<std::uintptr_t>(a.data());
    std::intptr_t lo = 0, hi = static_cast<std::intptr_t>(a.itemsize());
    for (py::ssize_t d = 0; d < a.ndim(); ++d) {
        if (a.shape(d) == 0) return {base, base};
        const std::intptr_t span = static_cast<std::intptr_t>(a.strides(d)) * (a.shape(d) - 1);
        (span < 0 ? lo : hi) += span;
    }
    return {base + lo, base + hi};
}

inline bool overlaps(const py::array& a, const py::array& b) {
    const Extent x = extent(a), y = extent(b);
    return x.lo < x.hi && y.lo < y.hi && x.lo < y.hi && y.lo < x.hi;
}

// Exactly the same elements (allowed for elementwise in-place work).
inline bool same_memory(const py::array& a, const py::array& b) {
    if (a.data() != b.data() || a.ndim() != b.ndim()) return false;
    for (py::ssize_t d = 0; d < a.ndim(); ++d)
        if (a.shape(d) != b.shape(d) || a.strides(d) != b.strides(d)) return false;
    return true;
}

// A 2-D matrix with element strides, for operands that packing reads in any layout.
template <class T>
struct MatrixView {
    const T* data;
    std::int64_t rows, cols;
    std::ptrdiff_t row_stride, col_stride;
};

template <class T>
MatrixView<T> matrix_view(const py::array& a, const char* fn, const char* name) {
    const auto item = static_cast<py::ssize_t>(sizeof(T));
    require(reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) == 0 && a.strides(0) % item == 0 &&
                a.strides(1) % item == 0,
            fn, ": ", name, " must be aligned to its element size (use np.require(x, requirements=\"CA\"))");
    return {static_cast<const T*>(a.data()), a.shape(0), a.shape(1), a.strides(0) / item,
            a.strides(1) / item};
}

}  // namespace mlpcore::bindings
