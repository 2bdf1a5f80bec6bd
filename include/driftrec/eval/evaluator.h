#pragma once
// Full-ranking evaluation over all items, in user batches on several threads with bounded memory
// (threads x batch_size x n_items floats). The evaluator knows nothing about models: it asks a
// BatchScorer for dense scores, so it stays free of model and LibTorch code.
//
// Protocol: for each case, every item is a candidate except padding, items the scorer marks -inf,
// and (exclude_seen) items in the user's history; the case's own targets are never excluded.
// Ties rank the lower item index first (the same rule as TopK). Targets the scorer cannot score
// (index >= n_items or -inf) count as misses, ranked after every candidate.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/core/topk.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/fairness.h"

namespace driftrec::eval {

struct EvalOptions {
  std::vector<int> ks = {5, 10, 20};  ///< cut-offs for hr/recall/precision/ndcg/map
  bool exclude_seen = true;
  int threads = 0;               ///< 0 = all cores
  std::size_t batch_size = 128;  ///< cases scored per scorer call
  /// Keep each case's top-N list (--save-rankings, the interest-tracking error); 0 = none. With a
  /// re-ranker it is the re-ranked list the metrics saw (as long as the largest cut-off).
  std::size_t save_top = 0;
  int beyond_k = 10;  ///< list length for coverage/novelty/popularity/gini
  /// When non-empty (size n_items), only items with candidates[i] != 0 are ranked (e.g. the items
  /// of one domain, see data::domain_items).
  std::vector<char> candidates;
  /// Impression-style metrics as the MIND benchmark reports them: when > 0, each case also gets
  /// an impression of its targets plus this many negatives drawn uniformly (without replacement,
  /// seeded per case) from its rankable items, and imp_auc, imp_mrr, imp_ndcg@5 and imp_ndcg@10
  /// are computed within it.
  int impression_negatives = 0;
  std::uint64_t impression_seed = 42;
  /// Re-ranking (rerank/reranker.h): when set, each case's list is rerank(case, the model's top
  /// `rerank_depth` candidates, list length) instead of the model's top list. List metrics
  /// (hr, recall, precision, ndcg, map, beyond-accuracy, fairness) use that list; mrr and auc
  /// describe the model's scores.
  std::function<std::vector<std::int32_t>(const data::EvalCase&, const TopK& candidates, std::size_t k)> rerank;
  std::size_t rerank_depth = 100;
  /// When set, the fairness, calibration and diversity metrics (eval/fairness.h) at beyond_k.
  std::shared_ptr<const FairnessOptions> fairness;
};

/// MIND-style metrics of one impression: `scores` of shown items, `clicked` their labels.
/// auc = share of (clicked, not clicked) pairs ordered right (ties count 1/2); mrr = sum over
/// clicked items of 1/rank divided by the number clicked; ndcg@k with binary gains. Throws
/// InvalidInput when the impression has no clicked or no unclicked item.
struct ImpressionMetrics {
  double auc = 0, mrr = 0, ndcg5 = 0, ndcg10 = 0;
};
ImpressionMetrics impression_metrics(const std::vector<float>& scores, const std::vector<char>& clicked);

/// One case's ranking, for --save-rankings.
struct CaseRanking {
  std::int32_t user = 0;
  std::vector<std::int32_t> targets;
  std::vector<std::int32_t> top;
  std::vector<float> scores;
};

struct EvalResult {
  std::map<std::string, double> metrics;  ///< "hr@10", "ndcg@10", "mrr", "auc", "coverage@10", ...
  /// Accuracy metrics per case, in case order; with fairness also the per-list ones (aplt@k and,
  /// with categories, miscalibration@k and ild@k at beyond_k).
  std::map<std::string, std::vector<double>> per_case;
  std::int64_t users_evaluated = 0;
  double seconds = 0.0;
  std::vector<CaseRanking> rankings;  ///< filled when save_top > 0
  nlohmann::json metrics_json() const;
};

/// Fills out[b * n_items + i] with case b's score of item i (n cases). Called concurrently from
/// several threads with disjoint outputs: it must be thread-safe.
using BatchScorer = std::function<void(const data::EvalCase* const* cases, std::size_t n, float* out)>;

/// Evaluates `cases` whose histories live in `full.log`. `n_items` is the scorer's row width;
/// `train_counts` (per item, size >= n_items) and `n_train_users` feed the popularity metrics.
EvalResult evaluate(const data::Dataset& full, const std::vector<data::EvalCase>& cases, std::int32_t n_items,
                    const std::vector<std::int64_t>& train_counts, std::int64_t n_train_users,
                    const BatchScorer& scorer, const EvalOptions& options = {}, const ProgressCallback& progress = {});

}  // namespace driftrec::eval
