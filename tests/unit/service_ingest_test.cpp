// Ingest's commit thread: requests queued while a transaction is being written share the next one,
// each request gets its own sequence numbers back, a failed transaction fails each of its requests
// (and only those), validation errors never reach the queue, and shutdown commits what is queued.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/service.h"
#include "gated_store.h"
#include "test_util.h"

using namespace driftrec;

namespace {

const std::string& knn_model_dir() {
  static test::TempDir dir;
  static const std::string path = [] {
    data::SynthOptions so;
    so.users = 80;
    so.items = 60;
    so.categories = 4;
    const auto ds = data::to_dataset(data::generate_synthetic(so));
    auto m = models::create_model("itemknn", nlohmann::json::object());
    m->fit(ds, {});
    const auto p = dir.file("knn");
    models::save_model_dir(p, *m, ds);
    return p;
  }();
  return path;
}

serve::IncomingEvent event_of(const std::string& user, const std::string& item) {
  serve::IncomingEvent e;
  e.user = user;
  e.item = item;
  e.ts = 1000;
  return e;
}

/// One request's outcome, filled by its completion.
struct Outcome {
  std::promise<serve::IngestResult> promise;
  std::future<serve::IngestResult> future = promise.get_future();
  serve::Service::IngestDone done() {
    return [this](serve::IngestResult r, std::exception_ptr error) {
      if (error) {
        promise.set_exception(error);
      } else {
        promise.set_value(std::move(r));
      }
    };
  }
};

}  // namespace

TEST(ServiceIngest, RequestsQueuedDuringACommitShareTheNextTransaction) {
  auto gate = std::make_shared<test::Gate>();
  serve::Service svc(knn_model_dir(), std::make_unique<test::GatedStore>(gate));
  gate->hold();
  std::vector<std::unique_ptr<Outcome>> out;
  for (int i = 0; i < 6; ++i) out.push_back(std::make_unique<Outcome>());
  svc.ingest_async({event_of("a", "i1")}, out[0]->done());
  gate->wait_inside();  // the first request is being written alone; the next five queue meanwhile
  svc.ingest_async({event_of("b", "i2")}, out[1]->done());
  svc.ingest_async({event_of("c", "i3"), event_of("c", "i4")}, out[2]->done());
  for (int i = 3; i < 6; ++i)
    svc.ingest_async({event_of("d" + std::to_string(i), "i5")}, out[static_cast<std::size_t>(i)]->done());
  gate->release();
  std::vector<serve::IngestResult> res;
  for (auto& o : out) {
    ASSERT_EQ(o->future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    res.push_back(o->future.get());
  }
  EXPECT_EQ(gate->append_sizes, (std::vector<std::size_t>{1, 6}));  // two transactions, not six
  // Each request has its own sequence numbers, in the order the requests were queued.
  std::int64_t next = res[0].seqs.at(0);
  for (std::size_t i = 0; i < res.size(); ++i) {
    EXPECT_EQ(res[i].accepted, i == 2 ? 2u : 1u) << i;
    for (const auto q : res[i].seqs) EXPECT_EQ(q, next++) << i;
  }
  EXPECT_EQ(svc.store().count(), 7);
  EXPECT_EQ(svc.stats().events_ingested, 7);
  EXPECT_EQ(svc.recommend_user("c", {}).history_length, 2u);
}

TEST(ServiceIngest, AFailedTransactionFailsEachOfItsRequestsAndOnlyThose) {
  auto gate = std::make_shared<test::Gate>();
  serve::Service svc(knn_model_dir(), std::make_unique<test::GatedStore>(gate));
  gate->hold();
  Outcome first, second, third;
  svc.ingest_async({event_of("a", "i1")}, first.done());
  gate->wait_inside();
  svc.ingest_async({event_of("b", "i2")}, second.done());
  svc.ingest_async({event_of("c", "i3")}, third.done());
  gate->failing = true;  // both transactions fail: the first, then the group of the other two
  gate->release();
  for (auto* o : {&first, &second, &third}) EXPECT_THROW(o->future.get(), store::StorageUnavailable);
  EXPECT_FALSE(svc.stats().storage_ok);
  gate->failing = false;
  const auto r = svc.ingest({event_of("d", "i4")});  // the store is back: the next request commits
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_TRUE(svc.stats().storage_ok);
  EXPECT_EQ(svc.store().count(), 1);
  EXPECT_EQ(svc.stats().events_ingested, 1);
}

TEST(ServiceIngest, InvalidEventsThrowAndAreNeverQueued) {
  auto gate = std::make_shared<test::Gate>();
  serve::Service svc(knn_model_dir(), std::make_unique<test::GatedStore>(gate));
  std::atomic<int> calls{0};
  auto bad = event_of("u", "i1");
  bad.value = std::numeric_limits<float>::quiet_NaN();
  try {
    svc.ingest_async({event_of("u", "i1"), bad}, [&](serve::IngestResult, std::exception_ptr) { ++calls; });
    FAIL() << "a NaN value was queued";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("events[1].value"), std::string::npos) << e.what();
  }
  EXPECT_THROW(svc.ingest_async({}, [&](serve::IngestResult, std::exception_ptr) { ++calls; }), InvalidInput);
  svc.ingest({event_of("u", "i2")});  // the queue moved on: anything queued before is done
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(gate->append_sizes, (std::vector<std::size_t>{1}));
}

