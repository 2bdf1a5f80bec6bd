#pragma once
// The v1 HTTP API over a Service (docs/api.md). JSON in and out; errors are
// {"error": {"code", "message"}} with a 4xx status for bad requests. Writes need
// `Authorization: Bearer <token>`, admin routes the separate admin token (401 without, 403 wrong).
// The transport's limits (deadlines, sizes, connection cap) are in src/serve/http_transport.h.
#include <cstdint>
#include <memory>
#include <string>

#include "driftrec/serve/service.h"

namespace driftrec::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;             ///< 0 = any free port (see HttpServer::port())
  int threads = 8;             ///< workers scoring reads (recommendations, similar, interests)
  int write_threads = 16;      ///< workers for feedback, large event batches (parsing) and reload
  int io_threads = 1;          ///< event-loop threads (parsing, health, writing replies)
  std::string token;           ///< bearer token for writes ("" only with allow_no_auth)
  std::string admin_token;     ///< bearer token for admin routes ("" = admin routes off,
                               ///< unless allow_no_auth); must differ from `token`
  bool allow_no_auth = false;  ///< accept writes and admin calls without a token (local testing only)
  std::string model_root;      ///< reload may name directories under it ("" = only the served one)
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_k = 1000;
  std::size_t max_events = 10000;      ///< events per POST /v1/events
  std::size_t max_connections = 1024;  ///< open connections before new ones get one answer and close
  std::size_t max_pending = 1024;      ///< queued + running requests per worker lane before 503
  int request_timeout_ms = 10000;      ///< a request's first byte to its last (and one reply's write)
  int idle_timeout_ms = 30000;         ///< keep-alive connections idle longer are closed
};

class HttpServer {
 public:
  /// Binds the socket (throws IoError when the port cannot be bound, InvalidInput on bad options).
  HttpServer(Service& service, HttpOptions options);
  ~HttpServer();
  /// Port actually bound.
  int port() const;
  /// Serves until stop() is called (blocks).
  void run();
  /// Stops serving; run() returns. Safe from any thread or a signal-watching thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace driftrec::serve
