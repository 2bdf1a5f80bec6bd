#pragma once
// The v1 HTTP API over a Service (docs/api.md). JSON in and out; errors are
// {"error": {"code", "message"}} with a 4xx status for bad requests. Writes and admin routes need
// `Authorization: Bearer <token>` (401 without, 403 wrong).
#include <cstdint>
#include <memory>
#include <string>

#include "driftrec/serve/service.h"

namespace driftrec::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    ///< 0 = any free port (see HttpServer::port())
  int threads = 8;                    ///< request worker threads
  std::string token;                  ///< bearer token for writes/admin ("" only with allow_no_auth)
  bool allow_no_auth = false;         ///< accept writes without a token (local testing only)
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_k = 1000;
  std::size_t max_events = 10000;     ///< events per POST /v1/events
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
