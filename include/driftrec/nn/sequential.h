#pragma once
// The LibTorch sequential models. One class trains and serves all five (registry names):
//   sasrec   causal self-attention (Kang & McAuley 2018), pre-LN blocks with explicit masked
//            attention (LibTorch 1.13's MultiheadAttention silently mis-applies boolean masks)
//   gru4rec  GRU over the sequence (Hidasi et al. 2016), or an LSTM with `cell: lstm`
//   caser    horizontal + vertical convolutions over the last `window` items (Tang & Wang 2018)
//   hstu     HSTU layers (Zhai et al. 2024): pointwise SiLU attention with relative position and
//            time-difference biases
//   crossdomain  one hstu (or gru4rec) encoder per domain, fused into one query per target
//            domain (concat + MLP, or attention); items are scored with their domain's query
// Side information, each switchable in the config: `behavior_embedding` (event type, e.g.
// view/cart/buy), `time_gaps` (log2 bucket of the seconds since the previous event; needs a data
// file with timestamps), `attributes` (mean of the item's category/attribute embeddings from
// the item table, added to the item's input and output vectors, e.g. Beauty_item2attributes.json),
// `text` (a CNN or attention-pooling tower over the item's title tokens, optionally initialised
// from `word_vectors`) and `item_vectors` (user-supplied vectors through a linear map). With
// content, items without training events are represented by their content alone.
// `repeat` adds a learned bonus for items already in the history (by behaviour and recency, gated
// by the state), for data where people come back to items. `request_time` embeds at every event
// the time to the next one, and at the newest event the time to the request (UserState::now):
// after an hour away a user starts a new visit, a few seconds after the last click they are still
// in the old one. A state asked for at a known time is then encoded as of then (score_batch,
// query_vector, explain); the cached state (encode, observe) is the one without a request time.
//
// Training: every position of a user's last `max_len` + 1 events predicts its next item, with a
// choice of losses:
//   softmax  full softmax over all items
//   sampled  sampled softmax with `negatives` shared negatives (uniform, or popularity-based with
//            log-q correction)
//   bce      binary cross-entropy with one negative per position (the original SASRec objective)
// Batches group sequences of similar length and are cut to their longest member, so no compute is
// spent on padding beyond the batch. AdamW with warm-up then constant or cosine learning rate,
// gradient clipping, early stopping on validation, checkpoints and exact resume.
//
// The user state is the last position's hidden vector [d] ([D * d] for crossdomain); scores are
// its inner products with the item vectors, so FAISS retrieval applies, except with `repeat` or
// crossdomain (item_embeddings() is then nullptr). observe() re-encodes the last `max_len` events.
// explain(): exact occlusion for every kind: an event's weight is how much the item's score drops
// when that one event is removed from the window of the last `max_len` events (the state is
// re-encoded without it), so it is item-specific and faithful by construction; caser gives 0 to
// events outside its window. The attention of the newest position (what sasrec/hstu returned
// before) explained the state, not the item: it was the same for every recommended item.
// explain_batch() encodes the window and its n one-event-shorter copies in one pass of n + 1 rows
// and scores every item from them. The repeat bonus is not part of the explanation.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"
#include "driftrec/rl/reinforce.h"

namespace driftrec::nn {

/// `max_len: 0`: the 99th percentile of the given history lengths (events per user), rounded up to
/// a multiple of 50 and kept within [50, 200]: whole histories for nearly every user on short-history
/// data (Amazon Beauty: p99 43 -> 50), capped where attention cost grows (MovieLens: p99 448 -> 200).
int64_t auto_max_len(std::vector<int64_t> lengths);

class SequentialModel : public models::Model, public rl::PolicyGradientLearner {
 public:
  /// The declared parameters of `kind` (sasrec, gru4rec, caser, hstu, crossdomain).
  static const ParamSet& params(const std::string& kind);
  /// Throws InvalidInput for an unknown kind or an inconsistent config.
  SequentialModel(std::string kind, const nlohmann::json& config);
  ~SequentialModel() override;
  std::string name() const override { return kind_; }
  models::Capabilities capabilities() const override;
  void fit(const data::Dataset& train, const models::FitOptions& options) override;
  models::UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  /// One forward pass per group of similar-length histories (same states as encode()).
  std::vector<models::UserState> encode_batch(const std::vector<std::int32_t>& users,
                                              const std::vector<std::vector<data::Event>>& histories) const override;
  void observe(models::UserState& state, const data::Event& event) const override;
  void score(const models::UserState& state, float* out) const override;
  void score_batch(const std::vector<const models::UserState*>& states, float* out) const override;
  std::vector<float> query_vector(const models::UserState& state) const override;
  std::vector<models::Attribution> explain(const models::UserState& state, std::int32_t item) const override;
  /// Occlusion for all `items` from one batched pass over the history without each event.
  std::vector<std::vector<models::Attribution>> explain_batch(const models::UserState& state,
                                                              const std::vector<std::int32_t>& items) const override;
  const float* item_embeddings(int* dim) const override;
  /// {"privacy": {...}} after a private fit (dp_epsilon / dp_noise), else empty.
  nlohmann::json training_report() const override { return report_; }
  std::string weights_file() const override { return "weights.pt"; }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;
  /// Off-policy-corrected top-K REINFORCE (rl/reinforce.h) on the fitted network; src/nn/reinforce.cpp.
  /// Not for models with the repeat head (its bonus is not part of the policy's softmax).
  std::vector<rl::ReinforceEpoch> reinforce(const std::vector<rl::LoggedAction>& actions,
                                            const rl::ReinforceOptions& options,
                                            const std::function<void(const rl::ReinforceEpoch&)>& progress) override;

  /// Builds the network for `train`'s catalogue and side information with fresh weights (seeded by
  /// options.seed), as fit() does before training: the starting point of a federated server
  /// (federated_server.h) run outside fit(). Throws InvalidInput as fit() does.
  void prepare(const data::Dataset& train, const models::FitOptions& options);

  struct Impl;

 private:
  friend class FederatedClient;
  friend class FederatedServer;
  std::string kind_;
  std::unique_ptr<Impl> impl_;
  nlohmann::json report_ = nlohmann::json::object();
};

}  // namespace driftrec::nn
