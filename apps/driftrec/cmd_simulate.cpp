// driftrec simulate: policies on top of a model in the interactive simulator (flags -> library
// calls -> print).
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/sim/workflow.h"
#include "sim_flags.h"

namespace driftrec::cli {

void add_world_flags(CLI::App& app, data::SynthOptions& world, std::string& model, ConfigFlags& config) {
  world.users = 1000;
  world.items = 2000;
  app.add_option("--users", world.users, "world: users (ecommerce preset)")->check(CLI::PositiveNumber);
  app.add_option("--items", world.items, "world: items")->check(CLI::Range(2, 10000000));
  app.add_option("--shift-rate", world.shift_rate, "world: interest shifts per session in the history")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--drift", world.drift, "world: gradual drift per session")->check(CLI::Range(0.0, 1.0));
  app.add_option("--model", model, "model trained on the world's events (see `driftrec models`)");
  config.add_to(app);
}

void add_session_flags(CLI::App& app, sim::SimOptions& sim) {
  app.add_option("--k", sim.k, "slate size")->check(CLI::Range(1, 1000));
  app.add_option("--steps", sim.response.max_steps, "most steps per session")->check(CLI::PositiveNumber);
  app.add_option("--shift-step", sim.response.shift_step, "step at which every user's interests jump (-1 = never)");
  app.add_option("--discovery", sim.response.discovery, "response: how much showing a latent interest raises it")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--satiation", sim.response.satiation, "response: satiation per click in a category")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", sim.seed, "seed of the world, the training and the sessions");
}

Runner add_simulate(CLI::App& app, const GlobalFlags& g) {
  struct Flags {
    data::SynthOptions world;
    std::string model = "itemknn";
    ConfigFlags config;
    std::vector<std::string> policies;
    sim::SimOptions sim;
    std::string json, log_out;
  };
  auto f = std::make_shared<Flags>();
  add_world_flags(app, f->world, f->model, f->config);
  app.add_option("--policy", f->policies,
                 "policy spec, repeatable: greedy, epsilon-greedy:epsilon=0.1, boltzmann:temperature=0.5, "
                 "linucb:alpha=1, lints:noise=0.3 (options: candidates, samples, lambda, prior)");
  app.add_option("--episodes", f->sim.episodes, "sessions per policy")->check(CLI::PositiveNumber);
  add_session_flags(app, f->sim);
  app.add_flag(
      "--frozen", [f](std::int64_t) { f->sim.online = false; }, "clicks do not update the model's user state");
  app.add_option("--log-out", f->log_out,
                 "write the first policy's shown slates as an Open Bandit CSV (item, position, click, propensity)");
  app.add_option("--json", f->json, "write the reports as JSON here");
  return [f, &g]() {
    if (f->policies.empty()) f->policies = {"greedy"};
    f->world.seed = f->sim.seed;
    f->sim.log = !f->log_out.empty();
    f->sim.threads = g.threads;
    log_info("simulate: generating the world and training " + f->model);
    const auto world = sim::build_world(f->world, f->model, f->config.overrides(f->model), g.threads, f->sim.seed);
    const auto reports = sim::compare_policies(world, f->policies, f->sim);
    std::printf("%-36s %8s %8s %7s %7s %8s %8s %9s\n", "policy", "clicks", "+-95%", "buys", "steps", "ctr", "regret",
                "coverage");
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : reports) {
      std::printf("%-36s %8.3f %8.3f %7.3f %7.2f %8.4f %8.3f %9.4f\n", r.policy.c_str(), r.clicks_mean, r.clicks_ci,
                  r.buys_mean, r.steps_mean, r.ctr, r.regret_mean, r.coverage);
      j.push_back(r.to_json());
    }
    if (!f->log_out.empty()) ope::write_obd_csv(reports.front().log, f->log_out);
    if (!f->json.empty()) write_file(f->json, nlohmann::json{{"model", f->model}, {"reports", j}}.dump(2) + "\n");
    return 0;
  };
}

}  // namespace driftrec::cli
