#include "driftrec/eval/tracking.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

#include "driftrec/core/error.h"
#include "driftrec/data/readers.h"

namespace driftrec::eval {

namespace {

// One row's fields (RFC 4180 quoting, like the event readers), a trailing CR dropped.
std::vector<std::string> fields_of(std::string line, const std::string& path, std::int64_t line_no) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  bool unterminated = false;
  auto out = data::split_delimited(line, ',', true, &unterminated);
  if (unterminated) throw ParseError(path, line_no, "row", "a quoted field is not closed");
  return out;
}

template <typename T>
bool parse_number(const std::string& s, T& v) {
  const auto* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  return r.ec == std::errc() && r.ptr == end;
}

}  // namespace

InterestTruth InterestTruth::read_csv(const std::string& path, const data::Dataset& ds) {
  std::ifstream f(path);
  if (!f) throw IoError(path + ": cannot open the interests file");
  const auto& cats = ds.item_table.categories;
  if (cats.size() == 0) throw InvalidInput(path + ": the data has no item categories to compare interests with");
  InterestTruth truth(cats.size());
  std::string line;
  if (!std::getline(f, line) ||
      fields_of(line, path, 1) != std::vector<std::string>{"user_id", "timestamp", "category", "weight"})
    throw ParseError(path, 1, "header", "expected user_id,timestamp,category,weight");
  std::int64_t line_no = 1;
  std::int32_t cur_user = -2;
  std::int64_t cur_ts = 0;
  std::vector<double> cur;
  auto flush = [&] {
    try {
      if (cur_user >= 0) truth.add_snapshot(cur_user, cur_ts, std::move(cur));
    } catch (const InvalidInput& e) {
      throw ParseError(path, line_no, "timestamp", e.what());
    }
    cur.assign(static_cast<std::size_t>(cats.size()), 0.0);
  };
  cur.assign(static_cast<std::size_t>(cats.size()), 0.0);
  while (std::getline(f, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto fields = fields_of(line, path, line_no);
    if (fields.size() != 4)
      throw ParseError(path, line_no, "row", "expected 4 fields, found " + std::to_string(fields.size()));
    std::int64_t ts = 0;
    try {
      ts = data::parse_timestamp(fields[1]);  // as the events' timestamps are read
    } catch (const InvalidInput& e) {
      throw ParseError(path, line_no, "timestamp", e.what());
    }
    double w = 0;
    if (!parse_number(fields[3], w) || !std::isfinite(w) || w < 0)
      throw ParseError(path, line_no, "weight", "'" + fields[3] + "' is not a non-negative number");
    const auto c = cats.find(fields[2]);
    if (c < 0) throw ParseError(path, line_no, "category", "'" + fields[2] + "' is not a category of the data's items");
    const auto u = ds.users.find(fields[0]);
    const std::int32_t user = u >= 0 ? u : -1;
    if (user != cur_user || ts != cur_ts) {
      if (user >= 0 && user == cur_user && ts < cur_ts)
        throw ParseError(path, line_no, "timestamp", "snapshots of user '" + fields[0] + "' are not in time order");
      flush();
      cur_user = user;
      cur_ts = ts;
    }
    cur[static_cast<std::size_t>(c)] += w;
  }
  flush();
  return truth;
}

void InterestTruth::add_snapshot(std::int32_t user, std::int64_t ts, std::vector<double> weights) {
  if (user < 0) throw InvalidInput("interest truth: negative user index");
  if (static_cast<std::int32_t>(weights.size()) != n_categories_)
    throw InvalidInput("interest truth: a snapshot has " + std::to_string(weights.size()) + " weights for " +
                       std::to_string(n_categories_) + " categories");
  double sum = 0;
  for (const auto w : weights) {
    if (!std::isfinite(w) || w < 0) throw InvalidInput("interest truth: weights must be finite and >= 0");
    sum += w;
  }
  if (sum <= 0) return;  // an empty snapshot says nothing
  for (auto& w : weights) w /= sum;
  if (by_user_.size() <= static_cast<std::size_t>(user)) by_user_.resize(static_cast<std::size_t>(user) + 1);
  auto& snaps = by_user_[static_cast<std::size_t>(user)];
  if (!snaps.empty() && snaps.back().ts > ts) throw InvalidInput("interest truth: snapshots must come in time order");
  snaps.push_back({ts, std::move(weights)});
  ++snapshots_;
}

std::int64_t InterestTruth::snapshot_at(std::int32_t user, std::int64_t ts) const {
  if (user < 0 || static_cast<std::size_t>(user) >= by_user_.size()) return -1;
  const auto& snaps = by_user_[static_cast<std::size_t>(user)];
  const auto it =
      std::upper_bound(snaps.begin(), snaps.end(), ts, [](std::int64_t t, const Snapshot& s) { return t < s.ts; });
  return static_cast<std::int64_t>(it - snaps.begin()) - 1;
}

const std::vector<double>& InterestTruth::weights(std::int32_t user, std::int64_t index) const {
  return by_user_.at(static_cast<std::size_t>(user)).at(static_cast<std::size_t>(index)).weights;
}

std::int64_t InterestTruth::users_with_truth() const {
  return std::count_if(by_user_.begin(), by_user_.end(), [](const auto& s) { return !s.empty(); });
}

std::vector<double> category_mix(const std::vector<std::int32_t>& items, const data::ItemTable& table,
                                 std::int32_t n_categories) {
  std::vector<double> mix(static_cast<std::size_t>(n_categories), 0.0);
  double n = 0;
  for (const auto i : items) {
    const auto c = table.primary_category(i);
    if (c < 0 || c >= n_categories) continue;
    mix[static_cast<std::size_t>(c)] += 1.0;
    n += 1.0;
  }
  if (n > 0)
    for (auto& m : mix) m /= n;
  return mix;
}

double total_variation(const std::vector<double>& p, const std::vector<double>& q) {
  if (p.size() != q.size()) throw InvalidInput("total_variation: distributions of different sizes");
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) s += std::abs(p[i] - q[i]);
  return 0.5 * s;
}

