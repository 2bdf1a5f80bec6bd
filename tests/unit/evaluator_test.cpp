// The evaluator with a scorer whose rankings are known in advance.
#include "driftrec/eval/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"

using namespace driftrec;
using namespace driftrec::data;

namespace {
// 1 user with history {1, 2}; 6 items (indices 1..5). Score(i) = i (item 5 best).
Dataset one_user() {
  DatasetBuilder b;
  for (int i = 1; i <= 5; ++i) b.dataset().items.add("i" + std::to_string(i));
  b.add("u", "i1", 1);
  b.add("u", "i2", 2);
  b.add("u", "i3", 3);
  return b.finish();
}
eval::BatchScorer by_index(std::int32_t n) {
  return [n](const EvalCase* const*, std::size_t count, float* out) {
    for (std::size_t b = 0; b < count; ++b)
      for (std::int32_t i = 0; i < n; ++i)
        out[b * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)] = static_cast<float>(i);
  };
}
}  // namespace

TEST(Evaluator, RanksAgainstAllUnseenItems) {
  const auto ds = one_user();
  const auto u = ds.users.find("u");
  // Target i3 after history {i1, i2}: candidates {3, 4, 5} -> i3 ranks third of three.
  std::vector<EvalCase> cases = {{u, ds.log.user_begin(u) + 2, {3}, 3}};
  std::vector<std::int64_t> counts(6, 1);
  eval::EvalOptions o;
  o.ks = {1, 3};
  const auto r = eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o);
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@1"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@3"), 1.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("ndcg@3"), 0.5);  // rank 3
  EXPECT_DOUBLE_EQ(r.metrics.at("mrr"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("auc"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("precision@3"), 1.0 / 3.0);
  EXPECT_EQ(r.users_evaluated, 1);
  // Including seen items: candidates 1..5 -> rank 3 still (5, 4, 3) but AUC = (5-3)/(5-1).
  o.exclude_seen = false;
  const auto r2 = eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o);
  EXPECT_DOUBLE_EQ(r2.metrics.at("auc"), 0.5);
}

TEST(Evaluator, ReconsumedTargetStaysRankableAndUnknownTargetIsAMiss) {
  const auto ds = one_user();
  const auto u = ds.users.find("u");
  std::vector<std::int64_t> counts(8, 1);
  eval::EvalOptions o;
  o.ks = {1};
  // Target i2 is in the history: it is not excluded (i5, i4, i3 are ahead -> rank 4).
  std::vector<EvalCase> again = {{u, ds.log.user_begin(u) + 2, {2}, 3}};
  EXPECT_DOUBLE_EQ(eval::evaluate(ds, again, 6, counts, 1, by_index(6), o).metrics.at("mrr"), 0.25);
  // Target index 7 is beyond the scorer's width: a miss.
  std::vector<EvalCase> unknown = {{u, ds.log.user_begin(u) + 2, {7}, 3}};
  const auto r = eval::evaluate(ds, unknown, 6, counts, 1, by_index(6), o);
  EXPECT_DOUBLE_EQ(r.metrics.at("mrr"), 0.0);
  EXPECT_DOUBLE_EQ(r.metrics.at("hr@1"), 0.0);
}

TEST(Evaluator, ThreadsAndBatchesDoNotChangeResults) {
  DatasetBuilder b;
  for (int u = 0; u < 50; ++u)
    for (int t = 0; t < 4; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((u * 7 + t * 3) % 40), t);
  const auto ds = b.finish();
  std::vector<EvalCase> cases;
  for (std::int32_t u = 1; u < ds.n_users(); ++u)
    cases.push_back({u, ds.log.user_end(u) - 1, {ds.log.item[static_cast<std::size_t>(ds.log.user_end(u) - 1)]}, 3});
  auto scorer = [&](const EvalCase* const* cs, std::size_t n, float* out) {
    for (std::size_t k = 0; k < n; ++k)
      for (std::int32_t i = 0; i < ds.n_items(); ++i)
        out[k * static_cast<std::size_t>(ds.n_items()) + static_cast<std::size_t>(i)] =
            std::sin(static_cast<float>(i * 13 + cs[k]->user));
  };
  std::vector<std::int64_t> counts(static_cast<std::size_t>(ds.n_items()), 2);
  eval::EvalOptions one, many;
  one.threads = 1;
  one.batch_size = 50;
  many.threads = 3;
  many.batch_size = 7;
  const auto a = eval::evaluate(ds, cases, ds.n_items(), counts, 50, scorer, one);
  const auto c = eval::evaluate(ds, cases, ds.n_items(), counts, 50, scorer, many);
  for (const auto& [k, v] : a.metrics) EXPECT_DOUBLE_EQ(v, c.metrics.at(k)) << k;
  EXPECT_EQ(a.per_case.at("ndcg@10"), c.per_case.at("ndcg@10"));
}

