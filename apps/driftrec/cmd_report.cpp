#include <iostream>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/report/html_report.h"

namespace driftrec::cli {

Runner add_report(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    std::vector<std::string> models;
    DataFlags data;
    std::string on = "test", out = "report.html", title = "DriftRec report", users;
    int sample_users = 2, resamples = 500;
    std::string truth, request_at = "none";
    RerankFlags rerank;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model,--runs", o->models, "model directory (repeat; the first is the baseline of the comparison)")
      ->required();
  o->data.add_to(app, true);
  app.add_option("--on", o->on, "which cases: test or valid")->check(CLI::IsMember({"test", "valid"}));
  app.add_option("--out", o->out, "HTML file to write");
  app.add_option("--title", o->title, "report title");
  app.add_option("--users", o->users,
                 "comma-separated user ids to show (default: --sample-users with the longest histories)");
  app.add_option("--sample-users", o->sample_users, "users to show when --users is not given")
      ->check(CLI::Range(0, 50));
  app.add_option("--bootstrap", o->resamples, "bootstrap resamples for the confidence intervals")
      ->check(CLI::Range(0, 100000));
  app.add_option("--truth", o->truth,
                 "users' true interests (interests.csv of `driftrec synth`): adds the interest-tracking section "
                 "(default: interests.csv in the --data directory, when present)");
  app.add_option("--request-at", o->request_at,
                 "when each list is asked for, which a model with request_time reads: none (default: without a time), "
                 "cutoff (the period's first timestamp, temporal splits) or arrival (each case's first target)")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  o->rerank.add_to(app);
  return [o, &g]() {
    const auto shared = load_shared_split(o->models, o->data, o->on, o->request_at);
    std::vector<const models::LoadedModel*> loaded;
    for (const auto& m : shared.models) loaded.push_back(&m);
    report::ReportOptions ro;
    ro.on = o->on;
    ro.title = o->title;
    ro.data_name = o->data.path;
    ro.users = split_commas(o->users);
    ro.sample_users = o->sample_users;
    ro.resamples = o->resamples;
    ro.truth = truth_path(o->truth, o->data);
    ro.threads = g.threads;
    ro.request_at = o->request_at;
    ro.progress = progress_printer();
    ro.fairness = o->rerank.fairness;
    ro.groups = o->rerank.groups;
    ro.rerank = o->rerank.rerank;
    ro.rerank_depth = o->rerank.depth;
    write_file(o->out, report::html_report(loaded, o->models, shared, ro));
    const auto& p = shared.prepared;
    std::cout << "wrote " << o->out << " (" << loaded.size() << " models, "
              << (o->on == "test" ? p.split.test : p.split.valid).size() << " " << o->on << " users)\n";
    return 0;
  };
}

}  // namespace driftrec::cli
