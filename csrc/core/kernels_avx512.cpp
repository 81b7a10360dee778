// All kernels compiled for the avx512 path (compiler flags for this file: see CMakeLists.txt).
#define MLPCORE_ISA_NAME avx512
// The compiler flags enable the instructions on x86-64; elsewhere this table holds portable
// code that is never selected (cpu_supports() is false there).
#if defined(__AVX512F__) && defined(__FMA__)
#define MLPCORE_ISA_AVX512 1
#endif
#define MLPCORE_BLOCKING_F32 gemm_config::avx512_f32
#define MLPCORE_BLOCKING_F64 gemm_config::avx512_f64
#include "kernels_isa.inc"
