// Replay evaluation: a hand-computed case, and what online updating is worth.
#include "driftrec/models/replay.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/registry.h"
#include "test_util.h"
#include "two_clusters.h"

using namespace driftrec;

namespace {
// Before t=10: a x3, b x2, c x2, d x1 (b and c tie; b has the lower index). Then u3 views d (t=10)
// and c (t=11), in `full` only. `pop` is fitted on `train`; replayed from t=10 with k=2.
struct HandShop {
  data::Dataset train, full;
  std::unique_ptr<models::Model> pop;
  models::ReplayOptions options;
};
HandShop hand_shop() {
  data::DatasetBuilder tb, fb;
  for (auto* b : {&tb, &fb}) {
    b->add("u1", "a", 1);
    b->add("u1", "b", 2);
    b->add("u2", "a", 3);
    b->add("u2", "c", 4);
    b->add("u2", "d", 6);
    b->add("u3", "a", 5);
    b->add("u4", "b", 7);
    b->add("u4", "c", 8);
  }
  fb.add("u3", "d", 10);
  fb.add("u3", "c", 11);
  HandShop h{tb.finish(), fb.finish(), models::create_model("pop"), {}};
  h.pop->fit(h.train, {});
  h.options.start_ts = 10;
  h.options.k = 2;
  h.options.threads = 1;
  return h;
}
}  // namespace

TEST(Replay, HandComputedPopularityCase) {
  // t=10, d: seen {a}: candidates b, c, d -> rank 2: miss at k=2, rr 1/3.
  // t=11, c: seen {a, d}: b before c -> rank 1: hit, ndcg 1/log2(3), rr 1/2.
  auto [train, full, pop, o] = hand_shop();
  ASSERT_EQ(train.items.find("d"), full.items.find("d"));
  o.windows = 2;
  const auto r = models::replay(*pop, full, o);
  EXPECT_EQ(r.users, 1);
  EXPECT_EQ(r.events_revealed, 2);
  EXPECT_EQ(r.online.events, 2);
  EXPECT_NEAR(r.online.hr, 0.5, 1e-12);
  EXPECT_NEAR(r.online.ndcg, 0.5 / std::log2(3.0), 1e-12);
  EXPECT_NEAR(r.online.mrr, (1.0 / 3 + 0.5) / 2, 1e-12);
  // Popularity has no per-user state: frozen equals online, and each window holds one event.
  EXPECT_NEAR(r.frozen.mrr, r.online.mrr, 1e-12);
  ASSERT_EQ(r.windows.size(), 2u);
  EXPECT_EQ(r.windows[0].online.events, 1);
  EXPECT_EQ(r.windows[1].online.events, 1);
  EXPECT_NEAR(r.windows[0].online.mrr, 1.0 / 3, 1e-12);
  o.start_ts = 100;
  EXPECT_THROW(models::replay(*pop, full, o), InvalidInput);
}

// A re-ranking hook chooses each list shown: hr and ndcg describe that list, mrr the model's
// scores; the hook sees the moment (user, history so far, target) and the top depth candidates.
TEST(Replay, ReRankedListsAreTheOnesScored) {
  // t=10, d: seen {a}: b, c, d by score; reversed [d, c, b] -> d first.
  // t=11, c: seen {a, d}: b, c by score; reversed [c, b] -> c first.
  auto [train, full, pop, o] = hand_shop();
  o.rerank_depth = 3;
  std::vector<std::pair<data::EvalCase, std::vector<std::int32_t>>> seen_by_hook;
  o.rerank = [&](const data::EvalCase& moment, const TopK& top, std::size_t k) {
    seen_by_hook.emplace_back(moment, top.items);
    std::vector<std::int32_t> reversed(top.items.rbegin(), top.items.rend());
    reversed.resize(std::min(k, reversed.size()));
    return reversed;
  };
  const auto r = models::replay(*pop, full, o);
  EXPECT_NEAR(r.online.hr, 1.0, 1e-12);
  EXPECT_NEAR(r.online.ndcg, 1.0, 1e-12);                 // both targets first in the list shown
  EXPECT_NEAR(r.online.mrr, (1.0 / 3 + 0.5) / 2, 1e-12);  // the model's own ranks, as without the hook
  ASSERT_EQ(seen_by_hook.size(), 4u);                     // online and frozen at each event
  const auto u3 = full.users.find("u3");
  const auto b = full.items.find("b"), c = full.items.find("c"), d = full.items.find("d");
  const auto& [first, first_top] = seen_by_hook[0];
  EXPECT_EQ(first.user, u3);
  EXPECT_EQ(first.history_end - full.log.user_begin(u3), 1);  // only a was revealed before t=10
  EXPECT_EQ(first.targets, std::vector<std::int32_t>{d});
  EXPECT_EQ(first_top, (std::vector<std::int32_t>{b, c, d}));  // depth 3, a (seen) left out
  EXPECT_EQ(seen_by_hook[2].first.history_end - full.log.user_begin(u3), 2);
  EXPECT_EQ(seen_by_hook[2].second, (std::vector<std::int32_t>{b, c}));
  o.rerank_depth = 0;
  EXPECT_THROW(models::replay(*pop, full, o), InvalidInput);
}

