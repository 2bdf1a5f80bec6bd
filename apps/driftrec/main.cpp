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
  auto add = [&](CLI::App* sub, cli::Runner r) { runners[sub] = std::move(r); };
  auto* synth = app.add_subcommand("synth", "generate a synthetic dataset with drifting interests");
  add(synth, cli::add_synth(*synth, g));
  auto* data = app.add_subcommand("data", "inspect data files");
  data->require_subcommand(1);
  auto* inspect = data->add_subcommand("inspect", "print dataset statistics (text or JSON)");
  add(inspect, cli::add_data_inspect(*inspect, g));
  auto* train = app.add_subcommand("train", "train a model and save a model directory");
  add(train, cli::add_train(*train, g));
  auto* evaluate = app.add_subcommand("evaluate", "evaluate a model directory with full ranking");
  add(evaluate, cli::add_evaluate(*evaluate, g));
  auto* recommend = app.add_subcommand("recommend", "top-K items for a user or a given history");
  add(recommend, cli::add_recommend(*recommend, g));
  auto* ensemble =
      app.add_subcommand("ensemble", "blend trained models (weights fitted on validation) into one model directory");
  add(ensemble, cli::add_ensemble(*ensemble, g));
  auto* compare = app.add_subcommand("compare", "evaluate several models on one split, with paired significance tests");
  add(compare, cli::add_compare(*compare, g));
  auto* tune =
      app.add_subcommand("tune", "hyperparameter search (grid, random, TPE) on the validation split, resumable");
  add(tune, cli::add_tune(*tune, g));
  auto* rep = app.add_subcommand(
      "report", "one self-contained HTML report: comparison, curves, popularity, users' interests and explanations");
  add(rep, cli::add_report(*rep, g));
  auto* ope = app.add_subcommand(
      "ope", "off-policy evaluation of a policy from logged bandit feedback (IPS, SNIPS, DM, DR, switch-DR)");
  add(ope, cli::add_ope(*ope, g));
  auto* simulate = app.add_subcommand(
      "simulate", "interactive simulator: exploration policies over a model, with clicks, regret and coverage");
  add(simulate, cli::add_simulate(*simulate, g));
  auto* reinforce = app.add_subcommand(
      "reinforce",
      "fine-tune a sequential model from logged clicks (top-K off-policy-corrected REINFORCE), on the simulator");
  add(reinforce, cli::add_reinforce(*reinforce, g));
  auto* exportfb = app.add_subcommand("export-feedback",
                                      "recorded feedback (POST /v1/feedback) as an Open Bandit CSV for driftrec ope");
  add(exportfb, cli::add_export_feedback(*exportfb, g));
  auto* store =
      app.add_subcommand("store", "a stored event log: import, and data rights (delete-user, export-user, purge)");
  add(store, cli::add_store(*store, g));
  auto* priv =
      app.add_subcommand("privacy", "the RDP accountant: epsilon of a DP-SGD run, or the noise a budget needs");
  add(priv, cli::add_privacy(*priv, g));
  auto* models = app.add_subcommand("models", "list models and their parameters");
  add(models, cli::add_models(*models, g));
  auto* serve = app.add_subcommand("serve", "HTTP server: durable event ingest, live recommendations, explanations");
  add(serve, cli::add_serve(*serve, g));
  auto* demo = app.add_subcommand("demo", "the main job: synthetic data, baselines, and live interest updates");
  add(demo, cli::add_demo(*demo, g));

  try {
    for (int i = 1; i < argc; ++i) g.argv.emplace_back(argv[i]);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
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
