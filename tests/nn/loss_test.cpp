// The training objectives (src/nn/loss.h) against plain computations on a tiny item table.
#include "../../src/nn/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

namespace {

// Scores are inner products with a fixed item table E [n, d] (row 0 = padding).
class TableScorer : public nn::ItemScorer {
 public:
  explicit TableScorer(torch::Tensor e) : e_(std::move(e)) {}
  torch::Tensor scores(const torch::Tensor& h, const torch::Tensor& ids) const override {
    return torch::matmul(h, (ids.defined() ? e_.index_select(0, ids) : e_).t());
  }
  torch::Tensor row_scores(const torch::Tensor& h, const torch::Tensor& items) const override {
    return (h * e_.index_select(0, items)).sum(-1);
  }
  int64_t n_items() const override { return e_.size(0); }

 private:
  torch::Tensor e_;
};

const torch::Tensor kItems = torch::tensor({{0.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 1.0f}});
const torch::Tensor kStates = torch::tensor({{2.0f, 0.5f}, {-1.0f, 1.0f}});
const torch::Tensor kTargets = torch::tensor({1, 2}, torch::kLong);

double log_sum_exp(const std::vector<double>& v) {
  double m = -INFINITY, s = 0;
  for (const auto x : v) m = std::max(m, x);
  for (const auto x : v) s += std::exp(x - m);
  return m + std::log(s);
}

}  // namespace

TEST(Loss, FullSoftmaxIsCrossEntropyOverEveryItem) {
  const TableScorer scorer(kItems);
  const double got = nn::SoftmaxLoss()(scorer, kStates, kTargets, {}).item<double>();
  // State 0 scores (0, 2, 0.5, 2.5), target 1; state 1 scores (0, -1, 1, 0), target 2.
  const double want = ((log_sum_exp({0, 2, 0.5, 2.5}) - 2) + (log_sum_exp({0, -1, 1, 0}) - 1)) / 2;
  EXPECT_NEAR(got, want, 1e-5);
}

TEST(Loss, RepeatBonusAddsToTheHistoryItems) {
  nn::RepeatBonus r;
  r.weights = torch::tensor({{0.5f, 0.25f}, {1.0f, 0.0f}});
  r.items = torch::tensor({{3, 3}, {2, 1}}, torch::kLong);
  EXPECT_TRUE(torch::allclose(r.of(torch::tensor({3, 1}, torch::kLong)), torch::tensor({0.75f, 0.0f})));
  EXPECT_TRUE(torch::allclose(r.dense(4), torch::tensor({{0.0f, 0.0f, 0.0f, 0.75f}, {0.0f, 0.0f, 1.0f, 0.0f}})));
  // With the bonus, state 0's scores become (0, 2, 0.5, 3.25).
  const TableScorer scorer(kItems);
  const double got = nn::SoftmaxLoss()(scorer, kStates, kTargets, r).item<double>();
  const double want = ((log_sum_exp({0, 2, 0.5, 3.25}) - 2) + (log_sum_exp({0, -1, 2, 0}) - 2)) / 2;
  EXPECT_NEAR(got, want, 1e-5);
}

