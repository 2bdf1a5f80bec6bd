#include <cstdio>
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/compare.h"

namespace driftrec::cli {

Runner add_compare(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    std::vector<std::string> models;
    DataFlags data;
    std::string on = "test";
    std::string metrics = "hr@10,ndcg@10,mrr";
    int resamples = 1000;
    std::uint64_t seed = 42;
    double alpha = 0.05;
    std::string json_out;
    std::string protocol = "split", replay_start, truth;
    bool skip_repeats = false;
    bool no_request_time = false;
    bool include_seen = false;
    std::string request_at = "none";
    std::vector<std::string> rerank;
    std::size_t rerank_depth = 100;
    workflow::GroupOptions groups;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->models, "model directory (repeat; the first is the baseline)")->required();
  o->data.add_to(app, true);
  app.add_option("--on", o->on,
                 "which cases: test or valid (replay: valid walks the temporal split's validation period, up to "
                 "its test cutoff)")
      ->check(CLI::IsMember({"test", "valid"}));
  app.add_option("--metrics", o->metrics, "comma-separated per-user metrics, e.g. hr@10,ndcg@10,mrr,recall@20");
  app.add_option("--bootstrap", o->resamples, "bootstrap resamples for the confidence intervals")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--seed", o->seed, "bootstrap seed");
  app.add_option("--alpha", o->alpha, "significance level (after Holm-Bonferroni over every comparison)")
      ->check(CLI::Range(1e-9, 0.5));
  app.add_option("--json", o->json_out, "write the comparison as JSON to this file");
  app.add_option("--protocol", o->protocol,
                 "split: the held-out cases; replay: per-user means over the replayed events after --replay-start "
                 "(the online state; metrics hr@10, ndcg@10, mrr and, with a truth, tracking_tv, tracking_kl)")
      ->check(CLI::IsMember({"split", "replay"}));
  app.add_option("--replay-start", o->replay_start, "replay: start (quantile or timestamp; default as in evaluate)");
  app.add_flag("--skip-repeats", o->skip_repeats,
               "score only items new to the user (replay: events whose item is new; split: targets new to the user)");
  app.add_flag("--no-request-time", o->no_request_time,
               "replay: ask for every list without a time (as evaluate --no-request-time)");
  app.add_flag("--include-seen", o->include_seen, "rank items the user already interacted with too (as evaluate)");
  app.add_option("--request-at", o->request_at,
                 "split protocol: when the lists are asked for (as evaluate --request-at): none, cutoff or arrival")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  app.add_option("--truth", o->truth,
                 "users' true interests, for the metrics tracking_tv and tracking_kl (default: interests.csv in the "
                 "--data directory)");
  app.add_option("--rerank", o->rerank,
                 std::string("re-rank the lists, on either protocol: once for every model, or once per --model in "
                             "order, 'none' keeping that model's own order; hr/ndcg/tracking then see the re-ranked "
                             "list, mrr the model's scores. Specs: ") +
                     kRerankSpecs);
  app.add_option("--rerank-depth", o->rerank_depth, "candidates the re-ranker chooses from")
      ->check(CLI::PositiveNumber);
  add_group_flags(app, o->groups);
  return [o, &g]() {
    if (o->models.size() < 2) throw InvalidInput("compare: give at least two --model directories");
    workflow::CompareOptions co;
    co.on = o->on;
    co.metrics = split_commas(o->metrics);
    co.resamples = o->resamples;
    co.seed = o->seed;
    co.alpha = o->alpha;
    co.threads = g.threads;
    co.protocol = o->protocol;
    co.replay_start = o->replay_start;
    co.skip_repeats = o->skip_repeats;
    co.no_request_time = o->no_request_time;
    co.request_at = o->request_at;
    co.include_seen = o->include_seen;
    co.rerank = o->rerank;
    co.rerank_depth = o->rerank_depth;
    co.groups = o->groups;
    workflow::check_compare_options(co, o->models.size());  // before any data is read
    co.truth = truth_path(o->truth, o->data);
    const auto shared = load_shared_split(o->models, o->data, o->on, o->request_at);
    std::vector<const models::LoadedModel*> loaded;
    for (const auto& m : shared.models) loaded.push_back(&m);
    co.progress = progress_printer();
    const auto res = workflow::compare(loaded, o->models, shared, co);
    auto label = [&](std::size_t k) {
      const bool reranked = k < res.rerankers.size() && !res.rerankers[k].empty();
      return loaded[k]->model->name() + (reranked ? " + " + res.rerankers[k] : "") + " (" + o->models[k] + ")";
    };
    std::cout << "compare on " << res.evaluated_on << " (" << res.cases << " users); baseline: " << label(0)
              << "; * = significant at " << o->alpha << " after Holm-Bonferroni over " << res.rows.size()
              << " comparisons\n";
    std::cout << std::left << std::setw(12) << "metric" << std::setw(34) << "model" << std::right << std::setw(9)
              << "value" << std::setw(10) << "diff" << std::setw(24) << "95% CI (bootstrap)" << std::setw(11) << "p (t)"
              << std::setw(11) << "p (Holm)"
              << "\n";
    for (const auto& m : co.metrics) {
      std::printf("%-12s%-34s%9.5f\n", m.c_str(), label(0).substr(0, 33).c_str(), res.means[0].at(m));
      for (const auto& row : res.rows) {
        if (row.metric != m) continue;
        const auto& c = row.c;
        char ci[64];
        std::snprintf(ci, sizeof ci, "[%+.5f, %+.5f]", c.ci_low, c.ci_high);
        std::printf("%-12s%-34s%9.5f%+10.5f%24s%11.2e%11.2e %s\n", "", label(row.model).substr(0, 33).c_str(), c.mean_b,
                    c.diff, ci, c.p_value, row.p_holm, row.p_holm < o->alpha ? "*" : "");
      }
    }
    if (!o->json_out.empty()) write_file(o->json_out, res.report.dump(2) + "\n");
    return 0;
  };
}

}  // namespace driftrec::cli
