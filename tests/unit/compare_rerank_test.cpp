// `compare` with re-ranked lists and the per-list metrics (aplt, miscalibration, ild): the same
// model compared with itself re-ranked gives what `evaluate --rerank` gives, case by case.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/workflow/compare.h"
#include "driftrec/workflow/evaluate.h"
#include "driftrec/workflow/split.h"
#include "driftrec/workflow/train.h"
#include "test_util.h"

namespace driftrec {
namespace {

data::SynthData rerank_synth() {
  data::SynthOptions so;
  so.users = 200;
  so.items = 150;
  so.seed = 11;
  so.mean_events = 12;
  return data::generate_synthetic(so);
}

data::Dataset rerank_shop() { return data::to_dataset(rerank_synth()); }

struct Compared {
  data::Dataset data = rerank_shop();
  workflow::TrainedModel knn = [this] {
    workflow::TrainOptions o;
    o.model = "itemknn";
    o.threads = 1;
    return workflow::train_model(data, o);
  }();
  std::vector<const models::LoadedModel*> models = {&knn.loaded, &knn.loaded};
  std::vector<std::string> labels = {"knn", "knn"};
  workflow::CommonSplit split = workflow::common_split(
      models, labels, [this] { return data; }, "test");
};

workflow::CompareOptions rerank_options(std::vector<std::string> rerank) {
  workflow::CompareOptions co;
  co.threads = 1;
  co.resamples = 200;
  co.metrics = {"ndcg@10", "miscalibration@10", "aplt@10", "ild@10"};
  co.rerank = std::move(rerank);
  return co;
}

TEST(CompareRerank, AModelAgainstItselfReRankedMatchesEvaluate) {
  const Compared f;
  ASSERT_TRUE(f.data.item_table.has_categories());
  const auto c = workflow::compare(f.models, f.labels, f.split, rerank_options({"none", "calibrated:0.8"}));
  ASSERT_EQ(c.rerankers.size(), 2u);
  EXPECT_EQ(c.rerankers[0], "");
  EXPECT_FALSE(c.rerankers[1].empty());
  EXPECT_TRUE(c.report.at("rerank")[0].is_null());
  EXPECT_EQ(c.report.at("rerank")[1], c.rerankers[1]);
  // The same figures as evaluate: with the fairness metrics and no re-ranker, then re-ranked.
  workflow::EvaluateOptions plain;
  plain.threads = 1;
  plain.ks = {10};  // the list length a re-ranker fills (calibrated's relevance is normalised over it)
  plain.fairness = true;
  auto reranked = plain;
  reranked.rerank = "calibrated:0.8";
  const auto e0 = workflow::evaluate(f.knn.loaded, f.data, plain),
             e1 = workflow::evaluate(f.knn.loaded, f.data, reranked);
  for (const std::string m : {"ndcg@10", "miscalibration@10", "aplt@10", "ild@10"}) {
    EXPECT_NEAR(c.means[0].at(m), e0.result.metrics.at(m), 1e-12) << m;
    EXPECT_NEAR(c.means[1].at(m), e1.result.metrics.at(m), 1e-12) << m;
  }
  // Each comparison row pairs the per-user values, whose means are the metrics above, and the
  // calibrated lists are better calibrated than the model's own (Steck's re-ranker's purpose).
  bool saw_miscalibration = false;
  for (const auto& row : c.rows) {
    EXPECT_NEAR(row.c.mean_a, c.means[0].at(row.metric), 1e-9) << row.metric;
    EXPECT_NEAR(row.c.mean_b, c.means[1].at(row.metric), 1e-9) << row.metric;
    if (row.metric != "miscalibration@10") continue;
    saw_miscalibration = true;
    EXPECT_LT(row.c.diff, 0.0);
    EXPECT_LT(row.p_holm, 0.05);
  }
  EXPECT_TRUE(saw_miscalibration);
}

TEST(CompareRerank, OneSpecReRanksEveryModelAndNoneChangesNothing) {
  const Compared f;
  auto co = rerank_options({});
  co.metrics = {"ndcg@10", "hr@10"};
  const auto plain = workflow::compare(f.models, f.labels, f.split, co);
  co.rerank = {"none"};
  const auto none = workflow::compare(f.models, f.labels, f.split, co);
  EXPECT_EQ(none.means, plain.means);
  EXPECT_FALSE(none.report.contains("rerank"));
  // evaluate --rerank none, too, is the model's own order (it dereferenced a null re-ranker).
  workflow::EvaluateOptions eo;
  eo.threads = 1;
  eo.ks = {10};
  const auto own = workflow::evaluate(f.knn.loaded, f.data, eo);
  eo.rerank = "none";
  const auto said_none = workflow::evaluate(f.knn.loaded, f.data, eo);
  EXPECT_EQ(said_none.result.metrics.at("ndcg@10"), own.result.metrics.at("ndcg@10"));
  EXPECT_TRUE(said_none.report.at("rerank").is_null());
  co.rerank = {"mmr:0.5"};
  const auto both = workflow::compare(f.models, f.labels, f.split, co);
  EXPECT_EQ(both.means[0], both.means[1]);  // both re-ranked alike
  EXPECT_NE(both.means[0].at("ndcg@10"), plain.means[0].at("ndcg@10"));
}

// What compare() says when it refuses `co` ("no error" when it does not).
std::string refusal(const Compared& f, const workflow::CompareOptions& co) {
  return test::thrown_message<InvalidInput>([&] { workflow::compare(f.models, f.labels, f.split, co); });
}

TEST(CompareRerank, RefusesWhatItCannotDo) {
  const Compared f;
  EXPECT_NE(refusal(f, rerank_options({"none", "mmr:0.5", "none"})).find("one per model"), std::string::npos);
  EXPECT_NE(refusal(f, rerank_options({"sideways:0.5"})), "no error");
  auto two_cutoffs = rerank_options({});
  two_cutoffs.metrics = {"aplt@10", "ild@5"};
  EXPECT_NE(refusal(f, two_cutoffs).find("one cut-off"), std::string::npos);
  auto depth = rerank_options({"mmr:0.5"});
  depth.rerank_depth = 0;
  EXPECT_NE(refusal(f, depth).find("depth"), std::string::npos);
}

// With the generator's truth the split protocol pairs each case's tracking error: the same values
// evaluate reports (its mean), and a re-ranker moves them.
TEST(CompareRerank, SplitProtocolComparesTrackingWithATruth) {
  test::TempDir dir;
  data::write_synthetic(rerank_synth(), dir.file("shop"));  // the truth of the fixture's data
  const Compared f;
  auto co = rerank_options({"none", "calibrated:0.8"});
  co.metrics = {"ndcg@10", "tracking_tv"};
  co.truth = dir.file("shop") + "/interests.csv";
  const auto c = workflow::compare(f.models, f.labels, f.split, co);
  workflow::EvaluateOptions eo;
  eo.threads = 1;
  eo.ks = {10};
  eo.truth = co.truth;
  const auto plain = workflow::evaluate(f.knn.loaded, f.data, eo);
  eo.rerank = "calibrated:0.8";
  const auto reranked = workflow::evaluate(f.knn.loaded, f.data, eo);
  ASSERT_TRUE(plain.tracking && reranked.tracking);
  EXPECT_NEAR(c.means[0].at("tracking_tv"), plain.tracking->tv(), 1e-12);
  EXPECT_NEAR(c.means[1].at("tracking_tv"), reranked.tracking->tv(), 1e-12);
  EXPECT_NE(c.means[0].at("tracking_tv"), c.means[1].at("tracking_tv"));
  for (const auto& row : c.rows) {
    if (row.metric == "tracking_tv") {
      EXPECT_NEAR(row.c.mean_b - row.c.mean_a, row.c.diff, 1e-12);
    }
  }
  // Without a truth the metric is unknown.
  co.truth.clear();
  EXPECT_NE(refusal(f, co).find("not a per-user metric"), std::string::npos);
}

}  // namespace
}  // namespace driftrec