// Several target items per state (a multi-horizon objective): the full softmax scores each state
// once and equals the states repeated per pair, in value and gradient, with label smoothing and a
// repeat bonus too.
TEST(Loss, PairsOfAStateAndSeveralItemsEqualTheStateRepeatedPerPair) {
  const TableScorer scorer(kItems);
  const auto rows = torch::tensor({0, 0, 1, 0}, torch::kLong), items = torch::tensor({1, 3, 2, 2}, torch::kLong);
  // By hand: state 0 scores (0, 2, 0.5, 2.5), state 1 (0, -1, 1, 0).
  const double lse0 = log_sum_exp({0, 2, 0.5, 2.5}), lse1 = log_sum_exp({0, -1, 1, 0});
  const double want = ((lse0 - 2) + (lse0 - 2.5) + (lse1 - 1) + (lse0 - 0.5)) / 4;
  EXPECT_NEAR(nn::SoftmaxLoss().pairs(scorer, kStates, rows, items, {}).item<double>(), want, 1e-5);
  class Matrix : public TableScorer {  // streamed in chunks: the same value
   public:
    using TableScorer::TableScorer;
    torch::Tensor item_matrix() const override { return kItems; }
  };
  for (const double smoothing : {0.0, 0.2})
    EXPECT_NEAR(nn::SoftmaxLoss(3, smoothing).pairs(Matrix(kItems), kStates, rows, items, {}).item<double>(),
                nn::SoftmaxLoss(0, smoothing).pairs(scorer, kStates, rows, items, {}).item<double>(), 1e-5);
  nn::RepeatBonus r;
  r.weights = torch::tensor({{0.5f, 0.25f}, {1.0f, 0.0f}});
  r.items = torch::tensor({{3, 3}, {2, 1}}, torch::kLong);
  for (const double smoothing : {0.0, 0.2})
    for (const bool bonus : {false, true}) {
      const nn::SoftmaxLoss loss(0, smoothing);
      const auto repeat = bonus ? r : nn::RepeatBonus{};
      auto h1 = kStates.clone().requires_grad_(true), h2 = kStates.clone().requires_grad_(true);
      const auto a = loss.pairs(scorer, h1, rows, items, repeat);
      nn::RepeatBonus per_pair;
      if (bonus) per_pair = {r.weights.index_select(0, rows), r.items.index_select(0, rows)};
      const auto b = loss(scorer, h2.index_select(0, rows), items, per_pair);
      EXPECT_NEAR(a.item<double>(), b.item<double>(), 1e-5) << smoothing << " " << bonus;
      a.backward();
      b.backward();
      EXPECT_TRUE(torch::allclose(h1.grad(), h2.grad(), 1e-5, 1e-6)) << smoothing << " " << bonus;
    }
  // Any other loss: the default, states repeated per pair.
  torch::manual_seed(1);
  const auto bce = nn::BinaryLoss().pairs(scorer, kStates, rows, items, {}).item<double>();
  torch::manual_seed(1);
  EXPECT_NEAR(bce, nn::BinaryLoss()(scorer, kStates.index_select(0, rows), items, {}).item<double>(), 1e-6);
}

TEST(Loss, BinaryCrossEntropyWithOneNegative) {
  // Two items only: every negative is item 1.
  const TableScorer scorer(kItems.slice(0, 0, 2));
  const auto h = torch::tensor({{2.0f, 0.5f}});
  const double got = nn::BinaryLoss()(scorer, h, torch::tensor({1}, torch::kLong), {}).item<double>();
  auto log_sigmoid = [](double x) { return -std::log1p(std::exp(-x)); };
  EXPECT_NEAR(got, -(log_sigmoid(2.0) + log_sigmoid(-2.0)), 1e-5);
}

TEST(Loss, SampledSoftmaxRemovesAccidentalHitsAndCorrectsForPopularity) {
  const TableScorer scorer(kItems.slice(0, 0, 2));  // the only real item is 1: every negative hits
  const auto h = torch::tensor({{2.0f, 0.5f}});
  const auto t = torch::tensor({1}, torch::kLong);
  EXPECT_NEAR(nn::SampledSoftmaxLoss(8, {})(scorer, h, t, {}).item<double>(), 0.0, 1e-6);
  // Popularity sampling over items 1..3 with counts 1, 2, 1: logits minus log q. Redraw the same
  // negatives with the same seed to compute the expected value.
  const TableScorer full(kItems);
  const std::vector<std::int64_t> counts{0, 1, 2, 1};
  const std::vector<double> log_q{0, std::log(0.25), std::log(0.5), std::log(0.25)};
  torch::manual_seed(3);
  const double got = nn::SampledSoftmaxLoss(4, counts)(full, h, t, {}).item<double>();
  torch::manual_seed(3);
  const auto neg = torch::multinomial(torch::tensor({0.0f, 0.25f, 0.5f, 0.25f}), 4, true);
  const double score[] = {0, 2, 0.5, 2.5};
  std::vector<double> logits{score[1] - log_q[1]};
  for (int64_t k = 0; k < 4; ++k) {
    const auto j = neg[k].item<int64_t>();
    if (j != 1) logits.push_back(score[j] - log_q[static_cast<std::size_t>(j)]);
  }
  EXPECT_NEAR(got, log_sum_exp(logits) - logits[0], 1e-5);
}

