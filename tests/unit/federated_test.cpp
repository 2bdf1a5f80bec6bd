// Federated training: secure aggregation (masks cancel exactly, dropped clients handled, a single
// upload reveals nothing), FedAvg = centralised gradient descent for one full-batch step with full
// participation, sparse uploads, DP-FedAvg's budget, and bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/federated/fedavg.h"
#include "driftrec/federated/federated_model.h"
#include "driftrec/federated/secure_aggregation.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "small_split.h"
#include "test_util.h"

using namespace driftrec;
using namespace driftrec::fed;

namespace {
std::vector<std::vector<float>> random_updates(std::size_t n, std::size_t len, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<float>> u(n, std::vector<float>(len));
  for (auto& v : u)
    for (auto& x : v) x = static_cast<float>(rng.normal());
  return u;
}

const test::SmallSplit& data_() {
  static const test::SmallSplit d(300, 100, 4, 42);
  return d;
}
double test_ndcg(const models::Model& m) { return data_().test_ndcg(m); }
}  // namespace

TEST(SecureAggregation, MasksCancelAndDroppedClientsAreHandled) {
  for (std::size_t neighbors : {std::size_t{0}, std::size_t{4}}) {
    const std::vector<std::int32_t> ids = {3, 7, 11, 12, 20, 31, 40, 41, 50, 60};
    const auto u = random_updates(ids.size(), 64, 9);
    SecureAggregation agg(ids, 64, 1234, neighbors);
    std::vector<std::vector<std::uint64_t>> masked;
    for (std::size_t c = 0; c < ids.size(); ++c) masked.push_back(agg.mask(ids[c], u[c]));
    // One upload on its own: (almost) every entry differs from the plain fixed-point value.
    std::size_t same = 0;
    for (std::size_t e = 0; e < 64; ++e) same += masked[0][e] == encode_fixed(u[0][e]);
    EXPECT_LE(same, 1u);
    const auto all = agg.aggregate(ids, masked);
    for (std::size_t e = 0; e < 64; ++e) {
      double want = 0;
      for (const auto& v : u) want += v[e];
      EXPECT_NEAR(all[e], want, 1e-5) << neighbors;
    }
    // Clients 7 and 40 drop out after masking: the survivors' sum, exactly.
    std::vector<std::int32_t> senders;
    std::vector<std::vector<std::uint64_t>> got;
    for (std::size_t c = 0; c < ids.size(); ++c)
      if (ids[c] != 7 && ids[c] != 40) {
        senders.push_back(ids[c]);
        got.push_back(masked[c]);
      }
    const auto part = agg.aggregate(senders, got);
    for (std::size_t e = 0; e < 64; ++e) {
      double want = 0;
      for (std::size_t c = 0; c < ids.size(); ++c)
        if (ids[c] != 7 && ids[c] != 40) want += u[c][e];
      EXPECT_NEAR(part[e], want, 1e-5) << neighbors;
    }
  }
}

TEST(SecureAggregation, MalformedUploadsAreRefused) {
  SecureAggregation agg({1, 2, 3}, 8, 5);
  EXPECT_THROW(agg.mask(4, std::vector<float>(8)), InvalidInput);
  EXPECT_THROW(agg.mask(1, std::vector<float>(7)), InvalidInput);
  auto sum = agg.start();
  agg.receive(sum, 1, agg.mask(1, std::vector<float>(8, 1.0f)));
  EXPECT_THROW(agg.receive(sum, 1, agg.mask(1, std::vector<float>(8))), InvalidInput);
  EXPECT_THROW(agg.receive(sum, 2, std::vector<std::uint64_t>(3)), InvalidInput);
  EXPECT_THROW(agg.receive(sum, 9, std::vector<std::uint64_t>(8)), InvalidInput);
  EXPECT_THROW(SecureAggregation({1, 1}, 8, 5), InvalidInput);
}

TEST(FedAvg, OneFullBatchStepWithFullParticipationIsCentralisedGradientDescent) {
  const auto& train = data_().split.train;
  FedOptions o;
  o.factors = 4;
  o.full_batch = true;
  o.local_epochs = 1;
  o.local_pairs = 8;
  o.lr = 0.1;
  o.reg = 0;
  const std::size_t K = 5;
  const std::int32_t n_items = train.n_items();
  std::vector<float> q0(static_cast<std::size_t>(n_items) * K);
  Rng rng(77);
  for (std::size_t e = K; e < q0.size(); ++e) q0[e] = static_cast<float>(rng.normal() * 0.1);
  std::vector<Client> clients;
  for (std::int32_t u = 1; u < train.n_users(); ++u) {
    std::vector<std::int32_t> items;
    for (auto r = train.log.user_begin(u); r < train.log.user_end(u); ++r)
      items.push_back(train.log.item[static_cast<std::size_t>(r)]);
    if (!items.empty()) clients.emplace_back(u, items, K, 3, 0.1);
  }
  // Centralised: one gradient step of sum over users of sum over their pairs of log sigmoid(x).
  std::vector<double> grad(q0.size(), 0.0);
  for (const auto& c : clients) {
    const auto& p = c.user_vector();
    for (const auto& [i, j] : c.pairs(n_items, 1, 0, o.local_pairs)) {
      double x = 0;
      for (std::size_t f = 0; f < K; ++f)
        x += p[f] * (q0[static_cast<std::size_t>(i) * K + f] - q0[static_cast<std::size_t>(j) * K + f]);
      const double g = 1.0 / (1.0 + std::exp(x));
      for (std::size_t f = 0; f < K; ++f) {
        grad[static_cast<std::size_t>(i) * K + f] += g * p[f];
        grad[static_cast<std::size_t>(j) * K + f] -= g * p[f];
      }
    }
  }
  // Federated: every client trains from q0; the server averages the deltas with server_lr = n
  // (the sum of the clients' steps).
  std::vector<float> sum(q0.size(), 0.0f);
  for (auto& c : clients) {
    const auto up = c.train(q0, n_items, o, 1);
    for (std::size_t r = 0; r < up.rows.size(); ++r)
      for (std::size_t f = 0; f < K; ++f) sum[static_cast<std::size_t>(up.rows[r]) * K + f] += up.delta[r * K + f];
  }
  auto fed = q0;
  apply_round(fed, sum, static_cast<double>(clients.size()), static_cast<double>(clients.size()));
  double worst = 0;
  for (std::size_t e = 0; e < q0.size(); ++e) worst = std::max(worst, std::fabs(fed[e] - (q0[e] + o.lr * grad[e])));
  EXPECT_LT(worst, 1e-5);
}

