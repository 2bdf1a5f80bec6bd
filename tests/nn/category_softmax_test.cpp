// The class-factored output of the sequential models (`category_softmax`): score = log p(category |
// state) + log p(item | category, state), the within-category part starting from popularity.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../../src/nn/category_head.h"
#include "../unit/small_split.h"
#include "../unit/test_util.h"
#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"
#include "sequential_pieces.h"

using namespace driftrec;

namespace {

const test::SmallSplit& shop() {
  static const test::SmallSplit d(60, 40, 4, 5);
  return d;
}

nlohmann::json base() { return {{"dim", 8}, {"max_len", 12}, {"loss", "softmax"}, {"dropout", 0.0}}; }

/// gru4rec with category_softmax (and `extra`) fitted for two epochs on the shop.
std::unique_ptr<models::Model> fitted_gru4rec(const nlohmann::json& extra) {
  nn::register_neural_models();
  auto cfg = base();
  cfg["epochs"] = 2;
  cfg["eval_every"] = 0;
  cfg["category_softmax"] = true;
  for (const auto& [k, v] : extra.items()) cfg[k] = v;
  auto m = models::create_model("gru4rec", cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(shop().split.train, fo);
  return m;
}

/// The shop with every third item in a second category too (the next category after its first).
data::Dataset with_second_categories() {
  data::Dataset d = shop().split.train;
  auto& t = d.item_table;
  const auto n_categories = static_cast<std::int32_t>(t.categories.size());
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> ids;
  for (std::int32_t i = 0; i < d.n_items(); ++i) {
    for (auto k = t.category_offsets[static_cast<std::size_t>(i)];
         k < t.category_offsets[static_cast<std::size_t>(i) + 1]; ++k)
      ids.push_back(t.category_ids[static_cast<std::size_t>(k)]);
    if (i > 0 && i % 3 == 0) ids.push_back((t.primary_category(i) + 1) % n_categories);
    offsets.push_back(static_cast<std::int64_t>(ids.size()));
  }
  t.category_offsets = offsets;
  t.category_ids = ids;
  return d;
}

}  // namespace

TEST(CategorySoftmax, TheHeadIsLogPCategoryPlusLogPItemWithinIt) {
  // Items 1, 2, 3 in class 0, items 4, 5 in class 1; two states of width 3.
  torch::manual_seed(3);
  const auto item_class = torch::tensor({0, 0, 0, 0, 1, 1}, torch::kLong);
  const auto bias = torch::tensor({0.0f, 0.5f, -0.2f, 1.0f, 0.3f, 0.0f});
  nn::CategoryHead head(3, 2, item_class, bias);
  const auto h = torch::randn({2, 3}), z = torch::randn({2, 6});
  torch::NoGradGuard g;
  const auto got = head->log_probs(h, z);
  for (int64_t r = 0; r < 2; ++r) {
    // By hand: the category softmax over the two logits W h + b, then each item's softmax in its class.
    double c[2], total = 0;
    for (int64_t k = 0; k < 2; ++k) {
      c[k] = std::exp((head->classes->weight[k] * h[r]).sum().item<double>() + head->classes->bias[k].item<double>());
      total += c[k];
    }
    double within[2] = {0, 0};
    for (int64_t i = 1; i < 6; ++i)
      within[item_class[i].item<int64_t>()] += std::exp(z[r][i].item<double>() + bias[i].item<double>());
    double mass = 0;
    for (int64_t i = 1; i < 6; ++i) {
      const auto k = item_class[i].item<int64_t>();
      const double want =
          std::log(c[k] / total) + z[r][i].item<double>() + bias[i].item<double>() - std::log(within[k]);
      EXPECT_NEAR(got[r][i].item<double>(), want, 1e-5) << r << " " << i;
      mass += std::exp(got[r][i].item<double>());
    }
    EXPECT_NEAR(mass, 1.0, 1e-5);               // a distribution over the real items
    EXPECT_LT(got[r][0].item<float>(), -9e3f);  // the padding is out of it
  }
  // The training loss's path: one item per state, over its own class only.
  const auto picked = torch::tensor({4, 2}, torch::kLong);
  EXPECT_TRUE(
      torch::allclose(head->target_log_probs(h, z, picked), got.gather(1, picked.unsqueeze(1)).squeeze(1), 1e-5, 1e-6));
  // A masked padding column (the serving path's -inf) changes nothing.
  auto masked = z.clone();
  masked.select(1, 0).fill_(-INFINITY);
  EXPECT_TRUE(torch::allclose(head->log_probs(h, masked), got));
  // A category far below the best item keeps finite log-probabilities, still one distribution.
  auto spread = z.clone();
  spread.slice(1, 1, 4).add_(300.0);
  spread.slice(1, 4).sub_(300.0);
  const auto far = head->log_probs(h, spread);
  EXPECT_TRUE(torch::isfinite(far.slice(1, 1)).all().item<bool>());
  EXPECT_TRUE(torch::allclose(torch::logsumexp(far.slice(1, 1), 1), torch::zeros({2}), 1e-4, 1e-4))
      << torch::logsumexp(far.slice(1, 1), 1);
  // Within a class only differences count: the far class's items keep their conditional shares.
  EXPECT_NEAR((far[0][4] - far[0][5]).item<double>(), (got[0][4] - got[0][5]).item<double>(), 1e-3);
  // Gradients reach the category layer, the biases and the inner products.
  torch::GradMode::set_enabled(true);
  auto zg = z.clone().requires_grad_(true);
  (-head->log_probs(h, zg).select(1, 4).sum()).backward();
  EXPECT_GT(head->classes->weight.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(head->bias.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(zg.grad().abs().sum().item<double>(), 0);
  EXPECT_TRUE(torch::isfinite(zg.grad()).all().item<bool>());
}

TEST(CategorySoftmax, ClassesAreFirstCategoriesAndTheItemsStartFromTheirPopularity) {
  const auto& train = shop().split.train;
  test::SequentialPieces p(train, "gru4rec", base(), {{"category_softmax", true}}, 5);
  ASSERT_TRUE(p.m.net->category);
  const auto& t = train.item_table;
  const auto cls = p.m.net->category->item_class;
  std::map<std::int32_t, int64_t> class_of;  // category -> class, one to one
  for (std::int32_t i = 1; i < train.n_items(); ++i) {
    const auto k = cls[i].item<int64_t>();
    const auto [it, fresh] = class_of.emplace(t.primary_category(i), k);
    EXPECT_EQ(it->second, k) << "item " << i;
  }
  EXPECT_EQ(static_cast<int64_t>(class_of.size()), p.m.n_classes);  // every item has a category here
  // With every state-dependent part at zero the categories are equally likely and, within each,
  // p(item) = (1 + its training count) / the category's sum.
  torch::NoGradGuard g;
  p.m.net->category->classes->weight.zero_();
  p.m.net->category->classes->bias.zero_();
  p.m.net->emb->items->weight.zero_();
  const auto counts = data::item_counts(train.log, train.n_items());
  std::map<int64_t, double> sum;
  for (std::int32_t i = 1; i < train.n_items(); ++i)
    sum[cls[i].item<int64_t>()] += 1.0 + static_cast<double>(counts[static_cast<std::size_t>(i)]);
  const auto s = p.m.item_scores(torch::randn({1, p.m.state_dim()}));
  for (std::int32_t i = 1; i < train.n_items(); ++i) {
    const double want =
        std::log(1.0 / static_cast<double>(p.m.n_classes)) +
        std::log((1.0 + static_cast<double>(counts[static_cast<std::size_t>(i)])) / sum[cls[i].item<int64_t>()]);
    EXPECT_NEAR(s[0][i].item<double>(), want, 1e-4) << "item " << i;
  }
}

TEST(CategorySoftmax, ItemsWithoutACategoryShareOneClass) {
  data::Dataset partial = shop().split.train;
  auto& t = partial.item_table;
  const auto b = t.category_offsets[1], e = t.category_offsets[2];  // item 1 loses its categories
  ASSERT_GT(e, b);
  t.category_ids.erase(t.category_ids.begin() + b, t.category_ids.begin() + e);
  for (std::size_t k = 2; k < t.category_offsets.size(); ++k) t.category_offsets[k] -= e - b;
  ASSERT_LT(t.primary_category(1), 0);
  test::SequentialPieces whole(shop().split.train, "gru4rec", base(), {{"category_softmax", true}}, 5);
  test::SequentialPieces p(partial, "gru4rec", base(), {{"category_softmax", true}}, 5);
  EXPECT_EQ(p.m.n_classes, whole.m.n_classes + 1);
  EXPECT_EQ(p.m.net->category->item_class[1].item<int64_t>(), p.m.n_classes - 1);
  torch::NoGradGuard g;
  const auto s = p.m.item_scores(torch::randn({2, p.m.state_dim()}));
  EXPECT_TRUE(torch::allclose(torch::logsumexp(s.slice(1, 1), 1), torch::zeros({2}), 1e-5, 1e-5));
}

TEST(CategorySoftmax, TheServedScoresAreOneDistribution) {
  const auto& d = shop();
  const auto m = fitted_gru4rec({});
  int dim = 0;
  EXPECT_EQ(m->item_embeddings(&dim), nullptr);  // no plain inner product: no inner-product index
  std::vector<float> out(static_cast<std::size_t>(m->n_items()));
  for (const std::int32_t u : {1, 7, 20}) {
    m->score(m->encode(u, models::user_history(d.split.train, u)), out.data());
    EXPECT_TRUE(std::isinf(out[0]));
    double mass = 0;
    for (std::size_t i = 1; i < out.size(); ++i) mass += std::exp(static_cast<double>(out[i]));
    EXPECT_NEAR(mass, 1.0, 1e-3) << "user " << u;
    // The explanation of an item is the change of that (factored) score when an event is left out.
    const auto h = models::user_history(d.split.train, u);
    const auto e = m->explain(m->encode(u, h), 3);
    ASSERT_EQ(e.size(), std::min<std::size_t>(h.size(), 12));
  }
}

TEST(CategorySoftmax, RefusesWhatItCannotServe) {
  const auto& train = shop().split.train;
  auto build = [&](const std::string& kind, nlohmann::json extra, const data::Dataset& data) {
    extra["category_softmax"] = true;
    test::SequentialPieces p(data, kind, base(), extra, 1);
  };
  EXPECT_THROW(nn::CategoryHead(3, 3, torch::tensor({0, 0, 2}, torch::kLong), torch::zeros({3})),
               InvalidInput);  // class 1 would have no item
  EXPECT_THROW(build("gru4rec", {{"loss", "sampled"}}, train), InvalidInput);
  EXPECT_THROW(build("gru4rec", {{"loss", "bce"}}, train), InvalidInput);
  EXPECT_THROW(build("gru4rec", {{"dp_epsilon", 5.0}, {"max_len", 12}}, train), InvalidInput);
  data::Dataset bare = train;
  bare.item_table = data::ItemTable();
  EXPECT_TRUE(test::throws_with<InvalidInput>(
      [&] {
        build("sasrec", {{"layers", 1}}, bare);
      },
      "item table with categories"));
}

TEST(CategoryPrior, TheMixIsTheHistorysDecayedCategoryCounts) {
  // Items 1, 2 in class 0, items 3, 4, 5 in class 1; one left-padded history: pad, 1, 3, 4.
  torch::manual_seed(5);
  const auto item_class = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kLong);
  const double g = 0.8;  // decay per event
  nn::CategoryHead head(3, 2, item_class, torch::zeros({6}), g);
  const auto mix = head->history_mix(torch::tensor({{0, 1, 3, 4}}, torch::kLong));
  ASSERT_EQ(mix.sizes(), (std::vector<int64_t>{1, 4, 2}));
  EXPECT_NEAR(mix[0][0].sum().item<double>(), 0.0, 1e-6);  // the padding counts for no class
  EXPECT_NEAR(mix[0][1][0].item<double>(), 1.0, 1e-5);     // item 1 alone
  EXPECT_NEAR(mix[0][2][0].item<double>(), g / (g + 1), 1e-5);
  const double c0 = g * g, c1 = g + 1;  // position 3: item 1 two events back; items 3 (one back) and 4
  EXPECT_NEAR(mix[0][3][0].item<double>(), c0 / (c0 + c1), 1e-5);
  EXPECT_NEAR(mix[0][3][1].item<double>(), c1 / (c0 + c1), 1e-5);
  // The category logits gain scale * log(mix + floor), scale 1 and floor 0.1 at the start.
  const auto h_enc = torch::randn({1, 3});
  const auto state = torch::cat({h_enc, mix[0].slice(0, 3, 4)}, 1);  // what SeqEncoder::encode hands on
  torch::Tensor logit[2];
  for (int64_t k = 0; k < 2; ++k)
    logit[k] = (head->classes->weight[k] * h_enc[0]).sum() + head->classes->bias[k] +
               std::log(mix[0][3][k].item<double>() + 0.1);
  const auto lp = head->class_log_probs(state);
  const auto z = torch::logsumexp(torch::stack({logit[0], logit[1]}), 0);
  EXPECT_NEAR(lp[0][0].item<double>(), (logit[0] - z).item<double>(), 1e-5);
  EXPECT_NEAR(lp[0][1].item<double>(), (logit[1] - z).item<double>(), 1e-5);
  // Gradients reach the scale and the floor; the decay is the config's.
  (-head->class_log_probs(state)[0][1]).backward();
  for (const auto* p : {&head->prior_scale, &head->prior_floor}) EXPECT_GT(p->grad().abs().item<double>(), 0);
  EXPECT_THROW(nn::CategoryHead(3, 2, item_class, torch::zeros({6}), 1.0), InvalidInput);
}

TEST(CategoryPrior, TheStateEndsInTheMixAndTheScoresStayOneDistribution) {
  const auto& d = shop();
  const auto m = fitted_gru4rec({{"category_prior_half_life", 4.0}});
  const auto prior = m->training_report().at("category_prior");  // written to model.json
  EXPECT_NEAR(prior.at("decay_per_event").get<double>(), std::pow(0.5, 0.25), 1e-12);
  EXPECT_NEAR(prior.at("half_life_events").get<double>(), 4.0, 1e-9);
  EXPECT_GT(prior.at("scale").get<double>(), 0.0);
  std::vector<float> out(static_cast<std::size_t>(m->n_items()));
  for (const std::int32_t u : {1, 7, 20}) {
    auto s = m->encode(u, models::user_history(d.split.train, u));
    ASSERT_GT(s.vector.size(), 8u);  // dim 8, then one share per category
    double shares = 0;
    for (std::size_t k = 8; k < s.vector.size(); ++k) {
      EXPECT_GE(s.vector[k], 0.0f);
      shares += s.vector[k];
    }
    EXPECT_NEAR(shares, 1.0, 1e-5) << "user " << u;
    m->score(s, out.data());
    double mass = 0;
    for (std::size_t i = 1; i < out.size(); ++i) mass += std::exp(static_cast<double>(out[i]));
    EXPECT_NEAR(mass, 1.0, 1e-3) << "user " << u;
    // A new event moves the mix (some category's share rises: the new event's), still shares of one.
    const std::vector<float> before(s.vector.begin() + 8, s.vector.end());
    m->observe(s, data::Event{u, 3, s.history.back().ts + 1, 0, 0, 1.0f});
    const std::vector<float> after(s.vector.begin() + 8, s.vector.end());
    double rise = 0, total = 0;
    for (std::size_t k = 0; k < after.size(); ++k)
      rise = std::max<double>(rise, after[k] - before[k]), total += after[k];
    EXPECT_GT(rise, 1e-3) << "user " << u;
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(CategoryPrior, NeedsCategorySoftmax) {
  EXPECT_TRUE(test::throws_with<InvalidInput>(
      [&] {
        test::SequentialPieces p(shop().split.train, "gru4rec", base(), {{"category_prior_half_life", 10.0}}, 1);
      },
      "category_softmax: true"));
}

TEST(CategorySoftmax, TheTrainingLossReadsOnlyTheTargetsClass) {
  // The factored scores are normalised, so the softmax loss is minus the target's score, computed
  // over the target's class alone: the same value and gradients as the cross-entropy of all scores.
  test::SequentialPieces p(shop().split.train, "gru4rec", base(), {{"category_softmax", true}}, 7);
  const nn::TrainingScorer scorer(p.m, shop().split.train.n_items());
  ASSERT_TRUE(scorer.normalised());
  const auto h = torch::randn({6, p.m.state_dim()}).requires_grad_(true);
  const auto targets = torch::randint(1, shop().split.train.n_items(), {6}, torch::kLong);
  const auto fast = nn::SoftmaxLoss()(scorer, h, targets, {});
  const auto [gh_fast, gb_fast] = [&] {
    const auto g = torch::autograd::grad({fast}, {h, p.m.net->category->bias});
    return std::make_pair(g[0], g[1]);
  }();
  const auto full = torch::nn::functional::cross_entropy(scorer.scores(h, torch::Tensor()), targets);
  const auto g = torch::autograd::grad({full}, {h, p.m.net->category->bias});
  EXPECT_NEAR(fast.item<double>(), full.item<double>(), 1e-5);
  EXPECT_TRUE(torch::allclose(gh_fast, g[0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(gb_fast, g[1], 1e-5, 1e-6));
  // Label smoothing and a repeat bonus or mask still take the full scores.
  EXPECT_NEAR(nn::SoftmaxLoss(0, 0.1)(scorer, h, targets, {}).item<double>(),
              (full + 0.1 * (scorer.scores(h, torch::Tensor()).gather(1, targets.unsqueeze(1)).squeeze(1) -
                             scorer.scores(h, torch::Tensor()).slice(1, 1).mean(1))
                                .mean())
                  .item<double>(),
              1e-4);
}

TEST(CategorySoftmax, AnItemInSeveralCategoriesMixesThem) {
  // Items 1 (class 0), 2 (classes 0 and 1), 3 and 4 (class 1): six (item, class) pairs with the
  // padding's, each pair with its own bias. By hand: p(i) = sum over i's pairs (c, b) of
  // p(c | h) exp(z_i + b) / (sum over c's pairs (j, b') of exp(z_j + b')).
  torch::manual_seed(11);
  const auto pair_item = torch::tensor({0, 1, 2, 2, 3, 4}, torch::kLong);
  const auto pair_class = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kLong);
  const auto bias = torch::tensor({0.0f, 0.4f, -0.3f, 0.8f, 0.1f, -0.5f});
  nn::CategoryHead head(3, 2, pair_class, bias, 0.0, pair_item);
  ASSERT_TRUE(head->mixture());
  // Each item's pairs, unused slots 6 (one past the last pair).
  EXPECT_TRUE(torch::equal(head->pair_slots, torch::tensor({{0, 6}, {1, 6}, {2, 3}, {4, 6}, {5, 6}}, torch::kLong)))
      << head->pair_slots;
  const auto h = torch::randn({2, 3}), z = torch::randn({2, 5});
  torch::NoGradGuard g;
  const auto got = head->log_probs(h, z);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{2, 5}));
  for (int64_t r = 0; r < 2; ++r) {
    double c[2], total = 0, within[2] = {0, 0};
    for (int64_t k = 0; k < 2; ++k) {
      c[k] = std::exp((head->classes->weight[k] * h[r]).sum().item<double>() + head->classes->bias[k].item<double>());
      total += c[k];
    }
    for (int64_t p = 1; p < 6; ++p)
      within[pair_class[p].item<int64_t>()] +=
          std::exp(z[r][pair_item[p].item<int64_t>()].item<double>() + bias[p].item<double>());
    double want[5] = {0, 0, 0, 0, 0};
    for (int64_t p = 1; p < 6; ++p) {
      const auto k = pair_class[p].item<int64_t>();
      const auto i = pair_item[p].item<int64_t>();
      want[i] += c[k] / total * std::exp(z[r][i].item<double>() + bias[p].item<double>()) / within[k];
    }
    double mass = 0;
    for (int64_t i = 1; i < 5; ++i) {
      EXPECT_NEAR(got[r][i].item<double>(), std::log(want[i]), 1e-5) << r << " " << i;
      mass += std::exp(got[r][i].item<double>());
    }
    EXPECT_NEAR(mass, 1.0, 1e-5);
    EXPECT_LT(got[r][0].item<float>(), -9e3f);
  }
  // The training path reads the same numbers (an item's classes differ, so it takes the full pass).
  const auto picked = torch::tensor({2, 4}, torch::kLong);
  EXPECT_TRUE(
      torch::allclose(head->target_log_probs(h, z, picked), got.gather(1, picked.unsqueeze(1)).squeeze(1), 1e-5, 1e-6));
  // The training path's gradients are the full pass's (it sums each class with one matrix product).
  torch::GradMode::set_enabled(true);
  const auto hg = h.clone().requires_grad_(true), zg = z.clone().requires_grad_(true);
  const auto fast = torch::autograd::grad({head->target_log_probs(hg, zg, picked).sum()}, {hg, zg, head->bias});
  const auto full =
      torch::autograd::grad({head->log_probs(hg, zg).gather(1, picked.unsqueeze(1)).sum()}, {hg, zg, head->bias});
  for (std::size_t k = 0; k < 3; ++k) EXPECT_TRUE(torch::allclose(fast[k], full[k], 1e-5, 1e-6)) << k;
  EXPECT_GT(full[2][2].abs().item<double>(), 0);  // both of item 2's pair biases learn
  EXPECT_GT(full[2][3].abs().item<double>(), 0);
  torch::GradMode::set_enabled(false);
  // A class far below the best item (its sums would underflow) is summed exactly: still one
  // distribution, finite, the same on both paths.
  auto spread = z.clone();
  spread.slice(1, 1, 2).add_(300.0);
  spread.slice(1, 3).sub_(300.0);
  const auto far = head->log_probs(h, spread);
  EXPECT_TRUE(torch::isfinite(far.slice(1, 1)).all().item<bool>());
  EXPECT_TRUE(torch::allclose(torch::logsumexp(far.slice(1, 1), 1), torch::zeros({2}), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(head->target_log_probs(h, spread, torch::tensor({3, 4}, torch::kLong)),
                              far.index_select(1, torch::tensor({3, 4}, torch::kLong)).diag(), 1e-4, 1e-4));
  // The history prior splits an item's event evenly over its classes: history pad, 1, 2.
  const double decay = 0.8;
  nn::CategoryHead prior(3, 2, pair_class, bias, decay, pair_item);
  const auto mix = prior->history_mix(torch::tensor({{0, 1, 2}}, torch::kLong));
  EXPECT_NEAR(mix[0][2][0].item<double>(), (decay + 0.5) / (decay + 1.0), 1e-5);
  EXPECT_NEAR(mix[0][2][1].item<double>(), 0.5 / (decay + 1.0), 1e-5);
  // Pairs out of item order, an item left out or the padding twice are refused.
  for (const auto& bad :
       {torch::tensor({0, 2, 1, 2, 3, 4}, torch::kLong), torch::tensor({0, 1, 2, 2, 4, 4}, torch::kLong),
        torch::tensor({0, 0, 1, 2, 3, 4}, torch::kLong)})
    EXPECT_THROW(nn::CategoryHead(3, 2, pair_class, bias, 0.0, bad), InvalidInput) << bad;
}

TEST(CategorySoftmax, CategoryClassesAllGivesAnItemEachOfItsCategories) {
  const auto data = with_second_categories();
  test::SequentialPieces first(data, "gru4rec", base(), {{"category_softmax", true}}, 5);
  EXPECT_FALSE(first.m.net->category->mixture());  // the default: first categories only
  test::SequentialPieces all(data, "gru4rec", base(), {{"category_softmax", true}, {"category_classes", "all"}}, 5);
  const auto& head = all.m.net->category;
  ASSERT_TRUE(head->mixture());
  EXPECT_EQ(all.m.n_classes, first.m.n_classes);
  const auto& t = data.item_table;
  int64_t pairs = 1;  // the padding's
  for (std::int32_t i = 1; i < data.n_items(); ++i)
    pairs += t.category_offsets[static_cast<std::size_t>(i) + 1] - t.category_offsets[static_cast<std::size_t>(i)];
  ASSERT_EQ(head->pair_item.numel(), pairs);
  // Item 3's pairs: its first category's class (as with `first`) and one more.
  const auto mine = head->pair_item.eq(3).nonzero().squeeze(1);
  ASSERT_EQ(mine.numel(), 2);
  EXPECT_EQ(head->item_class[mine[0]].item<int64_t>(), first.m.net->category->item_class[3].item<int64_t>());
  EXPECT_NE(head->item_class[mine[1]].item<int64_t>(), head->item_class[mine[0]].item<int64_t>());
  torch::NoGradGuard g;
  const auto s = all.m.item_scores(torch::randn({3, all.m.state_dim()}));
  EXPECT_TRUE(torch::allclose(torch::logsumexp(s.slice(1, 1), 1), torch::zeros({3}), 1e-5, 1e-5));
  EXPECT_TRUE(test::throws_with<InvalidInput>(
      [&] {
        test::SequentialPieces p(data, "gru4rec", base(), {{"category_classes", "all"}}, 1);
      },
      "category_softmax: true"));
}

TEST(CategorySoftmax, AMixtureModelSavesAndLoadsWithItsPairs) {
  nn::register_neural_models();
  const auto data = with_second_categories();
  auto cfg = base();
  cfg["epochs"] = 2;
  cfg["eval_every"] = 0;
  cfg["category_softmax"] = true;
  cfg["category_classes"] = "all";
  cfg["category_prior_half_life"] = 5.0;
  auto m = models::create_model("gru4rec", cfg);
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(data, fo);
  test::TempDir dir;
  models::save_model_dir(dir.file("m"), *m, data);
  const auto loaded = models::load_model_dir(dir.file("m"));
  std::vector<float> a(static_cast<std::size_t>(m->n_items())), b(a.size());
  for (const std::int32_t u : {1, 7, 20}) {
    const auto h = models::user_history(data, u);
    m->score(m->encode(u, h), a.data());
    loaded.model->score(loaded.model->encode(u, h), b.data());
    double mass = 0;
    for (std::size_t i = 1; i < a.size(); ++i) {
      EXPECT_FLOAT_EQ(a[i], b[i]) << "user " << u << " item " << i;
      mass += std::exp(static_cast<double>(a[i]));
    }
    EXPECT_NEAR(mass, 1.0, 1e-3) << "user " << u;
  }
}

TEST(CategorySoftmax, LargeCatalogueTablesTakeTheExactPerClassPath) {
  // Items x classes above kDenseClassSums: the training path takes one masked log-sum-exp over each
  // target's class instead of the class sums by a matrix product; both must give the full scores.
  const int64_t n = 40001, C = 105;
  ASSERT_GT(n * (C + 1), nn::kDenseClassSums);
  torch::manual_seed(13);
  nn::CategoryHead head(4, C, torch::arange(n, torch::kLong) % C, torch::randn({n}));
  ASSERT_FALSE(head->dense_class_sums(n));
  nn::CategoryHead small(4, 3, torch::arange(7, torch::kLong) % 3, torch::randn({7}));
  ASSERT_TRUE(small->dense_class_sums(7));
  for (auto* hd : {&head, &small}) {
    const auto items = (*hd)->item_class.size(0);
    const auto h = torch::randn({3, 4}).requires_grad_(true), z = (3 * torch::randn({3, items})).requires_grad_(true);
    const auto targets = torch::randint(1, items, {3}, torch::kLong);
    const auto fast = (*hd)->target_log_probs(h, z, targets);
    const auto full = (*hd)->log_probs(h, z).gather(1, targets.unsqueeze(1)).squeeze(1);
    EXPECT_TRUE(torch::allclose(fast, full, 1e-4, 1e-5)) << fast << full;
    const auto gf = torch::autograd::grad({fast.sum()}, {h, z});
    const auto gg = torch::autograd::grad({full.sum()}, {h, z});
    EXPECT_TRUE(torch::allclose(gf[0], gg[0], 1e-4, 1e-6));
    EXPECT_TRUE(torch::allclose(gf[1], gg[1], 1e-4, 1e-6));
  }
}
