#pragma once
// A fresh PostgreSQL database for one test, on the private server CTest starts
// (tests/integration/postgres_server.sh, fixture `postgres`; the URL of its admin database in
// DRIFTREC_TEST_POSTGRES, or in the file DRIFTREC_TEST_POSTGRES_URL_FILE names). Without that variable available() is
// false and the test skips itself; the CTest entry `store.postgresql` runs the same tests with the server up.
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace driftrec::test {

class PostgresDatabase {
 public:
  PostgresDatabase() {
    if (const char* url = std::getenv("DRIFTREC_TEST_POSTGRES"); url && *url) {
      admin_ = url;
    } else if (const char* file = std::getenv("DRIFTREC_TEST_POSTGRES_URL_FILE"); file && *file) {
      std::ifstream in(file);
      std::getline(in, admin_);
    }
    if (admin_.empty()) return;
    static int counter = 0;
    name_ = "driftrec_t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    run("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    run("CREATE DATABASE " + name_);
    url_ = admin_.substr(0, admin_.rfind('/') + 1) + name_;
  }
  ~PostgresDatabase() {
    if (!url_.empty()) try {
        run("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      } catch (...) {
      }
  }
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;
  bool available() const { return !url_.empty(); }
  /// postgresql://... of the fresh database.
  const std::string& url() const { return url_; }
  /// Runs one statement on the admin database (e.g. to stop connections).
  void run(const std::string& sql) const {
    PGconn* c = PQconnectdb(admin_.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      const std::string msg = PQerrorMessage(c);
      PQfinish(c);
      throw std::runtime_error("test PostgreSQL at " + admin_ + ": " + msg);
    }
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    const std::string msg = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error(sql + ": " + msg);
  }

 private:
  std::string admin_, name_, url_;
};

}  // namespace driftrec::test
