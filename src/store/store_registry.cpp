#include "store_registry.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "driftrec/core/error.h"

namespace driftrec::store {

std::unique_ptr<EventStore> open_event_store(const std::string& url) {
  struct Backend {
    const char* scheme;
    std::unique_ptr<EventStore> (*open)(const std::string&);
  };
  static const Backend backends[] = {{"sqlite://", &open_sqlite_store}, {"memory://", &open_memory_store}};
  for (const auto& b : backends) {
    const std::string scheme = b.scheme;
    if (url.compare(0, scheme.size(), scheme) == 0) return b.open(url.substr(scheme.size()));
  }
  for (const std::string scheme : {"postgresql://", "postgres://"})
    if (url.compare(0, scheme.size(), scheme) == 0) return open_postgres_store(url);
  throw InvalidInput("unknown event store URL '" + url +
                     "' (use sqlite://PATH, postgresql://USER@HOST:PORT/DB or memory://)");
}

std::vector<std::int64_t> EventStore::append_feedback(const std::vector<StoredFeedback>&,
                                                      const std::vector<StoredEvent>&) {
  throw NotSupported(url() + ": this store does not record feedback");
}

void EventStore::scan_range(std::int64_t after_seq, std::int64_t up_to_seq,
                            const std::function<bool(const StoredEvent&)>& fn) const {
  if (up_to_seq <= after_seq) return;
  scan(after_seq, [&](const StoredEvent& e) { return e.seq <= up_to_seq && fn(e); });
}

void EventStore::scan_feedback(const std::function<bool(const StoredFeedback&)>&) const {}

void EventStore::scan_model_feedback(const std::string& model,
                                     const std::function<bool(const StoredFeedback&)>& fn) const {
  if (model.empty()) return;
  scan_feedback([&](const StoredFeedback& f) { return f.model != model || fn(f); });
}

std::vector<StoredFeedback> EventStore::user_feedback(const std::string&) const { return {}; }

void EventStore::wait_for_appends(int timeout_ms) const {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0, timeout_ms)));
}

}  // namespace driftrec::store
