// All kernels compiled for the generic path (compiler flags for this file: see CMakeLists.txt).
#define MLPCORE_ISA_NAME generic
#define MLPCORE_ISA_GENERIC 1
#define MLPCORE_BLOCKING_F32 gemm_config::generic_f32
#define MLPCORE_BLOCKING_F64 gemm_config::generic_f64
#include "kernels_isa.inc"
