// Interest-tracking error: distances, the truth file, the lag after a shift, and both protocols
// on hand-built cases.
#include "driftrec/eval/tracking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/registry.h"
#include "driftrec/models/replay.h"
#include "test_util.h"
#include "two_clusters.h"

using namespace driftrec;

namespace {
// The two-cluster catalogue (two_clusters.h); u9 liked X before t=10, then shifted to Y.
const char* kTruth =
    "user_id,timestamp,category,weight\n"
    "u9,9,X,0.9\n"
    "u9,9,Y,0.1\n"
    "u9,10,Y,1.0\n"
    "stranger,10,X,1.0\n";
}  // namespace

TEST(Tracking, DistancesOnHandComputedCases) {
  const std::vector<double> x{1, 0}, y{0, 1}, half{0.5, 0.5};
  EXPECT_DOUBLE_EQ(eval::total_variation(x, x), 0.0);
  EXPECT_DOUBLE_EQ(eval::total_variation(x, y), 1.0);
  EXPECT_DOUBLE_EQ(eval::total_variation(x, half), 0.5);
  EXPECT_NEAR(eval::smoothed_kl(x, x, 0.01), 0.0, 1e-12);
  // ((0 + .01) / 1.02) ln(.01 / 1.01) + ((1 + .01) / 1.02) ln(1.01 / .01)
  EXPECT_NEAR(eval::smoothed_kl(y, x, 0.01), 4.5246279577, 1e-9);
  EXPECT_NEAR(eval::smoothed_kl(x, half, 0.01), 0.6380486045, 1e-9);
  EXPECT_THROW(eval::total_variation(x, {1, 0, 0}), InvalidInput);
  EXPECT_THROW(eval::smoothed_kl(x, y, 0.0), InvalidInput);
}

TEST(Tracking, CategoryMixOfAList) {
  data::DatasetBuilder b;
  test::add_two_clusters(b);
  b.add("u5", "e", 1);  // no category: left out of the mix
  const auto ds = b.finish();
  const auto X = ds.item_table.categories.find("X");
  auto mix = eval::category_mix({ds.items.find("a"), ds.items.find("c"), ds.items.find("d"), ds.items.find("e")},
                                ds.item_table, ds.item_table.categories.size());
  EXPECT_NEAR(mix[static_cast<std::size_t>(X)], 1.0 / 3, 1e-12);
  EXPECT_NEAR(mix[static_cast<std::size_t>(1 - X)], 2.0 / 3, 1e-12);
  mix = eval::category_mix({ds.items.find("e")}, ds.item_table, 2);
  EXPECT_EQ(mix, (std::vector<double>{0, 0}));
}

