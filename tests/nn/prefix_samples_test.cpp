// Prefix training samples (samples=prefixes): every training position its own sample, the
// target at the newest position (or, with a stride k, a sample every k positions with its last k
// positions the targets); what they contain, their batches, and that a model without positions
// learns the same loss from them as from whole sequences.
#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "../../src/nn/batches.h"
#include "../../src/nn/side_tables.h"
#include "../unit/small_split.h"
#include "driftrec/core/error.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "driftrec/nn/sequential.h"
#include "sequential_pieces.h"

using namespace driftrec;

namespace {

const test::SmallSplit& prefix_data() {
  static const test::SmallSplit d(120, 80, 4, 21);
  return d;
}

struct Pieces : test::SequentialPieces {
  Pieces(const std::string& kind, const nlohmann::json& extra)
      : SequentialPieces(prefix_data().split.train, kind,
                         {{"dim", 16}, {"max_len", 8}, {"loss", "softmax"}, {"dropout", 0.0}}, extra, 3) {}
};

}  // namespace

TEST(PrefixSamples, OneSamplePerTrainingPositionWithItsTargetLast) {
  const auto& log = prefix_data().split.train.log;
  const auto n_users = prefix_data().split.train.n_users();
  const int64_t max_len = 8;
  const auto t = nn::training_sequences(log, n_users, max_len, 16, "", 1);
  EXPECT_EQ(t.last_targets, 1);
  std::size_t want = 0;
  std::set<int64_t> ends;
  for (std::int32_t u = 1; u < n_users; ++u) {
    const auto b = log.user_begin(u), e = log.user_end(u);
    if (e - b >= 2) want += static_cast<std::size_t>(e - b - 1);
  }
  ASSERT_EQ(t.seqs.size(), want);
  for (const auto& s : t.seqs) {
    EXPECT_TRUE(ends.insert(s.end).second) << "two samples end at row " << s.end;
    EXPECT_GE(s.length(), 2);
    EXPECT_LE(s.length(), max_len + 1);  // max_len inputs and the target
  }
  // Batches cover every sample once, each of at most batch_size samples.
  std::vector<int> seen(t.seqs.size(), 0);
  for (const auto& b : t.batches) {
    EXPECT_LE(b.size(), 16u);
    for (auto i : b) ++seen[i];
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<std::ptrdiff_t>(seen.size()));
  // Only positions of a target behaviour make samples.
  std::vector<char> all(64, 1), none(64, 0);
  EXPECT_EQ(nn::training_sequences(log, n_users, max_len, 16, "", 1, &all).seqs.size(), want);
  EXPECT_THROW(nn::training_sequences(log, n_users, max_len, 16, "", 1, &none), InvalidInput);
}

TEST(PrefixSamples, ABatchHasOneTargetPerSampleAtTheNewestPosition) {
  Pieces p("sasrec", {});
  const auto& log = prefix_data().split.train.log;
  const auto t = nn::training_sequences(log, prefix_data().split.train.n_users(), p.m.max_len, 16, "", 1);
  const auto& batch = t.batches.back();  // the longest samples
  const auto tb = nn::make_batch(p.m, log, t, batch, p.is_target);
  const auto L = tb.targets.numel() / static_cast<int64_t>(batch.size());
  auto targets = tb.targets.reshape({static_cast<int64_t>(batch.size()), L});
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const auto& s = t.seqs[batch[b]];
    EXPECT_EQ(targets[static_cast<int64_t>(b)].ne(0).sum().item<int64_t>(), 1);
    EXPECT_EQ(targets[static_cast<int64_t>(b)][L - 1].item<int64_t>(), log.item[static_cast<std::size_t>(s.end - 1)]);
  }
  // The same sequences as whole-sequence samples have a target at every position.
  auto whole = nn::training_sequences(log, prefix_data().split.train.n_users(), p.m.max_len, 16, "");
  const auto wb = nn::make_batch(p.m, log, whole, whole.batches.back(), p.is_target);
  EXPECT_GT(wb.targets.ne(0).sum().item<int64_t>(), static_cast<int64_t>(whole.batches.back().size()));
}

