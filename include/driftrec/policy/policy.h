#pragma once
// Exploration policies on top of any model's scores: a policy turns one state's item scores into a
// slate of k items and says how likely it was to show each of them where it did (the propensities
// that make logged feedback usable for off-policy evaluation and learning). Policies live outside
// the models: the same model can be served greedily or with exploration.
//
// Candidates: items with a finite score, the best `candidates` of them by score (ties by index),
// so every probability below is exact with respect to that candidate set.
//   greedy          the top k; every propensity 1
//   epsilon-greedy  with probability 1 - eps the greedy slate, else k distinct candidates drawn
//                   uniformly in random order: P(i at j) = (1 - eps)[i = greedy_j] + eps / M
//   boltzmann       Plackett-Luce: positions filled in turn, each by a draw without replacement
//                   with probability proportional to exp(score / temperature). The slate
//                   probability is exact; P(i at j) is exact for the first two positions and a
//                   seeded Rao-Blackwellised Monte Carlo estimate further down: over
//                   `marginal_samples` (default 32) drawn prefixes of length j, the mean of
//                   [i not in prefix] p_i / (mass outside the prefix), unbiased and far less
//                   noisy than counting how often i lands at j
//   linucb / lints  linear bandits over [standardised score, query (x) item embedding], learned from
//                   feedback (policy/linear_bandit.h)
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "driftrec/core/rng.h"

namespace driftrec::policy {

/// One request: a state's scores over every item (-inf = not allowed, e.g. seen or padding).
struct SlateContext {
  const float* scores = nullptr;
  std::int32_t n_items = 0;
  std::size_t k = 10;
  /// Linear bandits: the model's query vector [dim] and item matrix [n_items, dim] (null otherwise).
  const float* query = nullptr;
  const float* item_matrix = nullptr;
  int dim = 0;
  /// false: the caller will not log this slate, so policies may skip Monte Carlo propensities
  /// (those entries are NaN); exact ones are always filled.
  bool propensities = true;
};

struct Slate {
  std::vector<std::int32_t> items;
  std::vector<double> propensity;                                       ///< P(items[j] is shown at position j)
  double slate_probability = std::numeric_limits<double>::quiet_NaN();  ///< P(this exact slate), NaN if unknown
  /// Learning policies: each shown item's feature row (Policy::feature_dim() values per position),
  /// what learn() needs when feedback arrives later without the context. Empty for the others.
  std::vector<float> features;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  /// The slate for `ctx`, drawing randomness from `rng` only. Fewer than k items when fewer are
  /// allowed.
  virtual Slate choose(const SlateContext& ctx, Rng& rng) = 0;
  /// P(item shown at `position`) for every item with a non-zero probability, for `ctx`: what an
  /// off-policy estimator needs of a policy it evaluates on another policy's logs. Exact where
  /// choose()'s propensities are; Monte Carlo estimates (seeded by `rng`) elsewhere.
  virtual std::vector<std::pair<std::int32_t, double>> distribution(const SlateContext& ctx, std::size_t position,
                                                                    Rng& rng) const = 0;
  /// Whether update() changes later choices (then sessions must run in order, on one thread).
  virtual bool learns() const { return false; }
  /// Feedback for a slate this policy chose for `ctx`: reward per position. Default: nothing.
  virtual void update(const SlateContext& ctx, const Slate& slate, const std::vector<float>& rewards) {
    (void)ctx;
    (void)slate;
    (void)rewards;
  }
  /// Values per position in Slate::features (0 for policies that do not learn).
  virtual std::size_t feature_dim() const { return 0; }
  /// One shown position's reward, from its row of the slate's features (`dim` values): for feedback
  /// that arrives later, one position at a time (a server's POST /v1/feedback), or replayed from
  /// stored rows into a fresh policy (which takes its width from the first row). Default: nothing.
  virtual void learn(const float* features, std::size_t dim, float reward) {
    (void)features;
    (void)dim;
    (void)reward;
  }
};

/// The best `m` allowed items by score, best first (ties by lower index).
std::vector<std::int32_t> top_candidates(const float* scores, std::int32_t n_items, std::size_t m);

class Greedy final : public Policy {
 public:
  std::string name() const override { return "greedy"; }
  Slate choose(const SlateContext& ctx, Rng& rng) override;
  std::vector<std::pair<std::int32_t, double>> distribution(const SlateContext& ctx, std::size_t position,
                                                            Rng& rng) const override;
};

class EpsilonGreedy final : public Policy {
 public:
  /// Throws InvalidInput unless 0 <= epsilon <= 1 and candidates >= 1.
  EpsilonGreedy(double epsilon, std::size_t candidates);
  std::string name() const override { return "epsilon-greedy"; }
  Slate choose(const SlateContext& ctx, Rng& rng) override;
  std::vector<std::pair<std::int32_t, double>> distribution(const SlateContext& ctx, std::size_t position,
                                                            Rng& rng) const override;

 private:
  double epsilon_;
  std::size_t candidates_;
};

class Boltzmann final : public Policy {
 public:
  /// Throws InvalidInput unless temperature > 0, candidates >= 1, marginal_samples >= 1.
  Boltzmann(double temperature, std::size_t candidates, int marginal_samples = 32);
  std::string name() const override { return "boltzmann"; }
  Slate choose(const SlateContext& ctx, Rng& rng) override;
  /// Exact for the first two positions, Rao-Blackwellised Monte Carlo (marginal_samples draws) below.
  std::vector<std::pair<std::int32_t, double>> distribution(const SlateContext& ctx, std::size_t position,
                                                            Rng& rng) const override;

 private:
  double temperature_;
  std::size_t candidates_;
  int marginal_samples_;
};

/// Options of make_policy, from a spec such as "epsilon-greedy:epsilon=0.1,candidates=100".
struct PolicySpec {
  std::string name = "greedy";
  double epsilon = 0.1;
  double temperature = 1.0;
  std::size_t candidates = 200;
  int marginal_samples = 0;    ///< Monte Carlo draws for propensities; 0: the policy's own default
  double alpha = 1.0;          ///< linucb: width of the confidence bonus
  double lambda = 1.0;         ///< linear bandits: ridge prior strength
  double prior_weight = 0.05;  ///< linear bandits: prior coefficient on the standardised score
  double noise = 0.3;          ///< lints: posterior scale
};

/// Parses "NAME[:key=value,...]" (keys: epsilon, temperature, candidates, samples, alpha, lambda,
/// prior, noise). Throws InvalidInput naming the bad part.
PolicySpec parse_policy_spec(const std::string& spec);

/// Builds the policy. Throws InvalidInput for an unknown name or out-of-range values.
std::unique_ptr<Policy> make_policy(const PolicySpec& spec);

}  // namespace driftrec::policy
