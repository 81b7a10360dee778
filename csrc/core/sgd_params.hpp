// Hyper-parameters of one SGD step (see sgd_kernel.hpp for the update they define).
#pragma once

namespace mlpcore {

template <class T>
struct SgdParams {
    T lr = 0;
    T momentum = 0;
    T weight_decay = 0;
    T l1 = 0;
    bool nesterov = false;
};

}  // namespace mlpcore
