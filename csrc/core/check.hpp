// Argument checks shared by the core: each throws std::invalid_argument with a message that
// names the function, the argument, what was expected and what was received.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mlpcore {

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream message;
    (message << ... << parts);
    throw std::invalid_argument(message.str());
}

template <class... Parts>
void require(bool condition, const Parts&... parts) {
    if (!condition) fail(parts...);
}

}  // namespace mlpcore
