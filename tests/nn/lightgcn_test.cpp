// LightGCN's pieces: the normalised graph, the hand-written gradient (against finite differences)
// and the serving tables (fold-in equals the full propagation for trained users).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "../../src/nn/graph_propagation.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/bpr_sampling.h"
#include "driftrec/models/registry.h"
#include "driftrec/models/weights_io.h"
#include "driftrec/nn/register.h"

namespace driftrec::nn {
namespace {

// Users 1, 2; items 1, 2, 3 (nodes 3, 4, 5 after 3 user slots): u1 {1, 2}, u2 {2, 3}.
const std::vector<std::vector<std::int32_t>> kSeen = {{}, {1, 2}, {2, 3}};

TEST(LightGcnGraph, NormalisesBySqrtOfBothDegrees) {
  const auto g = build_graph(kSeen, 3, 4);
  EXPECT_EQ(g.nodes, 7);
  EXPECT_EQ(g.edges, 4);
  // u1 (degree 2) - item 2 (node 5, degree 2): 1 / sqrt(2 * 2); u1 - item 1 (node 4, degree 1): 1 / sqrt(2).
  auto weight = [&](std::int64_t a, std::int64_t b) {
    for (auto q = g.offsets[static_cast<std::size_t>(a)]; q < g.offsets[static_cast<std::size_t>(a) + 1]; ++q)
      if (g.cols[static_cast<std::size_t>(q)] == b) return g.vals[static_cast<std::size_t>(q)];
    return 0.0f;
  };
  EXPECT_FLOAT_EQ(weight(1, 5), 0.5f);
  EXPECT_FLOAT_EQ(weight(5, 1), 0.5f);
  EXPECT_FLOAT_EQ(weight(1, 4), 1.0f / std::sqrt(2.0f));
  EXPECT_FLOAT_EQ(weight(2, 4), 0.0f);
  // One propagation of a one-hot on item 2 reaches both users with 1/2.
  std::vector<float> x(7, 0.0f), y(7);
  x[5] = 1.0f;
  spmm(g, x.data(), y.data(), 1);
  EXPECT_FLOAT_EQ(y[1], 0.5f);
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  EXPECT_FLOAT_EQ(y[5], 0.0f);
}

TEST(LightGcnGraph, GradientMatchesFiniteDifferences) {
  const auto g = build_graph(kSeen, 3, 4);
  const int d = 3, layers = 2;
  const double reg = 0.1;
  Rng rng(5);
  std::vector<float> ego(static_cast<std::size_t>(g.nodes) * d);
  for (auto& x : ego) x = static_cast<float>(rng.normal());
  Batch b;
  b.user = {1, 2, 1};
  b.pos = {4, 6, 5};
  b.neg = {6, 4, 6};
  auto objective = [&](const std::vector<float>& e) {
    Trainer t(g, d, layers, reg);
    std::vector<float> unused(e.size());
    double sq = 0;
    for (const auto* list : {&b.user, &b.pos, &b.neg})
      for (auto v : *list)
        for (int f = 0; f < d; ++f)
          sq += double{e[static_cast<std::size_t>(v * d + f)]} * e[static_cast<std::size_t>(v * d + f)];
    return t.step(e.data(), b, unused.data()) + reg / 2 / 3.0 * sq;
  };
  Trainer t(g, d, layers, reg);
  std::vector<float> grad(ego.size(), -7.0f);
  t.step(ego.data(), b, grad.data());
  int checked = 0;
  for (std::size_t q = 0; q < ego.size(); ++q) {
    auto plus = ego, minus = ego;
    plus[q] += 1e-2f;
    minus[q] -= 1e-2f;
    const double numeric = (objective(plus) - objective(minus)) / 2e-2;
    EXPECT_NEAR(grad[q], numeric, 2e-3 + 1e-2 * std::fabs(numeric)) << "entry " << q;
    checked += std::fabs(numeric) > 1e-3;
  }
  EXPECT_GE(checked, 10);  // most entries matter (padding rows and unreached nodes do not)
}

TEST(LightGcn, FoldInEqualsTheFullPropagationForTrainedUsers) {
  register_neural_models();
  data::SynthOptions so;
  so.users = 60;
  so.items = 50;
  so.seed = 9;
  data::PrepareOptions po;
  po.dedup = true;
  const auto p = data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  const auto& train = p.split.train;
  auto m = models::create_model("lightgcn", {{"dim", 8}, {"layers", 3}, {"lr", 0.01}, {"epochs", 5}, {"batch", 64}});
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(train, fo);
  const auto path = (std::filesystem::temp_directory_path() / "driftrec_lightgcn_weights.bin").string();
  m->save_weights(path);
  models::WeightsReader r(path);
  const auto users = static_cast<std::size_t>(m->n_users()), items = static_cast<std::size_t>(m->n_items());
  const auto user_ego = r.f32("user_ego", {users, 8});
  const auto layers = r.f32("item_layers", {3, items, 8});
  // The ego matrix: users, then the items' layer-0 rows; propagate it with the graph in full.
  std::vector<float> ego(user_ego);
  ego.insert(ego.end(), layers.begin(), layers.begin() + static_cast<std::ptrdiff_t>(items * 8));
  const auto seen = models::bpr::seen_items(train.log, m->n_users());
  const auto g = build_graph(seen, m->n_users(), m->n_items());
  const auto pw = powers(g, ego.data(), 8, 3);
  auto final_row = [&](std::size_t node, std::size_t f) {
    return (pw[0][node * 8 + f] + pw[1][node * 8 + f] + pw[2][node * 8 + f] + pw[3][node * 8 + f]) / 4.0f;
  };
  int dim = 0;
  const float* item_final = m->item_embeddings(&dim);
  ASSERT_EQ(dim, 8);
  for (std::size_t i = 1; i < items; ++i)
    for (std::size_t f = 0; f < 8; ++f) ASSERT_NEAR(item_final[i * 8 + f], final_row(users + i, f), 1e-5);
  int compared = 0;
  for (std::int32_t u = 1; u < m->n_users(); ++u) {
    const auto h = train.log.events(train.log.user_begin(u), train.log.user_end(u));
    if (h.empty()) continue;
    const auto s = m->encode(u, h);
    for (std::size_t f = 0; f < 8; ++f) ASSERT_NEAR(s.vector[f], final_row(static_cast<std::size_t>(u), f), 1e-5);
    ++compared;
  }
  EXPECT_GE(compared, 50);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace driftrec::nn
