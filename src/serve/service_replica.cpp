// Service, the replica half: several servers share one store (postgresql://) behind a load
// balancer; each follows the log so that an event stored through another replica changes the
// user's next recommendation here too. The store serialises its writers, so sequence numbers
// commit in increasing order and the follow watermark never skips an event; own appends are
// recorded (append_own) so they are not applied twice, and an erasure counted by the store drops
// every cached state (rebuilt from the store, where the erased rows are gone).
#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "service_internals.h"

namespace driftrec::serve {

void Service::start_following() {
  follow_seq_ = with_store([&] {
    const auto last = store_->recent(1);
    return last.empty() ? std::int64_t{0} : last.back().seq;
  });
  erasures_seen_ = with_store([&] { return store_->erasures(); });
  follow_watermark_ = follow_seq_;
  if (options_.follow_ms > 0) follower_ = std::make_unique<Follower>(*this, options_.follow_ms);
  log_info("replica: following the store from seq " + std::to_string(follow_seq_) +
           (options_.follow_ms > 0
                ? " (change notifications, at most every " + std::to_string(options_.follow_ms) + " ms)"
                : ""));
}

std::size_t Service::follow() {
  if (!options_.replica) throw NotSupported("follow: this server is not a replica (ServiceOptions::replica)");
  const models::dense::OneThreadHere one;
  std::unique_lock exclusive(follow_mu_);  // no own append between its commit and its record
  const auto erasures = with_store([&] { return store_->erasures(); });
  if (erasures != erasures_seen_) {  // a deletion or purge somewhere: cached states may hold erased events
    for (auto& s : shards_) {
      std::lock_guard lock(s->mu);
      s->clear();
    }
    erasures_seen_ = erasures;
  }
  constexpr std::size_t kBatch = 10000;
  std::size_t applied = 0;
  for (;;) {
    std::vector<store::StoredEvent> rows;
    std::vector<std::int64_t> seqs;
    auto last = follow_seq_;
    with_store([&] {
      store_->scan(follow_seq_, [&](const store::StoredEvent& e) {
        last = e.seq;
        rows.push_back(e);
        return rows.size() < kBatch;
      });
    });
    const bool more = rows.size() == kBatch;
    {
      std::lock_guard lock(own_mu_);
      std::vector<store::StoredEvent> others;
      for (auto& e : rows)
        if (own_seqs_.erase(e.seq) == 0) {
          seqs.push_back(e.seq);
          others.push_back(std::move(e));
        }
      rows = std::move(others);
      own_seqs_.erase(own_seqs_.begin(), own_seqs_.upper_bound(last));  // e.g. erased before we saw them
    }
    IngestResult res;
    apply(rows, seqs, &res);
    applied += rows.size();
    follow_seq_ = last;
    follow_watermark_ = last;
    if (!more) break;
  }
  events_replicated_ += static_cast<std::int64_t>(applied);
  return applied;
}

}  // namespace driftrec::serve
