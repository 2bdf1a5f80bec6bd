#pragma once
// `sasrec`: causal self-attention over a user's recent items (Kang & McAuley 2018), written with
// explicit masked attention (pre-LN blocks; LibTorch 1.13's MultiheadAttention silently mis-applies
// boolean masks), tied input/output item embeddings, and a choice of training losses:
//   softmax  full softmax over all items
//   sampled  sampled softmax with `negatives` shared negatives (uniform, or popularity-based with
//            log-q correction)
//   bce      binary cross-entropy with one negative per position (the original SASRec objective)
// Every position of a training sequence predicts its next item. Batches group sequences of
// similar length and are cut to their longest member, so no compute is spent on padding beyond
// the batch. The user state is the last position's hidden vector [d]; scores are its inner
// products with the item embeddings (so FAISS retrieval applies). observe() re-encodes the last
// `max_len` events. explain() returns the last layer's attention from the newest position.
#include <memory>
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::nn {

class SasRecModel : public models::Model {
 public:
  static const ParamSet& params();
  explicit SasRecModel(const nlohmann::json& config);
  ~SasRecModel() override;
  std::string name() const override { return "sasrec"; }
  models::Capabilities capabilities() const override { return {true, true, false}; }
  void fit(const data::Dataset& train, const models::FitOptions& options) override;
  models::UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  void observe(models::UserState& state, const data::Event& event) const override;
  void score(const models::UserState& state, float* out) const override;
  void score_batch(const std::vector<const models::UserState*>& states, float* out) const override;
  std::vector<models::Attribution> explain(const models::UserState& state, std::int32_t item) const override;
  const float* item_embeddings(int* dim) const override;
  std::string weights_file() const override { return "weights.pt"; }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftrec::nn
