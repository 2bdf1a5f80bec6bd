#pragma once
// Replay evaluation (`driftrec evaluate --protocol replay`): walks the events after a cutoff in
// time order, as a live system would see them. For each event of a user: recommend from the
// user's current state, score the event's item against that ranking (hit@k, ndcg@k, reciprocal
// rank over all items, seen items excluded), then reveal the event. Two states run side by side:
//   online  the model's observe() updates the state with every revealed event (the serving path)
//   frozen  the state stays as encoded at the cutoff; revealed items are only excluded from its
//           later recommendations
// so the difference is what updating online is worth. Metrics are reported overall and per time
// window. Users are replayed in parallel; each user's events in order. With a ground truth of the
// users' interests (`truth`), every scored moment also measures the interest-tracking error of both
// states' top-k lists and the lag after each true shift (eval/tracking.h). With a re-ranking hook
// the lists are re-ranked (calibrated, diverse, fair) before they are scored and tracked.
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "driftrec/core/log.h"
#include "driftrec/core/topk.h"
#include "driftrec/data/dataset.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/tracking.h"
#include "driftrec/models/model.h"

namespace driftrec::models {

struct ReplayOptions {
  std::int64_t start_ts = 0;  ///< events with ts >= start_ts are replayed
  /// ... up to here: events with ts >= end_ts are neither scored nor revealed (the replay of a
  /// validation period stops at the test cutoff).
  std::int64_t end_ts = std::numeric_limits<std::int64_t>::max();
  int k = 10;
  int windows = 10;                            ///< equal-length time windows for the timeline
  std::vector<std::int16_t> target_behaviors;  ///< events scored (empty = all); every event is revealed
  std::vector<std::int16_t> target_domains;    ///< events scored must be of these domains (empty = all)
  std::vector<char> candidates;                ///< items ranked and events scored (size n_items; empty = all)
  bool exclude_seen = true;                    ///< items already in the user's history are not ranked
  /// Score only events whose item is new to the user (not in the history so far): a cart or buy
  /// right after the view of the same item is then revealed but not scored. Every event is still
  /// observed. Off by default (a re-consumed item counts, as in the split protocol).
  bool skip_repeats = false;
  /// Each scored event is asked for at its own time (UserState::now = the event's ts), as a server
  /// knows the time of a request: models with `request_time` read it, the others ignore it. Off:
  /// every request without a time.
  bool request_time = true;
  int threads = 0;  ///< 0 = all cores
  /// Users' true interests in `full`'s user and category indices (not owned; nullptr = none).
  const eval::InterestTruth* truth = nullptr;
  /// List length, KL smoothing and shift threshold of the tracking error (its k is set to `k`).
  eval::TrackingOptions tracking;
  /// Re-ranking, as eval::EvalOptions::rerank: when set, the list shown at each scored moment is
  /// rerank(moment, the state's top `rerank_depth` rankable items, k), for the online and the
  /// frozen state alike. The moment is a case with the user, history_end = the event's row in
  /// `full.log` (the history is what was revealed before it) and the event's item as its target.
  /// hr@k, ndcg@k and the tracking error then describe that list; mrr still describes the
  /// model's scores.
  std::function<std::vector<std::int32_t>(const data::EvalCase&, const TopK& candidates, std::size_t k)> rerank;
  std::size_t rerank_depth = 100;
};

struct ReplayMetrics {
  std::int64_t events = 0;  ///< scored events
  double hr = 0, ndcg = 0, mrr = 0;
};

struct ReplayWindow {
  std::int64_t start_ts = 0, end_ts = 0;  ///< [start, end)
  ReplayMetrics online, frozen;
};

struct ReplayResult {
  std::int64_t users = 0;  ///< users with at least one replayed event
  std::int64_t events_revealed = 0;
  ReplayMetrics online, frozen;
  std::vector<ReplayWindow> windows;
  /// Per user, online state (for paired comparisons, e.g. `driftrec compare --protocol replay`):
  /// "hr@k", "ndcg@k", "mrr" averaged over the user's scored events and, when tracked,
  /// "tracking_tv" and "tracking_kl" over their moments; users in per_user_ids order (those with
  /// scored events and, when tracked, tracked moments).
  std::map<std::string, std::vector<double>> per_user;
  std::vector<std::int32_t> per_user_ids;
  bool tracked = false;  ///< options.truth was given
  eval::TrackingError tracking_online, tracking_frozen;
  double seconds = 0;
  nlohmann::json to_json(int k) const;
};

/// Replays `full` (events sorted by user and time, in the model's id space) from options.start_ts
/// to options.end_ts.
/// Items the model does not know are revealed but never scored. Throws InvalidInput when nothing
/// is left to replay.
ReplayResult replay(const Model& model, const data::Dataset& full, const ReplayOptions& options,
                    const ProgressCallback& progress = {});

}  // namespace driftrec::models
