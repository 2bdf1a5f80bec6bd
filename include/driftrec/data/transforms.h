#pragma once
// Filters and splits. A split never leaks the future: every training event of a user happens
// before (in log order, which is time order with stable ties) that user's validation and test
// targets, and a temporal split trains only on events strictly before its cutoff.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::data {

/// Drops an event when the same user's previous event has the same item (and, when
/// `same_behavior_only`, the same behaviour). Returns the filtered dataset (ids re-indexed).
Dataset drop_consecutive_duplicates(const Dataset& ds, bool same_behavior_only = false);

/// Iteratively removes users with fewer than `min_user` events and items with fewer than
/// `min_item` events until both hold (k-core). 0 disables a side.
Dataset k_core(const Dataset& ds, int min_user, int min_item);

/// Indices of the named behaviours (throws NotFound naming the unknown one and the known ones).
std::vector<std::int16_t> behavior_ids(const Dataset& ds, const std::vector<std::string>& names);

/// One evaluation case: the user's history is the log span [user_begin(user), history_end), and
/// `targets` are the items to predict (all strictly after the history in time order).
struct EvalCase {
  std::int32_t user = 0;
  std::int64_t history_end = 0;
  std::vector<std::int32_t> targets;
  std::int64_t target_ts = 0;  ///< time of the first target
};

/// A split of one dataset: `train` holds the training events (same id maps as `full`), and each
/// case reads its history from `full.log`.
struct Split {
  std::string protocol;  ///< "leave_one_out", "temporal" or "given"
  Dataset train;
  std::vector<EvalCase> valid;
  std::vector<EvalCase> test;
  std::int64_t cold_test_users = 0;  ///< temporal: test users without any event before the cutoff
  std::int64_t cutoff_valid = 0;     ///< temporal: first timestamp of the validation period
  std::int64_t cutoff_test = 0;      ///< temporal: first timestamp of the test period
  /// Things about the split a user must hear (the workflows log them), e.g. a given split whose
  /// validation cases are its test cases.
  std::vector<std::string> warnings;
};

struct SplitOptions {
  /// Behaviours that count as targets (empty = every behaviour). History always keeps all.
  std::vector<std::string> target_behaviors;
  /// Domains whose events count as targets (empty = every domain). History always keeps all.
  std::vector<std::string> target_domains;
  /// Temporal split only: targets are only items without any event before the validation cutoff
  /// (new, cold items: the model never trained on them).
  bool new_items_only = false;
  /// Users need at least this many target events to be evaluated (leave-one-out: >= 3 gives a
  /// training event, a validation and a test target).
  int min_targets = 3;
  /// Refit: training also keeps the validation period (leave-one-out: every event before the
  /// test target; temporal: every event before the test cutoff) and there are no validation
  /// cases. Test cases are exactly those of the split without refit. For the final model once
  /// hyperparameters and the epoch count were chosen on validation.
  bool refit = false;
};

/// Leave-one-out: per user, the last target event is the test target, the second-last the
/// validation target; training keeps every event before the validation target.
Split leave_one_out(const Dataset& full, const SplitOptions& options = {});

/// Global temporal split: training = events with ts < valid_start; validation targets = target
/// events in [valid_start, test_start) with history before valid_start; test targets = target
/// events at or after test_start with history before test_start. Users without history before a
/// cutoff are cold: counted (cold_test_users), not evaluated. Items in targets that never occur in
/// training are kept (they count as misses for models that cannot score them).
Split temporal_split(const Dataset& full, std::int64_t valid_start, std::int64_t test_start,
                     const SplitOptions& options = {});

/// True for data read in the `given` format (events at or after kGivenTestStart, no clock).
bool has_given_split(const Dataset& ds);

/// The split shipped with the data (format `given`): training = the training file, validation
/// cases = the validation file's items per user (history: training), test cases = the test file's
/// items per user (history: training + validation); refit trains on training + validation. Users
/// without training events are cold (counted, not evaluated). Throws InvalidInput for other data.
/// Validation cases identical to the test cases (a validation file that copies the test file) get a
/// warning in Split::warnings: test histories then contain the test items, and anything chosen on
/// validation is chosen on test.
Split given_split(const Dataset& full, const SplitOptions& options = {});

