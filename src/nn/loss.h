#pragma once
// Training objectives of the sequential models, one small class each behind one interface
// (fastText's loss.h is the model). The trainer hands a loss the hidden states of the positions
// that have a target; the loss asks an ItemScorer for the scores it needs and returns the mean
// loss to minimise. Adding an objective is adding a class and a line in make_loss().
//   softmax  full softmax over every item (exact; cost grows with the catalogue)
//   sampled  softmax over the target and S negatives shared by the batch, uniform or by
//            popularity with log-q correction, accidental hits removed
//   bce      binary cross-entropy with one uniform negative per position (SASRec's objective)
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pch.h"

namespace driftrec::nn {

/// How the model turns hidden states into item scores.
class ItemScorer {
 public:
  virtual ~ItemScorer() = default;
  /// Scores [N, S] of states h [N, state_dim] against the items `ids` [S] (undefined: every item).
  virtual torch::Tensor scores(const torch::Tensor& h, const torch::Tensor& ids) const = 0;
  /// Score of one item per state: h [N, state_dim], items [N] -> [N].
  virtual torch::Tensor row_scores(const torch::Tensor& h, const torch::Tensor& items) const = 0;
  /// Item slots including padding (valid items are 1..n_items()-1).
  virtual int64_t n_items() const = 0;
};

/// The repeat head's bonus per kept position: the weight of each history column and that column's
/// item ([N, L] each); undefined when the model has no repeat head.
struct RepeatBonus {
  torch::Tensor weights, items;
  bool defined() const { return weights.defined(); }
  /// Bonus of one item per row (items [N]) -> [N].
  torch::Tensor of(const torch::Tensor& items_per_row) const;
  /// Bonus of every item: [N, n_items].
  torch::Tensor dense(int64_t n_items) const;
};

class Loss {
 public:
  virtual ~Loss() = default;
  /// Mean loss over N positions: states h [N, state_dim], targets [N] (item ids >= 1).
  virtual torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                   const RepeatBonus& repeat) const = 0;
};

class SoftmaxLoss : public Loss {
 public:
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;
};

class BinaryLoss : public Loss {
 public:
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;
};

class SampledSoftmaxLoss : public Loss {
 public:
  /// `negatives` shared by the batch; `item_counts` (size n_items) non-empty = draw them by
  /// popularity and subtract log q from every logit, empty = uniform.
  SampledSoftmaxLoss(int64_t negatives, const std::vector<std::int64_t>& item_counts);
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;

 private:
  int64_t negatives_;
  torch::Tensor probs_, log_q_;  // popularity sampling (undefined: uniform)
};

/// The loss named by a model's config: `loss` (softmax, sampled, bce), `negatives`, `sampling`
/// (uniform, popularity: `item_counts` are the training counts). Throws InvalidInput otherwise.
std::unique_ptr<Loss> make_loss(const std::string& loss, int64_t negatives, const std::string& sampling,
                                const std::vector<std::int64_t>& item_counts);

}  // namespace driftrec::nn
