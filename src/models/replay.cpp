#include "driftrec/models/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"

namespace driftrec::models {

namespace {
struct Acc {
  std::int64_t n = 0;
  double hr = 0, ndcg = 0, mrr = 0;
  void add(std::int64_t rank, int k) {
    ++n;
    mrr += 1.0 / static_cast<double>(rank + 1);
    if (rank < k) {
      hr += 1;
      ndcg += 1.0 / std::log2(static_cast<double>(rank) + 2.0);
    }
  }
  void merge(const Acc& o) {
    n += o.n;
    hr += o.hr;
    ndcg += o.ndcg;
    mrr += o.mrr;
  }
  ReplayMetrics metrics() const {
    ReplayMetrics m;
    m.events = n;
    if (n > 0) {
      m.hr = hr / static_cast<double>(n);
      m.ndcg = ndcg / static_cast<double>(n);
      m.mrr = mrr / static_cast<double>(n);
    }
    return m;
  }
};

// 0-based rank of `target` among candidates: items scoring higher, or equal with a lower index
// (the TopK tie rule); seen items (except the target) and -inf scores are not candidates.
std::int64_t rank_of(const std::vector<float>& s, std::int32_t target, const std::vector<char>& seen,
                     const std::vector<char>& candidates) {
  const float t = s[static_cast<std::size_t>(target)];
  if (!std::isfinite(t)) return static_cast<std::int64_t>(s.size());
  std::int64_t r = 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (static_cast<std::int32_t>(i) == target || seen[i] || !std::isfinite(s[i])) continue;
    if (!candidates.empty() && (i >= candidates.size() || !candidates[i])) continue;
    if (s[i] > t || (s[i] == t && static_cast<std::int32_t>(i) < target)) ++r;
  }
  return r;
}

// One tracked moment: the category mix of the top-k of `scores` (seen items and non-candidates
// left out, as a live list would) against the user's truth at `ts`.
void track_moment(const eval::InterestTruth& truth, const data::Dataset& full, std::int32_t user, std::int64_t ts,
                  const std::vector<float>& scores, const std::vector<char>& seen, const ReplayOptions& o,
                  eval::TrackingError& out, eval::ShiftFollower& follow) {
  const auto snap = truth.snapshot_at(user, ts);
  if (snap < 0) return;
  std::vector<float> s = scores;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (seen[i] || (!o.candidates.empty() && (i >= o.candidates.size() || !o.candidates[i]))) s[i] = -INFINITY;
  const auto top = top_k(s.data(), s.size(), static_cast<std::size_t>(o.k));
  const auto mix = eval::category_mix(top.items, full.item_table, truth.n_categories());
  out.add_moment(truth.weights(user, snap), mix);
  follow.before(ts, mix);
}

nlohmann::json metrics_json(const ReplayMetrics& m, int k) {
  return {
      {"events", m.events}, {"hr@" + std::to_string(k), m.hr}, {"ndcg@" + std::to_string(k), m.ndcg}, {"mrr", m.mrr}};
}
}  // namespace

nlohmann::json ReplayResult::to_json(int k) const {
  nlohmann::json w = nlohmann::json::array();
  for (const auto& x : windows)
    w.push_back({{"start_ts", x.start_ts},
                 {"end_ts", x.end_ts},
                 {"online", metrics_json(x.online, k)},
                 {"frozen", metrics_json(x.frozen, k)}});
  nlohmann::json j = {{"users", users},
                      {"events_revealed", events_revealed},
                      {"online", metrics_json(online, k)},
                      {"frozen", metrics_json(frozen, k)},
                      {"windows", w},
                      {"seconds", seconds}};
  if (tracked) j["tracking"] = {{"online", tracking_online.to_json()}, {"frozen", tracking_frozen.to_json()}};
  return j;
}

