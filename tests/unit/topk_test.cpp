#include "driftrec/core/topk.h"

#include <gtest/gtest.h>

#include <cmath>

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
