// Learning from logged feedback, the parts without LibTorch: returns of logged sessions, the
// off-policy-corrected top-K weight against hand-computed values, option checks, and the
// simulator's recorded sessions (what the fine-tuning learns from).
#include "driftrec/rl/reinforce.h"

#include <gtest/gtest.h>

#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/feedback_log.h"
#include "driftrec/sim/workflow.h"
#include "driftrec/store/event_store.h"

namespace driftrec::rl {
namespace {

LoggedStep step(std::vector<std::int32_t> items, std::vector<double> beta, std::vector<float> clicks) {
  LoggedStep s;
  s.history = {data::Event{}};
  s.items = std::move(items);
  s.beta = std::move(beta);
  s.clicks = std::move(clicks);
  return s;
}

TEST(Reinforce, ReturnsAreDiscountedClicksFromTheStepOn) {
  LoggedSession s;
  s.user = 3;
  s.steps = {step({5, 6}, {0.2, 0.1}, {0, 1}),    // one click
             step({7, 8}, {0.3, 0.3}, {0, 0}),    // none
             step({9, 4}, {0.4, 0.05}, {1, 1})};  // two (position-based clicks)
  const auto a = actions_from_sessions({s}, 0.5);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].item, 6);
  EXPECT_EQ(a[0].user, 3);
  EXPECT_DOUBLE_EQ(a[0].beta, 0.1);
  EXPECT_DOUBLE_EQ(a[0].reward, 1 + 0.5 * 0 + 0.25 * 2);  // 1.5
  EXPECT_EQ(a[1].item, 9);
  EXPECT_DOUBLE_EQ(a[1].reward, 1.0);
  EXPECT_EQ(a[2].item, 4);
  EXPECT_DOUBLE_EQ(a[2].reward, 1.0);
  // Discount 1: every later click counts in full; 0: only the click itself.
  EXPECT_DOUBLE_EQ(actions_from_sessions({s}, 1.0)[0].reward, 3.0);
  EXPECT_DOUBLE_EQ(actions_from_sessions({s}, 0.0)[0].reward, 1.0);
}

TEST(Reinforce, ClicksTheLoggerCouldNotHaveDrawnFirstAreLeftOut) {
  LoggedSession s;
  s.steps = {step({5, 6, 7}, {1.0, 0.0, 0.0}, {0, 1, 0})};
  EXPECT_TRUE(actions_from_sessions({s}, 0.9).empty());
  s.steps[0].clicks = {1, 0, 0};
  EXPECT_EQ(actions_from_sessions({s}, 0.9).size(), 1u);
}

TEST(Reinforce, RejectsInconsistentStepsAndDiscounts) {
  LoggedSession s;
  s.steps = {step({5, 6}, {0.2}, {0, 1})};
  EXPECT_THROW(actions_from_sessions({s}, 0.9), InvalidInput);
  EXPECT_THROW(actions_from_sessions({}, 1.5), InvalidInput);
  EXPECT_THROW(actions_from_sessions({}, -0.1), InvalidInput);
}

TEST(Reinforce, WeightIsCappedRatioTimesTopKCorrectionTimesReturn) {
  // pi 0.2, beta 0.05: ratio 4; K = 3: lambda = 3 * 0.8^2 = 1.92; return 2.
  EXPECT_NEAR(reinforce_weight(0.2, 0.05, 2.0, 10.0, 3), 4 * 1.92 * 2, 1e-12);
  // Ratio 50 capped at 10; K = 1 is plain REINFORCE (lambda 1).
  EXPECT_NEAR(reinforce_weight(0.5, 0.01, 1.5, 10.0, 1), 15.0, 1e-12);
  // An item the policy already shows for sure gains nothing from being raised (lambda 0 for K > 1).
  EXPECT_NEAR(reinforce_weight(1.0, 0.5, 1.0, 10.0, 10), 0.0, 1e-12);
  // lambda_K falls as pi grows: the correction pushes less on items already near the top.
  EXPECT_GT(reinforce_weight(0.01, 0.01, 1.0, 10.0, 10), reinforce_weight(0.3, 0.3, 1.0, 10.0, 10));
}

