#include "driftrec/eval/significance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"

namespace driftrec::eval {

namespace {
// Continued fraction of the incomplete beta function (modified Lentz), valid for
// x < (a + 1) / (a + b + 2); the caller uses the symmetry relation otherwise.
double beta_fraction(double x, double a, double b) {
  constexpr double kTiny = 1e-300, kEps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));  // even step
    d = 1.0 + num * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));  // odd step
    d = 1.0 + num * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < kEps) break;
  }
  return h;
}
}  // namespace

double incomplete_beta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_fraction(x, a, b) / a;
  return 1.0 - std::exp(log_front) * beta_fraction(1.0 - x, b, a) / b;
}

double student_t_p_value(double t, double df) {
  if (!std::isfinite(t)) return 0.0;
  if (df <= 0) return 1.0;
  return std::clamp(incomplete_beta(df / (df + t * t), df / 2.0, 0.5), 0.0, 1.0);
}

std::vector<double> holm_adjust(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] < p[b]; });
  std::vector<double> out(p.size());
  double running = 0;
  for (std::size_t r = 0; r < order.size(); ++r) {
    running = std::max(running, std::min(1.0, static_cast<double>(p.size() - r) * p[order[r]]));
    out[order[r]] = running;
  }
  return out;
}

PairedComparison paired_compare(const std::vector<double>& a, const std::vector<double>& b, int resamples,
                                std::uint64_t seed, double confidence) {
  if (a.size() != b.size()) throw InvalidInput("paired comparison: the two models were evaluated on different cases");
  if (a.size() < 2) throw InvalidInput("paired comparison: needs at least two cases");
  if (!(confidence > 0 && confidence < 1)) throw InvalidInput("paired comparison: confidence must be in (0, 1)");
  PairedComparison r;
  r.n = a.size();
  const double n = static_cast<double>(r.n);
  std::vector<double> d(r.n);
  for (std::size_t i = 0; i < r.n; ++i) {
    r.mean_a += a[i];
    r.mean_b += b[i];
    d[i] = b[i] - a[i];
  }
  r.mean_a /= n;
  r.mean_b /= n;
  r.diff = std::accumulate(d.begin(), d.end(), 0.0) / n;
  double ss = 0;
  for (const auto x : d) ss += (x - r.diff) * (x - r.diff);
  const double sd = std::sqrt(ss / (n - 1));
  if (sd > 0) {
    r.t = r.diff / (sd / std::sqrt(n));
    r.p_value = student_t_p_value(r.t, n - 1);
  } else {
    r.t = 0;
    r.p_value = r.diff == 0 ? 1.0 : 0.0;
  }
  r.ci_low = r.ci_high = r.diff;
  if (resamples > 0) {
    Rng rng(seed);
    std::vector<double> means(static_cast<std::size_t>(resamples));
    for (auto& m : means) {
      double s = 0;
      for (std::size_t i = 0; i < r.n; ++i) s += d[rng.uniform_int(r.n)];
      m = s / n;
    }
    std::sort(means.begin(), means.end());
    const double tail = (1.0 - confidence) / 2.0;
    auto at = [&](double q) {
      const auto idx = static_cast<std::size_t>(
          std::clamp(q * static_cast<double>(resamples - 1), 0.0, static_cast<double>(resamples - 1)));
      return means[idx];
    };
    r.ci_low = at(tail);
    r.ci_high = at(1.0 - tail);
  }
  return r;
}

std::vector<BaselineComparison> compare_to_baseline(
    const std::vector<const std::map<std::string, std::vector<double>>*>& per_case,
    const std::vector<std::string>& metrics, int resamples, std::uint64_t seed) {
  auto values = [&](std::size_t k, const std::string& m) -> const std::vector<double>& {
    const auto it = per_case.at(k)->find(m);
    if (it == per_case.at(k)->end()) throw InvalidInput("comparison: no per-case values of '" + m + "'");
    return it->second;
  };
  std::vector<BaselineComparison> rows;
  for (const auto& m : metrics)
    for (std::size_t k = 1; k < per_case.size(); ++k)
      rows.push_back({m, k, paired_compare(values(0, m), values(k, m), resamples, seed), 1.0});
  std::vector<double> ps;
  for (const auto& r : rows) ps.push_back(r.c.p_value);
  const auto adjusted = holm_adjust(ps);
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].p_holm = adjusted[i];
  return rows;
}

}  // namespace driftrec::eval
