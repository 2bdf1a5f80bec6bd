#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/tune/tune.h"

namespace driftrec::tune {

namespace {
double now_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }
TrialStatus status_of(const std::string& s) {
  if (s == "complete") return TrialStatus::kComplete;
  if (s == "abandoned") return TrialStatus::kAbandoned;
  if (s == "failed") return TrialStatus::kFailed;
  return TrialStatus::kRunning;
}
}  // namespace

struct TrialStore::Impl {
  sqlite3* db = nullptr;
  std::string path;
  void exec(const std::string& sql) const {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw IoError(path + ": " + msg);
    }
  }
  struct Stmt {
    sqlite3_stmt* s = nullptr;
    Stmt(sqlite3* db, const std::string& sql, const std::string& path) {
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
        throw IoError(path + ": " + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s); }
  };
  std::vector<Trial> read_all() const {
    Stmt st(db, "SELECT id, params, status, value, intermediate, seconds, message, worker FROM trials ORDER BY id",
            path);
    std::vector<Trial> out;
    while (sqlite3_step(st.s) == SQLITE_ROW) {
      Trial t;
      t.id = sqlite3_column_int64(st.s, 0);
      t.params = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1)));
      t.status = status_of(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 2)));
      if (sqlite3_column_type(st.s, 3) != SQLITE_NULL) t.value = sqlite3_column_double(st.s, 3);
      t.intermediate =
          nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 4))).get<std::vector<double>>();
      t.seconds = sqlite3_column_double(st.s, 5);
      if (const auto* m = sqlite3_column_text(st.s, 6)) t.message = reinterpret_cast<const char*>(m);
      t.worker = sqlite3_column_int64(st.s, 7);
      out.push_back(std::move(t));
    }
    return out;
  }
};

TrialStore::TrialStore(const std::string& path, const nlohmann::json& study_key) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (sqlite3_open_v2(path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = impl_->db ? sqlite3_errmsg(impl_->db) : "cannot open";
    sqlite3_close(impl_->db);
    impl_->db = nullptr;
    throw IoError(path + ": " + msg);
  }
  sqlite3_busy_timeout(impl_->db, 60000);
  impl_->exec("PRAGMA journal_mode=WAL");
  impl_->exec(
      "CREATE TABLE IF NOT EXISTS study(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS trials(id INTEGER PRIMARY KEY, params TEXT NOT NULL, status TEXT NOT NULL, value "
      "REAL,"
      " intermediate TEXT NOT NULL DEFAULT '[]', seconds REAL NOT NULL DEFAULT 0, message TEXT, started REAL, finished "
      "REAL, worker INTEGER)");
  impl_->exec("BEGIN IMMEDIATE");
  try {
    const std::string key = study_key.dump();
    Impl::Stmt get(impl_->db, "SELECT value FROM study WHERE key = 'study'", path);
    if (sqlite3_step(get.s) == SQLITE_ROW) {
      const std::string have = reinterpret_cast<const char*>(sqlite3_column_text(get.s, 0));
      if (have != key)
        throw InvalidInput(path +
                           ": this trial database belongs to another search (model, objective, space or strategy "
                           "differ); use another --db to start a new one");
    } else {
      Impl::Stmt put(impl_->db, "INSERT INTO study(key, value) VALUES('study', ?)", path);
      sqlite3_bind_text(put.s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(put.s) != SQLITE_DONE) throw IoError(path + ": " + sqlite3_errmsg(impl_->db));
    }
    impl_->exec("COMMIT");
  } catch (...) {
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(impl_->db);
    impl_->db = nullptr;
    throw;
  }
}

TrialStore::~TrialStore() {
  if (impl_ && impl_->db) sqlite3_close(impl_->db);
}

