#pragma once
// BPR's pieces shared by the plain and the private trainer and the federated client: the sigmoid,
// seen-item sets and uniform negatives that avoid them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "driftrec/core/rng.h"
#include "driftrec/data/dataset.h"

namespace driftrec::models::bpr {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

inline std::vector<std::int32_t> sorted_items(const std::vector<data::Event>& history) {
  std::vector<std::int32_t> v;
  v.reserve(history.size());
  for (const auto& e : history) v.push_back(e.item);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

inline bool seen_in(const std::vector<std::int32_t>& sorted, std::int32_t i) {
  return std::binary_search(sorted.begin(), sorted.end(), i);
}

/// A uniform item the user has not seen (20 tries, then whatever came last).
inline std::int32_t sample_negative(Rng& rng, std::int32_t n_items, const std::vector<std::int32_t>& seen) {
  std::int32_t j = 1;
  for (int tries = 0; tries < 20; ++tries) {
    j = 1 + static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(n_items - 1)));
    if (!seen_in(seen, j)) break;
  }
  return j;
}

/// Each user's distinct items, sorted (index 0 = padding, empty).
inline std::vector<std::vector<std::int32_t>> seen_items(const data::InteractionLog& log, std::int32_t n_users) {
  std::vector<std::vector<std::int32_t>> seen(static_cast<std::size_t>(n_users));
  for (std::int32_t u = 1; u < n_users; ++u) {
    auto& v = seen[static_cast<std::size_t>(u)];
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r) v.push_back(log.item[static_cast<std::size_t>(r)]);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  return seen;
}

}  // namespace driftrec::models::bpr
