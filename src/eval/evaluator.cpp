#include "driftrec/eval/evaluator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"
#include "driftrec/core/rng.h"
#include "driftrec/core/topk.h"
#include "driftrec/eval/metrics.h"

namespace driftrec::eval {

nlohmann::json EvalResult::metrics_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : metrics) j[k] = v;
  return j;
}

ImpressionMetrics impression_metrics(const std::vector<float>& scores, const std::vector<char>& clicked) {
  if (scores.size() != clicked.size()) throw InvalidInput("impression: scores and labels differ in length");
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Descending score; ties: an unclicked item first (a pessimistic, deterministic order).
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return clicked[a] < clicked[b];
  });
  std::size_t pos = 0, neg = 0;
  for (char y : clicked) (y ? pos : neg) += 1;
  if (pos == 0 || neg == 0) throw InvalidInput("impression needs a clicked and an unclicked item");
  ImpressionMetrics m;
  double pairs = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!clicked[i]) continue;
    for (std::size_t j = 0; j < scores.size(); ++j) {
      if (clicked[j]) continue;
      pairs += scores[i] > scores[j] ? 1.0 : (scores[i] == scores[j] ? 0.5 : 0.0);
    }
  }
  m.auc = pairs / static_cast<double>(pos * neg);
  double rr = 0, dcg5 = 0, dcg10 = 0;
  for (std::size_t r = 0; r < order.size(); ++r) {
    if (!clicked[order[r]]) continue;
    rr += 1.0 / static_cast<double>(r + 1);
    const double g = 1.0 / std::log2(static_cast<double>(r) + 2.0);
    if (r < 5) dcg5 += g;
    if (r < 10) dcg10 += g;
  }
  auto ideal = [&](std::size_t k) {
    double s = 0;
    for (std::size_t r = 0; r < std::min(k, pos); ++r) s += 1.0 / std::log2(static_cast<double>(r) + 2.0);
    return s;
  };
  m.mrr = rr / static_cast<double>(pos);
  m.ndcg5 = dcg5 / ideal(5);
  m.ndcg10 = dcg10 / ideal(10);
  return m;
}

namespace {

std::vector<std::string> metric_names(const std::vector<int>& ks, bool impressions) {
  std::vector<std::string> names;
  for (int k : ks)
    for (const char* m : {"hr", "recall", "precision", "ndcg", "map"})
      names.push_back(std::string(m) + "@" + std::to_string(k));
  names.push_back("mrr");
  names.push_back("auc");
  if (impressions)
    for (const char* m : {"imp_auc", "imp_mrr", "imp_ndcg@5", "imp_ndcg@10"}) names.push_back(m);
  return names;
}

bool is_target(const data::EvalCase& cs, std::int32_t item) {
  return std::find(cs.targets.begin(), cs.targets.end(), item) != cs.targets.end();
}

/// Where each target ranks among the rankable items (ties broken as the evaluator's top-k does).
struct TargetRanks {
  std::int64_t candidates = 0;  ///< rankable items
  std::int64_t best_rank = 0;   ///< best rank of any target (candidates + 1 when none is rankable)
  double auc_sum = 0;           ///< summed over the targets
};

TargetRanks rank_targets(const float* s, std::size_t n, const data::EvalCase& cs, std::int32_t n_items) {
  TargetRanks r;
  for (std::size_t i = 0; i < n; ++i) r.candidates += s[i] > -INFINITY;
  r.best_rank = r.candidates + 1;
  for (auto tgt : cs.targets) {
    std::int64_t rank = r.candidates + 1;
    if (tgt > 0 && tgt < n_items && s[tgt] > -INFINITY) {
      const float st = s[tgt];
      std::int64_t ahead = 0;
      for (std::size_t i = 0; i < n; ++i)
        ahead += s[i] > -INFINITY && ranks_before(s[i], static_cast<std::int32_t>(i), st, tgt);
      rank = ahead + 1;
    }
    r.best_rank = std::min(r.best_rank, rank);
    r.auc_sum += rank > r.candidates ? 0.0 : auc_from_rank(rank, r.candidates);
  }
  return r;
}

/// One case's scores over the whole catalogue, turned into metric values.
class CaseScorer {
 public:
  CaseScorer(const data::Dataset& full, const std::vector<data::EvalCase>& cases, std::int32_t n_items,
             const EvalOptions& opt, EvalResult& res)
      : full_(full), cases_(cases), n_items_(n_items), n_(static_cast<std::size_t>(n_items)), opt_(opt), res_(res) {
    max_k_ = std::max(*std::max_element(opt.ks.begin(), opt.ks.end()), opt.beyond_k);
    list_len_ =
        std::max({static_cast<std::size_t>(max_k_), opt.save_top, opt.rerank ? opt.rerank_depth : std::size_t{0}});
    const std::size_t nc = cases.size();
    impressions_ = opt.impression_negatives > 0;
    names_ = metric_names(opt.ks, impressions_);
    values_.assign(names_.size(), std::vector<double>(nc, 0.0));
    beyond_lists_.resize(nc);
    histories_.resize(opt.fairness ? nc : 0);
    beyond_ndcg_.resize(opt.fairness ? nc : 0);
    if (opt.save_top > 0) res.rankings.resize(nc);
  }

