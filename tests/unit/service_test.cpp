// The serving core: durable ingest, live interest updates, cold start, reload.
#include "driftrec/serve/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/data/transforms.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/feedback_log.h"
#include "driftrec/store/pseudonymized_store.h"
#include "serve_stress.h"
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
serve::IncomingEvent incoming(const std::string& u, const std::string& i, std::int64_t ts) {
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
  svc.ingest({incoming("newbie", "i5", 100)});
  auto r1 = svc.recommend_user("newbie", {});
  EXPECT_FALSE(r1.cold_start);
  EXPECT_EQ(r1.history_length, 1u);
  svc.ingest({incoming("newbie", "i9", 101), incoming("newbie", "i17", 102)});
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
    svc.ingest({incoming("u1", "i3", 1), incoming("u1", "i4", 2), incoming("u1", "nosuchitem", 3)});
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
  const auto res = svc.ingest({incoming("u", "never-seen", 1), incoming("u", "i1", 2)});
  EXPECT_EQ(res.accepted, 2u);
  EXPECT_EQ(res.unknown_items, 1u);
  EXPECT_EQ(svc.stats().unknown_item_events, 1);
  EXPECT_EQ(svc.store().user_events("u").size(), 2u);
}

TEST(Service, BadEventsAreRejectedBeforeAnythingIsStored) {
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  try {
    svc.ingest({incoming("u", "i1", 1), incoming("", "i2", 2)});
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
      for (int k = 0; k < 10; ++k)
        svc.ingest({incoming("hot", "i" + std::to_string(1 + (t * 10 + k) % 100), t * 100 + k)});
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(svc.recommend_user("hot", {}).history_length, 40u);
}

TEST(Service, AnonymousInterestsSimilarAndReload) {
  test::TempDir d;
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"));
  const auto anon = svc.recommend_history({incoming("", "i1", 0), incoming("", "i2", 1)}, {});
  EXPECT_EQ(anon.items.size(), 10u);
  EXPECT_FALSE(anon.cold_start);
  svc.ingest({incoming("u", "i1", 1), incoming("u", "i2", 2), incoming("u", "i3", 3), incoming("u", "i4", 4)});
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
  svc.ingest({incoming("r", "i1", 1), incoming("r", "i2", 2)});
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failed{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      while (!stop) {
        try {
          const auto r = svc.recommend_user("r", {});
          if (r.items.size() == 10u)
            ++served;
          else
            ++failed;
        } catch (...) {
          ++failed;
        }
      }
    });
  for (int k = 0; k < 6; ++k) {
    const int before = served;  // let requests run between swaps
    for (int spin = 0; spin < 2000 && served < before + 3; ++spin)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    svc.reload(k % 2 ? world().knn_dir : world().ials_dir);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_GE(served, 18);
  EXPECT_EQ(svc.stats().model_version, 7);
}

// Serving the loop: request ids, policies with propensities, durable feedback.
TEST(ServiceFeedback, RecommendationsCarryARequestIdAndPropensities) {
  serve::Service svc(world().ials_dir, store::open_event_store("memory://"));
  svc.ingest({incoming("u1", "i5", 100), incoming("u1", "i7", 101)});
  const auto g = svc.recommend_user("u1", {});
  EXPECT_FALSE(g.request_id.empty());
  EXPECT_EQ(g.policy, "greedy");
  for (const auto& r : g.items) EXPECT_EQ(r.propensity, 1.0);
  EXPECT_NE(svc.recommend_user("u1", {}).request_id, g.request_id);
  // epsilon = 1: a uniformly random slate from the 20 best candidates, each 1/20 at its position.
  serve::RecommendRequest rr;
  rr.k = 5;
  rr.policy = "epsilon-greedy:epsilon=1,candidates=20";
  const auto e = svc.recommend_user("u1", rr);
  ASSERT_EQ(e.items.size(), 5u);
  EXPECT_EQ(e.policy, rr.policy);
  for (const auto& r : e.items) EXPECT_DOUBLE_EQ(r.propensity, 1.0 / 20);
  // Seen items are never shown, exploring or not.
  for (const auto& r : e.items) EXPECT_TRUE(r.item != "i5" && r.item != "i7");
  rr.policy = "boltzmann:temperature=0.5";
  const auto b = svc.recommend_user("u1", rr);
  ASSERT_EQ(b.items.size(), 5u);
  for (const auto& r : b.items) EXPECT_TRUE(r.propensity > 0 && r.propensity <= 1);
  rr.policy = "linucb";  // a learning policy: deterministic, propensity 1
  const auto l = svc.recommend_user("u1", rr);
  ASSERT_EQ(l.items.size(), 5u);
  for (const auto& r : l.items) EXPECT_EQ(r.propensity, 1.0);
  rr.policy = "boltzmann:temperature=hot";
  EXPECT_THROW(svc.recommend_user("u1", rr), InvalidInput);
}

// A learning policy learns from the feedback on its own slates: at first (alpha 0) linucb's slate is
// the model's top k; after every user skipped its first item and clicked its last one, the slate
// for a new user with the same history has changed. The posterior is rebuilt from the stored
// feedback after a reload and a restart of the same model; another model starts from the prior.
TEST(ServiceFeedback, ALearningPolicyLearnsFromFeedbackOnItsSlates) {
  test::TempDir d;
  const std::string url = "sqlite://" + d.file("e.db");
  auto svc_ptr = std::make_unique<serve::Service>(world().ials_dir, store::open_event_store(url));
  auto& svc = *svc_ptr;
  auto user = [&svc](int n) {
    const auto name = "lb" + std::to_string(n);
    svc.ingest({incoming(name, "i5", 100), incoming(name, "i7", 101)});
    return name;
  };
  auto ids = [](const serve::RecommendResult& r) {
    std::vector<std::string> v;
    for (const auto& x : r.items) v.push_back(x.item);
    return v;
  };
  serve::RecommendRequest greedy, bandit;
  greedy.k = bandit.k = 5;
  bandit.policy = "linucb:alpha=0";
  const auto prior = ids(svc.recommend_user(user(0), bandit));
  EXPECT_EQ(prior, ids(svc.recommend_user(user(0), greedy)));
  for (int n = 1; n <= 30; ++n) {
    const auto r = svc.recommend_user(user(n), bandit);
    ASSERT_EQ(r.items.size(), 5u);
    for (std::size_t j = 0; j < 5; ++j) {
      serve::IncomingFeedback f;
      f.request_id = r.request_id;
      f.position = j;
      f.clicked = j == 4;
      svc.feedback(f);
    }
  }
  const auto learned = ids(svc.recommend_user(user(31), bandit));
  EXPECT_NE(learned, prior);
  EXPECT_NE(learned.front(), prior.front());
  EXPECT_EQ(ids(svc.recommend_user(user(32), greedy)), prior);  // the model itself is unchanged
  // The stored rows carry the features and the model's identity.
  std::size_t with_features = 0;
  svc.store().scan_feedback([&](const store::StoredFeedback& f) {
    with_features += !f.features.empty() && !f.model.empty();
    return true;
  });
  EXPECT_EQ(with_features, 150u);
  // A reload of the same model rebuilds the posterior from the store: the same slate.
  svc.reload();
  EXPECT_EQ(ids(svc.recommend_user(user(33), bandit)), learned);
  // So does a restart on the same store.
  svc_ptr.reset();
  serve::Service restarted(world().ials_dir, store::open_event_store(url));
  auto again = [&restarted](int n) {
    const auto name = "lb" + std::to_string(n);
    restarted.ingest({incoming(name, "i5", 100), incoming(name, "i7", 101)});
    return name;
  };
  EXPECT_EQ(ids(restarted.recommend_user(again(34), bandit)), learned);
  EXPECT_EQ(ids(restarted.recommend_user(again(35), greedy)), prior);
  // Another model (its features are other embeddings): the prior, the model's own top k.
  auto other = models::create_model("ials", {{"factors", 8}, {"iterations", 4}});
  other->fit(world().ds, {});
  models::save_model_dir(d.file("ials2"), *other, world().ds);
  restarted.reload(d.file("ials2"));
  EXPECT_EQ(ids(restarted.recommend_user(again(36), bandit)), ids(restarted.recommend_user(again(37), greedy)));
}

// Requests and feedback of the learning policies from several threads at once (choose() and learn()
// race on one posterior, behind a reader-writer lock): no request or feedback fails.
TEST(ServiceFeedback, ALearningPolicyServesAndLearnsConcurrently) {
  serve::Service svc(world().ials_dir, store::open_event_store("memory://"));
  for (int u = 0; u < 8; ++u)
    svc.ingest({incoming("c" + std::to_string(u), "i5", 100), incoming("c" + std::to_string(u), "i7", 101)});
  std::atomic<int> failed{0}, fed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t)
    pool.emplace_back([&, t] {
      serve::RecommendRequest rr;
      rr.k = 5;
      rr.policy = t % 2 ? "lints:samples=20" : "linucb";
      for (int i = 0; i < 40; ++i) {
        try {
          const auto r = svc.recommend_user("c" + std::to_string((t * 40 + i) % 8), rr);
          serve::IncomingFeedback f;
          f.request_id = r.request_id;
          f.position = static_cast<std::size_t>(i % 5);
          f.clicked = i % 3 == 0;
          svc.feedback(f);
          ++fed;
        } catch (...) {
          ++failed;
        }
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(fed, 160);
}

TEST(ServiceFeedback, AClickIsStoredDurablyAndUpdatesTheUser) {
  test::TempDir d;
  const std::string url = "sqlite://" + d.file("e.db");
  std::string clicked;
  {
    serve::Service svc(world().knn_dir, store::open_event_store(url));
    svc.ingest({incoming("u2", "i5", 100)});
    const auto r = svc.recommend_user("u2", {});
    ASSERT_GE(r.items.size(), 3u);
    serve::IncomingFeedback f;
    f.request_id = r.request_id;
    f.position = 2;
    f.clicked = true;
    f.dwell = 3.5;
    f.ts = 200;
    const auto res = svc.feedback(f);
    clicked = r.items[2].item;
    EXPECT_EQ(res.item, clicked);
    EXPECT_GT(res.event_seq, 0);
    // The click is now part of the user's history: it is excluded from the next slate.
    const auto next = svc.recommend_user("u2", {});
    EXPECT_EQ(next.history_length, 2u);
    for (const auto& x : next.items) EXPECT_NE(x.item, clicked);
    // A skip is recorded too, without an event.
    f.position = 0;
    f.clicked = false;
    EXPECT_EQ(svc.feedback(f).event_seq, 0);
  }
  // After the process is gone: both rows and the click event are in the store.
  const auto s = store::open_event_store(url);
  std::vector<store::StoredFeedback> rows;
  s->scan_feedback([&](const store::StoredFeedback& x) {
    rows.push_back(x);
    return true;
  });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].item, clicked);
  EXPECT_EQ(rows[0].position, 2);
  EXPECT_TRUE(rows[0].clicked);
  EXPECT_EQ(rows[0].user, "u2");
  EXPECT_EQ(rows[0].policy, "greedy");
  EXPECT_DOUBLE_EQ(rows[0].dwell, 3.5);
  EXPECT_FALSE(rows[1].clicked);
  EXPECT_EQ(s->user_events("u2").back().behavior, "click");
}

TEST(ServiceFeedback, RefusesUnknownExpiredOutOfRangeAndDuplicateFeedback) {
  serve::ServiceOptions o;
  serve::Service svc(world().knn_dir, store::open_event_store("memory://"), o);
  svc.ingest({incoming("u3", "i5", 100)});
  const auto r = svc.recommend_user("u3", {});
  serve::IncomingFeedback f;
  f.request_id = r.request_id;
  f.position = 0;
  f.clicked = true;
  auto reason = [&](const serve::IncomingFeedback& x) {
    try {
      svc.feedback(x);
    } catch (const serve::FeedbackRefused& e) {
      return static_cast<int>(e.reason);
    }
    return -1;
  };
  using R = serve::FeedbackRefused::Reason;
  EXPECT_EQ(reason(f), -1);
  EXPECT_EQ(reason(f), static_cast<int>(R::duplicate));
  auto bad = f;
  bad.position = r.items.size();
  EXPECT_EQ(reason(bad), static_cast<int>(R::bad_position));
  bad = f;
  bad.request_id = "r-never-issued";
  EXPECT_EQ(reason(bad), static_cast<int>(R::unknown_request));
  bad = f;
  bad.position = 1;
  bad.dwell = -1;
  EXPECT_THROW(svc.feedback(bad), InvalidInput);
  // A tiny time-to-live: feedback arriving later is refused as unknown.
  o.feedback_ttl_seconds = 1e-6;
  serve::Service quick(world().knn_dir, store::open_event_store("memory://"), o);
  const auto q = quick.recommend_user("u3", {});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  f.request_id = q.request_id;
  EXPECT_THROW(quick.feedback(f), serve::FeedbackRefused);
  // Capacity: the oldest slates are forgotten first.
  o.feedback_ttl_seconds = 3600;
  o.feedback_slates = 2;
  serve::Service small(world().knn_dir, store::open_event_store("memory://"), o);
  const auto first = small.recommend_user("u3", {});
  small.recommend_user("u3", {});
  small.recommend_user("u3", {});
  f.request_id = first.request_id;
  EXPECT_THROW(small.feedback(f), serve::FeedbackRefused);
}

TEST(ServiceFeedback, ExportsAsAnOpenBanditLog) {
  test::TempDir d;
  serve::Service svc(world().ials_dir, store::open_event_store("memory://"));
  svc.ingest({incoming("u4", "i5", 100)});
  serve::RecommendRequest rr;
  rr.k = 4;
  rr.policy = "epsilon-greedy:epsilon=0.5,candidates=10";
  const auto r = svc.recommend_user("u4", rr);
  for (std::size_t p = 0; p < r.items.size(); ++p) {
    serve::IncomingFeedback f;
    f.request_id = r.request_id;
    f.position = p;
    f.clicked = p == 1;
    svc.feedback(f);
  }
  const auto loaded = models::load_model_dir(world().ials_dir);
  const auto e = serve::feedback_log(svc.store(), loaded.items);
  ASSERT_EQ(e.log.size(), 4u);
  EXPECT_EQ(e.skipped_items, 0u);
  for (std::size_t p = 0; p < 4; ++p) {
    EXPECT_EQ(e.log.action[p], loaded.items.find(r.items[p].item));
    EXPECT_EQ(e.log.position[p], static_cast<std::int32_t>(p));
    EXPECT_DOUBLE_EQ(e.log.pscore[p], r.items[p].propensity);
    EXPECT_EQ(e.log.reward[p], p == 1 ? 1.0f : 0.0f);
  }
  ope::write_obd_csv(e.log, d.file("fb.csv"));
  const auto back = ope::read_obd_csv(d.file("fb.csv"), e.log.n_actions);
  EXPECT_EQ(back.pscore, e.log.pscore);
  EXPECT_EQ(back.action, e.log.action);
}

// Exploration scores the whole catalogue through BLAS on every read worker at once while a writer
// updates states (tests/unit/serve_stress.h); the LibTorch models run it in tests/nn.
TEST(ServiceFeedback, ManyConcurrentExploringCallersAndWriters) {
  const auto ds = test::stress_dataset(3000);
  test::TempDir d;
  auto ials = models::create_model("ials", {{"factors", 48}, {"iterations", 2}});
  ials->fit(ds, {});
  models::save_model_dir(d.file("m"), *ials, ds);
  test::stress_exploring_service(d.file("m"), test::item_names(ds), 16, 150);
}

namespace {
std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }
}  // namespace

