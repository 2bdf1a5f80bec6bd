#pragma once
// The SQLite store's user index, LSM-style (internal). A commit appends to the rowid-ordered
// `events` table only (its last page or two); the (user, ts) index is its own table, `user_index`,
// keyed by (bucket, user, ts, seq) with users hashed into 256 buckets, and `index_marks` holds, per
// bucket, the sequence number up to which that bucket's events are in it. Once more than
// `tail_limit` events wait unindexed, a commit also merges buckets (round robin, each in one sorted
// batch) until the tail is back under the limit, so the index's pages are written a few times per
// thousand events rather than once per event (an index updated per insert touched a random leaf for
// nearly every event: docs/design-notes.md, "User index merged in batches"). A user's events are the
// index's plus those of the tail past their bucket's mark, which every store object keeps in memory
// (UnindexedTail), caught up from the log by sequence number; an erasure anywhere rebuilds it.
//
// It works over the store's two connections: the writer's methods run inside the store's writing
// transaction (group-commit leader), the reader's under the store's read mutex.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sqlite_db.h"
#include "unindexed_tail.h"

namespace driftrec::store::sqlite {

class UserIndex {
 public:
  static constexpr int kBuckets = 256;

  UserIndex(const Connection& writer, const Connection& reader, std::mutex& read_mu, std::size_t tail_limit);

  /// At open, in its own transaction: creates the tables, and builds the index from the log in key
  /// order when the store has none for this bucket count (a new store, or one written before the
  /// index was kept in batches, whose per-insert index `events_user_ts` is dropped).
  void open();

  // Reader side: the caller holds the read mutex.
  /// The user's newest `limit` events (0: all), oldest first: the index's with the tail's past the
  /// bucket's mark, read in one snapshot.
  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const;

  // Writer side: inside the writing transaction (or an erasure's).
  /// The buckets a transaction merged, each up to the same sequence number.
  struct Merged {
    std::vector<int> buckets;
    std::int64_t through = 0;
  };
  /// While more than tail_limit events wait unindexed, merges the next bucket's (everything
  /// committed before this transaction) into the index in key order and moves its mark, one bucket
  /// after another round robin (a batch import merges several per commit, a single event one now and
  /// then; at most one sweep of the buckets per commit).
  Merged merge();
  /// After the transaction that merged committed: the tail forgets what was merged.
  void merged(const Merged& m);
  /// Deletes the user's events from the log, through their index entries and by a scan of the log
  /// past the lowest mark (not through the in-memory tail: another connection's events may not be
  /// in it yet), and the user's index entries; returns the events deleted.
  std::int64_t delete_user(const std::string& user);
  /// Deletes the index entries older than `cutoff` (the caller deletes the events).
  void purge_before(std::int64_t cutoff);
  /// The highest index mark (no new event may be numbered at or below it).
  std::int64_t highest_mark() const;

 private:
  void build();
  void catch_up() const;
  std::int64_t mark(const Connection& c, std::unique_ptr<Statement>& slot, int bucket) const;
  std::size_t merge_bucket(int bucket, std::int64_t through);

  const Connection& writer_;
  const Connection& reader_;
  std::mutex& read_mu_;
  std::size_t tail_limit_;
  // Under read_mu_: the tail and what it has seen.
  mutable UnindexedTail tail_{kBuckets};
  mutable std::int64_t last_seen_ = -1;  ///< -1: rebuild from the lowest mark
  mutable std::int64_t erasures_seen_ = 0;
  int next_bucket_ = 0;  ///< the next bucket a commit merges (writer side)
  mutable std::unique_ptr<Statement> user_events_st_, mark_st_, event_by_seq_st_, erasures_st_, min_mark_st_, tail_st_,
      writer_mark_st_, insert_entry_st_, update_mark_st_;
};

}  // namespace driftrec::store::sqlite
