// The v1 API over the transport: every route with its lane, access and input checks, and /metrics.
// Past 500 lines on purpose: the routes read as one table of what the server answers and who may
// call it; their request parsing lives in http_request.cpp and their work in Service.
#include "driftrec/serve/http_server.h"

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/core/text.h"
#include "http_request.h"
#include "http_transport.h"

namespace driftrec::serve {

namespace {

using nlohmann::json;

// Latency histogram and status counts of one route (lock-free).
constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
struct RouteMetrics {
  std::string name;
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_us{0};
  std::array<std::atomic<std::uint64_t>, 6> by_class{};  // 1xx..5xx by status / 100
  void observe(double seconds, int status) {
    std::size_t b = 0;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    ++buckets[b];
    ++count;
    sum_us += static_cast<std::uint64_t>(seconds * 1e6);
    ++by_class[static_cast<std::size_t>(std::clamp(status / 100, 0, 5))];
  }
};

bool equal_constant_time(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

/// Who may call a route.
enum class Access { open, write, admin };

/// The JSON answer for a failed request (`request`: "METHOD path", for the log): library errors
/// become 4xx/5xx.
Response error_answer(const std::string& request, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& e) {
    return error_response(e.status, e.code, e.what());
  } catch (const store::StorageUnavailable& e) {
    log_error("storage failure on " + request + ": " + e.what());
    return error_response(503, "storage_unavailable", "the event store cannot be written or read now; retry later");
  } catch (const InvalidInput& e) {
    return error_response(400, "invalid_input", e.what());
  } catch (const NotFound& e) {
    return error_response(404, "not_found", e.what());
  } catch (const NotSupported& e) {
    return error_response(422, "not_supported", e.what());
  } catch (const CorruptModel& e) {
    return error_response(422, "corrupt_model", e.what());
  } catch (const std::exception& e) {
    log_error("internal error on " + request + ": " + e.what());
  } catch (...) {
    log_error("internal error on " + request);
  }
  return error_response(500, "internal", "internal error; see the server log");
}

/// error_answer for a request (logged as "METHOD path").
Response error_answer(const Request& req, const std::exception_ptr& error) {
  return error_answer(req.method + " " + req.path, error);
}

/// POST /v1/events' answer.
Response events_answer(const IngestResult& r) {
  std::int64_t first = 0, last = 0;  // of the stored events (0 when none was)
  for (const auto q : r.seqs)
    if (q > 0) {
      first = first == 0 ? q : first;
      last = q;
    }
  return json_response(200, {{"accepted", r.accepted},
                             {"unknown_items", r.unknown_items},
                             {"dropped", {{"deleted_users", r.deleted_users}, {"expired", r.expired}}},
                             {"first_seq", first},
                             {"last_seq", last}});
}

/// Event bodies up to this size are parsed on the I/O thread and queued for the commit thread
/// (one event is ~100 bytes); larger batches are parsed on a write worker.
constexpr std::size_t kInlineEventBytes = 8 * 1024;

/// Most recommendation requests one worker answers together (their new users' states are encoded
/// in one pass).
constexpr std::size_t kRecommendBatch = 16;

}  // namespace

struct HttpServer::Impl {
  Service& svc;
  HttpOptions opt;
  std::map<std::string, std::unique_ptr<RouteMetrics>> metrics;  // fixed before serving starts
  std::vector<Route> routes;
  std::unique_ptr<HttpTransport> transport;

  Impl(Service& s, HttpOptions o) : svc(s), opt(std::move(o)) {}

  /// The refusal for a request without the right bearer token, from its headers alone.
  std::optional<Response> check_access(Access access, const Request& req) const {
    if (access == Access::open) return std::nullopt;
    const std::string& token = access == Access::admin ? opt.admin_token : opt.token;
    if (token.empty()) {
      if (opt.allow_no_auth) return std::nullopt;
      return error_response(403, "admin_disabled",
                            "admin routes are off: start the server with --admin-token-file (SIGHUP still reloads)");
    }
    const auto h = req.header("authorization");
    const std::string prefix = "Bearer ";
    if (h.empty()) return error_response(401, "unauthorized", "this route needs 'Authorization: Bearer <token>'");
    if (h.compare(0, prefix.size(), prefix) != 0 || !equal_constant_time(h.substr(prefix.size()), token))
      return error_response(403, "forbidden", "the bearer token is not valid for this route");
    return std::nullopt;
  }

