#pragma once
// The plan of a user-level DP-SGD fit, shared by every trainer that runs one (bpr, the LibTorch
// sequential models): the sampling rate and number of steps from the planned epochs, the noise
// multiplier (calibrated to a budget, or given and then checked against it), the epsilon the fit
// will spend, and what model.json records about it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "driftrec/privacy/rdp_accountant.h"

namespace driftrec::privacy {

/// A model config's dp_* settings (dp_epsilon, dp_delta, dp_clip, dp_noise, dp_batch_users) and
/// its epochs, for a population of `users`.
struct DpSgdSettings {
  std::int64_t users = 0;        ///< the population sampled from (each user with rate q per step)
  std::int64_t batch_users = 0;  ///< expected users per step
  std::int64_t epochs = 0;
  double clip = 0;     ///< per-user L2 bound of the gradient
  double delta = 0;    ///< target delta
  double epsilon = 0;  ///< budget (0 = none: dp_noise is given and the spent epsilon reported)
  double noise = 0;    ///< noise multiplier (0 = calibrate to `epsilon`)
  /// Reads the dp_* keys and epochs of `config`.
  static DpSgdSettings from_config(const nlohmann::json& config, std::int64_t users);
};

struct DpSgdPlan {
  double q = 0, sigma = 0, clip = 0, delta = 0, epsilon_target = 0;
  std::int64_t users = 0, steps = 0, steps_per_epoch = 0;
  Epsilon spent;
  /// Expected users per step (q * users): the divisor of the noisy sum.
  double expected_batch() const { return q * static_cast<double>(users); }
  /// {"privacy": {...}} for model.json: unit, mechanism, accountant, epsilon spent, delta, order,
  /// noise multiplier, clip, sampling rate, steps, users, target.
  nlohmann::json report() const;
};

/// q = min(1, batch_users / users), steps_per_epoch = ceil(users / batch_users), steps = epochs x
/// that; sigma calibrated to the budget when noise is 0. Throws InvalidInput (prefixed by `who`) for
/// no users, a clip <= 0, neither a budget nor a noise multiplier, or a given noise multiplier whose
/// steps would spend more than the budget (training refused before it starts).
DpSgdPlan plan_dp_sgd(const DpSgdSettings& s, const std::string& who);

/// The same for `steps` rounds of a mechanism that samples each of s.users with rate q (DP-FedAvg:
/// one round a step, clients sampled at their participation rate); s.batch_users and s.epochs are
/// not read. steps_per_epoch = steps.
DpSgdPlan plan_sampled_gaussian(double q, std::int64_t steps, const DpSgdSettings& s, const std::string& who);

/// Whether a config asks for a private fit (dp_epsilon > 0 or dp_noise > 0).
bool wants_dp(const nlohmann::json& config);

}  // namespace driftrec::privacy
