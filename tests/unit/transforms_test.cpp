// Filters and splits; the splits must never leak the future.
#include "driftrec/data/transforms.h"

#include <gtest/gtest.h>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"

using namespace driftrec;
using namespace driftrec::data;

namespace {
Dataset small() {
  DatasetBuilder b;
  // u1: a a b c d (times 1..5); u2: a b (times 1, 2); u3: e x5 (for k-core)
  b.add("u1", "a", 1, "view");
  b.add("u1", "a", 2, "view");
  b.add("u1", "b", 3, "buy");
  b.add("u1", "c", 4, "view");
  b.add("u1", "d", 5, "buy");
  b.add("u2", "a", 1, "view");
  b.add("u2", "b", 2, "buy");
  for (int t = 0; t < 5; ++t) b.add("u3", "e", t, "view");
  return b.finish();
}
}  // namespace

TEST(Filters, ConsecutiveDuplicates) {
  const auto ds = drop_consecutive_duplicates(small());
  EXPECT_EQ(ds.log.size(), 12u - 1u - 4u);
  EXPECT_EQ(ds.users.count(), 3);
}

TEST(Filters, KCoreIsIterative) {
  // Items with >= 2 events: a (3), b (2), e (5). Then u2 keeps a,b (2), u1 keeps a,a,b (3), u3 keeps 5.
  const auto ds = k_core(small(), 3, 2);
  // u2 has 2 events < 3 -> removed -> b has 1 event -> removed -> u1 has a,a (2) < 3 -> removed.
  EXPECT_EQ(ds.users.count(), 1);
  EXPECT_EQ(ds.items.count(), 1);
  EXPECT_THROW(k_core(small(), 100, 0), InvalidInput);
}

TEST(Splits, LeaveOneOutNeverLeaks) {
  const auto ds = small();
  const auto s = leave_one_out(ds);
  ASSERT_EQ(s.test.size(), 2u);  // u1 and u3 (u2 has only 2 events)
  for (std::size_t k = 0; k < s.test.size(); ++k) {
    const auto& t = s.test[k];
    const auto& v = s.valid[k];
    EXPECT_EQ(t.user, v.user);
    EXPECT_EQ(t.history_end, ds.log.user_end(t.user) - 1);
    EXPECT_EQ(v.history_end, t.history_end - 1);
    // Every training event of the user precedes the validation target.
    const auto& tr = s.train.log;
    for (auto r = tr.user_begin(t.user); r < tr.user_end(t.user); ++r) EXPECT_LE(tr.ts[r], v.target_ts);
    EXPECT_EQ(tr.user_length(t.user), ds.log.user_length(t.user) - 2);
  }
  EXPECT_EQ(s.train.log.user_length(s.train.users.find("u2")), 2);  // too short: training only
}

TEST(Splits, LeaveOneOutWithTargetBehaviours) {
  const auto ds = small();
  SplitOptions o;
  o.target_behaviors = {"buy"};
  o.min_targets = 2;
  const auto s = leave_one_out(ds, o);
  ASSERT_EQ(s.test.size(), 1u);  // u1 has two buys (b, d)
  EXPECT_EQ(ds.items.name(s.test[0].targets[0]), "d");
  EXPECT_EQ(ds.items.name(s.valid[0].targets[0]), "b");
  EXPECT_EQ(s.train.log.user_length(s.test[0].user), 2);  // a, a before the validation buy
  // The training data says which behaviours the split counts as targets (models may learn those).
  EXPECT_EQ(s.train.target_behaviors, std::vector<std::string>{"buy"});
  EXPECT_TRUE(leave_one_out(ds, {}).train.target_behaviors.empty());
  EXPECT_THROW(behavior_ids(ds, {"teleport"}), NotFound);
}

TEST(Splits, TemporalTrainsStrictlyBeforeCutoff) {
  SynthOptions so;
  so.users = 200;
  so.items = 300;
  const auto ds = to_dataset(generate_synthetic(so));
  const auto vs = time_quantile(ds, 0.7), ts = time_quantile(ds, 0.85);
  const auto s = temporal_split(ds, vs, ts);
  for (auto t : s.train.log.ts) EXPECT_LT(t, vs);
  ASSERT_FALSE(s.test.empty());
  for (const auto& c : s.test) {
    EXPECT_GT(c.history_end, ds.log.user_begin(c.user));
    EXPECT_LT(ds.log.ts[c.history_end - 1], ts);
    EXPECT_GE(c.target_ts, ts);
  }
  for (const auto& c : s.valid) {
    EXPECT_LT(ds.log.ts[c.history_end - 1], vs);
    EXPECT_GE(c.target_ts, vs);
    EXPECT_LT(c.target_ts, ts);
  }
  EXPECT_THROW(temporal_split(ds, ts, vs), InvalidInput);
}

