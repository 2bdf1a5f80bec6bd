#pragma once
// Classic models that need no LibTorch: popularity, item-based KNN, BPR-MF and implicit ALS.
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

/// `pop`: score = number of training events of the item, all-time or within the last
/// `window_days` of the training period (recent popularity). observe() only grows the seen set.
class PopularityModel : public Model {
 public:
  static const ParamSet& params();
  explicit PopularityModel(const nlohmann::json& config);
  std::string name() const override { return "pop"; }
  Capabilities capabilities() const override { return {false, false}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  void score(const UserState& state, float* out) const override;
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  std::vector<float> counts_;  // [n_items]
};

/// `itemknn`: cosine item-item similarity over co-occurrence (with shrinkage; co-occurrence counted
/// over whole histories or only within `window` positions of each other), top `neighbors` kept; a user's score for j is
/// sum over history events h of w(h) * sim(item(h), j), where w decays with the event's age (`decay`: none | position |
/// time, `half_life` in events or days). explain() returns exactly these per-event terms.
class ItemKnnModel : public Model {
 public:
  static const ParamSet& params();
  explicit ItemKnnModel(const nlohmann::json& config);
  std::string name() const override { return "itemknn"; }
  Capabilities capabilities() const override { return {true, true}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  void score(const UserState& state, float* out) const override;
  std::vector<Attribution> explain(const UserState& state, std::int32_t item) const override;
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  std::vector<float> event_weights(const UserState& state) const;
  std::vector<std::int64_t> offsets_;    // [n_items + 1]
  std::vector<std::int32_t> neighbors_;  // CSR columns
  std::vector<float> similarity_;        // CSR values
};

/// `bpr`: BPR-MF (Rendle et al. 2009) trained by SGD with uniform negatives, item biases,
/// early stopping on validation. A known user starts from their trained factor, and history
/// events beyond the ones seen in training are applied as online updates; new users are folded
/// in by SGD over their history. observe() takes `online_steps` SGD steps on the new positive
/// against sampled negatives (seeded by the state's version and item, so it is reproducible).
class BprModel : public Model {
 public:
  static const ParamSet& params();
  explicit BprModel(const nlohmann::json& config);
  std::string name() const override { return "bpr"; }
  Capabilities capabilities() const override { return {true, false, true}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  void observe(UserState& state, const data::Event& event) const override;
  void score(const UserState& state, float* out) const override;
  void score_batch(const std::vector<const UserState*>& states, float* out) const override;
  const float* item_embeddings(int* dim) const override {
    *dim = k_ + 1;
    return Q_.data();
  }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;
  nlohmann::json training_report() const override { return report_; }

 private:
  void sgd_user(std::vector<float>& p, std::int32_t pos, const std::vector<std::int32_t>& seen_sorted,
                std::uint64_t seed, int steps) const;
  /// User-level DP-SGD of the item factors (dp_epsilon > 0 or dp_noise > 0): see bpr_private.cpp.
  void fit_private(const data::Dataset& train, const FitOptions& options);
  /// Users are folded in from their history at serving time (a private model keeps no user rows).
  bool private_users() const;
  nlohmann::json report_ = nlohmann::json::object();
  int k_ = 0;
  std::vector<float> P_;                      // [n_users, k]
  std::vector<float> Q_;                      // [n_items, k + 1]; the last column is the item bias (users carry a 1)
  std::vector<std::int32_t> trained_events_;  // [n_users] events per user seen in training
};

/// `ials`: implicit ALS (Hu, Koren & Volinsky 2008) with confidence c = 1 + alpha * count, solved
/// exactly per user/item (Cholesky). A user's factor is always the exact least-squares fold-in of
/// their history against the item factors, so encode() and observe() (the online MF update) give
/// what a full user step would, without retraining. explain() gives the exact decomposition of a
/// score over past events (s_ij = c_j * y_i^T W y_j).
class IalsModel : public Model {
 public:
  static const ParamSet& params();
  explicit IalsModel(const nlohmann::json& config);
  std::string name() const override { return "ials"; }
  Capabilities capabilities() const override { return {true, true}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  void observe(UserState& state, const data::Event& event) const override;
  void score(const UserState& state, float* out) const override;
  void score_batch(const std::vector<const UserState*>& states, float* out) const override;
  std::vector<Attribution> explain(const UserState& state, std::int32_t item) const override;
  const float* item_embeddings(int* dim) const override {
    *dim = k_;
    return Y_.data();
  }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

  nlohmann::json training_report() const override { return report_; }

 private:
  /// Private iALS by sufficient-statistics perturbation: see ials_private.cpp.
  void fit_private(const data::Dataset& train, const FitOptions& options);
  nlohmann::json report_ = nlohmann::json::object();
  /// Normal equations of a history: A = Y^T Y + reg I + sum (c-1) y y^T, b = sum c y (per item).
  void normal_equations(const std::vector<data::Event>& history, std::vector<double>& A, std::vector<double>& b,
                        std::vector<std::pair<std::int32_t, double>>* confidences) const;
  std::vector<float> fold_in(const std::vector<data::Event>& history) const;
  int k_ = 0;
  std::vector<float> Y_;     // [n_items, k]
  std::vector<double> YtY_;  // [k, k], derived from Y_
};

}  // namespace driftrec::models
