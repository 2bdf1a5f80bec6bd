// User-level DP-SGD of the LibTorch sequential models: the per-user clipping and noisy mean
// (PrivateGradient) against hand-computed cases, and a private sasrec fit: the budget it reports,
// refusals, no user rows in the release, determinism, and that it learns under weak noise but not
// under overwhelming noise.
#include <gtest/gtest.h>

#include <cmath>

#include "../../src/nn/private_gradient.h"
#include "../unit/small_split.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "driftrec/privacy/rdp_accountant.h"

using namespace driftrec;

TEST(PrivateGradient, ClipsEachUserOverAllWeightsAndAveragesTheSum) {
  auto a = torch::zeros({2}).requires_grad_(true);
  auto w = torch::zeros({4, 2}).requires_grad_(true);  // an embedding table with sparse lookups
  nn::PrivateGradient pg({a, w}, 1.0);
  pg.begin_step();
  // User 1: a's gradient (3, 0), rows 1 (looked up twice: (0.5, 0) + (1.5, 0) = (2, 0)) and 3 ((0, 2*sqrt(3)))
  // -> norm sqrt(9 + 4 + 12) = 5, scaled by 1/5.
  (a * torch::tensor({3.0f, 0.0f})).sum().backward();
  const auto ids = torch::tensor({1, 1, 3}, torch::kLong);
  const auto coef = torch::tensor({{0.5f, 0.0f}, {1.5f, 0.0f}, {0.0f, 2.0f * std::sqrt(3.0f)}});
  (torch::embedding(w, ids, -1, false, true) * coef).sum().backward();
  ASSERT_TRUE(w.grad().is_sparse());
  EXPECT_NEAR(pg.add_user(), 5.0, 1e-5);
  // User 2: norm 0.5 < clip, unscaled; touches only a.
  pg.clear_user();
  (a * torch::tensor({0.3f, 0.4f})).sum().backward();
  EXPECT_NEAR(pg.add_user(), 0.5, 1e-6);
  EXPECT_EQ(pg.users(), 2);
  pg.release(0.0, 2.0);
  EXPECT_TRUE(torch::allclose(a.grad(), torch::tensor({(0.6f + 0.3f) / 2, 0.4f / 2}), 1e-6, 1e-6));
  ASSERT_FALSE(w.grad().is_sparse());
  const auto want_w = torch::tensor({{0.0f, 0.0f}, {0.4f / 2, 0.0f}, {0.0f, 0.0f}, {0.0f, 0.4f * std::sqrt(3.0f) / 2}});
  EXPECT_TRUE(torch::allclose(w.grad(), want_w, 1e-6, 1e-6)) << w.grad();
  // The next step starts from an empty sum.
  pg.begin_step();
  pg.release(0.0, 1.0);
  EXPECT_EQ(a.grad().abs().sum().item<float>(), 0.0f);
}

TEST(PrivateGradient, NoiseHasStdMultiplierTimesClipOverTheDivisorOnEveryCoordinate) {
  torch::manual_seed(3);
  auto w = torch::zeros({200, 100}).requires_grad_(true);
  nn::PrivateGradient pg({w}, 1.5);
  pg.begin_step();
  pg.release(2.0, 4.0);  // nobody joined: pure noise, std 2 * 1.5 / 4 = 0.75
  const auto g = w.grad();
  EXPECT_NEAR(g.std().item<double>(), 0.75, 0.75 * 0.02);
  EXPECT_NEAR(g.mean().item<double>(), 0.0, 0.01);
  EXPECT_GT(g[0].abs().sum().item<double>(), 0.0);  // untouched rows are noisy too
}

namespace {
const test::SmallSplit& private_data() {
  static const test::SmallSplit d(300, 100, 4, 5);
  return d;
}

std::unique_ptr<models::Model> fit(nlohmann::json config, std::uint64_t seed = 1) {
  nn::register_neural_models();
  nlohmann::json base = {{"dim", 16},       {"max_len", 20},        {"layers", 1}, {"loss", "sampled"},
                         {"negatives", 32}, {"dp_batch_users", 64}, {"epochs", 2}, {"warmup_steps", 0},
                         {"lr", 3e-3},      {"dropout", 0.0}};
  for (const auto& [k, v] : config.items()) base[k] = v;
  auto m = models::create_model("sasrec", base);
  models::FitOptions o;
  o.seed = seed;
  o.threads = 1;
  m->fit(private_data().split.train, o);
  return m;
}

std::int64_t users_with_sequences() {
  const auto& train = private_data().split.train;
  std::int64_t n = 0;
  for (std::int32_t u = 1; u < train.n_users(); ++u) n += train.log.user_length(u) >= 2;
  return n;
}
}  // namespace

