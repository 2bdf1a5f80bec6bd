// Replicated serving: two servers on one store (SQLite file, or the CTest-started PostgreSQL) —
// an event stored through one changes the user's next recommendation on the other once it has
// followed the log, own events are not applied twice, and a deletion on one replica drops the
// user's cached state on the other.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"
#include "gated_store.h"
#include "postgres_db.h"
#include "test_util.h"

using namespace driftrec;

namespace {
struct Shop {
  test::TempDir dir;
  std::string model_dir;
  Shop() {
    data::SynthOptions so;
    so.users = 150;
    so.items = 120;
    so.categories = 5;
    so.seed = 77;
    const auto ds = data::to_dataset(data::generate_synthetic(so));
    auto m = models::create_model("itemknn", {{"decay", "position"}, {"half_life", 1.0}, {"window", 3}});
    m->fit(ds, {});
    model_dir = dir.file("knn");
    models::save_model_dir(model_dir, *m, ds);
  }
};
const Shop& shop() {
  static Shop s;
  return s;
}

serve::IncomingEvent view(const std::string& user, const std::string& item, std::int64_t ts) {
  serve::IncomingEvent e;
  e.user = user;
  e.item = item;
  e.ts = ts;
  e.behavior = "view";
  return e;
}

std::vector<std::string> top(serve::Service& s, const std::string& user) {
  std::vector<std::string> out;
  for (const auto& r : s.recommend_user(user, {}).items) out.push_back(r.item);
  return out;
}

class ServiceReplica : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && !pg_.available())
      GTEST_SKIP() << "no test PostgreSQL: the CTest entry store.postgresql runs this";
    url_ = GetParam() == "postgresql" ? pg_.url() : "sqlite://" + dir_.file("events.db");
  }
  std::unique_ptr<serve::Service> replica(int follow_ms = 0) {
    serve::ServiceOptions o;
    o.replica = true;
    o.follow_ms = follow_ms;
    return std::make_unique<serve::Service>(shop().model_dir, store::open_event_store(url_), o);
  }
  test::TempDir dir_;
  test::PostgresDatabase pg_;
  std::string url_;
};
}  // namespace

TEST_P(ServiceReplica, AnEventStoredThroughOneReplicaChangesTheOtherOnesNextRecommendation) {
  auto a = replica(), b = replica();
  a->ingest({view("u1", "i3", 1), view("u1", "i4", 2)});
  const auto before = top(*b, "u1");  // b builds u1 from the store: both events
  EXPECT_EQ(before, top(*a, "u1"));
  a->ingest({view("u1", "i60", 3), view("u1", "i61", 4), view("u1", "i62", 5)});
  const auto on_a = top(*a, "u1");
  ASSERT_NE(on_a, before);
  EXPECT_EQ(top(*b, "u1"), before);  // b's cached state has not seen them yet
  EXPECT_EQ(b->follow(), 5u);        // every event a stored since b started (u1's state already had the first two)
  EXPECT_EQ(top(*b, "u1"), on_a);
  EXPECT_EQ(b->recommend_user("u1", {}).history_length, 5u);
  EXPECT_EQ(a->follow(), 0u);  // a's own events are not applied twice
  EXPECT_EQ(a->recommend_user("u1", {}).history_length, 5u);
  EXPECT_EQ(b->stats().events_replicated, 5);
  EXPECT_EQ(b->stats().follow_watermark, 5);
  // A deletion on a: b drops its cached state on the next follow, and serves u1 as a new user.
  a->delete_user("u1");
  b->follow();
  const auto after = b->recommend_user("u1", {});
  EXPECT_TRUE(after.cold_start);
  EXPECT_EQ(after.history_length, 0u);
  EXPECT_THROW(serve::Service(shop().model_dir, store::open_event_store("memory://")).follow(), NotSupported);
}

TEST_P(ServiceReplica, TheFollowerThreadPicksUpAnotherReplicasEventsByItself) {
  auto a = replica(), b = replica(20);
  a->ingest({view("u2", "i3", 1)});
  const auto before = top(*b, "u2");
  const auto t0 = std::chrono::steady_clock::now();
  a->ingest({view("u2", "i70", 2), view("u2", "i71", 3)});
  const auto want = top(*a, "u2");
  ASSERT_NE(want, before);
  while (top(*b, "u2") != want && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(top(*b, "u2"), want);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("freshness_ms", std::to_string(ms));
}

INSTANTIATE_TEST_SUITE_P(Stores, ServiceReplica, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// follow() scans without blocking appends; an own row it finds committed but not yet recorded (its
// append has not returned) makes it wait for the record instead of applying the row as another
// replica's.
TEST(ServiceReplicaFollow, WaitsForAnOwnAppendThatCommittedDuringItsScanAndDoesNotApplyItTwice) {
  auto gate = std::make_shared<test::Gate>();
  serve::ServiceOptions o;
  o.replica = true;
  o.follow_ms = 0;
  serve::Service a(shop().model_dir, std::make_unique<test::GatedStore>(gate), o);
  gate->after_write = true;
  gate->hold();
  auto ingested = std::async(std::launch::async, [&] { return a.ingest({view("u1", "i3", 1)}); });
  gate->wait_inside();  // the row is in the store; its append has not returned
  auto followed = std::async(std::launch::async, [&] { return a.follow(); });
  EXPECT_EQ(followed.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  gate->release();
  EXPECT_EQ(followed.get(), 0u);
  EXPECT_EQ(ingested.get().accepted, 1u);
  EXPECT_EQ(a.stats().events_replicated, 0);
  EXPECT_EQ(a.recommend_user("u1", {}).history_length, 1u);
}

// A replica reads back only what the others wrote: its own appends are skipped by seq, not read
// and dropped (one replica alone reads nothing).
TEST(ServiceReplicaFollow, ReadsOnlyTheOtherReplicasStretchesOfTheLog) {
  std::shared_ptr<store::EventStore> log = store::open_event_store("memory://");
  auto gate_a = std::make_shared<test::Gate>(), gate_b = std::make_shared<test::Gate>();
  serve::ServiceOptions o;
  o.replica = true;
  o.follow_ms = 0;
  serve::Service a(shop().model_dir, std::make_unique<test::GatedStore>(gate_a, log), o);
  serve::Service b(shop().model_dir, std::make_unique<test::GatedStore>(gate_b, log), o);
  const auto events = [](const std::string& user, int n, int ts) {
    std::vector<serve::IncomingEvent> out;
    for (int i = 0; i < n; ++i) out.push_back(view(user, "i" + std::to_string(1 + (ts + i) % 100), ts + i));
    return out;
  };
  a.ingest(events("u1", 20, 0));
  b.ingest(events("u2", 5, 100));
  a.ingest(events("u1", 20, 200));
  b.ingest(events("u2", 5, 300));
  EXPECT_EQ(a.follow(), 10u);
  EXPECT_EQ(gate_a->rows_scanned, 10u);
  EXPECT_EQ(a.stats().follow_watermark, 50);
  EXPECT_EQ(b.follow(), 40u);
  EXPECT_EQ(gate_b->rows_scanned, 40u);
  a.ingest(events("u1", 30, 400));
  EXPECT_EQ(a.follow(), 0u);
  EXPECT_EQ(gate_a->rows_scanned, 10u);
  EXPECT_EQ(a.stats().follow_watermark, 80);
  EXPECT_EQ(b.follow(), 30u);
  EXPECT_EQ(a.recommend_user("u2", {}).history_length, 10u);
  EXPECT_EQ(b.recommend_user("u1", {}).history_length, 70u);
}