  /// A route's common part: pattern, metrics, lane and who may call it.
  Route& add_route(const std::string& method, const std::string& pattern, const std::string& name, Lane lane,
                   Access access) {
    auto m = std::make_unique<RouteMetrics>();
    m->name = name;
    metrics.emplace(name, std::move(m));
    Route r;
    r.method = method;
    r.pattern = std::regex(pattern);
    r.name = name;
    r.lane = lane;
    r.admit = [this, access](const Request& req) { return check_access(access, req); };
    routes.push_back(std::move(r));
    return routes.back();
  }

  /// Registers a route whose handler fills the response; library errors become JSON 4xx/5xx.
  template <typename Fn>
  void route(const std::string& method, const std::string& pattern, const std::string& name, Lane lane, Access access,
             Fn fn) {
    add_route(method, pattern, name, lane, access).handler = [fn](const Request& req, Response& res) {
      try {
        fn(req, res);
      } catch (...) {
        res = error_answer(req, std::current_exception());
      }
    };
  }

  /// Registers a route whose queued requests a worker takes together (Route::batch); an error
  /// thrown by `fn` answers every request it left unanswered like route()'s.
  template <typename Fn>
  void batch_route(const std::string& method, const std::string& pattern, const std::string& name, Lane lane,
                   Access access, std::size_t max_batch, Fn fn) {
    auto& r = add_route(method, pattern, name, lane, access);
    r.max_batch = max_batch;
    r.batch = [fn](const std::vector<const Request*>& requests, const std::vector<Reply>& replies) {
      try {
        fn(requests, replies);
      } catch (...) {
        const auto error = std::current_exception();
        for (std::size_t i = 0; i < requests.size(); ++i) replies[i](error_answer(*requests[i], error));
      }
    };
  }

  /// Registers a route answered later through its Reply (Route::deferred); an error thrown before
  /// it replies is answered like route()'s.
  template <typename Fn>
  void deferred_route(const std::string& method, const std::string& pattern, const std::string& name, Lane lane,
                      Access access, std::size_t inline_body_bytes, Fn fn) {
    auto& r = add_route(method, pattern, name, lane, access);
    r.inline_body_bytes = inline_body_bytes;
    r.deferred = [fn](const Request& req, const Reply& reply) {
      try {
        fn(req, reply);
      } catch (...) {
        reply(error_answer(req, std::current_exception()));
      }
    };
  }

  void observe(const std::string& name, double seconds, int status) {
    const auto it = metrics.find(name);
    (it != metrics.end() ? *it->second : *metrics.at("rejected")).observe(seconds, status);
  }

  /// The directory a reload request may load: the served one, or one under --model-root. The
  /// refusal does not depend on whether the path exists, so it reveals nothing about the disk.
  std::string reload_dir(const std::string& asked) const {
    namespace fs = std::filesystem;
    if (asked.empty()) return "";
    std::error_code ec;
    const fs::path root = opt.model_root.empty() ? fs::path() : fs::weakly_canonical(opt.model_root, ec);
    fs::path p(asked);
    if (p.is_relative() && !root.empty()) p = root / p;
    const fs::path resolved = fs::weakly_canonical(p, ec);
    const fs::path served = fs::weakly_canonical(svc.stats().model_dir, ec);
    if (resolved == served) return resolved.string();
    if (!root.empty()) {
      const auto rel = resolved.lexically_relative(root);
      if (!rel.empty() && *rel.begin() != ".." && rel != ".") return resolved.string();
    }
    throw HttpError(
        403, "model_dir_not_allowed",
        opt.model_root.empty()
            ? "model_dir: only the served directory may be reloaded (start with --model-root to allow others)"
            : "model_dir: must be the served directory or a directory under --model-root");
  }

