// User-level private training: DP-SGD for BPR and sufficient-statistics perturbation for iALS. The
// budget each reports, refusals, no user rows in the release, determinism, and that each learns
// under weak noise but not under overwhelming noise.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/privacy/rdp_accountant.h"
#include "small_split.h"
#include "test_util.h"

using namespace driftrec;

namespace {
const test::SmallSplit& data_() {
  static const test::SmallSplit d(400, 120, 4, 5);
  return d;
}

std::unique_ptr<models::Model> fit(nlohmann::json config, std::uint64_t seed = 1, const std::string& model = "bpr",
                                   int threads = 1) {
  config["factors"] = 8;
  auto m = models::create_model(model, config);
  models::FitOptions o;
  o.seed = seed;
  o.threads = threads;
  m->fit(data_().split.train, o);
  return m;
}

double test_ndcg(const models::Model& m) { return data_().test_ndcg(m); }
}  // namespace

TEST(PrivateBpr, SpendsAtMostItsBudgetAndReportsIt) {
  const auto m = fit({{"epochs", 4}, {"dp_epsilon", 4.0}, {"dp_batch_users", 64}});
  const auto r = m->training_report().at("privacy");
  const std::int64_t users = data_().split.train.n_users() - 1;
  const std::int64_t steps = 4 * ((users + 63) / 64);
  EXPECT_EQ(r.at("steps").get<std::int64_t>(), steps);
  EXPECT_EQ(r.at("unit"), "user");
  const double sigma = r.at("noise_multiplier").get<double>();
  EXPECT_DOUBLE_EQ(m->config().at("dp_noise").get<double>(), sigma);
  const double q = 64.0 / static_cast<double>(users);
  EXPECT_DOUBLE_EQ(r.at("sampling_rate").get<double>(), q);
  EXPECT_NEAR(r.at("epsilon").get<double>(), privacy::dp_sgd_epsilon(q, sigma, steps, 1e-5).epsilon, 1e-12);
  EXPECT_LE(r.at("epsilon").get<double>(), 4.0);
  EXPECT_GT(r.at("epsilon").get<double>(), 3.9);  // calibrated to the budget, not far below it
  // A given noise multiplier: its epsilon is reported.
  const auto n = fit({{"epochs", 2}, {"dp_noise", 2.0}, {"dp_batch_users", 64}});
  EXPECT_NEAR(n->training_report().at("privacy").at("epsilon").get<double>(),
              privacy::dp_sgd_epsilon(q, 2.0, 2 * ((users + 63) / 64), 1e-5).epsilon, 1e-12);
}

TEST(PrivateBpr, RefusesBudgetsItCannotKeep) {
  EXPECT_THROW(fit({{"epochs", 4}, {"dp_epsilon", 1.0}, {"dp_noise", 0.3}}), InvalidInput);
  EXPECT_THROW(fit({{"epochs", 1000}, {"dp_epsilon", 0.01}, {"dp_delta", 1e-12}}), InvalidInput);
  EXPECT_THROW(fit({{"dp_epsilon", 1.0}, {"dp_clip", 0.0}}), InvalidInput);
  EXPECT_THROW(fit({{"dp_epsilon", -1.0}}), InvalidInput);
}

