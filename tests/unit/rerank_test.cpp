// Re-rankers on hand-worked candidate lists.
#include <gtest/gtest.h>

#include "driftrec/core/error.h"
#include "driftrec/eval/fairness.h"
#include "driftrec/rerank/reranker.h"

using namespace driftrec;

namespace {

// Items 1..5 with categories: 1 {A}, 2 {A, B}, 3 {C}, 4 {C}, 5 {B}.
data::ItemTable table() {
  data::ItemTable t;
  for (const char* c : {"A", "B", "C"}) t.categories.add(c);
  t.category_offsets = {0, 0, 1, 3, 4, 5, 6};
  t.category_ids = {0, 0, 1, 2, 2, 1};
  return t;
}

rerank::Request request(std::vector<std::int32_t> items, std::vector<float> scores) {
  rerank::Request r;
  r.items = std::move(items);
  r.scores = std::move(scores);
  return r;
}

}  // namespace

TEST(Rerank, LongTailQuotaFillsTheLastSlotsWithTheBestTailItems) {
  rerank::Catalogue cat;
  cat.long_tail = {0, 0, 0, 0, 1, 1};
  const auto r = request({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1});
  // k = 3, share 0.5: ceil(1.5) = 2 long-tail items; the first slot stays the model's best.
  EXPECT_EQ(rerank::make_reranker("longtail:0.5", cat)->rerank(r, 3), (std::vector<std::int32_t>{1, 4, 5}));
  EXPECT_EQ(rerank::make_reranker("longtail:0", cat)->rerank(r, 3), (std::vector<std::int32_t>{1, 2, 3}));
  // The quota is capped by the long-tail candidates there are.
  EXPECT_EQ(rerank::make_reranker("longtail:1", cat)->rerank(request({1, 2, 4}, {3, 2, 1}), 3),
            (std::vector<std::int32_t>{1, 2, 4}));
}

TEST(Rerank, MmrTradesRelevanceForCategorySimilarity) {
  const auto t = table();
  rerank::Catalogue cat;
  cat.items = &t;
  const auto r = request({1, 2, 3}, {1.0f, 0.9f, 0.8f});  // relevance 1, 0.5, 0
  // Second pick: item 2 gains 0.5 * 0.5 - 0.5 * cos(A, AB) = 0.25 - 0.354 < 0; item 3 gains 0.
  EXPECT_EQ(rerank::make_reranker("mmr:0.5", cat)->rerank(r, 3), (std::vector<std::int32_t>{1, 3, 2}));
  EXPECT_EQ(rerank::make_reranker("mmr:0", cat)->rerank(r, 3), (std::vector<std::int32_t>{1, 2, 3}));
}

TEST(Rerank, CalibratedFollowsTheHistoryMix) {
  const auto t = table();
  rerank::Catalogue cat;
  cat.items = &t;
  auto r = request({1, 2, 4}, {1.0f, 0.9f, 0.8f});
  r.history = {3, 3};  // all C
  // lambda 0.9: {1} costs 0.9 * ln(1 / 0.01) = 4.1 and gains 0.1; {4} matches C exactly.
  EXPECT_EQ(rerank::make_reranker("calibrated:0.9", cat)->rerank(r, 1), (std::vector<std::int32_t>{4}));
  EXPECT_EQ(rerank::make_reranker("calibrated:0", cat)->rerank(r, 1), (std::vector<std::int32_t>{1}));
}

// calibrated_set: the calibrated list's items in the model's order. History 3/4 C and 1/4 A: the
// greedy first takes item 4 (C: the larger share), then item 1 (A; item 2 would split its mass
// over A and B, which the history does not have); the model ranks item 1 first.
TEST(Rerank, CalibratedSetShowsTheCalibratedItemsInTheModelsOrder) {
  const auto t = table();
  rerank::Catalogue cat;
  cat.items = &t;
  auto r = request({1, 2, 4}, {1.0f, 0.9f, 0.8f});
  r.history = {3, 3, 3, 1};
  EXPECT_EQ(rerank::make_reranker("calibrated:0.9", cat)->rerank(r, 2), (std::vector<std::int32_t>{4, 1}));
  const auto set = rerank::make_reranker("calibrated_set:0.9", cat);
  EXPECT_EQ(set->rerank(r, 2), (std::vector<std::int32_t>{1, 4}));
  EXPECT_EQ(set->name(), "calibrated_set:0.900000");
  EXPECT_EQ(rerank::make_reranker("calibrated_set:0", cat)->rerank(r, 2), (std::vector<std::int32_t>{1, 2}));
  EXPECT_THROW(rerank::make_reranker("calibrated_set:0.5", rerank::Catalogue{}), InvalidInput);  // no categories
}

