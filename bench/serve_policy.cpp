// What serving the loop costs per recommendation, in process (no HTTP): p50/p99 of
// Service::recommend_user for greedy, epsilon-greedy and Boltzmann slates of 10 (ials, synthetic
// 2,000 users x 5,000 items), and the cost of the part every request now pays, recording the slate
// for feedback (request id + SlateLog::add); then durable single-event ingest against durable click
// feedback on a SQLite store, 16 callers each; re-ranked slates (k=10 from the top 100) per re-ranker.
// bench_serve_policy [out.json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"
#include "driftrec/serve/slate_log.h"
#include "driftrec/workflow/model_reranking.h"

using namespace driftrec;
using Clock = std::chrono::steady_clock;

namespace {
nlohmann::json percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {{"p50_us", us[us.size() / 2]}, {"p99_us", us[us.size() * 99 / 100]}, {"calls", us.size()}};
}
/// `threads` callers each repeat `call(thread, i)` for `seconds` (or until it returns false, which
/// is not counted): calls per second and p50/p99.
nlohmann::json hammer(int threads, double seconds, const std::function<bool(int, int)>& call) {
  std::vector<std::vector<double>> us(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; std::chrono::duration<double>(Clock::now() - t0).count() < seconds; ++i) {
        const auto a = Clock::now();
        if (!call(t, i)) break;
        us[static_cast<std::size_t>(t)].push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
      }
    });
  for (auto& th : pool) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (const auto& v : us) all.insert(all.end(), v.begin(), v.end());
  auto j = percentiles(all);
  j["per_second"] = static_cast<double>(all.size()) / secs;
  return j;
}