TEST(ServiceIngest, ShutdownCommitsWhatIsQueuedFirst) {
  auto gate = std::make_shared<test::Gate>();
  auto svc = std::make_unique<serve::Service>(knn_model_dir(), std::make_unique<test::GatedStore>(gate));
  gate->hold();
  Outcome first, second, third;
  svc->ingest_async({event_of("a", "i1")}, first.done());
  gate->wait_inside();
  svc->ingest_async({event_of("b", "i2")}, second.done());
  svc->ingest_async({event_of("c", "i3")}, third.done());
  std::thread closer([&] { svc.reset(); });  // waits for the commit thread
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate->release();
  closer.join();
  for (auto* o : {&first, &second, &third}) {
    ASSERT_EQ(o->future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(o->future.get().accepted, 1u);
  }
  EXPECT_EQ(gate->append_sizes, (std::vector<std::size_t>{1, 2}));
}

TEST(ServiceStates, ABatchAnswersEachRequestAsAloneWouldAndFailsOnlyTheBadOnes) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  {
    serve::Service svc(knn_model_dir(), store::open_event_store(url));
    for (int u = 0; u < 6; ++u)
      svc.ingest({event_of("b" + std::to_string(u), "i" + std::to_string(1 + u)),
                  event_of("b" + std::to_string(u), "i" + std::to_string(7 + u))});
  }
  std::vector<serve::UserRequest> batch;
  for (const auto* u : {"b0", "b1", "b1", "", "b2", "nobody", "b3", "b4", "b5"}) batch.push_back({u, {}});
  batch[2].request.k = 3;
  batch[4].request.policy = "no-such-policy";
  serve::Service together(knn_model_dir(), store::open_event_store(url));
  together.recommend_user("b3", {});  // one of them cached already
  std::vector<std::exception_ptr> errors;
  const auto got = together.recommend_users(batch, &errors);
  ASSERT_EQ(got.size(), batch.size());
  ASSERT_EQ(errors.size(), batch.size());
  serve::Service alone(knn_model_dir(), store::open_event_store(url));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i == 3) {
      EXPECT_TRUE(errors[i]) << "an empty user id";
      continue;
    }
    if (i == 4) {
      EXPECT_TRUE(errors[i]) << "an unknown policy fails its own request only";
      continue;
    }
    ASSERT_FALSE(errors[i]) << i;
    const auto want = alone.recommend_user(batch[i].user, batch[i].request);
    ASSERT_EQ(got[i].items.size(), want.items.size()) << i;
    for (std::size_t k = 0; k < want.items.size(); ++k) EXPECT_EQ(got[i].items[k].item, want.items[k].item) << i;
    EXPECT_EQ(got[i].history_length, want.history_length) << i;
    EXPECT_EQ(got[i].cold_start, want.cold_start) << i;
  }
  EXPECT_EQ(got[2].items.size(), 3u);
  EXPECT_EQ(got[0].history_length, 2u);
  EXPECT_TRUE(got[5].cold_start);
}

TEST(ServiceStates, EventsIngestedWhileStatesAreBuiltAreNotLost) {
  // Readers build states (reloads keep dropping them) while writers ingest for the same users: at
  // the end every cached state holds every event the store holds for its user, including those
  // applied while it was being built.
  serve::Service svc(knn_model_dir(), store::open_event_store("memory://"));
  constexpr int kUsers = 8, kEvents = 40;
  std::atomic<int> writers_left{2};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      for (int k = 0; k < kEvents; ++k)
        for (int u = w; u < kUsers; u += 2)
          svc.ingest({event_of("r" + std::to_string(u), "i" + std::to_string(1 + (k + u) % 50))});
      --writers_left;
    });
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      while (writers_left > 0) {
        std::vector<serve::UserRequest> batch;
        for (int u = 0; u < kUsers; ++u) batch.push_back({"r" + std::to_string((u + r) % kUsers), {}});
        std::vector<std::exception_ptr> errors;
        svc.recommend_users(batch, &errors);
        for (const auto& e : errors) ASSERT_FALSE(e);
      }
    });
  threads.emplace_back([&] {
    while (writers_left > 0) {
      svc.reload();  // drops every cached state
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (auto& t : threads) t.join();
  for (int u = 0; u < kUsers; ++u) {
    const auto user = "r" + std::to_string(u);
    EXPECT_EQ(svc.recommend_user(user, {}).history_length, static_cast<std::size_t>(kEvents)) << user;
  }
}

TEST(ServiceStates, WarmUpBuildsTheStoredUsersStatesInOnePass) {
  test::TempDir d;
  const auto url = "sqlite://" + d.file("e.db");
  {
    serve::Service svc(knn_model_dir(), store::open_event_store(url));
    svc.ingest({event_of("wa", "i1"), event_of("wa", "i2"), event_of("wb", "i3")});
  }
  serve::Service svc(knn_model_dir(), store::open_event_store(url));
  // Two stored users (one named twice) and an unknown one with no events, which is not cached.
  EXPECT_EQ(svc.warm_up({"wa", "wb", "wa", "ghost"}), 2u);
  EXPECT_EQ(svc.warm_up({"wa", "wb"}), 0u);  // cached already
  EXPECT_EQ(svc.stats().cached_users, 2);
  EXPECT_EQ(svc.recommend_user("wa", {}).history_length, 2u);
}