TEST(Reinforce, ValidateNamesTheBadOption) {
  const auto bad = [](auto edit) {
    ReinforceOptions o;
    edit(o);
    EXPECT_THROW(validate(o), InvalidInput);
  };
  EXPECT_NO_THROW(validate(ReinforceOptions{}));
  bad([](ReinforceOptions& o) { o.epochs = 0; });
  bad([](ReinforceOptions& o) { o.lr = 0; });
  bad([](ReinforceOptions& o) { o.weight_decay = -1; });
  bad([](ReinforceOptions& o) { o.batch_size = 0; });
  bad([](ReinforceOptions& o) { o.cap = 0; });
  bad([](ReinforceOptions& o) { o.top_k = 0; });
  bad([](ReinforceOptions& o) { o.clip_norm = -1; });
}

const sim::World& world() {
  static const sim::World w = [] {
    data::SynthOptions o;
    o.users = 200;
    o.items = 300;
    o.seed = 7;
    return sim::build_world(o, "ials", {{"factors", 8}, {"iterations", 4}}, 1, 7);
  }();
  return w;
}

sim::SimOptions recorded(int episodes) {
  sim::SimOptions o;
  o.episodes = episodes;
  o.seed = 11;
  o.record_sessions = true;
  return o;
}

TEST(Reinforce, SimulatorRecordsEverySessionWithoutChangingIt) {
  auto o = recorded(40);
  const auto with = sim::compare_policies(world(), {"boltzmann:temperature=0.3"}, o)[0];
  o.record_sessions = false;
  const auto without = sim::compare_policies(world(), {"boltzmann:temperature=0.3"}, o)[0];
  ASSERT_EQ(with.sessions.size(), 40u);
  EXPECT_TRUE(without.sessions.empty());
  for (std::size_t e = 0; e < with.episodes.size(); ++e) {
    const auto& ep = with.episodes[e];
    const auto& s = with.sessions[e];
    EXPECT_EQ(ep.clicks, without.episodes[e].clicks);
    EXPECT_EQ(ep.click_steps, without.episodes[e].click_steps);
    EXPECT_EQ(s.user, ep.user);
    ASSERT_EQ(s.steps.size(), static_cast<std::size_t>(ep.steps));
    int clicks = 0;
    for (std::size_t t = 0; t < s.steps.size(); ++t) {
      const auto& st = s.steps[t];
      ASSERT_EQ(st.items.size(), 10u);
      double first = 0;
      for (std::size_t j = 0; j < st.items.size(); ++j) {
        EXPECT_GT(st.beta[j], 0.0);  // Plackett-Luce can draw any candidate first
        first += st.beta[j];
        clicks += st.clicks[j] > 0;
      }
      EXPECT_LE(first, 1.0 + 1e-9);
      // Online: the next state is this one plus this step's clicks, in slate order.
      if (t + 1 < s.steps.size()) {
        auto expect = st.history;
        for (std::size_t j = 0; j < st.items.size(); ++j)
          if (st.clicks[j] > 0) expect.push_back(data::Event{ep.user, st.items[j], 0, 0, 0});
        const auto& next = s.steps[t + 1].history;
        ASSERT_EQ(next.size(), expect.size());
        for (std::size_t i = 0; i < next.size(); ++i) EXPECT_EQ(next[i].item, expect[i].item);
      }
    }
    EXPECT_EQ(clicks, ep.clicks);
  }
}

TEST(Reinforce, GreedyLogsGiveOnlyTheFirstPositionAProbability) {
  const auto r = sim::compare_policies(world(), {"greedy"}, recorded(10))[0];
  for (const auto& s : r.sessions)
    for (const auto& st : s.steps) {
      EXPECT_DOUBLE_EQ(st.beta[0], 1.0);
      for (std::size_t j = 1; j < st.beta.size(); ++j) EXPECT_DOUBLE_EQ(st.beta[j], 0.0);
    }
}

TEST(Reinforce, ModelsThatAreNotPoliciesAreRefused) {
  data::SynthOptions o;
  o.users = 60;
  o.items = 80;
  auto w = sim::build_world(o, "itemknn", {}, 1, 3);
  sim::RlCheckOptions c;
  c.logged_episodes = 5;
  c.eval_episodes = 5;
  EXPECT_THROW(sim::reinforce_on_simulator(w, c, sim::SimOptions{}), InvalidInput);
}

}  // namespace
}  // namespace driftrec::rl

