#pragma once
// The main job as a library call: generate drifting e-commerce behaviour, train and compare models
// on a leave-one-out split, then follow one user's recommendations as new events arrive (no
// retraining). `driftrec demo` prints it; the Python module can call it too.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "driftrec/core/topk.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/model.h"

namespace driftrec::workflow {

struct DemoRow;

struct DemoOptions {
  data::SynthOptions synth;  ///< the data (its seed also seeds the models)
  std::vector<std::string> models = {"pop", "itemknn", "bpr", "ials"};
  /// Configuration overrides per model name (none when empty).
  std::function<nlohmann::json(const std::string&)> config;
  std::string data_out;  ///< also write the synthetic data to this directory ("" = no)
  int threads = 0;       ///< 0 = all cores
  std::function<void(const data::Prepared&)> on_prepared;  ///< called once the split is built
  std::function<void(const DemoRow&)> on_row;              ///< called as each model's row is ready
};

/// One compared model: test metrics (full ranking, seen items excluded) and training time.
struct DemoRow {
  std::string model;
  nlohmann::json config;
  nlohmann::json metrics;
  double training_seconds = 0;
};

/// One user's list before and after three views in a category they never touched.
struct LiveUpdate {
  std::string model;
  std::int32_t user = 0;
  std::size_t history_length = 0;
  std::vector<std::pair<std::int32_t, int>> favourites;  ///< (category, events), most first, at most 3
  std::int32_t new_category = -1;
  std::vector<std::int32_t> viewed;          ///< the observed items
  TopK before, after;                        ///< top-10 lists
  double share_before = 0, share_after = 0;  ///< share of the new category in each top-10
  std::vector<models::Attribution> why;      ///< explanation of after's first item (when the model explains)
};

struct Demo {
  data::Prepared prepared;  ///< the synthetic data and its leave-one-out split
  std::vector<DemoRow> rows;
  LiveUpdate live;
  nlohmann::json to_json() const;  ///< {"demo": [rows]}, what `driftrec demo --json` writes
};

/// Runs the demo. itemknn gets the sequence-aware settings (window 3, position decay with a
/// half-life of one event) unless its configuration says otherwise; the live update uses itemknn
/// when it was compared, else the first model.
Demo run_demo(const DemoOptions& options);

}  // namespace driftrec::workflow
