// driftrec: the command-line front end. Library errors become one readable line on stderr and a
// non-zero exit code (2 for usage and invalid input, 1 for everything else).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>

#include "commands.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/federated/federated_model.h"
#include "driftrec/nn/register.h"

namespace {

/// Every command, in the order --help lists them. `parent` names a command group (`data inspect`);
/// a group itself has no runner.
struct Command {
  const char* parent;
  const char* name;
  const char* help;
  driftrec::cli::Runner (*add)(CLI::App&, const driftrec::cli::GlobalFlags&);
};

using namespace driftrec::cli;
const Command kCommands[] = {
    {nullptr, "synth", "generate a synthetic dataset with drifting interests", add_synth},
    {nullptr, "data", "inspect data files", nullptr},
    {"data", "inspect", "print dataset statistics (text or JSON)", add_data_inspect},
    {nullptr, "train", "train a model and save a model directory", add_train},
    {nullptr, "evaluate", "evaluate a model directory with full ranking", add_evaluate},
    {nullptr, "recommend", "top-K items for a user or a given history", add_recommend},
    {nullptr, "ensemble", "blend trained models (weights fitted on validation) into one model directory", add_ensemble},
    {nullptr, "compare", "evaluate several models on one split, with paired significance tests", add_compare},
    {nullptr, "tune", "hyperparameter search (grid, random, TPE) on the validation split, resumable", add_tune},
    {nullptr, "report",
     "one self-contained HTML report: comparison, curves, popularity, users' interests and explanations", add_report},
    {nullptr, "ope", "off-policy evaluation of a policy from logged bandit feedback (IPS, SNIPS, DM, DR, switch-DR)",
     add_ope},
    {nullptr, "simulate", "interactive simulator: exploration policies over a model, with clicks, regret and coverage",
     add_simulate},
    {nullptr, "reinforce",
     "fine-tune a sequential model from logged clicks (top-K off-policy-corrected REINFORCE), on the simulator",
     add_reinforce},
    {nullptr, "export-feedback", "recorded feedback (POST /v1/feedback) as an Open Bandit CSV for driftrec ope",
     add_export_feedback},
    {nullptr, "store", "a stored event log: import, and data rights (delete-user, export-user, purge)", add_store},
    {nullptr, "privacy", "the RDP accountant: epsilon of a DP-SGD run, or the noise a budget needs", add_privacy},
    {nullptr, "models", "list models and their parameters", add_models},
    {nullptr, "serve", "HTTP server: durable event ingest, live recommendations, explanations", add_serve},
    {nullptr, "demo", "the main job: synthetic data, baselines, and live interest updates", add_demo},
};

}  // namespace

int main(int argc, char** argv) {
  using namespace driftrec;
  nn::register_neural_models();
  fed::register_federated_models();
  CLI::App app{"DriftRec: recommendations that follow each user's interests as they move"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "driftrec 0.1.0");
  cli::GlobalFlags g;
  app.add_option("--threads", g.threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", g.log_level, "debug, info, warn, error, off")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));

  std::map<CLI::App*, cli::Runner> runners;
  for (const auto& c : kCommands) {
    auto* parent = &app;
    if (c.parent) {
      parent = app.get_subcommand(c.parent);
      parent->require_subcommand(1);
    }
    auto* sub = parent->add_subcommand(c.name, c.help);
    if (c.add) runners[sub] = c.add(*sub, g);
  }

  try {
    for (int i = 1; i < argc; ++i) g.argv.emplace_back(argv[i]);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // A bad flag or value is bad input like any other: one line, exit 2.
    std::fprintf(stderr, "driftrec: error: %s (see --help)\n", e.what());
    return 2;
  }
  static const std::map<std::string, LogLevel> levels = {{"debug", LogLevel::kDebug},
                                                         {"info", LogLevel::kInfo},
                                                         {"warn", LogLevel::kWarn},
                                                         {"error", LogLevel::kError},
                                                         {"off", LogLevel::kOff}};
  set_log_level(levels.at(g.log_level));
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
    std::fprintf(stderr, "driftrec: error: no command given (see --help)\n");
    return 2;
  } catch (const InvalidInput& e) {
    std::fprintf(stderr, "driftrec: error: %s\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "driftrec: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "driftrec: internal error: %s\n", e.what());
    return 1;
  }
}
