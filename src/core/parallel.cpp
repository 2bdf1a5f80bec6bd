#include "driftrec/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace driftrec {

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

namespace {
void run_workers(int threads, const std::function<void(int)>& worker) {
  std::exception_ptr first;
  std::mutex mu;
  auto guarded = [&](int t) {
    try {
      worker(t);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!first) first = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(guarded, t);
  guarded(0);
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}
}  // namespace

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t, int)>& body) {
  threads = std::max(1, std::min<int>(resolve_threads(threads), static_cast<int>(std::max<std::size_t>(n, 1))));
  if (threads == 1) {
    if (n > 0) body(0, n, 0);
    return;
  }
  run_workers(threads, [&](int t) {
    const std::size_t begin = n * static_cast<std::size_t>(t) / static_cast<std::size_t>(threads);
    const std::size_t end = n * static_cast<std::size_t>(t + 1) / static_cast<std::size_t>(threads);
    if (begin < end) body(begin, end, t);
  });
}

void parallel_blocks(std::size_t n, std::size_t block, int threads,
                     const std::function<void(std::size_t, std::size_t, int)>& body) {
  block = std::max<std::size_t>(block, 1);
  const std::size_t blocks = (n + block - 1) / block;
  threads = std::max(1, std::min<int>(resolve_threads(threads), static_cast<int>(std::max<std::size_t>(blocks, 1))));
  std::atomic<std::size_t> next{0};
  auto worker = [&](int t) {
    for (;;) {
      const std::size_t b = next.fetch_add(1);
      if (b >= blocks) return;
      body(b * block, std::min(n, (b + 1) * block), t);
    }
  };
  if (threads == 1) {
    worker(0);
    return;
  }
  run_workers(threads, worker);
}

}  // namespace driftrec
