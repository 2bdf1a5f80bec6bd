#pragma once
// Training objectives of the sequential models, one small class each behind one interface
// (fastText's loss.h is the model). The trainer hands a loss the hidden states of the positions
// that have a target; the loss asks an ItemScorer for the scores it needs and returns the mean
// loss to minimise. Adding an objective is adding a class and a line in make_loss().
//   softmax  full softmax over every item (exact; cost grows with the catalogue); with a chunk
//            size, computed over item chunks with a streaming log-sum-exp in forward and
//            backward, so the [positions, items] logits are never held at once
//   sampled  softmax over the target and negatives shared by the batch: S drawn uniformly or by
//            popularity, or mixed (the batch's other targets plus S uniform draws, Yang et al.
//            2020), each logit corrected by the log of its item's sampling probability,
//            accidental hits removed
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
  /// When every score is a plain inner product <h, E[i]>: E [n_items, state_dim] (differentiable);
  /// undefined otherwise (e.g. per-domain queries).
  virtual torch::Tensor item_matrix() const { return {}; }
  /// True when scores(h) are already log-probabilities over the items (their exponentials sum to 1
  /// per state, as the class-factored output's are): a target's softmax cross-entropy is then minus
  /// its row_scores, which the scorer may compute without the full normalisation.
  virtual bool normalised() const { return false; }
};

/// The repeat head's bonus per kept position: the weight of each history column and that column's
/// item ([N, L] each); undefined when the model has no repeat head.
struct RepeatBonus {
  torch::Tensor weights, items;
  /// Items left out of each row's candidates ([N, K], 0 = none; exclude_seen's mask, whose columns
  /// are also in weights/items with a large negative weight): label smoothing spreads its mass over
  /// the other items only. Undefined: every item is a candidate.
  torch::Tensor excluded;
  bool defined() const { return weights.defined(); }
  /// Bonus of one item per row (items [N]) -> [N].
  torch::Tensor of(const torch::Tensor& items_per_row) const;
  /// Bonus of every item: [N, n_items].
  torch::Tensor dense(int64_t n_items) const;
  /// The bonus of the rows `which` [M] (undefined parts stay undefined).
  RepeatBonus rows(const torch::Tensor& which) const;
};

class Loss {
 public:
  virtual ~Loss() = default;
  /// Mean loss over N positions: states h [N, state_dim], targets [N] (item ids >= 1).
  virtual torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                                   const RepeatBonus& repeat) const = 0;
  /// Mean loss over M (state, item) pairs: state h[rows[m]] with target items[m] (rows, items [M]),
  /// several pairs per state (a multi-horizon objective's future items). The same value as
  /// operator() on the states (and repeat bonus rows) repeated per pair, which is the default; the
  /// full softmax scores each state once.
  virtual torch::Tensor pairs(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& rows,
                              const torch::Tensor& items, const RepeatBonus& repeat) const;
};

class SoftmaxLoss : public Loss {
 public:
  /// chunk > 0: stream the catalogue in chunks of that many items when the scorer has an
  /// item_matrix() (else the logits are materialised); a repeat bonus or seen-item mask is added
  /// chunk by chunk from its sparse columns.
  /// A normalised scorer without repeat bonus or smoothing: minus the targets' own scores.
  /// smoothing > 0: label smoothing over the real items (1..n-1; with repeat.excluded, those not
  /// excluded): the target distribution puts 1 - smoothing on the target and smoothing spread
  /// uniformly, i.e. loss = CE + smoothing * mean(target score - mean candidate score), which needs
  /// no extra pass over the catalogue.
  explicit SoftmaxLoss(int64_t chunk = 0, double smoothing = 0.0) : chunk_(chunk), smoothing_(smoothing) {}
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;
  /// Materialised logits: one [N, items] pass and a log-sum-exp per state, whatever the pairs per
  /// state. Streamed (chunk > 0): each state repeated per pair.
  torch::Tensor pairs(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& rows,
                      const torch::Tensor& items, const RepeatBonus& repeat) const override;

