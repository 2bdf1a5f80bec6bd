#pragma once
// Side information a sequential model trains with (side_tables.cpp). Internal to src/nn.
#include <string>
#include <vector>

#include "sequential_impl.h"

namespace driftrec::nn {

/// Behaviour, repeat, time-gap and time-bias switches; the cross-domain model's item domains; the
/// attribute table; the content tower's tables (prepare_content) — each only when the config asks
/// and the data has it (a warning says so otherwise). Throws InvalidInput for a cross-domain model
/// on data with fewer than two domains, or bad vector files.
void configure_side_information(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                                const std::string& kind, const std::string& who);

/// The content tower's tables from the training data and the configured files (titles, word
/// vectors, item vectors).
void prepare_content(const data::Dataset& train, SequentialModel::Impl& m, const nlohmann::json& c,
                     const std::string& who);

/// Which behaviours (by index) are targets of the loss: all when `spec` is empty, else the
/// comma-separated names. Throws InvalidInput naming an unknown behaviour.
std::vector<char> target_behaviors(const data::Dataset& train, const std::string& spec, const std::string& who);

/// The share of the training events of a target behaviour (`is_target`, by behaviour index) whose
/// item the user had already had an event with (any behaviour) earlier in the log: how often
/// users come back to an item (0 when there are no target events).
double repeat_share(const data::Dataset& train, const std::vector<char>& is_target);

}  // namespace driftrec::nn
