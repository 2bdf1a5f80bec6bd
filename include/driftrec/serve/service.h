#pragma once
// The serving core, without HTTP: durable ingest, per-user interest states updated online,
// recommendations with explanations, interests, similar items, hot model swap. Thread-safe.
//
// Ingest order: events are appended to the EventStore (durable) before any state changes, so an
// acknowledged event is never lost; a user's state is rebuilt from the store when it is not cached
// (after a restart or a model swap) and advanced with observe() otherwise.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "driftrec/index/retriever.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/policy/policy.h"
#include "driftrec/serve/slate_log.h"
#include "driftrec/store/event_store.h"
#include "driftrec/store/user_data.h"
#include "driftrec/workflow/model_reranking.h"
#include "driftrec/workflow/recommender.h"

namespace driftrec::serve {

struct ServiceOptions {
  std::size_t history_limit = 500;         ///< events a user state keeps (and reads from the store)
  std::size_t popularity_window = 100000;  ///< recent events behind the cold-start popularity
  /// Memory for cached user states; least recently used states are dropped past it (and rebuilt
  /// from the store when needed again). Users with no stored events and unknown to the model are
  /// never cached (their answer is the cold-start popularity).
  std::size_t cache_bytes = std::size_t{256} << 20;
  /// "exact" (the model's own scoring) or "hnsw" (FAISS, for inner-product models: ials, bpr;
  /// other models fall back to exact with a warning).
  std::string retrieval = "exact";
  index::HnswOptions hnsw;
  /// Shown slates kept for feedback (most recent), and how long feedback for one is accepted.
  std::size_t feedback_slates = 100000;
  double feedback_ttl_seconds = 3600;
  /// Retention: events and feedback older than this many days are purged from the store every
  /// `retention_interval_seconds` (and at start), and older events are not accepted. 0 = keep all.
  double retention_days = 0;
  double retention_interval_seconds = 3600;
  /// Replicas (several servers sharing one store, e.g. postgresql://): follow the log so that an
  /// event another replica stored changes this replica's cached state of the user too, and an
  /// erasure there (a deleted user, a retention purge) drops the cached states here. The follower
  /// waits for the store's change notification (PostgreSQL LISTEN/NOTIFY) or `follow_ms` at most,
  /// then applies what arrived (Service::follow). follow_ms 0: no thread (follow() by hand).
  bool replica = false;
  int follow_ms = 100;
  /// Item and user groups for the re-rankers (`?rerank=`): files of ids, or computed from the model
  /// directory's training counts and history lengths (workflow/model_reranking.h).
  workflow::GroupOptions groups;
};

/// An event as received from a client (external ids). ts absent = now.
struct IncomingEvent {
  std::string user;
  std::string item;
  std::optional<std::int64_t> ts;
  std::string behavior;
  float value = 1.0f;
  std::string domain;
};

struct IngestResult {
  std::size_t accepted = 0;       ///< stored
  std::size_t deleted_users = 0;  ///< dropped: stamped at or before their user's deletion
  std::size_t expired = 0;        ///< dropped: older than the retention period
  std::size_t unknown_items = 0;  ///< stored, but the model cannot use them yet
  std::vector<std::int64_t> seqs;
};

struct RecommendRequest {
  std::size_t k = 10;
  bool exclude_seen = true;
  bool explain = false;
  std::vector<std::string> exclude;  ///< item ids never to return
  /// Exploration policy spec (policy/policy.h): "" or "greedy" (the model's top k), or
  /// "epsilon-greedy[:...]" / "boltzmann[:...]" / "linucb[:...]" / "lints[:...]". The learning policies
  /// update from POST /v1/feedback on their slates (reward 1 for a click or buy, 0 for an impression
  /// without either). Each feedback row stores the shown item's features and the model's identity,
  /// so after a restart or a reload the posterior is rebuilt from the store's rows for the same
  /// model (model.json unchanged); a different model starts from the prior.
  std::string policy;
  /// Re-ranker spec (rerank/reranker.h), e.g. "calibrated:0.5" or "exposure:0.4+longtail:0.2": the k
  /// items are chosen from the model's top `rerank_depth`. "" = the model's order. Not combined with
  /// an exploration policy.
  std::string rerank;
  std::size_t rerank_depth = 100;
  /// When the recommendation is asked for (unix seconds; default: the server's clock), for models
  /// that read the time since the user's last event (the sequential models' `request_time`). A
  /// posted history without timestamps has no clock: its request has no time unless `at` is given.
  std::optional<std::int64_t> at;
};

/// One user's recommendation request, for Service::recommend_users.
struct UserRequest {
  std::string user;
  RecommendRequest request;
};

/// One past event behind a recommendation (the same record the library's Recommender returns).
using Because = workflow::Because;

struct Recommendation {
  std::string item;
  float score = 0.0f;
  double propensity = 1.0;       ///< P(this item at this position) under the request's policy
  std::vector<Because> because;  ///< filled when explain is asked and supported
};

struct RecommendResult {
  std::vector<Recommendation> items;
  bool cold_start = false;  ///< no usable history: recent popularity
  std::size_t history_length = 0;
  std::int64_t model_version = 0;
  bool explained = false;  ///< explanations were produced
  std::string request_id;  ///< names this slate in POST /v1/feedback
  std::string policy = "greedy";
  std::string rerank;  ///< the re-ranker applied ("" = none)
};

/// What the user did with one shown item of a recommendation (by request_id and position).
struct IncomingFeedback {
  std::string request_id;
  std::size_t position = 0;  ///< 0-based position in the slate
  bool clicked = false;
  bool bought = false;
  double dwell = 0;  ///< seconds
  std::optional<std::int64_t> ts;
};

/// Why feedback was refused (the HTTP layer maps these to 404 / 400 / 409).
class FeedbackRefused : public InvalidInput {
 public:
  enum class Reason { unknown_request, bad_position, duplicate };
  FeedbackRefused(Reason r, const std::string& what) : InvalidInput(what), reason(r) {}
  Reason reason;
};

struct FeedbackResult {
  std::string item;            ///< the item that was at that position
  std::int64_t event_seq = 0;  ///< the click/buy event stored with it (0 = none)
};

/// What DELETE /v1/users/{id} erased.
struct UserDeletion {
  std::string user;
  std::int64_t events = 0;
  std::int64_t feedback = 0;
  std::int64_t deleted_at = 0;  ///< unix seconds: events of the user stamped at or before it are refused
};

/// GET /v1/users/{id}/events: the stored rows, and whether the served model was trained on the user
/// (a trained user vector is not in the store; it goes when the model is retrained without them).
struct UserExport {
  store::UserData data;
  bool in_model = false;
};

/// Counters for /metrics.
struct ServiceStats {
  std::int64_t events_ingested = 0;
  std::int64_t ingest_commits = 0;   ///< store transactions of the ingest commit thread (events per commit = ratio)
  double ingest_commit_seconds = 0;  ///< time those transactions took (mean per commit = ratio; busy share = rate)
  std::int64_t unknown_item_events = 0;
  std::int64_t cached_users = 0;
  std::int64_t cache_bytes = 0;  ///< estimated bytes held by cached user states
  bool storage_ok = true;        ///< false while the last store access failed
  std::string storage_error;     ///< that failure's message
  std::int64_t model_version = 0;
  std::string model_name;
  std::string model_dir;
  double model_loaded_at = 0;  ///< unix seconds
  double last_event_at = 0;    ///< unix seconds of the last applied ingest (0 = none)
  std::int64_t reloads_failed = 0;
  std::int64_t users_deleted = 0;
  std::int64_t events_purged = 0;      ///< by retention
  std::int64_t events_replicated = 0;  ///< stored by other replicas and applied here (replica mode)
  std::int64_t follow_watermark = 0;   ///< the last store seq this replica has followed
};

/// Every member may be called from many threads at once (the HTTP server's read and write workers
/// do). Each call runs the model's BLAS and LibTorch work on the calling thread alone, so concurrent
/// callers share the cores instead of oversubscribing them, and it never changes a process-wide
/// thread setting (the calling thread's OpenMP count is put back on return).
class Service {
 public:
  /// Loads the model directory (throws like load_model_dir) and takes ownership of the store.
  Service(const std::string& model_dir, std::unique_ptr<store::EventStore> store, ServiceOptions options = {});
  ~Service();