ReplayResult replay(const Model& model, const data::Dataset& full, const ReplayOptions& o,
                    const ProgressCallback& progress) {
  if (o.k < 1) throw InvalidInput("replay: k must be >= 1");
  if (o.windows < 1) throw InvalidInput("replay: windows must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  const auto& log = full.log;
  const auto n_items = model.n_items();
  // Users with replayed events, and the replayed time range.
  std::vector<std::int32_t> users;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
  std::int64_t revealed = 0;
  for (std::int32_t u = 1; u < full.n_users(); ++u) {
    bool any = false;
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r) {
      const auto ts = log.ts[static_cast<std::size_t>(r)];
      if (ts < o.start_ts) continue;
      any = true;
      ++revealed;
      lo = std::min(lo, ts);
      hi = std::max(hi, ts);
    }
    if (any) users.push_back(u);
  }
  if (users.empty()) throw InvalidInput("replay: no event at or after the start time");
  const auto span = hi - lo + 1;
  auto window_of = [&](std::int64_t ts) {
    return static_cast<std::size_t>(std::min<std::int64_t>(o.windows - 1, (ts - lo) * o.windows / span));
  };
  auto is_target = [&](std::int16_t b, std::int16_t d) {
    return (o.target_behaviors.empty() ||
            std::find(o.target_behaviors.begin(), o.target_behaviors.end(), b) != o.target_behaviors.end()) &&
           (o.target_domains.empty() ||
            std::find(o.target_domains.begin(), o.target_domains.end(), d) != o.target_domains.end());
  };
  const int threads = resolve_threads(o.threads);
  std::vector<std::vector<Acc>> acc_on(static_cast<std::size_t>(threads),
                                       std::vector<Acc>(static_cast<std::size_t>(o.windows)));
  auto acc_off = acc_on;
  auto tracking = o.tracking;
  tracking.k = o.k;
  std::vector<eval::TrackingError> track_off(static_cast<std::size_t>(threads), eval::TrackingError(tracking));
  // Per user (in `users` order): online accuracy and tracking, for paired comparisons and, merged,
  // the online totals.
  std::vector<Acc> user_acc(users.size());
  std::vector<eval::TrackingError> user_track(o.truth ? users.size() : 0, eval::TrackingError(tracking));
  std::atomic<std::size_t> done{0};
  std::mutex progress_mu;
  parallel_blocks(users.size(), 16, threads, [&](std::size_t begin, std::size_t end, int tid) {
    std::vector<float> s_on(static_cast<std::size_t>(n_items)), s_off(s_on.size());
    // Items in the user's history so far; `seen` (what ranking leaves out) is it or nothing.
    std::vector<char> in_history(s_on.size(), 0);
    const std::vector<char> nothing(o.exclude_seen ? 0 : s_on.size(), 0);
    const auto& seen = o.exclude_seen ? in_history : nothing;
    for (std::size_t i = begin; i < end; ++i) {
      const auto u = users[i];
      const auto b = log.user_begin(u), e = log.user_end(u);
      auto first = b;
      while (first < e && log.ts[static_cast<std::size_t>(first)] < o.start_ts) ++first;
      auto online = model.encode(u, log.events(b, first));
      const auto frozen = online;
      std::fill(in_history.begin(), in_history.end(), 0);
      for (const auto& ev : online.history) in_history[static_cast<std::size_t>(ev.item)] = 1;
      std::optional<eval::ShiftFollower> follow_on, follow_off;
      if (o.truth) {
        follow_on.emplace(*o.truth, u, o.start_ts - 1, user_track[i]);
        follow_off.emplace(*o.truth, u, o.start_ts - 1, track_off[static_cast<std::size_t>(tid)]);
      }
      for (auto r = first; r < e; ++r) {
        const auto ev = log.event(r);
        const bool candidate = o.candidates.empty() || (static_cast<std::size_t>(ev.item) < o.candidates.size() &&
                                                        o.candidates[static_cast<std::size_t>(ev.item)]);
        const bool known = ev.item >= 1 && ev.item < n_items;
        if (is_target(ev.behavior, ev.domain) && candidate && known &&
            !(o.skip_repeats && in_history[static_cast<std::size_t>(ev.item)])) {
          model.score(online, s_on.data());
          model.score(frozen, s_off.data());
          const auto w = window_of(ev.ts);
          const auto rank_on = rank_of(s_on, ev.item, seen, o.candidates);
          acc_on[static_cast<std::size_t>(tid)][w].add(rank_on, o.k);
          user_acc[i].add(rank_on, o.k);
          acc_off[static_cast<std::size_t>(tid)][w].add(rank_of(s_off, ev.item, seen, o.candidates), o.k);
          if (o.truth) {
            track_moment(*o.truth, full, u, ev.ts, s_on, seen, o, user_track[i], *follow_on);
            track_moment(*o.truth, full, u, ev.ts, s_off, seen, o, track_off[static_cast<std::size_t>(tid)],
                         *follow_off);
          }
        }
        model.observe(online, ev);
        if (o.truth) {
          follow_on->observed();
          follow_off->observed();
        }
        if (known) in_history[static_cast<std::size_t>(ev.item)] = 1;
      }
      if (o.truth) {
        follow_on->finish();
        follow_off->finish();
      }
      const auto d = ++done;
      if (progress && (d % 256 == 0 || d == users.size())) {
        std::lock_guard<std::mutex> g(progress_mu);
        progress({"replay", d, users.size(), ""});
      }
    }
  });
  ReplayResult res;
  res.users = static_cast<std::int64_t>(users.size());
  res.events_revealed = revealed;
  Acc all_on, all_off;
  for (int w = 0; w < o.windows; ++w) {
    Acc on, off;
    for (int t = 0; t < threads; ++t) {
      on.merge(acc_on[static_cast<std::size_t>(t)][static_cast<std::size_t>(w)]);
      off.merge(acc_off[static_cast<std::size_t>(t)][static_cast<std::size_t>(w)]);
    }
    all_on.merge(on);
    all_off.merge(off);
    ReplayWindow rw;
    rw.start_ts = lo + span * w / o.windows;
    rw.end_ts = lo + span * (w + 1) / o.windows;
    rw.online = on.metrics();
    rw.frozen = off.metrics();
    res.windows.push_back(rw);
  }
  res.online = all_on.metrics();
  res.frozen = all_off.metrics();
  // Users with scored events (and, with a truth, tracked moments), the same for every model
  // replayed on the same data and options.
  const auto ks = std::to_string(o.k);
  for (std::size_t i = 0; i < users.size(); ++i) {
    const auto m = user_acc[i].metrics();
    if (m.events == 0 || (o.truth && user_track[i].moments() == 0)) continue;
    res.per_user_ids.push_back(users[i]);
    res.per_user["hr@" + ks].push_back(m.hr);
    res.per_user["ndcg@" + ks].push_back(m.ndcg);
    res.per_user["mrr"].push_back(m.mrr);
    if (o.truth) {
      res.per_user["tracking_tv"].push_back(user_track[i].tv());
      res.per_user["tracking_kl"].push_back(user_track[i].kl());
    }
  }
  res.tracked = o.truth != nullptr;
  res.tracking_online = res.tracking_frozen = eval::TrackingError(tracking);
  for (const auto& t : user_track) res.tracking_online.merge(t);
  for (const auto& t : track_off) res.tracking_frozen.merge(t);
  if (res.online.events == 0) throw InvalidInput("replay: no replayed event is a target the model knows");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace driftrec::models