TEST(Loss, MixedNegativesAreTheBatchsTargetsPlusUniformDrawsCorrectedByInclusion) {
  // Targets 1 and 2 (2 positions), 3 uniform draws over items 1..3; counts 1, 2, 1, so
  // p = (0.25, 0.5, 0.25) and P(i in the set) = 1 - (1 - p_i)^2 (1 - 1/3)^3.
  const TableScorer scorer(kItems);
  const std::vector<std::int64_t> counts{0, 1, 2, 1};
  torch::manual_seed(11);
  const double got =
      nn::SampledSoftmaxLoss(3, counts, nn::SampledSoftmaxLoss::Sampling::mixed)(scorer, kStates, kTargets, {})
          .item<double>();
  torch::manual_seed(11);
  const auto drawn = torch::randint(1, 4, {3}, torch::kLong);
  std::set<int64_t> cand{1, 2};
  for (int64_t k = 0; k < 3; ++k) cand.insert(drawn[k].item<int64_t>());
  const double p[] = {0, 0.25, 0.5, 0.25};
  auto log_incl = [&](int64_t i) { return std::log(1 - std::pow(1 - p[i], 2) * std::pow(2.0 / 3.0, 3)); };
  const double score[2][4] = {{0, 2, 0.5, 2.5}, {0, -1, 1, 0}};
  double want = 0;
  for (int r = 0; r < 2; ++r) {
    const int64_t target = r == 0 ? 1 : 2;
    std::vector<double> logits{score[r][target] - log_incl(target)};
    for (const auto j : cand)
      if (j != target) logits.push_back(score[r][j] - log_incl(j));  // the own target is an accidental hit
    want += (log_sum_exp(logits) - logits[0]) / 2;
  }
  EXPECT_NEAR(got, want, 1e-5);
}

TEST(Loss, MixedNegativesCoveringTheCatalogueAreTheFullSoftmax) {
  // Enough uniform draws that every item is in the set with probability ~1: no correction left,
  // every real item a candidate, so the loss is the softmax over items 1..3.
  const TableScorer scorer(kItems);
  const double full = ((log_sum_exp({2, 0.5, 2.5}) - 2) + (log_sum_exp({-1, 1, 0}) - 1)) / 2;
  const double mixed =
      nn::SampledSoftmaxLoss(400, {0, 1, 2, 1}, nn::SampledSoftmaxLoss::Sampling::mixed)(scorer, kStates, kTargets, {})
          .item<double>();
  EXPECT_NEAR(mixed, full, 1e-5);
}

TEST(Loss, MadeFromTheConfigNames) {
  EXPECT_NE(dynamic_cast<nn::SoftmaxLoss*>(nn::make_loss("softmax", 1, "uniform", {}).get()), nullptr);
  EXPECT_NE(dynamic_cast<nn::BinaryLoss*>(nn::make_loss("bce", 1, "uniform", {}).get()), nullptr);
  EXPECT_NE(dynamic_cast<nn::SampledSoftmaxLoss*>(nn::make_loss("sampled", 8, "popularity", {0, 1}).get()), nullptr);
  EXPECT_THROW(nn::make_loss("hinge", 1, "uniform", {}), InvalidInput);
  EXPECT_THROW(nn::make_loss("sampled", 0, "uniform", {}), InvalidInput);
  EXPECT_THROW(nn::make_loss("sampled", 8, "zipf", {}), InvalidInput);
  EXPECT_NE(dynamic_cast<nn::SampledSoftmaxLoss*>(nn::make_loss("sampled", 8, "mixed", {0, 1}).get()), nullptr);
}

// The chunked softmax equals the materialised one in value and in both gradients, for chunk
// sizes that divide the catalogue, do not, and exceed it.
TEST(Loss, ChunkedSoftmaxMatchesTheFullOneWithGradients) {
  torch::manual_seed(11);
  const auto h0 = torch::randn({37, 8}), E0 = torch::randn({101, 8});
  const auto t = torch::randint(1, 101, {37}, torch::kLong);
  auto h = h0.clone().requires_grad_(true), E = E0.clone().requires_grad_(true);
  auto ref = torch::nn::functional::cross_entropy(h.mm(E.t()), t);
  ref.backward();
  const auto gh = h.grad().clone(), gE = E.grad().clone();
  for (const int64_t chunk : {1, 10, 33, 101, 500}) {
    auto h2 = h0.clone().requires_grad_(true), E2 = E0.clone().requires_grad_(true);
    auto got = nn::chunked_cross_entropy(h2, E2, t, chunk);
    EXPECT_NEAR(got.item<double>(), ref.item<double>(), 1e-5) << "chunk " << chunk;
    (got * 3.0).backward();  // the incoming gradient is honoured
    EXPECT_TRUE(torch::allclose(h2.grad(), gh * 3.0, 1e-5, 1e-6)) << "chunk " << chunk;
    EXPECT_TRUE(torch::allclose(E2.grad(), gE * 3.0, 1e-5, 1e-6)) << "chunk " << chunk;
  }
  EXPECT_THROW(nn::chunked_cross_entropy(h0, E0, t, 0), InvalidInput);
}