TEST(ServiceDataRights, DeletedUserIsErasedAndNotResurrected) {
  test::TempDir d;
  serve::Service svc(world().knn_dir, store::open_event_store("sqlite://" + d.file("e.db")));
  const auto t = now_s() - 100;
  svc.ingest({incoming("alice", "i5", t), incoming("alice", "i9", t + 1), incoming("bob", "i7", t + 2)});
  const auto shown = svc.recommend_user("alice", {});
  EXPECT_EQ(shown.history_length, 2u);
  EXPECT_EQ(svc.export_user("alice").data.events.size(), 2u);

  const auto del = svc.delete_user("alice");
  EXPECT_EQ(del.events, 2);
  EXPECT_GE(del.deleted_at, now_s() - 1);
  EXPECT_TRUE(svc.recommend_user("alice", {}).cold_start);  // the cached state went too
  EXPECT_TRUE(svc.export_user("alice").data.empty());
  EXPECT_EQ(svc.export_user("alice").data.deleted_at, del.deleted_at);
  // Feedback on a slate shown before the deletion is refused: the slate was forgotten.
  serve::IncomingFeedback f;
  f.request_id = shown.request_id;
  f.clicked = true;
  EXPECT_THROW(svc.feedback(f), serve::FeedbackRefused);
  // Old events sent again are dropped; new activity is served from what comes next.
  const auto again = svc.ingest({incoming("alice", "i5", t), incoming("alice", "i11", del.deleted_at + 5)});
  EXPECT_EQ(again.accepted, 1u);
  EXPECT_EQ(again.deleted_users, 1u);
  EXPECT_EQ(svc.recommend_user("alice", {}).history_length, 1u);
  EXPECT_EQ(svc.recommend_user("bob", {}).history_length, 1u);
  EXPECT_THROW(svc.delete_user("nobody"), NotFound);
  EXPECT_THROW(svc.export_user("nobody"), NotFound);
  EXPECT_THROW(svc.delete_user(""), InvalidInput);
  EXPECT_EQ(svc.stats().users_deleted, 1);
}

