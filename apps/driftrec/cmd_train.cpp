#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/train.h"

namespace driftrec::cli {

Runner add_train(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    DataFlags data;
    PrepareFlags prep;
    ConfigFlags config;
    std::string model, out;
    std::uint64_t seed = 42;
    bool no_validation = false;
    std::string checkpoint_dir;
    bool resume = false;
    bool include_seen = false;
    std::string refit_from;
    std::string objective = "ndcg@10";
  };
  auto o = std::make_shared<Opts>();
  o->data.add_to(app, true);
  o->prep.add_to(app);
  app.add_option("--model", o->model, "model name (see `driftrec models`; required unless --refit-from)");
  o->config.add_to(app);
  app.add_option("--out", o->out, "model directory to write")->required();
  app.add_option("--seed", o->seed, "random seed");
  app.add_flag("--no-validation", o->no_validation, "skip early stopping and validation metrics");
  app.add_option("--checkpoint-dir", o->checkpoint_dir, "LibTorch models: write a checkpoint here after every epoch");
  app.add_flag("--resume", o->resume, "continue from the checkpoint in --checkpoint-dir");
  app.add_flag("--include-seen", o->include_seen,
               "validation ranks items the user already interacted with too (e.g. buys after views)");
  app.add_option("--objective", o->objective,
                 "validation metric early stopping maximises: hr@K, recall@K, precision@K, ndcg@K, map@K or mrr");
  app.add_option("--refit-from", o->refit_from,
                 "retrain the model in this directory (same model, parameters, seed and split) on training + "
                 "validation events, for its best validation epoch count; --config/--set still override");
  return [o, &g, &app]() {
    workflow::TrainOptions to;
    to.model = o->model;
    to.refit_from = o->refit_from;
    if (!o->refit_from.empty() && o->prep.any_given(app))
      throw InvalidInput("--refit-from takes the preprocessing and split of " + o->refit_from +
                         "; leave out the split and filter flags");
    if (to.refit_from.empty() && to.model.empty())
      throw InvalidInput("train: --model is required (or --refit-from a model directory)");
    // The model's name decides which DRIFTREC_<NAME> environment applies.
    const std::string name =
        to.model.empty() ? models::read_model_meta(o->refit_from).value("model", std::string()) : to.model;
    to.config = o->config.overrides(name);
    to.prepare = o->prep.get();
    if (to.refit_from.empty() || app.count("--seed") > 0) to.seed = o->seed;
    to.threads = g.threads;
    to.validate = !o->no_validation;
    to.include_seen = o->include_seen;
    to.objective = o->objective;
    to.checkpoint_dir = o->checkpoint_dir;
    to.resume = o->resume;
    to.progress = progress_printer();
    const auto trained = workflow::train_model(o->data.load(), std::move(to));
    trained.save(o->out);
    const auto& model = *trained.loaded.model;
    std::cout << "saved " << model.name() << " to " << o->out << " (trained in " << std::fixed << std::setprecision(2)
              << trained.seconds << " s)\n";
    const auto& v = trained.validation.metrics;
    if (!v.empty())
      std::cout << "validation: hr@10 " << std::setprecision(4) << v.at("hr@10") << ", ndcg@10 " << v.at("ndcg@10")
                << ", mrr " << v.at("mrr") << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