TEST(Loss, SoftmaxStreamsOnlyWithAnItemMatrix) {
  class Matrix : public TableScorer {
   public:
    using TableScorer::TableScorer;
    torch::Tensor item_matrix() const override { return kItems; }
  };
  const Matrix scorer(kItems);
  const double want = nn::SoftmaxLoss()(scorer, kStates, kTargets, {}).item<double>();
  EXPECT_NEAR(nn::SoftmaxLoss(3)(scorer, kStates, kTargets, {}).item<double>(), want, 1e-6);
  EXPECT_NEAR(nn::SoftmaxLoss(3)(TableScorer(kItems), kStates, kTargets, {}).item<double>(), want, 1e-6);
}

// A repeat bonus and a seen-item mask stream with the catalogue: the streamed loss equals the one
// over materialised logits in value and in the gradients of the states, the item table and the
// bonus weights, with columns repeating an item, padding columns, masked (excluded) items and
// label smoothing, for chunks that split the catalogue, one item each, and one chunk for all.
TEST(Loss, StreamedSoftmaxWithARepeatBonusAndMaskMatchesTheMaterialisedOne) {
  class Matrix : public TableScorer {
   public:
    explicit Matrix(torch::Tensor e) : TableScorer(e), e_(std::move(e)) {}
    torch::Tensor item_matrix() const override { return e_; }

   private:
    torch::Tensor e_;
  };
  torch::manual_seed(5);
  const int64_t N = 23, n = 41, d = 6, L = 7, K = 4;
  const auto h0 = torch::randn({N, d}), E0 = torch::randn({n, d}), W0 = torch::randn({N, L});
  const auto t = torch::randint(1, n, {N}, torch::kLong);
  auto I = torch::randint(0, n, {N, L}, torch::kLong);  // 0: padding columns
  I.select(1, 1).copy_(I.select(1, 0));                 // an item twice in each row
  I.select(1, 2).copy_(t);                              // the target among the columns
  // Masked items: K per row, some padding, one repeated, never the target; their columns carry
  // the mask's weight as in training (batches.cpp), after the repeat head's.
  auto X = torch::randint(0, n, {N, K}, torch::kLong);
  X = X.masked_fill(X.eq(t.unsqueeze(1)), 0);
  X.select(1, 3).copy_(X.select(1, 2));
  const auto XW = X.ne(0).to(torch::kFloat) * -1e4f;
  for (const bool mask : {false, true})
    for (const double smoothing : {0.0, 0.3}) {
      // The repeat head's columns (weights W), then the mask's when there is one.
      auto bonus = [&](const torch::Tensor& W) {
        if (!mask) return nn::RepeatBonus{W, I};
        nn::RepeatBonus r{torch::cat({W, XW}, 1), torch::cat({I, X}, 1)};
        r.excluded = X;
        return r;
      };
      auto run = [&](int64_t chunk, torch::Tensor* gh, torch::Tensor* gE, torch::Tensor* gW) {
        auto h = h0.clone().requires_grad_(true), E = E0.clone().requires_grad_(true),
             W = W0.clone().requires_grad_(true);
        const auto loss = nn::SoftmaxLoss(chunk, smoothing)(Matrix(E), h, t, bonus(W));
        (loss * 2.0).backward();
        *gh = h.grad(), *gE = E.grad(), *gW = W.grad();
        return loss.item<double>();
      };
      torch::Tensor gh, gE, gW;
      const double want = run(0, &gh, &gE, &gW);
      for (const int64_t chunk : {1, 9, 41, 100}) {
        torch::Tensor ch, cE, cW;
        const double got = run(chunk, &ch, &cE, &cW);
        const auto where = "mask " + std::to_string(mask) + ", smoothing " + std::to_string(smoothing) + ", chunk " +
                           std::to_string(chunk);
        EXPECT_NEAR(got, want, 1e-5) << where;
        EXPECT_TRUE(torch::allclose(ch, gh, 1e-4, 1e-6)) << where;
        EXPECT_TRUE(torch::allclose(cE, gE, 1e-4, 1e-6)) << where;
        EXPECT_TRUE(torch::allclose(cW, gW, 1e-4, 1e-6)) << where;
      }
      // Pairs: each state repeated with its bonus rows, streamed or not.
      const auto rows = torch::tensor({0, 0, 5, 22, 5}, torch::kLong),
                 items = torch::tensor({1, 7, 40, 3, 3}, torch::kLong);
      EXPECT_NEAR(nn::SoftmaxLoss(9, smoothing).pairs(Matrix(E0), h0, rows, items, bonus(W0)).item<double>(),
                  nn::SoftmaxLoss(0, smoothing).pairs(Matrix(E0), h0, rows, items, bonus(W0)).item<double>(), 1e-5);
    }
}

