#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/eval/significance.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"

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
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->models, "model directory (repeat; the first is the baseline)")->required();
  o->data.add_to(app, true);
  app.add_option("--on", o->on, "which cases: test or valid")->check(CLI::IsMember({"test", "valid"}));
  app.add_option("--metrics", o->metrics, "comma-separated per-user metrics, e.g. hr@10,ndcg@10,mrr,recall@20");
  app.add_option("--bootstrap", o->resamples, "bootstrap resamples for the confidence intervals")->check(CLI::Range(0, 1000000));
  app.add_option("--seed", o->seed, "bootstrap seed");
  app.add_option("--alpha", o->alpha, "significance level (after Holm-Bonferroni over every comparison)")
      ->check(CLI::Range(1e-9, 0.5));
  app.add_option("--json", o->json_out, "write the comparison as JSON to this file");
  return [o, &g]() {
    if (o->models.size() < 2) throw InvalidInput("compare: give at least two --model directories");
    auto shared = load_shared_split(o->models, o->data, o->on);
    auto& loaded = shared.models;
    const auto& p = shared.prepared;
    const auto& cases = o->on == "test" ? p.split.test : p.split.valid;
    if (cases.size() < 2) throw InvalidInput("compare: fewer than two " + o->on + " cases in this split");
    const auto metrics = split_commas(o->metrics);
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
    std::vector<eval::EvalResult> results;
    for (std::size_t k = 0; k < loaded.size(); ++k) {
      results.push_back(models::evaluate_model(*loaded[k].model, p.full, cases, p.split.train, eo, progress_printer()));
      for (const auto& m : metrics)
        if (!results.back().per_case.count(m)) {
          std::string known;
          for (const auto& [name, v] : results.back().per_case) known += (known.empty() ? "" : ", ") + name;
          throw InvalidInput("--metrics: '" + m + "' is not a per-user metric (known: " + known + ")");
        }
    }
    // Every (metric, model) against the baseline; Holm-Bonferroni over the whole family.
    std::vector<const std::map<std::string, std::vector<double>>*> per_case;
    for (const auto& r : results) per_case.push_back(&r.per_case);
    const auto rows = eval::compare_to_baseline(per_case, metrics, o->resamples, o->seed);
    auto label = [&](std::size_t k) { return loaded[k].model->name() + " (" + o->models[k] + ")"; };
    nlohmann::json out = {{"evaluated_on", o->on}, {"cases", cases.size()}, {"baseline", o->models[0]},
                          {"alpha", o->alpha}, {"bootstrap_resamples", o->resamples}, {"seed", o->seed},
                          {"models", o->models}, {"comparisons", nlohmann::json::array()}};
    std::cout << "compare on " << o->on << " (" << cases.size() << " users); baseline: " << label(0)
              << "; * = significant at " << o->alpha << " after Holm-Bonferroni over " << rows.size() << " comparisons\n";
    std::cout << std::left << std::setw(12) << "metric" << std::setw(34) << "model" << std::right << std::setw(9) << "value"
              << std::setw(10) << "diff" << std::setw(24) << "95% CI (bootstrap)" << std::setw(11) << "p (t)" << std::setw(11)
              << "p (Holm)" << "\n";
    for (const auto& m : metrics) {
      std::printf("%-12s%-34s%9.5f\n", m.c_str(), label(0).substr(0, 33).c_str(), results[0].metrics.at(m));
      for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].metric != m) continue;
        const auto& c = rows[r].c;
        const bool sig = rows[r].p_holm < o->alpha;
        char ci[64];
        std::snprintf(ci, sizeof ci, "[%+.5f, %+.5f]", c.ci_low, c.ci_high);
        std::printf("%-12s%-34s%9.5f%+10.5f%24s%11.2e%11.2e %s\n", "", label(rows[r].model).substr(0, 33).c_str(), c.mean_b,
                    c.diff, ci, c.p_value, rows[r].p_holm, sig ? "*" : "");
        out["comparisons"].push_back({{"metric", m}, {"model", o->models[rows[r].model]}, {"name", loaded[rows[r].model].model->name()},
                                      {"baseline_value", c.mean_a}, {"value", c.mean_b}, {"diff", c.diff},
                                      {"ci_low", c.ci_low}, {"ci_high", c.ci_high}, {"t", c.t}, {"p_value", c.p_value},
                                      {"p_holm", rows[r].p_holm}, {"significant", sig}});
      }
    }
    if (!o->json_out.empty()) write_file(o->json_out, out.dump(2) + "\n");
    return 0;
  };
}

}  // namespace driftrec::cli