  /// Scores `s` (case `c`'s catalogue scores, masked in place) into the case's metric values.
  void score(std::size_t c, float* s) {
    const auto& cs = cases_[c];
    mask_unrankable(cs, s);
    const auto ranks = rank_targets(s, n_, cs, n_items_);
    const TopK top = top_k(s, n_, list_len_);
    const auto max_k = static_cast<std::size_t>(max_k_);
    ItemList list =
        opt_.rerank
            ? opt_.rerank(cs, top, max_k)
            : ItemList(top.items.begin(), top.items.begin() + static_cast<std::ptrdiff_t>(std::min(top.size(), max_k)));
    std::size_t m = 0;
    for (int k : opt_.ks) {
      values_[m++][c] = hit_at(list, cs.targets, k);
      values_[m++][c] = recall_at(list, cs.targets, k);
      values_[m++][c] = precision_at(list, cs.targets, k);
      values_[m++][c] = ndcg_at(list, cs.targets, k);
      values_[m++][c] = average_precision_at(list, cs.targets, k);
    }
    values_[m++][c] = ranks.best_rank <= ranks.candidates ? 1.0 / static_cast<double>(ranks.best_rank) : 0.0;
    values_[m++][c] = cs.targets.empty() ? 0.0 : ranks.auc_sum / static_cast<double>(cs.targets.size());
    if (impressions_) {
      const auto im = impression(c, s);
      for (double v : {im.auc, im.mrr, im.ndcg5, im.ndcg10}) values_[m++][c] = v;
    }
    if (opt_.fairness) {
      auto& h = histories_[c];
      for (auto r = full_.log.user_begin(cs.user); r < cs.history_end; ++r)
        h.push_back(full_.log.item[static_cast<std::size_t>(r)]);
      beyond_ndcg_[c] = ndcg_at(list, cs.targets, opt_.beyond_k);
    }
    beyond_lists_[c].assign(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                             list.size(), static_cast<std::size_t>(opt_.beyond_k))));
    if (opt_.save_top > 0) keep_ranking(c, opt_.rerank ? list : top.items, s);
  }

  /// Means over the cases, per-case values, beyond-accuracy and fairness metrics into the result.
  void finish(const std::vector<std::int64_t>& train_counts, std::int64_t n_train_users) {
    const std::size_t nc = cases_.size();
    for (std::size_t m = 0; m < names_.size(); ++m) {
      double sum = 0;
      for (double v : values_[m]) sum += v;
      res_.metrics[names_[m]] = nc ? sum / static_cast<double>(nc) : 0.0;
      res_.per_case[names_[m]] = std::move(values_[m]);
    }
    const std::string bk = "@" + std::to_string(opt_.beyond_k);
    res_.metrics["coverage" + bk] = catalog_coverage(beyond_lists_, n_items_ - 1);
    res_.metrics["novelty" + bk] = novelty(beyond_lists_, train_counts, n_train_users);
    res_.metrics["avg_popularity" + bk] = average_popularity(beyond_lists_, train_counts);
    res_.metrics["gini" + bk] = gini_of_exposure(beyond_lists_, n_items_ - 1);
    if (!opt_.fairness) return;
    std::vector<ItemList> targets(nc);
    std::vector<std::int32_t> users(nc);
    for (std::size_t c = 0; c < nc; ++c) {
      targets[c] = cases_[c].targets;
      users[c] = cases_[c].user;
    }
    for (auto& [name, v] : fairness_metrics(beyond_lists_, targets, histories_, users, beyond_ndcg_, train_counts,
                                            n_items_, opt_.beyond_k, *opt_.fairness, &res_.per_case))
      res_.metrics[name] = v;
  }

 private:
  /// Padding, items outside the candidates and (unless asked) seen non-target items get -inf.
  void mask_unrankable(const data::EvalCase& cs, float* s) const {
    s[0] = -INFINITY;
    if (!opt_.candidates.empty())
      for (std::size_t i = 0; i < n_; ++i)
        if (i >= opt_.candidates.size() || !opt_.candidates[i]) s[i] = -INFINITY;
    if (!opt_.exclude_seen) return;
    for (auto r = full_.log.user_begin(cs.user); r < cs.history_end; ++r) {
      const auto item = full_.log.item[static_cast<std::size_t>(r)];
      // A re-consumed target stays rankable; every other seen item is excluded.
      if (item < n_items_ && !is_target(cs, item)) s[item] = -INFINITY;
    }
  }

  /// MIND-style impression: rankable targets + sampled rankable non-targets (a target the model
  /// cannot score is shown with the lowest score).
  ImpressionMetrics impression(std::size_t c, const float* s) const {
    const auto& cs = cases_[c];
    std::vector<std::int32_t> pool;
    for (std::size_t i = 1; i < n_; ++i)
      if (s[i] > -INFINITY && !is_target(cs, static_cast<std::int32_t>(i)))
        pool.push_back(static_cast<std::int32_t>(i));
    Rng rng = Rng(opt_.impression_seed).fork(static_cast<std::uint64_t>(c));
    const auto shown = std::min(pool.size(), static_cast<std::size_t>(opt_.impression_negatives));
    for (std::size_t k = 0; k < shown; ++k) std::swap(pool[k], pool[k + rng.uniform_int(pool.size() - k)]);
    std::vector<float> sc;
    std::vector<char> clicked;
    for (auto tgt : cs.targets) {
      sc.push_back(tgt > 0 && tgt < n_items_ && s[tgt] > -INFINITY ? s[tgt] : -std::numeric_limits<float>::max());
      clicked.push_back(1);
    }
    for (std::size_t k = 0; k < shown; ++k) {
      sc.push_back(s[pool[k]]);
      clicked.push_back(0);
    }
    if (shown == 0 || cs.targets.empty()) return {};
    return impression_metrics(sc, clicked);
  }

  /// Keeps the list the case was scored on (the model's top, or the re-ranked list) with the
  /// model's scores of its items.
  void keep_ranking(std::size_t c, const std::vector<std::int32_t>& shown, const float* s) {
    auto& rk = res_.rankings[c];
    rk.user = cases_[c].user;
    rk.targets = cases_[c].targets;
    const auto keep = std::min(shown.size(), opt_.save_top);
    rk.top.assign(shown.begin(), shown.begin() + static_cast<std::ptrdiff_t>(keep));
    rk.scores.clear();
    for (const auto item : rk.top) rk.scores.push_back(s[item]);
  }

  const data::Dataset& full_;
  const std::vector<data::EvalCase>& cases_;
  std::int32_t n_items_;
  std::size_t n_;
  const EvalOptions& opt_;
  EvalResult& res_;
  int max_k_ = 0;
  std::size_t list_len_ = 0;
  bool impressions_ = false;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> values_;
  std::vector<ItemList> beyond_lists_, histories_;
  std::vector<double> beyond_ndcg_;
};

}  // namespace

