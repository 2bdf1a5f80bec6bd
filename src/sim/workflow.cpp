#include "driftrec/sim/workflow.h"

#include <limits>
#include <utility>

#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"
#include "driftrec/ope/reward_model.h"
#include "driftrec/policy/policy.h"

namespace driftrec::sim {

World build_world(const data::SynthOptions& world, const std::string& model_name, const nlohmann::json& config,
                  int threads, std::uint64_t seed) {
  World w;
  w.synth = data::generate_synthetic(world);
  w.dataset = data::to_dataset(w.synth);
  w.model = models::create_model(model_name, config);
  models::FitOptions fo;
  fo.threads = threads;
  fo.seed = seed;
  w.model->fit(w.dataset, fo);
  return w;
}

std::vector<SimReport> compare_policies(const World& w, const std::vector<std::string>& policy_specs,
                                        const SimOptions& options) {
  if (policy_specs.empty()) throw InvalidInput("simulate: no policy given");
  std::vector<std::unique_ptr<policy::Policy>> policies;
  for (const auto& spec : policy_specs) policies.push_back(policy::make_policy(policy::parse_policy_spec(spec)));
  const Simulator sim(w.synth, w.dataset, options);
  std::vector<SimReport> out;
  for (std::size_t p = 0; p < policies.size(); ++p) {
    out.push_back(sim.run(*w.model, *policies[p]));
    out.back().policy = policy_specs[p];
  }
  return out;
}

OpeCheck ope_on_simulator(const World& w, const OpeCheckOptions& c, SimOptions o) {
  o.response.cascade = false;
  o.response.max_steps = 1;
  o.episodes = c.rounds;
  o.log = true;
  o.online = false;
  const Simulator sim(w.synth, w.dataset, o);
  auto logging = policy::make_policy(policy::parse_policy_spec(c.logging));
  auto target = policy::make_policy(policy::parse_policy_spec(c.target));
  OpeCheck out;
  out.truth = sim.policy_value(*w.model, *target) / static_cast<double>(o.k);
  const auto rep = sim.run(*w.model, *logging, target.get());
  out.logged_value = rep.log.mean_reward();
  const auto q = ope::RewardEstimates::cross_fit(
      rep.log, [&] { return ope::make_reward_model(c.reward_model, o.seed); }, c.folds, o.seed);
  const auto in = ope::make_inputs(rep.log, rep.target, &q);
  out.weights = ope::weight_stats(in);
  std::uint64_t stream = 0;
  for (const auto& name : ope::estimator_names()) {
    const auto e = ope::make_estimator(name, std::numeric_limits<double>::infinity(), c.switch_tau);
    out.estimates.push_back(ope::estimate_with_ci(*e, in, c.bootstrap, c.confidence, o.seed + stream++));
  }
  return out;
}

RlCheck reinforce_on_simulator(World& w, const RlCheckOptions& c, SimOptions o,
                               const std::function<void(const rl::ReinforceEpoch&)>& progress) {
  auto* learner = dynamic_cast<rl::PolicyGradientLearner*>(w.model.get());
  if (!learner) throw InvalidInput("reinforce: the model '" + w.model->name() + "' cannot be fine-tuned as a policy");
  if (c.logged_episodes < 1 || c.eval_episodes < 1) throw InvalidInput("reinforce: episodes must be positive");
  if (c.serve.empty()) throw InvalidInput("reinforce: no serving policy given");
  rl::validate(c.train);
  RlCheck out;
  SimOptions eval = o;
  eval.seed = o.seed + 1;
  eval.episodes = c.eval_episodes;
  eval.log = eval.record_sessions = false;
  out.before = compare_policies(w, c.serve, eval);
  SimOptions logging = o;
  logging.episodes = c.logged_episodes;
  logging.log = false;
  logging.record_sessions = true;
  out.logged = std::move(compare_policies(w, {c.logging}, logging).front());
  const auto actions = rl::actions_from_sessions(out.logged.sessions, c.discount);
  out.logged.sessions.clear();
  out.actions = actions.size();
  out.epochs = learner->reinforce(actions, c.train, progress);
  out.after = compare_policies(w, c.serve, eval);
  return out;
}

nlohmann::json RlCheck::to_json() const {
  nlohmann::json pol = nlohmann::json::array();
  for (std::size_t i = 0; i < before.size(); ++i)
    pol.push_back(
        {{"policy", before[i].policy},
         {"supervised", before[i].to_json()},
         {"reinforce", after[i].to_json()},
         {"clicks_gain", before[i].clicks_mean > 0 ? after[i].clicks_mean / before[i].clicks_mean - 1 : 0.0}});
  return {{"logging", logged.to_json()}, {"actions", actions}, {"epochs", rl::to_json(epochs)}, {"serve", pol}};
}

}  // namespace driftrec::sim
