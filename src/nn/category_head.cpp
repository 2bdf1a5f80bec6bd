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

// Log-sum-exp of v [N, P] over the columns of each group (group [P] long in 0..n_groups-1) ->
// [N, n_groups]; each group shifted by its own maximum (a constant: no gradient). A group without a
// column comes out -inf.
torch::Tensor group_logsumexp(const torch::Tensor& v, const torch::Tensor& group, int64_t n_groups) {
  const auto N = v.size(0);
  const auto idx = group.unsqueeze(0).expand({N, v.size(1)});
  const auto top = torch::full({N, n_groups}, -INFINITY, v.options())
                       .scatter_reduce(1, idx, v.detach(), "amax", /*include_self=*/true);
  const auto sums = torch::zeros({N, n_groups}, v.options()).scatter_add(1, idx, torch::exp(v - top.gather(1, idx)));
  return top + torch::log(sums);
}

// Each item's pairs as a table [n_items, K] (K: the most classes an item has; unused slots hold P,
// one past the last pair), from pair_item [P] in item order.
torch::Tensor pair_table(const torch::Tensor& pair_item) {
  const auto P = pair_item.size(0);
  const auto per_item = torch::bincount(pair_item, {}, pair_item[P - 1].item<int64_t>() + 1);
  const auto first = per_item.cumsum(0) - per_item;
  const auto pairs = torch::arange(P, pair_item.options());
  const auto slot = pairs - first.index_select(0, pair_item);
  auto table = torch::full({per_item.size(0), slot.max().item<int64_t>() + 1}, P, pair_item.options());
  return table.index_put_({pair_item, slot}, pairs);
}

// The scores z [N, n_items] with column 0 (the padding) at 0: it may come masked (-inf) from the
// serving path, and it is alone in its class, so any finite value gives the same result.
torch::Tensor padding_at_zero(const torch::Tensor& z) {
  return torch::cat({torch::zeros({z.size(0), 1}, z.options()), z.slice(1, 1)}, 1);
}

}  // namespace

