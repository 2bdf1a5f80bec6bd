#include "driftrec/rerank/reranker.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/eval/fairness.h"

namespace driftrec::rerank {

namespace {

/// Candidate scores min-max normalised to [0, 1] (all 1 when they are equal).
std::vector<double> relevance(const Request& r) {
  if (r.scores.size() != r.items.size()) throw InvalidInput("rerank: one score per candidate is needed");
  std::vector<double> rel(r.scores.size(), 1.0);
  if (r.scores.empty()) return rel;
  const auto [lo, hi] = std::minmax_element(r.scores.begin(), r.scores.end());
  if (*hi > *lo)
    for (std::size_t c = 0; c < rel.size(); ++c) rel[c] = (r.scores[c] - *lo) / (static_cast<double>(*hi) - *lo);
  return rel;
}

/// The candidates at `positions`, in that order.
std::vector<std::int32_t> items_at(const Request& r, const std::vector<std::size_t>& positions) {
  std::vector<std::int32_t> out;
  for (auto c : positions) out.push_back(r.items[c]);
  return out;
}

/// Greedy selection: k times, the unused candidate with the largest gain(c, chosen), ties by
/// candidate order; picked(c) is told of each choice (for re-rankers that keep running sums).
/// Returns the chosen candidates' positions in the order chosen.
template <typename Gain, typename Picked>
std::vector<std::size_t> greedy_positions(const Request& r, std::size_t k, Gain gain, Picked picked) {
  std::vector<char> used(r.items.size(), 0);
  std::vector<std::size_t> chosen;
  const auto n = std::min(k, r.items.size());
  while (chosen.size() < n) {
    std::size_t best = r.items.size();
    double best_gain = -INFINITY;
    for (std::size_t c = 0; c < r.items.size(); ++c) {
      if (used[c]) continue;
      const double g = gain(c, chosen);
      if (g > best_gain) {
        best_gain = g;
        best = c;
      }
    }
    if (best == r.items.size()) break;  // nothing left may be chosen
    used[best] = 1;
    chosen.push_back(best);
    picked(best);
  }
  return chosen;
}

/// greedy_positions' items.
template <typename Gain, typename Picked>
std::vector<std::int32_t> greedy(const Request& r, std::size_t k, Gain gain, Picked picked) {
  return items_at(r, greedy_positions(r, k, gain, picked));
}

template <typename Gain>
std::vector<std::int32_t> greedy(const Request& r, std::size_t k, Gain gain) {
  return greedy(r, k, gain, [](std::size_t) {});
}

/// Steck's calibrated list; `in_score_order`: the same k items, shown in the model's order (the
/// list's category mix, hence its miscalibration, is the same; its best items come first).
class Calibrated final : public Reranker {
 public:
  Calibrated(double lambda, double half_life, const data::ItemTable& t, bool in_score_order)
      : lambda_(lambda), half_life_(half_life), t_(t), in_score_order_(in_score_order) {}
  std::string name() const override {
    return (in_score_order_ ? "calibrated_set:" : "calibrated:") + std::to_string(lambda_) +
           (half_life_ > 0 ? ":" + std::to_string(half_life_) : "");
  }
  std::vector<std::int32_t> rerank(const Request& r, std::size_t k) const override {
    auto chosen = select(r, k);
    // Candidates come best first, so their positions in ascending order are the model's order.
    if (in_score_order_) std::sort(chosen.begin(), chosen.end());
    return items_at(r, chosen);
  }

 private:
  /// The greedy's choice: candidate positions in the order chosen.
  std::vector<std::size_t> select(const Request& r, std::size_t k) const {
    // Relevance on the scale of Steck's scores, which are probabilities: shares of the model's own
    // top k, so a list's relevance is at most 1 like the KL term it is traded against.
    auto rel = relevance(r);
    double top = 0;
    for (std::size_t c = 0; c < std::min(k, rel.size()); ++c) top += rel[c];
    if (top > 0)
      for (auto& x : rel) x /= top;
    const auto p = eval::category_distribution(r.history, t_, half_life_);
    const auto n_cat = p.size();
    // Category mass of every candidate (split evenly over its categories).
    std::vector<std::vector<std::pair<std::size_t, double>>> mass(r.items.size());
    for (std::size_t c = 0; c < r.items.size(); ++c) {
      const auto cats = eval::item_categories(t_, r.items[c]);
      for (auto g : cats) mass[c].emplace_back(static_cast<std::size_t>(g), 1.0 / static_cast<double>(cats.size()));
    }
    // Running sums of the chosen items: relevance, category mass and how many have a category.
    std::vector<double> sum(n_cat, 0.0);
    double rel_sum = 0, n_categorised = 0;
    auto kl_with = [&](std::size_t c) {
      std::vector<double> q = sum;
      const double n = n_categorised + (mass[c].empty() ? 0.0 : 1.0);
      for (const auto& [g, m] : mass[c]) q[g] += m;
      if (n > 0)
        for (auto& x : q) x /= n;
      return eval::calibration_kl(p, q);
    };
    return greedy_positions(
        r, k,
        [&](std::size_t c, const std::vector<std::size_t>&) {
          return (1 - lambda_) * (rel_sum + rel[c]) - lambda_ * kl_with(c);
        },
        [&](std::size_t c) {
          rel_sum += rel[c];
          for (const auto& [g, m] : mass[c]) sum[g] += m;
          n_categorised += mass[c].empty() ? 0.0 : 1.0;
        });
  }