  /// A GET recommendations request's options from its query (4xx on a bad value).
  RecommendRequest recommend_request(const Request& req) const {
    RecommendRequest rr;
    if (req.has_param("k")) rr.k = parse_k(req.param("k"), opt.max_k);
    if (req.has_param("exclude_seen")) rr.exclude_seen = parse_bool(req.param("exclude_seen"), "exclude_seen");
    if (req.has_param("explain")) rr.explain = parse_bool(req.param("explain"), "explain");
    if (req.has_param("policy")) rr.policy = spec_of(req.param("policy"), "policy");
    if (req.has_param("rerank")) rr.rerank = spec_of(req.param("rerank"), "rerank");
    if (req.has_param("rerank_depth")) rr.rerank_depth = parse_count(req.param("rerank_depth"), "rerank_depth", 10000);
    if (req.has_param("at")) rr.at = parse_timestamp(req.param("at"), "at");
    if (req.has_param("exclude")) {
      std::stringstream ss(req.param("exclude"));
      for (std::string x; std::getline(ss, x, ',');)
        if (!x.empty()) rr.exclude.push_back(x);
    }
    return rr;
  }

  void install_routes();
  void install_write_routes();
  void install_read_routes();
  void install_ops_routes();
  std::string prometheus() const;
};

void HttpServer::Impl::install_routes() {
  install_write_routes();
  install_read_routes();
  install_ops_routes();
}

// Events and feedback: the write lane, authenticated writers.
void HttpServer::Impl::install_write_routes() {
  // Answered by the service's commit thread once the events are durable: the request holds no
  // worker while it waits, and a small body is parsed where it was read.
  deferred_route("POST", "/v1/events", "post_events", Lane::write, Access::write, kInlineEventBytes,
                 [this](const Request& req, const Reply& reply) {
                   const auto body = parse_body(req);
                   std::vector<IncomingEvent> events;
                   if (body.is_array()) {
                     if (body.empty()) throw HttpError(400, "invalid_field", "events: the array is empty");
                     if (body.size() > opt.max_events)
                       throw HttpError(413, "too_many_events",
                                       "at most " + std::to_string(opt.max_events) + " events per request");
                     for (std::size_t i = 0; i < body.size(); ++i)
                       events.push_back(parse_event(body[i], "events[" + std::to_string(i) + "]", true));
                   } else {
                     events.push_back(parse_event(body, "event", true));
                   }
                   svc.ingest_async(events, [reply, request = req.method + " " + req.path](IngestResult r,
                                                                                           std::exception_ptr error) {
                     reply(error ? error_answer(request, error) : events_answer(r));
                   });
                 });
  route("POST", "/v1/feedback", "post_feedback", Lane::write, Access::write, [this](const Request& req, Response& res) {
    const auto f = parse_feedback(parse_body(req));
    try {
      const auto r = svc.feedback(f);
      res = json_response(200, {{"recorded", true}, {"item", r.item}, {"event_seq", r.event_seq}});
    } catch (const FeedbackRefused& e) {
      using R = FeedbackRefused::Reason;
      if (e.reason == R::unknown_request) throw HttpError(404, "unknown_request", e.what());
      if (e.reason == R::bad_position) throw HttpError(400, "invalid_position", e.what());
      throw HttpError(409, "duplicate_feedback", e.what());
    }
  });
}

// Recommendations, interests, similar items: the read lane, open.
void HttpServer::Impl::install_read_routes() {
  // Batched: the users of the requests a worker finds queued have their states built together
  // (one encode pass for the sequential models) when they are not cached yet.
  batch_route("GET", R"(/v1/users/([^/]+)/recommendations)", "get_user_recommendations", Lane::read, Access::open,
              kRecommendBatch, [this](const std::vector<const Request*>& requests, const std::vector<Reply>& replies) {
                std::vector<UserRequest> batch;
                std::vector<std::size_t> which;
                for (std::size_t i = 0; i < requests.size(); ++i) {
                  const auto& req = *requests[i];
                  try {
                    batch.push_back(UserRequest{checked_id(req.matches[0], "user"), recommend_request(req)});
                    which.push_back(i);
                  } catch (...) {
                    replies[i](error_answer(req, std::current_exception()));
                  }
                }
                std::vector<std::exception_ptr> errors;
                const auto results = svc.recommend_users(batch, &errors);
                for (std::size_t k = 0; k < batch.size(); ++k) {
                  const auto& req = *requests[which[k]];
                  if (errors[k]) {
                    replies[which[k]](error_answer(req, errors[k]));
                    continue;
                  }
                  auto j = to_json(results[k]);
                  j["user"] = batch[k].user;
                  replies[which[k]](json_response(200, j));
                }
              });
  route("POST", "/v1/recommendations", "post_recommendations", Lane::read, Access::open,
        [this](const Request& req, Response& res) {
          const auto body = parse_body(req);
          if (!body.is_object())
            throw HttpError(400, "invalid_field", "body: must be an object with a 'history' array");
          RecommendRequest rr;
          std::vector<IncomingEvent> history;
          for (auto it = body.begin(); it != body.end(); ++it) {
            const auto& k = it.key();
            const auto& v = it.value();
            if (k == "history") {
              if (!v.is_array()) throw HttpError(400, "invalid_field", "history: must be an array");
              if (v.size() > opt.max_events) throw HttpError(413, "too_many_events", "history: too long");
              for (std::size_t i = 0; i < v.size(); ++i)
                history.push_back(parse_event(v[i], "history[" + std::to_string(i) + "]", false));
            } else if (k == "k") {
              if (!v.is_number_integer()) throw HttpError(400, "invalid_field", "k: must be an integer");
              rr.k = parse_k(v.dump(), opt.max_k);
            } else if (k == "exclude_seen" || k == "explain") {
              if (!v.is_boolean()) throw HttpError(400, "invalid_field", k + ": must be true or false");
              (k == "explain" ? rr.explain : rr.exclude_seen) = v.get<bool>();
            } else if (k == "exclude") {
              if (!v.is_array()) throw HttpError(400, "invalid_field", "exclude: must be an array of item ids");
              for (std::size_t i = 0; i < v.size(); ++i)
                rr.exclude.push_back(text_of(v[i], "exclude[" + std::to_string(i) + "]"));
            } else if (k == "policy" || k == "rerank") {
              if (!v.is_string()) throw HttpError(400, "invalid_field", k + ": must be a string");
              (k == "policy" ? rr.policy : rr.rerank) = spec_of(v.get<std::string>(), k);
            } else if (k == "rerank_depth") {
              if (!v.is_number_integer()) throw HttpError(400, "invalid_field", "rerank_depth: must be an integer");
              rr.rerank_depth = parse_count(v.dump(), k, 10000);
            } else if (k == "at") {
              rr.at = timestamp_of(v, k);
            } else {
              throw HttpError(400, "unknown_field",
                              k + ": unknown field (history, k, exclude_seen, explain, exclude, policy, rerank, "
                                  "rerank_depth, at)");
            }
          }
          if (!body.contains("history")) throw HttpError(400, "missing_field", "history: required");
          res = json_response(200, to_json(svc.recommend_history(history, rr)));
        });
  route("GET", R"(/v1/users/([^/]+)/interests)", "get_user_interests", Lane::read, Access::open,
        [this](const Request& req, Response& res) {
          res = json_response(200, svc.interests(checked_id(req.matches[0], "user")));
        });
  route("GET", R"(/v1/items/([^/]+)/similar)", "get_similar_items", Lane::read, Access::open,
        [this](const Request& req, Response& res) {
          std::size_t k = 10;
          if (req.has_param("k")) k = parse_k(req.param("k"), opt.max_k);
          const auto item = checked_id(req.matches[0], "item");
          json items = json::array();
          for (const auto& r : svc.similar(item, k)) items.push_back({{"item", r.item}, {"score", r.score}});
          res = json_response(200, {{"item", item}, {"items", items}});
        });
}

// Health, metrics and administration.
void HttpServer::Impl::install_ops_routes() {
  // Health and metrics run on the I/O threads: answerable while every worker is busy.
  route("GET", "/healthz/live", "healthz_live", Lane::inline_io, Access::open, [](const Request&, Response& res) {
    res = json_response(200, {{"status", "live"}});
  });
  route("GET", "/healthz/ready", "healthz_ready", Lane::inline_io, Access::open, [this](const Request&, Response& res) {
    const auto s = svc.stats();
    if (!s.storage_ok) {
      res = json_response(503,
                          {{"status", "not_ready"}, {"reason", "storage_unavailable"}, {"message", s.storage_error}});
      return;
    }
    res = json_response(200, {{"status", "ready"}, {"model", s.model_name}, {"model_version", s.model_version}});
  });
  route("GET", "/metrics", "metrics", Lane::inline_io, Access::open, [this](const Request&, Response& res) {
    res.status = 200;
    res.content_type = "text/plain; version=0.0.4";
    res.body = prometheus();
  });
  // Data rights (admin token: they read or erase any user's data).
  route("DELETE", R"(/v1/users/([^/]+))", "delete_user", Lane::write, Access::admin,
        [this](const Request& req, Response& res) {
          const auto d = svc.delete_user(checked_id(req.matches[0], "user"));
          res = json_response(200, {{"user", d.user},
                                    {"deleted_events", d.events},
                                    {"deleted_feedback", d.feedback},
                                    {"deleted_at", d.deleted_at}});
        });
  route("GET", R"(/v1/users/([^/]+)/events)", "get_user_events", Lane::read, Access::admin,
        [this](const Request& req, Response& res) {
          const auto x = svc.export_user(checked_id(req.matches[0], "user"));
          auto j = store::to_json(x.data);
          j["in_served_model"] = x.in_model;
          res = json_response(200, j);
        });
  route("POST", "/v1/admin/reload", "admin_reload", Lane::write, Access::admin,
        [this](const Request& req, Response& res) {
          std::string dir;
          if (!req.body.empty()) {
            const auto body = parse_body(req);
            if (!body.is_object()) throw HttpError(400, "invalid_field", "body: must be an object");
            for (auto it = body.begin(); it != body.end(); ++it) {
              if (it.key() != "model_dir")
                throw HttpError(400, "unknown_field", it.key() + ": unknown field (model_dir)");
              if (!it.value().is_string()) throw HttpError(400, "invalid_field", "model_dir: must be a string");
              dir = reload_dir(it.value().get<std::string>());
            }
          }
          try {
            svc.reload(dir);
          } catch (const Error& e) {
            throw HttpError(422, "reload_failed", std::string(e.what()) + " (the previous model keeps serving)");
          }
          const auto s = svc.stats();
          res = json_response(
              200, {{"model", s.model_name}, {"model_version", s.model_version}, {"model_dir", s.model_dir}});
        });
  for (const char* name : {"unmatched", "rejected"}) {
    auto m = std::make_unique<RouteMetrics>();
    m->name = name;
    metrics.emplace(name, std::move(m));
  }
}

std::string HttpServer::Impl::prometheus() const {
  std::ostringstream os;
  os << "# HELP driftrec_requests_total Requests by route and status class.\n# TYPE driftrec_requests_total counter\n";
  for (const auto& [name, m] : metrics)
    for (int c = 1; c <= 5; ++c)
      if (m->by_class[static_cast<std::size_t>(c)] > 0)
        os << "driftrec_requests_total{route=\"" << name << "\",status=\"" << c << "xx\"} "
           << m->by_class[static_cast<std::size_t>(c)] << "\n";
  os << "# HELP driftrec_request_seconds Request latency by route.\n# TYPE driftrec_request_seconds histogram\n";
  for (const auto& [name, m] : metrics) {
    std::uint64_t cum = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cum += m->buckets[b];
      os << "driftrec_request_seconds_bucket{route=\"" << name << "\",le=\"" << kBuckets[b] << "\"} " << cum << "\n";
    }
    os << "driftrec_request_seconds_bucket{route=\"" << name << "\",le=\"+Inf\"} " << m->count << "\n";
    os << "driftrec_request_seconds_sum{route=\"" << name << "\"} " << static_cast<double>(m->sum_us) / 1e6 << "\n";
    os << "driftrec_request_seconds_count{route=\"" << name << "\"} " << m->count << "\n";
  }
  const auto s = svc.stats();
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  os << "# TYPE driftrec_events_ingested_total counter\ndriftrec_events_ingested_total " << s.events_ingested << "\n";
  os << "# HELP driftrec_ingest_commits_total store transactions the ingest commit thread wrote (or tried)\n"
     << "# TYPE driftrec_ingest_commits_total counter\ndriftrec_ingest_commits_total " << s.ingest_commits << "\n"
     << "# HELP driftrec_ingest_commit_seconds_total time the ingest commit thread spent writing those transactions\n"
     << "# TYPE driftrec_ingest_commit_seconds_total counter\ndriftrec_ingest_commit_seconds_total "
     << s.ingest_commit_seconds << "\n";
  os << "# TYPE driftrec_unknown_item_events_total counter\ndriftrec_unknown_item_events_total "
     << s.unknown_item_events << "\n";
  os << "# TYPE driftrec_cached_users gauge\ndriftrec_cached_users " << s.cached_users << "\n";
  os << "# TYPE driftrec_cache_bytes gauge\ndriftrec_cache_bytes " << s.cache_bytes << "\n";
  os << "# TYPE driftrec_open_connections gauge\ndriftrec_open_connections "
     << (transport ? transport->connections() : 0) << "\n";
  os << "# TYPE driftrec_storage_ok gauge\ndriftrec_storage_ok " << (s.storage_ok ? 1 : 0) << "\n";
  os << "# TYPE driftrec_model_version gauge\ndriftrec_model_version{model=\"" << s.model_name << "\"} "
     << s.model_version << "\n";
  os << "# TYPE driftrec_model_age_seconds gauge\ndriftrec_model_age_seconds " << now - s.model_loaded_at << "\n";
  os << "# HELP driftrec_seconds_since_last_event Freshness: time since the last event was applied.\n"
     << "# TYPE driftrec_seconds_since_last_event gauge\ndriftrec_seconds_since_last_event "
     << (s.last_event_at > 0 ? now - s.last_event_at : -1.0) << "\n";
  os << "# TYPE driftrec_reloads_failed_total counter\ndriftrec_reloads_failed_total " << s.reloads_failed << "\n";
  os << "# TYPE driftrec_users_deleted_total counter\ndriftrec_users_deleted_total " << s.users_deleted << "\n";
  os << "# TYPE driftrec_events_purged_total counter\ndriftrec_events_purged_total " << s.events_purged << "\n";
  os << "# TYPE driftrec_events_replicated_total counter\ndriftrec_events_replicated_total " << s.events_replicated
     << "\n";
  os << "# TYPE driftrec_follow_watermark gauge\ndriftrec_follow_watermark " << s.follow_watermark << "\n";
  return os.str();
}

