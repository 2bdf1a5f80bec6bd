#include "driftrec/eval/fairness.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"

namespace driftrec::eval {

std::vector<char> top_share(const std::vector<double>& activity, double share) {
  if (!(share >= 0.0 && share <= 1.0)) throw InvalidInput("group share must be in [0, 1]");
  std::vector<std::size_t> order(activity.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return activity[a] > activity[b]; });
  const auto n_top = static_cast<std::size_t>(std::llround(share * static_cast<double>(activity.size())));
  std::vector<char> flag(activity.size(), 0);
  for (std::size_t r = 0; r < n_top && r < order.size(); ++r) flag[order[r]] = 1;
  return flag;
}

std::vector<char> active_users(const std::vector<std::int32_t>& case_users, const std::vector<double>& history_length,
                               double share) {
  if (history_length.size() != case_users.size()) throw InvalidInput("active_users: one history length per case");
  std::int32_t max_user = 0;
  for (auto u : case_users) max_user = std::max(max_user, u);
  const auto top = top_share(history_length, share);
  std::vector<char> active(static_cast<std::size_t>(max_user) + 1, 0);
  for (std::size_t c = 0; c < case_users.size(); ++c)
    if (top[c]) active[static_cast<std::size_t>(case_users[c])] = 1;
  return active;
}

std::vector<char> long_tail_items(const std::vector<std::int64_t>& train_counts, std::int32_t n_items,
                                  double head_share) {
  if (n_items < 1) return {};
  std::vector<double> counts(static_cast<std::size_t>(n_items - 1), 0.0);
  for (std::size_t i = 1; i < static_cast<std::size_t>(n_items) && i < train_counts.size(); ++i)
    counts[i - 1] = static_cast<double>(train_counts[i]);
  const auto head = top_share(counts, head_share);
  std::vector<char> tail(static_cast<std::size_t>(n_items), 0);
  for (std::size_t i = 1; i < tail.size(); ++i) tail[i] = !head[i - 1];
  return tail;
}

