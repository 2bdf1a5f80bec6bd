#include "driftrec/rl/reinforce.h"

#include <algorithm>
#include <cmath>

#include "driftrec/core/error.h"

namespace driftrec::rl {

std::vector<LoggedAction> actions_from_sessions(const std::vector<LoggedSession>& sessions, double discount) {
  if (!(discount >= 0 && discount <= 1)) throw InvalidInput("reinforce: discount must lie in [0, 1]");
  std::vector<LoggedAction> out;
  for (const auto& s : sessions) {
    const auto n = s.steps.size();
    std::vector<double> clicks(n, 0.0);
    for (std::size_t t = 0; t < n; ++t) {
      const auto& st = s.steps[t];
      if (st.beta.size() != st.items.size() || st.clicks.size() != st.items.size())
        throw InvalidInput("reinforce: a logged step's items, probabilities and clicks differ in length");
      for (float c : st.clicks) clicks[t] += c;
    }
    // after[t] = sum over t' > t of discount^(t' - t) clicks[t'].
    std::vector<double> after(n, 0.0);
    for (std::size_t t = n; t-- > 1;) after[t - 1] = discount * (clicks[t] + after[t]);
    for (std::size_t t = 0; t < n; ++t) {
      const auto& st = s.steps[t];
      for (std::size_t j = 0; j < st.items.size(); ++j) {
        if (st.clicks[j] <= 0 || st.beta[j] <= 0) continue;
        LoggedAction a;
        a.user = s.user;
        a.history = st.history;
        a.item = st.items[j];
        a.beta = st.beta[j];
        a.reward = st.clicks[j] + after[t];
        out.push_back(std::move(a));
      }
    }
  }
  return out;
}

void validate(const ReinforceOptions& o) {
  if (o.epochs < 1) throw InvalidInput("reinforce: epochs must be >= 1");
  if (!(o.lr > 0)) throw InvalidInput("reinforce: lr must be > 0");
  if (!(o.weight_decay >= 0)) throw InvalidInput("reinforce: weight_decay must be >= 0");
  if (o.batch_size < 1) throw InvalidInput("reinforce: batch_size must be >= 1");
  if (!(o.cap > 0)) throw InvalidInput("reinforce: cap must be > 0");
  if (o.top_k < 1) throw InvalidInput("reinforce: top_k must be >= 1");
  if (!(o.clip_norm >= 0)) throw InvalidInput("reinforce: clip_norm must be >= 0");
}

double reinforce_weight(double pi, double beta, double reward, double cap, std::size_t top_k) {
  const double ratio = std::min(pi / beta, cap);
  const double lambda = static_cast<double>(top_k) * std::pow(1.0 - pi, static_cast<double>(top_k) - 1.0);
  return ratio * lambda * reward;
}

nlohmann::json to_json(const std::vector<ReinforceEpoch>& epochs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : epochs)
    out.push_back({{"epoch", e.epoch},
                   {"loss", e.loss},
                   {"mean_weight", e.mean_weight},
                   {"capped", e.capped},
                   {"mean_log_pi", e.mean_log_pi},
                   {"seconds", e.seconds}});
  return out;
}

}  // namespace driftrec::rl