/// Durable writes on a SQLite store (fsync before return, group commit), 16 callers for 5 s each:
/// one event per call, against one click feedback per call (the feedback row and its click event in
/// one transaction) on slates recommended beforehand, both to users whose states are cached.
nlohmann::json durable_throughput(const std::string& model_dir) {
  const std::string db = "/tmp/bench_serve_policy_store.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  serve::Service svc(model_dir, store::open_event_store("sqlite://" + db));
  constexpr int kThreads = 16;
  nlohmann::json j;
  // Slates to give feedback on: 16 x 4,000 recommendations (not timed).
  std::vector<std::vector<std::string>> ids(kThreads);
  serve::RecommendRequest rr;
  rr.k = 10;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < 4000; ++i)
      ids[static_cast<std::size_t>(t)].push_back(
          svc.recommend_user("u" + std::to_string(1 + (t * 4000 + i) % 2000), rr).request_id);
  // Both phases below update the same cached user states (the slates above built them), so each
  // call pays the model's online update as well as the durable write.
  j["events"] = hammer(kThreads, 5.0, [&](int t, int i) {
    serve::IncomingEvent e;
    e.user = "u" + std::to_string(1 + (t * 131 + i) % 2000);
    e.item = "i" + std::to_string(1 + (t * 37 + i * 11) % 5000);
    svc.ingest({e});
    return true;
  });
  j["click_feedback"] = hammer(kThreads, 5.0, [&](int t, int i) {
    const auto& mine = ids[static_cast<std::size_t>(t)];
    if (static_cast<std::size_t>(i) >= mine.size()) return false;
    serve::IncomingFeedback f;
    f.request_id = mine[static_cast<std::size_t>(i)];
    f.position = 0;
    f.clicked = true;
    svc.feedback(f);
    return true;
  });
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((db + suffix).c_str());
  for (const char* what : {"events", "click_feedback"})
    std::printf("durable %-14s 16 callers: %8.0f /s  p50 %7.1f us  p99 %8.1f us\n", what,
                j[what]["per_second"].get<double>(), j[what]["p50_us"].get<double>(), j[what]["p99_us"].get<double>());
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "";
  data::SynthOptions so;
  so.users = 2000;
  so.items = 5000;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  auto m = models::create_model("ials", {{"factors", 64}, {"iterations", 5}});
  models::FitOptions fo;
  fo.threads = 1;
  m->fit(ds, fo);
  const std::string dir = "/tmp/bench_serve_policy_model";
  models::save_model_dir(dir, *m, ds);
  serve::Service svc(dir, store::open_event_store("memory://"));
  std::vector<serve::IncomingEvent> events;
  for (std::int32_t u = 1; u <= 200; ++u)
    for (int k = 0; k < 20; ++k) {
      serve::IncomingEvent e;
      e.user = "u" + std::to_string(u);
      e.item = "i" + std::to_string(1 + (u * 37 + k * 101) % 5000);
      e.ts = 1000 + k;
      events.push_back(e);
    }
  svc.ingest(events);
  nlohmann::json j;
  j["what"] = "in-process recommend_user latency per policy (k=10, ials 64 factors, 5,000 items, 1 thread)";
  for (const std::string policy : {"greedy", "epsilon-greedy:epsilon=0.1", "boltzmann:temperature=0.5"}) {
    serve::RecommendRequest rr;
    rr.k = 10;
    rr.policy = policy;
    std::vector<double> us;
    for (int r = 0; r < 4000; ++r) {
      const std::string user = "u" + std::to_string(1 + r % 200);
      const auto t0 = Clock::now();
      svc.recommend_user(user, rr);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    us.erase(us.begin(), us.begin() + 400);  // warm-up (states built, caches filled)
    j["recommend"][policy] = percentiles(us);
    std::printf("%-28s p50 %7.1f us  p99 %7.1f us\n", policy.c_str(), j["recommend"][policy]["p50_us"].get<double>(),
                j["recommend"][policy]["p99_us"].get<double>());
  }
  // Re-ranked greedy slates (?rerank=): k=10 chosen from the model's top 100; the whole request and
  // the re-ranking step alone (ModelReranking::apply on the same candidates).
  const auto loaded = models::load_model_dir(dir);
  const workflow::ModelReranking reranking(loaded);
  for (const std::string spec : {"calibrated:0.5", "mmr:0.5", "exposure:0.4+longtail:0.2", "consumer:0.7"}) {
    serve::RecommendRequest rr;
    rr.k = 10;
    rr.rerank = spec;
    rr.rerank_depth = 100;
    std::vector<double> whole, step;
    for (int r = 0; r < 4000; ++r) {
      const std::string user = "u" + std::to_string(1 + r % 200);
      auto t0 = Clock::now();
      svc.recommend_user(user, rr);
      whole.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      const auto state =
          loaded.model->encode(-1, ds.log.events(ds.log.user_begin(1 + r % 200), ds.log.user_end(1 + r % 200)));
      const auto top = loaded.model->recommend(state, 100, {});
      t0 = Clock::now();
      reranking.apply(spec, top, state, 10);
      step.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    whole.erase(whole.begin(), whole.begin() + 400);
    step.erase(step.begin(), step.begin() + 400);
    j["rerank"][spec] = {{"request", percentiles(whole)}, {"rerank_step", percentiles(step)}};
    std::printf("rerank %-26s request p50 %7.1f us p99 %7.1f us | step p50 %6.1f us p99 %6.1f us\n", spec.c_str(),
                j["rerank"][spec]["request"]["p50_us"].get<double>(),
                j["rerank"][spec]["request"]["p99_us"].get<double>(),
                j["rerank"][spec]["rerank_step"]["p50_us"].get<double>(),
                j["rerank"][spec]["rerank_step"]["p99_us"].get<double>());
  }
  // The slate record alone (what greedy requests pay now that feedback exists).
  serve::SlateLog log(100000, 3600);
  std::vector<double> us;
  for (int r = 0; r < 200000; ++r) {
    serve::ShownSlate s;
    s.user = "u42";
    s.policy = "greedy";
    for (int i = 0; i < 10; ++i) {
      s.items.push_back("i" + std::to_string(i));
      s.propensity.push_back(1.0);
    }
    char id[40];
    const auto t0 = Clock::now();
    std::snprintf(id, sizeof id, "r%016llx%08llx", 0x1234ULL, static_cast<unsigned long long>(r));
    log.add(id, std::move(s));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  j["slate_record"] = percentiles(us);
  std::printf("slate record (id + add)      p50 %7.2f us  p99 %7.2f us\n", j["slate_record"]["p50_us"].get<double>(),
              j["slate_record"]["p99_us"].get<double>());
  j["durable"] = durable_throughput(dir);
  if (!out.empty()) std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
