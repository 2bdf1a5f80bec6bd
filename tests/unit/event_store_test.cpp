// Conformance suite every EventStore backend passes.
#include "driftrec/store/event_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../../src/store/store_registry.h"
#include "driftrec/core/error.h"
#include "postgres_db.h"
#include "sqlite_count.h"
#include "test_util.h"

using namespace driftrec;
using namespace driftrec::store;

namespace {
class EventStoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && !pg_.available())
      GTEST_SKIP() << "no test PostgreSQL (DRIFTREC_TEST_POSTGRES): the CTest entry store.postgresql runs this";
  }
  std::unique_ptr<EventStore> open() {
    const std::string scheme = GetParam();
    if (scheme == "postgresql") return open_event_store(pg_.url());
    // sqlite_merging: the user index merged after every commit (two events may wait).
    if (scheme == "sqlite_merging") return open_sqlite_store(dir_.file("events.db"), SqliteOptions{2});
    return open_event_store(scheme == "sqlite" ? "sqlite://" + dir_.file("events.db") : "memory://");
  }
  test::TempDir dir_;
  test::PostgresDatabase pg_;
};

StoredEvent stored_event(const std::string& u, const std::string& i, std::int64_t ts, const std::string& b = "view") {
  StoredEvent e;
  e.user = u;
  e.item = i;
  e.ts = ts;
  e.behavior = b;
  return e;
}
}  // namespace

TEST_P(EventStoreConformance, AppendAssignsIncreasingSequenceNumbers) {
  auto s = open();
  const auto a = s->append({stored_event("u1", "a", 10), stored_event("u2", "b", 5)});
  const auto b = s->append({stored_event("u1", "c", 7, "buy")});
  EXPECT_EQ(a, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(b, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(s->count(), 3);
  EXPECT_TRUE(s->append({}).empty());
}

TEST_P(EventStoreConformance, UserEventsAreTimeOrderedAndLimited) {
  auto s = open();
  s->append({stored_event("u1", "a", 10), stored_event("u2", "b", 5), stored_event("u1", "c", 7, "buy"),
             stored_event("u1", "d", 10)});
  const auto h = s->user_events("u1");
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].item, "c");
  EXPECT_EQ(h[0].behavior, "buy");
  EXPECT_EQ(h[1].item, "a");  // tie at 10: append order
  EXPECT_EQ(h[2].item, "d");
  const auto last2 = s->user_events("u1", 2);
  ASSERT_EQ(last2.size(), 2u);
  EXPECT_EQ(last2[0].item, "a");
  EXPECT_TRUE(s->user_events("nobody").empty());
}

TEST_P(EventStoreConformance, ScanAndRecent) {
  auto s = open();
  for (int i = 0; i < 10; ++i) s->append({stored_event("u" + std::to_string(i % 3), "i" + std::to_string(i), i)});
  std::vector<std::int64_t> seqs;
  s->scan(4, [&](const StoredEvent& e) {
    seqs.push_back(e.seq);
    return seqs.size() < 3;
  });
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{5, 6, 7}));
  const auto r = s->recent(3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].item, "i7");
  EXPECT_EQ(r[2].item, "i9");
}

TEST_P(EventStoreConformance, ScanRangeReadsOnlyItsStretch) {
  auto s = open();
  for (int i = 0; i < 10; ++i) s->append({stored_event("u" + std::to_string(i % 3), "i" + std::to_string(i), i)});
  std::vector<std::int64_t> seqs;
  const auto collect = [&](const StoredEvent& e) {
    seqs.push_back(e.seq);
    return true;
  };
  s->scan_range(3, 6, collect);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{4, 5, 6}));
  seqs.clear();
  s->scan_range(8, 100, collect);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{9, 10}));
  seqs.clear();
  s->scan_range(5, 5, collect);
  s->scan_range(6, 2, collect);
  EXPECT_TRUE(seqs.empty());
  s->scan_range(0, 10, [&](const StoredEvent& e) {  // stops when fn says so
    seqs.push_back(e.seq);
    return seqs.size() < 2;
  });
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2}));
}

