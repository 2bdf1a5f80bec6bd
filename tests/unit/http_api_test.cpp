// The HTTP API in-process: every route, auth, bad input -> 4xx JSON, and a bounded fuzz run that
// throws random and hostile requests at every route (no 5xx, no hang, server still live).
#include <atomic>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "driftrec/eval/fairness.h"
#include "http_fixture.h"

using namespace driftrec;
using nlohmann::json;

namespace {
using HttpApi = test::HttpFixture;
}  // namespace
test::TempDir* test::HttpFixture::dir_ = nullptr;

TEST_F(HttpApi, IngestThenRecommendReflectsTheEvent) {
  auto r0 = client_->Get("/v1/users/alice/recommendations?k=5");
  ASSERT_TRUE(r0);
  EXPECT_EQ(r0->status, 200);
  EXPECT_TRUE(body(r0)["cold_start"].get<bool>());
  auto p = client_->Post("/v1/events", auth(), R"({"user":"alice","item":"i3","behavior":"view","ts":100})",
                         "application/json");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200) << p->body;
  EXPECT_EQ(body(p)["accepted"], 1);
  auto r1 = client_->Get("/v1/users/alice/recommendations?k=5&explain=true");
  ASSERT_TRUE(r1);
  const auto j = body(r1);
  EXPECT_FALSE(j["cold_start"].get<bool>());
  EXPECT_EQ(j["history_length"], 1);
  ASSERT_EQ(j["items"].size(), 5u);
  EXPECT_EQ(j["items"][0]["because"][0]["item"], "i3");
  auto batch =
      client_->Post("/v1/events", auth(), R"([{"user":"alice","item":"i4"},{"user":"bob","item":"unknown-item"}])",
                    "application/json");
  EXPECT_EQ(body(batch)["accepted"], 2);
  EXPECT_EQ(body(batch)["unknown_items"], 1);
  EXPECT_EQ(body(client_->Get("/v1/users/alice/recommendations"))["history_length"], 2);
}

TEST_F(HttpApi, EventsAreAnsweredOnceDurableWhateverTheBodySize) {
  // One event is parsed on the I/O thread, a batch past 8 KiB on a write worker; both are answered
  // by the commit thread with their own sequence numbers.
  auto one = client_->Post("/v1/events", auth(), R"({"user":"sz","item":"i1","ts":10})", "application/json");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200) << one->body;
  json batch = json::array();
  for (int i = 0; i < 300; ++i)
    batch.push_back({{"user", "sz"}, {"item", "i" + std::to_string(1 + i % 90)}, {"ts", 11 + i}});
  ASSERT_GT(batch.dump().size(), 8u * 1024);
  auto many = client_->Post("/v1/events", auth(), batch.dump(), "application/json");
  ASSERT_TRUE(many);
  ASSERT_EQ(many->status, 200) << many->body;
  EXPECT_EQ(body(many)["accepted"], 300);
  EXPECT_EQ(body(many)["first_seq"].get<std::int64_t>(), body(one)["last_seq"].get<std::int64_t>() + 1);
  EXPECT_EQ(body(many)["last_seq"].get<std::int64_t>() - body(many)["first_seq"].get<std::int64_t>(), 299);
  // A bad event in a large batch is refused from the worker, a bad single event from the I/O thread.
  batch[250]["item"] = "";
  expect_error(client_->Post("/v1/events", auth(), batch.dump(), "application/json"), 400, "invalid_field");
  expect_error(client_->Post("/v1/events", auth(), R"({"user":"sz","item":""})", "application/json"), 400,
               "invalid_field");
  EXPECT_EQ(service_->store().count(), 301);
  // Concurrent single events: every one stored once, with distinct sequence numbers, fewer commits
  // than events is allowed (they share transactions) but never more.
  std::vector<std::thread> writers;
  std::mutex mu;
  std::set<std::int64_t> seqs;
  for (int t = 0; t < 6; ++t)
    writers.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port());
      for (int k = 0; k < 20; ++k) {
        const auto r = c.Post("/v1/events", auth(),
                              json{{"user", "w" + std::to_string(t)}, {"item", "i" + std::to_string(1 + k)}}.dump(),
                              "application/json");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 200) << r->body;
        std::lock_guard lock(mu);
        seqs.insert(nlohmann::json::parse(r->body)["first_seq"].get<std::int64_t>());
      }
    });
  for (auto& w : writers) w.join();
  EXPECT_EQ(seqs.size(), 120u);
  EXPECT_EQ(service_->store().count(), 421);
  const auto s = service_->stats();
  EXPECT_EQ(s.events_ingested, 421);
  EXPECT_GE(s.ingest_commits, 1);
  EXPECT_LE(s.ingest_commits, 2 + 120);
  EXPECT_GT(s.ingest_commit_seconds, 0.0);
  EXPECT_NE(client_->Get("/metrics")->body.find("driftrec_ingest_commit_seconds_total "), std::string::npos);
  EXPECT_EQ(body(client_->Get("/v1/users/w3/recommendations"))["history_length"], 20);
}