TEST(ServiceDataRights, ATrainedUserIsNoLongerServedFromTheModelsMemory) {
  // The model was trained on this user; after deletion they are served as a new user.
  test::TempDir d;
  serve::Service svc(world().ials_dir, store::open_event_store("memory://"));
  const auto& u = world().ds.users.name(3);
  EXPECT_TRUE(svc.export_user(u).in_model);
  const auto del = svc.delete_user(u);
  EXPECT_EQ(del.events, 0);  // nothing was in the store, but the model knew them
  EXPECT_TRUE(svc.recommend_user(u, {}).cold_start);
  EXPECT_FALSE(svc.export_user(u).in_model);
  EXPECT_THROW(svc.delete_user(u), NotFound);  // nothing left to delete
}

TEST(ServiceDataRights, RetentionRefusesAndPurgesOldEvents) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  const auto now = now_s();
  {
    auto st = store::open_event_store(url);
    store::StoredEvent old;
    old.user = "carl";
    old.item = "i5";
    old.ts = now - 3 * 86400;
    st->append({old});
  }
  serve::ServiceOptions o;
  o.retention_days = 1;
  o.retention_interval_seconds = 0.05;
  serve::Service svc(world().knn_dir, store::open_event_store(url), o);
  // The schedule purges at start, on its own thread. The counter is bumped after the store erases, so wait for
  // the counter: waiting for an empty store raced with it (CI saw the store empty and the counter still 0).
  for (int i = 0; i < 500 && svc.stats().events_purged < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(svc.store().count(), 0);
  EXPECT_EQ(svc.stats().events_purged, 1);
  const auto r = svc.ingest({incoming("carl", "i5", now - 2 * 86400), incoming("carl", "i9", now - 10)});
  EXPECT_EQ(r.expired, 1u);
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(svc.recommend_user("carl", {}).history_length, 1u);
  EXPECT_EQ(svc.purge_expired().events, 0);
  serve::ServiceOptions bad;
  bad.retention_days = -1;
  EXPECT_THROW(serve::Service(world().knn_dir, store::open_event_store("memory://"), bad), InvalidInput);
}

TEST(ServiceDataRights, PseudonymisedStoreServesByUserId) {
  test::TempDir d;
  const std::string key = "k3y-for-the-test-0123456789";
  serve::Service svc(world().knn_dir, store::pseudonymize(store::open_event_store("sqlite://" + d.file("e.db")), key));
  svc.ingest({incoming("dana@example.org", "i5", now_s() - 10), incoming("dana@example.org", "i9", now_s() - 5)});
  EXPECT_EQ(svc.recommend_user("dana@example.org", {}).history_length, 2u);
  EXPECT_EQ(svc.export_user("dana@example.org").data.events.at(0).user, "dana@example.org");
  EXPECT_EQ(svc.delete_user("dana@example.org").events, 2);
  EXPECT_TRUE(svc.recommend_user("dana@example.org", {}).cold_start);
  EXPECT_TRUE(
      store::open_event_store("sqlite://" + d.file("e.db"))->deleted_at(store::pseudonym(key, "dana@example.org")));
}