double smoothed_kl(const std::vector<double>& p, const std::vector<double>& q, double eps) {
  if (p.size() != q.size()) throw InvalidInput("smoothed_kl: distributions of different sizes");
  if (!(eps > 0)) throw InvalidInput("smoothed_kl: eps must be > 0");
  const double norm = 1.0 + eps * static_cast<double>(p.size());
  double s = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double a = (p[i] + eps) / norm, b = (q[i] + eps) / norm;
    s += a * std::log(a / b);
  }
  return std::max(0.0, s);
}

std::pair<double, double> TrackingError::add_moment(const std::vector<double>& truth, const std::vector<double>& mix) {
  const double tv = total_variation(truth, mix), kl = smoothed_kl(truth, mix, o_.smoothing);
  tv_sum_ += tv;
  kl_sum_ += kl;
  ++moments_;
  return {tv, kl};
}

void TrackingError::merge(const TrackingError& other) {
  moments_ += other.moments_;
  tv_sum_ += other.tv_sum_;
  kl_sum_ += other.kl_sum_;
  lags_.insert(lags_.end(), other.lags_.begin(), other.lags_.end());
  censored_.insert(censored_.end(), other.censored_.begin(), other.censored_.end());
}

std::vector<std::pair<std::int64_t, double>> TrackingError::km_curve() const {
  auto crossed = lags_, cut = censored_;
  std::sort(crossed.begin(), crossed.end());
  std::sort(cut.begin(), cut.end());
  std::vector<std::pair<std::int64_t, double>> curve;
  double survive = 1.0;
  std::size_t i = 0, j = 0;  // crossings and censorings before the current lag
  while (i < crossed.size()) {
    const auto t = crossed[i];
    while (j < cut.size() && cut[j] < t) ++j;  // cut off before t: no longer at risk
    std::size_t d = 0;
    while (i + d < crossed.size() && crossed[i + d] == t) ++d;
    const auto at_risk = static_cast<double>((crossed.size() - i) + (cut.size() - j));
    survive *= 1.0 - static_cast<double>(d) / at_risk;
    curve.emplace_back(t, 1.0 - survive);
    i += d;
  }
  return curve;
}

namespace {

using KmCurve = std::vector<std::pair<std::int64_t, double>>;

double followed_by(const KmCurve& curve, std::int64_t events) {
  double followed = 0.0;
  for (const auto& [t, share] : curve)
    if (t <= events) followed = share;
  return followed;
}

std::optional<std::int64_t> median_of(const KmCurve& curve) {
  for (const auto& [t, share] : curve)
    if (share >= 0.5 - 1e-12) return t;
  return std::nullopt;
}

}  // namespace

