// Inference latency of a trained sequential model (e.g. the Beauty sasrec): encode one history of
// `history` events + score every item + top-10, one request at a time on one thread; and the same
// for a batch of `batch` users (one encode_batch pass + one batched scoring). Histories are random
// known items (latency does not depend on which). Also: explanations of a top-10 (explain_batch:
// occlusion over the history, one batched pass), one request at a time. Prints JSON.
//   bench_nn_latency MODEL_DIR [history=50] [reps=2000] [batch=256] [batch_reps=40] [threads=1]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "driftrec/core/log.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/nn/register.h"

using namespace driftrec;

namespace {
double pct(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}
double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_nn_latency MODEL_DIR [history=50] [reps=2000] [batch=256] [batch_reps=40] [threads=1]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int history = argc > 2 ? std::stoi(argv[2]) : 50;
  const int reps = argc > 3 ? std::stoi(argv[3]) : 2000;
  const int batch = argc > 4 ? std::stoi(argv[4]) : 256;
  const int batch_reps = argc > 5 ? std::stoi(argv[5]) : 40;
  const int threads = argc > 6 ? std::stoi(argv[6]) : 1;
  set_log_level(LogLevel::kWarn);
  nn::register_neural_models();
  nn::set_threads(threads);
  try {
    const auto loaded = models::load_model_dir(dir);
    const auto& m = *loaded.model;
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int32_t> item(1, m.n_items() - 1);
    auto random_history = [&] {
      std::vector<data::Event> h;
      for (int t = 0; t < history; ++t) h.push_back({-1, item(rng), 1700000000 + 60 * t, 0, 0, 1.0f});
      return h;
    };
    std::vector<std::vector<data::Event>> pool;
    for (int i = 0; i < 512; ++i) pool.push_back(random_history());
    std::vector<double> single;
    for (int r = -50; r < reps; ++r) {  // 50 warm-up requests
      const auto& h = pool[static_cast<std::size_t>((r + 50) % 512)];
      const double t0 = now_us();
      const auto s = m.encode(-1, h);
      const auto top = m.recommend(s, 10);
      const double t1 = now_us();
      if (top.items.size() != 10) throw std::runtime_error("short top-10");
      if (r >= 0) single.push_back(t1 - t0);
    }
    std::vector<double> explained;
    for (int r = -5; r < std::max(1, reps / 10); ++r) {  // 5 warm-up requests
      const auto& h = pool[static_cast<std::size_t>((r + 5) * 7 % 512)];
      const auto s = m.encode(-1, h);
      const auto top = m.recommend(s, 10);
      const double t0 = now_us();
      const auto attrs = m.explain_batch(s, top.items);
      const double t1 = now_us();
      if (attrs.size() != top.items.size()) throw std::runtime_error("short explanation");
      if (r >= 0) explained.push_back(t1 - t0);
    }
    std::vector<double> batched;
    std::vector<std::int32_t> users(static_cast<std::size_t>(batch), -1);
    for (int r = -3; r < batch_reps; ++r) {
      std::vector<std::vector<data::Event>> hs;
      for (int b = 0; b < batch; ++b) hs.push_back(pool[static_cast<std::size_t>((r + 3) * 31 + b) % 512]);
      const double t0 = now_us();
      const auto states = m.encode_batch(users, hs);
      std::vector<const models::UserState*> ptrs;
      for (const auto& s : states) ptrs.push_back(&s);
      const auto tops = m.recommend(ptrs, 10);
      const double t1 = now_us();
      if (r >= 0) batched.push_back(t1 - t0);
    }
    nlohmann::json out = {
        {"model", m.name()},
        {"model_dir", dir},
        {"items", m.n_items()},
        {"history", history},
        {"threads", threads},
        {"single", {{"requests", reps}, {"p50_us", pct(single, 0.5)}, {"p99_us", pct(single, 0.99)}}},
        {"batch",
         {{"users", batch},
          {"batches", batch_reps},
          {"p50_ms", pct(batched, 0.5) / 1000.0},
          {"p99_ms", pct(batched, 0.99) / 1000.0},
          {"us_per_user_p50", pct(batched, 0.5) / batch}}},
        {"explain_top10",
         {{"requests", explained.size()},
          {"p50_ms", pct(explained, 0.5) / 1000.0},
          {"p99_ms", pct(explained, 0.99) / 1000.0}}},
        {"what",
         "encode + score all items + top-10; random histories of known items; explain_top10: explain_batch "
         "of the top-10 after encode"}};
    std::cout << out.dump(2) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_nn_latency: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
