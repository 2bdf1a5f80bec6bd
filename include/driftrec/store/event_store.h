#pragma once
// EventStore: the durable log of behaviour events the server ingests. Opened by URL through a
// registry: "sqlite://PATH" (WAL, fsync before append() returns, group commit) or "memory://".
// Every backend passes the same conformance suite (tests/unit/event_store_test.cpp).
#include <cstdint>
#include <functional>
#include <memory>
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

class EventStore {
 public:
  virtual ~EventStore() = default;
  /// Appends events atomically (all or none) and returns only once they are durable. Returns the
  /// assigned sequence numbers. Safe to call from many threads; concurrent calls share commits.
  virtual std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) = 0;
  /// Calls fn for every event with seq > after_seq, in seq order, until fn returns false.
  virtual void scan(std::int64_t after_seq, const std::function<bool(const StoredEvent&)>& fn) const = 0;
  /// The user's events in time order (ties: append order); at most the last `limit` (0 = all).
  virtual std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit = 0) const = 0;
  /// The last `limit` events overall, oldest first.
  virtual std::vector<StoredEvent> recent(std::size_t limit) const = 0;
  /// Number of stored events.
  virtual std::int64_t count() const = 0;
  /// The URL the store was opened with.
  virtual std::string url() const = 0;
};

/// Opens a store by URL ("sqlite://events.db", "memory://"). Throws InvalidInput for an unknown
/// scheme and IoError when the database cannot be opened or initialised.
std::unique_ptr<EventStore> open_event_store(const std::string& url);

}  // namespace driftrec::store
