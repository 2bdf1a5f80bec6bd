#pragma once
// The policy being evaluated, as the probability of showing each action at each slate position in
// each logged round (position-wise marginals: for a slate policy, P(item a is at position k)).
// Context-free policies share one table across rounds; contextual ones give one table per round.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace driftrec::ope {

class ActionDistribution {
 public:
  virtual ~ActionDistribution() = default;
  virtual std::int32_t n_actions() const = 0;
  virtual std::int32_t n_positions() const = 0;
  /// The probabilities of actions 0..n_actions-1 at `position` in logged row `row`.
  virtual const double* probs(std::size_t row, std::int32_t position) const = 0;
  /// True when probs() does not depend on the row.
  virtual bool context_free() const = 0;
};

/// One [positions x actions] table for every round.
class TableDistribution final : public ActionDistribution {
 public:
  /// `table[p * n_actions + a]`. Throws InvalidInput unless every position's row is a
  /// probability distribution (non-negative, sums to 1 within 1e-6).
  TableDistribution(std::int32_t n_actions, std::int32_t n_positions, std::vector<double> table);
  std::int32_t n_actions() const override { return n_actions_; }
  std::int32_t n_positions() const override { return n_positions_; }
  const double* probs(std::size_t, std::int32_t position) const override {
    return table_.data() + static_cast<std::size_t>(position) * n_actions_;
  }
  bool context_free() const override { return true; }
  const std::vector<double>& table() const { return table_; }

 private:
  std::int32_t n_actions_, n_positions_;
  std::vector<double> table_;
};

/// One table per logged row: `table[(row * n_positions + p) * n_actions + a]`.
class RowDistribution final : public ActionDistribution {
 public:
  /// Throws InvalidInput unless every (row, position) is a probability distribution.
  RowDistribution(std::int32_t n_actions, std::int32_t n_positions, std::size_t n_rows, std::vector<double> table);
  std::int32_t n_actions() const override { return n_actions_; }
  std::int32_t n_positions() const override { return n_positions_; }
  const double* probs(std::size_t row, std::int32_t position) const override {
    return table_.data() + (row * n_positions_ + static_cast<std::size_t>(position)) * n_actions_;
  }
  bool context_free() const override { return false; }

 private:
  std::int32_t n_actions_, n_positions_;
  std::vector<double> table_;
};

/// Uniform over actions at every position (the Open Bandit Dataset's random policy).
std::unique_ptr<TableDistribution> uniform_distribution(std::int32_t n_actions, std::int32_t n_positions);

/// Bernoulli Thompson sampling with Beta(alpha[a], beta[a]) posteriors, showing the top
/// `n_positions` sampled CTRs in order: P(a at position p) estimated from `simulations` seeded
/// draws (as the Open Bandit Pipeline computes BTS's action distribution). Throws InvalidInput for
/// mismatched sizes, non-positive parameters, or more positions than actions.
std::unique_ptr<TableDistribution> bernoulli_ts_distribution(const std::vector<double>& alpha,
                                                             const std::vector<double>& beta, std::int32_t n_positions,
                                                             std::int64_t simulations, std::uint64_t seed);

/// Beta prior of one campaign from a YAML file laid out as `<campaign>: {alpha: [...], beta: [...]}`
/// (the Open Bandit Dataset's prior_bts.yaml). Throws IoError / NotFound / InvalidInput.
void read_beta_prior(const std::string& path, const std::string& campaign, std::vector<double>* alpha,
                     std::vector<double>* beta);

/// Reads action probabilities from a CSV with the header `action,position,probability`
/// (context-free) or `row,action,position,probability` (per logged row, rows 0..n_rows-1);
/// positions are 1-based as in the logs. Missing entries are 0. Throws ParseError naming
/// file:line:field for a bad row, InvalidInput when a position's probabilities do not sum to 1.
std::unique_ptr<ActionDistribution> read_action_distribution(const std::string& path, std::int32_t n_actions,
                                                             std::int32_t n_positions, std::size_t n_rows);

}  // namespace driftrec::ope