double TrackingError::followed_within(std::int64_t events) const { return followed_by(km_curve(), events); }

std::optional<std::int64_t> TrackingError::km_median_lag() const { return median_of(km_curve()); }

double TrackingError::mean_lag() const {
  if (lags_.empty()) return 0.0;
  double s = 0;
  for (const auto l : lags_) s += static_cast<double>(l);
  return s / static_cast<double>(lags_.size());
}

double TrackingError::median_lag() const {
  if (lags_.empty()) return 0.0;
  auto v = lags_;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? static_cast<double>(v[n / 2]) : 0.5 * static_cast<double>(v[n / 2 - 1] + v[n / 2]);
}

nlohmann::json TrackingError::to_json() const {
  const auto curve = km_curve();
  const auto median = median_of(curve);
  return {{"k", o_.k},
          {"moments", moments_},
          {"tv", tv()},
          {"kl", kl()},
          {"kl_smoothing", o_.smoothing},
          {"shift_threshold", o_.shift_threshold},
          {"shifts", shifts_crossed() + shifts_censored()},
          {"shifts_crossed", shifts_crossed()},
          {"shifts_censored", shifts_censored()},
          {"mean_lag", mean_lag()},
          {"median_lag", median_lag()},
          {"km_median_lag", median ? nlohmann::json(*median) : nlohmann::json()},
          {"followed_within",
           {{"1", followed_by(curve, 1)},
            {"3", followed_by(curve, 3)},
            {"5", followed_by(curve, 5)},
            {"10", followed_by(curve, 10)}}}};
}

TrackingError track_cases(const std::vector<data::EvalCase>& cases, const std::vector<CaseRanking>& rankings,
                          const data::Dataset& full, const InterestTruth& truth, const TrackingOptions& options,
                          std::map<std::string, std::vector<double>>* per_case) {
  if (rankings.size() != cases.size()) throw InvalidInput("track_cases: one ranking per case is needed (save_top)");
  TrackingError out(options);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto snap = truth.snapshot_at(cases[c].user, cases[c].target_ts);
    if (snap < 0) continue;
    const auto& top = rankings[c].top;
    const std::vector<std::int32_t> head(
        top.begin(), top.begin() + static_cast<std::ptrdiff_t>(
                                       std::min<std::size_t>(top.size(), static_cast<std::size_t>(options.k))));
    const auto [tv, kl] =
        out.add_moment(truth.weights(cases[c].user, snap), category_mix(head, full.item_table, truth.n_categories()));
    if (per_case) {
      (*per_case)["tracking_tv"].push_back(tv);
      (*per_case)["tracking_kl"].push_back(kl);
    }
  }
  return out;
}

void ShiftFollower::before(std::int64_t ts, const std::vector<double>& mix) {
  const auto s = truth_.snapshot_at(user_, ts);
  if (s < 0) return;
  if (snapshot_ >= 0 && s > snapshot_) {
    const auto& old_w = truth_.weights(user_, snapshot_);
    const auto& new_w = truth_.weights(user_, s);
    if (total_variation(old_w, new_w) >= out_.options().shift_threshold) {
      if (open_) out_.add_censored(checked_);  // shifted again before the list crossed
      open_ = true;
      events_ = 0;
      checked_ = -1;
      start_ = -1;
      target_ = 0;
      rising_.assign(new_w.size(), 0);
      for (std::size_t c = 0; c < new_w.size(); ++c)
        if (new_w[c] > old_w[c]) rising_[c] = 1, target_ += new_w[c];
    }
  }
  snapshot_ = std::max(snapshot_, s);
  if (!open_) return;
  double share = 0;
  for (std::size_t c = 0; c < mix.size() && c < rising_.size(); ++c)
    if (rising_[c]) share += mix[c];
  if (start_ < 0) start_ = share;  // where the list stood when the interests moved
  checked_ = events_;
  if (share >= target_ || share - start_ >= 0.5 * (target_ - start_) - 1e-12) {
    out_.add_lag(events_);
    open_ = false;
  }
}

void ShiftFollower::finish() {
  if (open_) out_.add_censored(checked_);
  open_ = false;
}

}  // namespace driftrec::eval
