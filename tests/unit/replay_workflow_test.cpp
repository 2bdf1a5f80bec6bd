// The replay workflow's period: from the test cutoff to the end, or the temporal split's validation
// period (up to the test cutoff, so that choosing a model by replay never sees a test event), for
// `evaluate --protocol replay` and `compare --protocol replay` alike.
#include <gtest/gtest.h>

#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/workflow/compare.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/split.h"
#include "driftrec/workflow/train.h"
#include "test_util.h"

namespace driftrec {
namespace {

data::Dataset replay_shop() {
  data::SynthOptions so;
  so.users = 150;
  so.items = 100;
  so.seed = 5;
  so.mean_events = 14;
  return data::to_dataset(data::generate_synthetic(so));
}

workflow::TrainedModel trained_on_split(const data::Dataset& data, const std::string& model, const std::string& split) {
  workflow::TrainOptions o;
  o.model = model;
  o.threads = 1;
  o.prepare.split = split;
  o.prepare.valid_start = "0.7";
  o.prepare.test_start = "0.85";
  return workflow::train_model(data, o);
}

std::int64_t events_between(const data::Dataset& d, std::int64_t lo, std::int64_t hi) {
  std::int64_t n = 0;
  for (std::size_t r = 0; r < d.log.size(); ++r) n += d.log.ts[r] >= lo && d.log.ts[r] < hi;
  return n;
}

double user_mean_of(const models::ReplayResult& r, const std::string& metric) {
  const auto& v = r.per_user.at(metric);
  double sum = 0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

TEST(ReplayWorkflow, ValidationPeriodEndsAtTheTestCutoff) {
  const auto data = replay_shop();
  const auto t = trained_on_split(data, "pop", "temporal");
  const auto valid_cut = data::resolve_cutoff(data, "0.7", "valid"), test_cut = data::resolve_cutoff(data, "0.85", "t");
  ASSERT_LT(valid_cut, test_cut);
  workflow::ReplayRequest q;
  q.threads = 1;
  q.on = "valid";
  const auto valid = workflow::replay(t.loaded, data, q);
  EXPECT_EQ(valid.options.start_ts, valid_cut);
  EXPECT_EQ(valid.options.end_ts, test_cut);
  EXPECT_EQ(valid.result.events_revealed, events_between(data, valid_cut, test_cut));
  EXPECT_EQ(valid.report["replayed_on"], "valid");
  EXPECT_EQ(valid.report["replay_end_ts"], test_cut);

  q.on = "test";
  const auto test = workflow::replay(t.loaded, data, q);
  EXPECT_EQ(test.options.start_ts, test_cut);
  EXPECT_EQ(test.options.end_ts, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(test.result.events_revealed, events_between(data, test_cut, std::numeric_limits<std::int64_t>::max()));
  EXPECT_TRUE(test.report["replay_end_ts"].is_null());

  // A later start within the period shortens it; one at or past the test cutoff is refused.
  q.on = "valid";
  q.start = "0.8";
  const auto late = workflow::replay(t.loaded, data, q);
  EXPECT_EQ(late.result.events_revealed, events_between(data, data::resolve_cutoff(data, "0.8", "s"), test_cut));
  q.start = "0.9";
  EXPECT_NE(test::thrown_message<InvalidInput>([&] {
              workflow::replay(t.loaded, data, q);
            }).find("is not before the test cutoff"),
            std::string::npos);
}

TEST(ReplayWorkflow, ValidationPeriodNeedsATemporalSplit) {
  const auto data = replay_shop();
  const auto t = trained_on_split(data, "pop", "loo");
  workflow::ReplayRequest q;
  q.threads = 1;
  q.on = "valid";
  EXPECT_NE(test::thrown_message<InvalidInput>([&] { workflow::replay(t.loaded, data, q); }).find("temporal split"),
            std::string::npos);
  q.on = "train";
  EXPECT_THROW(workflow::replay(t.loaded, data, q), InvalidInput);
  q.on = "test";  // a replay has no fairness metrics: asking for them is refused, for the CLI and Python alike
  q.fairness = true;
  EXPECT_NE(
      test::thrown_message<InvalidInput>([&] { workflow::replay(t.loaded, data, q); }).find("split protocol only"),
      std::string::npos);
  q.fairness = false;
  // The same refusals without any data (the CLI checks before reading it).
  const auto prep = workflow::recorded_prepare(t.loaded);
  EXPECT_THROW(workflow::check_replay_period(prep, "valid"), InvalidInput);
  EXPECT_THROW(workflow::check_replay_period(prep, "train"), InvalidInput);
  EXPECT_NO_THROW(workflow::check_replay_period(prep, "test"));
  q.fairness = true;  // the CLI's data-free check refuses fairness as replay() does
  EXPECT_THROW(workflow::check_replay_request(prep, q), InvalidInput);
  q.fairness = false;
  EXPECT_NO_THROW(workflow::check_replay_request(prep, q));
  const auto temporal = trained_on_split(data, "pop", "temporal");
  EXPECT_NO_THROW(workflow::check_replay_period(workflow::recorded_prepare(temporal.loaded), "valid"));
}

TEST(ReplayWorkflow, CompareReplaysTheSamePeriodAsEvaluate) {
  const auto data = replay_shop();
  const auto pop = trained_on_split(data, "pop", "temporal"), knn = trained_on_split(data, "itemknn", "temporal");
  const std::vector<const models::LoadedModel*> models = {&knn.loaded, &pop.loaded};
  const std::vector<std::string> labels = {"itemknn", "pop"};
  workflow::CompareOptions co;
  co.protocol = "replay";
  co.threads = 1;
  co.resamples = 200;
  for (const std::string on : {"valid", "test"}) {
    co.on = on;
    const auto split = workflow::common_split(
        models, labels, [&] { return data; }, on);
    const auto c = workflow::compare(models, labels, split, co);
    workflow::ReplayRequest q;
    q.threads = 1;
    q.on = on;
    const auto knn_alone = workflow::replay(knn.loaded, data, q), pop_alone = workflow::replay(pop.loaded, data, q);
    EXPECT_NEAR(c.means[0].at("ndcg@10"), user_mean_of(knn_alone.result, "ndcg@10"), 1e-12) << on;
    EXPECT_NEAR(c.means[1].at("ndcg@10"), user_mean_of(pop_alone.result, "ndcg@10"), 1e-12) << on;
    EXPECT_EQ(c.evaluated_on.find("validation period") != std::string::npos, on == "valid") << c.evaluated_on;
  }
}

// A replay can be re-ranked (evaluate --protocol replay --rerank, compare --protocol replay
// --rerank): compare's per-user means are the workflow's; a calibrated list tracks the truth
// differently; a strength of 0 keeps the model's order; "none" is no re-ranker.
TEST(ReplayWorkflow, ReRankedReplayMatchesBetweenEvaluateAndCompare) {
  test::TempDir dir;
  data::SynthOptions so;
  so.users = 150;
  so.items = 100;
  so.seed = 5;
  so.mean_events = 14;
  data::write_synthetic(data::generate_synthetic(so), dir.file("shop"));  // replay_shop() and its truth
  const auto data = replay_shop();
  const auto knn = trained_on_split(data, "itemknn", "temporal");
  workflow::ReplayRequest q;
  q.threads = 1;
  q.truth = dir.file("shop") + "/interests.csv";
  const auto plain = workflow::replay(knn.loaded, data, q);
  EXPECT_TRUE(plain.report.at("rerank").is_null());
  q.rerank = "none";
  EXPECT_EQ(workflow::replay(knn.loaded, data, q).result.per_user, plain.result.per_user);
  q.rerank = "calibrated:0";
  const auto zero = workflow::replay(knn.loaded, data, q);
  EXPECT_EQ(zero.result.per_user.at("ndcg@10"), plain.result.per_user.at("ndcg@10"));
  EXPECT_EQ(zero.result.per_user.at("tracking_tv"), plain.result.per_user.at("tracking_tv"));
  q.rerank = "calibrated:0.8";
  const auto calibrated = workflow::replay(knn.loaded, data, q);
  EXPECT_EQ(calibrated.report.at("rerank"), "calibrated:0.800000");
  EXPECT_EQ(calibrated.report.at("rerank_depth"), 100);
  EXPECT_NE(calibrated.result.per_user.at("tracking_tv"), plain.result.per_user.at("tracking_tv"));
  EXPECT_EQ(calibrated.result.per_user.at("mrr"), plain.result.per_user.at("mrr"));  // the model's scores
  EXPECT_FALSE(calibrated.options.rerank);  // the hook pointed into the call's locals

  const std::vector<const models::LoadedModel*> models = {&knn.loaded, &knn.loaded};
  const std::vector<std::string> labels = {"knn", "knn calibrated"};
  const auto split = workflow::common_split(
      models, labels, [&] { return data; }, "test");
  workflow::CompareOptions co;
  co.protocol = "replay";
  co.threads = 1;
  co.resamples = 200;
  co.metrics = {"ndcg@10", "tracking_tv"};
  co.truth = q.truth;
  co.rerank = {"none", "calibrated:0.8"};
  const auto c = workflow::compare(models, labels, split, co);
  for (const std::string m : {"ndcg@10", "tracking_tv"}) {
    EXPECT_NEAR(c.means[0].at(m), user_mean_of(plain.result, m), 1e-12) << m;
    EXPECT_NEAR(c.means[1].at(m), user_mean_of(calibrated.result, m), 1e-12) << m;
  }
  EXPECT_EQ(c.report.at("rerank")[1], "calibrated:0.800000");
  q.rerank = "sideways:0.5";
  EXPECT_THROW(workflow::replay(knn.loaded, data, q), InvalidInput);
}

// A replay's groups: popularity from the events before the start; activity (the history length at
// the start) among the users with an event in [start, end) only.
TEST(ReplayWorkflow, ReplayGroupsAreThoseAtTheStartOfThePeriod) {
  data::DatasetBuilder b;
  for (int t = 1; t <= 6; ++t) b.add("long", "a", t);  // six events before the start, then one after the end
  b.add("long", "b", 30);
  b.add("short", "a", 1);
  b.add("short", "c", 12);  // in the period
  b.add("mid", "b", 2);
  b.add("mid", "c", 3);
  b.add("mid", "b", 15);  // in the period
  const auto d = b.finish();
  workflow::GroupOptions o;
  o.active_share = 0.5;  // one of the two users replayed
  const auto f = workflow::replay_fairness(d, 10, 20, o);
  const auto a = d.items.find("a"), b_item = d.items.find("b"), c = d.items.find("c");
  EXPECT_EQ(f.train_counts[static_cast<std::size_t>(a)], 7);
  EXPECT_EQ(f.train_counts[static_cast<std::size_t>(b_item)], 1);
  EXPECT_EQ(f.train_counts[static_cast<std::size_t>(c)], 1);
  const auto active = [&](const char* user) {
    const auto u = static_cast<std::size_t>(d.users.find(user));
    return u < f.groups.active.size() && f.groups.active[u];
  };
  EXPECT_TRUE(active("mid"));  // 2 events before the start, against short's 1
  EXPECT_FALSE(active("short"));
  EXPECT_FALSE(active("long"));  // the longest history, but nothing in [10, 20): not replayed
  // With no end, "long" is replayed and the most active.
  const auto open = workflow::replay_fairness(d, 10, std::numeric_limits<std::int64_t>::max(), o);
  EXPECT_TRUE(open.groups.active[static_cast<std::size_t>(d.users.find("long"))]);
}

}  // namespace
}  // namespace driftrec
