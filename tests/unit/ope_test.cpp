// Off-policy evaluation: estimators against hand-computed cases, bias where theory says so,
// interval coverage, the Open Bandit CSV reader's errors, and the policies' action tables.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/ope/action_dist.h"
#include "driftrec/ope/bandit_log.h"
#include "driftrec/ope/estimators.h"
#include "driftrec/ope/reward_model.h"
#include "driftrec/ope/workflow.h"
#include "test_util.h"

namespace driftrec::ope {
namespace {

/// Predicts the same reward for every action: a deliberately wrong reward model.
class ConstantModel final : public RewardModel {
 public:
  explicit ConstantModel(float v) : v_(v) {}
  std::string name() const override { return "constant"; }
  void fit(const BanditLog&, const std::vector<std::size_t>&) override {}
  void predict(const BanditLog& log, std::size_t, float* out) const override {
    std::fill(out, out + log.n_actions, v_);
  }
  bool context_free() const override { return true; }

 private:
  float v_;
};

RewardEstimates constant_q(const BanditLog& log, float v) {
  return RewardEstimates::cross_fit(
      log, [v] { return std::make_unique<ConstantModel>(v); }, 1, 1);
}

/// Four rows, two actions, one position, uniform logging; the evaluated policy always picks 0.
BanditLog hand_log() {
  BanditLog log;
  log.n_actions = 2;
  log.n_positions = 1;
  log.add(0, 0, 1.0f, 0.5);
  log.add(1, 0, 0.0f, 0.5);
  log.add(0, 0, 0.0f, 0.5);
  log.add(1, 0, 1.0f, 0.5);
  return log;
}

TEST(Ope, EstimatorsMatchHandComputedValues) {
  const auto log = hand_log();
  const TableDistribution always0(2, 1, {1.0, 0.0});
  const auto q = constant_q(log, 0.2f);
  const auto in = make_inputs(log, always0, &q);
  // w = 2, 0, 2, 0.
  EXPECT_DOUBLE_EQ(Ips().estimate(in), (2 * 1 + 0 + 2 * 0 + 0) / 4.0);               // 0.5
  EXPECT_DOUBLE_EQ(Ips(1.0).estimate(in), (1 * 1 + 0 + 1 * 0 + 0) / 4.0);            // clipped: 0.25
  EXPECT_DOUBLE_EQ(SelfNormalizedIps().estimate(in), 2.0 / 4.0);                     // sum(w r) / sum(w)
  EXPECT_NEAR(DirectMethod().estimate(in), 0.2, 1e-7);                               // the model's value
  EXPECT_NEAR(DoublyRobust().estimate(in), 0.2 + (2 * 0.8 + 2 * -0.2) / 4.0, 1e-7);  // 0.5
  EXPECT_NEAR(SwitchDoublyRobust(1.5).estimate(in), 0.2, 1e-7);                      // every weight 2 > 1.5: DM
  EXPECT_NEAR(SwitchDoublyRobust(3.0).estimate(in), 0.5, 1e-7);                      // none switched: DR
  const auto ws = weight_stats(in);
  EXPECT_DOUBLE_EQ(ws.ess, 16.0 / 8.0);
  EXPECT_DOUBLE_EQ(ws.max, 2.0);
  EXPECT_DOUBLE_EQ(ws.mean, 1.0);
  // The one-pass estimate equals the stored-terms estimate.
  EXPECT_DOUBLE_EQ(estimate_with_ci(DoublyRobust(), in, 0, 0.95, 1).value, DoublyRobust().estimate(in));
}

TEST(Ope, ModelEstimatorsRefuseToRunWithoutARewardModel) {
  const auto log = hand_log();
  const auto in = make_inputs(log, *uniform_distribution(2, 1), nullptr);
  EXPECT_THROW(DirectMethod().estimate(in), InvalidInput);
  EXPECT_THROW(estimate_with_ci(DoublyRobust(), in, 10, 0.95, 1), InvalidInput);
  EXPECT_NO_THROW(Ips().estimate(in));
}

/// Two actions with click rates 0.7 and 0.2, one position, logged uniformly.
BanditLog simulated_log(std::size_t rows, std::uint64_t seed, const std::vector<double>& logging = {0.5, 0.5}) {
  Rng rng(seed);
  const double ctr[2] = {0.7, 0.2};
  BanditLog log;
  log.n_actions = 2;
  log.n_positions = 1;
  for (std::size_t i = 0; i < rows; ++i) {
    const std::int32_t a = rng.uniform() < logging[0] ? 0 : 1;
    log.add(a, 0, rng.bernoulli(ctr[a]) ? 1.0f : 0.0f, logging[a]);
  }
  return log;
}

TEST(Ope, IpsAndDrAreUnbiasedWhereAWrongRewardModelMakesDmBiased) {
  const TableDistribution target(2, 1, {0.9, 0.1});
  const double truth = 0.9 * 0.7 + 0.1 * 0.2;  // 0.65
  double ips = 0, dm = 0, dr = 0;
  const int repeats = 200;
  for (int s = 0; s < repeats; ++s) {
    const auto log = simulated_log(500, 100 + s);
    const auto q = constant_q(log, 0.4f);
    const auto in = make_inputs(log, target, &q);
    ips += Ips().estimate(in);
    dm += DirectMethod().estimate(in);
    dr += DoublyRobust().estimate(in);
  }
  ips /= repeats;
  dm /= repeats;
  dr /= repeats;
  // Per-log standard deviation of IPS here is about 0.03, so the mean of 200 is within ~0.002.
  EXPECT_NEAR(ips, truth, 0.01);
  EXPECT_NEAR(dr, truth, 0.01);
  EXPECT_NEAR(dm, 0.4, 1e-6);  // the reward model's value, whatever the data say
}

TEST(Ope, BootstrapIntervalCoversTheTruthAtAboutItsLevel) {
  const TableDistribution target(2, 1, {0.9, 0.1});
  const double truth = 0.65;
  int covered = 0;
  const int repeats = 100;
  for (int s = 0; s < repeats; ++s) {
    const auto log = simulated_log(1000, 7000 + s, {0.3, 0.7});
    const auto q = RewardEstimates::cross_fit(
        log, [] { return std::make_unique<TabularRewardModel>(); }, 2, s);
    const auto in = make_inputs(log, target, &q);
    const auto e = estimate_with_ci(DoublyRobust(), in, 200, 0.95, s);
    EXPECT_LE(e.ci_low, e.value);
    EXPECT_GE(e.ci_high, e.value);
    covered += e.ci_low <= truth && truth <= e.ci_high;
  }
  EXPECT_GE(covered, 88);  // nominal 95; binomial spread over 100 repeats is about 2
  // Same seed, same interval.
  const auto log = simulated_log(1000, 1);
  const auto in = make_inputs(log, target, nullptr);
  const auto a = estimate_with_ci(Ips(), in, 100, 0.9, 5), b = estimate_with_ci(Ips(), in, 100, 0.9, 5);
  EXPECT_EQ(a.ci_low, b.ci_low);
  EXPECT_EQ(a.ci_high, b.ci_high);
  EXPECT_GT(a.std_error, 0.0);
}

TEST(Ope, TabularRewardModelShrinksTowardsThePositionMean) {
  BanditLog log;
  log.n_actions = 2;
  log.n_positions = 1;
  log.add(0, 0, 1.0f, 0.5);
  log.add(0, 0, 1.0f, 0.5);
  log.add(1, 0, 0.0f, 0.5);
  log.add(1, 0, 0.0f, 0.5);
  TabularRewardModel m(2.0);
  m.fit(log, {0, 1, 2, 3});
  // Position mean 0.5; action 0: (2 + 2 * 0.5) / (2 + 2) = 0.75; action 1: (0 + 1) / 4 = 0.25.
  EXPECT_FLOAT_EQ(m.table()[0], 0.75f);
  EXPECT_FLOAT_EQ(m.table()[1], 0.25f);
}

TEST(Ope, CrossFittingPredictsEachRowFromTheOtherRows) {
  BanditLog log;
  log.n_actions = 1;
  log.n_positions = 1;
  for (float r : {1.0f, 0.0f, 0.0f, 0.0f}) log.add(0, 0, r, 1.0);
  // Four folds of one row each, no shrinkage: row 0 sees only zeros; the others see one click in three.
  const auto q = RewardEstimates::cross_fit(
      log, [] { return std::make_unique<TabularRewardModel>(0.0); }, 4, 3);
  EXPECT_FLOAT_EQ(q.row(0)[0], 0.0f);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_FLOAT_EQ(q.row(i)[0], 1.0f / 3.0f);
  const auto in_sample = RewardEstimates::cross_fit(
      log, [] { return std::make_unique<TabularRewardModel>(0.0); }, 1, 3);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(in_sample.row(i)[0], 0.25f);
}

TEST(Ope, LogisticRewardModelLearnsActionAndContextEffects) {
  // Context feature "g" in {x, y}: action 0 pays in x, action 1 in y.
  BanditLog log;
  log.n_actions = 2;
  log.n_positions = 1;
  log.categorical_names = {"g"};
  log.categorical_values = {{"x", "y"}};
  log.categorical.resize(1);
  Rng rng(3);
  for (int i = 0; i < 4000; ++i) {
    const std::int32_t g = static_cast<std::int32_t>(rng.uniform_int(2));
    const std::int32_t a = static_cast<std::int32_t>(rng.uniform_int(2));
    log.add(a, 0, rng.bernoulli(a == g ? 0.6 : 0.1) ? 1.0f : 0.0f, 0.5);
    log.categorical[0].push_back(g);
  }
  LogisticRewardModel m({});
  std::vector<std::size_t> all(log.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  m.fit(log, all);
  float q[2];
  for (std::size_t i = 0; i < 50; ++i) {
    m.predict(log, i, q);
    const auto g = log.categorical[0][i];
    EXPECT_NEAR(q[g], 0.6, 0.08);
    EXPECT_NEAR(q[1 - g], 0.1, 0.05);
  }
}

TEST(Ope, ThompsonSamplingTableIsAPolicyAndDeterministic) {
  const std::vector<double> alpha = {1, 1000, 1, 2}, beta = {1, 1, 1, 2};
  const auto t = bernoulli_ts_distribution(alpha, beta, 3, 20000, 9);
  for (int p = 0; p < 3; ++p) {
    double sum = 0;
    for (int a = 0; a < 4; ++a) sum += t->probs(0, p)[a];
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  for (int a = 0; a < 4; ++a) {
    double over_positions = 0;
    for (int p = 0; p < 3; ++p) over_positions += t->probs(0, p)[a];
    EXPECT_LE(over_positions, 1.0 + 1e-9);  // an item appears at most once per slate
  }
  EXPECT_GT(t->probs(0, 0)[1], 0.99);  // Beta(1000, 1) is almost surely the largest draw
  const auto again = bernoulli_ts_distribution(alpha, beta, 3, 20000, 9);
  EXPECT_EQ(t->table(), again->table());
  EXPECT_THROW(bernoulli_ts_distribution(alpha, beta, 5, 10, 1), InvalidInput);
  EXPECT_THROW(bernoulli_ts_distribution({1, 0}, {1, 1}, 1, 10, 1), InvalidInput);
}

TEST(Ope, ThompsonSamplingPropensitiesMatchEmpiricalFrequencies) {
  // Two actions, one position: P(theta_0 > theta_1) for Beta(2, 1) vs Beta(1, 1) is 2/3.
  const auto t = bernoulli_ts_distribution({2, 1}, {1, 1}, 1, 200000, 4);
  EXPECT_NEAR(t->probs(0, 0)[0], 2.0 / 3.0, 0.005);
}

TEST(Ope, PolicyTablesMustBeDistributions) {
  EXPECT_THROW(TableDistribution(2, 1, {0.5, 0.6}), InvalidInput);
  EXPECT_THROW(TableDistribution(2, 1, {1.5, -0.5}), InvalidInput);
  EXPECT_THROW(TableDistribution(2, 2, {0.5, 0.5}), InvalidInput);  // wrong size
  EXPECT_NO_THROW(RowDistribution(2, 1, 2, {0.5, 0.5, 1.0, 0.0}));
  EXPECT_THROW(RowDistribution(2, 1, 2, {0.5, 0.5, 1.0, 0.1}), InvalidInput);
}

const char* kObdHeader = ",timestamp,item_id,position,click,propensity_score,user_feature_0,user-item_affinity_0\n";

TEST(Ope, ReadsTheOpenBanditLayoutAndWritesItBack) {
  test::TempDir dir;
  const auto path = dir.write("log.csv", std::string(kObdHeader) +
                                             "0,2019-11-24 00:03:13+00:00,3,1,0,0.25,abc,0.5\n"
                                             "1,2019-11-24 00:03:14+00:00,1,2,1,0.5,def,0.0\n"
                                             "2,2019-11-24 00:03:15+00:00,0,3,0,1.0,abc,1.5\n");
  const auto log = read_obd_csv(path);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log.n_actions, 4);
  EXPECT_EQ(log.n_positions, 3);
  EXPECT_EQ(log.position[0], 0);  // 1-based in the file
  EXPECT_EQ(log.action[1], 1);
  EXPECT_EQ(log.reward[1], 1.0f);
  EXPECT_DOUBLE_EQ(log.pscore[0], 0.25);
  ASSERT_EQ(log.categorical_names, std::vector<std::string>{"user_feature_0"});
  EXPECT_EQ(log.categorical[0][0], log.categorical[0][2]);
  EXPECT_NE(log.categorical[0][0], log.categorical[0][1]);
  ASSERT_EQ(log.numeric_names, std::vector<std::string>{"user-item_affinity_0"});
  EXPECT_FLOAT_EQ(log.numeric[0][2], 1.5f);
  EXPECT_NEAR(log.mean_reward(), 1.0 / 3.0, 1e-12);

  write_obd_csv(log, dir.file("back.csv"));
  const auto back = read_obd_csv(dir.file("back.csv"));
  EXPECT_EQ(back.action, log.action);
  EXPECT_EQ(back.position, log.position);
  EXPECT_EQ(back.reward, log.reward);
  EXPECT_EQ(back.pscore, log.pscore);
  EXPECT_EQ(back.timestamp, log.timestamp);
  EXPECT_EQ(back.categorical, log.categorical);
  EXPECT_EQ(back.numeric, log.numeric);
}

void expect_parse_error(const std::string& row, const std::string& needle) {
  test::TempDir dir;
  const auto path = dir.write("bad.csv", std::string(kObdHeader) + "0,t,1,1,0,0.5,abc,0.5\n" + row + "\n");
  try {
    read_obd_csv(path);
    FAIL() << "accepted: " << row;
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 3) << e.what();
    EXPECT_NE(std::string(e.what()).find(path + ":3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Ope, ReaderNamesFileLineAndColumnOfABadRow) {
  expect_parse_error("1,t,1,1,0,0,abc,0.5", "propensity_score (column 6)");
  expect_parse_error("1,t,1,1,0,1.5,abc,0.5", "(0, 1]");
  expect_parse_error("1,t,1,1,0,-0.1,abc,0.5", "propensity_score");
  expect_parse_error("1,t,x,1,0,0.5,abc,0.5", "item_id (column 3)");
  expect_parse_error("1,t,1,0,0,0.5,abc,0.5", "position (column 4)");
  expect_parse_error("1,t,1,1,yes,0.5,abc,0.5", "click (column 5)");
  expect_parse_error("1,t,1,1,0,0.5,abc", "expected 8 fields");
  expect_parse_error("1,t,1,1,0,0.5,abc,high", "user-item_affinity_0 (column 8)");
  test::TempDir dir;
  EXPECT_THROW(read_obd_csv(dir.write("h.csv", "item_id,position,click\n1,1,0\n")), ParseError);
  EXPECT_THROW(read_obd_csv(dir.write("e.csv", kObdHeader)), ParseError);
  EXPECT_THROW(read_obd_csv(dir.file("missing.csv")), IoError);
  EXPECT_THROW(read_obd_csv(dir.write("n.csv", std::string(kObdHeader) + "0,t,5,1,0,0.5,a,0\n"), 3), ParseError);
}

TEST(Ope, ReadsActionProbabilityFiles) {
  test::TempDir dir;
  const auto free = read_action_distribution(
      dir.write("p.csv", "action,position,probability\n0,1,0.25\n1,1,0.75\n1,2,1\n"), 2, 2, 10);
  EXPECT_TRUE(free->context_free());
  EXPECT_DOUBLE_EQ(free->probs(7, 0)[1], 0.75);
  EXPECT_DOUBLE_EQ(free->probs(7, 1)[0], 0.0);
  const auto rows =
      read_action_distribution(dir.write("r.csv", "row,action,position,probability\n0,0,1,1\n1,1,1,1\n"), 2, 1, 2);
  EXPECT_FALSE(rows->context_free());
  EXPECT_DOUBLE_EQ(rows->probs(1, 0)[1], 1.0);
  EXPECT_THROW(read_action_distribution(dir.write("s.csv", "action,position,probability\n0,1,0.5\n"), 2, 1, 1),
               InvalidInput);  // sums to 0.5
  try {
    read_action_distribution(dir.write("b.csv", "action,position,probability\n0,1,0.5\n9,1,0.5\n"), 2, 1, 1);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "action");
  }
}

TEST(Ope, WorkflowRunsEveryEstimatorAndRejectsUnknownNames) {
  const auto log = simulated_log(2000, 11);
  const TableDistribution target(2, 1, {0.9, 0.1});
  OpeOptions o;
  o.bootstrap = 50;
  const auto r = run_ope(log, target, o);
  ASSERT_EQ(r.estimates.size(), estimator_names().size());
  for (const auto& e : r.estimates) EXPECT_NEAR(e.value, 0.65, 0.06) << e.estimator;
  EXPECT_EQ(r.rows, 2000u);
  EXPECT_TRUE(r.to_json().contains("estimates"));
  o.estimators = {"ips", "magic"};
  EXPECT_THROW(run_ope(log, target, o), InvalidInput);
  o.estimators = {"dm"};
  o.reward_model = "oracle";
  EXPECT_THROW(run_ope(log, target, o), InvalidInput);
  // A policy over fewer actions than the log cannot be evaluated on it.
  o.reward_model = "tabular";
  EXPECT_THROW(run_ope(log, TableDistribution(1, 1, {1.0}), o), InvalidInput);
}

}  // namespace
}  // namespace driftrec::ope
