#pragma once
// The self-contained HTML report (the CLI's `report`, the Python module's driftrec.report): data
// and split, a comparison table with paired significance, training curves, accuracy against K,
// popularity bias and coverage, fairness / calibration / diversity with optional re-ranking,
// interest tracking against a ground truth, and per-user interest
// timelines and explanation heat maps. Charts are inline SVG (svg.h); nothing is fetched.
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/groups.h"
#include "driftrec/workflow/split.h"

namespace driftrec::report {

struct ReportOptions {
  std::string on = "test";  ///< which cases: "test" or "valid"
  std::string title = "DriftRec report";
  std::string data_name;           ///< the data's name in the summary
  std::vector<std::string> users;  ///< user ids to show (empty: sample_users with the longest histories)
  int sample_users = 2;
  int resamples = 500;  ///< bootstrap resamples of the comparison
  std::string truth;    ///< users' true interests (interests.csv): tracking section
  int threads = 0;
  /// When the lists are asked for: "none", "cutoff" or "arrival" (workflow::split_request_time);
  /// only models with `request_time` read it.
  std::string request_at = "none";
  /// Fairness, calibration and diversity section (eval/fairness.h) at K=10; on by itself with a
  /// re-ranker, which adds a row per model for its re-ranked lists (chosen from the top rerank_depth).
  bool fairness = false;
  workflow::GroupOptions groups;
  std::string rerank;
  std::size_t rerank_depth = 100;
  ProgressCallback progress;
};

/// The page for `models` (trained on the same data and split; see workflow::common_split), labelled
/// by `labels` (e.g. their directories); the first model is the comparison's baseline. Throws
/// InvalidInput for fewer than two cases or a chosen user without a case.
std::string html_report(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                        const workflow::CommonSplit& split, const ReportOptions& options);

}  // namespace driftrec::report
