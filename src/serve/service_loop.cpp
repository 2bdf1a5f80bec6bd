// Service, the loop half: exploration policies over the model's scores and feedback on shown
// slates (POST /v1/feedback). The slate itself is recorded in Service::finish (service.cpp).
#include <cmath>

#include "driftrec/core/error.h"
#include "driftrec/core/rng.h"
#include "service_internals.h"

namespace driftrec::serve {

std::shared_ptr<policy::Policy> Service::policy_for(const std::string& spec) {
  if (spec.empty() || spec == "greedy") return nullptr;
  std::lock_guard lock(policies_mu_);
  if (const auto it = policies_.find(spec); it != policies_.end()) return it->second;
  const auto parsed = policy::parse_policy_spec(spec);
  if (parsed.name == "linucb" || parsed.name == "lints")
    throw InvalidInput("policy: '" + parsed.name +
                       "' learns from feedback and is not served yet (greedy, epsilon-greedy, boltzmann)");
  if (policies_.size() >= 64) throw InvalidInput("policy: too many distinct policy specs in use (64)");
  std::shared_ptr<policy::Policy> p = policy::make_policy(parsed);
  policies_.emplace(spec, p);
  return p;
}

TopK Service::explore(const Bundle& b, const models::UserState& state, const models::RecommendOptions& ro,
                      std::size_t k, policy::Policy& policy, bool cold_start, std::uint64_t number,
                      std::vector<double>* propensity) {
  const auto& model = *b.loaded.model;
  std::vector<float> scores(static_cast<std::size_t>(model.n_items()));
  if (cold_start) {
    std::lock_guard lock(b.pop_mu);
    std::copy(b.pop_counts.begin(), b.pop_counts.begin() + static_cast<std::ptrdiff_t>(scores.size()), scores.begin());
  } else {
    model.score(state, scores.data());
  }
  scores[0] = -INFINITY;
  for (auto x : ro.exclude) scores[static_cast<std::size_t>(x)] = -INFINITY;
  if (ro.exclude_seen)
    for (const auto& e : state.history)
      if (e.item > 0 && e.item < model.n_items()) scores[static_cast<std::size_t>(e.item)] = -INFINITY;
  policy::SlateContext ctx;
  ctx.scores = scores.data();
  ctx.n_items = model.n_items();
  ctx.k = k;
  // Each request draws from its own stream: seeded by the process salt and the request number.
  Rng rng(request_salt_ ^ (number * 0x9E3779B97F4A7C15ULL));
  const auto slate = policy.choose(ctx, rng);
  TopK top;
  for (std::size_t j = 0; j < slate.items.size(); ++j) {
    top.items.push_back(slate.items[j]);
    top.scores.push_back(scores[static_cast<std::size_t>(slate.items[j])]);
  }
  *propensity = slate.propensity;
  return top;
}

FeedbackResult Service::feedback(const IncomingFeedback& f) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  if (f.request_id.empty()) throw InvalidInput("request_id: must be a non-empty string");
  if (!std::isfinite(f.dwell) || f.dwell < 0) throw InvalidInput("dwell: must be a non-negative number of seconds");
  ShownSlate slate;
  using Claim = SlateLog::Claim;
  switch (slates_.claim(f.request_id, f.position, now_seconds(), &slate)) {
    case Claim::unknown:
    case Claim::expired:
      throw FeedbackRefused(
          FeedbackRefused::Reason::unknown_request,
          "request_id: no recent recommendation with this id (unknown, expired, or from before a restart)");
    case Claim::bad_position:
      throw FeedbackRefused(FeedbackRefused::Reason::bad_position, "position: outside the recommended slate");
    case Claim::duplicate:
      throw FeedbackRefused(FeedbackRefused::Reason::duplicate,
                            "feedback for this request and position was already recorded");
    case Claim::ok:
      break;
  }
  store::StoredFeedback row;
  row.request_id = f.request_id;
  row.user = slate.user;
  row.item = slate.items[f.position];
  row.position = static_cast<std::int32_t>(f.position);
  row.propensity = slate.propensity[f.position];
  row.policy = slate.policy;
  row.clicked = f.clicked;
  row.bought = f.bought;
  row.dwell = f.dwell;
  row.ts = f.ts.value_or(static_cast<std::int64_t>(now_seconds()));
  std::vector<store::StoredEvent> events;
  if ((f.clicked || f.bought) && !slate.user.empty()) {
    store::StoredEvent e;
    e.user = slate.user;
    e.item = row.item;
    e.ts = row.ts;
    e.behavior = f.bought ? "buy" : "click";
    events.push_back(std::move(e));
  }
  std::vector<std::int64_t> seqs;
  try {
    seqs = with_store([&] { return store_->append_feedback({row}, events); });  // durable from here on
  } catch (...) {
    slates_.release(f.request_id, f.position);  // not recorded: the client may retry
    throw;
  }
  FeedbackResult out;
  out.item = row.item;
  if (!events.empty()) {
    IngestResult res;
    res.accepted = static_cast<std::size_t>(std::count_if(seqs.begin(), seqs.end(), [](auto q) { return q > 0; }));
    apply(events, seqs, &res);
    out.event_seq = seqs.front();
  }
  return out;
}

}  // namespace driftrec::serve