  /// Validates (InvalidInput naming the event index and field), stores durably, then updates the
  /// cached states of the users involved. Returns once everything is durable. A failing store
  /// throws StorageUnavailable (nothing is applied) and stats().storage_ok turns false until a
  /// later store access succeeds.
  IngestResult ingest(const std::vector<IncomingEvent>& events);
  /// Called once with ingest_async's outcome: the result, or the error ingest() would have thrown
  /// (then the result is empty). Runs on the service's commit thread (on the caller's when every
  /// event had expired, as nothing is stored): it must be quick and must not call back into ingest().
  using IngestDone = std::function<void(IngestResult, std::exception_ptr)>;
  /// ingest() without waiting: validates now (throws InvalidInput as ingest() does, and `done` is
  /// never called), then queues the events. One commit thread writes everything queued so far in
  /// one store transaction, applies it to the cached states and calls each request's `done` once
  /// its events are durable. Requests commit in the order they were queued; ingest() is this plus
  /// a wait, so concurrent callers of either share transactions.
  void ingest_async(const std::vector<IncomingEvent>& events, IngestDone done);
  /// Top-k for a user (known, new, or unknown: cold start).
  RecommendResult recommend_user(const std::string& user, const RecommendRequest& request);
  /// recommend_user for several requests at once (e.g. the concurrent requests a server gathered):
  /// the states of users not cached yet are built together, in one batched encode
  /// (Model::encode_batch), then each request is answered on its own. out[i] answers requests[i];
  /// a request that fails has its error (what recommend_user would throw) in (*errors)[i] and an
  /// empty result, and does not fail the others.
  std::vector<RecommendResult> recommend_users(const std::vector<UserRequest>& requests,
                                               std::vector<std::exception_ptr>* errors);
  /// Top-k for an anonymous session whose history is given (not stored).
  RecommendResult recommend_history(const std::vector<IncomingEvent>& history, const RecommendRequest& request);
  /// Records what the user did with one item of a shown slate, durably (the feedback row and, for
  /// a click or buy, the event it implies commit together); the event updates the user's state as
  /// an ingested one does. Throws FeedbackRefused for an unknown or expired request_id, a position
  /// outside the slate, or feedback already recorded for that position.
  FeedbackResult feedback(const IncomingFeedback& f);
  /// The user's interest now vs. before: category shares of the recent and older halves of the
  /// state's history and a drift score (total variation distance between them, 0..1).
  /// Throws NotSupported when the model directory has no item categories.
  nlohmann::json interests(const std::string& user);
  /// Items similar to `item` (the model's recommendation for a one-event history). NotFound when
  /// the model does not know the item.
  std::vector<Recommendation> similar(const std::string& item, std::size_t k);
  /// Data rights: erases everything the store holds about `user` (events, feedback) and their
  /// cached state and shown slates, and records a tombstone so that no older event of theirs is
  /// stored again (an old import, a replay). From then on the model's memory of the user (a trained
  /// user vector) is not used either: they are served from what they do next. Throws NotFound when
  /// neither the store nor the model knows the user (or they were deleted and nothing came since).
  UserDeletion delete_user(const std::string& user);
  /// Everything the store holds about `user`. Throws NotFound when it holds nothing and the user
  /// was never deleted.
  UserExport export_user(const std::string& user);
  /// Retention (ServiceOptions::retention_days): erases the store's events and feedback older than
  /// the period and drops the cached states. Runs on its own schedule; public for tests and tools.
  store::Erased purge_expired();