/// For a `given` split shipped without a validation file (LightGCN's Gowalla): moves a seeded
/// random `fraction` (in (0, 1)) of each user's training events into the validation band, so the
/// given split's validation cases are those items with the rest of training as history, and a
/// refit trains on all of them again (the test cases do not change). A user with n >= 2 training
/// events gives max(1, round(fraction * n)) of them, never all; the choice per user depends only on
/// `seed` and the user's index. Throws InvalidInput for other data, data that has validation events
/// already, or a fraction outside (0, 1).
Dataset carve_given_validation(Dataset ds, double fraction, std::uint64_t seed);

/// Indices of the named domains (throws NotFound naming the unknown one and the known ones).
std::vector<std::int16_t> domain_ids(const Dataset& ds, const std::vector<std::string>& names);
/// Item mask (size n_items): 1 for items with at least one event in one of the named domains.
std::vector<char> domain_items(const Dataset& ds, const std::vector<std::string>& names);
/// Item mask (size n_items): 1 for items without any event before `cutoff` (new items; 0 = padding).
std::vector<char> items_new_since(const Dataset& ds, std::int64_t cutoff);
/// Keeps only the events of the named domains (ids re-indexed).
Dataset keep_domains(const Dataset& ds, const std::vector<std::string>& names);

/// Timestamp below which `fraction` (0..1) of all events lie (for cutoffs given as quantiles).
std::int64_t time_quantile(const Dataset& ds, double fraction);

/// Keeps in each case only the targets new to its user (absent from the case's history) and
/// removes the cases left without one; returns how many were removed. Evaluating such cases with
/// seen items excluded scores discovery alone: no seen item can be ranked, whether or not the user
/// comes back to it (the default keeps re-consumed targets rankable, which lifts models that score
/// the user's own history high).
std::size_t keep_new_targets(const Dataset& full, std::vector<EvalCase>& cases);

/// A cutoff given as a quantile of event times ("0.9") or a timestamp (seconds or ISO 8601);
/// `what` names the option in the error. Throws InvalidInput.
std::int64_t resolve_cutoff(const Dataset& ds, const std::string& spec, const char* what);

}  // namespace driftrec::data

namespace driftrec::data {

/// Preprocessing and split choices, recorded in model.json so `evaluate` can repeat them.
struct PrepareOptions {
  bool dedup = false;                         ///< drop consecutive duplicate events
  int min_user_events = 0;                    ///< k-core on users (0 = off)
  int min_item_events = 0;                    ///< k-core on items (0 = off)
  std::vector<std::string> target_behaviors;  ///< behaviours that count as targets (empty = all)
  std::vector<std::string> domains;           ///< keep only these domains' events (empty = all)
  /// Only events of these domains are targets, and evaluation ranks only their items (empty = all).
  std::vector<std::string> target_domains;
  /// Cold-start evaluation (temporal split): targets are items new since the validation cutoff,
  /// and evaluation ranks only such new items.
  bool new_items = false;
  /// Train on training + validation events, no validation cases (SplitOptions::refit).
  bool refit = false;
  std::string split = "loo";  ///< "loo" (leave-one-out), "temporal" or "given" (the data's own files)
  /// Temporal cutoffs: a number in [0, 1] is a quantile of event times; otherwise a timestamp
  /// (seconds or ISO 8601 date-time).
  std::string valid_start = "0.8";
  std::string test_start = "0.9";
  /// Given split without a validation file: this share of each user's training events becomes
  /// validation (carve_given_validation; 0 = off), chosen with `valid_seed`.
  double valid_fraction = 0.0;
  std::uint64_t valid_seed = 42;
};

nlohmann::json to_json(const PrepareOptions& o);
/// Reads options written by to_json (missing keys keep their defaults). Throws InvalidInput.
PrepareOptions prepare_options_from_json(const nlohmann::json& j);

/// The filtered dataset and its split.
struct Prepared {
  Dataset full;
  Split split;
};

/// Applies dedup and k-core (ids re-indexed when anything is dropped).
Dataset apply_filters(Dataset ds, const PrepareOptions& options);
/// Splits as the options say. Throws InvalidInput on bad options or when no test case is left.
Split make_split(const Dataset& ds, const PrepareOptions& options);
/// apply_filters, then make_split.
Prepared prepare(Dataset ds, const PrepareOptions& options);

}  // namespace driftrec::data
