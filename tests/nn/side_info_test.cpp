// Side information switches at the model level, and occlusion explanations.
#include <gtest/gtest.h>

#include "../../src/nn/batches.h"
#include "../../src/nn/side_tables.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "driftrec/nn/sequential.h"

using namespace driftrec;

namespace {

const data::Prepared& shop() {
  static const data::Prepared p = [] {
    data::SynthOptions so;
    so.users = 120;
    so.items = 100;
    so.seed = 11;
    data::PrepareOptions po;
    return data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  }();
  return p;
}

nlohmann::json base(const std::string& kind = "sasrec") {
  nlohmann::json c = {{"dim", 16},         {"max_len", 20},  {"epochs", 3}, {"eval_every", 0},
                      {"loss", "softmax"}, {"dropout", 0.1}, {"lr", 0.005}, {"warmup_steps", 0}};
  if (kind == "sasrec" || kind == "hstu") c["layers"] = 1;
  return c;
}

/// A sasrec model fitted on `train` with `cfg`, one thread.
std::unique_ptr<models::Model> fitted_sasrec(const nlohmann::json& cfg, const data::Dataset& train) {
  nn::register_neural_models();
  auto m = models::create_model("sasrec", cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(train, fo);
  return m;
}

/// Users u0..u9 view p and q, then buy q (a repeat) when even and r (new) when odd; u10 only views.
data::Dataset users_coming_back() {
  data::DatasetBuilder b;
  for (int u = 0; u < 10; ++u) {
    const std::string user = "u" + std::to_string(u);
    b.add(user, "p", 0, "view");
    b.add(user, "q", 1, "view");
    b.add(user, u % 2 == 0 ? "q" : "r", 2, "buy");
  }
  b.add("u10", "s", 0, "view");
  return b.finish();
}

/// A private fit (dp_epsilon 1) of sasrec with `key` set to auto refuses, naming why.
void expect_private_fit_refuses_auto(const std::string& key, const data::Dataset& train, const std::string& why) {
  auto priv = base();
  priv[key] = "auto";
  priv["dp_epsilon"] = 1.0;
  nn::register_neural_models();
  EXPECT_TRUE(test::throws_with<InvalidInput>([&] { models::create_model("sasrec", priv)->fit(train, {}); }, why));
}

std::vector<float> scores_after_fit(const std::string& kind, const nlohmann::json& cfg, const data::Dataset& train,
                                    const std::vector<data::Event>& h) {
  nn::register_neural_models();
  auto m = models::create_model(kind, cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(train, fo);
  std::vector<float> out(static_cast<std::size_t>(m->n_items()));
  m->score(m->encode(-1, h), out.data());
  return out;
}

}  // namespace

TEST(SideInformation, EachSwitchChangesTheModel) {
  const auto& p = shop();
  ASSERT_GT(p.full.behaviors.size(), 2u);  // view, cart, buy... in the ecommerce preset
  ASSERT_TRUE(p.full.item_table.has_categories());
  const auto h = models::user_history(p.split.train, 3);
  const auto plain = scores_after_fit("sasrec", base(), p.split.train, h);
  EXPECT_EQ(plain, scores_after_fit("sasrec", base(), p.split.train, h));  // deterministic baseline
  for (const std::string sw : {"behavior_embedding", "time_gaps", "attributes", "request_time"}) {
    auto cfg = base();
    cfg[sw] = true;
    EXPECT_NE(plain, scores_after_fit("sasrec", cfg, p.split.train, h)) << sw;
  }
  auto no_time = base();
  no_time["time_bias"] = false;
  EXPECT_NE(scores_after_fit("hstu", base(), p.split.train, h), scores_after_fit("hstu", no_time, p.split.train, h));
}

TEST(SideInformation, TimeFeaturesAreOffWithoutAClock) {
  // A sequence file has positions, not times: time_gaps falls back to off (with a warning), so the
  // model equals the plain one.
  data::DatasetBuilder b;
  for (int u = 0; u < 30; ++u)
    for (int t = 0; t < 8; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((u * 5 + t * 3) % 25), t);
  auto ds = b.finish();
  ds.has_clock = false;
  const auto h = models::user_history(ds, 2);
  auto gaps = base();
  gaps["time_gaps"] = true;
  EXPECT_EQ(scores_after_fit("sasrec", base(), ds, h), scores_after_fit("sasrec", gaps, ds, h));
  auto hstu_no_time = base();
  hstu_no_time["time_bias"] = false;
  EXPECT_EQ(scores_after_fit("hstu", base(), ds, h), scores_after_fit("hstu", hstu_no_time, ds, h));
}

TEST(SideInformation, SaveLoadKeepsTheSideTables) {
  nn::register_neural_models();
  const auto& p = shop();
  for (const std::string kind : {"sasrec", "gru4rec", "caser", "hstu"}) {
    auto cfg = base(kind);
    cfg["behavior_embedding"] = true;
    cfg["time_gaps"] = true;
    cfg["attributes"] = true;
    cfg["request_time"] = true;
    auto m = models::create_model(kind, cfg);
    models::FitOptions fo;
    fo.threads = 1;
    m->fit(p.split.train, fo);
    test::TempDir dir;
    models::save_model_dir(dir.file("m"), *m, p.split.train);
    const auto loaded = models::load_model_dir(dir.file("m"));
    const auto h = models::user_history(p.split.train, 5);
    std::vector<float> a(static_cast<std::size_t>(m->n_items())), b(a.size());
    m->score(m->encode(-1, h), a.data());
    loaded.model->score(loaded.model->encode(-1, h), b.data());
    EXPECT_EQ(a, b) << kind;
    auto asked = m->encode(-1, h);  // asked for a day after the last event
    asked.now = h.back().ts + 86400;
    m->score(asked, a.data());
    loaded.model->score(asked, b.data());
    EXPECT_EQ(a, b) << kind;
  }
}

TEST(Explain, OcclusionWeightsAreScoreDropsWhenAnEventIsRemoved) {
  const auto& p = shop();
  for (const std::string kind : {"gru4rec", "caser"}) {
    nn::register_neural_models();
    auto m = models::create_model(kind, base(kind));
    models::FitOptions fo;
    fo.threads = 1;
    m->fit(p.split.train, fo);
    auto h = models::user_history(p.split.train, 7);
    h.resize(std::min<std::size_t>(h.size(), 8));
    ASSERT_GE(h.size(), 6u);
    const auto s = m->encode(-1, h);
    const auto item = m->recommend(s, 1).items[0];
    std::vector<float> full(static_cast<std::size_t>(m->n_items())), without(full.size());
    m->score(s, full.data());
    for (const auto& a : m->explain(s, item)) {
      auto shorter = h;
      shorter.erase(shorter.begin() + static_cast<std::ptrdiff_t>(a.position));
      m->score(m->encode(-1, shorter), without.data());
      EXPECT_NEAR(a.weight, full[static_cast<std::size_t>(item)] - without[static_cast<std::size_t>(item)], 1e-4)
          << kind;
      if (kind == "caser" && a.position + 5 < h.size()) {
        EXPECT_NEAR(a.weight, 0.0f, 1e-5);  // outside the window
      }
    }
  }
}

TEST(TargetBehaviors, OnlyTheChosenBehavioursAreLearnedAsTargets) {
  // After (a, x) the next event is always the view y; after (c, x) it is the buy z.
  data::DatasetBuilder b;
  for (int u = 0; u < 60; ++u) {
    const std::string user = "u" + std::to_string(u);
    const bool buyer = u % 2 == 1;
    b.add(user, buyer ? "c" : "a", 0, "view");
    b.add(user, "x", 1, "view");
    b.add(user, buyer ? "z" : "y", 2, buyer ? "buy" : "view");
  }
  const auto ds = b.finish();
  const auto x = ds.items.find("x"), y = ds.items.find("y"), z = ds.items.find("z");
  auto top_after_x = [&](const std::string& targets, const data::Dataset& train) {
    auto cfg = base();
    cfg["epochs"] = 40;
    cfg["dropout"] = 0.0;
    cfg["lr"] = 0.01;
    cfg["behavior_embedding"] = true;
    cfg["target_behaviors"] = targets;
    const auto m = fitted_sasrec(cfg, train);
    models::RecommendOptions ro;
    ro.exclude_seen = false;
    const std::vector<data::Event> h = {
        {-1, ds.items.find("a"), 0, static_cast<std::int16_t>(ds.behaviors.find("view")), 0, 1.0f},
        {-1, x, 1, static_cast<std::int16_t>(ds.behaviors.find("view")), 0, 1.0f}};
    return m->recommend(m->encode(-1, h), 1, ro).items[0];
  };
  EXPECT_EQ(top_after_x("", ds), y);
  EXPECT_EQ(top_after_x("buy", ds), z);
  // Left empty, the targets are the split's (--targets buy), as the evaluator counts them.
  auto split_buys = ds;
  split_buys.target_behaviors = {"buy"};
  EXPECT_EQ(top_after_x("", split_buys), z);
  nn::register_neural_models();
  auto bad = base();
  bad["target_behaviors"] = "purchase";
  auto m = models::create_model("sasrec", bad);
  EXPECT_TRUE(test::throws_with<InvalidInput>([&] { m->fit(ds, {}); }, "'purchase' is not in the data (known: "));
}

TEST(RepeatHead, LearnsToBuyWhatWasCartedEarlier) {
  // Every user views a random item, carts one, views two more and then buys the carted item. Items
  // are drawn from 3000 (most seen once, as on Taobao), so only a copy of the history can predict the buy. The last 100
  // users' buys are held out.
  data::DatasetBuilder b;
  Rng rng(5);
  std::vector<std::pair<std::string, std::string>> held_out;  // user, carted item
  for (int u = 0; u < 500; ++u) {
    const std::string user = "u" + std::to_string(u);
    auto item = [&] { return "i" + std::to_string(rng.uniform_int(3000)); };
    const std::string carted = item();
    b.add(user, item(), 0, "view");
    b.add(user, carted, 1, "cart");
    b.add(user, item(), 2, "view");
    b.add(user, item(), 3, "view");
    if (u < 400) {
      b.add(user, carted, 4, "buy");
    } else {
      held_out.emplace_back(user, carted);
    }
  }
  b.add("extra", "i0", 0, "buy");  // "buy" must exist as a behaviour either way
  const auto ds = b.finish();
  auto hits = [&](bool repeat, const std::string& loss) {
    auto cfg = base();
    cfg["epochs"] = 20;
    cfg["batch_size"] = 32;
    cfg["lr"] = 0.01;
    cfg["loss"] = loss;
    cfg["negatives"] = 64;
    cfg["repeat"] = repeat;
    cfg["target_behaviors"] = "buy";
    const auto m = fitted_sasrec(cfg, ds);
    int dim = 0;
    EXPECT_EQ(m->item_embeddings(&dim) == nullptr, repeat);
    int hit = 0;
    for (const auto& [user, carted] : held_out) {
      const auto u = ds.users.find(user);
      models::RecommendOptions ro;
      ro.exclude_seen = false;
      hit += m->recommend(m->encode(u, models::user_history(ds, u)), 1, ro).items[0] == ds.items.find(carted);
    }
    return static_cast<double>(hit) / static_cast<double>(held_out.size());
  };
  EXPECT_GT(hits(true, "sampled"), 0.9);
  EXPECT_GT(hits(true, "softmax"), 0.9);
  EXPECT_GT(hits(true, "bce"), 0.9);
  EXPECT_LT(hits(false, "sampled"), 0.5);
}

TEST(RepeatHead, AutoIsOnWhereUsersComeBackToItems) {
  const auto ds = users_coming_back();
  std::vector<char> buys(ds.behaviors.size(), 0), all(ds.behaviors.size(), 1);
  buys[static_cast<std::size_t>(ds.behaviors.find("buy"))] = 1;
  EXPECT_DOUBLE_EQ(nn::repeat_share(ds, buys), 0.5);        // 5 of 10 buys
  EXPECT_DOUBLE_EQ(nn::repeat_share(ds, all), 5.0 / 31.0);  // 31 events, the 5 repeated q's
  EXPECT_DOUBLE_EQ(nn::repeat_share(ds, std::vector<char>(ds.behaviors.size(), 0)), 0.0);
  auto resolved_repeat = [&](const data::Dataset& train) {
    auto cfg = base();
    cfg["epochs"] = 1;
    cfg["repeat"] = "auto";
    const auto m = fitted_sasrec(cfg, train);
    int dim = 0;
    EXPECT_EQ(m->item_embeddings(&dim) == nullptr, m->config()["repeat"] == "true");  // the head is built
    return m->config()["repeat"].get<std::string>();
  };
  EXPECT_EQ(resolved_repeat(ds), "true");
  data::DatasetBuilder once;  // nobody comes back
  for (int u = 0; u < 10; ++u)
    for (int t = 0; t < 3; ++t) once.add("u" + std::to_string(u), "i" + std::to_string(3 * u + t), t);
  EXPECT_EQ(resolved_repeat(once.finish()), "false");
  // A saved model's boolean (older files) still reads as the same switch.
  EXPECT_EQ(nn::SequentialModel::params("sasrec").resolve({{"repeat", true}})["repeat"], "true");
  // A private fit refuses to choose it from the data.
  expect_private_fit_refuses_auto("repeat", ds, "repeat auto would be chosen from how often");
}

TEST(SeenPenalty, AutoFollowsHowMuchOfTheCatalogueAWindowCovers) {
  auto resolved = [](const data::Dataset& train, const nlohmann::json& extra = nlohmann::json::object()) {
    auto cfg = base();
    cfg["epochs"] = 1;
    cfg["seen_penalty"] = "auto";
    cfg.update(extra);
    return fitted_sasrec(cfg, train)->config()["seen_penalty"].get<double>();
  };
  // 10 users with 12 distinct items each: training positions 2..12 see windows of 1..11 events
  // (max_len 20), 6 on average; nobody comes back to an item. `extra` more items, each viewed once
  // by a user of its own, only grow the catalogue.
  auto users = [](int extra) {
    data::DatasetBuilder b;
    for (int u = 0; u < 10; ++u)
      for (int t = 0; t < 12; ++t) b.add("u" + std::to_string(u), "i" + std::to_string((3 * u + t) % 30), t);
    for (int k = 30; k < 30 + extra; ++k) b.add("v" + std::to_string(k), "i" + std::to_string(k), 0);
    return b.finish();
  };
  const auto dense = users(0);
  EXPECT_EQ(resolved(dense), 2.0);        // 6 of 30 items: 20%
  EXPECT_EQ(resolved(users(570)), 2.0);   // 6 of 600: exactly 1%
  EXPECT_EQ(resolved(users(571)), 0.0);   // 6 of 601: under 1%
  EXPECT_EQ(resolved(users(2970)), 0.0);  // 6 of 3,000: 0.2%
  // Where users come back to items it stays off: 5 of 31 events repeat an item (16%), though a
  // window of 1.5 events covers 37.5% of the 4 items.
  EXPECT_EQ(resolved(users_coming_back()), 0.0);
  // exclude_seen already asks for the infinite penalty: auto adds none.
  EXPECT_EQ(resolved(dense, {{"exclude_seen", true}}), 0.0);
  // A number, given as a number or as text (--set, and the model files of the last version, which
  // held "2"), resolves to the number; other text and numbers out of [0, 1000] are refused by the
  // parameter's own check, which names it; an unresolved auto cannot train.
  const auto params = nn::SequentialModel::params("sasrec");
  EXPECT_EQ(nn::seen_penalty(params.resolve({{"seen_penalty", 1.5}})), 1.5);
  EXPECT_EQ(params.resolve({{"seen_penalty", "2"}})["seen_penalty"], 2.0);
  EXPECT_EQ(nn::seen_penalty(nlohmann::json{{"seen_penalty", 0.5}}), 0.5);
  EXPECT_EQ(nn::seen_penalty(params.resolve(nlohmann::json::object())), 0.0);
  EXPECT_EQ(params.resolve({{"seen_penalty", "auto"}})["seen_penalty"], "auto");
  auto refusal = [&](const nlohmann::json& value) {
    try {
      params.resolve({{"seen_penalty", value}});
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal("two").find("sasrec: parameter 'seen_penalty' must be a number or one of {auto}"),
            std::string::npos);
  EXPECT_NE(refusal("2x").find("parameter 'seen_penalty' must be a number"), std::string::npos);
  EXPECT_NE(refusal(-1).find("parameter 'seen_penalty' must be >= 0"), std::string::npos);
  EXPECT_NE(refusal(1001).find("parameter 'seen_penalty' must be <= 1000"), std::string::npos);
  EXPECT_THROW(nn::seen_penalty(params.resolve({{"seen_penalty", "auto"}})), InvalidInput);
  EXPECT_THROW(nn::seen_penalty(nlohmann::json{{"seen_penalty", "2"}}), InvalidInput);  // unresolved
  // A private fit refuses to choose it from the data.
  expect_private_fit_refuses_auto("seen_penalty", dense, "seen_penalty auto would be chosen");
}

TEST(MaxLen, AutoIsTheHistoryLengthPercentileWithinBounds) {
  EXPECT_EQ(nn::auto_max_len({}), 50);
  std::vector<int64_t> short_h(1000, 6);
  short_h[0] = 204;  // one long history does not move the 99th percentile
  EXPECT_EQ(nn::auto_max_len(short_h), 50);
  std::vector<int64_t> mid;
  for (int64_t k = 1; k <= 100; ++k) mid.push_back(k);  // p99 = 99 -> 100
  EXPECT_EQ(nn::auto_max_len(mid), 100);
  mid.back() = 101;  // p99 is still 99
  EXPECT_EQ(nn::auto_max_len(mid), 100);
  std::vector<int64_t> long_h(100, 448);
  EXPECT_EQ(nn::auto_max_len(long_h), 200);  // capped

  // max_len 0 is resolved at fit and saved resolved, so a loaded model rebuilds the same network.
  nn::register_neural_models();
  const auto& p = shop();
  auto cfg = base();
  cfg["max_len"] = 0;
  cfg["epochs"] = 1;
  auto m = models::create_model("sasrec", cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(p.split.train, fo);
  std::vector<int64_t> lengths;
  for (std::int32_t u = 1; u < p.split.train.n_users(); ++u)
    if (p.split.train.log.user_length(u) > 0) lengths.push_back(p.split.train.log.user_length(u));
  EXPECT_EQ(m->config()["max_len"].get<int64_t>(), nn::auto_max_len(lengths));
  test::TempDir dir;
  models::save_model_dir(dir.file("m"), *m, p.split.train);
  const auto loaded = models::load_model_dir(dir.file("m"));
  EXPECT_EQ(loaded.meta["config"]["max_len"], m->config()["max_len"]);
  const auto h = models::user_history(p.split.train, 5);
  std::vector<float> a(static_cast<std::size_t>(m->n_items())), b(a.size());
  m->score(m->encode(-1, h), a.data());
  loaded.model->score(loaded.model->encode(-1, h), b.data());
  EXPECT_EQ(a, b);
}

TEST(Threads, ValidationInsideFitKeepsTheTrainingThreads) {
  // Scoring for validation runs single-threaded BLAS on the training thread; the thread count must
  // come back, or every epoch after the first validation trains on one core.
  nn::register_neural_models();
  const auto& p = shop();
  auto cfg = base();
  cfg["epochs"] = 3;
  cfg["eval_every"] = 1;
  auto m = models::create_model("sasrec", cfg);
  models::FitOptions fo;
  fo.threads = 2;
  std::vector<int> after_validation;
  fo.progress = [&](const Progress& pr) {
    if (pr.message.find("valid=") != std::string::npos) after_validation.push_back(torch::get_num_threads());
  };
  models::fit_and_validate(*m, p.full, p.split, fo);
  ASSERT_EQ(after_validation.size(), 3u);
  for (int t : after_validation) EXPECT_EQ(t, 2);
}