TEST(Replay, OnlineUpdatesBeatAFrozenStateUnderDrift) {
  data::SynthOptions so;
  so.users = 300;
  so.items = 300;
  so.seed = 8;
  so.shift_rate = 0.2;
  const auto full = data::to_dataset(data::generate_synthetic(so));
  const auto cut = data::time_quantile(full, 0.7);
  std::vector<bool> keep(full.log.size());
  for (std::size_t r = 0; r < keep.size(); ++r) keep[r] = full.log.ts[r] < cut;
  // Train on the events before the cutoff, in the full data's id space.
  auto ials = models::create_model("ials", {{"factors", 16}, {"iterations", 6}});
  auto train = data::subset(full, keep);
  train = data::align_ids(train, full.users, full.items);
  ials->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = cut;
  o.threads = 2;
  const auto r = models::replay(*ials, full, o);
  EXPECT_GT(r.online.events, 500);
  EXPECT_GT(r.online.ndcg, r.frozen.ndcg * 1.05);
}

TEST(Replay, TargetDomainScoresOnlyThatDomainAmongItsItems) {
  // Popularity before t=10: a x3 (shop), x x2 (social), b x1 (shop), y x1 (social).
  auto add_train = [](data::DatasetBuilder& b) {
    b.add("u1", "a", 1, "", 1.0f, "shop");
    b.add("u1", "x", 2, "", 1.0f, "social");
    b.add("u2", "a", 3, "", 1.0f, "shop");
    b.add("u2", "x", 4, "", 1.0f, "social");
    b.add("u3", "a", 5, "", 1.0f, "shop");
    b.add("u3", "b", 6, "", 1.0f, "shop");
    b.add("u4", "y", 7, "", 1.0f, "social");
  };
  data::DatasetBuilder tb, fb;
  add_train(tb);
  add_train(fb);
  fb.add("u4", "b", 10, "", 1.0f, "shop");    // revealed, not scored
  fb.add("u4", "x", 11, "", 1.0f, "social");  // seen {y, b}; social candidates {x}: rank 1
  const auto train = tb.finish(), full = fb.finish();
  auto pop = models::create_model("pop");
  pop->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.k = 1;
  o.windows = 1;
  o.threads = 1;
  o.target_domains = data::domain_ids(full, {"social"});
  o.candidates = data::domain_items(full, {"social"});
  const auto r = models::replay(*pop, full, o);
  EXPECT_EQ(r.events_revealed, 2);
  EXPECT_EQ(r.online.events, 1);
  EXPECT_NEAR(r.online.hr, 1.0, 1e-12);  // a (shop) would outrank x without the candidate mask
  o.candidates.clear();
  EXPECT_NEAR(models::replay(*pop, full, o).online.hr, 0.0, 1e-12);
  // Candidates alone also decide which events are scored (e.g. only new items).
  o.target_domains.clear();
  o.candidates = data::domain_items(full, {"social"});
  EXPECT_EQ(models::replay(*pop, full, o).online.events, 1);
}

TEST(Replay, SeenItemsCanBeKeptInTheRanking) {
  data::DatasetBuilder tb, fb;
  for (auto* b : {&tb, &fb}) {
    b->add("u1", "a", 1);
    b->add("u2", "a", 2);
    b->add("u3", "c", 3);
    b->add("u3", "a", 4);
  }
  fb.add("u3", "c", 10);  // a buy again: a (seen, more popular) outranks c only when seen items stay
  const auto train = tb.finish(), full = fb.finish();
  auto pop = models::create_model("pop");
  pop->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.k = 1;
  o.windows = 1;
  o.threads = 1;
  EXPECT_NEAR(models::replay(*pop, full, o).online.hr, 1.0, 1e-12);
  o.exclude_seen = false;
  EXPECT_NEAR(models::replay(*pop, full, o).online.mrr, 0.5, 1e-12);
}

