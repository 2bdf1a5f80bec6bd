#include "category_head.h"

#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::nn {

CategoryHeadImpl::CategoryHeadImpl(int64_t state_dim, int64_t n_classes_, const torch::Tensor& item_class_,
                                   const torch::Tensor& initial_bias)
    : n_classes(n_classes_) {
  if (n_classes < 1) throw InvalidInput("category softmax: needs at least one category");
  if (item_class_.dim() != 1 || initial_bias.sizes() != item_class_.sizes())
    throw InvalidInput("category softmax: one class and one bias per item");
  classes = register_module("classes", torch::nn::Linear(state_dim, n_classes));
  auto cls = item_class_.to(torch::kLong).clone();
  cls[0] = n_classes;  // the padding's own class
  if (cls.slice(0, 1).numel() > 0 &&
      (cls.slice(0, 1).min().item<int64_t>() < 0 || cls.slice(0, 1).max().item<int64_t>() >= n_classes))
    throw InvalidInput("category softmax: an item's class is out of range");
  // Every class needs an item: an empty class would keep probability that no item receives.
  if (cls.slice(0, 1).bincount({}, n_classes).eq(0).any().item<bool>())
    throw InvalidInput("category softmax: a class without items");
  item_class = register_buffer("item_class", cls);
  bias = register_parameter("bias", initial_bias.to(torch::kFloat).clone());
}

torch::Tensor CategoryHeadImpl::class_log_probs(const torch::Tensor& h) {
  const auto logits = torch::linear(h, classes->weight, classes->bias);
  const auto pad = torch::full({h.size(0), 1}, kPaddingClassLogit, logits.options());
  return torch::log_softmax(torch::cat({logits, pad}, 1), 1);
}

torch::Tensor CategoryHeadImpl::log_probs(const torch::Tensor& h, const torch::Tensor& z) {
  const auto N = z.size(0), n = z.size(1);
  // Column 0 (the padding) may come masked (-inf) from the serving path: it is alone in its class,
  // so any finite value gives the same result.
  auto zb = torch::cat({torch::zeros({N, 1}, z.options()), z.slice(1, 1)}, 1) + bias.unsqueeze(0);
  const auto idx = item_class.unsqueeze(0).expand({N, n});
  // Per-class log-sum-exp, shifted by the row's maximum (constant: no gradient) and summed in double
  // precision, where a class would have to sit 700 nats below the row's best item to underflow
  // (LibTorch 1.13's per-class maximum, scatter_reduce, is a beta API that warns on first use).
  const auto zd = zb.to(torch::kDouble);
  const auto top = std::get<0>(zd.detach().max(1, /*keepdim=*/true));
  const auto sums = torch::zeros({N, n_classes + 1}, zd.options()).scatter_add(1, idx, torch::exp(zd - top));
  const auto lse_of_item = (top + torch::log(sums)).gather(1, idx).to(z.scalar_type());
  return class_log_probs(h).gather(1, idx) + zb - lse_of_item;
}

}  // namespace driftrec::nn
