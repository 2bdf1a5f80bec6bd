// postgresql://USER@HOST:PORT/DB — the event store shared by several server replicas (libpq, the
// PostgreSQL client library). The same tables as the SQLite store (events, feedback, tombstones,
// meta) and the same guarantees through PostgreSQL's own: a commit returns after its WAL record
// is flushed (synchronous_commit on, the default), so append() returns only once its events are
// durable. Every write transaction first takes one transaction-scoped advisory lock, so writers of
// all replicas are serialised: sequence numbers commit in increasing order and a reader that has
// seen seq N never later meets a smaller one (the replicas' watermark depends on it). Tombstones
// are cached per connection and reloaded when meta's tombstone_version moved (another replica
// deleted someone). Appends notify channel driftrec_appends at commit, and erasures count in meta's
// `erasures`, for the replicas following the log. Erasures delete the rows and VACUUM the two tables afterwards;
// PostgreSQL gives no byte-level scrubbing of freed space or of its WAL (see docs/design-notes.md). A lost connection
// is re-established on the next call; while the server is unreachable every call throws StorageUnavailable (the HTTP
// server answers 503).
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/store/event_store.h"
#include "group_commit.h"
#include "store_registry.h"
#include "tombstones.h"

namespace driftrec::store {

namespace {

/// The advisory lock every write transaction takes (any fixed 64-bit value: "DRIFTREC" in ASCII).
constexpr const char* kWriteLock = "SELECT pg_advisory_xact_lock(4922078073469731651)";
/// The channel appends notify (pg_notify at commit) and replicas' wait_for_appends listens on.
constexpr const char* kChannel = "driftrec_appends";
constexpr std::size_t kRowsPerInsert = 500;
constexpr std::int64_t kScanPage = 5000;

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::int64_t integer(int row, int col) const { return std::stoll(PQgetvalue(r_, row, col)); }
  double real(int row, int col) const { return std::stod(PQgetvalue(r_, row, col)); }
  bool boolean(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }

