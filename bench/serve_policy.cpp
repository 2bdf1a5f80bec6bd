// What serving the loop costs per recommendation, in process (no HTTP): p50/p99 of
// Service::recommend_user for greedy, epsilon-greedy and Boltzmann slates of 10 (ials, synthetic
// 2,000 users x 5,000 items), and the cost of the part every request now pays, recording the slate
// for feedback (request id + SlateLog::add).   bench_serve_policy [out.json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"
#include "driftrec/serve/slate_log.h"

using namespace driftrec;
using Clock = std::chrono::steady_clock;

namespace {
nlohmann::json percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {{"p50_us", us[us.size() / 2]}, {"p99_us", us[us.size() * 99 / 100]}, {"calls", us.size()}};
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
  if (!out.empty()) std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