  double lambda_;
  double half_life_;  ///< > 0: the history's mix weighs events by recency (events)
  const data::ItemTable& t_;
  bool in_score_order_;
};

class Mmr final : public Reranker {
 public:
  Mmr(double lambda, const data::ItemTable& t) : lambda_(lambda), t_(t) {}
  std::string name() const override { return "mmr:" + std::to_string(lambda_); }
  std::vector<std::int32_t> rerank(const Request& r, std::size_t k) const override {
    const auto rel = relevance(r);
    std::vector<std::vector<std::int32_t>> cats(r.items.size());
    for (std::size_t c = 0; c < r.items.size(); ++c) cats[c] = eval::item_categories(t_, r.items[c]);
    auto sim = [&](std::size_t a, std::size_t b) { return eval::category_cosine(cats[a], cats[b]); };
    return greedy(r, k, [&](std::size_t c, const std::vector<std::size_t>& chosen) {
      double most = 0;
      for (auto j : chosen) most = std::max(most, sim(c, j));
      return (1 - lambda_) * rel[c] - lambda_ * most;
    });
  }

 private:
  double lambda_;
  const data::ItemTable& t_;
};

class LongTail final : public Reranker {
 public:
  LongTail(double share, std::vector<char> tail) : share_(share), tail_(std::move(tail)) {}
  std::string name() const override { return "longtail:" + std::to_string(share_); }
  std::vector<std::int32_t> rerank(const Request& r, std::size_t k) const override {
    auto is_tail = [&](std::size_t c) {
      const auto i = static_cast<std::size_t>(r.items[c]);
      return i < tail_.size() && tail_[i];
    };
    std::size_t tail_available = 0;
    for (std::size_t c = 0; c < r.items.size(); ++c) tail_available += is_tail(c);
    const auto n = std::min(k, r.items.size());
    const auto quota =
        std::min(tail_available, static_cast<std::size_t>(std::ceil(share_ * static_cast<double>(k) - 1e-9)));
    // Candidates are in score order: the first unused one, or the first unused long-tail one when
    // the remaining slots are needed for the quota.
    std::size_t tail_chosen = 0;
    return greedy(
        r, k,
        [&](std::size_t c, const std::vector<std::size_t>& chosen) {
          const bool must = quota > tail_chosen && quota - tail_chosen >= n - chosen.size();
          if (must && !is_tail(c)) return -std::numeric_limits<double>::infinity();
          return -static_cast<double>(c);
        },
        [&](std::size_t c) { tail_chosen += is_tail(c); });
  }

 private:
  double share_;
  std::vector<char> tail_;
};

/// Relevance blended with (1 - normalised popularity): favours less exposed items. `exposure`
/// applies it to every list, `consumer` only to active users' lists.
class PopularityPenalty final : public Reranker {
 public:
  PopularityPenalty(std::string kind, double lambda, std::vector<std::int64_t> popularity, bool active_only)
      : kind_(std::move(kind)), lambda_(lambda), pop_(std::move(popularity)), active_only_(active_only) {}
  std::string name() const override { return kind_ + ":" + std::to_string(lambda_); }
  std::vector<std::int32_t> rerank(const Request& r, std::size_t k) const override {
    if ((active_only_ && !r.active_user) || lambda_ == 0)
      return std::vector<std::int32_t>(r.items.begin(),
                                       r.items.begin() + static_cast<std::ptrdiff_t>(std::min(k, r.items.size())));
    const auto rel = relevance(r);
    auto pop = [&](std::size_t c) {
      const auto i = static_cast<std::size_t>(r.items[c]);
      return i < pop_.size() ? static_cast<double>(pop_[i]) : 0.0;
    };
    double top = 0;
    for (std::size_t c = 0; c < r.items.size(); ++c) top = std::max(top, pop(c));
    return greedy(r, k, [&](std::size_t c, const std::vector<std::size_t>&) {
      return (1 - lambda_) * rel[c] + lambda_ * (top > 0 ? 1.0 - pop(c) / top : 0.0);
    });
  }