 private:
  PGresult* r_;
};

/// One libpq connection: statements with text parameters, errors as typed exceptions.
class Connection {
 public:
  Connection(std::string url, std::string label) : url_(std::move(url)), label_(std::move(label)) {
    conn_ = PQconnectdb(url_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string msg = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      throw IoError(label_ + ": cannot connect: " + trim(msg));
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // "relation already exists, skipping"
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs `sql` with `params` (text; std::nullopt = NULL). Throws StorageUnavailable when the
  /// server cannot be reached (the connection is reset for the next call), IoError otherwise.
  Result exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    ensure_connected();
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(r);
    const std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    if (PQstatus(conn_) != CONNECTION_OK) throw StorageUnavailable(label_ + ": connection lost: " + trim(msg));
    throw IoError(label_ + ": " + trim(msg));
  }
  /// Waits up to `timeout_ms` for a notification on a channel this connection LISTENs to; true
  /// when one (or more) arrived. Throws StorageUnavailable when the connection is lost.
  bool wait_notify(int timeout_ms) {
    if (drain()) return true;
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (p.fd < 0) throw StorageUnavailable(label_ + ": listener connection lost");
    if (::poll(&p, 1, std::max(0, timeout_ms)) <= 0) return false;
    if (!PQconsumeInput(conn_))
      throw StorageUnavailable(label_ + ": listener connection lost: " + trim(PQerrorMessage(conn_)));
    return drain();
  }
  /// Runs `fn` in a transaction (rolled back when it throws).
  template <typename Fn>
  auto transaction(Fn fn) {
    exec("BEGIN");
    try {
      auto out = fn();
      exec("COMMIT");
      return out;
    } catch (...) {
      if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
      throw;
    }
  }

 private:
  void ensure_connected() {
    if (PQstatus(conn_) == CONNECTION_OK) return;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
      throw StorageUnavailable(label_ + ": database unreachable: " + trim(PQerrorMessage(conn_)));
  }
  bool drain() {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      PQfreemem(n);
      any = true;
    }
    return any;
  }
  static std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string url_, label_;
  PGconn* conn_ = nullptr;
};

std::string num(std::int64_t v) { return std::to_string(v); }
/// A float as text that reads back to the same float (PostgreSQL parses it exactly).
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// bytea's hex text form of host-order floats (a store is read by the machine kind that wrote it).
std::optional<std::string> features_hex(const std::vector<float>& f) {
  if (f.empty()) return std::nullopt;
  static const char* digits = "0123456789abcdef";
  std::string out = "\\x";
  const auto* p = reinterpret_cast<const unsigned char*>(f.data());
  for (std::size_t i = 0; i < f.size() * sizeof(float); ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::vector<float> features_of(const std::string& hex) {
  std::vector<float> out;
  if (hex.size() < 2 + 2 * sizeof(float) || hex.compare(0, 2, "\\x") != 0) return out;
  std::vector<unsigned char> bytes((hex.size() - 2) / 2);
  const auto val = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<unsigned char>(val(hex[2 + 2 * i]) * 16 + val(hex[3 + 2 * i]));
  out.resize(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

const std::string kEventColumns = "seq,user_id,item,ts,behavior,value,domain";
const std::string kFeedbackColumns =
    "seq,request_id,user_id,item,position,propensity,policy,clicked,bought,dwell,ts,model,features";

StoredEvent event_at(const Result& r, int i) {
  StoredEvent e;
  e.seq = r.integer(i, 0);
  e.user = r.text(i, 1);
  e.item = r.text(i, 2);
  e.ts = r.integer(i, 3);
  e.behavior = r.text(i, 4);
  e.value = static_cast<float>(r.real(i, 5));
  e.domain = r.text(i, 6);
  return e;
}

StoredFeedback feedback_at(const Result& r, int i) {
  StoredFeedback f;
  f.seq = r.integer(i, 0);
  f.request_id = r.text(i, 1);
  f.user = r.text(i, 2);
  f.item = r.text(i, 3);
  f.position = static_cast<std::int32_t>(r.integer(i, 4));
  f.propensity = r.real(i, 5);
  f.policy = r.text(i, 6);
  f.clicked = r.boolean(i, 7);
  f.bought = r.boolean(i, 8);
  f.dwell = r.real(i, 9);
  f.ts = r.integer(i, 10);
  f.model = r.text(i, 11);
  if (!r.null(i, 12)) f.features = features_of(r.text(i, 12));
  return f;
}

class PostgresStore : public EventStore {
 public:
  explicit PostgresStore(std::string url) : url_(std::move(url)), writer_(url_, label()), reader_(url_, label()) {
    writer_.transaction([&] {
      // Replicas may open a new database at the same moment: the schema is made under the lock.
      writer_.exec(kWriteLock);
      writer_.exec(
          "CREATE TABLE IF NOT EXISTS events(seq BIGSERIAL PRIMARY KEY, user_id TEXT NOT NULL, item TEXT NOT NULL, "
          "ts BIGINT NOT NULL, behavior TEXT NOT NULL, value REAL NOT NULL, domain TEXT NOT NULL)");
      writer_.exec("CREATE INDEX IF NOT EXISTS events_user_ts ON events(user_id, ts, seq)");
      writer_.exec(
          "CREATE TABLE IF NOT EXISTS feedback(seq BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL, "
          "user_id TEXT NOT NULL, item TEXT NOT NULL, position INTEGER NOT NULL, propensity DOUBLE PRECISION NOT "
          "NULL, policy TEXT NOT NULL, clicked BOOLEAN NOT NULL, bought BOOLEAN NOT NULL, dwell DOUBLE PRECISION "
          "NOT NULL, ts BIGINT NOT NULL, model TEXT NOT NULL DEFAULT '', features BYTEA)");
      writer_.exec("CREATE INDEX IF NOT EXISTS feedback_user ON feedback(user_id)");
      writer_.exec("CREATE INDEX IF NOT EXISTS feedback_model ON feedback(model, seq) WHERE model <> ''");
      writer_.exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      writer_.exec("CREATE TABLE IF NOT EXISTS tombstones(key TEXT PRIMARY KEY, deleted_at BIGINT NOT NULL)");
      writer_.exec(
          "INSERT INTO meta(key, value) VALUES ('tombstone_salt', $1), ('tombstone_version', '0'), "
          "('erasures', '0') ON CONFLICT (key) DO NOTHING",
          {random_hex(16)});
      const auto salt = writer_.exec("SELECT value FROM meta WHERE key = 'tombstone_salt'");
      tombstones_ = Tombstones(salt.text(0, 0));
      return 0;
    });
  }

  std::string url() const override { return url_; }

  std::vector<std::int64_t> append(const std::vector<StoredEvent>& events) override { return write(events, nullptr); }

  std::vector<std::int64_t> append_feedback(const std::vector<StoredFeedback>& feedback,
                                            const std::vector<StoredEvent>& events) override {
    return write(events, &feedback);
  }

  void scan(std::int64_t after, const std::function<bool(const StoredEvent&)>& fn) const override {
    scan_range(after, std::numeric_limits<std::int64_t>::max(), fn);
  }

  void scan_range(std::int64_t after, std::int64_t up_to,
                  const std::function<bool(const StoredEvent&)>& fn) const override {
    // Page by page, so a long log is never held in memory at once.
    while (after < up_to) {
      std::vector<StoredEvent> page;
      {
        std::lock_guard lock(read_mu_);
        const auto r =
            reader_.exec("SELECT " + kEventColumns + " FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT " +
                             num(kScanPage),
                         {num(after), num(up_to)});
        for (int i = 0; i < r.rows(); ++i) page.push_back(event_at(r, i));
      }
      for (const auto& e : page)
        if (!fn(e)) return;
      if (static_cast<std::int64_t>(page.size()) < kScanPage) return;
      after = page.back().seq;
    }
  }

  std::vector<StoredEvent> user_events(const std::string& user, std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    const auto r =
        reader_.exec("SELECT " + kEventColumns + " FROM events WHERE user_id = $1 ORDER BY ts DESC, seq DESC LIMIT " +
                         (limit == 0 ? std::string("ALL") : num(static_cast<std::int64_t>(limit))),
                     {user});
    std::vector<StoredEvent> out;
    for (int i = r.rows() - 1; i >= 0; --i) out.push_back(event_at(r, i));
    return out;
  }

  std::vector<StoredEvent> recent(std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    const auto r = reader_.exec("SELECT " + kEventColumns + " FROM events ORDER BY seq DESC LIMIT $1",
                                {num(static_cast<std::int64_t>(limit))});
    std::vector<StoredEvent> out;
    for (int i = r.rows() - 1; i >= 0; --i) out.push_back(event_at(r, i));
    return out;
  }

  std::int64_t count() const override {
    std::lock_guard lock(read_mu_);
    return reader_.exec("SELECT count(*) FROM events").integer(0, 0);
  }

  void scan_feedback(const std::function<bool(const StoredFeedback&)>& fn) const override {
    for (const auto& f : read_feedback("ORDER BY seq", {}))
      if (!fn(f)) return;
  }

  void scan_model_feedback(const std::string& model,
                           const std::function<bool(const StoredFeedback&)>& fn) const override {
    if (model.empty()) return;
    for (const auto& f : read_feedback("WHERE model = $1 AND model <> '' ORDER BY seq", {model}))
      if (!fn(f)) return;
  }

  std::vector<StoredFeedback> user_feedback(const std::string& user) const override {
    return read_feedback("WHERE user_id = $1 ORDER BY seq", {user});
  }

  Erased delete_user(const std::string& user, std::int64_t deleted_at) override {
    const auto key = tombstones_.key(user);
    return erase([&] {
      Erased out;
      out.events = deleted("events", "user_id = $1", user);
      out.feedback = deleted("feedback", "user_id = $1", user);
      writer_.exec(
          "INSERT INTO tombstones(key, deleted_at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET "
          "deleted_at = GREATEST(tombstones.deleted_at, excluded.deleted_at)",
          {key, num(deleted_at)});
      writer_.exec("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'tombstone_version'");
      return out;
    });
  }

  std::int64_t erasures() const override {
    std::lock_guard lock(read_mu_);
    return reader_.exec("SELECT value::bigint FROM meta WHERE key = 'erasures'").integer(0, 0);
  }

  void wait_for_appends(int timeout_ms) const override {
    std::lock_guard lock(listen_mu_);
    try {
      if (!listener_) {
        listener_ = std::make_unique<Connection>(url_, label());
        listener_->exec(std::string("LISTEN ") + kChannel);
      }
      listener_->wait_notify(timeout_ms);
    } catch (const Error&) {  // unreachable now: the caller's next scan reports it; retried next time
      listener_.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(0, timeout_ms)));
    }
  }

  std::optional<std::int64_t> deleted_at(const std::string& user) const override {
    std::lock_guard lock(read_mu_);
    const auto r = reader_.exec("SELECT deleted_at FROM tombstones WHERE key = $1", {tombstones_.key(user)});
    if (r.rows() == 0) return std::nullopt;
    return r.integer(0, 0);
  }

  Erased purge_before(std::int64_t cutoff) override {
    return erase([&] {
      Erased out;
      out.events = deleted("events", "ts < $1", num(cutoff));
      out.feedback = deleted("feedback", "ts < $1", num(cutoff));
      return out;
    });
  }

 private:
  std::string label() const {
    // The URL without a password, for messages.
    auto at = url_.find('@');
    auto colon = url_.find(':', url_.find("//") + 2);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      return url_.substr(0, colon) + ":***" + url_.substr(at);
    return url_;
  }
  /// Deletes the rows of `table` matching `where` (with $1 = value); returns how many went.
  std::int64_t deleted(const std::string& table, const std::string& where, const std::string& value) {
    return writer_
        .exec("WITH d AS (DELETE FROM " + table + " WHERE " + where + " RETURNING 1) SELECT count(*) FROM d", {value})
        .integer(0, 0);
  }

  std::vector<StoredFeedback> read_feedback(const std::string& where,
                                            const std::vector<std::optional<std::string>>& params) const {
    std::lock_guard lock(read_mu_);
    const auto r = reader_.exec("SELECT " + kFeedbackColumns + " FROM feedback " + where, params);
    std::vector<StoredFeedback> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(feedback_at(r, i));
    return out;
  }

  /// Reloads the tombstone cache when another writer (this store's deletions, another replica's)
  /// moved tombstone_version. Runs under the write lock.
  void refresh_tombstones() {
    const auto v = writer_.exec("SELECT value::bigint FROM meta WHERE key = 'tombstone_version'").integer(0, 0);
    if (v == tombstone_version_) return;
    tombstones_.clear();
    const auto r = writer_.exec("SELECT key, deleted_at FROM tombstones");
    for (int i = 0; i < r.rows(); ++i) tombstones_.put(r.text(i, 0), r.integer(i, 1));
    tombstone_version_ = v;
  }

  struct Batch {
    const std::vector<StoredEvent>* events;
    const std::vector<StoredFeedback>* feedback;  ///< may be null
    std::vector<std::int64_t> seqs;
  };

  /// Group commit (group_commit.h): the leader writes every queued batch in one transaction.
  std::vector<std::int64_t> write(const std::vector<StoredEvent>& events, const std::vector<StoredFeedback>* feedback) {
    Batch batch{&events, feedback, {}};
    group_.run(batch, [this](const std::vector<Batch*>& group) { write_group(group); });
    return std::move(batch.seqs);
  }

  void write_group(const std::vector<Batch*>& group) {
    writer_.transaction([&] {
      writer_.exec(kWriteLock);
      refresh_tombstones();
      bool any = false;
      for (auto* b : group) {
        insert_events(*b);
        if (b->feedback) write_feedback(*b->feedback);
        any = any || std::any_of(b->seqs.begin(), b->seqs.end(), [](auto s) { return s > 0; });
      }
      // Delivered to the replicas' listeners when (and only if) this transaction commits.
      if (any) writer_.exec(std::string("SELECT pg_notify('") + kChannel + "', '')");
      return 0;
    });
  }

  /// Inserts a batch's events (all but a deleted user's old ones, which get seq 0) in statements of
  /// up to kRowsPerInsert rows.
  void insert_events(Batch& b) {
    const auto& events = *b.events;
    b.seqs.assign(events.size(), 0);
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < events.size(); ++i)
      if (!tombstones_.drops(events[i].user, events[i].ts)) kept.push_back(i);
    for (std::size_t from = 0; from < kept.size(); from += kRowsPerInsert) {
      const auto to = std::min(kept.size(), from + kRowsPerInsert);
      std::string sql = "INSERT INTO events(user_id,item,ts,behavior,value,domain) VALUES ";
      std::vector<std::optional<std::string>> params;
      for (auto k = from; k < to; ++k) {
        const auto& e = events[kept[k]];
        const auto p = params.size();
        sql += (k > from ? ",(" : "(");
        for (int c = 1; c <= 6; ++c) sql += "$" + std::to_string(p + static_cast<std::size_t>(c)) + (c < 6 ? "," : ")");
        params.insert(params.end(),
                      {e.user, e.item, num(e.ts), e.behavior, num(static_cast<double>(e.value)), e.domain});
      }
      const auto r = writer_.exec(sql + " RETURNING seq", params);
      // One statement draws its sequence values in VALUES order; sorted, they map back in order.
      std::vector<std::int64_t> got;
      for (int i = 0; i < r.rows(); ++i) got.push_back(r.integer(i, 0));
      std::sort(got.begin(), got.end());
      for (auto k = from; k < to; ++k) b.seqs[kept[k]] = got[k - from];
    }
  }

  void write_feedback(const std::vector<StoredFeedback>& rows) {
    for (const auto& f : rows) {
      if (tombstones_.drops(f.user, f.ts)) continue;
      writer_.exec(
          "INSERT INTO feedback(request_id,user_id,item,position,propensity,policy,clicked,bought,dwell,ts,model,"
          "features) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
          {f.request_id, f.user, f.item, num(static_cast<std::int64_t>(f.position)), num(f.propensity), f.policy,
           std::string(f.clicked ? "true" : "false"), std::string(f.bought ? "true" : "false"), num(f.dwell), num(f.ts),
           f.model, features_hex(f.features)});
    }
  }

  /// Runs `fn` (deletions) in a write transaction, then VACUUMs the tables (outside it, as
  /// PostgreSQL requires) so the deleted tuples are pruned from the pages.
  template <typename Fn>
  Erased erase(Fn fn) {
    return group_.alone([&] { return erase_alone(fn); });
  }
  template <typename Fn>
  Erased erase_alone(Fn fn) {
    const auto out = writer_.transaction([&] {
      writer_.exec(kWriteLock);
      auto erased = fn();
      writer_.exec("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'erasures'");
      return erased;
    });
    tombstone_version_ = -1;  // reload before the next write
    writer_.exec("VACUUM events, feedback");
    return out;
  }

  std::string url_;
  mutable Connection writer_, reader_;
  GroupCommit<Batch> group_;
  mutable std::mutex read_mu_;
  Tombstones tombstones_{""};
  std::int64_t tombstone_version_ = -1;
  mutable std::mutex listen_mu_;
  mutable std::unique_ptr<Connection> listener_;  ///< LISTENs on kChannel, opened on first wait
};

}  // namespace

std::unique_ptr<EventStore> open_postgres_store(const std::string& url) { return std::make_unique<PostgresStore>(url); }

}  // namespace driftrec::store