  /// Loads `dir` (empty = the current directory again) and swaps it in atomically; requests in
  /// flight finish on the old model. On failure throws and the old model keeps serving.
  void reload(const std::string& dir = "");
  /// Builds and caches the states of `users` from the store (e.g. the most active users after a
  /// restart, so their first request does not pay for the rebuild). Returns how many were built.
  std::size_t warm_up(const std::vector<std::string>& users);
  ServiceStats stats() const;
  store::EventStore& store() { return *store_; }
  /// Replica mode (ServiceOptions::replica): applies the events other processes stored since the
  /// last call (seq above the follow watermark, minus this process's own) to the cached states and
  /// the popularity counts, and drops every cached state when the store counted an erasure since.
  /// Returns the number of events applied. Throws NotSupported outside replica mode and
  /// StorageUnavailable when the store cannot be read (the watermark stays).
  std::size_t follow();

 private:
  struct Bundle;
  struct CachedUser;
  struct Shard;
  std::shared_ptr<const Bundle> bundle() const;
  Shard& shard_of(const std::string& user);
  /// The states of `users` (distinct, non-empty): cached ones as they are, the others read from the
  /// store and built in one encode_batch, then cached. A user whose state cannot be had gets an
  /// error in (*errors)[i]. Events ingested while a state is being built are applied to it once it
  /// is cached (the build does not hold the shard lock while encoding). `built` (optional) counts
  /// the states built and cached here.
  std::vector<models::UserState> states_of(const std::vector<std::string>& users, const Bundle& b,
                                           std::vector<std::exception_ptr>* errors, std::size_t* built = nullptr);
  /// Applies one stored event (the model's item index `item`) to a cached state, unless the state
  /// has it already; false when it had.
  bool apply_cached(CachedUser& c, const store::StoredEvent& row, std::int64_t seq, std::int32_t item, const Bundle& b);
  /// Runs a store access; an IoError marks the storage failing and becomes StorageUnavailable.
  template <typename Fn>
  auto with_store(Fn fn) -> decltype(fn());
  void storage_failed(const std::string& message);
  /// The slate for `state`; remembered for feedback (under a new request_id) unless `remember` is off.
  RecommendResult finish(const Bundle& b, const models::UserState& state, const RecommendRequest& req,
                         const std::string& user, bool remember = true);
  /// Applies stored events to the cached states (online update) and counts them in the stats;
  /// adds the events whose item the model does not know to res->unknown_items.
  void apply(const std::vector<store::StoredEvent>& rows, const std::vector<std::int64_t>& seqs, IngestResult* res);
  /// A slate drawn by a policy: the items with their scores, each position's propensity and, for a
  /// learning policy, the features its feedback will update from.
  struct Explored {
    TopK top;
    std::vector<double> propensity;
    std::vector<float> features;
  };
  /// The slate of `k` items `policy` draws from the state's scores (non-greedy policies); request
  /// `number` seeds the draw.
  Explored explore(const Bundle& b, const models::UserState& state, const models::RecommendOptions& ro, std::size_t k,
                   policy::Policy& policy, bool cold_start, std::uint64_t number);
  /// The policy for a spec (null for greedy). Stateless policies are shared per spec; a learning
  /// policy's posterior belongs to one model, so it is kept per spec and model version.
  std::shared_ptr<policy::Policy> policy_for(const std::string& spec, std::uint64_t model_version);
  /// Remembers the slate for POST /v1/feedback under out->request_id (set here).
  void remember_slate(const std::string& user, std::uint64_t number, const std::shared_ptr<policy::Policy>& policy,
                      std::vector<float> features, const std::string& model, RecommendResult* out);
  /// Events stamped before this are past the retention period (INT64_MIN without retention).
  std::int64_t retention_cutoff(std::int64_t now) const;
  std::vector<data::Event> to_events(const Bundle& b, std::int32_t user,
                                     const std::vector<store::StoredEvent>& events) const;

