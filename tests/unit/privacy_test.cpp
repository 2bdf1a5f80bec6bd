// The RDP accountant against published values (TF Privacy's compute_dp_sgd_privacy tests, which
// print the optimal order too) and the Gaussian mechanism's closed forms.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/privacy/dp_sgd_plan.h"
#include "driftrec/privacy/rdp_accountant.h"

using namespace driftrec;
using namespace driftrec::privacy;

namespace {
// TF Privacy's compute_dp_sgd_privacy(n, batch_size, noise_multiplier, epochs, delta):
// q = batch_size / n, steps = ceil(epochs * n / batch_size).
Epsilon tf_privacy_style(double n, double batch, double sigma, double epochs, double delta) {
  return dp_sgd_epsilon(batch / n, sigma, static_cast<std::int64_t>(std::ceil(epochs * n / batch)), delta);
}
}  // namespace

TEST(RdpAccountant, MatchesTensorFlowPrivacysPublishedValues) {
  // tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py
  const auto a = tf_privacy_style(60000, 150, 1.3, 15, 1e-5);
  EXPECT_NEAR(a.epsilon, 0.7242234026109595, 1e-6);
  EXPECT_EQ(a.order, 19.0);
  const auto b = tf_privacy_style(100000, 100, 1.0, 30, 1e-7);
  EXPECT_NEAR(b.epsilon, 1.4154988495444845, 1e-6);
  EXPECT_EQ(b.order, 13.0);
  // A fractional optimal order: exercises the erfc series.
  const auto c = tf_privacy_style(100000000, 1024, 0.1, 10, 1e-7);
  EXPECT_NEAR(c.epsilon / 5907982.31138195, 1.0, 1e-6);
  EXPECT_EQ(c.order, 1.25);
}

TEST(RdpAccountant, PlainGaussianMechanismClosedForms) {
  // q = 1: RDP is alpha / (2 sigma^2) exactly.
  for (double a : {1.5, 2.0, 7.0, 64.0}) EXPECT_DOUBLE_EQ(subsampled_gaussian_rdp(1.0, 2.0, a), a / 8.0);
  // The converted epsilon is a valid bound for the exact privacy curve of the Gaussian mechanism
  // (Balle & Wang 2018) and not far above the exact epsilon.
  for (double sigma : {0.8, 1.0, 2.0, 5.0}) {
    const double delta = 1e-5;
    RdpAccountant acc;
    acc.add_subsampled_gaussian(1.0, sigma, 1);
    const double eps = acc.epsilon(delta).epsilon;
    EXPECT_LE(gaussian_mechanism_delta(sigma, eps), delta) << sigma;
    double lo = 0, hi = eps;  // exact epsilon: gaussian_mechanism_delta(sigma, e) = delta
    for (int i = 0; i < 100; ++i) {
      const double mid = 0.5 * (lo + hi);
      (gaussian_mechanism_delta(sigma, mid) > delta ? lo : hi) = mid;
    }
    EXPECT_LT(eps, 1.35 * hi) << sigma << ": RDP " << eps << " vs exact " << hi;
  }
  // Composition of k Gaussian steps is one Gaussian with sigma / sqrt(k).
  RdpAccountant k4;
  k4.add_subsampled_gaussian(1.0, 2.0, 4);
  RdpAccountant one;
  one.add_subsampled_gaussian(1.0, 1.0, 1);
  EXPECT_NEAR(k4.epsilon(1e-6).epsilon, one.epsilon(1e-6).epsilon, 1e-12);
}

