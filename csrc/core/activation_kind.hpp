// The activation functions the library knows, by name.
#pragma once

#include <string>

namespace mlpcore {

enum class Activation { identity = 0, sigmoid, tanh, relu, leaky_relu, softplus };
inline constexpr int kNumActivations = 6;

const char* activation_name(Activation kind);
Activation parse_activation(const std::string& name);  // throws invalid_argument listing names
std::string activation_names();                        // "identity, sigmoid, ..."

}  // namespace mlpcore
