#include "driftrec/workflow/split.h"

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/data/readers.h"

namespace driftrec::workflow {

std::vector<char> candidate_items(const data::PrepareOptions& prep, const data::Dataset& full) {
  std::vector<char> out;
  if (!prep.target_domains.empty()) out = data::domain_items(full, prep.target_domains);
  if (prep.new_items) {
    const auto fresh = data::items_new_since(full, data::resolve_cutoff(full, prep.valid_start, "valid_start"));
    if (out.empty()) out = fresh;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = out[i] && fresh[i];
  }
  return out;
}

eval::EvalOptions eval_options_for(const data::PrepareOptions& prep, const data::Dataset& full) {
  eval::EvalOptions eo;
  eo.candidates = candidate_items(prep, full);
  return eo;
}

void log_split_warnings(const data::Prepared& p) {
  for (const auto& w : p.split.warnings) log_warn("split " + p.split.protocol + ": " + w);
}

const std::vector<data::EvalCase>& scored_cases(const data::Prepared& p, const std::string& on, bool skip_repeats,
                                                std::vector<data::EvalCase>& storage, std::size_t* removed) {
  const auto& cases = on == "test" ? p.split.test : p.split.valid;
  if (removed) *removed = 0;
  if (!skip_repeats) return cases;
  storage = cases;
  const auto n = data::keep_new_targets(p.full, storage);
  if (removed) *removed = n;
  return storage;
}

namespace {

// The kind of request time `at` names on a split of `protocol`; throws InvalidInput for another name
// or a cutoff the split does not have.
models::RequestTime::At request_at_kind(const std::string& at, const std::string& protocol) {
  using At = models::RequestTime::At;
  if (at == "none") return At::none;
  if (at == "arrival") return At::arrival;
  if (at != "cutoff") throw InvalidInput("request_at must be none, cutoff or arrival, not '" + at + "'");
  if (protocol != "temporal")
    throw InvalidInput("request_at cutoff: the " + protocol +
                       " split has no cutoff (arrival asks at each case's target)");
  return At::cutoff;
}

}  // namespace

void check_request_at(const data::PrepareOptions& prep, const std::string& at) {
  request_at_kind(at, prep.split == "loo" ? "leave_one_out" : prep.split);
}

void check_request_switches(const std::string& who, const std::string& protocol, const std::string& request_at,
                            bool no_request_time) {
  if (no_request_time && protocol != "replay")
    throw InvalidInput(who + "no_request_time is for the replay protocol (the split protocol's: request_at)");
  if (request_at != "none" && protocol != "split")
    throw InvalidInput(who + "request_at is for the split protocol (the replay asks at each event's time)");
}

models::RequestTime split_request_time(const data::Prepared& p, const std::string& on, const std::string& at) {
  models::RequestTime t;
  t.at = request_at_kind(at, p.split.protocol);
  if (t.at != models::RequestTime::At::none && !p.full.has_clock)
    throw InvalidInput("request_at " + at + ": the data has no timestamps");
  if (t.at == models::RequestTime::At::cutoff) t.cutoff = on == "test" ? p.split.cutoff_test : p.split.cutoff_valid;
  return t;
}

nlohmann::json split_summary(const data::Prepared& p) {
  nlohmann::json j = {{"protocol", p.split.protocol},
                      {"train_events", p.split.train.log.size()},
                      {"valid_cases", p.split.valid.size()},
                      {"test_cases", p.split.test.size()}};
  if (p.split.protocol == "temporal" || p.split.protocol == "given") {
    j["cutoff_valid"] = p.split.cutoff_valid;
    j["cutoff_test"] = p.split.cutoff_test;
    j["cold_test_users"] = p.split.cold_test_users;
  }
  return j;
}

data::PrepareOptions recorded_prepare(const models::LoadedModel& model) {
  return data::prepare_options_from_json(model.meta.value("preprocess", nlohmann::json()));
}

ModelSplit model_split(const models::LoadedModel& model, data::Dataset data, const data::PrepareOptions& prep) {
  ModelSplit out;
  out.prep = prep;
  out.filtered = data::apply_filters(std::move(data), prep);
  out.prepared.full = data::align_ids(out.filtered, model.users, model.items);
  out.prepared.split = data::make_split(out.prepared.full, prep);
  return out;
}

CommonSplit common_split(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                         const std::function<data::Dataset()>& load_data, const std::string& on,
                         const PrepareCheck& check) {
  if (models.empty()) throw InvalidInput("no models given");
  if (labels.size() != models.size()) throw InvalidInput("one label per model is needed");
  const auto& first = *models[0];
  // Compared as parsed options (files written before an option existed lack its key), refit aside:
  // a refit model has the same test cases as the validated one, so the two compare on test.
  data::PrepareOptions prep;
  bool all_refit = true;
  nlohmann::json first_key;
  for (std::size_t k = 0; k < models.size(); ++k) {
    const auto& m = *models[k];
    if (m.items.checksum() != first.items.checksum() || m.users.checksum() != first.users.checksum())
      throw InvalidInput(labels[k] + ": trained on other data than " + labels[0] + " (id maps differ)");
    auto o = recorded_prepare(m);
    const bool refit = o.refit;
    o.refit = false;
    const auto key = data::to_json(o);
    if (k == 0) {
      first_key = key;
      prep = o;
    } else if (key != first_key) {
      throw InvalidInput(labels[k] + ": trained with other preprocessing/split than " + labels[0]);
    }
    if (refit && on == "valid")
      throw InvalidInput(labels[k] + ": a refit model was trained on the validation cases; evaluate it on test");
    all_refit = all_refit && refit;
  }
  prep.refit = all_refit;
  if (check) check(prep);
  auto ms = model_split(first, load_data(), prep);
  CommonSplit out;
  out.prep = std::move(ms.prep);
  out.filtered = std::move(ms.filtered);
  out.prepared = std::move(ms.prepared);
  return out;
}

SharedSplit load_shared_split(const std::vector<std::string>& dirs, const std::function<data::Dataset()>& load_data,
                              const std::string& on, const PrepareCheck& check) {
  SharedSplit out;
  for (const auto& dir : dirs) out.models.push_back(models::load_model_dir(dir));
  std::vector<const models::LoadedModel*> ptrs;
  for (const auto& m : out.models) ptrs.push_back(&m);
  static_cast<CommonSplit&>(out) = common_split(ptrs, dirs, load_data, on, check);
  return out;
}

void check_replay_period(const data::PrepareOptions& prep, const std::string& on) {
  if (on != "test" && on != "valid") throw InvalidInput("replay: on must be 'test' or 'valid', not '" + on + "'");
  if (on == "valid" && prep.split != "temporal")
    throw InvalidInput("replay on the validation period needs a temporal split (the model's is '" + prep.split +
                       "'): there is no validation period to walk");
}

ReplaySetup replay_setup(const data::PrepareOptions& prep, const data::Dataset& full, const std::string& start, int k,
                         int threads, const std::string& on) {
  check_replay_period(prep, on);
  ReplaySetup r;
  r.start = !start.empty()             ? start
            : on == "valid"            ? prep.valid_start
            : prep.split == "temporal" ? prep.test_start
            : prep.split == "given"    ? std::to_string(data::kGivenTestStart)
                                       : "0.9";
  auto& ro = r.options;
  ro.start_ts = data::resolve_cutoff(full, r.start, "--replay-start");
  if (on == "valid") {
    ro.end_ts = data::resolve_cutoff(full, prep.test_start, "--test-start");
    if (ro.start_ts >= ro.end_ts)
      throw InvalidInput("replay on the validation period: the start (" + r.start +
                         ") is not before the test cutoff (" + prep.test_start + ")");
  }
  ro.k = k;
  ro.threads = threads;
  for (const auto& b : prep.target_behaviors) {
    const auto idx = full.behaviors.find(b);
    if (idx < 0) throw InvalidInput("target behaviour '" + b + "' does not occur in the data");
    ro.target_behaviors.push_back(static_cast<std::int16_t>(idx));
  }
  if (!prep.target_domains.empty()) ro.target_domains = data::domain_ids(full, prep.target_domains);
  // One domain and/or new items only: only those items are ranked and scored.
  ro.candidates = candidate_items(prep, full);
  return r;
}

bool validate_on_new_targets(data::Prepared& p, const std::string& who) {
  if (p.split.valid.empty()) return false;
  const auto removed = data::keep_new_targets(p.full, p.split.valid);
  if (p.split.valid.empty())
    throw InvalidInput(who + ": skip_repeats left no validation case (no validation target is new to its user)");
  log_info(who + ": validation on targets new to their user: " + std::to_string(removed) +
           " cases without one skipped");
  return true;
}

}  // namespace driftrec::workflow
