#pragma once
// The HTTP/1.1 transport under the v1 API: an event-driven server on Boost.Beast/Asio.
//
// Why not a thread per connection: a connection only holds memory here, never a thread, so slow or
// idle clients cannot starve the workers (docs/design-notes.md, "HTTP transport"). What it
// enforces before a handler runs:
// - a whole-request deadline (headers and body) counted from the request's first byte, an idle
//   limit for keep-alive connections, and a write deadline;
// - header and body size limits for every transfer encoding (chunked bodies count decoded bytes);
//   compressed bodies (Content-Encoding other than identity) are refused, never inflated;
// - route lookup and authorisation from the headers alone, so an unauthorised or unknown request is
//   answered without reading its body;
// - a connection cap: past it, a connection is answered once (health routes normally, anything
//   else 503) and closed; a bounded queue per worker lane (503 when full).
// Handlers run on worker pools by lane (reads: CPU-bound scoring; writes: fsync-bound ingest), so
// one kind of work does not queue behind the other; "inline" routes (health, metrics) run on the
// I/O threads and stay answerable when every worker is busy.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

namespace driftrec::serve {

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       ///< 0 = any free port
  int io_threads = 1;                    ///< threads running the event loop (parsing, writing)
  int read_workers = 8;                  ///< workers for Lane::read
  int write_workers = 16;                ///< workers for Lane::write (feedback waits on fsync here)
  std::size_t max_connections = 1024;    ///< open connections; more are answered once and closed
  std::size_t max_pending = 1024;        ///< queued + running requests per lane before 503
  std::size_t max_body_bytes = 1 << 20;  ///< decoded body size (any transfer encoding)
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds request_timeout{10000};  ///< first byte to complete request
  std::chrono::milliseconds idle_timeout{30000};     ///< keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{10000};    ///< sending one response
};

/// A request as the routes see it. Path and query values are percent-decoded.
struct Request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names in lower case
  std::string body;
  std::vector<std::string> matches;  ///< the route pattern's capture groups

  bool has_param(const std::string& name) const;
  std::string param(const std::string& name) const;  ///< first value, "" when absent
  std::string header(const std::string& lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// Which worker pool runs a route's handler.
enum class Lane { inline_io, read, write };

/// Answers a deferred request (Route::deferred): call it exactly once, from any thread.
using Reply = std::function<void(Response)>;

struct Route {
  std::string method;
  std::regex pattern;  ///< matched against the whole decoded path
  std::string name;    ///< for metrics
  Lane lane = Lane::read;
  /// Checked from the headers before the body is read; a returned response is sent instead
  /// (and the connection closed, the body unread).
  std::function<std::optional<Response>(const Request& head)> admit;
  std::function<void(const Request&, Response&)> handler;
  /// Instead of `handler`: a route whose answer comes later, e.g. once a commit thread has made the
  /// request durable. It must call the Reply exactly once, or throw without calling it (answered
  /// 500). The request counts against its lane's max_pending until answered, and the transport
  /// waits for every deferred answer before it is destroyed.
  std::function<void(const Request&, Reply)> deferred;
  /// A deferred route whose complete body is at most this many bytes runs on the I/O thread instead
  /// of the lane's pool: for handlers that only parse and queue, the hand-off costs more than the
  /// work. Larger bodies (longer to parse) still go to the pool. 0 = always the pool.
  std::size_t inline_body_bytes = 0;
  /// Instead of `handler`: requests of this route that arrive while the lane's workers are busy
  /// queue, and a worker takes up to `max_batch` of them in one call (e.g. to encode their users'
  /// states in one pass). requests[i] is answered through replies[i] (any thread, once each); one
  /// left unanswered when the call throws is answered 500.
  std::function<void(const std::vector<const Request*>& requests, const std::vector<Reply>& replies)> batch;
  std::size_t max_batch = 16;
};

/// Called once per answered request: route name ("unmatched" for 404/405, "rejected" for refusals
/// made before the route was known),
/// seconds from complete request to handler end, status.
using Observer = std::function<void(const std::string& route, double seconds, int status)>;

/// A JSON reply. Bytes that are not UTF-8 (ids taken from paths) are replaced, not fatal.
Response json_response(int status, const nlohmann::json& body);

/// The JSON error body every refusal uses: {"error": {"code", "message"}}.
Response error_response(int status, const std::string& code, const std::string& message);

class HttpTransport {
 public:
  /// Binds the socket (IoError when it cannot). Routes are tried in order.
  HttpTransport(TransportOptions options, std::vector<Route> routes, Observer observer);
  ~HttpTransport();
  int port() const;
  /// Serves until stop() (blocks; runs the I/O threads).
  void run();
  /// Stops accepting, closes connections, stops the workers; run() returns. Any thread.
  void stop();
  /// Open connections now (for tests and metrics).
  std::size_t connections() const;

  struct Impl;  ///< opaque; public so the connection class in the .cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace driftrec::serve
