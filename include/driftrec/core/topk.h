#pragma once
// Top-K selection over a dense score array. Ties are broken by the lower item index, so a
// ranking is fully deterministic and the evaluator's rank of an item agrees with TopK.
#include <cstdint>
#include <vector>

namespace driftrec {

/// The K best items, best first: items[i] has scores[i]; scores are non-increasing.
struct TopK {
  std::vector<std::int32_t> items;
  std::vector<float> scores;
  std::size_t size() const { return items.size(); }
};

/// Best `k` indices of `scores[0..n)`, skipping entries that are -inf or NaN (the convention for
/// "excluded"). Returns fewer than k when fewer are eligible.
TopK top_k(const float* scores, std::size_t n, std::size_t k);

/// True when (score a, item ia) ranks ahead of (score b, item ib).
inline bool ranks_before(float a, std::int32_t ia, float b, std::int32_t ib) { return a > b || (a == b && ia < ib); }

}  // namespace driftrec
