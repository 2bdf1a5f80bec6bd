// Data rights in the event stores: deletion with tombstones, retention purges, export, pseudonymised
// ids, and that erased rows cannot be read back from the SQLite files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../../src/store/store_registry.h"
#include "driftrec/core/error.h"
#include "driftrec/store/event_store.h"
#include "driftrec/store/pseudonymized_store.h"
#include "postgres_db.h"
#include "sqlite_count.h"
#include "test_util.h"

using namespace driftrec;
using namespace driftrec::store;

namespace {
const std::string kKey = "0123456789abcdef0123456789abcdef";

class DataRights : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && !pg_.available())
      GTEST_SKIP() << "no test PostgreSQL (DRIFTREC_TEST_POSTGRES): the CTest entry store.postgresql runs this";
  }
  std::unique_ptr<EventStore> open() {
    const std::string b = GetParam();
    if (b == "memory") return open_event_store("memory://");
    if (b == "postgresql") return open_event_store(pg_.url());
    // sqlite_merging: the user index merged after every commit (two events may wait).
    auto s = b == "sqlite_merging" ? open_sqlite_store(dir_.file("events.db"), SqliteOptions{2})
                                   : open_event_store("sqlite://" + dir_.file("events.db"));
    return b == "pseudonymized" ? pseudonymize(std::move(s), kKey) : std::move(s);
  }
  test::TempDir dir_;
  test::PostgresDatabase pg_;
};

StoredEvent rights_event(const std::string& u, const std::string& i, std::int64_t ts) {
  StoredEvent e;
  e.user = u;
  e.item = i;
  e.ts = ts;
  e.behavior = "view";
  return e;
}

StoredFeedback fb(const std::string& u, const std::string& i, std::int64_t ts) {
  StoredFeedback f;
  f.request_id = "r-" + i + "-" + std::to_string(ts);
  f.user = u;
  f.item = i;
  f.clicked = true;
  f.ts = ts;
  return f;
}

std::vector<StoredEvent> all(const EventStore& s) {
  std::vector<StoredEvent> out;
  s.scan(0, [&](const StoredEvent& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

std::size_t feedback_rows(const EventStore& s) {
  std::size_t n = 0;
  s.scan_feedback([&](const StoredFeedback&) { return ++n > 0; });
  return n;
}

/// Every byte of the files in `dir` (the database, its WAL and shared-memory index).
std::string bytes_of(const std::filesystem::path& dir) {
  std::string out;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path(), std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}
}  // namespace

TEST_P(DataRights, DeleteUserErasesEverythingAndLeavesATombstone) {
  auto s = open();
  s->append({rights_event("alice", "a", 10), rights_event("bob", "b", 11), rights_event("alice", "c", 12)});
  s->append_feedback({fb("alice", "d", 13), fb("bob", "e", 13)}, {rights_event("alice", "d", 13)});
  ASSERT_EQ(s->user_feedback("alice").size(), 1u);
  EXPECT_FALSE(s->deleted_at("alice"));

  const auto erased = s->delete_user("alice", 100);
  EXPECT_EQ(erased.events, 3);
  EXPECT_EQ(erased.feedback, 1);
  EXPECT_TRUE(s->user_events("alice").empty());
  EXPECT_TRUE(s->user_feedback("alice").empty());
  EXPECT_EQ(s->count(), 1);
  EXPECT_EQ(feedback_rows(*s), 1u);
  EXPECT_EQ(s->deleted_at("alice"), std::optional<std::int64_t>(100));
  EXPECT_FALSE(s->deleted_at("bob"));
  EXPECT_EQ(s->user_events("bob").size(), 1u);

  // An old import cannot resurrect her; what she does after the deletion is stored.
  const auto seqs = s->append({rights_event("alice", "a", 10), rights_event("bob", "f", 20),
                               rights_event("alice", "new", 100), rights_event("alice", "g", 101)});
  EXPECT_EQ(seqs[0], 0);
  EXPECT_GT(seqs[1], 0);
  EXPECT_EQ(seqs[2], 0);  // stamped at the deletion second: before it
  EXPECT_GT(seqs[3], seqs[1]);
  const auto h = s->user_events("alice");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].item, "g");
  s->append_feedback({fb("alice", "old", 50), fb("alice", "later", 150)}, {});
  ASSERT_EQ(s->user_feedback("alice").size(), 1u);
  EXPECT_EQ(s->user_feedback("alice")[0].item, "later");

  // Deleting again erases the new rows and moves the tombstone; an earlier time never moves it back.
  EXPECT_EQ(s->delete_user("alice", 200).events, 1);
  EXPECT_EQ(s->delete_user("alice", 150).events, 0);
  EXPECT_EQ(s->deleted_at("alice"), std::optional<std::int64_t>(200));
  // A user never seen: nothing erased, but the tombstone still guards against a later import.
  EXPECT_EQ(s->delete_user("carol", 300).events, 0);
  EXPECT_EQ(s->append({rights_event("carol", "x", 5)}), (std::vector<std::int64_t>{0}));
}

TEST_P(DataRights, PurgeBeforeErasesOldEventsAndFeedback) {
  auto s = open();
  s->append({rights_event("u", "a", 5), rights_event("u", "b", 10), rights_event("v", "c", 15)});
  s->append_feedback({fb("u", "a", 5), fb("v", "c", 15)}, {});
  const auto erased = s->purge_before(10);
  EXPECT_EQ(erased.events, 1);
  EXPECT_EQ(erased.feedback, 1);
  const auto rest = all(*s);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].item, "b");
  EXPECT_EQ(s->user_events("u").size(), 1u);
  EXPECT_EQ(feedback_rows(*s), 1u);
  // Sequence numbers keep increasing after an erasure.
  EXPECT_GT(s->append({rights_event("u", "d", 20)})[0], rest.back().seq);
}

