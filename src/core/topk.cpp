#include "driftrec/core/topk.h"

#include <algorithm>
#include <cmath>
#include <queue>

namespace driftrec {

TopK top_k(const float* scores, std::size_t n, std::size_t k) {
  TopK out;
  if (k == 0) return out;
  // Min-heap of the best k seen so far; the top is the worst of them.
  struct Entry {
    float s;
    std::int32_t i;
  };
  auto worse = [](const Entry& a, const Entry& b) { return ranks_before(a.s, a.i, b.s, b.i); };
  std::vector<Entry> heap;
  heap.reserve(k + 1);
  for (std::size_t i = 0; i < n; ++i) {
    const float s = scores[i];
    if (!(s > -INFINITY)) continue;  // -inf and NaN are excluded
    const auto idx = static_cast<std::int32_t>(i);
    if (heap.size() < k) {
      heap.push_back({s, idx});
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (ranks_before(s, idx, heap.front().s, heap.front().i)) {
      // Replace the worst kept entry and sift the newcomer down: one pass instead of pop + push.
      std::size_t at = 0;
      const Entry e{s, idx};
      for (;;) {
        std::size_t child = 2 * at + 1;
        if (child >= k) break;
        // `worse(a, b)`: a ranks before b, so the heap's front is the entry ranked last.
        if (child + 1 < k && worse(heap[child], heap[child + 1])) ++child;  // the child ranked later
        if (!worse(e, heap[child])) break;                                  // e ranks after both: stays here
        heap[at] = heap[child];
        at = child;
      }
      heap[at] = e;
    }
  }
  std::sort(heap.begin(), heap.end(), worse);
  out.items.reserve(heap.size());
  out.scores.reserve(heap.size());
  for (const auto& e : heap) {
    out.items.push_back(e.i);
    out.scores.push_back(e.s);
  }
  return out;
}

}  // namespace driftrec
