#pragma once
// User-level DP-SGD's gradient for the LibTorch models: each sampled user's gradient (what one
// backward pass over that user's sequence left in the parameters' .grad) is clipped to L2 norm
// `clip` over all parameters together and added to a running sum; the step's gradient is that sum
// plus Gaussian noise of std noise_multiplier x clip on every coordinate, divided by the expected
// number of users per step (Abadi et al. 2016 with Poisson sampling, as Opacus does).
//
// Memory: a user's item-table gradient is sparse when the model looks items up sparsely (only the
// rows of their own events, targets and the step's negatives; Opacus's embedding trap is a dense
// per-sample [items, d] gradient), and is added row-wise into the one catalogue-sized sum the step
// needs anyway (the noise goes on every row: rows nobody touched must be as noisy as the others).
// Internal to src/nn.
#include <cstdint>
#include <vector>

#include "pch.h"

namespace driftrec::nn {

class PrivateGradient {
 public:
  /// `params`: the parameters the step updates (each once).
  PrivateGradient(std::vector<torch::Tensor> params, double clip);
  /// Clears the sum and every parameter's gradient (call before the first user of a step).
  void begin_step();
  /// Clears the parameters' gradients for the next user's backward pass.
  void clear_user();
  /// Clips the gradients the last backward pass left (dense or sparse) to L2 norm `clip` and adds
  /// them to the sum; returns the user's norm before clipping.
  double add_user();
  /// Writes (sum + N(0, (noise_multiplier x clip)^2)) / divisor into every parameter's gradient
  /// (dense), drawing the noise from torch's generator (seeded by the trainer).
  void release(double noise_multiplier, double divisor);
  std::int64_t users() const { return users_; }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> sum_;
  double clip_;
  std::int64_t users_ = 0;
};

}  // namespace driftrec::nn