HttpServer::HttpServer(Service& service, HttpOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {
  auto& o = impl_->opt;
  if (o.token.empty() && !o.allow_no_auth)
    throw InvalidInput("a bearer token is required for writes (--token-file or DRIFTREC_TOKEN), or pass --no-auth");
  if (!o.admin_token.empty() && o.admin_token == o.token)
    throw InvalidInput("the admin token must differ from the write token");
  if (o.threads < 1) throw InvalidInput("threads must be >= 1");
  impl_->install_routes();
  TransportOptions t;
  t.host = o.host;
  t.port = o.port;
  t.io_threads = o.io_threads;
  t.read_workers = o.threads;
  t.write_workers = o.write_threads;
  t.max_connections = o.max_connections;
  t.max_pending = o.max_pending;
  t.max_body_bytes = o.max_body_bytes;
  t.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
  t.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
  t.write_timeout = std::chrono::milliseconds(o.request_timeout_ms);
  Impl* impl = impl_.get();
  impl_->transport = std::make_unique<HttpTransport>(
      t, impl_->routes, [impl](const std::string& route, double s, int status) { impl->observe(route, s, status); });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->transport->port(); }

void HttpServer::run() { impl_->transport->run(); }

void HttpServer::stop() {
  if (impl_ && impl_->transport) impl_->transport->stop();
}

}  // namespace driftrec::serve