TEST(RdpAccountant, IntegerAndFractionalSeriesAgreeAndMonotone) {
  for (double q : {0.001, 0.01, 0.1}) {
    for (double sigma : {0.7, 1.0, 3.0}) {
      const double at3 = subsampled_gaussian_rdp(q, sigma, 3.0);
      const double near3 = subsampled_gaussian_rdp(q, sigma, 3.0 + 1e-6);
      EXPECT_NEAR(near3 / at3, 1.0, 1e-4) << q << " " << sigma;
      // Subsampling amplifies privacy: never worse than the plain mechanism.
      EXPECT_LE(at3, subsampled_gaussian_rdp(1.0, sigma, 3.0));
    }
  }
  EXPECT_EQ(subsampled_gaussian_rdp(0.0, 1.0, 2.0), 0.0);
  EXPECT_TRUE(std::isinf(subsampled_gaussian_rdp(0.1, 0.0, 2.0)));
  const double e1 = dp_sgd_epsilon(0.01, 1.0, 1000, 1e-5).epsilon;
  EXPECT_LT(e1, dp_sgd_epsilon(0.01, 1.0, 2000, 1e-5).epsilon);
  EXPECT_LT(e1, dp_sgd_epsilon(0.02, 1.0, 1000, 1e-5).epsilon);
  EXPECT_GT(e1, dp_sgd_epsilon(0.01, 1.2, 1000, 1e-5).epsilon);
}

TEST(RdpAccountant, CalibratesTheNoiseToABudget) {
  const double q = 256.0 / 22363, delta = 1e-5;
  const std::int64_t steps = 20 * 22363 / 256;
  for (double eps : {1.0, 8.0}) {
    const double sigma = calibrate_noise_multiplier(q, steps, eps, delta);
    EXPECT_LE(dp_sgd_epsilon(q, sigma, steps, delta).epsilon, eps);
    EXPECT_GT(dp_sgd_epsilon(q, sigma * 0.99, steps, delta).epsilon, eps);
  }
  EXPECT_THROW(calibrate_noise_multiplier(q, steps, 0.0, delta), InvalidInput);
  EXPECT_THROW(calibrate_noise_multiplier(1.0, 100000000, 1e-3, 1e-12), InvalidInput);
  EXPECT_THROW(dp_sgd_epsilon(1.5, 1.0, 1, 1e-5), InvalidInput);
  EXPECT_THROW(dp_sgd_epsilon(0.1, 1.0, 1, 0.0), InvalidInput);
  EXPECT_THROW(RdpAccountant({1.0}), InvalidInput);
}

TEST(DpSgdPlan, EpochsOfBatchesAndRoundsOfClientsAreTheSameSampledGaussianPlan) {
  privacy::DpSgdSettings s;
  s.users = 1000;
  s.batch_users = 100;
  s.epochs = 3;
  s.clip = 1.0;
  s.delta = 1e-5;
  s.epsilon = 4.0;
  // DP-SGD: q = 100 / 1000, 10 steps an epoch, 30 steps; calibrated to spend at most 4.
  const auto sgd = privacy::plan_dp_sgd(s, "");
  EXPECT_DOUBLE_EQ(sgd.q, 0.1);
  EXPECT_EQ(sgd.steps, 30);
  EXPECT_EQ(sgd.steps_per_epoch, 10);
  EXPECT_LE(sgd.spent.epsilon, 4.0);
  EXPECT_GT(sgd.spent.epsilon, 3.95);
  // Federated rounds at client rate 0.1: the same mechanism, so the same noise for 30 rounds.
  const auto fed = privacy::plan_sampled_gaussian(0.1, 30, s, "");
  EXPECT_DOUBLE_EQ(fed.sigma, sgd.sigma);
  EXPECT_EQ(fed.steps, 30);
  EXPECT_NEAR(fed.spent.epsilon, privacy::dp_sgd_epsilon(0.1, fed.sigma, 30, 1e-5).epsilon, 1e-12);
  // Given noise over budget, a rate outside (0, 1], no steps, a clip <= 0: refused.
  auto over = s;
  over.noise = 0.5;
  EXPECT_THROW(privacy::plan_sampled_gaussian(0.1, 30, over, ""), InvalidInput);
  EXPECT_THROW(privacy::plan_sampled_gaussian(0.0, 30, s, ""), InvalidInput);
  EXPECT_THROW(privacy::plan_sampled_gaussian(1.5, 30, s, ""), InvalidInput);
  EXPECT_THROW(privacy::plan_sampled_gaussian(0.1, 0, s, ""), InvalidInput);
  auto no_clip = s;
  no_clip.clip = 0;
  EXPECT_THROW(privacy::plan_sampled_gaussian(0.1, 30, no_clip, ""), InvalidInput);
}