// A model with per-user state (itemknn, on the two-cluster catalogue): each replayed event is
// scored from the state before it is revealed, then observed.
TEST(Replay, StatefulModelScoresEachEventBeforeObservingIt) {
  data::DatasetBuilder tb, fb;
  test::add_two_clusters(tb);
  test::add_two_clusters(fb);
  // c from state {a}: b 0.82, c 0, d 0 (tie, c first): rank 2, rr 1/2. Observed first, c would
  // pull d (1.0) ahead of itself: rank 3, rr 1/3.
  fb.add("u9", "c", 10);
  // d from state {a, c}: d 1.0 before b 0.82: rank 1, rr 1. Frozen at {a}: b 0.82 before d 0:
  // rank 2, rr 1/2.
  fb.add("u9", "d", 11);
  const auto train = tb.finish(), full = fb.finish();
  auto knn = models::create_model("itemknn", {{"shrink", 0.0}});
  knn->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.k = 2;
  o.windows = 2;
  o.threads = 1;
  const auto r = models::replay(*knn, full, o);
  EXPECT_EQ(r.online.events, 2);
  EXPECT_NEAR(r.online.hr, 1.0, 1e-12);
  EXPECT_NEAR(r.online.mrr, (0.5 + 1.0) / 2, 1e-12);
  EXPECT_NEAR(r.online.ndcg, (1.0 / std::log2(3.0) + 1.0) / 2, 1e-12);
  EXPECT_NEAR(r.frozen.mrr, (0.5 + 0.5) / 2, 1e-12);
  ASSERT_EQ(r.windows.size(), 2u);
  EXPECT_NEAR(r.windows[0].online.mrr, 0.5, 1e-12);  // c: scored before it was observed
  EXPECT_NEAR(r.windows[1].online.mrr, 1.0, 1e-12);  // d: scored after c was observed
  EXPECT_NEAR(r.windows[1].frozen.mrr, 0.5, 1e-12);
}

TEST(Replay, SkipRepeatsScoresOnlyItemsNewToTheUser) {
  data::DatasetBuilder tb, fb;
  for (auto* b : {&tb, &fb}) {
    b->add("u1", "a", 1);
    b->add("u2", "a", 2);
    b->add("u2", "b", 3);
    b->add("u3", "c", 4);
  }
  fb.add("u3", "b", 10);  // new to u3: scored
  fb.add("u3", "b", 11);  // the same item again (e.g. a buy after the view): revealed, skipped
  fb.add("u3", "c", 12);  // in u3's history before the cutoff: skipped
  const auto train = tb.finish(), full = fb.finish();
  auto pop = models::create_model("pop");
  pop->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.windows = 1;
  o.threads = 1;
  EXPECT_EQ(models::replay(*pop, full, o).online.events, 3);
  o.skip_repeats = true;
  const auto r = models::replay(*pop, full, o);
  EXPECT_EQ(r.online.events, 1);
  EXPECT_EQ(r.events_revealed, 3);
}

TEST(Replay, EndTimeStopsTheWalk) {
  // Popularity from u1 a,b and u2 a,c,c: a x2, c x2 (a has the lower index), b x1.
  data::DatasetBuilder tb, fb;
  for (auto* b : {&tb, &fb}) {
    b->add("u1", "a", 1);
    b->add("u1", "b", 2);
    b->add("u2", "a", 3);
    b->add("u2", "c", 4);
    b->add("u2", "c", 5);
    b->add("u3", "d", 6);
  }
  fb.add("u1", "c", 10);  // seen {a, b}: c first -> rank 1
  fb.add("u1", "d", 12);  // seen {a, b, c}: d first -> rank 1
  fb.add("u3", "b", 11);  // seen {d}: a, c before b -> rank 3
  const auto train = tb.finish(), full = fb.finish();
  auto pop = models::create_model("pop");
  pop->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.end_ts = 12;  // the event at 12 is neither scored nor revealed
  o.k = 2;
  o.threads = 1;
  const auto r = models::replay(*pop, full, o);
  EXPECT_EQ(r.users, 2);
  EXPECT_EQ(r.events_revealed, 2);
  EXPECT_EQ(r.online.events, 2);
  EXPECT_NEAR(r.online.mrr, (1.0 + 1.0 / 3) / 2, 1e-12);
  EXPECT_NEAR(r.online.hr, 0.5, 1e-12);
  o.end_ts = 11;  // u1's event at 10 only: u3 is out of the period
  const auto first = models::replay(*pop, full, o);
  EXPECT_EQ(first.users, 1);
  EXPECT_EQ(first.events_revealed, 1);
  EXPECT_NEAR(first.online.mrr, 1.0, 1e-12);
  o.end_ts = 10;  // an empty period
  EXPECT_NE(
      test::thrown_message<InvalidInput>([&] { models::replay(*pop, full, o); }).find("between the start and the end"),
      std::string::npos);
}
