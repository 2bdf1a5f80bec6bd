#pragma once
// Flags shared by the commands that build a simulated world (simulate, reinforce); defined in
// cmd_simulate.cpp.
#include <CLI/CLI.hpp>
#include <string>

#include "common.h"
#include "driftrec/data/synth.h"
#include "driftrec/sim/simulator.h"

namespace driftrec::cli {

/// --users, --items, --shift-rate, --drift, --model and the model's --config / --set.
void add_world_flags(CLI::App& app, data::SynthOptions& world, std::string& model, ConfigFlags& config);
/// --k, --steps, --shift-step, --discovery, --satiation, --seed.
void add_session_flags(CLI::App& app, sim::SimOptions& sim);

}  // namespace driftrec::cli
