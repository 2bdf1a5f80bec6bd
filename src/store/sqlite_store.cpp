// sqlite://PATH — the default durable EventStore. WAL journal with synchronous=FULL: a commit is
// fsynced before append() returns. Group commit: concurrent append() calls queue their batches and
// one of them (the leader) writes every queued batch in a single transaction, so throughput
// grows with concurrency while each caller still returns only after its events are durable.
// Erasures (delete_user, purge_before) take the leader's place for their own transaction, then
// checkpoint the WAL with TRUNCATE: with secure_delete on, the erased rows are zeroed in the pages,
// and no copy of the old pages is left in the WAL file.
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

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/store/event_store.h"
#include "group_commit.h"
#include "store_registry.h"
#include "tombstones.h"

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
  explicit SqliteStore(std::string path) : path_(std::move(path)) {
    if (path_.empty()) throw InvalidInput("sqlite:// needs a file path, e.g. sqlite://events.db");
    writer_ = open(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    exec(writer_, "PRAGMA journal_mode=WAL");
    exec(writer_, "PRAGMA synchronous=FULL");
    exec(writer_, "PRAGMA secure_delete=ON");
    exec(writer_,
         "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, "
         "ts INTEGER NOT NULL, behavior TEXT NOT NULL, value REAL NOT NULL, domain TEXT NOT NULL)");
    exec(writer_, "CREATE INDEX IF NOT EXISTS events_user_ts ON events(user, ts, seq)");
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
    reload_tombstones();
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
      Statement ev(writer_, "DELETE FROM events WHERE user = ?", path_);
      bind_text(ev.get(), 1, user);
      done(ev.get());
      out.events = sqlite3_changes(writer_);
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

  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    const ResetAfter st{cached(reader_, user_events_st_,
                               "SELECT seq,user,item,ts,behavior,value,domain FROM events WHERE user = ? "
                               "ORDER BY ts DESC, seq DESC LIMIT ?")};
    sqlite3_bind_text(st.get(), 1, user.data(), static_cast<int>(user.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.get(), 2, limit == 0 ? -1 : static_cast<std::int64_t>(limit));
    std::vector<StoredEvent> out;
    while (step(st.get())) out.push_back(read_row(st.get()));
    std::reverse(out.begin(), out.end());
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
        out = fn();
        exec(writer_,
             "INSERT INTO meta(key, value) VALUES ('erasures', '1') ON CONFLICT(key) DO UPDATE SET "
             "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
        exec(writer_, "COMMIT");
      } catch (...) {
        sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
      reload_tombstones();
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

  /// Reloads the tombstone cache from the table.
  void reload_tombstones() {
    tombstones_.clear();
    Statement st(writer_, "SELECT key, deleted_at FROM tombstones", path_);
    while (step(st.get())) tombstones_.put(column_text(st.get(), 0), sqlite3_column_int64(st.get(), 1));
    data_version_ = data_version();
  }
  /// Reloads it when another connection (another process) committed since: this connection's own
  /// commits do not change PRAGMA data_version, and its own deletions reload explicitly.
  void refresh_tombstones() {
    if (data_version() != data_version_) reload_tombstones();
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
    try {
      refresh_tombstones();  // under the write lock: no deletion can slip in before the inserts
      sqlite3_stmt* st = cached(writer_, insert_event_st_,
                                "INSERT INTO events(user,item,ts,behavior,value,domain) VALUES (?,?,?,?,?,?)");
      for (auto* b : group) {
        b->seqs.clear();
        for (const auto& e : *b->events) {
          if (tombstones_.drops(e.user, e.ts)) {
            b->seqs.push_back(0);
            continue;
          }
          sqlite3_reset(st);
          sqlite3_bind_text(st, 1, e.user.data(), static_cast<int>(e.user.size()), SQLITE_STATIC);
          sqlite3_bind_text(st, 2, e.item.data(), static_cast<int>(e.item.size()), SQLITE_STATIC);
          sqlite3_bind_int64(st, 3, e.ts);
          sqlite3_bind_text(st, 4, e.behavior.data(), static_cast<int>(e.behavior.size()), SQLITE_STATIC);
          sqlite3_bind_double(st, 5, static_cast<double>(e.value));
          sqlite3_bind_text(st, 6, e.domain.data(), static_cast<int>(e.domain.size()), SQLITE_STATIC);
          if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": insert failed: " + sqlite3_errmsg(writer_));
          b->seqs.push_back(sqlite3_last_insert_rowid(writer_));
        }
        if (b->feedback) write_feedback(*b->feedback);
      }
      exec(writer_, "COMMIT");  // WAL + synchronous=FULL: fsynced here
    } catch (...) {
      sqlite3_exec(writer_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    if (scrub_pending_) scrub_wal();
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
  mutable std::unique_ptr<Statement> insert_event_st_, data_version_st_, user_events_st_, deleted_at_st_;
  bool scrub_pending_ = false;
};

}  // namespace

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path) { return std::make_unique<SqliteStore>(path); }

}  // namespace driftrec::store
