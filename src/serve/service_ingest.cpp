// Service's ingest: validation, the commit thread that writes queued requests in groups, and the
// online update of cached states (apply).
//
// Why a commit thread rather than each caller appending: with one request per event, the cost of a
// durable ingest was mostly threads handing work to each other (16 callers queued on the store's
// group commit, each woken per transaction), not the write. Queuing the validated rows and letting
// one thread commit whatever has arrived meanwhile makes the group as large as the load, with one
// wake-up per group (docs/design-notes.md, "Ingest commit thread").
#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "service_internals.h"

namespace driftrec::serve {

Service::Committer::Committer(Service& s) {
  worker = std::thread([this, &s] {
    const models::dense::OneThreadHere one;  // apply() scores beside the request workers (see the class comment)
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [this] { return stop || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and everything queued is committed
      std::vector<Pending> group(std::make_move_iterator(queue.begin()), std::make_move_iterator(queue.end()));
      queue.clear();
      lock.unlock();
      s.commit_group(group);
      lock.lock();
    }
  });
}

Service::Committer::~Committer() {
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  worker.join();
}

void Service::Committer::push(Pending p) {
  {
    std::lock_guard lock(mu);
    if (stop) throw store::StorageUnavailable("the service is shutting down; the events were not stored");
    queue.push_back(std::move(p));
  }
  cv.notify_one();
}

void Service::start_committer() { committer_ = std::make_unique<Committer>(*this); }

std::vector<store::StoredEvent> Service::validated_rows(const std::vector<IncomingEvent>& events,
                                                        IngestResult* res) const {
  if (events.empty()) throw InvalidInput("no events given");
  std::vector<store::StoredEvent> rows;
  rows.reserve(events.size());
  const auto now = static_cast<std::int64_t>(now_seconds());
  const auto oldest = retention_cutoff(now);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const auto where = [i] { return "events[" + std::to_string(i) + "]"; };
    if (e.user.empty()) throw InvalidInput(where() + ".user: must be a non-empty string");
    if (e.item.empty()) throw InvalidInput(where() + ".item: must be a non-empty string");
    if (!std::isfinite(e.value)) throw InvalidInput(where() + ".value: must be a finite number");
    store::StoredEvent r;
    r.user = e.user;
    r.item = e.item;
    r.ts = e.ts.value_or(now);
    r.behavior = e.behavior;
    r.value = e.value;
    r.domain = e.domain;
    if (r.ts < oldest) {
      ++res->expired;
      continue;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

void Service::ingest_async(const std::vector<IncomingEvent>& events, IngestDone done) {
  Pending p;
  p.rows = validated_rows(events, &p.result);
  p.done = std::move(done);
  if (p.rows.empty()) {  // nothing to store (all expired): complete here
    p.done(std::move(p.result), nullptr);
    return;
  }
  committer_->push(std::move(p));
}

IngestResult Service::ingest(const std::vector<IncomingEvent>& events) {
  std::promise<IngestResult> promise;
  auto result = promise.get_future();
  ingest_async(events, [&promise](IngestResult r, std::exception_ptr error) {
    if (error) {
      promise.set_exception(error);
    } else {
      promise.set_value(std::move(r));
    }
  });
  return result.get();
}

void Service::commit_group(std::vector<Pending>& group) {
  std::vector<store::StoredEvent> rows;  // the group's rows, moved here and back (no string copies)
  for (auto& p : group)
    for (auto& r : p.rows) rows.push_back(std::move(r));
  std::vector<std::int64_t> seqs;
  std::exception_ptr error;
  const auto started = std::chrono::steady_clock::now();
  try {
    ++ingest_commits_;
    seqs = append_own([&] { return store_->append(rows); });  // durable from here on
    if (seqs.size() != rows.size()) throw IoError("the store returned a sequence number count unlike the rows'");
  } catch (...) {
    error = std::current_exception();
  }
  ingest_commit_ns_ +=
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  std::size_t back = 0;
  for (auto& p : group)
    for (auto& r : p.rows) r = std::move(rows[back++]);
  std::size_t offset = 0;
  for (auto& p : group) {
    auto& res = p.result;
    if (!error) {
      res.seqs.assign(seqs.begin() + static_cast<std::ptrdiff_t>(offset),
                      seqs.begin() + static_cast<std::ptrdiff_t>(offset + p.rows.size()));
      offset += p.rows.size();
      res.deleted_users = static_cast<std::size_t>(std::count(res.seqs.begin(), res.seqs.end(), 0));
      res.accepted = p.rows.size() - res.deleted_users;
    }
    std::exception_ptr own = error;
    if (!own) {
      try {
        apply(p.rows, res.seqs, &res);
      } catch (...) {  // stored, but the cached state could not follow: report it, as ingest() did
        own = std::current_exception();
      }
    }
    try {
      p.done(own ? IngestResult{} : std::move(res), own);
    } catch (const std::exception& e) {
      log_error(std::string("ingest completion failed: ") + e.what());
    }
  }
}

bool Service::apply_cached(CachedUser& c, const store::StoredEvent& row, std::int64_t seq, std::int32_t item,
                           const Bundle& b) {
  if (seq <= c.watermark || std::binary_search(c.applied.begin(), c.applied.end(), seq)) return false;
  c.applied.insert(std::upper_bound(c.applied.begin(), c.applied.end(), seq), seq);
  if (c.applied.size() > 4 * options_.history_limit) {
    c.watermark = c.applied[c.applied.size() / 2];
    c.applied.erase(c.applied.begin(), c.applied.begin() + static_cast<std::ptrdiff_t>(c.applied.size() / 2 + 1));
  }
  const auto beh = b.loaded.behaviors.find(row.behavior);
  b.loaded.model->observe(
      c.state, data::Event{c.state.user, item, row.ts, static_cast<std::int16_t>(std::max(0, beh)), 0, row.value});
  if (c.state.history.size() > 2 * options_.history_limit) {  // keep the state bounded
    c.state.history.erase(c.state.history.begin(),
                          c.state.history.end() - static_cast<std::ptrdiff_t>(options_.history_limit));
  }
  return true;
}

void Service::apply(const std::vector<store::StoredEvent>& rows, const std::vector<std::int64_t>& seqs,
                    IngestResult* res) {
  const auto b = bundle();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (seqs[i] == 0) continue;  // refused by the store: a deleted user's old event
    const auto item = b->known_item(rows[i].item);
    if (item < 0) {
      ++res->unknown_items;
      continue;
    }
    b->count(item, options_.popularity_window);
    auto& shard = shard_of(rows[i].user);
    std::lock_guard lock(shard.mu);
    // A build of this user in progress applies the event once its state is cached, whatever is
    // cached now: the build may replace that state (one of another model version, possibly the
    // version this apply runs with).
    if (const auto bt = shard.building.find(rows[i].user); bt != shard.building.end())
      bt->second.stash.emplace_back(rows[i], seqs[i]);
    auto it = shard.users.find(rows[i].user);
    if (it == shard.users.end()) continue;         // not cached: the next read rebuilds it from the store
    if (it->second.model_version != b->version) {  // another model's state: rebuilt on the next read
      shard.erase(it);
      continue;
    }
    if (apply_cached(it->second, rows[i], seqs[i], item, *b)) shard.touch(it);
  }
  events_ingested_ += static_cast<std::int64_t>(res->accepted);
  unknown_items_ += static_cast<std::int64_t>(res->unknown_items);
  last_event_at_ = now_seconds();
}

}  // namespace driftrec::serve
