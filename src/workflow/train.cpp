#include "driftrec/workflow/train.h"

#include <algorithm>
#include <cctype>

#include "driftrec/core/config.h"
#include "driftrec/core/error.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/ensemble.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"
#include "driftrec/workflow/split.h"

namespace driftrec::workflow {

void TrainedModel::save(const std::string& dir) const {
  models::save_model_dir(dir, *loaded.model, train, loaded.meta);
}

namespace {

// resolve_refit with the source's model.json already read.
TrainOptions refit_options(TrainOptions options, const nlohmann::json& ref) {
  const auto& from = options.refit_from;
  const std::string ref_name = ref.value("model", "");
  if (!options.model.empty() && options.model != ref_name)
    throw InvalidInput("refit: " + from + " holds a '" + ref_name + "' model, not '" + options.model + "'");
  if (ref_name == "ensemble")
    throw InvalidInput("refit: " + from +
                       " is an ensemble; refit it with `driftrec ensemble --refit --weights-from` over refit members");
  options.model = ref_name;
  options.prepare = data::prepare_options_from_json(ref.value("preprocess", nlohmann::json()));
  if (options.prepare.refit) throw InvalidInput("refit: " + from + " is already a refit");
  options.prepare.refit = true;
  auto config = ref.value("config", nlohmann::json::object());
  const int best = models::best_epoch(ref);
  // The epoch count is `epochs` (neural models, bpr) or `iterations` (ials).
  for (const char* key : {"epochs", "iterations"})
    if (best > 0 && config.contains(key)) {
      config[key] = best;
      break;
    }
  options.config = merge_config(config, options.config);
  if (!options.seed && ref.contains("seed") && ref["seed"].is_number_unsigned())
    options.seed = ref["seed"].get<std::uint64_t>();
  return options;
}

}  // namespace

int objective_cutoff(const std::string& objective, const std::string& who) {
  if (objective == "mrr") return 0;
  const auto at = objective.find('@');
  const std::string metric = objective.substr(0, at);
  const bool known =
      metric == "hr" || metric == "recall" || metric == "precision" || metric == "ndcg" || metric == "map";
  int k = 0;
  if (known && at != std::string::npos) {
    const std::string digits = objective.substr(at + 1);
    if (!digits.empty() && digits.size() <= 6 && std::all_of(digits.begin(), digits.end(), ::isdigit))
      k = std::stoi(digits);
  }
  if (k < 1)
    throw InvalidInput(who + ": objective '" + objective +
                       "' is not a validation metric (hr@K, recall@K, precision@K, ndcg@K, map@K or mrr)");
  return k;
}

TrainOptions resolve_refit(TrainOptions options) {
  const auto ref = models::read_model_meta(options.refit_from);
  return refit_options(std::move(options), ref);
}

namespace {

// The checks that need no data, on options with any refit resolved; returns the (unfitted) model.
std::unique_ptr<models::Model> checked_model(const TrainOptions& options) {
  if (options.model.empty()) throw InvalidInput("train: a model name is required (or a model directory to refit)");
  objective_cutoff(options.objective, "train");
  check_request_at(options.prepare, options.request_at);
  if (options.time_budget_s < 0) throw InvalidInput("train: the time budget must be >= 0 seconds");
  return models::create_model(options.model, options.config);
}

}  // namespace

void check_train_options(TrainOptions options) {
  if (!options.refit_from.empty()) options = resolve_refit(std::move(options));
  checked_model(options);
}

namespace {

// The trained model with the id maps and tables of its training events (what save() writes).
void adopt(TrainedModel& out, std::unique_ptr<models::Model> model, data::Dataset train) {
  out.loaded.users = train.users;
  out.loaded.items = train.items;
  out.loaded.behaviors = train.behaviors;
  out.loaded.item_table = train.item_table;
  out.loaded.model = std::move(model);
  models::set_training_counts(out.loaded, train);
  out.train = std::move(train);
}

nlohmann::json refit_record(const std::string& from, const nlohmann::json& ref) {
  return {{"from", from},
          {"best_epoch", models::best_epoch(ref)},
          {"validation", ref.value("validation", nlohmann::json())}};
}

/// Validation on `objective` (checked): fo.validate scores the validation cases at the objective's
/// cut-off, each list asked at `when`, and eo's cut-offs gain it so the final validation metrics
/// include it.
void use_objective(models::FitOptions& fo, eval::EvalOptions& eo, const data::Prepared& prepared,
                   const std::string& objective, const std::string& who, models::RequestTime when = {}) {
  const int k = objective_cutoff(objective, who);
  if (!prepared.split.valid.empty()) {
    auto quick = eo;
    quick.ks = {k > 0 ? k : 10};
    quick.save_top = 0;
    fo.validate = [&prepared, quick, objective, when](const models::Model& m) {
      return models::evaluate_model(m, prepared.full, prepared.split.valid, prepared.split.train, quick, {}, when)
          .metrics.at(objective);
    };
  }
  if (k > 0 && std::find(eo.ks.begin(), eo.ks.end(), k) == eo.ks.end()) eo.ks.push_back(k);
}

}  // namespace

TrainedModel train_model(data::Dataset data, TrainOptions options) {
  const bool refit = !options.refit_from.empty();
  nlohmann::json refit_info;
  if (refit) {  // the source's model.json, read once for the options and the record
    const auto ref = models::read_model_meta(options.refit_from);
    refit_info = refit_record(options.refit_from, ref);
    options = refit_options(std::move(options), ref);
  }
  const std::uint64_t seed = options.seed.value_or(42);
  auto model = checked_model(options);
  auto prepared = data::prepare(std::move(data), options.prepare);
  // A differentially private fit (the models' dp_epsilon / dp_noise) gets no validation: metrics of
  // the validation users written into model.json would be a release outside the privacy budget.
  const auto& cfg = model->config();
  const auto positive = [&](const char* k) {
    return cfg.contains(k) && cfg[k].is_number() && cfg[k].get<double>() > 0;
  };
  if (!options.validate || positive("dp_epsilon") || positive("dp_noise")) prepared.split.valid.clear();
  const bool skipped = options.skip_repeats && validate_on_new_targets(prepared, "train");
  log_info("split " + prepared.split.protocol + ": " + std::to_string(prepared.split.train.log.size()) +
           " training events, " + std::to_string(prepared.split.valid.size()) + " validation and " +
           std::to_string(prepared.split.test.size()) + " test cases");
  log_split_warnings(prepared);
  TrainedModel out;
  models::FitOptions fo;
  fo.threads = options.threads;
  fo.seed = seed;
  fo.progress = options.progress;
  fo.on_epoch = [&out, user = options.on_epoch](const train::EpochRecord& r) {
    out.history.push_back(r);
    if (user) user(r);
  };
  fo.checkpoint_dir = options.checkpoint_dir;
  fo.resume = options.resume;
  fo.distributed = options.distributed;
  fo.time_budget_s = options.time_budget_s;
  auto eo = eval_options_for(options.prepare, prepared.full);
  eo.exclude_seen = !options.include_seen;
  eo.threads = options.threads;
  const auto when = split_request_time(prepared, "valid", options.request_at);
  use_objective(fo, eo, prepared, options.objective, "train", when);
  const auto rep = models::fit_and_validate(*model, prepared.full, prepared.split, fo, eo, when);
  if (options.distributed.active() && !model->training_report().contains("distributed"))
    throw InvalidInput("train: " + model->name() +
                       " does not train data-parallel (the LibTorch sequential models do); run it as one process");
  out.seconds = rep.seconds;
  out.validation = rep.validation;
  nlohmann::json meta = {{"preprocess", data::to_json(options.prepare)},
                         {"split", split_summary(prepared)},
                         {"seed", seed},
                         {"training_seconds", rep.seconds},
                         {"epochs", out.history.empty() ? 0 : out.history.back().epoch},
                         {"validation_exclude_seen", !options.include_seen},
                         {"validation_skip_repeats", skipped},
                         {"validation_request_at", prepared.split.valid.empty() ? "none" : options.request_at},
                         {"history", train::history_json(out.history)},
                         {"validation", rep.validation.metrics_json()},
                         {"objective", options.objective}};
  if (!rep.validation.metrics.empty()) meta["best_epoch"] = models::best_epoch(meta);
  if (options.time_budget_s > 0) meta["time_budget_s"] = options.time_budget_s;
  if (refit) meta["refit"] = refit_info;
  meta["model"] = model->name();
  meta["config"] = model->config();
  const auto report = model->training_report();  // e.g. the privacy spent, federated traffic
  for (auto it = report.begin(); it != report.end(); ++it) meta[it.key()] = it.value();
  out.loaded.meta = std::move(meta);
  adopt(out, std::move(model), std::move(prepared.split.train));
  return out;
}

namespace {

std::vector<double> recorded_weights(const std::string& dir, std::size_t members) {
  const auto ref = models::read_model_meta(dir);
  const auto& w = ref.contains("member_weights") ? ref["member_weights"] : nlohmann::json();
  if (!w.is_array() || w.size() != members)
    throw InvalidInput("weights from " + dir + ": it holds " + (w.is_array() ? std::to_string(w.size()) : "no") +
                       " member weights for " + std::to_string(members) + " members");
  std::vector<double> out;
  for (const auto& x : w) {
    if (!x.is_number()) throw InvalidInput("weights from " + dir + ": member_weights must be numbers");
    out.push_back(x.get<double>());
  }
  return out;
}

/// The preprocessing and split the member directories were trained with; they must agree.
data::PrepareOptions members_prepare(const std::vector<std::string>& dirs) {
  data::PrepareOptions out;
  nlohmann::json first;
  for (std::size_t k = 0; k < dirs.size(); ++k) {
    const auto o =
        data::prepare_options_from_json(models::read_model_meta(dirs[k]).value("preprocess", nlohmann::json()));
    const auto key = data::to_json(o);
    if (k == 0) {
      out = o;
      first = key;
    } else if (key != first) {
      throw InvalidInput("ensemble: " + dirs[k] + " was trained with other preprocessing/split than " + dirs[0] +
                         " (give the split to blend under)");
    }
  }
  return out;
}

}  // namespace

namespace {

// The checks that need no data: resolves weights_from into o.weights and the preprocessing into
// `prep` (the members' own, which must agree, unless given), and returns the empty ensemble. Every
// member's model.json is read once here (NotFound / CorruptModel naming it).
std::unique_ptr<models::EnsembleModel> checked_ensemble(EnsembleOptions& o, data::PrepareOptions& prep) {
  if (o.members.size() < 2) throw InvalidInput("ensemble: give at least two member directories");
  if (!o.weights_from.empty()) {
    if (!o.weights.empty()) throw InvalidInput("ensemble: give weights or weights_from, not both");
    o.weights = recorded_weights(o.weights_from, o.members.size());
  }
  objective_cutoff(o.objective, "ensemble");
  if (o.prepare) {
    prep = *o.prepare;
    for (const auto& dir : o.members) models::read_model_meta(dir);
  } else {
    prep = members_prepare(o.members);
    if (o.refit) prep.refit = true;
  }
  check_request_at(prep, o.request_at);
  auto config = o.config;
  if (!o.weights.empty()) config["fit_weights"] = false;
  return std::make_unique<models::EnsembleModel>(config);
}

}  // namespace

void check_ensemble_options(EnsembleOptions options) {
  data::PrepareOptions prep;
  checked_ensemble(options, prep);
}

TrainedModel build_ensemble(data::Dataset data, EnsembleOptions o) {
  data::PrepareOptions prep;
  auto ens = checked_ensemble(o, prep);
  auto prepared = data::prepare(std::move(data), prep);
  if (prepared.split.valid.empty() && o.weights.empty())
    throw InvalidInput(std::string("ensemble: the split has no validation cases to fit the weights on") +
                       (prep.refit ? " (a refit split)" : "") + "; give weights or weights_from");
  // The weights are fitted on the split's own evaluation (its candidate items, e.g. a target
  // domain's or the new items) and objective, as train validates; a bad objective is refused
  // before any member's weights are read.
  models::FitOptions fo;
  fo.threads = o.threads;
  fo.progress = o.progress;
  auto eo = eval_options_for(prep, prepared.full);
  eo.threads = o.threads;
  const auto when = split_request_time(prepared, "valid", o.request_at);
  use_objective(fo, eo, prepared, o.objective, "ensemble", when);
  const bool skipped = o.skip_repeats && validate_on_new_targets(prepared, "ensemble");
  const auto items = prepared.split.train.items.checksum();
  for (const auto& dir : o.members) {
    auto loaded = models::load_model_dir(dir);
    if (loaded.items.checksum() != items)
      throw InvalidInput(
          dir + ": this member was trained on other data (its item ids differ from the data's training split)");
    ens->add_member(std::move(loaded.model));
  }
  if (!o.weights.empty()) ens->set_weights(o.weights);
  const auto rep = models::fit_and_validate(*ens, prepared.full, prepared.split, fo, eo, when);
  TrainedModel out;
  out.seconds = rep.seconds;
  out.validation = rep.validation;
  out.loaded.meta = {{"preprocess", data::to_json(prep)},
                     {"split", split_summary(prepared)},
                     {"members", o.members},
                     {"member_weights", ens->weights()},
                     {"weights_from", o.weights_from},
                     {"objective", o.objective},
                     {"validation_skip_repeats", skipped},
                     {"validation_request_at", prepared.split.valid.empty() ? "none" : o.request_at},
                     {"training_seconds", rep.seconds},
                     {"validation", rep.validation.metrics_json()},
                     {"model", ens->name()},
                     {"config", ens->config()}};
  adopt(out, std::move(ens), std::move(prepared.split.train));
  return out;
}

}  // namespace driftrec::workflow