TEST(FedAvg, SparseUploadsSecureAggregationAndDropoutGiveTheSameModel) {
  FedOptions o;
  o.factors = 8;
  o.rounds = 5;
  o.threads = 2;
  const auto sparse = train_federated(data_().split.train, o);
  auto d = o;
  d.sparse = false;
  const auto dense = train_federated(data_().split.train, d);
  auto s = o;
  s.secure = true;
  s.mask_neighbors = 6;
  const auto secure = train_federated(data_().split.train, s);
  int dim = 0;
  const float* a = sparse.model->item_embeddings(&dim);
  const float* b = dense.model->item_embeddings(&dim);
  const float* c = secure.model->item_embeddings(&dim);
  double diff_dense = 0, diff_secure = 0;
  for (std::size_t e = 0; e < static_cast<std::size_t>(sparse.model->n_items()) * dim; ++e) {
    diff_dense = std::max(diff_dense, static_cast<double>(std::fabs(a[e] - b[e])));
    diff_secure = std::max(diff_secure, static_cast<double>(std::fabs(a[e] - c[e])));
  }
  EXPECT_EQ(diff_dense, 0.0);
  EXPECT_LT(diff_secure, 1e-4);  // fixed-point rounding of the masked sum only
  const auto up_sparse = sparse.report.at("bytes_up").get<double>(),
             up_dense = dense.report.at("bytes_up").get<double>();
  EXPECT_GT(up_dense / up_sparse, 1.5) << up_sparse << " vs " << up_dense;  // 100 items: few rows to skip
  // A third of the clients drop out after masking every round: still aggregated, and counted.
  s.dropout = 0.3;
  const auto drop = train_federated(data_().split.train, s);
  std::size_t dropped = 0;
  for (const auto& r : drop.rounds) dropped += r.dropped;
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(test_ndcg(*drop.model), 0.0);
}

TEST(FedAvg, LearnsAndDpFedAvgSpendsItsBudget) {
  FedOptions o;
  o.factors = 8;
  o.rounds = 30;
  o.lr = 0.1;
  o.local_epochs = 2;
  const auto plain = train_federated(data_().split.train, o);
  auto dp = o;
  dp.dp_epsilon = 8;
  dp.client_rate = 0.5;
  const auto priv = train_federated(data_().split.train, dp);
  const auto p = priv.report.at("privacy");
  EXPECT_LE(p.at("epsilon").get<double>(), 8.0);
  EXPECT_GT(p.at("epsilon").get<double>(), 7.9);
  auto noisy = o;
  noisy.dp_noise = 1000;
  const double learned = test_ndcg(*plain.model),
               drowned = test_ndcg(*train_federated(data_().split.train, noisy).model);
  EXPECT_GT(learned, 1.5 * drowned) << learned << " vs " << drowned;
  auto bad = o;
  bad.client_rate = 0;
  EXPECT_THROW(train_federated(data_().split.train, bad), InvalidInput);
  bad = o;
  bad.dp_epsilon = 1;
  bad.dp_noise = 0.1;
  EXPECT_THROW(train_federated(data_().split.train, bad), InvalidInput);
  bad = o;
  bad.dp_clip = 0;
  EXPECT_THROW(train_federated(data_().split.train, bad), InvalidInput);
}

TEST(FedBprModel, TrainsThroughTheRegistryAndRoundTripsAModelDirectory) {
  register_federated_models();
  register_federated_models();  // idempotent
  auto m = models::create_model("fedbpr", {{"factors", 8}, {"rounds", 10}, {"dp_epsilon", 8.0}, {"client_rate", 0.5}});
  models::FitOptions fo;
  fo.seed = 4;
  m->fit(data_().split.train, fo);
  const auto rep = m->training_report();
  EXPECT_GT(rep.at("federated").at("bytes_up").get<double>(), 0.0);
  EXPECT_LE(rep.at("privacy").at("epsilon").get<double>(), 8.0);
  test::TempDir d;
  models::save_model_dir(d.file("m"), *m, data_().split.train);
  const auto loaded = models::load_model_dir(d.file("m"));
  EXPECT_EQ(loaded.model->name(), "fedbpr");
  EXPECT_TRUE(loaded.meta.contains("federated"));
  EXPECT_EQ(loaded.users.count(), 0);  // the server never had user vectors; no user list
  std::vector<data::Event> h = {{-1, 3, 1, 0, 0, 1}, {-1, 5, 2, 0, 0, 1}};
  EXPECT_EQ(loaded.model->encode(-1, h).vector, m->encode(-1, h).vector);
  EXPECT_NEAR(test_ndcg(*loaded.model), test_ndcg(*m), 1e-12);
}
