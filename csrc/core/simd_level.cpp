#include "simd_level.hpp"

#include <atomic>
#include <cstdlib>

#include "check.hpp"

namespace mlpcore {
namespace {

std::atomic<SimdLevel> g_level{SimdLevel::generic};

}  // namespace

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::avx512: return "avx512";
        case SimdLevel::avx2: return "avx2";
        case SimdLevel::generic: return "generic";
    }
    return "generic";
}

SimdLevel parse_simd_level(const std::string& name) {
    if (name == "avx512") return SimdLevel::avx512;
    if (name == "avx2") return SimdLevel::avx2;
    if (name == "generic") return SimdLevel::generic;
    fail("simd level must be one of 'avx512', 'avx2', 'generic' (got '", name, "')");
}

bool cpu_supports(SimdLevel level) {
#if defined(__x86_64__) || defined(_M_X64)
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
    switch (level) {
        case SimdLevel::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
                   __builtin_cpu_supports("fma");
        case SimdLevel::avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case SimdLevel::generic:
            return true;
    }
    return false;
#else
    return level == SimdLevel::generic;
#endif
}

std::vector<SimdLevel> supported_simd_levels() {
    std::vector<SimdLevel> levels;
    for (SimdLevel level : {SimdLevel::generic, SimdLevel::avx2, SimdLevel::avx512})
        if (cpu_supports(level)) levels.push_back(level);
    return levels;
}

SimdLevel active_simd_level() { return g_level.load(std::memory_order_relaxed); }

void set_simd_level(SimdLevel level) {
    require(cpu_supports(level), "simd level '", simd_level_name(level),
            "' is not supported by this CPU (supported: ",
            [] {
                std::string names;
                for (SimdLevel l : supported_simd_levels())
                    names += (names.empty() ? "" : ", ") + std::string(simd_level_name(l));
                return names;
            }(),
            ")");
    g_level.store(level, std::memory_order_relaxed);
}

void init_simd_level_from_environment() {
    const char* forced = std::getenv("MLPCORE_SIMD");
    if (forced != nullptr && *forced != '\0') {
        SimdLevel level;
        try {
            level = parse_simd_level(forced);
        } catch (const std::invalid_argument&) {
            fail("MLPCORE_SIMD must be one of 'avx512', 'avx2', 'generic' (got '", forced, "')");
        }
        set_simd_level(level);
        return;
    }
    g_level.store(supported_simd_levels().back(), std::memory_order_relaxed);
}

}  // namespace mlpcore
