#pragma once
// Shared pieces of the CLI subcommands: data-loading flags, config layering, progress output.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/data/readers.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/replay.h"

namespace driftrec::cli {

/// Flags that say how to read a data path (format, columns, error policy, item table).
struct DataFlags {
  std::string path;
  std::string format = "auto";
  std::string user_col, item_col, time_col, behavior_col, value_col, category_col, domain_col;
  std::string delimiter;
  bool no_header = false;
  std::string on_error = "fail";
  std::string rejects;
  std::string items;

  /// Adds the flags; the path option is `path_flag` (none when empty: the caller adds a positional).
  void add_to(CLI::App& app, bool path_required, const std::string& path_flag = "--data");
  data::ReadOptions read_options() const;
  /// Loads the data; logs a one-line summary and the rejected-row count.
  data::Dataset load() const;
};

/// Replay options from a model's preprocessing: start at `start` (a quantile or timestamp; "" =
/// the temporal split's test cutoff, else 0.9), its target behaviours and domains, candidates.
struct ReplaySetup {
  models::ReplayOptions options;
  std::string start;  ///< as resolved from the flag ("0.9", a timestamp, ...)
};
ReplaySetup replay_setup(const data::PrepareOptions& prep, const data::Dataset& full, const std::string& start, int k,
                         int threads);

/// The users' true-interests file: `flag` when given, else DATA/interests.csv when the data path is
/// a directory holding one (as `driftrec synth` writes it), else "".
std::string truth_path(const std::string& flag, const DataFlags& data);

/// Flags for preprocessing and splitting.
struct PrepareFlags {
  data::PrepareOptions options;
  std::string targets;                  // comma-separated
  std::string domains, target_domains;  // comma-separated
  void add_to(CLI::App& app);
  data::PrepareOptions get() const;
  /// True when any flag was given on the command line (evaluate: override the model's record).
  bool any_given(const CLI::App& app) const;
};

/// --config (repeatable) and --set key=value (repeatable), layered over the defaults with the
/// DRIFTREC_<NAME> environment in between.
struct ConfigFlags {
  std::vector<std::string> files;
  std::vector<std::string> sets;
  void add_to(CLI::App& app);
  /// Effective overrides for a model (files < environment < --set); validated by the model.
  nlohmann::json overrides(const std::string& model_name) const;
};

/// Progress on stderr: a redrawn bar on a terminal, plain log lines otherwise.
ProgressCallback progress_printer();

std::vector<std::string> split_commas(const std::string& s);
std::vector<int> parse_ks(const std::string& s);

/// Protocol, event and case counts (and cutoffs) of a split, for model.json and results.
nlohmann::json split_summary(const data::Prepared& p);

/// Several model directories evaluated on one split: loads them, checks they share the data (id
/// maps) and preprocessing, and prepares the first one's split in their id space. Throws
/// InvalidInput naming the odd one out.
struct SharedSplit {
  std::vector<models::LoadedModel> models;
  data::Dataset filtered;     ///< the data after the recorded filters (original ids)
  data::Prepared prepared;    ///< aligned to the models' ids, split as recorded
  data::PrepareOptions prep;  ///< the recorded preprocessing
};

/// Evaluation options that follow the preprocessing: with target domains, only their items are
/// ranked.
/// With new items (cold start), only items without an event before the validation cutoff are ranked.
eval::EvalOptions eval_options_for(const data::PrepareOptions& prep, const data::Dataset& full);
/// The items evaluation ranks under `prep` (target domains, new items); empty = all.
std::vector<char> candidate_items(const data::PrepareOptions& prep, const data::Dataset& full);
/// Loads models trained on the same data and split (a refit model matches its validated one: same
/// test cases) and rebuilds that split. `on` ("test"/"valid"): refit models cannot be scored on
/// validation (they trained on it). Throws InvalidInput.
SharedSplit load_shared_split(const std::vector<std::string>& model_dirs, const DataFlags& data_flags,
                              const std::string& on);

/// Writes text to a file (throws IoError).
void write_file(const std::string& path, const std::string& text);

}  // namespace driftrec::cli
