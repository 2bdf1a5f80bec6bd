// memory:// — the reference EventStore: everything in RAM, nothing survives the process.
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "driftrec/store/event_store.h"
#include "store_registry.h"

namespace driftrec::store {

namespace {
class MemoryStore : public EventStore {
 public:
  std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) override {
    std::unique_lock lock(mu_);
    return append_locked(events);
  }
  std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                            const std::vector<StoredEvent>& events) override {
    std::unique_lock lock(mu_);
    for (auto f : feedback) {
      f.seq = static_cast<std::int64_t>(feedback_.size()) + 1;
      feedback_.push_back(std::move(f));
    }
    return append_locked(events);
  }
  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override {
    std::shared_lock lock(mu_);
    for (const auto& f : feedback_)
      if (!fn(f)) return;
  }
  std::vector<std::int64_t> append_locked(const std::vector<StoredEvent>& events) {
    std::vector<std::int64_t> seqs;
    seqs.reserve(events.size());
    for (auto e : events) {
      e.seq = static_cast<std::int64_t>(log_.size()) + 1;
      seqs.push_back(e.seq);
      by_user_[e.user].push_back(log_.size());
      log_.push_back(std::move(e));
    }
    return seqs;
  }
  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    std::shared_lock lock(mu_);
    for (std::size_t i = static_cast<std::size_t>(std::max<std::int64_t>(0, after)); i < log_.size(); ++i)
      if (!fn(log_[i])) return;
  }
  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    std::shared_lock lock(mu_);
    std::vector<StoredEvent> out;
    auto it = by_user_.find(user);
    if (it == by_user_.end()) return out;
    for (auto i : it->second) out.push_back(log_[i]);
    std::stable_sort(out.begin(), out.end(), [](const StoredEvent& a, const StoredEvent& b) { return a.ts < b.ts; });
    if (limit > 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    return out;
  }
  std::vector<StoredEvent> recent(std::size_t limit) const override {
    std::shared_lock lock(mu_);
    const auto n = std::min(limit, log_.size());
    return std::vector<StoredEvent>(log_.end() - static_cast<std::ptrdiff_t>(n), log_.end());
  }
  std::int64_t count() const override {
    std::shared_lock lock(mu_);
    return static_cast<std::int64_t>(log_.size());
  }
  std::string url() const override { return "memory://"; }

 private:
  mutable std::shared_mutex mu_;
  std::vector<StoredEvent> log_;
  std::vector<StoredFeedback> feedback_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_user_;
};
}  // namespace

std::unique_ptr<EventStore> open_memory_store(const std::string&) { return std::make_unique<MemoryStore>(); }

}  // namespace driftrec::store
