#include "loss.h"

#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::nn {

torch::Tensor RepeatBonus::of(const torch::Tensor& items_per_row) const {
  return (weights * items.eq(items_per_row.unsqueeze(1))).sum(-1);
}

torch::Tensor RepeatBonus::dense(int64_t n_items) const {
  return torch::zeros({weights.size(0), n_items}, weights.options()).scatter_add(1, items, weights);
}

torch::Tensor SoftmaxLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                      const RepeatBonus& repeat) const {
  auto logits = scorer.scores(h, torch::Tensor());
  if (repeat.defined()) logits = logits + repeat.dense(logits.size(1));
  return torch::nn::functional::cross_entropy(logits, targets);
}

torch::Tensor BinaryLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                     const RepeatBonus& repeat) const {
  auto neg = torch::randint(1, scorer.n_items(), {targets.size(0)}, torch::kLong);
  auto pos_logit = scorer.row_scores(h, targets);
  auto neg_logit = scorer.row_scores(h, neg);
  if (repeat.defined()) {
    pos_logit = pos_logit + repeat.of(targets);
    neg_logit = neg_logit + repeat.of(neg);
  }
  return -(torch::log_sigmoid(pos_logit) + torch::log_sigmoid(-neg_logit)).mean();
}

SampledSoftmaxLoss::SampledSoftmaxLoss(int64_t negatives, const std::vector<std::int64_t>& item_counts)
    : negatives_(negatives) {
  if (negatives < 1) throw InvalidInput("sampled softmax: negatives must be >= 1");
  if (item_counts.empty()) return;
  std::vector<float> p(item_counts.begin(), item_counts.end());
  p[0] = 0;
  probs_ = torch::tensor(p);
  probs_ = probs_ / probs_.sum();
  log_q_ = torch::log(probs_.clamp_min(1e-12));
}

torch::Tensor SampledSoftmaxLoss::operator()(const ItemScorer& scorer, const torch::Tensor& h,
                                             const torch::Tensor& targets, const RepeatBonus& repeat) const {
  const int64_t n_items = scorer.n_items();
  auto neg = probs_.defined() ? torch::multinomial(probs_, negatives_, true)
                              : torch::randint(1, n_items, {negatives_}, torch::kLong);
  auto pos_logit = scorer.row_scores(h, targets).unsqueeze(1);  // [N, 1]
  auto neg_logit = scorer.scores(h, neg);                       // [N, S]
  if (repeat.defined()) {
    pos_logit = pos_logit + repeat.of(targets).unsqueeze(1);
    // Shared negatives: map history items to their slot among the distinct negatives.
    auto uniq = std::get<0>(torch::_unique(neg, true, false));
    auto slot = torch::full({n_items}, uniq.size(0), torch::kLong);
    slot.index_put_({uniq}, torch::arange(uniq.size(0), torch::kLong));
    auto hist_slot = slot.index_select(0, repeat.items.reshape({-1})).view(repeat.items.sizes());
    auto per_uniq = torch::zeros({repeat.weights.size(0), uniq.size(0) + 1}, repeat.weights.options())
                        .scatter_add(1, hist_slot, repeat.weights);
    neg_logit = neg_logit + per_uniq.index_select(1, slot.index_select(0, neg));
  }
  if (log_q_.defined()) {
    pos_logit = pos_logit - log_q_.index_select(0, targets).unsqueeze(1);
    neg_logit = neg_logit - log_q_.index_select(0, neg).unsqueeze(0);
  }
  neg_logit = neg_logit.masked_fill(neg.unsqueeze(0).eq(targets.unsqueeze(1)), -INFINITY);  // accidental hits
  auto logits = torch::cat({pos_logit, neg_logit}, 1);
  return torch::nn::functional::cross_entropy(logits, torch::zeros({logits.size(0)}, torch::kLong));
}

std::unique_ptr<Loss> make_loss(const std::string& loss, int64_t negatives, const std::string& sampling,
                                const std::vector<std::int64_t>& item_counts) {
  if (loss == "softmax") return std::make_unique<SoftmaxLoss>();
  if (loss == "bce") return std::make_unique<BinaryLoss>();
  if (loss == "sampled") {
    if (sampling != "uniform" && sampling != "popularity")
      throw InvalidInput("sampling must be uniform or popularity, not '" + sampling + "'");
    return std::make_unique<SampledSoftmaxLoss>(negatives,
                                                sampling == "popularity" ? item_counts : std::vector<std::int64_t>());
  }
  throw InvalidInput("unknown loss '" + loss + "' (softmax, sampled, bce)");
}

}  // namespace driftrec::nn