TEST(Loss, LabelSmoothingSpreadsTheTargetOverTheRealItems) {
  class Matrix : public TableScorer {
   public:
    using TableScorer::TableScorer;
    torch::Tensor item_matrix() const override { return kItems; }
  };
  const Matrix scorer(kItems);
  const double eps = 0.2;
  // Hand-computed: q = (1 - eps) on the target + eps / 3 on each real item (1..3), loss =
  // sum_i q_i (LSE - s_i). State 0 scores (0, 2, 0.5, 2.5), target 1; state 1 (0, -1, 1, 0), target 2.
  auto smoothed = [&](const std::vector<double>& s, int t) {
    const double lse = log_sum_exp(s);
    double v = (1 - eps) * (lse - s[t]);
    for (int i = 1; i <= 3; ++i) v += eps / 3 * (lse - s[i]);
    return v;
  };
  const double want = (smoothed({0, 2, 0.5, 2.5}, 1) + smoothed({0, -1, 1, 0}, 2)) / 2;
  EXPECT_NEAR(nn::SoftmaxLoss(0, eps)(scorer, kStates, kTargets, {}).item<double>(), want, 1e-5);
  EXPECT_NEAR(nn::SoftmaxLoss(2, eps)(scorer, kStates, kTargets, {}).item<double>(), want, 1e-5);  // streamed
  EXPECT_THROW(nn::make_loss("softmax", 1, "uniform", {}, 0, 1.0), InvalidInput);
}

// Through the model: `softmax_chunk` trains sasrec to the same place as the materialised softmax
// (not bit for bit: the sums run in another order), also with the repeat head and a seen-item
// penalty, whose bonus columns stream with the catalogue.
TEST(Loss, ChunkedSoftmaxTrainsSasrecLikeTheFullOne) {
  nn::register_neural_models();
  data::SynthOptions so;
  so.users = 200;
  so.items = 150;
  so.seed = 9;
  data::PrepareOptions po;
  po.dedup = true;
  const auto p = data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  auto fit = [&](int64_t chunk, bool bonus) {
    nlohmann::json c = {{"dim", 16},       {"layers", 1},       {"max_len", 20},          {"epochs", 8},
                        {"eval_every", 0}, {"loss", "softmax"}, {"softmax_chunk", chunk}, {"warmup_steps", 0},
                        {"lr", 0.01}};
    if (bonus) {
      c["repeat"] = "true";
      c["seen_penalty"] = 1.0;
    }
    auto m = models::create_model("sasrec", c);
    models::FitOptions fo;
    fo.threads = 2;
    m->fit(p.split.train, fo);
    return models::evaluate_model(*m, p.full, p.split.test, p.split.train).metrics.at("ndcg@10");
  };
  for (const bool bonus : {false, true}) {
    const double full = fit(0, bonus), chunked = fit(37, bonus);
    EXPECT_NEAR(chunked, full, 0.02) << "bonus " << bonus << ": full " << full << ", chunked " << chunked;
    EXPECT_GT(chunked, 0.1) << "bonus " << bonus;
  }
}