  std::unique_ptr<store::EventStore> store_;
  ServiceOptions options_;
  std::shared_ptr<const Bundle> bundle_;
  mutable std::mutex bundle_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::int64_t> ingest_commits_{0};
  std::atomic<std::int64_t> ingest_commit_ns_{0};
  std::atomic<std::int64_t> events_ingested_{0}, unknown_items_{0}, reloads_failed_{0}, users_deleted_{0},
      events_purged_{0};
  std::atomic<double> last_event_at_{0};
  std::atomic<bool> storage_ok_{true};
  mutable std::mutex storage_mu_;
  std::string storage_error_;
  SlateLog slates_;
  std::mutex policies_mu_;
  std::map<std::string, std::shared_ptr<policy::Policy>> policies_;  ///< stateless, by spec
  /// Learning policies by "spec@model version" (a request may still run on the previous model);
  /// replaced by reload() with the posteriors rebuilt from the store.
  std::map<std::string, std::shared_ptr<policy::Policy>> learners_;
  /// The learning policies' posteriors for the model `identity`, rebuilt from the store's feedback
  /// rows (by spec).
  std::map<std::string, std::shared_ptr<policy::Policy>> rebuild_learners(const std::string& identity);
  std::atomic<std::uint64_t> requests_{0};
  std::uint64_t request_salt_ = 0;
  /// Appends through `fn` (a store append returning seqs) and, in replica mode, records the seqs as
  /// this process's own so follow() does not apply them twice.
  template <typename Fn>
  std::vector<std::int64_t> append_own(Fn fn);
  /// Replica mode: the follow watermark and erasure count as the store has them now, and the
  /// follower thread (follow_ms > 0).
  void start_following();
  std::mutex follow_mu_;  ///< one follow() at a time
  /// Own appends (replica mode): each takes a ticket before it writes and records its seqs in
  /// own_seqs_ when it returns; follow() scans without blocking them, then waits (own_cv_) until
  /// every append that began before its scan ended is recorded, and drops those rows.
  std::mutex own_mu_;
  std::condition_variable own_cv_;
  std::uint64_t next_ticket_ = 0;
  std::set<std::uint64_t> tickets_in_flight_;
  std::set<std::int64_t> own_seqs_;  ///< own appends above the follow watermark (replica mode)
  std::int64_t follow_seq_ = 0, erasures_seen_ = 0;
  std::atomic<std::int64_t> events_replicated_{0}, follow_watermark_{0};
  struct Retention;
  std::unique_ptr<Retention> retention_;  ///< its thread stops before the rest goes
  /// Ingest's commit thread and its queue (service_ingest.cpp).
  struct Committer;
  std::unique_ptr<Committer> committer_;  ///< stops (after committing what is queued) before the rest goes
  struct Pending;
  void start_committer();
  /// The store rows of a request (InvalidInput naming the event index and field); events older than
  /// the retention period are counted in res->expired and left out.
  std::vector<store::StoredEvent> validated_rows(const std::vector<IncomingEvent>& events, IngestResult* res) const;
  /// Writes one group of queued requests in one store append, applies it and completes each request.
  void commit_group(std::vector<Pending>& group);
  struct Follower;
  std::unique_ptr<Follower> follower_;  ///< last member: its thread stops first
};

}  // namespace driftrec::serve