TEST_P(EventStoreConformance, RoundTripsEveryField) {
  auto s = open();
  StoredEvent e = stored_event("user with spaces ü", "item,comma", -5, "");
  e.value = 4.5f;
  e.domain = "shop";
  s->append({e});
  const auto back = s->user_events("user with spaces ü").at(0);
  EXPECT_EQ(back.item, "item,comma");
  EXPECT_EQ(back.ts, -5);
  EXPECT_EQ(back.behavior, "");
  EXPECT_FLOAT_EQ(back.value, 4.5f);
  EXPECT_EQ(back.domain, "shop");
}

TEST_P(EventStoreConformance, ConcurrentAppendsLoseNothing) {
  auto s = open();
  constexpr int kThreads = 8, kBatches = 25;
  std::vector<std::thread> ts;
  std::vector<std::vector<std::int64_t>> got(kThreads);
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        auto seqs = s->append({stored_event("t" + std::to_string(t), "i" + std::to_string(b), b),
                               stored_event("t" + std::to_string(t), "x", b)});
        got[t].insert(got[t].end(), seqs.begin(), seqs.end());
      }
    });
  for (auto& t : ts) t.join();
  std::set<std::int64_t> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kBatches * 2));
  EXPECT_EQ(s->count(), kThreads * kBatches * 2);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(s->user_events("t" + std::to_string(t)).size(), 2u * kBatches);
}

