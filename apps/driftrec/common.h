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
#include "driftrec/workflow/groups.h"
#include "driftrec/workflow/split.h"

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
  /// True when any flag was given on the command line (evaluate: override the model's record);
  /// `besides_refit`: any flag other than --refit.
  bool any_given(const CLI::App& app, bool besides_refit = false) const;
};

/// Fairness metrics and re-ranking (evaluate, recommend): --fairness, --rerank SPEC, --rerank-depth,
/// --long-tail-items FILE, --active-users FILE, --head-share, --active-share.
struct RerankFlags {
  bool fairness = false;
  workflow::GroupOptions groups;
  std::string rerank;
  std::size_t depth = 100;
  /// --rerank, --rerank-depth, the group flags, and --fairness when `metrics` (evaluate, report).
  void add_to(CLI::App& app, bool metrics = true);
};

/// The re-ranker specs --rerank takes, for every command's help (one list, beside the parser's
/// rerank::reranker_names()).
extern const char* const kRerankSpecs;

/// --long-tail-items, --active-users, --head-share, --active-share (the re-rankers' groups).
void add_group_flags(CLI::App& app, workflow::GroupOptions& groups);

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

using workflow::candidate_items;
using workflow::eval_options_for;
using workflow::replay_setup;
using workflow::ReplaySetup;
using workflow::SharedSplit;
using workflow::split_summary;

/// workflow::load_shared_split with the data read as `data_flags` say (after the models load), and
/// with the split's request time checked before (workflow::check_request_at).
SharedSplit load_shared_split(const std::vector<std::string>& model_dirs, const DataFlags& data_flags,
                              const std::string& on, const std::string& request_at = "none");

/// Writes text to a file (throws IoError).
void write_file(const std::string& path, const std::string& text);

}  // namespace driftrec::cli
