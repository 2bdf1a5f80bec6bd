#pragma once
// Paired comparison of trained models over the same users as a library call (the CLI's `compare`,
// the Python module's driftrec.compare): every model against the first (the baseline) on per-user
// metrics, with bootstrap confidence intervals, paired t-tests and Holm-Bonferroni over the family.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/eval/significance.h"
#include "driftrec/workflow/split.h"

namespace driftrec::workflow {

struct CompareOptions {
  std::string on = "test";  ///< "test" or "valid" cases; replay: the test period or the temporal validation period
  std::vector<std::string> metrics = {"hr@10", "ndcg@10", "mrr"};  ///< per-user metrics
  int resamples = 1000;                                            ///< bootstrap resamples
  std::uint64_t seed = 42;                                         ///< bootstrap seed
  double alpha = 0.05;                                             ///< significance level after Holm-Bonferroni
  int threads = 0;
  std::string protocol = "split";  ///< "split" (held-out cases) or "replay" (per-user means over replayed events)
  std::string replay_start;        ///< replay: start (quantile or timestamp; "" = as evaluate)
  std::string truth;               ///< replay: users' true interests (tracking metrics)
  bool skip_repeats = false;       ///< score only items new to the user (replay: events; split: targets)
  ProgressCallback progress;
};

struct Comparison {
  std::string evaluated_on;                          ///< "test", "valid" or "replay from ..., per-user means"
  std::size_t cases = 0;                             ///< users compared
  std::vector<std::map<std::string, double>> means;  ///< per model: every metric's mean
  std::vector<eval::BaselineComparison> rows;        ///< (metric, model >= 1) against model 0
  nlohmann::json report;                             ///< what `driftrec compare --json` writes
};

/// Compares `models` (trained on the same data and split, see common_split) on `split`. `labels`
/// name them in the report (directories, or names). Throws InvalidInput for fewer than two models,
/// fewer than two cases, or a metric that is not per-user.
Comparison compare(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                   const CommonSplit& split, const CompareOptions& options);

}  // namespace driftrec::workflow
