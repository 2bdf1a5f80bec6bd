#include "driftrec/workflow/compare.h"

#include <algorithm>
#include <memory>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/replay.h"
#include "driftrec/workflow/evaluate.h"

namespace driftrec::workflow {

namespace {

using PerUser = std::map<std::string, std::vector<double>>;

void check_metrics(const std::vector<std::string>& metrics, const PerUser& got) {
  for (const auto& m : metrics)
    if (!got.count(m)) {
      std::string known;
      for (const auto& [name, v] : got) known += (known.empty() ? "" : ", ") + name;
      throw InvalidInput("compare: '" + m + "' is not a per-user metric (known: " + known + ")");
    }
}

// The cut-offs the metrics name (hr@10 -> 10); {10} when none does.
std::vector<int> cutoffs(const std::vector<std::string>& metrics) {
  std::vector<int> ks;
  for (const auto& m : metrics) {
    const auto at = m.find('@');
    if (at == std::string::npos) continue;
    try {
      ks.push_back(std::stoi(m.substr(at + 1)));
    } catch (const std::exception&) {
      throw InvalidInput("compare: bad cut-off in '" + m + "'");
    }
  }
  if (ks.empty()) ks = {10};
  return ks;
}

// Whether any re-rank spec asks for a re-ranker ("" and "none" keep a model's own order).
bool any_reranker(const std::vector<std::string>& specs) {
  return std::any_of(specs.begin(), specs.end(), [](const auto& s) { return !s.empty() && s != "none"; });
}

// Each model's re-ranker (null: its own order) from one spec for all or one per model, all built
// (and their specs checked) before any model runs.
std::vector<std::unique_ptr<rerank::Reranker>> model_rerankers(const EvalFairness& fair,
                                                               const std::vector<std::string>& specs,
                                                               std::size_t n_models, const data::Dataset& full) {
  std::vector<std::unique_ptr<rerank::Reranker>> out;
  for (std::size_t k = 0; k < n_models; ++k)
    out.push_back(any_reranker(specs) ? fair.reranker(specs[specs.size() == 1 ? 0 : k], full) : nullptr);
  return out;
}

void run_replays(const std::vector<const models::LoadedModel*>& models, const CommonSplit& split,
                 const CompareOptions& o, std::vector<PerUser>& per_user, Comparison& out) {
  const auto& full = split.prepared.full;
  auto setup = replay_setup(split.prep, full, o.replay_start, 10, o.threads, o.on);
  setup.options.skip_repeats = o.skip_repeats;
  setup.options.exclude_seen = !o.include_seen;
  setup.options.request_time = !o.no_request_time;
  eval::InterestTruth truth;
  if (!o.truth.empty()) {
    truth = eval::InterestTruth::read_csv(o.truth, full);
    setup.options.truth = &truth;
  }
  const bool reranking = any_reranker(o.rerank);
  EvalFairness fair;  // the groups and popularity at the replay's start, for the re-rankers
  if (reranking) fair = replay_fairness(full, setup.options.start_ts, setup.options.end_ts, o.groups);
  const auto rerankers = model_rerankers(fair, o.rerank, models.size(), full);
  std::vector<std::int32_t> ids;
  for (std::size_t k = 0; k < models.size(); ++k) {
    auto ro = setup.options;
    use_reranker(ro, rerankers[k].get(), full, fair.groups.active, o.rerank_depth);
    auto r = models::replay(*models[k]->model, full, ro, o.progress);
    out.rerankers.push_back(rerankers[k] ? rerankers[k]->name() : "");
    if (k == 0) ids = r.per_user_ids;
    if (r.per_user_ids != ids) throw InvalidInput("compare: the models' replays scored different users");
    check_metrics(o.metrics, r.per_user);
    std::map<std::string, double> mean;
    for (const auto& [name, v] : r.per_user)
      mean[name] = v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    per_user.push_back(std::move(r.per_user));
    out.means.push_back(std::move(mean));
  }
  if (ids.size() < 2) throw InvalidInput("compare: fewer than two users with replayed events");
  out.evaluated_on = "replay from " + setup.start + (o.on == "valid" ? " to the test cutoff (validation period)" : "") +
                     ", per-user means";
}

// The per-list metrics the evaluator computes with its fairness options (eval/fairness.h).
bool list_metric(const std::string& m) {
  for (const char* prefix : {"aplt@", "miscalibration@", "ild@"})
    if (m.rfind(prefix, 0) == 0) return true;
  return false;
}

// The cut-off of the per-list metrics (one for all of them: the evaluator's beyond_k); `fallback`
// when none is named.
int list_metric_cutoff(const std::vector<std::string>& metrics, int fallback) {
  int k = 0;
  for (const auto& m : metrics) {
    if (!list_metric(m)) continue;
    const int mk = cutoffs({m}).front();
    if (k != 0 && mk != k) throw InvalidInput("compare: aplt, miscalibration and ild must share one cut-off");
    k = mk;
  }
  return k != 0 ? k : fallback;
}

void run_split(const std::vector<const models::LoadedModel*>& models, const CommonSplit& split, const CompareOptions& o,
               std::vector<PerUser>& per_user, Comparison& out) {
  const auto& p = split.prepared;
  std::vector<data::EvalCase> new_only;
  const auto& cases = scored_cases(p, o.on, o.skip_repeats, new_only, nullptr);
  const auto when = split_request_time(p, o.on, o.request_at);
  if (cases.size() < 2) throw InvalidInput("compare: fewer than two " + o.on + " cases in this split");
  auto eo = eval_options_for(split.prep, p.full);
  eo.threads = o.threads;
  eo.exclude_seen = !o.include_seen;
  eo.ks = cutoffs(o.metrics);
  const bool reranking = any_reranker(o.rerank);
  EvalFairness fair;  // the groups, the re-rankers' popularity and the list metrics' options
  if (reranking || std::any_of(o.metrics.begin(), o.metrics.end(), list_metric)) {
    fair = eval_fairness(p.full, p.split.train, cases, o.groups);
    eo.fairness = fair.options;
    eo.beyond_k = list_metric_cutoff(o.metrics, headline_k(eo.ks));
  }
  eval::InterestTruth truth;  // tracking_tv / tracking_kl of each case's top list against the truth
  eval::TrackingOptions to;
  to.k = headline_k(eo.ks);
  if (!o.truth.empty()) {
    truth = eval::InterestTruth::read_csv(o.truth, p.full);
    eo.save_top = std::max(eo.save_top, static_cast<std::size_t>(to.k));
  }
  const auto rerankers = model_rerankers(fair, o.rerank, models.size(), p.full);
  for (std::size_t k = 0; k < models.size(); ++k) {
    auto mo = eo;
    use_reranker(mo, rerankers[k].get(), p.full, fair.groups.active, o.rerank_depth);
    auto r = models::evaluate_model(*models[k]->model, p.full, cases, p.split.train, mo, o.progress, when);
    if (!o.truth.empty()) {
      const auto tracking = eval::track_cases(cases, r.rankings, p.full, truth, to, &r.per_case);
      r.metrics["tracking_tv"] = tracking.tv();
      r.metrics["tracking_kl"] = tracking.kl();
    }
    check_metrics(o.metrics, r.per_case);
    per_user.push_back(std::move(r.per_case));
    out.means.push_back(std::move(r.metrics));
    out.rerankers.push_back(rerankers[k] ? rerankers[k]->name() : "");
  }
  out.evaluated_on = o.on;
}

}  // namespace

void check_compare_options(const CompareOptions& o, std::size_t n_models) {
  if (n_models < 2) throw InvalidInput("compare: give at least two models");
  if (o.metrics.empty()) throw InvalidInput("compare: name at least one metric");
  if (o.protocol != "split" && o.protocol != "replay")
    throw InvalidInput("compare: protocol must be 'split' or 'replay', not '" + o.protocol + "'");
  if (o.on != "test" && o.on != "valid") throw InvalidInput("compare: on must be 'test' or 'valid'");
  check_request_switches("compare: ", o.protocol, o.request_at, o.no_request_time);
  if (o.rerank.size() > 1 && o.rerank.size() != n_models)
    throw InvalidInput("compare: give one re-rank spec for every model, or one per model (" + std::to_string(n_models) +
                       "), not " + std::to_string(o.rerank.size()));
  if (any_reranker(o.rerank) && o.rerank_depth < 1) throw InvalidInput("compare: rerank depth must be at least 1");
  list_metric_cutoff(o.metrics, 10);  // one cut-off for the per-list metrics
}

Comparison compare(const std::vector<const models::LoadedModel*>& models, const std::vector<std::string>& labels,
                   const CommonSplit& split, const CompareOptions& o) {
  check_compare_options(o, models.size());
  if (labels.size() != models.size()) throw InvalidInput("compare: one label per model is needed");
  const bool reranking = any_reranker(o.rerank);
  Comparison out;
  std::vector<PerUser> per_user;
  if (o.protocol == "replay")
    run_replays(models, split, o, per_user, out);
  else
    run_split(models, split, o, per_user, out);
  out.cases = per_user[0].at(o.metrics.front()).size();
  std::vector<const PerUser*> per_case;
  for (const auto& r : per_user) per_case.push_back(&r);
  out.rows = eval::compare_to_baseline(per_case, o.metrics, o.resamples, o.seed);
  out.report = {{"evaluated_on", out.evaluated_on},
                {"cases", out.cases},
                {"baseline", labels[0]},
                {"alpha", o.alpha},
                {"bootstrap_resamples", o.resamples},
                {"seed", o.seed},
                {"models", labels},
                {"comparisons", nlohmann::json::array()}};
  out.report["include_seen"] = o.include_seen;
  if (o.protocol == "replay")
    out.report["request_time"] = !o.no_request_time;
  else
    out.report["request_at"] = o.request_at;
  // Model k's re-ranker in the report: its name, null for the model's own order.
  auto rerank_json = [&](std::size_t k) {
    return !reranking || out.rerankers[k].empty() ? nlohmann::json() : nlohmann::json(out.rerankers[k]);
  };
  if (reranking) {
    out.report["rerank"] = nlohmann::json::array();
    for (std::size_t k = 0; k < models.size(); ++k) out.report["rerank"].push_back(rerank_json(k));
    out.report["rerank_depth"] = o.rerank_depth;
  }
  for (const auto& row : out.rows) {
    const auto& c = row.c;
    out.report["comparisons"].push_back({{"metric", row.metric},
                                         {"model", labels[row.model]},
                                         {"name", models[row.model]->model->name()},
                                         {"rerank", rerank_json(row.model)},
                                         {"baseline_value", c.mean_a},
                                         {"value", c.mean_b},
                                         {"diff", c.diff},
                                         {"ci_low", c.ci_low},
                                         {"ci_high", c.ci_high},
                                         {"t", c.t},
                                         {"p_value", c.p_value},
                                         {"p_holm", row.p_holm},
                                         {"significant", row.p_holm < o.alpha}});
  }
  return out;
}

}  // namespace driftrec::workflow
