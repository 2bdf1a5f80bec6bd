#pragma once
// A memory event store whose appends can be held at a gate, made to fail, and counted: for tests of
// what happens while a transaction is being written (the ingest commit thread, deferred answers).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "driftrec/core/error.h"
#include "driftrec/store/event_store.h"

namespace driftrec::test {

/// What the gated store's appends see and how they behave; shared with the test, so it outlives
/// the service that owns the store.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;                 // appends wait while held
  bool after_write = false;          // ... after writing their rows (committed, not yet returned;
                                     // failing then throws as a lost acknowledgement would)
  int inside = 0;                    // appends waiting at the gate
  std::atomic<bool> failing{false};  // appends (after the gate) and user reads throw IoError
  std::vector<std::size_t> append_sizes;
  std::atomic<std::size_t> rows_scanned{0};  // events handed out by scan and scan_range

  void hold() {
    std::lock_guard lock(mu);
    held = true;
  }
  void release() {
    {
      std::lock_guard lock(mu);
      held = false;
    }
    cv.notify_all();
  }
  /// Waits until an append is waiting at the gate.
  void wait_inside() {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [this] { return inside > 0; }));
  }
};

/// A memory store whose appends can be held at a gate, made to fail (a full disk, an I/O error; reads
/// of a user's events too), and counted. Several may share one inner store (replicas of one log).
class GatedStore : public store::EventStore {
 public:
  explicit GatedStore(std::shared_ptr<Gate> gate,
                      std::shared_ptr<store::EventStore> inner = store::open_event_store("memory://"))
      : inner_(std::move(inner)), gate_(std::move(gate)) {}
  std::vector<std::int64_t> append(const std::vector<store::StoredEvent>& e) override {
    std::vector<std::int64_t> seqs;
    std::unique_lock lock(gate_->mu);
    if (gate_->after_write) seqs = inner_->append(e);
    ++gate_->inside;
    gate_->cv.notify_all();
    gate_->cv.wait(lock, [this] { return !gate_->held; });
    --gate_->inside;
    gate_->append_sizes.push_back(e.size());
    if (gate_->failing) throw IoError("gated://: database or disk is full");
    if (!gate_->after_write) {
      lock.unlock();
      seqs = inner_->append(e);
    }
    return seqs;
  }
  void scan(std::int64_t after, const std::function<bool(const store::StoredEvent&)>& fn) const override {
    inner_->scan(after, counted(fn));
  }
  void scan_range(std::int64_t after, std::int64_t up_to,
                  const std::function<bool(const store::StoredEvent&)>& fn) const override {
    inner_->scan_range(after, up_to, counted(fn));
  }
  std::vector<store::StoredEvent> user_events(const std::string& u, std::size_t limit) const override {
    if (gate_->failing) throw IoError("gated://: disk I/O error");
    return inner_->user_events(u, limit);
  }
  std::vector<store::StoredEvent> recent(std::size_t limit) const override { return inner_->recent(limit); }
  std::int64_t count() const override { return inner_->count(); }
  std::int64_t erasures() const override { return inner_->erasures(); }
  std::string url() const override { return "gated://"; }
  store::Erased delete_user(const std::string& u, std::int64_t at) override { return inner_->delete_user(u, at); }
  std::optional<std::int64_t> deleted_at(const std::string& u) const override { return inner_->deleted_at(u); }
  store::Erased purge_before(std::int64_t cutoff) override { return inner_->purge_before(cutoff); }

 private:
  std::function<bool(const store::StoredEvent&)> counted(
      const std::function<bool(const store::StoredEvent&)>& fn) const {
    return [this, &fn](const store::StoredEvent& e) {
      ++gate_->rows_scanned;
      return fn(e);
    };
  }
  std::shared_ptr<store::EventStore> inner_;
  std::shared_ptr<Gate> gate_;
};

}  // namespace driftrec::test
