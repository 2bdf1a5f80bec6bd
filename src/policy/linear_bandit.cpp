#include "driftrec/policy/linear_bandit.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>

#include "driftrec/core/error.h"

namespace driftrec::policy {

namespace {

/// Mean and standard deviation of the candidates' scores (for the standardised-score feature).
std::pair<double, double> score_moments(const SlateContext& ctx, const std::vector<std::int32_t>& cands) {
  const double m = static_cast<double>(std::max<std::size_t>(1, cands.size()));
  double mean = 0, sq = 0;
  for (auto i : cands) mean += ctx.scores[i];
  mean /= m;
  for (auto i : cands) sq += (ctx.scores[i] - mean) * (ctx.scores[i] - mean);
  return {mean, std::max(1e-6, std::sqrt(sq / m))};
}

}  // namespace

LinearBandit::LinearBandit(Options o) : o_(o) {
  if (!(o.lambda > 0) || !(o.noise > 0) || !(o.alpha >= 0))
    throw InvalidInput("linear bandit: lambda and noise must be positive, alpha non-negative");
  if (o.candidates < 1 || o.marginal_samples < 1)
    throw InvalidInput("linear bandit: candidates and samples must be at least 1");
}

std::vector<double> LinearBandit::theta() const {
  std::shared_lock lock(mu_);
  return theta_;
}

std::size_t LinearBandit::updates() const {
  std::shared_lock lock(mu_);
  return updates_;
}

std::size_t LinearBandit::feature_dim() const {
  std::shared_lock lock(mu_);
  return d_;
}

std::size_t LinearBandit::width(const SlateContext& ctx) {
  return 1 + ((ctx.item_matrix && ctx.query) ? static_cast<std::size_t>(ctx.dim) : 0);
}

std::size_t LinearBandit::dim_for(const SlateContext& ctx) {
  const std::size_t d = width(ctx);
  {
    std::shared_lock lock(mu_);
    if (d_ == d) return d;
  }
  std::unique_lock lock(mu_);
  ensure_dim(d);
  return d;
}

void LinearBandit::ensure_dim(std::size_t d) {
  if (d_ == d) return;
  if (d_ != 0) throw InvalidInput("linear bandit: the embedding width changed between calls");
  d_ = d;
  a_inv_.assign(d * d, 0.0);
  for (std::size_t t = 0; t < d; ++t) a_inv_[t * d + t] = 1.0 / o_.lambda;
  theta_.assign(d, 0.0);
  theta_[0] = o_.prior_weight;
  b_.assign(d, 0.0);
  b_[0] = o_.lambda * o_.prior_weight;
}

void LinearBandit::features(const SlateContext& ctx, std::int32_t item, double mean, double sd, double* x) const {
  x[0] = (ctx.scores[item] - mean) / sd;
  if (ctx.item_matrix && ctx.query) {
    const float* v = ctx.item_matrix + static_cast<std::size_t>(item) * ctx.dim;
    for (int t = 0; t < ctx.dim; ++t) x[1 + t] = static_cast<double>(ctx.query[t]) * v[t];
  }
}

std::vector<std::size_t> LinearBandit::top_k(const std::vector<double>& value, std::size_t k) {
  std::vector<std::size_t> order(value.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
      [&](std::size_t a, std::size_t b) { return value[a] > value[b] || (value[a] == value[b] && a < b); });
  order.resize(k);
  return order;
}

std::vector<double> LinearBandit::cholesky() const {
  const std::size_t d = d_;
  std::vector<double> l(d * d, 0.0);
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double s = a_inv_[i * d + j];
      for (std::size_t t = 0; t < j; ++t) s -= l[i * d + t] * l[j * d + t];
      l[i * d + j] = i == j ? std::sqrt(std::max(s, 1e-18)) : s / l[j * d + j];
    }
  return l;
}

std::vector<double> LinearBandit::sample_theta(const std::vector<double>& l, Rng& rng) const {
  const std::size_t d = d_;
  std::vector<double> z(d), out(theta_);
  for (auto& v : z) v = rng.normal();
  for (std::size_t i = 0; i < d; ++i) {
    double s = 0;
    for (std::size_t t = 0; t <= i; ++t) s += l[i * d + t] * z[t];
    out[i] += o_.noise * s;
  }
  return out;
}

void LinearBandit::candidate_features(const SlateContext& ctx, std::vector<std::int32_t>* cands,
                                      std::vector<double>* x) const {
  *cands = top_candidates(ctx.scores, ctx.n_items, std::max(o_.candidates, ctx.k));
  const std::size_t m = cands->size();
  const auto [mean, sd] = score_moments(ctx, *cands);
  x->assign(m * d_, 0.0);
  for (std::size_t c = 0; c < m; ++c) features(ctx, (*cands)[c], mean, sd, &(*x)[c * d_]);
}

std::vector<double> LinearBandit::values(const std::vector<double>& x, const std::vector<double>& theta,
                                         bool bonus) const {
  const std::size_t d = d_, m = x.size() / d;
  std::vector<double> v(m);
  for (std::size_t c = 0; c < m; ++c) {
    const double* xc = &x[c * d];
    double val = 0;
    for (std::size_t t = 0; t < d; ++t) val += theta[t] * xc[t];
    if (bonus) {
      double quad = 0;
      for (std::size_t i = 0; i < d; ++i) {
        double row = 0;
        for (std::size_t j = 0; j < d; ++j) row += a_inv_[i * d + j] * xc[j];
        quad += xc[i] * row;
      }
      val += o_.alpha * std::sqrt(std::max(0.0, quad));
    }
    v[c] = val;
  }
  return v;
}

