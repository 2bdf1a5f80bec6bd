#pragma once
// Retrievers: top-K items by inner product with a query vector, exact or approximate (FAISS HNSW),
// with one results contract (the approximate one is tested against the exact one).
// Layout: component j of item i is items[i * dim + j]; row 0 is padding and never returned.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driftrec/core/topk.h"

namespace driftrec::index {

class Retriever {
 public:
  virtual ~Retriever() = default;
  virtual std::string name() const = 0;
  /// The best k items by <query, item> (query has dim components), never returning `exclude`.
  /// May return fewer than k when fewer items are eligible (or, for HNSW, found).
  virtual TopK search(const float* query, std::size_t k, const std::vector<std::int32_t>& exclude) const = 0;
};

/// Brute force: a BLAS matrix-vector product and a partial sort. Copies the items.
std::unique_ptr<Retriever> make_exact_retriever(const float* items, std::int32_t n_items, int dim);

struct HnswOptions {
  int m = 32;                 ///< graph degree
  int ef_construction = 200;  ///< build-time beam
  int ef_search = 128;        ///< query-time beam (raised to the number of candidates asked)
};

/// FAISS IndexHNSWFlat with inner-product metric. Build time grows with n log n.
std::unique_ptr<Retriever> make_hnsw_retriever(const float* items, std::int32_t n_items, int dim,
                                               HnswOptions options = {});

}  // namespace driftrec::index