CategoryHeadImpl::CategoryHeadImpl(int64_t state_dim, int64_t n_classes_, const torch::Tensor& item_class_,
                                   const torch::Tensor& initial_bias, double prior_decay_,
                                   const torch::Tensor& pair_item_)
    : n_classes(n_classes_), enc_dim(state_dim), prior_decay(prior_decay_) {
  if (n_classes < 1) throw InvalidInput("category softmax: needs at least one category");
  if (item_class_.dim() != 1 || item_class_.numel() < 1 || initial_bias.sizes() != item_class_.sizes())
    throw InvalidInput("category softmax: one class and one bias per item");
  if (pair_item_.defined()) {
    // Pairs ascending by item, each item at least once (steps of 0 or 1 from item 0), the padding once.
    const auto pi = pair_item_.to(torch::kLong);
    const auto steps = pi.slice(0, 1) - pi.slice(0, 0, -1);
    if (pi.sizes() != item_class_.sizes() || pi[0].item<int64_t>() != 0 ||
        (pi.numel() > 1 &&
         (pi[1].item<int64_t>() != 1 || steps.lt(0).any().item<bool>() || steps.gt(1).any().item<bool>())))
      throw InvalidInput("category softmax: (item, class) pairs must list every item in order, the padding once");
    pair_item = register_buffer("pair_item", pi.clone());
    pair_slots = register_buffer("pair_slots", pair_table(pair_item));
  }
  classes = register_module("classes", torch::nn::Linear(state_dim, n_classes));
  auto cls = item_class_.to(torch::kLong).clone();
  cls[0] = n_classes;  // the padding's own class (its only pair in a mixture)
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

bool CategoryHeadImpl::dense_class_sums(int64_t n_items) const { return n_items * (n_classes + 1) <= kDenseClassSums; }

torch::Tensor CategoryHeadImpl::class_lse(const torch::Tensor& zi) const {
  const auto n = zi.size(1), C = n_classes + 1;
  const auto rows = mixture() ? pair_item : torch::arange(n, item_class.options());
  if (dense_class_sums(n)) {
    // exp(z - max z) [N, n] times A [n, C], A[i, c] = exp(bias of the pair (i, c) - max bias): no
    // per-pair copy of the scores. A class far below the row's best can underflow: then the exact path.
    const auto zmax = zi.detach().amax(1, true);
    const auto bmax = bias.detach().max();
    const auto A = torch::zeros({n, C}, zi.options()).index_put({rows, item_class}, torch::exp(bias - bmax), true);
    const auto sums = torch::matmul(torch::exp(zi - zmax), A);
    if (sums.min().item<float>() > 1e-30f) return torch::log(sums) + zmax + bmax;
  }
  return group_logsumexp(zi.index_select(1, rows) + bias.unsqueeze(0), item_class, C);
}

torch::Tensor CategoryHeadImpl::history_mix(const torch::Tensor& items) const {
  const auto B = items.size(0), L = items.size(1);
  const auto pos = torch::arange(L, items.options());
  const auto age = pos.unsqueeze(1) - pos.unsqueeze(0);  // [t, p]: t - p
  const auto weight =
      torch::exp(age.clamp_min(0).to(torch::kFloat) * std::log(prior_decay)) * age.ge(0).to(torch::kFloat);
  // counts[b, t, class of item p] += weight[t, p] (x the item's share of each of its classes): no
  // one-hot [B, L, classes] of the items. Class n_classes is the padding's, n_classes + 1 a mixture's
  // unused slots; neither counts.
  auto counts = torch::zeros({B, L, n_classes + 2}, weight.options());
  const auto flat = items.flatten();
  const auto add = [&](const torch::Tensor& table, const torch::Tensor& share) {
    auto src = weight.unsqueeze(0).expand({B, L, L});
    if (share.defined()) src = src * share.index_select(0, flat).view({B, 1, L});
    counts.scatter_add_(2, table.index_select(0, flat).view({B, 1, L}).expand({B, L, L}).contiguous(),
                        src.contiguous());
  };
  if (mixture()) {
    const auto P = pair_item.size(0);
    const auto share = 1.0 / pair_slots.lt(P).sum(1).to(torch::kFloat);  // an event split over the item's classes
    const auto cls = torch::cat({item_class, torch::full({1}, n_classes + 1, item_class.options())});  // unused slot
    const auto table = cls.index_select(0, pair_slots.flatten()).view_as(pair_slots);
    for (int64_t k = 0; k < table.size(1); ++k) add(table.select(1, k), share);
  } else {
    add(item_class, torch::Tensor());
  }
  counts = counts.narrow(2, 0, n_classes);
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
  const auto zi = padding_at_zero(z);
  // Per item (pair): log p(c) + log p(i | c); a mixture's item: the log-sum-exp over its pairs.
  const auto idx = item_class.unsqueeze(0).expand({z.size(0), item_class.size(0)});
  const auto lp = (class_log_probs(h) - class_lse(zi)).gather(1, idx) +
                  (mixture() ? zi.index_select(1, pair_item) : zi) + bias.unsqueeze(0);
  return mixture() ? group_logsumexp(lp, pair_item, z.size(1)) : lp;
}

torch::Tensor CategoryHeadImpl::target_log_probs(const torch::Tensor& h, const torch::Tensor& z,
                                                 const torch::Tensor& targets) {
  if (!mixture() && !dense_class_sums(z.size(1))) {        // one masked log-sum-exp over each target's class
    const auto cls = item_class.index_select(0, targets);  // [N]
    const auto zb = z + bias.unsqueeze(0);                 // column 0 is in the padding's class, never a target's
    const auto lse = torch::logsumexp(zb.masked_fill(item_class.unsqueeze(0).ne(cls.unsqueeze(1)), -INFINITY), 1);
    return class_log_probs(h).gather(1, cls.unsqueeze(1)).squeeze(1) + zb.gather(1, targets.unsqueeze(1)).squeeze(1) -
           lse;
  }
  // Over each target's own pairs (one per item without a mixture; P marks a mixture's unused slot),
  // every class summed once for all targets.
  const auto zi = padding_at_zero(z);
  const auto P = item_class.size(0);
  const auto pairs = mixture() ? pair_slots.index_select(0, targets) : targets.unsqueeze(1);  // [N, K]
  const auto real = pairs.clamp_max(P - 1);
  const auto cls = item_class.index_select(0, real.flatten()).view_as(real);
  const auto lp = (class_log_probs(h) - class_lse(zi)).gather(1, cls) + zi.gather(1, targets.unsqueeze(1)) +
                  bias.index_select(0, real.flatten()).view_as(real);
  return torch::logsumexp(lp.masked_fill(pairs.eq(P), -INFINITY), 1);
}

}  // namespace driftrec::nn