TEST(Splits, KeepNewTargetsDropsReconsumedItemsAndEmptyCases) {
  // u1: a b | a c (the test period starts at 10: a again, c new); u2: a | a (only a repeat);
  // u3: d | e (only new).
  DatasetBuilder b;
  b.add("u1", "a", 1, "view");
  b.add("u1", "b", 2, "view");
  b.add("u1", "a", 11, "view");
  b.add("u1", "c", 12, "view");
  b.add("u2", "a", 3, "view");
  b.add("u2", "a", 13, "view");
  b.add("u3", "d", 4, "view");
  b.add("u3", "e", 14, "view");
  const auto ds = b.finish();
  auto cases = temporal_split(ds, 10, 10).test;
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(keep_new_targets(ds, cases), 1u);  // u2's case had no new target
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].user, ds.users.find("u1"));
  EXPECT_EQ(cases[0].targets, (std::vector<std::int32_t>{ds.items.find("c")}));
  EXPECT_EQ(cases[0].target_ts, 11);  // the case's moment stays the start of its test period
  EXPECT_EQ(cases[1].targets, (std::vector<std::int32_t>{ds.items.find("e")}));
  EXPECT_EQ(keep_new_targets(ds, cases), 0u);  // idempotent
}

TEST(Splits, PrepareRejectsTemporalWithoutClock) {
  DatasetBuilder b;
  b.dataset().has_clock = false;
  for (int t = 0; t < 5; ++t) b.add("u", std::to_string(t), t);
  PrepareOptions o;
  o.split = "temporal";
  EXPECT_THROW(prepare(b.finish(), o), InvalidInput);
  PrepareOptions bad;
  bad.split = "random";
  DatasetBuilder b2;
  for (int t = 0; t < 5; ++t) b2.add("u", std::to_string(t), t);
  EXPECT_THROW(prepare(b2.finish(), bad), InvalidInput);
}

TEST(Splits, RefitTrainsOnValidationKeepsTestCases) {
  const auto ds = small();
  SplitOptions o;
  o.refit = true;
  const auto plain = leave_one_out(ds);
  const auto refit = leave_one_out(ds, o);
  EXPECT_TRUE(refit.valid.empty());
  ASSERT_EQ(refit.test.size(), plain.test.size());
  for (std::size_t k = 0; k < plain.test.size(); ++k) {
    const auto& t = refit.test[k];
    EXPECT_EQ(t.user, plain.test[k].user);
    EXPECT_EQ(t.history_end, plain.test[k].history_end);
    EXPECT_EQ(t.targets, plain.test[k].targets);
    // Training now holds the validation target, and still nothing from the test target on.
    EXPECT_EQ(refit.train.log.user_length(t.user), ds.log.user_length(t.user) - 1);
    const auto& tr = refit.train.log;
    for (auto r = tr.user_begin(t.user); r < tr.user_end(t.user); ++r) EXPECT_LT(tr.ts[r], t.target_ts);
  }

  SynthOptions so;
  so.users = 200;
  so.items = 300;
  const auto syn = to_dataset(generate_synthetic(so));
  const auto vs = time_quantile(syn, 0.7), ts = time_quantile(syn, 0.85);
  const auto tp = temporal_split(syn, vs, ts), tr = temporal_split(syn, vs, ts, o);
  EXPECT_TRUE(tr.valid.empty());
  EXPECT_FALSE(tp.valid.empty());
  ASSERT_EQ(tr.test.size(), tp.test.size());
  for (std::size_t k = 0; k < tp.test.size(); ++k) EXPECT_EQ(tr.test[k].targets, tp.test[k].targets);
  std::size_t before_test = 0;
  for (auto t : syn.log.ts) before_test += t < ts;
  EXPECT_EQ(tr.train.log.size(), before_test);
  EXPECT_GT(tr.train.log.size(), tp.train.log.size());
  for (auto t : tr.train.log.ts) EXPECT_LT(t, ts);

  // The option travels through model.json.
  PrepareOptions po;
  po.refit = true;
  EXPECT_TRUE(prepare_options_from_json(to_json(po)).refit);
  EXPECT_FALSE(prepare_options_from_json(nlohmann::json::object()).refit);
}
