#pragma once
// Backends of open_event_store() (internal).
#include <memory>
#include <string>

#include "driftrec/store/event_store.h"

namespace driftrec::store {
std::unique_ptr<EventStore> open_memory_store(const std::string& location);
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path);
/// `url` is the whole postgresql:// (or postgres://) URL, as libpq reads it.
std::unique_ptr<EventStore> open_postgres_store(const std::string& url);
}  // namespace driftrec::store
