#pragma once
// Hyperparameter search (`driftrec tune`): a search space, samplers (grid, random, TPE), a
// resumable trial store in SQLite, and a runner with a trial/minute budget and early abandonment.
//
// Search space (YAML or JSON):
//   model: sasrec               # optional when given on the command line
//   objective: ndcg@10          # validation metric to maximise (validation split only)
//   request_at: cutoff          # optional: when the validation lists are asked for (none, cutoff,
//                               # arrival: workflow::split_request_time; a `request_time` model reads it)
//   fixed: {epochs: 60}         # parameters every trial uses
//   params:
//     dropout: {type: uniform, low: 0.1, high: 0.6}
//     lr:      {type: loguniform, low: 1.0e-4, high: 1.0e-2}
//     layers:  {type: int, low: 1, high: 3}
//     dim:     {type: choice, values: [32, 64, 128]}
//     neighbors: {type: logint, low: 10, high: 1000}
//
// Samplers: grid (every combination; continuous ranges contribute `grid_points` evenly spaced
// values, on a log scale for log types), random (independent draws), tpe (the Tree-structured
// Parzen Estimator of Bergstra et al. 2011: after `startup` random trials, completed trials are
// split at the `gamma` quantile of the objective into good and bad; each parameter gets a Parzen
// density from each group (Gaussian kernels in the parameter's own scale, bandwidth from the
// distance to the neighbouring observations; smoothed counts for choices); `candidates` draws from
// the good density are ranked by l(x)/g(x), and the best is tried).
//
// Early abandonment (median stopping rule): from its 2nd validation check on, a trial whose best value is
// below the median of completed trials' values at their j-th check (with >= `min_trials`
// completed) is stopped and recorded as abandoned with the best value it had reached.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace driftrec::tune {

struct ParamRange {
  std::string name;
  std::string type;  ///< uniform, loguniform, int, logint, choice
  double low = 0, high = 0;
  std::vector<nlohmann::json> values;  ///< choice
  bool is_log() const { return type == "loguniform" || type == "logint"; }
  bool is_int() const { return type == "int" || type == "logint"; }
};

struct SearchSpace {
  std::string model;
  std::string objective = "ndcg@10";
  std::string request_at = "none";  ///< when the validation lists are asked for (checked by the workflow)
  nlohmann::json fixed = nlohmann::json::object();
  std::vector<ParamRange> params;
  /// Parses a space (see above). Throws InvalidInput naming the parameter and problem.
  static SearchSpace from_json(const nlohmann::json& j);
  /// Reads YAML or JSON. Throws IoError / InvalidInput.
  static SearchSpace from_file(const std::string& path);
  nlohmann::json to_json() const;
};

/// Reads a YAML file into JSON, keeping nesting (scalars typed as YAML reads them).
nlohmann::json load_yaml(const std::string& path);

enum class TrialStatus { kRunning, kComplete, kAbandoned, kFailed };
std::string to_string(TrialStatus s);

struct Trial {
  std::int64_t id = 0;
  nlohmann::json params;  ///< sampled values only (not `fixed`)
  TrialStatus status = TrialStatus::kRunning;
  std::optional<double> value;       ///< objective (complete: final; abandoned: best reached)
  std::vector<double> intermediate;  ///< value at each validation check
  double seconds = 0;
  std::string message;      ///< failure reason
  std::int64_t worker = 0;  ///< process id that ran it
};

struct SamplerOptions {
  std::string strategy = "tpe";  ///< grid, random, tpe
  int grid_points = 3;
  int startup = 5;      ///< tpe: random trials first
  double gamma = 0.25;  ///< tpe: fraction of trials counted as good
  int candidates = 24;  ///< tpe: draws from the good density per suggestion
};

/// Suggests the next parameter set from the finished trials (complete or abandoned), or nothing
/// when a grid is exhausted. `index` is the trial's number (grid order, seeding).
std::optional<nlohmann::json> suggest(const SearchSpace& space, const SamplerOptions& options,
                                      const std::vector<Trial>& history, std::int64_t index, std::uint64_t seed);

/// Trials of one study in a SQLite file (WAL; several worker processes may share it). Opening a
/// file made for another search space throws InvalidInput.
class TrialStore {
 public:
  TrialStore(const std::string& path, const nlohmann::json& study_key);
  ~TrialStore();
  TrialStore(const TrialStore&) = delete;
  TrialStore& operator=(const TrialStore&) = delete;
  /// Claims a trial slot atomically: runs `make(history, index)` for the parameters when fewer than
  /// `max_trials` trials are finished or running (0 = no limit). nullopt when the budget is used
  /// or `make` returns nothing.
  std::optional<Trial> claim(
      std::int64_t max_trials,
      const std::function<std::optional<nlohmann::json>(const std::vector<Trial>&, std::int64_t)>& make);
  void report(std::int64_t id, const std::vector<double>& intermediate);
  void finish(const Trial& t);
  /// Every trial, by id.
  std::vector<Trial> trials() const;
  /// Trials left "running" by a process that died are marked failed (call before resuming).
  int fail_stale_running();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Thrown from an objective's report callback to stop a hopeless trial.
struct TrialAbandoned {
  double best = 0;
};

/// The median stopping rule: should a trial with `values` so far stop, given finished trials?
bool should_abandon(const std::vector<double>& values, const std::vector<Trial>& finished, int min_trials);

struct TuneOptions {
  SamplerOptions sampler;
  std::int64_t trials = 20;  ///< 0 = no limit (then `minutes` must be set)
  double minutes = 0;        ///< wall-clock budget for starting new trials (0 = none)
  std::uint64_t seed = 42;
  bool early_abandon = true;
  int min_trials = 3;  ///< completed trials needed before abandoning others
};

/// Runs trials until the budget is used: objective(params merged with space.fixed, report) returns
/// the value to maximise; report(value) records a validation check and may throw TrialAbandoned.
/// Failures (exceptions) are recorded and the search goes on. Returns every trial in the store.
using Objective = std::function<double(const nlohmann::json& config, const std::function<void(double)>& report)>;
std::vector<Trial> run_trials(const SearchSpace& space, const TuneOptions& options, TrialStore& store,
                              const Objective& objective, const std::function<void(const Trial&)>& on_finish = {});

/// The best finished trial (complete only), if any.
std::optional<Trial> best_trial(const std::vector<Trial>& trials);

}  // namespace driftrec::tune
