#pragma once
// A served model on a free loopback port for the HTTP tests, an httplib client, and a raw socket
// client for what httplib will not send (chunked or dripped bodies, half requests, bare headers).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "driftrec/data/synth.h"
#include "driftrec/models/model_dir.h"
#include "driftrec/models/registry.h"
#include "driftrec/serve/http_server.h"
#include "test_util.h"

namespace driftrec::test {

/// A plain TCP connection to the test server.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool connected() const { return ok_; }
  /// False once the peer has closed (or reset) the connection.
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  /// Everything readable within `ms` (stops early at EOF, or once a complete response with a
  /// Content-Length body has arrived).
  std::string read(int ms) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      const int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
      if (::poll(&p, 1, std::max(1, left)) <= 0) continue;
      char buf[65536];
      const auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
      if (complete(out)) break;
    }
    return out;
  }
  bool closed_by_peer() const { return closed_; }
  static int status(const std::string& response) {
    return response.size() > 12 && response.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(response.substr(9, 3)) : 0;
  }

 private:
  static bool complete(const std::string& r) {
    const auto h = r.find("\r\n\r\n");
    if (h == std::string::npos) return false;
    const auto cl = r.find("Content-Length: ");
    if (cl == std::string::npos || cl > h) return r.rfind("HTTP/1.1 100", 0) == 0;
    return r.size() >= h + 4 + std::stoul(r.substr(cl + 16));
  }
  int fd_ = -1;
  bool ok_ = false;
  bool closed_ = false;
};

class HttpFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    data::SynthOptions so;
    so.users = 120;
    so.items = 100;
    so.categories = 5;
    const auto ds = data::to_dataset(data::generate_synthetic(so));
    auto m = models::create_model("itemknn", {{"decay", "position"}});
    m->fit(ds, {});
    models::save_model_dir(dir_->file("knn"), *m, ds);
    auto m2 = models::create_model("pop", nlohmann::json::object());
    m2->fit(ds, {});
    models::save_model_dir(dir_->file("pop"), *m2, ds);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static serve::HttpOptions default_options() {
    serve::HttpOptions o;
    o.port = 0;
    o.threads = 4;
    o.write_threads = 4;
    o.token = "t0ken";
    o.admin_token = "adm1n";
    o.max_body_bytes = 64 * 1024;
    return o;
  }
  void SetUp() override { start(default_options()); }
  void TearDown() override { stop(); }
  void start(serve::HttpOptions o, serve::ServiceOptions so = {}, std::unique_ptr<store::EventStore> st = nullptr) {
    service_ = std::make_unique<serve::Service>(dir_->file("knn"),
                                                st ? std::move(st) : store::open_event_store("memory://"), so);
    server_ = std::make_unique<serve::HttpServer>(*service_, o);
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(5, 0);
    for (int i = 0; i < 200 && !client_->Get("/healthz/live"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    client_.reset();
    server_.reset();
    service_.reset();
  }
  void restart(serve::HttpOptions o, serve::ServiceOptions so = {}, std::unique_ptr<store::EventStore> st = nullptr) {
    stop();
    start(std::move(o), so, std::move(st));
  }
  int port() const { return server_->port(); }
  httplib::Headers auth() const { return {{"Authorization", "Bearer t0ken"}}; }
  httplib::Headers admin() const { return {{"Authorization", "Bearer adm1n"}}; }
  static nlohmann::json body(const httplib::Result& r) { return nlohmann::json::parse(r->body); }
  static void expect_error(const httplib::Result& r, int status, const std::string& code) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const auto j = nlohmann::json::parse(r->body);
    EXPECT_EQ(j["error"]["code"], code) << r->body;
    EXPECT_TRUE(j["error"]["message"].is_string());
  }

  static TempDir* dir_;
  std::unique_ptr<serve::Service> service_;
  std::unique_ptr<serve::HttpServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace driftrec::test
