#include "driftrec/ope/estimators.h"

#include <algorithm>
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"

namespace driftrec::ope {

OpeInputs make_inputs(const BanditLog& log, const ActionDistribution& policy, const RewardEstimates* q) {
  if (policy.n_actions() < log.n_actions || policy.n_positions() < log.n_positions)
    throw InvalidInput("the evaluated policy covers " + std::to_string(policy.n_actions()) + " actions and " +
                       std::to_string(policy.n_positions()) + " positions; the log has " +
                       std::to_string(log.n_actions) + " and " + std::to_string(log.n_positions));
  if (q && q->n_actions() != policy.n_actions())
    throw InvalidInput("the reward model has " + std::to_string(q->n_actions()) + " actions, the policy " +
                       std::to_string(policy.n_actions()));
  const std::size_t n = log.size();
  const std::int32_t na = policy.n_actions();
  OpeInputs in;
  in.w.resize(n);
  in.reward.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    in.w[i] = policy.probs(i, log.position[i])[log.action[i]] / log.pscore[i];
    in.reward[i] = log.reward[i];
  }
  if (!q) return in;
  in.q_logged.resize(n);
  in.q_policy.resize(n);
  // With a context-free policy, v depends only on (block, position): compute each once.
  std::vector<double> cache;
  if (policy.context_free()) cache.assign(q->blocks() * static_cast<std::size_t>(policy.n_positions()), NAN);
  for (std::size_t i = 0; i < n; ++i) {
    const float* qi = q->row(i);
    in.q_logged[i] = qi[log.action[i]];
    double* slot = cache.empty() ? nullptr : &cache[q->block(i) * policy.n_positions() + log.position[i]];
    if (slot && !std::isnan(*slot)) {
      in.q_policy[i] = *slot;
      continue;
    }
    const double* pi = policy.probs(i, log.position[i]);
    double v = 0;
    for (std::int32_t a = 0; a < na; ++a) v += pi[a] * qi[a];
    in.q_policy[i] = v;
    if (slot) *slot = v;
  }
  return in;
}

OpeInputs make_inputs(const BanditLog& log, const std::vector<SparseDistribution>& policy, const RewardEstimates* q) {
  const std::size_t n = log.size();
  if (policy.size() != n)
    throw InvalidInput("the evaluated policy has " + std::to_string(policy.size()) + " rows, the log " +
                       std::to_string(n));
  if (q && q->n_actions() < log.n_actions) throw InvalidInput("the reward model covers fewer actions than the log");
  OpeInputs in;
  in.w.assign(n, 0.0);
  in.reward.resize(n);
  if (q) {
    in.q_logged.resize(n);
    in.q_policy.assign(n, 0.0);
  }
  for (std::size_t i = 0; i < n; ++i) {
    in.reward[i] = log.reward[i];
    for (const auto& [a, p] : policy[i]) {
      if (a < 0 || (q && a >= q->n_actions())) throw InvalidInput("the evaluated policy names an unknown action");
      if (a == log.action[i]) in.w[i] = p / log.pscore[i];
      if (q) in.q_policy[i] += p * q->row(i)[a];
    }
    if (q) in.q_logged[i] = q->row(i)[log.action[i]];
  }
  return in;
}

double Estimator::estimate(const OpeInputs& in) const {
  if (needs_reward_model() && !in.has_reward_model())
    throw InvalidInput("estimator '" + name() + "' needs a reward model");
  constexpr std::size_t kChunk = 4096;
  double num[kChunk], den[kChunk];
  double sn = 0, sd = 0;
  for (std::size_t b = 0; b < in.size(); b += kChunk) {
    const std::size_t m = std::min(kChunk, in.size() - b);
    terms(in, b, b + m, num, den);
    for (std::size_t i = 0; i < m; ++i) {
      sn += num[i];
      sd += den[i];
    }
  }
  return sd != 0 ? sn / sd : 0.0;
}

void Ips::terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const {
  for (std::size_t i = begin; i < end; ++i) {
    num[i - begin] = std::min(in.w[i], clip_) * in.reward[i];
    den[i - begin] = 1.0;
  }
}

void SelfNormalizedIps::terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const {
  for (std::size_t i = begin; i < end; ++i) {
    num[i - begin] = in.w[i] * in.reward[i];
    den[i - begin] = in.w[i];
  }
}

