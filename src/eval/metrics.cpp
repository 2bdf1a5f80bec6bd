#include "driftrec/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "driftrec/core/error.h"

namespace driftrec::eval {

namespace {
std::size_t top(const ItemList& ranked, int k) {
  return std::min(ranked.size(), static_cast<std::size_t>(std::max(0, k)));
}
bool contains(const ItemList& v, std::int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }
std::size_t hits(const ItemList& ranked, const ItemList& relevant, int k) {
  std::size_t h = 0;
  for (std::size_t i = 0; i < top(ranked, k); ++i) h += contains(relevant, ranked[i]);
  return h;
}
void check_sizes(std::size_t a, std::size_t b) {
  if (a != b) throw InvalidInput("metric inputs differ in length");
  if (a == 0) throw InvalidInput("metric of an empty input");
}
}  // namespace

double hit_at(const ItemList& ranked, const ItemList& relevant, int k) {
  return hits(ranked, relevant, k) > 0 ? 1.0 : 0.0;
}

double recall_at(const ItemList& ranked, const ItemList& relevant, int k) {
  if (relevant.empty()) return 0.0;
  return static_cast<double>(hits(ranked, relevant, k)) / static_cast<double>(relevant.size());
}

double precision_at(const ItemList& ranked, const ItemList& relevant, int k) {
  if (k <= 0) return 0.0;
  return static_cast<double>(hits(ranked, relevant, k)) / static_cast<double>(k);
}

double ndcg_at(const ItemList& ranked, const ItemList& relevant, int k) {
  if (relevant.empty() || k <= 0) return 0.0;
  double dcg = 0, idcg = 0;
  for (std::size_t i = 0; i < top(ranked, k); ++i)
    if (contains(relevant, ranked[i])) dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  const std::size_t ideal = std::min(relevant.size(), static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < ideal; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  return dcg / idcg;
}

double average_precision_at(const ItemList& ranked, const ItemList& relevant, int k) {
  if (relevant.empty() || k <= 0) return 0.0;
  double sum = 0;
  std::size_t h = 0;
  for (std::size_t i = 0; i < top(ranked, k); ++i)
    if (contains(relevant, ranked[i])) sum += static_cast<double>(++h) / static_cast<double>(i + 1);
  return sum / static_cast<double>(std::min(relevant.size(), static_cast<std::size_t>(k)));
}

double reciprocal_rank(const ItemList& ranked, const ItemList& relevant) {
  for (std::size_t i = 0; i < ranked.size(); ++i)
    if (contains(relevant, ranked[i])) return 1.0 / static_cast<double>(i + 1);
  return 0.0;
}

double ndcg_from_rank(std::int64_t rank, int k) {
  return rank >= 1 && rank <= k ? 1.0 / std::log2(static_cast<double>(rank) + 1.0) : 0.0;
}

double auc_from_rank(std::int64_t rank, std::int64_t n) {
  if (n <= 1) return 1.0;
  return static_cast<double>(n - rank) / static_cast<double>(n - 1);
}

Confusion confusion(const std::vector<int>& labels, const std::vector<double>& scores, double threshold) {
  check_sizes(labels.size(), scores.size());
  Confusion c;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const bool pred = scores[i] >= threshold, pos = labels[i] != 0;
    if (pred && pos)
      ++c.tp;
    else if (pred)
      ++c.fp;
    else if (pos)
      ++c.fn;
    else
      ++c.tn;
  }
  return c;
}
double accuracy(const Confusion& c) {
  const auto n = c.tp + c.fp + c.tn + c.fn;
  return n ? static_cast<double>(c.tp + c.tn) / static_cast<double>(n) : 0.0;
}
double precision(const Confusion& c) {
  return c.tp + c.fp ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp) : 0.0;
}
double recall(const Confusion& c) {
  return c.tp + c.fn ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fn) : 0.0;
}
double f1(const Confusion& c) {
  const double p = precision(c), r = recall(c);
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double roc_auc(const std::vector<int>& labels, const std::vector<double>& scores) {
  check_sizes(labels.size(), scores.size());
  std::vector<std::size_t> idx(labels.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Sum of (mid-)ranks of positives.
  double rank_sum = 0;
  std::int64_t pos = 0, neg = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) ++j;
    const double mid = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t q = i; q < j; ++q) {
      if (labels[idx[q]]) {
        rank_sum += mid;
        ++pos;
      } else {
        ++neg;
      }
    }
    i = j;
  }
  if (pos == 0 || neg == 0) throw InvalidInput("AUC needs both positive and negative labels");
  return (rank_sum - static_cast<double>(pos) * static_cast<double>(pos + 1) / 2.0) /
         (static_cast<double>(pos) * static_cast<double>(neg));
}

double log_loss(const std::vector<int>& labels, const std::vector<double>& p, double eps) {
  check_sizes(labels.size(), p.size());
  double s = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double q = std::clamp(p[i], eps, 1 - eps);
    s -= labels[i] ? std::log(q) : std::log(1 - q);
  }
  return s / static_cast<double>(labels.size());
}

double mae(const std::vector<double>& t, const std::vector<double>& p) {
  check_sizes(t.size(), p.size());
  double s = 0;
  for (std::size_t i = 0; i < t.size(); ++i) s += std::fabs(t[i] - p[i]);
  return s / static_cast<double>(t.size());
}
double mse(const std::vector<double>& t, const std::vector<double>& p) {
  check_sizes(t.size(), p.size());
  double s = 0;
  for (std::size_t i = 0; i < t.size(); ++i) s += (t[i] - p[i]) * (t[i] - p[i]);
  return s / static_cast<double>(t.size());
}
double rmse(const std::vector<double>& t, const std::vector<double>& p) { return std::sqrt(mse(t, p)); }

double catalog_coverage(const std::vector<ItemList>& lists, std::int32_t n_items) {
  if (n_items <= 0) return 0.0;
  std::unordered_set<std::int32_t> seen;
  for (const auto& l : lists) seen.insert(l.begin(), l.end());
  return static_cast<double>(seen.size()) / static_cast<double>(n_items);
}

double novelty(const std::vector<ItemList>& lists, const std::vector<std::int64_t>& count, std::int64_t n_users) {
  double s = 0;
  std::int64_t n = 0;
  for (const auto& l : lists)
    for (auto i : l) {
      const double c = std::max<std::int64_t>(1, count.at(static_cast<std::size_t>(i)));
      s += -std::log2(std::min(1.0, c / static_cast<double>(std::max<std::int64_t>(1, n_users))));
      ++n;
    }
  return n ? s / static_cast<double>(n) : 0.0;
}

double average_popularity(const std::vector<ItemList>& lists, const std::vector<std::int64_t>& count) {
  double s = 0;
  std::int64_t n = 0;
  for (const auto& l : lists)
    for (auto i : l) {
      s += static_cast<double>(count.at(static_cast<std::size_t>(i)));
      ++n;
    }
  return n ? s / static_cast<double>(n) : 0.0;
}

double gini(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  double total = 0, weighted = 0;
  const auto n = static_cast<double>(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    total += v[i];
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * v[i];
  }
  return total > 0 ? weighted / (n * total) : 0.0;
}

double gini_of_exposure(const std::vector<ItemList>& lists, std::int32_t n_items) {
  std::vector<double> exposure(static_cast<std::size_t>(std::max(0, n_items)), 0.0);
  for (const auto& l : lists)
    for (auto i : l)
      if (i >= 1 && i <= n_items) exposure[static_cast<std::size_t>(i - 1)] += 1.0;
  return gini(std::move(exposure));
}

}  // namespace driftrec::eval
