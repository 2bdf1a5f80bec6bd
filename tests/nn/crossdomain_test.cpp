// The cross-domain model: per-domain states against a reference that runs each domain's encoder
// on that domain's events alone, fusion causality, transfer from one domain to the other, and the
// domain-aware data options (target domains, kept domains, candidate items).
#include <gtest/gtest.h>

#include "../../src/nn/seqnets.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/evaluation.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

namespace {

// Items 1..6 are domain 0, items 7..12 domain 1.
std::shared_ptr<nn::CrossDomainNet> small_net(const std::string& fusion, const std::string& encoder) {
  nn::SideInfo side;
  side.n_items = 13;
  std::vector<int64_t> dom(13, 0);
  for (int i = 7; i < 13; ++i) dom[static_cast<std::size_t>(i)] = 1;
  nn::SideInfo tiny;
  tiny.n_items = 2;
  auto make = [&]() -> std::shared_ptr<nn::SeqEncoder> {
    if (encoder == "gru4rec") return std::make_shared<nn::Gru4RecNet>(tiny, 8, 8, 1, false, 0.0);
    return std::make_shared<nn::HstuNet>(tiny, 8, 10, 1, 1, false, 0.0);
  };
  auto net = std::make_shared<nn::CrossDomainNet>(side, 8, 2, torch::tensor(dom, torch::kLong), make, fusion, 16, 0.0);
  net->eval();
  return net;
}

}  // namespace

TEST(CrossDomainNet, DomainStatesMatchEachEncoderOnItsOwnEvents) {
  torch::manual_seed(3);
  for (const std::string encoder : {"hstu", "gru4rec"}) {
    auto net = small_net("attention", encoder);
    torch::NoGradGuard g;
    auto items = torch::tensor({{0, 0, 3, 8, 9, 2, 11, 4}, {7, 1, 2, 8, 3, 12, 5, 6}}, torch::kLong);
    torch::Tensor available;
    auto states = net->domain_states(nn::items_only(items), &available);  // [B, L, 2, d]
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t t = 0; t < 8; ++t) {
        for (int64_t k = 0; k < 2; ++k) {
          std::vector<int64_t> own;  // domain-k events up to t
          for (int64_t p = 0; p <= t; ++p) {
            const auto it = items[b][p].item<int64_t>();
            if (it != 0 && (it >= 7) == (k == 1)) own.push_back(it);
          }
          const auto s = states[b][t][k];
          if (own.empty()) {
            EXPECT_FALSE(available[b][t][k].item<bool>());
            EXPECT_TRUE(torch::allclose(s, net->empty[k], 1e-6, 1e-6));
          } else {
            EXPECT_TRUE(available[b][t][k].item<bool>());
            const auto n = static_cast<int64_t>(own.size());
            auto ref = net->encoders[static_cast<std::size_t>(k)]->forward(
                nn::items_only(torch::tensor(own, torch::kLong).view({1, n})));
            EXPECT_TRUE(torch::allclose(s, ref[0][n - 1], 1e-5, 1e-5))
                << encoder << " b=" << b << " t=" << t << " k=" << k;
          }
        }
      }
    }
  }
}

TEST(CrossDomainNet, FusionIsCausalAndAttentionWeightsSumToOne) {
  torch::manual_seed(4);
  for (const std::string fusion : {"concat", "attention"}) {
    auto net = small_net(fusion, "hstu");
    torch::NoGradGuard g;
    auto a = torch::tensor({{0, 3, 8, 9, 2, 11, 4}}, torch::kLong);
    auto b = a.clone();
    b[0][6] = 12;
    auto ha = net->forward(nn::items_only(a)), hb = net->forward(nn::items_only(b));
    EXPECT_EQ(ha.size(2), 16);  // two queries of 8
    EXPECT_TRUE(torch::allclose(ha[0].slice(0, 1, 6), hb[0].slice(0, 1, 6), 1e-5, 1e-6)) << fusion;
    EXPECT_FALSE(torch::allclose(ha[0][6], hb[0][6], 1e-3, 1e-3)) << fusion;
    if (fusion == "attention") {
      net->forward(nn::items_only(a));
      auto w = net->last_weights;  // [1, L, 2, 2]
      EXPECT_TRUE(torch::allclose(w.sum(-1), torch::ones({1, 7, 2}), 1e-5, 1e-5));
      // At position 1 only domain 0 has an event: domain 1's query may still use itself (its
      // empty state) and domain 0, domain 0's query only domain 0.
      EXPECT_NEAR(w[0][1][0][1].item<float>(), 0.0f, 1e-6);
    }
  }
}

