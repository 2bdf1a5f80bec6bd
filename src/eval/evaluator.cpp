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
  const int max_k = std::max(*std::max_element(opt.ks.begin(), opt.ks.end()), opt.beyond_k);
  const std::size_t list_len =
      std::max({static_cast<std::size_t>(max_k), opt.save_top, opt.rerank ? opt.rerank_depth : std::size_t{0}});
  const std::size_t nc = cases.size();

  std::vector<std::string> names;
  for (int k : opt.ks)
    for (const char* m : {"hr", "recall", "precision", "ndcg", "map"})
      names.push_back(std::string(m) + "@" + std::to_string(k));
  names.push_back("mrr");
  names.push_back("auc");
  const bool impressions = opt.impression_negatives > 0;
  if (impressions)
    for (const char* m : {"imp_auc", "imp_mrr", "imp_ndcg@5", "imp_ndcg@10"}) names.push_back(m);
  std::vector<std::vector<double>> values(names.size(), std::vector<double>(nc, 0.0));
  std::vector<ItemList> beyond_lists(nc), histories(opt.fairness ? nc : 0);
  std::vector<double> beyond_ndcg(opt.fairness ? nc : 0);
  EvalResult res;
  if (opt.save_top > 0) res.rankings.resize(nc);

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
    for (std::size_t c = b; c < e; ++c) {
      const auto& cs = cases[c];
      float* s = buf.data() + (c - b) * n;
      s[0] = -INFINITY;
      if (!opt.candidates.empty())
        for (std::size_t i = 0; i < n; ++i)
          if (i >= opt.candidates.size() || !opt.candidates[i]) s[i] = -INFINITY;
      if (opt.exclude_seen)
        for (auto r = full.log.user_begin(cs.user); r < cs.history_end; ++r) {
          const auto item = full.log.item[static_cast<std::size_t>(r)];
          // A re-consumed target stays rankable; every other seen item is excluded.
          if (item < n_items && std::find(cs.targets.begin(), cs.targets.end(), item) == cs.targets.end())
            s[item] = -INFINITY;
        }
      std::int64_t candidates = 0;
      for (std::size_t i = 0; i < n; ++i) candidates += s[i] > -INFINITY;
      std::int64_t best_rank = candidates + 1;
      double auc_sum = 0;
      for (auto tgt : cs.targets) {
        std::int64_t rank = candidates + 1;
        if (tgt > 0 && tgt < n_items && s[tgt] > -INFINITY) {
          const float st = s[tgt];
          std::int64_t ahead = 0;
          for (std::size_t i = 0; i < n; ++i)
            ahead += s[i] > -INFINITY && ranks_before(s[i], static_cast<std::int32_t>(i), st, tgt);
          rank = ahead + 1;
        }
        best_rank = std::min(best_rank, rank);
        auc_sum += rank > candidates ? 0.0 : auc_from_rank(rank, candidates);
      }
      const TopK top = top_k(s, n, list_len);
      ItemList list = opt.rerank ? opt.rerank(cs, top, static_cast<std::size_t>(max_k))
                                 : ItemList(top.items.begin(),
                                            top.items.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                                    top.size(), static_cast<std::size_t>(max_k))));
      std::size_t m = 0;
      for (int k : opt.ks) {
        values[m++][c] = hit_at(list, cs.targets, k);
        values[m++][c] = recall_at(list, cs.targets, k);
        values[m++][c] = precision_at(list, cs.targets, k);
        values[m++][c] = ndcg_at(list, cs.targets, k);
        values[m++][c] = average_precision_at(list, cs.targets, k);
      }
      values[m++][c] = best_rank <= candidates ? 1.0 / static_cast<double>(best_rank) : 0.0;
      values[m++][c] = cs.targets.empty() ? 0.0 : auc_sum / static_cast<double>(cs.targets.size());
      if (impressions) {
        // Shown = rankable targets + sampled rankable non-targets (a target the model cannot
        // score is shown with the lowest score).
        std::vector<std::int32_t> pool;
        for (std::size_t i = 1; i < n; ++i)
          if (s[i] > -INFINITY &&
              std::find(cs.targets.begin(), cs.targets.end(), static_cast<std::int32_t>(i)) == cs.targets.end())
            pool.push_back(static_cast<std::int32_t>(i));
        Rng rng = Rng(opt.impression_seed).fork(static_cast<std::uint64_t>(c));
        const auto shown = std::min(pool.size(), static_cast<std::size_t>(opt.impression_negatives));
        for (std::size_t k = 0; k < shown; ++k) std::swap(pool[k], pool[k + rng.uniform_int(pool.size() - k)]);
        std::vector<float> sc;
        std::vector<char> clicked;
        for (auto tgt : cs.targets) {
          sc.push_back(tgt > 0 && tgt < n_items && s[tgt] > -INFINITY ? s[tgt] : -std::numeric_limits<float>::max());
          clicked.push_back(1);
        }
        for (std::size_t k = 0; k < shown; ++k) {
          sc.push_back(s[pool[k]]);
          clicked.push_back(0);
        }
        ImpressionMetrics im;
        if (shown > 0 && !cs.targets.empty()) im = impression_metrics(sc, clicked);
        values[m++][c] = im.auc;
        values[m++][c] = im.mrr;
        values[m++][c] = im.ndcg5;
        values[m++][c] = im.ndcg10;
      }
      if (opt.fairness) {
        auto& h = histories[c];
        for (auto r = full.log.user_begin(cs.user); r < cs.history_end; ++r)
          h.push_back(full.log.item[static_cast<std::size_t>(r)]);
        beyond_ndcg[c] = ndcg_at(list, cs.targets, opt.beyond_k);
      }
      beyond_lists[c].assign(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                              list.size(), static_cast<std::size_t>(opt.beyond_k))));
      if (opt.save_top > 0) {
        auto& rk = res.rankings[c];
        rk.user = cs.user;
        rk.targets = cs.targets;
        const auto keep = std::min(top.size(), opt.save_top);
        rk.top.assign(top.items.begin(), top.items.begin() + static_cast<std::ptrdiff_t>(keep));
        rk.scores.assign(top.scores.begin(), top.scores.begin() + static_cast<std::ptrdiff_t>(keep));
      }
    }
    const auto d = done.fetch_add(e - b) + (e - b);
    if (progress && t == 0) progress({"evaluate", d, nc, ""});
  });
  if (progress) progress({"evaluate", nc, nc, ""});

  for (std::size_t m = 0; m < names.size(); ++m) {
    double sum = 0;
    for (double v : values[m]) sum += v;
    res.metrics[names[m]] = nc ? sum / static_cast<double>(nc) : 0.0;
    res.per_case[names[m]] = std::move(values[m]);
  }
  const std::string bk = "@" + std::to_string(opt.beyond_k);
  res.metrics["coverage" + bk] = catalog_coverage(beyond_lists, n_items - 1);
  res.metrics["novelty" + bk] = novelty(beyond_lists, train_counts, n_train_users);
  res.metrics["avg_popularity" + bk] = average_popularity(beyond_lists, train_counts);
  res.metrics["gini" + bk] = gini_of_exposure(beyond_lists, n_items - 1);
  if (opt.fairness) {
    std::vector<ItemList> targets(nc);
    std::vector<std::int32_t> users(nc);
    for (std::size_t c = 0; c < nc; ++c) {
      targets[c] = cases[c].targets;
      users[c] = cases[c].user;
    }
    for (auto& [name, v] : fairness_metrics(beyond_lists, targets, histories, users, beyond_ndcg, train_counts, n_items,
                                            opt.beyond_k, *opt.fairness))
      res.metrics[name] = v;
  }
  res.users_evaluated = static_cast<std::int64_t>(nc);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace driftrec::eval
