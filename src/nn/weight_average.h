#pragma once
// An exponential moving average of the weights over optimiser steps (Polyak averaging as in
// TensorFlow's ExponentialMovingAverage, with its warm-up: decay min(d, (1 + t) / (10 + t)) at step t),
// internal to the nn layer. Validation, the best-so-far weights and the released model use the
// average; training continues from the raw weights, which apply() sets aside and restore() brings back.
#include <cstdint>
#include <vector>

#include "pch.h"

namespace driftrec::nn {

class WeightAverage {
 public:
  /// decay in (0, 1); `params` are the weights averaged (their current values start the average).
  WeightAverage(const std::vector<torch::Tensor>& params, double decay);
  /// After optimiser step `step` (1-based): average += (1 - decay_t) * (params - average).
  void update(const std::vector<torch::Tensor>& params, int64_t step);
  /// Sets the raw weights aside and puts the average in `params` (no-op when already applied).
  void apply(const std::vector<torch::Tensor>& params);
  /// Puts the raw weights back (no-op when the average is not applied).
  void restore(const std::vector<torch::Tensor>& params);
  bool applied() const { return applied_; }
  /// The averaged tensors (checkpointed beside the raw weights).
  std::vector<torch::Tensor>& tensors() { return average_; }
  static double decay_at(double decay, int64_t step);

 private:
  double decay_;
  std::vector<torch::Tensor> average_, raw_;
  bool applied_ = false;
};

}  // namespace driftrec::nn
