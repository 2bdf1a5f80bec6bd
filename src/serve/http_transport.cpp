// The transport's implementation (see http_transport.h). One file past 500 lines on purpose: the
// connection state machine (Session) and the shared state it runs on (Impl: pools, counters, batch
// queues) reach into each other and are private to this file.
#include "http_transport.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "driftrec/core/error.h"
#include "driftrec/core/log.h"

namespace driftrec::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// %XX -> byte ('+' -> space in query strings); a malformed escape stays as it is.
std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void split_target(std::string_view target, Request& r) {
  const auto q = target.find('?');
  r.path = percent_decode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto part = rest.substr(0, amp);
    if (!part.empty()) {
      const auto eq = part.find('=');
      r.query.emplace_back(percent_decode(part.substr(0, eq), true),
                           eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool Request::has_param(const std::string& name) const {
  for (const auto& [k, v] : query)
    if (k == name) return true;
  return false;
}

std::string Request::param(const std::string& name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return "";
}

std::string Request::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return "";
}

Response json_response(int status, const nlohmann::json& body) {
  return Response{status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Response error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", {{"code", code}, {"message", message}}}});
}

class Session;

/// Shared by the transport, its sessions and any deferred request still to be answered (a Reply
/// keeps it alive, so a late answer posts to a stopped loop instead of a destroyed one).
struct HttpTransport::Impl : std::enable_shared_from_this<HttpTransport::Impl> {
  TransportOptions opt;
  std::vector<Route> routes;
  Observer observe;
  // Counters before the loop: handlers the loop still holds when it is destroyed release their
  // sessions, which count themselves out.
  std::array<std::atomic<std::size_t>, 3> pending{};
  std::atomic<std::size_t> open{0};
  std::atomic<bool> stopping{false};
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::unique_ptr<asio::thread_pool> read_pool, write_pool;
  int port = 0;
  // Requests of batch routes waiting for a worker, by route.
  std::mutex batch_mu;
  std::map<const Route*, std::deque<std::shared_ptr<Session>>> batch_queue;

  Impl(TransportOptions o, std::vector<Route> r, Observer obs)
      : opt(std::move(o)), routes(std::move(r)), observe(std::move(obs)) {}

  ~Impl() { stop_workers(); }

  /// Workers first: their tasks hold sessions whose sockets belong to ioc. Called by the transport's
  /// destructor, on its owner's thread: the last reference to Impl may be dropped later on a thread
  /// that must not join these pools (a worker, or the thread answering a deferred request).
  void stop_workers() {
    for (auto* p : {&read_pool, &write_pool}) {
      if (!*p) continue;
      (*p)->stop();
      (*p)->join();
      p->reset();
    }
  }

  void listen();
  void do_accept();
  /// A worker's turn at a batch route: answers up to max_batch of its queued requests in one call.
  void run_batch(const Route* route, std::atomic<std::size_t>& pending);
  asio::thread_pool* pool(Lane lane) const {
    return lane == Lane::write ? write_pool.get() : lane == Lane::read ? read_pool.get() : nullptr;
  }
};

/// One connection: wait for a request (idle limit), read its headers, admit it, read its body
/// (whole-request deadline), run its handler on its lane, write the answer, repeat while kept alive.
/// Every step runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpTransport::Impl& impl, bool overflow)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), impl_(impl), overflow_(overflow) {
    ++impl_.open;
  }
  ~Session() { --impl_.open; }
  void start() { wait_for_request(); }

 private:
  using Parser = http::request_parser<http::string_body>;

  /// Arms the one deadline of this connection; on expiry the pending socket operation is cancelled.
  void arm(Clock::duration d) {
    const auto gen = ++timer_gen_;
    timed_out_ = false;
    timer_.expires_after(d);
    timer_.async_wait([self = weak_from_this(), gen](const beast::error_code& ec) {
      auto s = self.lock();
      if (ec || !s || gen != s->timer_gen_) return;
      s->timed_out_ = true;
      beast::error_code ignored;
      s->socket_.cancel(ignored);
    });
  }
  /// A connection past the cap gets one short chance (2 s at most) for its single request.
  Clock::duration limit(Clock::duration d) const {
    return overflow_ ? std::min<Clock::duration>(d, std::chrono::seconds(2)) : d;
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void wait_for_request() {
    if (impl_.stopping) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined: the next request is already here
    arm(limit(impl_.opt.idle_timeout));
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->close();  // idle limit, client gone, or shutting down: nothing to answer
      self->read_header();
    });
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(impl_.opt.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(impl_.opt.max_header_bytes));
    req_ = Request{};
    route_ = nullptr;
    arm(limit(impl_.opt.request_timeout));
    http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->read_failed(ec);
      self->on_header();
    });
  }

  void on_header() {
    const auto& m = parser_->get();
    req_.method = std::string(m.method_string());
    split_target(std::string_view(m.target().data(), m.target().size()), req_);
    for (const auto& f : m)
      req_.headers.emplace_back(lower(std::string_view(f.name_string().data(), f.name_string().size())),
                                std::string(f.value()));
    keep_alive_ = m.keep_alive() && !overflow_;
    const auto encoding = lower(req_.header("content-encoding"));
    if (!encoding.empty() && encoding != "identity")
      return refuse(error_response(415, "unsupported_encoding",
                                   "Content-Encoding '" + encoding + "' is not accepted; send the body uncompressed"));
    bool path_known = false;
    for (const auto& r : impl_.routes) {
      std::smatch sm;
      if (!std::regex_match(req_.path, sm, r.pattern)) continue;
      path_known = true;
      if (r.method != req_.method) continue;
      route_ = &r;
      for (std::size_t i = 1; i < sm.size(); ++i) req_.matches.push_back(sm[i].str());
      break;
    }
    if (!route_)
      return refuse(path_known
                        ? error_response(405, "method_not_allowed", req_.method + " is not allowed on " + req_.path)
                        : error_response(404, "no_route", "no route " + req_.method + " " + req_.path));
    if (overflow_ && route_->lane != Lane::inline_io)
      return refuse(error_response(
          503, "too_many_connections",
          "the server has " + std::to_string(impl_.opt.max_connections) + " open connections; retry later"));
    if (route_->admit)
      if (auto r = route_->admit(req_)) return refuse(std::move(*r));
    if (parser_->is_done()) return dispatch();
    if (lower(req_.header("expect")) == "100-continue") {
      continue_ = http::response<http::empty_body>{http::status::continue_, m.version()};
      http::async_write(socket_, continue_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->read_failed(ec);
      self->dispatch();
    });
  }

  void read_failed(const beast::error_code& ec) {
    keep_alive_ = false;
    if (timed_out_)
      return refuse(error_response(
          408, "request_timeout",
          "the request was not complete within " + std::to_string(impl_.opt.request_timeout.count()) + " ms"));
    if (ec == http::error::body_limit)
      return refuse(error_response(413, "body_too_large",
                                   "request body larger than " + std::to_string(impl_.opt.max_body_bytes) + " bytes"));
    if (ec == http::error::header_limit)
      return refuse(
          error_response(431, "header_too_large",
                         "request headers larger than " + std::to_string(impl_.opt.max_header_bytes) + " bytes"));
    const bool gone = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                      ec.category() != http::make_error_code(http::error::bad_target).category();
    if (gone) return close();  // the client went away mid-request: nobody to answer
    refuse(error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
  }

  /// Answers without reading further and closes the connection afterwards.
  /// Metrics name it under its route once the route is known, under "unmatched" for 404/405, and
  /// under "rejected" when the request was refused before its route was looked up.
  void refuse(Response r) {
    keep_alive_ = false;
    t_start_ = Clock::now();
    const std::string name = route_ ? route_->name : r.status == 404 || r.status == 405 ? "unmatched" : "rejected";
    send(std::move(r), name);
  }

  void dispatch() {
    t_start_ = Clock::now();
    req_.body = parser_->release().body();
    const Lane lane = route_->lane;
    if (lane == Lane::inline_io && !route_->deferred) {
      run_handler();
      return send(std::move(res_), route_->name);
    }
    auto& pending = impl_.pending[static_cast<std::size_t>(lane)];
    if (pending.fetch_add(1) >= impl_.opt.max_pending) {
      --pending;
      return send(error_response(503, "overloaded", "too many requests in progress; retry later"), route_->name);
    }
    if (route_->batch) {
      {
        std::lock_guard lock(impl_.batch_mu);
        impl_.batch_queue[route_].push_back(shared_from_this());
      }
      asio::post(*impl_.pool(lane),
                 [owner = impl_.shared_from_this(), route = route_, &pending] { owner->run_batch(route, pending); });
      return;
    }
    if (route_->deferred) {
      if (lane == Lane::inline_io || req_.body.size() <= route_->inline_body_bytes) return run_deferred(pending);
      asio::post(*impl_.pool(lane), [self = shared_from_this(), &pending] { self->run_deferred(pending); });
      return;
    }
    asio::post(*impl_.pool(lane), [self = shared_from_this(), &pending] {
      self->run_handler();
      self->reply_for(pending)(std::move(self->res_));
    });
  }

  void run_handler() {
    res_ = Response{};
    try {
      route_->handler(req_, res_);
    } catch (const std::exception& e) {
      log_error("internal error on " + req_.method + " " + req_.path + ": " + e.what());
      res_ = error_response(500, "internal", "internal error; see the server log");
    }
  }

 public:
  /// The Reply of this connection's current request: once, any thread; posts the answer back here.
  Reply reply_for(std::atomic<std::size_t>& pending) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    return [self = shared_from_this(), owner = impl_.shared_from_this(), &pending, answered](Response r) {
      if (answered->exchange(true)) return;  // answered already (a handler that replied, then threw)
      --pending;
      asio::post(self->socket_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->send(std::move(r), self->route_->name); });
    };
  }
  const Request& request() const { return req_; }

 private:
  /// Runs a deferred route; its Reply (once, any thread) posts the answer back to this connection.
  void run_deferred(std::atomic<std::size_t>& pending) {
    const Reply reply = reply_for(pending);
    try {
      route_->deferred(req_, reply);
    } catch (const std::exception& e) {
      log_error("internal error on " + req_.method + " " + req_.path + ": " + e.what());
      reply(error_response(500, "internal", "internal error; see the server log"));
    }
  }

  void send(Response r, const std::string& route_name) {
    if (impl_.observe)
      impl_.observe(route_name, std::chrono::duration<double>(Clock::now() - t_start_).count(), r.status);
    out_ = http::response<http::string_body>{static_cast<http::status>(r.status), 11};
    out_.set(http::field::content_type, r.content_type);
    out_.body() = std::move(r.body);
    out_.keep_alive(keep_alive_ && !impl_.stopping);
    out_.prepare_payload();
    arm(impl_.opt.write_timeout);
    http::async_write(socket_, out_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->out_.keep_alive()) return self->close();
      self->out_ = {};
      self->wait_for_request();
    });
  }

  void close() {
    disarm();
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  HttpTransport::Impl& impl_;
  const bool overflow_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  Request req_;
  Response res_;
  const Route* route_ = nullptr;
  bool keep_alive_ = false;
  bool timed_out_ = false;
  std::uint64_t timer_gen_ = 0;
  Clock::time_point t_start_;
  http::response<http::string_body> out_;
  http::response<http::empty_body> continue_;
};

