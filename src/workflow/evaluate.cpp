#include "driftrec/workflow/evaluate.h"

#include <algorithm>
#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/workflow/split.h"

namespace driftrec::workflow {

int headline_k(const std::vector<int>& ks) {
  if (ks.empty()) throw InvalidInput("evaluate: at least one cut-off is needed");
  return std::find(ks.begin(), ks.end(), 10) != ks.end() ? 10 : ks.front();
}

void write_rankings_tsv(const std::string& path, const Evaluation& evaluation) {
  const auto& users = evaluation.prepared.full.users;
  const auto& items = evaluation.prepared.full.items;
  auto ids = [&](const std::vector<std::int32_t>& list) {
    std::string s;
    for (auto i : list) s += (s.empty() ? "" : ",") + (i >= 1 && i < items.size() ? items.name(i) : std::string("?"));
    return s;
  };
  std::ofstream f(path, std::ios::binary);
  if (!f) throw IoError(path + ": cannot open for writing");
  f << "user\ttargets\tranked\n";
  for (const auto& r : evaluation.result.rankings)
    f << users.name(r.user) << '\t' << ids(r.targets) << '\t' << ids(r.top) << '\n';
  if (!f.flush()) throw IoError(path + ": write failed");
}

namespace {

void check_options(const EvaluateOptions& o) {
  if (o.on != "test" && o.on != "valid")
    throw InvalidInput("evaluate: split must be 'test' or 'valid', not '" + o.on + "'");
  if (o.ks.empty()) throw InvalidInput("evaluate: at least one cut-off is needed");
  for (int k : o.ks)
    if (k < 1) throw InvalidInput("evaluate: cut-offs must be positive, got " + std::to_string(k));
  if (o.impressions < 0) throw InvalidInput("evaluate: impressions must be >= 0");
}

}  // namespace

Evaluation evaluate(const models::LoadedModel& model, data::Dataset data, const EvaluateOptions& options) {
  check_options(options);
  const auto prep = options.prepare ? *options.prepare : recorded_prepare(model);
  if (prep.refit && options.on == "valid")
    throw InvalidInput("a refit model was trained on the validation cases; evaluate it on test");
  auto ms = model_split(model, std::move(data), prep);
  Evaluation out;
  out.prepared = std::move(ms.prepared);
  const auto& p = out.prepared;
  log_split_warnings(p);
  const auto when = split_request_time(p, options.on, options.request_at);
  std::vector<data::EvalCase> new_only;
  std::size_t without_new = 0;
  const auto& cases = scored_cases(p, options.on, options.skip_repeats, new_only, &without_new);
  if (cases.empty())
    throw InvalidInput(without_new == 0 ? "no " + options.on + " cases in this split"
                                        : "no " + options.on + " case has a target new to its user (--skip-repeats)");
  const auto unknown_items = p.full.items.size() - model.items.size();
  if (unknown_items > 0)
    log_warn(std::to_string(unknown_items) + " item(s) in the data are unknown to the model (they count as misses)");
  auto eo = eval_options_for(prep, p.full);
  eo.ks = options.ks;
  eo.exclude_seen = !options.include_seen;
  eo.threads = options.threads;
  eo.impression_negatives = options.impressions;
  eo.impression_seed = options.impression_seed;
  eo.save_top = options.save_top;
  out.tracking_k = headline_k(eo.ks);
  if (!options.truth.empty()) eo.save_top = std::max(eo.save_top, static_cast<std::size_t>(out.tracking_k));
  std::unique_ptr<rerank::Reranker> reranker;
  const bool fairness = options.fairness || !options.rerank.empty() || !options.groups.long_tail_file.empty() ||
                        !options.groups.active_file.empty();
  EvalFairness fair;  // the groups and the re-rankers' popularity
  if (fairness) {
    fair = eval_fairness(p.full, p.split.train, cases, options.groups);
    eo.fairness = fair.options;
    eo.beyond_k = out.tracking_k;
  }
  if (!options.rerank.empty()) {
    reranker = fair.reranker(options.rerank, p.full);  // nullptr for "none"
    if (options.rerank_depth < 1) throw InvalidInput("evaluate: rerank depth must be at least 1");
    use_reranker(eo, reranker.get(), p.full, fair.groups.active, options.rerank_depth);
  }
  out.result = models::evaluate_model(*model.model, p.full, cases, p.split.train, eo, options.progress, when);
  const auto& res = out.result;
  out.report = {{"dataset",
                 {{"name", options.data_name},
                  {"fingerprint", p.full.fingerprint()},
                  {"users", ms.filtered.users.count()},
                  {"items", ms.filtered.items.count()},
                  {"events", ms.filtered.log.size()}}},
                {"split", split_summary(p)},
                {"preprocess", data::to_json(prep)},
                {"evaluated_on", options.on},
                {"exclude_seen", eo.exclude_seen},
                {"skip_repeats", options.skip_repeats},
                {"request_at", options.request_at},
                {"cases_without_new_targets", without_new},
                {"impression_negatives", eo.impression_negatives},
                {"rerank", reranker ? nlohmann::json(reranker->name()) : nlohmann::json()},
                {"rerank_depth", reranker ? nlohmann::json(eo.rerank_depth) : nlohmann::json()},
                {"model",
                 {{"name", model.model->name()},
                  {"dir", options.model_dir},
                  {"trained_on", model.meta.value("data", nlohmann::json())}}},
                {"config", model.model->config()},
                {"metrics", res.metrics_json()},
                {"users_evaluated", res.users_evaluated},
                {"seconds", res.seconds}};
  if (!options.truth.empty()) {
    eval::TrackingOptions to;
    to.k = out.tracking_k;
    out.tracking =
        eval::track_cases(cases, res.rankings, p.full, eval::InterestTruth::read_csv(options.truth, p.full), to);
    out.report["tracking"] = out.tracking->to_json();
    out.report["truth"] = options.truth;
  }
  return out;
}

void check_replay_request(const data::PrepareOptions& prepare, const ReplayRequest& q) {
  if (q.k < 1) throw InvalidInput("replay: k must be at least 1");
  if (q.windows < 1) throw InvalidInput("replay: windows must be at least 1");
  if (q.fairness)
    throw InvalidInput(
        "fairness: the fairness metrics are computed on the split protocol only (a replay can be "
        "re-ranked: rerank)");
  check_replay_period(prepare, q.on);
}

Replay replay(const models::LoadedModel& model, data::Dataset data, const ReplayRequest& q) {
  const auto prep = q.prepare ? *q.prepare : recorded_prepare(model);
  check_replay_request(prep, q);
  const auto filtered = data::apply_filters(std::move(data), prep);
  const auto full = data::align_ids(filtered, model.users, model.items);
  auto setup = replay_setup(prep, full, q.start, q.k, q.threads, q.on);
  Replay out;
  out.options = setup.options;
  out.start = setup.start;
  auto& ro = out.options;
  ro.windows = q.windows;
  ro.exclude_seen = !q.include_seen;
  ro.skip_repeats = q.skip_repeats;
  ro.request_time = !q.no_request_time;
  eval::InterestTruth truth;
  if (!q.truth.empty()) {
    truth = eval::InterestTruth::read_csv(q.truth, full);
    ro.truth = &truth;
    ro.tracking.shift_threshold = q.shift_threshold;
  }
  EvalFairness fair;  // outlives the replay: the hook reads its activity flags
  std::unique_ptr<rerank::Reranker> reranker;
  if (!q.rerank.empty()) {
    if (q.rerank_depth < 1) throw InvalidInput("replay: rerank depth must be at least 1");
    fair = replay_fairness(full, ro.start_ts, ro.end_ts, q.groups);
    reranker = fair.reranker(q.rerank, full);  // nullptr for "none"
    use_reranker(ro, reranker.get(), full, fair.groups.active, q.rerank_depth);
  }
  out.result = models::replay(*model.model, full, ro, q.progress);
  ro.truth = nullptr;
  ro.rerank = nullptr;
  out.report = {
      {"dataset", {{"name", q.data_name}, {"fingerprint", full.fingerprint()}, {"events", filtered.log.size()}}},
      {"protocol", "replay"},
      {"replay_start", out.start},
      {"replay_start_ts", ro.start_ts},
      {"replayed_on", q.on},
      {"request_time", ro.request_time},
      {"replay_end_ts", q.on == "valid" ? nlohmann::json(ro.end_ts) : nlohmann::json()},
      {"model", {{"name", model.model->name()}, {"dir", q.model_dir}}},
      {"config", model.model->config()},
      {"rerank", reranker ? nlohmann::json(reranker->name()) : nlohmann::json()},
      {"rerank_depth", reranker ? nlohmann::json(ro.rerank_depth) : nlohmann::json()},
      {"replay", out.result.to_json(ro.k)}};
  if (!q.truth.empty()) out.report["truth"] = q.truth;
  return out;
}

}  // namespace driftrec::workflow
