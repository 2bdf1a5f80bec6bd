#pragma once
// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): the closed-form
// item-item model. With X the binary user x item matrix and P = (X^T X + lambda I)^-1, the weights
// are B = I - P diag(1 / diag(P)) with a zero diagonal, and a user with history row r scores
// s = r B. The solve is one Cholesky factorisation and inversion of an items x items matrix
// (LAPACK; `precision`: double, 8 n^2 bytes, or float, 4 n^2 bytes with the weights written over
// the inverse, so 41k items fit in 6.7 GB; refused above `max_items`). The score depends on the
// user only through r: new users and new events are served without retraining, and explain()
// gives each past item's exact share B_ij.
#include <string>
#include <vector>

#include "driftrec/core/config.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

class EaseModel : public Model {
 public:
  static const ParamSet& params();
  explicit EaseModel(const nlohmann::json& config);
  std::string name() const override { return "ease"; }
  Capabilities capabilities() const override { return {true, true}; }
  void fit(const data::Dataset& train, const FitOptions& options) override;
  void score(const UserState& state, float* out) const override;
  std::vector<Attribution> explain(const UserState& state, std::int32_t item) const override;
  void save_weights(const std::string& path) const override;
  void load_weights(const std::string& path) override;

 private:
  std::vector<float> B_;  // [n_items, n_items]: row i = item i's contribution to every item
};

}  // namespace driftrec::models
