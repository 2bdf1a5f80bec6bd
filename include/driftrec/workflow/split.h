#pragma once
// Split bookkeeping shared by the workflows (train, evaluate, compare, ensemble, report) and their
// front ends (CLI, Python): which items evaluation ranks, a split's summary for model.json and
// results, and several models' common split rebuilt in their id space.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/replay.h"

namespace driftrec::workflow {

/// The items evaluation ranks under `prep` (target domains, new items); empty = all.
std::vector<char> candidate_items(const data::PrepareOptions& prep, const data::Dataset& full);
/// Evaluation options that follow the preprocessing: with target domains, only their items are
/// ranked; with new items (cold start), only items without an event before the validation cutoff.
eval::EvalOptions eval_options_for(const data::PrepareOptions& prep, const data::Dataset& full);

/// Protocol, event and case counts (and cutoffs) of a split, for model.json and results.
nlohmann::json split_summary(const data::Prepared& p);

/// Logs the split's warnings (e.g. users left without a test case), each naming the protocol.
void log_split_warnings(const data::Prepared& p);

/// The cases evaluation scores: the split's `on` cases ("test" or "valid") as they are or, with
/// `skip_repeats`, copies in `storage` that keep only targets new to their user
/// (data::keep_new_targets; `removed` counts the cases left without one). The split is unchanged.
const std::vector<data::EvalCase>& scored_cases(const data::Prepared& p, const std::string& on, bool skip_repeats,
                                                std::vector<data::EvalCase>& storage, std::size_t* removed);

/// When the split protocol asks for `on`'s lists: "none" (without a time), "cutoff" (at the period's
/// first timestamp; temporal splits only) or "arrival" (at each case's first target; data with a
/// clock). Throws InvalidInput for another name, or a split or data that has no such time.
models::RequestTime split_request_time(const data::Prepared& p, const std::string& on, const std::string& at);
/// The refusals of split_request_time that need no data: another name, or "cutoff" when `prep`'s
/// split is not temporal (the CLI checks them before reading any).
void check_request_at(const data::PrepareOptions& prep, const std::string& at);
/// Each request-time switch belongs to one protocol: `request_at` other than "none" to the split
/// protocol, `no_request_time` to the replay (which otherwise asks at each event's time). Throws
/// InvalidInput, prefixed by `who`, for one given with the other protocol; evaluate (CLI, Python) and
/// compare share it.
void check_request_switches(const std::string& who, const std::string& protocol, const std::string& request_at,
                            bool no_request_time);

/// Validation on targets new to their user (train's and ensemble's `skip_repeats`): drops from the
/// split's validation cases every target the user had before (data::keep_new_targets) and the cases
/// left without one. Returns false, changing nothing, without validation cases; throws InvalidInput,
/// naming `who`, when none keeps a target.
bool validate_on_new_targets(data::Prepared& p, const std::string& who);

/// A model's recorded data rebuilt for evaluation: `data` filtered as recorded, put in the model's
/// id space and split as recorded (the split depends only on each user's event order, so it is the
/// same as on the unaligned data).
struct ModelSplit {
  data::Dataset filtered;     ///< the data after the recorded filters (original ids)
  data::Prepared prepared;    ///< aligned to the model's ids, split as recorded
  data::PrepareOptions prep;  ///< the preprocessing used
};
ModelSplit model_split(const models::LoadedModel& model, data::Dataset data, const data::PrepareOptions& prep);
/// The preprocessing recorded in a model's model.json.
data::PrepareOptions recorded_prepare(const models::LoadedModel& model);

/// Several models evaluated on one split: the data filtered and split as recorded, in their ids.
struct CommonSplit {
  data::Dataset filtered;     ///< the data after the recorded filters (original ids)
  data::Prepared prepared;    ///< aligned to the models' ids, split as recorded
  data::PrepareOptions prep;  ///< the recorded preprocessing
};
/// Checks that `models` were trained on the same data and split (a refit model matches its
/// validated one: same test cases; the split is the refit one only when all are refits), then
/// calls `load_data()` and rebuilds that split in their id space. `labels` name the models in
/// errors. `on` ("test" or "valid"): refit models cannot be scored on validation (they trained on
/// it). Throws InvalidInput naming the odd one out. `check`, when given, is called with the recorded
/// preprocessing before `load_data()`, so a refusal that needs only it (check_request_at) costs no load.
using PrepareCheck = std::function<void(const data::PrepareOptions&)>;
CommonSplit common_split(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                         const std::function<data::Dataset()>& load_data, const std::string& on,
                         const PrepareCheck& check = {});

/// Model directories loaded, with their common split.
struct SharedSplit : CommonSplit {
  std::vector<models::LoadedModel> models;
};
/// Loads the directories (throws like load_model_dir), then common_split.
SharedSplit load_shared_split(const std::vector<std::string>& model_dirs,
                              const std::function<data::Dataset()>& load_data, const std::string& on,
                              const PrepareCheck& check = {});

/// Replay options from a model's preprocessing: its target behaviours and domains, candidates,
/// and the period. on "test": from `start` (a quantile or timestamp; "" = the temporal split's
/// test cutoff, else 0.9) to the end. on "valid": the validation period of a temporal split, from
/// `start` ("" = its validation cutoff) up to its test cutoff, so that choosing by replay never
/// sees a test event. Throws InvalidInput for "valid" without a temporal split or with a start
/// at or past the test cutoff.
struct ReplaySetup {
  models::ReplayOptions options;
  std::string start;  ///< as resolved ("0.9", a timestamp, ...)
};
ReplaySetup replay_setup(const data::PrepareOptions& prep, const data::Dataset& full, const std::string& start, int k,
                         int threads, const std::string& on = "test");
/// replay_setup's checks that need no data (the CLI runs them before reading it): `on` is "test"
/// or "valid", and "valid" needs a temporal split. Throws InvalidInput.
void check_replay_period(const data::PrepareOptions& prep, const std::string& on);

}  // namespace driftrec::workflow
