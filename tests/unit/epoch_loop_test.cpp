// The train layer's epoch loop: early stopping with patience and min_delta, validation cadence,
// resume, the time budget, and the epoch records model.json keeps.
#include "driftrec/train/epoch_loop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/train/early_stopping.h"

namespace driftrec {
namespace {

struct LoopRun {
  std::vector<train::EpochRecord> records;
  std::vector<int> kept;  // epochs whose weights were kept
  std::vector<std::string> messages;
  train::EpochState state;
};

LoopRun run_loop(const std::vector<double>& valid, int epochs, int eval_every, int patience,
                 train::EpochState resume = {}, double min_delta = 0.0) {
  LoopRun r;
  int current = 0;
  train::EpochHooks hooks;
  hooks.train = [&current](int epoch) {
    current = epoch;
    return 1.0 / epoch;
  };
  hooks.validate = [&] { return valid.at(static_cast<std::size_t>(current - 1)); };
  hooks.keep_best = [&] { r.kept.push_back(current); };
  r.state = train::run_epochs(
      {"train x", epochs, eval_every, patience, resume, 0.0, min_delta}, hooks,
      [&r](const train::EpochRecord& e) { r.records.push_back(e); },
      [&r](const Progress& p) { r.messages.push_back(p.message); });
  return r;
}

TEST(EpochLoop, KeepsTheBestAndStopsAfterPatienceChecksWithoutImprovement) {
  const auto r = run_loop({0.1, 0.3, 0.2, 0.25, 0.5, 0.6}, 6, 1, 2);
  ASSERT_EQ(r.records.size(), 4u);  // 0.3 at epoch 2, then two checks without improvement
  EXPECT_EQ(r.kept, (std::vector<int>{1, 2}));
  EXPECT_TRUE(r.records[3].early_stop);
  EXPECT_TRUE(r.state.stopped);
  EXPECT_EQ(r.state.epoch, 4);
  EXPECT_DOUBLE_EQ(r.state.best, 0.3);
  EXPECT_DOUBLE_EQ(r.records[1].loss, 0.5);
  EXPECT_TRUE(r.records[1].best);
  EXPECT_EQ(train::best_validated_epoch(r.records), 2);
  EXPECT_NE(r.messages[3].find("(early stop)"), std::string::npos);
  EXPECT_NE(r.messages[0].find("valid=0.100000"), std::string::npos);
}

TEST(EpochLoop, MinDeltaStopsACreepingCurveAndKeepsItsLastRealGain) {
  // Validation creeps up by 1e-4 per check after a real gain at epoch 2.
  const std::vector<double> curve{0.10, 0.12, 0.1201, 0.1202, 0.1203, 0.1204, 0.1205, 0.1206};
  const auto plain = run_loop(curve, 8, 1, 2);
  EXPECT_EQ(plain.records.size(), 8u);  // every creep is a new best: patience never runs out
  EXPECT_EQ(plain.kept.back(), 8);
  EXPECT_EQ(train::best_validated_epoch(plain.records), 8);
  const auto delta = run_loop(curve, 8, 1, 2, {}, 1e-3);
  ASSERT_EQ(delta.records.size(), 4u);  // epochs 3 and 4 gain less than 1e-3: stopped after 4
  EXPECT_TRUE(delta.records.back().early_stop);
  EXPECT_EQ(delta.kept, (std::vector<int>{1, 2}));
  EXPECT_DOUBLE_EQ(delta.state.best, 0.12);
  // The kept epoch is read back from the history (refit trains this many epochs), though a
  // later check scored higher.
  EXPECT_EQ(train::best_validated_epoch(delta.records), 2);
  std::vector<train::EpochRecord> reread;
  for (const auto& r : delta.records) reread.push_back(train::EpochRecord::from_json(r.to_json()));
  EXPECT_EQ(train::best_validated_epoch(reread), 2);
  // A gain of exactly min_delta is not more than it.
  EXPECT_EQ(run_loop({0.5, 0.75, 0.75}, 3, 1, 1, {}, 0.25).kept, (std::vector<int>{1}));
}

TEST(EarlyStopping, CountsOnlyGainsAboveMinDelta) {
  train::EarlyStopping s(2, 0.01);
  EXPECT_TRUE(s.record(0.10));
  EXPECT_FALSE(s.record(0.105));  // +0.005: no improvement
  EXPECT_EQ(s.bad(), 1);
  EXPECT_TRUE(s.record(0.111));  // +0.011 over the best: improvement, patience reset
  EXPECT_EQ(s.bad(), 0);
  EXPECT_DOUBLE_EQ(s.best(), 0.111);
  EXPECT_FALSE(s.record(0.12));
  EXPECT_FALSE(s.should_stop());
  EXPECT_FALSE(s.record(0.05));
  EXPECT_TRUE(s.should_stop());
  // The first check is kept whatever min_delta is (there is no best to gain over yet).
  train::EarlyStopping first(1, 5.0);
  EXPECT_TRUE(first.record(0.0));
  EXPECT_FALSE(first.record(4.9));
  // The resumed state carries on with the same rule.
  train::EarlyStopping resumed(2, 0.01, 0.111, 1);
  EXPECT_FALSE(resumed.record(0.115));
  EXPECT_TRUE(resumed.should_stop());
}

TEST(EpochLoop, ValidatesEveryNthEpochAndAtTheLast) {
  const auto r = run_loop({0.1, 0.2, 0.3, 0.4, 0.5}, 5, 2, 3);
  ASSERT_EQ(r.records.size(), 5u);
  std::vector<int> checked;
  for (const auto& e : r.records)
    if (e.validated()) checked.push_back(e.epoch);
  EXPECT_EQ(checked, (std::vector<int>{2, 4, 5}));
  EXPECT_FALSE(r.records[0].validated());
  EXPECT_EQ(r.kept, (std::vector<int>{2, 4, 5}));
}

TEST(EpochLoop, ResumesWithTheSavedEarlyStoppingState) {
  // Best 0.3 so far, one bad check already: one more bad check stops it (patience 2).
  const auto r = run_loop({0.1, 0.3, 0.2, 0.25, 0.5}, 5, 1, 2, {3, 0.3, 1, false});
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].epoch, 4);
  EXPECT_TRUE(r.records[0].early_stop);
  const auto done = run_loop({0.1}, 5, 1, 2, {3, 0.3, 2, true});
  EXPECT_TRUE(done.records.empty());
}

