#include "activation_kind.hpp"

#include "check.hpp"

namespace mlpcore {
namespace {
constexpr const char* kNames[kNumActivations] = {"identity", "sigmoid",    "tanh",
                                                 "relu",     "leaky_relu", "softplus"};
}

const char* activation_name(Activation kind) { return kNames[static_cast<int>(kind)]; }

std::string activation_names() {
    std::string names;
    for (int i = 0; i < kNumActivations; ++i) names += (i ? ", " : "") + std::string(kNames[i]);
    return names;
}

Activation parse_activation(const std::string& name) {
    for (int i = 0; i < kNumActivations; ++i)
        if (name == kNames[i]) return static_cast<Activation>(i);
    fail("unknown activation '", name, "' (expected one of: ", activation_names(), ")");
}

}  // namespace mlpcore