TEST(Tracking, TruthFileIsReadAgainstTheData) {
  data::DatasetBuilder b;
  test::add_two_clusters(b);
  const auto ds = b.finish();
  test::TempDir dir;
  const auto truth = eval::InterestTruth::read_csv(dir.write("interests.csv", kTruth), ds);
  const auto u9 = ds.users.find("u9"), X = ds.item_table.categories.find("X");
  EXPECT_EQ(truth.snapshots(), 2);  // the stranger is not in the data
  EXPECT_EQ(truth.users_with_truth(), 1);
  EXPECT_EQ(truth.snapshot_at(u9, 8), -1);
  EXPECT_EQ(truth.snapshot_at(u9, 9), 0);
  EXPECT_EQ(truth.snapshot_at(u9, 100), 1);
  EXPECT_NEAR(truth.weights(u9, 0)[static_cast<std::size_t>(X)], 0.9, 1e-12);
  EXPECT_NEAR(truth.weights(u9, 1)[static_cast<std::size_t>(X)], 0.0, 1e-12);
  auto expect_error = [&](const std::string& text, const std::string& what) {
    const auto path = dir.write("bad.csv", text);
    try {
      eval::InterestTruth::read_csv(path, ds);
      ADD_FAILURE() << "no error for " << text;
    } catch (const ParseError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("user,ts,category,weight\n", "bad.csv:1: field 'header': expected user_id");
  expect_error("user_id,timestamp,category,weight\nu9,x,X,1\n", "bad.csv:2: field 'timestamp'");
  expect_error("user_id,timestamp,category,weight\nu9,1,X,-1\n", "bad.csv:2: field 'weight'");
  expect_error("user_id,timestamp,category,weight\nu9,1,Z,1\n", "bad.csv:2: field 'category': 'Z'");
  expect_error("user_id,timestamp,category,weight\nu9,5,X,1\nu9,3,X,1\n", "bad.csv:3: field 'timestamp'");
  expect_error("user_id,timestamp,category,weight\nu9,5,X\n", "bad.csv:2: field 'row': expected 4 fields");
  EXPECT_THROW(eval::InterestTruth::read_csv(dir.file("absent.csv"), ds), IoError);
}

TEST(Tracking, LagCountsEventsUntilTheListIsCloserToTheNewInterests) {
  eval::InterestTruth truth(2);
  truth.add_snapshot(1, 0, {1, 0});
  truth.add_snapshot(1, 10, {0.8, 0.2});  // drift, not a shift (tv 0.2)
  truth.add_snapshot(1, 20, {0, 1});      // shift (tv 0.8)
  truth.add_snapshot(1, 40, {1, 0});      // shift back before the list crossed: censored
  eval::TrackingError out;
  eval::ShiftFollower f(truth, 1, -1, out);
  const std::vector<double> x{1, 0}, y{0, 1}, mostly_x{0.6, 0.4}, mostly_y{0.3, 0.7};
  f.before(5, x);
  f.observed();
  f.before(15, x);
  f.observed();
  f.before(20, x);  // shift: waiting, 0 events observed since
  f.observed();
  f.before(21, mostly_x);  // still closer to the old interests
  f.observed();
  f.before(22, mostly_y);  // crossed after 2 events
  f.observed();
  f.before(30, y);
  f.observed();
  f.before(40, y);  // shift back
  f.observed();
  f.finish();  // never crossed: censored
  EXPECT_EQ(out.shifts_crossed(), 1);
  EXPECT_EQ(out.shifts_censored(), 1);
  EXPECT_DOUBLE_EQ(out.mean_lag(), 2.0);
  EXPECT_DOUBLE_EQ(out.median_lag(), 2.0);
  EXPECT_EQ(out.moments(), 0);  // lags only; moments come from add_moment
  // The shift back was checked once (lag 0) before the end cut it off: at risk at lag 0 only, so
  // the Kaplan-Meier estimate at lag 2 has the one crossing among one shift at risk.
  EXPECT_DOUBLE_EQ(out.followed_within(1), 0.0);
  EXPECT_DOUBLE_EQ(out.followed_within(2), 1.0);
  EXPECT_EQ(out.km_median_lag(), 2);
}

// Kaplan-Meier by hand. Crossings at lags 1, 2, 3 and one shift cut off after being checked at lag
// 2 (still at risk at 2): lag 1: 1 of 4 at risk -> followed 1/4; lag 2: 1 of 3 -> 1 - 3/4 * 2/3 =
// 1/2; lag 3: 1 of 1 -> 1. Median 2.
TEST(Tracking, LagWithCensoringIsKaplanMeier) {
  eval::TrackingError a, b;
  a.add_lag(1);
  a.add_lag(3);
  b.add_lag(2);
  b.add_censored(2);
  a.merge(b);
  EXPECT_EQ(a.shifts_crossed(), 3);
  EXPECT_EQ(a.shifts_censored(), 1);
  EXPECT_DOUBLE_EQ(a.followed_within(0), 0.0);
  EXPECT_DOUBLE_EQ(a.followed_within(1), 0.25);
  EXPECT_DOUBLE_EQ(a.followed_within(2), 0.5);
  EXPECT_DOUBLE_EQ(a.followed_within(5), 1.0);
  EXPECT_EQ(a.km_median_lag(), 2);
  // Ties: two crossings at lag 1, one at 4; cut off at 0 (gone before lag 1) and at 3 (gone before
  // 4). Lag 1: 2 of 4 -> 1/2, the median; lag 4: 1 of 1 -> 1.
  eval::TrackingError t;
  for (const auto l : {1, 1, 4}) t.add_lag(l);
  t.add_censored(0);
  t.add_censored(3);
  EXPECT_DOUBLE_EQ(t.followed_within(3), 0.5);
  EXPECT_DOUBLE_EQ(t.followed_within(4), 1.0);
  EXPECT_EQ(t.km_median_lag(), 1);
  // A model that follows one shift of four at once and never the others: the mean over crossings
  // says lag 0, the estimate says a quarter followed and no median.
  eval::TrackingError rare;
  rare.add_lag(0);
  for (int k = 0; k < 3; ++k) rare.add_censored(5);
  EXPECT_DOUBLE_EQ(rare.mean_lag(), 0.0);
  EXPECT_DOUBLE_EQ(rare.followed_within(10), 0.25);
  EXPECT_FALSE(rare.km_median_lag().has_value());
  const auto j = rare.to_json();
  EXPECT_TRUE(j["km_median_lag"].is_null());
  EXPECT_DOUBLE_EQ(j["followed_within"]["5"].get<double>(), 0.25);
  EXPECT_EQ(j["shifts"], 4);
  EXPECT_DOUBLE_EQ(eval::TrackingError().followed_within(5), 0.0);  // no shifts
  EXPECT_FALSE(eval::TrackingError().km_median_lag().has_value());
}

TEST(Tracking, ListsWithTheTrueMixScoreZero) {
  data::DatasetBuilder b;
  test::add_two_clusters(b);
  b.add("u9", "c", 10);
  b.add("u9", "d", 11);
  const auto ds = b.finish();
  test::TempDir dir;
  const auto truth = eval::InterestTruth::read_csv(dir.write("interests.csv", kTruth), ds);
  const auto u9 = ds.users.find("u9");
  // Two cases at t=10 and t=11 (truth: all Y); rankings of Y items score 0, of X items 1.
  std::vector<data::EvalCase> cases{{u9, 9, {ds.items.find("c")}, 10}, {u9, 10, {ds.items.find("d")}, 11}};
  std::vector<eval::CaseRanking> right(2), wrong(2);
  right[0].top = right[1].top = {ds.items.find("c"), ds.items.find("d")};
  wrong[0].top = wrong[1].top = {ds.items.find("a"), ds.items.find("b")};
  eval::TrackingOptions o;
  o.k = 2;
  const auto good = eval::track_cases(cases, right, ds, truth, o);
  EXPECT_EQ(good.moments(), 2);
  EXPECT_NEAR(good.tv(), 0.0, 1e-12);
  EXPECT_NEAR(good.kl(), 0.0, 1e-12);
  std::map<std::string, std::vector<double>> per_case;
  const auto bad = eval::track_cases(cases, wrong, ds, truth, o, &per_case);
  EXPECT_NEAR(bad.tv(), 1.0, 1e-12);
  EXPECT_NEAR(bad.kl(), 4.5246279577, 1e-9);
  ASSERT_EQ(per_case.at("tracking_tv").size(), 2u);  // case by case, for compare's paired tests
  EXPECT_NEAR(per_case.at("tracking_tv")[1], 1.0, 1e-12);
  EXPECT_NEAR(per_case.at("tracking_kl")[0], 4.5246279577, 1e-9);
  // A case before any snapshot is skipped (and has no per-case value).
  cases[0].target_ts = 5;
  per_case.clear();
  EXPECT_EQ(eval::track_cases(cases, right, ds, truth, o, &per_case).moments(), 1);
  EXPECT_EQ(per_case.at("tracking_tv"), std::vector<double>{0.0});
  EXPECT_THROW(eval::track_cases(cases, {}, ds, truth, o), InvalidInput);
}

// Replay with itemknn (similarities as in replay_test: d follows c, b follows a). Before t=10 u9's
// truth is mostly X; from t=10 all Y. Top-1 lists: at c (t=10) the state {a} recommends b (X): tv 1;
// after observing c, at d (t=11) it recommends d (Y): tv 0, the list crossed after 1 event. Frozen
// at {a}, the list stays on b: tv 1 twice and the shift is never followed.
TEST(Tracking, ReplayMeasuresTrackingAndLagOnline) {
  data::DatasetBuilder tb, fb;
  test::add_two_clusters(tb);
  test::add_two_clusters(fb);
  fb.add("u9", "c", 10);
  fb.add("u9", "d", 11);
  const auto train = tb.finish(), full = fb.finish();
  test::TempDir dir;
  const auto truth = eval::InterestTruth::read_csv(dir.write("interests.csv", kTruth), full);
  auto knn = models::create_model("itemknn", {{"shrink", 0.0}});
  knn->fit(train, {});
  models::ReplayOptions o;
  o.start_ts = 10;
  o.k = 1;
  o.windows = 1;
  o.threads = 1;
  o.truth = &truth;
  const auto r = models::replay(*knn, full, o);
  ASSERT_TRUE(r.tracked);
  EXPECT_EQ(r.tracking_online.moments(), 2);
  EXPECT_NEAR(r.tracking_online.tv(), 0.5, 1e-12);
  EXPECT_EQ(r.tracking_online.shifts_crossed(), 1);
  EXPECT_EQ(r.tracking_online.shifts_censored(), 0);
  EXPECT_DOUBLE_EQ(r.tracking_online.mean_lag(), 1.0);
  EXPECT_NEAR(r.tracking_frozen.tv(), 1.0, 1e-12);
  EXPECT_EQ(r.tracking_frozen.shifts_crossed(), 0);
  EXPECT_EQ(r.tracking_frozen.shifts_censored(), 1);
  // Per user (u9 only), for paired comparisons: hr@1 (0 + 1) / 2, tracking tv (1 + 0) / 2.
  ASSERT_EQ(r.per_user_ids, (std::vector<std::int32_t>{full.users.find("u9")}));
  EXPECT_EQ(r.per_user.at("hr@1"), (std::vector<double>{0.5}));
  EXPECT_EQ(r.per_user.at("tracking_tv"), (std::vector<double>{0.5}));
  const auto j = r.to_json(1);
  EXPECT_EQ(j["tracking"]["online"]["shifts"], 1);
  EXPECT_EQ(j["tracking"]["online"]["k"], 1);
  o.truth = nullptr;
  EXPECT_FALSE(models::replay(*knn, full, o).to_json(1).contains("tracking"));
}

// The generator's own truth file reads back against its events, one snapshot per session.
TEST(Tracking, SyntheticTruthReadsBack) {
  data::SynthOptions so;
  so.users = 50;
  so.items = 200;
  so.seed = 4;
  const auto synth = data::generate_synthetic(so);
  test::TempDir dir;
  data::write_synthetic(synth, dir.file("shop"));
  const auto ds = data::to_dataset(synth);
  const auto truth = eval::InterestTruth::read_csv(dir.file("shop") + "/interests.csv", ds);
  EXPECT_EQ(truth.users_with_truth(), 50);
  EXPECT_GT(truth.snapshots(), 50);
  for (std::int32_t u = 1; u < ds.n_users(); ++u) {
    const auto first = ds.log.ts[static_cast<std::size_t>(ds.log.user_begin(u))];
    EXPECT_EQ(truth.snapshot_at(u, first), 0) << "user " << u;  // a snapshot opens every session
    double sum = 0;
    for (const auto w : truth.weights(u, 0)) sum += w;
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
}
