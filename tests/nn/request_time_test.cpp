// request_time: the sequential models read the time from the user's last event to the request.
#include <gtest/gtest.h>

#include <cstdio>

#include "../../src/nn/seqnets.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/models/replay.h"
#include "driftrec/nn/register.h"
#include "driftrec/report/html_report.h"
#include "driftrec/serve/service.h"
#include "driftrec/store/event_store.h"
#include "driftrec/workflow/split.h"
#include "driftrec/workflow/train.h"
#include "driftrec/workflow/tune.h"

using namespace driftrec;

namespace {

constexpr std::int64_t kDay = 86400;

/// Every user repeats: p, then q 30 s later (still in the visit) or r two days later (back after an
/// absence), coin-flipped, then an hour's pause. After p only the time to the next event tells q
/// from r. Users u0..u{n-1}; events from `t0` on, `pairs` pairs each; a user's coins depend on the
/// seed and the user only, so fewer pairs give the first pairs of more. The items are p, q, r in
/// that order (user "z" views them first).
void add_visits(data::DatasetBuilder& b, int users, int pairs, std::int64_t t0, std::uint64_t seed) {
  for (const auto* item : {"p", "q", "r"}) b.add("z", item, t0 - 100, "view");
  for (int u = 0; u < users; ++u) {
    Rng rng(seed * 100'003 + static_cast<std::uint64_t>(u));
    std::int64_t t = t0 + u;
    for (int k = 0; k < pairs; ++k) {
      b.add("u" + std::to_string(u), "p", t, "view");
      const bool stays = rng.bernoulli(0.5);
      t += stays ? 30 : 2 * kDay;
      b.add("u" + std::to_string(u), stays ? "q" : "r", t, "view");
      t += 3600;
    }
  }
}

nlohmann::json config(bool request_time) {
  return {{"dim", 16},         {"max_len", 12},     {"layers", 1},           {"epochs", 25},
          {"eval_every", 0},   {"loss", "softmax"}, {"dropout", 0.1},        {"lr", 0.01},
          {"warmup_steps", 0}, {"batch_size", 64},  {"samples", "prefixes"}, {"request_time", request_time}};
}

std::unique_ptr<models::Model> fitted(const nlohmann::json& cfg, const data::Dataset& train) {
  nn::register_neural_models();
  auto m = models::create_model("sasrec", cfg);
  models::FitOptions fo;
  fo.threads = 1;
  fo.seed = 3;
  m->fit(train, fo);
  return m;
}

/// score(q) - score(r) for a user whose history ends in p, asked `gap` seconds after it (none:
/// without a time).
float q_over_r(const models::Model& m, const data::Dataset& ds, std::optional<std::int64_t> gap) {
  auto s = m.encode(ds.users.find("u0"), models::user_history(ds, ds.users.find("u0")));
  s.history.push_back(data::Event{s.user, ds.items.find("p"), s.history.back().ts + 3600, 0, 0, 1.0f});
  s = m.encode(s.user, s.history);
  if (gap) s.now = s.history.back().ts + *gap;
  std::vector<float> out(static_cast<std::size_t>(m.n_items()));
  m.score(s, out.data());
  return out[static_cast<std::size_t>(ds.items.find("q"))] - out[static_cast<std::size_t>(ds.items.find("r"))];
}

}  // namespace

TEST(RequestTime, BucketsMergeTheFirstMinuteAndGrowByPowersOfTwo) {
  EXPECT_EQ(nn::next_gap_bucket(-5), 2);  // a clock that went back counts as no time
  EXPECT_EQ(nn::next_gap_bucket(0), 2);
  EXPECT_EQ(nn::next_gap_bucket(62), 2);
  EXPECT_EQ(nn::next_gap_bucket(63), 3);  // log2(64) = 6
  EXPECT_EQ(nn::next_gap_bucket(3600), 2 + 11 - 5);
  EXPECT_EQ(nn::next_gap_bucket(std::int64_t{1} << 50), nn::kNextGapBuckets - 1);
  EXPECT_NE(nn::kNextGapUnknown, nn::next_gap_bucket(0));
}

TEST(RequestTime, TheTimeSinceTheLastEventTellsAVisitFromAReturn) {
  data::DatasetBuilder b;
  add_visits(b, 150, 8, 1'700'000'000, 7);
  const auto ds = b.finish();
  const auto timed = fitted(config(true), ds);
  EXPECT_GT(q_over_r(*timed, ds, 30), 0.5f);         // still in the visit: q
  EXPECT_LT(q_over_r(*timed, ds, 2 * kDay), -0.5f);  // back after two days: r
  // Without a time it is a coin flip between the two, and the state is the cached one.
  const auto unknown = q_over_r(*timed, ds, std::nullopt);
  EXPECT_LT(std::fabs(unknown), std::fabs(q_over_r(*timed, ds, 30)));

  // The same model without the switch cannot tell, and ignores a time it is given.
  const auto plain = fitted(config(false), ds);
  EXPECT_EQ(q_over_r(*plain, ds, 30), q_over_r(*plain, ds, 2 * kDay));
  EXPECT_EQ(q_over_r(*plain, ds, 30), q_over_r(*plain, ds, std::nullopt));

  // Saved and loaded, the model reads the time the same way.
  test::TempDir dir;
  models::save_model_dir(dir.file("m"), *timed, ds);
  const auto loaded = models::load_model_dir(dir.file("m"));
  EXPECT_EQ(q_over_r(*loaded.model, ds, 30), q_over_r(*timed, ds, 30));
  EXPECT_EQ(q_over_r(*loaded.model, ds, 2 * kDay), q_over_r(*timed, ds, 2 * kDay));
}

TEST(RequestTime, IsOffWithoutAClock) {
  // Positions are not times (S3Rec's Beauty file): the switch is off, and the model is the plain one.
  data::DatasetBuilder b;
  add_visits(b, 40, 4, 1'700'000'000, 5);
  auto ds = b.finish();
  ds.has_clock = false;
  const auto timed = fitted(config(true), ds), plain = fitted(config(false), ds);
  EXPECT_EQ(q_over_r(*timed, ds, 30), q_over_r(*plain, ds, 30));
  EXPECT_EQ(q_over_r(*timed, ds, 30), q_over_r(*timed, ds, 2 * kDay));
}

TEST(RequestTime, TheQueryVectorAndTheScoresAgree) {
  data::DatasetBuilder b;
  add_visits(b, 60, 4, 1'700'000'000, 9);
  const auto ds = b.finish();
  const auto m = fitted(config(true), ds);
  auto s = m->encode(ds.users.find("u1"), models::user_history(ds, ds.users.find("u1")));
  const auto cached = s.vector;
  s.now = s.history.back().ts + 2 * kDay;
  const auto q = m->query_vector(s);
  EXPECT_EQ(s.vector, cached);  // asking at a time leaves the state as it was
  EXPECT_NE(q, cached);
  int dim = 0;
  const float* items = m->item_embeddings(&dim);
  ASSERT_NE(items, nullptr);
  std::vector<float> scores(static_cast<std::size_t>(m->n_items()));
  m->score(s, scores.data());
  for (std::int32_t i = 1; i < m->n_items(); ++i) {
    float dot = 0;
    for (int k = 0; k < dim; ++k) dot += q[static_cast<std::size_t>(k)] * items[i * dim + k];
    EXPECT_NEAR(scores[static_cast<std::size_t>(i)], dot, 1e-4f) << i;
  }
}

TEST(RequestTime, TheReplayAsksForEachEventAtItsOwnTime) {
  // Trained on the first half of the users' pairs; the replay walks the rest. Asked at each event's
  // time, the model ranks q or r first after every p; asked without a time, it is right about half
  // the time.
  data::DatasetBuilder tb, fb;
  add_visits(tb, 150, 8, 1'700'000'000, 7);
  add_visits(fb, 150, 16, 1'700'000'000, 7);
  const auto train = tb.finish(), full = fb.finish();
  const auto m = fitted(config(true), train);
  std::int64_t start = 0;
  for (std::size_t r = 0; r < train.log.size(); ++r) start = std::max(start, train.log.ts[r]);
  models::ReplayOptions o;
  o.start_ts = start + 1;
  o.k = 1;
  o.threads = 1;
  o.exclude_seen = false;
  const auto with_time = models::replay(*m, full, o);
  o.request_time = false;
  const auto without = models::replay(*m, full, o);
  ASSERT_GT(with_time.online.events, 500);
  EXPECT_EQ(with_time.online.events, without.online.events);
  // Half the events are p (an hour after q or r, always p), half q or r: 1 with the time, about 3/4
  // without (measured: 1.0 and 0.78).
  EXPECT_GT(with_time.online.hr, 0.95);
  EXPECT_LT(without.online.hr, 0.85);
}

TEST(RequestTime, TheServerAsksAtTheRequestsTime) {
  data::DatasetBuilder b;
  add_visits(b, 150, 8, 1'700'000'000, 7);
  const auto ds = b.finish();
  test::TempDir dir;
  models::save_model_dir(dir.file("m"), *fitted(config(true), ds), ds);
  serve::Service svc(dir.file("m"), store::open_event_store("sqlite://" + dir.file("e.db")));
  serve::IncomingEvent e;
  e.user = "new";
  e.item = "p";
  e.ts = 1'800'000'000;
  e.behavior = "view";
  svc.ingest({e});
  auto top = [&](std::int64_t gap, bool anonymous) {
    serve::RecommendRequest req;
    req.k = 1;
    req.exclude_seen = false;
    req.at = *e.ts + gap;
    if (!anonymous) return svc.recommend_user("new", req).items.at(0).item;
    serve::IncomingEvent h;
    h.item = "p";
    h.ts = e.ts;
    return svc.recommend_history({h}, req).items.at(0).item;
  };
  for (const bool anonymous : {false, true}) {
    EXPECT_EQ(top(30, anonymous), "q") << anonymous;
    EXPECT_EQ(top(2 * kDay, anonymous), "r") << anonymous;
  }
}

TEST(RequestTime, TheSplitProtocolAsksAtTheCutoffOrAtTheArrival) {
  // Trained on eight pairs per user; then every user views p at the same moment t, the test period
  // starts a second later, and the user's target is q 30 s after p or r two days after it. Asked
  // at the arrival (the target's time), the model ranks the target first; at the cutoff (a second
  // after p, still the visit) it ranks q first for everyone; without a time it cannot tell.
  data::DatasetBuilder tb, fb;
  add_visits(tb, 150, 8, 1'700'000'000, 7);
  add_visits(fb, 150, 8, 1'700'000'000, 7);
  const std::int64_t t = 1'800'000'000;
  for (int u = 0; u < 150; ++u) {
    const auto user = "u" + std::to_string(u);
    fb.add(user, "p", t, "view");
    const bool stays = u % 2 == 0;
    fb.add(user, stays ? "q" : "r", stays ? t + 30 : t + 2 * kDay, "view");
  }
  const auto train = tb.finish();
  data::Prepared p{fb.finish(), {}};
  p.split = data::temporal_split(p.full, t + 1, t + 1, {});
  ASSERT_EQ(p.split.test.size(), 150u);
  auto m = fitted(config(true), train);
  eval::EvalOptions eo;
  eo.ks = {1};
  eo.exclude_seen = false;
  eo.threads = 1;
  eo.save_top = 1;
  auto run = [&](const std::string& at) {
    return models::evaluate_model(*m, p.full, p.split.test, p.split.train, eo, {},
                                  workflow::split_request_time(p, "test", at));
  };
  const auto arrival = run("arrival"), cutoff = run("cutoff"), none = run("none");
  EXPECT_GT(arrival.metrics.at("hr@1"), 0.95);
  const auto q = p.full.items.find("q");
  for (const auto& r : cutoff.rankings) EXPECT_EQ(r.top.at(0), q);
  EXPECT_NEAR(cutoff.metrics.at("hr@1"), 0.5, 0.05);
  EXPECT_LT(none.metrics.at("hr@1"), 0.85);
  // A model without the switch ranks the same whenever it is asked.
  const auto plain = fitted(config(false), train);
  const auto plain_cutoff = models::evaluate_model(*plain, p.full, p.split.test, p.split.train, eo, {},
                                                   workflow::split_request_time(p, "test", "arrival"));
  EXPECT_EQ(plain_cutoff.metrics, models::evaluate_model(*plain, p.full, p.split.test, p.split.train, eo).metrics);
  // The report asks as evaluate does and says when: its comparison table holds the NDCG@10 of the
  // lists asked at that time.
  models::LoadedModel loaded{std::move(m), {}, {}, {}, {}, {}, nlohmann::json::object()};
  const workflow::CommonSplit common{p.full, p, {}};
  report::ReportOptions ro;
  ro.sample_users = 0;
  ro.resamples = 0;
  ro.threads = 1;
  auto ndcg_cell = [&](const std::string& at) {
    eval::EvalOptions e10;
    e10.ks = {10};
    e10.threads = 1;
    const auto r = models::evaluate_model(*loaded.model, p.full, p.split.test, p.split.train, e10, {},
                                          workflow::split_request_time(p, "test", at));
    char cell[64];
    std::snprintf(cell, sizeof cell, "<td class=\"note\">baseline</td><td>%.4f</td>", r.metrics.at("ndcg@10"));
    return std::string(cell);
  };
  const auto page = [&](const std::string& at) {
    ro.request_at = at;
    return report::html_report({&loaded}, {"m"}, common, ro);
  };
  const auto at_arrival = page("arrival"), without = page("none");
  EXPECT_NE(ndcg_cell("arrival"), ndcg_cell("none"));
  EXPECT_NE(at_arrival.find(ndcg_cell("arrival")), std::string::npos);
  EXPECT_EQ(at_arrival.find(ndcg_cell("none")), std::string::npos);
  EXPECT_NE(without.find(ndcg_cell("none")), std::string::npos);
  EXPECT_NE(at_arrival.find("asked for at each case's first target"), std::string::npos);
  EXPECT_NE(page("cutoff").find("asked for at the period's cutoff"), std::string::npos);
  EXPECT_THROW(page("noon"), InvalidInput);
}

TEST(RequestTime, TheSplitProtocolsRequestTimeIsCheckedBeforeAnyScoring) {
  data::DatasetBuilder b;
  add_visits(b, 4, 2, 1'700'000'000, 7);
  data::Prepared p{b.finish(), {}};
  p.split = data::leave_one_out(p.full, {});
  EXPECT_EQ(workflow::split_request_time(p, "test", "none").at, models::RequestTime::At::none);
  EXPECT_EQ(workflow::split_request_time(p, "test", "arrival").at, models::RequestTime::At::arrival);
  EXPECT_THROW(workflow::split_request_time(p, "test", "cutoff"), InvalidInput);  // no cutoff in leave-one-out
  EXPECT_THROW(workflow::split_request_time(p, "test", "noon"), InvalidInput);
  data::PrepareOptions prep;
  EXPECT_THROW(workflow::check_request_at(prep, "cutoff"), InvalidInput);  // leave-one-out, before any data
  EXPECT_NO_THROW(workflow::check_request_at(prep, "arrival"));
  prep.split = "temporal";
  EXPECT_NO_THROW(workflow::check_request_at(prep, "cutoff"));
  EXPECT_THROW(workflow::check_request_at(prep, "noon"), InvalidInput);
  p.full.has_clock = false;
  EXPECT_THROW(workflow::split_request_time(p, "test", "arrival"), InvalidInput);
  EXPECT_EQ(workflow::split_request_time(p, "test", "none").at, models::RequestTime::At::none);
  // The temporal split's cutoff of the period asked about.
  p.full.has_clock = true;
  p.split = data::temporal_split(p.full, 1'700'000'010, 1'700'003'000, {});
  EXPECT_EQ(workflow::split_request_time(p, "valid", "cutoff").cutoff, 1'700'000'010);
  EXPECT_EQ(workflow::split_request_time(p, "test", "cutoff").cutoff, 1'700'003'000);
  const data::EvalCase c{1, 0, {2}, 1'700'005'000};
  EXPECT_EQ(workflow::split_request_time(p, "test", "arrival").of(c), 1'700'005'000);
  EXPECT_EQ(workflow::split_request_time(p, "test", "none").of(c), std::nullopt);
  // Each protocol's switch refused under the other, named with the caller's prefix.
  EXPECT_NO_THROW(workflow::check_request_switches("", "split", "cutoff", false));
  EXPECT_NO_THROW(workflow::check_request_switches("", "replay", "none", true));
  EXPECT_THROW(workflow::check_request_switches("", "replay", "arrival", false), InvalidInput);
  try {
    workflow::check_request_switches("evaluate: ", "split", "none", true);
    ADD_FAILURE() << "no_request_time with the split protocol was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()).rfind("evaluate: no_request_time is for the replay protocol", 0), 0u) << e.what();
  }
}

TEST(RequestTime, TrainingValidatesAtTheTimeItIsTold) {
  // Eight pairs for each of 150 users; 150 more users view p at t, the validation period starts a
  // second later and holds each one's q 30 s after p or r two days after it (new to them, so with
  // seen items excluded both stay rankable), and the test period p once more. Asked at each
  // validation case's arrival the model tells q from r; without a time it cannot. Training's
  // validation (the early-stopping check at the last epoch and the recorded metrics) asks as it is
  // told, and so do tune's trials and the ensemble's weights.
  data::DatasetBuilder b;
  add_visits(b, 150, 8, 1'700'000'000, 7);
  const std::int64_t t = 1'800'000'000;
  for (int u = 0; u < 150; ++u) {
    const auto user = "v" + std::to_string(u);
    const bool stays = u % 2 == 0;
    b.add(user, "p", t, "view");
    b.add(user, stays ? "q" : "r", stays ? t + 30 : t + 2 * kDay, "view");
    b.add(user, "p", t + 10 * kDay, "view");
  }
  const auto data = b.finish();
  auto options = [&](const std::string& at) {
    workflow::TrainOptions o;
    o.model = "sasrec";
    o.config = config(true);
    o.config["eval_every"] = 25;  // one check, at the last epoch
    o.prepare.split = "temporal";
    o.prepare.valid_start = std::to_string(t + 1);
    o.prepare.test_start = std::to_string(t + 9 * kDay);
    o.seed = 3;
    o.threads = 1;
    o.include_seen = true;
    o.objective = "hr@1";
    o.request_at = at;
    return o;
  };
  nn::register_neural_models();
  const auto arrival = workflow::train_model(data, options("arrival"));
  const auto none = workflow::train_model(data, options("none"));
  // Same seed, same training: only the asking differs.
  ASSERT_EQ(arrival.history.size(), none.history.size());
  EXPECT_EQ(arrival.history.front().loss, none.history.front().loss);
  const double at_arrival = arrival.validation.metrics.at("hr@1");
  EXPECT_GT(at_arrival, 0.95);
  EXPECT_LT(none.validation.metrics.at("hr@1"), 0.85);
  EXPECT_DOUBLE_EQ(arrival.history.back().valid, at_arrival);
  EXPECT_DOUBLE_EQ(none.history.back().valid, none.validation.metrics.at("hr@1"));
  EXPECT_EQ(arrival.loaded.meta.at("validation_request_at"), "arrival");
  EXPECT_EQ(none.loaded.meta.at("validation_request_at"), "none");
  // The figure evaluate gives when it asks the trained model at the arrival.
  const auto ms = workflow::model_split(arrival.loaded, data, options("arrival").prepare);
  eval::EvalOptions eo;
  eo.ks = {1};
  eo.exclude_seen = false;
  eo.threads = 1;
  const auto again =
      models::evaluate_model(*arrival.loaded.model, ms.prepared.full, ms.prepared.split.valid, ms.prepared.split.train,
                             eo, {}, workflow::split_request_time(ms.prepared, "valid", "arrival"));
  EXPECT_NEAR(again.metrics.at("hr@1"), at_arrival, 1e-9);
  // Refused before any data is touched: a cutoff on leave-one-out, a name it does not know.
  auto loo = options("cutoff");
  loo.prepare.split = "loo";
  EXPECT_THROW(workflow::check_train_options(loo), InvalidInput);
  EXPECT_THROW(workflow::check_train_options(options("noon")), InvalidInput);
  EXPECT_NO_THROW(workflow::check_train_options(options("cutoff")));
  // tune's objective asks as its space says.
  const auto prepared = data::prepare(data, options("none").prepare);
  tune::SearchSpace space;
  space.model = "sasrec";
  space.objective = "hr@1";
  auto trial = [&](const std::string& at) {
    workflow::override_space(space, "", "", at);
    return workflow::tune_objective(prepared, options("none").prepare, space, {}, 1, 3)(options("none").config,
                                                                                        [](double) {});
  };
  EXPECT_GT(trial("arrival"), 0.95);
  EXPECT_LT(trial("none"), 0.85);
  EXPECT_THROW(trial("noon"), InvalidInput);
  // The ensemble's weights are fitted to (and its validation recorded at) the time it is told.
  test::TempDir dir;
  arrival.save(dir.file("a"));
  none.save(dir.file("b"));
  auto blend = [&](const std::string& at) {
    workflow::EnsembleOptions eo;
    eo.members = {dir.file("a"), dir.file("b")};
    eo.objective = "hr@1";
    eo.threads = 1;
    eo.request_at = at;
    return workflow::build_ensemble(data, eo);
  };
  const auto blend_at = blend("arrival"), blend_none = blend("none");
  EXPECT_EQ(blend_at.loaded.meta.at("validation_request_at"), "arrival");
  EXPECT_GT(blend_at.validation.metrics.at("hr@1"), blend_none.validation.metrics.at("hr@1") + 0.1);
  workflow::EnsembleOptions bad;
  bad.members = {dir.file("a"), dir.file("b")};
  bad.request_at = "noon";
  EXPECT_THROW(workflow::check_ensemble_options(bad), InvalidInput);
}

TEST(RequestTime, AStateAskedAtATimeNeedsOnlyItsHistory) {
  // With request_time every list asked at a time is encoded from the history as of then, so the
  // replay adds events with append_event (no encode): the scores equal observe()'s to the bit.
  data::DatasetBuilder b;
  add_visits(b, 40, 6, 1'700'000'000, 7);
  const auto train = b.finish();
  const auto m = fitted(config(true), train);
  EXPECT_TRUE(m->capabilities().encodes_at_request);
  EXPECT_FALSE(fitted(config(false), train)->capabilities().encodes_at_request);
  const auto u = train.users.find("u3");
  auto history = models::user_history(train, u);
  const auto last = history.back();
  history.pop_back();
  auto observed = m->encode(u, history), appended = observed;
  m->observe(observed, last);
  m->append_event(appended, last);
  EXPECT_EQ(observed.history.size(), appended.history.size());
  EXPECT_EQ(observed.version, appended.version);
  EXPECT_NE(observed.vector, appended.vector);  // the appended state's vector is the one before
  std::vector<float> a(static_cast<std::size_t>(m->n_items())), o(a.size());
  for (const std::int64_t gap : {std::int64_t{10}, 3 * kDay}) {
    observed.now = appended.now = last.ts + gap;
    m->score(observed, o.data());
    m->score(appended, a.data());
    EXPECT_EQ(o, a) << "gap " << gap;
  }
}
