// LightGCN's pieces: the normalised graph, the hand-written gradient (against finite differences)
// and the serving tables (fold-in equals the full propagation for trained users).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include "../../src/nn/graph_propagation.h"
#include "driftrec/core/error.h"
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

/// Checks Trainer::step's gradient (loss + the L2 on the batch's listed ego rows) against central
/// finite differences on every entry of the ego matrix.
void expect_gradient_matches_finite_differences(const Batch& b, std::shared_ptr<const GraphLoss> loss) {
  const auto g = build_graph(kSeen, 3, 4);
  const int d = 3, layers = 2;
  const double reg = 0.1;
  Rng rng(5);
  std::vector<float> ego(static_cast<std::size_t>(g.nodes) * d);
  for (auto& x : ego) x = static_cast<float>(rng.normal());
  auto objective = [&](const std::vector<float>& e) {
    Trainer t(g, d, layers, reg, loss);
    std::vector<float> unused(e.size());
    double sq = 0;
    for (const auto* list : {&b.user, &b.pos, &b.neg})
      for (auto v : *list)
        for (int f = 0; f < d; ++f)
          sq += double{e[static_cast<std::size_t>(v * d + f)]} * e[static_cast<std::size_t>(v * d + f)];
    return t.step(e.data(), b, unused.data()) + reg / 2 / static_cast<double>(b.user.size()) * sq;
  };
  Trainer t(g, d, layers, reg, loss);
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

TEST(LightGcnGraph, PropagationRunsOnEveryThreadItIsGiven) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core";
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(propagation_threads(), 2);  // 1 when the nn layer is compiled without OpenMP
  at::set_num_threads(before);
}

TEST(LightGcnGraph, BprGradientMatchesFiniteDifferences) {
  Batch b;
  b.user = {1, 2, 1};
  b.pos = {4, 6, 5};
  b.neg = {6, 4, 6};
  expect_gradient_matches_finite_differences(b, nullptr);
  expect_gradient_matches_finite_differences(b, std::make_shared<BprGraphLoss>());
}

TEST(LightGcnGraph, SoftmaxGradientMatchesFiniteDifferences) {
  Batch b;
  b.user = {1, 2, 1};
  b.pos = {4, 6, 5};
  b.neg = {6, 4, 5, 6};  // shared; row 0's positive (4) and row 2's (5) are among them, masked there
  expect_gradient_matches_finite_differences(b, std::make_shared<SampledSoftmaxGraphLoss>(0.5));
  expect_gradient_matches_finite_differences(b, std::make_shared<SampledSoftmaxGraphLoss>(2.0, false));
}

TEST(LightGcnGraph, DotSoftmaxIsTheCrossEntropyOverInnerProducts) {
  // Same nodes as below: user (2, 0), positive (1, 1), negatives (0, 3) and (-1, 0); temperature 2.
  const std::vector<float> final = {2, 0, 1, 1, 0, 3, -1, 0};
  Batch b;
  b.user = {0};
  b.pos = {1};
  b.neg = {2, 3};
  std::vector<float> grad(final.size(), 0.0f);
  const SampledSoftmaxGraphLoss loss(2.0, false);
  EXPECT_FALSE(loss.cosine());
  // z_pos = 2 / 2 = 1, z_neg = 0 / 2 = 0 and -2 / 2 = -1.
  EXPECT_NEAR(loss.gradient(final.data(), b, 2, grad.data()), std::log(std::exp(1.0) + 1 + std::exp(-1.0)) - 1, 1e-6);
  // d/d user = (sum_j p_j x_j - x_pos) / T: the length counts, unlike a cosine's.
  const double z = std::exp(1.0) + 1 + std::exp(-1.0);
  const double p0 = std::exp(1.0) / z, p2 = std::exp(-1.0) / z, p1 = 1 / z;
  EXPECT_NEAR(grad[0], (p0 * 1 + p1 * 0 + p2 * -1 - 1) / 2, 1e-6);
  EXPECT_NEAR(grad[1], (p0 * 1 + p1 * 3 + p2 * 0 - 1) / 2, 1e-6);
  EXPECT_TRUE(make_graph_loss("softmax", 1.0)->cosine());
  EXPECT_FALSE(make_graph_loss("softmax", 1.0, false)->cosine());
}

