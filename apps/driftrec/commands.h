#pragma once
// Each subcommand registers itself on the app and returns the function that runs it once parsed.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace driftrec::cli {

struct GlobalFlags {
  int threads = 0;  ///< 0 = all cores
  std::string log_level = "info";
  std::vector<std::string> argv;  ///< the command line after the program name (to re-run workers)
};

using Runner = std::function<int()>;  // returns the process exit code

Runner add_synth(CLI::App& app, const GlobalFlags& g);
Runner add_data_inspect(CLI::App& data_app, const GlobalFlags& g);
Runner add_train(CLI::App& app, const GlobalFlags& g);
Runner add_evaluate(CLI::App& app, const GlobalFlags& g);
Runner add_recommend(CLI::App& app, const GlobalFlags& g);
Runner add_models(CLI::App& app, const GlobalFlags& g);
Runner add_demo(CLI::App& app, const GlobalFlags& g);
Runner add_serve(CLI::App& app, const GlobalFlags& g);
Runner add_ensemble(CLI::App& app, const GlobalFlags& g);
Runner add_compare(CLI::App& app, const GlobalFlags& g);
Runner add_tune(CLI::App& app, const GlobalFlags& g);
Runner add_report(CLI::App& app, const GlobalFlags& g);
Runner add_ope(CLI::App& app, const GlobalFlags& g);
Runner add_simulate(CLI::App& app, const GlobalFlags& g);
Runner add_export_feedback(CLI::App& app, const GlobalFlags& g);
Runner add_reinforce(CLI::App& app, const GlobalFlags& g);
Runner add_store(CLI::App& app, const GlobalFlags& g);
Runner add_privacy(CLI::App& app, const GlobalFlags& g);

}  // namespace driftrec::cli
