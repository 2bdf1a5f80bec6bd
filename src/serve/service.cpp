#include "driftrec/serve/service.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <list>
#include <map>
#include <random>
#include <type_traits>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/core/topk.h"
#include "driftrec/serve/feedback_log.h"
#include "service_internals.h"

namespace driftrec::serve {

void Service::storage_failed(const std::string& message) {
  std::lock_guard lock(storage_mu_);
  storage_error_ = message;
  storage_ok_ = false;
}

Service::Service(const std::string& model_dir, std::unique_ptr<store::EventStore> store, ServiceOptions options)
    : store_(std::move(store)),
      options_(options),
      slates_(options.feedback_slates, options.feedback_ttl_seconds),
      request_salt_(std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32)) {
  if (!store_) throw InvalidInput("service needs an event store");
  if (options_.history_limit == 0) throw InvalidInput("history_limit must be >= 1");
  if (options_.retrieval != "exact" && options_.retrieval != "hnsw")
    throw InvalidInput("retrieval must be exact or hnsw, got '" + options_.retrieval + "'");
  if (!(options_.retention_days >= 0)) throw InvalidInput("retention_days must be >= 0 (0 = keep everything)");
  if (!(options_.retention_interval_seconds > 0)) throw InvalidInput("retention_interval_seconds must be > 0");
  for (std::size_t i = 0; i < kShards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    shards_.back()->budget = options_.cache_bytes / kShards;
  }
  reload(model_dir);
  if (options_.retention_days > 0) retention_ = std::make_unique<Retention>(*this, options_.retention_interval_seconds);
  if (options_.replica) start_following();
  start_committer();
}

Service::~Service() = default;

std::shared_ptr<const Service::Bundle> Service::bundle() const {
  std::lock_guard lock(bundle_mu_);
  return bundle_;
}

void Service::reload(const std::string& dir_in) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  const std::string dir = dir_in.empty() ? bundle()->dir : dir_in;
  std::shared_ptr<Bundle> b;
  try {
    b = std::make_shared<Bundle>();
    b->loaded = models::load_model_dir(dir);
    b->dir = dir;
    b->identity = model_identity(b->loaded.meta);
    b->loaded_at = now_seconds();
    b->pop_counts.assign(static_cast<std::size_t>(b->loaded.model->n_items()), 0.0f);
    b->reranking = std::make_unique<workflow::ModelReranking>(b->loaded, options_.groups);
    if (options_.retrieval == "hnsw") {
      int dim = 0;
      if (const float* items = b->loaded.model->item_embeddings(&dim)) {
        b->retriever = index::make_hnsw_retriever(items, b->loaded.model->n_items(), dim, options_.hnsw);
      } else {
        log_warn(b->loaded.model->name() + " does not score by inner product; serving with exact retrieval");
      }
    }
    for (const auto& e : with_store([&] { return store_->recent(options_.popularity_window); })) {
      if (const auto i = b->known_item(e.item); i >= 0) b->count(i, options_.popularity_window);
    }
  } catch (...) {
    if (bundle_) ++reloads_failed_;
    throw;
  }
  // Learning policies learned over one model's embeddings: rebuilt from the stored feedback of this
  // model (none for a new one), installed with the bundle so no request sees the new model without them.
  auto learners = rebuild_learners(b->identity);
  {
    std::lock_guard lock(bundle_mu_);
    b->version = bundle_ ? bundle_->version + 1 : 1;
    bundle_ = b;
    std::lock_guard lock_policies(policies_mu_);
    learners_.clear();
    for (auto& [spec, p] : learners) learners_.emplace(spec + "@" + std::to_string(b->version), std::move(p));
  }
  // States belong to a model: drop them (memory); each also records its model version, so one
  // cached by a request still running on the old model is rebuilt, not used.
  for (auto& s : shards_) {
    std::lock_guard lock(s->mu);
    s->clear();
  }
  log_info("serving model " + b->loaded.model->name() + " from " + dir + " (version " + std::to_string(b->version) +
           ")");
}

Service::Shard& Service::shard_of(const std::string& user) {
  return *shards_[std::hash<std::string>{}(user) % kShards];
}

std::vector<data::Event> Service::to_events(const Bundle& b, std::int32_t user,
                                            const std::vector<store::StoredEvent>& events) const {
  return model_events(b.loaded, user, events);
}