TEST(LightGcnGraph, SoftmaxLossIsTheCrossEntropyOverCosinesWithTheRowsOwnPositiveMasked) {
  // Nodes 0..3, d = 2: user 0 = (2, 0); positive 1 = (1, 1); negative 2 = (0, 3); node 3 = (-1, 0).
  const std::vector<float> final = {2, 0, 1, 1, 0, 3, -1, 0};
  Batch b;
  b.user = {0};
  b.pos = {1};
  b.neg = {2, 1};  // the positive drawn as a negative does not count against itself
  std::vector<float> grad(final.size(), 0.0f);
  const SampledSoftmaxGraphLoss loss(0.5);
  // z_pos = cos 45 deg / 0.5 = sqrt 2, z_neg = 0: loss = log(1 + e^-sqrt2).
  EXPECT_NEAR(loss.gradient(final.data(), b, 2, grad.data()), std::log1p(std::exp(-std::sqrt(2.0))), 1e-6);
  b.neg = {2, 3};  // node 3 is opposite the user: cos = -1, z = -2
  std::fill(grad.begin(), grad.end(), 0.0f);
  const double zp = std::sqrt(2.0);
  EXPECT_NEAR(loss.gradient(final.data(), b, 2, grad.data()), std::log(std::exp(zp) + 1 + std::exp(-2.0)) - zp, 1e-6);
  // The user's gradient is orthogonal to the user (a cosine does not change with the norm).
  EXPECT_NEAR(grad[0] * final[0] + grad[1] * final[1], 0.0, 1e-6);
  EXPECT_THROW(SampledSoftmaxGraphLoss(0.0), InvalidInput);
  EXPECT_THROW(make_graph_loss("hinge", 0.1), InvalidInput);
}

/// Synthetic data, deduplicated and split (the neural models registered).
data::Prepared synthetic(int users, int items, std::uint64_t seed) {
  register_neural_models();
  data::SynthOptions so;
  so.users = users;
  so.items = items;
  so.seed = seed;
  data::PrepareOptions po;
  po.dedup = true;
  return data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
}

/// Calls f(user, scores, history) for every user with training events: the model's scores for the
/// user encoded with their training history.
template <class F>
void for_each_trained_user(const models::Model& m, const data::Dataset& train, F f) {
  std::vector<float> s(static_cast<std::size_t>(m.n_items()));
  for (std::int32_t u = 1; u < m.n_users(); ++u) {
    const auto h = train.log.events(train.log.user_begin(u), train.log.user_end(u));
    if (h.empty()) continue;
    m.score(m.encode(u, h), s.data());
    f(u, s, h);
  }
}