TEST_F(HttpApi, ConcurrentRecommendationsEachGetTheirOwnUsersAnswer) {
  // Requests queued together are answered in one batch: each reply must still be its request's.
  for (int u = 0; u < 12; ++u) {
    json events = json::array();
    for (int k = 0; k <= u; ++k)
      events.push_back({{"user", "cc" + std::to_string(u)}, {"item", "i" + std::to_string(1 + k)}});
    ASSERT_EQ(client_->Post("/v1/events", auth(), events.dump(), "application/json")->status, 200);
  }
  std::vector<std::thread> readers;
  std::atomic<int> wrong{0}, failed{0};
  for (int t = 0; t < 8; ++t)
    readers.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port());
      for (int n = 0; n < 30; ++n) {
        const int u = (t * 7 + n) % 14;  // 12 with events, 2 never seen
        const auto r = c.Get("/v1/users/cc" + std::to_string(u) + "/recommendations?k=" + std::to_string(1 + u % 5));
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        const auto j = json::parse(r->body);
        const bool right = j["user"] == "cc" + std::to_string(u) &&
                           j["items"].size() == static_cast<std::size_t>(1 + u % 5) &&
                           j["history_length"] == (u < 12 ? u + 1 : 0);
        if (!right) ++wrong;
      }
    });
  for (auto& r : readers) r.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
  // A bad request in a batch is refused alone.
  expect_error(client_->Get("/v1/users/cc1/recommendations?k=0"), 400, "invalid_parameter");
}

TEST_F(HttpApi, OtherRoutes) {
  client_->Post("/v1/events", auth(), R"([{"user":"c","item":"i1"},{"user":"c","item":"i2"},{"user":"c","item":"i9"}])",
                "application/json");
  auto in = client_->Get("/v1/users/c/interests");
  EXPECT_EQ(in->status, 200);
  EXPECT_EQ(body(in)["events"], 3);
  auto sim = client_->Get("/v1/items/i1/similar?k=3");
  EXPECT_EQ(sim->status, 200);
  EXPECT_EQ(body(sim)["items"].size(), 3u);
  expect_error(client_->Get("/v1/items/nope/similar"), 404, "not_found");
  auto anon =
      client_->Post("/v1/recommendations", R"({"history":["i1",{"item":"i2","behavior":"view"}],"k":4,"explain":true})",
                    "application/json");
  EXPECT_EQ(anon->status, 200) << anon->body;
  EXPECT_EQ(body(anon)["items"].size(), 4u);
  EXPECT_EQ(client_->Get("/healthz/ready")->status, 200);
  const auto metrics = client_->Get("/metrics");
  EXPECT_NE(metrics->body.find("driftrec_request_seconds_bucket{route=\"post_events\""), std::string::npos);
  EXPECT_NE(metrics->body.find("driftrec_events_ingested_total 3"), std::string::npos);
}

