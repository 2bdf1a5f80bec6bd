#include "private_gradient.h"

#include <cmath>

namespace driftrec::nn {

PrivateGradient::PrivateGradient(std::vector<torch::Tensor> params, double clip)
    : params_(std::move(params)), clip_(clip) {
  torch::NoGradGuard g;
  for (const auto& p : params_) sum_.push_back(torch::zeros_like(p));
}

void PrivateGradient::begin_step() {
  torch::NoGradGuard g;
  for (auto& s : sum_) s.zero_();
  users_ = 0;
  clear_user();
}

void PrivateGradient::clear_user() {
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

double PrivateGradient::add_user() {
  torch::NoGradGuard g;
  double sq = 0;
  for (auto& p : params_) {
    if (!p.grad().defined()) continue;
    // Rows looked up several times count once, with their summed gradient.
    if (p.grad().is_sparse()) p.mutable_grad() = p.grad().coalesce();
    const auto v = p.grad().is_sparse() ? p.grad()._values() : p.grad();
    sq += v.pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(sq);
  const double scale = norm > clip_ ? clip_ / norm : 1.0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto& grad = params_[i].grad();
    if (!grad.defined()) continue;
    if (grad.is_sparse())
      sum_[i].index_add_(0, grad._indices()[0], grad._values() * scale);
    else
      sum_[i].add_(grad, scale);
  }
  ++users_;
  return norm;
}

void PrivateGradient::release(double noise_multiplier, double divisor) {
  torch::NoGradGuard g;
  const double std = noise_multiplier * clip_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto grad = sum_[i].clone();
    if (std > 0) grad.add_(torch::randn_like(grad), std);
    params_[i].mutable_grad() = grad.div_(divisor);
  }
}

}  // namespace driftrec::nn
