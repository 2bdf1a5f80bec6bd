// Exploration policies: every returned propensity is checked against the frequency with which the
// policy actually shows that item at that position over many seeded draws, and against the
// closed forms where they exist.
#include "driftrec/policy/policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>

#include "driftrec/core/error.h"
#include "driftrec/policy/linear_bandit.h"

namespace driftrec::policy {
namespace {

const float kNo = -std::numeric_limits<float>::infinity();

SlateContext context(const std::vector<float>& scores, std::size_t k) {
  SlateContext c;
  c.scores = scores.data();
  c.n_items = static_cast<std::int32_t>(scores.size());
  c.k = k;
  return c;
}

/// `ctx` with a query and an item matrix [n, query.size()] (the linear bandits' embeddings).
SlateContext with_embeddings(SlateContext ctx, const std::vector<float>& items, const std::vector<float>& query) {
  ctx.item_matrix = items.data();
  ctx.query = query.data();
  ctx.dim = static_cast<int>(query.size());
  return ctx;
}

/// Draws `n` slates and compares the empirical P(item at position) with the mean propensity the
/// policy reported for it, for every (item, position) seen at least 300 times.
void expect_propensities_match_frequencies(Policy& p, const SlateContext& ctx, int n, double tol) {
  Rng rng(77);
  std::map<std::pair<std::int32_t, std::size_t>, std::pair<double, double>> seen;  // count, sum of propensities
  for (int r = 0; r < n; ++r) {
    const auto s = p.choose(ctx, rng);
    ASSERT_EQ(s.items.size(), s.propensity.size());
    for (std::size_t j = 0; j < s.items.size(); ++j) {
      ASSERT_GT(s.propensity[j], 0.0);
      ASSERT_LE(s.propensity[j], 1.0 + 1e-12);
      auto& e = seen[{s.items[j], j}];
      e.first += 1;
      e.second += s.propensity[j];
    }
  }
  int checked = 0;
  for (const auto& [key, e] : seen) {
    if (e.first < 300) continue;
    const double freq = e.first / n, reported = e.second / e.first;
    EXPECT_NEAR(reported, freq, tol) << p.name() << " item " << key.first << " position " << key.second;
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(Policy, GreedyShowsTheTopKWithCertainty) {
  const std::vector<float> scores = {kNo, 0.5f, 2.0f, 2.0f, kNo, 1.0f};
  Greedy g;
  Rng rng(1);
  const auto s = g.choose(context(scores, 3), rng);
  EXPECT_EQ(s.items, (std::vector<std::int32_t>{2, 3, 5}));  // ties by index; -inf never shown
  EXPECT_EQ(s.propensity, (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(s.slate_probability, 1.0);
  EXPECT_EQ(g.choose(context(scores, 10), rng).items.size(), 4u);  // only four allowed items
}

TEST(Policy, EpsilonGreedyPropensitiesAreExact) {
  const std::vector<float> scores = {kNo, 5, 4, 3, 2, 1, 0.5f};
  EpsilonGreedy p(0.3, 6);
  Rng rng(2);
  // Hand-computed: greedy slate (1, 2); M = 6 candidates; ordered pairs 6 * 5 = 30.
  bool saw_greedy = false, saw_other = false;
  for (int r = 0; r < 200 && !(saw_greedy && saw_other); ++r) {
    const auto s = p.choose(context(scores, 2), rng);
    if (s.items == std::vector<std::int32_t>{1, 2}) {
      saw_greedy = true;
      EXPECT_NEAR(s.propensity[0], 0.7 + 0.3 / 6, 1e-12);
      EXPECT_NEAR(s.slate_probability, 0.7 + 0.3 / 30, 1e-12);
    } else if (s.items[0] != 1 && s.items[1] != 2) {
      saw_other = true;
      EXPECT_NEAR(s.propensity[0], 0.3 / 6, 1e-12);
      EXPECT_NEAR(s.propensity[1], 0.3 / 6, 1e-12);
      EXPECT_NEAR(s.slate_probability, 0.3 / 30, 1e-12);
    }
  }
  EXPECT_TRUE(saw_greedy && saw_other);
  expect_propensities_match_frequencies(p, context(scores, 3), 40000, 0.01);
  EXPECT_THROW(EpsilonGreedy(1.5, 10), InvalidInput);
}

TEST(Policy, BoltzmannPropensitiesMatchTheirFrequencies) {
  const std::vector<float> scores = {kNo, 2.0f, 1.5f, 1.0f, 0.5f, 0.0f};
  Boltzmann p(1.0, 10, 400);
  Rng rng(3);
  const auto s = p.choose(context(scores, 2), rng);
  // Position 1 is the softmax over the candidates.
  double z = 0;
  for (int i = 1; i <= 5; ++i) z += std::exp(static_cast<double>(scores[i]));
  EXPECT_NEAR(s.propensity[0], std::exp(static_cast<double>(scores[s.items[0]])) / z, 1e-12);
  // Slate probability: p_a * p_b / (1 - p_a).
  const double pa = std::exp(static_cast<double>(scores[s.items[0]])) / z,
               pb = std::exp(static_cast<double>(scores[s.items[1]])) / z;
  EXPECT_NEAR(s.slate_probability, pa * pb / (1 - pa), 1e-12);
  // Positions 1-2 exact, 3-4 Monte Carlo: all against the policy's own frequencies.
  expect_propensities_match_frequencies(p, context(scores, 4), 30000, 0.015);
}

/// Exact Plackett-Luce P(item at position j) by enumerating every prefix (weights w, no padding).
double exact_pl(const std::vector<double>& w, std::size_t item, std::size_t j, std::vector<char>& used, double mass) {
  if (j == 0) return used[item] ? 0.0 : w[item] / mass;
  double total = 0;
  for (std::size_t a = 0; a < w.size(); ++a) {
    if (used[a] || a == item) continue;
    used[a] = 1;
    total += w[a] / mass * exact_pl(w, item, j - 1, used, mass - w[a]);
    used[a] = 0;
  }
  return total;
}

TEST(Policy, BoltzmannDeepPropensitiesConvergeToTheExactMarginalsAndBeatCounting) {
  // Seven candidates, slates of five: positions 3-5 are estimated from drawn prefixes.
  const std::vector<float> scores = {kNo, 2.0f, 1.6f, 1.1f, 0.9f, 0.5f, 0.2f, 0.0f};
  std::vector<double> w;
  double mass = 0;
  for (std::size_t i = 1; i < scores.size(); ++i) mass += w.emplace_back(std::exp(static_cast<double>(scores[i])));
  const auto exact = [&](std::int32_t item, std::size_t j) {
    std::vector<char> used(w.size(), 0);
    return exact_pl(w, static_cast<std::size_t>(item - 1), j, used, mass);
  };
  // With many draws the estimate converges to the exact marginal (it is unbiased).
  Boltzmann many(1.0, 10, 4000);
  Rng rng(17);
  for (int draw = 0; draw < 20; ++draw) {
    const auto s = many.choose(context(scores, 5), rng);
    for (std::size_t j = 2; j < 5; ++j) EXPECT_NEAR(s.propensity[j], exact(s.items[j], j), 0.01);
  }
  // With the serving default of 32 draws its error is well below that of counting how often the
  // item lands at the position in 32 draws (standard error sqrt(P (1 - P) / 32)).
  Boltzmann few(1.0, 10, 32);
  double err = 0, counting = 0;
  int n = 0;
  for (int draw = 0; draw < 300; ++draw) {
    const auto s = few.choose(context(scores, 5), rng);
    for (std::size_t j = 2; j < 5; ++j) {
      const double x = exact(s.items[j], j);
      err += std::abs(s.propensity[j] - x);
      counting += std::sqrt(2.0 / 3.14159265358979) * std::sqrt(x * (1 - x) / 32);  // E|error| of counting
      ++n;
    }
  }
  std::cout << "mean abs error with 32 draws: rao-blackwellised " << err / n << ", counting " << counting / n << "\n";
  EXPECT_LT(err, 0.7 * counting);
  // distribution() at a deep position sums to one and matches the exact marginals.
  for (std::size_t j = 2; j < 5; ++j) {
    double sum = 0;
    for (const auto& [item, q] : many.distribution(context(scores, 5), j, rng)) {
      EXPECT_NEAR(q, exact(item, j), 0.01) << "position " << j;
      sum += q;
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
}

TEST(Policy, LowTemperatureBoltzmannIsGreedy) {
  const std::vector<float> scores = {kNo, 3, 2, 1};
  Boltzmann p(0.01, 10);
  Rng rng(4);
  const auto s = p.choose(context(scores, 2), rng);
  EXPECT_EQ(s.items, (std::vector<std::int32_t>{1, 2}));
  EXPECT_NEAR(s.slate_probability, 1.0, 1e-9);
}

TEST(Policy, LinearThompsonPropensitiesMatchTheirFrequencies) {
  const std::vector<float> scores = {kNo, 1.0f, 0.9f, 0.8f, 0.2f};
  LinearBandit::Options o;
  o.thompson = true;
  o.noise = 0.5;
  o.marginal_samples = 300;
  LinearBandit p(o);
  expect_propensities_match_frequencies(p, context(scores, 2), 3000, 0.04);
}

TEST(Policy, LinUcbLearnsFromFeedbackOverEmbeddings) {
  // Two embedding dimensions; the model's query likes dimension 0, but users click items strong in
  // dimension 1. After feedback the bandit must put item 4 (dimension 1) in its slate.
  const std::vector<float> scores = {kNo, 1.0f, 0.9f, 0.8f, 0.1f};
  const std::vector<float> items = {0, 0, 1, 0, 1, 0, 1, 0, 0, 1};  // [5, 2]
  const std::vector<float> query = {1, 1};
  const SlateContext ctx = with_embeddings(context(scores, 2), items, query);
  LinearBandit::Options o;
  o.alpha = 0.1;
  LinearBandit p(o);
  Rng rng(5);
  EXPECT_EQ(p.choose(ctx, rng).items, (std::vector<std::int32_t>{1, 2}));
  // Feedback: every shown item in dimension 0 is skipped; item 4 (shown by a logging round) is clicked.
  for (int r = 0; r < 30; ++r) {
    p.update(ctx, Slate{{1, 2}, {1, 1}, 1, {}}, {0, 0});
    p.update(ctx, Slate{{4, 3}, {1, 1}, 1, {}}, {1, 0});
  }
  const auto s = p.choose(ctx, rng);
  EXPECT_EQ(s.items.front(), 4);
  EXPECT_GT(p.updates(), 0u);
  EXPECT_THROW(p.update(ctx, Slate{{1, 2}, {1, 1}, 1, {}}, {0}), InvalidInput);
}

TEST(Policy, LearningFromCapturedFeaturesEqualsLearningFromTheContext) {
  // A server captures each shown item's features when it serves the slate and learns from one
  // position's feedback at a time: the posterior must be the one update() gives with the context.
  const std::vector<float> scores = {kNo, 1.0f, 0.9f, 0.8f, 0.1f};
  const std::vector<float> items = {0, 0, 1, 0, 1, 0, 1, 0, 0, 1};
  const std::vector<float> query = {1, 2};
  const SlateContext ctx = with_embeddings(context(scores, 3), items, query);
  LinearBandit::Options o;
  LinearBandit whole(o), by_position(o);
  Rng rng(6);
  const auto slate = by_position.choose(ctx, rng);
  ASSERT_EQ(slate.items.size(), 3u);
  const auto& x = slate.features;
  ASSERT_EQ(by_position.feature_dim(), 3u);
  ASSERT_EQ(x.size(), 9u);
  EXPECT_FLOAT_EQ(x[1], query[0] * items[static_cast<std::size_t>(slate.items[0]) * 2]);  // q (x) v
  const std::vector<float> rewards = {0, 1, 1};  // every position examined (the last one clicked)
  whole.update(ctx, slate, rewards);
  for (std::size_t j = 0; j < 3; ++j) by_position.learn(&x[j * 3], 3, rewards[j]);
  ASSERT_EQ(whole.updates(), by_position.updates());
  for (std::size_t t = 0; t < 3; ++t) EXPECT_NEAR(whole.theta()[t], by_position.theta()[t], 1e-6);
  Greedy g;
  EXPECT_TRUE(g.choose(ctx, rng).features.empty());
  EXPECT_EQ(g.feature_dim(), 0u);
  // A fresh bandit replaying the same rows (a server rebuilding a posterior from stored feedback)
  // takes the width from them and reaches the same posterior; another width is refused.
  LinearBandit replayed(o);
  for (std::size_t j = 0; j < 3; ++j) replayed.learn(&x[j * 3], 3, rewards[j]);
  ASSERT_EQ(replayed.feature_dim(), 3u);
  for (std::size_t t = 0; t < 3; ++t) EXPECT_NEAR(replayed.theta()[t], by_position.theta()[t], 1e-12);
  EXPECT_THROW(replayed.learn(x.data(), 2, 1.0f), InvalidInput);
  EXPECT_THROW(LinearBandit(o).learn(x.data(), 0, 1.0f), InvalidInput);
}

/// distribution() against the policy's own draws: each position's probabilities sum to 1 and match
/// the frequency of each item there.
void expect_distribution_matches_draws(Policy& p, SlateContext ctx, int n, double tol) {
  Rng rng(91);
  ctx.propensities = false;  // only the slates are needed here
  std::map<std::pair<std::int32_t, std::size_t>, double> freq;
  for (int r = 0; r < n; ++r) {
    const auto s = p.choose(ctx, rng);
    for (std::size_t j = 0; j < s.items.size(); ++j) freq[{s.items[j], j}] += 1.0 / n;
  }
  for (std::size_t j = 0; j < ctx.k; ++j) {
    double sum = 0;
    for (const auto& [item, prob] : p.distribution(ctx, j, rng)) {
      sum += prob;
      EXPECT_NEAR(prob, (freq[{item, j}]), tol) << p.name() << " item " << item << " position " << j;
    }
    EXPECT_NEAR(sum, 1.0, 1e-9) << p.name() << " position " << j;
  }
}

TEST(Policy, DistributionsMatchWhatThePoliciesShow) {
  const std::vector<float> scores = {kNo, 2.0f, 1.5f, 1.0f, 0.5f, 0.0f, kNo};
  Greedy g;
  EpsilonGreedy e(0.4, 5);
  Boltzmann b(0.7, 5, 20000);
  LinearBandit::Options o;
  o.thompson = true;
  o.marginal_samples = 4000;
  LinearBandit ts(o);
  expect_distribution_matches_draws(g, context(scores, 3), 1000, 1e-12);
  expect_distribution_matches_draws(e, context(scores, 3), 40000, 0.01);
  expect_distribution_matches_draws(b, context(scores, 3), 40000, 0.012);
  expect_distribution_matches_draws(ts, context(scores, 2), 4000, 0.03);
  Rng rng(1);
  EXPECT_TRUE(g.distribution(context(scores, 3), 7, rng).empty());  // past the slate
}

TEST(Policy, SpecsParseAndRejectNonsense) {
  const auto s = parse_policy_spec("boltzmann:temperature=0.25,candidates=50");
  EXPECT_EQ(s.name, "boltzmann");
  EXPECT_DOUBLE_EQ(s.temperature, 0.25);
  EXPECT_EQ(s.candidates, 50u);
  EXPECT_EQ(make_policy(s)->name(), "boltzmann");
  EXPECT_THROW(parse_policy_spec("boltzmann:temperature"), InvalidInput);
  EXPECT_THROW(parse_policy_spec("boltzmann:temperature=hot"), InvalidInput);
  EXPECT_THROW(parse_policy_spec("greedy:colour=1"), InvalidInput);
  EXPECT_THROW(make_policy(parse_policy_spec("oracle")), InvalidInput);
  EXPECT_THROW(make_policy(parse_policy_spec("boltzmann:temperature=0")), InvalidInput);
}

}  // namespace
}  // namespace driftrec::policy