TEST(PrivateSequential, SpendsAtMostItsBudgetAndReportsIt) {
  const auto m = fit({{"dp_epsilon", 4.0}});
  const auto r = m->training_report().at("privacy");
  const auto users = users_with_sequences();
  const std::int64_t steps = 2 * ((users + 63) / 64);
  EXPECT_EQ(r.at("users").get<std::int64_t>(), users);
  EXPECT_EQ(r.at("steps").get<std::int64_t>(), steps);
  EXPECT_EQ(r.at("unit"), "user");
  const double q = 64.0 / static_cast<double>(users), sigma = r.at("noise_multiplier").get<double>();
  EXPECT_DOUBLE_EQ(r.at("sampling_rate").get<double>(), q);
  EXPECT_DOUBLE_EQ(m->config().at("dp_noise").get<double>(), sigma);
  EXPECT_NEAR(r.at("epsilon").get<double>(), privacy::dp_sgd_epsilon(q, sigma, steps, 1e-5).epsilon, 1e-12);
  EXPECT_LE(r.at("epsilon").get<double>(), 4.0);
  EXPECT_GT(r.at("epsilon").get<double>(), 3.9);
}

TEST(PrivateSequential, RefusesWhatTheAccountingDoesNotCover) {
  EXPECT_THROW(fit({{"dp_epsilon", 1.0}, {"dp_noise", 0.3}, {"epochs", 4}}), InvalidInput);  // over budget
  EXPECT_THROW(fit({{"dp_epsilon", 8.0}, {"max_len", 0}}), InvalidInput);                    // length from the data
  EXPECT_THROW(fit({{"dp_epsilon", 8.0}, {"sampling", "popularity"}}), InvalidInput);        // counts from the data
  EXPECT_THROW(fit({{"dp_epsilon", 8.0}, {"dp_clip", 0.0}}), InvalidInput);
}

TEST(PrivateSequential, ReleasesNoUserRowsAndIsDeterministic) {
  const auto m = fit({{"dp_epsilon", 8.0}});
  EXPECT_EQ(m->n_users(), 1);
  const auto& train = private_data().split.train;
  test::TempDir d;
  models::save_model_dir(d.file("m"), *m, train);
  const auto loaded = models::load_model_dir(d.file("m"));
  EXPECT_GT(loaded.meta.at("privacy").at("epsilon").get<double>(), 0.0);
  EXPECT_EQ(loaded.users.count(), 0);  // no user list: the directory does not reveal who was in the data
  int dim = 0;
  const float* a = m->item_embeddings(&dim);
  const auto n = static_cast<std::size_t>(m->n_items()) * static_cast<std::size_t>(dim);
  const auto again = fit({{"dp_epsilon", 8.0}});
  EXPECT_TRUE(std::equal(a, a + n, again->item_embeddings(&dim)));
  const auto other = fit({{"dp_epsilon", 8.0}}, 2);
  EXPECT_FALSE(std::equal(a, a + n, other->item_embeddings(&dim)));
}

TEST(PrivateSequential, LearnsUnderWeakNoiseNotUnderOverwhelmingNoise) {
  const nlohmann::json base = {{"epochs", 8}, {"dp_batch_users", 32}, {"dp_clip", 1.0}};
  auto weak = base, strong = base;
  weak["dp_noise"] = 0.05;
  strong["dp_noise"] = 500.0;
  const double w = private_data().test_ndcg(*fit(weak)), s = private_data().test_ndcg(*fit(strong));
  // (This small world is easy: the overwhelmed model still ranks at about 0.4.)
  EXPECT_GT(w, s + 0.1) << "weak noise " << w << ", overwhelming noise " << s;
}
