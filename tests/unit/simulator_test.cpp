// The interactive simulator: determinism, the response model's closed forms, position bias,
// logging, and that exploration changes what users are shown.
#include "driftrec/sim/simulator.h"

#include <gtest/gtest.h>

#include "driftrec/core/error.h"
#include "driftrec/ope/estimators.h"
#include "driftrec/sim/workflow.h"

namespace driftrec::sim {
namespace {

const World& world() {
  static const World w = [] {
    data::SynthOptions o;
    o.users = 300;
    o.items = 400;
    o.seed = 5;
    return build_world(o, "ials", {{"factors", 16}, {"iterations", 5}}, 1, 5);
  }();
  return w;
}

SimOptions options(int episodes = 60) {
  SimOptions o;
  o.episodes = episodes;
  o.seed = 9;
  return o;
}

TEST(Simulator, SameSeedSameSessions) {
  const auto a = compare_policies(world(), {"epsilon-greedy:epsilon=0.2", "lints"}, options());
  const auto b = compare_policies(world(), {"epsilon-greedy:epsilon=0.2", "lints"}, options());
  ASSERT_EQ(a.size(), 2u);
  for (std::size_t p = 0; p < a.size(); ++p) {
    ASSERT_EQ(a[p].episodes.size(), b[p].episodes.size());
    for (std::size_t e = 0; e < a[p].episodes.size(); ++e) {
      EXPECT_EQ(a[p].episodes[e].clicks, b[p].episodes[e].clicks);
      EXPECT_EQ(a[p].episodes[e].steps, b[p].episodes[e].steps);
      EXPECT_EQ(a[p].episodes[e].click_steps, b[p].episodes[e].click_steps);
    }
  }
  auto other = options();
  other.seed = 10;
  const auto c = compare_policies(world(), {"epsilon-greedy:epsilon=0.2"}, other);
  EXPECT_NE(c[0].clicks_mean + c[0].steps_mean, a[0].clicks_mean + a[0].steps_mean);
}

TEST(Simulator, ThreadsDoNotChangeTheResults) {
  auto o = options(90);
  o.log = o.record_sessions = true;
  const auto one = compare_policies(world(), {"boltzmann:temperature=0.5", "lints"}, o);
  o.threads = 2;
  const auto two = compare_policies(world(), {"boltzmann:temperature=0.5", "lints"}, o);
  for (std::size_t p = 0; p < 2; ++p) {
    ASSERT_EQ(one[p].episodes.size(), two[p].episodes.size());
    for (std::size_t e = 0; e < one[p].episodes.size(); ++e) {
      EXPECT_EQ(one[p].episodes[e].click_steps, two[p].episodes[e].click_steps);
      EXPECT_EQ(one[p].episodes[e].expected_clicks, two[p].episodes[e].expected_clicks);
      EXPECT_EQ(one[p].sessions[e].steps.size(), two[p].sessions[e].steps.size());
    }
    EXPECT_EQ(one[p].coverage, two[p].coverage);
    ASSERT_EQ(one[p].log.size(), two[p].log.size());
    for (std::size_t r = 0; r < one[p].log.size(); ++r) {
      EXPECT_EQ(one[p].log.action[r], two[p].log.action[r]);
      EXPECT_EQ(one[p].log.pscore[r], two[p].log.pscore[r]);
    }
  }
}

TEST(Simulator, ExpectedClicksFollowTheResponseModel) {
  const Simulator sim(world().synth, world().dataset, options());
  std::vector<double> rel(world().dataset.n_items(), 0.0);
  rel[1] = 0.5;
  rel[2] = 0.2;
  // Examination 1 and 1/2: 1 - (1 - 0.5)(1 - 0.1).
  EXPECT_NEAR(sim.expected_clicks({1, 2}, rel), 0.55, 1e-12);
  EXPECT_NEAR(sim.expected_clicks({2, 1}, rel), 1 - 0.8 * 0.75, 1e-12);
  // Relevance: a user wholly in one category finds only that category relevant, popular items more.
  std::vector<double> w(world().synth.category_names.size(), 0.0), s(w.size(), 0.0);
  w[0] = 1.0;
  const auto r = sim.relevance(w, s);
  int relevant = 0;
  for (std::size_t i = 1; i < r.size(); ++i) {
    const auto c =
        world().synth.items[std::stoi(world().dataset.items.name(static_cast<std::int32_t>(i)).substr(1)) - 1].category;
    if (c == 0) {
      EXPECT_GT(r[i], 0.0);
      EXPECT_LE(r[i], 0.35 + 1e-12);
      ++relevant;
    } else {
      EXPECT_EQ(r[i], 0.0);
    }
  }
  EXPECT_GT(relevant, 0);
  // Full satiation of that category leaves nothing relevant.
  s[0] = 1.0;
  for (double x : sim.relevance(w, s)) EXPECT_EQ(x, 0.0);
}

TEST(Simulator, OracleRegretIsPositiveAndReportsAreConsistent) {
  const auto r = compare_policies(world(), {"greedy"}, options(100))[0];
  EXPECT_GT(r.regret_mean, 0.0);  // a learned model is not the oracle
  double clicks = 0, steps = 0;
  for (const auto& e : r.episodes) {
    clicks += e.clicks;
    steps += e.steps;
    EXPECT_LE(e.expected_clicks, e.oracle_expected_clicks + 1e-9);
    EXPECT_EQ(static_cast<int>(e.click_steps.size()), e.clicks);
    EXPECT_LE(e.steps, 50);
  }
  EXPECT_NEAR(r.clicks_mean, clicks / 100, 1e-12);
  EXPECT_NEAR(r.ctr, clicks / steps, 1e-12);
  EXPECT_GT(r.clicks_mean, 0.0);
}

TEST(Simulator, ExplorationShowsMoreOfTheCatalogue) {
  const auto r =
      compare_policies(world(), {"greedy", "epsilon-greedy:epsilon=0.3", "boltzmann:temperature=1"}, options(100));
  EXPECT_GT(r[1].coverage, r[0].coverage);
  EXPECT_GT(r[2].coverage, r[0].coverage);
}

TEST(Simulator, LogsEveryShownItemWithPositionBias) {
  auto o = options(200);
  o.log = true;
  const auto r = compare_policies(world(), {"epsilon-greedy:epsilon=0.2"}, o)[0];
  double steps = 0;
  for (const auto& e : r.episodes) steps += e.steps;
  ASSERT_EQ(r.log.size(), static_cast<std::size_t>(steps) * 10);
  std::vector<double> clicks(10, 0.0);
  for (std::size_t i = 0; i < r.log.size(); ++i) {
    EXPECT_GT(r.log.pscore[i], 0.0);
    EXPECT_LE(r.log.pscore[i], 1.0);
    clicks[r.log.position[i]] += r.log.reward[i];
  }
  EXPECT_GT(clicks[0], clicks[9]);  // examination falls with position
  // The on-policy value from the log equals the report's clicks per shown item.
  EXPECT_NEAR(r.log.mean_reward(), r.ctr / 10, 1e-9);
}

TEST(Simulator, OnlineUpdatesChangeTheSessions) {
  auto frozen = options(80);
  frozen.online = false;
  const auto a = compare_policies(world(), {"greedy"}, options(80))[0];
  const auto b = compare_policies(world(), {"greedy"}, frozen)[0];
  bool differ = false;
  for (std::size_t e = 0; e < a.episodes.size(); ++e)
    differ = differ || a.episodes[e].expected_clicks != b.episodes[e].expected_clicks;
  EXPECT_TRUE(differ);
}

TEST(Simulator, PolicyValueIsTheMeanExpectedClicksOfOneStepSessions) {
  auto o = options();
  o.response.cascade = false;
  o.response.max_steps = 1;
  const Simulator sim(world().synth, world().dataset, o);
  policy::Greedy greedy;
  const double value = sim.policy_value(*world().model, greedy);
  // One deterministic step per user, each user once: the same average.
  int users = 0;
  for (std::int32_t u = 1; u < world().dataset.n_users(); ++u) ++users;
  o.episodes = users;
  const auto rep = Simulator(world().synth, world().dataset, o).run(*world().model, greedy);
  double mean = 0;
  for (const auto& e : rep.episodes) mean += e.expected_clicks;
  EXPECT_NEAR(value, mean / users, 1e-9);
  EXPECT_GT(value, 0.0);
  auto cascade = options();
  EXPECT_THROW(Simulator(world().synth, world().dataset, cascade).policy_value(*world().model, greedy), InvalidInput);
}

TEST(Simulator, OffPolicyEstimatesCoverTheTargetsTrueValue) {
  OpeCheckOptions c;
  c.logging = "boltzmann:temperature=0.5,candidates=50";
  c.target = "greedy";
  c.rounds = 3000;
  c.bootstrap = 200;
  int covered = 0, runs = 0;
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    auto o = options();
    o.seed = seed;
    const auto r = ope_on_simulator(world(), c, o);
    EXPECT_GT(r.truth, 0.0);
    EXPECT_GT(r.weights.ess, 10.0);
    for (const auto& e : r.estimates) {
      if (e.estimator != "ips" && e.estimator != "dr") continue;
      ++runs;
      covered += e.ci_low <= r.truth && r.truth <= e.ci_high;
      EXPECT_NEAR(e.value, r.truth, 0.5 * r.truth) << e.estimator << " seed " << seed;
    }
  }
  EXPECT_GE(covered, runs - 2);
}

TEST(Simulator, RejectsBadOptions) {
  auto o = options();
  o.response.base_click = 1.5;
  EXPECT_THROW(Simulator(world().synth, world().dataset, o), InvalidInput);
  o = options();
  o.k = 0;
  EXPECT_THROW(Simulator(world().synth, world().dataset, o), InvalidInput);
  EXPECT_THROW(compare_policies(world(), {"nonsense"}, options()), InvalidInput);
}

}  // namespace
}  // namespace driftrec::sim