double long_tail_share(const std::vector<ItemList>& lists, const std::vector<char>& long_tail) {
  double sum = 0;
  std::int64_t n = 0;
  for (const auto& l : lists) {
    if (l.empty()) continue;
    double tail = 0;
    for (auto i : l)
      tail += i >= 0 && static_cast<std::size_t>(i) < long_tail.size() && long_tail[static_cast<std::size_t>(i)];
    sum += tail / static_cast<double>(l.size());
    ++n;
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

namespace {

/// std / mean (population std) of the per-group probabilities; 0 when the mean is 0.
double relative_spread(const double p[2]) {
  const double mean = 0.5 * (p[0] + p[1]);
  if (mean <= 0) return 0.0;
  const double sd = std::sqrt(0.5 * ((p[0] - mean) * (p[0] - mean) + (p[1] - mean) * (p[1] - mean)));
  return sd / mean;
}

int group_of(std::int32_t i, const std::vector<char>& long_tail) {
  return static_cast<std::size_t>(i) < long_tail.size() && long_tail[static_cast<std::size_t>(i)] ? 1 : 0;
}

}  // namespace

PopularityBias popularity_bias(const std::vector<ItemList>& lists, const std::vector<ItemList>& targets,
                               const std::vector<ItemList>& seen, const std::vector<char>& long_tail,
                               std::int32_t n_items) {
  if (targets.size() != lists.size() || seen.size() != lists.size())
    throw InvalidInput("popularity_bias: lists, targets and seen must have one entry per case");
  double group_size[2] = {0, 0};
  for (std::int32_t i = 1; i < n_items; ++i) group_size[group_of(i, long_tail)] += 1;
  double rec[2] = {0, 0}, rankable[2] = {0, 0}, rec_test[2] = {0, 0}, test[2] = {0, 0};
  for (std::size_t c = 0; c < lists.size(); ++c) {
    ItemList s = seen[c];
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
    double seen_in[2] = {0, 0};
    for (auto i : s)
      if (i > 0 && i < n_items) seen_in[group_of(i, long_tail)] += 1;
    for (int g = 0; g < 2; ++g) rankable[g] += group_size[g] - seen_in[g];
    for (auto i : lists[c]) {
      const int g = group_of(i, long_tail);
      rec[g] += 1;
      if (std::find(targets[c].begin(), targets[c].end(), i) != targets[c].end()) rec_test[g] += 1;
    }
    for (auto i : targets[c])
      if (i > 0 && i < n_items) test[group_of(i, long_tail)] += 1;
  }
  PopularityBias out;
  const double p_rsp[2] = {rankable[0] > 0 ? rec[0] / rankable[0] : 0.0, rankable[1] > 0 ? rec[1] / rankable[1] : 0.0};
  const double p_reo[2] = {test[0] > 0 ? rec_test[0] / test[0] : 0.0, test[1] > 0 ? rec_test[1] / test[1] : 0.0};
  out.rsp = relative_spread(p_rsp);
  out.reo = relative_spread(p_reo);
  return out;
}

std::vector<double> category_distribution(const ItemList& items, const data::ItemTable& table, double half_life) {
  std::vector<double> p(static_cast<std::size_t>(table.categories.size()), 0.0);
  double total = 0;
  const auto n = items.size();
  for (std::size_t j = 0; j < n; ++j) {
    const auto i = items[j];
    const double weight = half_life > 0 ? std::exp2(-static_cast<double>(n - 1 - j) / half_life) : 1.0;
    if (i < 0 || static_cast<std::size_t>(i) + 1 >= table.category_offsets.size()) continue;
    const auto b = table.category_offsets[static_cast<std::size_t>(i)],
               e = table.category_offsets[static_cast<std::size_t>(i) + 1];
    if (b == e) continue;
    const double share = weight / static_cast<double>(e - b);
    for (auto q = b; q < e; ++q) p[static_cast<std::size_t>(table.category_ids[static_cast<std::size_t>(q)])] += share;
    total += weight;
  }
  if (total > 0)
    for (auto& x : p) x /= total;
  return p;
}

double calibration_kl(const std::vector<double>& p, const std::vector<double>& q, double a) {
  if (p.size() != q.size()) throw InvalidInput("calibration_kl: distributions of different sizes");
  double kl = 0;
  for (std::size_t g = 0; g < p.size(); ++g)
    if (p[g] > 0) kl += p[g] * std::log(p[g] / ((1 - a) * q[g] + a * p[g]));
  return kl;
}

double miscalibration(const ItemList& history, const ItemList& list, const data::ItemTable& table, double a) {
  const auto p = category_distribution(history, table);
  const auto q = category_distribution(list, table);
  const double ps = std::accumulate(p.begin(), p.end(), 0.0), qs = std::accumulate(q.begin(), q.end(), 0.0);
  if (ps <= 0 || qs <= 0) return 0.0;
  return calibration_kl(p, q, a);
}

std::vector<std::int32_t> item_categories(const data::ItemTable& t, std::int32_t i) {
  std::vector<std::int32_t> c;
  if (i >= 0 && static_cast<std::size_t>(i) + 1 < t.category_offsets.size())
    c.assign(t.category_ids.begin() + t.category_offsets[static_cast<std::size_t>(i)],
             t.category_ids.begin() + t.category_offsets[static_cast<std::size_t>(i) + 1]);
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

double category_cosine(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::vector<std::int32_t> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  const double norm = std::sqrt(static_cast<double>(a.size()) * static_cast<double>(b.size()));
  return norm > 0 ? static_cast<double>(common.size()) / norm : 0.0;
}

double intra_list_diversity(const ItemList& list, const data::ItemTable& table) {
  if (list.size() < 2) return 0.0;
  std::vector<std::vector<std::int32_t>> c;
  for (auto i : list) c.push_back(item_categories(table, i));
  double sum = 0;
  std::int64_t pairs = 0;
  for (std::size_t x = 0; x < c.size(); ++x)
    for (std::size_t y = x + 1; y < c.size(); ++y) {
      sum += 1.0 - category_cosine(c[x], c[y]);
      ++pairs;
    }
  return sum / static_cast<double>(pairs);
}

GroupGap group_gap(const std::vector<double>& values, const std::vector<std::int32_t>& case_users,
                   const std::vector<char>& active) {
  if (values.size() != case_users.size()) throw InvalidInput("group_gap: one user per value is needed");
  GroupGap g;
  for (std::size_t c = 0; c < values.size(); ++c) {
    const auto u = static_cast<std::size_t>(case_users[c]);
    if (u < active.size() && active[u]) {
      g.active += values[c];
      ++g.n_active;
    } else {
      g.inactive += values[c];
      ++g.n_inactive;
    }
  }
  if (g.n_active) g.active /= static_cast<double>(g.n_active);
  if (g.n_inactive) g.inactive /= static_cast<double>(g.n_inactive);
  g.gap = g.active - g.inactive;
  return g;
}

std::map<std::string, double> fairness_metrics(const std::vector<ItemList>& lists, const std::vector<ItemList>& targets,
                                               const std::vector<ItemList>& histories,
                                               const std::vector<std::int32_t>& case_users,
                                               const std::vector<double>& ndcg,
                                               const std::vector<std::int64_t>& train_counts, std::int32_t n_items,
                                               int k, const FairnessOptions& o,
                                               std::map<std::string, std::vector<double>>* per_case) {
  const auto long_tail = o.long_tail.empty() ? long_tail_items(train_counts, n_items, o.head_share) : o.long_tail;
  std::vector<char> active = o.active;
  if (active.empty()) {  // the top share of evaluated users by history length
    std::vector<double> length(case_users.size());
    for (std::size_t c = 0; c < case_users.size(); ++c) length[c] = static_cast<double>(histories[c].size());
    active = active_users(case_users, length, o.active_share);
  }
  const std::string at = "@" + std::to_string(k);
  std::map<std::string, double> m;
  m["aplt" + at] = long_tail_share(lists, long_tail);
  const auto bias = popularity_bias(lists, targets, histories, long_tail, n_items);
  m["pop_rsp" + at] = bias.rsp;
  m["pop_reo" + at] = bias.reo;
  const auto gap = group_gap(ndcg, case_users, active);
  m["ndcg" + at + "_active"] = gap.active;
  m["ndcg" + at + "_inactive"] = gap.inactive;
  m["ndcg" + at + "_gap"] = gap.gap;
  if (per_case) {
    auto& aplt = (*per_case)["aplt" + at];
    aplt.assign(lists.size(), 0.0);
    for (std::size_t c = 0; c < lists.size(); ++c)
      if (!lists[c].empty()) aplt[c] = long_tail_share({lists[c]}, long_tail);
  }
  if (o.items && o.items->has_categories()) {
    std::vector<double> mis(lists.size()), ild(lists.size());
    for (std::size_t c = 0; c < lists.size(); ++c) {
      mis[c] = miscalibration(histories[c], lists[c], *o.items);
      ild[c] = intra_list_diversity(lists[c], *o.items);
    }
    const double n = lists.empty() ? 1.0 : static_cast<double>(lists.size());
    m["miscalibration" + at] = std::accumulate(mis.begin(), mis.end(), 0.0) / n;
    m["ild" + at] = std::accumulate(ild.begin(), ild.end(), 0.0) / n;
    if (per_case) {
      (*per_case)["miscalibration" + at] = std::move(mis);
      (*per_case)["ild" + at] = std::move(ild);
    }
  }
  return m;
}

}  // namespace driftrec::eval
