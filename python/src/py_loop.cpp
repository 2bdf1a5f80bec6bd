// driftrec.simulate and driftrec.ope: the closed loop (policies in the simulator, off-policy
// evaluation of logged feedback), one library workflow each.
#include <pybind11/stl.h>

#include "bindings.h"
#include "convert.h"
#include "driftrec/core/error.h"
#include "driftrec/ope/workflow.h"
#include "driftrec/sim/workflow.h"

namespace driftrec::py {

namespace {

using pyb::arg;

pyb::dict simulate_py(const std::vector<std::string>& policies, const std::string& model, const pyb::object& config,
                      int users, int items, double shift_rate, double drift, int episodes, std::size_t k, int steps,
                      int shift_step, double discovery, double satiation, bool online, std::uint64_t seed,
                      int threads) {
  if (policies.empty()) throw InvalidInput("simulate: give at least one policy spec");
  data::SynthOptions world;
  world.users = users;
  world.items = items;
  world.shift_rate = shift_rate;
  world.drift = drift;
  world.seed = seed;
  sim::SimOptions o;
  o.k = k;
  o.episodes = episodes;
  o.response.max_steps = steps;
  o.response.shift_step = shift_step;
  o.response.discovery = discovery;
  o.response.satiation = satiation;
  o.online = online;
  o.seed = seed;
  o.threads = threads;
  const auto cfg = config.is_none() ? nlohmann::json::object() : from_python(config, "config");
  nlohmann::json out = {{"model", model}, {"reports", nlohmann::json::array()}};
  {
    pyb::gil_scoped_release nogil;
    const auto w = sim::build_world(world, model, cfg, threads, seed);
    for (const auto& r : sim::compare_policies(w, policies, o)) out["reports"].push_back(r.to_json());
  }
  return to_python(out).cast<pyb::dict>();
}

pyb::dict ope_py(const std::string& log_path, const std::string& policy, const std::string& prior,
                 const std::string& campaign, std::int64_t simulations, const std::string& probs,
                 const std::vector<std::string>& estimators, double clip, double switch_tau,
                 const std::string& reward_model, int folds, int bootstrap, double confidence, std::uint64_t seed,
                 std::int32_t n_actions) {
  ope::PolicySpec spec;
  spec.kind = policy;
  spec.prior_path = prior;
  spec.campaign = campaign;
  spec.simulations = simulations;
  spec.probs_path = probs;
  ope::OpeOptions o;
  o.estimators = estimators;
  if (clip > 0) o.clip = clip;
  o.switch_tau = switch_tau;
  o.reward_model = reward_model;
  o.folds = folds;
  o.bootstrap = bootstrap;
  o.confidence = confidence;
  o.seed = seed;
  nlohmann::json out;
  {
    pyb::gil_scoped_release nogil;
    if (n_actions == 0) n_actions = ope::policy_actions(spec);
    const auto log = ope::read_obd_csv(log_path, n_actions);
    const auto p = ope::make_policy(spec, log, seed);
    out = ope::run_ope(log, *p, o).to_json();
  }
  out["log"] = log_path;
  out["policy"] = policy;
  return to_python(out).cast<pyb::dict>();
}

}  // namespace

void bind_loop(pyb::module_& m) {
  // Defaults are the library's own (the CLI's too).
  const data::SynthOptions w;
  const sim::SimOptions so;
  m.def("simulate", &simulate_py, arg("policies") = std::vector<std::string>{"greedy"}, arg("model") = "itemknn",
        arg("config") = pyb::none(), arg("users") = w.users, arg("items") = w.items, arg("shift_rate") = w.shift_rate,
        arg("drift") = w.drift, arg("episodes") = so.episodes, arg("k") = so.k, arg("steps") = so.response.max_steps,
        arg("shift_step") = so.response.shift_step, arg("discovery") = so.response.discovery,
        arg("satiation") = so.response.satiation, arg("online") = true, arg("seed") = so.seed, arg("threads") = 1);
  m.def("ope", &ope_py, arg("log"), arg("policy") = "uniform", arg("prior") = "", arg("campaign") = "",
        arg("simulations") = 100000, arg("probs") = "", arg("estimators") = ope::estimator_names(), arg("clip") = 0.0,
        arg("switch_tau") = 10.0, arg("reward_model") = "tabular", arg("folds") = 3, arg("bootstrap") = 1000,
        arg("confidence") = 0.95, arg("seed") = 42, arg("n_actions") = 0);
}

}  // namespace driftrec::py