RecommendResult Service::finish(const Bundle& b, const models::UserState& state, const RecommendRequest& req,
                                const std::string& user, bool remember) {
  const auto& model = *b.loaded.model;
  RecommendResult out;
  out.model_version = b.version;
  out.history_length = state.history.size();
  models::RecommendOptions ro;
  ro.exclude_seen = req.exclude_seen;
  for (const auto& x : req.exclude)
    if (const auto i = b.loaded.items.find(x); i >= 0) ro.exclude.push_back(i);
  TopK top;
  const auto policy = policy_for(req.policy, static_cast<std::uint64_t>(b.version));  // validated before any work
  const bool rerank = !req.rerank.empty() && req.rerank != "none";
  if (rerank) {
    if (policy) throw InvalidInput("rerank: cannot be combined with an exploration policy (policy=" + req.policy + ")");
    if (req.rerank_depth < 1) throw InvalidInput("rerank_depth: must be at least 1");
    b.reranking->reranker(req.rerank);
    out.rerank = req.rerank;
  }
  const std::size_t want = rerank ? std::max(req.k, req.rerank_depth) : req.k;
  const std::uint64_t number = ++requests_;  // names the slate and seeds its draws
  std::vector<double> propensity;
  std::vector<float> features;
  const bool cold = state.history.empty() && !(state.user >= 1 && model.capabilities().remembers_users);
  if (policy) {
    out.cold_start = cold;
    out.policy = req.policy;
    auto drawn = explore(b, state, ro, req.k, *policy, cold, number);
    top = std::move(drawn.top);
    propensity = std::move(drawn.propensity);
    features = std::move(drawn.features);
  } else if (cold) {
    // Cold start (nothing known about this user): recent popularity.
    out.cold_start = true;
    std::vector<float> scores;
    {
      std::lock_guard lock(b.pop_mu);
      scores = b.pop_counts;
    }
    scores[0] = -INFINITY;
    for (auto x : ro.exclude) scores[static_cast<std::size_t>(x)] = -INFINITY;
    top = top_k(scores.data(), scores.size(), want);
  } else if (b.retriever) {
    std::vector<std::int32_t> excluded = ro.exclude;
    if (ro.exclude_seen)
      for (const auto& e : state.history) excluded.push_back(e.item);
    const auto q = model.query_vector(state);
    top = b.retriever->search(q.data(), want, excluded);
  } else {
    top = model.recommend(state, want, ro);
  }
  if (rerank) top = b.reranking->apply(req.rerank, top, state, req.k);
  const bool explain = req.explain && !out.cold_start && model.capabilities().explain;
  out.explained = explain;
  const auto attrs = explain ? model.explain_batch(state, top.items) : std::vector<std::vector<models::Attribution>>{};
  for (std::size_t r = 0; r < top.size(); ++r) {
    Recommendation rec{b.loaded.items.name(top.items[r]), top.scores[r], propensity.empty() ? 1.0 : propensity[r], {}};
    if (explain) {
      const auto& attr = attrs[r];
      for (std::size_t a = 0; a < std::min<std::size_t>(3, attr.size()); ++a) {
        const auto& ev = state.history[attr[a].position];
        rec.because.push_back({b.loaded.items.name(ev.item), ev.ts,
                               ev.behavior < b.loaded.behaviors.size() ? b.loaded.behaviors.name(ev.behavior) : "",
                               attr[a].weight, attr[a].position});
      }
    }
    out.items.push_back(std::move(rec));
  }
  if (remember) remember_slate(user, number, policy, std::move(features), b.identity, &out);
  return out;
}

RecommendResult Service::recommend_history(const std::vector<IncomingEvent>& history, const RecommendRequest& req) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  const auto b = bundle();
  std::vector<store::StoredEvent> rows;
  std::int64_t t = 0;
  bool clocked = true;  // every event has its time
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].item.empty())
      throw InvalidInput("history[" + std::to_string(i) + "].item: must be a non-empty string");
    store::StoredEvent r;
    r.item = history[i].item;
    r.ts = history[i].ts.value_or(t);
    clocked = clocked && history[i].ts.has_value();
    t = r.ts + 1;
    r.behavior = history[i].behavior;
    r.value = history[i].value;
    rows.push_back(std::move(r));
  }
  auto state = b->loaded.model->encode(-1, to_events(*b, -1, rows));
  if (req.at || clocked) state.now = req.at.value_or(static_cast<std::int64_t>(now_seconds()));
  return finish(*b, state, req, "");  // anonymous: feedback is recorded, but no user event follows
}

