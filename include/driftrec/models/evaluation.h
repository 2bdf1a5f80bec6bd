#pragma once
// Glue between the model contract and the evaluator: scores evaluation cases with a model.
#include <cstdint>
#include <optional>

#include "driftrec/eval/evaluator.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

/// When the split protocol asks for each case's list (UserState::now). Models with `request_time`
/// read the time since the user's last event from it; every other model ignores it.
struct RequestTime {
  enum class At {
    none,     ///< without a time (the protocols of published numbers)
    cutoff,   ///< at the period's first timestamp: lists computed once for the period (a nightly job)
    arrival,  ///< at the case's first target: the list shown when the user comes back
  };
  At at = At::none;
  std::int64_t cutoff = 0;  ///< At::cutoff's time
  std::optional<std::int64_t> of(const data::EvalCase& c) const;
};

/// A thread-safe scorer: encodes each case's history (full.log span) and scores all items, each
/// state asked at `when.of(case)`. `full` must use the model's id maps (see data::align_ids).
eval::BatchScorer model_scorer(const Model& model, const data::Dataset& full, RequestTime when = {});

/// Evaluates `model` on `cases` of `full` (popularity metrics from `train`), each list asked at
/// `when`. BLAS runs single-threaded inside the evaluator's threads.
eval::EvalResult evaluate_model(const Model& model, const data::Dataset& full, const std::vector<data::EvalCase>& cases,
                                const data::Dataset& train, const eval::EvalOptions& options = {},
                                const ProgressCallback& progress = {}, RequestTime when = {});

}  // namespace driftrec::models

namespace driftrec::models {

struct TrainReport {
  double seconds = 0.0;         ///< wall time of fit()
  eval::EvalResult validation;  ///< final metrics on the validation cases (empty if none)
};

/// Fits `model` on split.train with early stopping on validation NDCG@10 (when the split has
/// validation cases and the model iterates), then evaluates it on the validation cases, each list
/// asked at `when` (options.validate, when given, asks as it likes).
TrainReport fit_and_validate(Model& model, const data::Dataset& full, const data::Split& split, FitOptions options,
                             const eval::EvalOptions& eval_options = {}, RequestTime when = {});

}  // namespace driftrec::models