 private:
  /// The item matrix to stream the catalogue from (chunk > 0, a plain inner-product scorer);
  /// undefined when the logits are materialised.
  torch::Tensor streamed_items(const ItemScorer& scorer) const;
  /// The streamed loss of states h against `targets` over the item matrix E, with the bonus.
  torch::Tensor streamed(const ItemScorer& scorer, const torch::Tensor& E, const torch::Tensor& h,
                         const torch::Tensor& targets, const RepeatBonus& repeat) const;
  /// mean_candidate_score without the logits: from the sum of E's rows, the excluded items' rows
  /// and the bonus columns.
  static torch::Tensor streamed_mean_candidate_score(const torch::Tensor& E, const torch::Tensor& h,
                                                     const RepeatBonus& repeat);
  /// Every item's score per state [N, items], with the repeat bonus when there is one.
  static torch::Tensor logits(const ItemScorer& scorer, const torch::Tensor& h, const RepeatBonus& repeat);
  /// Mean score per row [N] over the row's candidates: the real items (1..n-1) not in repeat.excluded.
  static torch::Tensor mean_candidate_score(const torch::Tensor& logits, const RepeatBonus& repeat);
  int64_t chunk_;
  double smoothing_;
};

/// Mean cross-entropy of states h [N, d] against every row of E [n, d] for `targets` [N],
/// computed `chunk` items at a time (memory N x chunk instead of N x n), differentiable in h, E and
/// the bonus weights. A defined `bonus` adds its sparse columns (bonus.dense()) to the logits;
/// its `excluded` is not read (those items carry their mask weight in the columns).
torch::Tensor chunked_cross_entropy(const torch::Tensor& h, const torch::Tensor& E, const torch::Tensor& targets,
                                    int64_t chunk, const RepeatBonus& bonus = {});

class BinaryLoss : public Loss {
 public:
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;
};

class SampledSoftmaxLoss : public Loss {
 public:
  enum class Sampling { uniform, popularity, mixed };
  /// `negatives` S drawn per batch and shared by its positions. uniform: S items uniformly (no
  /// correction needed: every item has the same probability). popularity: S items by
  /// `item_counts` (size n_items), logits minus log q. mixed: the batch's distinct targets plus S
  /// uniform items, each candidate once, logits minus the log of its probability of being in the
  /// candidate set, 1 - (1 - p_i)^N (1 - 1/(n-1))^S with p_i the item's share of `item_counts` and N
  /// the batch's positions (in-batch negatives are drawn by target frequency). Empty counts mean
  /// uniform whatever `sampling` says.
  SampledSoftmaxLoss(int64_t negatives, const std::vector<std::int64_t>& item_counts,
                     Sampling sampling = Sampling::popularity);
  torch::Tensor operator()(const ItemScorer& scorer, const torch::Tensor& h, const torch::Tensor& targets,
                           const RepeatBonus& repeat) const override;

 private:
  /// The batch's candidate negatives [C] and the log-q correction per candidate and per target
  /// (undefined when there is none).
  struct Candidates {
    torch::Tensor items, log_q, target_log_q;
  };
  Candidates draw(const torch::Tensor& targets, int64_t n_items) const;

  int64_t negatives_;
  Sampling sampling_;
  torch::Tensor probs_, log_q_;  // item probabilities from the counts (popularity, mixed)
};

/// The loss named by a model's config: `loss` (softmax, sampled, bce), `negatives`, `sampling`
/// (uniform, popularity, mixed; `item_counts` are the training counts, needed by the last two), `softmax_chunk` (0 =
/// one block). Throws InvalidInput otherwise.
std::unique_ptr<Loss> make_loss(const std::string& loss, int64_t negatives, const std::string& sampling,
                                const std::vector<std::int64_t>& item_counts, int64_t softmax_chunk = 0,
                                double label_smoothing = 0.0);

}  // namespace driftrec::nn