TEST(PrefixSamples, RebucketingShufflesTiesAndKeepsEverySampleOnce) {
  const auto& log = prefix_data().split.train.log;
  auto t = nn::training_sequences(log, prefix_data().split.train.n_users(), 8, 16, "", 1);
  const auto before = t.batches;
  Rng rng(7);
  nn::rebucket(t, rng);
  EXPECT_NE(before, t.batches);  // a tie of equal-length samples lands in another batch
  std::vector<int> seen(t.seqs.size(), 0);
  int64_t last = 0;
  for (const auto& b : t.batches)
    for (auto i : b) {
      ++seen[i];
      EXPECT_GE(t.seqs[i].length(), last);  // still bucketed by length
      last = t.seqs[i].length();
    }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<std::ptrdiff_t>(seen.size()));
  Rng again(7);
  auto u = nn::training_sequences(log, prefix_data().split.train.n_users(), 8, 16, "", 1);
  nn::rebucket(u, again);
  EXPECT_EQ(u.batches, t.batches);  // the same seed, the same batches
}

TEST(PrefixSamples, AModelWithoutPositionsLearnsTheSameLossFromPrefixesAsFromSequences) {
  // A recurrent state at a position depends only on the events before it, so (without dropout)
  // the loss summed over a user's prefix samples equals that of the user's whole sequence, with a
  // sample per position or per stride of 3 (the last 3 positions of each its targets).
  Pieces p("gru4rec", {{"max_len", 400}});  // no history is cut
  const auto& train = prefix_data().split.train;
  p.m.net->eval();
  auto loss = nn::make_training_loss(p.c, train);
  const nn::TrainingScorer scorer(p.m, train.n_items());
  const nn::TrainingSequences sets[3] = {
      nn::training_sequences(train.log, train.n_users(), p.m.max_len, 1000000, ""),
      nn::training_sequences(train.log, train.n_users(), p.m.max_len, 1000000, "", 1),
      nn::training_sequences(train.log, train.n_users(), p.m.max_len, 1000000, "", 3)};
  double sums[3] = {0, 0, 0};
  int64_t counts[3] = {0, 0, 0};
  torch::NoGradGuard g;
  for (int k = 0; k < 3; ++k)
    for (const auto& b : sets[k].batches) {
      int64_t n = 0;
      const auto l = nn::batch_loss(p.m, *loss, scorer, nn::make_batch(p.m, train.log, sets[k], b, p.is_target), &n);
      sums[k] += l.item<double>() * static_cast<double>(n);
      counts[k] += n;
    }
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(counts[0], counts[2]);
  EXPECT_GT(counts[0], 500);
  EXPECT_NEAR(sums[0], sums[1], 1e-4 * sums[0]);
  EXPECT_NEAR(sums[0], sums[2], 1e-4 * sums[0]);
}

TEST(PrefixSamples, AStrideMakesASampleEveryKPositionsWithItsLastKTargets) {
  Pieces p("sasrec", {});
  const auto& log = prefix_data().split.train.log;
  const auto n_users = prefix_data().split.train.n_users();
  const int64_t k = 3, max_len = p.m.max_len;
  const auto t = nn::training_sequences(log, n_users, max_len, 16, "", k);
  EXPECT_EQ(t.last_targets, k);
  // Hand-computed: a user with n events has n - 1 positions, in ceil((n - 1) / k) samples ending at
  // the newest event and every k before it.
  std::set<int64_t> want_ends, ends;
  for (std::int32_t u = 1; u < n_users; ++u) {
    const auto b = log.user_begin(u), e = log.user_end(u);
    for (auto end = e; end - 1 >= b + 1; end -= k) want_ends.insert(end);
  }
  for (const auto& s : t.seqs) {
    EXPECT_TRUE(ends.insert(s.end).second);
    EXPECT_LE(s.length(), max_len + 1);
  }
  EXPECT_EQ(ends, want_ends);
  // In a batch, only a sample's last min(k, inputs) positions carry targets, the next events.
  for (const auto& batch : t.batches) {
    const auto tb = nn::make_batch(p.m, log, t, batch, p.is_target);
    const auto L = tb.targets.numel() / static_cast<int64_t>(batch.size());
    auto targets = tb.targets.reshape({static_cast<int64_t>(batch.size()), L});
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const auto& s = t.seqs[batch[b]];
      const auto n = std::min(k, s.length() - 1);
      EXPECT_EQ(targets[static_cast<int64_t>(b)].ne(0).sum().item<int64_t>(), n);
      for (int64_t j = 0; j < n; ++j)
        EXPECT_EQ(targets[static_cast<int64_t>(b)][L - 1 - j].item<int64_t>(),
                  log.item[static_cast<std::size_t>(s.end - 1 - j)]);
    }
  }
  EXPECT_THROW(nn::training_sequences(log, n_users, max_len, 16, "", -1), InvalidInput);
}

