#include "driftrec/models/replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <optional>

#include "driftrec/core/error.h"
#include "driftrec/core/parallel.h"

namespace driftrec::models {

namespace {
struct Acc {
  std::int64_t n = 0;
  double hr = 0, ndcg = 0, mrr = 0;
  /// One scored event: its 0-based position in the list shown (k or more = not in it) and its rank
  /// among all rankable items by score (the same unless the list was re-ranked).
  void add(std::int64_t shown_at, std::int64_t rank, int k) {
    ++n;
    mrr += 1.0 / static_cast<double>(rank + 1);
    if (shown_at < k) {
      hr += 1;
      ndcg += 1.0 / std::log2(static_cast<double>(shown_at) + 2.0);
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

// Whether item `i` may be ranked: every item when `candidates` is empty, else those flagged.
bool candidate(const std::vector<char>& candidates, std::size_t i) {
  return candidates.empty() || (i < candidates.size() && candidates[i]);
}

// 0-based rank of `target` among candidates: items scoring higher, or equal with a lower index
// (the TopK tie rule); seen items (except the target) and -inf scores are not candidates.
std::int64_t rank_of(const std::vector<float>& s, std::int32_t target, const std::vector<char>& seen,
                     const std::vector<char>& candidates) {
  const float t = s[static_cast<std::size_t>(target)];
  if (!std::isfinite(t)) return static_cast<std::int64_t>(s.size());
  std::int64_t r = 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (static_cast<std::int32_t>(i) == target || seen[i] || !std::isfinite(s[i])) continue;
    if (!candidate(candidates, i)) continue;
    if (s[i] > t || (s[i] == t && static_cast<std::int32_t>(i) < target)) ++r;
  }
  return r;
}

// One tracked moment: the category mix of the list shown against the user's truth at `ts`.
void track_moment(const eval::InterestTruth& truth, const data::Dataset& full, std::int32_t user, std::int64_t ts,
                  const std::vector<std::int32_t>& shown, eval::TrackingError& out, eval::ShiftFollower& follow) {
  const auto snap = truth.snapshot_at(user, ts);
  if (snap < 0) return;
  const auto mix = eval::category_mix(shown, full.item_table, truth.n_categories());
  out.add_moment(truth.weights(user, snap), mix);
  follow.before(ts, mix);
}

// 0-based position of `item` in `list`, or the list's length when it is not there.
std::int64_t position(const std::vector<std::int32_t>& list, std::int32_t item) {
  return std::find(list.begin(), list.end(), item) - list.begin();
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

namespace {

/// The users with events in [start, end), and the replayed time range.
struct ReplayScope {
  std::vector<std::int32_t> users;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
  std::int64_t revealed = 0;
};

ReplayScope scope_of(const data::Dataset& full, std::int64_t start_ts, std::int64_t end_ts) {
  ReplayScope sc;
  const auto& log = full.log;
  for (std::int32_t u = 1; u < full.n_users(); ++u) {
    bool any = false;
    for (auto r = log.user_begin(u); r < log.user_end(u); ++r) {
      const auto ts = log.ts[static_cast<std::size_t>(r)];
      if (ts < start_ts || ts >= end_ts) continue;
      any = true;
      ++sc.revealed;
      sc.lo = std::min(sc.lo, ts);
      sc.hi = std::max(sc.hi, ts);
    }
    if (any) sc.users.push_back(u);
  }
  if (sc.users.empty())
    throw InvalidInput(end_ts == std::numeric_limits<std::int64_t>::max()
                           ? "replay: no event at or after the start time"
                           : "replay: no event between the start and the end time");
  return sc;
}

bool member(const std::vector<std::int16_t>& set, std::int16_t v) {
  return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
}

/// Walks each user's events after the start: score from the online and the frozen state, reveal,
/// observe. Accumulators are per thread (windows, frozen tracking) or per user (online).
class Replayer {
 public:
  Replayer(const Model& model, const data::Dataset& full, const ReplayOptions& o, ReplayScope scope, int threads)
      : model_(model),
        full_(full),
        o_(o),
        append_only_(o.request_time && model.capabilities().encodes_at_request),
        sc_(std::move(scope)),
        threads_(threads),
        span_(sc_.hi - sc_.lo + 1) {
    tracking_ = o.tracking;
    tracking_.k = o.k;
    acc_on_.assign(static_cast<std::size_t>(threads), std::vector<Acc>(static_cast<std::size_t>(o.windows)));
    acc_off_ = acc_on_;
    track_off_.assign(static_cast<std::size_t>(threads), eval::TrackingError(tracking_));
    user_acc_.resize(sc_.users.size());
    user_track_.assign(o.truth ? sc_.users.size() : 0, eval::TrackingError(tracking_));
  }

  std::size_t users() const { return sc_.users.size(); }

  /// Per-thread scratch: the two score vectors, the items in the user's history so far and the
  /// scores of the rankable items (the list shown).
  struct Scratch {
    std::vector<float> on, off;
    std::vector<char> in_history, nothing;
    std::vector<float> rankable;
  };
  Scratch scratch() const {
    const auto n = static_cast<std::size_t>(model_.n_items());
    return {std::vector<float>(n), std::vector<float>(n), std::vector<char>(n, 0),
            std::vector<char>(o_.exclude_seen ? 0 : n, 0), std::vector<float>(n)};
  }

  /// The list shown at `moment`: the top k of `scores` over the rankable items (seen items and
  /// non-candidates left out, as a live list would), re-ranked from the top depth when a hook is
  /// set. `keep_target`: the moment's target stays rankable though seen, as rank_of counts it
  /// (the list is scored; a re-consumed target can then be a hit, as without a re-ranker).
  std::vector<std::int32_t> shown(const std::vector<float>& scores, const std::vector<char>& seen,
                                  const data::EvalCase& moment, bool keep_target, std::vector<float>& rankable) const {
    rankable = scores;
    const auto keep = keep_target ? static_cast<std::size_t>(moment.targets.front()) : rankable.size();
    for (std::size_t i = 0; i < rankable.size(); ++i)
      if ((seen[i] && i != keep) || !candidate(o_.candidates, i)) rankable[i] = -INFINITY;
    const auto k = static_cast<std::size_t>(o_.k);
    if (!o_.rerank) return top_k(rankable.data(), rankable.size(), k).items;
    return o_.rerank(moment, top_k(rankable.data(), rankable.size(), std::max(o_.rerank_depth, k)), k);
  }

  /// One state's scored moment: the target's position in the re-ranked list (its rank by score
  /// without a re-ranker) into `acc`s, and the live list's category mix into `track`.
  void score_moment(const std::vector<float>& scores, const std::vector<char>& seen, const data::EvalCase& moment,
                    std::vector<float>& rankable, std::initializer_list<Acc*> acc, eval::TrackingError* track,
                    eval::ShiftFollower* follow) const {
    const auto item = moment.targets.front();
    const auto rank = rank_of(scores, item, seen, o_.candidates);
    std::vector<std::int32_t> list;
    if (o_.rerank) list = shown(scores, seen, moment, true, rankable);
    const auto at = o_.rerank ? position(list, item) : rank;
    for (auto* a : acc) a->add(at, rank, o_.k);
    if (!track) return;
    // What a live user would see: a seen target is left out like every seen item.
    if (!o_.rerank || seen[static_cast<std::size_t>(item)]) list = shown(scores, seen, moment, false, rankable);
    track_moment(*o_.truth, full_, moment.user, moment.target_ts, list, *track, *follow);
  }

  void replay_user(std::size_t i, int tid, Scratch& x) {
    const auto& log = full_.log;
    const auto u = sc_.users[i];
    const auto t = static_cast<std::size_t>(tid);
    const auto b = log.user_begin(u), e = log.user_end(u);
    auto first = b;
    while (first < e && log.ts[static_cast<std::size_t>(first)] < o_.start_ts) ++first;
    auto online = model_.encode(u, log.events(b, first));
    auto frozen = online;
    // `seen` (what ranking leaves out) is the history so far or nothing.
    const auto& seen = o_.exclude_seen ? x.in_history : x.nothing;
    std::fill(x.in_history.begin(), x.in_history.end(), 0);
    for (const auto& ev : online.history) x.in_history[static_cast<std::size_t>(ev.item)] = 1;
    std::optional<eval::ShiftFollower> follow_on, follow_off;
    if (o_.truth) {
      follow_on.emplace(*o_.truth, u, o_.start_ts - 1, user_track_[i]);
      follow_off.emplace(*o_.truth, u, o_.start_ts - 1, track_off_[t]);
    }
    for (auto r = first; r < e && log.ts[static_cast<std::size_t>(r)] < o_.end_ts; ++r) {
      const auto ev = log.event(r);
      const bool known = ev.item >= 1 && ev.item < model_.n_items();
      if (scored(ev, known, x.in_history)) {
        if (o_.request_time) online.now = frozen.now = ev.ts;  // asked for when the event came
        model_.score(online, x.on.data());
        model_.score(frozen, x.off.data());
        const auto w = window_of(ev.ts);
        const data::EvalCase moment{u, r, {ev.item}, ev.ts};
        score_moment(x.on, seen, moment, x.rankable, {&acc_on_[t][w], &user_acc_[i]},
                     o_.truth ? &user_track_[i] : nullptr, o_.truth ? &*follow_on : nullptr);
        score_moment(x.off, seen, moment, x.rankable, {&acc_off_[t][w]}, o_.truth ? &track_off_[t] : nullptr,
                     o_.truth ? &*follow_off : nullptr);
      }
      // Every list is asked at a time here; a model that then encodes from the history needs none.
      if (append_only_)
        model_.append_event(online, ev);
      else
        model_.observe(online, ev);
      if (o_.truth) {
        follow_on->observed();
        follow_off->observed();
      }
      if (known) x.in_history[static_cast<std::size_t>(ev.item)] = 1;
    }
    if (o_.truth) {
      follow_on->finish();
      follow_off->finish();
    }
  }

  ReplayResult result() const {
    ReplayResult res;
    res.users = static_cast<std::int64_t>(sc_.users.size());
    res.events_revealed = sc_.revealed;
    Acc all_on, all_off;
    for (int w = 0; w < o_.windows; ++w) {
      Acc on, off;
      for (int t = 0; t < threads_; ++t) {
        on.merge(acc_on_[static_cast<std::size_t>(t)][static_cast<std::size_t>(w)]);
        off.merge(acc_off_[static_cast<std::size_t>(t)][static_cast<std::size_t>(w)]);
      }
      all_on.merge(on);
      all_off.merge(off);
      ReplayWindow rw;
      rw.start_ts = sc_.lo + span_ * w / o_.windows;
      rw.end_ts = sc_.lo + span_ * (w + 1) / o_.windows;
      rw.online = on.metrics();
      rw.frozen = off.metrics();
      res.windows.push_back(rw);
    }
    res.online = all_on.metrics();
    res.frozen = all_off.metrics();
    per_user(res);
    res.tracked = o_.truth != nullptr;
    res.tracking_online = res.tracking_frozen = eval::TrackingError(tracking_);
    for (const auto& t : user_track_) res.tracking_online.merge(t);
    for (const auto& t : track_off_) res.tracking_frozen.merge(t);
    return res;
  }

 private:
  std::size_t window_of(std::int64_t ts) const {
    return static_cast<std::size_t>(std::min<std::int64_t>(o_.windows - 1, (ts - sc_.lo) * o_.windows / span_));
  }

  /// Whether an event is scored: a target behaviour/domain, a candidate the model knows, new to
  /// the user when repeats are skipped.
  bool scored(const data::Event& ev, bool known, const std::vector<char>& in_history) const {
    const auto item = static_cast<std::size_t>(ev.item);
    return member(o_.target_behaviors, ev.behavior) && member(o_.target_domains, ev.domain) &&
           candidate(o_.candidates, item) && known && !(o_.skip_repeats && in_history[item]);
  }

  /// Users with scored events (and, with a truth, tracked moments), the same for every model
  /// replayed on the same data and options: for paired comparisons.
  void per_user(ReplayResult& res) const {
    const auto ks = std::to_string(o_.k);
    for (std::size_t i = 0; i < sc_.users.size(); ++i) {
      const auto m = user_acc_[i].metrics();
      if (m.events == 0 || (o_.truth && user_track_[i].moments() == 0)) continue;
      res.per_user_ids.push_back(sc_.users[i]);
      res.per_user["hr@" + ks].push_back(m.hr);
      res.per_user["ndcg@" + ks].push_back(m.ndcg);
      res.per_user["mrr"].push_back(m.mrr);
      if (o_.truth) {
        res.per_user["tracking_tv"].push_back(user_track_[i].tv());
        res.per_user["tracking_kl"].push_back(user_track_[i].kl());
      }
    }
  }

  const Model& model_;
  const data::Dataset& full_;
  const ReplayOptions& o_;
  const bool append_only_;  ///< add events with append_event (Capabilities::encodes_at_request)
  ReplayScope sc_;
  int threads_;
  std::int64_t span_;
  eval::TrackingOptions tracking_;
  std::vector<std::vector<Acc>> acc_on_, acc_off_;
  std::vector<eval::TrackingError> track_off_;
  std::vector<Acc> user_acc_;
  std::vector<eval::TrackingError> user_track_;
};

}  // namespace

ReplayResult replay(const Model& model, const data::Dataset& full, const ReplayOptions& o,
                    const ProgressCallback& progress) {
  if (o.k < 1) throw InvalidInput("replay: k must be >= 1");
  if (o.windows < 1) throw InvalidInput("replay: windows must be >= 1");
  if (o.rerank && o.rerank_depth < 1) throw InvalidInput("replay: rerank depth must be >= 1");
  const auto t0 = std::chrono::steady_clock::now();
  const int threads = resolve_threads(o.threads);
  Replayer replayer(model, full, o, scope_of(full, o.start_ts, o.end_ts), threads);
  const auto n_users = replayer.users();
  std::atomic<std::size_t> done{0};
  std::mutex progress_mu;
  parallel_blocks(n_users, 16, threads, [&](std::size_t begin, std::size_t end, int tid) {
    auto scratch = replayer.scratch();
    for (std::size_t i = begin; i < end; ++i) {
      replayer.replay_user(i, tid, scratch);
      const auto d = ++done;
      if (progress && (d % 256 == 0 || d == n_users)) {
        std::lock_guard<std::mutex> g(progress_mu);
        progress({"replay", d, n_users, ""});
      }
    }
  });
  auto res = replayer.result();
  if (res.online.events == 0) throw InvalidInput("replay: no replayed event is a target the model knows");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace driftrec::models
