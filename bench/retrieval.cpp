// Exact vs FAISS HNSW retrieval: recall@10 against exact, per-query latency, build time.
//   bench_retrieval [items=200000] [dim=64] [queries=1000]
// Items are clustered Gaussian vectors (like learned item embeddings); queries are users' states
// drawn the same way (seed 17). Writes JSON to stdout with the generator's settings and a
// fingerprint of the vectors; bench/retrieval.sh saves it as bench/results/retrieval.json.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "driftrec/core/hash.h"
#include "driftrec/core/rng.h"
#include "driftrec/index/retriever.h"

using namespace driftrec;
using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int n = (argc > 1 ? std::stoi(argv[1]) : 200000) + 1;
  const int d = argc > 2 ? std::stoi(argv[2]) : 64;
  const int queries = argc > 3 ? std::stoi(argv[3]) : 1000;
  const int clusters = std::max(10, n / 500);
  Rng rng(17);
  std::vector<float> centers(static_cast<std::size_t>(clusters) * d), items(static_cast<std::size_t>(n) * d, 0.0f);
  for (auto& c : centers) c = static_cast<float>(rng.normal());
  for (int i = 1; i < n; ++i) {
    const auto c = rng.uniform_int(static_cast<std::uint64_t>(clusters));
    const float scale = static_cast<float>(0.5 + rng.uniform());  // popularity-like norm spread
    for (int j = 0; j < d; ++j)
      items[static_cast<std::size_t>(i) * d + j] =
          scale * (centers[c * d + static_cast<std::size_t>(j)] + 0.4f * static_cast<float>(rng.normal()));
  }
  std::vector<std::vector<float>> qs(static_cast<std::size_t>(queries),
                                     std::vector<float>(static_cast<std::size_t>(d)));
  for (auto& q : qs) {
    const auto c = rng.uniform_int(static_cast<std::uint64_t>(clusters));
    for (int j = 0; j < d; ++j)
      q[static_cast<std::size_t>(j)] = centers[c * d + static_cast<std::size_t>(j)] + static_cast<float>(rng.normal());
  }
  Fingerprint fp;
  fp.add_bytes(items.data(), items.size() * sizeof(float));
  for (const auto& q : qs) fp.add_bytes(q.data(), q.size() * sizeof(float));
  const auto exact = index::make_exact_retriever(items.data(), n, d);
  nlohmann::json out = {{"items", n - 1},
                        {"dim", d},
                        {"queries", queries},
                        {"threads", 1},
                        {"data",
                         {{"kind", "clustered Gaussian item vectors and queries"},
                          {"seed", 17},
                          {"clusters", clusters},
                          {"within_cluster_sd", 0.4},
                          {"norm_scale", "uniform 0.5..1.5"},
                          {"fingerprint", fp.hex()}}},
                        {"command", "build/bench/bench_retrieval " + std::to_string(n - 1) + " " + std::to_string(d) +
                                        " " + std::to_string(queries)}};
  auto timed = [&](const index::Retriever& r, std::vector<TopK>& res) {
    std::vector<double> ms;
    for (const auto& q : qs) {
      const auto t0 = clk::now();
      res.push_back(r.search(q.data(), 10, {}));
      ms.push_back(std::chrono::duration<double, std::milli>(clk::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return nlohmann::json{{"p50_ms", ms[ms.size() / 2]}, {"p99_ms", ms[ms.size() * 99 / 100]}};
  };
  std::vector<TopK> truth;
  out["exact"] = timed(*exact, truth);
  for (int ef : {64, 128, 256}) {
    index::HnswOptions o;
    o.ef_search = ef;
    const auto t0 = clk::now();
    const auto hnsw = index::make_hnsw_retriever(items.data(), n, d, o);
    const double build = std::chrono::duration<double>(clk::now() - t0).count();
    std::vector<TopK> got;
    auto j = timed(*hnsw, got);
    double hits = 0;
    for (std::size_t q = 0; q < got.size(); ++q) {
      std::set<std::int32_t> t(truth[q].items.begin(), truth[q].items.end());
      for (auto i : got[q].items) hits += t.count(i);
    }
    j["recall@10"] = hits / (10.0 * static_cast<double>(queries));
    j["build_seconds"] = build;
    j["m"] = o.m;
    j["ef_construction"] = o.ef_construction;
    out["hnsw_ef" + std::to_string(ef)] = j;
    std::cerr << "ef " << ef << " done\n";
  }
  std::cout << out.dump(2) << std::endl;
}