// future_targets K: each target position also carries the items of the user's next K training
// events after its target (fewer near the user's end, none from another user), and the batch loss
// adds future_weight times their loss against the position's state.
TEST(PrefixSamples, FutureTargetsAreTheUsersNextEventsAfterTheTarget) {
  Pieces p("sasrec", {});
  const auto& log = prefix_data().split.train.log;
  auto t = nn::training_sequences(log, prefix_data().split.train.n_users(), p.m.max_len, 16, "", 1);
  t.future_targets = 3;
  std::size_t short_rows = 0;
  for (const auto& batch : t.batches) {
    const auto tb = nn::make_batch(p.m, log, t, batch, p.is_target);
    ASSERT_TRUE(tb.future.defined());
    ASSERT_EQ(tb.future.size(0), tb.targets.numel());
    ASSERT_EQ(tb.future.size(1), 3);
    const auto L = tb.targets.numel() / static_cast<int64_t>(batch.size());
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const auto& s = t.seqs[batch[b]];
      const auto row = static_cast<int64_t>(b) * L + L - 1;  // the target position
      const auto user_end = log.user_end(log.user[static_cast<std::size_t>(s.end - 1)]);
      for (int64_t k = 0; k < 3; ++k) {
        const auto r = s.end + k;  // the k-th event after the target (row s.end - 1)
        const auto want = r < user_end ? log.item[static_cast<std::size_t>(r)] : 0;
        EXPECT_EQ(tb.future[row][k].item<int64_t>(), want);
        short_rows += want == 0;
      }
      // Positions without a target carry no future items.
      EXPECT_EQ(tb.future.slice(0, static_cast<int64_t>(b) * L, row).ne(0).sum().item<int64_t>(), 0);
    }
  }
  EXPECT_GT(short_rows, 0u);  // users' newest positions have fewer than K events after them
  // The loss: the next item's, plus future_weight times the pairs' (states repeated per pair).
  auto loss = nn::make_training_loss(p.c, prefix_data().split.train);
  nn::TrainingScorer scorer(p.m, prefix_data().split.train.n_items());
  const auto tb = nn::make_batch(p.m, log, t, t.batches.back(), p.is_target);
  p.m.net->eval();
  torch::NoGradGuard no_grad;
  int64_t n = 0;
  const auto with = nn::batch_loss(p.m, *loss, scorer, tb, &n, 0.5).item<double>();
  const auto next = nn::batch_loss(p.m, *loss, scorer, tb, &n, 0.0).item<double>();
  const auto h = p.m.net->forward(tb.inputs.features()).reshape({-1, p.m.state_dim()});
  const auto pairs = tb.future.nonzero();
  const auto later = (*loss)(scorer, h.index_select(0, pairs.select(1, 0)),
                             tb.future.index({pairs.select(1, 0), pairs.select(1, 1)}), {});
  EXPECT_NEAR(with, next + 0.5 * later.item<double>(), 1e-4);
  EXPECT_GT(with, next);
}

TEST(PrefixSamples, TrainsDeterministicallyAndIsRefusedWherePrivacyCountsUsers) {
  nn::register_neural_models();
  auto fit = [](const nlohmann::json& extra) {
    nlohmann::json c = {{"dim", 16},       {"max_len", 10},         {"loss", "softmax"}, {"epochs", 3},
                        {"eval_every", 0}, {"samples", "prefixes"}, {"batch_size", 64}};
    for (const auto& [k, v] : extra.items()) c[k] = v;
    auto m = models::create_model("sasrec", c);
    models::FitOptions o;
    o.seed = 4;
    o.threads = 1;
    m->fit(prefix_data().split.train, o);
    return m;
  };
  const double a = prefix_data().test_ndcg(*fit({})), b = prefix_data().test_ndcg(*fit({}));
  EXPECT_EQ(a, b);
  EXPECT_GT(a, 0.0);
  EXPECT_THROW(fit({{"fed_rounds", 2}}), InvalidInput);
  EXPECT_THROW(fit({{"dp_epsilon", 8.0}}), InvalidInput);
  // The same settings with whole sequences are accepted: it is the samples that are refused.
  EXPECT_NO_THROW(fit({{"fed_rounds", 2}, {"samples", "sequences"}}));
  EXPECT_NO_THROW(fit({{"dp_epsilon", 8.0}, {"samples", "sequences"}}));
  // A moving average of the weights is for the centralised fit too (a private one included).
  EXPECT_THROW(fit({{"fed_rounds", 2}, {"samples", "sequences"}, {"weight_average", 0.9}}), InvalidInput);
  EXPECT_NO_THROW(fit({{"dp_epsilon", 8.0}, {"samples", "sequences"}, {"weight_average", 0.9}}));
}

