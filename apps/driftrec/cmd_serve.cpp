// driftrec serve: the HTTP server. SIGHUP reloads the model directory; SIGINT/SIGTERM stop cleanly.
#include <algorithm>
#include <iostream>
#include <thread>

#include "commands.h"
#include "common.h"
#include "driftrec/core/error.h"
#include "driftrec/serve/http_server.h"
#include "serve_process.h"
#include "store_flags.h"

namespace driftrec::cli {

Runner add_serve(CLI::App& app, const GlobalFlags& g) {
  struct Opts {
    std::string model_dir, token_file, admin_token_file;
    StoreFlags store{"sqlite://events.db", ""};
    double cache_mb = 256, request_timeout = 10, idle_timeout = 30;
    serve::HttpOptions http;
    serve::ServiceOptions service;
    DataFlags import;
    std::string replica = "auto";
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model_dir, "model directory to serve")->required();
  o->store.add_to(app, false);
  app.add_option("--host", o->http.host, "address to listen on");
  app.add_option("--port", o->http.port, "port (0 = any free port, printed at start)")->check(CLI::Range(0, 65535));
  app.add_option("--token-file", o->token_file, "file holding the bearer token for writes/admin (else DRIFTREC_TOKEN)");
  app.add_option("--admin-token-file", o->admin_token_file,
                 "file holding the bearer token for admin routes such as reload (else DRIFTREC_ADMIN_TOKEN; "
                 "without one, admin routes are off)");
  app.add_option("--model-root", o->http.model_root,
                 "reload may name model directories under this one (default: only the served directory)");
  app.add_flag("--no-auth", o->http.allow_no_auth,
               "accept writes and admin calls without a token (local testing only)");
  app.add_option("--cache-mb", o->cache_mb, "memory for cached user states (least recently used are dropped)")
      ->check(CLI::Range(1.0, 1e6));
  app.add_option("--max-connections", o->http.max_connections,
                 "open connections; past it a connection gets one answer (503 unless a health route) and is closed")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--request-timeout", o->request_timeout,
                 "seconds from a request's first byte to its last (slower requests get 408)")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--idle-timeout", o->idle_timeout, "seconds a keep-alive connection may wait for its next request")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--io-threads", o->http.io_threads, "event-loop threads (HTTP parsing, health, writing replies)")
      ->check(CLI::Range(1, 64));
  app.add_option("--write-threads", o->http.write_threads,
                 "workers for feedback, event batches over 8 KiB (parsed there; single events are committed by the "
                 "ingest thread) and reload")
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-k", o->http.max_k, "largest k a request may ask for")->check(CLI::PositiveNumber);
  app.add_option("--history-limit", o->service.history_limit, "events kept per user state")->check(CLI::PositiveNumber);
  add_group_flags(app, o->service.groups);
  app.add_option("--retrieval", o->service.retrieval, "exact, or hnsw (FAISS; for ials and bpr) for large catalogs")
      ->check(CLI::IsMember({"exact", "hnsw"}));
  app.add_option("--feedback-slates", o->service.feedback_slates,
                 "recent recommendations kept in memory so POST /v1/feedback can name them")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--feedback-ttl", o->service.feedback_ttl_seconds,
                 "seconds after a recommendation that its feedback is accepted")
      ->check(CLI::PositiveNumber);
  app.add_option("--hnsw-m", o->service.hnsw.m, "HNSW graph degree")->check(CLI::Range(2, 512));
  app.add_option("--hnsw-ef-search", o->service.hnsw.ef_search, "HNSW query beam")->check(CLI::Range(1, 100000));
  app.add_option("--retention-days", o->service.retention_days,
                 "purge events and feedback older than this many days, hourly and at start (0 = keep all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--replica", o->replica,
                 "follow the shared store's log so events stored by other servers change this one's user states: "
                 "on, off, or auto (on for postgresql:// stores)")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  app.add_option("--follow-ms", o->service.follow_ms,
                 "replica: longest wait between looks at the store (PostgreSQL notifies sooner)")
      ->check(CLI::Range(1, 60000));
  o->import.add_to(app, false, "--import");
  return [o, &g]() {
    o->http.token = read_token(o->token_file, "DRIFTREC_TOKEN");
    o->http.admin_token = read_token(o->admin_token_file, "DRIFTREC_ADMIN_TOKEN");
    o->http.threads = g.threads > 0 ? g.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    o->http.request_timeout_ms = static_cast<int>(o->request_timeout * 1000);
    o->http.idle_timeout_ms = static_cast<int>(o->idle_timeout * 1000);
    o->service.cache_bytes = static_cast<std::size_t>(o->cache_mb * 1024 * 1024);
    auto st = o->store.open();
    o->service.replica = o->replica == "on" || (o->replica == "auto" && st->url().rfind("postgres", 0) == 0);
    if (!o->import.path.empty()) {
      if (st->count() == 0)
        log_import(store::import_dataset(*st, o->import.load()), st->url());
      else
        log_info("store already holds " + std::to_string(st->count()) + " events; --import skipped");
    }
    const auto signals = block_server_signals();  // before any other thread starts
    serve::Service service(o->model_dir, std::move(st), o->service);
    serve::HttpServer server(service, o->http);
    std::cout << "listening on http://" << o->http.host << ":" << server.port() << std::endl;
    serve_until_stopped(service, server, signals);
    return 0;
  };
}

}  // namespace driftrec::cli
