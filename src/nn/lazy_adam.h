#pragma once
// Adam with decoupled weight decay (AdamW) for one embedding table whose gradient is sparse: only
// the rows a batch touched are updated, as TensorFlow's LazyAdam does. With sampled negatives a
// batch touches a few thousand of the catalogue's rows; a dense optimiser would still read and
// write every row's parameters and both moments at every step, which at a million items costs far
// more than the batch itself. Rows a batch did not touch keep their parameters and moments (dense
// AdamW would keep moving them on their decaying moments, and decay their weights). Bias
// corrections use the global step. Given a dense gradient it updates every row, exactly as
// torch::optim::AdamW does.
#include <vector>

#include "pch.h"

namespace driftrec::nn {

class LazyAdam {
 public:
  LazyAdam(torch::Tensor param, double lr, double weight_decay, double beta1 = 0.9, double beta2 = 0.999,
           double eps = 1e-8);
  void set_lr(double lr) { lr_ = lr; }
  void zero_grad();
  /// One update from param.grad() (sparse COO over rows, or dense); no-op without a gradient.
  void step();
  /// The moments and the step count, for checkpoints; load_state takes what state() returned.
  std::vector<torch::Tensor> state() const;
  void load_state(const std::vector<torch::Tensor>& s);

 private:
  torch::Tensor param_, m_, v_;
  double lr_, weight_decay_, beta1_, beta2_, eps_;
  int64_t t_ = 0;
};

}  // namespace driftrec::nn
