#include "sqlite_db.h"

#include "driftrec/core/error.h"

namespace driftrec::store::sqlite {

Statement::Statement(sqlite3* db, const char* sql, const std::string& path) {
  if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
    throw IoError(path + ": cannot prepare statement: " + sqlite3_errmsg(db));
}

std::string column_text(sqlite3_stmt* st, int column) {
  const auto* p = sqlite3_column_text(st, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, column)))
           : std::string();
}

void bind_text(sqlite3_stmt* st, int index, const std::string& value) {
  sqlite3_bind_text(st, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

StoredEvent read_event(sqlite3_stmt* st) {
  StoredEvent e;
  e.seq = sqlite3_column_int64(st, 0);
  e.user = column_text(st, 1);
  e.item = column_text(st, 2);
  e.ts = sqlite3_column_int64(st, 3);
  e.behavior = column_text(st, 4);
  e.value = static_cast<float>(sqlite3_column_double(st, 5));
  e.domain = column_text(st, 6);
  return e;
}

Connection::Connection(std::string path, int flags) : path_(std::move(path)) {
  if (sqlite3_open_v2(path_.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    throw IoError(path_ + ": cannot open event store: " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
}

void Connection::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw IoError(path_ + ": " + msg);
  }
}

bool Connection::step(sqlite3_stmt* st) const {
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw IoError(path_ + ": read failed: " + sqlite3_errmsg(db_));
}

void Connection::done(sqlite3_stmt* st) const {
  if (sqlite3_step(st) != SQLITE_DONE) throw IoError(path_ + ": write failed: " + sqlite3_errmsg(db_));
}

sqlite3_stmt* Connection::cached(std::unique_ptr<Statement>& slot, const char* sql) const {
  if (!slot) slot = std::make_unique<Statement>(db_, sql, path_);
  sqlite3_reset(slot->get());
  return slot->get();
}

ReadTransaction::ReadTransaction(const Connection& c) : c_(c) { c_.step(c_.cached(c_.begin_st_, "BEGIN")); }

ReadTransaction::~ReadTransaction() {
  sqlite3_stmt* end = c_.cached(c_.commit_st_, "COMMIT");
  sqlite3_step(end);
  sqlite3_reset(end);
}

}  // namespace driftrec::store::sqlite
