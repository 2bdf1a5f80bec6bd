#pragma once
// Simulation as library calls: build a world (generate data, train a model on it), then run several
// policies on the same users with the same seeds. The CLI (`driftrec simulate`) only parses and prints.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/synth.h"
#include "driftrec/models/model.h"
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

}  // namespace driftrec::sim
