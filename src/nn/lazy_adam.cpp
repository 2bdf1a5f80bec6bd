#include "lazy_adam.h"

#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::nn {

LazyAdam::LazyAdam(torch::Tensor param, double lr, double weight_decay, double beta1, double beta2, double eps)
    : param_(std::move(param)),
      m_(torch::zeros_like(param_)),
      v_(torch::zeros_like(param_)),
      lr_(lr),
      weight_decay_(weight_decay),
      beta1_(beta1),
      beta2_(beta2),
      eps_(eps) {
  if (param_.dim() != 2) throw InvalidInput("LazyAdam: the parameter must be a [rows, columns] table");
}

void LazyAdam::zero_grad() {
  if (param_.grad().defined()) param_.mutable_grad() = torch::Tensor();
}

void LazyAdam::step() {
  const auto g = param_.grad();
  if (!g.defined()) return;
  torch::NoGradGuard no_grad;
  ++t_;
  torch::Tensor rows, grad;
  if (g.is_sparse()) {
    const auto c = g.coalesce();
    rows = c.indices()[0];
    grad = c.values();
  } else {
    rows = torch::arange(param_.size(0), torch::kLong);
    grad = g;
  }
  auto m = m_.index_select(0, rows).mul_(beta1_).add_(grad, 1 - beta1_);
  auto v = v_.index_select(0, rows).mul_(beta2_).addcmul_(grad, grad, 1 - beta2_);
  m_.index_copy_(0, rows, m);
  v_.index_copy_(0, rows, v);
  const double bc1 = 1 - std::pow(beta1_, static_cast<double>(t_));
  const double bc2 = 1 - std::pow(beta2_, static_cast<double>(t_));
  auto p = param_.index_select(0, rows);
  if (weight_decay_ != 0) p.mul_(1 - lr_ * weight_decay_);
  p.addcdiv_(m, (v.sqrt() / std::sqrt(bc2)).add_(eps_), -lr_ / bc1);
  param_.index_copy_(0, rows, p);
}

std::vector<torch::Tensor> LazyAdam::state() const { return {m_, v_, torch::tensor({t_}, torch::kLong)}; }

void LazyAdam::load_state(const std::vector<torch::Tensor>& s) {
  if (s.size() != 3 || !s[0].sizes().equals(m_.sizes()) || !s[1].sizes().equals(v_.sizes()))
    throw CorruptModel("LazyAdam: optimiser state of another shape");
  torch::NoGradGuard no_grad;
  m_.copy_(s[0]);
  v_.copy_(s[1]);
  t_ = s[2].item<int64_t>();
}

}  // namespace driftrec::nn
