#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/ensemble.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"

namespace driftrec::cli {

Runner add_ensemble(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    DataFlags data;
    PrepareFlags prep;
    ConfigFlags config;
    std::vector<std::string> members;
    std::string weights, weights_from, out;
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
  o->config.add_to(app);
  app.add_option("--out", o->out, "model directory to write")->required();
  return [o, &g]() {
    if (o->members.size() < 2) throw InvalidInput("ensemble: give at least two --member directories");
    if (!o->weights_from.empty()) {
      const auto ref = models::read_model_meta(o->weights_from);
      const auto& w = ref.contains("member_weights") ? ref["member_weights"] : nlohmann::json();
      if (!w.is_array() || w.size() != o->members.size())
        throw InvalidInput("--weights-from " + o->weights_from + ": holds " +
                           (w.is_array() ? std::to_string(w.size()) : "no") + " member weights for " +
                           std::to_string(o->members.size()) + " --member directories");
      for (const auto& x : w) o->weights += (o->weights.empty() ? "" : ",") + x.dump();
    }
    auto config = o->config.overrides("ensemble");
    if (!o->weights.empty()) config["fit_weights"] = false;
    auto ens = std::make_unique<models::EnsembleModel>(config);
    const auto prep_opts = o->prep.get();
    auto prepared = data::prepare(o->data.load(), prep_opts);
    if (prepared.split.valid.empty() && o->weights.empty())
      throw InvalidInput(std::string("ensemble: the split has no validation cases to fit the weights on") +
                         (prep_opts.refit ? " (--refit)" : "") + "; give --weights or --weights-from");
    const auto items = prepared.split.train.items.checksum();
    for (const auto& dir : o->members) {
      auto loaded = models::load_model_dir(dir);
      if (loaded.items.checksum() != items)
        throw InvalidInput(
            dir + ": this member was trained on other data (its item ids differ from --data's training split)");
      ens->add_member(std::move(loaded.model));
    }
    if (!o->weights.empty()) {
      std::vector<double> w;
      for (const auto& x : split_commas(o->weights)) {
        try {
          w.push_back(std::stod(x));
        } catch (const std::exception&) {
          throw InvalidInput("--weights: '" + x + "' is not a number");
        }
      }
      ens->set_weights(w);
    }
    models::FitOptions fo;
    fo.threads = g.threads;
    fo.progress = progress_printer();
    const auto rep = models::fit_and_validate(*ens, prepared.full, prepared.split, fo);
    nlohmann::json member_dirs = o->members;
    nlohmann::json extra = {{"preprocess", data::to_json(prep_opts)},
                            {"split", split_summary(prepared)},
                            {"members", member_dirs},
                            {"member_weights", ens->weights()},
                            {"weights_from", o->weights_from},
                            {"training_seconds", rep.seconds},
                            {"validation", rep.validation.metrics_json()}};
    models::save_model_dir(o->out, *ens, prepared.split.train, extra);
    std::cout << "saved ensemble of " << ens->members() << " models to " << o->out << "; weights";
    for (std::size_t k = 0; k < ens->members(); ++k)
      std::cout << " " << ens->member(k).name() << "=" << std::setprecision(3) << ens->weights()[k];
    std::cout << "\n";
    if (!rep.validation.metrics.empty())
      std::cout << "validation: hr@10 " << std::fixed << std::setprecision(4) << rep.validation.metrics.at("hr@10")
                << ", ndcg@10 " << rep.validation.metrics.at("ndcg@10") << ", mrr " << rep.validation.metrics.at("mrr")
                << "\n";
    return 0;
  };
}

}  // namespace driftrec::cli
