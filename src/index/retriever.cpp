#include "driftrec/index/retriever.h"

#include <cblas.h>
#include <faiss/IndexHNSW.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::index {

namespace {

void check(const float* items, std::int32_t n, int dim) {
  if (!items || n < 2 || dim < 1) throw InvalidInput("retriever needs at least one item and dim >= 1");
}

class ExactRetriever : public Retriever {
 public:
  ExactRetriever(const float* items, std::int32_t n, int dim)
      : items_(items, items + static_cast<std::size_t>(n) * static_cast<std::size_t>(dim)), n_(n), dim_(dim) {}
  std::string name() const override { return "exact"; }
  TopK search(const float* q, std::size_t k, const std::vector<std::int32_t>& exclude) const override {
    std::vector<float> s(static_cast<std::size_t>(n_));
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n_, dim_, 1.0f, items_.data(), dim_, q, 1, 0.0f, s.data(), 1);
    s[0] = -INFINITY;
    for (auto x : exclude)
      if (x >= 0 && x < n_) s[static_cast<std::size_t>(x)] = -INFINITY;
    return top_k(s.data(), s.size(), k);
  }

 private:
  std::vector<float> items_;
  std::int32_t n_;
  int dim_;
};

class HnswRetriever : public Retriever {
 public:
  HnswRetriever(const float* items, std::int32_t n, int dim, HnswOptions o)
      : index_(dim, o.m, faiss::METRIC_INNER_PRODUCT), n_(n) {
    index_.hnsw.efConstruction = o.ef_construction;
    // FAISS 1.7.3 ignores per-call SearchParameters in IndexHNSW::search: the beam is set here once
    // (read-only afterwards, so concurrent searches are safe); HNSW widens it to k when k is larger.
    // (Reducing inner product to L2 with an extra component was tried: recall@10 fell from 0.99
    // to 0.39 on bench_retrieval's 200k catalog, so the index searches inner products directly.)
    index_.hnsw.efSearch = o.ef_search;
    // Row 0 (padding) is left out: FAISS label l is item l + 1.
    index_.add(n - 1, items + dim);
  }
  std::string name() const override { return "hnsw"; }
  TopK search(const float* q, std::size_t k, const std::vector<std::int32_t>& exclude) const override {
    // One query per call, many calls in parallel: keep FAISS's OpenMP to this thread.
    static thread_local const bool single_threaded = (omp_set_num_threads(1), true);
    (void)single_threaded;
    const auto want =
        static_cast<faiss::Index::idx_t>(std::min<std::size_t>(k + exclude.size(), static_cast<std::size_t>(n_ - 1)));
    std::vector<float> d(static_cast<std::size_t>(want));
    std::vector<faiss::Index::idx_t> labels(static_cast<std::size_t>(want));
    index_.search(1, q, want, d.data(), labels.data());
    std::vector<std::int32_t> ex(exclude);
    std::sort(ex.begin(), ex.end());
    TopK out;
    for (std::size_t i = 0; i < labels.size() && out.size() < k; ++i) {
      if (labels[i] < 0) break;
      const auto item = static_cast<std::int32_t>(labels[i] + 1);
      if (std::binary_search(ex.begin(), ex.end(), item)) continue;
      out.items.push_back(item);
      out.scores.push_back(d[i]);
    }
    return out;
  }

 private:
  faiss::IndexHNSWFlat index_;
  std::int32_t n_;
};

}  // namespace

std::unique_ptr<Retriever> make_exact_retriever(const float* items, std::int32_t n, int dim) {
  check(items, n, dim);
  return std::make_unique<ExactRetriever>(items, n, dim);
}

std::unique_ptr<Retriever> make_hnsw_retriever(const float* items, std::int32_t n, int dim, HnswOptions o) {
  check(items, n, dim);
  if (o.m < 2 || o.ef_construction < 1 || o.ef_search < 1) throw InvalidInput("HNSW options must be positive (m >= 2)");
  return std::make_unique<HnswRetriever>(items, n, dim, o);
}

}  // namespace driftrec::index
