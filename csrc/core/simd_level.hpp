// Which instruction set the kernels use. Chosen once at import (widest the CPU offers, or the
// MLPCORE_SIMD environment variable), changeable afterwards only to a level the CPU supports.
#pragma once

#include <string>
#include <vector>

namespace mlpcore {

enum class SimdLevel { generic = 0, avx2 = 1, avx512 = 2 };

const char* simd_level_name(SimdLevel level);
SimdLevel parse_simd_level(const std::string& name);  // throws invalid_argument on unknown names
bool cpu_supports(SimdLevel level);
std::vector<SimdLevel> supported_simd_levels();  // narrowest first

SimdLevel active_simd_level();
void set_simd_level(SimdLevel level);  // throws invalid_argument when the CPU lacks it

// Applies MLPCORE_SIMD if set, else picks the widest supported level.
void init_simd_level_from_environment();

}  // namespace mlpcore
