#include "driftrec/workflow/tune.h"

#include <algorithm>
#include <fstream>

#include "driftrec/core/config.h"
#include "driftrec/core/error.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"
#include "driftrec/workflow/split.h"
#include "driftrec/workflow/train.h"

namespace driftrec::workflow {

void override_space(tune::SearchSpace& space, const std::string& model, const std::string& objective,
                    const std::string& request_at) {
  if (!model.empty()) {
    if (!space.model.empty() && space.model != model)
      throw InvalidInput("model '" + model + "' differs from the space's model '" + space.model + "'");
    space.model = model;
  }
  if (!objective.empty()) space.objective = objective;
  if (!request_at.empty()) space.request_at = request_at;
}

std::vector<tune::Trial> best_first(std::vector<tune::Trial> trials) {
  std::stable_sort(trials.begin(), trials.end(),
                   [](const auto& a, const auto& b) { return a.value.value_or(-1e300) > b.value.value_or(-1e300); });
  return trials;
}

int check_space(const tune::SearchSpace& space, const std::string& where) {
  if (space.model.empty()) throw InvalidInput(where + ": say which model to tune");
  const auto& declared = models::model_params(space.model);
  for (const auto& p : space.params)
    if (!declared.find(p.name)) throw InvalidInput(where + ": '" + p.name + "' is not a parameter of " + space.model);
  const int k = objective_cutoff(space.objective, where);
  return k > 0 ? k : 10;
}

nlohmann::json study_key(const tune::SearchSpace& space, const nlohmann::json& base, const tune::TuneOptions& options,
                         const std::string& data_name, const data::PrepareOptions& prepare) {
  return {{"space", space.to_json()},
          {"base", base},
          {"strategy", options.sampler.strategy},
          {"grid_points", options.sampler.grid_points},
          {"seed", options.seed},
          {"data", data_name},
          {"preprocess", data::to_json(prepare)}};
}

tune::Objective tune_objective(const data::Prepared& prepared, const data::PrepareOptions& prepare,
                               const tune::SearchSpace& space, const nlohmann::json& base, int threads,
                               std::uint64_t seed) {
  if (prepared.split.valid.empty()) throw InvalidInput("tune: the split has no validation cases to score trials on");
  auto eo = eval_options_for(prepare, prepared.full);
  eo.ks = {check_space(space, "tune")};
  eo.threads = threads;
  const auto when = split_request_time(prepared, "valid", space.request_at);
  return [&prepared, space, base, threads, seed, eo, when](const nlohmann::json& params,
                                                           const std::function<void(double)>& report) {
    auto model = models::create_model(space.model, merge_config(base, params));
    auto metric = [&space](const eval::EvalResult& r) {
      const auto it = r.metrics.find(space.objective);
      if (it == r.metrics.end()) throw InvalidInput("tune: unknown objective '" + space.objective + "'");
      return it->second;
    };
    models::FitOptions fo;
    fo.threads = threads;
    fo.seed = seed;
    fo.validate = [&](const models::Model& m) {
      const double v =
          metric(models::evaluate_model(m, prepared.full, prepared.split.valid, prepared.split.train, eo, {}, when));
      report(v);
      return v;
    };
    return metric(models::fit_and_validate(*model, prepared.full, prepared.split, fo, eo, when).validation);
  };
}

nlohmann::json trial_config(const tune::SearchSpace& space, const nlohmann::json& base, const tune::Trial& trial) {
  return merge_config(merge_config(base, space.fixed), trial.params);
}

void write_config_yaml(const std::string& path, const std::string& model, const nlohmann::json& config,
                       const std::string& comment) {
  std::ofstream f(path);
  if (!f) throw IoError(path + ": cannot open for writing");
  std::size_t from = 0;  // every line of the comment is a YAML comment
  for (std::size_t nl; (nl = comment.find('\n', from)) != std::string::npos; from = nl + 1)
    f << "# " << comment.substr(from, nl - from) << "\n";
  f << "# " << comment.substr(from) << "\n";
  f << "model: " << model << "\n";
  for (const auto& [key, v] : config.items())
    f << key << ": " << (v.is_string() ? nlohmann::json(v.get<std::string>()).dump() : v.dump()) << "\n";
  if (!f.flush()) throw IoError(path + ": cannot write");
}

TuneResult tune_model(data::Dataset data, const data::PrepareOptions& prepare, const tune::SearchSpace& space,
                      const nlohmann::json& base, const tune::TuneOptions& options, const std::string& db, int threads,
                      const std::function<void(const tune::Trial&)>& on_finish) {
  check_space(space, "tune");
  check_request_at(prepare, space.request_at);
  const std::string name = data.name;
  tune::TrialStore store(db, study_key(space, base, options, name, prepare));
  store.fail_stale_running();
  const auto prepared = data::prepare(std::move(data), prepare);
  const auto objective = tune_objective(prepared, prepare, space, base, threads, options.seed);
  tune::run_trials(space, options, store, objective, on_finish);
  TuneResult out;
  out.trials = best_first(store.trials());
  out.best = tune::best_trial(out.trials);
  if (out.best) out.best_config = trial_config(space, base, *out.best);
  return out;
}

}  // namespace driftrec::workflow
