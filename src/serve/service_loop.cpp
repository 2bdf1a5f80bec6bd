// Service, the loop half: exploration policies over the model's scores and feedback on shown
// slates (POST /v1/feedback). The slate itself is recorded in Service::finish (service.cpp).
#include <cmath>
#include <cstdio>

#include "driftrec/core/error.h"
#include "driftrec/core/hash.h"
#include "driftrec/core/rng.h"
#include "service_internals.h"

namespace driftrec::serve {

std::shared_ptr<policy::Policy> Service::policy_for(const std::string& spec, std::uint64_t model_version) {
  if (spec.empty() || spec == "greedy") return nullptr;
  std::lock_guard lock(policies_mu_);
  if (const auto it = policies_.find(spec); it != policies_.end()) return it->second;
  // A learning policy's posterior is over one model's embeddings: one per model version.
  const std::string learner_key = spec + "@" + std::to_string(model_version);
  if (const auto it = learners_.find(learner_key); it != learners_.end()) return it->second;
  const auto parsed = policy::parse_policy_spec(spec);
  if (policies_.size() + learners_.size() >= kMaxPolicySpecs)
    throw InvalidInput("policy: too many distinct policy specs in use (" + std::to_string(kMaxPolicySpecs) + ")");
  std::shared_ptr<policy::Policy> p = policy::make_policy(parsed);
  if (p->learns())
    learners_.emplace(learner_key, p);
  else
    policies_.emplace(spec, p);
  return p;
}

std::string model_identity(const nlohmann::json& meta) {
  Fingerprint f;
  f.add(meta.dump());
  return f.hex();
}

std::map<std::string, std::shared_ptr<policy::Policy>> Service::rebuild_learners(const std::string& identity) {
  std::map<std::string, std::shared_ptr<policy::Policy>> out;
  std::size_t rows = 0;
  with_store([&] {
    store_->scan_model_feedback(identity, [&](const store::StoredFeedback& f) {
      if (f.features.empty()) return true;
      auto it = out.find(f.policy);
      if (it == out.end()) {
        std::shared_ptr<policy::Policy> p;
        try {
          p = policy::make_policy(policy::parse_policy_spec(f.policy));
        } catch (const InvalidInput& e) {  // a spec this version no longer accepts: its rows are skipped
          log_warn("feedback row " + std::to_string(f.seq) + ": policy '" + f.policy + "' not rebuilt: " + e.what());
        }
        if (!p || !p->learns() || out.size() >= kMaxPolicySpecs) p = nullptr;
        it = out.emplace(f.policy, std::move(p)).first;
      }
      if (it->second) {
        try {
          it->second->learn(f.features.data(), f.features.size(), f.clicked || f.bought ? 1.0f : 0.0f);
          ++rows;
        } catch (const InvalidInput& e) {  // another width than the policy's earlier rows: not this model's
          log_warn("feedback row " + std::to_string(f.seq) + " not replayed: " + e.what());
        }
      }
      return true;
    });
  });
  for (auto it = out.begin(); it != out.end();) it = it->second ? std::next(it) : out.erase(it);
  if (rows > 0)
    log_info("learning policies: " + std::to_string(out.size()) + " posterior(s) rebuilt from " + std::to_string(rows) +
             " stored feedback rows");
  return out;
}

Service::Explored Service::explore(const Bundle& b, const models::UserState& state, const models::RecommendOptions& ro,
                                   std::size_t k, policy::Policy& policy, bool cold_start, std::uint64_t number) {
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
  std::vector<float> query;
  int dim = 0;
  if (policy.learns())
    if (const float* items = model.item_embeddings(&dim)) {  // linear bandits: query (x) item features
      query = model.query_vector(state);
      ctx.query = query.data();
      ctx.item_matrix = items;
      ctx.dim = dim;
    }
  // Each request draws from its own stream: seeded by the process salt and the request number.
  Rng rng(request_salt_ ^ (number * 0x9E3779B97F4A7C15ULL));
  auto slate = policy.choose(ctx, rng);
  Explored out;
  for (std::size_t j = 0; j < slate.items.size(); ++j) {
    out.top.items.push_back(slate.items[j]);
    out.top.scores.push_back(scores[static_cast<std::size_t>(slate.items[j])]);
  }
  out.propensity = std::move(slate.propensity);
  out.features = std::move(slate.features);
  return out;
}

void Service::remember_slate(const std::string& user, std::uint64_t number,
                             const std::shared_ptr<policy::Policy>& policy, std::vector<float> features,
                             const std::string& model, RecommendResult* out) {
  // A request id names this slate for feedback: unique per process (salted counter).
  char id[40];
  std::snprintf(id, sizeof id, "r%016llx%08llx", static_cast<unsigned long long>(request_salt_),
                static_cast<unsigned long long>(number));
  out->request_id = id;
  ShownSlate shown;
  shown.user = user;
  shown.policy = out->policy;
  shown.shown_at = now_seconds();
  for (const auto& r : out->items) {
    shown.items.push_back(r.item);
    shown.propensity.push_back(r.propensity);
  }
  if (policy && policy->learns() && !features.empty()) {
    shown.learner = policy;
    shown.features = std::move(features);
    shown.model = model;
  }
  slates_.add(out->request_id, std::move(shown));
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
  const float* learned = nullptr;  // a learning policy's slate: this position's outcome is an observation
  const auto d = slate.learner ? slate.learner->feature_dim() : 0;
  if (d > 0 && slate.features.size() >= (f.position + 1) * d) {
    learned = &slate.features[f.position * d];
    row.model = slate.model;
    row.features.assign(learned, learned + d);
  }
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
    seqs = append_own([&] { return store_->append_feedback({row}, events); });  // durable from here on
  } catch (...) {
    slates_.release(f.request_id, f.position);  // not recorded: the client may retry
    throw;
  }
  if (learned) slate.learner->learn(learned, d, f.clicked || f.bought ? 1.0f : 0.0f);
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