TEST(PrefixSamples, AutoChoosesTheStrideFromTheWindowLength) {
  // Hand-computed: histories of 3 and 5 events, max_len 2: windows 1, 2 and 1, 2, 2, 2 (the single
  // event of the first user makes no position): 10 events over 6 positions.
  EXPECT_NEAR(nn::mean_prefix_context({1, 3, 5}, 2), 10.0 / 6.0, 1e-12);
  EXPECT_NEAR(nn::mean_prefix_context({4}, 50), 2.0, 1e-12);  // windows 1, 2, 3
  EXPECT_EQ(nn::mean_prefix_context({1, 0}, 5), 0.0);
  // ceil(context / max_context), at least 1: Beauty's 8.4 -> 1, MovieLens-100K's 88 -> 3.
  EXPECT_EQ(nn::auto_prefix_stride(8.37, 32), 1);
  EXPECT_EQ(nn::auto_prefix_stride(88.04, 32), 3);
  EXPECT_EQ(nn::auto_prefix_stride(64.0, 32), 2);
  EXPECT_EQ(nn::auto_prefix_stride(0.0, 32), 1);
  EXPECT_THROW(nn::auto_prefix_stride(10.0, 0), InvalidInput);
  nn::register_neural_models();
  auto resolved = [](const nlohmann::json& extra) {
    nlohmann::json c = {{"dim", 8},    {"max_len", 10},   {"loss", "softmax"},
                        {"epochs", 1}, {"eval_every", 0}, {"samples", "auto"}};
    for (const auto& [k, v] : extra.items()) c[k] = v;
    auto m = models::create_model("hstu", c);
    models::FitOptions o;
    o.threads = 1;
    m->fit(prefix_data().split.train, o);
    const auto& r = m->config();
    return r["samples"].get<std::string>() + "/" + std::to_string(r["prefix_stride"].get<int64_t>());
  };
  std::vector<int64_t> lengths;
  const auto& train = prefix_data().split.train;
  for (std::int32_t u = 1; u < train.n_users(); ++u) lengths.push_back(train.log.user_length(u));
  const double context = nn::mean_prefix_context(lengths, 10);
  ASSERT_GT(context, 4.0);
  ASSERT_LT(context, 10.0);
  // A fixed stride (1, the default): prefixes while the mean window is within the bound, else sequences.
  EXPECT_EQ(resolved({{"prefix_max_context", static_cast<int64_t>(context) + 1}}), "prefixes/1");
  EXPECT_EQ(resolved({{"prefix_max_context", static_cast<int64_t>(context) - 1}}), "sequences/1");
  EXPECT_EQ(resolved({{"prefix_max_context", static_cast<int64_t>(context) - 1}, {"prefix_stride", 2}}), "prefixes/2");
  // Stride 0: from the data, so always prefixes.
  EXPECT_EQ(resolved({{"prefix_max_context", static_cast<int64_t>(context) + 1}, {"prefix_stride", 0}}), "prefixes/1");
  EXPECT_EQ(resolved({{"prefix_max_context", static_cast<int64_t>(context) - 1}, {"prefix_stride", 0}}), "prefixes/2");
  EXPECT_EQ(resolved({{"prefix_max_context", 2}, {"prefix_stride", 0}}),
            "prefixes/" + std::to_string(nn::auto_prefix_stride(context, 2)));
  EXPECT_EQ(resolved({{"samples", "prefixes"}, {"prefix_max_context", 2}, {"prefix_stride", 0}}),
            "prefixes/" + std::to_string(nn::auto_prefix_stride(context, 2)));
  // Federated counts users: sequences (the stride is left as given, unused).
  EXPECT_EQ(resolved({{"fed_rounds", 1}, {"prefix_max_context", 1000}}), "sequences/1");
  EXPECT_EQ(resolved({{"fed_rounds", 1}, {"prefix_stride", 0}}), "sequences/0");
}
