#pragma once
// Class-factored output layer (Goodman 2001, "Classes for fast maximum entropy training"): an
// item's log-probability is split into its category's and its own within the category,
//   score(i | h) = log p(c(i) | h) + log p(i | c(i), h),
//   p(c | h)     = softmax over categories of W h + b,
//   p(i | c, h)  = softmax over c's items of <h, e_i> + bias_i,
// so the model decides what kind of item comes next with the data of a whole category, and which
// item within it from the item's own inner product and a per-item bias that starts at the log of
// the item's training count (a category's popularity ranking). The scores are a normalised log
// distribution over the items. Internal to the nn layer (sequential models, `category_softmax`).
//
// An item may belong to several categories (a film's genres): the head then holds (item, class)
// pairs, each class is a softmax over its pairs, and an item's probability is the mixture over its
// classes, p(i | h) = sum over c of i: p(c | h) p(i | c, h), still one distribution over the items.
#include <cstdint>
#include <nlohmann/json.hpp>

#include "pch.h"

namespace driftrec::nn {

/// Score of the padding class (item 0) before the category softmax: finite, so that a masked
/// column keeps finite gradients, and far below any learned logit.
constexpr float kPaddingClassLogit = -1e4f;

/// The history prior's scale and floor are stored divided by this factor, so they move at this many
/// times the optimiser's step (a scalar shared by every position would otherwise barely leave its
/// start within the few epochs that validation keeps).
constexpr float kPriorStep = 10.0f;

/// Largest items x classes table for which a mixture's per-class sums are one matrix product.
constexpr int64_t kDenseClassSums = int64_t{1} << 22;

struct CategoryHeadImpl : torch::nn::Module {
  /// item_class [n_items] long: each item's category in 0..n_classes-1 (item 0, the padding, may
  /// hold anything: it is put in a class of its own); initial_bias [n_items] float. Throws
  /// InvalidInput when a class has no item.
  /// Several classes per item: pair_item [P] long, the item of each (item, class) pair, ascending,
  /// every item at least once and item 0 (the padding) exactly once, first; item_class and
  /// initial_bias [P] are then per pair.
  CategoryHeadImpl(int64_t state_dim, int64_t n_classes, const torch::Tensor& item_class,
                   const torch::Tensor& initial_bias, double prior_decay = 0.0,
                   const torch::Tensor& pair_item = torch::Tensor());
  /// With the history prior (prior_decay in (0, 1); 0 = off): each position's category mix of its
  /// history [B, L, n_classes] (items [B, L], padding 0), an event k events back weighted
  /// prior_decay^k (split evenly over an item's classes), appended to the encoder's state by
  /// SeqEncoder::encode.
  torch::Tensor history_mix(const torch::Tensor& items) const;
  /// The prior: its decay per event (and half-life in events) and the learned scale and floor.
  nlohmann::json prior_report() const;
  /// Log-probabilities [N, n_items] of states h [N, state_dim] whose plain inner-product scores are
  /// z [N, n_items] (column 0, the padding, is ignored and comes out near kPaddingClassLogit).
  torch::Tensor log_probs(const torch::Tensor& h, const torch::Tensor& z);
  /// The log-probabilities [N] of one item per state (targets [N], real items): log_probs(h, z)
  /// gathered at the targets, computed over each target's own class only (no per-class pass over
  /// every item: the training loss's path).
  torch::Tensor target_log_probs(const torch::Tensor& h, const torch::Tensor& z, const torch::Tensor& targets);
  /// Category log-probabilities [N, n_classes + 1] (the last: the padding class).
  torch::Tensor class_log_probs(const torch::Tensor& h);

  int64_t n_classes;
  /// With the prior, class logits += scale * log(mix + floor).
  bool history_prior() const { return prior_decay > 0; }
  int64_t enc_dim;                         ///< the encoder's part of a state; with history_prior the mix follows it
  double prior_decay;                      ///< weight of an event one step further back in the mix (0: no prior)
  torch::Tensor prior_scale, prior_floor;  ///< raw parameters (softplus(kPriorStep x raw))
  torch::nn::Linear classes{nullptr};
  /// Whether an items x classes table is small enough (kDenseClassSums) for class sums by one product.
  bool dense_class_sums(int64_t n_items) const;
  /// Several classes per item (pair_item given): an item's probability mixes its classes.
  bool mixture() const { return pair_item.defined(); }
  torch::Tensor item_class;  ///< buffer [n_items] (mixture: [P], per pair) long; item 0 in class n_classes
  torch::Tensor pair_item;   ///< mixture only: buffer [P] long, each pair's item
  torch::Tensor pair_slots;  ///< mixture only: buffer [n_items, K] long, each item's pairs (unused slots: P)
  torch::Tensor bias;        ///< parameter [n_items] (mixture: [P])

 private:
  /// Each class's log-sum-exp of z + bias over its items (pairs) [N, n_classes + 1], from scores zi
  /// [N, n_items] (column 0 finite). One [N, n_items] x [n_items, classes] product while that table
  /// is small (dense_class_sums) and nothing underflows; otherwise per item (pair), exactly.
  torch::Tensor class_lse(const torch::Tensor& zi) const;
};
TORCH_MODULE(CategoryHead);

}  // namespace driftrec::nn
