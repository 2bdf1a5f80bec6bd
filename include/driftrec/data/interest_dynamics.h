#pragma once
// How a synthetic user's true interests are drawn and how they jump: shared by the generator
// (data/synth.h), which writes them to interests.csv, and the simulator (sim/simulator.h), which
// moves them during a session in the same way.
#include <cstddef>
#include <vector>

#include "driftrec/core/rng.h"

namespace driftrec::data {

/// Concentration of the Dirichlet draws of interests: small, so a user cares about few categories.
constexpr double kInterestConcentration = 0.25;

/// A Dirichlet(alpha, ..., alpha) draw over n categories.
inline std::vector<double> dirichlet(Rng& rng, std::size_t n, double alpha = kInterestConcentration) {
  std::vector<double> v(n);
  double s = 0;
  for (auto& x : v) s += (x = rng.gamma(alpha));
  for (auto& x : v) x /= s;
  return v;
}

/// A sudden interest shift: 85% of the weight moves to a fresh draw, 15% of the old interests stay.
inline void shift_interests(std::vector<double>& w, Rng& rng) {
  const auto fresh = dirichlet(rng, w.size());
  for (std::size_t c = 0; c < w.size(); ++c) w[c] = 0.15 * w[c] + 0.85 * fresh[c];
}

}  // namespace driftrec::data
