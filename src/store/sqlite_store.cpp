// sqlite://PATH — the default durable EventStore. WAL journal with synchronous=FULL: a commit is
// fsynced before append() returns. Group commit: concurrent append() calls queue their batches and
// one of them (the leader) writes every queued batch in a single transaction, so throughput
// grows with concurrency while each caller still returns only after its events are durable.
// Erasures (delete_user, purge_before) take the leader's place for their own transaction, then
// checkpoint the WAL with TRUNCATE: with secure_delete on, the erased rows are zeroed in the pages,
// and no copy of the old pages is left in the WAL file.
//
// User index, LSM-style. A commit appends to the rowid-ordered `events` table only (its last page or
// two); the (user, ts) index is its own table, `user_index`, keyed by (bucket, user, ts, seq) with
// users hashed into 256 buckets, and `index_marks` holds, per bucket, the sequence number up to which
// that bucket's events are in it. Once more than `tail_limit` events wait unindexed, a commit also
// merges buckets (round robin, each in one sorted batch) until the tail is back under the limit, so
// the index's pages are written a few times per thousand events rather than once per event (an index updated per insert
// touched a random leaf for nearly every event: docs/design-notes.md, "User index merged in batches"). A user's events
// are the index's plus those of the tail past their bucket's mark, which every connection keeps in memory
// (UnindexedTail), caught up from the log by sequence number; an erasure anywhere rebuilds it.
//
// One file past 500 lines: one class owns both connections, the read lock and the group commit,
// which the log, feedback, erasure and user-index code all share. Moving the user index into a
// class of its own over those connections is the split to make next (not done yet).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/store/event_store.h"
#include "group_commit.h"
#include "store_registry.h"
#include "tombstones.h"
#include "unindexed_tail.h"

namespace driftrec::store {

namespace {

class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw IoError(path + ": cannot prepare statement: " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
};

std::string column_text(sqlite3_stmt* st, int c) {
  const auto* p = sqlite3_column_text(st, c);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, c)))
           : std::string();
}

StoredEvent read_row(sqlite3_stmt* st) {
  const auto text = [st](int c) { return column_text(st, c); };
  StoredEvent e;
  e.seq = sqlite3_column_int64(st, 0);
  e.user = text(1);
  e.item = text(2);
  e.ts = sqlite3_column_int64(st, 3);
  e.behavior = text(4);
  e.value = static_cast<float>(sqlite3_column_double(st, 5));
  e.domain = text(6);
  return e;
}

/// The feedback columns in the order read_feedback() reads them.
const std::string kSelectFeedback =
    "SELECT seq,request_id,user,item,position,propensity,policy,clicked,bought,dwell,ts,model,features FROM feedback ";

