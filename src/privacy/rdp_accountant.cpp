#include "driftrec/privacy/rdp_accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "driftrec/core/error.h"

namespace driftrec::privacy {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

/// log(e^a + e^b).
double log_add(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  const double hi = std::max(a, b), lo = std::min(a, b);
  return hi + std::log1p(std::exp(lo - hi));
}

/// log(e^a - e^b), a >= b.
double log_sub(double a, double b) {
  if (b == -kInf) return a;
  if (a <= b) return -kInf;  // equal (or rounding below): the difference is 0
  return b + std::log(std::expm1(a - b));
}

/// log(erfc(x)), stable for large x (erfc underflows past ~26).
double log_erfc(double x) {
  if (x < 25.0) return std::log(std::erfc(x));
  // Asymptotic series: erfc(x) = exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2) + 3/(4x^4) - 15/(8x^6) + ...)
  const double r = 1.0 / (2.0 * x * x);
  const double series = 1.0 - r + 3.0 * r * r - 15.0 * r * r * r + 105.0 * r * r * r * r;
  return -x * x - std::log(x) - 0.5 * std::log(M_PI) + std::log(series);
}

double log_binomial(double n, double k) { return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1); }

/// log A_alpha for integer alpha: sum_i C(alpha, i) q^i (1-q)^(alpha-i) exp((i^2 - i) / (2 sigma^2)).
double log_a_integer(double q, double sigma, int alpha) {
  double log_a = -kInf;
  const double lq = std::log(q), l1q = std::log1p(-q);
  for (int i = 0; i <= alpha; ++i) {
    const double term = log_binomial(alpha, i) + i * lq + (alpha - i) * l1q + (double(i) * i - i) / (2 * sigma * sigma);
    log_a = log_add(log_a, term);
  }
  return log_a;
}

/// log A_alpha for fractional alpha: the two erfc-weighted series of Mironov et al. (Sec. 3.3),
/// summed until both terms fall below e^-30 of the unit.
double log_a_fractional(double q, double sigma, double alpha) {
  double log_a0 = -kInf, log_a1 = -kInf;
  const double z0 = sigma * sigma * std::log(1.0 / q - 1.0) + 0.5;
  const double lq = std::log(q), l1q = std::log1p(-q);
  double log_coef = 0;  // log |C(alpha, i)|, built up term by term with its sign
  bool positive = true;
  for (int i = 0; i < 100000; ++i) {
    if (i > 0) {
      const double f = (alpha - (i - 1)) / i;
      log_coef += std::log(std::fabs(f));
      if (f < 0) positive = !positive;
    }
    const double j = alpha - i;
    const double log_t0 = log_coef + i * lq + j * l1q;
    const double log_t1 = log_coef + j * lq + i * l1q;
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (M_SQRT2 * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (M_SQRT2 * sigma));
    const double log_s0 = log_t0 + (double(i) * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
  }
  return log_add(log_a0, log_a1);
}
}  // namespace

const std::vector<double>& default_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> o = {1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5};
    for (int a = 5; a < 64; ++a) o.push_back(a);
    for (double a : {128.0, 256.0, 512.0}) o.push_back(a);
    return o;
  }();
  return orders;
}

double subsampled_gaussian_rdp(double q, double sigma, double alpha) {
  if (!(q >= 0 && q <= 1)) throw InvalidInput("sampling rate q must be in [0, 1], got " + std::to_string(q));
  if (!(sigma >= 0)) throw InvalidInput("noise multiplier must be >= 0, got " + std::to_string(sigma));
  if (!(alpha > 1)) throw InvalidInput("RDP order must be > 1, got " + std::to_string(alpha));
  if (q == 0) return 0;
  if (sigma == 0) return kInf;
  if (q == 1) return alpha / (2 * sigma * sigma);
  if (!std::isfinite(alpha)) return kInf;
  const double log_a =
      alpha == std::floor(alpha) ? log_a_integer(q, sigma, static_cast<int>(alpha)) : log_a_fractional(q, sigma, alpha);
  return log_a / (alpha - 1);
}

Epsilon epsilon_from_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  if (!(delta > 0 && delta < 1)) throw InvalidInput("delta must be in (0, 1), got " + std::to_string(delta));
  if (orders.size() != rdp.size() || orders.empty())
    throw InvalidInput("epsilon_from_rdp: one RDP value per order is needed");
  Epsilon best{kInf, orders.front()};
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k], r = rdp[k];
    double eps = kInf;
    if (r < 0) throw InvalidInput("RDP values must be >= 0");
    if (delta * delta + std::expm1(-r) > 0) {
      eps = 0;  // small divergence: delta <= sqrt(1 - exp(-KL)) already holds at epsilon 0
    } else if (a > 1.01) {
      // Balle et al. 2020, Prop. 12 (unstable as alpha -> 1, hence the lower limit).
      eps = r + std::log1p(-1 / a) - std::log(delta * a) / (a - 1);
    }
    if (eps < best.epsilon) best = {eps, a};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

RdpAccountant::RdpAccountant(std::vector<double> orders) : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {
  if (orders_.empty()) throw InvalidInput("the accountant needs at least one RDP order");
  for (double a : orders_)
    if (!(a > 1)) throw InvalidInput("RDP orders must be > 1, got " + std::to_string(a));
}

void RdpAccountant::add_subsampled_gaussian(double q, double sigma, std::int64_t steps) {
  if (steps < 0) throw InvalidInput("steps must be >= 0");
  for (std::size_t k = 0; k < orders_.size(); ++k)
    rdp_[k] += static_cast<double>(steps) * subsampled_gaussian_rdp(q, sigma, orders_[k]);
}

Epsilon RdpAccountant::epsilon(double delta) const { return epsilon_from_rdp(orders_, rdp_, delta); }

Epsilon dp_sgd_epsilon(double q, double sigma, std::int64_t steps, double delta) {
  RdpAccountant a;
  a.add_subsampled_gaussian(q, sigma, steps);
  return a.epsilon(delta);
}

double calibrate_noise_multiplier(double q, std::int64_t steps, double epsilon, double delta) {
  if (!(epsilon > 0)) throw InvalidInput("dp_epsilon must be > 0, got " + std::to_string(epsilon));
  const auto spent = [&](double sigma) { return dp_sgd_epsilon(q, sigma, steps, delta).epsilon; };
  double hi = 1.0;
  while (spent(hi) > epsilon) {
    hi *= 2;
    if (hi > 1e4)
      throw InvalidInput("the privacy budget epsilon=" + std::to_string(epsilon) +
                         " at delta=" + std::to_string(delta) + " cannot be met in " + std::to_string(steps) +
                         " steps at sampling rate " + std::to_string(q) +
                         " (noise multiplier > 1e4); raise epsilon or delta, or train fewer steps");
  }
  double lo = 0;  // spent(lo) > epsilon or lo = 0
  while (hi - lo > 1e-3 * hi) {
    const double mid = 0.5 * (lo + hi);
    (spent(mid) > epsilon ? lo : hi) = mid;
  }
  return hi;
}

double gaussian_mechanism_delta(double sigma, double epsilon) {
  if (!(sigma > 0)) throw InvalidInput("sigma must be > 0");
  const auto phi = [](double x) { return 0.5 * std::erfc(-x / M_SQRT2); };
  return phi(0.5 / sigma - epsilon * sigma) - std::exp(epsilon) * phi(-0.5 / sigma - epsilon * sigma);
}

}  // namespace driftrec::privacy
