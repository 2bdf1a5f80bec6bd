// The two training options that make the objective the ranking DriftRec evaluates and serves:
// `exclude_seen` (a position's own history is no candidate, except its target) and `item_bias`
// (a learned per-item bias kept inside the state-item inner product).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "../unit/small_split.h"
#include "sequential_pieces.h"

using namespace driftrec;

namespace {

const double kMask = std::numeric_limits<double>::infinity();  // exclude_seen's penalty

const test::SmallSplit& seen_data() {
  static const test::SmallSplit d(60, 40, 4, 5);
  return d;
}

struct Built : test::SequentialPieces {
  Built(const std::string& kind, const nlohmann::json& extra)
      : SequentialPieces(seen_data().split.train, kind,
                         {{"dim", 8}, {"max_len", 12}, {"loss", "softmax"}, {"dropout", 0.0}}, extra, 11) {
    m.net->eval();
  }
};

/// By hand: the distinct items of flattened position r's history (columns up to r % L of row r / L
/// of the [B, L] `items`), without the padding and the position's `target`.
std::set<int64_t> seen_before(const torch::Tensor& items, int64_t r, int64_t target) {
  const auto L = items.size(1);
  std::set<int64_t> seen;
  for (int64_t p = 0; p <= r % L; ++p) seen.insert(items[r / L][p].item<int64_t>());
  seen.erase(0);
  seen.erase(target);
  return seen;
}

}  // namespace

TEST(SeenItems, TheMaskIsEachPositionsHistoryWithoutItsTarget) {
  // Row 0: padding, then items 2, 3, 2; row 1: 5, 6, 7, 8. Kept positions (flattened b * L + t):
  // (0, 2) with target 2, (0, 3) with target 4, (1, 1) with target 5.
  const auto items = torch::tensor({{0, 2, 3, 2}, {5, 6, 7, 8}}, torch::kLong);
  const auto keep = torch::tensor({2, 3, 5}, torch::kLong);
  const auto targets = torch::tensor({2, 4, 5}, torch::kLong);
  const auto m = nn::seen_mask(items, keep, targets, nn::kSeenMask);
  // (0, 2): history {2, 3}, target 2 stays a candidate; (0, 3): 2 and 3 masked, the second 2 is
  // not a column of its own; (1, 1): 5 is the target, 6 is masked; later columns are never in the mask.
  const auto want = torch::tensor({{0, 0, 3, 0}, {0, 2, 3, 0}, {0, 6, 0, 0}}, torch::kLong);
  EXPECT_TRUE(torch::equal(m.items, want)) << m.items;
  EXPECT_TRUE(torch::equal(m.weights, want.ne(0).to(torch::kFloat) * nn::kSeenMask));
  // As a bonus it leaves the targets' scores alone and pushes the masked items out of every softmax.
  EXPECT_TRUE(torch::equal(m.of(targets), torch::zeros({3})));
  const auto dense = m.dense(10);
  EXPECT_EQ(dense[1][2].item<float>(), nn::kSeenMask);  // item 2 twice in row (0, 3)'s history, once penalised
  EXPECT_EQ(dense[0][2].item<float>(), 0.0f);
}

