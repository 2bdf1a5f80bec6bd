#include "driftrec/privacy/dp_sgd_plan.h"

#include <algorithm>

#include "driftrec/core/error.h"

namespace driftrec::privacy {

DpSgdSettings DpSgdSettings::from_config(const nlohmann::json& c, std::int64_t users) {
  DpSgdSettings s;
  s.users = users;
  s.batch_users = c["dp_batch_users"].get<std::int64_t>();
  s.epochs = c["epochs"].get<std::int64_t>();
  s.clip = c["dp_clip"].get<double>();
  s.delta = c["dp_delta"].get<double>();
  s.epsilon = c["dp_epsilon"].get<double>();
  s.noise = c["dp_noise"].get<double>();
  return s;
}

bool wants_dp(const nlohmann::json& c) {
  return (c.contains("dp_epsilon") && c["dp_epsilon"].get<double>() > 0) ||
         (c.contains("dp_noise") && c["dp_noise"].get<double>() > 0);
}

DpSgdPlan plan_dp_sgd(const DpSgdSettings& s, const std::string& who) {
  if (s.users <= 0) throw InvalidInput(who + "a private fit needs training users");
  if (s.batch_users <= 0 || s.epochs <= 0) throw InvalidInput(who + "dp_batch_users and epochs must be >= 1");
  const double q = std::min(1.0, static_cast<double>(s.batch_users) / static_cast<double>(s.users));
  const std::int64_t per_epoch = (s.users + s.batch_users - 1) / s.batch_users;
  auto p = plan_sampled_gaussian(q, s.epochs * per_epoch, s, who);
  p.steps_per_epoch = per_epoch;
  return p;
}

DpSgdPlan plan_sampled_gaussian(double q, std::int64_t steps, const DpSgdSettings& s, const std::string& who) {
  if (s.users <= 0) throw InvalidInput(who + "a private fit needs training users");
  if (!(s.clip > 0)) throw InvalidInput(who + "dp_clip must be > 0");
  if (!(q > 0 && q <= 1) || steps <= 0)
    throw InvalidInput(who + "a private fit needs a sampling rate in (0, 1] and at least one step");
  if (s.epsilon <= 0 && s.noise <= 0) throw InvalidInput(who + "a private fit needs dp_epsilon or dp_noise > 0");
  DpSgdPlan p;
  p.users = s.users;
  p.q = q;
  p.steps_per_epoch = steps;
  p.steps = steps;
  p.clip = s.clip;
  p.delta = s.delta;
  p.epsilon_target = s.epsilon;
  p.sigma = s.noise > 0 ? s.noise : calibrate_noise_multiplier(p.q, p.steps, s.epsilon, s.delta);
  p.spent = dp_sgd_epsilon(p.q, p.sigma, p.steps, p.delta);
  if (s.epsilon > 0 && p.spent.epsilon > s.epsilon)
    throw InvalidInput(who + "dp_noise=" + std::to_string(p.sigma) + " over " + std::to_string(p.steps) +
                       " steps spends epsilon=" + std::to_string(p.spent.epsilon) + " > dp_epsilon=" +
                       std::to_string(s.epsilon) + "; training refused (raise dp_noise, or leave it 0 to calibrate)");
  return p;
}

nlohmann::json DpSgdPlan::report() const {
  return {{"privacy",
           {{"unit", "user"},
            {"mechanism", "DP-SGD, Poisson-sampled users, per-user clipping, Gaussian noise"},
            {"accountant", "RDP of the subsampled Gaussian mechanism, Balle et al. 2020 conversion"},
            {"epsilon", spent.epsilon},
            {"delta", delta},
            {"rdp_order", spent.order},
            {"noise_multiplier", sigma},
            {"clip", clip},
            {"sampling_rate", q},
            {"steps", steps},
            {"users", users},
            {"epsilon_target", epsilon_target}}}};
}

}  // namespace driftrec::privacy