void HttpTransport::Impl::run_batch(const Route* route, std::atomic<std::size_t>& pending) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(batch_mu);
    // A fair share of what is queued (the other workers take the rest), at most max_batch.
    auto& queue = batch_queue[route];
    const auto workers = static_cast<std::size_t>(route->lane == Lane::write ? opt.write_workers : opt.read_workers);
    const auto share = std::min(std::max<std::size_t>(1, route->max_batch), (queue.size() + workers - 1) / workers);
    while (!queue.empty() && sessions.size() < share) {
      sessions.push_back(std::move(queue.front()));
      queue.pop_front();
    }
  }
  if (sessions.empty()) return;  // an earlier turn took them
  std::vector<const Request*> requests;
  std::vector<Reply> replies;
  for (const auto& s : sessions) {
    requests.push_back(&s->request());
    replies.push_back(s->reply_for(pending));
  }
  try {
    route->batch(requests, replies);
  } catch (const std::exception& e) {
    log_error("internal error on " + route->name + ": " + e.what());
    for (const auto& reply : replies) reply(error_response(500, "internal", "internal error; see the server log"));
  }
}

void HttpTransport::Impl::listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(opt.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(opt.host, std::to_string(opt.port), ec);
    if (ec || results.empty()) throw IoError("cannot resolve host '" + opt.host + "': " + ec.message());
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint ep(address, static_cast<unsigned short>(opt.port));
  const auto fail = [&](const char* what) {
    throw IoError("cannot listen on " + opt.host + ":" + std::to_string(opt.port) + " (" + what + ": " + ec.message() +
                  ")");
  };
  acceptor.open(ep.protocol(), ec);
  if (ec) fail("open");
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(ep, ec);
  if (ec) fail("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen");
  port = acceptor.local_endpoint().port();
}