class SqliteStore : public EventStore {
 public:
  SqliteStore(std::string path, const SqliteOptions& options)
      : path_(std::move(path)), tail_limit_(options.tail_limit) {
    if (path_.empty()) throw InvalidInput("sqlite:// needs a file path, e.g. sqlite://events.db");
    writer_ = open(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec(writer_, "PRAGMA journal_mode=WAL");
    exec(writer_, "PRAGMA synchronous=FULL");
    exec(writer_, "PRAGMA secure_delete=ON");
    exec(writer_,
         "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, "
         "ts INTEGER NOT NULL, behavior TEXT NOT NULL, value REAL NOT NULL, domain TEXT NOT NULL)");
    exec(writer_,
         "CREATE TABLE IF NOT EXISTS user_index(bucket INTEGER NOT NULL, user TEXT NOT NULL, ts INTEGER NOT NULL, "
         "seq INTEGER NOT NULL, PRIMARY KEY(bucket, user, ts, seq)) WITHOUT ROWID");
    exec(writer_, "CREATE TABLE IF NOT EXISTS index_marks(bucket INTEGER PRIMARY KEY, through INTEGER NOT NULL)");
    exec(writer_,
         "CREATE TABLE IF NOT EXISTS feedback(seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, user TEXT NOT NULL, "
         "item TEXT NOT NULL, position INTEGER NOT NULL, propensity REAL NOT NULL, policy TEXT NOT NULL, "
         "clicked INTEGER NOT NULL, bought INTEGER NOT NULL, dwell REAL NOT NULL, ts INTEGER NOT NULL)");
    exec(writer_, "CREATE INDEX IF NOT EXISTS feedback_user ON feedback(user)");
    add_learning_columns();
    // Only learning policies' rows carry a model: the index stays as small as those rows.
    exec(writer_, "CREATE INDEX IF NOT EXISTS feedback_model ON feedback(model, seq) WHERE model != ''");
    exec(writer_, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    exec(writer_, "CREATE TABLE IF NOT EXISTS tombstones(key TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL)");
    exec(writer_,
         ("INSERT OR IGNORE INTO meta(key, value) VALUES ('tombstone_salt', '" + random_hex(16) + "')").c_str());
    {
      Statement st(writer_, "SELECT value FROM meta WHERE key = 'tombstone_salt'", path_);
      step(st.get());
      tombstones_ = Tombstones(column_text(st.get(), 0));
    }
    build_user_index();
    reload_shared_state();
    reader_ = open(SQLITE_OPEN_READONLY);
  }
  ~SqliteStore() override {
    sqlite3_close_v2(reader_);
    sqlite3_close_v2(writer_);
  }

  std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) override { return commit(&events, nullptr); }

  std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                            const std::vector<StoredEvent>& events) override {
    return commit(&events, &feedback);
  }

  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, (kSelectFeedback + "ORDER BY seq").c_str(), path_);
    while (step(st.get()))
      if (!fn(read_feedback(st.get()))) return;
  }

  void scan_model_feedback(const std::string& model,
                           const std::function<bool(const StoredFeedback&)>& fn) const override {
    if (model.empty()) return;
    std::lock_guard lock(read_mu_);
    // "model != ''" repeated so the planner may use the partial index with a bound parameter.
    Statement st(reader_, (kSelectFeedback + "WHERE model = ? AND model != '' ORDER BY seq").c_str(), path_);
    bind_text(st.get(), 1, model);
    while (step(st.get()))
      if (!fn(read_feedback(st.get()))) return;
  }

  std::vector<StoredFeedback> user_feedback(const std::string& user) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, (kSelectFeedback + "WHERE user = ? ORDER BY seq").c_str(), path_);
    bind_text(st.get(), 1, user);
    std::vector<StoredFeedback> out;
    while (step(st.get())) out.push_back(read_feedback(st.get()));
    return out;
  }

  Erased delete_user(const std::string& user, std::int64_t deleted_at) override {
    const auto key = tombstones_.key(user);
    return erase([&] {
      Erased out;
      const int bucket = user_bucket(user, kBuckets);
      // The indexed events by their index entries, the tail's by a scan of the log past the lowest
      // mark (not through the in-memory tail: another connection's events may not be in it yet).
      Statement indexed(
          writer_, "DELETE FROM events WHERE seq IN (SELECT seq FROM user_index WHERE bucket = ? AND user = ?)", path_);
      sqlite3_bind_int(indexed.get(), 1, bucket);
      bind_text(indexed.get(), 2, user);
      done(indexed.get());
      out.events = sqlite3_changes(writer_);
      Statement tail(writer_,
                     "DELETE FROM events WHERE seq > (SELECT ifnull(min(through), 0) FROM index_marks) AND user = ?",
                     path_);
      bind_text(tail.get(), 1, user);
      done(tail.get());
      out.events += sqlite3_changes(writer_);
      Statement entries(writer_, "DELETE FROM user_index WHERE bucket = ? AND user = ?", path_);
      sqlite3_bind_int(entries.get(), 1, bucket);
      bind_text(entries.get(), 2, user);
      done(entries.get());
      Statement fb(writer_, "DELETE FROM feedback WHERE user = ?", path_);
      bind_text(fb.get(), 1, user);
      done(fb.get());
      out.feedback = sqlite3_changes(writer_);
      Statement ts(writer_,
                   "INSERT INTO tombstones(key, deleted_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                   "deleted_at = max(deleted_at, excluded.deleted_at)",
                   path_);
      bind_text(ts.get(), 1, key);
      sqlite3_bind_int64(ts.get(), 2, deleted_at);
      done(ts.get());
      return out;
    });
  }

  std::optional<std::int64_t> deleted_at(const std::string& user) const override {
    std::lock_guard lock(read_mu_);
    const ResetAfter st{cached(reader_, deleted_at_st_, "SELECT deleted_at FROM tombstones WHERE key = ?")};
    bind_text(st.get(), 1, tombstones_.key(user));
    if (!step(st.get())) return std::nullopt;
    return sqlite3_column_int64(st.get(), 0);
  }

  Erased purge_before(std::int64_t cutoff) override {
    return erase([&] {
      Erased out;
      for (const char* table : {"events", "feedback"}) {
        Statement st(writer_, (std::string("DELETE FROM ") + table + " WHERE ts < ?").c_str(), path_);
        sqlite3_bind_int64(st.get(), 1, cutoff);
        done(st.get());
        (table[0] == 'e' ? out.events : out.feedback) = sqlite3_changes(writer_);
      }
      Statement entries(writer_, "DELETE FROM user_index WHERE ts < ?", path_);
      sqlite3_bind_int64(entries.get(), 1, cutoff);
      done(entries.get());
      return out;
    });
  }

  /// Group commit of events and feedback rows (see the file comment).
  std::vector<std::int64_t> commit(const std::vector<StoredEvent>* events,
                                   const std::vector<StoredFeedback>* feedback) {
    Batch batch{events, feedback, {}};
    group_.run(batch, [this](const std::vector<Batch*>& group) { write_group(group); });
    return std::move(batch.seqs);
  }

  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, "SELECT seq,user,item,ts,behavior,value,domain FROM events WHERE seq > ? ORDER BY seq",
                 path_);
    sqlite3_bind_int64(st.get(), 1, after);
    while (step(st.get()))
      if (!fn(read_row(st.get()))) return;
  }

  /// The index's events of the user with the tail's past its bucket's mark, read in one snapshot.
  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    const ReadTransaction txn(*this);
    catch_up();
    const int bucket = user_bucket(user, kBuckets);
    const auto mark = index_mark(reader_, mark_st_, bucket);
    std::vector<StoredEvent> out;
    {
      const ResetAfter st{cached(reader_, user_events_st_,
                                 "SELECT e.seq,e.user,e.item,e.ts,e.behavior,e.value,e.domain FROM user_index i "
                                 "JOIN events e ON e.seq = i.seq WHERE i.bucket = ? AND i.user = ? "
                                 "ORDER BY i.ts DESC, i.seq DESC LIMIT ?")};
      sqlite3_bind_int(st.get(), 1, bucket);
      bind_text(st.get(), 2, user);
      sqlite3_bind_int64(st.get(), 3, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
      while (step(st.get())) out.push_back(read_row(st.get()));
    }
    const auto recent_seqs = tail_.seqs_of(user, mark);
    if (!recent_seqs.empty()) {
      const ResetAfter st{
          cached(reader_, event_by_seq_st_, "SELECT seq,user,item,ts,behavior,value,domain FROM events WHERE seq = ?")};
      for (const auto seq : recent_seqs) {
        sqlite3_reset(st.get());
        sqlite3_bind_int64(st.get(), 1, seq);
        // Gone (erased since) or, after an erasure freed its number, another user's: skipped.
        if (step(st.get()) && column_text(st.get(), 1) == user) out.push_back(read_row(st.get()));
      }
    }
    std::sort(out.begin(), out.end(),
              [](const StoredEvent& a, const StoredEvent& b) { return std::tie(a.ts, a.seq) < std::tie(b.ts, b.seq); });
    if (limit > 0 && out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    return out;
  }

  std::vector<StoredEvent> recent(std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, "SELECT seq,user,item,ts,behavior,value,domain FROM events ORDER BY seq DESC LIMIT ?", path_);
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(limit));
    std::vector<StoredEvent> out;
    while (step(st.get())) out.push_back(read_row(st.get()));
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::int64_t count() const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, "SELECT count(*) FROM events", path_);
    step(st.get());
    return sqlite3_column_int64(st.get(), 0);
  }

  std::string url() const override { return "sqlite://" + path_; }

  std::int64_t erasures() const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'erasures'", path_);
    return step(st.get()) ? sqlite3_column_int64(st.get(), 0) : 0;
  }

 private:
  static void bind_text(sqlite3_stmt* st, int i, const std::string& v) {
    sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void done(sqlite3_stmt* st) const {
    if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": write failed: " + sqlite3_errmsg(writer_));
  }
  static StoredFeedback read_feedback(sqlite3_stmt* q) {
    const auto text = [q](int c) { return column_text(q, c); };
    StoredFeedback f;
    f.seq = sqlite3_column_int64(q, 0);
    f.request_id = text(1);
    f.user = text(2);
    f.item = text(3);
    f.position = sqlite3_column_int(q, 4);
    f.propensity = sqlite3_column_double(q, 5);
    f.policy = text(6);
    f.clicked = sqlite3_column_int(q, 7) != 0;
    f.bought = sqlite3_column_int(q, 8) != 0;
    f.dwell = sqlite3_column_double(q, 9);
    f.ts = sqlite3_column_int64(q, 10);
    f.model = text(11);
    // The features: host-order floats (a store file is read by the machine kind that wrote it).
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(q, 12));
    if (const void* blob = sqlite3_column_blob(q, 12); blob && bytes >= sizeof(float)) {
      f.features.resize(bytes / sizeof(float));
      std::memcpy(f.features.data(), blob, f.features.size() * sizeof(float));
    }
    return f;
  }

  /// Stores made before learning policies' observations were kept get the two columns added
  /// (empty model, no features: such rows are not replayed into a posterior).
  void add_learning_columns() {
    bool has_model = false, has_features = false;
    {
      Statement st(writer_, "PRAGMA table_info(feedback)", path_);
      while (step(st.get())) {
        const auto name = column_text(st.get(), 1);
        has_model |= name == "model";
        has_features |= name == "features";
      }
    }
    if (!has_model) exec(writer_, "ALTER TABLE feedback ADD COLUMN model TEXT NOT NULL DEFAULT ''");
    if (!has_features) exec(writer_, "ALTER TABLE feedback ADD COLUMN features BLOB");
  }

  /// Runs `fn` (DELETE statements) in its own transaction in the leader's place, then scrubs the
  /// WAL. The tombstone cache is reloaded from the table, so it matches what was committed.
  template <typename Fn>
  Erased erase(Fn fn) {
    return group_.alone([&] {
      Erased out;
      exec(writer_, "BEGIN IMMEDIATE");
      try {
        // The highest number given so far: it may be erased now, and must not be given again (a
        // follower that read past it would skip the new event; an index mark may cover it).
        exec(
            writer_,
            "INSERT INTO meta(key, value) SELECT 'seq_floor', CAST(ifnull(max(seq), 0) AS TEXT) FROM events WHERE true "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) "
            "AS TEXT)");
        out = fn();
        exec(writer_,
             "INSERT INTO meta(key, value) VALUES ('erasures', '1') ON CONFLICT(key) DO UPDATE SET "
             "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
        exec(writer_, "COMMIT");
      } catch (...) {
        sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      reload_shared_state();
      scrub_wal();
      return out;
    });
  }

  /// Copies the WAL into the database and truncates it to zero bytes, so erased rows survive in
  /// neither file. Waits for readers of this process; one of another process may hold it up, and
  /// then the next write retries.
  void scrub_wal() {
    std::lock_guard lock(read_mu_);
    for (int attempt = 0; attempt < 3; ++attempt) {  // each waits up to the busy timeout
      int log = 0, done_frames = 0;
      const int rc = sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done_frames);
      if (rc == SQLITE_OK) {
        scrub_pending_ = false;
        return;
      }
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        throw IoError(path_ + ": WAL checkpoint failed: " + sqlite3_errmsg(writer_));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    scrub_pending_ = true;
    log_warn(path_ + ": another reader holds the WAL; erased rows stay in it until the next write's checkpoint");
  }

  /// Reloads the tombstone cache and seq_floor_ from their tables.
  void reload_shared_state() {
    tombstones_.clear();
    Statement st(writer_, "SELECT key, deleted_at FROM tombstones", path_);
    while (step(st.get())) tombstones_.put(column_text(st.get(), 0), sqlite3_column_int64(st.get(), 1));
    Statement floor(writer_,
                    "SELECT max(ifnull((SELECT max(through) FROM index_marks), 0), "
                    "ifnull((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'), 0))",
                    path_);
    step(floor.get());
    seq_floor_ = sqlite3_column_int64(floor.get(), 0);
    data_version_ = data_version();
  }
  /// Reloads them when another connection (another process) committed since: this connection's own
  /// commits do not change PRAGMA data_version, and its own deletions reload explicitly.
  void refresh_shared_state() {
    if (data_version() != data_version_) reload_shared_state();
  }

  /// Builds the user index from the log, in key order, when the store has none for this bucket
  /// count: a new store, or one written before the index was kept in batches (whose per-insert
  /// index `events_user_ts` is dropped here, in the same transaction).
  void build_user_index() {
    exec(writer_, "BEGIN IMMEDIATE");
    try {
      Statement has(writer_, "SELECT value FROM meta WHERE key = 'user_index_buckets'", path_);
      if (step(has.get()) && column_text(has.get(), 0) == std::to_string(kBuckets)) {
        sqlite3_reset(has.get());
        exec(writer_, "COMMIT");
        return;
      }
      sqlite3_reset(has.get());
      if (sqlite3_create_function(writer_, "driftrec_user_bucket", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                  &sql_user_bucket, nullptr, nullptr) != SQLITE_OK)
        throw IoError(path_ + ": cannot register the bucket function: " + sqlite3_errmsg(writer_));
      exec(writer_, "DELETE FROM user_index");
      exec(writer_,
           "INSERT INTO user_index(bucket, user, ts, seq) SELECT driftrec_user_bucket(user), user, ts, seq FROM events "
           "ORDER BY 1, 2, 3, 4");
      exec(writer_, "DELETE FROM index_marks");
      exec(writer_,
           ("WITH RECURSIVE b(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM b WHERE n + 1 < " + std::to_string(kBuckets) +
            ") INSERT INTO index_marks(bucket, through) SELECT n, (SELECT ifnull(max(seq), 0) FROM events) FROM b")
               .c_str());
      exec(writer_, "DROP INDEX IF EXISTS events_user_ts");
      exec(writer_,
           ("INSERT OR REPLACE INTO meta(key, value) VALUES ('user_index_buckets', '" + std::to_string(kBuckets) + "')")
               .c_str());
      exec(writer_, "COMMIT");
    } catch (...) {
      sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    sqlite3_create_function(writer_, "driftrec_user_bucket", 1, SQLITE_UTF8, nullptr, nullptr, nullptr, nullptr);
  }
  static void sql_user_bucket(sqlite3_context* ctx, int, sqlite3_value** argv) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
    sqlite3_result_int(ctx, user_bucket(std::string_view(p ? p : "", p ? n : 0), kBuckets));
  }

  /// A read snapshot on the reader connection for the statements run while it lives (caller holds
  /// read_mu_).
  struct ReadTransaction {
    const SqliteStore& s;
    explicit ReadTransaction(const SqliteStore& store) : s(store) { s.step(s.cached(s.reader_, s.begin_st_, "BEGIN")); }
    ~ReadTransaction() {
      sqlite3_stmt* end = s.cached(s.reader_, s.commit_st_, "COMMIT");
      sqlite3_step(end);
      sqlite3_reset(end);
    }
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
  };

  /// Brings the in-memory tail up to the reader's snapshot (caller holds read_mu_, inside a
  /// ReadTransaction): the log's events past the last one seen, or, after an erasure by any
  /// connection (numbers may have been freed and given again), everything past the lowest mark.
  void catch_up() const {
    std::int64_t erasures_now = 0;
    {
      const ResetAfter st{
          cached(reader_, erasures_st_, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'erasures'")};
      if (step(st.get())) erasures_now = sqlite3_column_int64(st.get(), 0);
    }
    if (erasures_now != erasures_seen_ || last_seen_ < 0) {
      tail_.clear();
      const ResetAfter st{cached(reader_, min_mark_st_, "SELECT ifnull(min(through), 0) FROM index_marks")};
      step(st.get());
      last_seen_ = sqlite3_column_int64(st.get(), 0);
      erasures_seen_ = erasures_now;
    }
    const ResetAfter st{cached(reader_, tail_st_, "SELECT seq,user,ts FROM events WHERE seq > ? ORDER BY seq")};
    sqlite3_bind_int64(st.get(), 1, last_seen_);
    while (step(st.get())) {
      last_seen_ = sqlite3_column_int64(st.get(), 0);
      tail_.add(column_text(st.get(), 1), sqlite3_column_int64(st.get(), 2), last_seen_);
    }
  }
  std::int64_t data_version() const {
    const ResetAfter st{cached(writer_, data_version_st_, "PRAGMA data_version")};
    step(st.get());
    return sqlite3_column_int64(st.get(), 0);
  }
  /// The statement for `sql` on `db`, prepared once and reset for a new use: every transaction,
  /// and every state built for a user, runs these (preparing them each time cost ~3% of a
  /// single-event ingest and ~4% of a first recommendation).
  sqlite3_stmt* cached(sqlite3* db, std::unique_ptr<Statement>& slot, const char* sql) const {
    if (!slot) slot = std::make_unique<Statement>(db, sql, path_);
    sqlite3_reset(slot->get());
    return slot->get();
  }
  /// Resets a cached read statement when done with it, so that it holds no read transaction open
  /// (which would keep checkpoints from copying the WAL past its snapshot).
  struct ResetAfter {
    sqlite3_stmt* st;
    ~ResetAfter() { sqlite3_reset(st); }
    sqlite3_stmt* get() const { return st; }
  };
  struct Batch {
    const std::vector<StoredEvent>* events;
    const std::vector<StoredFeedback>* feedback;  ///< may be null
    std::vector<std::int64_t> seqs;
  };

  sqlite3* open(int flags) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      throw IoError(path_ + ": cannot open event store: " + msg);
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
  }
  void exec(sqlite3* db, const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw IoError(path_ + ": " + msg);
    }
  }
  bool step(sqlite3_stmt* st) const {
    const int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw IoError(path_ + ": read failed: " + sqlite3_errmsg(sqlite3_db_handle(st)));
  }

  void write_group(const std::vector<Batch*>& group) {
    exec(writer_, "BEGIN IMMEDIATE");
    Merged merged;
    try {
      refresh_shared_state();  // under the write lock: no deletion can slip in before the inserts
      std::int64_t seq = next_seq();
      sqlite3_stmt* st = cached(writer_, insert_event_st_,
                                "INSERT INTO events(seq,user,item,ts,behavior,value,domain) VALUES (?,?,?,?,?,?,?)");
      for (auto* b : group) {
        b->seqs.clear();
        for (const auto& e : *b->events) {
          if (tombstones_.drops(e.user, e.ts)) {
            b->seqs.push_back(0);
            continue;
          }
          sqlite3_reset(st);
          sqlite3_bind_int64(st, 1, seq);
          sqlite3_bind_text(st, 2, e.user.data(), static_cast<int>(e.user.size()), SQLITE_STATIC);
          sqlite3_bind_text(st, 3, e.item.data(), static_cast<int>(e.item.size()), SQLITE_STATIC);
          sqlite3_bind_int64(st, 4, e.ts);
          sqlite3_bind_text(st, 5, e.behavior.data(), static_cast<int>(e.behavior.size()), SQLITE_STATIC);
          sqlite3_bind_double(st, 6, static_cast<double>(e.value));
          sqlite3_bind_text(st, 7, e.domain.data(), static_cast<int>(e.domain.size()), SQLITE_STATIC);
          if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": insert failed: " + sqlite3_errmsg(writer_));
          b->seqs.push_back(seq++);
        }
        if (b->feedback) write_feedback(*b->feedback);
      }
      merged = merge_buckets();
      exec(writer_, "COMMIT");  // WAL + synchronous=FULL: fsynced here
    } catch (...) {
      sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    if (!merged.buckets.empty()) {
      std::lock_guard lock(read_mu_);
      for (const auto bucket : merged.buckets) tail_.drop(bucket, merged.through);
      seq_floor_ = std::max(seq_floor_, merged.through);
    }
    if (scrub_pending_) scrub_wal();
  }

  /// The bucket's index mark as `db` sees it (its own prepared statement in `slot`).
  std::int64_t index_mark(sqlite3* db, std::unique_ptr<Statement>& slot, int bucket) const {
    const ResetAfter st{cached(db, slot, "SELECT through FROM index_marks WHERE bucket = ?")};
    sqlite3_bind_int(st.get(), 1, bucket);
    return step(st.get()) ? sqlite3_column_int64(st.get(), 0) : 0;
  }

  /// The first sequence number of this transaction: past every event and seq_floor_, so that a
  /// number an erasure freed is never given again (no follower skips it, no index mark hides it).
  std::int64_t next_seq() const {
    const ResetAfter st{cached(writer_, max_seq_st_, "SELECT ifnull(max(seq), 0) FROM events")};
    step(st.get());
    return std::max<std::int64_t>(sqlite3_column_int64(st.get(), 0), seq_floor_) + 1;
  }

  /// The buckets a transaction merged, each up to the same sequence number.
  struct Merged {
    std::vector<int> buckets;
    std::int64_t through = 0;
  };
  /// Inside the writing transaction: while more than tail_limit_ events wait unindexed, merges the
  /// next bucket's (everything committed before this transaction) into the user index in key order
  /// and moves its mark, one bucket after another round robin (a batch import merges several per
  /// commit, a single event one now and then; at most one sweep of the buckets per commit). The
  /// in-memory tail forgets them once committed.
  Merged merge_buckets() {
    Merged merged;
    std::size_t excess = 0;
    {
      std::lock_guard lock(read_mu_);
      const ReadTransaction txn(*this);
      catch_up();
      if (tail_.size() <= tail_limit_) return merged;
      excess = tail_.size() - tail_limit_;
      merged.through = last_seen_;
    }
    while (excess > 0 && merged.buckets.size() < static_cast<std::size_t>(kBuckets)) {
      const int bucket = next_bucket_;
      next_bucket_ = (next_bucket_ + 1) % kBuckets;
      const auto n = merge_bucket(bucket, merged.through);
      excess -= std::min(excess, n);  // an empty bucket's mark moves too, removing nothing
      merged.buckets.push_back(bucket);
    }
    return merged;
  }
  /// Merges the bucket's tail entries up to `through` and moves its mark there; returns how many.
  std::size_t merge_bucket(int bucket, std::int64_t through) {
    const auto mark = index_mark(writer_, writer_mark_st_, bucket);
    std::vector<TailEntry> batch;
    {
      std::lock_guard lock(read_mu_);
      batch = tail_.bucket(bucket, mark, through);
    }
    const ResetAfter ins{
        cached(writer_, insert_entry_st_, "INSERT OR IGNORE INTO user_index(bucket,user,ts,seq) VALUES (?,?,?,?)")};
    for (const auto& e : batch) {
      sqlite3_reset(ins.get());
      sqlite3_bind_int(ins.get(), 1, bucket);
      sqlite3_bind_text(ins.get(), 2, e.user.data(), static_cast<int>(e.user.size()), SQLITE_STATIC);
      sqlite3_bind_int64(ins.get(), 3, e.ts);
      sqlite3_bind_int64(ins.get(), 4, e.seq);
      done(ins.get());
    }
    const ResetAfter up{cached(writer_, update_mark_st_,
                               "INSERT INTO index_marks(bucket, through) VALUES (?, ?) ON CONFLICT(bucket) DO UPDATE "
                               "SET through = max(through, excluded.through)")};
    sqlite3_bind_int(up.get(), 1, bucket);
    sqlite3_bind_int64(up.get(), 2, through);
    done(up.get());
    return batch.size();
  }

  void write_feedback(const std::vector<StoredFeedback>& rows) {
    Statement ins(writer_,
                  "INSERT INTO feedback(request_id,user,item,position,propensity,policy,clicked,bought,dwell,ts,model,"
                  "features) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  path_);
    for (const auto& f : rows) {
      if (tombstones_.drops(f.user, f.ts)) continue;
      sqlite3_stmt* st = ins.get();
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, f.request_id.data(), static_cast<int>(f.request_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 2, f.user.data(), static_cast<int>(f.user.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 3, f.item.data(), static_cast<int>(f.item.size()), SQLITE_STATIC);
      sqlite3_bind_int(st, 4, f.position);
      sqlite3_bind_double(st, 5, f.propensity);
      sqlite3_bind_text(st, 6, f.policy.data(), static_cast<int>(f.policy.size()), SQLITE_STATIC);
      sqlite3_bind_int(st, 7, f.clicked ? 1 : 0);
      sqlite3_bind_int(st, 8, f.bought ? 1 : 0);
      sqlite3_bind_double(st, 9, f.dwell);
      sqlite3_bind_int64(st, 10, f.ts);
      sqlite3_bind_text(st, 11, f.model.data(), static_cast<int>(f.model.size()), SQLITE_STATIC);
      if (f.features.empty())
        sqlite3_bind_null(st, 12);
      else
        sqlite3_bind_blob(st, 12, f.features.data(), static_cast<int>(f.features.size() * sizeof(float)),
                          SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": insert failed: " + sqlite3_errmsg(writer_));
    }
  }

  std::string path_;
  sqlite3* writer_ = nullptr;
  sqlite3* reader_ = nullptr;
  mutable std::mutex read_mu_;
  GroupCommit<Batch> group_;
  Tombstones tombstones_{""};  ///< read and written by the leader only (and at open)
  std::int64_t data_version_ = -1;
  // Prepared once (finalized after close_v2: fine). Writer's: used by the group-commit leader;
  // reader's: under read_mu_.
  mutable std::unique_ptr<Statement> insert_event_st_, data_version_st_, user_events_st_, deleted_at_st_, max_seq_st_,
      writer_mark_st_, insert_entry_st_, update_mark_st_, mark_st_, event_by_seq_st_, erasures_st_, min_mark_st_,
      tail_st_, begin_st_, commit_st_;
  bool scrub_pending_ = false;
  // The user index (see the file comment). The tail and what it has seen: under read_mu_.
  static constexpr int kBuckets = 256;
  std::size_t tail_limit_;
  mutable UnindexedTail tail_{kBuckets};
  mutable std::int64_t last_seen_ = -1;  ///< -1: rebuild from the lowest mark
  mutable std::int64_t erasures_seen_ = 0;
  int next_bucket_ = 0;  ///< the next bucket a commit merges (leader only)
  /// No event is numbered at or below it: the highest index mark and the highest number any erasure
  /// may have freed (leader only, and at open).
  std::int64_t seq_floor_ = 0;
};

}  // namespace

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return std::make_unique<SqliteStore>(path, options);
}
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path) { return open_sqlite_store(path, {}); }

}  // namespace driftrec::store
