#include "kernel_table.hpp"

namespace mlpcore {

const KernelTable& kernels_for(SimdLevel level) {
    switch (level) {
        case SimdLevel::avx512: return kernels_avx512();
        case SimdLevel::avx2: return kernels_avx2();
        case SimdLevel::generic: break;
    }
    return kernels_generic();
}

template <>
const TypedKernels<float>& active_kernels<float>() {
    return kernels_for(active_simd_level()).f32;
}

template <>
const TypedKernels<double>& active_kernels<double>() {
    return kernels_for(active_simd_level()).f64;
}

}  // namespace mlpcore
