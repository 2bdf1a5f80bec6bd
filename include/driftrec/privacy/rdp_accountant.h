#pragma once
// Rényi-DP accounting of the Poisson-subsampled Gaussian mechanism (DP-SGD, DP-FedAvg): RDP per
// step at a set of orders (Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled
// Gaussian Mechanism": the exact series for integer orders, the erfc series for fractional ones),
// composed over steps by adding, and converted to (epsilon, delta) with the conversion of Balle et
// al. 2020 (Prop. 12; the one TF Privacy's dp_accounting and Opacus use). Checked against TF
// Privacy's published values and the Gaussian mechanism's closed form (tests/unit/privacy_test.cpp).
#include <cstdint>
#include <vector>

namespace driftrec::privacy {

/// The orders evaluated by default: 1.25 .. 4.5, 5 .. 63, 128, 256, 512 (TF Privacy's list).
const std::vector<double>& default_orders();

/// RDP of order `alpha` (> 1) of one step of the Gaussian mechanism with noise multiplier `sigma`
/// (noise std / L2 sensitivity) applied to a Poisson sample at rate `q` (0..1). q = 1 is the plain
/// Gaussian mechanism, alpha / (2 sigma^2); q = 0 spends nothing; sigma = 0 spends infinitely.
/// Throws InvalidInput for q outside [0, 1], sigma < 0 or alpha <= 1.
double subsampled_gaussian_rdp(double q, double sigma, double alpha);

struct Epsilon {
  double epsilon = 0;
  double order = 0;  ///< the order that gave it
};

/// The smallest epsilon at `delta` over the orders (inf when none gives a finite one). Throws
/// InvalidInput for delta outside (0, 1) or vectors of different sizes.
Epsilon epsilon_from_rdp(const std::vector<double>& orders, const std::vector<double>& rdp, double delta);

/// Composition of mechanisms, each given as its RDP curve.
class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<double> orders = default_orders());
  /// Adds `steps` steps of the subsampled Gaussian mechanism.
  void add_subsampled_gaussian(double q, double sigma, std::int64_t steps);
  Epsilon epsilon(double delta) const;
  const std::vector<double>& orders() const { return orders_; }
  const std::vector<double>& rdp() const { return rdp_; }

 private:
  std::vector<double> orders_;
  std::vector<double> rdp_;
};

/// Epsilon spent at `delta` by `steps` steps at rate q with noise multiplier sigma.
Epsilon dp_sgd_epsilon(double q, double sigma, std::int64_t steps, double delta);

/// The smallest noise multiplier (to 0.1% relative) whose `steps` steps at rate q spend at most
/// `epsilon` at `delta`. Throws InvalidInput when the budget is not positive or cannot be met with
/// a noise multiplier up to 1e4 (e.g. delta too small for the number of steps).
double calibrate_noise_multiplier(double q, std::int64_t steps, double epsilon, double delta);

/// The exact delta of the Gaussian mechanism (sensitivity 1, noise std sigma) at epsilon (Balle &
/// Wang 2018, Thm. 8): Phi(1/(2 sigma) - eps sigma) - e^eps Phi(-1/(2 sigma) - eps sigma).
double gaussian_mechanism_delta(double sigma, double epsilon);

}  // namespace driftrec::privacy
