// Paired significance tests against hand-computed and independently integrated values.
#include "driftrec/eval/significance.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "driftrec/core/error.h"

using namespace driftrec;

TEST(Significance, IncompleteBetaMatchesTheBinomialSum) {
  // I_x(a, b) for integer a, b is a binomial tail: I_0.5(2, 3) = (6 + 4 + 1) / 16.
  EXPECT_NEAR(eval::incomplete_beta(0.5, 2, 3), 11.0 / 16.0, 1e-12);
  EXPECT_NEAR(eval::incomplete_beta(0.2, 1, 1), 0.2, 1e-12);
  EXPECT_NEAR(eval::incomplete_beta(0.9, 3, 2), 4 * 0.729 * 0.1 + 0.6561, 1e-12);  // P(Bin(4, 0.9) >= 3)
  EXPECT_EQ(eval::incomplete_beta(0.0, 2, 3), 0.0);
  EXPECT_EQ(eval::incomplete_beta(1.0, 2, 3), 1.0);
}

TEST(Significance, StudentTPValues) {
  // References from numerically integrating the t density (two-sided).
  EXPECT_NEAR(eval::student_t_p_value(2.0, 10), 0.0733880348, 1e-8);
  EXPECT_NEAR(eval::student_t_p_value(-2.0, 10), 0.0733880348, 1e-8);
  EXPECT_NEAR(eval::student_t_p_value(3.872983346207417, 3), 0.0304662917, 1e-8);
  EXPECT_NEAR(eval::student_t_p_value(1.959963985, 1e7), 0.05, 1e-6);  // the normal limit
  EXPECT_NEAR(eval::student_t_p_value(0.0, 5), 1.0, 1e-12);
}

TEST(Significance, PairedTTestByHand) {
  // d = b - a = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), t = 2.5 / (sd / 2) = 3.873 with 3 df.
  const std::vector<double> a = {0, 0, 0, 0}, b = {1, 2, 3, 4};
  const auto r = eval::paired_compare(a, b, 2000, 7);
  EXPECT_EQ(r.n, 4u);
  EXPECT_DOUBLE_EQ(r.diff, 2.5);
  EXPECT_NEAR(r.t, 3.872983346, 1e-8);
  EXPECT_NEAR(r.p_value, 0.0304662917, 1e-8);
  EXPECT_GE(r.ci_low, 1.0);
  EXPECT_LE(r.ci_high, 4.0);
  EXPECT_LT(r.ci_low, 2.5);
  EXPECT_GT(r.ci_high, 2.5);
}

TEST(Significance, BootstrapIsSeededAndCoversTheTruth) {
  std::mt19937_64 gen(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> a(3000), b(3000), c(3000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = noise(gen);
    b[i] = a[i] + noise(gen);        // no true difference
    c[i] = a[i] + 0.2 + noise(gen);  // a true difference of 0.2
  }
  const auto same = eval::paired_compare(a, b, 1000, 11), same2 = eval::paired_compare(a, b, 1000, 11);
  EXPECT_EQ(same.ci_low, same2.ci_low);
  EXPECT_EQ(same.ci_high, same2.ci_high);
  EXPECT_LT(same.ci_low, 0.0);
  EXPECT_GT(same.ci_high, 0.0);
  EXPECT_GT(same.p_value, 0.01);
  const auto diff = eval::paired_compare(a, c, 1000, 11);
  EXPECT_LT(diff.p_value, 1e-6);
  EXPECT_LT(diff.ci_low, 0.2);
  EXPECT_GT(diff.ci_high, 0.2);
  EXPECT_GT(diff.ci_low, 0.1);
}

TEST(Significance, HolmAdjustment) {
  const auto adj = eval::holm_adjust({0.01, 0.04, 0.03});
  EXPECT_NEAR(adj[0], 0.03, 1e-12);
  EXPECT_NEAR(adj[1], 0.06, 1e-12);  // max(0.03 * 2, 0.04 * 1)
  EXPECT_NEAR(adj[2], 0.06, 1e-12);
  EXPECT_EQ(eval::holm_adjust({0.9, 0.8})[0], 1.0);
}

TEST(Significance, BadInput) {
  EXPECT_THROW(eval::paired_compare({1, 2}, {1}), InvalidInput);
  EXPECT_THROW(eval::paired_compare({1}, {1}), InvalidInput);
  const auto r = eval::paired_compare({1, 2, 3}, {1.5, 2.5, 3.5}, 100);
  EXPECT_EQ(r.p_value, 0.0);  // a constant non-zero difference
  EXPECT_DOUBLE_EQ(r.ci_low, 0.5);
}

TEST(Significance, EveryModelAgainstTheBaselineWithOneFamily) {
  std::map<std::string, std::vector<double>> base = {{"hr", {0, 1, 0, 1, 0, 1}},
                                                     {"mrr", {0.1, 0.2, 0.1, 0.2, 0.1, 0.2}}};
  std::map<std::string, std::vector<double>> same = base;
  std::map<std::string, std::vector<double>> better = {{"hr", {1, 1, 1, 1, 1, 1}},
                                                       {"mrr", {0.6, 0.7, 0.5, 0.6, 0.7, 0.5}}};
  const auto rows = eval::compare_to_baseline({&base, &same, &better}, {"hr", "mrr"}, 100, 3);
  ASSERT_EQ(rows.size(), 4u);  // 2 metrics x 2 models, metric-major
  EXPECT_EQ(rows[0].metric, "hr");
  EXPECT_EQ(rows[0].model, 1u);
  EXPECT_EQ(rows[1].model, 2u);
  EXPECT_EQ(rows[2].metric, "mrr");
  std::vector<double> raw;
  for (const auto& r : rows) raw.push_back(r.c.p_value);
  const auto holm = eval::holm_adjust(raw);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_DOUBLE_EQ(rows[i].p_holm, holm[i]);
  EXPECT_EQ(rows[0].c.diff, 0.0);
  EXPECT_GT(rows[3].c.diff, 0.4);
  EXPECT_THROW(eval::compare_to_baseline({&base, &same}, {"ndcg"}, 10, 1), InvalidInput);
}