nlohmann::json Service::interests(const std::string& user) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  const auto b = bundle();
  const auto& t = b->loaded.item_table;
  if (!t.has_categories())
    throw NotSupported("the model directory has no item categories, so interests cannot be computed");
  std::vector<std::exception_ptr> error(1);
  const auto state = std::move(states_of({user}, *b, &error).front());
  if (error[0]) std::rethrow_exception(error[0]);
  const auto& h = state.history;
  const std::size_t half = h.size() / 2;
  auto shares = [&](std::size_t from, std::size_t to) {
    std::map<std::string, double> s;
    double n = 0;
    for (std::size_t p = from; p < to; ++p) {
      const auto c = t.primary_category(h[p].item);
      if (c < 0) continue;
      s[t.categories.name(c)] += 1;
      n += 1;
    }
    for (auto& [k, v] : s) v /= std::max(1.0, n);
    return s;
  };
  const auto before = shares(0, half), now = shares(half, h.size());
  double tv = 0;
  std::map<std::string, double> all;
  for (const auto& [k, v] : before) all[k] += 0;
  for (const auto& [k, v] : now) all[k] += 0;
  for (const auto& [k, v] : all) {
    const double a = before.count(k) ? before.at(k) : 0.0, c = now.count(k) ? now.at(k) : 0.0;
    tv += std::fabs(a - c);
  }
  auto top = [](const std::map<std::string, double>& m) {
    std::vector<std::pair<std::string, double>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
    nlohmann::json j = nlohmann::json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(5, v.size()); ++i)
      j.push_back({{"category", v[i].first}, {"share", v[i].second}});
    return j;
  };
  return {{"user", user},
          {"events", h.size()},
          {"now", top(now)},
          {"before", top(before)},
          {"drift", before.empty() || now.empty() ? 0.0 : tv / 2.0},
          {"model_version", b->version}};
}

std::vector<Recommendation> Service::similar(const std::string& item, std::size_t k) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  const auto b = bundle();
  const auto i = b->known_item(item);
  if (i < 0) throw NotFound("item '" + item + "' is unknown to the model");
  const auto state = b->loaded.model->encode(-1, {data::Event{-1, i, 0, 0, 0, 1.0f}});
  RecommendRequest req;
  req.k = k;
  return finish(*b, state, req, "", false).items;
}

std::size_t Service::warm_up(const std::vector<std::string>& users) {
  const models::dense::OneThreadHere one;  // callers run concurrently (see the class comment)
  const auto b = bundle();
  std::vector<std::exception_ptr> errors(users.size());
  std::size_t built = 0;
  states_of(users, *b, &errors, &built);  // in one batched encode
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return built;
}

ServiceStats Service::stats() const {
  const auto b = bundle();
  ServiceStats s;
  s.events_ingested = events_ingested_;
  s.ingest_commits = ingest_commits_;
  s.ingest_commit_seconds = static_cast<double>(ingest_commit_ns_.load()) * 1e-9;
  s.unknown_item_events = unknown_items_;
  for (const auto& sh : shards_) {
    std::lock_guard lock(sh->mu);
    s.cached_users += static_cast<std::int64_t>(sh->users.size());
    s.cache_bytes += static_cast<std::int64_t>(sh->bytes);
  }
  s.storage_ok = storage_ok_;
  if (!s.storage_ok) {
    std::lock_guard lock(storage_mu_);
    s.storage_error = storage_error_;
  }
  s.model_version = b->version;
  s.model_name = b->loaded.model->name();
  s.model_dir = b->dir;
  s.model_loaded_at = b->loaded_at;
  s.last_event_at = last_event_at_;
  s.reloads_failed = reloads_failed_;
  s.users_deleted = users_deleted_;
  s.events_purged = events_purged_;
  s.events_replicated = events_replicated_;
  s.follow_watermark = follow_watermark_;
  return s;
}

}  // namespace driftrec::serve
