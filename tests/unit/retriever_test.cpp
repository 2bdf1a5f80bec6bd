// Every retriever against the exact one.
#include "driftrec/index/retriever.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "driftrec/data/synth.h"
#include "driftrec/models/registry.h"

using namespace driftrec;

TEST(Retrievers, ExactMatchesTheModelsOwnRanking) {
  data::SynthOptions so;
  so.users = 150;
  so.items = 300;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  for (const char* name : {"ials", "bpr"}) {
    auto m = models::create_model(name, {{"factors", 8}});
    m->fit(ds, {});
    int dim = 0;
    const float* items = m->item_embeddings(&dim);
    ASSERT_NE(items, nullptr) << name;
    const auto exact = index::make_exact_retriever(items, m->n_items(), dim);
    for (std::int32_t u = 1; u < 20; ++u) {
      const auto s = m->encode(u, models::user_history(ds, u));
      std::vector<std::int32_t> seen;
      for (const auto& e : s.history) seen.push_back(e.item);
      const auto a = exact->search(m->query_vector(s).data(), 10, seen);
      const auto b = m->recommend(s, 10);
      EXPECT_EQ(a.items, b.items) << name << " user " << u;
    }
  }
  auto knn = models::create_model("itemknn", nlohmann::json::object());
  int dim = 0;
  EXPECT_EQ(knn->item_embeddings(&dim), nullptr);
}

TEST(Retrievers, HnswRecallAgainstExact) {
  // Clustered vectors (as item embeddings are): 5,000 items, 32 dims, 40 clusters.
  Rng rng(9);
  const int n = 5001, d = 32;
  std::vector<float> centers(40 * d), items(static_cast<std::size_t>(n) * d, 0.0f);
  for (auto& c : centers) c = static_cast<float>(rng.normal());
  for (int i = 1; i < n; ++i) {
    const auto c = rng.uniform_int(40);
    for (int j = 0; j < d; ++j)
      items[static_cast<std::size_t>(i) * d + j] =
          centers[c * d + static_cast<std::size_t>(j)] + 0.3f * static_cast<float>(rng.normal());
  }
  const auto exact = index::make_exact_retriever(items.data(), n, d);
  const auto hnsw = index::make_hnsw_retriever(items.data(), n, d);
  double hits = 0;
  const int queries = 100;
  for (int q = 0; q < queries; ++q) {
    std::vector<float> v(d);
    for (auto& x : v) x = static_cast<float>(rng.normal());
    const std::vector<std::int32_t> exclude = {1, 2, 3};
    const auto a = exact->search(v.data(), 10, exclude), b = hnsw->search(v.data(), 10, exclude);
    ASSERT_EQ(b.size(), 10u);
    std::set<std::int32_t> truth(a.items.begin(), a.items.end());
    for (auto i : b.items) {
      hits += truth.count(i);
      EXPECT_TRUE(i >= 4 && i < n);
    }
    for (std::size_t r = 1; r < b.size(); ++r) EXPECT_GE(b.scores[r - 1], b.scores[r]);
  }
  EXPECT_GE(hits / (10.0 * queries), 0.9);
  EXPECT_THROW(index::make_hnsw_retriever(items.data(), 1, d), InvalidInput);
}
