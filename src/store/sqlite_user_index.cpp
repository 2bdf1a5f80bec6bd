#include "sqlite_user_index.h"

#include <algorithm>
#include <tuple>

#include "driftrec/core/error.h"

namespace driftrec::store::sqlite {

namespace {

void sql_user_bucket(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const auto n = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
  sqlite3_result_int(ctx, user_bucket(std::string_view(p ? p : "", p ? n : 0), UserIndex::kBuckets));
}

}  // namespace

UserIndex::UserIndex(const Connection& writer, const Connection& reader, std::mutex& read_mu, std::size_t tail_limit)
    : writer_(writer), reader_(reader), read_mu_(read_mu), tail_limit_(tail_limit) {}

void UserIndex::open() {
  writer_.exec(
      "CREATE TABLE IF NOT EXISTS user_index(bucket INTEGER NOT NULL, user TEXT NOT NULL, ts INTEGER NOT NULL, "
      "seq INTEGER NOT NULL, PRIMARY KEY(bucket, user, ts, seq)) WITHOUT ROWID");
  writer_.exec("CREATE TABLE IF NOT EXISTS index_marks(bucket INTEGER PRIMARY KEY, through INTEGER NOT NULL)");
  write_transaction(writer_, [this] {
    Statement has(writer_.get(), "SELECT value FROM meta WHERE key = 'user_index_buckets'", writer_.path());
    const bool built = writer_.step(has.get()) && column_text(has.get(), 0) == std::to_string(kBuckets);
    sqlite3_reset(has.get());
    if (!built) build();
  });
}

void UserIndex::build() {
  sqlite3* db = writer_.get();
  if (sqlite3_create_function(db, "driftrec_user_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                              &sql_user_bucket, nullptr, nullptr) != SQLITE_OK)
    throw IoError(writer_.path() + ": cannot register the bucket function: " + sqlite3_errmsg(db));
  writer_.exec("DELETE FROM user_index");
  writer_.exec(
      "INSERT INTO user_index(bucket, user, ts, seq) SELECT driftrec_user_bucket(user), user, ts, seq FROM events "
      "ORDER BY 1, 2, 3, 4");
  sqlite3_create_function(db, "driftrec_user_bucket", 1, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr);
  writer_.exec("DELETE FROM index_marks");
  const auto buckets = std::to_string(kBuckets);
  writer_.exec("WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n + 1 < " + buckets +
               ") INSERT INTO index_marks(bucket, through) SELECT n, (SELECT ifnull(max(seq), 0) FROM events) FROM b");
  writer_.exec("DROP INDEX IF EXISTS events_user_ts");
  writer_.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('user_index_buckets', '" + buckets + "')");
}

std::vector<StoredEvent> UserIndex::user_events(const std::string& user, std::size_t limit) const {
  const ReadTransaction txn(reader_);
  catch_up();
  const int bucket = user_bucket(user, kBuckets);
  const auto bucket_mark = mark(reader_, mark_st_, bucket);
  std::vector<StoredEvent> out;
  {
    const ResetAfter st{reader_.cached(user_events_st_,
                                       "SELECT e.seq,e.user,e.item,e.ts,e.behavior,e.value,e.domain FROM user_index i "
                                       "JOIN events e ON e.seq = i.seq WHERE i.bucket = ? AND i.user = ? "
                                       "ORDER BY i.ts DESC, i.seq DESC LIMIT ?")};
    sqlite3_bind_int(st.get(), 1, bucket);
    bind_text(st.get(), 2, user);
    sqlite3_bind_int64(st.get(), 3, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
    while (reader_.step(st.get())) out.push_back(read_event(st.get()));
  }
  const auto recent_seqs = tail_.seqs_of(user, bucket_mark);
  if (!recent_seqs.empty()) {
    const ResetAfter st{
        reader_.cached(event_by_seq_st_, "SELECT seq,user,item,ts,behavior,value,domain FROM events WHERE seq = ?")};
    for (const auto seq : recent_seqs) {
      sqlite3_reset(st.get());
      sqlite3_bind_int64(st.get(), 1, seq);
      // Gone (erased since) or, after an erasure freed its number, another user's: skipped.
      if (reader_.step(st.get()) && column_text(st.get(), 1) == user) out.push_back(read_event(st.get()));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const StoredEvent& a, const StoredEvent& b) { return std::tie(a.ts, a.seq) < std::tie(b.ts, b.seq); });
  if (limit > 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

/// Brings the in-memory tail up to the reader's snapshot (caller holds read_mu_, inside a
/// ReadTransaction): the log's events past the last one seen, or, after an erasure by any
/// connection (numbers may have been freed and given again), everything past the lowest mark.
void UserIndex::catch_up() const {
  std::int64_t erasures_now = 0;
  {
    const ResetAfter st{reader_.cached(erasures_st_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'erasures'")};
    if (reader_.step(st.get())) erasures_now = sqlite3_column_int64(st.get(), 0);
  }
  if (erasures_now != erasures_seen_ || last_seen_ < 0) {
    tail_.clear();
    const ResetAfter st{reader_.cached(min_mark_st_, "SELECT ifnull(min(through), 0) FROM index_marks")};
    reader_.step(st.get());
    last_seen_ = sqlite3_column_int64(st.get(), 0);
    erasures_seen_ = erasures_now;
  }
  const ResetAfter st{reader_.cached(tail_st_, "SELECT seq,user,ts FROM events WHERE seq > ? ORDER BY seq")};
  sqlite3_bind_int64(st.get(), 1, last_seen_);
  while (reader_.step(st.get())) {
    last_seen_ = sqlite3_column_int64(st.get(), 0);
    tail_.add(column_text(st.get(), 1), sqlite3_column_int64(st.get(), 2), last_seen_);
  }
}

std::int64_t UserIndex::mark(const Connection& c, std::unique_ptr<Statement>& slot, int bucket) const {
  const ResetAfter st{c.cached(slot, "SELECT through FROM index_marks WHERE bucket = ?")};
  sqlite3_bind_int(st.get(), 1, bucket);
  return c.step(st.get()) ? sqlite3_column_int64(st.get(), 0) : 0;
}

UserIndex::Merged UserIndex::merge() {
  Merged out;
  std::size_t excess = 0;
  {
    std::lock_guard lock(read_mu_);
    const ReadTransaction txn(reader_);
    catch_up();
    if (tail_.size() <= tail_limit_) return out;
    excess = tail_.size() - tail_limit_;
    out.through = last_seen_;
  }
  while (excess > 0 && out.buckets.size() < static_cast<std::size_t>(kBuckets)) {
    const int bucket = next_bucket_;
    next_bucket_ = (next_bucket_ + 1) % kBuckets;
    const auto n = merge_bucket(bucket, out.through);
    excess -= std::min(excess, n);  // an empty bucket's mark moves too, removing nothing
    out.buckets.push_back(bucket);
  }
  return out;
}

/// Merges the bucket's tail entries up to `through` and moves its mark there; returns how many.
std::size_t UserIndex::merge_bucket(int bucket, std::int64_t through) {
  const auto from = mark(writer_, writer_mark_st_, bucket);
  std::vector<TailEntry> batch;
  {
    std::lock_guard lock(read_mu_);
    batch = tail_.bucket(bucket, from, through);
  }
  const ResetAfter ins{
      writer_.cached(insert_entry_st_, "INSERT OR IGNORE INTO user_index(bucket,user,ts,seq) VALUES (?,?,?,?)")};
  for (const auto& e : batch) {
    sqlite3_reset(ins.get());
    sqlite3_bind_int(ins.get(), 1, bucket);
    sqlite3_bind_text(ins.get(), 2, e.user.data(), static_cast<int>(e.user.size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins.get(), 3, e.ts);
    sqlite3_bind_int64(ins.get(), 4, e.seq);
    writer_.done(ins.get());
  }
  const ResetAfter up{writer_.cached(update_mark_st_,
                                     "INSERT INTO index_marks(bucket, through) VALUES (?, ?) ON CONFLICT(bucket) DO "
                                     "UPDATE SET through = max(through, excluded.through)")};
  sqlite3_bind_int(up.get(), 1, bucket);
  sqlite3_bind_int64(up.get(), 2, through);
  writer_.done(up.get());
  return batch.size();
}

void UserIndex::merged(const Merged& m) {
  if (m.buckets.empty()) return;
  std::lock_guard lock(read_mu_);
  for (const auto bucket : m.buckets) tail_.drop(bucket, m.through);
}

std::int64_t UserIndex::delete_user(const std::string& user) {
  const int bucket = user_bucket(user, kBuckets);
  sqlite3* db = writer_.get();
  Statement indexed(db, "DELETE FROM events WHERE seq IN (SELECT seq FROM user_index WHERE bucket = ? AND user = ?)",
                    writer_.path());
  sqlite3_bind_int(indexed.get(), 1, bucket);
  bind_text(indexed.get(), 2, user);
  writer_.done(indexed.get());
  std::int64_t events = sqlite3_changes(db);
  Statement tail(db, "DELETE FROM events WHERE seq > (SELECT ifnull(min(through), 0) FROM index_marks) AND user = ?",
                 writer_.path());
  bind_text(tail.get(), 1, user);
  writer_.done(tail.get());
  events += sqlite3_changes(db);
  Statement entries(db, "DELETE FROM user_index WHERE bucket = ? AND user = ?", writer_.path());
  sqlite3_bind_int(entries.get(), 1, bucket);
  bind_text(entries.get(), 2, user);
  writer_.done(entries.get());
  return events;
}

void UserIndex::purge_before(std::int64_t cutoff) {
  Statement entries(writer_.get(), "DELETE FROM user_index WHERE ts < ?", writer_.path());
  sqlite3_bind_int64(entries.get(), 1, cutoff);
  writer_.done(entries.get());
}

std::int64_t UserIndex::highest_mark() const {
  Statement st(writer_.get(), "SELECT ifnull(max(through), 0) FROM index_marks", writer_.path());
  writer_.step(st.get());
  return sqlite3_column_int64(st.get(), 0);
}

}  // namespace driftrec::store::sqlite
