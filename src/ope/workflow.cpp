#include "driftrec/ope/workflow.h"

#include <chrono>
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/ope/reward_model.h"

namespace driftrec::ope {

std::int32_t policy_actions(const PolicySpec& spec) {
  if (spec.kind != "bts" || spec.prior_path.empty()) return 0;
  std::vector<double> alpha, beta;
  read_beta_prior(spec.prior_path, spec.campaign, &alpha, &beta);
  return static_cast<std::int32_t>(alpha.size());
}

std::unique_ptr<ActionDistribution> make_policy(const PolicySpec& spec, const BanditLog& log, std::uint64_t seed) {
  if (spec.kind == "uniform") return uniform_distribution(log.n_actions, log.n_positions);
  if (spec.kind == "bts") {
    if (spec.prior_path.empty() || spec.campaign.empty())
      throw InvalidInput("policy bts needs a prior file and a campaign");
    std::vector<double> alpha, beta;
    read_beta_prior(spec.prior_path, spec.campaign, &alpha, &beta);
    if (static_cast<std::int32_t>(alpha.size()) != log.n_actions)
      throw InvalidInput(spec.prior_path + ": campaign '" + spec.campaign + "' has " + std::to_string(alpha.size()) +
                         " actions, the log " + std::to_string(log.n_actions) +
                         " (read the log with that many actions)");
    return bernoulli_ts_distribution(alpha, beta, log.n_positions, spec.simulations, seed);
  }
  if (spec.kind == "probs") {
    if (spec.probs_path.empty()) throw InvalidInput("policy probs needs a probabilities file");
    return read_action_distribution(spec.probs_path, log.n_actions, log.n_positions, log.size());
  }
  throw InvalidInput("unknown policy '" + spec.kind + "' (uniform, bts, probs)");
}

OpeReport run_ope(const BanditLog& log, const ActionDistribution& policy, const OpeOptions& o) {
  if (o.estimators.empty()) throw InvalidInput("no estimator requested");
  std::vector<std::unique_ptr<Estimator>> estimators;
  bool need_q = false;
  for (const auto& name : o.estimators) {
    estimators.push_back(make_estimator(name, o.clip, o.switch_tau));
    need_q = need_q || estimators.back()->needs_reward_model();
  }
  using Clock = std::chrono::steady_clock;
  OpeReport r;
  r.rows = log.size();
  r.n_actions = log.n_actions;
  r.n_positions = log.n_positions;
  r.logged_value = log.mean_reward();
  auto t0 = Clock::now();
  RewardEstimates q;
  if (need_q) {
    make_reward_model(o.reward_model, o.seed);  // validates the name before the folds run
    q = RewardEstimates::cross_fit(
        log, [&] { return make_reward_model(o.reward_model, o.seed); }, o.folds, o.seed);
  }
  auto t1 = Clock::now();
  const OpeInputs in = make_inputs(log, policy, need_q ? &q : nullptr);
  r.weights = weight_stats(in);
  for (std::size_t k = 0; k < estimators.size(); ++k)
    r.estimates.push_back(estimate_with_ci(*estimators[k], in, o.bootstrap, o.confidence, o.seed + k));
  auto t2 = Clock::now();
  r.seconds_reward_model = std::chrono::duration<double>(t1 - t0).count();
  r.seconds_estimation = std::chrono::duration<double>(t2 - t1).count();
  return r;
}

nlohmann::json OpeReport::to_json() const {
  nlohmann::json j;
  j["rows"] = rows;
  j["actions"] = n_actions;
  j["positions"] = n_positions;
  j["logged_value"] = logged_value;
  j["weights"] = {{"ess", weights.ess}, {"mean", weights.mean}, {"max", weights.max}};
  j["seconds_reward_model"] = seconds_reward_model;
  j["seconds_estimation"] = seconds_estimation;
  for (const auto& e : estimates)
    j["estimates"][e.estimator] = {
        {"value", e.value}, {"ci_low", e.ci_low}, {"ci_high", e.ci_high}, {"std_error", e.std_error}};
  return j;
}

}  // namespace driftrec::ope
