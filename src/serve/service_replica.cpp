// Service, the replica half: several servers share one store (postgresql://) behind a load
// balancer; each follows the log so that an event stored through another replica changes the
// user's next recommendation here too. The store serialises its writers, so sequence numbers
// commit in increasing order and the follow watermark never skips an event; own appends are
// recorded (append_own) so they are not applied twice, and an erasure counted by the store drops
// every cached state (rebuilt from the store, where the erased rows are gone). Following never
// blocks an append: it scans, then waits only for the appends that began before its scan ended to
// record their seqs (an exclusive lock here starved the follower under sustained ingest, or, the
// other way round, stalled the commit thread for every scan; docs/design-notes.md).
#include <algorithm>
#include <limits>

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
  std::lock_guard one_follow(follow_mu_);
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
    // Own appends right above the watermark need no reading; the read stops before the next one.
    // So a replica reads back only what the others wrote, not its own groups.
    auto up_to = std::numeric_limits<std::int64_t>::max();
    {
      std::lock_guard lock(own_mu_);
      for (auto it = own_seqs_.begin(); it != own_seqs_.end() && *it <= follow_seq_ + 1; it = own_seqs_.erase(it))
        follow_seq_ = std::max(follow_seq_, *it);
      if (!own_seqs_.empty()) up_to = *own_seqs_.begin() - 1;
    }
    std::vector<store::StoredEvent> rows;
    std::vector<std::int64_t> seqs;
    auto last = follow_seq_;
    with_store([&] {
      store_->scan_range(follow_seq_, up_to, [&](const store::StoredEvent& e) {
        last = e.seq;
        rows.push_back(e);
        return rows.size() < kBatch;
      });
    });
    const bool more = rows.size() == kBatch;
    // Read to the end of the stretch: every seq below the own append at up_to + 1 has committed
    // (the store commits seqs in order), so the watermark moves to up_to even over a gap.
    const bool stretch_done = !more && up_to != std::numeric_limits<std::int64_t>::max();
    {
      // An own row in the scan was committed before the scan ended, so its append took a ticket
      // before `horizon`: once those are recorded, own_seqs_ names every own row scanned.
      std::unique_lock lock(own_mu_);
      const auto horizon = next_ticket_;
      if (!rows.empty())  // nothing read, nothing to tell apart
        own_cv_.wait(lock, [&] { return tickets_in_flight_.empty() || *tickets_in_flight_.begin() >= horizon; });
      std::vector<store::StoredEvent> others;
      for (auto& e : rows)
        if (own_seqs_.erase(e.seq) == 0) {
          seqs.push_back(e.seq);
          others.push_back(std::move(e));
        }
      rows = std::move(others);
      if (stretch_done) last = up_to;
      own_seqs_.erase(own_seqs_.begin(), own_seqs_.upper_bound(last));  // e.g. erased before we saw them
    }
    IngestResult res;
    apply(rows, seqs, &res);
    applied += rows.size();
    follow_seq_ = last;
    follow_watermark_ = last;
    if (!more && !stretch_done) break;
  }
  events_replicated_ += static_cast<std::int64_t>(applied);
  return applied;
}

}  // namespace driftrec::serve