namespace {

// Users view shop items of one "taste" k (items s<k>_<j>), then like the social item x<k> that
// matches it. Half of the users also have a few unrelated social likes first. Every fifth user's
// like is held out (`held_out`: user and taste).
data::Dataset transfer_data(std::vector<std::pair<std::string, int>>* held_out) {
  data::DatasetBuilder b;
  Rng rng(9);
  for (int u = 0; u < 600; ++u) {
    const std::string user = "u" + std::to_string(u);
    const int k = static_cast<int>(rng.uniform_int(6));
    std::int64_t t = 0;
    if (u % 2 == 0)
      for (int j = 0; j < 2; ++j)
        b.add(user, "noise" + std::to_string(rng.uniform_int(20)), t++, "like", 1.0f, "social");
    for (int j = 0; j < 4; ++j)
      b.add(user, "s" + std::to_string(k) + "_" + std::to_string(rng.uniform_int(10)), t++, "view", 1.0f, "shop");
    if (u % 5 == 4) {
      held_out->emplace_back(user, k);
    } else {
      b.add(user, "x" + std::to_string(k), t++, "like", 1.0f, "social");
    }
  }
  return b.finish();
}

// Share of held-out users whose top social item is the one matching their taste.
double top1_hits(const models::Model& m, const data::Dataset& ds,
                 const std::vector<std::pair<std::string, int>>& held_out) {
  models::RecommendOptions ro;
  const auto social = data::domain_items(ds, {"social"});
  for (std::int32_t i = 1; i < m.n_items(); ++i)
    if (social[static_cast<std::size_t>(i)]) ro.candidates.push_back(i);
  int hits = 0;
  for (const auto& [user, k] : held_out) {
    const auto u = ds.users.find(user);
    const auto h = u < 0 ? std::vector<data::Event>{} : models::user_history(ds, u);
    const auto top = m.recommend(m.encode(u, h), 1, ro);
    hits += !top.items.empty() && top.items[0] == ds.items.find("x" + std::to_string(k));
  }
  return static_cast<double>(hits) / static_cast<double>(held_out.size());
}

nlohmann::json transfer_config() {
  return {{"dim", 16},         {"max_len", 10},  {"layers", 1}, {"epochs", 30},     {"eval_every", 0},
          {"loss", "softmax"}, {"dropout", 0.0}, {"lr", 0.01},  {"warmup_steps", 0}};
}

}  // namespace

TEST(CrossDomainModel, TransfersInterestFromOneDomainToTheOther) {
  nn::register_neural_models();
  std::vector<std::pair<std::string, int>> held_out;
  const auto ds = transfer_data(&held_out);
  models::FitOptions fo;
  fo.threads = 1;
  for (const std::string fusion : {"concat", "attention"}) {
    for (const std::string encoder : {"hstu", "gru4rec"}) {
      auto c = transfer_config();
      c["fusion"] = fusion;
      c["encoder"] = encoder;
      auto m = models::create_model("crossdomain", c);
      m->fit(ds, fo);
      EXPECT_GT(top1_hits(*m, ds, held_out), 0.8) << fusion << " " << encoder;
    }
  }
  // Trained on the social domain alone, a sequence model cannot know the user's taste: at best
  // it guesses the most liked x.
  const auto social = data::keep_domains(ds, {"social"});
  auto single = models::create_model("sasrec", transfer_config());
  single->fit(social, fo);
  EXPECT_LT(top1_hits(*single, social, held_out), 0.4);
}

TEST(CrossDomainModel, NeedsTwoDomains) {
  nn::register_neural_models();
  data::DatasetBuilder b;
  for (int u = 0; u < 5; ++u)
    for (int j = 0; j < 3; ++j) b.add("u" + std::to_string(u), "i" + std::to_string(j), j);
  const auto ds = b.finish();
  auto m = models::create_model("crossdomain", {{"epochs", 1}});
  EXPECT_TRUE(test::throws_with<InvalidInput>([&] { m->fit(ds, {}); }, "needs two or more (a domain column)"));
}

TEST(DomainOptions, TargetDomainsKeptDomainsAndCandidates) {
  data::DatasetBuilder b;
  for (int u = 0; u < 4; ++u) {
    const std::string user = "u" + std::to_string(u);
    b.add(user, "a", 0, "view", 1.0f, "shop");
    b.add(user, "x", 1, "like", 1.0f, "social");
    b.add(user, "b", 2, "view", 1.0f, "shop");
    b.add(user, "y", 3, "like", 1.0f, "social");
    b.add(user, "c", 4, "view", 1.0f, "shop");
    b.add(user, "z", 5, "like", 1.0f, "social");
    b.add(user, "d", 6, "view", 1.0f, "shop");
  }
  const auto ds = b.finish();
  data::SplitOptions so;
  so.target_domains = {"social"};
  const auto s = data::leave_one_out(ds, so);
  ASSERT_EQ(s.test.size(), 4u);
  EXPECT_EQ(s.test[0].targets, std::vector<std::int32_t>{ds.items.find("z")});
  EXPECT_EQ(s.valid[0].targets, std::vector<std::int32_t>{ds.items.find("y")});
  EXPECT_EQ(s.train.log.user_length(s.test[0].user), 3);  // a, x, b: everything before the validation target
  const auto mask = data::domain_items(ds, {"social"});
  EXPECT_TRUE(mask[static_cast<std::size_t>(ds.items.find("x"))]);
  EXPECT_FALSE(mask[static_cast<std::size_t>(ds.items.find("a"))]);
  const auto shop = data::keep_domains(ds, {"shop"});
  EXPECT_EQ(shop.log.size(), 16u);
  EXPECT_EQ(shop.items.find("x"), -1);
  EXPECT_TRUE(test::throws_with<NotFound>([&] { data::domain_items(ds, {"news"}); },
                                          "domain 'news' does not occur in the data (present: shop, social)"));
  // The evaluator ranks only the candidate items.
  eval::EvalOptions eo;
  eo.candidates = mask;
  eo.threads = 1;
  eo.exclude_seen = false;
  std::vector<data::EvalCase> cases = s.test;
  const auto n = static_cast<std::size_t>(ds.n_items());
  const auto res = eval::evaluate(
      ds, cases, static_cast<std::int32_t>(n), data::item_counts(ds.log, static_cast<std::int32_t>(n)), ds.n_users(),
      [&](const data::EvalCase* const*, std::size_t m, float* out) {
        for (std::size_t r = 0; r < m; ++r)
          for (std::size_t i = 1; i < n; ++i)
            out[r * n + i] = ds.items.name(static_cast<std::int32_t>(i)) == "z" ? 0.5f : 1.0f;
      },
      eo);
  // z is ranked third of the three social items (x, y score higher), though shop items score higher too.
  EXPECT_NEAR(res.metrics.at("mrr"), 1.0 / 3.0, 1e-9);
}
