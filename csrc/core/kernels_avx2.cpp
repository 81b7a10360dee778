// All kernels compiled for the avx2 path (compiler flags for this file: see CMakeLists.txt).
#define MLPCORE_ISA_NAME avx2
#define MLPCORE_ISA_AVX2 1
#define MLPCORE_BLOCKING_F32 gemm_config::avx2_f32
#define MLPCORE_BLOCKING_F64 gemm_config::avx2_f64
#include "kernels_isa.inc"