 private:
  std::string kind_;
  double lambda_;
  std::vector<std::int64_t> pop_;
  bool active_only_;
};

/// Parses all of `v` as a number into `x`; false when it is empty or has anything else.
bool number(const std::string& v, double& x) {
  char* end = nullptr;
  x = std::strtod(v.c_str(), &end);
  return !v.empty() && end == v.c_str() + v.size();
}

/// Stages applied in turn: each re-orders all candidates, the last picks k; a later stage sees the
/// earlier order as its relevance (linear in rank).
class Chain final : public Reranker {
 public:
  explicit Chain(std::vector<std::unique_ptr<Reranker>> stages) : stages_(std::move(stages)) {}
  std::string name() const override {
    std::string n;
    for (const auto& s : stages_) n += (n.empty() ? "" : "+") + s->name();
    return n;
  }
  std::vector<std::int32_t> rerank(const Request& r, std::size_t k) const override {
    Request q = r;
    for (std::size_t s = 0; s + 1 < stages_.size(); ++s) {
      q.items = stages_[s]->rerank(q, q.items.size());
      for (std::size_t c = 0; c < q.items.size(); ++c) q.scores[c] = static_cast<float>(q.items.size() - c);
      q.scores.resize(q.items.size());
    }
    return stages_.back()->rerank(q, k);
  }

 private:
  std::vector<std::unique_ptr<Reranker>> stages_;
};

}  // namespace

std::vector<std::string> reranker_names() {
  return {"calibrated", "calibrated_set", "mmr", "longtail", "exposure", "consumer"};
}

std::unique_ptr<Reranker> make_reranker(const std::string& spec, const Catalogue& cat) {
  if (spec.empty() || spec == "none") return nullptr;
  if (const auto plus = spec.find('+'); plus != std::string::npos) {
    std::vector<std::unique_ptr<Reranker>> stages;
    std::size_t from = 0;
    for (auto at = plus; from <= spec.size(); at = spec.find('+', from)) {
      const auto part = spec.substr(from, at == std::string::npos ? std::string::npos : at - from);
      auto stage = make_reranker(part, cat);
      if (!stage) throw InvalidInput("re-ranker chain '" + spec + "': empty stage");
      stages.push_back(std::move(stage));
      if (at == std::string::npos) break;
      from = at + 1;
    }
    return std::make_unique<Chain>(std::move(stages));
  }
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  const bool calibrated = name == "calibrated" || name == "calibrated_set";
  // calibrated's optional second field: the half-life of its history mix, in events.
  const auto second = colon == std::string::npos ? std::string::npos : spec.find(':', colon + 1);
  if (second != std::string::npos && !calibrated)
    throw InvalidInput("re-ranker '" + spec + "': only calibrated and calibrated_set take a second field");
  double strength = 0.5, half_life = 0;
  if (colon != std::string::npos) {
    const auto v = spec.substr(colon + 1, second == std::string::npos ? std::string::npos : second - colon - 1);
    if (!number(v, strength) || !(strength >= 0.0 && strength <= 1.0))
      throw InvalidInput("re-ranker '" + spec + "': the strength after ':' must be a number in [0, 1]");
  }
  if (second != std::string::npos &&
      (!number(spec.substr(second + 1), half_life) || !(half_life >= 0.0) || std::isinf(half_life)))
    throw InvalidInput("re-ranker '" + spec + "': the half-life after the second ':' must be a number of events >= 0");
  auto need_categories = [&]() -> const data::ItemTable& {
    if (!cat.items || !cat.items->has_categories())
      throw InvalidInput("re-ranker '" + name + "' needs item categories, and this data has none");
    return *cat.items;
  };
  if (calibrated) return std::make_unique<Calibrated>(strength, half_life, need_categories(), name == "calibrated_set");
  if (name == "mmr") return std::make_unique<Mmr>(strength, need_categories());
  if (name == "longtail") {
    if (cat.long_tail.empty()) throw InvalidInput("re-ranker 'longtail' needs long-tail item flags");
    return std::make_unique<LongTail>(strength, cat.long_tail);
  }
  if (name == "exposure" || name == "consumer") {
    if (cat.popularity.empty()) throw InvalidInput("re-ranker '" + name + "' needs item popularity");
    return std::make_unique<PopularityPenalty>(name, strength, cat.popularity, name == "consumer");
  }
  std::string known;
  for (const auto& n : reranker_names()) known += (known.empty() ? "" : ", ") + n;
  throw InvalidInput("unknown re-ranker '" + name + "' (" + known + ", none)");
}

}  // namespace driftrec::rerank