TEST(EpochLoop, ATimeBudgetStopsAfterTheEpochThatEndsPastItAndValidatesThatEpoch) {
  // Every epoch takes at least 100 ms; with a 250 ms budget the third epoch ends past it at the
  // latest. Checks are due every 5 epochs only, yet the stopping epoch is validated and kept.
  std::vector<train::EpochRecord> records;
  std::vector<int> kept;
  int current = 0;
  train::EpochHooks hooks;
  hooks.train = [&current](int epoch) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    current = epoch;
    return 1.0;
  };
  hooks.validate = [&current] { return 0.1 * current; };
  hooks.keep_best = [&] { kept.push_back(current); };
  train::EpochPlan plan{"train x", 100, 5, 100, {}, 0.25};
  const auto state = train::run_epochs(
      plan, hooks, [&records](const train::EpochRecord& e) { records.push_back(e); }, nullptr);
  ASSERT_GE(records.size(), 1u);
  ASSERT_LE(records.size(), 3u);
  const auto& last = records.back();
  EXPECT_TRUE(last.out_of_time);
  EXPECT_TRUE(last.early_stop);
  EXPECT_TRUE(last.validated());
  EXPECT_GE(last.seconds, 0.25);
  EXPECT_EQ(kept, (std::vector<int>{last.epoch}));
  EXPECT_NE(last.message().find("(time budget)"), std::string::npos);
  EXPECT_TRUE(train::EpochRecord::from_json(last.to_json()).out_of_time);
  // Not a patience stop: a checkpoint of this state resumes training.
  EXPECT_FALSE(state.stopped);
  EXPECT_EQ(state.epoch, last.epoch);
  // Several processes take rank 0's decision: here it says "over" after the first epoch.
  records.clear();
  hooks.train = [&current](int epoch) { return current = epoch, 1.0; };
  hooks.agree = [](bool) { return true; };
  plan.time_budget_s = 1e9;
  train::run_epochs(
      plan, hooks, [&records](const train::EpochRecord& e) { records.push_back(e); }, nullptr);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0].out_of_time);
  // A private fit refuses a budget (the accounting counts the planned epochs).
  EXPECT_THROW(train::refuse_time_budget(10.0, "bpr"), InvalidInput);
  EXPECT_NO_THROW(train::refuse_time_budget(0.0, "bpr"));
}

TEST(EpochRecord, RoundTripsThroughModelJson) {
  train::EpochRecord r;
  r.epoch = 3;
  r.loss = 0.25;
  r.seconds = 1.5;
  const auto j = r.to_json();
  EXPECT_FALSE(j.contains("valid"));
  const auto back = train::EpochRecord::from_json(j);
  EXPECT_EQ(back.epoch, 3);
  EXPECT_DOUBLE_EQ(back.loss, 0.25);
  EXPECT_FALSE(back.validated());
  EXPECT_THROW(train::EpochRecord::from_json(nlohmann::json{{"loss", 1.0}}), InvalidInput);
  train::EpochRecord none;
  none.epoch = 1;
  EXPECT_FALSE(none.to_json().contains("loss"));  // ials has no loss: no NaN in model.json
}

}  // namespace
}  // namespace driftrec
