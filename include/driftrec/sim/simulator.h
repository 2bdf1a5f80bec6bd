#pragma once
// An interactive environment on the synthetic generator's ground truth: a policy shows a slate of
// k items to a simulated user, the user responds, the policy (and the model's user state) learn from
// the response, and this repeats until the user leaves. Seeded and deterministic.
//
// World: the items, categories and popularity of a generated dataset (data/synth.h); each episode is
// one session of one of its users, starting from the user's generated history (the model's state)
// and true interests at the end of it (interests.csv's last snapshot).
//
// Response model (documented knobs in ResponseOptions):
//   relevance   rel(i) = min(0.95, base_click * w_c (1 - s_c) / max_c' w_c' * ((1 - pop_weight) + pop_weight * pop_i))
//               w the user's interest over categories, s their satiation, pop_i the item's popularity
//               relative to the most popular item of its category
//   examination position j (0-based) is looked at with probability 1 / (1 + j)^position_decay
//   click       cascade: positions in order; an examined item is clicked with probability rel(i);
//               the first click ends the scan (at most one click per step)
//   buy         a click becomes a buy with probability buy_rate
//   satiation   a click in category c: s_c += satiation (1 - s_c); every step s *= (1 - recovery)
//   discovery   each user holds latent interests L (categories outside their current interests);
//               showing an item of category c at position j raises w_c by discovery * L_c * exam_j
//               (then w is renormalised): exploration can widen what a user likes
//   leaving     after a step without a click the user leaves with probability leave_no_click,
//               after a click with leave_click; sessions end after max_steps anyway
//   shift       at step `shift_step` (if >= 0) the interests jump as the generator's shifts do
//               (0.15 old + 0.85 a fresh Dirichlet draw)
// The oracle knows rel() at every step and shows the k most relevant items in order of relevance;
// regret is the oracle's expected clicks minus the policy's, at the same user state, per step.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/synth.h"
#include "driftrec/models/model.h"
#include "driftrec/ope/bandit_log.h"
#include "driftrec/ope/estimators.h"
#include "driftrec/policy/policy.h"
#include "driftrec/rl/reinforce.h"

namespace driftrec::sim {

struct ResponseOptions {
  double base_click = 0.35;
  double position_decay = 1.0;
  double pop_weight = 0.5;
  double buy_rate = 0.1;
  double satiation = 0.3;
  double recovery = 0.05;
  double discovery = 0.05;
  double leave_no_click = 0.1;
  double leave_click = 0.02;
  int max_steps = 50;
  int shift_step = -1;
  /// true: cascade (first click ends the scan); false: position-based model (every position is
  /// examined and clicked independently; several clicks per step possible), under which each
  /// position's reward depends only on the item shown there, as position-wise off-policy
  /// estimators assume.
  bool cascade = true;
};

struct SimOptions {
  ResponseOptions response;
  std::size_t k = 10;  ///< slate size
  int episodes = 200;  ///< sessions simulated (users taken in a seeded random order, cycling)
  std::uint64_t seed = 42;
  bool log = false;    ///< record every shown (item, position, click, propensity) as a bandit log
  bool online = true;  ///< clicks update the model's user state (observe) within the session
  /// Record every session's steps (state history, slate, the policy's single-draw probability of
  /// each shown item, clicks) for learning from them (rl/reinforce.h).
  bool record_sessions = false;
  /// Threads for the episodes (0 = all cores) when the policy does not learn across episodes
  /// (Policy::learns()); learning policies run on one thread. Each episode has its own random
  /// stream, so results do not depend on it (tested with ials); inside the workers BLAS and
  /// LibTorch run one thread each, as in the evaluator, so a LibTorch model's scores may differ from a
  /// one-thread run in the last bits (another summation order), which can rarely reorder a near-tie.
  int threads = 1;
};

/// Per-episode outcomes.
struct Episode {
  std::int32_t user = 0;
  int steps = 0;
  int clicks = 0, buys = 0;
  double expected_clicks = 0;         ///< sum over steps of the slate's expected clicks
  double oracle_expected_clicks = 0;  ///< the same for the oracle's slate at each step
  std::vector<int> click_steps;       ///< steps at which a click happened
};

struct SimReport {
  std::string policy;
  std::vector<Episode> episodes;
  double clicks_mean = 0, clicks_ci = 0;          ///< per episode, with a 95% normal half-width
  double buys_mean = 0, steps_mean = 0, ctr = 0;  ///< ctr = clicks / steps
  double regret_mean = 0;                         ///< oracle expected clicks - policy expected clicks, per episode
  double coverage = 0;                            ///< distinct items shown / catalogue
  double episodes_per_second = 0;
  ope::BanditLog log;                       ///< with SimOptions::log (item ids are the model's item indices)
  std::vector<rl::LoggedSession> sessions;  ///< with SimOptions::record_sessions, one per episode
  /// With a target policy given to run(): its distribution over items at each logged row's
  /// position, in that row's state (for off-policy estimates of the target from this log).
  std::vector<ope::SparseDistribution> target;
  /// Share of the sessions still running at step t that clicked at t (a step counts once).
  std::vector<double> ctr_by_step() const;
  nlohmann::json to_json() const;  ///< everything but the per-episode rows and the log
};

class Simulator {
 public:
  /// `world` from data::generate_synthetic; `ds` its Dataset (data::to_dataset) whose indices the
  /// model uses. Throws InvalidInput when they do not match or options are out of range.
  Simulator(const data::SynthData& world, const data::Dataset& ds, SimOptions options);

