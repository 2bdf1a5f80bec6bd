#pragma once
// The SQLite store's unindexed tail (internal). Appends go to the rowid-ordered `events` table only;
// the (user, ts) index is a separate table filled in sorted batches, one bucket of users at a time
// (sqlite_user_index.h). Until its bucket is merged, an event is found through this
// in-memory copy of the tail: user, time and sequence number by bucket, so that a user's recent
// events are read without scanning the log and a bucket's events are merged in one sorted batch.
// Not thread-safe: the store guards it with its read mutex.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace driftrec::store {

/// The bucket of a user id: FNV-1a (64-bit) of its bytes modulo `buckets`. Stored indexes depend on
/// it, so it must never change for a given bucket count.
inline int user_bucket(std::string_view user, int buckets) {
  std::uint64_t h = 14695981039346656037ull;
  for (const unsigned char c : user) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(buckets));
}

struct TailEntry {
  std::string user;
  std::int64_t ts = 0;
  std::int64_t seq = 0;
};

class UnindexedTail {
 public:
  explicit UnindexedTail(int buckets) : buckets_(static_cast<std::size_t>(buckets)) {}
  int buckets() const { return static_cast<int>(buckets_.size()); }

  /// Records an appended event (any order; entries already merged are dropped when found).
  void add(std::string user, std::int64_t ts, std::int64_t seq) {
    const auto b = static_cast<std::size_t>(user_bucket(user, buckets()));
    buckets_[b].push_back({std::move(user), ts, seq});
    ++size_;
  }
  /// Entries held (some may be merged already and not yet dropped).
  std::size_t size() const { return size_; }

  /// The sequence numbers of `user`'s entries past `mark` (its bucket's index mark), in the order
  /// added; drops the bucket's entries at or below the mark while at it.
  std::vector<std::int64_t> seqs_of(const std::string& user, std::int64_t mark) {
    const auto b = user_bucket(user, buckets());
    drop(b, mark);
    std::vector<std::int64_t> out;
    for (const auto& e : buckets_[static_cast<std::size_t>(b)])
      if (e.user == user) out.push_back(e.seq);
    return out;
  }

  /// Bucket b's entries with mark < seq <= up_to, sorted by (user, ts, seq): the index's key order.
  std::vector<TailEntry> bucket(int b, std::int64_t mark, std::int64_t up_to) const {
    std::vector<TailEntry> out;
    for (const auto& e : buckets_[static_cast<std::size_t>(b)])
      if (e.seq > mark && e.seq <= up_to) out.push_back(e);
    std::sort(out.begin(), out.end(), [](const TailEntry& x, const TailEntry& y) {
      return std::tie(x.user, x.ts, x.seq) < std::tie(y.user, y.ts, y.seq);
    });
    return out;
  }

  /// Forgets bucket b's entries with seq <= up_to (merged into the index).
  void drop(int b, std::int64_t up_to) {
    auto& v = buckets_[static_cast<std::size_t>(b)];
    const auto keep = std::remove_if(v.begin(), v.end(), [up_to](const TailEntry& e) { return e.seq <= up_to; });
    size_ -= static_cast<std::size_t>(v.end() - keep);
    v.erase(keep, v.end());
  }

  void clear() {
    for (auto& v : buckets_) v.clear();
    size_ = 0;
  }

 private:
  std::vector<std::vector<TailEntry>> buckets_;
  std::size_t size_ = 0;
};

}  // namespace driftrec::store
