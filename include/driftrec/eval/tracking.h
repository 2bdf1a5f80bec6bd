#pragma once
// Interest-tracking error: how closely a model's recommendations follow each user's *current* true
// interests, for data with ground truth (the synthetic generator's interests.csv: every user's true
// category weights at every session).
//
// At each evaluated moment (a test case, or a replayed event) the truth is the user's latest
// snapshot at or before that time, normalised to sum 1, and the recommendation's mix is the share of
// each category among the primary categories of the top-k items. Reported:
//   tv   total variation 0.5 * sum |truth - mix| (0 = the same mix, 1 = disjoint categories)
//   kl   KL(truth || mix) with both smoothed towards uniform: (p + eps) / (1 + C * eps)
//   lag  after a true shift (consecutive snapshots at least `shift_threshold` apart in total
//        variation), how many of the user's events were observed before the list had moved halfway
//        to the new interests: the share of the top-k in the categories the shift raised, from
//        where it stood at the first moment after the shift to the new interests' share of them
//        (lag 0 when it was already there); replay only. Shifts whose list never crossed before
//        the next shift or the user's last event are censored at the last lag they were checked at.
//        The mean and median over the crossed shifts alone flatter a model that rarely follows (it
//        is averaged over its few lucky crossings), so the lag is also estimated with censoring
//        (Kaplan-Meier, as survival times): the share of shifts followed within h events, and the
//        median lag, which is undefined when fewer than half are ever followed. (Comparing distances to
//        the old and new interests instead was tried: a list far from both crossed by chance at
//        lag 0 in most shifts, frozen states included.)
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "driftrec/data/dataset.h"
#include "driftrec/data/transforms.h"
#include "driftrec/eval/evaluator.h"

namespace driftrec::eval {

/// The users' true interests over time, in a dataset's user and category indices.
class InterestTruth {
 public:
  InterestTruth() = default;
  explicit InterestTruth(std::int32_t n_categories) : n_categories_(n_categories) {}

  /// Reads a truth file with the header user_id,timestamp,category,weight (rows of one snapshot
  /// share user and timestamp; a user's snapshots in time order; CSV quoting and timestamps as the
  /// event readers take them) against `ds`: users through its
  /// id map (users it does not know are skipped), categories through its item table. Throws
  /// IoError when unreadable, ParseError naming file, line and field for a bad row or a category
  /// `ds` does not have.
  static InterestTruth read_csv(const std::string& path, const data::Dataset& ds);

  /// Adds a snapshot of `user` (weights per category, any scale; normalised here). Snapshots of a
  /// user must come in time order. Throws InvalidInput otherwise or on a bad size or weight.
  void add_snapshot(std::int32_t user, std::int64_t ts, std::vector<double> weights);
  /// Index of `user`'s latest snapshot at or before `ts`, -1 when none.
  std::int64_t snapshot_at(std::int32_t user, std::int64_t ts) const;
  /// Weights (sum 1) of `user`'s snapshot `index`.
  const std::vector<double>& weights(std::int32_t user, std::int64_t index) const;

  std::int32_t n_categories() const { return n_categories_; }
  std::int64_t users_with_truth() const;
  std::int64_t snapshots() const { return snapshots_; }
  bool empty() const { return snapshots_ == 0; }

 private:
  struct Snapshot {
    std::int64_t ts;
    std::vector<double> weights;
  };
  std::vector<std::vector<Snapshot>> by_user_;
  std::int32_t n_categories_ = 0;
  std::int64_t snapshots_ = 0;
};

/// Share of each category among the primary categories of `items` (items without a category are
/// left out); all zeros when none has one.
std::vector<double> category_mix(const std::vector<std::int32_t>& items, const data::ItemTable& table,
                                 std::int32_t n_categories);
/// 0.5 * sum |p - q|.
double total_variation(const std::vector<double>& p, const std::vector<double>& q);
/// KL(p || q) after smoothing both towards uniform with `eps` (finite for any inputs).
double smoothed_kl(const std::vector<double>& p, const std::vector<double>& q, double eps);

struct TrackingOptions {
  int k = 10;                    ///< list length whose category mix is compared
  double smoothing = 0.01;       ///< eps of smoothed_kl
  double shift_threshold = 0.4;  ///< total variation between consecutive snapshots that counts as a shift
};

/// Accumulates tracking error over moments, and lags over shifts.
class TrackingError {
 public:
  explicit TrackingError(TrackingOptions options = {}) : o_(options) {}
  /// One evaluated moment: the user's current truth and the recommended items' category mix.
  /// Returns the moment's {total variation, smoothed KL}.
  std::pair<double, double> add_moment(const std::vector<double>& truth, const std::vector<double>& mix);
  void add_lag(std::int64_t events) { lags_.push_back(events); }
  /// A shift the list had not followed by lag `last_checked` (the last lag it was checked at; -1:
  /// never checked) when the next shift or the user's end cut it off.
  void add_censored(std::int64_t last_checked) { censored_.push_back(last_checked); }
  void merge(const TrackingError& other);