TEST(Evaluator, SavesRankingsAndRejectsBadCutoffs) {
  const auto ds = one_user();
  const auto u = ds.users.find("u");
  std::vector<EvalCase> cases = {{u, ds.log.user_begin(u) + 2, {3}, 3}};
  std::vector<std::int64_t> counts(6, 1);
  eval::EvalOptions o;
  o.save_top = 2;
  const auto r = eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o);
  ASSERT_EQ(r.rankings.size(), 1u);
  EXPECT_EQ(r.rankings[0].top, (std::vector<std::int32_t>{5, 4}));
  EXPECT_EQ(r.rankings[0].targets, (std::vector<std::int32_t>{3}));
  EXPECT_EQ(r.rankings[0].scores, (std::vector<float>{5, 4}));
  // With a re-ranker (here: the model's candidates in reverse) the saved list is the one shown and
  // scored, {3, 4}, with the model's scores of those items.
  o.ks = {2};
  o.rerank = [](const EvalCase&, const TopK& candidates, std::size_t k) {
    std::vector<std::int32_t> reversed(candidates.items.rbegin(), candidates.items.rend());
    reversed.resize(std::min(k, reversed.size()));
    return reversed;
  };
  const auto rr = eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o);
  EXPECT_EQ(rr.rankings[0].top, (std::vector<std::int32_t>{3, 4}));
  EXPECT_EQ(rr.rankings[0].scores, (std::vector<float>{3, 4}));
  EXPECT_DOUBLE_EQ(rr.metrics.at("hr@2"), 1.0);
  o.rerank = nullptr;
  o.ks = {0};
  EXPECT_THROW(eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o), InvalidInput);
}

TEST(Impressions, MindStyleMetricsByHand) {
  // Shown in score order: n(0.9), c(0.8), n(0.5), c(0.3).
  const auto m = eval::impression_metrics({0.9f, 0.8f, 0.3f, 0.5f}, {0, 1, 1, 0});
  EXPECT_DOUBLE_EQ(m.auc, 0.25);                     // 1 of 4 (clicked, unclicked) pairs in order
  EXPECT_DOUBLE_EQ(m.mrr, (1.0 / 2 + 1.0 / 4) / 2);  // clicked at ranks 2 and 4
  const double dcg = 1 / std::log2(3.0) + 1 / std::log2(5.0), idcg = 1 + 1 / std::log2(3.0);
  EXPECT_NEAR(m.ndcg5, dcg / idcg, 1e-12);
  EXPECT_NEAR(m.ndcg10, dcg / idcg, 1e-12);
  // Ties count one half in AUC and rank the unclicked item first.
  const auto t = eval::impression_metrics({1.0f, 1.0f}, {1, 0});
  EXPECT_DOUBLE_EQ(t.auc, 0.5);
  EXPECT_DOUBLE_EQ(t.mrr, 0.5);
  EXPECT_THROW(eval::impression_metrics({1.0f}, {1}), InvalidInput);
}

TEST(Impressions, SampledPerCaseSeededAndIndependentOfThreads) {
  // 30 users, 50 items; the target of every case is item 40 and scores are the item index, so
  // within any impression the target beats exactly the negatives below 40.
  DatasetBuilder b;
  for (int i = 1; i <= 50; ++i) b.dataset().items.add("i" + std::to_string(i));
  for (int u = 0; u < 30; ++u) b.add("u" + std::to_string(u), "i1", 1);
  const auto ds = b.finish();
  std::vector<EvalCase> cases;
  for (std::int32_t u = 1; u < ds.n_users(); ++u) cases.push_back({u, ds.log.user_end(u), {40}, 2});
  std::vector<std::int64_t> counts(51, 1);
  eval::EvalOptions o;
  o.impression_negatives = 9;
  o.threads = 1;
  o.batch_size = 4;
  const auto a = eval::evaluate(ds, cases, 51, counts, 30, by_index(51), o);
  o.threads = 2;
  o.batch_size = 7;
  const auto c = eval::evaluate(ds, cases, 51, counts, 30, by_index(51), o);
  EXPECT_EQ(a.per_case.at("imp_auc"), c.per_case.at("imp_auc"));
  // Check case 0 by hand: replay its sample.
  std::vector<std::int32_t> pool;
  for (std::int32_t i = 2; i <= 50; ++i)
    if (i != 40) pool.push_back(i);  // item 1 is seen (excluded), 40 is the target
  Rng rng = Rng(o.impression_seed).fork(0);
  for (std::size_t k = 0; k < 9; ++k) std::swap(pool[k], pool[k + rng.uniform_int(pool.size() - k)]);
  int below = 0;
  for (std::size_t k = 0; k < 9; ++k) below += pool[k] < 40;
  EXPECT_DOUBLE_EQ(a.per_case.at("imp_auc")[0], below / 9.0);
  EXPECT_DOUBLE_EQ(a.per_case.at("imp_mrr")[0], 1.0 / (10 - below));
  // Without impressions the metrics are absent.
  o.impression_negatives = 0;
  EXPECT_EQ(eval::evaluate(ds, cases, 51, counts, 30, by_index(51), o).metrics.count("imp_auc"), 0u);
}

TEST(Evaluator, CandidateMaskLimitsTheRanking) {
  const auto ds = one_user();
  const auto u = ds.users.find("u");
  std::vector<EvalCase> cases = {{u, ds.log.user_begin(u) + 2, {3}, 3}};
  std::vector<std::int64_t> counts(6, 1);
  eval::EvalOptions o;
  o.ks = {1};
  o.candidates = {0, 0, 0, 1, 0, 1};  // items 3 and 5
  const auto r = eval::evaluate(ds, cases, 6, counts, 1, by_index(6), o);
  EXPECT_DOUBLE_EQ(r.metrics.at("mrr"), 0.5);  // behind 5 only
}