TEST(LightGcn, FoldInEqualsTheFullPropagationForTrainedUsers) {
  const auto p = synthetic(60, 50, 9);
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

TEST(LightGcn, SoftmaxTrainedModelRanksByUnitItemVectorsAndLearnsTheTrainingItems) {
  const auto p = synthetic(200, 120, 4);
  const auto& train = p.split.train;
  auto fit = [&](const std::string& loss) {
    auto m = models::create_model("lightgcn", {{"dim", 16},
                                               {"lr", 0.01},
                                               {"epochs", 20},
                                               {"batch", 256},
                                               {"loss", loss},
                                               {"negatives", 64},
                                               {"temperature", 0.2}});
    models::FitOptions fo;
    fo.threads = 1;
    fo.seed = 3;
    m->fit(train, fo);
    return m;
  };
  // Share of a user's training items among their top 10% of scores (chance: 0.1).
  auto top_share = [&](const models::Model& m) {
    double hit = 0, all = 0;
    for_each_trained_user(m, train, [&](std::int32_t, const std::vector<float>& s, const auto& h) {
      auto sorted = s;
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      const float cut = sorted[static_cast<std::size_t>(m.n_items()) / 10];
      for (const auto& e : h) hit += s[static_cast<std::size_t>(e.item)] > cut, ++all;
    });
    return hit / all;
  };
  const auto m = fit("softmax");
  int dim = 0;
  const float* items = m->item_embeddings(&dim);
  for (std::int32_t i = 1; i < m->n_items(); ++i) {
    double sq = 0;
    for (int f = 0; f < dim; ++f) sq += double{items[i * dim + f]} * items[i * dim + f];
    if (sq > 0) {
      ASSERT_NEAR(sq, 1.0, 1e-4) << "item " << i;
    }
  }
  const double learned = top_share(*m);
  EXPECT_GT(learned, 0.3);
  EXPECT_GT(learned, top_share(*fit("bpr")) - 0.05);  // at least as good as BPR at equal epochs
}

TEST(LightGcn, LrDecayScalesEachEpochsLearningRate) {
  // Epoch e trains at lr * lr_decay^(e-1): with a vanishing decay the second epoch barely moves
  // the weights, so two epochs give the one-epoch model; without decay they do not.
  const auto p = synthetic(60, 50, 9);
  auto fit = [&](int epochs, double decay) {
    auto m = models::create_model("lightgcn",
                                  {{"dim", 8}, {"lr", 0.01}, {"epochs", epochs}, {"batch", 64}, {"lr_decay", decay}});
    models::FitOptions fo;
    fo.threads = 1;
    fo.seed = 5;
    m->fit(p.split.train, fo);
    int dim = 0;
    const float* e = m->item_embeddings(&dim);
    return std::vector<float>(e, e + static_cast<std::ptrdiff_t>(m->n_items()) * dim);
  };
  const auto one = fit(1, 1.0), decayed = fit(2, 1e-6), constant = fit(2, 1.0);
  ASSERT_EQ(one.size(), decayed.size());
  double moved_decayed = 0, moved_constant = 0;
  for (std::size_t q = 0; q < one.size(); ++q) {
    moved_decayed = std::max(moved_decayed, double{std::fabs(decayed[q] - one[q])});
    moved_constant = std::max(moved_constant, double{std::fabs(constant[q] - one[q])});
  }
  EXPECT_LT(moved_decayed, 1e-5);
  EXPECT_GT(moved_constant, 1e-3);
  EXPECT_EQ(fit(1, 1e-6), one);  // the first epoch runs at lr whatever the decay
}

TEST(LightGcn, SvdInitScoresTheNormalisedInteractionMatrixBeforeTraining) {
  // 12 items and dim 12: the truncated SVD is the full one, so the untrained model's scores are the
  // exact reconstruction of R~ = Du^-1/2 R Di^-1/2, up to one positive factor.
  const auto p = synthetic(200, 12, 6);
  const auto& train = p.split.train;
  auto m =
      models::create_model("lightgcn", {{"dim", 12}, {"init", "svd"}, {"lr", 1e-8}, {"epochs", 1}, {"batch", 4096}});
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(train, fo);
  const auto seen = models::bpr::seen_items(train.log, m->n_users());
  std::vector<double> item_degree(static_cast<std::size_t>(m->n_items()), 0.0);
  for (const auto& items : seen)
    for (auto i : items) item_degree[static_cast<std::size_t>(i)] += 1;
  double factor = 0;  // the one positive factor, from the first user's first item
  int checked = 0;
  for_each_trained_user(*m, train, [&](std::int32_t u, const std::vector<float>& s, const auto&) {
    if (HasFailure()) return;  // stop at the first mismatch
    const auto& items = seen[static_cast<std::size_t>(u)];
    auto normalised = [&](std::int32_t i) {
      return 1.0 / std::sqrt(static_cast<double>(items.size()) * item_degree[static_cast<std::size_t>(i)]);
    };
    if (factor == 0) factor = s[static_cast<std::size_t>(items.front())] / normalised(items.front());
    ASSERT_GT(factor, 0);
    for (std::int32_t i = 1; i < m->n_items(); ++i) {
      const double r = std::binary_search(items.begin(), items.end(), i) ? normalised(i) : 0.0;
      ASSERT_NEAR(s[static_cast<std::size_t>(i)], factor * r, 1e-3 * factor) << "user " << u << " item " << i;
      ++checked;
    }
  });
  EXPECT_GE(checked, 1000);
}

TEST(LightGcn, SvdInitIsSeededAndLearnsTheTrainingItemsFasterThanNoise) {
  const auto p = synthetic(200, 120, 4);
  const auto& train = p.split.train;
  auto fit = [&](const std::string& init, std::uint64_t seed) {
    auto m =
        models::create_model("lightgcn", {{"dim", 16}, {"lr", 0.001}, {"epochs", 3}, {"batch", 256}, {"init", init}});
    models::FitOptions fo;
    fo.threads = 1;
    fo.seed = seed;
    m->fit(train, fo);
    return m;
  };
  auto item_table = [](const models::Model& m) {
    int dim = 0;
    const float* e = m.item_embeddings(&dim);
    return std::vector<float>(e, e + static_cast<std::ptrdiff_t>(m.n_items()) * dim);
  };
  const auto a = fit("svd", 3);
  EXPECT_EQ(item_table(*a), item_table(*fit("svd", 3)));
  EXPECT_NE(item_table(*a), item_table(*fit("svd", 4)));
  // Mean rank percentile of a user's training items among all items (0.5: chance).
  auto mean_percentile = [&](const models::Model& m) {
    double sum = 0, n = 0;
    for_each_trained_user(m, train, [&](std::int32_t, const std::vector<float>& s, const auto& h) {
      for (const auto& e : h) {
        const float own = s[static_cast<std::size_t>(e.item)];
        sum += static_cast<double>(std::count_if(s.begin() + 1, s.end(), [&](float x) { return x < own; })) /
               static_cast<double>(m.n_items() - 2);
        ++n;
      }
    });
    return sum / n;
  };
  const double spectral = mean_percentile(*a), noise = mean_percentile(*fit("normal", 3));
  EXPECT_GT(spectral, 0.8);
  EXPECT_GT(spectral, noise + 0.05);
}

}  // namespace
}  // namespace driftrec::nn
