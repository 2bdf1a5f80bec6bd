#include "driftrec/core/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using driftrec::top_k;

TEST(TopK, OrdersByScoreThenLowerIndex) {
  const float s[] = {-INFINITY, 0.5f, 0.9f, 0.5f, NAN, 0.1f};
  const auto t = top_k(s, 6, 3);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.items, (std::vector<std::int32_t>{2, 1, 3}));
  EXPECT_FLOAT_EQ(t.scores[0], 0.9f);
}

TEST(TopK, FewerEligibleThanK) {
  const float s[] = {-INFINITY, 1.0f, -INFINITY};
  const auto t = top_k(s, 3, 10);
  EXPECT_EQ(t.items, (std::vector<std::int32_t>{1}));
  EXPECT_EQ(top_k(s, 3, 0).size(), 0u);
}

// Against a full sort, on many sizes and with many ties (scores rounded to a few values), every k:
// the bounded heap keeps exactly the k first of the total order (score, then lower index).
TEST(TopK, EqualsTheFirstKOfAFullSort) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = 1 + rng() % 300;
    std::vector<float> s(n);
    for (auto& x : s) x = rng() % 7 == 0 ? -INFINITY : static_cast<float>(rng() % (trial % 2 ? 5 : 1000));
    std::vector<std::int32_t> order;
    for (std::size_t i = 0; i < n; ++i)
      if (s[i] > -INFINITY) order.push_back(static_cast<std::int32_t>(i));
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
      return driftrec::ranks_before(s[static_cast<std::size_t>(a)], a, s[static_cast<std::size_t>(b)], b);
    });
    const std::size_t k = 1 + rng() % (n + 3);
    const auto t = top_k(s.data(), n, k);
    order.resize(std::min(k, order.size()));
    ASSERT_EQ(t.items, order) << "n " << n << " k " << k;
  }
}
