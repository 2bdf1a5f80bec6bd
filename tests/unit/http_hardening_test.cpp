// The server against hostile and careless clients (issue: harden the server): body limits for every
// transfer encoding and before authentication, compressed bodies, slow and idle clients, the
// connection cap, the user-state cache, numbers JSON cannot hold, failing storage, odd ids.
#include <sys/resource.h>

#include "../../src/serve/http_transport.h"
#include "driftrec/store/event_store.h"
#include "gated_store.h"
#include "http_fixture.h"

using namespace driftrec;
using nlohmann::json;
using test::RawConn;

namespace {

using HttpHardening = test::HttpFixture;

std::string chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

}  // namespace

TEST_F(HttpHardening, ChunkedBodiesObeyTheSizeLimit) {
  // 64 KiB limit (fixture); a chunked body of 1 MiB is refused once it passes the limit, no token needed.
  RawConn c(port());
  ASSERT_TRUE(c.connected());
  c.send(
      "POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  bool peer_stopped_reading = false;
  for (int i = 0; i < 64 && !peer_stopped_reading; ++i) peer_stopped_reading = !c.send(chunk(std::string(16384, ' ')));
  const auto r = c.read(3000);
  EXPECT_EQ(RawConn::status(r), 413) << r;
  EXPECT_NE(r.find("body_too_large"), std::string::npos) << r;
  // A declared Content-Length over the limit is refused from the headers alone.
  RawConn d(port());
  d.send("POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000000\r\n\r\n{");
  EXPECT_EQ(RawConn::status(d.read(3000)), 413);
  EXPECT_EQ(client_->Get("/healthz/live")->status, 200);
}

TEST_F(HttpHardening, UnauthorisedWritesAreRefusedBeforeTheBodyIsRead) {
  // Headers only: the 401/403 comes without the server waiting for (or reading) the body. (A declared
  // body over the size limit gets 413 first: the limit holds before authentication.)
  RawConn c(port());
  c.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  auto r = c.read(2000);
  EXPECT_EQ(RawConn::status(r), 401) << r;
  RawConn d(port());
  d.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\nAuthorization: Bearer wrong\r\n\r\n");
  r = d.read(2000);
  EXPECT_EQ(RawConn::status(r), 403) << r;
  // Refusals are counted under their route once it is known, unknown paths under "unmatched".
  EXPECT_EQ(client_->Get("/v1/nothing")->status, 404);
  const auto metrics = client_->Get("/metrics")->body;
  EXPECT_NE(metrics.find("driftrec_requests_total{route=\"post_events\",status=\"4xx\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("driftrec_requests_total{route=\"unmatched\",status=\"4xx\"} 1"), std::string::npos)
      << metrics;
}

TEST_F(HttpHardening, CompressedBodiesAreRefusedNotInflated) {
  for (const char* path : {"/v1/recommendations", "/v1/events"}) {
    RawConn c(port());
    c.send(std::string("POST ") + path +
           " HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: "
           "10\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03");
    const auto r = c.read(2000);
    EXPECT_EQ(RawConn::status(r), 415) << r;
    EXPECT_NE(r.find("unsupported_encoding"), std::string::npos);
  }
}

TEST_F(HttpHardening, SlowAndIdleClientsDoNotFreezeTheServer) {
  auto o = default_options();
  o.threads = 2;
  o.request_timeout_ms = 1500;
  o.idle_timeout_ms = 1500;
  restart(o);
  // 16 clients drip a request one header line at a time, 16 more hold idle keep-alive connections.
  std::vector<std::unique_ptr<RawConn>> drip, idle;
  for (int i = 0; i < 16; ++i) {
    drip.push_back(std::make_unique<RawConn>(port()));
    drip.back()->send("GET /v1/users/u1/recommendations HTTP/1.1\r\n");
    idle.push_back(std::make_unique<RawConn>(port()));
  }
  const auto t0 = std::chrono::steady_clock::now();
  double worst_ms = 0;
  for (int round = 0; round < 5; ++round) {
    for (auto& c : drip) c->send("X-Slow: " + std::to_string(round) + "\r\n");
    for (const char* path : {"/healthz/live", "/healthz/ready", "/v1/users/u7/recommendations?k=3"}) {
      const auto q0 = std::chrono::steady_clock::now();
      const auto r = client_->Get(path);
      worst_ms =
          std::max(worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - q0).count());
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 200) << path;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_LT(worst_ms, 1000.0) << "a request waited behind slow clients";
  // The whole-request deadline trips although every line arrived well within any per-read timeout.
  int timed_out = 0;
  for (auto& c : drip) timed_out += RawConn::status(c->read(2500)) == 408;
  EXPECT_EQ(timed_out, 16);
  EXPECT_GE(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.4);
  // Idle keep-alive connections are closed once the idle limit passes.
  int closed = 0;
  for (auto& c : idle) {
    c->read(2000);
    closed += c->closed_by_peer();
  }
  EXPECT_EQ(closed, 16);
}

TEST_F(HttpHardening, PastTheConnectionCapOnlyHealthIsAnswered) {
  auto o = default_options();
  o.max_connections = 4;
  restart(o);
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawConn>(port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  RawConn health(port());
  health.send("GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(RawConn::status(health.read(2000)), 200);
  RawConn rec(port());
  rec.send("GET /v1/users/u1/recommendations HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto r = rec.read(2000);
  EXPECT_EQ(RawConn::status(r), 503) << r;
  EXPECT_NE(r.find("too_many_connections"), std::string::npos);
  held.clear();  // once connections go away, requests are served again
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(client_->Get("/v1/users/u1/recommendations")->status, 200);
}

TEST_F(HttpHardening, UserStateCacheIsBoundedAndSkipsAnonymousIds) {
  serve::ServiceOptions so;
  so.cache_bytes = 64 * 1024;  // 1 KiB per shard
  restart(default_options(), so);
  for (int i = 0; i < 3000; ++i)
    ASSERT_EQ(client_->Get(("/v1/users/stranger" + std::to_string(i) + "/recommendations").c_str())->status, 200);
  EXPECT_EQ(service_->stats().cached_users, 0) << "cold-start answers for unknown ids must not be cached";
  json batch = json::array();
  for (int u = 0; u < 600; ++u)
    for (int k = 0; k < 3; ++k)
      batch.push_back({{"user", "v" + std::to_string(u)}, {"item", "i" + std::to_string(1 + (u + k) % 90)}});
  ASSERT_EQ(client_->Post("/v1/events", auth(), batch.dump(), "application/json")->status, 200);
  for (int u = 0; u < 600; ++u) {
    const auto r = client_->Get(("/v1/users/v" + std::to_string(u) + "/recommendations").c_str());
    ASSERT_EQ(body(r)["history_length"], 3);
  }
  const auto s = service_->stats();
  EXPECT_LE(s.cache_bytes, 64 * 1024);
  EXPECT_GT(s.cached_users, 0);
  EXPECT_LT(s.cached_users, 600);
  // An evicted user is rebuilt from the store: still all three events, and a new one counts.
  ASSERT_EQ(client_->Post("/v1/events", auth(), R"({"user":"v0","item":"i50"})", "application/json")->status, 200);
  EXPECT_EQ(body(client_->Get("/v1/users/v0/recommendations"))["history_length"], 4);
}

TEST_F(HttpHardening, NumbersJsonCannotHoldAre400) {
  expect_error(client_->Post("/v1/recommendations", R"({"history":["i1"],"k":1e400})", "application/json"), 400,
               "malformed_json");
  expect_error(client_->Post("/v1/events", auth(), R"({"user":"u","item":"i1","ts":-1e400})", "application/json"), 400,
               "malformed_json");
  expect_error(
      client_->Post("/v1/recommendations", R"({"history":["i1"],"k":18446744073709551615})", "application/json"), 400,
      "invalid_parameter");
}

TEST_F(HttpHardening, IdsAndLabelsAreCheckedAndBounded) {
  auto post = [&](const json& e) { return client_->Post("/v1/events", auth(), e.dump(), "application/json"); };
  expect_error(post({{"user", "u"}, {"item", "i1"}, {"domain", std::string(65, 'd')}}), 400, "invalid_field");
  expect_error(post({{"user", std::string("a\0b", 3)}, {"item", "i1"}}), 400, "invalid_field");
  expect_error(post({{"user", "u"}, {"item", "i1"}, {"behavior", "view\n"}}), 400, "invalid_field");
  expect_error(client_->Get("/v1/users/a%00b/recommendations"), 400, "invalid_field");
  expect_error(client_->Get("/v1/users/%ff%fe/recommendations"), 400, "invalid_field");
  EXPECT_EQ(service_->store().count(), 0);
  EXPECT_EQ(post({{"user", "u"}, {"item", "i1"}, {"domain", std::string(64, 'd')}})->status, 200);
}

TEST_F(HttpHardening, ReloadWithoutBodyOrContentLength) {
  RawConn c(port());
  c.send("POST /v1/admin/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer adm1n\r\n\r\n");
  const auto r = c.read(5000);
  EXPECT_EQ(RawConn::status(r), 200) << r;
  EXPECT_NE(r.find("\"model_version\":2"), std::string::npos) << r;
}

TEST_F(HttpHardening, ExpectContinueAndPipelining) {
  RawConn c(port());
  const std::string body = R"({"history":["i1","i2"],"k":2})";
  c.send("POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(RawConn::status(c.read(2000)), 100);
  c.send(body);
  EXPECT_EQ(RawConn::status(c.read(2000)), 200);
  // Two requests in one write: both answered, in order, on the kept-alive connection.
  c.send("GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto first = c.read(2000);
  EXPECT_EQ(RawConn::status(first), 200) << first;
  auto second = first.substr(first.find("}") + 1);
  if (second.empty()) second = c.read(2000);
  EXPECT_EQ(RawConn::status(second), 404) << second;
}

TEST_F(HttpHardening, FailingStorageAnswers503AndReportsNotReady) {
  auto gate = std::make_shared<test::Gate>();
  auto& failing = gate->failing;
  restart(default_options(), {}, std::make_unique<test::GatedStore>(gate));
  ASSERT_EQ(client_->Post("/v1/events", auth(), R"({"user":"a","item":"i1"})", "application/json")->status, 200);
  failing = true;
  expect_error(client_->Post("/v1/events", auth(), R"({"user":"a","item":"i2"})", "application/json"), 503,
               "storage_unavailable");
  const auto ready = client_->Get("/healthz/ready");
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(body(ready)["reason"], "storage_unavailable");
  EXPECT_EQ(client_->Get("/healthz/live")->status, 200);  // alive, just not ready
  // A user whose state must be read from the store: 503 too, not 500.
  expect_error(client_->Get("/v1/users/b/recommendations"), 503, "storage_unavailable");
  failing = false;
  EXPECT_EQ(client_->Post("/v1/events", auth(), R"({"user":"a","item":"i3"})", "application/json")->status, 200);
  EXPECT_EQ(client_->Get("/healthz/ready")->status, 200);
  EXPECT_EQ(service_->store().count(), 2);  // the refused event was not stored
}

TEST_F(HttpHardening, AServerStoppedWhileAnEventIsBeingCommittedShutsDownCleanly) {
  // The answer of a deferred request arrives after the transport is gone: it must be dropped, not
  // posted to a destroyed event loop, and the service still commits what it had queued.
  auto gate = std::make_shared<test::Gate>();
  restart(default_options(), {}, std::make_unique<test::GatedStore>(gate));
  gate->hold();
  RawConn c(port());
  const std::string ev = R"({"user":"late","item":"i1"})";
  c.send(
      "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(ev.size()) + "\r\n\r\n" + ev);
  gate->wait_inside();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gate->release();
  });
  stop();  // the server goes first; the service waits for the commit thread
  releaser.join();
  EXPECT_EQ(gate->append_sizes, (std::vector<std::size_t>{1}));
  start(default_options());  // for TearDown
}

TEST_F(HttpHardening, ReloadOfANeverEndingWeightsFileFailsFastAndKeepsServing) {
  namespace fs = std::filesystem;
  auto o = default_options();
  o.model_root = dir_->path().string();
  restart(o);
  const auto bad = dir_->file("zero");
  fs::remove_all(bad);
  fs::copy(dir_->file("knn"), bad);
  for (const auto& e : fs::directory_iterator(bad))
    if (e.path().filename().string().rfind("weights", 0) == 0) {
      fs::remove(e.path());
      fs::create_symlink("/dev/zero", e.path());
    }
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = client_->Post("/v1/admin/reload", admin(), R"({"model_dir":"zero"})", "application/json");
  expect_error(r, 422, "reload_failed");
  EXPECT_NE(r->body.find("not a regular file"), std::string::npos) << r->body;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_EQ(body(client_->Get("/healthz/ready"))["model_version"], 1);
}

TEST(HttpTransportRoutes, ABatchRouteMustRunOnAWorkerLane) {
  // Batches are taken by the lane's workers; on the I/O thread there is no one to take them.
  serve::Route r;
  r.method = "GET";
  r.pattern = std::regex("/x");
  r.name = "x";
  r.lane = serve::Lane::inline_io;
  r.batch = [](const std::vector<const serve::Request*>&, const std::vector<serve::Reply>&) {};
  serve::TransportOptions o;
  o.port = 0;
  EXPECT_THROW(serve::HttpTransport(o, {r}, nullptr), InvalidInput);
  r.lane = serve::Lane::read;
  EXPECT_NO_THROW(serve::HttpTransport(o, {r}, nullptr));
}
