#pragma once
// Fairness, calibration and diversity of recommendation lists, each a plain function checked on
// hand-computed cases (tests/unit/fairness_test.cpp). Definitions follow RecBole and Elliot:
//   long-tail share (APLT, Abdollahpouri et al. 2019): mean over lists of the share of long-tail items;
//   PopRSP / PopREO (Zhu, Wang & Caverlee, SIGIR 2020): per item group g, the probability of being
//     recommended given the item was rankable (RSP) or given it was a test item (REO); the metric is
//     the population standard deviation over the groups divided by their mean (0 = parity);
//   miscalibration (Steck, RecSys 2018): KL(p || q~) between the category distribution p of a
//     user's history and q~ = (1 - a) q + a p of the list (a = 0.01), an item's mass split evenly
//     over its categories;
//   intra-list diversity: mean over pairs of list items of 1 - cosine(category vectors);
//   group gap: a per-user metric's mean over active users minus over inactive users.
// Item and user groups come from files or are computed: the short head is the top 20% of items by
// training events, the active users the top 20% by history length (both ties by lower index).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/eval/metrics.h"

namespace driftrec::eval {

/// long_tail[i] = 1 unless item i is among the top `head_share` of real items by `train_counts`
/// (index 0, padding, is 0). Size n_items.
std::vector<char> long_tail_items(const std::vector<std::int64_t>& train_counts, std::int32_t n_items,
                                  double head_share = 0.2);
/// flag[x] = 1 for the top `share` of entries by `activity` (ties by lower index), 0 otherwise.
std::vector<char> top_share(const std::vector<double>& activity, double share);
/// Active users computed from the evaluated cases: flag[user] = 1 (size max user + 1) for the
/// users of the top `share` of cases by `history_length` (one entry per case).
std::vector<char> active_users(const std::vector<std::int32_t>& case_users, const std::vector<double>& history_length,
                               double share);

/// APLT: mean over non-empty lists of the share of their items with long_tail[i] = 1.
double long_tail_share(const std::vector<ItemList>& lists, const std::vector<char>& long_tail);

struct PopularityBias {
  double rsp = 0;  ///< PopRSP
  double reo = 0;  ///< PopREO
};
/// PopRSP and PopREO over the two groups long tail / short head. lists[c], targets[c] and seen[c]
/// (the user's items excluded from ranking) belong to case c; `n_items` bounds the catalogue.
PopularityBias popularity_bias(const std::vector<ItemList>& lists, const std::vector<ItemList>& targets,
                               const std::vector<ItemList>& seen, const std::vector<char>& long_tail,
                               std::int32_t n_items);

/// Category distribution of `items` (each item's mass split evenly over its categories; items
/// without one left out); all zeros when none has a category. `half_life` > 0 weighs the items by
/// recency, `items` being in time order: the j-th of n by 0.5^((n - 1 - j) / half_life) (Steck's
/// w_{u,i}); 0 weighs them alike.
std::vector<double> category_distribution(const ItemList& items, const data::ItemTable& table, double half_life = 0);
/// Steck's smoothed KL(p || (1 - a) q + a p) of two category distributions.
double calibration_kl(const std::vector<double>& p, const std::vector<double>& q, double a = 0.01);
/// Steck's miscalibration calibration_kl(p, q) of a list (q) against a history (p); 0 when either
/// has no categorised item.
double miscalibration(const ItemList& history, const ItemList& list, const data::ItemTable& table, double a = 0.01);
/// The distinct categories of item i, sorted (empty for an item without one or out of range).
std::vector<std::int32_t> item_categories(const data::ItemTable& table, std::int32_t i);
/// Cosine of two sorted category sets as indicator vectors (0 when either is empty).
double category_cosine(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b);
/// Intra-list diversity: mean over item pairs of 1 - cosine of their category indicator vectors
/// (0 for lists of fewer than two items).
double intra_list_diversity(const ItemList& list, const data::ItemTable& table);

struct GroupGap {
  double active = 0, inactive = 0;  ///< mean of the values over each group's cases
  double gap = 0;                   ///< active - inactive
  std::int64_t n_active = 0, n_inactive = 0;
};
/// Splits per-case `values` by whether the case's user is active (active[user] = 1).
GroupGap group_gap(const std::vector<double>& values, const std::vector<std::int32_t>& case_users,
                   const std::vector<char>& active);

/// What the evaluator needs to add the fairness metrics (EvalOptions::fairness).
struct FairnessOptions {
  double head_share = 0.2;                 ///< computed short head: top share of items by training events
  double active_share = 0.2;               ///< computed active users: top share by history length
  std::vector<char> long_tail;             ///< per item (size n_items); empty = computed from training counts
  std::vector<char> active;                ///< per user index; empty = computed from history lengths
  const data::ItemTable* items = nullptr;  ///< categories for miscalibration and diversity (null = skip)
};

/// The metrics above at list length k, keyed "aplt@k", "pop_rsp@k", "pop_reo@k", "miscalibration@k",
/// "ild@k" (with categories), "ndcg@k_active", "ndcg@k_inactive", "ndcg@k_gap" (from `ndcg` per case).
/// `per_case` (optional) receives the per-list ones case by case, under the same names: "aplt@k"
/// (an empty list's share is 0) and, with categories, "miscalibration@k" and "ild@k" — what a paired
/// comparison of two lists needs.
std::map<std::string, double> fairness_metrics(const std::vector<ItemList>& lists, const std::vector<ItemList>& targets,
                                               const std::vector<ItemList>& histories,
                                               const std::vector<std::int32_t>& case_users,
                                               const std::vector<double>& ndcg,
                                               const std::vector<std::int64_t>& train_counts, std::int32_t n_items,
                                               int k, const FairnessOptions& options,
                                               std::map<std::string, std::vector<double>>* per_case = nullptr);

}  // namespace driftrec::eval
