#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/ensemble.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/train.h"

namespace driftrec::cli {

Runner add_ensemble(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    DataFlags data;
    PrepareFlags prep;
    ConfigFlags config;
    std::vector<std::string> members;
    std::string weights, weights_from, out, objective = "ndcg@10", request_at = "none";
    bool skip_repeats = false;
  };
  auto o = std::make_shared<Opts>();
  o->data.add_to(app, true);
  o->prep.add_to(app);
  app.add_option("--member", o->members, "a trained model directory (repeat; at least two, same data and split)")
      ->required();
  app.add_option("--weights", o->weights, "comma-separated member weights (default: fitted on the validation split)");
  app.add_option("--weights-from", o->weights_from,
                 "take the member weights of this ensemble directory (e.g. fitted on validation before a --refit)")
      ->excludes("--weights");
  app.add_option("--objective", o->objective,
                 "validation metric the weights are fitted to: hr@K, recall@K, precision@K, ndcg@K, map@K or mrr");
  app.add_flag("--skip-repeats", o->skip_repeats,
               "fit the weights on validation targets new to the user (as train --skip-repeats): a blend for "
               "discovery");
  app.add_option("--request-at", o->request_at,
                 "when the validation lists the weights are fitted to are asked for: none (default), cutoff or "
                 "arrival (as train --request-at)")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  o->config.add_to(app);
  app.add_option("--out", o->out, "model directory to write")->required();
  return [o, &g, &app]() {
    workflow::EnsembleOptions eo;
    eo.members = o->members;
    for (const auto& x : split_commas(o->weights)) {
      try {
        eo.weights.push_back(std::stod(x));
      } catch (const std::exception&) {
        throw InvalidInput("--weights: '" + x + "' is not a number");
      }
    }
    eo.weights_from = o->weights_from;
    eo.objective = o->objective;
    eo.skip_repeats = o->skip_repeats;
    eo.request_at = o->request_at;
    eo.config = o->config.overrides("ensemble");
    if (o->prep.any_given(app, true))
      eo.prepare = o->prep.get();
    else
      eo.refit = o->prep.get().refit;  // the members' own split (its refit version with --refit)
    eo.threads = g.threads;
    eo.progress = progress_printer();
    workflow::check_ensemble_options(eo);  // refused before a large log is read
    const auto t = workflow::build_ensemble(o->data.load(), std::move(eo));
    t.save(o->out);
    const auto& ens = static_cast<const models::EnsembleModel&>(*t.loaded.model);
    std::cout << "saved ensemble of " << ens.members() << " models to " << o->out << "; weights";
    for (std::size_t k = 0; k < ens.members(); ++k)
      std::cout << " " << ens.member(k).name() << "=" << std::setprecision(3) << ens.weights()[k];
    std::cout << "\n";
    const auto& v = t.validation.metrics;
    if (!v.empty())
      std::cout << "validation: hr@10 " << std::fixed << std::setprecision(4) << v.at("hr@10") << ", ndcg@10 "
                << v.at("ndcg@10") << ", mrr " << v.at("mrr") << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
