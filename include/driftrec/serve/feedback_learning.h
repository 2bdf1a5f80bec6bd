#pragma once
// Learning from the server's own feedback logs: the sessions recorded through POST /v1/feedback
// (serve/feedback_log.h) fine-tune a model directory by off-policy-corrected top-K REINFORCE
// (rl/reinforce.h), written as a new model directory the server can reload.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/rl/reinforce.h"
#include "driftrec/store/event_store.h"

namespace driftrec::serve {

struct FeedbackLearningOptions {
  rl::ReinforceOptions train;
  double discount = 0.9;
  std::int64_t session_gap = 1800;  ///< seconds without a request that end a session
  std::size_t history_limit = 200;  ///< the server's --history-limit
};

struct FeedbackLearningReport {
  std::size_t requests = 0, clicks = 0, actions = 0, cold_requests = 0, skipped_items = 0, sessions = 0;
  std::vector<rl::ReinforceEpoch> epochs;
  nlohmann::json to_json() const;
};

/// Loads `model_dir`, builds the logged actions from `store`'s feedback and events, fine-tunes and
/// saves to `out_dir` (models::save_fine_tuned, with the report under "reinforce" in model.json).
/// Throws InvalidInput when the model cannot be fine-tuned or there is no usable click, plus the
/// model directory's and store's errors.
FeedbackLearningReport reinforce_from_feedback(const store::EventStore& store, const std::string& model_dir,
                                               const std::string& out_dir, const FeedbackLearningOptions& options,
                                               const std::function<void(const rl::ReinforceEpoch&)>& progress = {});

}  // namespace driftrec::serve
