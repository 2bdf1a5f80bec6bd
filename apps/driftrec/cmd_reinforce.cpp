// driftrec reinforce: off-policy-corrected top-K REINFORCE of a sequential model on logged clicks:
// from the simulator, with the clicks it earns before and after, or from the server's recorded
// feedback into a new model directory (flags -> library call -> print).
#include <cstdio>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/serve/feedback_learning.h"
#include "driftrec/sim/workflow.h"
#include "sim_flags.h"

namespace driftrec::cli {

namespace {

void log_epoch(const rl::ReinforceEpoch& e) {
  log_info("reinforce epoch " + std::to_string(e.epoch) + ": loss=" + std::to_string(e.loss) +
           " mean_weight=" + std::to_string(e.mean_weight) + " capped=" + std::to_string(e.capped) +
           " mean_log_pi=" + std::to_string(e.mean_log_pi));
}

template <class Flags>
int from_feedback(Flags& f, const GlobalFlags& g) {
  if (f.model_dir.empty() || f.out.empty()) throw InvalidInput("reinforce --store needs --model-dir and --out");
  f.fb.train = f.rl.train;
  f.fb.train.seed = f.sim.seed;
  f.fb.train.threads = g.threads > 0 ? g.threads : 2;
  f.fb.discount = f.rl.discount;
  const auto store = store::open_event_store(f.store);
  const auto r = serve::reinforce_from_feedback(*store, f.model_dir, f.out, f.fb, log_epoch);
  std::printf(
      "%zu clicks of %zu requests in %zu sessions (%zu cold-start requests left out); fine-tuned on %zu, saved to %s\n",
      r.clicks, r.requests, r.sessions, r.cold_requests, r.actions, f.out.c_str());
  if (!f.json.empty()) write_file(f.json, r.to_json().dump(2) + "\n");
  return 0;
}

}  // namespace

Runner add_reinforce(CLI::App& app, const GlobalFlags& g) {
  struct Flags {
    data::SynthOptions world;
    std::string model = "sasrec";
    ConfigFlags config;
    sim::SimOptions sim;
    sim::RlCheckOptions rl;
    std::string json;
    std::string store, model_dir, out;  // learning from the server's feedback instead
    serve::FeedbackLearningOptions fb;
  };
  auto f = std::make_shared<Flags>();
  add_world_flags(app, f->world, f->model, f->config);
  add_session_flags(app, f->sim);
  auto& rl = f->rl;
  app.add_option("--logging", rl.logging, "exploring policy that logs the sessions learned from");
  app.add_option("--logged-episodes", rl.logged_episodes, "sessions logged")->check(CLI::PositiveNumber);
  app.add_option("--serve", rl.serve, "policy both models are compared with, repeatable (default greedy)");
  app.add_option("--eval-episodes", rl.eval_episodes, "sessions per comparison")->check(CLI::PositiveNumber);
  app.add_option("--discount", rl.discount, "discount of future clicks in the return")->check(CLI::Range(0.0, 1.0));
  app.add_option("--epochs", rl.train.epochs, "passes over the logged clicks")->check(CLI::PositiveNumber);
  app.add_option("--lr", rl.train.lr, "learning rate (AdamW)")->check(CLI::PositiveNumber);
  app.add_option("--weight-decay", rl.train.weight_decay, "AdamW weight decay")->check(CLI::NonNegativeNumber);
  app.add_option("--batch-size", rl.train.batch_size, "logged clicks per step")->check(CLI::PositiveNumber);
  app.add_option("--cap", rl.train.cap, "importance weights are capped at this")->check(CLI::PositiveNumber);
  app.add_option("--top-k", rl.train.top_k, "K of the top-K correction (1 = plain off-policy REINFORCE)")
      ->check(CLI::PositiveNumber);
  app.add_option("--json", f->json, "write the result as JSON here");
  app.add_option("--store", f->store, "learn from this store's recorded feedback instead of the simulator");
  app.add_option("--model-dir", f->model_dir, "with --store: the model directory that served the slates");
  app.add_option("--out", f->out, "with --store: the fine-tuned model directory to write");
  app.add_option("--session-gap", f->fb.session_gap, "with --store: seconds without a request that end a session")
      ->check(CLI::PositiveNumber);
  return [f, &g]() {
    if (!f->store.empty()) return from_feedback(*f, g);
    f->world.seed = f->sim.seed;
    f->rl.train.seed = f->sim.seed;
    f->rl.train.threads = g.threads > 0 ? g.threads : 2;
    f->sim.threads = g.threads;
    log_info("reinforce: generating the world and training " + f->model);
    auto world = sim::build_world(f->world, f->model, f->config.overrides(f->model), g.threads, f->sim.seed);
    const auto r = sim::reinforce_on_simulator(world, f->rl, f->sim, log_epoch);
    std::printf("logged %zu clicks from %zu sessions of %s\n", r.actions, r.logged.episodes.size(),
                r.logged.policy.c_str());
    std::printf("%-30s %20s %20s %8s\n", "serve policy", "supervised clicks", "reinforce clicks", "gain");
    for (std::size_t i = 0; i < r.before.size(); ++i) {
      const auto &a = r.before[i], &b = r.after[i];
      std::printf("%-30s %12.3f ± %5.3f %12.3f ± %5.3f %+7.1f%%\n", a.policy.c_str(), a.clicks_mean, a.clicks_ci,
                  b.clicks_mean, b.clicks_ci, a.clicks_mean > 0 ? 100.0 * (b.clicks_mean / a.clicks_mean - 1) : 0.0);
    }
    if (!f->json.empty()) {
      auto j = r.to_json();
      j["model"] = f->model;
      j["seed"] = f->sim.seed;
      write_file(f->json, j.dump(2) + "\n");
    }
    return 0;
  };
}

}  // namespace driftrec::cli
