#include "driftrec/federated/federated_model.h"

#include <filesystem>
#include <mutex>

#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"

namespace driftrec::fed {

const ParamSet& FederatedBpr::params() {
  static const ParamSet p(
      "fedbpr",
      {
          int_param("factors", 32, "latent dimensions", 1, 4096),
          int_param("rounds", 100, "federated rounds", 1, 1000000),
          float_param("client_rate", 1.0, "probability that a client takes part in a round", 1e-9, 1.0),
          int_param("local_epochs", 1, "local passes per round", 1, 10000),
          int_param("local_pairs", 32, "(positive, negative) pairs a client draws per local pass", 1),
          float_param("lr", 0.05, "client learning rate", 1e-9, 100.0),
          float_param("server_lr", 1.0, "server step on the mean of the clients' changes", 1e-9, 1e6),
          float_param("reg", 0.001, "L2 regularisation", 0.0),
          float_param("prox_mu", 0.0, "FedProx: pull of local item rows toward the global rows (0 = FedAvg)", 0.0),
          bool_param("full_batch", false, "one gradient step per local pass (else SGD over the pairs)"),
          bool_param("sparse", true, "upload only the rows a client changed (ignored with secure)"),
          bool_param("secure", false, "secure aggregation by pairwise additive masks (dense uploads)"),
          int_param("mask_neighbors", 16, "peers each client masks with (0 = all)", 0),
          float_param("dropout", 0.0, "simulated share of clients dropping out after masking", 0.0, 0.99),
          float_param("dp_epsilon", 0.0, "DP-FedAvg budget (0 = not private)", 0.0),
          float_param("dp_delta", 1e-5, "DP delta", 1e-12, 0.1),
          float_param("dp_noise", 0.0, "noise multiplier (0 = calibrated to dp_epsilon)", 0.0),
          float_param("dp_clip", 1.0, "L2 bound of one client's change", 1e-9),
          float_param("init_std", 0.1, "standard deviation of the initial factors", 0.0),
          int_param("fold_in_epochs", 10, "SGD passes over a user's history when served", 1),
      });
  return p;
}

FederatedBpr::FederatedBpr(const nlohmann::json& config) : Model(params().resolve(config)) {}

FedOptions FederatedBpr::options_of(const nlohmann::json& c) {
  FedOptions o;
  o.factors = static_cast<int>(c.at("factors").get<long long>());
  o.rounds = static_cast<int>(c.at("rounds").get<long long>());
  o.client_rate = c.at("client_rate").get<double>();
  o.local_epochs = static_cast<int>(c.at("local_epochs").get<long long>());
  o.local_pairs = static_cast<int>(c.at("local_pairs").get<long long>());
  o.lr = c.at("lr").get<double>();
  o.server_lr = c.at("server_lr").get<double>();
  o.reg = c.at("reg").get<double>();
  o.prox_mu = c.at("prox_mu").get<double>();
  o.full_batch = c.at("full_batch").get<bool>();
  o.sparse = c.at("sparse").get<bool>();
  o.secure = c.at("secure").get<bool>();
  o.mask_neighbors = static_cast<std::size_t>(c.at("mask_neighbors").get<long long>());
  o.dropout = c.at("dropout").get<double>();
  o.dp_epsilon = c.at("dp_epsilon").get<double>();
  o.dp_delta = c.at("dp_delta").get<double>();
  o.dp_noise = c.at("dp_noise").get<double>();
  o.dp_clip = c.at("dp_clip").get<double>();
  o.init_std = c.at("init_std").get<double>();
  o.fold_in_epochs = static_cast<int>(c.at("fold_in_epochs").get<long long>());
  return o;
}

models::Capabilities FederatedBpr::capabilities() const {
  return inner_ ? inner_->capabilities() : models::Capabilities{true, false, true};
}

void FederatedBpr::adopt(std::unique_ptr<models::Model> inner) {
  inner_ = std::move(inner);
  n_items_ = inner_->n_items();
  n_users_ = inner_->n_users();
}

void FederatedBpr::fit(const data::Dataset& train, const models::FitOptions& options) {
  auto o = options_of(config_);
  o.seed = options.seed;
  o.threads = options.threads;
  auto res = train_federated(train, o, options.progress);
  adopt(std::move(res.model));
  report_ = {{"federated", res.report}};
  if (res.report.contains("privacy")) {
    report_["privacy"] = res.report["privacy"];
    config_["dp_noise"] = res.report["privacy"]["noise_multiplier"];
  }
}

models::UserState FederatedBpr::encode(std::int32_t user, const std::vector<data::Event>& history) const {
  require_fitted();
  return inner_->encode(user, history);
}
void FederatedBpr::observe(models::UserState& state, const data::Event& event) const { inner_->observe(state, event); }
void FederatedBpr::score(const models::UserState& state, float* out) const { inner_->score(state, out); }
void FederatedBpr::score_batch(const std::vector<const models::UserState*>& states, float* out) const {
  inner_->score_batch(states, out);
}
const float* FederatedBpr::item_embeddings(int* dim) const { return inner_ ? inner_->item_embeddings(dim) : nullptr; }
std::vector<float> FederatedBpr::query_vector(const models::UserState& state) const {
  return inner_->query_vector(state);
}
void FederatedBpr::save_weights(const std::string& path) const {
  require_fitted();
  inner_->save_weights(path);
}
void FederatedBpr::load_weights(const std::string& path) {
  auto inner = models::create_model("bpr", {{"factors", config_.at("factors")},
                                            {"reg", config_.at("reg")},
                                            {"fold_in_all", true},
                                            {"fold_in_epochs", config_.at("fold_in_epochs")}});
  inner->load_weights(path);
  adopt(std::move(inner));
}

void register_federated_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    models::register_model("fedbpr", &FederatedBpr::params,
                           [](const nlohmann::json& c) { return std::make_unique<FederatedBpr>(c); });
  });
}

}  // namespace driftrec::fed