  std::int64_t moments() const { return moments_; }
  double tv() const { return moments_ ? tv_sum_ / static_cast<double>(moments_) : 0.0; }
  double kl() const { return moments_ ? kl_sum_ / static_cast<double>(moments_) : 0.0; }
  /// Shifts whose lag was measured, and their mean and median lag (0 when none).
  std::int64_t shifts_crossed() const { return static_cast<std::int64_t>(lags_.size()); }
  std::int64_t shifts_censored() const { return static_cast<std::int64_t>(censored_.size()); }
  double mean_lag() const;
  double median_lag() const;
  /// Kaplan-Meier estimate of the share of shifts the list followed within `events` events (lag <=
  /// events), censored shifts at risk through their last checked lag; 0 when there are no shifts.
  double followed_within(std::int64_t events) const;
  /// The Kaplan-Meier median lag: the least lag by which half the shifts are estimated followed;
  /// none when the estimate never reaches half (fewer than half followed over the lags observed).
  std::optional<std::int64_t> km_median_lag() const;
  const TrackingOptions& options() const { return o_; }
  /// {"k", "moments", "tv", "kl", "shifts", "shifts_crossed", "shifts_censored", "mean_lag",
  ///  "median_lag", "km_median_lag" (null when undefined), "followed_within" ({"1", "3", "5",
  ///  "10"}: followed_within of each), "shift_threshold"}
  nlohmann::json to_json() const;

 private:
  /// (lag, share followed by then) at every lag where a crossing happened, in order.
  std::vector<std::pair<std::int64_t, double>> km_curve() const;

  TrackingOptions o_;
  std::int64_t moments_ = 0;
  double tv_sum_ = 0, kl_sum_ = 0;
  std::vector<std::int64_t> lags_, censored_;
};

/// Tracking error of evaluated cases (the split protocol) from their saved rankings (`rankings[i]`
/// belongs to `cases[i]`; EvalOptions::save_top >= options.k): each case is compared with the
/// user's truth at its first target's time; cases without a snapshot are skipped. No lag: that
/// needs the replay protocol. Throws InvalidInput when the rankings do not match the cases.
/// `per_case` (optional) receives "tracking_tv" and "tracking_kl" of every case with a snapshot, in
/// case order (the cases skipped depend on the truth alone, so two models' values pair up).
TrackingError track_cases(const std::vector<data::EvalCase>& cases, const std::vector<CaseRanking>& rankings,
                          const data::Dataset& full, const InterestTruth& truth, const TrackingOptions& options,
                          std::map<std::string, std::vector<double>>* per_case = nullptr);

/// Follows one user's replay for the lag: before() with the moment's time and recommended mix
/// before each event is observed, observed() after it, finish() at the end. The interests in
/// effect at `since_ts` (the replay's start - 1) are the baseline, so a shift at the start counts.
class ShiftFollower {
 public:
  ShiftFollower(const InterestTruth& truth, std::int32_t user, std::int64_t since_ts, TrackingError& out)
      : truth_(truth), user_(user), out_(out), snapshot_(truth.snapshot_at(user, since_ts)) {}
  /// The moment before an event at time `ts` with the recommendation's category `mix`.
  void before(std::int64_t ts, const std::vector<double>& mix);
  void observed() {
    if (open_) ++events_;
  }
  /// Counts a shift still open as censored.
  void finish();

 private:
  const InterestTruth& truth_;
  std::int32_t user_;
  TrackingError& out_;
  std::int64_t snapshot_;      // latest snapshot seen (-1: none yet)
  bool open_ = false;          // a shift waiting for the list to cross
  std::int64_t events_ = 0;    // events observed since the open shift
  std::int64_t checked_ = -1;  // the last lag the open shift was checked at
  std::vector<char> rising_;   // categories the open shift raised
  double start_ = -1;          // the list's share of them at the first moment after the shift
  double target_ = 0;          // the new interests' share of them
};

}  // namespace driftrec::eval
