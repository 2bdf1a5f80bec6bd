#include "weight_average.h"

#include <algorithm>

#include "driftrec/core/error.h"

namespace driftrec::nn {

WeightAverage::WeightAverage(const std::vector<torch::Tensor>& params, double decay) : decay_(decay) {
  if (!(decay > 0.0 && decay < 1.0)) throw InvalidInput("weight_average must be in (0, 1) (0 = off)");
  torch::NoGradGuard g;
  for (const auto& p : params) average_.push_back(p.detach().clone());
}

double WeightAverage::decay_at(double decay, int64_t step) {
  const auto t = static_cast<double>(step);
  return std::min(decay, (1.0 + t) / (10.0 + t));
}

void WeightAverage::update(const std::vector<torch::Tensor>& params, int64_t step) {
  const double keep = decay_at(decay_, step);
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < params.size(); ++i) average_[i].lerp_(params[i].detach(), 1.0 - keep);
}

void WeightAverage::apply(const std::vector<torch::Tensor>& params) {
  if (applied_) return;
  torch::NoGradGuard g;
  raw_.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    raw_.push_back(params[i].detach().clone());
    params[i].copy_(average_[i]);
  }
  applied_ = true;
}

void WeightAverage::restore(const std::vector<torch::Tensor>& params) {
  if (!applied_) return;
  torch::NoGradGuard g;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(raw_[i]);
  raw_.clear();
  applied_ = false;
}

}  // namespace driftrec::nn
