#pragma once
// Dataset statistics for `driftrec data inspect`.
#include <nlohmann/json.hpp>
#include <string>

#include "driftrec/data/dataset.h"

namespace driftrec::data {

/// users, items, events, density, per-behaviour and per-domain counts, time range, sequence-length
/// percentiles (p50/p90/p99/max, mean), item-popularity summary, item-table coverage.
nlohmann::json dataset_stats(const Dataset& ds);

/// Human-readable rendering of dataset_stats().
std::string format_stats(const nlohmann::json& stats);

}  // namespace driftrec::data
