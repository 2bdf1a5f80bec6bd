#pragma once
// Hyperparameter search as library calls (the CLI's `tune`, the Python module's driftrec.tune):
// the space checked against the model's parameters, the study key that makes resuming safe, the
// objective (train with early stopping, score the validation cases), the best configuration.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/data/transforms.h"
#include "driftrec/tune/tune.h"

namespace driftrec::workflow {

/// A model, an objective and a request time given beside a space (CLI flags, Python arguments)
/// override the space's; a model that differs from the space's own is refused (InvalidInput).
/// Empty = keep.
void override_space(tune::SearchSpace& space, const std::string& model, const std::string& objective,
                    const std::string& request_at = "");

/// Trials best first by value (trials without one last; ties keep their order).
std::vector<tune::Trial> best_first(std::vector<tune::Trial> trials);

/// Checks that every searched parameter is one of the model's and that the objective is a metric
/// objective_cutoff() accepts (InvalidInput naming `where`); returns the cut-off the objective names
/// (ndcg@20 -> 20; 10 for mrr).
int check_space(const tune::SearchSpace& space, const std::string& where);

/// Everything that decides what a trial means; a trial store made with another key is refused.
nlohmann::json study_key(const tune::SearchSpace& space, const nlohmann::json& base, const tune::TuneOptions& options,
                         const std::string& data_name, const data::PrepareOptions& prepare);

/// The objective of a search on `prepared` (which must outlive it): trains space.model with
/// `base` + the trial's parameters, early stopping on the objective metric over the validation
/// cases, each list asked at space.request_at (each check is reported, so hopeless trials can be
/// abandoned), and returns that metric. Throws InvalidInput when the split has no validation cases
/// or the request time does not fit it (workflow::split_request_time).
tune::Objective tune_objective(const data::Prepared& prepared, const data::PrepareOptions& prepare,
                               const tune::SearchSpace& space, const nlohmann::json& base, int threads,
                               std::uint64_t seed);

/// The full configuration of a trial: base < the space's fixed values < the trial's parameters.
nlohmann::json trial_config(const tune::SearchSpace& space, const nlohmann::json& base, const tune::Trial& trial);

/// Writes a configuration as YAML that `train --config` reads: `# comment`, `model: NAME`, then one
/// `key: value` line per entry (strings quoted and escaped as JSON, which YAML reads).
void write_config_yaml(const std::string& path, const std::string& model, const nlohmann::json& config,
                       const std::string& comment);

/// One search in this process: prepares `data`, runs the trials into the store at `db` (resumed
/// when it holds the same study), and returns every trial, best first.
struct TuneResult {
  std::vector<tune::Trial> trials;  ///< best first (by value; failed last)
  std::optional<tune::Trial> best;
  nlohmann::json best_config;  ///< trial_config of the best (null when none completed)
};
TuneResult tune_model(data::Dataset data, const data::PrepareOptions& prepare, const tune::SearchSpace& space,
                      const nlohmann::json& base, const tune::TuneOptions& options, const std::string& db, int threads,
                      const std::function<void(const tune::Trial&)>& on_finish = {});

}  // namespace driftrec::workflow
