// Off-policy estimator throughput on one core: rows per second of building the per-row inputs
// (importance weights and reward-model terms from a context-free policy and a cross-fitted tabular
// reward model) and of each estimator's pass over them, on a synthetic log shaped like the Open
// Bandit Dataset (34 actions, 3 positions, Thompson-sampling propensities).
//   bench_ope_throughput [rows=5000000] [out.json]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "driftrec/core/rng.h"
#include "driftrec/ope/action_dist.h"
#include "driftrec/ope/estimators.h"
#include "driftrec/ope/reward_model.h"

using namespace driftrec;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const std::size_t rows = argc > 1 ? std::stoull(argv[1]) : 5000000;
  const std::string out = argc > 2 ? argv[2] : "";
  const std::int32_t actions = 34, positions = 3;
  std::vector<double> alpha(actions), beta(actions);
  Rng rng(1);
  for (int a = 0; a < actions; ++a) {
    alpha[a] = 2 + rng.uniform_int(8);  // click rates around 1-5%, posteriors wide enough to explore
    beta[a] = 150 + rng.uniform_int(150);
  }
  const auto logging = ope::bernoulli_ts_distribution(alpha, beta, positions, 100000, 2);
  ope::BanditLog log;
  log.n_actions = actions;
  log.n_positions = positions;
  log.action.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    const auto pos = static_cast<std::int32_t>(i % positions);
    const double* p = logging->probs(i, pos);
    double u = rng.uniform(), c = 0;
    std::int32_t a = 0;
    while (a < actions - 1 && (c += p[a]) <= u) ++a;
    while (p[a] <= 0) a = (a + 1) % actions;
    log.action.push_back(a);
    log.position.push_back(pos);
    log.reward.push_back(rng.bernoulli(alpha[a] / (alpha[a] + beta[a])) ? 1.0f : 0.0f);
    log.pscore.push_back(p[a]);
  }
  const auto target = ope::uniform_distribution(actions, positions);
  auto t0 = Clock::now();
  const auto q = ope::RewardEstimates::cross_fit(
      log, [] { return std::make_unique<ope::TabularRewardModel>(); }, 3, 3);
  auto t1 = Clock::now();
  const auto in = ope::make_inputs(log, *target, &q);
  auto t2 = Clock::now();
  auto secs = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  nlohmann::json j;
  j["what"] = "one thread; rows per second of each step on a synthetic OBD-shaped log";
  j["rows"] = rows;
  j["actions"] = actions;
  j["positions"] = positions;
  j["reward_model_fit_rows_per_second"] = rows / secs(t0, t1);
  j["inputs_rows_per_second"] = rows / secs(t1, t2);
  std::printf("rows %zu: reward model (3-fold tabular) %.1f M rows/s, inputs %.1f M rows/s\n", rows,
              rows / secs(t0, t1) / 1e6, rows / secs(t1, t2) / 1e6);
  for (const auto& name : ope::estimator_names()) {
    const auto e = ope::make_estimator(name, std::numeric_limits<double>::infinity(), 10.0);
    double best = 1e30, value = 0;
    for (int rep = 0; rep < 5; ++rep) {
      auto a = Clock::now();
      value = e->estimate(in);
      best = std::min(best, secs(a, Clock::now()));
    }
    const double inputs_and_pass = secs(t1, t2) + best;
    j["estimators"][name] = {{"value", value},
                             {"pass_rows_per_second", rows / best},
                             {"inputs_plus_pass_rows_per_second", rows / inputs_and_pass}};
    std::printf("%-10s %.6f  pass %.1f M rows/s, inputs + pass %.1f M rows/s\n", name.c_str(), value, rows / best / 1e6,
                rows / inputs_and_pass / 1e6);
  }
  if (!out.empty()) std::ofstream(out) << j.dump(2) << "\n";
  return 0;
}
