#include "driftrec/policy/policy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/topk.h"
#include "driftrec/policy/linear_bandit.h"

namespace driftrec::policy {

std::vector<std::int32_t> top_candidates(const float* scores, std::int32_t n_items, std::size_t m) {
  // The bounded heap of core/topk.h (one comparison for most items); it ranks +inf too, which is
  // not a finite score: dropped here (no model scores +inf; the contract is "finite").
  auto top = top_k(scores, static_cast<std::size_t>(std::max(n_items, 0)), m);
  std::vector<std::int32_t> out;
  out.reserve(top.size());
  for (std::size_t c = 0; c < top.size(); ++c)
    if (std::isfinite(top.scores[c])) out.push_back(top.items[c]);
  if (out.size() < top.size()) {  // +inf scores took places: rank the finite ones alone
    std::vector<float> finite(scores, scores + std::max(n_items, 0));
    for (auto& x : finite)
      if (!std::isfinite(x)) x = -INFINITY;
    return top_candidates(finite.data(), n_items, m);
  }
  return out;
}

Slate Greedy::choose(const SlateContext& ctx, Rng&) {
  Slate s;
  s.items = top_candidates(ctx.scores, ctx.n_items, ctx.k);
  s.propensity.assign(s.items.size(), 1.0);
  s.slate_probability = 1.0;
  return s;
}

std::vector<std::pair<std::int32_t, double>> Greedy::distribution(const SlateContext& ctx, std::size_t position,
                                                                  Rng&) const {
  const auto top = top_candidates(ctx.scores, ctx.n_items, ctx.k);
  if (position >= top.size()) return {};
  return {{top[position], 1.0}};
}

std::vector<std::pair<std::int32_t, double>> EpsilonGreedy::distribution(const SlateContext& ctx, std::size_t position,
                                                                         Rng&) const {
  const auto cands = top_candidates(ctx.scores, ctx.n_items, std::max(candidates_, ctx.k));
  if (position >= std::min(ctx.k, cands.size())) return {};
  std::vector<std::pair<std::int32_t, double>> out;
  for (std::size_t c = 0; c < cands.size(); ++c)
    out.emplace_back(cands[c], (c == position ? 1.0 - epsilon_ : 0.0) + epsilon_ / static_cast<double>(cands.size()));
  return out;
}

EpsilonGreedy::EpsilonGreedy(double epsilon, std::size_t candidates) : epsilon_(epsilon), candidates_(candidates) {
  if (!(epsilon >= 0 && epsilon <= 1)) throw InvalidInput("epsilon must lie in [0, 1]");
  if (candidates < 1) throw InvalidInput("candidates must be at least 1");
}

Slate EpsilonGreedy::choose(const SlateContext& ctx, Rng& rng) {
  auto cands = top_candidates(ctx.scores, ctx.n_items, std::max(candidates_, ctx.k));
  const std::size_t m = cands.size(), k = std::min(ctx.k, m);
  Slate s;
  if (k == 0) return s;
  // The greedy slate is the first k candidates in score order (top_candidates sorts them).
  const std::vector<std::int32_t> greedy(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(k));
  const bool explore = rng.uniform() < epsilon_;
  if (explore) {
    // k distinct candidates in random order (partial Fisher-Yates).
    for (std::size_t j = 0; j < k; ++j) std::swap(cands[j], cands[j + rng.uniform_int(m - j)]);
  }
  s.items.assign(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(k));
  double ordered = 1.0;  // number of ordered k-subsets of m: m (m-1) ... (m-k+1)
  for (std::size_t j = 0; j < k; ++j) ordered *= static_cast<double>(m - j);
  bool is_greedy = true;
  for (std::size_t j = 0; j < k; ++j) {
    const bool at_greedy = s.items[j] == greedy[j];
    is_greedy = is_greedy && at_greedy;
    s.propensity.push_back((1.0 - epsilon_) * (at_greedy ? 1.0 : 0.0) + epsilon_ / static_cast<double>(m));
  }
  s.slate_probability = (1.0 - epsilon_) * (is_greedy ? 1.0 : 0.0) + epsilon_ / ordered;
  return s;
}

Boltzmann::Boltzmann(double temperature, std::size_t candidates, int marginal_samples)
    : temperature_(temperature), candidates_(candidates), marginal_samples_(marginal_samples) {
  if (!(temperature > 0)) throw InvalidInput("temperature must be positive");
  if (candidates < 1) throw InvalidInput("candidates must be at least 1");
  if (marginal_samples < 1) throw InvalidInput("marginal samples must be at least 1");
}

namespace {

/// A uniform draw in (0, 1).
double open_uniform(Rng& rng) {
  double u = rng.uniform();
  while (u <= 0) u = rng.uniform();
  return u;
}

/// order = the indices of `keys`, the k smallest first (in order), the rest after them.
void smallest_first(const std::vector<double>& keys, std::size_t k, std::vector<std::size_t>& order) {
  order.resize(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
}

/// One Plackett-Luce draw of `k` candidate positions (indices into p) by Gumbel top-k.
void draw_pl(const std::vector<double>& logp, std::size_t k, Rng& rng, std::vector<double>& keys,
             std::vector<std::size_t>& order) {
  keys.resize(logp.size());
  // Ascending log(-log u) - log p_c: the descending Gumbel keys log p_c - log(-log u), negated exactly.
  for (std::size_t c = 0; c < logp.size(); ++c) keys[c] = std::log(-std::log(open_uniform(rng))) - logp[c];
  smallest_first(keys, k, order);
}

/// The same distribution for the Monte Carlo loops, by sequential sampling without replacement:
/// each pick is one uniform and binary searches on the cumulative sums of p, stepping over the items
/// already drawn (at most k). No logarithms; items of probability 0 are never drawn.
class PrefixSampler {
 public:
  explicit PrefixSampler(const std::vector<double>& p) : p_(p), cum_(p.size()) {
    double s = 0;
    for (std::size_t c = 0; c < p.size(); ++c) cum_[c] = s += p[c];
    total_ = s;
  }

  /// The first `len` items of one draw (indices into p), fewer if the mass runs out.
  void draw(std::size_t len, Rng& rng, std::vector<std::size_t>& out) {
    out.clear();
    taken_.clear();
    double taken_mass = 0;
    while (out.size() < len) {
      const double rest = total_ - taken_mass;
      if (!(rest > 0)) break;
      const auto c = pick(rng.uniform() * rest);
      if (c >= p_.size()) break;
      out.push_back(c);
      taken_.insert(std::upper_bound(taken_.begin(), taken_.end(), c), c);
      taken_mass += p_[c];
    }
  }

 private:
  /// The smallest item i not taken whose cumulative mass without the taken items exceeds `target`:
  /// past each taken item (in index order) the search target moves up by that item's mass.
  std::size_t pick(double target) const {
    std::size_t i = static_cast<std::size_t>(std::upper_bound(cum_.begin(), cum_.end(), target) - cum_.begin());
    // The target only grows, by one taken item's mass at a time: step forward from where it was.
    for (const auto j : taken_) {
      if (i < j) break;
      target += p_[j];
      while (i < cum_.size() && cum_[i] <= target) ++i;
    }
    // Rounding at a boundary: step over a taken item, or back from the end to the last drawable one.
    while (i < p_.size() && (std::binary_search(taken_.begin(), taken_.end(), i) || p_[i] <= 0)) ++i;
    if (i >= p_.size())
      for (i = p_.size(); i-- > 0;)
        if (p_[i] > 0 && !std::binary_search(taken_.begin(), taken_.end(), i)) break;
    return i;
  }

  const std::vector<double>& p_;
  std::vector<double> cum_;
  double total_ = 0;
  std::vector<std::size_t> taken_;  ///< sorted
};

}  // namespace

namespace {

double log_add(double a, double b) {
  if (a == -std::numeric_limits<double>::infinity()) return b;
  if (b == -std::numeric_limits<double>::infinity()) return a;
  const double m = std::max(a, b);
  return m + std::log(std::exp(a - m) + std::exp(b - m));
}

/// Plackett-Luce P(i at the second position) for every candidate: sum over a != i of
/// p_a p_i / (1 - p_a) = p_i (S - p_i / (1 - p_i)) with S = sum_a p_a / (1 - p_a), and 1 - p_a taken
/// as the sum of the other candidates (prefix/suffix sums, no cancellation). Plain sums; the
/// log-space sums only where another candidates' mass underflows (temperatures far below the scores).
std::vector<double> second_position(const std::vector<double>& logp, const std::vector<double>& p) {
  const std::size_t m = logp.size();
  std::vector<double> prefix(m + 1, 0.0), suffix(m + 1, 0.0), ratio(m);
  for (std::size_t c = 0; c < m; ++c) prefix[c + 1] = prefix[c] + p[c];
  for (std::size_t c = m; c-- > 0;) suffix[c] = suffix[c + 1] + p[c];
  double total = 0;
  bool underflow = false;
  for (std::size_t a = 0; a < m; ++a) {
    const double others = prefix[a] + suffix[a + 1];
    underflow = underflow || !(others > 1e-280);
    total += ratio[a] = p[a] / others;
  }
  if (underflow) {
    std::vector<double> lprefix(m + 1, -std::numeric_limits<double>::infinity()), lsuffix(m + 1, lprefix[0]);
    for (std::size_t c = 0; c < m; ++c) lprefix[c + 1] = log_add(lprefix[c], logp[c]);
    for (std::size_t c = m; c-- > 0;) lsuffix[c] = log_add(lsuffix[c + 1], logp[c]);
    total = 0;
    for (std::size_t a = 0; a < m; ++a) total += ratio[a] = std::exp(logp[a] - log_add(lprefix[a], lsuffix[a + 1]));
  }
  std::vector<double> prob(m);
  for (std::size_t i = 0; i < m; ++i) prob[i] = p[i] * std::max(0.0, total - ratio[i]);
  return prob;
}

/// log P(the first k of `order`) under Plackett-Luce (p = exp(logp)): the sum over picks of the pick's log-share of
/// the mass not yet shown. Plain sums of probabilities (no logarithm per candidate and pick); the
/// log-space sums only where a remaining mass underflows (temperatures far below the score scale).
double log_slate_probability(const std::vector<double>& logp, const std::vector<double>& p,
                             const std::vector<std::size_t>& order, std::size_t k) {
  const std::size_t m = logp.size();
  std::vector<char> taken(m, 0);
  double log_slate = 0;
  for (std::size_t j = 0; j < k; ++j) {
    double rest = 0;
    for (std::size_t c = 0; c < m; ++c) rest += taken[c] ? 0.0 : p[c];
    double log_rest = std::log(rest);
    if (!(rest > 1e-280)) {
      log_rest = -std::numeric_limits<double>::infinity();
      for (std::size_t c = 0; c < m; ++c)
        if (!taken[c]) log_rest = log_add(log_rest, logp[c]);
    }
    log_slate += logp[order[j]] - log_rest;
    taken[order[j]] = 1;
  }
  return log_slate;
}

/// Log-probabilities of the candidates: log softmax of score / temperature (shifted by the largest,
/// one exponential per candidate and one logarithm).
std::vector<double> log_softmax(const float* scores, const std::vector<std::int32_t>& cands, double temperature) {
  std::vector<double> logp(cands.size());
  double top = -std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < cands.size(); ++c) top = std::max(top, logp[c] = scores[cands[c]] / temperature);
  double sum = 0;
  for (double x : logp) sum += std::exp(x - top);
  const double lse = top + std::log(sum);
  for (double& x : logp) x -= lse;
  return logp;
}

}  // namespace

Slate Boltzmann::choose(const SlateContext& ctx, Rng& rng) {
  const auto cands = top_candidates(ctx.scores, ctx.n_items, std::max(candidates_, ctx.k));
  const std::size_t m = cands.size(), k = std::min(ctx.k, m);
  Slate s;
  if (k == 0) return s;
  // Log-probabilities throughout: at low temperatures the probabilities themselves underflow.
  const auto logp = log_softmax(ctx.scores, cands, temperature_);
  std::vector<double> keys;
  std::vector<std::size_t> order;
  draw_pl(logp, k, rng, keys, order);
  std::vector<double> p(m);
  for (std::size_t c = 0; c < m; ++c) p[c] = std::exp(logp[c]);
  // Slate probability: product of each pick's share of the mass not yet shown.
  for (std::size_t j = 0; j < k; ++j) s.items.push_back(cands[order[j]]);
  s.slate_probability = std::exp(log_slate_probability(logp, p, order, k));
  // Position 1: p_i. Position 2: sum over the item a shown first of p_a p_i / (1 - p_a), with
  // 1 - p_a as the log-sum of every other candidate (prefix/suffix sums, no cancellation).
  s.propensity.push_back(p[order[0]]);
  if (k > 1) s.propensity.push_back(second_position(logp, p)[order[1]]);
  if (k > 2 && !ctx.propensities) s.propensity.resize(k, std::numeric_limits<double>::quiet_NaN());
  if (k > 2 && ctx.propensities) {
    // Rao-Blackwellised Monte Carlo over fresh draws (a child stream, so the estimate is seeded
    // too): P(i at j) = E over first-j prefixes [i not in prefix] p_i / (mass outside the prefix),
    // every draw's prefixes serving every position at once.
    Rng mc = rng.fork(rng.next_u64());
    std::vector<double> est(k, 0.0);
    std::vector<std::size_t> o2;
    std::vector<char> in(m, 0);
    PrefixSampler sampler(p);
    for (int r = 0; r < marginal_samples_; ++r) {
      sampler.draw(k - 1, mc, o2);
      double inside = 0;
      for (std::size_t t = 0; t < o2.size(); ++t) {
        inside += p[o2[t]];
        in[o2[t]] = 1;
        const std::size_t j = t + 1, c = order[j];  // position j's prefix is o2[0..t]
        if (j >= 2 && !in[c]) est[j] += p[c] / std::max(1.0 - inside, p[c]);
      }
      for (const auto c : o2) in[c] = 0;
    }
    // The realised prefix is one more draw where every fresh prefix held the item (so no shown
    // item gets probability 0).
    double inside = p[order[0]] + p[order[1]];
    for (std::size_t j = 2; j < k; ++j) {
      const double e = est[j] / marginal_samples_;
      const double own = p[order[j]] / std::max(1.0 - inside, p[order[j]]);
      s.propensity.push_back(e > 0 ? e : own / (marginal_samples_ + 1.0));
      inside += p[order[j]];
    }
  }
  return s;
}

std::vector<std::pair<std::int32_t, double>> Boltzmann::distribution(const SlateContext& ctx, std::size_t position,
                                                                     Rng& rng) const {
  const auto cands = top_candidates(ctx.scores, ctx.n_items, std::max(candidates_, ctx.k));
  const std::size_t m = cands.size();
  if (position >= std::min(ctx.k, m)) return {};
  const auto logp = log_softmax(ctx.scores, cands, temperature_);
  std::vector<double> p(m), prob(m, 0.0);
  for (std::size_t c = 0; c < m; ++c) p[c] = std::exp(logp[c]);
  if (position == 0) {
    prob = p;
  } else if (position == 1) {
    prob = second_position(logp, p);
  } else {
    // Rao-Blackwellised as in choose(): each drawn prefix gives every item outside it its exact
    // probability of coming next.
    std::vector<std::size_t> order;
    std::vector<char> in(m, 0);
    PrefixSampler sampler(p);
    for (int r = 0; r < marginal_samples_; ++r) {
      sampler.draw(position, rng, order);
      for (const auto c : order) in[c] = 1;
      double rest = 0;
      for (std::size_t c = 0; c < m; ++c) rest += in[c] ? 0.0 : p[c];
      for (std::size_t c = 0; c < m; ++c)
        if (!in[c] && rest > 0) prob[c] += p[c] / rest / marginal_samples_;
      for (const auto c : order) in[c] = 0;
    }
  }
  std::vector<std::pair<std::int32_t, double>> out;
  for (std::size_t c = 0; c < m; ++c)
    if (prob[c] > 0) out.emplace_back(cands[c], prob[c]);
  return out;
}

PolicySpec parse_policy_spec(const std::string& spec) {
  PolicySpec s;
  const auto colon = spec.find(':');
  s.name = spec.substr(0, colon);
  if (colon == std::string::npos) return s;
  std::size_t b = colon + 1;
  while (b <= spec.size()) {
    const auto e = std::min(spec.find(',', b), spec.size());
    const auto part = spec.substr(b, e - b);
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw InvalidInput("policy option '" + part + "' is not key=value");
    const auto key = part.substr(0, eq), value = part.substr(eq + 1);
    double v;
    try {
      std::size_t used = 0;
      v = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      throw InvalidInput("policy option '" + key + "' needs a number, got '" + value + "'");
    }
    if (key == "epsilon")
      s.epsilon = v;
    else if (key == "temperature")
      s.temperature = v;
    else if (key == "candidates" && v >= 1)
      s.candidates = static_cast<std::size_t>(v);
    else if (key == "samples" && v >= 1)
      s.marginal_samples = static_cast<int>(v);
    else if (key == "alpha")
      s.alpha = v;
    else if (key == "lambda")
      s.lambda = v;
    else if (key == "prior")
      s.prior_weight = v;
    else if (key == "noise")
      s.noise = v;
    else
      throw InvalidInput("unknown or out-of-range policy option '" + part + "'");
    b = e + 1;
  }
  return s;
}

std::unique_ptr<Policy> make_policy(const PolicySpec& s) {
  if (s.name == "greedy") return std::make_unique<Greedy>();
  if (s.name == "epsilon-greedy") return std::make_unique<EpsilonGreedy>(s.epsilon, s.candidates);
  if (s.name == "boltzmann")
    return std::make_unique<Boltzmann>(s.temperature, s.candidates, s.marginal_samples > 0 ? s.marginal_samples : 32);
  if (s.name == "linucb" || s.name == "lints") {
    LinearBandit::Options o;
    o.thompson = s.name == "lints";
    o.alpha = s.alpha;
    o.lambda = s.lambda;
    o.prior_weight = s.prior_weight;
    o.noise = s.noise;
    o.candidates = s.candidates;
    o.marginal_samples = s.marginal_samples > 0 ? s.marginal_samples : 200;
    return std::make_unique<LinearBandit>(o);
  }
  throw InvalidInput("unknown policy '" + s.name + "' (greedy, epsilon-greedy, boltzmann, linucb, lints)");
}

}  // namespace driftrec::policy