// calibrated:L:H weighs the history by recency. Items 0-3 are A, 4-7 B; the model ranks every A
// first. History A, A, A, B: alike, p = (3/4, 1/4); half-life 1 event, weights 1/8, 1/4, 1/2, 1, so
// p = (7/15, 8/15). At L = 1 (calibration alone; smoothing 0.01) the greedy's four picks are
// A, B, A, A against the first p (KL after each: 0.94, 0.13, 0.016, ~0), and B, A, B, A against
// the second (1.82 for B first against 2.10 for A; then 0.002, 0.037 for B against 0.083 for A,
// 0.002): three A and one B, or two of each.
TEST(Rerank, CalibratedWithAHalfLifeFollowsTheRecentMix) {
  data::ItemTable t;
  for (const char* c : {"A", "B"}) t.categories.add(c);
  t.category_offsets = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  t.category_ids = {0, 0, 0, 0, 1, 1, 1, 1};
  rerank::Catalogue cat;
  cat.items = &t;
  auto r = request({0, 1, 2, 3, 4, 5, 6, 7}, {8, 7, 6, 5, 4, 3, 2, 1});
  r.history = {0, 1, 2, 4};
  EXPECT_EQ(rerank::make_reranker("calibrated_set:1", cat)->rerank(r, 4), (std::vector<std::int32_t>{0, 1, 2, 4}));
  EXPECT_EQ(rerank::make_reranker("calibrated_set:1:1", cat)->rerank(r, 4), (std::vector<std::int32_t>{0, 1, 4, 5}));
  EXPECT_EQ(rerank::make_reranker("calibrated:1:1", cat)->rerank(r, 4), (std::vector<std::int32_t>{4, 0, 5, 1}));
  EXPECT_EQ(rerank::make_reranker("calibrated:1:0", cat)->rerank(r, 4), (std::vector<std::int32_t>{0, 4, 1, 2}));
  EXPECT_EQ(rerank::make_reranker("calibrated_set:0.5:10", cat)->name(), "calibrated_set:0.500000:10.000000");
  const auto p = eval::category_distribution(r.history, t, 1);
  EXPECT_NEAR(p[0], 7.0 / 15, 1e-12);
  EXPECT_NEAR(p[1], 8.0 / 15, 1e-12);
  for (const char* bad :
       {"calibrated:0.5:", "calibrated:0.5:-1", "calibrated:0.5:x", "calibrated:0.5:1:2", "mmr:0.5:3"})
    EXPECT_THROW(rerank::make_reranker(bad, cat), InvalidInput) << bad;
}

TEST(Rerank, ExposureAndConsumerFavourLessPopularItems) {
  rerank::Catalogue cat;
  cat.popularity = {0, 100, 1};
  auto r = request({1, 2}, {1.0f, 0.5f});
  // relevance 1, 0; 1 - popularity / 100: 0, 0.99. lambda 0.8: 0.2 < 0.792.
  EXPECT_EQ(rerank::make_reranker("exposure:0.8", cat)->rerank(r, 2), (std::vector<std::int32_t>{2, 1}));
  EXPECT_EQ(rerank::make_reranker("exposure:0.1", cat)->rerank(r, 2), (std::vector<std::int32_t>{1, 2}));
  // consumer: only active users' lists are re-ranked.
  r.active_user = true;
  EXPECT_EQ(rerank::make_reranker("consumer:0.8", cat)->rerank(r, 2), (std::vector<std::int32_t>{2, 1}));
  r.active_user = false;
  EXPECT_EQ(rerank::make_reranker("consumer:0.8", cat)->rerank(r, 2), (std::vector<std::int32_t>{1, 2}));
}

TEST(Rerank, ChainsApplyStagesInTurn) {
  rerank::Catalogue cat;
  cat.popularity = {0, 100, 90, 1, 1};
  cat.long_tail = {0, 0, 0, 0, 1};
  const auto r = request({1, 2, 3, 4}, {4, 3, 2, 1});
  // exposure:0.9 orders by (1 - popularity) mostly: 3/4 (tie: 3 first), then 2, 1; longtail:0.5
  // then keeps that order but needs item 4 (the only long-tail item) within k = 2.
  const auto chain = rerank::make_reranker("exposure:0.9+longtail:0.5", cat);
  EXPECT_EQ(chain->rerank(r, 2), (std::vector<std::int32_t>{3, 4}));
  EXPECT_NE(chain->name().find('+'), std::string::npos);
  EXPECT_THROW(rerank::make_reranker("exposure:0.5++longtail:0.2", cat), InvalidInput);
}

TEST(Rerank, SpecsAreCheckedAndNoneMeansNoReranker) {
  rerank::Catalogue cat;
  EXPECT_EQ(rerank::make_reranker("", cat), nullptr);
  EXPECT_EQ(rerank::make_reranker("none", cat), nullptr);
  EXPECT_THROW(rerank::make_reranker("shuffle:0.5", cat), InvalidInput);
  EXPECT_THROW(rerank::make_reranker("mmr:1.5", cat), InvalidInput);
  EXPECT_THROW(rerank::make_reranker("mmr:x", cat), InvalidInput);
  EXPECT_THROW(rerank::make_reranker("mmr:0.5", cat), InvalidInput);  // no categories
  EXPECT_THROW(rerank::make_reranker("longtail:0.2", cat), InvalidInput);
}
