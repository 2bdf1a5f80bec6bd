#pragma once
// `ensemble`: a blend of trained models that is itself a model (it fits, encodes, observes, scores,
// explains, saves and loads like any other, so it can be evaluated and served).
//
//   method: weighted  sum of the members' scores after per-user normalisation (`normalize`:
//                     zscore over the finite scores, minmax to [0, 1], or none), times the weights
//           rrf       reciprocal rank fusion: sum of weight / (rrf_k + rank) over each member's
//                     top `rrf_depth` items (rank 1 = best); items outside every list score 0
// Weights: given (set_weights), or fitted in fit() by coordinate ascent on the validation metric
// of FitOptions::validate (the validation split only): each pass tries, for each member in turn,
// its share in {0, 0.1, ..., 1} with the others rescaled to the rest, and keeps the best.
// All members must share the item index (trained on the same data). The state of a user holds the
// history and every member's state vector; observe() updates every member. explain() combines the
// members' attributions by event position, each normalised to unit absolute sum and weighted.
// Weights file: ensemble.json (members' names, configs, weights and checksums) plus one weights
// file per member beside it (member<k>.<member's weights file>).
#include <memory>
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

class EnsembleModel : public Model {
 public:
  static const ParamSet& params();
  explicit EnsembleModel(const nlohmann::json& config);
  ~EnsembleModel() override;
  std::string name() const override { return "ensemble"; }
  Capabilities capabilities() const override;

  /// Adds a member (fitted or not; fit() fits unfitted ones). Throws InvalidInput when its item
  /// count differs from the other fitted members'.
  void add_member(std::unique_ptr<Model> member, double weight = 1.0);
  std::size_t members() const { return members_.size(); }
  const Model& member(std::size_t k) const { return *members_.at(k); }
  /// Current weights (normalised to sum 1).
  const std::vector<double>& weights() const { return weights_; }
  /// Sets the weights (non-negative, not all zero; normalised). Throws InvalidInput.
  void set_weights(std::vector<double> weights);

  /// Fits unfitted members on `train`, then (with options.validate and `fit_weights`) the weights.
  void fit(const data::Dataset& train, const FitOptions& options) override;
  UserState encode(std::int32_t user, const std::vector<data::Event>& history) const override;
  std::vector<UserState> encode_batch(const std::vector<std::int32_t>& users,
                                      const std::vector<std::vector<data::Event>>& histories) const override;
  void observe(UserState& state, const data::Event& event) const override;
  void score(const UserState& state, float* out) const override;
  void score_batch(const std::vector<const UserState*>& states, float* out) const override;
  std::vector<Attribution> explain(const UserState& state, std::int32_t item) const override;
  std::vector<std::vector<Attribution>> explain_batch(const UserState& state,
                                                      const std::vector<std::int32_t>& items) const override;
  std::string weights_file() const override { return "ensemble.json"; }
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  /// The member-k state packed inside an ensemble state.
  UserState member_state(const UserState& s, std::size_t k) const;
  static void pack(UserState& s, const std::vector<UserState>& parts);
  void combine(const std::vector<std::vector<float>>& member_scores, std::size_t n_states, float* out) const;

  std::vector<std::unique_ptr<Model>> members_;
  std::vector<double> weights_;      // normalised to sum 1
  std::vector<double> raw_weights_;  // as given to add_member / set_weights
};

}  // namespace driftrec::models
