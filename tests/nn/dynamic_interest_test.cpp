// The dynamic-interest claim as a test: on drifting synthetic e-commerce data, right after a user
// turns to a category they never touched, a sequential model moves its recommendations there
// much more than a static matrix-factorisation model does.
#include <gtest/gtest.h>

#include <set>

#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/registry.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

TEST(DynamicInterest, SequentialModelFollowsAShiftBetterThanStaticMf) {
  nn::register_neural_models();
  data::SynthOptions so;
  so.users = 600;
  so.items = 400;
  so.categories = 10;
  so.seed = 21;
  data::PrepareOptions po;
  po.dedup = true;
  const auto p = data::prepare(data::to_dataset(data::generate_synthetic(so)), po);
  models::FitOptions fo;
  fo.threads = 2;
  auto seq = models::create_model("sasrec", {{"dim", 32},
                                             {"layers", 1},
                                             {"max_len", 30},
                                             {"epochs", 30},
                                             {"eval_every", 0},
                                             {"loss", "softmax"},
                                             {"dropout", 0.2},
                                             {"lr", 0.005},
                                             {"warmup_steps", 0}});
  seq->fit(p.split.train, fo);
  auto mf = models::create_model("ials", {{"factors", 32}, {"iterations", 8}});
  mf->fit(p.split.train, fo);
  const auto counts = data::item_counts(p.split.train.log, p.full.n_items());
  const auto& table = p.full.item_table;
  double seq_share = 0, mf_share = 0;
  int n = 0;
  for (std::size_t c = 0; c < p.split.test.size() && n < 150; c += 3) {
    const auto& tc = p.split.test[c];
    auto h = p.full.log.events(p.full.log.user_begin(tc.user), tc.history_end);
    std::set<std::int32_t> seen;
    for (const auto& e : h) seen.insert(table.primary_category(e.item));
    std::int32_t fresh = -1;
    for (std::int32_t k = 0; k < table.categories.size() && fresh < 0; ++k)
      if (!seen.count(k)) fresh = k;
    if (fresh < 0) continue;
    // The user views the three most popular items of the new category.
    std::vector<std::int32_t> items;
    for (std::int32_t i = 1; i < p.full.n_items(); ++i)
      if (table.primary_category(i) == fresh) items.push_back(i);
    std::stable_sort(items.begin(), items.end(), [&](auto a, auto b) {
      return counts[static_cast<std::size_t>(a)] > counts[static_cast<std::size_t>(b)];
    });
    auto share_after = [&](const models::Model& m) {
      auto s = m.encode(tc.user, h);
      for (std::size_t k = 0; k < 3 && k < items.size(); ++k)
        m.observe(s, data::Event{tc.user, items[k], h.back().ts + 1 + static_cast<std::int64_t>(k), 0, 0, 1.0f});
      const auto top = m.recommend(s, 10);
      double x = 0;
      for (auto i : top.items) x += table.primary_category(i) == fresh;
      return x / static_cast<double>(top.size());
    };
    seq_share += share_after(*seq);
    mf_share += share_after(*mf);
    ++n;
  }
  ASSERT_GT(n, 50);
  seq_share /= n;
  mf_share /= n;
  EXPECT_GT(seq_share, 2.0 * mf_share + 0.1) << "sasrec " << seq_share << " vs ials " << mf_share;
  std::cout << "share of the new category in the top-10 after 3 events: sasrec " << seq_share << ", ials " << mf_share
            << "\n";
}
