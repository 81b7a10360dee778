// mlpcore._core runtime settings: SIMD level and thread count.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "simd_level.hpp"
#include "thread_pool.hpp"

namespace mlpcore::bindings {

namespace py = pybind11;

void bind_runtime(py::module_& m) {
    using namespace pybind11::literals;
    m.def("simd_level", [] { return std::string(simd_level_name(active_simd_level())); },
          "The SIMD path the kernels use: 'avx512', 'avx2' or 'generic'.");
    m.def("set_simd_level", [](const std::string& name) { set_simd_level(parse_simd_level(name)); },
          "name"_a, "Switch to a SIMD path this CPU supports.");
    m.def("supported_simd_levels", [] {
        std::vector<std::string> names;
        for (SimdLevel level : supported_simd_levels()) names.emplace_back(simd_level_name(level));
        return names;
    });
    m.def("get_num_threads", &get_num_threads);
    // Waits for a running call on other threads to finish, so release the GIL meanwhile.
    m.def("set_num_threads", &set_num_threads, "n"_a, py::call_guard<py::gil_scoped_release>());
    m.def("available_cores", &available_cores);
}

}  // namespace mlpcore::bindings