std::optional<Trial> TrialStore::claim(
    std::int64_t max_trials,
    const std::function<std::optional<nlohmann::json>(const std::vector<Trial>&, std::int64_t)>& make) {
  impl_->exec("BEGIN IMMEDIATE");
  try {
    const auto all = impl_->read_all();
    std::int64_t counted = 0;
    std::vector<Trial> finished;
    for (const auto& t : all) {
      if (t.status != TrialStatus::kFailed) ++counted;
      if (t.status == TrialStatus::kComplete || t.status == TrialStatus::kAbandoned) finished.push_back(t);
    }
    if (max_trials > 0 && counted >= max_trials) {
      impl_->exec("COMMIT");
      return std::nullopt;
    }
    const auto params = make(finished, static_cast<std::int64_t>(all.size()));
    if (!params) {
      impl_->exec("COMMIT");
      return std::nullopt;
    }
    Impl::Stmt ins(impl_->db, "INSERT INTO trials(params, status, started, worker) VALUES(?, 'running', ?, ?)",
                   impl_->path);
    const auto text = params->dump();
    sqlite3_bind_text(ins.s, 1, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(ins.s, 2, now_s());
    sqlite3_bind_int64(ins.s, 3, static_cast<sqlite3_int64>(getpid()));
    if (sqlite3_step(ins.s) != SQLITE_DONE) throw IoError(impl_->path + ": " + sqlite3_errmsg(impl_->db));
    Trial t;
    t.id = sqlite3_last_insert_rowid(impl_->db);
    t.params = *params;
    t.worker = getpid();
    impl_->exec("COMMIT");
    return t;
  } catch (...) {
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void TrialStore::report(std::int64_t id, const std::vector<double>& intermediate) {
  Impl::Stmt st(impl_->db, "UPDATE trials SET intermediate = ? WHERE id = ?", impl_->path);
  const auto text = nlohmann::json(intermediate).dump();
  sqlite3_bind_text(st.s, 1, text.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, id);
  if (sqlite3_step(st.s) != SQLITE_DONE) throw IoError(impl_->path + ": " + sqlite3_errmsg(impl_->db));
}

void TrialStore::finish(const Trial& t) {
  Impl::Stmt st(
      impl_->db,
      "UPDATE trials SET status = ?, value = ?, intermediate = ?, seconds = ?, message = ?, finished = ? WHERE id = ?",
      impl_->path);
  const auto status = to_string(t.status);
  const auto inter = nlohmann::json(t.intermediate).dump();
  sqlite3_bind_text(st.s, 1, status.c_str(), -1, SQLITE_TRANSIENT);
  if (t.value)
    sqlite3_bind_double(st.s, 2, *t.value);
  else
    sqlite3_bind_null(st.s, 2);
  sqlite3_bind_text(st.s, 3, inter.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, 4, t.seconds);
  sqlite3_bind_text(st.s, 5, t.message.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st.s, 6, now_s());
  sqlite3_bind_int64(st.s, 7, t.id);
  if (sqlite3_step(st.s) != SQLITE_DONE) throw IoError(impl_->path + ": " + sqlite3_errmsg(impl_->db));
}

std::vector<Trial> TrialStore::trials() const { return impl_->read_all(); }

int TrialStore::fail_stale_running() {
  impl_->exec(
      "UPDATE trials SET status = 'failed', message = 'interrupted (the process running it stopped)' WHERE status = "
      "'running'");
  return sqlite3_changes(impl_->db);
}

std::vector<Trial> run_trials(const SearchSpace& space, const TuneOptions& o, TrialStore& store,
                              const Objective& objective, const std::function<void(const Trial&)>& on_finish) {
  if (o.trials <= 0 && o.minutes <= 0) throw InvalidInput("tune: give a trial budget, a time budget, or both");
  const auto t_start = std::chrono::steady_clock::now();
  auto out_of_time = [&] {
    return o.minutes > 0 &&
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() >= o.minutes * 60.0;
  };
  while (!out_of_time()) {
    auto t = store.claim(o.trials, [&](const std::vector<Trial>& history, std::int64_t index) {
      return suggest(space, o.sampler, history, index, o.seed);
    });
    if (!t) break;
    nlohmann::json config = space.fixed;
    for (const auto& [k, v] : t->params.items()) config[k] = v;
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](double v) {
      t->intermediate.push_back(v);
      store.report(t->id, t->intermediate);
      if (!o.early_abandon) return;
      std::vector<Trial> finished;
      for (auto& x : store.trials())
        if (x.status == TrialStatus::kComplete) finished.push_back(std::move(x));
      if (should_abandon(t->intermediate, finished, o.min_trials))
        throw TrialAbandoned{*std::max_element(t->intermediate.begin(), t->intermediate.end())};
    };
    try {
      t->value = objective(config, report);
      t->status = TrialStatus::kComplete;
    } catch (const TrialAbandoned& a) {
      t->value = a.best;
      t->status = TrialStatus::kAbandoned;
    } catch (const std::exception& e) {
      t->status = TrialStatus::kFailed;
      t->message = e.what();
    }
    t->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    store.finish(*t);
    if (on_finish) on_finish(*t);
  }
  return store.trials();
}

}  // namespace driftrec::tune
