#pragma once
// Many callers exploring at once against a served model while a writer ingests: nothing may change
// process-wide thread settings under another caller (toggling OpenBLAS's global thread count from
// read workers crashed it). Shared by the classic (unit) and LibTorch (nn) test binaries.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/serve/service.h"

extern "C" int openblas_get_num_threads(void) __attribute__((weak));  // OpenBLAS; weak: any BLAS links

namespace driftrec::test {

/// `callers` threads make `calls` recommendations each for 40 users with history (a third
/// Boltzmann, a third epsilon-greedy, a third greedy) while one thread keeps ingesting for them.
/// `items`: names the model knows (at least 200).
inline void stress_exploring_service(const std::string& model_dir, const std::vector<std::string>& items, int callers,
                                     int calls) {
  serve::Service svc(model_dir, store::open_event_store("memory://"));
  auto ev = [&items](int u, std::size_t i, std::int64_t ts) {
    serve::IncomingEvent e;
    e.user = "w" + std::to_string(u);
    e.item = items[i % items.size()];
    e.ts = ts;
    e.behavior = "view";
    return e;
  };
  for (int u = 0; u < 40; ++u)
    for (int j = 0; j < 60; ++j) svc.ingest({ev(u, static_cast<std::size_t>(u * 60 + j), j)});
  std::atomic<int> served{0}, failed{0}, cold{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) svc.ingest({ev(i % 40, static_cast<std::size_t>(i) * 7, 100 + i)});
  });
  // OpenBLAS's thread count is process-wide: no caller may change it while others are in BLAS.
  const int blas_threads = openblas_get_num_threads ? openblas_get_num_threads() : 0;
  std::atomic<int> blas_changes{0};
  std::thread monitor([&] {
    while (!stop)
      if (openblas_get_num_threads && openblas_get_num_threads() != blas_threads) ++blas_changes;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < callers; ++t)
    readers.emplace_back([&, t] {
      serve::RecommendRequest rr;
      rr.policy = t % 3 == 0 ? "boltzmann:temperature=0.5" : t % 3 == 1 ? "epsilon-greedy:epsilon=0.2" : "greedy";
      for (int i = 0; i < calls; ++i) {
        try {
          const auto r = svc.recommend_user("w" + std::to_string((t + i) % 40), rr);
          r.items.size() == 10u ? ++served : ++failed;
          if (r.cold_start) ++cold;
        } catch (...) {
          ++failed;
        }
      }
    });
  for (auto& t : readers) t.join();
  stop = true;
  writer.join();
  monitor.join();
  EXPECT_EQ(blas_changes, 0);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(served, callers * calls);
  EXPECT_EQ(cold, 0);  // every call scored the catalogue
}

/// The synthetic shop the stress runs on: 300 users, `items` items (seed 5).
inline data::Dataset stress_dataset(int items) {
  data::SynthOptions so;
  so.users = 300;
  so.items = items;
  so.categories = 8;
  so.seed = 5;
  return data::to_dataset(data::generate_synthetic(so));
}

/// Every item name of a dataset, in index order.
inline std::vector<std::string> item_names(const data::Dataset& ds) {
  std::vector<std::string> out;
  for (std::int32_t i = 1; i < ds.n_items(); ++i) out.push_back(ds.items.name(i));
  return out;
}

}  // namespace driftrec::test
