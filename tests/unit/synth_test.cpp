#include "driftrec/data/synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "driftrec/core/error.h"
#include "driftrec/data/readers.h"
#include "test_util.h"

using namespace driftrec;
using namespace driftrec::data;

TEST(Synth, SameSeedSameDataDifferentSeedDifferentData) {
  SynthOptions o;
  o.users = 100;
  o.items = 200;
  const auto a = generate_synthetic(o), b = generate_synthetic(o);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].item, b.events[i].item);
    EXPECT_EQ(a.events[i].ts, b.events[i].ts);
  }
  o.seed = 43;
  const auto c = generate_synthetic(o);
  bool differs = c.events.size() != a.events.size();
  for (std::size_t i = 0; !differs && i < a.events.size(); ++i) differs = a.events[i].item != c.events[i].item;
  EXPECT_TRUE(differs);
}

TEST(Synth, EcommerceBehaviourRatiosAndLongTail) {
  SynthOptions o;
  o.users = 400;
  o.items = 600;
  const auto d = generate_synthetic(o);
  std::map<std::string, double> n;
  for (const auto& e : d.events) n[e.behavior] += 1;
  const double total = static_cast<double>(d.events.size());
  EXPECT_GT(n["view"] / total, 0.75);
  EXPECT_GT(n["search"] / total, 0.02);
  EXPECT_GT(n["cart"] / total, 0.02);
  EXPECT_GT(n["buy"] / total, 0.005);
  EXPECT_LT(n["buy"], n["cart"]);
  // Long tail: the top 10% of items take far more than 10% of events.
  std::vector<double> pop(static_cast<std::size_t>(o.items), 0);
  for (const auto& e : d.events) pop[static_cast<std::size_t>(e.item - 1)] += 1;
  std::sort(pop.rbegin(), pop.rend());
  double top = 0;
  for (std::size_t i = 0; i < pop.size() / 10; ++i) top += pop[i];
  EXPECT_GT(top / total, 0.3);
  // Events are time-ordered per user.
  for (std::size_t i = 1; i < d.events.size(); ++i) {
    if (d.events[i].user == d.events[i - 1].user) {
      EXPECT_GE(d.events[i].ts, d.events[i - 1].ts);
    }
  }
}

TEST(Synth, InterestsDriftAndTruthIsRecorded) {
  SynthOptions o;
  o.users = 50;
  o.items = 300;
  o.shift_rate = 0.3;
  const auto d = generate_synthetic(o);
  ASSERT_FALSE(d.truth.empty());
  // For most users the dominant category changes at least once over time.
  std::map<int, std::vector<std::pair<std::int64_t, std::map<int, float>>>> by_user;
  for (const auto& r : d.truth) {
    auto& v = by_user[r.user];
    if (v.empty() || v.back().first != r.ts) v.push_back({r.ts, {}});
    v.back().second[r.category] = r.weight;
  }
  int changed = 0;
  for (const auto& [u, snaps] : by_user) {
    std::set<int> tops;
    for (const auto& s : snaps) {
      auto best =
          std::max_element(s.second.begin(), s.second.end(), [](auto& a, auto& b) { return a.second < b.second; });
      tops.insert(best->first);
    }
    changed += tops.size() > 1;
  }
  EXPECT_GT(changed, static_cast<int>(by_user.size()) / 2);
}

TEST(Synth, NewsHasTextAndShortLifetimes) {
  SynthOptions o;
  o.preset = "news";
  o.users = 100;
  o.items = 500;
  const auto d = generate_synthetic(o);
  ASSERT_FALSE(d.events.empty());
  for (const auto& e : d.events) {
    const auto& it = d.items[static_cast<std::size_t>(e.item - 1)];
    EXPECT_FALSE(it.title.empty());
    EXPECT_GE(e.ts, it.published);
    EXPECT_LE(e.ts - it.published, 2 * 86400);
    EXPECT_EQ(e.behavior, "click");
  }
  const auto ds = to_dataset(d);
  EXPECT_TRUE(ds.item_table.has_text());
}

TEST(Synth, CrossDomainCorrelation) {
  SynthOptions o;
  o.preset = "crossdomain";
  o.users = 300;
  o.items = 600;
  o.mean_events = 80;
  // Mean over users of the cosine between their category profiles in the two domains.
  auto similarity = [&](double corr) {
    o.correlation = corr;
    const auto d = generate_synthetic(o);
    const int per = static_cast<int>(d.category_names.size()) / 2;
    std::map<int, std::vector<double>> shop, social;
    for (const auto& e : d.events) {
      const int c = d.items[static_cast<std::size_t>(e.item - 1)].category;
      auto& v = (c < per ? shop : social)[e.user];
      v.resize(static_cast<std::size_t>(per));
      v[static_cast<std::size_t>(c % per)] += 1;
    }
    double sum = 0;
    int n = 0;
    for (const auto& [u, v] : shop) {
      if (!social.count(u)) continue;
      const auto& w = social.at(u);
      double dot = 0, nv = 0, nw = 0;
      for (std::size_t k = 0; k < v.size(); ++k) {
        dot += v[k] * w[k];
        nv += v[k] * v[k];
        nw += w[k] * w[k];
      }
      sum += dot / std::sqrt(nv * nw);
      ++n;
    }
    EXPECT_GT(n, 200);
    return sum / n;
  };
  const double high = similarity(0.95), low = similarity(0.0);
  EXPECT_GT(high, low + 0.15) << "high " << high << " low " << low;
}

TEST(Synth, WrittenFilesLoadToTheSameDataset) {
  SynthOptions o;
  o.preset = "crossdomain";
  o.users = 60;
  o.items = 120;
  const auto d = generate_synthetic(o);
  test::TempDir dir;
  write_synthetic(d, dir.path().string());
  const auto loaded = load_dataset(dir.path().string());
  const auto direct = to_dataset(d);
  EXPECT_EQ(loaded.fingerprint(), direct.fingerprint());
  EXPECT_EQ(loaded.domains.size(), 3);  // "", shop, social
  EXPECT_EQ(loaded.item_table.category_ids, direct.item_table.category_ids);
}

TEST(Synth, RejectsBadOptions) {
  SynthOptions o;
  o.preset = "music";
  EXPECT_THROW(generate_synthetic(o), InvalidInput);
  o.preset = "ecommerce";
  o.drift = 2;
  EXPECT_THROW(generate_synthetic(o), InvalidInput);
}
