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
#include "driftrec/workflow/groups.h"
#include "driftrec/workflow/split.h"

namespace driftrec::workflow {

struct CompareOptions {
  std::string on = "test";  ///< "test" or "valid" cases; replay: the test period or the temporal validation period
  std::vector<std::string> metrics = {"hr@10", "ndcg@10", "mrr"};  ///< per-user metrics
  int resamples = 1000;                                            ///< bootstrap resamples
  std::uint64_t seed = 42;                                         ///< bootstrap seed
  double alpha = 0.05;                                             ///< significance level after Holm-Bonferroni
  int threads = 0;
  std::string protocol = "split";   ///< "split" (held-out cases) or "replay" (per-user means over replayed events)
  std::string replay_start;         ///< replay: start (quantile or timestamp; "" = as evaluate)
  std::string truth;                ///< users' true interests: per-user tracking_tv / tracking_kl (both protocols)
  bool skip_repeats = false;        ///< score only items new to the user (replay: events; split: targets)
  bool include_seen = false;        ///< rank items the user already interacted with too (as evaluate's)
  bool no_request_time = false;     ///< replay: score every event without its time (ReplayOptions::request_time)
  std::string request_at = "none";  ///< split: when the lists are asked for (workflow::split_request_time)
  /// Re-ranking of the models' lists (rerank/reranker.h specs), on either protocol. Empty: none; one
  /// spec: every model; else one per model, "" or "none" keeping that model's own order (so a model
  /// can be compared with itself re-ranked). List metrics (hr, ndcg, tracking, ...) see the
  /// re-ranked list; mrr and auc describe the model's scores. On the replay protocol every list
  /// shown is re-ranked, with popularity and groups as at the replay's start.
  std::vector<std::string> rerank;
  std::size_t rerank_depth = 100;  ///< candidates a re-ranker chooses from
  /// The item and user groups of the re-rankers and (split protocol) of the per-user list metrics
  /// aplt@k, miscalibration@k and ild@k (computed when re-ranking or when a metric names them).
  GroupOptions groups;
  ProgressCallback progress;
};

struct Comparison {
  std::string evaluated_on;                          ///< "test", "valid" or "replay from ..., per-user means"
  std::size_t cases = 0;                             ///< users compared
  std::vector<std::map<std::string, double>> means;  ///< per model: every metric's mean
  std::vector<eval::BaselineComparison> rows;        ///< (metric, model >= 1) against model 0
  std::vector<std::string> rerankers;                ///< split: per model, its re-ranker's name ("" = none)
  nlohmann::json report;                             ///< what `driftrec compare --json` writes
};

/// The refusals of compare() that need no data (the CLI checks them before reading any): at least two
/// models, a metric, a known protocol and split, 0, 1 or `n_models` re-rank specs, no re-ranker on
/// the replay protocol, a positive depth, one cut-off for aplt/miscalibration/ild. Throws InvalidInput.
void check_compare_options(const CompareOptions& options, std::size_t n_models);

/// Compares `models` (trained on the same data and split, see common_split) on `split`. `labels`
/// name them in the report (directories, or names). Throws InvalidInput for fewer than two models,
/// fewer than two cases, a metric that is not per-user, re-ranking with the replay protocol, a
/// number of re-rank specs other than 0, 1 or one per model, or a bad spec.
Comparison compare(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                   const CommonSplit& split, const CompareOptions& options);

}  // namespace driftrec::workflow
