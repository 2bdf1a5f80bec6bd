#pragma once
// Reward models for the direct method and doubly robust estimators: q(x, a, k), the expected reward
// of showing action a at position k in the context x of a logged row. Fitted with cross-fitting
// (each row's estimates come from a model that did not see that row), as the doubly robust
// estimator's guarantees assume.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driftrec/ope/bandit_log.h"

namespace driftrec::ope {

class RewardModel {
 public:
  virtual ~RewardModel() = default;
  virtual std::string name() const = 0;
  /// Fits on the given rows of `log`.
  virtual void fit(const BanditLog& log, const std::vector<std::size_t>& rows) = 0;
  /// q for every action of row `row` at the row's logged position, into out[0..n_actions).
  virtual void predict(const BanditLog& log, std::size_t row, float* out) const = 0;
  /// True when predictions depend only on the position (one block per position is enough).
  virtual bool context_free() const = 0;
};

/// Click rate per (action, position), shrunk towards the position's mean with `prior_strength`
/// pseudo-observations (an empirical-Bayes Beta prior): context-free.
class TabularRewardModel final : public RewardModel {
 public:
  explicit TabularRewardModel(double prior_strength = 10.0) : strength_(prior_strength) {}
  std::string name() const override { return "tabular"; }
  void fit(const BanditLog& log, const std::vector<std::size_t>& rows) override;
  void predict(const BanditLog& log, std::size_t row, float* out) const override;
  bool context_free() const override { return true; }
  /// The fitted table, [position * n_actions + action].
  const std::vector<float>& table() const { return table_; }

 private:
  double strength_;
  std::int32_t n_actions_ = 0;
  std::vector<float> table_;
};

/// Logistic regression over hashed features: action, position, action x position, every
/// categorical context value crossed with the action, and every numeric context column crossed with
/// the action; AdaGrad with L2, `epochs` seeded passes.
class LogisticRewardModel final : public RewardModel {
 public:
  struct Options {
    int epochs = 5;
    double lr = 0.1;
    double l2 = 1e-5;
    int hash_bits = 18;
    std::uint64_t seed = 42;
  };
  explicit LogisticRewardModel(Options o) : o_(o) {}
  std::string name() const override { return "logistic"; }
  void fit(const BanditLog& log, const std::vector<std::size_t>& rows) override;
  void predict(const BanditLog& log, std::size_t row, float* out) const override;
  bool context_free() const override { return false; }

 private:
  double logit(const BanditLog& log, std::size_t row, std::int32_t action, std::vector<std::uint32_t>* features) const;
  Options o_;
  std::vector<float> w_, g2_;
};

/// Cross-fitted q for every row: `row(i)` points at n_actions values for row i's logged position.
class RewardEstimates {
 public:
  std::int32_t n_actions() const { return n_actions_; }
  const float* row(std::size_t i) const { return values_.data() + static_cast<std::size_t>(block_[i]) * n_actions_; }
  /// Which stored block row i uses (rows sharing a block share their estimates).
  std::uint32_t block(std::size_t i) const { return block_[i]; }
  std::size_t blocks() const { return values_.size() / static_cast<std::size_t>(n_actions_); }

  /// `make` builds a fresh model per fold; `folds` >= 2 cross-fits over a seeded random
  /// partition of the rows, 1 fits and predicts on all rows (in-sample). Throws InvalidInput.
  static RewardEstimates cross_fit(const BanditLog& log, const std::function<std::unique_ptr<RewardModel>()>& make,
                                   int folds, std::uint64_t seed);

 private:
  std::int32_t n_actions_ = 0;
  std::vector<float> values_;
  std::vector<std::uint32_t> block_;
};

/// "tabular" or "logistic" (seeded). Throws InvalidInput for another name.
std::unique_ptr<RewardModel> make_reward_model(const std::string& name, std::uint64_t seed);

}  // namespace driftrec::ope
