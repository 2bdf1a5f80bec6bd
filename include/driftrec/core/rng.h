#pragma once
// Seeded random numbers whose sequences are the same on every platform and standard library
// (std:: distributions are implementation-defined, so we derive our own from mt19937_64).
#include <cmath>
#include <cstdint>
#include <random>

namespace driftrec {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  /// A child stream for `stream` (e.g. a thread or user index): independent of call order.
  Rng fork(std::uint64_t stream) const { return Rng(mix(seed_of_fork_ ^ mix(stream + 0x9E3779B97F4A7C15ULL))); }
  std::uint64_t next_u64() { return gen_(); }
  /// Uniform in [0, n); n > 0. Uses rejection to avoid modulo bias.
  std::uint64_t uniform_int(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do {
      x = gen_();
    } while (x >= limit);
    return x % n;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }
  /// Standard normal (Box-Muller, no cached second value so the stream stays simple).
  double normal() {
    double u1 = uniform();
    while (u1 <= 1e-300) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// Exponential with rate `lambda` (> 0).
  double exponential(double lambda) { return -std::log(1.0 - uniform()) / lambda; }
  bool bernoulli(double p) { return uniform() < p; }
  /// Gamma(shape, 1) (Marsaglia-Tsang), used for Dirichlet draws.
  double gamma(double shape) {
    if (shape < 1.0) return gamma(shape + 1.0) * std::pow(uniform() + 1e-300, 1.0 / shape);
    const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = normal(), v = 1.0 + c * x;
      if (v <= 0) continue;
      v = v * v * v;
      const double u = uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // splitmix64 finalizer
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::mt19937_64 gen_;
  std::uint64_t seed_of_fork_ = gen_();
};

}  // namespace driftrec
