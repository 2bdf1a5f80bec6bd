#pragma once
// Evaluate a trained model on its held-out cases as a library call (the CLI's `evaluate
// --protocol split`, the Python module's driftrec.evaluate): the model's recorded preprocessing
// and split are rebuilt on the given data in the model's id space, then every case is ranked.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"
#include "driftrec/eval/tracking.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/replay.h"
#include "driftrec/workflow/groups.h"

namespace driftrec::workflow {

struct EvaluateOptions {
  std::string on = "test";            ///< "test" or "valid"
  std::vector<int> ks = {5, 10, 20};  ///< cut-offs
  bool include_seen = false;          ///< rank items the user already interacted with too
  /// Score only targets new to the user (data::keep_new_targets): cases left without one are not
  /// evaluated (report: "skip_repeats", "cases_without_new_targets").
  bool skip_repeats = false;
  /// When each list is asked for (workflow::split_request_time): "none", "cutoff" or "arrival".
  /// Only models with `request_time` read it (report: "request_at").
  std::string request_at = "none";
  int threads = 0;      ///< 0 = all cores
  int impressions = 0;  ///< MIND-style impression metrics with this many negatives (0 = off)
  std::uint64_t impression_seed = 42;
  std::size_t save_top = 0;                     ///< keep each case's top-N (result.rankings); 0 = none
  std::optional<data::PrepareOptions> prepare;  ///< default: the model's recorded preprocessing
  std::string truth;                            ///< users' true interests (interests.csv): tracking error
  /// Fairness, calibration and diversity metrics (eval/fairness.h) at the headline k; on by
  /// themselves when a re-ranker or a group file is given.
  bool fairness = false;
  GroupOptions groups;             ///< item / user groups (files or computed)
  std::string rerank;              ///< re-ranker spec (rerank/reranker.h), "" = the model's order
  std::size_t rerank_depth = 100;  ///< candidates the re-ranker chooses from
  std::string data_name;           ///< the data's name in the report
  std::string model_dir;           ///< the model's directory in the report ("" = in memory)
  ProgressCallback progress;
};

struct Evaluation {
  eval::EvalResult result;                      ///< metrics, per-case values, rankings when asked
  std::optional<eval::TrackingError> tracking;  ///< with a truth file
  int tracking_k = 10;                          ///< list length the tracking error used
  data::Prepared prepared;                      ///< the split evaluated (the model's id space)
  nlohmann::json report;                        ///< what `driftrec evaluate --json` writes
};

/// Rebuilds the split on `data` and ranks every case of `options.on`. Throws InvalidInput for bad
/// options or a split without such cases.
Evaluation evaluate(const models::LoadedModel& model, data::Dataset data, const EvaluateOptions& options);

/// Writes an evaluation's saved rankings (EvaluateOptions::save_top > 0) as TSV with a header:
/// user, targets, ranked (item ids comma-separated, best first; "?" for an index without an id).
void write_rankings_tsv(const std::string& path, const Evaluation& evaluation);

/// The replay protocol (`driftrec evaluate --protocol replay`): the events after `start` in time
/// order, each one scored before it is revealed, with the online state (observe) against the
/// state frozen at the start; per-window timeline and, with a truth file, the interest-tracking error.
struct ReplayRequest {
  std::string start;  ///< quantile or timestamp ("" = the period's start: see `on`)
  /// "test": from `start` to the end ("" = the temporal split's test cutoff, else 0.9); "valid":
  /// the temporal split's validation period, up to its test cutoff (workflow::replay_setup).
  std::string on = "test";
  int k = 10;        ///< list length
  int windows = 10;  ///< timeline windows
  bool include_seen = false;
  bool skip_repeats = false;     ///< score only items new to the user (all events are revealed)
  bool no_request_time = false;  ///< score every event without its time (models::ReplayOptions::request_time)
  bool fairness = false;         ///< asked for the fairness metrics: refused (InvalidInput), a replay has none
  std::string truth;             ///< users' true interests (interests.csv)
  double shift_threshold = 0.4;  ///< total variation that counts as an interest shift (lag)
  /// Re-rank every list shown (rerank/reranker.h specs; "" or "none" = the model's order), from the
  /// state's top `rerank_depth`; popularity and the groups are those at the replay's start
  /// (workflow::replay_fairness).
  std::string rerank;
  std::size_t rerank_depth = 100;
  GroupOptions groups;
  int threads = 0;
  std::optional<data::PrepareOptions> prepare;  ///< default: the model's recorded preprocessing
  std::string data_name, model_dir;             ///< for the report
  ProgressCallback progress;
};

struct Replay {
  models::ReplayResult result;
  models::ReplayOptions options;  ///< as resolved (start_ts, k; `truth` and `rerank` unset after return)
  std::string start;              ///< the start as resolved ("0.9", a timestamp, ...)
  nlohmann::json report;          ///< what `driftrec evaluate --protocol replay --json` writes
};

/// The refusals that need no data, `prepare` being the preprocessing the replay will use: a bad k,
/// windows or period (check_replay_period), or `fairness`. replay() makes them first; a caller that
/// reads its data afterwards (the CLI) calls this before reading them.
void check_replay_request(const data::PrepareOptions& prepare, const ReplayRequest& request);

/// Filters `data` as the model's preprocessing says, puts it in the model's ids and replays it.
/// Throws InvalidInput for a bad start, k or truth file, or `fairness`.
Replay replay(const models::LoadedModel& model, data::Dataset data, const ReplayRequest& request);

/// The list length headline metrics use: 10 when it is among the cut-offs, else the first.
int headline_k(const std::vector<int>& ks);

}  // namespace driftrec::workflow
