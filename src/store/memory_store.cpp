// memory:// — the reference EventStore: everything in RAM, nothing survives the process.
#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "driftrec/store/event_store.h"
#include "store_registry.h"
#include "tombstones.h"

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
      if (tombstones_.drops(f.user, f.ts)) continue;
      f.seq = ++feedback_seq_;
      feedback_.push_back(std::move(f));
    }
    return append_locked(events);
  }
  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override {
    std::shared_lock lock(mu_);
    for (const auto& f : feedback_)
      if (!fn(f)) return;
  }
  std::vector<StoredFeedback> user_feedback(const std::string& user) const override {
    std::shared_lock lock(mu_);
    std::vector<StoredFeedback> out;
    for (const auto& f : feedback_)
      if (f.user == user) out.push_back(f);
    return out;
  }
  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    std::shared_lock lock(mu_);
    auto it = std::upper_bound(log_.begin(), log_.end(), after,
                               [](std::int64_t s, const StoredEvent& e) { return s < e.seq; });
    for (; it != log_.end(); ++it)
      if (!fn(*it)) return;
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

  Erased delete_user(const std::string& user, std::int64_t deleted_at) override {
    std::unique_lock lock(mu_);
    tombstones_.put(tombstones_.key(user), deleted_at);
    return erase_if([&](const std::string& u, std::int64_t) { return u == user; });
  }
  std::optional<std::int64_t> deleted_at(const std::string& user) const override {
    std::shared_lock lock(mu_);
    return tombstones_.find(user);
  }
  Erased purge_before(std::int64_t cutoff) override {
    std::unique_lock lock(mu_);
    return erase_if([&](const std::string&, std::int64_t ts) { return ts < cutoff; });
  }

 private:
  std::vector<std::int64_t> append_locked(const std::vector<StoredEvent>& events) {
    std::vector<std::int64_t> seqs;
    seqs.reserve(events.size());
    for (auto e : events) {
      if (tombstones_.drops(e.user, e.ts)) {
        seqs.push_back(0);
        continue;
      }
      e.seq = ++event_seq_;
      seqs.push_back(e.seq);
      by_user_[e.user].push_back(log_.size());
      log_.push_back(std::move(e));
    }
    return seqs;
  }
  template <typename Pred>
  Erased erase_if(Pred pred) {
    Erased out;
    const auto e = std::remove_if(log_.begin(), log_.end(), [&](const StoredEvent& x) { return pred(x.user, x.ts); });
    out.events = log_.end() - e;
    log_.erase(e, log_.end());
    by_user_.clear();
    for (std::size_t i = 0; i < log_.size(); ++i) by_user_[log_[i].user].push_back(i);
    const auto f =
        std::remove_if(feedback_.begin(), feedback_.end(), [&](const StoredFeedback& x) { return pred(x.user, x.ts); });
    out.feedback = feedback_.end() - f;
    feedback_.erase(f, feedback_.end());
    return out;
  }

  mutable std::shared_mutex mu_;
  std::vector<StoredEvent> log_;  ///< in seq order
  std::vector<StoredFeedback> feedback_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_user_;  ///< positions in log_
  std::int64_t event_seq_ = 0, feedback_seq_ = 0;
  Tombstones tombstones_;
};
}  // namespace

std::unique_ptr<EventStore> open_memory_store(const std::string&) { return std::make_unique<MemoryStore>(); }

}  // namespace driftrec::store