TEST(SeenItems, TheLossIsTheSoftmaxOverItemsNotSeenBefore) {
  // batch_loss with exclude_seen equals, for each position, the cross-entropy over the items that
  // are not in the position's history, plus its target, computed by hand from the full scores.
  const auto& train = seen_data().split.train;
  {
    const std::string loss_name = "softmax";
    Built b("gru4rec", {{"exclude_seen", true}});
    const nn::TrainingScorer scorer(b.m, train.n_items());
    const auto seqs = nn::training_sequences(train.log, train.n_users(), b.m.max_len, 16, "");
    const auto batch = nn::make_batch(b.m, train.log, seqs, seqs.batches.front(), b.is_target);
    torch::NoGradGuard g;
    int64_t n = 0;
    const auto loss = nn::make_loss(loss_name, 1, "uniform", {});
    const double got = nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, kMask).item<double>();
    const double plain = nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, 0.0).item<double>();
    // By hand, from the full scores.
    const auto feats = batch.inputs.features();
    const auto B = feats.items.size(0), L = feats.items.size(1);
    const auto logits = scorer.scores(b.m.net->encode(feats).reshape({B * L, -1}), torch::Tensor());
    double want = 0;
    int64_t rows = 0, masked = 0;
    for (int64_t r = 0; r < B * L; ++r) {
      const auto target = batch.targets[r].item<int64_t>();
      if (target == 0) continue;
      const auto seen = seen_before(feats.items, r, target);
      masked += static_cast<int64_t>(seen.size());
      double z = 0;
      for (int64_t i = 0; i < logits.size(1); ++i)
        if (!seen.count(i)) z += std::exp(logits[r][i].item<double>());
      want += std::log(z) - logits[r][target].item<double>();
      ++rows;
    }
    ASSERT_EQ(rows, n);
    ASSERT_GT(masked, rows);  // the histories do hold items, so the mask changes the loss
    EXPECT_NEAR(got, want / static_cast<double>(rows), 1e-4) << loss_name;
    EXPECT_LT(got, plain - 1e-3) << loss_name;  // fewer competitors
    // Label smoothing spreads its mass over the same candidates: + s * (target score - their mean).
    const double s = 0.1;
    const auto smoothed = nn::make_loss(loss_name, 1, "uniform", {}, 0, s);
    double term = 0;
    for (int64_t r = 0; r < B * L; ++r) {
      const auto target = batch.targets[r].item<int64_t>();
      if (target == 0) continue;
      auto seen = seen_before(feats.items, r, target);
      seen.insert(0);  // the padding is no candidate either
      double sum = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < logits.size(1); ++i)
        if (!seen.count(i)) sum += logits[r][i].item<double>(), ++count;
      term += logits[r][target].item<double>() - sum / static_cast<double>(count);
    }
    EXPECT_NEAR(nn::batch_loss(b.m, *smoothed, scorer, batch, &n, 0.0, kMask).item<double>(),
                (want + s * term) / static_cast<double>(rows), 1e-4);
  }
}

TEST(SeenItems, AFinitePenaltyLowersEachSeenItemsScoreOnce) {
  // batch_loss with seen_penalty p equals, for each position, the cross-entropy over all items
  // whose scores are lowered by p for the distinct items of its history except its target; label
  // smoothing still spreads mass over every item (seen ones stay candidates).
  const auto& train = seen_data().split.train;
  Built b("gru4rec", {{"seen_penalty", 1.5}});
  const nn::TrainingScorer scorer(b.m, train.n_items());
  const auto seqs = nn::training_sequences(train.log, train.n_users(), b.m.max_len, 16, "");
  const auto batch = nn::make_batch(b.m, train.log, seqs, seqs.batches.front(), b.is_target);
  torch::NoGradGuard g;
  const auto feats = batch.inputs.features();
  const auto B = feats.items.size(0), L = feats.items.size(1);
  const auto logits = scorer.scores(b.m.net->encode(feats).reshape({B * L, -1}), torch::Tensor());
  const double p = 1.5, s = 0.1;
  double want = 0, smooth = 0;
  int64_t rows = 0;
  for (int64_t r = 0; r < B * L; ++r) {
    const auto target = batch.targets[r].item<int64_t>();
    if (target == 0) continue;
    const auto seen = seen_before(feats.items, r, target);
    double z = 0, sum = 0;
    for (int64_t i = 0; i < logits.size(1); ++i) {
      const double x = logits[r][i].item<double>() - (seen.count(i) ? p : 0.0);
      z += std::exp(x);
      if (i > 0) sum += x;
    }
    want += std::log(z) - logits[r][target].item<double>();
    smooth += logits[r][target].item<double>() - sum / static_cast<double>(logits.size(1) - 1);
    ++rows;
  }
  int64_t n = 0;
  const auto loss = nn::make_loss("softmax", 1, "uniform", {});
  const double got = nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, p).item<double>();
  ASSERT_EQ(rows, n);
  EXPECT_NEAR(got, want / static_cast<double>(rows), 1e-4);
  // Between plain training and the mask.
  EXPECT_LT(got, nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, 0.0).item<double>() - 1e-3);
  EXPECT_GT(got, nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, kMask).item<double>() + 1e-3);
  const auto smoothed = nn::make_loss("softmax", 1, "uniform", {}, 0, s);
  EXPECT_NEAR(nn::batch_loss(b.m, *smoothed, scorer, batch, &n, 0.0, p).item<double>(),
              (want + s * smooth) / static_cast<double>(rows), 1e-4);
  // The option as a model config gives the same penalty, and refuses to be set with exclude_seen.
  EXPECT_EQ(nn::seen_penalty(b.c), p);
  EXPECT_EQ(nn::seen_penalty(Built("gru4rec", {{"exclude_seen", true}}).c), kMask);
  EXPECT_THROW(nn::seen_penalty(Built("gru4rec", {{"seen_penalty", 1.5}, {"exclude_seen", true}}).c), InvalidInput);
}