Slate LinearBandit::choose(const SlateContext& ctx, Rng& rng) {
  dim_for(ctx);
  std::shared_lock lock(mu_);
  std::vector<std::int32_t> cands;
  std::vector<double> x;
  candidate_features(ctx, &cands, &x);
  const std::size_t k = std::min(ctx.k, cands.size());
  Slate s;
  if (k == 0) return s;
  auto show = [&](std::size_t c) {  // candidate c at the next position, with its features for learn()
    s.items.push_back(cands[c]);
    s.features.insert(s.features.end(), x.begin() + static_cast<std::ptrdiff_t>(c * d_),
                      x.begin() + static_cast<std::ptrdiff_t>((c + 1) * d_));
  };
  if (!o_.thompson) {
    for (auto c : top_k(values(x, theta_, true), k)) show(c);
    s.propensity.assign(k, 1.0);
    s.slate_probability = 1.0;
    return s;
  }
  const auto chol = cholesky();  // once per slate, shared by every draw below
  const auto order = top_k(values(x, sample_theta(chol, rng), false), k);
  for (auto c : order) show(c);
  if (!ctx.propensities) {
    s.propensity.assign(k, std::numeric_limits<double>::quiet_NaN());
    return s;
  }
  Rng mc = rng.fork(rng.next_u64());
  std::vector<double> hits(k, 1.0);  // the realised draw counts as one
  for (int r = 0; r < o_.marginal_samples; ++r) {
    const auto o2 = top_k(values(x, sample_theta(chol, mc), false), k);
    for (std::size_t j = 0; j < k; ++j) hits[j] += o2[j] == order[j];
  }
  for (std::size_t j = 0; j < k; ++j) s.propensity.push_back(hits[j] / (o_.marginal_samples + 1.0));
  return s;
}

std::vector<std::pair<std::int32_t, double>> LinearBandit::distribution(const SlateContext& ctx, std::size_t position,
                                                                        Rng& rng) const {
  const std::size_t d = width(ctx);
  std::shared_lock lock(mu_);
  if (d_ != d) {  // not used yet: the prior
    LinearBandit fresh(o_);
    fresh.ensure_dim(d);
    return fresh.distribution(ctx, position, rng);
  }
  std::vector<std::int32_t> cands;
  std::vector<double> x;
  candidate_features(ctx, &cands, &x);
  const std::size_t k = std::min(ctx.k, cands.size());
  if (position >= k) return {};
  if (!o_.thompson) return {{cands[top_k(values(x, theta_, true), k)[position]], 1.0}};
  std::vector<double> hits(cands.size(), 0.0);
  const auto chol = cholesky();
  for (int r = 0; r < o_.marginal_samples; ++r)
    hits[top_k(values(x, sample_theta(chol, rng), false), k)[position]] += 1.0;
  std::vector<std::pair<std::int32_t, double>> out;
  for (std::size_t c = 0; c < cands.size(); ++c)
    if (hits[c] > 0) out.emplace_back(cands[c], hits[c] / o_.marginal_samples);
  return out;
}

void LinearBandit::update(const SlateContext& ctx, const Slate& slate, const std::vector<float>& rewards) {
  if (slate.items.empty()) return;
  if (rewards.size() != slate.items.size()) throw InvalidInput("linear bandit: one reward per shown position expected");
  const std::size_t d = dim_for(ctx);
  std::unique_lock lock(mu_);
  const auto [mean, sd] = score_moments(ctx, top_candidates(ctx.scores, ctx.n_items, std::max(o_.candidates, ctx.k)));
  // Cascade assumption: positions below the last click were not examined.
  std::size_t last = rewards.size();
  for (std::size_t j = rewards.size(); j-- > 0;)
    if (rewards[j] > 0) {
      last = j + 1;
      break;
    }
  std::vector<double> x(d);
  for (std::size_t j = 0; j < last; ++j) {
    std::fill(x.begin(), x.end(), 0.0);
    features(ctx, slate.items[j], mean, sd, x.data());
    observe(x.data(), rewards[j]);
  }
  recompute_theta();
}

void LinearBandit::learn(const float* features, std::size_t dim, float reward) {
  std::unique_lock lock(mu_);
  if (dim == 0) throw InvalidInput("linear bandit: learn() needs at least one feature");
  ensure_dim(dim);
  std::vector<double> x(features, features + d_);
  observe(x.data(), reward);
  recompute_theta();
}

void LinearBandit::observe(const double* x, double reward) {
  const std::size_t d = d_;
  std::vector<double> ax(d);
  double denom = 1.0;
  for (std::size_t i = 0; i < d; ++i) {
    double row = 0;
    for (std::size_t t = 0; t < d; ++t) row += a_inv_[i * d + t] * x[t];
    ax[i] = row;
    denom += x[i] * row;
  }
  for (std::size_t i = 0; i < d; ++i)
    for (std::size_t t = 0; t < d; ++t) a_inv_[i * d + t] -= ax[i] * ax[t] / denom;
  for (std::size_t i = 0; i < d; ++i) b_[i] += reward * x[i];
  ++updates_;
}

void LinearBandit::recompute_theta() {
  const std::size_t d = d_;
  for (std::size_t i = 0; i < d; ++i) {
    double v = 0;
    for (std::size_t t = 0; t < d; ++t) v += a_inv_[i * d + t] * b_[t];
    theta_[i] = v;
  }
}

}  // namespace driftrec::policy
