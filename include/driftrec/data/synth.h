#pragma once
// Synthetic behaviour logs with drifting interests, long-tailed popularity and known ground truth.
//
// Each user holds an interest distribution over item categories that moves over time: sudden
// shifts (a new Dirichlet draw replaces most of it) and gradual drift (it slides towards a target).
// Sessions pick a category from the current interest and items within it by popularity (Zipf).
// Presets:
//   ecommerce    view / search / cart / buy with realistic ratios (~85/6/6/2.5 %)
//   news         items with text tokens, categories and short lifetimes; "click" events with dwell
//   crossdomain  two domains ("shop", "social") whose interests are correlated by `correlation`
// Same options and seed give byte-identical output.
#include <cstdint>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::data {

struct SynthOptions {
  std::string preset = "ecommerce";
  int users = 1000;
  int items = 2000;
  int categories = 0;  ///< 0 = preset default (max(8, items / 60), at most 60)
  std::uint64_t seed = 42;
  double mean_events = 40.0;             ///< mean events per user
  double shift_rate = 0.08;              ///< probability per session of a sudden interest shift
  double drift = 0.15;                   ///< per-session step of gradual drift towards the current target
  double zipf = 1.0;                     ///< popularity exponent within a category
  double correlation = 0.8;              ///< crossdomain: how much the second domain's interest follows the first
  std::int64_t start_time = 1704067200;  ///< 2024-01-01T00:00:00Z
  double days = 90.0;                    ///< length of the simulated period
};

struct SynthEvent {
  std::int32_t user;  ///< 1-based user number (external id "u<number>")
  std::int32_t item;  ///< 1-based item number (external id "i<number>")
  std::int64_t ts;
  std::string behavior;
  float value;
  std::string domain;
};

struct SynthItem {
  std::int32_t category;  ///< index into SynthData::category_names
  std::string domain;
  std::string title;       ///< text tokens (news), else ""
  std::int64_t published;  ///< news: publication time
  double popularity = 0;   ///< the item's Zipf weight (within its category, events pick items in proportion)
};

/// True interest of a user at a time: weights over categories (only weights >= 0.05 kept).
struct InterestRow {
  std::int32_t user;
  std::int64_t ts;
  std::int32_t category;
  float weight;
};

struct SynthData {
  SynthOptions options;
  std::vector<std::string> category_names;
  std::vector<SynthItem> items;    ///< index 0 = item "i1"
  std::vector<SynthEvent> events;  ///< in generation order (per user, time-ordered)
  std::vector<InterestRow> truth;  ///< one snapshot per session
};

/// Generates a dataset. Throws InvalidInput on an unknown preset or out-of-range options.
SynthData generate_synthetic(const SynthOptions& options);

/// The generated events as a Dataset (same result as writing and loading the files).
Dataset to_dataset(const SynthData& data);

/// Writes DIR/events.csv, DIR/items.csv, DIR/interests.csv (created if absent). Throws IoError.
void write_synthetic(const SynthData& data, const std::string& dir);

}  // namespace driftrec::data