TEST(PrivateBpr, ReleasesNoUserRowsAndIsDeterministic) {
  const auto m = fit({{"epochs", 2}, {"dp_epsilon", 8.0}});
  const auto& train = data_().split.train;
  std::vector<data::Event> h;
  for (auto r = train.log.user_begin(7); r < train.log.user_end(7); ++r)
    h.push_back({7, train.log.item[static_cast<std::size_t>(r)], train.log.ts[static_cast<std::size_t>(r)], 0, 0, 1});
  // A training user is folded in from their history exactly like a stranger with that history.
  EXPECT_EQ(m->encode(7, h).vector, m->encode(-1, h).vector);
  test::TempDir d;
  models::save_model_dir(d.file("m"), *m, train);
  const auto loaded = models::load_model_dir(d.file("m"));
  EXPECT_GT(loaded.meta.at("privacy").at("epsilon").get<double>(), 0.0);
  // No user list either: the directory does not reveal who was in the training data.
  EXPECT_EQ(loaded.users.count(), 0);
  EXPECT_EQ(loaded.model->n_users(), 1);
  EXPECT_EQ(loaded.model->encode(7, h).vector, m->encode(-1, h).vector);
  int dim = 0;
  const float* a = m->item_embeddings(&dim);
  const auto again = fit({{"epochs", 2}, {"dp_epsilon", 8.0}});
  const float* b = again->item_embeddings(&dim);
  EXPECT_TRUE(std::equal(a, a + static_cast<std::size_t>(m->n_items()) * dim, b));
  const auto other = fit({{"epochs", 2}, {"dp_epsilon", 8.0}}, 2);
  EXPECT_FALSE(std::equal(a, a + static_cast<std::size_t>(m->n_items()) * dim, other->item_embeddings(&dim)));
}

TEST(PrivateBpr, LearnsUnderWeakNoiseNotUnderOverwhelmingNoise) {
  const nlohmann::json base = {{"epochs", 20}, {"dp_batch_users", 64}, {"dp_lr", 5.0}};
  auto weak = base, strong = base;
  weak["dp_noise"] = 0.05;
  strong["dp_noise"] = 500.0;
  const double w = test_ndcg(*fit(weak)), s = test_ndcg(*fit(strong));
  EXPECT_GT(w, 1.5 * s) << "weak noise " << w << ", overwhelming noise " << s;
}

TEST(PrivateIals, SpendsAtMostItsBudgetWithTheBoundedSensitivity) {
  const auto m = fit({{"iterations", 2}, {"dp_epsilon", 10.0}, {"dp_max_items", 16}, {"alpha", 2.0}}, 1, "ials");
  const auto r = m->training_report().at("privacy");
  EXPECT_LE(r.at("epsilon").get<double>(), 10.0);
  EXPECT_GT(r.at("epsilon").get<double>(), 9.9);
  // One user adds x x^T (norm <= 1) to the Gram matrix and, for each of at most 16 items,
  // (c - 1) x x^T and c x with c <= 1 + 2 * 1 = 3.
  EXPECT_NEAR(r.at("sensitivity").get<double>(), std::sqrt(1.0 + 16 * (4.0 + 9.0)), 1e-12);
  const double sigma = r.at("noise_multiplier").get<double>();
  EXPECT_NEAR(r.at("epsilon").get<double>(), privacy::dp_sgd_epsilon(1.0, sigma, 2, 1e-5).epsilon, 1e-12);
  EXPECT_THROW(fit({{"iterations", 5}, {"dp_epsilon", 1.0}, {"dp_noise", 0.5}}, 1, "ials"), InvalidInput);
  EXPECT_THROW(fit({{"dp_epsilon", 1.0}, {"dp_max_items", 0}}, 1, "ials"), InvalidInput);
}

TEST(PrivateIals, SameModelOnAnyNumberOfThreads) {
  const nlohmann::json c = {{"iterations", 2}, {"dp_epsilon", 10.0}};
  const auto a = fit(c, 3, "ials", 1), b = fit(c, 3, "ials", 2);
  int dim = 0;
  const float* ya = a->item_embeddings(&dim);
  EXPECT_TRUE(std::equal(ya, ya + static_cast<std::size_t>(a->n_items()) * dim, b->item_embeddings(&dim)));
}

TEST(PrivateIals, LearnsUnderWeakNoiseNotUnderOverwhelmingNoise) {
  const nlohmann::json base = {{"iterations", 2}, {"dp_max_items", 32}};
  auto weak = base, strong = base;
  weak["dp_noise"] = 0.01;
  strong["dp_noise"] = 1000.0;
  const double w = test_ndcg(*fit(weak, 1, "ials")), s = test_ndcg(*fit(strong, 1, "ials"));
  EXPECT_GT(w, 1.5 * s) << "weak noise " << w << ", overwhelming noise " << s;
}
