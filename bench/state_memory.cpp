// Memory of cached user states: N users (default 1M) with E events each, served by a model
// (default: ials, 64 factors, on a Beauty-sized synthetic catalog). Prints JSON with the RSS
// growth while the states are built and the bytes per user, with the catalog's fingerprint and the
// model's config; bench/state_memory.sh saves it as bench/results/state_memory.json.
//   bench_state_memory [users] [events_per_user] [model]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>

#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"

using namespace driftrec;

namespace {
double rss_mib() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}
}  // namespace

int main(int argc, char** argv) {
  const long users = argc > 1 ? std::stol(argv[1]) : 1000000;
  const int per_user = argc > 2 ? std::stoi(argv[2]) : 5;
  const std::string model_name = argc > 3 ? argv[3] : "ials";
  set_log_level(LogLevel::kWarn);
  data::SynthOptions so;
  so.users = 2000;
  so.items = 12100;
  so.seed = 5;
  const auto ds = data::to_dataset(data::generate_synthetic(so));
  const nlohmann::json config =
      model_name == "ials" ? nlohmann::json{{"factors", 64}, {"iterations", 1}} : nlohmann::json::object();
  auto model = models::create_model(model_name, config);
  model->fit(ds, {});
  const std::string dir = "/tmp/driftrec_state_memory_model_" + std::to_string(getpid());
  models::save_model_dir(dir, *model, ds);
  // Every state stays cached: the serving default bounds the cache (--cache-mb 256), which would
  // measure the bound, not a state's size.
  serve::ServiceOptions keep_all;
  keep_all.cache_bytes = std::numeric_limits<std::size_t>::max();
  serve::Service svc(dir, store::open_event_store("memory://"), keep_all);
  std::vector<serve::IncomingEvent> batch;
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(users));
  for (long u = 0; u < users; ++u) {
    ids.push_back("user" + std::to_string(u));
    for (int e = 0; e < per_user; ++e) {
      serve::IncomingEvent ev;
      ev.user = ids.back();
      ev.item = "i" + std::to_string(1 + (u * 7 + e * 13) % 12000);
      ev.ts = e;
      batch.push_back(std::move(ev));
    }
    if (batch.size() >= 10000) {
      svc.ingest(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) svc.ingest(batch);
  const double before = rss_mib();
  const auto t0 = std::chrono::steady_clock::now();
  const auto built = svc.warm_up(ids);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double after = rss_mib();
  nlohmann::json out = {{"what", "cached user states in driftrec serve"},
                        {"model", model_name},
                        {"users", built},
                        {"events_per_user", per_user},
                        {"rss_before_mib", before},
                        {"rss_after_mib", after},
                        {"states_mib", after - before},
                        {"bytes_per_user", (after - before) * 1024 * 1024 / static_cast<double>(built)},
                        {"build_seconds", secs},
                        {"config", model->config()},
                        {"cache", "unbounded (every state kept)"},
                        {"cache_bytes_estimated", svc.stats().cache_bytes},
                        {"data",
                         {{"catalog", "driftrec synth: preset ecommerce, 2000 users, 12100 items, seed 5"},
                          {"fingerprint", ds.fingerprint()},
                          {"served_events", "user u, event e: item i(1 + (7u + 13e) mod 12000), ts e"}}},
                        {"command", "build/bench/bench_state_memory " + std::to_string(users) + " " +
                                        std::to_string(per_user) + " " + model_name}};
  std::cout << out.dump(2) << std::endl;
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
