#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/config.h"
#include "driftrec/core/error.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"

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
  app.add_option("--refit-from", o->refit_from,
                 "retrain the model in this directory (same model, parameters, seed and split) on training + "
                 "validation events, for its best validation epoch count; --config/--set still override");
  return [o, &g, &app]() {
    std::string name = o->model;
    nlohmann::json config;
    auto prep_opts = o->prep.get();
    std::uint64_t seed = o->seed;
    nlohmann::json refit_info;
    if (!o->refit_from.empty()) {
      const auto ref = models::read_model_meta(o->refit_from);
      const std::string ref_name = ref.value("model", "");
      if (!name.empty() && name != ref_name)
        throw InvalidInput("--refit-from " + o->refit_from + " holds a '" + ref_name + "' model, not '" + name + "'");
      name = ref_name;
      if (name == "ensemble")
        throw InvalidInput("--refit-from " + o->refit_from +
                           ": an ensemble is refit with `driftrec ensemble --refit --weights-from` over refit members");
      if (o->prep.any_given(app))
        throw InvalidInput("--refit-from takes the preprocessing and split of " + o->refit_from +
                           "; leave out the split and filter flags");
      prep_opts = data::prepare_options_from_json(ref.value("preprocess", nlohmann::json()));
      if (prep_opts.refit) throw InvalidInput("--refit-from " + o->refit_from + ": that model is already a refit");
      prep_opts.refit = true;
      config = ref.value("config", nlohmann::json::object());
      const int best = models::best_epoch(ref);
      // The epoch count is `epochs` (neural models, bpr) or `iterations` (ials).
      for (const char* key : {"epochs", "iterations"})
        if (best > 0 && config.contains(key)) {
          config[key] = best;
          break;
        }
      config = merge_config(config, o->config.overrides(name));
      if (app.count("--seed") == 0 && ref.contains("seed") && ref["seed"].is_number_unsigned())
        seed = ref["seed"].get<std::uint64_t>();
      refit_info = {
          {"from", o->refit_from}, {"best_epoch", best}, {"validation", ref.value("validation", nlohmann::json())}};
    } else {
      if (name.empty()) throw InvalidInput("train: --model is required (or --refit-from a model directory)");
      config = o->config.overrides(name);
    }
    auto model = models::create_model(name, config);
    auto prepared = data::prepare(o->data.load(), prep_opts);
    if (o->no_validation) prepared.split.valid.clear();
    log_info("split " + prepared.split.protocol + ": " + std::to_string(prepared.split.train.log.size()) +
             " training events, " + std::to_string(prepared.split.valid.size()) + " validation and " +
             std::to_string(prepared.split.test.size()) + " test cases");
    models::FitOptions fo;
    fo.threads = g.threads;
    fo.seed = seed;
    // Count the epochs (progress steps of the "train ..." stage) and keep their numbers
    // (loss=, valid=, seconds= ...) as the training history in model.json.
    auto epochs_run = std::make_shared<std::size_t>(0);
    auto history = std::make_shared<nlohmann::json>(nlohmann::json::array());
    fo.progress = [printer = progress_printer(), epochs_run, history](const Progress& p) {
      // Epoch-like steps carry a message (loss=..., valid=...); per-item progress of one-pass
      // models (itemknn, pop) does not count.
      if (p.stage.rfind("train", 0) == 0 && !p.message.empty()) {
        *epochs_run = p.done;
        nlohmann::json step = {{"epoch", p.done}};
        std::istringstream words(p.message);
        for (std::string w; words >> w;) {
          const auto eq = w.find('=');
          if (eq == std::string::npos) continue;
          char* end = nullptr;
          const std::string v = w.substr(eq + 1);
          const double x = std::strtod(v.c_str(), &end);
          if (end && *end == '\0' && !v.empty()) step[w.substr(0, eq)] = x;
        }
        history->push_back(step);
      }
      printer(p);
    };
    fo.checkpoint_dir = o->checkpoint_dir;
    fo.resume = o->resume;
    auto eo = eval_options_for(prep_opts, prepared.full);
    eo.exclude_seen = !o->include_seen;
    const auto rep = models::fit_and_validate(*model, prepared.full, prepared.split, fo, eo);
    nlohmann::json extra = {{"preprocess", data::to_json(prep_opts)},
                            {"split", split_summary(prepared)},
                            {"seed", seed},
                            {"training_seconds", rep.seconds},
                            {"epochs", *epochs_run},
                            {"validation_exclude_seen", !o->include_seen},
                            {"history", *history},
                            {"validation", rep.validation.metrics_json()}};
    if (!rep.validation.metrics.empty()) extra["best_epoch"] = models::best_epoch(extra);
    if (!refit_info.is_null()) extra["refit"] = refit_info;
    models::save_model_dir(o->out, *model, prepared.split.train, extra);
    std::cout << "saved " << model->name() << " to " << o->out << " (trained in " << std::fixed << std::setprecision(2)
              << rep.seconds << " s)\n";
    if (!rep.validation.metrics.empty())
      std::cout << "validation: hr@10 " << std::setprecision(4) << rep.validation.metrics.at("hr@10") << ", ndcg@10 "
                << rep.validation.metrics.at("ndcg@10") << ", mrr " << rep.validation.metrics.at("mrr") << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
