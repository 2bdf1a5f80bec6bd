#pragma once
// Simulation as library calls: build a world (generate data, train a model on it), then run several
// policies on the same users with the same seeds. The CLI (`driftrec simulate`) only parses and prints.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/synth.h"
#include "driftrec/models/model.h"
#include "driftrec/rl/reinforce.h"
#include "driftrec/sim/simulator.h"

namespace driftrec::sim {

struct World {
  data::SynthData synth;
  data::Dataset dataset;
  std::unique_ptr<models::Model> model;
};

/// Generates the world and trains `model_name` (registry name, `config` over its defaults) on all
/// of its events. Throws InvalidInput for bad options or an unknown model.
World build_world(const data::SynthOptions& world, const std::string& model_name, const nlohmann::json& config,
                  int threads, std::uint64_t seed);

/// Runs every policy spec (policy/policy.h's "NAME[:key=value,...]") with a fresh policy on the
/// same episodes (same seed). Throws InvalidInput for a bad spec.
std::vector<SimReport> compare_policies(const World& w, const std::vector<std::string>& policy_specs,
                                        const SimOptions& options);

/// Off-policy evaluation checked against the simulator's truth: `logging` shows one slate per
/// round (a session of one step, position-based clicks) to users in turn, and every estimator
/// estimates `target`'s value per shown row from that log; the truth is the target's exact
/// expected clicks per row at the same starting states (Simulator::policy_value / k).
struct OpeCheckOptions {
  std::string logging = "boltzmann:temperature=1";
  std::string target = "greedy";
  int rounds = 10000;
  int bootstrap = 500;
  double confidence = 0.95;
  std::string reward_model = "tabular";
  int folds = 2;
  double switch_tau = 10.0;
};

struct OpeCheck {
  double truth = 0;         ///< the target's expected clicks per shown row
  double logged_value = 0;  ///< the logging policy's clicks per shown row in the log
  ope::WeightStats weights;
  std::vector<ope::Estimate> estimates;  ///< in ope::estimator_names() order
};

/// `sim` supplies k, the seed and the response knobs (cascade and session length are overridden).
OpeCheck ope_on_simulator(const World& w, const OpeCheckOptions& check, SimOptions sim);

/// Learning from feedback checked on the simulator: `logging` (an exploring policy over the
/// supervised model) runs `logged_episodes` sessions with seed s; every click becomes a logged
/// action (rl/reinforce.h) and the model is fine-tuned in place by off-policy-corrected top-K
/// REINFORCE; each `serve` policy is run over the supervised model before and over the fine-tuned
/// model after, on the same `eval_episodes` sessions (seed s + 1, never the logged ones).
struct RlCheckOptions {
  std::string logging = "boltzmann:temperature=0.2";
  int logged_episodes = 3000;
  double discount = 0.9;
  rl::ReinforceOptions train;
  std::vector<std::string> serve = {"greedy"};
  int eval_episodes = 2000;
};

struct RlCheck {
  SimReport logged;  ///< the logging run (its sessions are not kept)
  std::size_t actions = 0;
  std::vector<rl::ReinforceEpoch> epochs;
  std::vector<SimReport> before, after;  ///< per serve policy: supervised model, fine-tuned model
  nlohmann::json to_json() const;
};

/// Throws InvalidInput when the world's model cannot be fine-tuned (rl::PolicyGradientLearner) or
/// the options are out of range.
RlCheck reinforce_on_simulator(World& w, const RlCheckOptions& check, SimOptions sim,
                               const std::function<void(const rl::ReinforceEpoch&)>& progress = {});

}  // namespace driftrec::sim
