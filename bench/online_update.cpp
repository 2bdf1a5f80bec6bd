// Online-update and single-request latency of the classic models on a Beauty-sized synthetic
// catalog (12k items, 64 factors). Google Benchmark; bench/online_update.sh writes
// bench/results/online_update.json, whose context records the data fingerprint and the configs.
// observe(): fold one new event into a user's state (the online MF update for ials).
// recommend(): encode is done; score all items + exclude seen + top-10 for one state.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "driftrec/data/synth.h"
#include "driftrec/models/registry.h"

using namespace driftrec;

namespace {

struct World {
  data::Dataset ds;
  std::map<std::string, std::unique_ptr<models::Model>> models;
  World() {
    data::SynthOptions so;
    so.users = 22000;
    so.items = 12100;
    so.mean_events = 9;  // ~200k events, as Amazon Beauty
    so.seed = 11;
    ds = data::to_dataset(data::generate_synthetic(so));
    models::FitOptions fo;
    fo.threads = 2;
    const std::pair<const char*, nlohmann::json> configs[] = {
        {"ials", {{"factors", 64}, {"iterations", 2}}},
        {"bpr", {{"factors", 64}, {"epochs", 1}, {"eval_every", 0}}},
        {"itemknn", {{"neighbors", 100}, {"decay", "position"}}},
        {"pop", nlohmann::json::object()}};
    for (const auto& [name, cfg] : configs) {
      auto m = models::create_model(name, cfg);
      m->fit(ds, fo);
      models[name] = std::move(m);
    }
  }
};

World& world() {
  static World w;
  return w;
}

// A history of `len` events taken from the synthetic log (cycled when a user is shorter).
std::vector<data::Event> history_of(std::int64_t len) {
  const auto& log = world().ds.log;
  std::vector<data::Event> h;
  for (std::int64_t r = 0; static_cast<std::int64_t>(h.size()) < len; ++r)
    h.push_back(log.event(r % static_cast<std::int64_t>(log.size())));
  return h;
}

void BM_Observe(benchmark::State& st, const char* name) {
  const auto& m = *world().models.at(name);
  const auto base = m.encode(-1, history_of(st.range(0)));
  std::int32_t item = 1;
  for (auto _ : st) {
    st.PauseTiming();
    auto s = base;  // each iteration observes one event on a fresh copy of the same state
    item = item % (m.n_items() - 1) + 1;
    st.ResumeTiming();
    m.observe(s, data::Event{-1, item, 1LL << 40, 0, 0, 1.0f});
    benchmark::DoNotOptimize(s.vector.data());
  }
}

void BM_Recommend(benchmark::State& st, const char* name) {
  const auto& m = *world().models.at(name);
  const auto s = m.encode(-1, history_of(st.range(0)));
  for (auto _ : st) {
    auto top = m.recommend(s, 10);
    benchmark::DoNotOptimize(top.items.data());
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_Observe, ials, "ials")->Arg(10)->Arg(50)->Arg(200)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Observe, bpr, "bpr")->Arg(50)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Observe, itemknn, "itemknn")->Arg(50)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Recommend, ials, "ials")->Arg(50)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Recommend, bpr, "bpr")->Arg(50)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Recommend, itemknn, "itemknn")->Arg(50)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Recommend, pop, "pop")->Arg(50)->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  auto& w = world();
  benchmark::AddCustomContext("data",
                              "driftrec synth: preset ecommerce, 22000 users, 12100 items, 9 events/user, seed 11");
  benchmark::AddCustomContext("data_fingerprint", w.ds.fingerprint());
  for (const auto& [name, m] : w.models) benchmark::AddCustomContext("config_" + name, m->config().dump());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
