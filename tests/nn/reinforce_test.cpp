// Off-policy-corrected REINFORCE fine-tuning of a sequential model (src/nn/reinforce.cpp): it
// raises the probability of rewarded items, in proportion to the importance weight, is
// deterministic, and refuses what it cannot learn from.
#include "driftrec/rl/reinforce.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "driftrec/nn/sequential.h"
#include "driftrec/serve/feedback_learning.h"
#include "driftrec/store/event_store.h"

using namespace driftrec;

namespace {

const data::Dataset& dataset() {
  static const data::Dataset ds = [] {
    data::SynthOptions so;
    so.users = 120;
    so.items = 300;
    so.seed = 4;
    return data::to_dataset(data::generate_synthetic(so));
  }();
  return ds;
}

std::unique_ptr<models::Model> fitted(const nlohmann::json& extra = nlohmann::json::object()) {
  nn::register_neural_models();
  nlohmann::json c = {{"dim", 16},       {"layers", 1},       {"max_len", 20},     {"epochs", 2},
                      {"eval_every", 0}, {"loss", "softmax"}, {"warmup_steps", 0}, {"lr", 0.005}};
  c.update(extra);
  auto m = models::create_model("sasrec", c);
  models::FitOptions fo;
  fo.threads = 1;
  fo.seed = 3;
  m->fit(dataset(), fo);
  return m;
}

/// The user's last (at most) 8 events.
std::vector<data::Event> history(std::int32_t u) {
  const auto& log = dataset().log;
  const auto end = log.user_begin(u + 1);
  return log.events(std::max(log.user_begin(u), end - 8), end);
}

/// log pi(item | state) under the model's softmax over the items not in the history.
double log_pi(const models::Model& m, const std::vector<data::Event>& h, std::int32_t item) {
  const auto s = m.encode(1, h);
  std::vector<float> sc(static_cast<std::size_t>(m.n_items()));
  m.score(s, sc.data());
  sc[0] = -std::numeric_limits<float>::infinity();
  for (const auto& e : h)
    if (e.item != item) sc[static_cast<std::size_t>(e.item)] = -std::numeric_limits<float>::infinity();
  double mx = -1e30, z = 0;
  for (float x : sc) mx = std::max(mx, static_cast<double>(x));
  for (float x : sc) z += std::isinf(x) ? 0.0 : std::exp(x - mx);
  return sc[static_cast<std::size_t>(item)] - mx - std::log(z);
}

/// Two items no state below has seen, each clicked once per state: a with the logger's
/// probability 0.5, b with 0.01 (b is the item the logger rarely showed first).
struct Setup {
  std::vector<std::vector<data::Event>> states;
  std::int32_t a = 0, b = 0, c = 0;
  std::vector<rl::LoggedAction> actions;
};

Setup setup() {
  Setup s;
  for (std::int32_t u = 1; u <= 30; ++u) s.states.push_back(history(u));
  std::vector<char> seen(static_cast<std::size_t>(dataset().n_items()), 0);
  for (const auto& h : s.states)
    for (const auto& e : h) seen[static_cast<std::size_t>(e.item)] = 1;
  std::vector<std::int32_t> unseen;
  for (std::int32_t i = 1; i < dataset().n_items(); ++i)
    if (!seen[static_cast<std::size_t>(i)]) unseen.push_back(i);
  if (unseen.size() < 3) return s;
  s.a = unseen[0];
  s.b = unseen[1];
  s.c = unseen[2];
  for (std::size_t k = 0; k < s.states.size(); ++k) {
    s.actions.push_back({static_cast<std::int32_t>(k + 1), s.states[k], s.a, 0.5, 1.0});
    s.actions.push_back({static_cast<std::int32_t>(k + 1), s.states[k], s.b, 0.01, 1.0});
  }
  return s;
}

double mean_log_pi(const models::Model& m, const Setup& s, std::int32_t item) {
  double x = 0;
  for (const auto& h : s.states) x += log_pi(m, h, item);
  return x / static_cast<double>(s.states.size());
}

rl::ReinforceOptions options() {
  rl::ReinforceOptions o;
  o.epochs = 3;
  o.lr = 3e-3;
  o.batch_size = 16;
  o.cap = 1000;
  o.top_k = 1;
  o.threads = 1;
  o.seed = 5;
  return o;
}

}  // namespace

TEST(Reinforce, RaisesRewardedItemsInProportionToTheirImportanceWeight) {
  auto m = fitted();
  const auto s = setup();
  ASSERT_FALSE(s.actions.empty()) << "the test data needs three items outside the states";
  const double a0 = mean_log_pi(*m, s, s.a), b0 = mean_log_pi(*m, s, s.b), c0 = mean_log_pi(*m, s, s.c);
  auto& learner = dynamic_cast<rl::PolicyGradientLearner&>(*m);
  std::vector<rl::ReinforceEpoch> seen;
  const auto epochs = learner.reinforce(s.actions, options(), [&](const rl::ReinforceEpoch& e) { seen.push_back(e); });
  ASSERT_EQ(epochs.size(), 3u);
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& e : epochs) {
    EXPECT_TRUE(std::isfinite(e.loss));
    EXPECT_GT(e.mean_weight, 0.0);
    EXPECT_GE(e.capped, 0.0);
    EXPECT_LE(e.capped, 1.0);
  }
  const double a1 = mean_log_pi(*m, s, s.a), b1 = mean_log_pi(*m, s, s.b), c1 = mean_log_pi(*m, s, s.c);
  // Both rewarded items rise; the one the logger rarely drew first carries 50 times the weight
  // (pi / 0.01 against pi / 0.5) and rises more; the unrewarded item loses probability mass.
  EXPECT_GT(b1 - b0, 0.5) << "b " << b0 << " -> " << b1;
  EXPECT_GT(b1 - b0, (a1 - a0) + 0.3) << "a " << a0 << " -> " << a1 << ", b " << b0 << " -> " << b1;
  EXPECT_LT(c1 - c0, b1 - b0);
  EXPECT_LT(c1 - c0, 0.0) << "c " << c0 << " -> " << c1;
}