TEST(SeenItems, FutureItemsAlreadySeenAreNoTargets) {
  // The multi-horizon objective under exclude_seen: a future item the position had already seen is
  // dropped, so a batch whose future items are all seen has the next-item loss alone.
  const auto& train = seen_data().split.train;
  Built b("gru4rec", {{"exclude_seen", true}});
  const nn::TrainingScorer scorer(b.m, train.n_items());
  auto seqs = nn::training_sequences(train.log, train.n_users(), b.m.max_len, 16, "");
  seqs.future_targets = 1;
  auto batch = nn::make_batch(b.m, train.log, seqs, seqs.batches.front(), b.is_target);
  const auto loss = nn::make_loss("softmax", 1, "uniform", {});
  torch::NoGradGuard g;
  int64_t n = 0;
  const double next = nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.0, kMask).item<double>();
  // Every position's future item := one item of its window, kept where the position has seen it.
  const auto items = batch.inputs.features().items;
  const auto L = items.size(1);
  auto first = std::get<0>(items.max(1));  // the row's largest item id: a real item (padding is 0)
  batch.future = first.repeat_interleave(L).unsqueeze(1) * batch.targets.ne(0).unsqueeze(1);
  for (int64_t r = 0; r < batch.future.size(0); ++r) {  // keep only those the position has seen
    const auto f = batch.future[r][0].item<int64_t>();
    bool seen = false;
    for (int64_t p = 0; p <= r % L; ++p) seen = seen || items[r / L][p].item<int64_t>() == f;
    if (!seen || f == batch.targets[r].item<int64_t>()) batch.future[r][0] = 0;
  }
  ASSERT_GT(batch.future.ne(0).sum().item<int64_t>(), 0);
  EXPECT_NEAR(nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.5, kMask).item<double>(), next, 1e-6);
  EXPECT_GT(nn::batch_loss(b.m, *loss, scorer, batch, &n, 0.5, 0.0).item<double>(), next + 1e-3);
}

TEST(SeenItems, ItemBiasFixesTheStatesLastCoordinateAtOne) {
  for (const std::string kind : {"gru4rec", "sasrec", "hstu", "caser"}) {
    const auto extra = kind == "caser" ? nlohmann::json{{"window", 3}} : nlohmann::json::object();
    auto with_bias = extra;
    with_bias["item_bias"] = true;
    Built b(kind, with_bias);
    const auto& train = seen_data().split.train;
    const auto seqs = nn::training_sequences(train.log, train.n_users(), b.m.max_len, 16, "");
    const auto feats = nn::make_batch(b.m, train.log, seqs, seqs.batches.front(), b.is_target).inputs.features();
    torch::NoGradGuard g;
    const auto h = b.m.net->encode(feats), raw = b.m.net->forward(feats);
    const auto d = h.size(2);
    EXPECT_TRUE(torch::equal(h.select(2, d - 1), torch::ones_like(h.select(2, d - 1)))) << kind;
    EXPECT_TRUE(torch::equal(h.narrow(2, 0, d - 1), raw.narrow(2, 0, d - 1))) << kind;
    // The score of item i is <the learned part, its vector> + its vector's last coordinate.
    const auto E = b.m.net->emb->all_items();
    const auto s = b.m.logits(h.reshape({-1, d}), E, torch::Tensor());
    const auto want = raw.narrow(2, 0, d - 1).reshape({-1, d - 1}).matmul(E.narrow(1, 0, d - 1).t()) +
                      E.select(1, d - 1).unsqueeze(0);
    EXPECT_TRUE(torch::allclose(s, want, 1e-5, 1e-5)) << kind;
    Built off(kind, extra);
    EXPECT_TRUE(torch::equal(off.m.net->encode(feats), off.m.net->forward(feats))) << kind;
  }
}
