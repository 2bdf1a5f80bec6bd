// A small closed-loop HTTP load client for `driftrec serve` (loopback only).
//   serve_load recommend --port P --concurrency C --seconds S --users N [--k 10] [--policy SPEC]
//   serve_load floor     --port P --concurrency C --seconds S   (GET /healthz/live: the HTTP floor)
//   serve_load ingest    --port P --concurrency C --seconds S --batch B --token T [--acked FILE] [--items N]
//   serve_load fresh     --port P --token T --requests N --users N --items N [--read-port P2]
//   serve_load mixed     --port P --concurrency C --writers W --seconds S --batch B --token T
//                        --users N --items N [--new-users-per-second R] [--pid SERVER_PID]
//   serve_load feedback  --port P --concurrency C --seconds S --token T --users N --requests R
//                        [--k 10] [--policy SPEC] [--click-every 10]
// Prints one JSON object: requests, errors, throughput, latency p50/p90/p99/p99.9/max (ms), events/s.
// mixed: C - W clients read recommendations (known users, plus never-seen ids at R per second),
// W clients ingest batches of B; latency per kind, errors per kind, and with --pid the server's
// resident memory sampled every second (to show it stays flat).
// feedback: each client first asks for R slates (k items, users drawn from N; not timed), then
// posts feedback for their positions one request each (every `click-every`-th a click, which is
// also stored as the user's event and updates their state; the rest impressions) until S seconds
// pass or its slates run out: feedback rows per second and POST /v1/feedback latency.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Args {
  std::string mode;
  int read_port = 0;  ///< fresh: read the recommendations from another replica
  int port = 8080, concurrency = 1, batch = 1, users = 1000, items = 1000, k = 10, requests = 200, writers = 0, pid = 0,
      click_every = 10;
  double new_users_per_second = 0;
  double seconds = 5;
  std::string token, acked, user_prefix = "u", item_prefix = "i", policy;
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2)
    throw std::runtime_error("usage: serve_load recommend|floor|ingest|fresh|mixed|feedback [--port P] ...");
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--port")
      a.port = std::stoi(v);
    else if (k == "--read-port")
      a.read_port = std::stoi(v);
    else if (k == "--concurrency")
      a.concurrency = std::stoi(v);
    else if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--batch")
      a.batch = std::stoi(v);
    else if (k == "--users")
      a.users = std::stoi(v);
    else if (k == "--items")
      a.items = std::stoi(v);
    else if (k == "--k")
      a.k = std::stoi(v);
    else if (k == "--requests")
      a.requests = std::stoi(v);
    else if (k == "--token")
      a.token = v;
    else if (k == "--writers")
      a.writers = std::stoi(v);
    else if (k == "--pid")
      a.pid = std::stoi(v);
    else if (k == "--new-users-per-second")
      a.new_users_per_second = std::stod(v);
    else if (k == "--acked")
      a.acked = v;
    else if (k == "--user-prefix")
      a.user_prefix = v;
    else if (k == "--item-prefix")
      a.item_prefix = v;
    else if (k == "--policy")
      a.policy = v;
    else if (k == "--click-every")
      a.click_every = std::max(1, std::stoi(v));
    else
      throw std::runtime_error("unknown option " + k);
  }
  return a;
}

double pct(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q / 100.0 * static_cast<double>(v.size())))];
}

/// The latency summary every mode prints (ms): the tail up to the slowest request, where a
/// store's checkpoint stalls show even when they are rarer than 1 request in 100.
nlohmann::json latency(std::vector<double>& v) {
  return {{"p50", pct(v, 50)},
          {"p90", pct(v, 90)},
          {"p99", pct(v, 99)},
          {"p999", pct(v, 99.9)},
          {"max", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())}};
}

