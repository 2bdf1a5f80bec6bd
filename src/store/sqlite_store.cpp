// sqlite://PATH — the default durable EventStore. WAL journal with synchronous=FULL: a commit is
// fsynced before append() returns. Group commit: concurrent append() calls queue their batches and
// one of them (the leader) writes every queued batch in a single transaction, so throughput
// grows with concurrency while each caller still returns only after its events are durable.
// Erasures (delete_user, purge_before) take the leader's place for their own transaction, then
// checkpoint the WAL with TRUNCATE: with secure_delete on, the erased rows are zeroed in the pages,
// and no copy of the old pages is left in the WAL file.
//
// The log is appended in sequence order only; a user's events are found through the user index,
// merged in batches (sqlite_user_index.h). Two connections: the writer, used by the group-commit
// leader and erasures, and the reader, under read_mu_.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"
#include "driftrec/store/event_store.h"
#include "group_commit.h"
#include "sqlite_db.h"
#include "sqlite_user_index.h"
#include "store_registry.h"
#include "tombstones.h"

namespace driftrec::store {

namespace sqlite {
namespace {

/// The feedback columns in the order read_feedback() reads them.
const std::string kSelectFeedback =
    "SELECT seq,request_id,user,item,position,propensity,policy,clicked,bought,dwell,ts,model,features FROM feedback ";

StoredFeedback read_feedback(sqlite3_stmt* q) {
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

/// Opens (creating) the file and its tables on one connection.
Connection open_writer(const std::string& path) {
  if (path.empty()) throw InvalidInput("sqlite:// needs a file path, e.g. sqlite://events.db");
  Connection c(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  c.exec("PRAGMA journal_mode=WAL");
  c.exec("PRAGMA synchronous=FULL");
  c.exec("PRAGMA secure_delete=ON");
  c.exec(
      "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, "
      "ts INTEGER NOT NULL, behavior TEXT NOT NULL, value REAL NOT NULL, domain TEXT NOT NULL)");
  c.exec(
      "CREATE TABLE IF NOT EXISTS feedback(seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, user TEXT NOT NULL, "
      "item TEXT NOT NULL, position INTEGER NOT NULL, propensity REAL NOT NULL, policy TEXT NOT NULL, "
      "clicked INTEGER NOT NULL, bought INTEGER NOT NULL, dwell REAL NOT NULL, ts INTEGER NOT NULL)");
  c.exec("CREATE INDEX IF NOT EXISTS feedback_user ON feedback(user)");
  // Stores made before learning policies' observations were kept get the two columns added (empty
  // model, no features: such rows are not replayed into a posterior).
  bool has_model = false, has_features = false;
  {
    Statement st(c.get(), "PRAGMA table_info(feedback)", path);
    while (c.step(st.get())) {
      const auto name = column_text(st.get(), 1);
      has_model |= name == "model";
      has_features |= name == "features";
    }
  }
  if (!has_model) c.exec("ALTER TABLE feedback ADD COLUMN model TEXT NOT NULL DEFAULT ''");
  if (!has_features) c.exec("ALTER TABLE feedback ADD COLUMN features BLOB");
  // Only learning policies' rows carry a model: the index stays as small as those rows.
  c.exec("CREATE INDEX IF NOT EXISTS feedback_model ON feedback(model, seq) WHERE model != ''");
  c.exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  c.exec("CREATE TABLE IF NOT EXISTS tombstones(key TEXT PRIMARY KEY, deleted_at INTEGER NOT NULL)");
  c.exec("INSERT OR IGNORE INTO meta(key, value) VALUES ('tombstone_salt', '" + random_hex(16) + "')");
  return c;
}

class SqliteStore : public EventStore {
 public:
  SqliteStore(const std::string& path, const SqliteOptions& options)
      : writer_(open_writer(path)),
        reader_(path, SQLITE_OPEN_READONLY),
        index_(writer_, reader_, read_mu_, options.tail_limit) {
    {
      Statement st(writer_.get(), "SELECT value FROM meta WHERE key = 'tombstone_salt'", path);
      writer_.step(st.get());
      tombstones_ = Tombstones(column_text(st.get(), 0));
    }
    index_.open();
    reload_shared_state();
  }

  std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) override { return commit(&events, nullptr); }

  std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                            const std::vector<StoredEvent>& events) override {
    return commit(&events, &feedback);
  }

  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), (kSelectFeedback + "ORDER BY seq").c_str(), path());
    while (reader_.step(st.get()))
      if (!fn(read_feedback(st.get()))) return;
  }

