#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/eval/significance.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/replay.h"

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
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->models, "model directory (repeat; the first is the baseline)")->required();
  o->data.add_to(app, true);
  app.add_option("--on", o->on, "which cases: test or valid")->check(CLI::IsMember({"test", "valid"}));
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
  app.add_flag("--skip-repeats", o->skip_repeats, "replay: score only events whose item is new to the user");
  app.add_option("--truth", o->truth, "replay: users' true interests (default: interests.csv in the --data directory)");
  return [o, &g]() {
    if (o->models.size() < 2) throw InvalidInput("compare: give at least two --model directories");
    auto shared = load_shared_split(o->models, o->data, o->on);
    auto& loaded = shared.models;
    const auto& p = shared.prepared;
    const auto& cases = o->on == "test" ? p.split.test : p.split.valid;
    if (cases.size() < 2) throw InvalidInput("compare: fewer than two " + o->on + " cases in this split");
    const auto metrics = split_commas(o->metrics);
    // Per-user values of every model (same users, same order) and their means.
    std::vector<std::map<std::string, std::vector<double>>> per_user;
    std::vector<std::map<std::string, double>> means;
    std::string what = o->on;
    auto check_metrics = [&](const std::map<std::string, std::vector<double>>& got) {
      for (const auto& m : metrics)
        if (!got.count(m)) {
          std::string known;
          for (const auto& [name, v] : got) known += (known.empty() ? "" : ", ") + name;
          throw InvalidInput("--metrics: '" + m + "' is not a per-user metric (known: " + known + ")");
        }
    };
    if (o->protocol == "replay") {
      auto setup = replay_setup(shared.prep, p.full, o->replay_start, 10, g.threads);
      setup.options.skip_repeats = o->skip_repeats;
      eval::InterestTruth truth;
      if (const auto file = truth_path(o->truth, o->data); !file.empty()) {
        truth = eval::InterestTruth::read_csv(file, p.full);
        setup.options.truth = &truth;
      }
      std::vector<std::int32_t> ids;
      for (std::size_t k = 0; k < loaded.size(); ++k) {
        auto r = models::replay(*loaded[k].model, p.full, setup.options, progress_printer());
        if (k == 0) ids = r.per_user_ids;
        if (r.per_user_ids != ids) throw InvalidInput("compare: the models' replays scored different users");
        check_metrics(r.per_user);
        std::map<std::string, double> mean;
        for (const auto& [name, v] : r.per_user)
          mean[name] = v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / v.size();
        per_user.push_back(std::move(r.per_user));
        means.push_back(std::move(mean));
      }
      if (ids.size() < 2) throw InvalidInput("compare: fewer than two users with replayed events");
      what = "replay from " + setup.start + ", per-user means";
    } else {
      auto eo = eval_options_for(shared.prep, p.full);
      eo.threads = g.threads;
      eo.ks.clear();
      for (const auto& m : metrics) {
        const auto at = m.find('@');
        if (at != std::string::npos) {
          try {
            eo.ks.push_back(std::stoi(m.substr(at + 1)));
          } catch (const std::exception&) {
            throw InvalidInput("--metrics: bad cut-off in '" + m + "'");
          }
        }
      }
      if (eo.ks.empty()) eo.ks = {10};
      for (std::size_t k = 0; k < loaded.size(); ++k) {
        auto r = models::evaluate_model(*loaded[k].model, p.full, cases, p.split.train, eo, progress_printer());
        check_metrics(r.per_case);
        per_user.push_back(std::move(r.per_case));
        means.push_back(std::move(r.metrics));
      }
    }
    const std::size_t n_users = per_user[0].at(metrics.front()).size();
    // Every (metric, model) against the baseline; Holm-Bonferroni over the whole family.
    std::vector<const std::map<std::string, std::vector<double>>*> per_case;
    for (const auto& r : per_user) per_case.push_back(&r);
    const auto rows = eval::compare_to_baseline(per_case, metrics, o->resamples, o->seed);
    auto label = [&](std::size_t k) { return loaded[k].model->name() + " (" + o->models[k] + ")"; };
    nlohmann::json out = {{"evaluated_on", what},
                          {"cases", n_users},
                          {"baseline", o->models[0]},
                          {"alpha", o->alpha},
                          {"bootstrap_resamples", o->resamples},
                          {"seed", o->seed},
                          {"models", o->models},
                          {"comparisons", nlohmann::json::array()}};
    std::cout << "compare on " << what << " (" << n_users << " users); baseline: " << label(0)
              << "; * = significant at " << o->alpha << " after Holm-Bonferroni over " << rows.size()
              << " comparisons\n";
    std::cout << std::left << std::setw(12) << "metric" << std::setw(34) << "model" << std::right << std::setw(9)
              << "value" << std::setw(10) << "diff" << std::setw(24) << "95% CI (bootstrap)" << std::setw(11) << "p (t)"
              << std::setw(11) << "p (Holm)"
              << "\n";
    for (const auto& m : metrics) {
      std::printf("%-12s%-34s%9.5f\n", m.c_str(), label(0).substr(0, 33).c_str(), means[0].at(m));
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].metric != m) continue;
        const auto& c = rows[r].c;
        const bool sig = rows[r].p_holm < o->alpha;
        char ci[64];
        std::snprintf(ci, sizeof ci, "[%+.5f, %+.5f]", c.ci_low, c.ci_high);
        std::printf("%-12s%-34s%9.5f%+10.5f%24s%11.2e%11.2e %s\n", "", label(rows[r].model).substr(0, 33).c_str(),
                    c.mean_b, c.diff, ci, c.p_value, rows[r].p_holm, sig ? "*" : "");
        out["comparisons"].push_back({{"metric", m},
                                      {"model", o->models[rows[r].model]},
                                      {"name", loaded[rows[r].model].model->name()},
                                      {"baseline_value", c.mean_a},
                                      {"value", c.mean_b},
                                      {"diff", c.diff},
                                      {"ci_low", c.ci_low},
                                      {"ci_high", c.ci_high},
                                      {"t", c.t},
                                      {"p_value", c.p_value},
                                      {"p_holm", rows[r].p_holm},
                                      {"significant", sig}});
      }
    }
    if (!o->json_out.empty()) write_file(o->json_out, out.dump(2) + "\n");
    return 0;
  };
}

}  // namespace driftrec::cli