/// Keep-alive, no Nagle delay, 10 s read timeout: one connection per load worker.
void keep_alive_client(httplib::Client& c) {
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(10, 0);
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

/// "&policy=..." with the spec's '=' and ',' percent-encoded ("" for the default policy).
std::string policy_query(const std::string& policy) {
  if (policy.empty()) return "";
  std::string q = "&policy=";
  for (char ch : policy) q += ch == '=' ? "%3D" : ch == ',' ? "%2C" : std::string(1, ch);
  return q;
}

/// Feedback at HTTP level; see the header comment.
int run_feedback(const Args& a) {
  using clock = std::chrono::steady_clock;
  struct Slate {
    std::string request_id;
    int size = 0;
  };
  // Not timed: every client's slates, asked for up front (they stay valid for --feedback-ttl).
  std::vector<std::vector<Slate>> slates(static_cast<std::size_t>(a.concurrency));
  std::atomic<long> errors{0}, rows{0}, clicks{0};
  {
    std::vector<std::thread> setup;
    for (int t = 0; t < a.concurrency; ++t)
      setup.emplace_back([&, t] {
        httplib::Client c("127.0.0.1", a.port);
        keep_alive_client(c);
        std::mt19937 rng(static_cast<unsigned>(t + 1));
        for (int n = 0; n < a.requests; ++n) {
          const std::string path = "/v1/users/" + a.user_prefix + std::to_string(1 + rng() % a.users) +
                                   "/recommendations?k=" + std::to_string(a.k) + policy_query(a.policy);
          const auto r = c.Get(path.c_str());
          if (!r || r->status != 200) {
            ++errors;
            continue;
          }
          const auto j = nlohmann::json::parse(r->body);
          slates[static_cast<std::size_t>(t)].push_back(
              {j["request_id"].get<std::string>(), static_cast<int>(j["items"].size())});
        }
      });
    for (auto& s : setup) s.join();
  }
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(a.concurrency));
  const httplib::Headers auth = {{"Authorization", "Bearer " + a.token}};
  const auto t0 = clock::now();
  const auto t_end = t0 + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(a.seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < a.concurrency; ++t)
    workers.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", a.port);
      keep_alive_client(c);
      auto& mine = lat[static_cast<std::size_t>(t)];
      long n = 0;
      for (const auto& s : slates[static_cast<std::size_t>(t)])
        for (int pos = 1; pos <= s.size && clock::now() < t_end; ++pos) {
          const bool click = ++n % a.click_every == 0;
          const std::string body =
              nlohmann::json{{"request_id", s.request_id}, {"position", pos}, {"clicked", click}}.dump();
          const auto t1 = clock::now();
          const auto r = c.Post("/v1/feedback", auth, body, "application/json");
          if (r && r->status == 200) {
            mine.push_back(std::chrono::duration<double, std::milli>(clock::now() - t1).count());
            ++rows;
            clicks += click;
          } else {
            ++errors;
          }
        }
    });
  for (auto& w : workers) w.join();
  const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  nlohmann::json out = {{"mode", "feedback"},
                        {"concurrency", a.concurrency},
                        {"policy", a.policy.empty() ? "greedy" : a.policy},
                        {"seconds", seconds},
                        {"feedback_rows", rows.load()},
                        {"clicks", clicks.load()},
                        {"errors", errors.load()},
                        {"feedback_per_second", static_cast<double>(rows.load()) / seconds},
                        {"latency_ms", latency(all)}};
  std::cout << out.dump() << std::endl;
  return errors > 0 ? 1 : 0;
}