  void scan_model_feedback(const std::string& model,
                           const std::function<bool(const StoredFeedback&)>& fn) const override {
    if (model.empty()) return;
    std::lock_guard lock(read_mu_);
    // "model != ''" repeated so the planner may use the partial index with a bound parameter.
    Statement st(reader_.get(), (kSelectFeedback + "WHERE model = ? AND model != '' ORDER BY seq").c_str(), path());
    bind_text(st.get(), 1, model);
    while (reader_.step(st.get()))
      if (!fn(read_feedback(st.get()))) return;
  }

  std::vector<StoredFeedback> user_feedback(const std::string& user) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), (kSelectFeedback + "WHERE user = ? ORDER BY seq").c_str(), path());
    bind_text(st.get(), 1, user);
    std::vector<StoredFeedback> out;
    while (reader_.step(st.get())) out.push_back(read_feedback(st.get()));
    return out;
  }

  Erased delete_user(const std::string& user, std::int64_t deleted_at) override {
    const auto key = tombstones_.key(user);
    return erase([&] {
      Erased out;
      out.events = index_.delete_user(user);
      Statement fb(writer_.get(), "DELETE FROM feedback WHERE user = ?", path());
      bind_text(fb.get(), 1, user);
      writer_.done(fb.get());
      out.feedback = sqlite3_changes(writer_.get());
      Statement ts(writer_.get(),
                   "INSERT INTO tombstones(key, deleted_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                   "deleted_at = max(deleted_at, excluded.deleted_at)",
                   path());
      bind_text(ts.get(), 1, key);
      sqlite3_bind_int64(ts.get(), 2, deleted_at);
      writer_.done(ts.get());
      return out;
    });
  }

  std::optional<std::int64_t> deleted_at(const std::string& user) const override {
    std::lock_guard lock(read_mu_);
    const ResetAfter st{reader_.cached(deleted_at_st_, "SELECT deleted_at FROM tombstones WHERE key = ?")};
    bind_text(st.get(), 1, tombstones_.key(user));
    if (!reader_.step(st.get())) return std::nullopt;
    return sqlite3_column_int64(st.get(), 0);
  }

  Erased purge_before(std::int64_t cutoff) override {
    return erase([&] {
      Erased out;
      for (const char* table : {"events", "feedback"}) {
        Statement st(writer_.get(), (std::string("DELETE FROM ") + table + " WHERE ts < ?").c_str(), path());
        sqlite3_bind_int64(st.get(), 1, cutoff);
        writer_.done(st.get());
        (table[0] == 'e' ? out.events : out.feedback) = sqlite3_changes(writer_.get());
      }
      index_.purge_before(cutoff);
      return out;
    });
  }

  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), "SELECT seq,user,item,ts,behavior,value,domain FROM events WHERE seq > ? ORDER BY seq",
                 path());
    sqlite3_bind_int64(st.get(), 1, after);
    while (reader_.step(st.get()))
      if (!fn(read_event(st.get()))) return;
  }

  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    return index_.user_events(user, limit);
  }

  std::vector<StoredEvent> recent(std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), "SELECT seq,user,item,ts,behavior,value,domain FROM events ORDER BY seq DESC LIMIT ?",
                 path());
    sqlite3_bind_int64(st.get(), 1, static_cast<std::int64_t>(limit));
    std::vector<StoredEvent> out;
    while (reader_.step(st.get())) out.push_back(read_event(st.get()));
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::int64_t count() const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), "SELECT count(*) FROM events", path());
    reader_.step(st.get());
    return sqlite3_column_int64(st.get(), 0);
  }

  std::string url() const override { return "sqlite://" + path(); }

  std::int64_t erasures() const override {
    std::lock_guard lock(read_mu_);
    Statement st(reader_.get(), "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'erasures'", path());
    return reader_.step(st.get()) ? sqlite3_column_int64(st.get(), 0) : 0;
  }

 private:
  struct Batch {
    const std::vector<StoredEvent>* events;
    const std::vector<StoredFeedback>* feedback;  ///< may be null
    std::vector<std::int64_t> seqs;
  };

  const std::string& path() const { return writer_.path(); }

  /// Group commit of events and feedback rows (see the file comment).
  std::vector<std::int64_t> commit(const std::vector<StoredEvent>* events,
                                   const std::vector<StoredFeedback>* feedback) {
    Batch batch{events, feedback, {}};
    group_.run(batch, [this](const std::vector<Batch*>& group) { write_group(group); });
    return std::move(batch.seqs);
  }

  /// Runs `fn` (DELETE statements) in its own transaction in the leader's place, then scrubs the
  /// WAL. The tombstone cache is reloaded from the table, so it matches what was committed.
  template <typename Fn>
  Erased erase(Fn fn) {
    return group_.alone([&] {
      const Erased out = write_transaction(writer_, [&] {
        // The highest number given so far: it may be erased now, and must not be given again (a
        // follower that read past it would skip the new event; an index mark may cover it).
        writer_.exec(
            "INSERT INTO meta(key, value) SELECT 'seq_floor', CAST(ifnull(max(seq), 0) AS TEXT) FROM events WHERE true "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) "
            "AS TEXT)");
        const Erased erased = fn();
        writer_.exec(
            "INSERT INTO meta(key, value) VALUES ('erasures', '1') ON CONFLICT(key) DO UPDATE SET "
            "value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)");
        return erased;
      });
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
      const int rc = sqlite3_wal_checkpoint_v2(writer_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done_frames);
      if (rc == SQLITE_OK) {
        scrub_pending_ = false;
        return;
      }
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        throw IoError(path() + ": WAL checkpoint failed: " + sqlite3_errmsg(writer_.get()));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    scrub_pending_ = true;
    log_warn(path() + ": another reader holds the WAL; erased rows stay in it until the next write's checkpoint");
  }

  /// Reloads the tombstone cache and seq_floor_ from their tables.
  void reload_shared_state() {
    tombstones_.clear();
    Statement st(writer_.get(), "SELECT key, deleted_at FROM tombstones", path());
    while (writer_.step(st.get())) tombstones_.put(column_text(st.get(), 0), sqlite3_column_int64(st.get(), 1));
    Statement floor(writer_.get(), "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq_floor'", path());
    const std::int64_t erased_floor = writer_.step(floor.get()) ? sqlite3_column_int64(floor.get(), 0) : 0;
    seq_floor_ = std::max(index_.highest_mark(), erased_floor);
    data_version_ = data_version();
  }
  /// Reloads them when another connection (another process) committed since: this connection's own
  /// commits do not change PRAGMA data_version, and its own deletions reload explicitly.
  void refresh_shared_state() {
    if (data_version() != data_version_) reload_shared_state();
  }
  std::int64_t data_version() const {
    const ResetAfter st{writer_.cached(data_version_st_, "PRAGMA data_version")};
    writer_.step(st.get());
    return sqlite3_column_int64(st.get(), 0);
  }

  void write_group(const std::vector<Batch*>& group) {
    const auto merged = write_transaction(writer_, [&] {
      refresh_shared_state();  // under the write lock: no deletion can slip in before the inserts
      std::int64_t seq = next_seq();
      sqlite3_stmt* st = writer_.cached(
          insert_event_st_, "INSERT INTO events(seq,user,item,ts,behavior,value,domain) VALUES (?,?,?,?,?,?,?)");
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
          writer_.done(st);
          b->seqs.push_back(seq++);
        }
        if (b->feedback) write_feedback(*b->feedback);
      }
      return index_.merge();  // COMMIT after it (WAL + synchronous=FULL: fsynced there)
    });
    index_.merged(merged);
    if (!merged.buckets.empty()) seq_floor_ = std::max(seq_floor_, merged.through);
    if (scrub_pending_) scrub_wal();
  }

  /// The first sequence number of this transaction: past every event and seq_floor_, so that a
  /// number an erasure freed is never given again (no follower skips it, no index mark hides it).
  std::int64_t next_seq() const {
    const ResetAfter st{writer_.cached(max_seq_st_, "SELECT ifnull(max(seq), 0) FROM events")};
    writer_.step(st.get());
    return std::max<std::int64_t>(sqlite3_column_int64(st.get(), 0), seq_floor_) + 1;
  }

  void write_feedback(const std::vector<StoredFeedback>& rows) {
    Statement ins(writer_.get(),
                  "INSERT INTO feedback(request_id,user,item,position,propensity,policy,clicked,bought,dwell,ts,model,"
                  "features) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  path());
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
      writer_.done(st);
    }
  }

  // Declared in construction order: the connections before the index over them, and destroyed
  // after every statement cached for them (close_v2 would wait for those anyway).
  mutable std::mutex read_mu_;  ///< guards reader_ and the index's in-memory tail
  Connection writer_;
  Connection reader_;
  GroupCommit<Batch> group_;
  Tombstones tombstones_{""};  ///< read and written by the leader only (and at open)
  std::int64_t data_version_ = -1;
  // Prepared once. Writer's: used by the group-commit leader; reader's: under read_mu_.
  mutable std::unique_ptr<Statement> insert_event_st_, data_version_st_, deleted_at_st_, max_seq_st_;
  bool scrub_pending_ = false;
  UserIndex index_;
  /// No event is numbered at or below it: the highest index mark and the highest number any erasure
  /// may have freed (leader only, and at open).
  std::int64_t seq_floor_ = 0;
};

}  // namespace
}  // namespace sqlite

std::unique_ptr<EventStore> open_sqlite_store(const std::string& path, const SqliteOptions& options) {
  return std::make_unique<sqlite::SqliteStore>(path, options);
}
std::unique_ptr<EventStore> open_sqlite_store(const std::string& path) { return open_sqlite_store(path, {}); }

}  // namespace driftrec::store