EvalResult evaluate(const data::Dataset& full, const std::vector<data::EvalCase>& cases, std::int32_t n_items,
                    const std::vector<std::int64_t>& train_counts, std::int64_t n_train_users,
                    const BatchScorer& scorer, const EvalOptions& opt, const ProgressCallback& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  if (opt.ks.empty()) throw InvalidInput("evaluation needs at least one cut-off K");
  for (int k : opt.ks)
    if (k < 1) throw InvalidInput("cut-off K must be >= 1, got " + std::to_string(k));
  if (n_items < 2) throw InvalidInput("evaluation needs a scorer over at least one item");
  if (train_counts.size() < static_cast<std::size_t>(n_items)) throw InvalidInput("train_counts shorter than n_items");
  const std::size_t n = static_cast<std::size_t>(n_items);
  const std::size_t nc = cases.size();
  EvalResult res;
  CaseScorer scoring(full, cases, n_items, opt, res);
  const int threads = resolve_threads(opt.threads);
  const std::size_t batch = std::max<std::size_t>(1, opt.batch_size);
  std::vector<std::vector<float>> buffers(static_cast<std::size_t>(threads));
  std::atomic<std::size_t> done{0};
  parallel_blocks(nc, batch, threads, [&](std::size_t b, std::size_t e, int t) {
    auto& buf = buffers[static_cast<std::size_t>(t)];
    buf.resize((e - b) * n);
    std::vector<const data::EvalCase*> ptrs;
    for (std::size_t c = b; c < e; ++c) ptrs.push_back(&cases[c]);
    scorer(ptrs.data(), ptrs.size(), buf.data());
    for (std::size_t c = b; c < e; ++c) scoring.score(c, buf.data() + (c - b) * n);
    const auto d = done.fetch_add(e - b) + (e - b);
    if (progress && t == 0) progress({"evaluate", d, nc, ""});
  });
  if (progress) progress({"evaluate", nc, nc, ""});
  scoring.finish(train_counts, n_train_users);
  res.users_evaluated = static_cast<std::int64_t>(nc);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace driftrec::eval