/// Readers and writers at once; see the header comment.
int run_mixed(const Args& a) {
  using clock = std::chrono::steady_clock;
  const auto t_end =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(a.seconds));
  const int writers = std::clamp(a.writers, 0, a.concurrency);
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(a.concurrency));
  std::atomic<long> read_errors{0}, write_errors{0}, events{0}, new_ids{0};
  const httplib::Headers auth = {{"Authorization", "Bearer " + a.token}};
  const double new_every = a.new_users_per_second > 0 ? 1.0 / a.new_users_per_second : 0;
  std::vector<std::thread> workers;
  for (int t = 0; t < a.concurrency; ++t) {
    workers.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", a.port);
      keep_alive_client(c);
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      auto& mine = lat[static_cast<std::size_t>(t)];
      const bool writer = t < writers;
      long seq = 0;
      auto next_new = clock::now();
      while (clock::now() < t_end) {
        const auto t0 = clock::now();
        bool ok = false;
        if (writer) {
          nlohmann::json batch = nlohmann::json::array();
          for (int b = 0; b < a.batch; ++b)
            batch.push_back({{"user", a.user_prefix + std::to_string(1 + rng() % a.users)},
                             {"item", a.item_prefix + std::to_string(1 + rng() % a.items)},
                             {"ts", 1800000000 + (++seq) * 64 + t},
                             {"behavior", "view"}});
          const auto r = c.Post("/v1/events", auth, batch.dump(), "application/json");
          ok = r && r->status == 200;
          if (ok)
            events += a.batch;
          else
            ++write_errors;
        } else {
          std::string user = a.user_prefix + std::to_string(1 + rng() % a.users);
          // Never-seen ids (one reader in eight makes them, spread over the readers' time).
          if (new_every > 0 && t % 8 == writers % 8 && t0 >= next_new) {
            user = "never-seen-" + std::to_string(t) + "-" + std::to_string(new_ids++);
            next_new = t0 + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(
                                new_every * static_cast<double>((a.concurrency - writers + 7) / 8)));
          }
          const auto r = c.Get(("/v1/users/" + user + "/recommendations?k=" + std::to_string(a.k)).c_str());
          ok = r && r->status == 200;
          if (!ok) ++read_errors;
        }
        if (ok) mine.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
      }
    });
  }
  std::vector<long> rss;
  if (a.pid > 0) {
    while (clock::now() < t_end) {
      rss.push_back(rss_kib(a.pid));
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  for (auto& w : workers) w.join();
  std::vector<double> reads, writes;
  for (int t = 0; t < a.concurrency; ++t) {
    auto& v = lat[static_cast<std::size_t>(t)];
    (t < writers ? writes : reads).insert((t < writers ? writes : reads).end(), v.begin(), v.end());
  }
  nlohmann::json out = {{"mode", "mixed"},
                        {"concurrency", a.concurrency},
                        {"writers", writers},
                        {"seconds", a.seconds},
                        {"batch", a.batch},
                        {"errors", read_errors.load() + write_errors.load()},
                        {"never_seen_users", new_ids.load()}};
  out["recommend"] = {{"requests", reads.size()},
                      {"errors", read_errors.load()},
                      {"requests_per_second", static_cast<double>(reads.size()) / a.seconds},
                      {"latency_ms", latency(reads)}};
  out["ingest"] = {{"requests", writes.size()},
                   {"errors", write_errors.load()},
                   {"events_per_second", static_cast<double>(events.load()) / a.seconds},
                   {"latency_ms", latency(writes)}};
  if (!rss.empty()) {
    out["server_rss_mib"] = nlohmann::json::array();
    for (auto r : rss) out["server_rss_mib"].push_back(static_cast<double>(r) / 1024.0);
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  try {
    a = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_load: %s\n", e.what());
    return 2;
  }
  if (a.mode == "mixed") return run_mixed(a);
  if (a.mode == "feedback") return run_feedback(a);
  using clock = std::chrono::steady_clock;
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(a.concurrency));
  std::atomic<long> errors{0}, events{0};
  std::mutex acked_mu;
  std::ofstream acked;
  if (!a.acked.empty()) acked.open(a.acked, std::ios::app);
  const httplib::Headers auth = {{"Authorization", "Bearer " + a.token}};
  nlohmann::json out = {{"mode", a.mode}, {"concurrency", a.concurrency}};

  if (a.mode == "fresh") {
    // Event-to-fresh-recommendation: POST one event, then GET the user's recommendations; the
    // response must already count the event (history_length grows by one). With --read-port the
    // GETs go to another replica, polled until its answer counts the event (at most 5 s): the
    // cross-replica freshness.
    httplib::Client c("127.0.0.1", a.port), reader("127.0.0.1", a.read_port > 0 ? a.read_port : a.port);
    for (auto* x : {&c, &reader}) {
      x->set_keep_alive(true);
      x->set_tcp_nodelay(true);
    }
    std::mt19937 rng(7);
    std::vector<double> v;
    for (int n = 0; n < a.requests; ++n) {
      const std::string user = "fresh" + std::to_string(n % 50);
      const auto before = reader.Get(("/v1/users/" + user + "/recommendations?k=10").c_str());
      if (!before || before->status != 200) {
        ++errors;
        continue;
      }
      const auto h0 = nlohmann::json::parse(before->body)["history_length"].get<long>();
      const std::string body =
          nlohmann::json{{"user", user}, {"item", a.item_prefix + std::to_string(1 + rng() % a.items)}}.dump();
      const auto t0 = clock::now();
      const auto p = c.Post("/v1/events", auth, body, "application/json");
      if (p && p->status == 200 && nlohmann::json::parse(p->body).value("unknown_items", 0) > 0)
        continue;  // an item the model never saw: stored, but no state can count it
      auto g = reader.Get(("/v1/users/" + user + "/recommendations?k=10").c_str());
      long h1 = g && g->status == 200 ? nlohmann::json::parse(g->body)["history_length"].get<long>() : -1;
      while (a.read_port > 0 && g && g->status == 200 && h1 == h0 && clock::now() - t0 < std::chrono::seconds(5)) {
        g = reader.Get(("/v1/users/" + user + "/recommendations?k=10").c_str());
        if (g && g->status == 200) h1 = nlohmann::json::parse(g->body)["history_length"].get<long>();
      }
      const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
      if (!p || p->status != 200 || !g || g->status != 200) {
        ++errors;
        continue;
      }
      if (h1 != h0 + 1 && h0 < 500) ++errors;  // not fresh (unknown items are not in the history)
      v.push_back(ms);
    }
    out["requests"] = v.size();
    out["errors"] = errors.load();
    out["latency_ms"] = latency(v);
    std::cout << out.dump() << std::endl;
    return errors > 0 ? 1 : 0;
  }

  const std::string policy = policy_query(a.policy);
  const auto t_end =
      clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(a.seconds));
  std::vector<std::thread> workers;
  for (int t = 0; t < a.concurrency; ++t) {
    workers.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", a.port);
      keep_alive_client(c);
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      long seq = 0;
      auto& mine = lat[static_cast<std::size_t>(t)];
      while (clock::now() < t_end) {
        const auto t0 = clock::now();
        bool ok = false;
        if (a.mode == "floor") {  // the HTTP floor: a route that does nothing (answered on the event loop)
          const auto r = c.Get("/healthz/live");
          ok = r && r->status == 200;
        } else if (a.mode == "recommend") {
          const std::string path = "/v1/users/" + a.user_prefix + std::to_string(1 + rng() % a.users) +
                                   "/recommendations?k=" + std::to_string(a.k) + policy;
          const auto r = c.Get(path.c_str());
          ok = r && r->status == 200;
        } else {
          nlohmann::json batch = nlohmann::json::array();
          std::vector<std::string> keys;
          for (int b = 0; b < a.batch; ++b) {
            const std::string user = "load" + std::to_string(t) + "_" + std::to_string(rng() % 1000);
            ++seq;
            batch.push_back({{"user", user},
                             {"item", a.item_prefix + std::to_string(1 + rng() % a.items)},
                             {"ts", 1700000000 + seq * 64 + t},
                             {"behavior", "view"}});
            keys.push_back(user + "\t" + std::to_string(1700000000 + seq * 64 + t));
          }
          const auto r = c.Post("/v1/events", auth, batch.dump(), "application/json");
          ok = r && r->status == 200;
          if (ok) {
            events += a.batch;
            if (acked.is_open()) {
              std::lock_guard lock(acked_mu);
              for (const auto& k : keys) acked << k << '\n';
              acked.flush();
            }
          } else if (!r) {
            ++errors;
            break;  // server gone (durability test): stop this worker
          }
        }
        if (ok)
          mine.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
        else
          ++errors;
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  out["requests"] = all.size();
  out["errors"] = errors.load();
  out["seconds"] = a.seconds;
  out["requests_per_second"] = static_cast<double>(all.size()) / a.seconds;
  if (a.mode == "ingest") {
    out["batch"] = a.batch;
    out["events_per_second"] = static_cast<double>(events.load()) / a.seconds;
  }
  out["latency_ms"] = latency(all);
  std::cout << out.dump() << std::endl;
  return 0;
}
