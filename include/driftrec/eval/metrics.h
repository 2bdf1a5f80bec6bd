#pragma once
// Metrics, each a plain function tested on cases computed by hand.
//
// Ranking metrics take a ranked list (best first, length >= k or shorter when fewer items were
// eligible) and the set of relevant items. With one relevant item at 1-based rank r:
//   hr@k = [r <= k], ndcg@k = 1/log2(r+1) if r <= k, mrr = 1/r, recall@k = hr@k, precision@k = hr@k / k.
#include <cstdint>
#include <vector>

namespace driftrec::eval {

using ItemList = std::vector<std::int32_t>;

double hit_at(const ItemList& ranked, const ItemList& relevant, int k);
double recall_at(const ItemList& ranked, const ItemList& relevant, int k);
double precision_at(const ItemList& ranked, const ItemList& relevant, int k);
/// Binary-relevance NDCG: DCG over the top k divided by the ideal DCG of min(|relevant|, k) hits.
double ndcg_at(const ItemList& ranked, const ItemList& relevant, int k);
/// Average precision over the top k, normalised by min(|relevant|, k).
double average_precision_at(const ItemList& ranked, const ItemList& relevant, int k);
/// Reciprocal rank of the first relevant item in `ranked` (0 when absent).
double reciprocal_rank(const ItemList& ranked, const ItemList& relevant);

/// Single-target metrics from the target's 1-based rank among `n_candidates` eligible items.
double ndcg_from_rank(std::int64_t rank, int k);
/// AUC of one target against every other eligible item: (n_candidates - rank) / (n_candidates - 1).
double auc_from_rank(std::int64_t rank, std::int64_t n_candidates);

// ---- classification (labels 0/1, scores are probabilities or any real score) ----
struct Confusion {
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};
Confusion confusion(const std::vector<int>& labels, const std::vector<double>& scores, double threshold);
double accuracy(const Confusion& c);
double precision(const Confusion& c);
double recall(const Confusion& c);
double f1(const Confusion& c);
/// ROC AUC with ties counted as one half (Mann-Whitney). Throws InvalidInput without both classes.
double roc_auc(const std::vector<int>& labels, const std::vector<double>& scores);
/// Mean binary cross-entropy; probabilities are clipped to [eps, 1 - eps].
double log_loss(const std::vector<int>& labels, const std::vector<double>& probabilities, double eps = 1e-15);

// ---- regression ----
double mae(const std::vector<double>& truth, const std::vector<double>& pred);
double mse(const std::vector<double>& truth, const std::vector<double>& pred);
double rmse(const std::vector<double>& truth, const std::vector<double>& pred);

// ---- beyond accuracy (over all recommendation lists of a run) ----
/// Share of catalog items (n_items real items) that appear in at least one list.
double catalog_coverage(const std::vector<ItemList>& lists, std::int32_t n_items);
/// Mean self-information -log2(p(i)) of recommended items, p(i) = train_count(i) / n_train_users,
/// counts of 0 treated as 1 (items never seen in training are maximally novel).
double novelty(const std::vector<ItemList>& lists, const std::vector<std::int64_t>& train_count,
               std::int64_t n_train_users);
/// Mean training-event count of recommended items.
double average_popularity(const std::vector<ItemList>& lists, const std::vector<std::int64_t>& train_count);
/// Gini coefficient of exposure counts over all n_items real items (0 = equal, ->1 = concentrated).
double gini_of_exposure(const std::vector<ItemList>& lists, std::int32_t n_items);
/// Gini of a non-negative vector (sorted ascending internally).
double gini(std::vector<double> values);

}  // namespace driftrec::eval