TEST_P(DataRights, ExportReturnsTheUsersRowsUnderTheirId) {
  auto s = open();
  s->append({rights_event("alice", "a", 10), rights_event("bob", "b", 11)});
  s->append_feedback({fb("alice", "d", 13)}, {});
  const auto events = s->user_events("alice");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].user, "alice");
  const auto f = s->user_feedback("alice");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].user, "alice");
  EXPECT_EQ(f[0].item, "d");
}

INSTANTIATE_TEST_SUITE_P(Backends, DataRights,
                         ::testing::Values("memory", "sqlite", "sqlite_merging", "pseudonymized", "postgresql"),
                         [](const auto& info) { return info.param; });

// Twice: with the events waiting unindexed, and with their user index entries merged (which hold
// the user id too).
class ErasedRows : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ErasedRows, AreNotInTheDatabaseFiles) {
  test::TempDir d;
  auto s = open_sqlite_store(d.file("events.db"), SqliteOptions{GetParam()});
  std::vector<StoredEvent> batch;
  for (int i = 0; i < 2000; ++i) {  // enough rows to span many pages, interleaved with others
    batch.push_back(rights_event("alice-7f3a9", "item-of-alice-" + std::to_string(i), i));
    batch.push_back(rights_event("bob", "item-of-bob-" + std::to_string(i), i));
    if (batch.size() >= 200) {
      s->append(batch);
      batch.clear();
    }
  }
  s->append_feedback({fb("alice-7f3a9", "item-of-alice-1", 5)}, {});
  ASSERT_NE(bytes_of(d.path()).find("alice-7f3a9"), std::string::npos);  // the check can see them
  const auto alices_entries = "SELECT count(*) FROM user_index WHERE user = 'alice-7f3a9'";
  EXPECT_EQ(test::sql_count(d.file("events.db"), alices_entries) > 0, GetParam() < 1000);
  s->delete_user("alice-7f3a9", 5000);
  EXPECT_EQ(test::sql_count(d.file("events.db"), alices_entries), 0);
  const auto b = bytes_of(d.path());
  EXPECT_EQ(b.find("alice-7f3a9"), std::string::npos);
  EXPECT_EQ(b.find("item-of-alice-"), std::string::npos);
  EXPECT_NE(b.find("item-of-bob-1999"), std::string::npos);
  EXPECT_EQ(std::filesystem::file_size(d.file("events.db-wal")), 0u);

  s->purge_before(1000);  // retention: old rows of bob leave no trace either
  const auto after = bytes_of(d.path());
  EXPECT_EQ(after.find("item-of-bob-999\0"), std::string::npos);
  EXPECT_EQ(after.find("item-of-bob-5"), std::string::npos);
  EXPECT_NE(after.find("item-of-bob-1000"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(DataRightsSqlite, ErasedRows, ::testing::Values(std::size_t{65536}, std::size_t{16}),
                         [](const auto& info) { return info.param > 1000 ? "Unindexed" : "Indexed"; });

TEST(DataRightsSqlite, TombstonesSurviveRestartsAndOtherConnections) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("events.db");
  auto server = open_event_store(url);
  server->append({rights_event("alice", "a", 10)});
  {
    auto cli = open_event_store(url);  // e.g. `driftrec store delete-user` beside a running server
    EXPECT_EQ(cli->delete_user("alice", 100).events, 1);
  }
  EXPECT_EQ(server->append({rights_event("alice", "a", 10)}), (std::vector<std::int64_t>{0}));
  server.reset();
  auto reopened = open_event_store(url);
  EXPECT_EQ(reopened->deleted_at("alice"), std::optional<std::int64_t>(100));
  EXPECT_EQ(reopened->append({rights_event("alice", "a", 10)}), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(reopened->count(), 0);
}

TEST(DataRightsSqlite, PseudonymisedStoreHoldsNoUserIds) {
  test::TempDir d;
  auto s = pseudonymize(open_event_store("sqlite://" + d.file("events.db")), kKey);
  s->append({rights_event("alice@example.org", "a", 10), rights_event("bob@example.org", "b", 11)});
  s->append_feedback({fb("alice@example.org", "a", 12)}, {});
  EXPECT_EQ(s->user_events("alice@example.org").size(), 1u);
  const auto raw = all(*s);
  ASSERT_EQ(raw.size(), 2u);
  EXPECT_EQ(raw[0].user, pseudonym(kKey, "alice@example.org"));
  EXPECT_EQ(raw[0].user.size(), 64u);
  EXPECT_NE(pseudonym(kKey, "alice@example.org"), pseudonym(kKey + "x", "alice@example.org"));
  s.reset();
  const auto b = bytes_of(d.path());
  EXPECT_EQ(b.find("@example.org"), std::string::npos);
  // The same key reads it back; a plain store sees only pseudonyms.
  auto again = pseudonymize(open_event_store("sqlite://" + d.file("events.db")), kKey);
  EXPECT_EQ(again->user_events("bob@example.org").size(), 1u);
  EXPECT_TRUE(open_event_store("sqlite://" + d.file("events.db"))->user_events("bob@example.org").empty());
}

TEST(DataRightsSqlite, PseudonymKeysAreChecked) {
  test::TempDir d;
  EXPECT_THROW(pseudonymize(open_event_store("memory://"), "short"), InvalidInput);
  EXPECT_THROW(read_pseudonym_key(d.file("missing")), IoError);
  EXPECT_THROW(read_pseudonym_key(d.write("short.key", "abc\n")), InvalidInput);
  EXPECT_EQ(read_pseudonym_key(d.write("k.key", kKey + "\n")), kKey);
}
