#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/tune/tune.h"
#include "driftrec/workflow/tune.h"
#include "workers.h"

namespace driftrec::cli {

Runner add_tune(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    DataFlags data;
    PrepareFlags prep;
    ConfigFlags config;
    std::string space_path, model, objective, request_at, db = "tune.sqlite", out = "best.yaml";
    tune::TuneOptions tune;
    int parallel = 1;
    bool worker = false, no_abandon = false;
  };
  auto o = std::make_shared<Opts>();
  o->data.add_to(app, true);
  o->prep.add_to(app);
  app.add_option("--space", o->space_path, "search space (YAML/JSON: model, objective, fixed, params)")->required();
  app.add_option("--model", o->model, "model to tune (or `model:` in the space)");
  o->config.add_to(app);
  app.add_option("--objective", o->objective, "validation metric to maximise (default: the space's, else ndcg@10)");
  app.add_option("--request-at", o->request_at,
                 "when the validation lists are asked for, which a model with request_time reads: none, cutoff or "
                 "arrival (default: the space's `request_at`, else none; as train --request-at)")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  app.add_option("--strategy", o->tune.sampler.strategy, "grid, random or tpe")
      ->check(CLI::IsMember({"grid", "random", "tpe"}));
  app.add_option("--trials", o->tune.trials, "trial budget (0 = none; then --minutes)")->check(CLI::NonNegativeNumber);
  app.add_option("--minutes", o->tune.minutes, "time budget for starting trials (0 = none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--grid-points", o->tune.sampler.grid_points, "grid: values per continuous range")
      ->check(CLI::Range(1, 100));
  app.add_option("--startup", o->tune.sampler.startup, "tpe: random trials before the model-based ones")
      ->check(CLI::Range(2, 1000));
  app.add_option("--seed", o->tune.seed, "sampler and training seed");
  app.add_option("--db", o->db, "SQLite file recording the trials (an existing one is resumed)");
  app.add_option("--out", o->out, "where to write the best configuration (YAML for `train --config`)");
  app.add_option("--parallel", o->parallel, "trials at once, each in its own process (threads are split)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--no-abandon", o->no_abandon, "never stop a trial early (median stopping rule)");
  app.add_flag("--worker", o->worker, "internal: run as a worker of a parallel search")->group("");
  return [o, &g]() {
    auto space = tune::SearchSpace::from_file(o->space_path);
    workflow::override_space(space, o->model, o->objective, o->request_at);
    if (space.model.empty()) throw InvalidInput("tune: say which model (--model or `model:` in the space)");
    workflow::check_space(space, o->space_path);
    o->tune.early_abandon = !o->no_abandon;
    const auto base = o->config.overrides(space.model);
    const auto prep_opts = o->prep.get();
    workflow::check_request_at(prep_opts, space.request_at);  // before the data are read
    const auto key = workflow::study_key(space, base, o->tune, o->data.path, prep_opts);
    tune::TrialStore store(o->db, key);
    const int total_threads = resolve_threads(g.threads);
    const int threads = std::max(1, total_threads / o->parallel);
    std::vector<pid_t> workers;
    if (!o->worker) {
      const int stale = store.fail_stale_running();
      if (stale > 0) log_warn(std::to_string(stale) + " trial(s) interrupted in an earlier run were marked failed");
      const auto done = store.trials().size();
      if (done > 0) log_info("resuming " + o->db + ": " + std::to_string(done) + " trial(s) recorded");
      workers = spawn_workers(o->parallel - 1, threads, g.argv, "--worker");
    }
    const auto prepared = data::prepare(o->data.load(), prep_opts);
    const auto objective = workflow::tune_objective(prepared, prep_opts, space, base, threads, o->tune.seed);
    const std::string who = o->worker ? "worker " + std::to_string(getpid()) + ": " : "";
    auto on_finish = [&](const tune::Trial& t) {
      log_info(who + "trial " + std::to_string(t.id) + " " + tune::to_string(t.status) +
               (t.value ? " " + space.objective + "=" + std::to_string(*t.value) : "") + " in " +
               std::to_string(static_cast<int>(t.seconds)) + " s " + t.params.dump() +
               (t.message.empty() ? "" : " (" + t.message + ")"));
    };
    auto trials = tune::run_trials(space, o->tune, store, objective, on_finish);
    if (o->worker) return 0;
    wait_workers(workers);
    trials = workflow::best_first(store.trials());
    std::printf("%-6s %-10s %12s %9s  %s\n", "trial", "status", space.objective.c_str(), "seconds", "params");
    for (const auto& t : trials)
      std::printf("%-6lld %-10s %12s %9.1f  %s\n", static_cast<long long>(t.id), tune::to_string(t.status).c_str(),
                  t.value ? std::to_string(*t.value).c_str() : "-", t.seconds, t.params.dump().c_str());
    const auto best = tune::best_trial(trials);
    if (!best) throw InvalidInput("tune: no trial completed (see the log for why)");
    workflow::write_config_yaml(o->out, space.model, workflow::trial_config(space, base, *best),
                                "driftrec tune --space " + o->space_path + ": best of " +
                                    std::to_string(trials.size()) + " trial(s), validation " + space.objective + " = " +
                                    std::to_string(*best->value) + " (trial " + std::to_string(best->id) + ", " +
                                    o->db + ")");
    std::cout << "best: trial " << best->id << " " << space.objective << " " << *best->value << " -> " << o->out
              << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