TEST_P(EventStoreConformance, FeedbackAndItsEventsCommitTogether) {
  auto s = open();
  s->append({stored_event("u1", "a", 1)});
  StoredFeedback f;
  f.request_id = "r1";
  f.user = "u1";
  f.item = "b";
  f.position = 2;
  f.propensity = 0.25;
  f.policy = "epsilon-greedy:epsilon=0.1";
  f.clicked = true;
  f.dwell = 12.5;
  f.ts = 5;
  f.model = "0123456789abcdef";  // a learning policy's observation
  f.features = {0.5f, -1.25f, 3.0f};
  StoredFeedback g = f;
  g.model.clear();
  g.features.clear();
  g.item = "c";
  g.position = 0;
  g.clicked = false;
  g.bought = true;
  EXPECT_EQ(s->append_feedback({f, g}, {stored_event("u1", "b", 5, "click")}), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(s->count(), 2);
  std::vector<StoredFeedback> got;
  s->scan_feedback([&](const StoredFeedback& x) {
    got.push_back(x);
    return true;
  });
  ASSERT_EQ(got.size(), 2u);
  EXPECT_LT(got[0].seq, got[1].seq);
  EXPECT_EQ(got[0].request_id, "r1");
  EXPECT_EQ(got[0].item, "b");
  EXPECT_EQ(got[0].position, 2);
  EXPECT_DOUBLE_EQ(got[0].propensity, 0.25);
  EXPECT_EQ(got[0].policy, "epsilon-greedy:epsilon=0.1");
  EXPECT_TRUE(got[0].clicked);
  EXPECT_FALSE(got[0].bought);
  EXPECT_DOUBLE_EQ(got[0].dwell, 12.5);
  EXPECT_EQ(got[0].ts, 5);
  EXPECT_EQ(got[0].model, "0123456789abcdef");
  EXPECT_EQ(got[0].features, (std::vector<float>{0.5f, -1.25f, 3.0f}));
  EXPECT_TRUE(got[1].bought);
  EXPECT_TRUE(got[1].model.empty());
  EXPECT_TRUE(got[1].features.empty());
  EXPECT_EQ(s->user_feedback("u1").front().features, got[0].features);
  EXPECT_EQ(s->user_events("u1").back().behavior, "click");
}

TEST_P(EventStoreConformance, ScanModelFeedbackReadsOnlyThatModelsRows) {
  auto s = open();
  std::vector<StoredFeedback> rows;
  for (int i = 0; i < 6; ++i) {
    StoredFeedback f;
    f.request_id = "r" + std::to_string(i);
    f.user = "u";
    f.item = "i" + std::to_string(i);
    f.policy = "linucb";
    f.model = i % 3 == 0 ? "m1" : i % 3 == 1 ? "m2" : "";  // "" = a policy that does not learn
    if (!f.model.empty()) f.features = {float(i)};
    rows.push_back(f);
  }
  s->append_feedback(rows, {});
  std::vector<std::string> items;
  s->scan_model_feedback("m1", [&](const StoredFeedback& f) {
    items.push_back(f.item);
    EXPECT_EQ(f.features, std::vector<float>{float(items.size() == 1 ? 0 : 3)});
    return true;
  });
  EXPECT_EQ(items, (std::vector<std::string>{"i0", "i3"}));
  items.clear();
  s->scan_model_feedback("m2", [&](const StoredFeedback& f) {
    items.push_back(f.item);
    return false;  // stops after the first row
  });
  EXPECT_EQ(items, std::vector<std::string>{"i1"});
  s->scan_model_feedback("", [&](const StoredFeedback&) {
    ADD_FAILURE() << "rows without a model belong to no model";
    return true;
  });
  s->scan_model_feedback("m3", [&](const StoredFeedback&) {
    ADD_FAILURE() << "no row of m3";
    return true;
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, EventStoreConformance,
                         ::testing::Values("memory", "sqlite", "sqlite_merging", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(PostgresStore, ReplicasShareOneLogAndItsTombstones) {
  test::PostgresDatabase pg;
  if (!pg.available()) GTEST_SKIP() << "no test PostgreSQL: the CTest entry store.postgresql runs this";
  auto a = open_event_store(pg.url()), b = open_event_store(pg.url());  // two server replicas
  EXPECT_EQ(a->append({stored_event("u1", "x", 10)}), std::vector<std::int64_t>{1});
  EXPECT_EQ(b->append({stored_event("u1", "y", 11), stored_event("u2", "z", 3)}), (std::vector<std::int64_t>{2, 3}));
  std::vector<std::string> seen;
  a->scan(1, [&](const StoredEvent& e) {
    seen.push_back(e.item);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"y", "z"}));  // what b wrote, read through a
  // A deletion on one replica holds on the other: b drops u1's old events from then on.
  EXPECT_EQ(a->delete_user("u1", 100).events, 2);
  EXPECT_EQ(b->append({stored_event("u1", "old", 50), stored_event("u1", "new", 150)}),
            (std::vector<std::int64_t>{0, 4}));
  EXPECT_EQ(b->deleted_at("u1"), std::optional<std::int64_t>(100));
  ASSERT_EQ(a->user_events("u1").size(), 1u);
  EXPECT_EQ(a->user_events("u1")[0].item, "new");
  // Sequence numbers stay increasing across replicas writing at once.
  std::vector<std::int64_t> sa, sb;
  std::thread ta([&] {
    for (int i = 0; i < 20; ++i) sa.push_back(a->append({stored_event("a", "i", i)}).at(0));
  });
  std::thread tb([&] {
    for (int i = 0; i < 20; ++i) sb.push_back(b->append({stored_event("b", "i", i)}).at(0));
  });
  ta.join();
  tb.join();
  EXPECT_TRUE(std::is_sorted(sa.begin(), sa.end()) && std::is_sorted(sb.begin(), sb.end()));
  std::set<std::int64_t> all(sa.begin(), sa.end());
  all.insert(sb.begin(), sb.end());
  EXPECT_EQ(all.size(), 40u);
  EXPECT_EQ(a->count(), 42);  // z, new and the 40
}

TEST(PostgresStore, AnOutageIsStorageUnavailableAndTheStoreRecoversByItself) {
  test::PostgresDatabase pg;
  const char* ctl = std::getenv("DRIFTREC_TEST_POSTGRES_CTL");  // postgres_server.sh
  const char* url_file = std::getenv("DRIFTREC_TEST_POSTGRES_URL_FILE");
  if (!pg.available() || !ctl || !url_file) GTEST_SKIP() << "needs the CTest-started PostgreSQL (store.postgresql)";
  const auto dir = std::filesystem::path(url_file).parent_path().string();
  const auto server = [&](const std::string& what) {
    return std::system(("'" + std::string(ctl) + "' " + what + " '" + dir + "'").c_str());
  };
  auto s = open_event_store(pg.url());
  s->append({stored_event("u", "a", 1)});
  ASSERT_EQ(server("pause"), 0);
  EXPECT_THROW(s->append({stored_event("u", "b", 2)}), StorageUnavailable);
  EXPECT_THROW(s->count(), StorageUnavailable);
  EXPECT_THROW(s->append({stored_event("u", "b", 2)}), StorageUnavailable);  // still down: no hang, same error
  ASSERT_EQ(server("resume"), 0);
  EXPECT_EQ(s->append({stored_event("u", "c", 3)}).size(), 1u);  // reconnected by itself
  EXPECT_EQ(s->count(), 2);
  EXPECT_EQ(s->user_events("u").back().item, "c");
}

TEST(PostgresStore, AnUnreachableServerIsAClearErrorAndABadUrlToo) {
  // Port 1 on loopback: nothing listens there.
  EXPECT_THROW(open_event_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"), IoError);
  EXPECT_THROW(open_event_store("postgresql://[not a url"), IoError);
}

namespace {
/// A store file as an older build left it: the events table and then `more` (SQL).
void write_old_store(const std::string& path, const std::string& more) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "CREATE TABLE events(seq INTEGER PRIMARY KEY, user TEXT NOT NULL, item TEXT NOT NULL, ts INTEGER NOT NULL, "
      "behavior TEXT NOT NULL, value REAL NOT NULL, domain TEXT NOT NULL);" +
      more;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}
}  // namespace

TEST(SqliteStore, SurvivesReopening) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  {
    auto s = open_event_store(url);
    s->append({stored_event("u", "a", 1), stored_event("u", "b", 2)});
  }
  {
    auto s = open_event_store(url);
    StoredFeedback f;
    f.request_id = "r";
    f.user = "u";
    f.item = "a";
    s->append_feedback({f}, {});
  }
  auto s = open_event_store(url);
  EXPECT_EQ(s->count(), 2);
  int feedback = 0;
  s->scan_feedback([&](const StoredFeedback&) { return ++feedback > 0; });
  EXPECT_EQ(feedback, 1);
  EXPECT_EQ(s->append({stored_event("u", "c", 3)}), (std::vector<std::int64_t>{3}));
}

// A store written before feedback rows kept a learning policy's features: opening it adds the two
// columns; the old rows read back without features, new rows keep theirs.
TEST(SqliteStore, OpensAStoreFromBeforeLearningFeatures) {
  test::TempDir d;
  const auto path = d.file("old.db");
  write_old_store(path,
                  "CREATE TABLE feedback(seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, user TEXT NOT NULL, item "
                  "TEXT NOT NULL, position INTEGER NOT NULL, propensity REAL NOT NULL, policy TEXT NOT NULL, clicked "
                  "INTEGER NOT NULL, bought INTEGER NOT NULL, dwell REAL NOT NULL, ts INTEGER NOT NULL);"
                  "INSERT INTO feedback(request_id,user,item,position,propensity,policy,clicked,bought,dwell,ts) "
                  "VALUES ('r0','u','a',0,1.0,'linucb',1,0,0,7);");
  auto s = open_event_store("sqlite://" + path);
  StoredFeedback f;
  f.request_id = "r1";
  f.user = "u";
  f.item = "b";
  f.model = "m";
  f.features = {1.0f, 2.0f};
  s->append_feedback({f}, {});
  const auto rows = s->user_feedback("u");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].request_id, "r0");
  EXPECT_TRUE(rows[0].model.empty());
  EXPECT_TRUE(rows[0].features.empty());
  EXPECT_EQ(rows[1].model, "m");
  EXPECT_EQ(rows[1].features, f.features);
}

// The posterior rebuild at start-up reads a model's rows through the partial index, not the whole
// feedback table (which grows with every non-learning policy's rows too).
TEST(SqliteStore, ModelScanUsesThePartialIndex) {
  test::TempDir d;
  const auto path = d.file("events.db");
  open_event_store("sqlite://" + path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT seq FROM feedback WHERE model = ? AND model != '' "
                               "ORDER BY seq",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3)) + std::string("\n");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_NE(plan.find("feedback_model"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN feedback\n"), std::string::npos) << plan;
}

namespace {
/// What user_events must return: each user's (ts, seq, item), kept as appended.
struct ExpectedEvents {
  std::map<std::string, std::vector<std::tuple<std::int64_t, std::int64_t, std::string>>> by_user;
  void add(const std::vector<StoredEvent>& events, const std::vector<std::int64_t>& seqs) {
    for (std::size_t i = 0; i < events.size(); ++i)
      by_user[events[i].user].emplace_back(events[i].ts, seqs[i], events[i].item);
  }
  void erase(const std::string& user) { by_user.erase(user); }
  /// Every user's events whole and limited to the last three, in (ts, seq) order.
  void check(const EventStore& s, const std::string& who) const {
    for (auto [user, rows] : by_user) {
      std::sort(rows.begin(), rows.end());
      std::vector<std::string> want, got, last3;
      for (const auto& r : rows) want.push_back(std::get<2>(r));
      for (const auto& e : s.user_events(user)) got.push_back(e.item);
      EXPECT_EQ(got, want) << who << ": " << user;
      for (const auto& e : s.user_events(user, 3)) last3.push_back(e.item);
      EXPECT_EQ(last3, std::vector<std::string>(want.end() - std::min<std::ptrdiff_t>(3, want.size()), want.end()))
          << who << ": " << user;
    }
  }
};
}  // namespace

// The user index is merged in batches, a bucket of users at a time: with a short tail (40 events),
// every user's events read back whole and in time order whether they sit in the index, in the tail
// or in both, during the appends and after reopening (the tail rebuilt from the log).
TEST(SqliteStore, TheUserIndexMergedInBatchesLosesNoEvent) {
  test::TempDir d;
  const auto path = d.file("e.db");
  ExpectedEvents expected;
  std::mt19937 rng(5);
  {
    auto s = open_sqlite_store(path, SqliteOptions{40});
    for (int batch = 0; batch < 60; ++batch) {
      std::vector<StoredEvent> events;
      const int n = 1 + static_cast<int>(rng() % 12);
      for (int k = 0; k < n; ++k)
        events.push_back(stored_event("user" + std::to_string(rng() % 37),
                                      "i" + std::to_string(batch) + "_" + std::to_string(k), rng() % 1000));
      expected.add(events, s->append(events));
      if (batch % 15 == 14) expected.check(*s, "batch " + std::to_string(batch));
    }
    const auto indexed = test::sql_count(path, "SELECT count(*) FROM user_index");
    EXPECT_GT(indexed, 0);                     // merges happened
    EXPECT_LT(indexed, s->count());            // and some events still wait
    EXPECT_GE(indexed, s->count() - 40 - 12);  // the tail's limit and the last commit's events
  }
  expected.check(*open_sqlite_store(path, SqliteOptions{40}), "reopened");
  expected.check(*open_event_store("sqlite://" + path), "reopened with the default tail");
}

// Two connections on one file (a server and a command beside it) each keep their own tail and
// merge into the same index: each reads every event the other appended, erasures included.
TEST(SqliteStore, TwoConnectionsShareTheUserIndex) {
  test::TempDir d;
  const auto path = d.file("e.db");
  auto a = open_sqlite_store(path, SqliteOptions{3});
  auto b = open_sqlite_store(path, SqliteOptions{3});
  ExpectedEvents expected;
  for (int round = 0; round < 40; ++round) {
    auto& writer = round % 3 == 0 ? *b : *a;
    const std::vector<StoredEvent> events{stored_event("x", "x" + std::to_string(round), round),
                                          stored_event(round % 2 ? "y" : "z", "yz" + std::to_string(round), round)};
    expected.add(events, writer.append(events));
  }
  expected.check(*a, "a");
  expected.check(*b, "b");
  EXPECT_EQ(a->delete_user("y", 1000).events, 20);
  expected.erase("y");
  EXPECT_TRUE(b->user_events("y").empty());
  const std::vector<StoredEvent> more{stored_event("x", "after", 50)};
  expected.add(more, b->append(more));
  expected.check(*a, "a after the erasure");
  expected.check(*b, "b after the erasure");
}

// An erasure of the newest events frees their numbers; one of them may already be under an index
// mark (merged), so the next event must get a number past every mark, or its own bucket's mark
// would hide it from user_events.
TEST(SqliteStore, NumbersFreedByAnErasureAreNotReusedUnderAnIndexMark) {
  test::TempDir d;
  auto s = open_sqlite_store(d.file("e.db"), SqliteOptions{0});  // every commit merges
  for (int i = 0; i < 5; ++i) s->append({stored_event("x", "x" + std::to_string(i), i)});
  std::int64_t last = 0;
  // 300 one-event commits: each merges at least one bucket, so every bucket's mark passes the
  // victim's first events.
  for (int i = 0; i < 300; ++i) last = s->append({stored_event("victim", "v" + std::to_string(i), i)})[0];
  EXPECT_EQ(s->delete_user("victim", 1000).events, 300);
  const auto seq = s->append({stored_event("z", "new", 7)})[0];
  EXPECT_GT(seq, last - 256);  // past the marks (the highest reached last - 1)
  ASSERT_EQ(s->user_events("z").size(), 1u);
  EXPECT_EQ(s->user_events("z")[0].item, "new");
  EXPECT_EQ(s->user_events("x").size(), 5u);
}

// The same without any merge: a follower that read the log up to the newest events, which are
// then erased, must still see the next event (its number is past the erased ones), also after the
// store is reopened.
TEST(SqliteStore, NumbersFreedByAnErasureAreNeverGivenAgain) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  auto s = open_event_store(url);
  s->append({stored_event("x", "a", 1), stored_event("victim", "b", 2), stored_event("victim", "c", 3)});
  std::int64_t read_up_to = 0;
  s->scan(0, [&](const StoredEvent& e) { return (read_up_to = e.seq) > 0; });
  ASSERT_EQ(read_up_to, 3);
  EXPECT_EQ(s->delete_user("victim", 100).events, 2);
  EXPECT_EQ(s->append({stored_event("z", "d", 4)}), (std::vector<std::int64_t>{4}));
  s.reset();
  s = open_event_store(url);
  EXPECT_EQ(s->delete_user("z", 100).events, 1);
  EXPECT_EQ(s->append({stored_event("x", "e", 5)}), (std::vector<std::int64_t>{5}));
  std::vector<std::string> after;
  s->scan(read_up_to, [&](const StoredEvent& e) { return after.push_back(e.item), true; });
  EXPECT_EQ(after, (std::vector<std::string>{"e"}));
}

// A store written while the (user, ts) index was updated per insert: opening it builds the user
// index from the log and drops the old index; reads and appends go on as before.
TEST(SqliteStore, OpensAStoreWithThePerInsertUserIndex) {
  test::TempDir d;
  const auto path = d.file("old.db");
  write_old_store(path,
                  "CREATE INDEX events_user_ts ON events(user, ts, seq);"
                  "INSERT INTO events(user,item,ts,behavior,value,domain) VALUES ('u1','a',5,'view',1,''), "
                  "('u2','b',3,'view',1,''), ('u1','c',1,'view',1,'');");
  auto s = open_event_store("sqlite://" + path);
  EXPECT_EQ(test::sql_count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events_user_ts'"), 0);
  EXPECT_EQ(test::sql_count(path, "SELECT count(*) FROM user_index"), 3);
  EXPECT_EQ(s->append({stored_event("u1", "d", 9)}), (std::vector<std::int64_t>{4}));
  std::vector<std::string> items;
  for (const auto& e : s->user_events("u1")) items.push_back(e.item);
  EXPECT_EQ(items, (std::vector<std::string>{"c", "a", "d"}));
  EXPECT_EQ(s->user_events("u2").size(), 1u);
}

TEST(EventStoreRegistry, RejectsUnknownSchemesAndBadPaths) {
  EXPECT_THROW(open_event_store("redis://x"), InvalidInput);
  EXPECT_THROW(open_event_store("sqlite://"), InvalidInput);
  EXPECT_THROW(open_event_store("sqlite:///nonexistent-dir/x/events.db"), IoError);
}
