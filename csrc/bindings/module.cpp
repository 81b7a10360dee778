// The private extension module mlpcore._core. The public API is python/mlpcore.
#include <pybind11/pybind11.h>

#include "simd_level.hpp"
#include "thread_pool.hpp"

namespace py = pybind11;

namespace mlpcore::bindings {
void bind_runtime(py::module_& m);
void bind_gemm(py::module_& m);
void bind_activation(py::module_& m);
void bind_sgd(py::module_& m);
void bind_adam(py::module_& m);
void bind_trainer(py::module_& m);
void bind_checks(py::module_& m);
}  // namespace mlpcore::bindings

PYBIND11_MODULE(_core, m) {
    m.doc() = "mlpcore native kernels (private; use the mlpcore package)";
    // MLPCORE_SIMD and MLPCORE_NUM_THREADS are read once, at import; bad values fail the import.
    mlpcore::init_simd_level_from_environment();
    mlpcore::init_threads_from_environment();
    mlpcore::bindings::bind_runtime(m);
    mlpcore::bindings::bind_gemm(m);
    mlpcore::bindings::bind_activation(m);
    mlpcore::bindings::bind_sgd(m);
    mlpcore::bindings::bind_adam(m);
    mlpcore::bindings::bind_trainer(m);
    mlpcore::bindings::bind_checks(m);
}
