#pragma once
// Glue between the model contract and the evaluator: scores evaluation cases with a model.
#include "driftrec/eval/evaluator.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

/// A thread-safe scorer: encodes each case's history (full.log span) and scores all items.
/// `full` must use the model's id maps (see data::align_ids).
eval::BatchScorer model_scorer(const Model& model, const data::Dataset& full);

/// Evaluates `model` on `cases` of `full` (popularity metrics from `train`). BLAS runs single-
/// threaded inside the evaluator's threads.
eval::EvalResult evaluate_model(const Model& model, const data::Dataset& full, const std::vector<data::EvalCase>& cases,
                                const data::Dataset& train, const eval::EvalOptions& options = {},
                                const ProgressCallback& progress = {});

}  // namespace driftrec::models

namespace driftrec::models {

struct TrainReport {
  double seconds = 0.0;         ///< wall time of fit()
  eval::EvalResult validation;  ///< final metrics on the validation cases (empty if none)
};

/// Fits `model` on split.train with early stopping on validation NDCG@10 (when the split has
/// validation cases and the model iterates), then evaluates it on the validation cases.
TrainReport fit_and_validate(Model& model, const data::Dataset& full, const data::Split& split, FitOptions options,
                             const eval::EvalOptions& eval_options = {});

}  // namespace driftrec::models