TEST_F(HttpApi, AuthAndReload) {
  expect_error(client_->Post("/v1/events", R"({"user":"a","item":"i1"})", "application/json"), 401, "unauthorized");
  expect_error(client_->Post("/v1/events", {{"Authorization", "Bearer nope"}}, R"({"user":"a","item":"i1"})",
                             "application/json"),
               403, "forbidden");
  expect_error(client_->Post("/v1/admin/reload", "", "application/json"), 401, "unauthorized");
  // The write token is not the admin token.
  expect_error(client_->Post("/v1/admin/reload", auth(), "", "application/json"), 403, "forbidden");
  // Without --model-root only the served directory may be named; the refusal is the same whether
  // or not the path exists (it reveals nothing about the disk).
  const auto outside = client_->Post("/v1/admin/reload", admin(), R"({"model_dir":"/etc"})", "application/json");
  const auto missing =
      client_->Post("/v1/admin/reload", admin(), R"({"model_dir":"/no/such/dir"})", "application/json");
  expect_error(outside, 403, "model_dir_not_allowed");
  expect_error(missing, 403, "model_dir_not_allowed");
  EXPECT_EQ(outside->body, missing->body);
  expect_error(
      client_->Post("/v1/admin/reload", admin(), json{{"model_dir", dir_->file("pop")}}.dump(), "application/json"),
      403, "model_dir_not_allowed");
  auto same =
      client_->Post("/v1/admin/reload", admin(), json{{"model_dir", dir_->file("knn")}}.dump(), "application/json");
  EXPECT_EQ(same->status, 200) << same->body;
  // With --model-root, directories under it (not beside it, not through "..") may be loaded.
  auto o = default_options();
  o.model_root = dir_->path().string();
  restart(o);
  expect_error(
      client_->Post("/v1/admin/reload", admin(), json{{"model_dir", dir_->file("../x")}}.dump(), "application/json"),
      403, "model_dir_not_allowed");
  expect_error(client_->Post("/v1/admin/reload", admin(), R"({"model_dir":"nothing-here"})", "application/json"), 422,
               "reload_failed");
  EXPECT_EQ(body(client_->Get("/healthz/ready"))["model"], "itemknn");
  const std::string to_pop = json{{"model_dir", "pop"}}.dump();  // relative to the root
  auto ok = client_->Post("/v1/admin/reload", admin(), to_pop, "application/json");
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(body(ok)["model_version"], 2);
  EXPECT_EQ(body(client_->Get("/healthz/ready"))["model"], "pop");
  // No admin token configured: admin routes are off (SIGHUP still reloads).
  auto no_admin = default_options();
  no_admin.admin_token.clear();
  restart(no_admin);
  expect_error(client_->Post("/v1/admin/reload", auth(), "", "application/json"), 403, "admin_disabled");
}

