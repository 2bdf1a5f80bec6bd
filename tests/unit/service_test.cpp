// The serving core: durable ingest, live interest updates, cold start, reload.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"
#include "test_util.h"

using namespace driftrec;

namespace {
struct World {
  test::TempDir dir;
  data::Dataset ds;
  std::string knn_dir, ials_dir;
  World() {
    data::SynthOptions so;
    so.users = 200;
    so.items = 150;
    so.categories = 6;
    ds = data::to_dataset(data::generate_synthetic(so));
    auto knn = models::create_model("itemknn", {{"decay", "position"}, {"half_life", 1.0}, {"window", 3}});
    knn->fit(ds, {});
    knn_dir = dir.file("knn");
    models::save_model_dir(knn_dir, *knn, ds);
    auto ials = models::create_model("ials", {{"factors", 8}, {"iterations", 3}});
    ials->fit(ds, {});
    ials_dir = dir.file("ials");
    models::save_model_dir(ials_dir, *ials, ds);
  }
};
const World& world() {
  static World w;
  return w;
}
serve::IncomingEvent ev(const std::string& u, const std::string& i, std::int64_t ts) {
  serve::IncomingEvent e;
  e.user = u;
  e.item = i;
  e.ts = ts;
  e.behavior = "view";
  return e;
}
}  // namespace

TEST(Service, AcknowledgedEventChangesTheVeryNextRecommendation) {
  test::TempDir d;
  serve::Service svc(world().knn_dir, store::open_event_store("sqlite://" + d.file("e.db")));
  // A new user: cold start from recent popularity (the store is empty, so all scores tie at 0).
  auto r0 = svc.recommend_user("newbie", {});
  EXPECT_TRUE(r0.cold_start);
  svc.ingest({ev("newbie", "i5", 100)});
  auto r1 = svc.recommend_user("newbie", {});
  EXPECT_FALSE(r1.cold_start);
  EXPECT_EQ(r1.history_length, 1u);
  svc.ingest({ev("newbie", "i9", 101), ev("newbie", "i17", 102)});
  serve::RecommendRequest req;
  req.explain = true;
  auto r2 = svc.recommend_user("newbie", req);
  EXPECT_EQ(r2.history_length, 3u);
  EXPECT_NE(r1.items.front().item, r2.items.front().item);
  ASSERT_TRUE(r2.explained);
  EXPECT_FALSE(r2.items.front().because.empty());
  for (const auto& r : r2.items) EXPECT_TRUE(r.item != "i5" && r.item != "i9" && r.item != "i17");
}

TEST(Service, StatesAreRebuiltFromTheStoreAfterRestart) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  std::vector<std::string> before;
  {
    serve::Service svc(world().ials_dir, store::open_event_store(url));
    svc.ingest({ev("u1", "i3", 1), ev("u1", "i4", 2), ev("u1", "nosuchitem", 3)});
    for (const auto& r : svc.recommend_user("u1", {}).items) before.push_back(r.item);
  }
  serve::Service again(world().ials_dir, store::open_event_store(url));
  std::vector<std::string> after;
  const auto r = again.recommend_user("u1", {});
  for (const auto& x : r.items) after.push_back(x.item);
  EXPECT_EQ(before, after);
  EXPECT_EQ(r.history_length, 2u);  // the unknown item is stored but not usable
  EXPECT_EQ(again.store().count(), 3);
}

TEST(Service, UnknownItemsAreStoredAndCounted) {
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  const auto res = svc.ingest({ev("u", "never-seen", 1), ev("u", "i1", 2)});
  EXPECT_EQ(res.accepted, 2u);
  EXPECT_EQ(res.unknown_items, 1u);
  EXPECT_EQ(svc.stats().unknown_item_events, 1);
  EXPECT_EQ(svc.store().user_events("u").size(), 2u);
}

TEST(Service, BadEventsAreRejectedBeforeAnythingIsStored) {
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  try {
    svc.ingest({ev("u", "i1", 1), ev("", "i2", 2)});
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("events[1].user"), std::string::npos);
  }
  EXPECT_EQ(svc.store().count(), 0);
  EXPECT_THROW(svc.ingest({}), InvalidInput);
}

TEST(Service, ConcurrentIngestForOneUserAppliesEveryEventOnce) {
  serve::Service svc(world().ials_dir, store::open_event_store("memory://"));
  svc.recommend_user("hot", {});  // cache the (empty) state first
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int k = 0; k < 10; ++k) svc.ingest({ev("hot", "i" + std::to_string(1 + (t * 10 + k) % 100), t * 100 + k)});
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(svc.recommend_user("hot", {}).history_length, 40u);
}

TEST(Service, AnonymousInterestsSimilarAndReload) {
  test::TempDir d;
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  const auto anon = svc.recommend_history({ev("", "i1", 0), ev("", "i2", 1)}, {});
  EXPECT_EQ(anon.items.size(), 10u);
  EXPECT_FALSE(anon.cold_start);
  svc.ingest({ev("u", "i1", 1), ev("u", "i2", 2), ev("u", "i3", 3), ev("u", "i4", 4)});
  const auto j = svc.interests("u");
  EXPECT_EQ(j["events"], 4);
  EXPECT_GE(j["drift"].get<double>(), 0.0);
  EXPECT_LE(j["drift"].get<double>(), 1.0);
  EXPECT_FALSE(j["now"].empty());
  EXPECT_EQ(svc.similar("i1", 5).size(), 5u);
  EXPECT_THROW(svc.similar("zzz", 5), NotFound);
  // A broken directory is refused and the old model keeps serving.
  EXPECT_THROW(svc.reload(d.file("missing")), NotFound);
  EXPECT_EQ(svc.stats().model_version, 1);
  EXPECT_EQ(svc.stats().reloads_failed, 1);
  svc.reload(world().ials_dir);
  EXPECT_EQ(svc.stats().model_version, 2);
  EXPECT_EQ(svc.stats().model_name, "ials");
  EXPECT_EQ(svc.recommend_user("u", {}).history_length, 4u);  // rebuilt from the store
}

TEST(Service, RequestsDuringReloadsNeverFail) {
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  svc.ingest({ev("r", "i1", 1), ev("r", "i2", 2)});
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      while (!stop) {
        try {
          const auto r = svc.recommend_user("r", {});
          if (r.items.size() == 10u) ++served;
          else ++failed;
        } catch (...) {
          ++failed;
        }
      }
    });
  for (int k = 0; k < 6; ++k) {
    const int before = served;  // let requests run between swaps
    for (int spin = 0; spin < 2000 && served < before + 3; ++spin) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    svc.reload(k % 2 ? world().knn_dir : world().ials_dir);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GE(served, 18);
  EXPECT_EQ(svc.stats().model_version, 7);
}
