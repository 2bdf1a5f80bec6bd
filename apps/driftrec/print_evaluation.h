#pragma once
// How `driftrec evaluate` prints its results (the JSON is the library's report).
#include <string>

#include "driftrec/workflow/evaluate.h"

namespace driftrec::cli {

/// The split protocol: one line per metric, then the interest-tracking error when there was a truth.
void print_evaluation(const std::string& model, const std::string& on, const workflow::Evaluation& ev,
                      const std::string& truth);

/// The replay protocol: online vs frozen, the per-window timeline, and tracking/lag with a truth.
void print_replay(const std::string& model, const workflow::Replay& rep, const std::string& truth);

}  // namespace driftrec::cli