TEST_F(HttpApi, BadInputGetsA4xxNamingTheField) {
  auto post = [&](const std::string& b) { return client_->Post("/v1/events", auth(), b, "application/json"); };
  expect_error(post("{not json"), 400, "malformed_json");
  expect_error(post(""), 400, "malformed_json");
  expect_error(post(R"({"item":"i1"})"), 400, "missing_field");
  expect_error(post(R"({"user":"u","item":5.5})"), 400, "invalid_field");
  expect_error(post(R"({"user":"u","item":"i1","ts":"yesterday"})"), 400, "invalid_field");
  expect_error(post(R"({"user":"u","item":"i1","colour":"red"})"), 400, "unknown_field");
  expect_error(post(R"([])"), 400, "invalid_field");
  expect_error(post(R"([{"user":"u","item":"i1"}, 7])"), 400, "invalid_field");
  const auto r = post(R"([{"user":"u","item":"i1"}, {"user":"","item":"i2"}])");
  expect_error(r, 400, "invalid_field");
  EXPECT_NE(r->body.find("events[1].user"), std::string::npos);
  EXPECT_EQ(service_->store().count(), 0);  // nothing from a rejected request was stored
  expect_error(client_->Get("/v1/users/u/recommendations?k=0"), 400, "invalid_parameter");
  expect_error(client_->Get("/v1/users/u/recommendations?k=100000"), 400, "invalid_parameter");
  expect_error(client_->Get("/v1/users/u/recommendations?explain=maybe"), 400, "invalid_parameter");
  expect_error(client_->Get("/v1/users/u/recommendations?at=yesterday"), 400, "invalid_parameter");
  expect_error(client_->Get("/v1/users/u/recommendations?at=1e300"), 400, "invalid_parameter");
  expect_error(client_->Post("/v1/recommendations", R"({"history":["i1"],"at":"noon"})", "application/json"), 400,
               "invalid_field");
  const auto at = client_->Get("/v1/users/u/recommendations?at=1700000000");
  ASSERT_TRUE(at);
  EXPECT_EQ(at->status, 200);  // a model that does not read the time answers as without it
  expect_error(client_->Post("/v1/recommendations", R"({"k":3})", "application/json"), 400, "missing_field");
  expect_error(client_->Get("/v1/nothing"), 404, "no_route");
  const auto big = client_->Post("/v1/events", auth(), std::string(100 * 1024, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

TEST_F(HttpApi, RerankedRecommendations) {
  client_->Post("/v1/events", auth(), R"([{"user":"r","item":"i1"},{"user":"r","item":"i2"},{"user":"r","item":"i9"}])",
                "application/json");
  // The long tail as the model directory's training counts define it (outside the top 20%).
  const auto loaded = models::load_model_dir(dir_->file("knn"));
  ASSERT_FALSE(loaded.item_counts.empty());
  const auto tail = eval::long_tail_items(loaded.item_counts, loaded.items.size(), 0.2);
  auto tail_count = [&](const nlohmann::json& j) {
    int n = 0;
    for (const auto& it : j["items"])
      n += tail[static_cast<std::size_t>(loaded.items.find(it["item"].get<std::string>()))];
    return n;
  };
  const auto plain = client_->Get("/v1/users/r/recommendations?k=10");
  const auto quota = client_->Get("/v1/users/r/recommendations?k=10&rerank=longtail:0.6");
  ASSERT_EQ(quota->status, 200) << quota->body;
  EXPECT_EQ(body(quota)["rerank"], "longtail:0.6");
  EXPECT_TRUE(body(plain)["rerank"].is_null());
  ASSERT_EQ(body(quota)["items"].size(), 10u);
  EXPECT_GE(tail_count(body(quota)), 6);
  EXPECT_LT(tail_count(body(plain)), 6);  // else the test would not show the re-ranker at work
  auto anon =
      client_->Post("/v1/recommendations", R"({"history":["i1","i2"],"k":4,"rerank":"mmr:0.5","rerank_depth":50})",
                    "application/json");
  EXPECT_EQ(anon->status, 200) << anon->body;
  EXPECT_EQ(body(anon)["rerank"], "mmr:0.5");
  EXPECT_EQ(body(anon)["items"].size(), 4u);
  expect_error(client_->Get("/v1/users/r/recommendations?rerank=bogus:1"), 400, "invalid_input");
  expect_error(client_->Get("/v1/users/r/recommendations?rerank=calibrated:2"), 400, "invalid_input");
  expect_error(client_->Get("/v1/users/r/recommendations?rerank=mmr:0.5&policy=boltzmann"), 400, "invalid_input");
  expect_error(client_->Get("/v1/users/r/recommendations?rerank=mmr:0.5&rerank_depth=0"), 400, "invalid_parameter");
  expect_error(client_->Post("/v1/recommendations", R"({"history":["i1"],"rerank":5})", "application/json"), 400,
               "invalid_field");
}

TEST_F(HttpApi, FuzzEveryRouteWithRandomAndHostileRequests) {
  std::mt19937_64 rng(1234);
  const std::vector<std::string> paths = {"/v1/events",
                                          "/v1/feedback",
                                          "/v1/users/u1/recommendations",
                                          "/v1/recommendations",
                                          "/v1/users/u1/interests",
                                          "/v1/items/i1/similar",
                                          "/healthz/live",
                                          "/healthz/ready",
                                          "/metrics",
                                          "/v1/admin/reload",
                                          "/v1/users/u1",
                                          "/v1/users/u1/events",
                                          "/v1/users//events",
                                          "/v1/users//recommendations",
                                          "/v1/users/%00%ff/recommendations",
                                          "/v1/items/../../etc/passwd/similar"};
  const std::vector<std::string> queries = {"",
                                            "?k=",
                                            "?k=-1",
                                            "?k=5",
                                            "?k=99999999999999999999",
                                            "?explain=true&k=3",
                                            "?exclude_seen=false&exclude=i1,i2,,",
                                            "?k=3&k=4",
                                            "?%zz=1"};
  const std::vector<std::string> bodies = {"",
                                           "null",
                                           "[]",
                                           "{}",
                                           "[[[[[[[[[[]]]]]]]]]]",
                                           "{\"user\":\"u\",\"item\":\"i1\"}",
                                           "{\"user\":1,\"item\":2,\"ts\":1e300}",
                                           "{\"history\":[1,2,{\"item\":null}],\"k\":true}",
                                           "{\"history\":\"i1\"}",
                                           "{\"model_dir\":42}",
                                           "[{\"user\":\"u\",\"item\":\"i1\",\"value\":\"NaN\"}]",
                                           "\xff\xfe\x00garbage",
                                           "{\"user\":\"\\ud800\",\"item\":\"x\"}",
                                           "{\"history\":[\"i1\"],\"k\":1000000}",
                                           "{\"user\":\"u\",\"item\":\"" + std::string(1000, 'x') + "\"}"};
  int server_errors = 0;
  for (int n = 0; n < 400; ++n) {
    const auto& path = paths[rng() % paths.size()];
    const auto& q = queries[rng() % queries.size()];
    std::string b = bodies[rng() % bodies.size()];
    if (rng() % 4 == 0) {  // random bytes
      b.clear();
      for (int k = 0, len = static_cast<int>(rng() % 200); k < len; ++k) b += static_cast<char>(rng() % 256);
    }
    const auto who = rng() % 3;
    httplib::Headers h = who == 0 ? auth() : who == 1 ? admin() : httplib::Headers{};
    const auto method = rng() % 5;
    const auto r = method < 2   ? client_->Get((path + q).c_str(), h)
                   : method < 4 ? client_->Post((path + q).c_str(), h, b, "application/json")
                                : client_->Delete((path + q).c_str(), h);
    ASSERT_TRUE(r) << "no answer to " << path << q;
    if (r->status >= 500) {
      ++server_errors;
      ADD_FAILURE() << r->status << " for " << path << q << " body " << r->body;
    }
    if (r->status >= 400 && r->status != 413) {
      // Every error carries the JSON error object.
      bool parsed = false;
      try {
        parsed = json::parse(r->body).contains("error");
      } catch (...) {
      }
      EXPECT_TRUE(parsed) << r->status << " " << path << q << ": " << r->body;
    }
  }
  EXPECT_EQ(server_errors, 0);
  EXPECT_EQ(client_->Get("/healthz/live")->status, 200);
}

TEST_F(HttpApi, FeedbackClosesTheLoop) {
  auto p = client_->Post("/v1/events", auth(), R"({"user":"fb","item":"i3","ts":100})", "application/json");
  ASSERT_TRUE(p);
  auto r = client_->Get("/v1/users/fb/recommendations?k=4&policy=epsilon-greedy:epsilon%3D0.2");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto j = body(r);
  const std::string id = j["request_id"];
  EXPECT_EQ(j["policy"], "epsilon-greedy:epsilon=0.2");
  ASSERT_EQ(j["items"].size(), 4u);
  EXPECT_GT(j["items"][0]["propensity"].get<double>(), 0.0);
  const std::string fb = R"({"request_id":")" + id + R"(","position":2,"clicked":true,"dwell":4})";
  auto f = client_->Post("/v1/feedback", auth(), fb, "application/json");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, 200) << f->body;
  EXPECT_EQ(body(f)["item"], j["items"][1]["item"]);
  EXPECT_GT(body(f)["event_seq"].get<long long>(), 0);
  EXPECT_EQ(body(client_->Get("/v1/users/fb/recommendations"))["history_length"], 2);
  expect_error(client_->Post("/v1/feedback", auth(), fb, "application/json"), 409, "duplicate_feedback");
  expect_error(client_->Post("/v1/feedback", fb, "application/json"), 401, "unauthorized");
  expect_error(client_->Post("/v1/feedback", auth(), R"({"request_id":"nope","position":1})", "application/json"), 404,
               "unknown_request");
  expect_error(
      client_->Post("/v1/feedback", auth(), R"({"request_id":")" + id + R"(","position":9})", "application/json"), 400,
      "invalid_position");
  expect_error(
      client_->Post("/v1/feedback", auth(), R"({"request_id":")" + id + R"(","position":0})", "application/json"), 400,
      "invalid_field");
  expect_error(client_->Post("/v1/feedback", auth(), R"({"request_id":")" + id + R"("})", "application/json"), 400,
               "missing_field");
  expect_error(client_->Post("/v1/feedback", auth(), R"({"request_id":")" + id + R"(","position":1,"liked":true})",
                             "application/json"),
               400, "unknown_field");
  const auto lin = client_->Get("/v1/users/fb/recommendations?policy=linucb");  // learning policies are served
  ASSERT_TRUE(lin);
  EXPECT_EQ(lin->status, 200) << lin->body;
  EXPECT_EQ(body(lin)["policy"], "linucb");
  expect_error(client_->Get("/v1/users/fb/recommendations?policy=boltzmann:temperature%3Dx"), 400, "invalid_input");
}

TEST_F(HttpApi, DataRightsDeleteAndExportAUser) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const json events = {{{"user", "erin"}, {"item", "i1"}, {"ts", now - 50}},
                       {{"user", "erin"}, {"item", "i2"}, {"ts", now - 40}},
                       {{"user", "frank"}, {"item", "i3"}, {"ts", now - 30}}};
  ASSERT_EQ(client_->Post("/v1/events", auth(), events.dump(), "application/json")->status, 200);
  ASSERT_EQ(body(client_->Get("/v1/users/erin/recommendations"))["history_length"], 2);
  // Both routes need the admin token: writers may not read out or erase anyone's data.
  expect_error(client_->Get("/v1/users/erin/events"), 401, "unauthorized");
  expect_error(client_->Get("/v1/users/erin/events", auth()), 403, "forbidden");
  expect_error(client_->Delete("/v1/users/erin"), 401, "unauthorized");
  expect_error(client_->Delete("/v1/users/erin", auth()), 403, "forbidden");

  const auto exported = client_->Get("/v1/users/erin/events", admin());
  ASSERT_EQ(exported->status, 200) << exported->body;
  const auto x = body(exported);
  EXPECT_EQ(x["user"], "erin");
  ASSERT_EQ(x["events"].size(), 2u);
  EXPECT_EQ(x["events"][1]["item"], "i2");
  EXPECT_EQ(x["events"][1]["ts"], now - 40);
  EXPECT_TRUE(x["feedback"].empty());
  EXPECT_TRUE(x["deleted_at"].is_null());
  EXPECT_FALSE(x["in_served_model"].get<bool>());

  const auto del = client_->Delete("/v1/users/erin", admin());
  ASSERT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(body(del)["deleted_events"], 2);
  EXPECT_GE(body(del)["deleted_at"].get<std::int64_t>(), now);
  // Gone from the store and from the live state; frank is untouched.
  EXPECT_TRUE(body(client_->Get("/v1/users/erin/recommendations"))["cold_start"].get<bool>());
  EXPECT_TRUE(body(client_->Get("/v1/users/erin/events", admin()))["events"].empty());
  EXPECT_EQ(body(client_->Get("/v1/users/frank/recommendations"))["history_length"], 1);
  // Re-sending her old events does not bring them back; the response says why.
  const auto again = client_->Post("/v1/events", auth(), events.dump(), "application/json");
  EXPECT_EQ(body(again)["accepted"], 1);
  EXPECT_EQ(body(again)["dropped"]["deleted_users"], 2);
  EXPECT_TRUE(body(client_->Get("/v1/users/erin/recommendations"))["cold_start"].get<bool>());
  // Unknown users and users already erased (nothing stored since) are 404.
  expect_error(client_->Delete("/v1/users/erin", admin()), 404, "not_found");
  expect_error(client_->Delete("/v1/users/nobody-here", admin()), 404, "not_found");
  expect_error(client_->Get("/v1/users/nobody-here/events", admin()), 404, "not_found");
  EXPECT_NE(client_->Get("/metrics")->body.find("driftrec_users_deleted_total 1"), std::string::npos);
}
