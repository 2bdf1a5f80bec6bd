// driftrec evaluate: the split protocol (held-out cases, full ranking) or replay (walk the events in time order).
#include "commands.h"
#include "common.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/split.h"
#include "print_evaluation.h"

namespace driftrec::cli {

namespace {
template <typename Opts>
int run_replay(const Opts& o, const GlobalFlags& g, const models::LoadedModel& loaded,
               const data::PrepareOptions& prep) {
  workflow::ReplayRequest q;
  q.start = o.replay_start;
  q.on = o.on;
  q.k = workflow::headline_k(parse_ks(o.ks));
  q.windows = o.replay_windows;
  q.include_seen = o.include_seen;
  q.skip_repeats = o.skip_repeats;
  q.no_request_time = o.no_request_time;
  q.truth = truth_path(o.truth, o.data);
  q.shift_threshold = o.shift_threshold;
  q.fairness = o.rerank.fairness;
  q.rerank = o.rerank.rerank;
  q.rerank_depth = o.rerank.depth;
  q.groups = o.rerank.groups;
  q.threads = g.threads;
  q.prepare = prep;
  q.data_name = o.data.path;
  q.model_dir = o.model_dir;
  q.progress = progress_printer();
  workflow::check_replay_request(prep, q);  // before the data are read
  const auto rep = workflow::replay(loaded, o.data.load(), q);
  if (!o.json_out.empty())
    write_file(o.json_out, rep.report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  print_replay(loaded.model->name(), rep, q.truth);
  return 0;
}
}  // namespace

Runner add_evaluate(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    std::string model_dir;
    DataFlags data;
    PrepareFlags prep;
    std::string ks = "5,10,20";
    bool include_seen = false;
    std::string on = "test";
    std::string json_out, rankings_out;
    std::size_t rankings_k = 100;
    std::string protocol = "split";
    std::string replay_start;
    int replay_windows = 10;
    int impressions = 0;
    std::uint64_t impression_seed = 42;
    std::string truth;
    double shift_threshold = 0.4;
    bool skip_repeats = false;
    bool no_request_time = false;
    std::string request_at;
    RerankFlags rerank;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model_dir, "model directory written by `driftrec train`")->required();
  o->data.add_to(app, true);
  o->prep.add_to(app);
  app.add_option("--k", o->ks, "cut-offs, comma-separated");
  app.add_flag("--include-seen", o->include_seen, "rank items the user already interacted with too");
  app.add_option("--on", o->on,
                 "which cases: test or valid (replay: valid walks the temporal split's validation period, up to "
                 "its test cutoff)")
      ->check(CLI::IsMember({"test", "valid"}));
  app.add_option("--json", o->json_out, "write the results as JSON to this file");
  app.add_option("--save-rankings", o->rankings_out,
                 "write each case's targets and ranked top items (TSV: user, targets, ranked)");
  app.add_option("--rankings-k", o->rankings_k, "length of the saved rankings")->check(CLI::PositiveNumber);
  app.add_option("--protocol", o->protocol,
                 "split: the model's held-out cases; replay: walk the events after --replay-start in time order "
                 "(recommend, reveal, update), online vs frozen state")
      ->check(CLI::IsMember({"split", "replay"}));
  app.add_option("--replay-start", o->replay_start,
                 "replay from this time: a quantile of event times or a timestamp (default: the split's test cutoff "
                 "for temporal splits, else 0.9; with --on valid, its validation cutoff)");
  app.add_option(
         "--impressions", o->impressions,
         "also report MIND-style impression metrics (imp_auc, imp_mrr, imp_ndcg@5/10): each case's targets shown "
         "with N negatives drawn from its rankable items (0 = off)")
      ->check(CLI::Range(0, 100000));
  app.add_option("--impression-seed", o->impression_seed, "seed of the impression negatives");
  app.add_option("--replay-windows", o->replay_windows, "time windows of the replay timeline")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--skip-repeats", o->skip_repeats,
               "score only items new to the user: replay skips events whose item the user has seen (all events are "
               "still revealed); the split protocol drops targets the user had already interacted with and skips "
               "cases left without one");
  app.add_flag("--no-request-time", o->no_request_time,
               "replay: ask for every list without a time (a model with request_time then cannot tell how long ago "
               "the user's last event was); by default each event is asked for at its own time");
  app.add_option("--request-at", o->request_at,
                 "split protocol: when each list is asked for, which a model with request_time reads: none (default: "
                 "without a time), cutoff (the period's first timestamp, temporal splits) or arrival (each case's "
                 "first target)")
      ->check(CLI::IsMember({"none", "cutoff", "arrival"}));
  app.add_option("--truth", o->truth,
                 "users' true interests (user_id,timestamp,category,weight, as `driftrec synth` writes interests.csv): "
                 "report the interest-tracking error (default: interests.csv in the --data directory, when present)");
  app.add_option("--shift-threshold", o->shift_threshold,
                 "total variation between consecutive true snapshots that counts as an interest shift (replay lag)")
      ->check(CLI::Range(0.0, 1.0));
  o->rerank.add_to(app);
  return [o, &g, &app]() {
    auto loaded = models::load_model_dir(o->model_dir);
    const auto prep = o->prep.any_given(app) ? o->prep.get() : workflow::recorded_prepare(loaded);
    workflow::check_request_switches("evaluate: ", o->protocol, o->request_at.empty() ? "none" : o->request_at,
                                     o->no_request_time);
    if (o->protocol == "replay") return run_replay(*o, g, loaded, prep);
    workflow::EvaluateOptions eo;
    eo.on = o->on;
    eo.ks = parse_ks(o->ks);
    eo.include_seen = o->include_seen;
    eo.skip_repeats = o->skip_repeats;
    if (!o->request_at.empty()) eo.request_at = o->request_at;
    workflow::check_request_at(prep, eo.request_at);  // before the data are read
    eo.threads = g.threads;
    eo.impressions = o->impressions;
    eo.impression_seed = o->impression_seed;
    eo.save_top = o->rankings_out.empty() ? 0 : o->rankings_k;
    eo.prepare = prep;
    eo.truth = truth_path(o->truth, o->data);
    eo.data_name = o->data.path;
    eo.model_dir = o->model_dir;
    eo.progress = progress_printer();
    eo.fairness = o->rerank.fairness;
    eo.groups = o->rerank.groups;
    eo.rerank = o->rerank.rerank;
    eo.rerank_depth = o->rerank.depth;
    const auto ev = workflow::evaluate(loaded, o->data.load(), eo);
    if (!o->json_out.empty())
      write_file(o->json_out, ev.report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    if (!o->rankings_out.empty()) workflow::write_rankings_tsv(o->rankings_out, ev);
    print_evaluation(loaded.model->name(), o->on, ev, eo.truth);
    return 0;
  };
}

}  // namespace driftrec::cli