void HttpTransport::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning on the error.
      log_warn("accept failed: " + ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) do_accept();
      });
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // small replies: never wait on Nagle
    const std::size_t n = open.load();
    if (n >= 2 * opt.max_connections) {
      socket.close(ignored);  // far past the cap: not even an answer
    } else {
      std::make_shared<Session>(std::move(socket), *this, n >= opt.max_connections)->start();
    }
    do_accept();
  });
}

HttpTransport::HttpTransport(TransportOptions options, std::vector<Route> routes, Observer observer)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(routes), std::move(observer))) {
  auto& o = impl_->opt;
  if (o.io_threads < 1 || o.read_workers < 1 || o.write_workers < 1)
    throw InvalidInput("io, read and write thread counts must be >= 1");
  if (o.max_connections < 1 || o.max_pending < 1) throw InvalidInput("max_connections and max_pending must be >= 1");
  for (const auto& r : impl_->routes)
    if (r.batch && r.lane == Lane::inline_io)
      throw InvalidInput("route " + r.name + ": a batch route runs on a worker lane, not on the I/O thread");
  impl_->read_pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(o.read_workers));
  impl_->write_pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(o.write_workers));
  impl_->listen();
  impl_->do_accept();
}

HttpTransport::~HttpTransport() {
  stop();
  if (impl_) impl_->stop_workers();
}

int HttpTransport::port() const { return impl_->port; }

std::size_t HttpTransport::connections() const { return impl_->open.load(); }

void HttpTransport::run() {
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->opt.io_threads; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
}

void HttpTransport::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->ioc.stop();
}

}  // namespace driftrec::serve
