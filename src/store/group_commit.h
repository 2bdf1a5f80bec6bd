#pragma once
// Group commit for the durable stores (internal): concurrent writers queue their batches, and one
// of them (the leader) writes every batch queued so far in one transaction, so throughput grows
// with concurrency while each caller still returns only after its own batch is durable. An
// exclusive section (erasures) takes the leader's place for its own transaction.
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <vector>

namespace driftrec::store {

template <class Batch>
class GroupCommit {
 public:
  /// Queues `batch` and returns once a leader (this caller or another) has written it with
  /// `write_group` (every batch queued at that moment, in queue order). Rethrows the group's error.
  void run(Batch& batch, const std::function<void(const std::vector<Batch*>&)>& write_group) {
    Entry entry{&batch, nullptr, false};
    std::unique_lock lock(mu_);
    queue_.push_back(&entry);
    while (!entry.done) {
      if (committing_) {
        cv_.wait(lock);
        continue;
      }
      committing_ = true;  // leader: take everything queued so far
      std::vector<Entry*> group(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      std::vector<Batch*> batches;
      for (auto* e : group) batches.push_back(e->batch);
      std::exception_ptr error;
      try {
        write_group(batches);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      for (auto* e : group) {
        e->error = error;
        e->done = true;
      }
      committing_ = false;
      cv_.notify_all();
    }
    if (entry.error) std::rethrow_exception(entry.error);
  }

  /// Runs `fn` with no group being written meanwhile (in a leader's place).
  template <class Fn>
  auto alone(Fn fn) -> decltype(fn()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !committing_; });
      committing_ = true;
    }
    struct Release {
      GroupCommit& g;
      ~Release() {
        {
          std::lock_guard lock(g.mu_);
          g.committing_ = false;
        }
        g.cv_.notify_all();
      }
    } release{*this};
    return fn();
  }

 private:
  struct Entry {
    Batch* batch;
    std::exception_ptr error;
    bool done;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry*> queue_;
  bool committing_ = false;
};

}  // namespace driftrec::store
