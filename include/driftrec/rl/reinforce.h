#pragma once
// Learning from feedback: off-policy-corrected REINFORCE with the top-K correction (Chen et al.,
// "Top-K Off-Policy Correction for a REINFORCE Recommender System", WSDM 2019).
//
// The model is a policy pi(a | s) = softmax of its scores over the items a user may be shown in
// state s: items in the window the model encodes (its last max_len events) are excluded, as the
// serving path excludes seen items (which also leaves out older history items; not those).
// A logged action is an item the user clicked, with
//   s        the history the logging system saw when it chose the slate,
//   beta     the logging policy's probability of drawing that item first (its single-draw
//            probability: exactly the first position's propensity for greedy, epsilon-greedy and
//            Boltzmann / Plackett-Luce policies),
//   R        the discounted return from that step on: 1 + sum_{t' > t} gamma^(t'-t) clicks_t'.
// Each logged action contributes  - w * log pi(a | s)  to the loss, with the weight (not
// differentiated)
//   w = min(pi(a | s) / beta, cap) * lambda_K(a | s) * R,   lambda_K = K (1 - pi(a | s))^(K - 1):
// the importance weight corrects for the logging policy, capping bounds its variance, and
// lambda_K turns the gradient of one draw into that of a slate of K draws (a top-K policy gains
// less from raising an item it would show anyway). `top_k = 1` is the plain off-policy REINFORCE.
//
// The loss is the sum of the weighted terms divided by the batch's number of actions (so the
// learning rate does not depend on the batch); AdamW with the model's own clipping.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/data/dataset.h"

namespace driftrec::rl {

/// One clicked item of a logged slate.
struct LoggedAction {
  std::int32_t user = 0;
  std::vector<data::Event> history;  ///< the state: the user's events before the slate (oldest first)
  std::int32_t item = 0;             ///< the clicked item (model item index)
  double beta = 1.0;                 ///< the logging policy's single-draw probability of `item`, in (0, 1]
  double reward = 1.0;               ///< discounted return from this step on
};

/// One shown slate of a logged session, for building actions (positions in slate order).
struct LoggedStep {
  std::vector<data::Event> history;
  std::vector<std::int32_t> items;
  std::vector<double> beta;   ///< per shown item: the logging policy's single-draw probability
  std::vector<float> clicks;  ///< per shown item: 1 clicked, 0 not
};

/// One user's session: its steps in order.
struct LoggedSession {
  std::int32_t user = 0;
  std::vector<LoggedStep> steps;
};

/// Every click of every session as an action whose reward is the discounted number of clicks from
/// its step on (the step's own clicks count 1 each; a later step t' adds gamma^(t' - t) per click).
/// Clicks on items the logging policy could not have drawn first (beta 0, e.g. a greedy slate's
/// lower positions) carry no off-policy information under this estimator and are left out.
/// Throws InvalidInput for discount outside [0, 1] or a step whose vectors disagree in length.
std::vector<LoggedAction> actions_from_sessions(const std::vector<LoggedSession>& sessions, double discount);

struct ReinforceOptions {
  int epochs = 2;
  double lr = 1e-4;
  double weight_decay = 0.0;
  std::size_t batch_size = 128;
  double cap = 10.0;       ///< importance weights above this are cut to it (Chen et al.'s c)
  std::size_t top_k = 10;  ///< K of the top-K correction; 1 = plain off-policy REINFORCE
  double clip_norm = 1.0;  ///< gradient norm clipping (0 = off)
  std::uint64_t seed = 42;
  int threads = 2;
};

/// Throws InvalidInput naming the first out-of-range option.
void validate(const ReinforceOptions& o);

/// The weight of one action (see the header comment); pi and beta in (0, 1].
double reinforce_weight(double pi, double beta, double reward, double cap, std::size_t top_k);

/// What one epoch of fine-tuning did.
struct ReinforceEpoch {
  int epoch = 0;
  double loss = 0;         ///< mean of -w log pi over the epoch's actions
  double mean_weight = 0;  ///< mean of min(pi / beta, cap) (1 when the model is the logging policy)
  double capped = 0;       ///< share of actions whose importance weight was capped
  double mean_log_pi = 0;  ///< mean log pi(a | s) of the logged actions at the start of their batch
  double seconds = 0;
};

/// The epochs as a JSON array of objects (field names as in ReinforceEpoch).
nlohmann::json to_json(const std::vector<ReinforceEpoch>& epochs);

/// A model that can be fine-tuned as a policy from logged actions.
class PolicyGradientLearner {
 public:
  virtual ~PolicyGradientLearner() = default;
  /// Fine-tunes the fitted model in place. Throws InvalidInput for bad options, an action whose
  /// item or beta is out of range, or a model that has not been fitted.
  virtual std::vector<ReinforceEpoch> reinforce(const std::vector<LoggedAction>& actions,
                                                const ReinforceOptions& options,
                                                const std::function<void(const ReinforceEpoch&)>& progress = {}) = 0;
};

}  // namespace driftrec::rl