TEST(Reinforce, SameSeedSameFineTunedModel) {
  const auto s = setup();
  ASSERT_FALSE(s.actions.empty());
  auto x = fitted(), y = fitted();
  auto o = options();
  o.epochs = 1;
  dynamic_cast<rl::PolicyGradientLearner&>(*x).reinforce(s.actions, o);
  dynamic_cast<rl::PolicyGradientLearner&>(*y).reinforce(s.actions, o);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_EQ(log_pi(*x, s.states[k], s.b), log_pi(*y, s.states[k], s.b));
}

TEST(Reinforce, RefusesWhatItCannotLearnFrom) {
  nn::register_neural_models();
  const auto s = setup();
  ASSERT_FALSE(s.actions.empty());
  auto fresh = models::create_model("sasrec", {{"dim", 16}});
  EXPECT_THROW(dynamic_cast<rl::PolicyGradientLearner&>(*fresh).reinforce(s.actions, options()), InvalidInput);
  auto m = fitted();
  auto& learner = dynamic_cast<rl::PolicyGradientLearner&>(*m);
  EXPECT_THROW(learner.reinforce({}, options()), InvalidInput);
  auto bad = [&](auto edit) {
    auto a = s.actions;
    edit(a[3]);
    EXPECT_THROW(learner.reinforce(a, options()), InvalidInput);
  };
  bad([](rl::LoggedAction& a) { a.item = 0; });
  bad([&](rl::LoggedAction& a) { a.item = m->n_items(); });
  bad([](rl::LoggedAction& a) { a.beta = 0; });
  bad([](rl::LoggedAction& a) { a.beta = 1.5; });
  bad([](rl::LoggedAction& a) { a.reward = std::nan(""); });
  bad([](rl::LoggedAction& a) { a.history.clear(); });
  auto o = options();
  o.cap = 0;
  EXPECT_THROW(learner.reinforce(s.actions, o), InvalidInput);
  auto rep = fitted({{"repeat", true}});
  EXPECT_THROW(dynamic_cast<rl::PolicyGradientLearner&>(*rep).reinforce(s.actions, options()), InvalidInput);
}

TEST(Reinforce, LearnsFromTheServersFeedbackIntoANewModelDirectory) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("driftrec_rl_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto m = fitted();
  models::save_model_dir((dir / "base").string(), *m, dataset());
  // Users 1..20 each saw a slate after their stored history and clicked its second item.
  auto store = store::open_event_store("memory://");
  const auto& ds = dataset();
  const auto s = setup();
  ASSERT_FALSE(s.actions.empty());
  for (std::int32_t u = 1; u <= 20; ++u) {
    std::vector<store::StoredEvent> events;
    for (const auto& e : history(u)) events.push_back({0, ds.users.name(u), ds.items.name(e.item), e.ts, "", 1.0f, ""});
    store->append(events);
    const std::int64_t ts = events.back().ts + 10;
    const std::string req = "r" + std::to_string(u);
    store->append_feedback(
        {{0, req, ds.users.name(u), ds.items.name(s.a), 0, 0.5, "boltzmann", false, false, 0, ts, "", {}},
         {0, req, ds.users.name(u), ds.items.name(s.b), 1, 0.01, "boltzmann", true, false, 0, ts, "", {}}},
        {{0, ds.users.name(u), ds.items.name(s.b), ts, "", 1.0f, ""}});
  }
  serve::FeedbackLearningOptions o;
  o.train = options();
  std::vector<int> epochs;
  const auto r = serve::reinforce_from_feedback(*store, (dir / "base").string(), (dir / "tuned").string(), o,
                                                [&](const rl::ReinforceEpoch& e) { epochs.push_back(e.epoch); });
  EXPECT_EQ(r.requests, 20u);
  EXPECT_EQ(r.clicks, 20u);
  EXPECT_EQ(r.actions, 20u);
  EXPECT_EQ(epochs, (std::vector<int>{1, 2, 3}));
  const auto tuned = models::load_model_dir((dir / "tuned").string());  // checksums verified on load
  EXPECT_EQ(tuned.meta["reinforce"]["actions"], 20);
  EXPECT_EQ(tuned.meta["model"], "sasrec");
  EXPECT_EQ(tuned.items.size(), ds.items.size());
  // The clicked item rose in the states it was clicked in; the base directory is unchanged.
  const auto base = models::load_model_dir((dir / "base").string());
  double before = 0, after = 0;
  for (std::int32_t u = 1; u <= 20; ++u) {
    before += log_pi(*base.model, history(u), s.b);
    after += log_pi(*tuned.model, history(u), s.b);
  }
  EXPECT_GT(after, before + 5.0) << before / 20 << " -> " << after / 20;
  // A model that is not a policy is refused with its directory named.
  auto pop = models::create_model("pop", {});
  pop->fit(ds, {});
  models::save_model_dir((dir / "pop").string(), *pop, ds);
  EXPECT_THROW(serve::reinforce_from_feedback(*store, (dir / "pop").string(), (dir / "x").string(), o), InvalidInput);
  fs::remove_all(dir);
}
