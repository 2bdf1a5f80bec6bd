#pragma once
// Off-policy evaluation as one library call: a log, the evaluated policy, options in; every
// requested estimator's value with its bootstrap interval and the weight diagnostics out. The CLI
// (`driftrec ope`) and the benchmarks only parse, call and print.
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/ope/action_dist.h"
#include "driftrec/ope/bandit_log.h"
#include "driftrec/ope/estimators.h"

namespace driftrec::ope {

/// The evaluated policy: "uniform"; "bts" (Bernoulli Thompson sampling from a Beta prior file,
/// as the Open Bandit Dataset's bts policy); "probs" (a CSV of action probabilities, see
/// read_action_distribution).
struct PolicySpec {
  std::string kind = "uniform";
  std::string prior_path;             ///< bts
  std::string campaign;               ///< bts: the prior's section (e.g. men, women, all)
  std::int64_t simulations = 100000;  ///< bts: Monte Carlo draws of the action distribution
  std::string probs_path;             ///< probs
};

/// The number of actions a policy names by itself (bts: its prior's length, which names every
/// action, logged or not); 0 when it names none (the log decides).
std::int32_t policy_actions(const PolicySpec& spec);

/// Builds the policy for `log` (its actions and positions). Throws InvalidInput / NotFound / IoError.
std::unique_ptr<ActionDistribution> make_policy(const PolicySpec& spec, const BanditLog& log, std::uint64_t seed);

struct OpeOptions {
  std::vector<std::string> estimators = estimator_names();
  double clip = std::numeric_limits<double>::infinity();  ///< ips and dr weight cap
  double switch_tau = 10.0;              ///< switch-dr: rows with a larger weight use the reward model only
  std::string reward_model = "tabular";  ///< "tabular" or "logistic" (dm, dr, switch-dr)
  int folds = 3;                         ///< reward-model cross-fitting folds (1 = in-sample)
  int bootstrap = 1000;                  ///< resamples for the intervals (0 = none)
  double confidence = 0.95;
  std::uint64_t seed = 42;
};

struct OpeReport {
  std::size_t rows = 0;
  std::int32_t n_actions = 0, n_positions = 0;
  double logged_value = 0;  ///< mean reward in the log: the logging policy's on-policy value
  WeightStats weights;
  std::vector<Estimate> estimates;
  double seconds_reward_model = 0, seconds_estimation = 0;
  nlohmann::json to_json() const;
};

/// Runs the requested estimators of `policy`'s value on `log`. Throws InvalidInput for an unknown
/// estimator or reward model, or a policy that does not cover the log.
OpeReport run_ope(const BanditLog& log, const ActionDistribution& policy, const OpeOptions& options);

}  // namespace driftrec::ope