  /// Runs the episodes with `model` scoring and `policy` choosing. The policy keeps what it learns
  /// across episodes (call with a fresh policy for an independent run).
  /// With `target`, every logged row also records the target's distribution (needs options.log).
  SimReport run(const models::Model& model, policy::Policy& policy, const policy::Policy* target = nullptr) const;

  /// Exact expected clicks per step of `policy` at the users' starting states (no learning, no
  /// dynamics), averaged over every user: the truth that off-policy estimates of one-step logs
  /// are compared with. Under the cascade, positions interact; this needs cascade = false.
  double policy_value(const models::Model& model, const policy::Policy& policy) const;

  /// True relevance of every item (dataset item index) for interests w and satiation s.
  std::vector<double> relevance(const std::vector<double>& w, const std::vector<double>& s) const;
  /// Expected clicks of a slate with these relevances: P(at least one click) under the cascade,
  /// the sum of the positions' click probabilities under the position-based model.
  double expected_clicks(const std::vector<std::int32_t>& slate, const std::vector<double>& rel) const;

 private:
  struct UserStart {
    std::int32_t user;                 ///< dataset user index
    std::vector<data::Event> history;  ///< dataset item indices
    std::vector<double> interest;      ///< per category, sums to 1
  };
  Episode run_episode(const models::Model& model, policy::Policy& policy, const UserStart& u, Rng& rng,
                      std::vector<char>& shown, SimReport* logged, const policy::Policy* target,
                      rl::LoggedSession* session) const;
  /// The policy's view of a state: scores with seen and excluded items at -inf, embeddings.
  policy::SlateContext context(const models::Model& model, const models::UserState& state,
                               const std::vector<std::int32_t>& exclude, std::vector<float>& scores,
                               std::vector<float>& query) const;

  SimOptions o_;
  std::int32_t n_items_ = 0;  ///< dataset indices 0..n_items_-1 (0 = padding)
  std::int32_t n_categories_ = 0;
  std::vector<std::int32_t> category_;  ///< per dataset item index (-1 for padding)
  std::vector<double> pop_;             ///< per dataset item index, relative to its category's top
  std::vector<UserStart> users_;
};

}  // namespace driftrec::sim
