#pragma once
// What the SQLite store's classes share (internal): a connection that names its file in every
// error, statements prepared once and reset for each use, and a read snapshot.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "driftrec/store/event_store.h"

namespace driftrec::store::sqlite {

/// A prepared statement, finalized when destroyed.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::string& path);
  ~Statement() { sqlite3_finalize(st_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
};

/// Resets a cached statement when done with it, so that a read holds no transaction open (which
/// would keep checkpoints from copying the WAL past its snapshot).
struct ResetAfter {
  sqlite3_stmt* st;
  ~ResetAfter() { sqlite3_reset(st); }
  sqlite3_stmt* get() const { return st; }
};

std::string column_text(sqlite3_stmt* st, int column);
void bind_text(sqlite3_stmt* st, int index, const std::string& value);
/// An event from a row selected as "seq,user,item,ts,behavior,value,domain".
StoredEvent read_event(sqlite3_stmt* st);

/// One connection to the store's file (opened without SQLite's own mutex: callers serialise).
/// Errors are IoError naming the file.
class Connection {
 public:
  Connection(std::string path, int flags);
  ~Connection() { sqlite3_close_v2(db_); }  // _v2: statements cached elsewhere may outlive it
  Connection(Connection&& other) noexcept
      : path_(std::move(other.path_)),
        db_(std::exchange(other.db_, nullptr)),
        begin_st_(std::move(other.begin_st_)),
        commit_st_(std::move(other.commit_st_)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection& operator=(Connection&&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const std::string& sql) const;
  /// Steps a query: true with a row, false when done.
  bool step(sqlite3_stmt* st) const;
  /// Steps a write to completion.
  void done(sqlite3_stmt* st) const;
  /// The statement for `sql`, prepared once into `slot` and reset for a new use (every transaction
  /// and every state built for a user runs these: preparing them each time cost ~3% of a
  /// single-event ingest and ~4% of a first recommendation).
  sqlite3_stmt* cached(std::unique_ptr<Statement>& slot, const char* sql) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  friend class ReadTransaction;
  mutable std::unique_ptr<Statement> begin_st_, commit_st_;
};

/// A read snapshot on `c` for the statements run while it lives (callers serialise on `c`).
class ReadTransaction {
 public:
  explicit ReadTransaction(const Connection& c);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  const Connection& c_;
};

/// Runs `fn` inside BEGIN IMMEDIATE ... COMMIT on `c`, rolling back if it throws.
template <typename Fn>
auto write_transaction(const Connection& c, Fn fn) -> decltype(fn()) {
  c.exec("BEGIN IMMEDIATE");
  try {
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      c.exec("COMMIT");
    } else {
      auto out = fn();
      c.exec("COMMIT");
      return out;
    }
  } catch (...) {
    sqlite3_exec(c.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

}  // namespace driftrec::store::sqlite
