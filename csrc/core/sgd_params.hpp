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
    // Momentum step (with a velocity buffer) or plain step. Decided from the caller's momentum
    // before it is rounded to T: 1e-60 rounds to 0 in float32 but still asks for the momentum
    // step (v = 0 * v + g'), as torch.optim.SGD does.
    bool use_momentum = false;
};

}  // namespace mlpcore
