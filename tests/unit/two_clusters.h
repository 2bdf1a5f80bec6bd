#pragma once
// A hand-computable catalogue shared by the replay and tracking tests: items a, b (category X)
// always co-occur, as do c, d (category Y); a and b never meet c and d. With itemknn (cosine, no
// shrinkage): sim(a, b) = 2 / sqrt(3 * 2) = 0.82, sim(c, d) = 2 / sqrt(2 * 2) = 1. Item indices
// follow first appearance (a < b < c < d), which breaks ties. u9 has seen `a` before t = 10.
#include "driftrec/data/dataset.h"

namespace driftrec::test {

inline void add_two_clusters(data::DatasetBuilder& b) {
  b.add("u1", "a", 1);
  b.add("u1", "b", 2);
  b.add("u2", "a", 3);
  b.add("u2", "b", 4);
  b.add("u3", "c", 5);
  b.add("u3", "d", 6);
  b.add("u4", "c", 7);
  b.add("u4", "d", 8);
  b.add("u9", "a", 9);
  for (const char* i : {"a", "b"}) b.set_item_info(i, {"X"}, {}, "");
  for (const char* i : {"c", "d"}) b.set_item_info(i, {"Y"}, {}, "");
}

}  // namespace driftrec::test
