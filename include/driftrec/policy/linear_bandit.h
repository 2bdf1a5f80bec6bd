#pragma once
// Linear bandits over a model's embeddings (LinUCB, Li et al. WWW 2010; linear Thompson sampling,
// Agrawal & Goyal ICML 2013). The features of showing item i for query q are
//   x_i = [ z_i, q (x) v_i ]   z_i the item's score standardised over the candidates,
//                              q (x) v_i the element-wise product of query and item embedding
// (so a weight vector of ones on the product reproduces the model's own inner product). The reward
// model r ~ theta . x is Bayesian ridge regression with prior mean theta_0 = [prior_weight, 0...] and
// precision lambda I, updated from every shown position's reward (one shared theta: what it learns
// about the embedding dimensions carries across users). A^-1 is kept by Sherman-Morrison updates.
//   linucb   top k by theta . x + alpha sqrt(x' A^-1 x); deterministic, propensity 1
//   lints    top k by theta~ . x with theta~ ~ N(theta, noise^2 A^-1); propensities are seeded Monte
//            Carlo estimates over `marginal_samples` fresh draws (the realised one included)
// Without embeddings in the context (models that do not expose them) only z is used.
//
// Thread-safe: choose() and distribution() may run concurrently with each other and with
// update()/learn() (a server answers requests while feedback arrives); the posterior is guarded by a
// reader-writer lock.
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "driftrec/policy/policy.h"

namespace driftrec::policy {

class LinearBandit final : public Policy {
 public:
  struct Options {
    bool thompson = false;
    double alpha = 1.0;
    double lambda = 1.0;
    double prior_weight = 0.05;
    double noise = 0.3;
    std::size_t candidates = 200;
    int marginal_samples = 200;
  };
  /// Throws InvalidInput for non-positive lambda/noise, negative alpha, or zero candidates.
  explicit LinearBandit(Options o);
  std::string name() const override { return o_.thompson ? "lints" : "linucb"; }
  Slate choose(const SlateContext& ctx, Rng& rng) override;
  void update(const SlateContext& ctx, const Slate& slate, const std::vector<float>& rewards) override;
  bool learns() const override { return true; }
  /// linucb: the item at `position` of its deterministic slate; lints: Monte Carlo over draws.
  std::vector<std::pair<std::int32_t, double>> distribution(const SlateContext& ctx, std::size_t position,
                                                            Rng& rng) const override;
  /// Width of x (above); choose() returns each shown item's x in Slate::features.
  std::size_t feature_dim() const override;
  /// One observation (x, reward) into the posterior: a Sherman-Morrison step on A^-1, then theta.
  /// A fresh bandit takes its width from `dim`; throws InvalidInput when `dim` differs from the
  /// width already fixed.
  void learn(const float* features, std::size_t dim, float reward) override;

  /// Current posterior mean (empty before the first call fixes the dimension).
  std::vector<double> theta() const;
  std::size_t updates() const;

 private:
  void ensure_dim(std::size_t d);
  /// Candidates and their features [m, d] for `ctx` (dimension fixed by ensure_dim).
  void candidate_features(const SlateContext& ctx, std::vector<std::int32_t>* cands, std::vector<double>* x) const;
  /// Each candidate's value under theta (with the UCB bonus when `bonus`).
  std::vector<double> values(const std::vector<double>& x, const std::vector<double>& theta, bool bonus) const;
  /// Features of `item` given the candidates' score mean/sd.
  void features(const SlateContext& ctx, std::int32_t item, double mean, double sd, double* x) const;
  /// Top k of `value` over candidates (indices into cands).
  static std::vector<std::size_t> top_k(const std::vector<double>& value, std::size_t k);
  /// The Cholesky factor of noise^2 A^-1 (lower, [d, d]), for sample_theta.
  std::vector<double> cholesky() const;
  /// Draw theta~ ~ N(theta, noise^2 A^-1) given cholesky().
  std::vector<double> sample_theta(const std::vector<double>& chol, Rng& rng) const;
  /// The feature width `ctx` gives: 1 + the embedding width when it carries embeddings.
  static std::size_t width(const SlateContext& ctx);
  /// width(ctx), fixing the posterior's dimension on first use (under the write lock).
  std::size_t dim_for(const SlateContext& ctx);
  /// One (x, reward) observation; the caller holds the write lock and recomputes theta after.
  void observe(const double* x, double reward);
  void recompute_theta();

  mutable std::shared_mutex mu_;
  Options o_;
  std::size_t d_ = 0;
  std::vector<double> a_inv_;  ///< [d, d]
  std::vector<double> b_;      ///< A theta
  std::vector<double> theta_;
  std::size_t updates_ = 0;
};

}  // namespace driftrec::policy
