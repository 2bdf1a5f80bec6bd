#pragma once
// Off-policy estimators of a policy's value (mean reward per logged row) from logs of another
// policy. With w_i = pi_e(a_i | x_i, k_i) / p_i (evaluated over logging probability of the logged
// action at its position), q the cross-fitted reward model, q_i = q(x_i, a_i, k_i) and
// v_i = sum_a pi_e(a | x_i, k_i) q(x_i, a, k_i):
//   ips        mean(min(w, clip) r)                         unbiased without clipping
//   snips      sum(w r) / sum(w)                            self-normalised: bounded, tiny bias
//   dm         mean(v)                                      as good as the reward model
//   dr         mean(v + min(w, clip) (r - q))               unbiased when either part is right
//   switch-dr  mean(v + [w <= tau] w (r - q))               DM where the weight is too large
// Every estimator is a ratio of sums of per-row terms (num_i, den_i), so the bootstrap resamples
// rows once for all of them. Effective sample size (sum w)^2 / sum w^2 reports how much of the log
// the weights use.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "driftrec/ope/action_dist.h"
#include "driftrec/ope/bandit_log.h"
#include "driftrec/ope/reward_model.h"

namespace driftrec::ope {

/// What the estimators read per logged row.
struct OpeInputs {
  std::vector<double> w;  ///< importance weight pi_e / p
  std::vector<double> reward;
  std::vector<double> q_logged;  ///< q(x, a_i, k_i); empty without a reward model
  std::vector<double> q_policy;  ///< sum_a pi_e(a) q(x, a, k_i); empty without a reward model
  std::size_t size() const { return w.size(); }
  bool has_reward_model() const { return !q_logged.empty(); }
};

/// Builds the per-row inputs. Throws InvalidInput when the policy's actions/positions do not
/// cover the log's, or when `q` has another number of actions.
OpeInputs make_inputs(const BanditLog& log, const ActionDistribution& policy, const RewardEstimates* q);

/// A policy's distribution over actions at one row's position, sparse: (action, probability).
using SparseDistribution = std::vector<std::pair<std::int32_t, double>>;

/// The same inputs from per-row sparse distributions of the evaluated policy (one per logged row,
/// e.g. recorded by the simulator for a contextual policy). Throws InvalidInput on a size mismatch.
OpeInputs make_inputs(const BanditLog& log, const std::vector<SparseDistribution>& policy, const RewardEstimates* q);

class Estimator {
 public:
  virtual ~Estimator() = default;
  virtual std::string name() const = 0;
  virtual bool needs_reward_model() const { return false; }
  /// Writes num[i - begin] and den[i - begin] for rows begin..end-1; the estimate is
  /// sum(num) / sum(den) over all rows.
  virtual void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const = 0;
  /// sum(num) / sum(den) in one pass without storing the terms. Throws InvalidInput when a
  /// reward model is needed and missing.
  double estimate(const OpeInputs& in) const;
};

class Ips final : public Estimator {
 public:
  explicit Ips(double clip = std::numeric_limits<double>::infinity()) : clip_(clip) {}
  std::string name() const override { return "ips"; }
  void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const override;

 private:
  double clip_;
};

class SelfNormalizedIps final : public Estimator {
 public:
  std::string name() const override { return "snips"; }
  void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const override;
};

class DirectMethod final : public Estimator {
 public:
  std::string name() const override { return "dm"; }
  bool needs_reward_model() const override { return true; }
  void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const override;
};

class DoublyRobust final : public Estimator {
 public:
  explicit DoublyRobust(double clip = std::numeric_limits<double>::infinity()) : clip_(clip) {}
  std::string name() const override { return "dr"; }
  bool needs_reward_model() const override { return true; }
  void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const override;

 private:
  double clip_;
};

class SwitchDoublyRobust final : public Estimator {
 public:
  explicit SwitchDoublyRobust(double tau) : tau_(tau) {}
  std::string name() const override { return "switch-dr"; }
  bool needs_reward_model() const override { return true; }
  void terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const override;

 private:
  double tau_;
};

/// "ips", "snips", "dm", "dr", "switch-dr". `clip` applies to ips and dr (infinity = off),
/// `switch_tau` to switch-dr. Throws InvalidInput for another name or a non-positive clip/tau.
std::unique_ptr<Estimator> make_estimator(const std::string& name, double clip, double switch_tau);

/// The names make_estimator accepts, in report order.
const std::vector<std::string>& estimator_names();

struct Estimate {
  std::string estimator;
  double value = 0;
  double ci_low = 0, ci_high = 0;  ///< bootstrap percentile interval (= value without resamples)
  double std_error = 0;            ///< bootstrap standard deviation (0 without resamples)
};

/// Value with a seeded percentile bootstrap over rows (`resamples` 0 = no interval).
Estimate estimate_with_ci(const Estimator& e, const OpeInputs& in, int resamples, double confidence,
                          std::uint64_t seed);

/// Weight diagnostics: effective sample size (sum w)^2 / sum w^2, mean and largest weight.
struct WeightStats {
  double ess = 0, mean = 0, max = 0;
};
WeightStats weight_stats(const OpeInputs& in);

}  // namespace driftrec::ope
