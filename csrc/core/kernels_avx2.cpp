// All kernels compiled for the avx2 path (compiler flags for this file: see CMakeLists.txt).
#define MLPCORE_ISA_NAME avx2
// The compiler flags enable the instructions on x86-64; elsewhere this table holds portable
// code that is never selected (cpu_supports() is false there).
#if defined(__AVX2__) && defined(__FMA__)
#define MLPCORE_ISA_AVX2 1
#endif
#define MLPCORE_BLOCKING_F32 gemm_config::avx2_f32
#define MLPCORE_BLOCKING_F64 gemm_config::avx2_f64
#include "kernels_isa.inc"
