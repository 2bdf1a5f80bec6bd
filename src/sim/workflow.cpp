#include "driftrec/sim/workflow.h"

#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"
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

}  // namespace driftrec::sim
