#pragma once
// `fedbpr`: federated BPR-MF (fedavg.h) as a registered model, so `driftrec train --model fedbpr`,
// evaluate, compare, serve and the Python module take it like any other. fit() runs the in-process
// simulation (every training user a client); the result is the item table of a `bpr` model that
// folds users in from their history. model.json gets the round totals (bytes up and down) and,
// with DP-FedAvg, the privacy spent.
#include <memory>

#include "driftrec/core/config.h"
#include "driftrec/federated/fedavg.h"
#include "driftrec/models/model.h"

namespace driftrec::fed {

class FederatedBpr : public models::Model {
 public:
  static const ParamSet& params();
  explicit FederatedBpr(const nlohmann::json& config);
  std::string name() const override { return "fedbpr"; }
  models::Capabilities capabilities() const override;
  void fit(const data::Dataset& train, const models::FitOptions& options) override;
  models::UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  void observe(models::UserState& state, const data::Event& event) const override;
  void score(const models::UserState& state, float* out) const override;
  void score_batch(const std::vector<const models::UserState*>& states, float* out) const override;
  const float* item_embeddings(int* dim) const override;
  std::vector<float> query_vector(const models::UserState& state) const override;
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;
  nlohmann::json training_report() const override { return report_; }
  /// The federated options a config stands for.
  static FedOptions options_of(const nlohmann::json& config);

 private:
  void adopt(std::unique_ptr<models::Model> inner);
  std::unique_ptr<models::Model> inner_;  ///< the `bpr` model holding the item table
  nlohmann::json report_ = nlohmann::json::object();
};

/// Registers `fedbpr` (once; later calls do nothing).
void register_federated_models();

}  // namespace driftrec::fed
