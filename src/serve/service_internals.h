#pragma once
// Service's private parts, shared by its implementation files (service.cpp: state, ingest,
// recommendations; service_loop.cpp: exploration policies and feedback; service_rights.cpp:
// deletion, export, retention). Not a public header.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "../models/dense.h"
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/serve/service.h"

namespace driftrec::serve {

constexpr std::size_t kShards = 64;
/// Distinct policy specs a server keeps at once (policy_for refuses more; a rebuild skips more).
constexpr std::size_t kMaxPolicySpecs = 64;

inline double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// A model's identity across processes: the fingerprint of its model.json (weights checksum,
/// configuration, creation time), so feedback stored for it can be matched after a restart.
std::string model_identity(const nlohmann::json& meta);

/// One loaded model with everything derived from it. Immutable except the popularity window.
struct Service::Bundle {
  models::LoadedModel loaded;
  std::string dir;
  std::int64_t version = 0;
  std::string identity;  // fingerprint of model.json: the same model across restarts and reloads
  double loaded_at = 0;
  std::unique_ptr<index::Retriever> retriever;          // approximate top-K (nullptr = exact scoring)
  std::unique_ptr<workflow::ModelReranking> reranking;  // re-rankers over this model's catalogue facts
  // Recent popularity (cold start): a ring of the last N known items and their counts.
  mutable std::mutex pop_mu;
  mutable std::vector<std::int32_t> pop_ring;
  mutable std::size_t pop_next = 0;
  mutable std::vector<float> pop_counts;

  /// The model's index of an item id, or -1 when the model cannot score it (unknown, or the
  /// reserved padding index 0).
  std::int32_t known_item(const std::string& id) const {
    const auto i = loaded.items.find(id);
    return i >= 1 && i < loaded.model->n_items() ? i : -1;
  }

  void count(std::int32_t item, std::size_t window) const {
    std::lock_guard lock(pop_mu);
    if (pop_ring.size() < window) {
      pop_ring.push_back(item);
    } else {
      pop_counts[static_cast<std::size_t>(pop_ring[pop_next])] -= 1.0f;
      pop_ring[pop_next] = item;
      pop_next = (pop_next + 1) % window;
    }
    pop_counts[static_cast<std::size_t>(item)] += 1.0f;
  }
};

struct Service::CachedUser {
  models::UserState state;
  std::list<std::string>::iterator lru;  // position in the shard's recency list (front = newest)
  std::size_t bytes = 0;                 // estimate, see bytes_of()
  std::int64_t model_version = 0;        // the bundle that built the state (states are per model)
  std::int64_t watermark = 0;            // store seqs <= watermark were read into the state
  std::vector<std::int64_t> applied;     // seqs > watermark applied by ingest (sorted, bounded)
};

struct Service::Shard {
  std::mutex mu;
  std::unordered_map<std::string, CachedUser> users;
  /// Users whose states are being built outside the lock (states_of), with the events ingested
  /// meanwhile: applied to the state once it is cached.
  struct Building {
    int builders = 0;
    std::vector<std::pair<store::StoredEvent, std::int64_t>> stash;
  };
  std::unordered_map<std::string, Building> building;
  std::list<std::string> lru;
  std::size_t bytes = 0;
  std::size_t budget = 0;

  static std::size_t bytes_of(const std::string& key, const CachedUser& c) {
    return sizeof(CachedUser) + 2 * key.capacity() + 96 /* map and list nodes */ +
           c.state.history.capacity() * sizeof(data::Event) + c.state.vector.capacity() * sizeof(float) +
           c.applied.capacity() * sizeof(std::int64_t);
  }
  /// Re-measures `c` after a change and makes it the most recent; drops the least recently used
  /// others while over budget.
  void touch(std::unordered_map<std::string, CachedUser>::iterator it) {
    auto& c = it->second;
    bytes -= c.bytes;
    c.bytes = bytes_of(it->first, c);
    bytes += c.bytes;
    lru.splice(lru.begin(), lru, c.lru);
    while (bytes > budget && lru.size() > 1) {
      const auto victim = users.find(lru.back());
      bytes -= victim->second.bytes;
      lru.pop_back();
      users.erase(victim);
    }
  }
  void erase(std::unordered_map<std::string, CachedUser>::iterator it) {
    bytes -= it->second.bytes;
    lru.erase(it->second.lru);
    users.erase(it);
  }
  void clear() {
    users.clear();
    lru.clear();
    bytes = 0;
  }
};

template <typename Fn>
auto Service::with_store(Fn fn) -> decltype(fn()) {
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      storage_ok_ = true;
    } else {
      auto r = fn();
      storage_ok_ = true;
      return r;
    }
  } catch (const IoError& e) {
    storage_failed(e.what());
    throw store::StorageUnavailable(e.what());
  }
}

/// The retention schedule: purge_expired() at start and every interval, on its own thread.
struct Service::Retention {
  Retention(Service& s, double interval_seconds) {
    worker = std::thread([this, &s, interval_seconds] {
      std::unique_lock lock(mu);
      while (!stop) {
        lock.unlock();
        try {
          s.purge_expired();
        } catch (const std::exception& e) {
          log_error(std::string("retention purge failed (retried at the next interval): ") + e.what());
        }
        lock.lock();
        cv.wait_for(lock, std::chrono::duration<double>(interval_seconds), [this] { return stop; });
      }
    });
  }
  ~Retention() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
    worker.join();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread worker;
};

template <typename Fn>
std::vector<std::int64_t> Service::append_own(Fn fn) {
  if (!options_.replica) return with_store(fn);
  // The ticket is returned when this append has recorded its seqs, or failed (follow() waits on it).
  struct Ticket {
    Service& s;
    std::uint64_t number;
    ~Ticket() {
      {
        std::lock_guard lock(s.own_mu_);
        s.tickets_in_flight_.erase(number);
      }
      s.own_cv_.notify_all();
    }
  };
  const auto taken = [this] {
    std::lock_guard lock(own_mu_);
    tickets_in_flight_.insert(next_ticket_);
    return next_ticket_++;
  }();
  const Ticket ticket{*this, taken};
  auto seqs = with_store(fn);
  std::lock_guard lock(own_mu_);
  for (const auto s : seqs)
    if (s > 0) own_seqs_.insert(s);
  return seqs;
}

/// One queued ingest request.
struct Service::Pending {
  std::vector<store::StoredEvent> rows;
  IngestResult result;  // expired counted already
  IngestDone done;
};

/// Ingest's commit thread: takes everything queued and commits it as one group (commit_group). On
/// destruction it commits what is still queued, then stops.
struct Service::Committer {
  explicit Committer(Service& s);
  ~Committer();
  void push(Pending p);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Pending> queue;
  bool stop = false;
  std::thread worker;
};

/// Replica mode's follower: waits for the store's change notification (or follow_ms) and calls
/// follow(), on its own thread.
struct Service::Follower {
  Follower(Service& s, int follow_ms) {
    worker = std::thread([this, &s, follow_ms] {
      while (!stop) {
        s.store_->wait_for_appends(follow_ms);
        if (stop) break;
        try {
          s.follow();
        } catch (const std::exception& e) {  // the store is down: stats show it; retried next time
          log_warn(std::string("replica: following the store failed: ") + e.what());
          std::this_thread::sleep_for(std::chrono::milliseconds(follow_ms));
        }
      }
    });
  }
  ~Follower() {
    stop = true;
    worker.join();
  }
  std::atomic<bool> stop{false};
  std::thread worker;
};

}  // namespace driftrec::serve
