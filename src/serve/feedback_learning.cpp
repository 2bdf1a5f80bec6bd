#include "driftrec/serve/feedback_learning.h"

#include "driftrec/core/error.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/serve/feedback_log.h"

namespace driftrec::serve {

nlohmann::json FeedbackLearningReport::to_json() const {
  return {{"requests", requests},           {"clicks", clicks},     {"actions", actions},
          {"cold_requests", cold_requests}, {"sessions", sessions}, {"skipped_items", skipped_items},
          {"epochs", rl::to_json(epochs)}};
}

FeedbackLearningReport reinforce_from_feedback(const store::EventStore& store, const std::string& model_dir,
                                               const std::string& out_dir, const FeedbackLearningOptions& o,
                                               const std::function<void(const rl::ReinforceEpoch&)>& progress) {
  rl::validate(o.train);
  auto loaded = models::load_model_dir(model_dir);
  auto* learner = dynamic_cast<rl::PolicyGradientLearner*>(loaded.model.get());
  if (!learner)
    throw InvalidInput(model_dir + ": a '" + loaded.model->name() + "' model cannot be fine-tuned as a policy");
  const auto fs = feedback_sessions(store, loaded, o.session_gap, o.history_limit);
  FeedbackLearningReport r;
  r.requests = fs.requests;
  r.clicks = fs.clicks;
  r.cold_requests = fs.cold_requests;
  r.skipped_items = fs.skipped_items;
  r.sessions = fs.sessions.size();
  const auto actions = rl::actions_from_sessions(fs.sessions, o.discount);
  r.actions = actions.size();
  if (actions.empty())
    throw InvalidInput("the store holds no click on a known item after a stored event to learn from");
  r.epochs = learner->reinforce(actions, o.train, progress);
  auto summary = r.to_json();
  summary["discount"] = o.discount;
  summary["cap"] = o.train.cap;
  summary["top_k"] = o.train.top_k;
  summary["lr"] = o.train.lr;
  models::save_fine_tuned(model_dir, out_dir, *loaded.model, {{"reinforce", summary}});
  return r;
}

}  // namespace driftrec::serve
