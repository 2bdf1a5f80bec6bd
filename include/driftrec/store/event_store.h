#pragma once
// EventStore: the durable log of behaviour events the server ingests. Opened by URL through a
// registry: "sqlite://PATH" (WAL, fsync before append() returns, group commit, the per-user index
// merged in batches),
// "postgresql://USER@HOST:PORT/DB" (libpq; one log shared by several server replicas, writers
// serialised so sequence numbers commit in order) or "memory://".
// Every backend passes the same conformance suite (tests/unit/event_store_test.cpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "driftrec/core/error.h"

namespace driftrec::store {

/// The store cannot be written or read right now (disk full, I/O error, locked). Servers answer
/// 503 and report not-ready while it lasts.
class StorageUnavailable : public IoError {
 public:
  using IoError::IoError;
};

/// One event with external ids, as received. `seq` is assigned by the store (1, 2, ... in
/// append order) and ignored on input.
struct StoredEvent {
  std::int64_t seq = 0;
  std::string user;
  std::string item;
  std::int64_t ts = 0;   ///< seconds
  std::string behavior;  ///< "" = unspecified
  float value = 1.0f;
  std::string domain;
};

/// One shown item's outcome, as POST /v1/feedback records it: which recommendation (request_id),
/// what was shown where (position 0-based, the policy's propensity of that item there) and what the
/// user did. `seq` is assigned by the store.
struct StoredFeedback {
  std::int64_t seq = 0;
  std::string request_id;
  std::string user;
  std::string item;
  std::int32_t position = 0;
  double propensity = 1.0;
  std::string policy;
  bool clicked = false;
  bool bought = false;
  double dwell = 0;     ///< seconds (0 = unknown)
  std::int64_t ts = 0;  ///< seconds
  /// A learning policy's observation (linucb, lints): the shown item's features at that slate
  /// (policy::Slate::features) and the identity of the model they were computed with, so the
  /// policy's posterior can be rebuilt after a restart. Empty for policies that do not learn.
  std::string model;
  std::vector<float> features;
};

/// What an erasure (delete_user, purge_before) removed.
struct Erased {
  std::int64_t events = 0;
  std::int64_t feedback = 0;
};

/// Data rights: delete_user() removes everything stored about a user and leaves a tombstone (a
/// salted SHA-256 of the id, never the id) with the deletion time; from then on append() drops the
/// user's events stamped at or before it, so an old file imported again, a replay or a restart
/// cannot resurrect them, while what the user does after the deletion is stored as usual. Erased
/// rows are overwritten, not merely unlinked (sqlite: secure_delete and a truncating WAL
/// checkpoint), so they cannot be read back from the database files.
class EventStore {
 public:
  virtual ~EventStore() = default;
  /// Appends events atomically (all or none) and returns only once they are durable. Returns the
  /// assigned sequence numbers, aligned with `events`; an event of a deleted user stamped at or
  /// before the deletion is dropped and gets 0. Safe to call from many threads; concurrent calls
  /// share commits.
  virtual std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) = 0;
  /// Calls fn for every event with seq > after_seq, in seq order, until fn returns false.
  virtual void scan(std::int64_t after_seq, const std::function<bool(const StoredEvent&)>& fn) const = 0;
  /// Calls fn for every event with after_seq < seq <= up_to_seq, in seq order, until fn returns
  /// false (a replica reads only the stretches of the log between its own appends). Default: scan()
  /// stopped at the first event past up_to_seq; a database store reads only the range.
  virtual void scan_range(std::int64_t after_seq, std::int64_t up_to_seq,
                          const std::function<bool(const StoredEvent&)>& fn) const;
  /// The user's events in time order (ties: append order); at most the last `limit` (0 = all).
  virtual std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit = 0) const = 0;
  /// The last `limit` events overall, oldest first.
  virtual std::vector<StoredEvent> recent(std::size_t limit) const = 0;
  /// Number of stored events.
  virtual std::int64_t count() const = 0;
  /// The URL the store was opened with.
  virtual std::string url() const = 0;

  /// Appends feedback rows and events (e.g. the clicks they imply) in one atomic, durable
  /// commit; returns the events' sequence numbers. Default: NotSupported.
  virtual std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                                    const std::vector<StoredEvent>& events);
  /// Calls fn for every feedback row in seq order until fn returns false. Default: none.
  virtual void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const;
  /// Calls fn for every feedback row whose model is `model` (non-empty), in seq order, until fn
  /// returns false: a learning policy's posterior is rebuilt from these rows at start-up and on
  /// reload. Default: scan_feedback() filtered; a database store reads only the matching rows.
  virtual void scan_model_feedback(const std::string& model,
                                   const std::function<bool(const StoredFeedback&)>& fn) const;
  /// The user's feedback rows in seq order (data export).
  virtual std::vector<StoredFeedback> user_feedback(const std::string& user) const;

  /// Erases every event and feedback row of `user` and records the tombstone at `deleted_at`
  /// (unix seconds) in the same commit (see the class comment). Nothing is erased when it fails.
  virtual Erased delete_user(const std::string& user, std::int64_t deleted_at) = 0;
  /// When `user` was last deleted, if ever.
  virtual std::optional<std::int64_t> deleted_at(const std::string& user) const = 0;
  /// Retention: erases every event and feedback row stamped before `cutoff` (unix seconds), with
  /// the same scrubbing as delete_user.
  virtual Erased purge_before(std::int64_t cutoff) = 0;

  /// Replicas sharing the store: how many erasures (delete_user, purge_before) it has committed,
  /// by any process. A server replica that sees the number move drops its cached user states.
  /// Default 0 (a store no other process writes, e.g. memory://).
  virtual std::int64_t erasures() const { return 0; }
  /// Replicas: returns when another process may have appended (a change notification), or after
  /// `timeout_ms` at the latest. Default: waits the timeout (the caller then polls with scan).
  virtual void wait_for_appends(int timeout_ms) const;
};

/// Opens a store by URL ("sqlite://events.db", "postgresql://app@db:5432/events", "memory://").
/// Throws InvalidInput for an unknown scheme and IoError when the database cannot be opened,
/// reached or initialised.
std::unique_ptr<EventStore> open_event_store(const std::string& url);

}  // namespace driftrec::store
