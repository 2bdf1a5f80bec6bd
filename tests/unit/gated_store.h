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
  int inside = 0;                    // appends waiting at the gate
  std::atomic<bool> failing{false};  // appends (after the gate) and user reads throw IoError
  std::vector<std::size_t> append_sizes;

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
/// of a user's events too), and counted.
class GatedStore : public store::EventStore {
 public:
  explicit GatedStore(std::shared_ptr<Gate> gate)
      : inner_(store::open_event_store("memory://")), gate_(std::move(gate)) {}
  std::vector<std::int64_t> append(const std::vector<store::StoredEvent>& e) override {
    {
      std::unique_lock lock(gate_->mu);
      ++gate_->inside;
      gate_->cv.notify_all();
      gate_->cv.wait(lock, [this] { return !gate_->held; });
      --gate_->inside;
      gate_->append_sizes.push_back(e.size());
      if (gate_->failing) throw IoError("gated://: database or disk is full");
    }
    return inner_->append(e);
  }
  void scan(std::int64_t after, const std::function<bool(const store::StoredEvent&)>& fn) const override {
    inner_->scan(after, fn);
  }
  std::vector<store::StoredEvent> user_events(const std::string& u, std::size_t limit) const override {
    if (gate_->failing) throw IoError("gated://: disk I/O error");
    return inner_->user_events(u, limit);
  }
  std::vector<store::StoredEvent> recent(std::size_t limit) const override { return inner_->recent(limit); }
  std::int64_t count() const override { return inner_->count(); }
  std::string url() const override { return "gated://"; }
  store::Erased delete_user(const std::string& u, std::int64_t at) override { return inner_->delete_user(u, at); }
  std::optional<std::int64_t> deleted_at(const std::string& u) const override { return inner_->deleted_at(u); }
  store::Erased purge_before(std::int64_t cutoff) override { return inner_->purge_before(cutoff); }

 private:
  std::unique_ptr<store::EventStore> inner_;
  std::shared_ptr<Gate> gate_;
};

}  // namespace driftrec::test
