// All kernels compiled for the avx512 path (compiler flags for this file: see CMakeLists.txt).
#define MLPCORE_ISA_NAME avx512
#define MLPCORE_ISA_AVX512 1
#define MLPCORE_BLOCKING_F32 gemm_config::avx512_f32
#define MLPCORE_BLOCKING_F64 gemm_config::avx512_f64
#include "kernels_isa.inc"
