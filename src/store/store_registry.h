#pragma once
// Backends of open_event_store() (internal).
#include <cstddef>
#include <memory>
#include <string>

#include "driftrec/store/event_store.h"

namespace driftrec::store {
std::unique_ptr<EventStore> open_memory_store(const std::string& location);
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path);
struct SqliteOptions {
  /// Events left out of the user index before each commit merges one bucket of users into it
  /// (sqlite_user_index.h); small values let tests exercise the merges.
  std::size_t tail_limit = 65536;
};
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const SqliteOptions& options);
/// `url` is the whole postgresql:// (or postgres://) URL, as libpq reads it.
std::unique_ptr<EventStore> open_postgres_store(const std::string& url);
}  // namespace driftrec::store
