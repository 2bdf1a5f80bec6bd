// Every metric against a case computed by hand.
#include "driftrec/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"

using namespace driftrec::eval;

TEST(RankingMetrics, SingleTargetAtRankThree) {
  const ItemList ranked = {5, 9, 7, 1, 2};
  const ItemList rel = {7};
  EXPECT_EQ(hit_at(ranked, rel, 2), 0.0);
  EXPECT_EQ(hit_at(ranked, rel, 3), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at(ranked, rel, 5), 1.0 / std::log2(4.0));  // 0.5
  EXPECT_DOUBLE_EQ(ndcg_at(ranked, rel, 5), 0.5);
  EXPECT_DOUBLE_EQ(reciprocal_rank(ranked, rel), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(precision_at(ranked, rel, 5), 0.2);
  EXPECT_DOUBLE_EQ(recall_at(ranked, rel, 5), 1.0);
  EXPECT_DOUBLE_EQ(average_precision_at(ranked, rel, 5), 1.0 / 3.0);
}

TEST(RankingMetrics, TwoTargets) {
  // Relevant {1, 4}; ranked hits at positions 1 and 3.
  const ItemList ranked = {1, 2, 4, 5};
  const ItemList rel = {1, 4};
  EXPECT_DOUBLE_EQ(recall_at(ranked, rel, 2), 0.5);
  EXPECT_DOUBLE_EQ(precision_at(ranked, rel, 4), 0.5);
  // DCG = 1 + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3).
  EXPECT_NEAR(ndcg_at(ranked, rel, 4), 1.5 / (1.0 + 1.0 / std::log2(3.0)), 1e-12);
  // AP = (1/1 + 2/3) / 2.
  EXPECT_NEAR(average_precision_at(ranked, rel, 4), (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(reciprocal_rank(ranked, rel), 1.0);
}

TEST(RankingMetrics, MissesAndEdgeCases) {
  EXPECT_EQ(hit_at({1, 2}, {3}, 10), 0.0);
  EXPECT_EQ(ndcg_at({1, 2}, {3}, 10), 0.0);
  EXPECT_EQ(reciprocal_rank({1, 2}, {3}), 0.0);
  EXPECT_EQ(ndcg_at({}, {3}, 10), 0.0);
  EXPECT_EQ(recall_at({1}, {}, 10), 0.0);
  EXPECT_DOUBLE_EQ(ndcg_from_rank(1, 10), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_from_rank(3, 10), 0.5);
  EXPECT_EQ(ndcg_from_rank(11, 10), 0.0);
  EXPECT_DOUBLE_EQ(auc_from_rank(1, 5), 1.0);
  EXPECT_DOUBLE_EQ(auc_from_rank(5, 5), 0.0);
  EXPECT_DOUBLE_EQ(auc_from_rank(3, 5), 0.5);
}

TEST(ClassificationMetrics, ConfusionBased) {
  // labels 1 1 0 0 1, scores 0.9 0.4 0.6 0.1 0.7, threshold 0.5 -> tp 2, fn 1, fp 1, tn 1
  const std::vector<int> y = {1, 1, 0, 0, 1};
  const std::vector<double> s = {0.9, 0.4, 0.6, 0.1, 0.7};
  const auto c = confusion(y, s, 0.5);
  EXPECT_EQ(c.tp, 2);
  EXPECT_EQ(c.fn, 1);
  EXPECT_EQ(c.fp, 1);
  EXPECT_EQ(c.tn, 1);
  EXPECT_DOUBLE_EQ(accuracy(c), 0.6);
  EXPECT_DOUBLE_EQ(precision(c), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(recall(c), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1(c), 2.0 / 3.0);
  // AUC: positives {0.9, 0.4, 0.7}, negatives {0.6, 0.1}: pairs won 2 + 1 + 2 = 5 of 6.
  EXPECT_DOUBLE_EQ(roc_auc(y, s), 5.0 / 6.0);
}

TEST(ClassificationMetrics, AucTiesAndLogLoss) {
  EXPECT_DOUBLE_EQ(roc_auc({1, 0}, {0.5, 0.5}), 0.5);
  EXPECT_THROW(roc_auc({1, 1}, {0.2, 0.3}), driftrec::InvalidInput);
  // -(ln 0.8 + ln 0.6) / 2
  EXPECT_NEAR(log_loss({1, 0}, {0.8, 0.4}), -(std::log(0.8) + std::log(0.6)) / 2, 1e-12);
  EXPECT_TRUE(std::isfinite(log_loss({1}, {0.0})));
}

TEST(RegressionMetrics, ByHand) {
  const std::vector<double> t = {3, 5, 2}, p = {2, 5, 4};
  EXPECT_DOUBLE_EQ(mae(t, p), 1.0);
  EXPECT_DOUBLE_EQ(mse(t, p), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(rmse(t, p), std::sqrt(5.0 / 3.0));
  EXPECT_THROW(mae({1}, {1, 2}), driftrec::InvalidInput);
}

TEST(BeyondAccuracy, CoverageNoveltyPopularityGini) {
  const std::vector<ItemList> lists = {{1, 2}, {1, 3}};
  EXPECT_DOUBLE_EQ(catalog_coverage(lists, 4), 0.75);
  const std::vector<std::int64_t> count = {0, 4, 2, 1, 0};  // index 0 = padding
  // Users = 4: p(1) = 1, p(2) = 0.5, p(3) = 0.25 -> info 0, 1, 2; list items 1,2,1,3 -> (0+1+0+2)/4
  EXPECT_DOUBLE_EQ(novelty(lists, count, 4), 0.75);
  EXPECT_DOUBLE_EQ(average_popularity(lists, count), (4 + 2 + 4 + 1) / 4.0);
  // Exposure over 4 items: {2, 1, 1, 0}; Gini = sum_i (2i - n - 1) x_(i) / (n sum x) over sorted x = 0,1,1,2
  // = ((-3)*0 + (-1)*1 + 1*1 + 3*2) / (4 * 4) = 6/16
  EXPECT_DOUBLE_EQ(gini_of_exposure(lists, 4), 6.0 / 16.0);
  EXPECT_DOUBLE_EQ(gini({1, 1, 1}), 0.0);
}
