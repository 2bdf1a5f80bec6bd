#include "category_head.h"

#include <cmath>
#include <mutex>

#include "driftrec/core/error.h"

namespace driftrec::nn {

namespace {

// LibTorch 1.13 marks scatter_reduce "beta" and says so once per process on stderr. The first call
// is made here with the warning handler silenced, so the CLI's output stays clean; other threads'
// LibTorch warnings in that instant would be dropped too (the handler is process-wide).
struct Quiet : c10::WarningHandler {
  void process(const c10::SourceLocation&, const std::string&, bool) override {}
};
void first_scatter_reduce_quietly() {
  static std::once_flag once;
  std::call_once(once, [] {
    static Quiet quiet;
    const c10::Warning::WarningHandlerGuard guard(&quiet);
    torch::zeros({1}).scatter_reduce(0, torch::zeros({1}, torch::kLong), torch::zeros({1}), "amax", true);
  });
}

}  // namespace

CategoryHeadImpl::CategoryHeadImpl(int64_t state_dim, int64_t n_classes_, const torch::Tensor& item_class_,
                                   const torch::Tensor& initial_bias, double prior_decay_)
    : n_classes(n_classes_), enc_dim(state_dim), prior_decay(prior_decay_) {
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
  first_scatter_reduce_quietly();
  bias = register_parameter("bias", initial_bias.to(torch::kFloat).clone());
  if (history_prior()) {  // stored divided by kPriorStep, so that the optimiser moves them kPriorStep times faster
    if (!(prior_decay > 0.0 && prior_decay < 1.0))
      throw InvalidInput("category prior: the decay per event must be in (0, 1)");
    prior_scale = register_parameter("prior_scale", torch::full({1}, std::log(std::exp(1.0) - 1.0) / kPriorStep));
    prior_floor = register_parameter("prior_floor", torch::full({1}, std::log(std::exp(0.1) - 1.0) / kPriorStep));
  }
}

torch::Tensor CategoryHeadImpl::history_mix(const torch::Tensor& items) const {
  const auto B = items.size(0), L = items.size(1);
  const auto cls = item_class.index_select(0, items.flatten()).view_as(items);  // padding: class n_classes
  const auto pos = torch::arange(L, items.options());
  const auto age = pos.unsqueeze(1) - pos.unsqueeze(0);  // [t, p]: t - p
  const auto weight =
      torch::exp(age.clamp_min(0).to(torch::kFloat) * std::log(prior_decay)) * age.ge(0).to(torch::kFloat);
  // counts[b, t, class of item p] += weight[t, p]: no one-hot [B, L, classes] of the items.
  const auto counts = torch::zeros({B, L, n_classes + 1}, weight.options())
                          .scatter_add_(2, cls.unsqueeze(1).expand({B, L, L}).contiguous(),
                                        weight.unsqueeze(0).expand({B, L, L}).contiguous())
                          .narrow(2, 0, n_classes);  // the padding's class counts for nothing
  return counts / counts.sum(-1, true).clamp_min(1e-6);
}

nlohmann::json CategoryHeadImpl::prior_report() const {
  return {{"decay_per_event", prior_decay},
          {"half_life_events", std::log(0.5) / std::log(prior_decay)},
          {"scale", torch::softplus(prior_scale * kPriorStep).item<double>()},
          {"floor", torch::softplus(prior_floor * kPriorStep).item<double>()}};
}

torch::Tensor CategoryHeadImpl::class_log_probs(const torch::Tensor& h) {
  auto logits = torch::linear(h.narrow(1, 0, enc_dim), classes->weight, classes->bias);
  if (history_prior())
    logits = logits + torch::softplus(prior_scale * kPriorStep) *
                          torch::log(h.narrow(1, enc_dim, n_classes) + torch::softplus(prior_floor * kPriorStep));
  const auto pad = torch::full({h.size(0), 1}, kPaddingClassLogit, logits.options());
  return torch::log_softmax(torch::cat({logits, pad}, 1), 1);
}

torch::Tensor CategoryHeadImpl::log_probs(const torch::Tensor& h, const torch::Tensor& z) {
  const auto N = z.size(0), n = z.size(1);
  // Column 0 (the padding) may come masked (-inf) from the serving path: it is alone in its class,
  // so any finite value gives the same result.
  auto zb = torch::cat({torch::zeros({N, 1}, z.options()), z.slice(1, 1)}, 1) + bias.unsqueeze(0);
  const auto idx = item_class.unsqueeze(0).expand({N, n});
  // Per-class log-sum-exp, each class shifted by its own maximum (a constant: no gradient).
  const auto top = torch::full({N, n_classes + 1}, -INFINITY, z.options())
                       .scatter_reduce(1, idx, zb.detach(), "amax", /*include_self=*/true);
  const auto sums =
      torch::zeros({N, n_classes + 1}, z.options()).scatter_add(1, idx, torch::exp(zb - top.gather(1, idx)));
  const auto lse_of_item = (top + torch::log(sums)).gather(1, idx);
  return class_log_probs(h).gather(1, idx) + zb - lse_of_item;
}

torch::Tensor CategoryHeadImpl::target_log_probs(const torch::Tensor& h, const torch::Tensor& z,
                                                 const torch::Tensor& targets) {
  const auto cls = item_class.index_select(0, targets);  // [N]
  const auto zb = z + bias.unsqueeze(0);                 // column 0 is in the padding's class, never a target's
  const auto lse = torch::logsumexp(zb.masked_fill(item_class.unsqueeze(0).ne(cls.unsqueeze(1)), -INFINITY), 1);
  return class_log_probs(h).gather(1, cls.unsqueeze(1)).squeeze(1) + zb.gather(1, targets.unsqueeze(1)).squeeze(1) -
         lse;
}

}  // namespace driftrec::nn