namespace driftrec::serve {
namespace {

store::StoredEvent logged_event(const std::string& user, const std::string& item, std::int64_t ts) {
  store::StoredEvent e;
  e.user = user;
  e.item = item;
  e.ts = ts;
  return e;
}

store::StoredFeedback fb(const std::string& request, const std::string& user, const std::string& item, int position,
                         double propensity, bool clicked, std::int64_t ts) {
  store::StoredFeedback f;
  f.request_id = request;
  f.user = user;
  f.item = item;
  f.position = position;
  f.propensity = propensity;
  f.clicked = clicked;
  f.ts = ts;
  return f;
}

TEST(FeedbackSessions, RequestsBecomeStepsWithTheStoredHistoryBeforeThem) {
  // A model directory over items i1..i6 (any model: only its id maps matter here).
  data::SynthOptions so;
  so.users = 30;
  so.items = 6;
  so.categories = 2;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  models::LoadedModel m;
  m.model = models::create_model("pop", {});
  m.model->fit(ds, {});
  m.items = ds.items;
  m.users = ds.users;
  m.behaviors = ds.behaviors;
  auto store = store::open_event_store("memory://");
  store->append({logged_event("alice", "i1", 100), logged_event("alice", "i2", 110), logged_event("bob", "i3", 500)});
  // r1 (two shown items, the second clicked), r2 ten seconds later (first clicked), r3 after a
  // gap of more than the session gap; r0 for carol, who has no events (a cold start); r4 for bob
  // shows an item the model does not know.
  store->append_feedback({fb("r1", "alice", "i3", 0, 0.5, false, 120), fb("r1", "alice", "i4", 1, 0.2, true, 121)},
                         {logged_event("alice", "i4", 121)});
  store->append_feedback({fb("r2", "alice", "i5", 0, 0.4, true, 131)}, {logged_event("alice", "i5", 131)});
  store->append_feedback({fb("r3", "alice", "i1", 0, 0.3, true, 5000)}, {});
  store->append_feedback({fb("r0", "carol", "i2", 0, 0.6, true, 200)}, {});
  store->append_feedback({fb("r4", "bob", "nope", 0, 0.6, true, 600), fb("r4", "bob", "i6", 1, 0.1, false, 600)}, {});
  const auto s = feedback_sessions(*store, m, 1800, 200);
  EXPECT_EQ(s.skipped_items, 1u);
  EXPECT_EQ(s.cold_requests, 1u);
  EXPECT_EQ(s.requests, 4u);         // r1, r2, r3, r4
  ASSERT_EQ(s.sessions.size(), 3u);  // alice twice (split by the gap), bob once; users in name order
  const auto& a1 = s.sessions[0];
  EXPECT_EQ(a1.user, ds.users.find("alice"));
  ASSERT_EQ(a1.steps.size(), 2u);
  const auto item = [&](const char* id) { return ds.items.find(id); };
  ASSERT_EQ(a1.steps[0].history.size(), 2u);
  EXPECT_EQ(a1.steps[0].history[1].item, item("i2"));
  EXPECT_EQ(a1.steps[0].items, (std::vector<std::int32_t>{item("i3"), item("i4")}));
  EXPECT_EQ(a1.steps[0].beta, (std::vector<double>{0.5, 0.2}));
  EXPECT_EQ(a1.steps[0].clicks, (std::vector<float>{0, 1}));
  ASSERT_EQ(a1.steps[1].history.size(), 3u);  // the click of r1 is an event before r2
  EXPECT_EQ(a1.steps[1].history[2].item, item("i4"));
  ASSERT_EQ(s.sessions[1].steps.size(), 1u);
  EXPECT_EQ(s.sessions[1].steps[0].history.size(), 4u);
  EXPECT_EQ(s.sessions[2].user, ds.users.find("bob"));
  // Returns with discount 0.5: r1's click 1 + 0.5 (r2's click); r2's and r3's 1.
  const auto actions = rl::actions_from_sessions(s.sessions, 0.5);
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0].item, item("i4"));
  EXPECT_DOUBLE_EQ(actions[0].reward, 1.5);
  EXPECT_DOUBLE_EQ(actions[0].beta, 0.2);
  EXPECT_DOUBLE_EQ(actions[1].reward, 1.0);
  EXPECT_DOUBLE_EQ(actions[2].reward, 1.0);
  EXPECT_THROW(feedback_sessions(*store, m, 0, 200), InvalidInput);
}

}  // namespace
}  // namespace driftrec::serve