void DirectMethod::terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const {
  for (std::size_t i = begin; i < end; ++i) {
    num[i - begin] = in.q_policy[i];
    den[i - begin] = 1.0;
  }
}

void DoublyRobust::terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num, double* den) const {
  for (std::size_t i = begin; i < end; ++i) {
    num[i - begin] = in.q_policy[i] + std::min(in.w[i], clip_) * (in.reward[i] - in.q_logged[i]);
    den[i - begin] = 1.0;
  }
}

void SwitchDoublyRobust::terms(const OpeInputs& in, std::size_t begin, std::size_t end, double* num,
                               double* den) const {
  for (std::size_t i = begin; i < end; ++i) {
    num[i - begin] = in.q_policy[i] + (in.w[i] <= tau_ ? in.w[i] * (in.reward[i] - in.q_logged[i]) : 0.0);
    den[i - begin] = 1.0;
  }
}

const std::vector<std::string>& estimator_names() {
  static const std::vector<std::string> names = {"ips", "snips", "dm", "dr", "switch-dr"};
  return names;
}

std::unique_ptr<Estimator> make_estimator(const std::string& name, double clip, double switch_tau) {
  if (!(clip > 0)) throw InvalidInput("the weight clip must be positive");
  if (!(switch_tau > 0)) throw InvalidInput("the switch threshold must be positive");
  if (name == "ips") return std::make_unique<Ips>(clip);
  if (name == "snips") return std::make_unique<SelfNormalizedIps>();
  if (name == "dm") return std::make_unique<DirectMethod>();
  if (name == "dr") return std::make_unique<DoublyRobust>(clip);
  if (name == "switch-dr") return std::make_unique<SwitchDoublyRobust>(switch_tau);
  throw InvalidInput("unknown estimator '" + name + "' (ips, snips, dm, dr, switch-dr)");
}

Estimate estimate_with_ci(const Estimator& e, const OpeInputs& in, int resamples, double confidence,
                          std::uint64_t seed) {
  if (e.needs_reward_model() && !in.has_reward_model())
    throw InvalidInput("estimator '" + e.name() + "' needs a reward model");
  if (in.size() == 0) throw InvalidInput("no logged rows to estimate from");
  if (!(confidence > 0 && confidence < 1)) throw InvalidInput("confidence must be in (0, 1)");
  const std::size_t n = in.size();
  std::vector<double> num(n), den(n);
  e.terms(in, 0, n, num.data(), den.data());
  Estimate out;
  out.estimator = e.name();
  double sn = 0, sd = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sn += num[i];
    sd += den[i];
  }
  out.value = sd != 0 ? sn / sd : 0.0;
  out.ci_low = out.ci_high = out.value;
  if (resamples <= 0) return out;
  Rng rng(seed);
  std::vector<double> values(resamples);
  for (int b = 0; b < resamples; ++b) {
    double bn = 0, bd = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = rng.uniform_int(n);
      bn += num[i];
      bd += den[i];
    }
    values[b] = bd != 0 ? bn / bd : 0.0;
  }
  double mean = 0;
  for (double v : values) mean += v;
  mean /= resamples;
  double var = 0;
  for (double v : values) var += (v - mean) * (v - mean);
  out.std_error = resamples > 1 ? std::sqrt(var / (resamples - 1)) : 0.0;
  std::sort(values.begin(), values.end());
  const double tail = (1.0 - confidence) / 2.0;
  auto at = [&](double q) {
    const double pos = q * (resamples - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const std::size_t hi = std::min<std::size_t>(lo + 1, resamples - 1);
    return values[lo] + (pos - lo) * (values[hi] - values[lo]);
  };
  out.ci_low = at(tail);
  out.ci_high = at(1.0 - tail);
  return out;
}

WeightStats weight_stats(const OpeInputs& in) {
  WeightStats s;
  double sum = 0, sq = 0;
  for (double w : in.w) {
    sum += w;
    sq += w * w;
    s.max = std::max(s.max, w);
  }
  s.ess = sq > 0 ? sum * sum / sq : 0.0;
  s.mean = in.size() ? sum / static_cast<double>(in.size()) : 0.0;
  return s;
}

}  // namespace driftrec::ope
