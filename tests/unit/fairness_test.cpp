// Fairness, calibration and diversity metrics on cases computed by hand.
#include "driftrec/eval/fairness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "driftrec/core/error.h"

using namespace driftrec;
using eval::ItemList;

namespace {

// Items 1..4 with categories: 1 {A}, 2 {A, B}, 3 {B}, 4 {C}.
data::ItemTable table() {
  data::ItemTable t;
  for (const char* c : {"A", "B", "C"}) t.categories.add(c);
  t.category_offsets = {0, 0, 1, 3, 4, 5};
  t.category_ids = {0, 0, 1, 1, 2};
  return t;
}

}  // namespace

TEST(Fairness, LongTailItemsAreOutsideTheTopShare) {
  // Real items 1..5 with counts 9, 1, 5, 0, 7: the top 40% (2 items) are 1 and 5.
  const auto tail = eval::long_tail_items({0, 9, 1, 5, 0, 7}, 6, 0.4);
  EXPECT_EQ(tail, (std::vector<char>{0, 0, 1, 1, 1, 0}));
  EXPECT_THROW(eval::top_share({1, 2}, 1.5), InvalidInput);
}

TEST(Fairness, LongTailShareIsTheMeanPerListShare) {
  const std::vector<char> tail = {0, 0, 1, 1, 0};
  // List 1: one of two long-tail items (0.5); list 2: two of three (2/3); empty lists are skipped.
  EXPECT_NEAR(eval::long_tail_share({{1, 2}, {2, 3, 4}, {}}, tail), (0.5 + 2.0 / 3.0) / 2, 1e-12);
}

TEST(Fairness, PopRspAndPopReoByHand) {
  // Items 1..4: short head {1, 2}, long tail {3, 4}. Two users.
  const std::vector<char> tail = {0, 0, 0, 1, 1};
  const std::vector<ItemList> lists = {{1, 3}, {1, 2}};
  const std::vector<ItemList> targets = {{3}, {4}};
  const std::vector<ItemList> seen = {{2}, {}};
  const auto b = eval::popularity_bias(lists, targets, seen, tail, 5);
  // RSP: head recommended 3 times out of (1 + 2) rankable head slots = 1; tail 1 of (2 + 2) = 0.25.
  // mean 0.625, population std 0.375 -> 0.6.
  EXPECT_NEAR(b.rsp, 0.6, 1e-12);
  // REO: no head test items (p = 0); tail: 1 of 2 test items recommended (p = 0.5): mean 0.25,
  // std 0.25 -> 1.
  EXPECT_NEAR(b.reo, 1.0, 1e-12);
}

TEST(Fairness, MiscalibrationIsStecksSmoothedKl) {
  const auto t = table();
  // History {1, 2}: p = A 0.75, B 0.25. List {4}: q = C 1. q~ = 0.99 q + 0.01 p.
  const double expect = 0.75 * std::log(0.75 / (0.01 * 0.75)) + 0.25 * std::log(0.25 / (0.01 * 0.25));
  EXPECT_NEAR(eval::miscalibration({1, 2}, {4}, t), expect, 1e-12);
  // A list with the history's own mix is perfectly calibrated.
  EXPECT_NEAR(eval::miscalibration({1, 2}, {2, 1}, t), 0.0, 1e-12);
  EXPECT_EQ(eval::miscalibration({}, {1}, t), 0.0);
}

TEST(Fairness, IntraListDiversityIsOneMinusCosine) {
  const auto t = table();
  // (1, 2): cos = 1 / sqrt(2); (1, 4): 0; (2, 4): 0 -> mean of 1 - cos.
  EXPECT_NEAR(eval::intra_list_diversity({1, 2, 4}, t), ((1 - 1 / std::sqrt(2.0)) + 1 + 1) / 3, 1e-12);
  EXPECT_EQ(eval::intra_list_diversity({1}, t), 0.0);
}

TEST(Fairness, GroupGapSplitsCasesByUser) {
  const auto g = eval::group_gap({1.0, 0.5, 0.0, 0.25}, {1, 2, 3, 4}, {0, 1, 0, 0, 1});
  EXPECT_EQ(g.n_active, 2);
  EXPECT_EQ(g.n_inactive, 2);
  EXPECT_NEAR(g.active, (1.0 + 0.25) / 2, 1e-12);
  EXPECT_NEAR(g.inactive, (0.5 + 0.0) / 2, 1e-12);
  EXPECT_NEAR(g.gap, 0.625 - 0.25, 1e-12);
}

TEST(Fairness, MetricsComputeGroupsWhenNoneAreGiven) {
  const auto t = table();
  eval::FairnessOptions o;
  o.items = &t;
  o.head_share = 0.25;   // item 1 (most trained) is the short head
  o.active_share = 0.5;  // the longer of two histories is active
  std::map<std::string, std::vector<double>> per_case;
  const auto m = eval::fairness_metrics({{1, 3}, {4, 2}}, {{3}, {1}}, {{2, 4}, {3}}, {1, 2}, {1.0, 0.0},
                                        {0, 10, 5, 3, 1}, 5, 2, o, &per_case);
  EXPECT_NEAR(m.at("aplt@2"), (0.5 + 1.0) / 2, 1e-12);
  // The per-list metrics case by case (what compare pairs), their means the aggregates.
  EXPECT_EQ(per_case.at("aplt@2"), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(per_case.at("ild@2"), (std::vector<double>{1.0, 1.0}));  // {A}|{B} and {C}|{A, B}: disjoint
  ASSERT_EQ(per_case.at("miscalibration@2").size(), 2u);
  EXPECT_NEAR(per_case.at("miscalibration@2")[0], eval::miscalibration({2, 4}, {1, 3}, t), 1e-12);
  EXPECT_NEAR(per_case.at("miscalibration@2")[1], eval::miscalibration({3}, {4, 2}, t), 1e-12);
  EXPECT_GT(per_case.at("miscalibration@2")[0], 0.0);
  EXPECT_NEAR(m.at("miscalibration@2"), (per_case["miscalibration@2"][0] + per_case["miscalibration@2"][1]) / 2, 1e-12);
  EXPECT_EQ(per_case.size(), 3u);  // group-level metrics (pop_rsp, the ndcg gap) have no per-case value
  EXPECT_NEAR(m.at("ndcg@2_active"), 1.0, 1e-12);
  EXPECT_NEAR(m.at("ndcg@2_inactive"), 0.0, 1e-12);
  EXPECT_NEAR(m.at("ndcg@2_gap"), 1.0, 1e-12);
  EXPECT_TRUE(m.count("miscalibration@2") && m.count("ild@2") && m.count("pop_rsp@2") && m.count("pop_reo@2"));
}
