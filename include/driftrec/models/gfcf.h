#pragma once
// GF-CF (Shen et al., "How Powerful is Graph Convolution for Recommendation?", CIKM 2021): a
// training-free graph filter. With R the binary user x item matrix and R~ = Du^-1/2 R Di^-1/2 its
// degree-normalised form, a user with history row r scores the items
//   s = r R~^T R~  +  alpha * r Di^-1/2 V V^T Di^1/2,
// the linear filter (normalised item-item co-occurrence) plus the ideal low-pass filter (V: the
// top-k right singular vectors of R~, from a randomized truncated SVD). Both terms depend on the
// user only through r, so a new user or a new event is served by the same formula (fold-in
// through the item side, no retraining), and explain() gives each past item's exact share.
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

class GfcfModel : public Model {
 public:
  static const ParamSet& params();
  explicit GfcfModel(const nlohmann::json& config);
  std::string name() const override { return "gfcf"; }
  Capabilities capabilities() const override { return {true, true}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  void score(const UserState& state, float* out) const override;
  void score_batch(const std::vector<const UserState*>& states, float* out) const override;
  std::vector<Attribution> explain(const UserState& state, std::int32_t item) const override;
  /// alpha * sum over the history's distinct items of Di^-1/2 V_i (the low-pass filter's query).
  std::vector<float> query_vector(const UserState& state) const override;
  nlohmann::json training_report() const override { return report_; }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  /// Adds the linear filter r R~^T R~ of the state's history to out[0, n_items).
  void add_linear_filter(const UserState& state, float* out) const;
  /// Rebuilds the item-major copy of R~ (after fit or load).
  void index_items();
  int k_ = 0;
  std::vector<std::int64_t> user_offsets_;  // R~ by user (CSR)
  std::vector<std::int32_t> user_items_;
  std::vector<float> user_values_;
  std::vector<std::int64_t> item_offsets_;  // R~ by item (CSC), derived
  std::vector<std::int32_t> item_users_;
  std::vector<float> item_values_;
  std::vector<float> query_side_;  // [n_items, k]: Di^-1/2 V
  std::vector<float> score_side_;  // [n_items, k]: Di^1/2 V
  nlohmann::json report_ = nlohmann::json::object();
};

}  // namespace driftrec::models
